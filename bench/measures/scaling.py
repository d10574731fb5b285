# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `scaling`: fresh site run (and rerun) for 1, 2 and 4 pairs in one inventory (networks
dhcpf-bench-n1..n4)."""
import os

from benchlab import NET_BASE, PREFIX, SCALING_TARGET, WORK, cleanup, create_network, log, reset_keys, run_site, start_containers, write_inventory

NAME = 'scaling'
MAIN_PAIR = False


def run(ctx):
    return bench_scaling([int(x) for x in ctx.args.scaling.split(',')])


def bench_scaling(counts):
    result = {}
    for n in counts:
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
        inventory = write_inventory(os.path.join(WORK, 'scaling-%d.yml' % n), pairs)
        fresh = run_site(inventory, 'scaling-%d-fresh' % n)
        rerun = run_site(inventory, 'scaling-%d-rerun' % n)
        row = {'pairs': n, 'hosts': 2 * n, 'fresh': fresh, 'rerun': rerun, 'load_avg': os.getloadavg()}
        if 2 * n > 5:   # more hosts than Ansible's default 5 forks: the same rerun with one fork per host
            row['rerun_forks_per_host'] = run_site(inventory, 'scaling-%d-rerun-forks%d' % (n, 2 * n),
                                                   ['--forks', str(2 * n)])
        log('scaling %d pair(s): fresh %.1f s, rerun %.1f s' % (n, fresh['wall_s'], rerun['wall_s']))
        result[str(n)] = row
    cleanup()
    one, most = result[str(counts[0])], result[str(counts[-1])]
    result['ratio_fresh'] = round(most['fresh']['wall_s'] / one['fresh']['wall_s'], 3)
    result['ratio_rerun'] = round(most['rerun']['wall_s'] / one['rerun']['wall_s'], 3)
    if 'rerun_forks_per_host' in most:
        result['ratio_rerun_forks_per_host'] = round(most['rerun_forks_per_host']['wall_s'] / one['rerun']['wall_s'], 3)
    result['met'] = result['ratio_fresh'] <= SCALING_TARGET
    return result
