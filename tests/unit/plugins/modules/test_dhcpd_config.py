# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""dhcp.failover.dhcpd_config: main() on files in a temporary directory, dhcpd -t replayed.

Only ``run_command`` is faked: it returns what the real dhcpd 4.4.3-P1 printed for the same text
(tests/unit/fixtures/dhcpd_check/secret_*.conf with the key inlined, see the README there), with
the path dhcpd printed replaced by the module's temporary file. Everything else (reading,
backups, atomic moves, modes) runs for real in ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import stat
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible_collections.dhcp.failover.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dhcp.failover.plugins.module_utils._dhcpd_check import find_secrets
from ansible_collections.dhcp.failover.plugins.modules import dhcpd_config

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'dhcpd_check')
DHCPD = '/usr/sbin/dhcpd'
DEFAULTS = 'DHCPDv4_CONF=/etc/dhcp/dhcpd.conf\nINTERFACESv4="eth0"\nINTERFACESv6=""\n'
OLD_DEFAULTS = 'INTERFACESv4="eth1"\n'
OLD_CONFIG = '# the configuration before the change\nauthoritative;\n'
OLD_KEY = 'key omapi_key {\n    algorithm hmac-md5;\n    secret "b2xkIHNlY3JldCBvZiB0aGUgdGVzdHM=";\n}\n'


class AnsibleExitJson(Exception):
    pass


class AnsibleFailJson(Exception):
    pass


def exit_json(self, **kwargs):
    kwargs.setdefault('changed', False)
    raise AnsibleExitJson(kwargs)


def fail_json(self, **kwargs):
    kwargs['failed'] = True
    raise AnsibleFailJson(kwargs)


def read_fixture(name, ext):
    with open(os.path.join(FIXTURES, name + ext), encoding='utf-8') as handle:
        return handle.read() if ext != '.out' else json.load(handle)


class Case(object):
    """A captured case: the dhcpd.conf and key file the module gets, and what dhcpd -t said."""

    def __init__(self, name, key_path):
        self.name = name
        self.checked_text = read_fixture(name, '.conf')     # what dhcpd -t read: the key inlined
        self.key = read_fixture(name, '.key')
        self.out = read_fixture(name, '.out')
        assert self.key.rstrip('\n') in self.checked_text
        self.config = self.checked_text.replace(self.key.rstrip('\n'), 'include "%s";' % key_path)
        self.secret = find_secrets(self.key)[0]


class Lab(object):
    """Paths in tmp_path, the captured dhcpd -t replayed, and main() run with arguments."""

    def __init__(self, tmp_path, run_command, get_bin_path):
        self.etc = tmp_path / 'dhcp'
        self.default = tmp_path / 'default'
        self.etc.mkdir()
        self.default.mkdir()
        self.path = str(self.etc / 'dhcpd.conf')
        self.key_path = str(self.etc / 'omapi-key.conf')
        self.defaults_path = str(self.default / 'isc-dhcp-server')
        self.run_command = run_command
        self.get_bin_path = get_bin_path
        self.checks = []

    def case(self, name):
        return Case(name, self.key_path)

    def replay(self, case):
        """``case``: a Case, or the name of a capture without a key (NAME.out)."""
        out = case.out if isinstance(case, Case) else read_fixture(case, '.out')

        def fake_run_command(argv, check_rc, environ_update):
            checked_file = argv[4]
            with open(checked_file, encoding='utf-8') as handle:
                content = handle.read()
            self.checks.append({'argv': list(argv), 'content': content, 'check_rc': check_rc,
                                'environ_update': environ_update,
                                'mode': stat.S_IMODE(os.stat(checked_file).st_mode)})
            printed = out['argv'][4]
            return (out['rc'], out['stdout'].replace(printed, checked_file),
                    out['stderr'].replace(printed, checked_file))
        self.run_command.side_effect = fake_run_command

    def args(self, **kwargs):
        args = {'path': self.path, 'key_path': self.key_path, 'defaults_path': self.defaults_path,
                'tmpdir': str(self.etc)}
        args.update(kwargs)
        return args

    def run(self, **kwargs):
        with patch_module_args(self.args(**kwargs)):
            try:
                dhcpd_config.main()
            except AnsibleExitJson as exc:
                return False, exc.args[0]
            except AnsibleFailJson as exc:
                return True, exc.args[0]
        raise AssertionError('main() returned without exit_json/fail_json')

    def deploy(self, config=OLD_CONFIG, key=OLD_KEY, defaults=OLD_DEFAULTS, key_mode=0o640):
        for path, content, mode in ((self.path, config, 0o644), (self.key_path, key, key_mode),
                                    (self.defaults_path, defaults, 0o644)):
            if content is not None:
                with open(path, 'w', encoding='utf-8') as handle:
                    handle.write(content)
                os.chmod(path, mode)

    def snapshot(self):
        """Every file (name, bytes, mode) under both directories."""
        files = {}
        for directory in (self.etc, self.default):
            for name in sorted(os.listdir(str(directory))):
                path = os.path.join(str(directory), name)
                with open(path, 'rb') as handle:
                    files[path] = (handle.read(), stat.S_IMODE(os.stat(path).st_mode))
        return files


@pytest.fixture
def lab(tmp_path):
    with mock.patch.multiple(basic.AnsibleModule, exit_json=exit_json, fail_json=fail_json), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path', return_value=DHCPD) as get_bin_path, \
            mock.patch.object(basic.AnsibleModule, 'run_command') as run_command:
        yield Lab(tmp_path, run_command, get_bin_path)


def read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_secret_not_in(value, secret):
    """Neither the secret nor any 8 characters of it in a row, anywhere in ``value``."""
    dumped = json.dumps(value)
    assert secret not in dumped
    for start in range(len(secret) - 7):
        assert secret[start:start + 8] not in dumped, secret[start:start + 8]


def full_write(lab, case, **kwargs):
    return lab.run(content=case.config, key_content=case.key, defaults_content=DEFAULTS, **kwargs)


def test_first_write_checks_then_writes_every_file(lab):
    case = lab.case('secret_valid')
    lab.replay(case)

    failed, result = full_write(lab, case)

    assert failed is False
    assert len(lab.checks) == 1
    check = lab.checks[0]
    assert check['argv'] == [DHCPD, '-t', '-4', '-cf', check['argv'][4]]
    assert os.path.dirname(check['argv'][4]) == str(lab.etc)
    assert check['mode'] == 0o600
    assert check['environ_update'] == {'LC_ALL': 'C'}
    # The new key, inlined in place of the include statement, is exactly what dhcpd accepted in the lab.
    assert check['content'] == case.checked_text
    assert result['checked'] is True
    assert result['changed'] is True
    assert result['changed_files'] == [lab.key_path, lab.path, lab.defaults_path]
    assert result['rollback'] == {lab.key_path: None, lab.path: None, lab.defaults_path: None}
    assert (read(lab.path), mode(lab.path)) == (case.config, 0o644)
    assert (read(lab.key_path), mode(lab.key_path)) == (case.key, 0o640)
    assert (read(lab.defaults_path), mode(lab.defaults_path)) == (DEFAULTS, 0o644)
    assert sorted(os.listdir(str(lab.etc))) == ['dhcpd.conf', 'omapi-key.conf']
    assert_secret_not_in(result, case.secret)


def test_no_change_does_not_run_dhcpd(lab):
    case = lab.case('secret_valid')
    lab.deploy(config=case.config, key=case.key, defaults=DEFAULTS)
    before = lab.snapshot()
    mtimes = dict((path, os.stat(path).st_mtime_ns) for path in before)

    failed, result = full_write(lab, case)

    assert failed is False
    assert result == {'changed': False, 'changed_files': [], 'rollback': {}, 'checked': False, 'dhcpd_warnings': [],
                      'failover_link_changed': False}
    lab.run_command.assert_not_called()
    assert lab.snapshot() == before
    assert dict((path, os.stat(path).st_mtime_ns) for path in before) == mtimes


def test_change_is_checked_written_and_backed_up(lab):
    case = lab.case('secret_valid')
    lab.deploy()
    lab.replay(case)

    failed, result = full_write(lab, case)

    assert failed is False
    assert result['checked'] is True and result['changed'] is True
    assert result['changed_files'] == [lab.key_path, lab.path, lab.defaults_path]
    assert sorted(result['rollback']) == sorted([lab.key_path, lab.path, lab.defaults_path])
    for path, old, new, new_mode in ((lab.path, OLD_CONFIG, case.config, 0o644),
                                     (lab.key_path, OLD_KEY, case.key, 0o640),
                                     (lab.defaults_path, OLD_DEFAULTS, DEFAULTS, 0o644)):
        backup = result['rollback'][path]
        assert os.path.dirname(backup) == os.path.dirname(path)
        assert os.path.basename(backup).startswith(os.path.basename(path) + '.%d.' % os.getpid())
        assert backup.endswith('~')
        assert (read(backup), mode(backup)) == (old, new_mode)
        assert (read(path), mode(path)) == (new, new_mode)
    assert len(os.listdir(str(lab.etc))) == 4          # two files, two backups, no temporary file


def test_key_backup_is_never_readable_by_others(lab):
    """backup_local copies with the umask's mode first: the module makes that 0600 for the key."""
    case = lab.case('secret_valid')
    lab.deploy()
    lab.replay(case)
    seen = {}
    real_copy = basic.AnsibleModule.backup_local

    def backup_local(self, fn):
        seen[fn] = os.umask(0o022)
        os.umask(seen[fn])
        return real_copy(self, fn)

    with mock.patch.object(basic.AnsibleModule, 'backup_local', backup_local):
        failed, result = full_write(lab, case)

    assert failed is False
    assert seen[lab.key_path] == 0o077
    assert seen[lab.path] != 0o077
    assert mode(result['rollback'][lab.key_path]) == 0o640


def test_a_wider_key_file_is_narrowed_before_the_new_key_moves_in(lab):
    case = lab.case('secret_valid')
    lab.deploy(key_mode=0o644)
    lab.replay(case)
    modes = []
    real_move = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, *args, **kwargs):
        if dest == lab.key_path:
            modes.append(mode(dest))
        return real_move(self, src, dest, *args, **kwargs)

    with mock.patch.object(basic.AnsibleModule, 'atomic_move', atomic_move):
        failed, result = full_write(lab, case)

    assert failed is False
    assert modes == [0o640]
    assert mode(lab.key_path) == 0o640


def test_only_the_mode_of_the_key_file_is_corrected_without_a_check(lab):
    case = lab.case('secret_valid')
    lab.deploy(config=case.config, key=case.key, defaults=DEFAULTS, key_mode=0o644)

    failed, result = full_write(lab, case, _ansible_diff=True)

    assert failed is False
    lab.run_command.assert_not_called()
    assert result['changed'] is True and result['checked'] is False
    assert result['changed_files'] == [lab.key_path]
    assert result['rollback'] == {}
    assert result['diff'] == [{'prepared': '%s: mode 0644, owner 0:0 -> mode 0640, owner 0:0' % lab.key_path}]
    assert mode(lab.key_path) == 0o640


# Each rejected case: where dhcpd's first error is, in the files as they will be written (the
# key was inlined at line 4 of dhcpd.conf; the key file has a comment line first), and the
# context dhcpd printed, masked.
REJECTED = [
    dict(name='secret_stuff_after', file='key', line=4,
         message="stuff after base64 '=' terminator: algorithm.",
         context=['    secret "********" algorithm;', '                                       ^']),
    dict(name='secret_semicolon_expected', file='key', line=1, message='semicolon expected.',
         context=['key omapi_key { algorithm hmac-md5; secret "********" }',
                  '                                                                       ^']),
    # dhcpd printed only the first 80 characters of the line: a piece of the secret.
    dict(name='secret_truncated_sha512', file='key', line=4, message="stuff after base64 '=' terminator: x.",
         context=['    secret "********"', '^']),
    # dhcpd put the part of the secret after its '=' in the message itself.
    dict(name='secret_terminator', file='key', line=4, message="stuff after base64 '=' terminator: ********.",
         context=['    secret "********";', '            ^']),
    # An error below the inlined key (5 lines in place of 1): back on dhcpd.conf's own line.
    dict(name='secret_after_key', file='config', line=19, message='primary failover server must have mclt.',
         context=['}', ' ^']),
]


@pytest.mark.parametrize('expected', REJECTED, ids=[expected['name'] for expected in REJECTED])
def test_rejected_change_writes_nothing_and_masks_the_secret(lab, expected):
    case = lab.case(expected['name'])
    lab.deploy()
    lab.replay(case)
    before = lab.snapshot()

    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        failed, result = full_write(lab, case, _ansible_diff=True)

    assert failed is True
    assert len(lab.checks) == 1
    assert lab.checks[0]['content'] == case.checked_text
    assert lab.snapshot() == before                      # byte-identical, no backup, no temporary file
    assert result['changed'] is False
    assert result['changed_files'] == [] and result['rollback'] == {}
    assert result['checked'] is True
    path = lab.key_path if expected['file'] == 'key' else lab.path
    assert result['errors'][0] == {'file': path, 'line': expected['line'], 'message': expected['message'],
                                   'context': expected['context']}
    assert result['errors'][-1]['message'] == 'Configuration file errors encountered -- exiting'
    assert result['msg'] == ('dhcpd -t rejected the new configuration; nothing was written: %s line %d: %s; '
                             'Configuration file errors encountered -- exiting'
                             % (path, expected['line'], expected['message']))
    # The secret is in what dhcpd printed, and in nothing the module returns or warns.
    assert case.secret[:20] in case.out['stderr'] or expected['name'] == 'secret_after_key'
    assert_secret_not_in(result, case.secret)
    assert_secret_not_in([call.args for call in warn.call_args_list], case.secret)


def test_key_absent_removes_the_key_file(lab):
    case = lab.case('secret_valid')
    lab.deploy(config=case.config, key=OLD_KEY, defaults=DEFAULTS)
    config = read_fixture('valid', '.conf')
    lab.replay('valid')

    failed, result = lab.run(content=config, key_state='absent', key_content='ignored', _ansible_diff=True)

    assert failed is False
    assert lab.checks[0]['content'] == config
    assert not os.path.exists(lab.key_path)
    backup = result['rollback'][lab.key_path]
    assert (read(backup), mode(backup)) == (OLD_KEY, 0o640)
    assert result['changed_files'] == [lab.path, lab.key_path]     # the include goes before the key
    assert result['diff'][1] == {'prepared': 'OMAPI key file %s is removed (its content is not shown)' % lab.key_path}
    assert_secret_not_in(result, find_secrets(OLD_KEY)[0])


def test_key_absent_refuses_a_configuration_that_still_includes_it(lab):
    case = lab.case('secret_valid')
    lab.deploy(config=case.config, key=case.key, defaults=DEFAULTS)
    before = lab.snapshot()

    failed, result = lab.run(content=case.config, key_state='absent')

    assert failed is True
    assert result['msg'] == ('key_state=absent removes %s, but the configuration (%s) still includes it; '
                             'nothing was written.' % (lab.key_path, lab.path))
    lab.run_command.assert_not_called()
    assert lab.snapshot() == before


def test_rollback_restores_replaced_files_and_removes_new_ones(lab):
    case = lab.case('secret_valid')
    lab.deploy(defaults=None, key_mode=0o600)            # no defaults file before the change
    os.chmod(lab.path, 0o640)
    before = lab.snapshot()
    lab.replay(case)
    failed, written = full_write(lab, case)
    assert failed is False
    assert written['rollback'][lab.defaults_path] is None
    lab.run_command.reset_mock()

    failed, result = lab.run(rollback=written['rollback'], _ansible_diff=True)

    assert failed is False
    lab.run_command.assert_not_called()
    assert result['changed'] is True and result['checked'] is False
    assert result['changed_files'] == [lab.key_path, lab.path, lab.defaults_path]
    assert result['rollback'] == {}
    after = lab.snapshot()
    backups = set(written['rollback'].values()) - {None}
    # Back to what it was (content and mode), the backups kept.
    assert dict((path, value) for path, value in after.items() if path not in backups) == before
    assert result['diff'][0] == {'prepared': 'OMAPI key file %s changes (its content is not shown)' % lab.key_path}
    assert result['diff'][1]['before'] == case.config and result['diff'][1]['after'] == OLD_CONFIG
    assert result['diff'][2]['before'] == DEFAULTS and result['diff'][2]['after'] == ''
    assert_secret_not_in(result, case.secret)
    assert_secret_not_in(result, find_secrets(OLD_KEY)[0])

    failed, again = lab.run(rollback=written['rollback'])
    assert failed is False
    assert again['changed'] is False and again['changed_files'] == []


@pytest.mark.parametrize('rollback, msg', [
    ({'/var/lib/dhcp/dhcpd.leases': None},
     'rollback: /var/lib/dhcp/dhcpd.leases is not a file this module writes'),
    ({'PATH': '/var/lib/dhcp/dhcpd.leases'}, 'rollback: /var/lib/dhcp/dhcpd.leases is not a backup of PATH'),
    ({'PATH': 'PATH.4711.2026-11-30@10:00:00~'},
     'rollback: cannot put back PATH: the backup PATH.4711.2026-11-30@10:00:00~ does not exist'),
])
def test_rollback_refuses_anything_but_its_files_and_their_backups(lab, rollback, msg):
    lab.deploy()
    before = lab.snapshot()
    rollback = dict((key.replace('PATH', lab.path), value.replace('PATH', lab.path) if value else value)
                    for key, value in rollback.items())
    # a valid entry too: nothing is changed when any entry is refused
    rollback[lab.defaults_path] = None

    failed, result = lab.run(rollback=rollback)

    assert failed is True
    assert result['msg'].startswith(msg.replace('PATH', lab.path))
    assert result['msg'].endswith('Nothing was changed.')
    assert lab.snapshot() == before


def test_check_mode_checks_and_writes_nothing(lab):
    case = lab.case('secret_valid')
    lab.deploy()
    lab.replay(case)
    before = lab.snapshot()

    failed, result = full_write(lab, case, _ansible_check_mode=True, _ansible_diff=True)

    assert failed is False
    assert len(lab.checks) == 1
    assert result['changed'] is True and result['checked'] is True
    assert result['changed_files'] == [lab.key_path, lab.path, lab.defaults_path]
    assert result['rollback'] == {}
    assert lab.snapshot() == before
    assert [entry.get('before_header', entry.get('prepared')) for entry in result['diff']] == [
        'OMAPI key file %s changes (its content is not shown)' % lab.key_path, lab.path, lab.defaults_path]


def test_check_mode_rejects_what_dhcpd_rejects(lab):
    case = lab.case('secret_stuff_after')
    lab.deploy()
    lab.replay(case)
    before = lab.snapshot()

    failed, result = full_write(lab, case, _ansible_check_mode=True)

    assert failed is True
    assert result['errors'][0]['file'] == lab.key_path
    assert lab.snapshot() == before
    assert_secret_not_in(result, case.secret)


def test_check_mode_without_dhcpd_warns(lab):
    case = lab.case('secret_valid')
    lab.deploy()
    lab.get_bin_path.return_value = None
    before = lab.snapshot()

    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        failed, result = full_write(lab, case, _ansible_check_mode=True)

    assert failed is False
    assert result['changed'] is True and result['checked'] is False
    lab.run_command.assert_not_called()
    warn.assert_called_once_with('dhcpd (/usr/sbin/dhcpd) is not installed: the new configuration was not checked '
                                 'with dhcpd -t')
    assert lab.snapshot() == before


def test_without_dhcpd_a_change_fails(lab):
    case = lab.case('secret_valid')
    lab.deploy()
    lab.get_bin_path.return_value = None
    before = lab.snapshot()

    failed, result = full_write(lab, case)

    assert failed is True
    assert result['msg'].startswith('dhcpd (/usr/sbin/dhcpd) is not installed: cannot check the new configuration')
    lab.run_command.assert_not_called()
    assert lab.snapshot() == before


def test_diff_shows_configuration_and_defaults_but_not_the_key(lab):
    case = lab.case('secret_valid')
    lab.deploy(key=None)
    lab.replay(case)

    failed, result = full_write(lab, case, _ansible_diff=True)

    assert failed is False
    assert result['diff'] == [
        {'prepared': 'OMAPI key file %s is created (its content is not shown)' % lab.key_path},
        {'before_header': lab.path, 'after_header': lab.path, 'before': OLD_CONFIG, 'after': case.config},
        {'before_header': lab.defaults_path, 'after_header': lab.defaults_path,
         'before': OLD_DEFAULTS, 'after': DEFAULTS},
    ]
    assert_secret_not_in(result, case.secret)


def test_diff_masks_a_secret_written_into_the_configuration_itself(lab):
    case = lab.case('secret_valid')
    lab.replay(case)
    # the same checked text, but as dhcpd.conf itself (no key file)
    failed, result = lab.run(content=case.checked_text, _ansible_diff=True)

    assert failed is False
    assert result['diff'][0]['after'] == case.checked_text.replace(case.secret, '********')
    assert_secret_not_in(result['diff'], case.secret)


def test_a_defaults_change_alone_checks_the_deployed_configuration(lab):
    case = lab.case('secret_valid')
    lab.deploy(config=case.config, key=case.key)
    lab.replay(case)

    failed, result = lab.run(defaults_content=DEFAULTS)

    assert failed is False
    # key not managed: dhcpd reads the deployed key file through the include
    assert lab.checks[0]['content'] == case.config
    assert result['changed_files'] == [lab.defaults_path]
    assert read(lab.defaults_path) == DEFAULTS


def test_key_not_included_warns(lab):
    case = lab.case('secret_valid')
    lab.replay('valid')

    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        failed, result = lab.run(content=read_fixture('valid', '.conf'), key_content=case.key)

    assert failed is False
    warn.assert_called_once_with('The configuration does not include the key file (include "%s";): the key file is '
                                 'written, but dhcpd does not read it and it was not checked.' % lab.key_path)


def test_argument_spec():
    spec = {}

    def capture(self, argument_spec, **kwargs):
        spec.update(argument_spec)
        spec['__kwargs'] = kwargs
        raise AnsibleExitJson({})

    with mock.patch.object(basic.AnsibleModule, '__init__', capture):
        with pytest.raises(AnsibleExitJson):
            dhcpd_config.main()
    assert spec['key_content']['no_log'] is True
    assert spec['key_path']['default'] == '/etc/dhcp/omapi-key.conf'
    assert spec['tmpdir']['default'] == '/etc/dhcp'
    assert spec['__kwargs']['supports_check_mode'] is True


LAB_PRIMARY = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'dhcpd_config', 'lab_primary.conf')


def lab_primary():
    with open(LAB_PRIMARY, encoding='utf-8') as handle:
        return handle.read()


@pytest.mark.parametrize('old, new, changed', [
    ('    port 647;', '    port 847;', True),
    ('    peer port 647;', '    peer port 847;', True),
    ('    address 10.231.45.2;', '    address 10.231.45.12;', True),
    ('    primary;', '    secondary;', True),
    ('failover peer "mepair" {', 'failover peer "other" {', True),
    ('    split 128;', '    split 200;', False),
    ('    mclt 30;', '    mclt 60;', False),
    ('default-lease-time 800;', 'default-lease-time 900;', False),
])
def test_failover_link_change_is_reported(lab, old, new, changed):
    """A real dhcpd.conf the role wrote in the lab, and the same with one statement changed."""
    deployed = lab_primary()
    assert deployed.count(old) == 1
    lab.deploy(config=deployed)
    lab.run_command.return_value = (0, '', '')

    failed, result = lab.run(content=deployed.replace(old, new))

    assert failed is False
    assert result['changed'] is True
    assert result['failover_link_changed'] is changed


def test_failover_links_of_the_lab_config():
    assert dhcpd_config.failover_links(lab_primary()) == {'mepair': sorted([
        ('primary', ''), ('address', '10.231.45.2'), ('port', '647'),
        ('peer address', '10.231.45.3'), ('peer port', '647')])}
