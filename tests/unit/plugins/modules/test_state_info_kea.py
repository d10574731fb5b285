# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcp.failover.state_info with backend=kea, on a captured host: systemctl, journalctl and /proc
answer from what Kea 2.2.0 / 2.6.3 servers showed in the lab, and the control socket is a real
AF_UNIX server replaying the captured answers (tests/unit/fixtures/kea/README.md)."""

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils import basic
from ansible_collections.dhcp.failover.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dhcp.failover.plugins.module_utils import _failover_log
from ansible_collections.dhcp.failover.plugins.modules import state_info
from ansible_collections.dhcp.failover.tests.unit.plugins.module_utils import test__failover_log as isc
from ansible_collections.dhcp.failover.tests.unit.plugins.module_utils import test__kea_ctrl as kea
from ansible_collections.dhcp.failover.tests.unit.plugins.module_utils.test__kea_ctrl import replay  # noqa: F401 pylint: disable=unused-import


@pytest.fixture
def kea_host(monkeypatch, tmp_path):
    """``use(version, journal, daemon)``: systemctl shows the captured kea-dhcp4-server unit
    (``running`` or ``killed``) with the InvocationID of the captured journal ``journal``, which
    journalctl prints; /proc holds the captured kea-dhcp4 when running."""
    def use(version, journal_name, daemon='running'):
        with open(os.path.join(kea.FIXTURES, journal_name)) as handle:
            text = handle.read()
        invocation = json.loads(text.splitlines()[0])['_SYSTEMD_INVOCATION_ID']
        calls = []
        proc = str(tmp_path / 'proc')
        if daemon == 'running':
            kea.kea_proc(proc, version)
        else:
            os.makedirs(proc)
        monkeypatch.setattr(_failover_log, 'PROC', proc, raising=False)

        def run_command(self, argv, **kwargs):
            calls.append(argv)
            if argv[0].endswith('systemctl'):
                show = kea.systemd_file('kea%s_%s.show' % (version, daemon))
                lines = ['InvocationID=' + invocation if line.startswith('InvocationID=') else line for line in show.splitlines()]
                return 0, '\n'.join(lines) + '\n', ''
            return 0, isc.journalctl(text, argv), ''

        monkeypatch.setattr(_failover_log, 'HAS_SYSTEMD_JOURNAL', False)
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: '/usr/bin/' + name)
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
        monkeypatch.setattr(state_info.time, 'sleep', lambda s: None)
        return calls
    return use


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            state_info.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def answers(version, status, heartbeat, config='lb_server1_config-get'):
    return {'status-get': status if isinstance(status, list) else [status], 'ha-heartbeat': heartbeat if isinstance(heartbeat, list) else [heartbeat],
            'config-get': ['kea%s_%s' % (version, config)], 'version-get': ['kea%s_version-get' % version]}


def test_kea22_primary_in_hot_standby(kea_host, replay, capsys):  # noqa: F811
    calls = kea_host('22', 'kea22_hs_primary_run2_journal.jsonl')
    server = replay(answers('22', 'kea22_hs_primary_normal_status-get', 'kea22_hs_primary_normal_ha-heartbeat'))
    rc, result = run({'backend': 'kea', 'control_socket': server.path, '_ansible_check_mode': True}, capsys)
    assert rc == 0 and result['changed'] is False
    # Kea 2.2's status-get names no server: the name comes from config-get's this-server-name
    assert list(result['peers']) == ['server1']
    peer = result['peers']['server1']
    assert (peer['my_state'], peer['partner_state'], peer['ha_state'], peer['ha_mode'], peer['ha_role']) == (
        'normal', 'normal', 'hot-standby', 'hot-standby', 'primary')
    assert (peer['running'], peer['unsent_update_count'], peer['scopes'], peer['backend']) == (True, 0, ['server1'], 'kea')
    transitions = peer['transitions']
    assert [t['ha_to'] for t in transitions] == ['syncing', 'ready', 'hot-standby', 'partner-down', 'hot-standby']
    assert peer['my_state_since'] == transitions[-1]['time']
    assert (result['running'], result['version'], result['backend'], result['socket_problem']) == (True, '2.2.0', 'kea', None)
    assert result['service_state'] == 'active/running' and result['dhcpd_pids'] == [720]
    assert server.commands() == ['status-get', 'config-get', 'ha-heartbeat', 'version-get']
    # the unit defaults to Kea's
    assert calls[0][-1] == 'kea-dhcp4-server'


def test_kea26_names_the_relationship_itself_and_peer_renames(kea_host, replay, capsys):  # noqa: F811
    kea_host('26', 'kea26_hs_primary_startup_journal.jsonl')
    server = replay(answers('26', 'kea26_hs_primary_normal_status-get', 'kea26_hs_primary_normal_ha-heartbeat'))
    rc, result = run({'backend': 'kea', 'control_socket': server.path, 'peer': 'k1pair'}, capsys)
    assert rc == 0 and list(result['peers']) == ['k1pair']
    peer = result['peers']['k1pair']
    assert (peer['server_name'], peer['partner_name'], peer['my_state'], peer['both_normal_seen']) == ('server1', 'server2', 'normal', True)
    assert 'config-get' not in server.commands()
    assert result['version'] == '2.6.3'


def test_wait_for_normal_through_the_startup_states(kea_host, replay, capsys):  # noqa: F811
    kea_host('22', 'kea22_hs_primary_startup_journal.jsonl')
    server = replay(answers('22', ['kea22_hs_standby_restart_waiting_status-get', 'kea22_hs_standby_restart_ready_status-get',
                                   'kea22_hs_standby_restart_hot-standby_status-get'],
                            ['kea22_hs_standby_restart_waiting_ha-heartbeat', 'kea22_hs_standby_restart_ready_ha-heartbeat',
                             'kea22_hs_standby_restart_hot-standby_ha-heartbeat']))
    rc, result = run({'backend': 'kea', 'control_socket': server.path, 'peer': 'k1pair', 'wait_for': ['normal']}, capsys)
    assert rc == 0 and result['peers']['k1pair']['my_state'] == 'normal'
    assert server.commands().count('status-get') == 3


def test_wait_for_accepts_kea_names(kea_host, replay, capsys):  # noqa: F811
    kea_host('22', 'kea22_hs_primary_startup_journal.jsonl')
    server = replay(answers('22', 'kea22_hs_primary_partner-in-maintenance_status-get', 'kea22_hs_primary_partner-in-maintenance_ha-heartbeat'))
    rc, result = run({'backend': 'kea', 'control_socket': server.path, 'wait_for': ['partner-in-maintenance'], 'timeout': 1}, capsys)
    assert rc == 0 and result['peers']['server1']['my_state'] == 'partner-in-maintenance'


def test_wait_times_out_with_the_last_state(kea_host, replay, capsys):  # noqa: F811
    kea_host('22', 'kea22_hs_primary_startup_journal.jsonl')
    server = replay(answers('22', 'kea22_hs_standby_restart_waiting_status-get', 'kea22_hs_standby_restart_waiting_ha-heartbeat'))
    rc, result = run({'backend': 'kea', 'control_socket': server.path, 'peer': 'k1pair', 'wait_for': ['normal'], 'timeout': 0}, capsys)
    assert rc == 1 and result['failed'] is True
    assert result['msg'] == 'timeout after 0s waiting for normal; last seen k1pair: my state waiting (waiting), partner None'


def test_killed_kea_is_not_running(kea_host, capsys, tmp_path):
    kea_host('26', 'kea26_hs_primary_startup_journal.jsonl', daemon='killed')
    rc, result = run({'backend': 'kea', 'control_socket': str(tmp_path / 'kea4-ctrl-socket'), 'wait_for': ['normal'], 'timeout': 0}, capsys)
    assert rc == 1
    assert result['msg'].startswith('timeout after 0s waiting for normal: kea-dhcp4 is not running (unit kea-dhcp4-server.service is failed/failed)')
    assert result['running'] is False and result['peers'] == {} and 'does not exist' in result['socket_problem']


def test_isc_states_refused_for_kea_and_kea_states_for_isc(capsys):
    rc, result = run({'backend': 'kea', 'wait_for': ['recover-wait']}, capsys)
    assert rc == 1 and result['msg'].startswith('wait_for: recover-wait is not a state of Kea HA (backend=kea)')
    rc, result = run({'wait_for': ['partner-in-maintenance', 'syncing']}, capsys)
    assert rc == 1 and result['msg'].startswith('wait_for: partner-in-maintenance, syncing are not a state of ISC dhcpd failover (backend=isc_dhcpd)')
    rc, result = run({'backend': 'kea', 'source': 'leases'}, capsys)
    assert rc == 1 and 'source=leases is for backend=isc_dhcpd' in result['msg']
