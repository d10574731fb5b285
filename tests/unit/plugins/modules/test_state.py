# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The module runs against OMAPI conversations recorded from the lab's dhcpd 4.4.3-P1
# (tests/unit/fixtures/failover_state/omapi/), replayed byte for byte.

from __future__ import annotations

import functools
import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.dhcp.failover.plugins.modules import state
from ansible_collections.dhcp.failover.tests.unit.plugins.omapi_replay import start_replay


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


def test_shutdown_from_normal(replay, capsys):
    recording = replay('module-shutdown')
    result = run(recording, capsys, state='shutdown', _ansible_diff=True)
    assert (result['changed'], result['state_before'], result['state_after']) == (True, 'normal', 'shutdown')
    assert result['diff'] == {'before': 'local-state: normal\n', 'after': 'local-state: shutdown\n'}
    assert recording['socket'].conversation == []
    assert recording['key_secret'] not in json.dumps(result)


def test_shutdown_again_is_idempotent(replay, capsys):
    recording = replay('module-shutdown-again')
    result = run(recording, capsys, state='shutdown')
    assert (result['changed'], result['state_before'], result['state_after']) == (False, 'shutdown', 'shutdown')
    assert result['partner_state_after'] == 'partner-down'
    assert recording['socket'].conversation == []


def test_check_mode_sends_no_update(replay, capsys):
    # the recording holds only a read: any update message would fail the replay
    recording = replay('get-normal')
    result = run(recording, capsys, state='shutdown', _ansible_check_mode=True)
    assert (result['changed'], result['state_before'], result['state_after']) == (True, 'normal', 'shutdown')


def test_recover_in_normal_is_no_change(replay, capsys):
    recording = replay('get-normal')
    result = run(recording, capsys, state='recover')
    assert (result['changed'], result['state_after']) == (False, 'normal')


def test_recover_and_wait(replay, capsys):
    recording = replay('module-recover-wait')
    result = run(recording, capsys, state='recover', wait=True, timeout=30)
    assert (result['changed'], result['state_before'], result['state_after'], result['reached']) == (True, 'shutdown', 'normal', True)
    assert result['partner_state_before'] == 'partner-down' and result['partner_state_after'] == 'normal'


def test_wrong_secret_fails(replay, capsys):
    recording = replay('wrong-secret')
    result = run(recording, capsys, state='shutdown')
    assert result['failed'] and 'rejected the signature' in result['msg']
