# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcp.failover.host_info on a real host (a container of the lab image), run by ansible-playbook.

The role validates a pair from host_info's network facts where it used ansible.builtin.setup's
network subset before: the oracle for the facts is setup itself, run in the same play on the same
host. The packages are checked against dpkg's own list (`dpkg -l`, read in the container), the
paths and the key file against the container's files.

Network dhcpf-hostinfo (10.231.91.0/24), one container dhcpf-hostinfo.
"""

from __future__ import annotations

import json

import pytest

from conftest import LabPair, run_playbook

KEY_PATH = '/etc/dhcp/omapi-key.conf'
# Test value, used nowhere else.
KEY_TEXT = 'key omapi_key {\n    algorithm hmac-sha256;\n    secret "ZGhjcGYtaG9zdGluZm8gbGFiIGtleQ==";\n}\n'
PRESENT = '/etc/systemd/system/dhcp-failover-firewall.service'
MISSING = '/etc/nftables.d/dhcp-failover.nft'

PLAYBOOK = """
- name: host_info next to setup's network subset
  hosts: all
  gather_facts: false
  tasks:
    - name: The network facts as ansible.builtin.setup gathers them
      ansible.builtin.setup:
        gather_subset: ["!all", "!min", network]
      register: setup

    - name: What setup's network subset brings besides the network facts (the subsets its collector needs)
      ansible.builtin.setup:
        gather_subset: ["!all", "!min", platform, distribution]
      register: setup_none

    - name: The same host through dhcp.failover.host_info
      dhcp.failover.host_info:
        packages: true
        paths: [%(present)s, %(missing)s]
        secret_file: %(key)s
      register: info
      no_log: true

    - name: Hand both results to the test
      ansible.builtin.copy:
        content: "{{ {'setup': setup.ansible_facts, 'setup_none': setup_none.ansible_facts, 'info': info} | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      delegate_to: localhost
""" % {'present': PRESENT, 'missing': MISSING, 'key': KEY_PATH}


@pytest.fixture(scope='module')
def result(lab_image, tmp_path_factory):
    lab = LabPair(lab_image, 'dhcpf-hostinfo', '10.231.91', hosts=(('h', 2),))
    lab.containers = {'h': 'dhcpf-hostinfo'}
    lab.start()
    try:
        lab.exec('h', 'umask 077; cat > %s && touch %s' % (KEY_PATH, PRESENT), input=KEY_TEXT)
        tmp = tmp_path_factory.mktemp('host_info')
        (tmp / 'play.yml').write_text(PLAYBOOK)
        (tmp / 'inventory.yml').write_text(json.dumps({'all': {'hosts': {'h': {
            'ansible_connection': 'community.docker.docker', 'ansible_host': lab.containers['h'],
            'ansible_python_interpreter': '/usr/bin/python3'}}}}))
        result_file = tmp / 'result.json'
        process = run_playbook(str(tmp / 'play.yml'), str(tmp / 'inventory.yml'), '-e', 'result_file=%s' % result_file)
        assert process.returncode == 0, process.stdout + process.stderr
        data = json.loads(result_file.read_text())
        data['dpkg'] = lab.exec('h', "dpkg -l | awk '$1 == \"ii\" {print $2}'").stdout.split()
        data['ip'] = lab.exec('h', 'ip -o -4 addr show dev eth0').stdout
        yield data
    finally:
        lab.close()


def test_network_facts_are_those_of_setup(result):
    # setup's network subset also brings gather_subset, module_setup and the facts of the subsets
    # its network collector needs first (platform and distribution): host_info returns the network
    # facts alone.
    network = dict((k, v) for k, v in result['setup'].items() if k not in result['setup_none'])
    facts = dict(result['info']['ansible_facts'])
    print('setup adds besides the network facts:', sorted(set(result['setup']) - set(facts)))
    assert sorted(facts) == sorted(network)
    # the interface names are the same; their order is that of each collector run (/sys/class/net)
    assert sorted(facts.pop('ansible_interfaces')) == sorted(network.pop('ansible_interfaces'))
    assert facts == network
    # and they describe this container: its own address on the lab network
    assert facts['ansible_default_ipv4']['address'] == '10.231.91.2'
    assert '10.231.91.2/' in result['ip']


def test_packages_are_dpkgs_installed_ones(result):
    assert result['info']['packages'] == sorted(set(name.split(':', 1)[0] for name in result['dpkg']))
    assert 'isc-dhcp-server' in result['info']['packages']


def test_paths_and_key_file_are_the_hosts(result):
    info = result['info']
    assert info['paths_present'] == [PRESENT]
    assert info['secret_file_exists'] is True and info['secret_file_content'] == KEY_TEXT
    assert info['secret_file_error'] == '' and info['errors'] == []
