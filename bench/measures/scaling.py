# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `scaling`: fresh site run (and rerun) for 1, 2 and 4 pairs in one inventory (networks
dhcpf-bench-n1..n4); with more hosts than Ansible's default 5 forks, the rerun and a fresh run (on a
second, fresh lab) again with one fork per host. For the smallest and the largest count, bertvv's
ansible-role-dhcp (the anchor measure's role) deploys the same pairs on a fresh lab of its own right
after ours: what a role that does much less costs per pair on the same machine in the same run; and
so does the floor (bench/floor/floor.yml: a dhcpd.conf written once dhcpd -t accepts it, the
interfaces file, a restart, nothing else), with the default forks and, for the largest count, one
fork per host: what any role that writes and restarts costs, whatever else it does."""
import os

from measures import anchor
from benchlab import (BENCH, NET_BASE, PREFIX, SCALING_TARGET, WORK, cleanup, create_network, log, reset_keys, run_site, start_containers,
                      summarize, write_inventory)

NAME = 'scaling'
MAIN_PAIR = False
FLOOR = os.path.join(BENCH, 'floor', 'floor.yml')


def run(ctx):
    return bench_scaling([int(x) for x in ctx.args.scaling.split(',')], ctx.args.scaling_trials)


def _lab(n, bertvv=False):
    """Fresh containers and keys for N pairs (networks dhcpf-bench-n1..nN); returns the inventory
    (with BERTVV, the inventory of bertvv's role for the same pairs)."""
    cleanup()
    reset_keys()
    pairs, specs = {}, []
    for i in range(1, n + 1):
        net, prefix = '%s-n%d' % (PREFIX, i), '10.231.%d' % (NET_BASE + i)
        create_network(net, prefix)
        p, s = '%s-n%d-p' % (PREFIX, i), '%s-n%d-s' % (PREFIX, i)
        specs += [(p, net, prefix + '.2'), (s, net, prefix + '.3')]
        pairs['pair%d' % i] = ('bench%d' % i, p, s, prefix)
    log('scaling: %d pair(s), %d containers' % (n, len(specs)))
    start_containers(specs)
    if bertvv:
        return anchor.bertvv_inventory(os.path.join(WORK, 'scaling-bertvv-%d.yml' % n),
                                       [(p, s, prefix) for _peer, p, s, prefix in pairs.values()])
    return write_inventory(os.path.join(WORK, 'scaling-%d.yml' % n), pairs)


def _bertvv(n, playbook):
    """bertvv's role, fresh, on a fresh lab of N pairs."""
    run = run_site(_lab(n, bertvv=True), 'scaling-bertvv-%d-fresh' % n, playbook=playbook)
    log('scaling, bertvv\'s role, %d pair(s): fresh %.1f s' % (n, run['wall_s']))
    return run


def _floor(n, extra=(), label=''):
    """The floor playbook, fresh, on a fresh lab of N pairs (the anchor's inventory)."""
    run = run_site(_lab(n, bertvv=True), 'scaling-floor-%d-fresh%s' % (n, label), extra, playbook=FLOOR)
    log('scaling, floor, %d pair(s)%s: fresh %.1f s' % (n, label, run['wall_s']))
    return run


def _median_run(runs):
    """The run whose wall time is the median of RUNS (the lower middle one for an even count): its
    tasks and CPU stand for the count, and every wall time is kept beside it."""
    ordered = sorted(runs, key=lambda run: run['wall_s'])
    return ordered[(len(ordered) - 1) // 2]


def _fresh(runs):
    return {'fresh': _median_run(runs), 'fresh_wall': summarize([run['wall_s'] for run in runs]),
            'fresh_trials': runs}


def bench_scaling(counts, trials=3):
    """TRIALS fresh runs of each count, the counts alternating (1, 2, 4, 1, 2, 4, ...), each on a
    fresh lab; the target is judged on the medians. The rerun, the runs with one fork per host and
    bertvv's role run in the first trial only; the floor in every trial, right after ours."""
    result = {'trials': trials}
    playbook = anchor.unpack()
    fresh, bertvv, floor = {}, {}, {}
    for trial in range(trials):
        for n in counts:
            inventory = _lab(n)
            run = run_site(inventory, 'scaling-%d-fresh-%d' % (n, trial))
            fresh.setdefault(str(n), []).append(run)
            log('scaling %d pair(s), trial %d: fresh %.1f s' % (n, trial + 1, run['wall_s']))
            if trial == 0:
                row = {'pairs': n, 'hosts': 2 * n, 'rerun': run_site(inventory, 'scaling-%d-rerun' % n), 'load_avg': os.getloadavg()}
                if 2 * n > 5:   # more hosts than Ansible's default 5 forks: the same runs with one fork per host
                    forks = ['--forks', str(2 * n)]
                    row['rerun_forks_per_host'] = run_site(inventory, 'scaling-%d-rerun-forks%d' % (n, 2 * n), forks)
                    # a fresh run needs fresh containers: a second lab of the same size
                    row['fresh_forks_per_host'] = run_site(_lab(n), 'scaling-%d-fresh-forks%d' % (n, 2 * n), forks)
                log('scaling %d pair(s): rerun %.1f s' % (n, row['rerun']['wall_s']))
                result[str(n)] = row
            if n in (counts[0], counts[-1]):
                floor.setdefault(str(n), []).append(_floor(n, label='-%d' % trial))
                if trial == 0:
                    bertvv[str(n)] = _bertvv(n, playbook)
                    if n == counts[-1] and 2 * n > 5:   # as above: the floor with one fork per host
                        floor['%d-forks' % n] = _floor(n, ['--forks', str(2 * n)], '-forks%d' % (2 * n))
    cleanup()
    for n in counts:
        result[str(n)].update(_fresh(fresh[str(n)]))
    one, most = result[str(counts[0])], result[str(counts[-1])]
    result['ratio_fresh'] = round(most['fresh_wall']['median_s'] / one['fresh_wall']['median_s'], 3)
    result['ratio_rerun'] = round(most['rerun']['wall_s'] / one['rerun']['wall_s'], 3)
    if 'rerun_forks_per_host' in most:
        result['ratio_rerun_forks_per_host'] = round(most['rerun_forks_per_host']['wall_s'] / one['rerun']['wall_s'], 3)
    if 'fresh_forks_per_host' in most:
        result['ratio_fresh_forks_per_host'] = round(most['fresh_forks_per_host']['wall_s'] / one['fresh_wall']['median_s'], 3)
        result['cpu_forks_per_host'] = cpu_bound(one['fresh'], most['fresh_forks_per_host'], counts[0], counts[-1])
    result['met'] = result['ratio_fresh'] <= SCALING_TARGET
    result['cpu'] = cpu_bound(one['fresh'], most['fresh'], counts[0], counts[-1])
    if len(bertvv) == 2:
        b_one, b_most = bertvv[str(counts[0])], bertvv[str(counts[-1])]
        result['bertvv'] = {'pairs': [counts[0], counts[-1]], 'fresh': bertvv,
                            'ratio_fresh': round(b_most['wall_s'] / b_one['wall_s'], 3),
                            'cpu': cpu_bound(b_one, b_most, counts[0], counts[-1]),
                            # ours (the first trial, the one run beside bertvv's) over bertvv's, each count
                            'ours_to_bertvv': {k: round(fresh[k][0]['wall_s'] / v['wall_s'], 3) for k, v in bertvv.items()}}
    if str(counts[0]) in floor and str(counts[-1]) in floor:
        result['floor'] = _floor_result(floor, counts)
    return result


def _floor_result(floor, counts):
    """The floor's figures: medians of its trials and their ratio with the default forks and, for more
    hosts than 5 forks, its largest count once with one fork per host (fresh lab), with what the CPU
    of each allows."""
    first, last = (_fresh(floor[str(n)]) for n in (counts[0], counts[-1]))
    out = {'pairs': [counts[0], counts[-1]], 'fresh': {str(counts[0]): first['fresh'], str(counts[-1]): last['fresh']},
           'fresh_wall': {str(counts[0]): first['fresh_wall'], str(counts[-1]): last['fresh_wall']},
           'ratio_fresh': round(last['fresh_wall']['median_s'] / first['fresh_wall']['median_s'], 3),
           'cpu': cpu_bound(first['fresh'], last['fresh'], counts[0], counts[-1])}
    forks = floor.get('%d-forks' % counts[-1])
    if forks:
        out.update({'fresh_forks_per_host': forks,
                    'ratio_fresh_forks_per_host': round(forks['wall_s'] / first['fresh_wall']['median_s'], 3),
                    'cpu_forks_per_host': cpu_bound(first['fresh'], forks, counts[0], counts[-1])})
    return out


def cpu_bound(one, most, n_one, n_most):
    """What the CPU time of the fresh runs allows (benchlab.cpu_used of each run): with every core busy
    all the time the larger run could take no less than its busy core-seconds / cores; the ratio of
    that to the small run's wall time is the best ratio this machine allows for the code as it is, and
    SCALING_TARGET needs at most target x small wall x cores / pairs core-seconds per pair."""
    if 'cpu' not in one or 'cpu' not in most:
        return None
    cores = most['cpu']['cores']
    per_pair = {str(n): {k: round(run['cpu'][k] / n, 2) for k in ('busy_core_s', 'controller_core_s', 'containers_core_s', 'other_core_s')
                         if k in run['cpu']} for n, run in ((n_one, one), (n_most, most))}
    return {'cores': cores, 'per_pair': per_pair,
            'min_wall_s': round(most['cpu']['busy_core_s'] / cores, 2),
            'best_ratio': round(most['cpu']['busy_core_s'] / cores / one['wall_s'], 2),
            'target_core_s_per_pair': round(SCALING_TARGET * one['wall_s'] * cores / n_most, 2)}
