# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.dhcp.failover.plugins.module_utils import _failover_log
from ansible_collections.dhcp.failover.plugins.module_utils._leases import read_leases

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'failover_state')


def fixture_path(name):
    return os.path.join(FIXTURES, name)


def invocation(snapshot, server):
    with open(fixture_path('%s.%s.invocation' % (snapshot, server))) as handle:
        return handle.read().strip()


def journal_text(snapshot, server):
    with open(fixture_path('%s.%s.journal.json' % (snapshot, server))) as handle:
        return handle.read()


def current_run(snapshot, server):
    """What journald returns for the match _SYSTEMD_INVOCATION_ID=<the unit's InvocationID>."""
    inv = invocation(snapshot, server)
    return [e for e in _failover_log.parse_journalctl_json(journal_text(snapshot, server)) if e.get('_SYSTEMD_INVOCATION_ID') == inv]


# (snapshot, server, my_state, partner_state, both_normal_seen) read from the captured journals
STATES = [
    ('01-startup-normal', 'p', 'normal', 'normal', True),
    ('01-startup-normal', 's', 'normal', 'normal', True),
    ('02-primary-stopped-communications-interrupted', 's', 'communications-interrupted', 'normal', True),
    ('03-secondary-partner-down', 's', 'partner-down', 'normal', True),
    ('04-primary-recover-wait', 'p', 'recover-wait', 'partner-down', False),
    ('04-primary-recover-wait', 's', 'partner-down', 'recover-wait', True),
    ('05-primary-recovered-normal', 'p', 'normal', 'normal', True),
    ('05-primary-recovered-normal', 's', 'normal', 'normal', True),
    ('06-primary-shutdown-secondary-partner-down', 'p', 'shutdown', 'partner-down', True),
    ('06-primary-shutdown-secondary-partner-down', 's', 'partner-down', 'shutdown', True),
    ('07-primary-restarted-in-shutdown', 'p', 'shutdown', None, False),
    ('08-primary-recover-normal', 'p', 'normal', 'normal', True),
    ('08-primary-recover-normal', 's', 'normal', 'normal', True),
]


@pytest.mark.parametrize('snapshot, server, my_state, partner_state, both_normal', STATES)
def test_states_of_the_current_run(snapshot, server, my_state, partner_state, both_normal):
    peer = _failover_log.parse_entries(current_run(snapshot, server))['peers']['dhcp-failover']
    assert (peer['my_state'], peer['partner_state'], peer['both_normal_seen']) == (my_state, partner_state, both_normal)


def test_only_the_current_run_counts():
    # The primary's journal holds the previous run (which reached normal) and the restart that
    # waits in recover-wait: reading the whole journal would wrongly say both servers are normal.
    whole = _failover_log.parse_entries(_failover_log.parse_journalctl_json(journal_text('04-primary-recover-wait', 'p')))
    assert whole['peers']['dhcp-failover']['both_normal_seen'] is True
    run = _failover_log.parse_entries(current_run('04-primary-recover-wait', 'p'))['peers']['dhcp-failover']
    assert run['both_normal_seen'] is False
    assert [(t['who'], t['from'], t['to']) for t in run['transitions']] == [
        ('me', 'normal', 'startup'),
        ('partner', 'normal', 'partner-down'),
        ('me', 'startup', 'recover'),
        ('me', 'recover', 'recover-wait'),
    ]


def test_communications_interrupted_times_and_disconnect():
    peer = _failover_log.parse_entries(current_run('02-primary-stopped-communications-interrupted', 's'))['peers']['dhcp-failover']
    assert peer['disconnected_at'] == '2026-11-24T15:54:27Z'
    assert peer['my_state_since'] == '2026-11-24T15:54:27Z'
    assert peer['transitions'][-1] == {'time': '2026-11-24T15:54:27Z', 'who': 'me', 'from': 'normal', 'to': 'communications-interrupted'}


def test_transitions_are_bounded_oldest_first():
    entries = current_run('08-primary-recover-normal', 's')
    everything = _failover_log.parse_entries(entries, max_transitions=None)['peers']['dhcp-failover']['transitions']
    last3 = _failover_log.parse_entries(entries, max_transitions=3)['peers']['dhcp-failover']['transitions']
    assert len(everything) > 3
    assert last3 == everything[-3:]
    assert [t['time'] for t in last3] == sorted(t['time'] for t in last3)
    assert (last3[-1]['who'], last3[-1]['to']) == ('partner', 'normal')


def test_state_since_ignores_same_state_repeats():
    # after the primary's restart the secondary logs "peer moves from shutdown to shutdown" twice
    peer = _failover_log.parse_entries(current_run('07-primary-restarted-in-shutdown', 's'))['peers']['dhcp-failover']
    into = [t for t in peer['transitions'] if t['who'] == 'partner' and t['from'] == 'normal' and t['to'] == 'shutdown']
    repeats = [t for t in peer['transitions'] if t['from'] == t['to'] == 'shutdown']
    assert len(into) == 1 and len(repeats) == 2
    assert into[0]['time'] < repeats[-1]['time']
    assert peer['partner_state_since'] == into[0]['time']


def test_pool_lines():
    pools = _failover_log.parse_entries(current_run('01-startup-normal', 'p'))['pools']
    assert list(pools.values()) == [{
        'network': '10.231.21.0/24', 'total': 40, 'free': 20, 'backup': 20, 'lts': 0, 'max_own': 4,
        'max_misbalance': 6, 'balanced': True, 'time': '2026-11-24T15:54:22Z'}]
    summary = _failover_log.pool_summary(pools)
    assert summary == {'total': 40, 'free': 20, 'backup': 20, 'lts': 0, 'max_own': 4, 'balanced': True}


def test_parse_systemctl_show():
    assert _failover_log.parse_systemctl_show('InvocationID=62f8\nActiveState=active\n') == {'InvocationID': '62f8', 'ActiveState': 'active'}


class FakeModule(object):
    """run_command answers like systemctl/journalctl would on the captured host."""

    def __init__(self, snapshot, server):
        self.snapshot, self.server = snapshot, server
        self.calls = []

    def get_bin_path(self, name):
        return '/usr/bin/' + name

    def run_command(self, argv, environ_update=None):
        self.calls.append(argv)
        if argv[0].endswith('systemctl'):
            return 0, 'InvocationID=%s\nActiveState=active\nLoadState=loaded\n' % invocation(self.snapshot, self.server), ''
        field, value = argv[-1].split('=', 1)
        lines = [line for line in journal_text(self.snapshot, self.server).splitlines() if json.loads(line).get(field) == value]
        return 0, '\n'.join(lines) + '\n', ''

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs)


def test_journalctl_reader_reads_one_invocation(monkeypatch):
    monkeypatch.setattr(_failover_log, 'HAS_SYSTEMD_JOURNAL', False)
    module = FakeModule('04-primary-recover-wait', 'p')
    props = _failover_log.unit_properties(module, 'isc-dhcp-server')
    entries, reader = _failover_log.read_run(module, props['InvocationID'])
    assert reader == 'journalctl'
    assert module.calls[-1] == ['/usr/bin/journalctl', '--no-pager', '--quiet', '-o', 'json',
                                '_SYSTEMD_INVOCATION_ID=f197aff941194ae085e2e302f768f0db']
    assert len(entries) == len(current_run('04-primary-recover-wait', 'p'))


def test_combine_fills_from_leases_what_the_run_did_not_log():
    journal = _failover_log.parse_entries(current_run('07-primary-restarted-in-shutdown', 'p'))
    leases = read_leases(fixture_path('07-primary-restarted-in-shutdown.p.leases'))
    peer = _failover_log.combine(journal, leases)['dhcp-failover']
    assert (peer['my_state'], peer['partner_state']) == ('shutdown', 'partner-down')
    assert peer['partner_state_since'] == '2026-11-24T15:54:53Z'
    assert peer['source'] == 'journald'


def test_combine_leases_only():
    leases = read_leases(fixture_path('03-secondary-partner-down.s.leases'))
    peer = _failover_log.combine(None, leases)['dhcp-failover']
    assert (peer['my_state'], peer['partner_state'], peer['source']) == ('partner-down', 'normal', 'leases')
    assert peer['both_normal_seen'] is None
    assert peer['transitions'] == []
    assert _failover_log.combine(None, leases, peer='other') == {}
