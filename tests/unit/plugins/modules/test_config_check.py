# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""dhcp.failover.config_check: main() with run_command patched to replay real dhcpd output."""

from __future__ import annotations

import json
import os
import stat
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible_collections.dhcp.failover.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dhcp.failover.plugins.modules import config_check

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'dhcpd_check')
DHCPD = '/usr/sbin/dhcpd'


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


def load_fixture(name):
    with open(os.path.join(FIXTURES, name + '.out'), encoding='utf-8') as handle:
        return json.load(handle)


def read_input(name):
    with open(os.path.join(FIXTURES, name + '.conf'), encoding='utf-8') as handle:
        return handle.read()


@pytest.fixture
def module_mocks():
    """Patch exit/fail and the dhcpd lookup; run_command is set by each test."""
    with mock.patch.multiple(basic.AnsibleModule, exit_json=exit_json, fail_json=fail_json), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path', return_value=DHCPD) as get_bin_path, \
            mock.patch.object(basic.AnsibleModule, 'run_command') as run_command:
        yield get_bin_path, run_command


def replay(fixture):
    return (fixture['rc'], fixture['stdout'], fixture['stderr'])


def run_module(args):
    """Run main(); return (failed, result)."""
    with patch_module_args(args):
        try:
            config_check.main()
        except AnsibleExitJson as exc:
            return False, exc.args[0]
        except AnsibleFailJson as exc:
            return True, exc.args[0]
    raise AssertionError('main() returned without exit_json/fail_json')


# Module arguments, the exact argv they must produce, whether the task fails, and its msg.
PATH_CASES = [
    dict(name='valid', args={'path': '/cfg/valid.conf'},
         argv=[DHCPD, '-t', '-4', '-cf', '/cfg/valid.conf'], failed=False, msg=None),
    dict(name='warning_lbms', args={'path': '/cfg/warning_lbms.conf'},
         argv=[DHCPD, '-t', '-4', '-cf', '/cfg/warning_lbms.conf'], failed=False, msg=None),
    dict(name='error_no_mclt', args={'path': '/cfg/error_no_mclt.conf'},
         argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_no_mclt.conf'], failed=True,
         msg='dhcpd check failed: /cfg/error_no_mclt.conf line 13: primary failover server must have mclt.; '
             'Configuration file errors encountered -- exiting'),
    dict(name='error_no_referring_pools', args={'path': '/cfg/error_no_referring_pools.conf'},
         argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_no_referring_pools.conf'], failed=True,
         msg='dhcpd check failed: ERROR: Failover peer, dhcp-failover, has no referring pools. You must refer to '
             'each peer in at least one pool declaration.; Failover configuration sanity check failed'),
    dict(name='error_missing_include', args={'path': '/cfg/error_missing_include.conf'},
         argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_missing_include.conf'], failed=True,
         msg="dhcpd check failed: Can't open /cfg/does-not-exist.conf: No such file or directory"),
    dict(name='lease_valid',
         args={'path': '/cfg/lease_valid.conf', 'lease_file': '/var/lib/dhcp/dhcpd.leases'},
         argv=[DHCPD, '-T', '-4', '-cf', '/cfg/lease_valid.conf', '-lf', '/var/lib/dhcp/dhcpd.leases'],
         failed=False, msg=None),
    dict(name='lease_missing',
         args={'path': '/cfg/lease_missing.conf', 'lease_file': '/var/lib/dhcp/dhcpd.leases'},
         argv=[DHCPD, '-T', '-4', '-cf', '/cfg/lease_missing.conf', '-lf', '/var/lib/dhcp/dhcpd.leases'],
         failed=True,
         msg="dhcpd check failed: Can't open lease database /var/lib/dhcp/dhcpd.leases: No such file or directory "
             "-- check for failed database rewrite attempt! Please read the dhcpd.leases manual page if you "
             "don't know what to do about this."),
    dict(name='lease_corrupt',
         args={'path': '/cfg/lease_corrupt.conf', 'lease_file': '/var/lib/dhcp/dhcpd.leases'},
         argv=[DHCPD, '-T', '-4', '-cf', '/cfg/lease_corrupt.conf', '-lf', '/var/lib/dhcp/dhcpd.leases'],
         failed=True,
         msg='dhcpd check failed: '
             '/var/lib/dhcp/dhcpd.leases line 14: expected colon separating minute from second.; '
             '/var/lib/dhcp/dhcpd.leases line 19: activ: expecting a binding state.; '
             '/var/lib/dhcp/dhcpd.leases line 20: possibly corrupt lease file; '
             'Corrupt lease file - possible data loss!'),
]


@pytest.mark.parametrize('case', PATH_CASES, ids=[case['name'] for case in PATH_CASES])
def test_path(module_mocks, case):
    dummy, run_command = module_mocks
    fixture = load_fixture(case['name'])
    run_command.return_value = replay(fixture)

    failed, result = run_module(case['args'])

    run_command.assert_called_once_with(case['argv'], check_rc=False, environ_update={'LC_ALL': 'C'})
    assert failed is case['failed']
    assert result['failed'] is case['failed']
    assert result.get('msg') == case['msg']
    assert result['changed'] is False
    assert result['valid'] is not case['failed']
    assert result['cmd'] == case['argv']
    assert (result['rc'], result['stdout'], result['stderr']) == replay(fixture)
    assert result['dhcpd_version'] == '4.4.3-P1'


def test_warning_is_returned_and_shown(module_mocks):
    dummy, run_command = module_mocks
    run_command.return_value = replay(load_fixture('warning_lbms'))
    text = ('WARNING: load balancing will be disabled for failover peer, dhcp-failover, '
            'because its load balance max secs is 0')

    with mock.patch.object(basic.AnsibleModule, 'warn') as warn:
        failed, result = run_module({'path': '/cfg/warning_lbms.conf'})

    assert failed is False
    assert result['dhcpd_warnings'] == [text]
    assert result['errors'] == []
    warn.assert_called_once_with('dhcpd: ' + text)


def test_errors_are_returned_with_position(module_mocks):
    dummy, run_command = module_mocks
    run_command.return_value = replay(load_fixture('error_split_range'))

    failed, result = run_module({'path': '/cfg/error_split_range.conf'})

    assert failed is True
    assert result['errors'][0] == {
        'file': '/cfg/error_split_range.conf', 'line': 12,
        'message': 'split must be between 0 and 256, inclusive', 'context': ['  split 300;', '         ^']}
    assert [error['line'] for error in result['errors']] == [12, 14, None]


def test_fail_on_invalid_false(module_mocks):
    dummy, run_command = module_mocks
    fixture = load_fixture('error_no_split')
    run_command.return_value = replay(fixture)

    failed, result = run_module({'path': '/cfg/error_no_split.conf', 'fail_on_invalid': False})

    assert failed is False
    # explicit, or Ansible would fail the task because of rc 1
    assert result['failed'] is False
    assert result['valid'] is False
    assert 'msg' not in result
    assert result['rc'] == 1
    assert result['errors'][0]['message'] == 'primary failover server must have hba or split.'


@pytest.mark.parametrize('name', ['valid', 'error_secondary_split'])
def test_check_mode_runs_the_same_check(module_mocks, name):
    dummy, run_command = module_mocks
    fixture = load_fixture(name)
    run_command.return_value = replay(fixture)

    failed, result = run_module({'path': '/cfg/%s.conf' % name, '_ansible_check_mode': True})

    run_command.assert_called_once_with([DHCPD, '-t', '-4', '-cf', '/cfg/%s.conf' % name],
                                        check_rc=False, environ_update={'LC_ALL': 'C'})
    assert failed is (fixture['rc'] != 0)
    assert result['valid'] is (fixture['rc'] == 0)
    assert result['changed'] is False


@pytest.mark.parametrize('name', ['valid', 'error_dynamic_bootp'])
def test_content_is_checked_in_a_private_temp_file_that_is_removed(module_mocks, tmp_path, name):
    dummy, run_command = module_mocks
    content = read_input(name)
    fixture = load_fixture(name)
    seen = {}

    def fake_run_command(argv, check_rc, environ_update):
        config_file = argv[4]
        seen['argv'] = list(argv)
        seen['mode'] = stat.S_IMODE(os.stat(config_file).st_mode)
        with open(config_file, encoding='utf-8') as handle:
            seen['content'] = handle.read()
        assert environ_update == {'LC_ALL': 'C'}
        return replay(fixture)

    run_command.side_effect = fake_run_command

    failed, result = run_module({'content': content, 'tmpdir': str(tmp_path)})

    config_file = seen['argv'][4]
    assert seen['argv'] == [DHCPD, '-t', '-4', '-cf', config_file]
    assert os.path.dirname(config_file) == str(tmp_path)
    assert seen['mode'] == 0o600
    assert seen['content'] == content
    assert os.listdir(str(tmp_path)) == []
    assert result['cmd'] == seen['argv']
    assert failed is (fixture['rc'] != 0)


def test_content_with_lease_file(module_mocks, tmp_path):
    dummy, run_command = module_mocks
    run_command.return_value = replay(load_fixture('lease_valid'))

    failed, result = run_module({'content': read_input('lease_valid'), 'tmpdir': str(tmp_path),
                                 'lease_file': '/var/lib/dhcp/dhcpd.leases'})

    argv = run_command.call_args[0][0]
    assert argv[:4] == [DHCPD, '-T', '-4', '-cf']
    assert argv[5:] == ['-lf', '/var/lib/dhcp/dhcpd.leases']
    assert os.path.dirname(argv[4]) == str(tmp_path)
    assert failed is False
    assert os.listdir(str(tmp_path)) == []


def test_temp_file_is_removed_when_the_command_fails(module_mocks, tmp_path):
    dummy, run_command = module_mocks
    # run_command itself calls fail_json when the program cannot be executed
    run_command.side_effect = AnsibleFailJson({'msg': '[Errno 13] Permission denied', 'failed': True})

    failed, result = run_module({'content': 'authoritative;\n', 'tmpdir': str(tmp_path)})

    assert failed is True
    assert result['msg'] == '[Errno 13] Permission denied'
    assert os.listdir(str(tmp_path)) == []


def test_content_default_tmpdir_is_etc_dhcp(module_mocks):
    dummy, run_command = module_mocks
    run_command.return_value = replay(load_fixture('valid'))

    with mock.patch.object(config_check, 'write_temp_config', return_value='/etc/dhcp/.dhcpd-check-x.conf') as write, \
            mock.patch.object(config_check, 'remove_temp_config') as remove:
        failed, result = run_module({'content': 'authoritative;\n'})

    write.assert_called_once_with('authoritative;\n', '/etc/dhcp')
    remove.assert_called_once_with('/etc/dhcp/.dhcpd-check-x.conf')
    assert failed is False


def test_missing_tmpdir_fails_clearly(module_mocks, tmp_path):
    dummy, run_command = module_mocks
    missing = str(tmp_path / 'missing')

    failed, result = run_module({'content': 'authoritative;\n', 'tmpdir': missing})

    assert failed is True
    assert result['msg'].startswith('Cannot write the configuration to a temporary file in %s: ' % missing)
    run_command.assert_not_called()


def test_content_is_not_logged():
    spec = {}

    def capture_spec(self, argument_spec, **kwargs):
        spec.update(argument_spec)
        raise AnsibleExitJson({})

    with mock.patch.object(basic.AnsibleModule, '__init__', capture_spec):
        with pytest.raises(AnsibleExitJson):
            config_check.main()
    assert spec['content']['no_log'] is True


def test_dhcpd_option_is_resolved(module_mocks):
    get_bin_path, run_command = module_mocks
    get_bin_path.return_value = '/usr/local/sbin/dhcpd'
    run_command.return_value = replay(load_fixture('valid'))

    failed, result = run_module({'path': '/cfg/valid.conf', 'dhcpd': 'dhcpd'})

    get_bin_path.assert_called_once_with('dhcpd', required=True)
    assert result['cmd'] == ['/usr/local/sbin/dhcpd', '-t', '-4', '-cf', '/cfg/valid.conf']
    assert failed is False


@pytest.mark.parametrize('args, msg', [
    ({}, 'one of the following is required: path, content'),
    ({'path': '/etc/dhcp/dhcpd.conf', 'content': 'authoritative;\n'},
     'parameters are mutually exclusive: path|content'),
])
def test_path_or_content(module_mocks, args, msg):
    dummy, run_command = module_mocks

    failed, result = run_module(args)

    assert failed is True
    assert result['msg'] == msg
    run_command.assert_not_called()
