# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parsing real ``dhcpd -t``/``-T`` output (tests/unit/fixtures/dhcpd_check, see its README)."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.dhcp.failover.plugins.module_utils._dhcpd_check import (
    MASK,
    SecretMasker,
    build_argv,
    find_secrets,
    format_errors,
    inline_include,
    parse_output,
    relocate_errors,
    remove_temp_config,
    write_temp_config,
)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'dhcpd_check')
DHCPD = '/usr/sbin/dhcpd'
CONFIG_ERRORS_ENCOUNTERED = {
    'file': None, 'line': None, 'message': 'Configuration file errors encountered -- exiting', 'context': [],
}


def load_fixture(name):
    with open(os.path.join(FIXTURES, name + '.out'), encoding='utf-8') as handle:
        return json.load(handle)


def key_secret(name):
    """The secret of a captured case's key file (secret_NAME.key, inlined in secret_NAME.conf)."""
    with open(os.path.join(FIXTURES, name + '.key'), encoding='utf-8') as handle:
        return find_secrets(handle.read())[0]


def located(name, line, message, context):
    return {'file': '/cfg/%s.conf' % name, 'line': line, 'message': message, 'context': context}


# Each case: fixture name, the exact argv, dhcpd's rc, and the parse result expected from the
# captured stdout/stderr.
CASES = [
    dict(
        name='valid',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/valid.conf'],
        rc=0,
        valid=True,
        errors=[],
        warnings=[],
    ),
    dict(
        name='warning_lbms',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/warning_lbms.conf'],
        rc=0,
        valid=True,
        errors=[],
        warnings=['WARNING: load balancing will be disabled for failover peer, dhcp-failover, '
                  'because its load balance max secs is 0'],
    ),
    dict(
        name='error_no_split',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_no_split.conf'],
        rc=1,
        valid=False,
        errors=[
            located('error_no_split', 13, 'primary failover server must have hba or split.', ['}', ' ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_no_mclt',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_no_mclt.conf'],
        rc=1,
        valid=False,
        errors=[
            located('error_no_mclt', 13, 'primary failover server must have mclt.', ['}', ' ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_secondary_split',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_secondary_split.conf'],
        rc=1,
        valid=False,
        errors=[
            located('error_secondary_split', 11, 'secondary may not define load balance settings.',
                    ['  split 128;', '         ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_split_range',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_split_range.conf'],
        rc=1,
        valid=False,
        errors=[
            located('error_split_range', 12, 'split must be between 0 and 256, inclusive',
                    ['  split 300;', '         ^']),
            located('error_split_range', 14, 'primary failover server must have hba or split.', ['}', ' ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_no_peer_address',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_no_peer_address.conf'],
        rc=1,
        valid=False,
        errors=[
            located('error_no_peer_address', 13, 'peer address may not be omitted', ['}', ' ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_peer_not_found',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_peer_not_found.conf'],
        rc=1,
        valid=False,
        errors=[
            located('error_peer_not_found', 22, 'failover peer other-peer: not found',
                    ['    failover peer "other-peer"', '                   ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_no_referring_pools',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_no_referring_pools.conf'],
        rc=1,
        valid=False,
        errors=[
            {'file': None, 'line': None, 'context': [],
             'message': 'ERROR: Failover peer, dhcp-failover, has no referring pools. '
                        'You must refer to each peer in at least one pool declaration.'},
            {'file': None, 'line': None, 'context': [], 'message': 'Failover configuration sanity check failed'},
        ],
        warnings=[],
    ),
    dict(
        name='error_peer_in_subnet',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_peer_in_subnet.conf'],
        rc=1,
        valid=False,
        errors=[
            # The second half of the message comes after the caret line; it is joined back.
            located('error_peer_in_subnet', 3,
                    'failover peers may only be defined in shared-network declarations and the outer scope.',
                    ['subnet 10.231.20.0 netmask 255.255.255.0 {', '                                          ^']),
            located('error_peer_in_subnet', 17, 'failover peer dhcp-failover: not found',
                    ['    failover peer "dhcp-failover"', '                   ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_dynamic_bootp',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_dynamic_bootp.conf'],
        rc=1,
        valid=False,
        errors=[
            located('error_dynamic_bootp', 19,
                    'dynamic-bootp flag is not permitted for address range declarations where there is a failover '
                    'peer in scope.   If you wish to declare an address range from which dynamic bootp leases '
                    'can be allocated, please declare it within a pool declaration that also contains the "no '
                    'failover" statement.   The failover protocol itself does not permit dynamic bootp - this '
                    'is not a limitation specific to the ISC DHCP server.   Please don\'t ask me to defend this '
                    'until you have read and really tried to understand the failover protocol specification.',
                    ['    range dynamic-bootp 10.231.20.10 10.231.20.100;',
                     '                                                   ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_expecting_secs',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_expecting_secs.conf'],
        rc=1,
        valid=False,
        errors=[
            located('error_expecting_secs', 13, "expecting 'secs'", ['  load balance max secs', '                    ^']),
            located('error_expecting_secs', 16, 'semicolon expected.', ['subnet', ' ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_syntax',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_syntax.conf'],
        rc=1,
        valid=False,
        errors=[
            located('error_syntax', 5, 'semicolon expected.', ['}', ' ^']),
            located('error_syntax', 5, 'unexpected end of file', ['}', ' ^']),
            CONFIG_ERRORS_ENCOUNTERED,
        ],
        warnings=[],
    ),
    dict(
        name='error_missing_include',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/error_missing_include.conf'],
        rc=1,
        valid=False,
        errors=[
            {'file': '/cfg/does-not-exist.conf', 'line': None, 'context': [],
             'message': "Can't open /cfg/does-not-exist.conf: No such file or directory"},
        ],
        warnings=[],
    ),
    dict(
        name='lease_valid',
        argv=[DHCPD, '-T', '-4', '-cf', '/cfg/lease_valid.conf', '-lf', '/var/lib/dhcp/dhcpd.leases'],
        rc=0,
        valid=True,
        errors=[],
        warnings=[],
    ),
    dict(
        # dhcpd -T exits with 0 on a corrupt lease file: the errors alone make it invalid.
        name='lease_corrupt',
        argv=[DHCPD, '-T', '-4', '-cf', '/cfg/lease_corrupt.conf', '-lf', '/var/lib/dhcp/dhcpd.leases'],
        rc=0,
        valid=False,
        errors=[
            {'file': '/var/lib/dhcp/dhcpd.leases', 'line': 14,
             'message': 'expected colon separating minute from second.',
             'context': ['  ends 1 2025/11/24 15:11;', '                       ^']},
            {'file': '/var/lib/dhcp/dhcpd.leases', 'line': 19, 'message': 'activ: expecting a binding state.',
             'context': ['', '^']},
            {'file': '/var/lib/dhcp/dhcpd.leases', 'line': 20, 'message': 'possibly corrupt lease file',
             'context': ['  next binding state expired;', '                             ^']},
            # printed three times, returned once
            {'file': None, 'line': None, 'message': 'Corrupt lease file - possible data loss!', 'context': []},
        ],
        warnings=[],
    ),
    dict(
        # dhcpd -T needs the lease file to exist (a new server's package creates it empty).
        name='lease_missing',
        argv=[DHCPD, '-T', '-4', '-cf', '/cfg/lease_missing.conf', '-lf', '/var/lib/dhcp/dhcpd.leases'],
        rc=1,
        valid=False,
        errors=[
            # four lines in stderr, one message
            {'file': '/var/lib/dhcp/dhcpd.leases', 'line': None, 'context': [],
             'message': "Can't open lease database /var/lib/dhcp/dhcpd.leases: No such file or directory -- "
                        "check for failed database rewrite attempt! Please read the dhcpd.leases manual page "
                        "if you don't know what to do about this."},
        ],
        warnings=[],
    ),
    # The OMAPI key file inlined in place of its include statement (dhcp.failover.dhcpd_config),
    # secret_NAME.key being the key file: what dhcpd prints about a key shows its secret, whole,
    # cut at 80 characters, or (after an '=' inside it) in the message.
    dict(
        name='secret_valid',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/secret_valid.conf'],
        rc=0,
        valid=True,
        errors=[],
        warnings=[],
    ),
    dict(
        name='secret_after_key',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/secret_after_key.conf'],
        rc=1,
        valid=False,
        errors=[located('secret_after_key', 23, 'primary failover server must have mclt.', ['}', ' ^']),
                CONFIG_ERRORS_ENCOUNTERED],
        warnings=[],
    ),
    dict(
        name='secret_stuff_after',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/secret_stuff_after.conf'],
        rc=1,
        valid=False,
        errors=[located('secret_stuff_after', 7, "stuff after base64 '=' terminator: algorithm.",
                        ['    secret "%s" algorithm;' % key_secret('secret_stuff_after'),
                         '                                       ^']),
                CONFIG_ERRORS_ENCOUNTERED],
        warnings=[],
    ),
    dict(
        name='secret_semicolon_expected',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/secret_semicolon_expected.conf'],
        rc=1,
        valid=False,
        errors=[located('secret_semicolon_expected', 4, 'semicolon expected.',
                        ['key omapi_key { algorithm hmac-md5; secret "%s" }' % key_secret('secret_semicolon_expected'),
                         '                                                                       ^']),
                CONFIG_ERRORS_ENCOUNTERED],
        warnings=[],
    ),
    dict(
        name='secret_truncated_sha512',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/secret_truncated_sha512.conf'],
        rc=1,
        valid=False,
        errors=[located('secret_truncated_sha512', 7, "stuff after base64 '=' terminator: x.",
                        # the first 80 characters of the line
                        ['    secret "%s' % key_secret('secret_truncated_sha512')[:68], '^']),
                CONFIG_ERRORS_ENCOUNTERED],
        warnings=[],
    ),
    dict(
        name='secret_terminator',
        argv=[DHCPD, '-t', '-4', '-cf', '/cfg/secret_terminator.conf'],
        rc=1,
        valid=False,
        errors=[located('secret_terminator', 7, "stuff after base64 '=' terminator: %s."
                        % key_secret('secret_terminator').split('=', 1)[1],
                        ['    secret "%s";' % key_secret('secret_terminator'), '            ^']),
                CONFIG_ERRORS_ENCOUNTERED],
        warnings=[],
    ),
    dict(
        name='lease_valid_readonly',
        argv=[DHCPD, '-T', '-4', '-cf', '/cfg/lease_valid_readonly.conf', '-lf', '/cfg/lease_valid_readonly.leases'],
        rc=0,
        valid=False,
        errors=[
            {'file': None, 'line': None, 'context': [],
             'message': "Can't create new lease file: Read-only file system"},
        ],
        warnings=[],
    ),
]

CASE_IDS = [case['name'] for case in CASES]


def test_every_fixture_has_a_case():
    names = sorted(name[:-len('.out')] for name in os.listdir(FIXTURES) if name.endswith('.out'))
    assert names == sorted(CASE_IDS)


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
def test_fixture_was_captured_with_the_argv_the_module_builds(case):
    fixture = load_fixture(case['name'])
    lease_file = fixture['argv'][6] if '-lf' in fixture['argv'] else None
    assert build_argv(DHCPD, '/cfg/%s.conf' % case['name'], lease_file) == case['argv']
    assert fixture['argv'] == case['argv']
    assert fixture['rc'] == case['rc']


@pytest.mark.parametrize('case', CASES, ids=CASE_IDS)
def test_parse_output(case):
    fixture = load_fixture(case['name'])
    result = parse_output(fixture['rc'], fixture['stdout'], fixture['stderr'])
    assert result == {
        'valid': case['valid'],
        'errors': case['errors'],
        'warnings': case['warnings'],
        'dhcpd_version': '4.4.3-P1',
    }


def test_build_argv_without_lease_file():
    assert build_argv('/opt/dhcpd', '/etc/dhcp/dhcpd.conf') == ['/opt/dhcpd', '-t', '-4', '-cf', '/etc/dhcp/dhcpd.conf']


def test_build_argv_with_lease_file():
    assert build_argv('/usr/sbin/dhcpd', '/etc/dhcp/dhcpd.conf', '/var/lib/dhcp/dhcpd.leases') == [
        '/usr/sbin/dhcpd', '-T', '-4', '-cf', '/etc/dhcp/dhcpd.conf', '-lf', '/var/lib/dhcp/dhcpd.leases']


def test_nonzero_rc_without_known_message_is_invalid():
    # e.g. a dhcpd killed by a signal, or an option it does not know: never report it as valid
    result = parse_output(-9, '', '')
    assert result['valid'] is False
    assert result['errors'] == [{
        'file': None, 'line': None, 'context': [],
        'message': 'dhcpd exited with return code -9 without an error message this module knows; see stderr'}]
    assert result['dhcpd_version'] is None


def test_unknown_lines_of_a_valid_run_become_warnings():
    fixture = load_fixture('valid')
    stderr = fixture['stderr'] + 'Something new that dhcpd 4.5 prints\n'
    result = parse_output(0, '', stderr)
    assert result['valid'] is True
    assert result['warnings'] == ['Something new that dhcpd 4.5 prints']


def test_lines_after_a_warning_continue_it():
    result = parse_output(0, '', 'WARNING: first line of a warning\n  and its second line\n\nlone line\n')
    assert result['warnings'] == ['WARNING: first line of a warning and its second line', 'lone line']
    assert result['valid'] is True


def test_format_errors():
    fixture = load_fixture('error_split_range')
    errors = parse_output(fixture['rc'], fixture['stdout'], fixture['stderr'])['errors']
    assert format_errors(errors) == [
        '/cfg/error_split_range.conf line 12: split must be between 0 and 256, inclusive',
        '/cfg/error_split_range.conf line 14: primary failover server must have hba or split.',
        'Configuration file errors encountered -- exiting',
    ]


def test_write_temp_config(tmp_path):
    path = write_temp_config('authoritative;\n', str(tmp_path))
    assert os.path.dirname(path) == str(tmp_path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, encoding='utf-8') as handle:
        assert handle.read() == 'authoritative;\n'
    remove_temp_config(path)
    assert os.listdir(str(tmp_path)) == []
    remove_temp_config(path)  # already gone: no error


def test_write_temp_config_mode_ignores_umask(tmp_path):
    old_umask = os.umask(0)
    try:
        path = write_temp_config('authoritative;\n', str(tmp_path))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_write_temp_config_missing_dir(tmp_path):
    with pytest.raises(OSError):
        write_temp_config('authoritative;\n', str(tmp_path / 'missing'))


def test_inline_include_keeps_track_of_every_line():
    config = 'authoritative;\n  include "/etc/dhcp/omapi-key.conf";\nomapi-port 7911;\n'
    key = '# comment\nkey k {\n  secret "c2VjcmV0IG9mIHRoZSB0ZXN0";\n}\n'

    text, positions, count = inline_include(config, '/etc/dhcp/omapi-key.conf', key)

    assert text == 'authoritative;\n  # comment\nkey k {\n  secret "c2VjcmV0IG9mIHRoZSB0ZXN0";\n}\nomapi-port 7911;\n'
    assert count == 1
    assert positions == [('config', 1), ('included', 1), ('included', 2), ('included', 3), ('included', 4),
                         ('config', 3), ('config', 4)]
    errors = [{'file': '/etc/dhcp/.check.conf', 'line': line, 'message': 'm', 'context': []} for line in (1, 4, 6)]
    errors.append({'file': None, 'line': None, 'message': 'Configuration file errors encountered -- exiting',
                   'context': []})
    assert [(error['file'], error['line']) for error in relocate_errors(
        errors, '/etc/dhcp/.check.conf', positions, '/etc/dhcp/dhcpd.conf', '/etc/dhcp/omapi-key.conf')] == [
        ('/etc/dhcp/dhcpd.conf', 1), ('/etc/dhcp/omapi-key.conf', 3), ('/etc/dhcp/dhcpd.conf', 3), (None, None)]


def test_inline_include_other_paths_and_no_key():
    config = 'include "/etc/dhcp/other.conf";\n'
    assert inline_include(config, '/etc/dhcp/omapi-key.conf', 'key k {}\n') == (config, [('config', 1), ('config', 2)], 0)
    assert inline_include(config, '/etc/dhcp/omapi-key.conf', None) == (config, [('config', 1), ('config', 2)], 0)


def test_find_secrets_ignores_the_word_in_comments():
    text = ('# the secret in its file\nkey k {\n  secret "YWJjZGVmZ2hpamts";  # the secret is base64\n}\n'
            '#  secret "b2xkIGtleQ==";\nkey b { secret bareAAAABBBBCCCC; }\n')
    assert find_secrets(text) == ['YWJjZGVmZ2hpamts', 'bareAAAABBBBCCCC', 'b2xkIGtleQ==']


@pytest.mark.parametrize('text, masked', [
    ('secret "YWJjZGVmZ2hpamts";', 'secret "%s";' % MASK),
    ('  secret "YWJjZGVm', '  secret "%s"' % MASK),                   # cut short, the secret unknown
    ('key k { secret bareAAAABBBBCCCC; }', 'key k { secret %s; }' % MASK),
    ('# the secret is kept in a file', '# the secret is kept in a file'),
    ('#  secret "b2xkIGtleQ==";', '#  secret "%s";' % MASK),
    ('option x "a#b"; secret "YWJj";', 'option x "a#b"; secret "%s";' % MASK),
])
def test_masker_masks_every_secret_statement(text, masked):
    assert SecretMasker([]).mask_text(text) == masked


def test_masker_masks_pieces_of_a_known_secret():
    masker = SecretMasker(['DA3xSQdabOvH=njFZcuIxFFA+OFARWGLP'])
    assert masker.mask_text("terminator: njFZcuIxFFA+OFARWGLP.") == 'terminator: %s.' % MASK
    assert masker.mask_text('cut "DA3xSQdabO') == 'cut "%s' % MASK
    assert masker.mask_text('cut "DA3xSQd') == 'cut "DA3xSQd'           # fewer than 8 characters
    assert masker.mask({'a': ['x DA3xSQdabOvH=njFZcuIxFFA+OFARWGLP y', 1, None]}) == {'a': ['x %s y' % MASK, 1, None]}


@pytest.mark.parametrize('name', ['secret_stuff_after', 'secret_semicolon_expected', 'secret_truncated_sha512',
                                  'secret_terminator'])
def test_masker_on_captured_output(name):
    secret = key_secret(name)
    fixture = load_fixture(name)
    assert secret[:20] in fixture['stderr']
    masked = SecretMasker([secret]).mask(parse_output(fixture['rc'], fixture['stdout'], fixture['stderr']))
    dumped = repr(masked)
    assert not any(secret[start:start + 8] in dumped for start in range(len(secret) - 7))
    assert masked['errors'][0]['context'][0].lstrip().startswith(('secret "%s"' % MASK, 'key omapi_key {'))
