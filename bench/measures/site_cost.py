# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `converge`: the fresh pair's `dhcp.failover.site` run, then the immediate rerun (changed
must be 0), and the connection's floor (bench/connection_floor.yml: a playbook with one ping, and one
more remote module call on both hosts). Runs on the main pair (bench/benchlab.py)."""
import os

from benchlab import BENCH, RERUN_TARGET, log, run_site

NAME = 'converge'
MAIN_PAIR = True


def run(ctx):
    return bench_converge(ctx.inventory)


def bench_converge(inventory):
    log('converge: fresh site run of one pair')
    fresh = run_site(inventory, 'converge-fresh')
    log('converge: fresh %.1f s, changed %d; rerun' % (fresh['wall_s'], fresh['changed']))
    rerun = run_site(inventory, 'converge-rerun')
    log('converge: rerun %.1f s, changed %d' % (rerun['wall_s'], rerun['changed']))
    wait = sum(t['seconds'] for t in fresh['tasks'] if t['task'].startswith('Wait until both peers report normal'))
    # the connection's floor: ansible-playbook start-up, and one remote module call on both hosts
    floor = os.path.join(BENCH, 'connection_floor.yml')
    one = run_site(inventory, 'floor-1', ['-e', 'floor_calls=1'], playbook=floor)['wall_s']
    eleven = run_site(inventory, 'floor-11', ['-e', 'floor_calls=11'], playbook=floor)['wall_s']
    per_call = (eleven - one) / 10
    log('converge: connection floor: playbook with 1 ping %.1f s, one more ping on both hosts %.2f s' % (one, per_call))
    return {'fresh': fresh, 'rerun': rerun,
            'floor_playbook_one_ping_s': one, 'floor_per_remote_call_s': round(per_call, 3),
            'ratio_rerun_to_fresh': round(rerun['wall_s'] / fresh['wall_s'], 3),
            'fresh_wait_for_normal_s': round(wait, 2),
            'met': rerun['changed'] == 0 and rerun['wall_s'] <= RERUN_TARGET * fresh['wall_s']}
