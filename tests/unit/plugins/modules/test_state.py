# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The module runs against OMAPI conversations recorded from the lab's dhcpd 4.4.3-P1
# (tests/unit/fixtures/failover_state/omapi/), replayed byte for byte.

from __future__ import annotations

import functools
import json
import os

import pytest

from ansible_collections.dhcp.failover.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dhcp.failover.plugins.modules import state, state_info
from ansible_collections.dhcp.failover.tests.unit.plugins.omapi_replay import load_omapi_recording, start_replay

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'failover_state')


@pytest.fixture
def replay(monkeypatch):
    """``replay(name)`` replays recording NAME (tests/unit/plugins/omapi_replay.py)."""
    return functools.partial(start_replay, monkeypatch)


def run(recording, capsys, **args):
    args.update(peer='dhcp-failover', host='10.231.21.2', key_name=recording['key_name'],
                key_secret=recording['key_secret'], key_algorithm=recording['key_algorithm'])
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            state.main()
    return json.loads(capsys.readouterr().out)


def state_info_from_leases(snapshot, capsys):
    """dhcp.failover.state_info's peer dict, read from a captured leases file (no journald)."""
    lease_file = os.path.join(FIXTURES, '%s.leases' % snapshot)
    with patch_module_args({'lease_file': lease_file, 'source': 'leases'}):
        with pytest.raises(SystemExit):
            state_info.main()
    return json.loads(capsys.readouterr().out)['peers']['dhcp-failover']


def test_shutdown_from_normal(replay, capsys):
    recording = replay('module-shutdown')
    result = run(recording, capsys, state='shutdown', _ansible_diff=True)
    assert result['changed'] is True
    assert (result['before']['my_state'], result['before']['my_state_since']) == ('normal', '2026-11-24T15:56:54Z')
    # read back right after the change: the partner has not moved yet
    assert (result['after']['my_state'], result['after']['my_state_since'], result['after']['partner_state']) == \
        ('shutdown', '2026-11-24T15:58:23Z', 'normal')
    assert result['role'] == 'primary' and result['reached'] is None
    assert result['diff'] == {'before': 'my_state: normal\n', 'after': 'my_state: shutdown\n'}
    assert recording['socket'].conversation == []
    assert recording['key_secret'] not in json.dumps(result)


def test_before_and_after_are_state_infos_peer_dict(replay, capsys):
    # the same situation (primary in shutdown, secondary in partner-down) read by both modules
    result = run(replay('module-shutdown-again'), capsys, state='shutdown')
    peer = state_info_from_leases('06-primary-shutdown-secondary-partner-down.p', capsys)
    assert list(result['before']) == list(result['after']) == list(peer)
    for state in (result['before'], result['after'], peer):
        assert (state['my_state'], state['partner_state']) == ('shutdown', 'partner-down')
    # dhcpd answered over OMAPI, so it runs; state_info here reads a captured leases file alone
    assert result['after'] == dict(peer, my_state_since='2026-11-24T15:58:23Z', partner_state_since='2026-11-24T15:58:23Z',
                                   my_state_source='omapi', partner_state_source='omapi', source='omapi',
                                   mclt=30, leases_file=None, running=True)
    # the secondary's leases file records the MCLT, as OMAPI gives it
    assert state_info_from_leases('06-primary-shutdown-secondary-partner-down.s', capsys)['mclt'] == result['after']['mclt']


def test_shutdown_again_is_idempotent(replay, capsys):
    recording = replay('module-shutdown-again')
    result = run(recording, capsys, state='shutdown')
    assert result['changed'] is False
    assert result['before'] == result['after']
    assert (result['after']['my_state'], result['after']['partner_state']) == ('shutdown', 'partner-down')
    assert recording['socket'].conversation == []


def test_check_mode_sends_no_update(replay, capsys):
    # the recording holds only a read: any update message would fail the replay
    recording = replay('get-normal')
    result = run(recording, capsys, state='shutdown', _ansible_check_mode=True)
    assert (result['changed'], result['before']['my_state'], result['after']['my_state']) == (True, 'normal', 'shutdown')
    assert result['after'] == dict(result['before'], my_state='shutdown', my_state_since=None)


def test_recover_in_normal_is_no_change(replay, capsys):
    recording = replay('get-normal')
    result = run(recording, capsys, state='recover')
    assert (result['changed'], result['after']['my_state']) == (False, 'normal')


def test_recover_and_wait(replay, capsys):
    recording = replay('module-recover-wait')
    result = run(recording, capsys, state='recover', wait=True, timeout=30)
    assert (result['changed'], result['reached']) == (True, True)
    assert (result['before']['my_state'], result['before']['partner_state']) == ('shutdown', 'partner-down')
    assert (result['after']['my_state'], result['after']['partner_state']) == ('normal', 'normal')
    assert result['after']['my_state_since'] == '2026-11-24T15:58:26Z'


def test_wrong_secret_fails(replay, capsys):
    recording = replay('wrong-secret')
    result = run(recording, capsys, state='shutdown')
    assert result['failed'] and 'rejected the signature' in result['msg']


# Guard rails, on conversations recorded with a lone secondary whose primary was killed with
# kill -9 (tests/unit/fixtures/failover_state/omapi/record_lone_survivor.py, README.md there).

def run_survivor(recording, capsys, **args):
    args.update(peer='h12', host='10.231.60.3', key_name=recording['key_name'],
                key_secret=recording['key_secret'], key_algorithm=recording['key_algorithm'])
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            state.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize('recording_name, my_state', [
    ('get-communications-interrupted', 'communications-interrupted'),
    ('recover-from-partner-down', 'partner-down'),
])
def test_recover_on_a_lone_survivor_is_refused(replay, capsys, recording_name, my_state):
    # in the lab, recover made this server log "not responding (recovering)" to every client
    recording = replay(recording_name)
    result = run_survivor(recording, capsys, state='recover')
    assert result['failed'] and result['changed'] is False
    assert 'refusing to move from %s to recover' % my_state in result['msg']
    assert 'answers no new client' in result['msg'] and 'force=true' in result['msg']
    assert result['before']['my_state'] == result['after']['my_state'] == my_state
    assert result['before']['running'] is True
    # only the read was sent: a get-only recording is used up, the other stops before its update
    left = recording['socket'].conversation
    assert not left or left[0][0] == 'send'
    read_only = len(load_omapi_recording('get-communications-interrupted')['conversation'])
    assert len(left) == len(recording['conversation']) - read_only


def test_recover_forced_does_what_dhcpd_did(replay, capsys):
    recording = replay('recover-from-communications-interrupted')
    result = run_survivor(recording, capsys, state='recover', force=True)
    assert result['changed'] is True and 'failed' not in result
    assert (result['before']['my_state'], result['after']['my_state']) == ('communications-interrupted', 'recover')
    assert result['forced'].startswith('refusing to move from communications-interrupted to recover')


def test_partner_down_while_in_touch_is_refused(replay, capsys):
    # own state normal: the partner is connected and serving; partner-down would split the brain
    recording = replay('get-normal')
    result = run(recording, capsys, state='partner-down')
    assert result['failed'] and result['changed'] is False
    assert 'refusing to move from normal to partner-down' in result['msg'] and 'split brain' in result['msg']
    assert recording['socket'].conversation == []


def test_partner_down_on_a_lone_survivor(replay, capsys):
    recording = replay('partner-down-from-communications-interrupted')
    result = run_survivor(recording, capsys, state='partner-down')
    assert result['changed'] is True and result['forced'] is None
    assert (result['before']['my_state'], result['after']['my_state']) == ('communications-interrupted', 'partner-down')


def test_shutdown_of_a_lone_survivor_is_refused(replay, capsys):
    recording = replay('get-communications-interrupted')
    result = run_survivor(recording, capsys, state='shutdown')
    assert result['failed'] and 'refusing to move from communications-interrupted to shutdown' in result['msg']


def test_check_mode_refuses_too(replay, capsys):
    result = run(replay('get-normal'), capsys, state='partner-down', _ansible_check_mode=True)
    assert result['failed'] and 'refusing' in result['msg']


def test_timeout_zero_is_refused(replay, capsys):
    # before, 0 meant a socket without timeout; now nothing is sent at all
    recording = replay('get-normal')
    result = run(recording, capsys, state='shutdown', timeout=0)
    assert result['failed'] and 'timeout must be at least 1 second' in result['msg']
    assert len(recording['socket'].conversation) == len(recording['conversation'])
