# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcp.failover.maintenance on a pair whose pool has leases, with an MCLT (130 s) longer than any
fixed timeout the playbook ever used (120 s), issue 12 item 9.

With leases in the pool, the server brought back by the maintenance goes recover -> recover-wait
and dhcpd keeps it there until the time it entered recover + MCLT (server/failover.c). It skips
that wait only when it has no binding update queued for its partner when it enters recover. At
its start dhcpd queues an update for every lease that ended while it was stopped, and sends its
queue at the next occasion once connected (its own next lease expiry, or, on the primary, a lease
the partner reports ended or released for a client of the partner's half). So the test gives the
primary a queued update and no such occasion before recover:
- clients of the primary's half (answered by the primary) get 30 s leases just before the run;
  every other lease is long (asked for 600 s, at least MCLT), so nothing else ends around the
  primary's restart (a lease of the partner's half ending would make the primary send its queue);
- the tasks file the maintenance runs while dhcpd is stopped (an operator's patch) keeps the
  primary's dhcpd stopped until those 30 s leases have ended.
The secondary may or may not wait too; the test accepts both and reports which.

The maintenance must succeed, and the oracle is not dhcp.failover.state_info: which states each
server went through is read from the raw journal of one given run of the unit (its InvocationID:
the run before the maintenance, and the current run), so lines of another run cannot satisfy a
check; "runs" is `pidof dhcpd`; who answered a client is the server identifier busybox udhcpc
printed. A client asks for a lease about every second for the whole run, and every ask made while
the primary was in recover-wait must have been answered, by the partner.

Network dhcpf-mclt (10.231.47.0/24): servers dhcpf-mclt-p (.2) and dhcpf-mclt-s (.3), client
dhcpf-mclt-c (.4). The client asks with udhcpc -s /bin/true: nothing is applied to its network.
The measured figures are written to build/maintenance-mclt-figures.json, the playbook's output to
build/maintenance-mclt-output.log.
"""

from __future__ import annotations

import json
import os
import re
import time

import pytest
import yaml

from conftest import REPO, LabPair, docker, run_playbook

MCLT = 130                 # longer than the 120 s the playbook used to allow each state
SHORT = 30                 # the primary's clients' leases, ending while its dhcpd is stopped
LONG = 600                 # every other lease (dhcpd gives MCLT at first, then up to this)
SHORT_CLIENTS = (5, 6, 8)  # their client identifiers hash to the primary's half (split 128)
ADDRESS = {'p': '10.231.47.2', 's': '10.231.47.3'}
PAIR_VARS = {
    'dhcp_failover_pair': 'mclt',
    'dhcp_failover_peer_name': 'mclt',
    'dhcp_failover_mclt': MCLT,
    'dhcp_failover_ping_check': False,
    # dhcpd's own min-lease-time is 300 s: it would lift a 30 s lease to 300 s
    'dhcp_failover_raw_global': 'min-lease-time 10;',
    'dhcp_failover_subnets': [{
        'network': '10.231.47.0/24',
        'routers': ['10.231.47.254'],
        'pools': [{'ranges': [{'start': '10.231.47.100', 'end': '10.231.47.199'}]}],
    }],
}
HOST_VARS = {'p': {'dhcp_failover_role': 'primary', 'dhcp_failover_address': ADDRESS['p'],
                   'dhcp_failover_interfaces': ['eth0']},
             's': {'dhcp_failover_role': 'secondary', 'dhcp_failover_address': ADDRESS['s'],
                   'dhcp_failover_interfaces': ['eth0']}}

# One DHCP exchange (DISCOVER ... ACK) for client $1 (its own client identifier), asking for a
# lease of $2 seconds; prints "ADDRESS SERVER LEASE-TIME". Applies nothing.
ASK = r"""
id=$(printf '0102000000%02x' "$1")
timeout 10 busybox udhcpc -f -q -n -t 2 -T 2 -i eth0 -s /bin/true -C -x 0x3d:$id -x lease:$2 2>&1 |
  sed -n 's/.*lease of \([0-9.]*\) obtained from \([0-9.]*\), lease time \([0-9]*\).*/\1 \2 \3/p' | tail -1
"""
# Clients 1-3 in turn (long leases), about once a second, until /run/stop-asking exists:
# "EPOCH CLIENT SERVER" per ask, SERVER "none" when nobody answered.
ASK_LOOP = r"""
i=0
while [ ! -e /run/stop-asking ]; do
  i=$(( i % 3 + 1 ))
  at=$(date +%s.%N)
  answer=$(sh /usr/local/bin/ask.sh $i LONG)
  echo "$at $i $(echo "$answer" | cut -d' ' -f2 | grep . || echo none)" >> /run/asks.log
  sleep 1
done
""".replace('LONG', str(LONG))
# The operator's tasks while dhcpd is stopped: on the primary, a patch that lasts until the short
# leases have ended (mclt_test_short_end, epoch seconds), so they end while its dhcpd is stopped.
PATCH_TASKS = """
- name: Keep dhcpd stopped until the short leases have ended (a patch that takes a while)
  ansible.builtin.pause:
    seconds: "{{ [1, (mclt_test_short_end | float + 2 - now().timestamp()) | round(0, 'ceil') | int] | max }}"
  when: inventory_hostname == 'p'
"""


def invocation(lab, host):
    return lab.exec(host, 'systemctl show -p InvocationID --value isc-dhcp-server').stdout.strip()


def moves(lab, host, run):
    """[(epoch, from, to)] of "I move from A to B" in one run of the unit, from the raw journal."""
    text = lab.exec(host, 'journalctl --no-pager -o short-unix _SYSTEMD_INVOCATION_ID=%s' % run).stdout
    return [(float(at), old, new) for at, old, new in
            re.findall(r'^(\d+\.\d+) .*failover peer mclt: I move from (\S+) to (\S+)$', text, re.MULTILINE)]


def wait_for_own_state(lab, host, state, timeout=MCLT + 60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        seen = moves(lab, host, invocation(lab, host))
        if seen and seen[-1][2] == state:
            return seen
        time.sleep(1)
    raise AssertionError('%s did not reach %s in its current run; moves %s' % (host, state, seen))


def when(seen, old, new):
    """Epoch of the last move old -> new in seen, or None."""
    found = [at for at, a, b in seen if (a, b) == (old, new)]
    return found[-1] if found else None


@pytest.fixture(scope='module')
def lab(lab_image, tmp_path_factory):
    pair = LabPair(lab_image, 'dhcpf-mclt', '10.231.47', hosts=(('p', 2), ('s', 3), ('c', 4))).start()
    tmp = tmp_path_factory.mktemp('maintenance_mclt')
    inventory = pair.inventory(pair='mclt', pair_vars=dict(PAIR_VARS, dhcp_failover_omapi_key_dir=str(tmp / 'keys')),
                               host_vars=HOST_VARS)
    client = inventory['dhcp_failover']['children']['mclt']['hosts'].pop('c')
    client['dhcp_failover_probe_interface'] = 'eth0'
    inventory['dhcp_failover_probe'] = {'hosts': {'c': client}}
    (tmp / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    (tmp / 'patch.yml').write_text(PATCH_TASKS)
    pair.exec('c', 'cat > /usr/local/bin/ask.sh', input=ASK)
    pair.exec('c', 'cat > /usr/local/bin/ask-loop.sh', input=ASK_LOOP)
    pair.tmp, pair.inventory_path = tmp, str(tmp / 'inventory.yml')
    try:
        yield pair
    finally:
        pair.close()


def test_maintenance_waits_out_mclt_with_leases_in_the_pool(lab):
    result = run_playbook('dhcp.failover.site', lab.inventory_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    for host in ('p', 's'):
        wait_for_own_state(lab, host, 'normal')

    # clients 1-3 (the asking client) get long leases from the pair in normal, clients 5, 6 and 8
    # (client identifiers of the primary's half of the load-balancing hash) SHORT ones, which end
    # while the primary's dhcpd is stopped. No lease of the partner's half ends around it.
    leases = {}
    for client in (1, 2, 3) + SHORT_CLIENTS:
        answer = lab.exec('c', 'sh /usr/local/bin/ask.sh %d %d' % (client, SHORT if client in SHORT_CLIENTS else LONG)).stdout.split()
        assert len(answer) == 3, 'client %d got no lease: %r' % (client, answer)
        leases[client] = answer
    short_end = time.time() + SHORT
    assert all(leases[client][1] == ADDRESS['p'] and int(leases[client][2]) <= SHORT for client in SHORT_CLIENTS), (
        'expected %d s leases from p for clients %s, saw %s' % (SHORT, SHORT_CLIENTS, leases))
    assert all(int(leases[client][2]) >= MCLT for client in (1, 2, 3)), leases
    before = dict((host, invocation(lab, host)) for host in ('p', 's'))

    # a client keeps asking about every second, the whole run
    docker('exec', '-d', lab.containers['c'], 'sh', '-c', 'rm -f /run/stop-asking /run/asks.log; sh /usr/local/bin/ask-loop.sh')
    report_path = lab.tmp / 'maintenance.json'
    started = time.time()
    try:
        result = run_playbook('dhcp.failover.maintenance', lab.inventory_path,
                              '-e', 'dhcp_failover_maintenance_report=%s' % report_path,
                              '-e', 'dhcp_failover_maintenance_tasks_file=%s' % (lab.tmp / 'patch.yml'),
                              '-e', 'mclt_test_short_end=%s' % short_end,
                              # the client's asks prove the service; the playbook's probe adds ~20 s
                              '-e', 'dhcp_failover_maintenance_probe=false', timeout=1200)
    finally:
        lab.exec('c', 'touch /run/stop-asking')
    run_seconds = time.time() - started
    output = result.stdout + result.stderr
    os.makedirs(os.path.join(REPO, 'build'), exist_ok=True)
    with open(os.path.join(REPO, 'build', 'maintenance-mclt-output.log'), 'w') as handle:
        handle.write(output)
    assert result.returncode == 0, 'maintenance failed after %.1f s:\n%s' % (run_seconds, output[-6000:])

    # both peers end in normal and run: the current run's raw journal, and the dhcpd process
    after = dict((host, invocation(lab, host)) for host in ('p', 's'))
    for host in ('p', 's'):
        assert after[host] != before[host], '%s was not restarted (same InvocationID %s)' % (host, after[host])
        current = moves(lab, host, after[host])
        assert current and current[-1][2] == 'normal', (
            '%s: expected its current run to end in normal, saw %s' % (host, current))
        assert when(current, 'shutdown', 'recover') is not None, '%s never went shutdown -> recover: %s' % (host, current)
        assert lab.exec(host, 'pidof dhcpd', check=False).returncode == 0, 'no dhcpd process on %s' % host

    # the primary waited in recover-wait until its recover time + MCLT, longer than 120 s
    primary = moves(lab, 'p', after['p'])
    recover_at = when(primary, 'shutdown', 'recover')
    wait_from = when(primary, 'recover', 'recover-wait')
    wait_to = when(primary, 'recover-wait', 'recover-done')
    assert wait_from and wait_to, 'expected p to go recover -> recover-wait -> recover-done, saw %s' % primary
    assert MCLT - 2 <= wait_to - recover_at <= MCLT + 5, (
        'expected recover-wait to end MCLT (%d s) after recover, saw %.1f s' % (MCLT, wait_to - recover_at))

    # the partner served every client in partner-down until then (its run before its own restart)
    secondary_before = moves(lab, 's', before['s'])
    partner_down_at = when(secondary_before, 'normal', 'partner-down')
    partner_down_left = when(secondary_before, 'partner-down', 'normal')
    assert partner_down_at is not None and partner_down_at <= recover_at, (
        'expected s in partner-down before p recovered, saw %s' % secondary_before)
    assert partner_down_left is not None and partner_down_left >= wait_to - 1, (
        'expected s to stay in partner-down until p left recover-wait (%.1f), saw %s' % (wait_to, secondary_before))

    # a client asking about every second during recover-wait got every answer, from the partner
    asks = [line.split() for line in lab.exec('c', 'cat /run/asks.log').stdout.splitlines() if line.strip()]
    during = [(float(at), server) for at, client, server in asks if wait_from <= float(at) <= wait_to - 10]
    assert len(during) >= (wait_to - 10 - wait_from) / 4, 'too few asks during recover-wait: %s' % during
    answered_by = sorted(set(server for at, server in during))
    assert answered_by == [ADDRESS['s']], (
        'expected every ask during recover-wait answered by s (%s), saw %s' % (ADDRESS['s'], answered_by))
    unanswered = [(at, client) for at, client, server in asks if server == 'none']

    # the playbook said so, with progress, and reported the wait
    progress = re.findall(r'p recover-wait since \S+, about (\d+) s left', output)
    assert len(progress) >= 2, 'expected progress lines "about N s left", saw %s' % progress
    reports = dict((item['host'], item) for item in json.loads(report_path.read_text())['servers'])
    assert reports['p']['passed'] and reports['s']['passed'], json.dumps(reports, indent=1)[-3000:]
    assert float(reports['p']['recover_wait']['seconds']) >= MCLT - 5, reports['p']['recover_wait']
    secondary = moves(lab, 's', after['s'])

    figures = {
        'mclt_s': MCLT,
        'leases_before_run': len(leases),
        'short_leases_of_the_primary': len(SHORT_CLIENTS),
        'maintenance_run_s': round(run_seconds, 1),
        'primary_recover_to_recover_done_s': round(wait_to - recover_at, 2),
        'primary_recover_wait_s': round(wait_to - wait_from, 2),
        'primary_reported_recover_wait_s': reports['p']['recover_wait'].get('seconds'),
        'secondary_recover_to_normal_s': round(secondary[-1][0] - when(secondary, 'shutdown', 'recover'), 2),
        'secondary_recover_wait': when(secondary, 'recover', 'recover-wait') is not None,
        'partner_down_s': round(partner_down_left - partner_down_at, 1),
        'asks': len(asks),
        'asks_during_recover_wait': len(during),
        'unanswered_asks': unanswered,
        'progress_lines_left_s': [int(left) for left in progress],
        'report_seconds': dict((host, reports[host]['seconds']) for host in reports),
    }
    with open(os.path.join(REPO, 'build', 'maintenance-mclt-figures.json'), 'w') as handle:
        json.dump(figures, handle, indent=1)
    print(json.dumps(figures, indent=1))
