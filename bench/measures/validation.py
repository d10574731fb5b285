# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `validation`: the role's validation of every pair (validate.yml, on the controller) for
inventories of 1, 10 and 50 pairs, today's collection against the collection of the commit before
the validation ran once per batch (each server validated every pair: servers x pairs), alternating.
No containers: the servers are inventory names with network facts as variables
(bench/validation.yml)."""
import json
import os

from benchlab import BENCH, WORK, log, run_site, summarize
from measures import rerun

NAME = 'validation'
MAIN_PAIR = False
# The last commit whose validate.yml ran dhcp.failover.pair_facts' derivation on every server.
BEFORE_COMMIT = 'd3ca99f'
TRIALS = 2
# the last step's seconds per added pair at most this many times the first step's: linear
LINEAR_TARGET = 1.5


def run(ctx):
    return bench_validation([int(x) for x in ctx.args.validation_pairs.split(',')], ctx.args.validation_before)


def inventory(count):
    """COUNT load-balancing pairs, each on its own /24 of 10.200.0.0/16 (no such hosts exist: nothing
    is contacted), in the shape the other measures' inventories have."""
    pairs = {}
    for i in range(1, count + 1):
        net = '10.200.%d' % i
        hosts = {}
        for role, last in (('primary', 2), ('secondary', 3)):
            address = '%s.%d' % (net, last)
            hosts['v%d-%s' % (i, role[0])] = {'dhcp_failover_role': role, 'lab_facts': {
                'default_ipv4': {'address': address, 'interface': 'eth0'},
                'all_ipv4_addresses': [address], 'interfaces': ['lo', 'eth0'],
                'eth0': {'device': 'eth0', 'ipv4': {'address': address, 'netmask': '255.255.255.0', 'network': net + '.0'}}}}
        pairs['pair%d' % i] = {'hosts': hosts, 'vars': {
            'dhcp_failover_peer_name': 'v%d' % i, 'dhcp_failover_mclt': 30,
            'dhcp_failover_subnets': [{'network': net + '.0/24', 'routers': [net + '.254'],
                                       'pools': [{'ranges': [{'start': net + '.16', 'end': net + '.253'}]}]}]}}
    path = os.path.join(WORK, 'validation-%d.json' % count)
    with open(path, 'w') as handle:
        json.dump({'all': {'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': '/usr/bin/python3'},
                           'children': {'dhcp_failover': {'children': pairs}}}}, handle, indent=1)
    return path


def _pair_tasks(run):
    """The two dhcp.failover.pair_facts tasks' times (profile_tasks)."""
    return {t['task']: t['seconds'] for t in run['tasks'] if 'role variables against the argument spec' in t['task']
            or 'derive' in t['task'] and 'view of its pair' in t['task']}


def bench_validation(counts, before_commit):
    before_path, _version, before_full = rerun.build_collection(before_commit, label='validation-before')
    sides = {'current': None, 'before': before_path}
    playbook = os.path.join(BENCH, 'validation.yml')
    result = {'before_commit': before_full, 'counts': counts, 'trials': TRIALS, 'order': []}
    for n in counts:
        path = inventory(n)
        runs = {side: [] for side in sides}
        for trial in range(TRIALS):
            for side in (('current', 'before') if trial % 2 == 0 else ('before', 'current')):
                r = run_site(path, 'validation-%d-%s-%d' % (n, side, trial + 1), playbook=playbook, collections=sides[side])
                r['load_avg'] = os.getloadavg()
                r['pair_facts_tasks'] = _pair_tasks(r)
                runs[side].append(r)
                result['order'].append('%d:%s' % (n, side))
                log('validation, %d pair(s), %s: %.1f s' % (n, side, r['wall_s']))
        row = {side: {'wall': summarize([r['wall_s'] for r in rs]), 'runs': rs,
                      'controller_core_s': [r['cpu']['controller_core_s'] for r in rs if r.get('cpu')]}
               for side, rs in runs.items()}
        row['ratio_current_to_before'] = round(row['current']['wall']['median_s'] / row['before']['wall']['median_s'], 3)
        result[str(n)] = row
    # Seconds per added pair over the first step of counts and over the last: equal when the
    # validation grows linearly with the pairs, the last larger when it grows with their square.
    for side in sides:
        med = [result[str(n)][side]['wall']['median_s'] for n in counts]
        slopes = [round((med[i + 1] - med[i]) / (counts[i + 1] - counts[i]), 4) for i in range(len(counts) - 1)]
        result['per_added_pair_s_' + side] = slopes
        result['linearity_' + side] = round(slopes[-1] / slopes[0], 2) if slopes and slopes[0] > 0 else None
    result['met'] = result['linearity_current'] is not None and result['linearity_current'] <= LINEAR_TARGET
    return result
