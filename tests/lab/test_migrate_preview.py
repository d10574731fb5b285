# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcp.failover.migrate, first phase (issue 15 item 3): the Kea translation shown first.

The real ansible-playbook runs the installed collection's migrate playbook on a local inventory
(no containers: the phase reads nothing from the hosts but their network facts, which come here
from the facts captured on lab containers, tests/unit/fixtures/facts/p.json and s.json, set as
the hosts' ansible_* variables; the playbook's own gathering is switched off). One test runs it
once on two real lab containers (dhcpf-mg-p, dhcpf-mg-s on 10.231.82.0/24), the default path.

Checked from the printed output only: the Kea config printed per host must be the one the
collection's Kea backend renders (dhcp.failover.pair_facts) for a hand-written Kea description of
the same pair - the ISC inventory with the backend set to kea and, removed by hand, what the Kea
pair cannot carry; losses not accepted are refused with pair, host and variable; the secret
never shows; a load-balancing target is a note, not a loss (carried addresses in the other Kea half
get pools of their client's server, so every client keeps its address); with
the playbook's own gathering off, a real run stops before any change (the cutover needs the
role's validation); --check ends after the preview.
"""

from __future__ import annotations

import copy
import json
import os
import re

import pytest
import yaml

from conftest import REPO, LabPair, recap, run_playbook

FACTS = os.path.join(REPO, 'tests', 'unit', 'fixtures', 'facts')
SECRET = 'bWlncmF0ZS1wcmV2aWV3LXNlY3JldA=='
RAW = 'log-facility local7;'
PAIR_VARS = {
    'dhcp_failover_peer_name': 'dhcpf-mg',
    'dhcp_failover_split': 200,
    'dhcp_failover_raw_global': RAW,
    'dhcp_failover_omapi_secret': SECRET,
    'dhcp_failover_subnets': [{
        'network': '10.231.41.0/24',
        'routers': ['10.231.41.254'],
        'pools': [{'ranges': [{'start': '10.231.41.100', 'end': '10.231.41.200'}]}],
    }],
    'dhcp_failover_reservations': [{'name': 'printer', 'mac': '02:00:00:00:82:09', 'address': '10.231.41.9'}],
}


def host_facts(name):
    with open(os.path.join(FACTS, name + '.json'), encoding='utf-8') as handle:
        captured = json.load(handle)['ansible_facts']
    return dict((key, captured[key]) for key in ('ansible_default_ipv4', 'ansible_all_ipv4_addresses',
                                                 'ansible_interfaces', 'ansible_eth0', 'ansible_lo'))


def inventory(path, pair_vars):
    hosts = {
        'dhcpf-mg-p': dict(host_facts('p'), ansible_connection='local', dhcp_failover_role='primary'),
        'dhcpf-mg-s': dict(host_facts('s'), ansible_connection='local', dhcp_failover_role='secondary'),
    }
    data = {'all': {'children': {'dhcp_failover': {'children': {'mg': {'hosts': hosts, 'vars': pair_vars}}}}}}
    path.write_text(yaml.safe_dump(data), encoding='utf-8')
    return str(path)


def printed(output, task):
    """{host: the dict a debug task printed} for the task named ``task``."""
    section = output.split('TASK [%s]' % task, 1)[1].split('\nTASK [', 1)[0]
    return dict((host, json.loads(body)['msg'])
                for host, body in re.findall(r'^ok: \[(\S+)\] => (\{.*?^\})$', section, re.MULTILINE | re.DOTALL))


def migrate(inventory_path, *args):
    return run_playbook('dhcp.failover.migrate', inventory_path, '-e', 'dhcp_failover_migrate_gather_facts=false',
                        *args)


def rendered_by_kea_backend(tmp_path):
    """The configs the Kea backend renders for the same pair described for Kea by hand."""
    kea_vars = copy.deepcopy(PAIR_VARS)
    for name in ('dhcp_failover_peer_name', 'dhcp_failover_split', 'dhcp_failover_raw_global',
                 'dhcp_failover_omapi_secret'):
        del kea_vars[name]
    kea_vars['dhcp_failover_backend'] = 'kea'
    playbook = tmp_path / 'kea_view.yml'
    playbook.write_text(yaml.safe_dump([{
        'hosts': 'dhcp_failover', 'gather_facts': False,
        'tasks': [{'dhcp.failover.pair_facts': {}, 'register': 'view'},
                  {'ansible.builtin.debug': {'msg': '{{ view.pair_info.kea.config }}'}, 'name': 'kea view'}],
    }]), encoding='utf-8')
    result = run_playbook(str(playbook), inventory(tmp_path / 'kea.yml', kea_vars))
    assert result.returncode == 0, result.stdout + result.stderr
    return printed(result.stdout, 'kea view')


def test_losses_not_accepted_are_refused_before_any_change(tmp_path):
    result = migrate(inventory(tmp_path / 'isc.yml', PAIR_VARS), '--check')
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for host in ('dhcpf-mg-p', 'dhcpf-mg-s'):
        assert ('pair mg, host %s, variable dhcp_failover_split: cannot be carried over to Kea' % host) in output
    assert 'Nothing was changed' in output
    # The report is printed before the refusal, the raw dhcpd text among its losses.
    report = printed(result.stdout, 'Show what the Kea pair cannot carry (the migration report)')
    assert sorted(report) == ['dhcpf-mg-p', 'dhcpf-mg-s']
    for host, shown in report.items():
        losses = [line for line in shown['migration_report'] if ': loss: ' in line]
        assert any('dhcp_failover_raw_global' in line for line in losses), (host, shown)
        assert any('dhcp_failover_split' in line for line in losses), (host, shown)
        assert not any('dhcp_failover_mode' in line for line in losses), (host, shown)
        assert any('dhcp_failover_mode: note: load_balance' in line for line in shown['migration_report']), (host, shown)
    assert 'cutover phase' not in output
    assert SECRET not in output
    assert all(counts['changed'] == 0 for counts in recap(result.stdout).values())


def test_accepted_translation_is_the_kea_backends_config_and_the_run_stops_before_cutover(tmp_path):
    expected = rendered_by_kea_backend(tmp_path)
    result = migrate(inventory(tmp_path / 'isc.yml', PAIR_VARS), '-e', 'dhcp_failover_migrate_accept_losses=true')
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    shown = printed(result.stdout, 'Show the Kea config that would be written')
    assert sorted(shown) == ['dhcpf-mg-p', 'dhcpf-mg-s']
    for host, item in shown.items():
        assert item['kea_config'] == expected[host], host
        assert item['kea_config_file'] == '/etc/kea/kea-dhcp4.conf'
        assert item['pair'] == 'mg'
    assert shown['dhcpf-mg-p']['kea_ha_role'] == 'primary'
    assert shown['dhcpf-mg-s']['kea_ha_role'] == 'secondary'
    # The reservation is carried; split 200 became Kea's 50/50 halves.
    subnet = shown['dhcpf-mg-p']['kea_config']['Dhcp4']['subnet4'][0]
    assert [item['ip-address'] for item in subnet['reservations']] == ['10.231.41.9']
    assert [pool['pool'] for pool in subnet['pools']] == ['10.231.41.100 - 10.231.41.150', '10.231.41.151 - 10.231.41.200']
    assert 'cannot be carried over' not in output
    for host in ('dhcpf-mg-p', 'dhcpf-mg-s'):
        assert ('pair mg, host %s, variable dhcp_failover_migrate_gather_facts: the cutover needs the role\'s '
                'validation' % host) in ' '.join(output.split()), output
    assert SECRET not in output
    assert RAW not in json.dumps(shown)
    assert all(counts['changed'] == 0 for counts in recap(result.stdout).values())


@pytest.mark.parametrize('check', [[], ['--check']])
def test_a_description_without_losses_is_not_refused(tmp_path, check):
    clean = copy.deepcopy(PAIR_VARS)
    del clean['dhcp_failover_split'], clean['dhcp_failover_raw_global']
    # load balancing (the pair's mode here) is no loss: carried addresses keep their clients
    assert clean.get('dhcp_failover_mode', 'load_balance') == 'load_balance'
    result = migrate(inventory(tmp_path / 'isc.yml', clean), *check)
    output = result.stdout + result.stderr
    assert 'cannot be carried over' not in output
    assert ': loss: ' not in output
    assert 'dhcp_failover_mode: note: load_balance' in output
    if check:
        # --check is the preview and nothing more
        assert result.returncode == 0, output
        assert 'TASK [Prepare Kea on this server' not in output
    else:
        # the playbook's gathering is off here: a real run stops before any change
        assert result.returncode != 0, output
        assert 'the cutover needs the role\'s validation' in ' '.join(output.split()), output
    assert all(counts['changed'] == 0 for counts in recap(result.stdout).values())
    assert printed(result.stdout, 'Show the Kea config that would be written')['dhcpf-mg-s']['kea_ha_role'] == 'secondary'


@pytest.fixture(scope='module')
def mg_lab(lab_image):
    pair = LabPair(lab_image, 'dhcpf-mg', '10.231.82').start()
    try:
        yield pair
    finally:
        pair.close()


def test_on_real_hosts_with_limit_the_partner_facts_are_gathered_and_nothing_changes(mg_lab, tmp_path):
    """Default path (the role's own validation gathers the facts): --limit one host; its partner's
    address comes from facts gathered on the partner; both containers unchanged (snapshot)."""
    pair_vars = copy.deepcopy(PAIR_VARS)
    pool = {'ranges': [{'start': '10.231.82.100', 'end': '10.231.82.200'}]}
    pair_vars['dhcp_failover_subnets'][0].update(network='10.231.82.0/24', routers=['10.231.82.254'], pools=[pool])
    pair_vars['dhcp_failover_reservations'][0]['address'] = '10.231.82.9'
    data = mg_lab.inventory('mg', pair_vars, {'p': {'dhcp_failover_role': 'primary'},
                                              's': {'dhcp_failover_role': 'secondary'}})
    path = tmp_path / 'lab.yml'
    path.write_text(yaml.safe_dump({'all': {'children': data}}), encoding='utf-8')
    before = dict((host, mg_lab.snapshot(host)) for host in ('p', 's'))
    result = run_playbook('dhcp.failover.migrate', str(path), '--check', '--limit', 's',
                          '-e', 'dhcp_failover_migrate_accept_losses=true')
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    shown = printed(result.stdout, 'Show the Kea config that would be written')
    assert sorted(shown) == ['s']
    ha = [hook for hook in shown['s']['kea_config']['Dhcp4']['hooks-libraries'] if 'parameters' in hook]
    peers = ha[0]['parameters']['high-availability'][0]['peers']
    assert [(peer['name'], peer['url']) for peer in peers] == [('p', 'http://10.231.82.2:8001/'),
                                                               ('s', 'http://10.231.82.3:8001/')]
    assert shown['s']['kea_config']['Dhcp4']['interfaces-config']['interfaces'] == ['eth0']
    assert 'TASK [Prepare Kea on this server' not in output
    assert SECRET not in output
    assert dict((host, mg_lab.snapshot(host)) for host in ('p', 's')) == before


def test_a_pair_already_on_kea_is_skipped(tmp_path):
    kea_vars = copy.deepcopy(PAIR_VARS)
    for name in ('dhcp_failover_peer_name', 'dhcp_failover_split', 'dhcp_failover_raw_global',
                 'dhcp_failover_omapi_secret'):
        del kea_vars[name]
    kea_vars['dhcp_failover_backend'] = 'kea'
    result = migrate(inventory(tmp_path / 'kea.yml', kea_vars), '--check', '-v')
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert 'pair mg, host dhcpf-mg-p: already a kea pair, nothing to migrate' in output
    assert 'Show the Kea config that would be written' in output
    assert printed(result.stdout, 'Show the Kea config that would be written') == {}
    assert 'the translation above is all this playbook does so far' not in output
