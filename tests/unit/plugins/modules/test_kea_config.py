# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""dhcp.failover.kea_config: main() on files in a temporary directory, kea-dhcp4 replayed.

Only ``run_command`` is faked, and only with real captures (tests/unit/fixtures/kea/check, see
the README there): ``kea-dhcp4 -v`` answers with the captured version, and a check answers with
what the real Kea printed for exactly the text the module wrote to its temporary file - the
fake looks the text up among the captured inputs of that version and fails the test if none is
the same. So the module must build, byte for byte, the copy Kea really accepted (for 2.6: HA
multi-threading off); checking the config as written would replay the -T false failure.
"""

from __future__ import annotations

import json
import os
import stat
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible_collections.dhcp.failover.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dhcp.failover.plugins.module_utils import _kea_check
from ansible_collections.dhcp.failover.plugins.modules import kea_config

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'kea', 'check')
KEA = '/usr/sbin/kea-dhcp4'
OLD = '{"Dhcp4": {"subnet4": []}}\n'


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


def fixture(version, name, ext):
    with open(os.path.join(FIXTURES, version, name + ext), encoding='utf-8') as handle:
        return json.load(handle) if ext == '.out' else handle.read()


def inputs(version):
    names = sorted(name[:-5] for name in os.listdir(os.path.join(FIXTURES, version)) if name.endswith('.json'))
    return dict((fixture(version, name, '.json'), name) for name in names)


def content_of(version, name):
    """The text the role gives the module for a captured case: for 2.6, the config before the -T copy."""
    text = fixture(version, name, '.json')
    if version == '2.2' or name in ('valid_lb_listener', 'syntax_error'):
        return text
    config = json.loads(text)
    for hook in config['Dhcp4']['hooks-libraries']:
        for block in (hook.get('parameters') or {}).get('high-availability') or []:
            block['multi-threading'].update({'enable-multi-threading': True, 'http-dedicated-listener': True})
    return _kea_check.dumps(config).rstrip('\n')


class Lab(object):
    def __init__(self, tmp_path, run_command, version):
        self.etc = tmp_path / 'kea'
        self.etc.mkdir()
        self.path = str(self.etc / 'kea-dhcp4.conf')
        self.run_command = run_command
        self.version = version
        self.checks = []
        self.inputs = inputs(version)
        run_command.side_effect = self.fake

    def fake(self, argv, check_rc, environ_update):
        assert environ_update['LC_ALL'] == 'C' and check_rc is False
        if argv[1:] == ['-v']:
            out = fixture(self.version, 'version', '.out')
            return out['rc'], out['stdout'], out['stderr']
        checked = argv[2]
        with open(checked, encoding='utf-8') as handle:
            text = handle.read()
        self.checks.append({'argv': list(argv), 'mode': stat.S_IMODE(os.stat(checked).st_mode),
                            'dir': os.path.dirname(checked)})
        assert text in self.inputs, 'the module checked a text Kea %s was never run on' % self.version
        name = self.inputs[text]
        out = fixture(self.version, name, '.out')
        assert argv[1] == out['argv'][1], (argv, out['argv'])
        printed = out['argv'][2]
        self.checks[-1]['case'] = name
        return out['rc'], out['stdout'].replace(printed, checked), out['stderr'].replace(printed, checked)

    def run(self, **kwargs):
        args = {'path': self.path, 'tmpdir': str(self.etc)}
        args.update(kwargs)
        with patch_module_args(args):
            try:
                kea_config.main()
            except AnsibleExitJson as exc:
                return False, exc.args[0]
            except AnsibleFailJson as exc:
                return True, exc.args[0]
        raise AssertionError('main() returned without exit_json/fail_json')

    def files(self):
        return sorted(os.listdir(str(self.etc)))


def make_lab(tmp_path, version):
    patches = [mock.patch.multiple(basic.AnsibleModule, exit_json=exit_json, fail_json=fail_json),
               mock.patch.object(basic.AnsibleModule, 'get_bin_path', return_value=KEA),
               mock.patch.object(basic.AnsibleModule, 'run_command')]
    started = [patch.start() for patch in patches]
    return Lab(tmp_path, started[2], version), patches


@pytest.fixture(params=['2.2', '2.6'])
def lab(request, tmp_path):
    lab, patches = make_lab(tmp_path, request.param)
    yield lab
    for patch in patches:
        patch.stop()


@pytest.fixture
def lab22(tmp_path):
    lab, patches = make_lab(tmp_path, '2.2')
    yield lab
    for patch in patches:
        patch.stop()


@pytest.fixture
def lab26(tmp_path):
    lab, patches = make_lab(tmp_path, '2.6')
    yield lab
    for patch in patches:
        patch.stop()


def read(path):
    with open(path, encoding='utf-8') as handle:
        return handle.read()


def test_first_write_runs_the_best_check_of_the_version_then_writes(lab):
    content = content_of(lab.version, 'valid_lb')
    failed, result = lab.run(content=content)
    assert not failed, result
    flag = {'2.2': '-t', '2.6': '-T'}[lab.version]
    assert result['version'] == {'2.2': '2.2.0', '2.6': '2.6.3'}[lab.version]
    assert result['check_command'][:2] == [KEA, flag] and result['checked'] is True
    assert [check['case'] for check in lab.checks] == ['valid_lb']
    assert lab.checks[0]['mode'] == 0o600 and lab.checks[0]['dir'] == str(lab.etc)
    assert read(lab.path) == content
    assert result['changed'] and result['changed_files'] == [lab.path] and result['rollback'] == {lab.path: None}
    assert lab.files() == ['kea-dhcp4.conf'], 'the temporary copy is left behind'


def test_hot_standby_config_is_accepted(lab):
    failed, result = lab.run(content=content_of(lab.version, 'valid_hs'))
    assert not failed and [check['case'] for check in lab.checks] == ['valid_hs']


def test_no_change_runs_nothing(lab):
    content = content_of(lab.version, 'valid_lb')
    lab.run(content=content)
    lab.run_command.reset_mock()
    failed, result = lab.run(content=content)
    assert not failed and not result['changed'] and not result['checked'] and result['changed_files'] == []
    lab.run_command.assert_not_called()


@pytest.mark.parametrize('name, kind, words', [
    ('bad_mode', 'HA_CONFIGURATION_FAILED', "unsupported value 'bogus' for mode parameter"),
    ('missing_peer_name', 'HA_CONFIGURATION_FAILED', "no peer configuration specified for the 'nobody'"),
    ('lease_outside', 'DHCPSRV_MEMFILE_FAILED_TO_OPEN', "invalid path specified: '/tmp', supported path is '/var/lib/kea'"),
    ('missing_hook', 'HOOKS_OPEN_ERROR', 'libdhcp_no_such.so: cannot open shared object file'),
])
def test_kea_26_rejects_what_only_t_capital_sees_and_nothing_is_written(lab26, name, kind, words):
    with open(lab26.path, 'w', encoding='utf-8') as handle:
        handle.write(OLD)
    failed, result = lab26.run(content=content_of('2.6', name))
    assert failed, result
    assert [check['case'] for check in lab26.checks] == [name]
    first = result['errors'][0]
    assert first['id'] == kind and words in first['message'], result['errors']
    assert 'nothing was written' in result['msg'] and words in result['msg']
    assert read(lab26.path) == OLD and lab26.files() == ['kea-dhcp4.conf']
    assert 'Dhcp4' not in result['msg'], 'the file content is never shown'


def test_kea_22_t_is_blind_to_bad_mode_peer_name_lease_path_and_unsplit_pool(lab22):
    """What the pair checks on the controller must catch: kea-dhcp4 -t on 2.2.0 accepts all four."""
    for name in ('bad_mode', 'missing_peer_name', 'lease_outside', 'unsplit_pool'):
        failed, result = lab22.run(content=content_of('2.2', name))
        assert not failed, (name, result)
    assert [check['case'] for check in lab22.checks] == ['bad_mode', 'missing_peer_name', 'lease_outside',
                                                         'unsplit_pool']


def test_kea_26_t_capital_is_blind_to_an_unsplit_pool(lab26):
    failed, result = lab26.run(content=content_of('2.6', 'unsplit_pool'))
    assert not failed, result


@pytest.mark.parametrize('version, name, kind, line, column', [
    ('2.2', 'unknown_option', 'DHCP4_PARSER_FAIL', 82, 33),
    ('2.6', 'unknown_option', 'DHCP4_PARSER_FAIL', 82, 33),
    ('2.2', 'missing_hook', 'DHCP4_PARSER_FAIL', 15, 9),
    ('2.2', 'syntax_error', 'SYNTAX_ERROR', 62, 13),
    ('2.6', 'syntax_error', 'SYNTAX_ERROR', 62, 13),
])
def test_errors_name_the_file_line_and_column_of_the_content(tmp_path, version, name, kind, line, column):
    lab, patches = make_lab(tmp_path, version)
    try:
        content = content_of(version, name)
        failed, result = lab.run(content=content)
    finally:
        for patch in patches:
            patch.stop()
    assert failed
    found = [error for error in result['errors'] if error['id'] == kind]
    assert found, result['errors']
    assert (found[0]['file'], found[0]['line'], found[0]['column']) == (lab.path, line, column)
    # The position is one in the text as it will be written (the same lines as the checked copy).
    assert content.splitlines()[line - 1].strip()
    assert not os.path.exists(lab.path)


def test_the_t_capital_false_failure_is_real_and_avoided():
    """Kea 2.6.3 -T on the config as written fails on the dedicated listener; the module never checks that text."""
    out = fixture('2.6', 'valid_lb_listener', '.out')
    parsed = _kea_check.parse_output(out['rc'], out['stdout'], out['stderr'])
    assert not parsed['valid']
    assert parsed['errors'][-1]['message'] == ('Error initializing hooks: CmdHttpListener cannot be started when '
                                               'multi-threading is disabled')
    written = json.loads(fixture('2.6', 'valid_lb_listener', '.json'))
    assert _kea_check.dumps(_kea_check.checkable_copy(written)) == fixture('2.6', 'valid_lb', '.json')


def test_change_is_backed_up_and_rolled_back(lab):
    with open(lab.path, 'w', encoding='utf-8') as handle:
        handle.write(OLD)
    os.chmod(lab.path, 0o644)
    failed, result = lab.run(content=content_of(lab.version, 'valid_lb'))
    assert not failed
    backup = result['rollback'][lab.path]
    assert read(backup) == OLD and os.path.dirname(backup) == str(lab.etc)
    lab.run_command.reset_mock()
    failed, undone = lab.run(rollback=result['rollback'])
    assert not failed and undone['changed'] and undone['changed_files'] == [lab.path]
    assert read(lab.path) == OLD
    lab.run_command.assert_not_called()
    failed, again = lab.run(rollback=result['rollback'])
    assert not failed and not again['changed']


def test_rollback_of_a_new_file_removes_it(lab):
    failed, result = lab.run(content=content_of(lab.version, 'valid_lb'))
    failed, undone = lab.run(rollback=result['rollback'])
    assert not failed and undone['changed'] and not os.path.exists(lab.path)


@pytest.mark.parametrize('rollback, words', [
    ({'/etc/other.conf': None}, 'is not the file this module writes'),
    ('backup-elsewhere', 'is not a backup of'),
    ('missing', 'does not exist'),
])
def test_rollback_refuses_anything_but_its_file_and_backups(lab, rollback, words):
    with open(lab.path, 'w', encoding='utf-8') as handle:
        handle.write(OLD)
    if rollback == 'backup-elsewhere':
        rollback = {lab.path: '/tmp/kea-dhcp4.conf.1.2026~'}
    elif rollback == 'missing':
        rollback = {lab.path: lab.path + '.1.2026-12-02@07:00:00~'}
    failed, result = lab.run(rollback=rollback)
    assert failed and words in result['msg'] and read(lab.path) == OLD


def test_check_mode_checks_and_writes_nothing(lab):
    failed, result = lab.run(content=content_of(lab.version, 'valid_lb'), _ansible_check_mode=True, _ansible_diff=True)
    assert not failed and result['changed'] and result['changed_files'] == [lab.path]
    assert result['checked'] and result['rollback'] == {}
    assert result['diff']['before_header'] == '%s (absent)' % lab.path and result['diff']['after'].startswith('{')
    assert not os.path.exists(lab.path)


def test_check_mode_fails_on_what_kea_rejects(lab26):
    failed, result = lab26.run(content=content_of('2.6', 'bad_mode'), _ansible_check_mode=True)
    assert failed and result['errors'][0]['id'] == 'HA_CONFIGURATION_FAILED'


def test_validate_false_writes_without_running_kea(lab):
    failed, result = lab.run(content=content_of(lab.version, 'bad_mode'), validate=False)
    assert not failed and result['changed'] and not result['checked']
    lab.run_command.assert_not_called()


def test_only_the_mode_is_corrected_without_a_check(lab):
    content = content_of(lab.version, 'valid_lb')
    lab.run(content=content)
    os.chmod(lab.path, 0o666)
    lab.run_command.reset_mock()
    failed, result = lab.run(content=content)
    assert not failed and result['changed'] and result['rollback'] == {}
    assert stat.S_IMODE(os.stat(lab.path).st_mode) in (0o640, 0o644)
    lab.run_command.assert_not_called()


def test_kea_not_installed_fails_before_writing(tmp_path):
    lab, patches = make_lab(tmp_path, '2.6')
    patches[1].stop()
    try:
        with mock.patch.object(basic.AnsibleModule, 'get_bin_path', return_value=None):
            failed, result = lab.run(content=content_of('2.6', 'valid_lb'))
            assert failed and 'not installed' in result['msg'] and not os.path.exists(lab.path)
            failed, result = lab.run(content=content_of('2.6', 'valid_lb'), _ansible_check_mode=True)
            assert not failed and not result['checked']
    finally:
        for patch in (patches[0], patches[2]):
            patch.stop()


@pytest.mark.parametrize('text, version, flag', [
    ('2.2.0\n', '2.2.0', '-t'), ('2.6.3\n', '2.6.3', '-T'), ('2.3.6', '2.3.6', '-T'), ('2.3.5', '2.3.5', '-t'),
])
def test_version_picks_the_check(text, version, flag):
    numbers, found = _kea_check.parse_version(text)
    assert found == version and _kea_check.check_flag(numbers) == flag


def test_real_version_captures():
    assert _kea_check.parse_version(fixture('2.2', 'version', '.out')['stdout'])[1] == '2.2.0'
    assert _kea_check.parse_version(fixture('2.6', 'version', '.out')['stdout'])[1] == '2.6.3'


def test_warnings_are_kept_not_errors():
    out = fixture('2.6', 'valid_lb', '.out')
    parsed = _kea_check.parse_output(out['rc'], out['stdout'], out['stderr'])
    assert parsed['valid'] and parsed['errors'] == []
    assert any(warning.startswith('DHCP4_RESERVATIONS_LOOKUP_FIRST_ENABLED') for warning in parsed['warnings'])


NET = {'2.2': '10.231.73.', '2.6': '10.231.74.'}   # the captured configs' subnets


def carried(version):
    return [{'subnet_id': 1, 'address': NET[version] + '130', 'client_class': 'HA_kea2'},
            {'subnet_id': 1, 'address': NET[version] + '199', 'client_class': 'HA_kea1'}]


def pools_in(path):
    with open(path, encoding='utf-8') as handle:
        return [(pool['pool'], pool['client-class'], 'user-context' in pool)
                for pool in json.load(handle)['Dhcp4']['subnet4'][0]['pools']]


def test_carried_addresses_get_pools_of_their_own_and_later_writes_keep_them(lab):
    # validate=False: the carved text is not among the captured Kea runs (molecule/migrate runs Kea's check on it).
    content = content_of(lab.version, 'valid_lb')
    failed, result = lab.run(content=content, carried_addresses=carried(lab.version), validate=False)
    assert not failed and result['changed'] and result['carried'] == 2
    n = NET[lab.version]
    expected = [(n + '120 - ' + n + '129', 'HA_kea1', False), (n + '130 - ' + n + '130', 'HA_kea2', True),
                (n + '131 - ' + n + '160', 'HA_kea1', False), (n + '161 - ' + n + '198', 'HA_kea2', False),
                (n + '199 - ' + n + '199', 'HA_kea1', True), (n + '200 - ' + n + '200', 'HA_kea2', False)]
    assert pools_in(lab.path) == expected
    # the role's next run passes the plain rendering: nothing changes, nothing is run
    lab.run_command.reset_mock()
    failed, result = lab.run(content=content)
    assert not failed and not result['changed'] and result['carried'] == 2
    lab.run_command.assert_not_called()
    assert pools_in(lab.path) == expected


def test_a_changed_rendering_keeps_the_carried_pools_and_kea_checks_the_text_written(lab):
    n = NET[lab.version]
    lab.run(content=content_of(lab.version, 'valid_lb'), carried_addresses=carried(lab.version), validate=False)
    config = json.loads(content_of(lab.version, 'valid_lb'))
    config['Dhcp4']['subnet4'][0]['pools'][1]['pool'] = n + '161 - ' + n + '180'   # shrunk below .199
    failed, result = lab.run(content=_kea_check.dumps(config), validate=False)
    assert not failed and result['changed'] and result['carried'] == 1
    assert [entry for entry in pools_in(lab.path) if entry[2]] == [(n + '130 - ' + n + '130', 'HA_kea2', True)]
    assert not any(pool.startswith(n + '199') or pool.endswith('.200') for pool, _cls, _mark in pools_in(lab.path))
