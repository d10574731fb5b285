# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcp.failover.kea_ha against a real AF_UNIX server replaying what Kea 2.2.0 / 2.6.3 answered in
the lab to the same command sequence (tests/unit/fixtures/kea/README.md)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.dhcp.failover.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dhcp.failover.plugins.modules import kea_ha
from ansible_collections.dhcp.failover.tests.unit.plugins.modules import test_state_info_kea as host
from ansible_collections.dhcp.failover.tests.unit.plugins.modules.test_state_info_kea import kea_host  # noqa: F401 pylint: disable=unused-import
from ansible_collections.dhcp.failover.tests.unit.plugins.module_utils.test__kea_ctrl import replay  # noqa: F401 pylint: disable=unused-import


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(kea_ha.time, 'sleep', lambda s: None)


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            kea_ha.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize('version', ['22', '26'])
def test_maintenance_start_moves_to_partner_in_maintenance(kea_host, replay, no_sleep, capsys, version):  # noqa: F811
    kea_host(version, 'kea%s_hs_primary_startup_journal.jsonl' % version)
    answers = host.answers(version, ['kea%s_hs_primary_normal_status-get' % version, 'kea%s_hs_primary_partner-in-maintenance_status-get' % version],
                           ['kea%s_hs_primary_normal_ha-heartbeat' % version, 'kea%s_hs_primary_partner-in-maintenance_ha-heartbeat' % version])
    answers['ha-maintenance-start'] = ['kea%s_hs_primary_ha-maintenance-start' % version]
    server = replay(answers)
    rc, result = run({'command': 'maintenance_start', 'control_socket': server.path, 'peer': 'k1pair',
                      'wait_for': ['partner-in-maintenance'], 'timeout': 5, '_ansible_diff': True}, capsys)
    assert rc == 0 and result['changed'] is True
    assert (result['before']['my_state'], result['after']['my_state']) == ('normal', 'partner-in-maintenance')
    assert result['kea_response'] == {'result': 0, 'text': 'Server is now in the partner-in-maintenance state and its partner is in-maintenance state.'
                                                           ' The partner can be now safely shut down.'}
    assert result['diff'] == {'before': {'my_state': 'normal'}, 'after': {'my_state': 'partner-in-maintenance'}}
    assert server.commands().count('ha-maintenance-start') == 1


def test_check_mode_sends_nothing_but_the_read(kea_host, replay, capsys):  # noqa: F811
    kea_host('22', 'kea22_hs_primary_startup_journal.jsonl')
    answers = host.answers('22', 'kea22_hs_primary_normal_status-get', 'kea22_hs_primary_normal_ha-heartbeat')
    answers['ha-maintenance-start'] = ['kea22_hs_primary_ha-maintenance-start']
    server = replay(answers)
    rc, result = run({'command': 'maintenance_start', 'control_socket': server.path, '_ansible_check_mode': True}, capsys)
    assert rc == 0 and result['changed'] is True and result['kea_command'] == 'ha-maintenance-start' and result['kea_response'] is None
    assert 'ha-maintenance-start' not in server.commands()
    assert set(server.commands()) == {'status-get', 'config-get', 'ha-heartbeat', 'version-get'}


@pytest.mark.parametrize('version', ['22', '26'])
def test_maintenance_start_with_the_partner_unreachable_is_partner_down(kea_host, replay, no_sleep, capsys, version):  # noqa: F811
    # the partner was killed a moment before: Kea goes straight to partner-down
    kea_host(version, 'kea%s_hs_primary_run2_journal.jsonl' % version)
    answers = host.answers(version, ['kea%s_hs_primary_normal_status-get' % version,
                                     'kea%s_hs_primary_partner-down_after-maintenance-start-unreachable_status-get' % version],
                           ['kea%s_hs_primary_normal_ha-heartbeat' % version, 'kea%s_hs_primary_partner-down_ha-heartbeat' % version])
    answers['ha-maintenance-start'] = ['kea%s_hs_primary_ha-maintenance-start_partner-unreachable' % version]
    server = replay(answers)
    rc, result = run({'command': 'maintenance_start', 'control_socket': server.path, 'wait_for': ['partner-down'], 'timeout': 5}, capsys)
    assert rc == 0 and result['changed'] is True and result['after']['my_state'] == 'partner-down'
    assert 'partner appears to be offline' in result['kea_response']['text']


def test_already_in_partner_in_maintenance_sends_nothing(kea_host, replay, capsys):  # noqa: F811
    kea_host('26', 'kea26_hs_primary_startup_journal.jsonl')
    server = replay(host.answers('26', 'kea26_hs_primary_partner-in-maintenance_status-get', 'kea26_hs_primary_partner-in-maintenance_ha-heartbeat'))
    rc, result = run({'command': 'maintenance_start', 'control_socket': server.path}, capsys)
    assert rc == 0 and result['changed'] is False and result['kea_command'] is None
    assert 'ha-maintenance-start' not in server.commands()


@pytest.mark.parametrize('command', ['maintenance_start', 'maintenance_cancel'])
def test_in_maintenance_side_is_refused(kea_host, replay, capsys, command):  # noqa: F811
    kea_host('22', 'kea22_hs_primary_startup_journal.jsonl')
    server = replay(host.answers('22', 'kea22_hs_standby_in-maintenance_status-get', 'kea22_hs_standby_in-maintenance_ha-heartbeat'))
    rc, result = run({'command': command, 'control_socket': server.path, 'peer': 'k1pair'}, capsys)
    assert rc == 1 and result['msg'].startswith('%s refused on k1pair (%s, state in-maintenance): this server is in-maintenance' % (command, server.path))
    assert not [c for c in server.commands() if c.startswith('ha-maintenance')]


def test_maintenance_cancel_back_to_normal(kea_host, replay, no_sleep, capsys):  # noqa: F811
    kea_host('22', 'kea22_hs_primary_startup_journal.jsonl')
    answers = host.answers('22', ['kea22_hs_primary_partner-in-maintenance_status-get', 'kea22_hs_primary_normal_status-get'],
                           ['kea22_hs_primary_partner-in-maintenance_ha-heartbeat', 'kea22_hs_primary_after-cancel_ha-heartbeat'])
    answers['ha-maintenance-cancel'] = ['kea22_hs_primary_ha-maintenance-cancel']
    server = replay(answers)
    rc, result = run({'command': 'maintenance_cancel', 'control_socket': server.path, 'wait_for': ['normal'], 'timeout': 5}, capsys)
    assert rc == 0 and result['changed'] is True and result['kea_response']['text'] == 'Server maintenance successfully canceled.'


def test_kea_error_fails_with_its_text(kea_host, replay, capsys):  # noqa: F811
    # ha-sync while the partner is down: Kea answers result 1 "Connection refused"
    kea_host('22', 'kea22_hs_primary_startup_journal.jsonl')
    answers = host.answers('22', 'kea22_hs_primary_partner-down_after-maintenance_status-get', 'kea22_hs_primary_partner-down_ha-heartbeat')
    answers['ha-sync'] = ['kea22_hs_primary_ha-sync_partner-down']
    server = replay(answers)
    rc, result = run({'command': 'sync', 'control_socket': server.path, 'max_period': 10}, capsys)
    assert rc == 1 and result['msg'] == 'ha-sync on server1 failed (result 1): Connection refused'
    assert server.received[-1] == {'command': 'ha-sync', 'arguments': {'server-name': 'server2', 'max-period': 10}}


def test_continue_when_not_paused_changes_nothing(kea_host, replay, capsys):  # noqa: F811
    kea_host('26', 'kea26_hs_primary_startup_journal.jsonl')
    answers = host.answers('26', 'kea26_hs_primary_normal_status-get', 'kea26_hs_primary_normal_ha-heartbeat')
    answers['ha-continue'] = ['kea26_hs_primary_ha-continue_not-paused']
    server = replay(answers)
    rc, result = run({'command': 'continue', 'control_socket': server.path}, capsys)
    assert rc == 0 and result['changed'] is False and result['kea_response']['text'] == 'HA state machine is not paused.'


def test_heartbeat_only_reads(kea_host, replay, capsys):  # noqa: F811
    kea_host('22', 'kea22_hs_primary_startup_journal.jsonl')
    server = replay(host.answers('22', 'kea22_hs_standby_normal_status-get', 'kea22_hs_standby_normal_ha-heartbeat'))
    rc, result = run({'command': 'heartbeat', 'control_socket': server.path}, capsys)
    assert rc == 0 and result['changed'] is False
    assert (result['heartbeat']['ha_state'], result['heartbeat']['unsent_update_count']) == ('hot-standby', 0)


def test_dead_server_fails_before_sending(kea_host, capsys, tmp_path):  # noqa: F811
    kea_host('22', 'kea22_hs_primary_startup_journal.jsonl', daemon='killed')
    rc, result = run({'command': 'maintenance_start', 'control_socket': str(tmp_path / 'sock')}, capsys)
    assert rc == 1 and 'does not exist' in result['msg']
    assert 'kea-dhcp4 is not running: unit kea-dhcp4-server.service is failed/failed' in result['msg']
