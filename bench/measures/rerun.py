# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `rerun`: the no-change rerun of `dhcp.failover.site`, today's collection against the 1.0.0
collection (commit 3ab564b, built from git into build/bench-1.0.0/collections), alternating, in the
same run on the same lab: two identical pairs of fresh containers from the same image, one deployed by
each collection (networks dhcpf-bench-n1, 10.231.11.0/24, and dhcpf-bench-n2, 10.231.12.0/24).

For every run: the wall time and the remote module calls per host with their task names
(bench/callback_plugins/bench_calls.py). One more, untimed, run of each with -vvv counts the
connection's own EXEC lines per host and per task, and of them the module runs (an action plugin such
as template, copy or service runs several modules for one task, and a file transfer adds directory
commands); the controller's own (delegated to localhost) are kept apart. The target (<= 6 per host)
is judged on both the callback's count and the module runs.
"""
import os
import re
import shutil
import subprocess

from benchlab import (BIN, COLLECTIONS, NET_BASE, PREFIX, ROOT, WORK, cleanup, create_network, log, reset_keys, run_site, sh,
                      start_containers, summarize, write_inventory)

NAME = 'rerun'
MAIN_PAIR = False
OLD_COMMIT = '3ab564b'
CALLS_TARGET = 6
RATIO_TARGET = 0.6
EXEC_LINE = re.compile(r'^<(?P<host>[^>]+)> (?:SSH: )?EXEC ')
TASK_LINE = re.compile(r'^TASK \[(?P<task>.*)\] \**$')


def run(ctx):
    return bench_rerun(ctx.args.rerun_trials, ctx.args.old_commit)


def build_collection(commit, label=None):
    """The collection of `commit`, from git (git archive), built and installed into its own collections
    path build/bench-<label, default its version>/collections; reused when it was built from the same
    commit."""
    full = sh(['git', '-C', ROOT, 'rev-parse', commit + '^{commit}']).stdout.strip()
    version = sh(['git', '-C', ROOT, 'show', full + ':galaxy.yml']).stdout
    version = re.search(r'^version: *(\S+)', version, re.M).group(1)
    base = os.path.join(ROOT, 'build', 'bench-' + (label or version))
    path = os.path.join(base, 'collections')
    stamp = os.path.join(base, 'commit')
    if os.path.exists(stamp) and open(stamp).read().strip() == full and os.path.isdir(path):
        return path, version, full
    shutil.rmtree(base, ignore_errors=True)
    src, dist = os.path.join(base, 'src'), os.path.join(base, 'dist')
    os.makedirs(src)
    archive = subprocess.Popen(['git', '-C', ROOT, 'archive', full], stdout=subprocess.PIPE)
    sh(['tar', '-x', '-C', src], stdin=archive.stdout)
    archive.wait()
    galaxy = os.path.join(BIN, 'ansible-galaxy')
    sh([galaxy, 'collection', 'build', '--force', '--output-path', dist, src])
    tarball = os.path.join(dist, 'dhcp-failover-%s.tar.gz' % version)
    sh([galaxy, 'collection', 'install', '--force', '--offline', '--no-deps', '-p', path, tarball])
    with open(stamp, 'w') as handle:
        handle.write(full + '\n')
    return path, version, full


def exec_counts(logfile):
    """Per host and per task, from a -vvv run: the commands the connection ran (its EXEC lines: module
    runs, and the home and temporary directory commands of actions that transfer files) and, of them,
    the module runs (the ones that start the Python interpreter; with pipelining one per module)."""
    hosts, task = {}, None
    with open(logfile) as handle:
        for line in handle:
            m = TASK_LINE.match(line.strip())
            if m:
                task = m['task']
                continue
            m = EXEC_LINE.match(line)
            if m:
                entry = hosts.setdefault(m['host'], {'execs': 0, 'module_runs': 0, 'tasks': {}})
                row = entry['tasks'].setdefault(task, {'execs': 0, 'module_runs': 0})
                is_module = 'python' in line
                for counts in (entry, row):
                    counts['execs'] += 1
                    counts['module_runs'] += is_module
    return hosts


def call_list(site_run):
    """{host: [(task, action, calls)]} of a run, from the bench_calls callback."""
    return {host: [[t['task'], t['action'], t['calls']] for t in v['tasks']]
            for host, v in sorted(site_run.get('remote_calls', {}).get('hosts', {}).items())}


def bench_rerun(trials, old_commit):
    old_path, old_version, old_full = build_collection(old_commit)
    log('rerun: %s collection %s (%s) in %s' % (old_commit, old_version, old_full[:12], os.path.relpath(old_path, ROOT)))
    cleanup()
    reset_keys()
    sides = {}
    # the 1.0.0 commit reads the inventory of its day; a later --old-commit reads today's
    old_style = '1.0.0' if old_full.startswith(OLD_COMMIT) else 'current'
    for i, (side, style, collections) in enumerate((('current', 'current', COLLECTIONS), (old_version, old_style, old_path)), 1):
        net, prefix = '%s-n%d' % (PREFIX, i), '10.231.%d' % (NET_BASE + i)
        create_network(net, prefix)
        p, s = '%s-r%d-p' % (PREFIX, i), '%s-r%d-s' % (PREFIX, i)
        sides[side] = {'collections': collections, 'hosts': [p, s], 'specs': [(p, net, prefix + '.2'), (s, net, prefix + '.3')],
                       'inventory': write_inventory(os.path.join(WORK, 'rerun-%s.yml' % side), {'rerun%d' % i: ('rerun%d' % i, p, s, prefix)},
                                                    style=style)}
    start_containers([spec for side in sides.values() for spec in side['specs']])
    result = {'old_commit': old_full, 'old_version': old_version, 'trials': trials, 'order': []}
    for side, x in sides.items():
        log('rerun: fresh site run, %s' % side)
        x['fresh'] = run_site(x['inventory'], 'rerun-%s-fresh' % side, collections=x['collections'])
        x['reruns'] = []
    names = list(sides)
    for trial in range(trials):
        order = names if trial % 2 == 0 else names[::-1]     # alternating, so drift hits both
        for side in order:
            x = sides[side]
            r = run_site(x['inventory'], 'rerun-%s-%d' % (side, trial + 1), collections=x['collections'])
            r['load_avg'] = os.getloadavg()
            x['reruns'].append(r)
            result['order'].append(side)
            log('rerun %s #%d: %.1f s, changed %d, remote calls per host %s' % (
                side, trial + 1, r['wall_s'], r['changed'], r.get('remote_calls_per_host')))
    for side, x in sides.items():
        vvv = run_site(x['inventory'], 'rerun-%s-vvv' % side, ['-vvv'], collections=x['collections'])
        first = x['reruns'][0]
        result[side] = {
            'fresh': x['fresh'], 'reruns': x['reruns'],
            'wall': summarize([r['wall_s'] for r in x['reruns']]),
            'changed': [r['changed'] for r in x['reruns']],
            'remote_calls_per_host': first.get('remote_calls_per_host'),
            'remote_calls_same_every_trial': all(r.get('remote_calls_per_host') == first.get('remote_calls_per_host')
                                                 for r in x['reruns']),
            'remote_call_tasks': call_list(first),
            'vvv_wall_s': vvv['wall_s'],
        }
        execs = exec_counts(os.path.join(ROOT, vvv['log']))
        result[side]['vvv_exec_controller'] = execs.pop('localhost', {'execs': 0, 'module_runs': 0, 'tasks': {}})
        result[side]['vvv_exec_per_host'] = execs
    cur, old = result['current'], result[old_version]
    result['ratio_median_current_to_old'] = (round(cur['wall']['median_s'] / old['wall']['median_s'], 3)
                                             if old['wall']['median_s'] else None)
    result['max_remote_calls_per_host'] = max((cur['remote_calls_per_host'] or {'': 0}).values())
    result['max_module_runs_per_host'] = max([v['module_runs'] for v in cur['vvv_exec_per_host'].values()] or [0])
    # judged on both counts: task results that ran a module, and the module runs the connection made
    result['met'] = (result['ratio_median_current_to_old'] is not None and result['ratio_median_current_to_old'] <= RATIO_TARGET
                     and max(result['max_remote_calls_per_host'], result['max_module_runs_per_host']) <= CALLS_TARGET
                     and not any(cur['changed']))
    cleanup()
    return result
