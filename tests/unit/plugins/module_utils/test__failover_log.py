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


# `systemctl show` of isc-dhcp-server with the properties state_info asks for, and the dhcpd
# process's /proc/PID/cgroup, captured on 2026-11-29 in a lab container (Debian 12, systemd 252,
# isc-dhcp-server 4.4.3-P1 started by its LSB script) with dhcpd serving and one second after
# `kill -9` of dhcpd: tests/unit/fixtures/systemctl_show/capture.sh, README.md there.
SYSTEMCTL_FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'systemctl_show')
DHCPD_PID = 808   # the pid dhcpd had in that capture


def captured(name):
    with open(os.path.join(SYSTEMCTL_FIXTURES, name)) as handle:
        return handle.read()


def fake_proc(root, dhcpd=True, cgroup=None):
    """A /proc with pid 1 (systemd) and, with ``dhcpd``, the captured dhcpd process (comm, cgroup)."""
    os.makedirs(os.path.join(root, '1'))
    with open(os.path.join(root, '1', 'comm'), 'w') as handle:
        handle.write('systemd\n')
    if dhcpd:
        os.makedirs(os.path.join(root, str(DHCPD_PID)))
        with open(os.path.join(root, str(DHCPD_PID), 'comm'), 'w') as handle:
            handle.write('dhcpd\n')
        with open(os.path.join(root, str(DHCPD_PID), 'cgroup'), 'w') as handle:
            handle.write(captured('running.dhcpd.cgroup') if cgroup is None else cgroup)
    return str(root)


def test_killed_dhcpd_unit_stays_active_exited():
    # what makes `is-active` and ActiveState useless after a crash
    assert captured('killed.is-active').strip() == 'active'
    props = _failover_log.parse_systemctl_show(captured('killed.show'))
    assert (props['ActiveState'], props['SubState'], props['MainPID'], props['ControlGroup']) == ('active', 'exited', '0', '')


@pytest.mark.parametrize('show, dhcpd, running, reason', [
    ('running.show', True, True, ''),
    # the LSB unit stays active after its daemon died, and the process is gone
    ('killed.show', False, False, 'unit isc-dhcp-server.service is active/exited (its dhcpd died'),
    # SubState running, but no dhcpd process in the unit's cgroup (e.g. a stale reading): not running
    ('running.show', False, False, 'unit isc-dhcp-server.service is active/running but no dhcpd process lives in it'),
])
def test_daemon_status_from_the_unit_and_the_process(tmp_path, show, dhcpd, running, reason):
    proc = fake_proc(str(tmp_path / 'proc'), dhcpd=dhcpd)
    status = _failover_log.daemon_status(_failover_log.parse_systemctl_show(captured(show)), 'isc-dhcp-server', proc)
    assert status['running'] is running
    assert status['reason'].startswith(reason)
    assert status['pids'] == ([DHCPD_PID] if dhcpd else [])


def test_dhcpd_outside_the_unit_does_not_count(tmp_path):
    # a dhcpd run by hand (cgroup of a login session) while the unit's own died
    proc = fake_proc(str(tmp_path / 'proc'), cgroup='0::/user.slice/user-0.slice/session-1.scope\n')
    assert _failover_log.dhcpd_processes('isc-dhcp-server', proc) == []
    assert _failover_log.dhcpd_processes(None, proc) == [DHCPD_PID]
    props = _failover_log.parse_systemctl_show(captured('running.show'))
    assert _failover_log.daemon_running(props, 'isc-dhcp-server', proc) is False


def test_missing_substate_is_not_running(tmp_path):
    # a systemctl answer without SubState proves nothing (the old code took it for running)
    proc = fake_proc(str(tmp_path / 'proc'))
    assert _failover_log.daemon_running({'ActiveState': 'active'}, 'isc-dhcp-server', proc) is False


def test_without_systemd_the_process_decides(tmp_path):
    assert _failover_log.daemon_status(None, 'isc-dhcp-server', fake_proc(str(tmp_path / 'a')))['running'] is True
    status = _failover_log.daemon_status(None, 'isc-dhcp-server', fake_proc(str(tmp_path / 'b'), dhcpd=False))
    assert status['running'] is False and 'no dhcpd process' in status['reason']


def started(snapshot, server):
    """``systemctl show --timestamp=unix -p InactiveExitTimestamp --value`` of the captured unit, or None."""
    path = fixture_path('%s.%s.started' % (snapshot, server))
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read().strip()


def journalctl(text, argv):
    """What ``journalctl -o json [--since @S.U] FIELD=VALUE...`` prints from the captured JSON lines:
    every FIELD=VALUE must match (journalctl ANDs different fields), and --since seeks."""
    matches = [arg.split('=', 1) for arg in argv[1:] if '=' in arg and not arg.startswith('-')]
    since = None
    if '--since' in argv:
        since = int(round(float(argv[argv.index('--since') + 1].lstrip('@')) * 1000000))
    lines = []
    for line in text.splitlines():
        entry = json.loads(line)
        if all(entry.get(field) == value for field, value in matches) and (since is None or int(entry['__REALTIME_TIMESTAMP']) >= since):
            lines.append(line)
    return '\n'.join(lines) + '\n'


def systemctl(snapshot, server, argv, timestamp_option=True, show='running.show'):
    """``systemctl show`` of the captured unit (systemd 252; ``timestamp_option=False``: systemd < 248):
    the real capture ``show`` of tests/unit/fixtures/systemctl_show with the snapshot's own
    InvocationID and start time."""
    lines = []
    for line in captured(show).splitlines():
        key = line.split('=', 1)[0]
        if key == 'InvocationID':
            line = 'InvocationID=' + invocation(snapshot, server)
        elif key == 'InactiveExitTimestamp':
            if '--timestamp=unix' not in argv:
                continue
            line = 'InactiveExitTimestamp=' + (started(snapshot, server) or '')
        lines.append(line)
    if '--timestamp=unix' in argv and not timestamp_option:
        return 1, '', 'systemctl: unrecognized option \'--timestamp=unix\'\n'
    return 0, '\n'.join(lines) + '\n', ''


class FakeModule(object):
    """run_command answers like systemctl/journalctl would on the captured host."""

    def __init__(self, snapshot, server, timestamp_option=True):
        self.snapshot, self.server = snapshot, server
        self.timestamp_option = timestamp_option
        self.calls = []

    def get_bin_path(self, name):
        return '/usr/bin/' + name

    def run_command(self, argv, environ_update=None):
        self.calls.append(argv)
        if argv[0].endswith('systemctl'):
            return systemctl(self.snapshot, self.server, argv, self.timestamp_option)
        return 0, journalctl(journal_text(self.snapshot, self.server), argv), ''

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


# 09-/10-: journald's rate limit (a tiny LogRateLimitBurst drop-in, capture_suppressed.sh) dropped
# the secondary's state lines when the killed primary came back: its journal stops in
# communications-interrupted while its leases file says normal (bench/RESULTS.md, kill under load).
RATE_LIMITED = '09-ratelimited-secondary-back-to-normal'
SUPPRESSION_LOGGED = '10-ratelimited-suppression-logged'


def test_rate_limited_journal_is_stale_and_the_leases_file_is_not():
    journal = _failover_log.parse_entries(current_run(RATE_LIMITED, 's'))['peers']['dhcp-failover']
    assert (journal['my_state'], journal['my_state_since']) == ('communications-interrupted', '2026-11-24T17:04:35Z')
    assert journal['both_normal_seen'] is False  # the run's start-up lines were dropped too
    leases = read_leases(fixture_path(RATE_LIMITED + '.s.leases'))['dhcp-failover']
    assert (leases['my_state'], leases['my_state_since']) == ('normal', '2026-11-24T17:04:40Z')


@pytest.mark.parametrize('suppressed', [None, 0])
def test_combine_takes_the_newer_transition_from_the_leases_file(suppressed):
    journal = _failover_log.parse_entries(current_run(RATE_LIMITED, 's'))
    leases = read_leases(fixture_path(RATE_LIMITED + '.s.leases'))
    peer = _failover_log.combine(journal, leases, suppressed=suppressed)['dhcp-failover']
    assert (peer['my_state'], peer['my_state_since'], peer['my_state_source']) == ('normal', '2026-11-24T17:04:40Z', 'leases')
    assert (peer['partner_state'], peer['partner_state_since'], peer['partner_state_source']) == (
        'normal', '2026-11-24T17:04:40Z', 'leases')
    assert peer['source'] == 'leases'
    # the journal's transitions are kept: the last one logged is the move into communications-interrupted
    assert peer['transitions'][-1] == {'time': '2026-11-24T17:04:35Z', 'who': 'me', 'from': 'normal', 'to': 'communications-interrupted'}


def test_combine_takes_the_newer_transition_from_the_journal():
    # the restarted primary: the leases file keeps the time of the previous run's normal (dhcpd keeps
    # its state time over startup), the journal has the newer move startup -> normal
    journal = _failover_log.parse_entries(current_run(RATE_LIMITED, 'p'))
    leases = read_leases(fixture_path(RATE_LIMITED + '.p.leases'))
    assert leases['dhcp-failover']['my_state_since'] == '2026-11-24T17:04:01Z'
    peer = _failover_log.combine(journal, leases, suppressed=12)['dhcp-failover']
    assert (peer['my_state'], peer['my_state_since'], peer['my_state_source']) == ('normal', '2026-11-24T17:04:40Z', 'journald')
    assert peer['source'] == 'journald'


def test_combine_tie_goes_to_the_leases_file_only_after_suppression():
    # the rate-limited secondary with the leases file's block stamped in the journal's second
    journal = _failover_log.parse_entries(current_run(RATE_LIMITED, 's'))
    leases = read_leases(fixture_path(RATE_LIMITED + '.s.leases'))
    leases['dhcp-failover']['my_state_since'] = '2026-11-24T17:04:35Z'
    peer = _failover_log.combine(journal, leases, suppressed=0)['dhcp-failover']
    assert (peer['my_state'], peer['my_state_source']) == ('communications-interrupted', 'journald')
    peer = _failover_log.combine(journal, leases, suppressed=13)['dhcp-failover']
    assert (peer['my_state'], peer['my_state_source']) == ('normal', 'leases')
    # a missing time ("at never") counts as a tie
    leases['dhcp-failover']['my_state_since'] = None
    assert _failover_log.combine(journal, leases)['dhcp-failover']['my_state_source'] == 'journald'
    assert _failover_log.combine(journal, leases, suppressed=13)['dhcp-failover']['my_state_source'] == 'leases'


def test_old_captures_agree_with_the_newer_transition_rule():
    """On the captures without a dropped line, both sources agree wherever both know a state."""
    for snapshot, server, my_state, partner_state, dummy in STATES:
        journal = _failover_log.parse_entries(current_run(snapshot, server))
        leases = read_leases(fixture_path('%s.%s.leases' % (snapshot, server)))
        peer = _failover_log.combine(journal, leases)['dhcp-failover']
        assert (peer['my_state'], peer['partner_state'] or None) == (my_state, partner_state or leases['dhcp-failover']['partner_state'])


def journald_entries(snapshot, server):
    return [e for e in _failover_log.parse_journalctl_json(journal_text(snapshot, server))
            if e.get('_SYSTEMD_UNIT') == 'systemd-journald.service']


def test_suppressed_lines_of_the_real_journald():
    entries = journald_entries(SUPPRESSION_LOGGED, 's')
    dropped = [e for e in entries if e.get('MESSAGE_ID') == _failover_log.JOURNAL_DROPPED_MESSAGE_ID]
    assert [e['MESSAGE'] for e in dropped] == ['Suppressed %s messages from isc-dhcp-server.service' % e['N_DROPPED'] for e in dropped]
    since = _failover_log.parse_unix_timestamp(started(SUPPRESSION_LOGGED, 's'))
    in_run = [e for e in dropped if int(e['__REALTIME_TIMESTAMP']) >= since]
    # the run's start-up lines (dropped, reported with the disconnect), then the dropped state lines
    # (reported with the next client's first line, 30 s later)
    assert len(in_run) == 2
    result = _failover_log.parse_suppressed(entries, 'isc-dhcp-server', since)
    assert result == {'count': sum(int(e['N_DROPPED']) for e in in_run), 'last': _failover_log.iso_utc(in_run[-1]['__REALTIME_TIMESTAMP'])}
    # when the pair was back to normal, only the start-up lines' report was there
    earlier = _failover_log.parse_suppressed(journald_entries(RATE_LIMITED, 's'), 'isc-dhcp-server.service', since)
    assert earlier['count'] == int(in_run[0]['N_DROPPED']) < result['count']
    # nothing before the run counts
    assert _failover_log.parse_suppressed(entries, 'isc-dhcp-server', int(in_run[-1]['__REALTIME_TIMESTAMP']) + 1)['count'] == 0


def test_suppressed_only_from_journald_itself_and_for_this_unit():
    real = journald_entries(SUPPRESSION_LOGGED, 's')[-1]
    assert real['MESSAGE'].startswith('Suppressed ')
    other_unit = dict(real, MESSAGE='Suppressed 7 messages from systemd-networkd.service')
    cgroup_path = dict(real, MESSAGE='Suppressed 3 messages from /system.slice/isc-dhcp-server.service')  # journald < 246
    prefix = dict(real, MESSAGE='Suppressed 5 messages from my-isc-dhcp-server.service')
    forged = dict(real, _SYSTEMD_UNIT='isc-dhcp-server.service')  # a service logging the same text
    result = _failover_log.parse_suppressed([real, other_unit, cgroup_path, prefix, forged], 'isc-dhcp-server')
    assert result['count'] == int(real['N_DROPPED']) + 3


def test_read_suppressed_seeks_to_the_start_of_the_run(monkeypatch):
    monkeypatch.setattr(_failover_log, 'HAS_SYSTEMD_JOURNAL', False)
    module = FakeModule(SUPPRESSION_LOGGED, 's')
    props = _failover_log.unit_properties(module, 'isc-dhcp-server')
    assert module.calls[0][:3] == ['/usr/bin/systemctl', 'show', '--timestamp=unix']
    assert props['Id'] == 'isc-dhcp-server.service'
    assert props['started_usec'] == int(started(SUPPRESSION_LOGGED, 's').lstrip('@')) * 1000000
    result = _failover_log.read_suppressed(module, props['Id'], props['started_usec'])
    assert module.calls[-1] == ['/usr/bin/journalctl', '--no-pager', '--quiet', '-o', 'json',
                                '--since', '@%s.000000' % started(SUPPRESSION_LOGGED, 's').lstrip('@'),
                                '_SYSTEMD_UNIT=systemd-journald.service', 'MESSAGE_ID=a596d6fe7bfa4994828e72309e95d61e']
    assert result['count'] > 0
    assert _failover_log.read_suppressed(module, props['Id'], None) is None


def test_unit_properties_without_timestamp_option(monkeypatch):
    module = FakeModule(SUPPRESSION_LOGGED, 's', timestamp_option=False)
    props = _failover_log.unit_properties(module, 'isc-dhcp-server')
    assert len(module.calls) == 2 and '--timestamp=unix' not in module.calls[1]
    assert props['InvocationID'] == invocation(SUPPRESSION_LOGGED, 's') and props['started_usec'] is None


def test_unit_name():
    assert _failover_log.unit_name('isc-dhcp-server') == 'isc-dhcp-server.service'
    assert _failover_log.unit_name('isc-dhcp-server.service') == 'isc-dhcp-server.service'
    assert _failover_log.parse_unix_timestamp('@0') is None and _failover_log.parse_unix_timestamp('') is None


def test_read_suppressed_with_python_systemd(monkeypatch):
    """The python3-systemd reader converts MESSAGE_ID to uuid.UUID (its default converters)."""
    import uuid

    since = _failover_log.parse_unix_timestamp(started(SUPPRESSION_LOGGED, 's'))
    seen = {}

    class Reader(object):
        def __init__(self, converters=None):
            self.matches = []

        def add_match(self, **kwargs):
            self.matches.append(kwargs)

        def seek_realtime(self, usec):
            seen['seek'] = usec

        def __iter__(self):
            for entry in journald_entries(SUPPRESSION_LOGGED, 's'):
                if all(entry.get(k) == v for match in self.matches for k, v in match.items()) and int(entry['__REALTIME_TIMESTAMP']) >= seen['seek']:
                    yield dict(entry, MESSAGE_ID=uuid.UUID(entry['MESSAGE_ID']), __REALTIME_TIMESTAMP=int(entry['__REALTIME_TIMESTAMP']))

        def close(self):
            seen['closed'] = True

    class FakeJournal(object):
        pass

    FakeJournal.Reader = Reader
    monkeypatch.setattr(_failover_log, 'HAS_SYSTEMD_JOURNAL', True)
    monkeypatch.setattr(_failover_log, '_systemd_journal', FakeJournal)
    result = _failover_log.read_suppressed(FakeModule(SUPPRESSION_LOGGED, 's'), 'isc-dhcp-server.service', since)
    assert result['count'] == 11 + 13
    assert seen == {'seek': since, 'closed': True}
