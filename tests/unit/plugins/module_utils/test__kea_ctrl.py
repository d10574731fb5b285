# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kea HA state from real control-socket answers and journal lines of Kea 2.2.0 and 2.6.3.

Every fixture was captured in the lab (tests/unit/fixtures/kea/README.md says how, from which
server and when); the transport tests talk to a real AF_UNIX server that replays those answers.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time

import pytest

from ansible_collections.dhcp.failover.plugins.module_utils import _failover_log
from ansible_collections.dhcp.failover.plugins.module_utils import _kea_ctrl

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'kea')


def raw(name):
    with open(os.path.join(FIXTURES, name), 'rb') as handle:
        return handle.read().strip()


def answer(name):
    return json.loads(raw(name + '.json').decode('utf-8'))


def journal(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return [json.loads(line) for line in handle if line.strip()]


class ReplayServer(object):
    """A unix-socket server that answers each command with captured bytes, the way kea-dhcp4 does
    (one JSON answer, then close). ``answers``: command -> list of fixture names (or bytes); each
    call takes the next one, the last one repeats. ``chunk``: send the answer in pieces of that many
    bytes with a pause between, as a large answer arrives. ``silent``: commands never answered."""

    def __init__(self, answers, chunk=None, silent=()):
        self.dir = tempfile.mkdtemp(prefix='kea', dir='/tmp')   # AF_UNIX paths are limited to 108 bytes
        self.path = os.path.join(self.dir, 'kea4-ctrl-socket')
        self.answers = dict((k, list(v)) for k, v in answers.items())
        self.chunk = chunk
        self.silent = silent
        self.received = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(8)
        self.stopping = False
        self.thread = threading.Thread(target=self.serve)
        self.thread.daemon = True
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                return
            with conn:
                buf = b''
                request = None
                while request is None:
                    data = conn.recv(65536)
                    if not data:
                        break
                    buf += data
                    try:
                        request = json.loads(buf.decode('utf-8'))
                    except ValueError:
                        pass
                if request is None:
                    continue
                self.received.append(request)
                command = request.get('command')
                if command in self.silent:
                    time.sleep(1.5)
                    continue
                queue = self.answers.get(command)
                if not queue:
                    reply = ('{ "result": 2, "text": "\'%s\' command not supported." }' % command).encode()
                else:
                    item = queue.pop(0) if len(queue) > 1 else queue[0]
                    reply = item if isinstance(item, bytes) else raw(item + '.json')
                if self.chunk:
                    for start in range(0, len(reply), self.chunk):
                        conn.sendall(reply[start:start + self.chunk])
                        time.sleep(0.01)
                else:
                    conn.sendall(reply)

    def commands(self):
        return [request['command'] for request in self.received]

    def close(self):
        self.stopping = True
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def replay():
    servers = []

    def start(answers, **kwargs):
        server = ReplayServer(answers, **kwargs)
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.close()


# ---- status-get / ha-heartbeat -> the collection's state dict

STATUS_CASES = [
    # fixture, my_state, ha_state, partner_state, partner_ha_state, mode, role, server_name, interrupted
    ('kea22_hs_primary_normal_status-get', 'normal', 'hot-standby', 'normal', 'hot-standby', 'hot-standby', 'primary', None, False),
    ('kea22_hs_standby_normal_status-get', 'normal', 'hot-standby', 'normal', 'hot-standby', 'hot-standby', 'standby', None, False),
    ('kea26_hs_primary_normal_status-get', 'normal', 'hot-standby', 'normal', 'hot-standby', 'hot-standby', 'primary', 'server1', False),
    ('kea22_lb_server1_normal_status-get', 'normal', 'load-balancing', 'normal', 'load-balancing', 'load-balancing', 'primary', None, False),
    ('kea26_lb_server2_normal_status-get', 'normal', 'load-balancing', 'normal', 'load-balancing', 'load-balancing', 'secondary', 'server2', False),
    ('kea22_hs_primary_partner-in-maintenance_status-get', 'partner-in-maintenance', 'partner-in-maintenance', None, None,
     'hot-standby', 'primary', None, False),
    ('kea22_hs_standby_in-maintenance_status-get', 'in-maintenance', 'in-maintenance', 'partner-in-maintenance', 'partner-in-maintenance',
     'hot-standby', 'standby', None, False),
    ('kea26_hs_standby_in-maintenance_status-get', 'in-maintenance', 'in-maintenance', 'partner-in-maintenance', 'partner-in-maintenance',
     'hot-standby', 'standby', 'server2', False),
    ('kea22_hs_standby_primary-killed_partner-down-interrupted_status-get', 'partner-down', 'partner-down', 'unavailable', 'unavailable',
     'hot-standby', 'standby', None, True),
    ('kea26_hs_standby_primary-killed_partner-down-interrupted_status-get', 'partner-down', 'partner-down', 'unavailable', 'unavailable',
     'hot-standby', 'standby', 'server2', True),
    ('kea22_hs_standby_primary-killed_hot-standby-interrupted_status-get', 'normal', 'hot-standby', 'unavailable', 'unavailable',
     'hot-standby', 'standby', None, True),
    ('kea22_lb_server2_server1-killed_communication-recovery_status-get', 'communications-interrupted', 'communication-recovery',
     'unavailable', 'unavailable', 'load-balancing', 'secondary', None, False),
    ('kea26_lb_server2_server1-killed_communication-recovery-interrupted_status-get', 'communications-interrupted', 'communication-recovery',
     'unavailable', 'unavailable', 'load-balancing', 'secondary', 'server2', True),
    ('kea26_lb_server2_server1-killed_partner-down-interrupted_status-get', 'partner-down', 'partner-down', 'unavailable', 'unavailable',
     'load-balancing', 'secondary', 'server2', True),
    ('kea22_hs_standby_restart_waiting_status-get', 'waiting', 'waiting', None, None, 'hot-standby', 'standby', None, False),
    ('kea26_hs_standby_restart_waiting_status-get', 'waiting', 'waiting', None, None, 'hot-standby', 'standby', 'server2', False),
    ('kea22_lb_server2_after-ha-reset_syncing_status-get', 'syncing', 'syncing', 'normal', 'load-balancing', 'load-balancing', 'secondary', None,
     False),
    ('kea26_lb_server2_after-ha-reset_syncing_status-get', 'syncing', 'syncing', 'normal', 'load-balancing', 'load-balancing', 'secondary',
     'server2', False),
    ('kea22_hs_standby_restart_ready_status-get', 'ready', 'ready', 'partner-down', 'partner-down', 'hot-standby', 'standby', None, False),
    ('kea26_hs_primary_partner-down_after-maintenance-start-unreachable_status-get', 'partner-down', 'partner-down', None, None,
     'hot-standby', 'primary', 'server1', None),
]


@pytest.mark.parametrize('name, my_state, ha_state, partner_state, partner_ha_state, mode, role, server_name, interrupted', STATUS_CASES)
def test_status_get_states(name, my_state, ha_state, partner_state, partner_ha_state, mode, role, server_name, interrupted):
    states = _kea_ctrl.parse_status_get(answer(name))
    assert len(states) == 1
    state = states[0]
    assert (state['my_state'], state['ha_state'], state['ha_mode'], state['ha_role'], state['server_name']) == (my_state, ha_state, mode, role, server_name)
    if partner_state is not None:
        assert (state['partner_state'], state['partner_ha_state']) == (partner_state, partner_ha_state)
    if interrupted is not None:
        assert state['communication_interrupted'] is interrupted
    assert state['backend'] == 'kea' and state['source'] == 'control_socket'


def test_state_dict_has_every_key_of_the_isc_one():
    # the collection's one vocabulary: a Kea state carries every key an ISC peers entry has
    state = _kea_ctrl.parse_status_get(answer('kea22_hs_primary_normal_status-get'))[0]
    assert set(_failover_log.new_peer_state()) <= set(state)
    assert list(state) == list(_kea_ctrl.new_state())


def test_status_get_remote_details():
    state = _kea_ctrl.parse_status_get(answer('kea26_lb_server2_server1-killed_partner-down-interrupted_status-get'))[0]
    # server2 took over server1's scope; Kea 2.6 names both servers
    assert state['scopes'] == ['server1', 'server2'] and state['partner_scopes'] == ['server1']
    assert (state['partner_name'], state['partner_role'], state['age'], state['in_touch']) == ('server1', 'primary', 6, True)
    assert (state['unacked_clients'], state['unacked_clients_left']) == (0, 1)


def test_waiting_partner_state_is_unknown_not_empty():
    # a server that has not reached its partner yet reports last-state "" and in-touch false
    state = _kea_ctrl.parse_status_get(answer('kea26_hs_standby_restart_waiting_status-get'))[0]
    assert state['partner_state'] is None and state['partner_ha_state'] is None and state['in_touch'] is False


@pytest.mark.parametrize('name, ha_state, my_state, scopes', [
    ('kea22_hs_primary_normal_ha-heartbeat', 'hot-standby', 'normal', ['server1']),
    ('kea26_hs_standby_normal_ha-heartbeat', 'hot-standby', 'normal', []),
    ('kea22_hs_standby_after-ha-reset_ha-heartbeat', 'syncing', 'syncing', []),
    ('kea26_hs_primary_partner-in-maintenance_ha-heartbeat', 'partner-in-maintenance', 'partner-in-maintenance', ['server1']),
    ('kea22_lb_server2_server1-killed_communication-recovery_ha-heartbeat', 'communication-recovery', 'communications-interrupted', ['server2']),
    ('kea26_hs_primary_partner-down_ha-heartbeat', 'partner-down', 'partner-down', ['server1']),
    ('kea22_hs_standby_restart_ready_ha-heartbeat', 'ready', 'ready', []),
])
def test_heartbeat(name, ha_state, my_state, scopes):
    beat = _kea_ctrl.parse_heartbeat(answer(name))
    assert (beat['ha_state'], beat['my_state'], beat['scopes'], beat['unsent_update_count']) == (ha_state, my_state, scopes, 0)
    assert beat['date_time'].endswith(' GMT')


def test_merge_heartbeat_adds_unsent_updates():
    state = _kea_ctrl.parse_status_get(answer('kea22_hs_primary_normal_status-get'))[0]
    assert state['unsent_update_count'] is None
    _kea_ctrl.merge_heartbeat(state, _kea_ctrl.parse_heartbeat(answer('kea22_hs_primary_normal_ha-heartbeat')))
    assert state['unsent_update_count'] == 0 and state['date_time'] == 'Wed, 02 Dec 2026 07:10:13 GMT'


@pytest.mark.parametrize('name, text', [
    ('kea22_error_unknown_command', "'ha-bogus' command not supported."),
    ('kea26_error_not_json', 'invalid first character n'),
])
def test_error_answers_raise(name, text):
    with pytest.raises(_kea_ctrl.KeaCtrlError) as exc:
        _kea_ctrl.parse_status_get(answer(name))
    assert text in str(exc.value) and exc.value.reason == 'command'


def test_collection_vocabulary():
    assert _kea_ctrl.collection_state('HOT-STANDBY') == 'normal'
    assert _kea_ctrl.collection_state('load-balancing') == 'normal'
    assert _kea_ctrl.collection_state('communication-recovery') == 'communications-interrupted'
    assert _kea_ctrl.collection_state('terminated') == 'terminated'
    assert _kea_ctrl.state_matches({'my_state': 'normal', 'ha_state': 'hot-standby'}, ['hot-standby'])
    assert not _kea_ctrl.state_matches({'my_state': 'ready', 'ha_state': 'ready'}, ['normal'])


def test_config_get_names_and_version():
    assert _kea_ctrl.this_server_name(answer('kea22_lb_server1_config-get')) == ('server1', ['server2'])
    assert _kea_ctrl.this_server_name(answer('kea26_lb_server1_config-get')) == ('server1', ['server2'])
    assert _kea_ctrl.version_of(answer('kea22_version-get')) == '2.2.0'
    assert _kea_ctrl.version_of(answer('kea26_version-get')) == '2.6.3'


def test_name_states():
    states = _kea_ctrl.parse_status_get(answer('kea22_hs_primary_normal_status-get'))
    assert list(_kea_ctrl.name_states(states, server_name='server1')) == ['server1']
    assert list(_kea_ctrl.name_states(_kea_ctrl.parse_status_get(answer('kea26_hs_primary_normal_status-get')))) == ['server1']
    assert list(_kea_ctrl.name_states(_kea_ctrl.parse_status_get(answer('kea26_hs_primary_normal_status-get')), peer='pair1')) == ['pair1']


# ---- HA_STATE_TRANSITION lines

def transition_lines(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return [line.rstrip('\n') for line in handle if 'HA_STATE_TRANSITION' in line]


@pytest.mark.parametrize('name, relationship', [
    ('kea22_hs_server1_journal_ha.log', None), ('kea22_hs_server2_journal_ha.log', None),
    ('kea26_hs_server1_journal_ha.log', 'server1'), ('kea26_hs_server2_journal_ha.log', 'server2'),
])
def test_every_transition_line_parses(name, relationship):
    lines = transition_lines(name)
    assert len(lines) >= 13
    parsed = [_kea_ctrl.parse_transition(line) for line in lines]
    assert all(p is not None for p in parsed)
    assert set(p['relationship'] for p in parsed) == {relationship}
    assert all(p['to'] in _kea_ctrl.KEA_STATES and p['from'] in _kea_ctrl.KEA_STATES for p in parsed)
    # one run follows the other: each transition starts where the previous one ended, except at a restart (waiting)
    for before, after in zip(parsed, parsed[1:]):
        assert after['from'] == before['to'] or after['from'] == 'waiting'


def test_transition_formats():
    line22 = transition_lines('kea22_hs_server1_journal_ha.log')[2]
    line26 = transition_lines('kea26_hs_server1_journal_ha.log')[2]
    assert _kea_ctrl.parse_transition(line22) == {'relationship': None, 'from': 'ready', 'to': 'hot-standby', 'partner_state': 'ready'}
    assert _kea_ctrl.parse_transition(line26) == {'relationship': 'server1', 'from': 'ready', 'to': 'hot-standby', 'partner_state': 'ready'}
    assert _kea_ctrl.parse_transition('COMMAND_RECEIVED Received command \'ha-heartbeat\'') is None


@pytest.mark.parametrize('name, relationship', [
    ('kea22_hs_primary_startup_journal.jsonl', None), ('kea26_hs_primary_startup_journal.jsonl', 'server1')])
def test_startup_journal(name, relationship):
    transitions = _kea_ctrl.parse_entries(journal(name))
    assert [(t['ha_from'], t['ha_to']) for t in transitions] == [('waiting', 'syncing'), ('syncing', 'ready'), ('ready', 'hot-standby')]
    assert [t['to'] for t in transitions] == ['syncing', 'ready', 'normal']
    assert all(t['relationship'] == relationship and t['time'].startswith('2026-12-02T07:10:0') for t in transitions)


def test_since_times_from_the_journal():
    # the primary's second run: back from kill -9, partner-down (maintenance-start with the standby killed), then hot-standby
    transitions = _kea_ctrl.parse_entries(journal('kea22_hs_primary_run2_journal.jsonl'))
    assert [t['ha_to'] for t in transitions] == ['syncing', 'ready', 'hot-standby', 'partner-down', 'hot-standby']
    state = _kea_ctrl.parse_status_get(answer('kea22_hs_primary_normal_status-get'))[0]
    _kea_ctrl.add_journal(state, transitions)
    assert state['my_state_since'] == transitions[-1]['time'] and state['both_normal_seen'] is True
    assert state['both_normal_since'] == transitions[-1]['time']
    down = _kea_ctrl.parse_status_get(answer('kea22_hs_primary_partner-down_after-maintenance_status-get'))[0]
    _kea_ctrl.add_journal(down, transitions[:4])
    assert down['my_state_since'] == transitions[3]['time']


def test_since_time_missing_without_a_transition():
    state = _kea_ctrl.parse_status_get(answer('kea26_hs_primary_partner-down_after-maintenance-start-unreachable_status-get'))[0]
    _kea_ctrl.add_journal(state, _kea_ctrl.parse_entries(journal('kea26_hs_primary_startup_journal.jsonl')))
    assert state['my_state_since'] is None


# ---- the process

SYSTEMD = os.path.join(FIXTURES, 'systemd')


def systemd_file(name):
    with open(os.path.join(SYSTEMD, name)) as handle:
        return handle.read()


def kea_proc(root, version, comm=None):
    """A /proc holding the captured kea-dhcp4 (pid, comm and cgroup as captured)."""
    pid = systemd_file('kea%s_running.pid' % version).strip()
    os.makedirs(os.path.join(root, pid))
    with open(os.path.join(root, pid, 'comm'), 'w') as handle:
        handle.write(comm or systemd_file('kea%s_running.comm' % version))
    with open(os.path.join(root, pid, 'cgroup'), 'w') as handle:
        handle.write(systemd_file('kea%s_running.cgroup' % version))
    return root, int(pid)


@pytest.mark.parametrize('version', ['22', '26'])
def test_running_from_the_unit_and_the_process(tmp_path, version):
    proc, pid = kea_proc(str(tmp_path / 'proc'), version)
    running = _kea_ctrl.daemon_status(_failover_log.parse_systemctl_show(systemd_file('kea%s_running.show' % version)), 'kea-dhcp4-server', proc)
    assert running == {'running': True, 'pids': [pid], 'reason': ''}
    killed = _kea_ctrl.daemon_status(_failover_log.parse_systemctl_show(systemd_file('kea%s_killed.show' % version)), 'kea-dhcp4-server',
                                     str(tmp_path / 'empty'))
    assert killed['running'] is False and killed['reason'] == 'unit kea-dhcp4-server.service is failed/failed'
    assert systemd_file('kea%s_killed.is-active' % version).strip() == 'failed'


def test_a_dhcpd_process_is_not_kea(tmp_path):
    proc, dummy = kea_proc(str(tmp_path / 'proc'), '22', comm='dhcpd\n')
    status = _kea_ctrl.daemon_status(_failover_log.parse_systemctl_show(systemd_file('kea22_running.show')), 'kea-dhcp4-server', proc)
    assert status['running'] is False and 'no kea-dhcp4 process' in status['reason']


# ---- the transport, against a real unix socket

def test_send_command_reads_a_chunked_answer(replay):
    server = replay({'status-get': ['kea26_lb_server1_config-get']}, chunk=512)
    got = _kea_ctrl.send_command(server.path, 'status-get', timeout=5)
    assert got == answer('kea26_lb_server1_config-get')
    assert server.received == [{'command': 'status-get'}]


def test_send_command_with_arguments(replay):
    server = replay({'ha-sync': ['kea22_hs_standby_ha-sync']})
    got = _kea_ctrl.send_command(server.path, 'ha-sync', {'server-name': 'server1', 'max-period': 10}, timeout=5)
    assert _kea_ctrl.result_of(got) == {'result': 0, 'text': 'Lease database synchronization complete.'}
    assert server.received == [{'command': 'ha-sync', 'arguments': {'server-name': 'server1', 'max-period': 10}}]


def test_send_command_times_out(replay):
    server = replay({}, silent=('status-get',))
    started = time.monotonic()
    with pytest.raises(_kea_ctrl.KeaCtrlError) as exc:
        _kea_ctrl.send_command(server.path, 'status-get', timeout=0.5)
    assert exc.value.reason == 'timeout' and time.monotonic() - started < 1.4


def test_missing_and_dead_sockets(tmp_path):
    with pytest.raises(_kea_ctrl.KeaCtrlError) as exc:
        _kea_ctrl.send_command(str(tmp_path / 'nothing'), 'status-get', timeout=1)
    assert exc.value.reason == 'missing' and 'does not exist' in str(exc.value)
    # what kill -9 leaves: the socket file stays, nobody listens (fixtures kea2x_error_connection_refused_after_kill.txt)
    assert 'ConnectionRefusedError' in raw('kea22_error_connection_refused_after_kill.txt').decode()
    directory = tempfile.mkdtemp(prefix='kea', dir='/tmp')
    try:
        path = os.path.join(directory, 'kea4-ctrl-socket')
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(path)
        stale.close()
        with pytest.raises(_kea_ctrl.KeaCtrlError) as exc:
            _kea_ctrl.send_command(path, 'status-get', timeout=1)
        assert exc.value.reason == 'refused'
    finally:
        shutil.rmtree(directory)


def test_answer_that_is_not_json(replay):
    server = replay({'status-get': [b'{ "result": 0, "text": ']})
    with pytest.raises(_kea_ctrl.KeaCtrlError) as exc:
        _kea_ctrl.send_command(server.path, 'status-get', timeout=2)
    assert exc.value.reason == 'protocol'


@pytest.mark.parametrize('version', ['22', '26'])
def test_solo_start_goes_partner_down_then_normal(version):
    # server1 restarted with server2 stopped: Kea logs the partner as UNDEFINED; the survivor goes
    # from partner-down straight back to load-balancing when server2 returns (server2 does the sync)
    transitions = _kea_ctrl.parse_entries(journal('kea%s_lb_server1_solo-start_journal.jsonl' % version))
    assert [(t['ha_from'], t['ha_to'], t['partner_state']) for t in transitions] == [
        ('waiting', 'partner-down', 'undefined'), ('partner-down', 'load-balancing', 'ready')]
    assert [(t['from'], t['to']) for t in transitions] == [('waiting', 'partner-down'), ('partner-down', 'normal')]
    state = _kea_ctrl.parse_status_get(answer('kea%s_lb_server1_normal_status-get' % version))[0]
    _kea_ctrl.add_journal(state, transitions)
    assert state['my_state_since'] == state['both_normal_since'] == transitions[1]['time']
