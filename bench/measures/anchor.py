# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `anchor`: `dhcp.failover.site` against bertvv's ansible-role-dhcp (bench/anchor/, commit
da896c4), the anchor issue 17 names, deploying the same load-balancing pair: for each trial, for each
side in alternating order, a fresh pair of containers from the lab image (isc-dhcp-server already
installed, as in the other measures), the fresh converge, then the no-change reruns. Wall time,
changed, remote module calls per host (bench/callback_plugins/bench_calls.py) and per-task times.
Networks dhcpf-bench-n1 (ours, 10.231.11.0/24) and dhcpf-bench-n2 (bertvv's, 10.231.12.0/24)."""
import json
import os
import shutil
import tarfile

from benchlab import (BENCH, DOCKER_CONNECTION, MCLT, NET_BASE, PREFIX, WORK, cleanup, create_network, log, remove_containers,
                      reset_keys, run_site, sh, start_containers, summarize, write_inventory)

NAME = 'anchor'
MAIN_PAIR = False
TARBALL = os.path.join(BENCH, 'anchor', 'bertvv-ansible-role-dhcp-da896c4.tar.gz')
ANCHOR_COMMIT = 'da896c4cd238e4f979c97c3f66efbac6e4a84fca'
SIDES = ('dhcp.failover', 'bertvv')
RERUNS = 2          # no-change reruns after each fresh converge
# bertvv's role the way its README uses it, without become: the bench's docker connection is root,
# as for dhcp.failover.site. Written next to the unpacked role (not kept in the repository, where the
# role is only a tarball that ansible-lint could not resolve).
PLAYBOOK = """---
- name: Deploy the pair with bertvv's role
  hosts: bertvv
  roles:
    - ansible-role-dhcp
"""


def run(ctx):
    return bench_anchor(ctx.args.anchor_trials)


def unpack():
    """bertvv's role under build/bench/anchor/roles/ansible-role-dhcp, its playbook next to it."""
    base = os.path.join(WORK, 'anchor')
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(os.path.join(base, 'roles'))
    with tarfile.open(TARBALL) as tar:
        tar.extractall(os.path.join(base, 'roles'), filter='data')
    path = os.path.join(base, 'bertvv.yml')
    with open(path, 'w') as handle:
        handle.write(PLAYBOOK)
    return path


def bertvv_inventory(path, pairs):
    """The pairs of the other measures (write_inventory) in bertvv's variables: PAIRS is a list of
    (primary, secondary, prefix). Each pair has its own subnet, so every variable is a host's."""
    def failover(role, me, peer):
        out = {'role': role, 'address': me, 'port': 647, 'peer_address': peer, 'peer_port': 647,
               'max_response_delay': 60, 'max_unacked_updates': 10, 'load_balance_max_seconds': 3}
        if role == 'primary':
            out.update({'mclt': MCLT, 'split': 128})
        return out
    hosts = {}
    for primary, secondary, prefix in pairs:
        p_addr, s_addr = prefix + '.2', prefix + '.3'
        common = {
            'dhcp_apparmor_fix': False,       # see bench/anchor/README.md
            'dhcp_interfaces': 'eth0',
            'dhcp_global_failover_peer': 'bench',
            'dhcp_global_domain_name': 'bench.lab',
            'dhcp_subnets': [{'ip': prefix + '.0', 'netmask': '255.255.255.0', 'routers': prefix + '.254',
                              'pools': [{'failover_peer': 'bench', 'range_begin': prefix + '.16',
                                         'range_end': prefix + '.253'}]}],
        }
        hosts[primary] = dict(common, dhcp_global_failover=failover('primary', p_addr, s_addr))
        hosts[secondary] = dict(common, dhcp_global_failover=failover('secondary', s_addr, p_addr))
    inventory = {'all': {'vars': dict(DOCKER_CONNECTION), 'children': {'bertvv': {'hosts': hosts}}}}
    with open(path, 'w') as handle:
        handle.write('# Written by bench/run.py (anchor)\n' + json.dumps(inventory, indent=1) + '\n')
    return path


def side_result(rows):
    reruns = [r for row in rows for r in row['reruns']]
    return {
        'fresh': summarize([row['fresh']['wall_s'] for row in rows]),
        'rerun': summarize([r['wall_s'] for r in reruns]),
        'fresh_changed': [row['fresh']['changed'] for row in rows],
        'rerun_changed': [r['changed'] for r in reruns],
        'remote_calls_per_host_fresh': rows[0]['fresh'].get('remote_calls_per_host'),
        'remote_calls_per_host_rerun': rows[0]['reruns'][0].get('remote_calls_per_host'),
        'dhcpd_running_every_trial': all(all(row['dhcpd_running'].values()) for row in rows),
        'trials': rows,
    }


def bench_anchor(trials):
    playbook = unpack()
    cleanup()
    result = {'anchor': 'bertvv/ansible-role-dhcp', 'anchor_commit': ANCHOR_COMMIT, 'trials': trials,
              'reruns_per_trial': RERUNS, 'order': []}
    rows = {side: [] for side in SIDES}
    nets = {}
    for i, side in enumerate(SIDES, 1):
        nets[side] = ('%s-n%d' % (PREFIX, i), '10.231.%d' % (NET_BASE + i))
        create_network(*nets[side])
    for trial in range(trials):
        order = SIDES if trial % 2 == 0 else SIDES[::-1]     # alternating, so drift hits both
        for side in order:
            net, prefix = nets[side]
            tag = 'a' if side == 'dhcp.failover' else 'b'
            p, s = '%s-%s-p' % (PREFIX, tag), '%s-%s-s' % (PREFIX, tag)
            remove_containers([p, s])
            start_containers([(p, net, prefix + '.2'), (s, net, prefix + '.3')])
            label = 'anchor-%s-%d' % (tag, trial + 1)
            if side == 'bertvv':
                inventory = bertvv_inventory(os.path.join(WORK, 'anchor-bertvv.yml'), [(p, s, prefix)])
                runner = {'playbook': playbook}
            else:
                reset_keys()
                inventory = write_inventory(os.path.join(WORK, 'anchor-ours.yml'), {'anchor': ('anchor', p, s, prefix)})
                runner = {}
            fresh = run_site(inventory, label + '-fresh', **runner)
            fresh['load_avg'] = os.getloadavg()
            reruns = []
            for k in range(RERUNS):
                r = run_site(inventory, '%s-rerun%d' % (label, k + 1), **runner)
                r['load_avg'] = os.getloadavg()
                reruns.append(r)
            # both sides must leave two running dhcpd (the process, not the unit)
            running = {h: sh(['docker', 'exec', h, 'pgrep', '-x', 'dhcpd'], check=False).returncode == 0 for h in (p, s)}
            rows[side].append({'fresh': fresh, 'reruns': reruns, 'dhcpd_running': running})
            result['order'].append(side)
            log('anchor %s #%d: fresh %.1f s (changed %d), reruns %s s, remote calls per host %s / %s' % (
                side, trial + 1, fresh['wall_s'], fresh['changed'], ', '.join('%.1f' % r['wall_s'] for r in reruns),
                fresh.get('remote_calls_per_host'), reruns[0].get('remote_calls_per_host')))
    for side in SIDES:
        result[side] = side_result(rows[side])
    ours, anchor = result['dhcp.failover'], result['bertvv']
    for kind in ('fresh', 'rerun'):
        ratio = round(ours[kind]['median_s'] / anchor[kind]['median_s'], 3) if anchor[kind]['median_s'] else None
        result['ratio_%s_ours_to_bertvv' % kind] = ratio
    result['met'] = (result['ratio_rerun_ours_to_bertvv'] is not None and result['ratio_rerun_ours_to_bertvv'] <= 1.0
                     and not any(ours['rerun_changed']))
    cleanup()
    return result
