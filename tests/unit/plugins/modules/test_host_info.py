# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""dhcp.failover.host_info: the installed packages from real dpkg-query output (captured in the lab,
see tests/unit/fixtures/host_info/README.md), the paths, the secret file and its errors, and the
network facts from ansible-core's own collector (the same keys as ansible.builtin.setup)."""

from __future__ import annotations

import os
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible_collections.dhcp.failover.tests.unit.plugins.modules.module_args import patch_module_args

from ansible_collections.dhcp.failover.plugins.modules import host_info

FIXTURE = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'host_info', 'dpkg-query-lab.out')


class AnsibleExitJson(Exception):
    pass


def exit_json(self, **kwargs):
    raise AnsibleExitJson(kwargs)


def dpkg_output():
    with open(FIXTURE, encoding='utf-8') as handle:
        return handle.read()


def run(args, run_command=None, bins=None):
    bins = {'dpkg-query': '/usr/bin/dpkg-query'} if bins is None else bins
    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, 'exit_json', exit_json), \
            mock.patch.object(basic.AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: bins.get(name)), \
            mock.patch.object(basic.AnsibleModule, 'run_command', run_command or (lambda self, *a, **k: (0, dpkg_output(), ''))):
        with pytest.raises(AnsibleExitJson) as caught:
            host_info.main()
    return caught.value.args[0]


def test_installed_packages_are_those_in_state_ii():
    text = dpkg_output()
    packages = host_info._installed(text)
    assert 'isc-dhcp-server' in packages and 'python3-systemd' in packages and 'nftables' in packages
    # removed with its configuration files left: dpkg says "rc"
    assert 'isc-dhcp-client rc ' in text.splitlines()
    assert 'isc-dhcp-client' not in packages
    assert len(packages) == sum(1 for line in text.splitlines() if line.endswith(' ii '))
    assert packages == sorted(packages)


def test_the_module_asks_dpkg_query_in_the_c_locale_and_returns_the_packages():
    seen = []

    def run_command(self, argv, **kwargs):
        seen.append((argv, kwargs))
        return 0, dpkg_output(), ''

    result = run({'network': False, 'packages': True}, run_command)
    assert seen[0][0] == ['/usr/bin/dpkg-query', '--show', '--showformat=${Package} ${db:Status-Abbrev}\\n']
    assert seen[0][1]['environ_update'] == {'LC_ALL': 'C'}
    assert result['errors'] == [] and result['changed'] is False
    assert 'isc-dhcp-server' in result['packages'] and 'isc-dhcp-client' not in result['packages']
    assert 'ansible_facts' not in result


def test_a_failing_dpkg_query_is_an_error_not_an_empty_list():
    result = run({'network': False, 'packages': True},
                 lambda self, argv, **kw: (2, '', 'dpkg-query: error: parsing file /var/lib/dpkg/status'))
    assert 'packages' not in result
    assert result['errors'] == ['installed packages: dpkg-query exited with 2: dpkg-query: error: parsing file /var/lib/dpkg/status']


def test_no_dpkg_query_is_an_error():
    result = run({'network': False, 'packages': True}, bins={})
    assert 'packages' not in result and 'dpkg-query not found' in result['errors'][0]


def test_paths_present_in_the_order_given(tmp_path):
    unit = tmp_path / 'dhcp-failover-firewall.service'
    unit.write_text('[Unit]\n')
    broken = tmp_path / 'broken'
    broken.symlink_to(tmp_path / 'nowhere')
    result = run({'network': False, 'paths': [str(tmp_path / 'missing'), str(broken), str(unit)]})
    assert result['paths_present'] == [str(broken), str(unit)]


def test_the_secret_file_is_returned_and_a_missing_one_is_no_error(tmp_path):
    key = tmp_path / 'omapi-key.conf'
    key.write_text('key omapi_key {\n  algorithm hmac-sha256;\n  secret "c2VjcmV0";\n};\n')
    result = run({'network': False, 'secret_file': str(key)})
    assert result['secret_file_exists'] is True
    assert result['secret_file_content'] == key.read_text()
    assert result['secret_file_error'] == '' and result['errors'] == []
    result = run({'network': False, 'secret_file': str(tmp_path / 'none.conf')})
    assert result['secret_file_exists'] is False and 'secret_file_content' not in result
    assert result['secret_file_error'] == ''


def test_an_unreadable_secret_file_gives_its_cause_and_no_content(tmp_path):
    key = tmp_path / 'omapi-key.conf'
    key.write_text('secret "c2VjcmV0";\n')
    with mock.patch('builtins.open', side_effect=PermissionError(13, 'Permission denied')):
        result = run({'network': False, 'secret_file': str(key)})
    assert result['secret_file_exists'] is True and 'secret_file_content' not in result
    assert result['secret_file_error'] == '%s: Permission denied' % key
    assert 'c2VjcmV0' not in repr(result)


def test_network_facts_come_from_ansible_cores_collector_with_setups_prefix():
    collected = {'interfaces': ['eth0', 'lo'], 'default_ipv4': {'address': '192.0.2.2', 'interface': 'eth0'},
                 'eth0': {'device': 'eth0', 'ipv4': {'address': '192.0.2.2', 'prefix': '24'}}}
    with mock.patch('ansible.module_utils.facts.network.linux.LinuxNetwork.populate', return_value=collected), \
            mock.patch.object(host_info.platform, 'system', return_value='Linux'):
        result = run({})
    assert result['ansible_facts'] == {'ansible_' + key: value for key, value in collected.items()}
    assert result['errors'] == []


def test_network_facts_elsewhere_than_linux_are_an_error():
    with mock.patch.object(host_info.platform, 'system', return_value='FreeBSD'):
        result = run({})
    assert 'ansible_facts' not in result and 'only Linux' in result['errors'][0]
