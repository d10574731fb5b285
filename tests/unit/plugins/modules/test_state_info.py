# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils import basic
from ansible_collections.dhcp.failover.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dhcp.failover.plugins.module_utils import _failover_log
from ansible_collections.dhcp.failover.plugins.modules import state_info
from ansible_collections.dhcp.failover.tests.unit.plugins.module_utils import test__failover_log as fake

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'failover_state')


def read(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


@pytest.fixture
def host(monkeypatch, tmp_path):
    """The captured host: systemctl and journalctl answer from the fixtures (no python3-systemd).

    ``daemon='running'``: systemctl shows the unit as captured with dhcpd serving and the process
    table holds that dhcpd; ``'killed'``: as captured one second after `kill -9` of dhcpd, no
    dhcpd process. ``journalctl``: ``(rc, stdout, stderr)`` to answer instead of the capture.
    """
    def use(snapshot, server, daemon='running', journalctl=None):
        journal = read('%s.%s.journal.json' % (snapshot, server))
        calls = []
        monkeypatch.setattr(_failover_log, 'PROC', fake.fake_proc(str(tmp_path / 'proc'), dhcpd=daemon == 'running'), raising=False)

        def run_command(self, argv, **kwargs):
            calls.append(argv)
            if argv[0].endswith('systemctl'):
                return fake.systemctl(snapshot, server, argv, show='%s.show' % daemon)
            if journalctl and '_SYSTEMD_INVOCATION_ID=' in argv[-1]:
                return journalctl
            return 0, fake.journalctl(journal, argv), ''

        monkeypatch.setattr(_failover_log, 'HAS_SYSTEMD_JOURNAL', False)
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: '/usr/bin/' + name)
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
        monkeypatch.setattr(state_info.time, 'sleep', lambda s: None)
        return os.path.join(FIXTURES, '%s.%s.leases' % (snapshot, server)), calls
    return use


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            state_info.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_secondary_communications_interrupted(host, capsys):
    leases, calls = host('02-primary-stopped-communications-interrupted', 's')
    rc, result = run({'lease_file': leases, '_ansible_check_mode': True}, capsys)
    assert rc == 0 and result['changed'] is False
    peer = result['peers']['dhcp-failover']
    assert (peer['my_state'], peer['partner_state'], peer['source']) == ('communications-interrupted', 'normal', 'journald')
    assert peer['pool'] == {'total': 40, 'free': 40, 'backup': 0, 'lts': -20, 'max_own': 4, 'balanced': True}
    assert peer['leases_file']['my_state'] == 'communications-interrupted'
    # the secondary's leases file records the MCLT it learned from the primary
    assert peer['mclt'] == 30
    # the collection's one vocabulary, shared with dhcp.failover.state's before/after
    assert list(peer) == list(_failover_log.new_peer_state())
    assert (result['source'], result['journal_reader']) == ('journald', 'journalctl')
    assert ['/usr/bin/journalctl', '--no-pager', '--quiet', '-o', 'json', '_SYSTEMD_INVOCATION_ID=fe3cf99473a346b1b808b8e3c15dc361'] in calls
    # the old capture has no InactiveExitTimestamp: journald's own lines are read from 1 s before the run's first line
    assert calls[-1][-2:] == ['_SYSTEMD_UNIT=systemd-journald.service', 'MESSAGE_ID=a596d6fe7bfa4994828e72309e95d61e']
    assert result['journal_suppressed'] == 0


def test_leases_only(host, capsys):
    leases, calls = host('03-secondary-partner-down', 's')
    rc, result = run({'lease_file': leases, 'source': 'leases'}, capsys)
    peer = result['peers']['dhcp-failover']
    assert (peer['my_state'], peer['my_state_since'], peer['source']) == ('partner-down', '2026-11-24T15:54:29Z', 'leases')
    assert result['source'] == 'leases'
    # only systemd is asked (whether dhcpd runs), not the journal
    assert [argv[0] for argv in calls] == ['/usr/bin/systemctl']
    assert result['running'] is True and peer['running'] is True


def test_wait_for_times_out_with_last_seen_states(host, capsys):
    leases, calls = host('04-primary-recover-wait', 'p')
    rc, result = run({'lease_file': leases, 'wait_for': ['normal'], 'timeout': 0}, capsys)
    assert result['failed']
    assert 'dhcp-failover: my state recover-wait, partner partner-down' in result['msg']


def test_wait_for_reached(host, capsys):
    leases, calls = host('08-primary-recover-normal', 'p')
    rc, result = run({'lease_file': leases, 'wait_for': ['normal', 'partner-down'], 'peer': 'dhcp-failover'}, capsys)
    assert 'failed' not in result
    assert result['peers']['dhcp-failover']['both_normal_seen'] is True


def test_unknown_peer_fails(host, capsys):
    leases, calls = host('01-startup-normal', 'p')
    rc, result = run({'lease_file': leases, 'peer': 'other'}, capsys)
    assert result['failed'] and 'other not found' in result['msg']


def test_rate_limited_secondary_reaches_normal(host, capsys):
    # bench/RESULTS.md, kill under load: journald dropped the secondary's state lines after the
    # killed primary came back; the leases file's newer block says normal
    leases, calls = host('09-ratelimited-secondary-back-to-normal', 's')
    rc, result = run({'lease_file': leases, 'wait_for': ['normal'], 'timeout': 0}, capsys)
    assert 'failed' not in result
    peer = result['peers']['dhcp-failover']
    assert (peer['my_state'], peer['my_state_since'], peer['my_state_source']) == ('normal', '2026-11-24T17:04:40Z', 'leases')
    assert (peer['partner_state'], peer['partner_state_source']) == ('normal', 'leases')
    assert peer['transitions'][-1]['to'] == 'communications-interrupted'
    # the start-up lines of this run were dropped (journald said so with the disconnect)
    assert result['journal_suppressed'] == 11
    assert result['source'] == 'leases'


def test_suppression_logged_later(host, capsys):
    leases, calls = host('10-ratelimited-suppression-logged', 's')
    rc, result = run({'lease_file': leases}, capsys)
    with open(os.path.join(FIXTURES, '10-ratelimited-suppression-logged.s.started')) as handle:
        started = handle.read().strip()
    assert calls[-1] == ['/usr/bin/journalctl', '--no-pager', '--quiet', '-o', 'json', '--since', started + '.000000',
                         '_SYSTEMD_UNIT=systemd-journald.service', 'MESSAGE_ID=a596d6fe7bfa4994828e72309e95d61e']
    assert result['journal_suppressed'] == 11 + 13
    assert result['peers']['dhcp-failover']['my_state'] == 'normal'


def test_restarted_primary_journal_wins(host, capsys):
    leases, calls = host('09-ratelimited-secondary-back-to-normal', 'p')
    rc, result = run({'lease_file': leases, 'wait_for': ['normal'], 'timeout': 0}, capsys)
    peer = result['peers']['dhcp-failover']
    assert (peer['my_state_source'], peer['my_state_since'], peer['both_normal_seen']) == ('journald', '2026-11-24T17:04:40Z', True)
    # dhcpd records the MCLT in the leases file on the secondary only
    assert peer['mclt'] is None
    assert result['journal_suppressed'] == 12


# The live check of issue 12: `kill -9` of a primary's dhcpd in normal leaves the LSB unit
# active/exited, and both the journal and the leases file still say normal.

def test_killed_dhcpd_never_satisfies_wait_for_normal(host, capsys):
    leases, calls = host('08-primary-recover-normal', 'p', daemon='killed')
    rc, result = run({'lease_file': leases, 'wait_for': ['normal'], 'timeout': 0, 'peer': 'dhcp-failover'}, capsys)
    assert result['failed']
    assert 'dhcpd is not running (unit isc-dhcp-server.service is active/exited' in result['msg']
    peer = result['peers']['dhcp-failover']
    # the last recorded state stays visible, with running saying it is history
    assert (peer['my_state'], peer['running']) == ('normal', False)
    assert (result['running'], result['service_active'], result['service_state'], result['dhcpd_pids']) == \
        (False, False, 'active/exited', [])


def test_killed_dhcpd_reported_as_not_running(host, capsys):
    leases, calls = host('08-primary-recover-normal', 'p', daemon='killed')
    rc, result = run({'lease_file': leases}, capsys)
    assert 'failed' not in result
    assert result['running'] is False and result['peers']['dhcp-failover']['running'] is False
    assert result['not_running_reason'].startswith('unit isc-dhcp-server.service is active/exited')


def test_running_dhcpd_reported_with_its_pid(host, capsys):
    leases, calls = host('08-primary-recover-normal', 'p')
    rc, result = run({'lease_file': leases}, capsys)
    assert (result['running'], result['dhcpd_pids'], result['not_running_reason']) == (True, [fake.DHCPD_PID], None)
    # systemctl is asked for what the judgement needs
    assert calls[0][:3] == ['/usr/bin/systemctl', 'show', '--timestamp=unix']
    assert {'SubState', 'MainPID', 'ControlGroup'} <= set(calls[0][calls[0].index('-p') + 1::2])


@pytest.fixture
def warned(monkeypatch):
    """The texts the module passed to AnsibleModule.warn."""
    texts = []
    monkeypatch.setattr(basic.AnsibleModule, 'warn', lambda self, text, **kwargs: texts.append(text))
    return texts


def nonroot_journalctl():
    return (int(fake.captured('nonroot-journalctl.rc')), fake.captured('nonroot-journalctl.stdout'),
            fake.captured('nonroot-journalctl.stderr'))


def test_journal_unreadable_warns_and_names_the_source(host, capsys, warned):
    # journalctl as a user who may not read the journal (captured as nobody in the lab)
    leases, calls = host('08-primary-recover-normal', 'p', journalctl=nonroot_journalctl())
    rc, result = run({'lease_file': leases}, capsys)
    assert 'failed' not in result
    assert result['source'] == 'leases' and result['journal_lines'] == 0
    assert 'insufficient permissions' in result['journal_problem']
    assert len(warned) == 1 and 'journal not read' in warned[0] and 'insufficient permissions' in warned[0], warned
    assert 'the states come from the leases file %s only' % leases in warned[0]
    assert result['peers']['dhcp-failover']['my_state_source'] == 'leases'


def test_journal_unreadable_fails_with_source_journald(host, capsys):
    leases, calls = host('08-primary-recover-normal', 'p', journalctl=nonroot_journalctl())
    rc, result = run({'lease_file': leases, 'source': 'journald'}, capsys)
    assert result['failed'] and 'cannot read the journal (source=journald)' in result['msg']
    assert 'insufficient permissions' in result['msg']


def test_python_systemd_reader_seeing_nothing_warns(host, capsys, monkeypatch, warned):
    # python3-systemd gives a user without journal access no entries and no error (checked in the lab as nobody)
    leases, calls = host('08-primary-recover-normal', 'p')
    monkeypatch.setattr(_failover_log, 'HAS_SYSTEMD_JOURNAL', True)
    monkeypatch.setattr(_failover_log, 'read_run_python_systemd', lambda invocation_id: iter(()))
    rc, result = run({'lease_file': leases}, capsys)
    assert (result['journal_reader'], result['journal_lines'], result['source']) == ('python3-systemd', 0, 'leases')
    assert 'journald returned no entries for the current run' in result['journal_problem']
    assert len(warned) == 1 and 'journal not read' in warned[0]
    rc, result = run({'lease_file': leases, 'source': 'journald'}, capsys)
    assert result['failed'] and 'journald returned no entries' in result['msg']


def test_last_messages_of_a_failed_start_hold_dhcpd_reason():
    """A real failed start (see the fixture README): the reason is among the last lines, blank lines are not."""
    entries = [json.loads(line) for line in read('11-failed-start.s.journal.json').splitlines()]
    texts = [entry['MESSAGE'] for entry in entries]
    got = state_info.last_messages(entries)
    assert len(got) == state_info.LAST_MESSAGES
    assert "Can't open lease database /nonexistent/dhcpd.leases: No such file or directory --" in got
    assert all(text.strip() for text in got)
    assert got[-1] == [text for text in texts if text.strip()][-1]
    assert got == [text for text in texts if text.strip()][-state_info.LAST_MESSAGES:]


# `systemctl is-enabled isc-dhcp-server` on the lab image (Debian 12, the LSB unit), as captured:
IS_ENABLED = {
    'enabled': (0, 'enabled\n', 'isc-dhcp-server.service is not a native service, redirecting to systemd-sysv-install.\n'
                'Executing: /lib/systemd/systemd-sysv-install is-enabled isc-dhcp-server\n'),
    'disabled': (1, 'disabled\n', 'isc-dhcp-server.service is not a native service, redirecting to systemd-sysv-install.\n'
                 'Executing: /lib/systemd/systemd-sysv-install is-enabled isc-dhcp-server\n'),
    'masked': (1, 'masked\n', ''),
    'no answer': (1, '', 'Failed to get unit file state for isc-dhcp-server.service: No such file or directory\n'),
}


@pytest.mark.parametrize('answer, expected', [('enabled', True), ('disabled', False), ('masked', False), ('no answer', False)])
def test_read_enabled_reports_only_enabled_as_true(host, capsys, monkeypatch, answer, expected):
    leases, calls = host('08-primary-recover-normal', 'p')
    run_command = basic.AnsibleModule.run_command

    def is_enabled(self, argv, **kwargs):
        if argv[1:2] == ['is-enabled']:
            calls.append(argv)
            return IS_ENABLED[answer]
        return run_command(self, argv, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', is_enabled)
    rc, result = run({'lease_file': leases, 'read_enabled': True}, capsys)
    assert result['unit_enabled'] is expected
    assert calls.count(['/usr/bin/systemctl', 'is-enabled', 'isc-dhcp-server']) == 1


def test_enabled_not_asked_by_default(host, capsys):
    leases, calls = host('08-primary-recover-normal', 'p')
    rc, result = run({'lease_file': leases}, capsys)
    assert result['unit_enabled'] is None
    assert not [argv for argv in calls if 'is-enabled' in argv]
