# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Replays OMAPI conversations recorded against the lab's dhcpd 4.4.3-P1
# (tests/unit/fixtures/failover_state/omapi/record.py): every byte the client sends must equal
# what it sent to the real server, and it gets the server's real answers back.

from __future__ import annotations

import binascii
import functools
import struct

import pytest

from ansible_collections.dhcp.failover.plugins.module_utils import _omapi
from ansible_collections.dhcp.failover.plugins.module_utils._failover_log import new_peer_state
from ansible_collections.dhcp.failover.tests.unit.plugins.omapi_replay import load_omapi_recording as load, start_replay


@pytest.fixture
def replay(monkeypatch):
    """``replay(name)`` replays recording NAME (tests/unit/plugins/omapi_replay.py)."""
    return functools.partial(start_replay, monkeypatch)


def _answer_ints(recording, *names):
    """The 4-byte integer values named NAMES in the server's recorded answers (raw bytes, last wins)."""
    values = {}
    for direction, data in recording['conversation']:
        if direction == 'send':
            continue
        raw = binascii.unhexlify(data)
        for name in names:
            at = raw.find(struct.pack('!H', len(name)) + name.encode())
            if at >= 0:
                start = at + 2 + len(name)
                assert raw[start:start + 4] == b'\x00\x00\x00\x04', (name, raw[start:start + 8])
                values[name] = struct.unpack('!I', raw[start + 4:start + 8])[0]
    return values


def client_for(recording):
    return _omapi.FailoverStateClient('10.231.21.2', 7911, recording['key_name'], recording['key_secret'],
                                      recording['key_algorithm'], timeout=5)


def test_get_in_normal(replay):
    recording = replay('get-normal')
    state = client_for(recording).get('dhcp-failover')
    assert state == {
        'name': 'dhcp-failover', 'role': 'primary', 'mclt': 30,
        # local-stos/partner-stos 1795535702: the time dhcpd also writes in the leases file
        'my_state': 'normal', 'my_state_since': '2026-11-24T15:55:02Z', 'my_port': 647,
        'partner_state': 'normal', 'partner_state_since': '2026-11-24T15:55:02Z', 'partner_port': 647,
        'skew': 0, 'cur_unacked_updates': 0, 'max_response_delay': 30,
    }
    # Not the 'result' record.py stored (that is what this code decoded): the server's own bytes.
    assert _answer_ints(recording, 'local-state', 'partner-state', 'mclt', 'local-stos') == {
        'local-state': 2, 'partner-state': 2, 'mclt': 30, 'local-stos': 1795535702}  # 2 = normal (dhcpd's failover.h)
    assert 'partner_address' not in state
    assert recording['socket'].conversation == []


def test_shutdown_then_recover(replay):
    recording = replay('shutdown-then-recover')
    client = client_for(recording)
    assert client.set_my_state('dhcp-failover', 'shutdown')['my_state'] == 'shutdown'
    # one second later the partner had moved to partner-down
    assert client.get('dhcp-failover')['partner_state'] == 'partner-down'
    assert client.set_my_state('dhcp-failover', 'recover')['my_state'] == 'recover'
    assert client.get('dhcp-failover')['my_state'] == 'normal'
    assert recording['socket'].conversation == []


def test_update_sends_local_state_as_big_endian_int(replay):
    recording = replay('module-shutdown')
    sent = [binascii.unhexlify(data) for direction, data in recording['conversation'] if direction == 'send']
    assert any(b'local-state\x00\x00\x00\x04\x00\x00\x00\x08' in data for data in sent)
    client = client_for(recording)
    assert client.get('dhcp-failover')['my_state'] == 'normal'
    assert client.set_my_state('dhcp-failover', 'shutdown')['my_state'] == 'shutdown'


def test_unknown_peer(replay):
    client = client_for(replay('unknown-peer'))
    with pytest.raises(_omapi.OmapiFailoverError, match='no-such-peer: OMAPI open failed: no object matches specification'):
        client.get('no-such-peer')


def test_wrong_secret(replay):
    client = client_for(replay('wrong-secret'))
    with pytest.raises(_omapi.OmapiFailoverError, match='rejected the signature'):
        client.get('dhcp-failover')


def test_wrong_algorithm(replay):
    with pytest.raises(_omapi.OmapiFailoverError, match=r'authentication with key omapi_key \(hmac-md5\) refused'):
        client_for(replay('wrong-algorithm'))


def test_peer_state_has_state_infos_keys_and_what_omapi_knows(replay):
    state = _omapi.peer_state(client_for(replay('module-shutdown-again')).get('dhcp-failover'))
    assert list(state) == list(new_peer_state())
    assert state == dict(new_peer_state(), my_state='shutdown', my_state_since='2026-11-24T15:58:23Z', my_state_source='omapi',
                         partner_state='partner-down', partner_state_since='2026-11-24T15:58:23Z',
                         partner_state_source='omapi', mclt=30, source='omapi', running=True)


def test_hmac_sha256_signature_matches_the_recording():
    recording = load('get-normal')
    auth = _omapi.HMACAuthenticator('omapi_key', recording['key_secret'], 'hmac-sha256')
    assert auth.authlen == 32
    assert auth.auth_object() == {b'name': b'omapi_key', b'algorithm': b'hmac-sha256.SIG-ALG.REG.INT.'}


def test_bad_secret_and_algorithm():
    with pytest.raises(_omapi.OmapiFailoverError, match='base64'):
        _omapi.HMACAuthenticator('k', 'not base64!', 'hmac-md5')
    with pytest.raises(_omapi.OmapiFailoverError, match='unsupported'):
        _omapi.HMACAuthenticator('k', 'eHh4', 'hmac-md4')


def test_wait_for_polls_until_target(replay):
    recording = replay('module-recover-wait')
    client = client_for(recording)
    assert client.get('dhcp-failover')['my_state'] == 'shutdown'
    assert client.set_my_state('dhcp-failover', 'recover')['my_state'] == 'recover'
    state, reached = client.wait_for('dhcp-failover', _omapi.WAIT_TARGETS['recover'], 30, sleep=lambda s: None)
    assert reached and state['my_state'] == 'normal'


def test_wait_for_times_out(replay):
    recording = replay('get-normal')
    client = client_for(recording)
    ticks = iter([0, 100])
    state, reached = client.wait_for('dhcp-failover', ('shutdown',), 10, clock=lambda: next(ticks), sleep=lambda s: None)
    assert (state['my_state'], reached) == ('normal', False)
