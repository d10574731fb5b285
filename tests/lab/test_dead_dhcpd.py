# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A primary whose dhcpd was killed (`kill -9`, a crash) under Debian's LSB unit, which stays
"active (exited)": the collection must never take it for a running, normal server (issue 12).

The oracle is not dhcp.failover.state_info: whether dhcpd runs is `pidof dhcpd` and the unit's
SubState; which state a server reached is read from the raw journal of the unit's current run
(its InvocationID), so lines of an earlier run cannot satisfy a check.

Network dhcpf-h12 (10.231.60.0/24), containers dhcpf-h12-p and dhcpf-h12-s.
"""

from __future__ import annotations

import glob
import json
import os
import re
import time

import pytest
import yaml

from conftest import LabPair, recap, run_playbook

PAIR_VARS = {
    'dhcp_failover_pair': 'h12',       # status groups the reachable servers: name the pair
    'dhcp_failover_peer_name': 'h12',
    'dhcp_failover_mclt': 30,
    'dhcp_failover_subnets': [{
        'network': '10.231.60.0/24',
        'routers': ['10.231.60.254'],
        'pools': [{'ranges': [{'start': '10.231.60.100', 'end': '10.231.60.200'}]}],
    }],
}
HOST_VARS = {'p': {'dhcp_failover_role': 'primary', 'dhcp_failover_address': '10.231.60.2'},
             's': {'dhcp_failover_role': 'secondary', 'dhcp_failover_address': '10.231.60.3'}}

RECOVER_SURVIVOR = """
- name: Send the lone survivor to recover
  hosts: s
  gather_facts: false
  tasks:
    - name: Set recover over OMAPI
      dhcp.failover.state:
        peer: h12
        state: recover
        key_name: omapi_key
        key_secret: "{{ lookup('ansible.builtin.file', key_file) }}"
"""

WAIT_NORMAL = """
- name: Wait for normal on the killed primary
  hosts: p
  gather_facts: false
  tasks:
    - name: Wait for normal
      dhcp.failover.state_info:
        peer: h12
        wait_for: [normal]
        timeout: 5
"""


def running(lab, host):
    """(pidof dhcpd succeeded, the unit's SubState, its InvocationID), read in the container."""
    pidof = lab.exec(host, 'pidof dhcpd', check=False).returncode == 0
    show = lab.exec(host, 'systemctl show -p SubState -p InvocationID isc-dhcp-server').stdout
    props = dict(line.split('=', 1) for line in show.split())
    return pidof, props['SubState'], props['InvocationID']


def current_run_moves(lab, host):
    """The "I move from A to B" lines of the unit's current run, from the raw journal."""
    text = lab.exec(host, 'journalctl --no-pager -o cat '
                          '_SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value isc-dhcp-server)').stdout
    return re.findall(r'failover peer h12: I move from (\S+) to (\S+)', text)


def wait_for_own_state(lab, host, state, timeout=150):
    deadline = time.time() + timeout
    while time.time() < deadline:
        moves = current_run_moves(lab, host)
        if moves and moves[-1][1] == state:
            return moves
        time.sleep(1)
    raise AssertionError('%s did not reach %s in its current run; moves %s' % (host, state, current_run_moves(lab, host)))


@pytest.fixture(scope='module')
def lab(lab_image, tmp_path_factory):
    pair = LabPair(lab_image, 'dhcpf-h12', '10.231.60').start()
    tmp = tmp_path_factory.mktemp('dead_dhcpd')
    variables = dict(PAIR_VARS, dhcp_failover_omapi_key_dir=str(tmp / 'keys'))
    inventory = tmp / 'inventory.yml'
    inventory.write_text(yaml.safe_dump(pair.inventory(pair='h12', pair_vars=variables, host_vars=HOST_VARS)))
    pair.tmp, pair.inventory_path = tmp, str(inventory)
    try:
        yield pair
    finally:
        pair.close()


def playbook(lab, text_or_name, *args):
    if '\n' in text_or_name:
        path = lab.tmp / 'play.yml'
        path.write_text(text_or_name)
        text_or_name = str(path)
    result = run_playbook(text_or_name, lab.inventory_path, *args)
    return result.returncode, result.stdout + result.stderr


def test_killed_primary_is_never_normal_and_site_brings_it_back(lab):
    rc, output = playbook(lab, 'dhcp.failover.site')
    assert rc == 0, output
    for host in ('p', 's'):
        wait_for_own_state(lab, host, 'normal')
        assert running(lab, host)[:2] == (True, 'running')
    dead_run = running(lab, 'p')[2]

    # the crash: the unit stays active, SubState exited, no dhcpd
    lab.exec('p', 'kill -9 $(pidof dhcpd)')
    time.sleep(1)
    assert lab.exec('p', 'systemctl is-active isc-dhcp-server', check=False).stdout.strip() == 'active'
    assert running(lab, 'p')[:2] == (False, 'exited')
    wait_for_own_state(lab, 's', 'communications-interrupted')

    # state_info wait_for normal fails for the dead primary, and says why
    rc, output = playbook(lab, WAIT_NORMAL)
    assert rc != 0, output
    assert 'dhcpd is not running' in output, output

    # drill and maintenance refuse to start on the pair (require_pair_normal reads both peers)
    for name in ('dhcp.failover.drill', 'dhcp.failover.maintenance'):
        rc, output = playbook(lab, name)
        assert rc != 0, output
        assert 'p dhcpd is not running (unit isc-dhcp-server.service is active/exited' in output, output
    assert running(lab, 'p')[:2] == (False, 'exited')
    assert current_run_moves(lab, 's')[-1] == ('normal', 'communications-interrupted')

    # status shows it as not running, and the pair as not normal
    report = lab.tmp / 'status.json'
    rc, output = playbook(lab, 'dhcp.failover.status', '-e', 'dhcp_failover_status_json=%s' % report)
    assert rc == 0, output
    status = json.loads(report.read_text())
    rows = dict((row['host'], row) for row in status['servers'])
    assert rows['p']['running'] is False and rows['s']['running'] is True
    assert 'dhcpd not running (last ' in output
    assert status['pairs'][0]['normal'] is False and status['all_normal'] is False

    # recover on the lone survivor is refused, and dhcpd did not move
    # the controller's copy the role keeps: PAIR-ID.KEYNAME (ID from the pair's hosts and addresses)
    key_file, = glob.glob(os.path.join(str(lab.tmp), 'keys', 'h12-*.omapi_key'))
    rc, output = playbook(lab, RECOVER_SURVIVOR, '-e', 'key_file=%s' % key_file)
    assert rc != 0 and 'refusing to move from communications-interrupted to recover' in output, output
    assert current_run_moves(lab, 's')[-1] == ('normal', 'communications-interrupted')

    # partner_down counts the killed dhcpd as down
    rc, output = playbook(lab, 'dhcp.failover.partner_down', '-e', 'dhcp_failover_survivor=s',
                          '-e', 'dhcp_failover_confirm_partner_down=p')
    assert rc == 0, output
    assert current_run_moves(lab, 's')[-1] == ('communications-interrupted', 'partner-down')
    assert running(lab, 'p')[:2] == (False, 'exited')

    # site restarts the dead dhcpd (a new run of the unit) and waits for normal
    rc, output = playbook(lab, 'dhcp.failover.site')
    assert rc == 0, output
    assert recap(output)['p']['changed'] >= 1, output
    pidof, substate, invocation = running(lab, 'p')
    assert (pidof, substate) == (True, 'running') and invocation != dead_run
    wait_for_own_state(lab, 'p', 'normal')
    wait_for_own_state(lab, 's', 'normal')

    # and a second run changes nothing
    rc, output = playbook(lab, 'dhcp.failover.site')
    assert rc == 0, output
    assert all(counts['changed'] == 0 for counts in recap(output).values()), output
