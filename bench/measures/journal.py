# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `journal`: bench/state_info_journal.py as it is (state_info against 10k/100k/1M journal
lines; its own container and network)."""
import json
import os
import subprocess
import sys
import time

from benchlab import BENCH, IMAGE, JOURNAL_TARGET_S, ROOT, WORK, log, sh

NAME = 'journal'
MAIN_PAIR = False


def run(ctx):  # pylint: disable=unused-argument
    return bench_journal()


def bench_journal():
    """Runs bench/state_info_journal.py as it is (its own container and network)."""
    dev = os.path.join(ROOT, 'build', 'dev', 'ansible_collections', 'dhcp', 'failover')
    if not os.path.exists(dev):   # the script reads the collection from build/dev (a link to the checkout)
        os.makedirs(os.path.dirname(dev), exist_ok=True)
        os.symlink(ROOT, dev)
    for _ignored in range(60):           # someone else running it right now: its container has the same name
        if not sh(['docker', 'ps', '-aq', '--filter', 'name=^dhcpf-capture-st-bench$']).stdout.strip():
            break
        log('journal: dhcpf-capture-st-bench exists (another run of the script?), waiting')
        time.sleep(10)
    else:
        raise RuntimeError('dhcpf-capture-st-bench still exists after 10 minutes')
    out = os.path.join(BENCH, 'results', 'state_info_journal.json')
    start = time.monotonic()
    proc = subprocess.run([sys.executable, os.path.join(BENCH, 'state_info_journal.py')], capture_output=True, text=True,
                          timeout=1500, env=dict(os.environ, DHCP_FAILOVER_LAB_IMAGE=IMAGE), check=False)
    with open(os.path.join(WORK, 'logs', 'state_info_journal.log'), 'w') as handle:
        handle.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError('state_info_journal.py failed: ' + proc.stderr[-1500:])
    with open(out) as handle:
        report = json.load(handle)
    rows = report['results']
    first, last = rows[0], rows[-1]
    return {'report': report, 'script_wall_s': round(time.monotonic() - start, 1),
            'ratio_1m_to_10k_via_ansible': round(last['state_info_via_ansible_s'] / first['state_info_via_ansible_s'], 3),
            'ratio_1m_to_10k_module': round(max(last['state_info_minus_ping_s'], 0.001) / max(first['state_info_minus_ping_s'], 0.001), 3),
            'met': journal_met(rows)}


def journal_met(rows):
    """The module's own cost: state_info minus a ping through the same connection at 1 M <= 1 s, and the
    journal read itself flat (1 M within 2x of 10 k, or under 10 ms). The through-Ansible figure moves with
    the connection (the ping baseline moves with it), so it is reported, not judged."""
    first, last = rows[0], rows[-1]
    read_first, read_last = first['python3_systemd_read_current_run_s'], last['python3_systemd_read_current_run_s']
    return (last['state_info_minus_ping_s'] <= JOURNAL_TARGET_S
            and (read_last <= 0.01 or read_last <= 2 * read_first))
