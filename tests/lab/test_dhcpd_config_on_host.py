# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcp.failover.dhcpd_config on a real host (a container of the lab image), run by ansible-playbook.

The oracle is the host itself: sha256, mode, owner and mtime of every file under /etc/dhcp, the
defaults file and /var/lib/dhcp, read with find/sha256sum in the container. Whether dhcpd -t ran
is not taken from the module's word alone: the module is given a wrapper as its ``dhcpd`` that
logs every invocation (and what the real dhcpd printed) before it hands over to /usr/sbin/dhcpd.

Network dhcpf-write (10.231.43.0/24), one container dhcpf-write.
"""

from __future__ import annotations

import json
import os
import re

import pytest

from conftest import LabPair, run_playbook

KEY_PATH = '/etc/dhcp/omapi-key.conf'
CONFIG_PATH = '/etc/dhcp/dhcpd.conf'
DEFAULTS_PATH = '/etc/default/isc-dhcp-server'
WRAPPER = '/usr/local/sbin/dhcpd-logged'
CALLS = '/var/log/dhcpd-logged.calls'
PRINTED = '/var/log/dhcpd-logged.stderr'
# Test values, used nowhere else.
SECRET = 'ZGhjcGYtd3JpdGUgbGFiIHRlc3Qga2V5IDE='
OTHER_SECRET = 'ZGhjcGYtd3JpdGUgbGFiIHRlc3Qga2V5IDI='

WRAPPER_SCRIPT = """#!/bin/sh
# Logs each call (and what dhcpd printed) for tests/lab/test_dhcpd_config_on_host.py, then is dhcpd.
echo "$*" >> %(calls)s
/usr/sbin/dhcpd "$@" 2> %(printed)s
rc=$?
cat %(printed)s >&2
exit $rc
""" % {'calls': CALLS, 'printed': PRINTED}

# Every file the module may touch, and the lease directory it must never touch.
SNAPSHOT = ('find /etc/dhcp /etc/default /var/lib/dhcp -type f -printf "%p %m %u:%g %s %T@ " '
            '-exec sha256sum {} \\; | sort')

PLAYBOOK = """
- name: Run dhcp.failover.dhcpd_config once
  hosts: all
  gather_facts: false
  tasks:
    - name: Write (or put back) dhcpd's files
      dhcp.failover.dhcpd_config:
        content: "{{ content | default(omit) }}"
        key_content: "{{ key_content | default(omit) }}"
        key_state: "{{ key_state | default(omit) }}"
        defaults_content: "{{ defaults_content | default(omit) }}"
        dhcpd: %(wrapper)s
        rollback: "{{ rollback | default(omit) }}"
      register: result
      ignore_errors: true

    - name: Hand the result to the test
      ansible.builtin.copy:
        content: "{{ result | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      delegate_to: localhost
      check_mode: false
""" % {'wrapper': WRAPPER}


def config(omapi=True, routers='10.231.43.254'):
    """A standalone server on the container's own network, as a person would write it."""
    lines = ['# dhcpd.conf written by tests/lab/test_dhcpd_config_on_host.py', 'authoritative;', '']
    if omapi:
        lines += ['include "%s";' % KEY_PATH, 'omapi-port 7911;', 'omapi-key omapi_key;', '']
    lines += ['subnet 10.231.43.0 netmask 255.255.255.0 {',
              '  option routers %s;' % routers,
              '  range 10.231.43.100 10.231.43.200;',
              '}', '']
    return '\n'.join(lines)


def key(secret=SECRET, secret_line='secret "%s";'):
    return 'key omapi_key {\n    algorithm hmac-sha256;\n    %s\n}\n' % (secret_line % secret)


DEFAULTS = 'DHCPDv4_CONF=%s\nINTERFACESv4="eth0"\nINTERFACESv6=""\n' % CONFIG_PATH


class Host(object):
    def __init__(self, lab, tmp_path):
        self.lab = lab
        self.tmp_path = tmp_path
        self.runs = 0

    def sh(self, command, check=True):
        return self.lab.exec('w', command, check=check)

    def snapshot(self):
        return self.sh(SNAPSHOT).stdout

    def read(self, path):
        return self.sh('cat %s' % path).stdout

    def stat(self, path):
        return self.sh('stat -c "%%a %%U:%%G" %s' % path).stdout.split()

    def calls(self):
        return self.sh('cat %s 2>/dev/null || true' % CALLS).stdout.splitlines()

    def run(self, *flags, **variables):
        """ansible-playbook with the module's arguments as extra vars; returns (result, output)."""
        self.runs += 1
        result_file = str(self.tmp_path / ('result-%d.json' % self.runs))
        variables['result_file'] = result_file
        extra = self.tmp_path / ('vars-%d.json' % self.runs)
        extra.write_text(json.dumps(variables))
        playbook = self.tmp_path / 'dhcpd_config.yml'
        playbook.write_text(PLAYBOOK)
        inventory = self.tmp_path / 'inventory.yml'
        inventory.write_text(json.dumps({'all': {'hosts': {'w': {
            'ansible_connection': 'community.docker.docker', 'ansible_host': self.lab.containers['w'],
            'ansible_python_interpreter': '/usr/bin/python3'}}}}))
        process = run_playbook(str(playbook), str(inventory), '-e', '@%s' % extra, '-v', *flags)
        assert os.path.exists(result_file), process.stdout + process.stderr
        with open(result_file, encoding='utf-8') as handle:
            return json.load(handle), process.stdout + process.stderr

    def reset(self):
        """Back to the image's files, no key file, no backups, dhcpd stopped, no call logged."""
        self.sh('systemctl stop isc-dhcp-server; '
                'rm -f /etc/dhcp/dhcpd.conf.* /etc/dhcp/omapi-key.conf* /etc/default/isc-dhcp-server.* '
                '/etc/dhcp/.dhcpd-check-* %s %s; '
                'cp -p /root/original/dhcpd.conf /etc/dhcp/dhcpd.conf; '
                'cp -p /root/original/isc-dhcp-server /etc/default/isc-dhcp-server' % (CALLS, PRINTED))


@pytest.fixture(scope='module')
def lab(lab_image):
    lab = LabPair(lab_image, 'dhcpf-write', '10.231.43', hosts=(('w', 2),))
    lab.containers = {'w': 'dhcpf-write'}
    lab.start()
    try:
        lab.exec('w', 'mkdir -p /root/original && cp -p /etc/dhcp/dhcpd.conf /etc/default/isc-dhcp-server '
                      '/root/original/ && cat > %s && chmod 0755 %s' % (WRAPPER, WRAPPER), input=WRAPPER_SCRIPT)
        yield lab
    finally:
        lab.close()


@pytest.fixture
def host(lab, tmp_path):
    host = Host(lab, tmp_path)
    host.reset()
    return host


def assert_no_secret(text, *secrets):
    for secret in secrets:
        assert secret not in text
        for start in range(len(secret) - 7):
            assert secret[start:start + 8] not in text


def test_write_then_an_unchanged_rerun_runs_no_check(host):
    original_config = host.read(CONFIG_PATH)
    original_defaults = host.read(DEFAULTS_PATH)

    result, output = host.run('--diff', content=config(), key_content=key(), defaults_content=DEFAULTS)

    assert result.get('failed') is not True, output
    assert result['changed'] is True and result['checked'] is True
    assert result['changed_files'] == [KEY_PATH, CONFIG_PATH, DEFAULTS_PATH]
    calls = host.calls()
    assert len(calls) == 1
    assert re.match(r'^-t -4 -cf /etc/dhcp/\.dhcpd-check-\w+\.conf$', calls[0]), calls
    assert host.read(CONFIG_PATH) == config()
    assert host.read(KEY_PATH) == key()
    assert host.read(DEFAULTS_PATH) == DEFAULTS
    assert host.stat(CONFIG_PATH) == ['644', 'root:root']
    assert host.stat(KEY_PATH) == ['640', 'root:root']
    assert host.stat(DEFAULTS_PATH) == ['644', 'root:root']
    assert result['rollback'][KEY_PATH] is None
    assert host.read(result['rollback'][CONFIG_PATH]) == original_config
    assert host.read(result['rollback'][DEFAULTS_PATH]) == original_defaults
    assert host.sh('ls -a /etc/dhcp | grep -c dhcpd-check', check=False).stdout.strip() == '0'
    assert 'OMAPI key file %s is created (its content is not shown)' % KEY_PATH in output
    assert_no_secret(output, SECRET)
    # The live dhcpd reads what was written, the key file included.
    host.sh('systemctl restart isc-dhcp-server && sleep 1 && pidof dhcpd')
    host.sh('systemctl stop isc-dhcp-server')
    before = host.snapshot()

    again, output = host.run('--diff', content=config(), key_content=key(), defaults_content=DEFAULTS)

    assert again.get('failed') is not True, output
    assert again['changed'] is False
    assert again['checked'] is False
    assert again['changed_files'] == [] and again['rollback'] == {}
    assert host.calls() == calls                    # the wrapper was not called again
    assert host.snapshot() == before


def test_a_rejected_change_leaves_every_file_byte_identical(host):
    written, output = host.run(content=config(), key_content=key(), defaults_content=DEFAULTS)
    assert written['changed'] is True, output
    before = host.snapshot()

    # A new key whose secret line dhcpd rejects (and prints), with a new config and defaults.
    result, output = host.run('--diff', content=config(routers='10.231.43.253'),
                              key_content=key(OTHER_SECRET, 'secret "%s" algorithm;'),
                              defaults_content=DEFAULTS.replace('eth0', 'eth1'))

    assert result['failed'] is True
    assert result['changed'] is False and result['checked'] is True
    assert len(host.calls()) == 2
    assert OTHER_SECRET in host.read(PRINTED)       # what the real dhcpd printed holds the secret
    assert result['errors'][0]['file'] == KEY_PATH
    assert result['errors'][0]['line'] == 3
    assert result['errors'][0]['context'][0] == '    secret "********" algorithm;'
    assert result['msg'].startswith('dhcpd -t rejected the new configuration; nothing was written: '
                                    "%s line 3: stuff after base64 '=' terminator: algorithm." % KEY_PATH)
    assert host.snapshot() == before
    assert_no_secret(output, SECRET, OTHER_SECRET)
    assert_no_secret(json.dumps(result), SECRET, OTHER_SECRET)


def test_rollback_puts_back_what_was_there(host):
    before = host.snapshot()

    written, output = host.run(content=config(), key_content=key(), defaults_content=DEFAULTS)
    assert written['changed'] is True, output
    assert written['rollback'][KEY_PATH] is None
    backups = sorted(value for value in written['rollback'].values() if value)
    calls = host.calls()

    previewed, output = host.run('--check', '--diff', rollback=written['rollback'])
    assert previewed['changed'] is True, output
    assert host.read(CONFIG_PATH) == config() and host.read(KEY_PATH) == key()

    restored, output = host.run(rollback=written['rollback'])

    assert restored.get('failed') is not True, output
    assert restored['changed'] is True
    assert sorted(restored['changed_files']) == sorted([CONFIG_PATH, KEY_PATH, DEFAULTS_PATH])
    assert host.calls() == calls                    # a rollback runs no dhcpd -t
    after = host.snapshot()
    # The files are back byte for byte with their mode and owner, the key file is gone, the
    # backups are kept.
    without_backups = '\n'.join(line for line in after.splitlines() if line.split()[0] not in backups) + '\n'
    strip_mtime = re.compile(r'^(\S+ \S+ \S+ \S+) \S+ ', re.MULTILINE)
    assert strip_mtime.sub(r'\1 ', without_backups) == strip_mtime.sub(r'\1 ', before)
    assert host.sh('test -e %s' % KEY_PATH, check=False).returncode == 1

    again, output = host.run(rollback=written['rollback'])
    assert again['changed'] is False, output


def test_check_mode_checks_and_writes_nothing(host):
    before = host.snapshot()

    result, output = host.run('--check', '--diff', content=config(), key_content=key(), defaults_content=DEFAULTS)

    assert result.get('failed') is not True, output
    assert result['changed'] is True and result['checked'] is True
    assert len(host.calls()) == 1
    assert host.snapshot() == before
    assert '+include "%s";' % KEY_PATH in output
    assert 'OMAPI key file %s is created (its content is not shown)' % KEY_PATH in output
    assert_no_secret(output, SECRET)


def test_turning_omapi_off_removes_the_key_file(host):
    written, output = host.run(content=config(), key_content=key(), defaults_content=DEFAULTS)
    assert written['changed'] is True, output

    result, output = host.run('--diff', content=config(omapi=False), key_state='absent', defaults_content=DEFAULTS)

    assert result.get('failed') is not True, output
    assert result['changed_files'] == [CONFIG_PATH, KEY_PATH]
    assert host.sh('test -e %s' % KEY_PATH, check=False).returncode == 1
    backup = result['rollback'][KEY_PATH]
    assert host.read(backup) == key()
    assert host.stat(backup) == ['640', 'root:root']
    assert 'OMAPI key file %s is removed (its content is not shown)' % KEY_PATH in output
    assert_no_secret(output, SECRET)
