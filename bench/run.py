# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: measure dhcp.failover on the Docker lab and write bench/RESULTS.md and
bench/results/bench-<date>.json (every raw figure, the core count, the date, the versions).

Measures (bench/measures/, one file each), all in one run, every comparison as a ratio of two figures
of that run:
  converge   site_cost.py: fresh pair's `dhcp.failover.site` run, then the immediate rerun (changed
             must be 0), and the connection's floor
  takeover   takeover.py: primary stopped (systemctl stop) or killed (SIGKILL): time to the first lease
             a fresh client gets from the secondary; baseline: the same client against the pair in normal
  rate       lease_rate.py: perfdhcp (relay mode, through bench/relay.py) against the pair and a
             standalone dhcpd with the same subnet/pool settings; then the same load while the primary
             is killed
  journal    journal.py: bench/state_info_journal.py (state_info against 10k/100k/1M journal lines)
  change     change.py: a configuration change of the main pair under client load (a new client every
             0.5 s): site start -> both peers normal, the longest gap the client saw
  kea        kea_pair.py: converge, takeover and rate again with the main pair as Kea HA (and a
             standalone kea-dhcp4), same lab: the Kea against dhcpd table
  scaling    scaling.py: fresh site run (and rerun) for 1, 2 and 4 pairs in one inventory
  rerun      rerun.py: no-change rerun, today's collection against 1.0.0 (3ab564b) built from git,
             alternating; remote module calls per host (bench/callback_plugins/bench_calls.py)
  anchor     anchor.py: fresh converge and no-change reruns against bertvv's ansible-role-dhcp
             (bench/anchor/), the same pair, fresh containers, alternating
  ssh        rerun_ssh.py: the no-change rerun over SSH (pipelining, become) next to the docker
             connection, on bare containers
  migration  migration.py: dhcp.failover.migrate of an ISC pair holding 1,000+ perfdhcp leases to Kea
             HA while a client asks every 0.5 s; every dhcpd lease looked up on both Kea servers
The lab (containers, networks, inventories, ansible runs) is bench/benchlab.py; the report writer is
bench/report.py with the page's text in bench/RESULTS.md.j2. Everything dhcpf-bench* is removed at
the end, also on failure, and what an earlier run left is removed at the start.

Usage: bench/run.py [--only MEASURE,...] [--trials N] [--rerun-trials N] [--out DIR] [--report JSON]
Run through `make bench` (every measure; `make bench BENCH_ARGS='--only rerun --rerun-trials 3'` for
a subset), which provides the venv, the lab images (DHCP_FAILOVER_LAB_IMAGE) and the installed
collection (ANSIBLE_COLLECTIONS_PATH). A subset or fewer trials than a full run writes to build/bench/,
never to bench/RESULTS.md.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
import benchlab as bl  # noqa: E402
import report  # noqa: E402
from measures import anchor, change, journal, kea_pair, lease_rate, migration, rerun, rerun_ssh, scaling, site_cost, takeover, validation  # noqa: E402

# In the order they run: the main pair's measures first (one lab, deployed once), then those with labs
# of their own.
MEASURES = [site_cost, takeover, lease_rate, journal, change, kea_pair, scaling, validation, rerun, anchor, rerun_ssh, migration]
ALL = [m.NAME for m in MEASURES]
NAMES = {'P': bl.P, 'S': bl.S, 'MCLT': bl.MCLT}
FULL_TRIALS = {'trials': 10, 'rerun_trials': 5, 'scaling_trials': 3}


class Context:  # pylint: disable=too-few-public-methods
    """What a measure's run() gets: the options, and the main pair's inventory (MAIN_PAIR measures)."""

    def __init__(self, args, inventory=None):
        self.args = args
        self.inventory = inventory


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    ap.add_argument('--only', default=','.join(ALL), help='comma-separated measures (default all: %s)' % ','.join(ALL))
    ap.add_argument('--trials', type=int, default=FULL_TRIALS['trials'], help='takeover trials per method (at least 10 for RESULTS.md)')
    ap.add_argument('--baseline-trials', type=int, default=5)
    ap.add_argument('--rates', default='200,1000', help='perfdhcp offered rates, exchanges/s')
    ap.add_argument('--rate-seconds', type=int, default=8)
    ap.add_argument('--rate-reps', type=int, default=2)
    ap.add_argument('--clients', type=int, default=100)
    ap.add_argument('--kill-seconds', type=int, default=25)
    ap.add_argument('--kill-at', type=int, default=8)
    ap.add_argument('--scaling', default='1,2,4')
    ap.add_argument('--scaling-trials', type=int, default=FULL_TRIALS['scaling_trials'],
                    help='fresh runs of each count of the scaling measure, alternating (medians judged; at least 3 for RESULTS.md)')
    ap.add_argument('--validation-pairs', default='1,10,50', help='pairs per inventory of the validation measure')
    ap.add_argument('--validation-before', default=validation.BEFORE_COMMIT,
                    help='the commit the validation measure compares with (each server validated every pair)')
    ap.add_argument('--rerun-trials', type=int, default=FULL_TRIALS['rerun_trials'],
                    help='no-change reruns of each side, alternating (rerun, ssh; at least 5 for RESULTS.md)')
    ap.add_argument('--change-trials', type=int, default=3, help='configuration changes of the main pair under client load (change)')
    ap.add_argument('--anchor-trials', type=int, default=3, help='fresh converges of each side, alternating (anchor)')
    ap.add_argument('--migration-trials', type=int, default=3, help='migrations, each on a fresh lab (migration)')
    ap.add_argument('--old-commit', default=rerun.OLD_COMMIT, help='the commit the rerun measure compares with (1.0.0)')
    ap.add_argument('--out', default=None, help='where RESULTS.md and results/ go (default bench/; '
                    'build/bench/ when --only or fewer trials than a full run)')
    ap.add_argument('--report', metavar='JSON', help='only rewrite RESULTS.md (next to results/) from a JSON of an earlier run')
    args = ap.parse_args(argv)
    unknown = set(args.only.split(',')) - set(ALL)
    if unknown:
        ap.error('unknown measure(s) %s; known: %s' % (', '.join(sorted(unknown)), ', '.join(ALL)))
    return args


def rewrite_report(path):
    with open(path) as handle:
        data = json.load(handle)
    if 'journal' in data['results']:
        data['results']['journal']['met'] = journal.journal_met(data['results']['journal']['report']['results'])
    if not data['errors']:
        data['analysis'] = report.analysis(data['results'], NAMES)
    report.write_report(data, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(path))), 'RESULTS.md'), NAMES)


def timed(measure, ctx):
    t = time.monotonic()
    res = measure.run(ctx)
    res['phase_wall_s'] = round(time.monotonic() - t, 1)
    res['load_avg_end'] = os.getloadavg()
    return res


def main(argv=None):
    args = parse_args(argv)
    if args.report:
        rewrite_report(args.report)
        return
    only = set(args.only.split(','))
    full = only == set(ALL) and all(getattr(args, k) >= v for k, v in FULL_TRIALS.items())
    out_dir = args.out or (bl.BENCH if full else bl.WORK)

    started = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc)
    data = {'date': now.strftime('%Y-%m-%dT%H:%M:%SZ'), 'nproc': os.cpu_count(), 'load_avg_start': os.getloadavg(),
            'machine': platform.node(), 'versions': bl.versions(), 'args': vars(args), 'results': {}, 'errors': []}
    os.makedirs(os.path.join(bl.WORK, 'logs'), exist_ok=True)
    os.makedirs(os.path.join(out_dir, 'results'), exist_ok=True)
    json_path = os.path.join(out_dir, 'results', 'bench-%s.json' % now.strftime('%Y%m%dT%H%M%SZ'))
    data['json'] = os.path.relpath(json_path, bl.ROOT)
    r = data['results']
    shutil.rmtree(bl.COLLECTIONS, ignore_errors=True)
    shutil.copytree(bl.INSTALLED, bl.COLLECTIONS, symlinks=True)
    bl.log('image %s, collections %s, %d cores, load %.1f, measures %s' % (
        bl.IMAGE, bl.INSTALLED, data['nproc'], data['load_avg_start'][0], ','.join(m for m in ALL if m in only)))
    bl.cleanup()
    try:
        main_pair = [m for m in MEASURES if m.MAIN_PAIR and m.NAME in only]
        if main_pair:
            bl.reset_keys()
            bl.create_network(bl.NET, bl.LAN)
            bl.start_containers([(n, bl.NET, bl.ADDR[n]) for n in (bl.P, bl.S, bl.SOLO, bl.CLIENT, bl.LOAD)])
            ctx = Context(args, bl.write_inventory(os.path.join(bl.WORK, 'inventory.yml'), {'bench': (bl.PEER, bl.P, bl.S, bl.LAN)}))
            if main_pair[0] is not site_cost:       # converge deploys the pair itself
                bl.run_site(ctx.inventory, 'setup')
            for measure in main_pair:
                r[measure.NAME] = timed(measure, ctx)
            bl.lab_versions(data['versions'])
            bl.cleanup()
        for measure in MEASURES:
            if not measure.MAIN_PAIR and measure.NAME in only:
                r[measure.NAME] = timed(measure, Context(args))
    except Exception as exc:
        data['errors'].append('%s: %s' % (type(exc).__name__, exc))
        bl.log('FAILED: %s' % exc)
        raise
    finally:
        bl.cleanup()
        data['wall_s'] = round(time.monotonic() - started, 1)
        try:
            data['analysis'] = report.analysis(r, NAMES) if not data['errors'] else ['Run failed: ' + '; '.join(data['errors'])]
        except Exception as exc:   # a partial run: keep the JSON
            data['analysis'] = ['analysis not written: %s' % exc]
        with open(json_path, 'w') as handle:
            json.dump(data, handle, indent=1, default=str)
            handle.write('\n')
        try:
            report.write_report(data, os.path.join(out_dir, 'RESULTS.md'), NAMES)
        except Exception as exc:   # a partial run: keep the JSON, say why there is no table
            bl.log('RESULTS.md not written: %s' % exc)
        bl.log('done in %.0f s: %s, %s' % (data['wall_s'], data['json'], os.path.relpath(os.path.join(out_dir, 'RESULTS.md'), bl.ROOT)))


if __name__ == '__main__':
    main()
