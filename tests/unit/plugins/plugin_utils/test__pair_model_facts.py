# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What `dhcpd -t` cannot see, checked before any host changes (plugins/plugin_utils/_pair_model.py,
_isc_dhcpd.py): listening interfaces against each host's network facts, subnets against the
interfaces, the files dhcpd opens against Debian's AppArmor profile, split/hba, reservations.

The facts are real: `ansible -m setup -a 'gather_subset=!all,!min,network'` of lab containers
(tests/unit/fixtures/facts, README there), turned into ``ansible_facts`` as Ansible does
(``namespace_facts``). The dhcpd behaviour each refusal cites was measured in the lab (comment
above ``_check_interfaces`` in _pair_model.py).
"""

from __future__ import annotations

import copy
import json
import os
import re

import pytest

from ansible.vars.clean import namespace_facts

from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_dhcpd
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError
from ansible_collections.dhcp.failover.tests.unit.plugins.plugin_utils.rendering import COLLECTION, derive_pair

FACTS = os.path.join(COLLECTION, 'tests', 'unit', 'fixtures', 'facts')
APPARMOR = os.path.join(COLLECTION, 'tests', 'unit', 'fixtures', 'apparmor', 'usr.sbin.dhcpd')


def lab_facts(name):
    """``ansible_facts`` of a captured host, as hostvars holds them after setup."""
    with open(os.path.join(FACTS, name + '.json'), encoding='utf-8') as handle:
        return namespace_facts(json.load(handle)['ansible_facts'])['ansible_facts']


def subnet(network, relay=False, pool=True):
    prefix = network.rsplit('.', 1)[0]
    item = {'network': network + '/24' if '/' not in network else network}
    if relay:
        item['relay'] = True
    if pool:
        item['pools'] = [{'ranges': [{'start': prefix + '.100', 'end': prefix + '.200'}]}]
    return item


DHCP_NET = subnet('10.231.41.0')           # the lab's DHCP network (eth0 of p/s, eth1 of ma/mb)


def lab_pair(first='p', second='s', fixtures=None, **common):
    """A pair of two captured hosts: hostvars and pairs; ``common`` is set on both."""
    fixtures = fixtures or {}
    common.setdefault('dhcp_failover_subnets', [copy.deepcopy(DHCP_NET)])
    hostvars = {}
    for host in (first, second):
        hostvars[host] = copy.deepcopy(common)
        hostvars[host]['ansible_facts'] = lab_facts(fixtures.get(host, host if host in ('p', 's') else
                                                                 {'ma': 'multihomed_a', 'mb': 'multihomed_b'}[host]))
    return hostvars, {'refuse': [first, second]}


def refused(hostvars, pairs, pair, host, variable, *parts, play_hosts=None):
    """Every caller of the pair gets the same refusal; returns its text."""
    text = None
    for caller in pairs[pair]:
        with pytest.raises(PairError) as error:
            derive_pair(hostvars, pairs, caller, play_hosts=play_hosts)
        text = str(error.value)
        assert text.startswith('pair %s, host %s, variable %s: ' % (pair, host, variable)), text
        for part in parts:
            assert part in text, text
    return text


# ---------------------------------------------------------------------------------------------
# What the real facts look like (so the checks below read what setup really gathers)

def test_network_facts_of_the_captures():
    from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_model import network_facts
    assert {name: [str(a) for a in addresses] for name, addresses in network_facts(lab_facts('p')).items()} == \
        {'eth0': ['10.231.41.2'], 'lo': ['127.0.0.1']}
    multi = network_facts(lab_facts('multihomed_a_secondary'))
    assert [str(a) for a in multi['eth1']] == ['10.231.41.4', '10.231.43.4']   # the second from ipv4_secondaries
    assert network_facts(lab_facts('multihomed_a_eth1_no_ipv4'))['eth1'] == []
    assert lab_facts('multihomed_a')['default_ipv4']['interface'] == 'eth0'
    assert network_facts({'default_ipv4': {'address': '10.0.0.1'}}) is None


def test_single_nic_pair_passes_with_the_default_interface():
    hostvars, pairs = lab_pair()
    info = derive_pair(hostvars, pairs, 'p', play_hosts=['p', 's'])
    assert (info['interfaces'], info['address'], info['peer_address']) == (['eth0'], '10.231.41.2', '10.231.41.3')


def test_multi_homed_pair_passes_when_told_the_dhcp_nic():
    hostvars, pairs = lab_pair('ma', 'mb', dhcp_failover_interfaces=['eth1'])
    info = derive_pair(hostvars, pairs, 'mb', play_hosts=['ma', 'mb'])
    # the failover address stays the default-route address (the management network)
    assert (info['interfaces'], info['address'], info['peer_address']) == (['eth1'], '10.231.42.5', '10.231.42.4')


def test_a_second_address_puts_an_interface_on_a_subnet():
    """dhcpd serves a subnet through any address of the interface (lab: eth1 10.231.41.4 plus
    10.231.43.4 and only 10.231.43.0/24 declared: "Listening on LPF/eth1/.../10.231.43.0/24")."""
    hostvars, pairs = lab_pair('ma', 'mb', fixtures={'ma': 'multihomed_a_secondary'},
                               dhcp_failover_interfaces=['eth1'], dhcp_failover_subnets=[],
                               dhcp_failover_shared_networks=[{'name': 'lab', 'subnets': [
                                   copy.deepcopy(DHCP_NET), subnet('10.231.43.0', relay=True)]}])
    assert derive_pair(hostvars, pairs, 'ma', play_hosts=['ma', 'mb'])['interfaces'] == ['eth1']


# ---------------------------------------------------------------------------------------------
# 1. every listening interface exists on its host and carries an IPv4 address

def test_interface_that_does_not_exist():
    hostvars, pairs = lab_pair()
    hostvars['s']['dhcp_failover_interfaces'] = ['ens18']
    refused(hostvars, pairs, 'refuse', 's', 'dhcp_failover_interfaces[0]',
            'interface ens18 does not exist on this host (it has: eth0, lo)',
            'No subnet declaration for ens18 (no IPv4 addresses).', 'Not configured to listen on any interfaces!')


def test_interface_without_ipv4():
    hostvars, pairs = lab_pair('ma', 'mb', fixtures={'ma': 'multihomed_a_eth1_no_ipv4'},
                               dhcp_failover_interfaces=['eth1'])
    refused(hostvars, pairs, 'refuse', 'ma', 'dhcp_failover_interfaces[0]', 'interface eth1 has no IPv4 address')


# ---------------------------------------------------------------------------------------------
# 2. subnets against listening interfaces

def test_relay_only_pair():
    """The issue's case: the only subnet is relayed; dhcpd exits "Not configured to listen on any
    interfaces!" on both peers (lab: "No subnet declaration for eth1 (10.231.41.4).")."""
    hostvars, pairs = lab_pair(dhcp_failover_subnets=[subnet('10.231.99.0', relay=True)])
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_subnets',
            'no subnet of the pair is directly attached to this host: eth0 (10.231.41.2)',
            '10.231.99.0/24 relay', 'No subnet declaration for eth0 (10.231.41.2).',
            'Not configured to listen on any interfaces!')


def test_multi_homed_default_route_on_the_management_nic():
    hostvars, pairs = lab_pair('ma', 'mb')
    refused(hostvars, pairs, 'refuse', 'ma', 'dhcp_failover_interfaces',
            'not set, so dhcpd listens on the default-route interface eth0 (10.231.42.4)',
            'Set it to the interfaces on the pair\'s subnets: eth1 (10.231.41.4 in 10.231.41.0/24)')


def test_listening_interface_on_no_subnet_is_refused_though_dhcpd_would_start():
    """Lab: dhcpd ... eth0 eth1 with only 10.231.41.0/24 declared starts, serves eth1, and
    ignores eth0 ("** Ignoring requests on eth0."): the user asked for a service it will not give."""
    hostvars, pairs = lab_pair('ma', 'mb', dhcp_failover_interfaces=['eth0', 'eth1'])
    text = refused(hostvars, pairs, 'refuse', 'ma', 'dhcp_failover_interfaces[0]',
                   'interface eth0 (10.231.42.4) is on no subnet of the pair',
                   'No subnet declaration for eth0 (10.231.42.4).')
    assert 'Not configured to listen' not in text     # eth1 is still served


def test_non_relay_subnet_no_interface_is_on():
    hostvars, pairs = lab_pair(dhcp_failover_subnets=[copy.deepcopy(DHCP_NET), subnet('10.231.50.0')])
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_subnets[1]',
            'no interface dhcpd listens on is on 10.231.50.0/24 (it listens on eth0 10.231.41.2)',
            'set relay: true')


def test_non_relay_subnet_only_one_server_is_on():
    hostvars, pairs = lab_pair('ma', 'mb', fixtures={'ma': 'multihomed_a_secondary'},
                               dhcp_failover_interfaces=['eth1'], dhcp_failover_subnets=[],
                               dhcp_failover_shared_networks=[{'name': 'lab', 'subnets': [
                                   copy.deepcopy(DHCP_NET), subnet('10.231.43.0')]}])
    refused(hostvars, pairs, 'refuse', 'mb', 'dhcp_failover_shared_networks[0].subnets[1]',
            'no interface dhcpd listens on is on 10.231.43.0/24 (it listens on eth1 10.231.41.5)')


def test_one_interface_on_two_shared_networks():
    """Lab: both subnets declared apart, eth1 on both: dhcpd exits with "Interface eth1 matches
    multiple shared networks"."""
    hostvars, pairs = lab_pair('ma', 'mb', fixtures={'ma': 'multihomed_a_secondary'},
                               dhcp_failover_interfaces=['eth1'],
                               dhcp_failover_subnets=[copy.deepcopy(DHCP_NET), subnet('10.231.43.0', relay=True)])
    refused(hostvars, pairs, 'refuse', 'ma', 'dhcp_failover_interfaces[0]',
            'interface eth1 (10.231.41.4, 10.231.43.4) is on 10.231.41.0/24 (dhcp_failover_subnets[0]) and '
            '10.231.43.0/24 (dhcp_failover_subnets[1])', 'Interface eth1 matches multiple shared networks')


# ---------------------------------------------------------------------------------------------
# 3. the failover address is on its host

def test_failover_address_not_on_its_host():
    hostvars, pairs = lab_pair()
    hostvars['s']['dhcp_failover_address'] = '10.231.41.9'
    refused(hostvars, pairs, 'refuse', 's', 'dhcp_failover_address',
            '10.231.41.9 is not an address of this host (it has: 10.231.41.3)')


# ---------------------------------------------------------------------------------------------
# Facts: skipped only for a host outside the play that has none

def test_play_host_without_network_facts_is_refused():
    hostvars, pairs = lab_pair()
    del hostvars['s']['ansible_facts']
    hostvars['s'].update(dhcp_failover_address='10.231.41.3', dhcp_failover_interfaces=['eth0'])
    refused(hostvars, pairs, 'refuse', 's', 'dhcp_failover_interfaces',
            'the network facts of this host are unknown', play_hosts=['p', 's'])


def test_host_outside_the_play_without_facts_is_not_fact_checked():
    """--limit p: s is not changed, and its address and interfaces come from inventory."""
    hostvars, pairs = lab_pair()
    del hostvars['s']['ansible_facts']
    hostvars['s'].update(dhcp_failover_address='10.231.41.3', dhcp_failover_interfaces=['ens18'])
    assert derive_pair(hostvars, pairs, 'p', play_hosts=['p'])['peer_address'] == '10.231.41.3'


def test_host_outside_the_play_with_facts_is_fact_checked():
    hostvars, pairs = lab_pair()
    hostvars['s'].update(dhcp_failover_interfaces=['ens18'])
    refused(hostvars, pairs, 'refuse', 's', 'dhcp_failover_interfaces[0]',
            'interface ens18 does not exist on this host', play_hosts=['p'])


# ---------------------------------------------------------------------------------------------
# 4. files dhcpd opens lie where Debian's AppArmor profile lets it

def test_apparmor_rules_are_the_profiles():
    """The table in _isc_dhcpd is the file rules of the real profile (tests/unit/fixtures/apparmor)."""
    with open(APPARMOR, encoding='utf-8') as handle:
        text = handle.read()
    rules = [tuple(line.strip().rstrip(',').split()) for line in text.splitlines()
             if re.match(r'^\s+/\S+ [a-z]+,$', line)]
    files = [(path, modes) for path, modes in rules if not path.endswith('/')]
    assert list(_isc_dhcpd.APPARMOR_RULES) == files


@pytest.mark.parametrize('path, modes, allowed', [
    ('/etc/dhcp/dhcpd.conf', 'r', True),
    ('/etc/dhcp/site/dhcpd.conf', 'r', True),
    ('/etc/dhcpd.conf', 'r', True),
    ('/etc/dhcpd6.conf', 'r', True),
    ('/etc/dhcpd7.conf', 'r', False),
    ('/srv/dhcp/dhcpd.conf', 'r', False),
    ('/etc/dhcp/dhcpd.conf', 'w', False),
    ('/var/lib/dhcp/dhcpd.leases', 'lrw', True),
    ('/var/lib/dhcp/dhcpd.leases~', 'lrw', True),
    ('/var/lib/dhcp/other.leases', 'lrw', False),
    ('/var/log/dhcpd.leases', 'rw', True),
    ('/var/log/dhcpd.leases', 'lrw', False),
    ('/run/eucalyptus/net/a.leases', 'lrw', True),
    ('/run/eucalyptus/net/sub/a.leases', 'lrw', False),
])
def test_apparmor_globs(path, modes, allowed):
    assert _isc_dhcpd.apparmor_allows(path, modes) is allowed


def test_config_file_outside_etc_dhcp():
    hostvars, pairs = lab_pair()
    hostvars['s']['dhcp_failover_config_file'] = '/srv/dhcp/dhcpd.conf'
    refused(hostvars, pairs, 'refuse', 's', 'dhcp_failover_config_file',
            '/srv/dhcp/dhcpd.conf is not a file dhcpd may read', '/etc/apparmor.d/usr.sbin.dhcpd', 'under /etc/dhcp/')


def test_config_file_escaping_etc_dhcp():
    hostvars, pairs = lab_pair()
    hostvars['p']['dhcp_failover_config_file'] = '/etc/dhcp/../dhcpd-site.conf'
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_config_file', '/etc/dhcpd-site.conf is not a file')


def test_omapi_key_file_outside_etc_dhcp_only_when_omapi_is_on():
    hostvars, pairs = lab_pair()
    hostvars['p']['dhcp_failover_omapi_key_file'] = '/root/omapi.key'
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_omapi_key_file', '/root/omapi.key is not a file dhcpd may read')
    for host in hostvars:
        hostvars[host]['dhcp_failover_omapi_enabled'] = False
    assert derive_pair(hostvars, pairs, 'p')['omapi']['enabled'] is False


def test_lease_file_where_dhcpd_cannot_link():
    """/var/log/** is rw in the profile but not l: dhcpd links NAME to NAME~ when it rewrites the file."""
    hostvars, pairs = lab_pair()
    hostvars['p']['dhcp_failover_lease_file'] = '/var/log/dhcpd.leases'
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_lease_file', '/var/log/dhcpd.leases is not a file dhcpd may write and link')


def test_the_defaults_and_legacy_paths_pass():
    hostvars, pairs = lab_pair()
    hostvars['p']['dhcp_failover_config_file'] = '/etc/dhcpd.conf'
    hostvars['s']['dhcp_failover_omapi_key_file'] = '/etc/dhcp/keys/omapi.conf'
    assert derive_pair(hostvars, pairs, 's')['role'] == 'secondary'


# ---------------------------------------------------------------------------------------------
# 5. split and hba

HBA = ':'.join(['ff'] * 16 + ['00'] * 16)


def test_split_and_hba_together():
    hostvars, pairs = lab_pair(dhcp_failover_split=128, dhcp_failover_hba=HBA)
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_split', 'set together with dhcp_failover_hba')


def test_split_with_hot_standby():
    hostvars, pairs = lab_pair(dhcp_failover_split=200, dhcp_failover_mode='hot_standby')
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_split', 'hot_standby always writes split 256')


def test_hba_with_hot_standby():
    hostvars, pairs = lab_pair(dhcp_failover_hba=HBA, dhcp_failover_mode='hot_standby')
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_hba', 'hot_standby always writes split 256')


@pytest.mark.parametrize('common, split, hba', [
    ({}, 128, None),                                        # the old default, unchanged
    ({'dhcp_failover_split': 200}, 200, None),
    ({'dhcp_failover_hba': HBA}, None, HBA),
    ({'dhcp_failover_mode': 'hot_standby'}, 256, None),
])
def test_split_written_on_the_primary(common, split, hba):
    hostvars, pairs = lab_pair(**common)
    info = derive_pair(hostvars, pairs, 'p')
    assert (info['split'], info['hba']) == (split, hba)
    assert derive_pair(hostvars, pairs, 's')['split'] is None


# ---------------------------------------------------------------------------------------------
# 6. reservations

def reservation(name, mac, address):
    return {'name': name, 'mac': mac, 'address': address}


def test_reservation_in_no_declared_subnet():
    hostvars, pairs = lab_pair(dhcp_failover_reservations=[reservation('printer', '52:54:00:12:34:56', '10.231.44.20')])
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_reservations[0].address',
            'reserved address 10.231.44.20 is in no declared subnet (10.231.41.0/24)')


def test_reservation_in_a_relay_subnet_passes():
    hostvars, pairs = lab_pair(dhcp_failover_subnets=[copy.deepcopy(DHCP_NET), subnet('10.231.44.0', relay=True)],
                               dhcp_failover_reservations=[reservation('printer', '52:54:00:12:34:56', '10.231.44.20')])
    assert derive_pair(hostvars, pairs, 'p')['reservations'][0]['address'] == '10.231.44.20'


def test_mac_reserved_twice():
    hostvars, pairs = lab_pair(dhcp_failover_reservations=[
        reservation('printer', '52:54:00:12:34:56', '10.231.41.20'),
        reservation('scanner', '52:54:00:12:34:56'.upper(), '10.231.41.21')])
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_reservations[1].mac',
            'MAC 52:54:00:12:34:56 is reserved twice (also by dhcp_failover_reservations[0])')


def test_address_reserved_twice():
    hostvars, pairs = lab_pair(dhcp_failover_reservations=[
        reservation('printer', '52:54:00:12:34:56', '10.231.41.20'),
        reservation('scanner', '52:54:00:12:34:57', '10.231.41.20')])
    refused(hostvars, pairs, 'refuse', 'p', 'dhcp_failover_reservations[1].address',
            'address 10.231.41.20 is reserved twice (also by dhcp_failover_reservations[0])')


# ---------------------------------------------------------------------------------------------
# an interface type dhcpd cannot listen on (lpf.c get_hw_addr: "Unsupported device type")

TUN_NET = subnet('10.231.45.0')


def test_tun_interface_is_refused():
    hostvars, pairs = lab_pair(fixtures={'p': 'p_tun_partner', 's': 's_tun'}, dhcp_failover_subnets=[copy.deepcopy(TUN_NET)])
    hostvars['s']['dhcp_failover_interfaces'] = ['eth0', 'rolltun0']
    refused(hostvars, pairs, 'refuse', 's', 'dhcp_failover_interfaces[1]', 'interface rolltun0 is of type tunnel',
            'Unsupported device type', play_hosts=['p', 's'])


def test_host_with_a_tun_interface_passes_when_dhcpd_does_not_listen_on_it():
    hostvars, pairs = lab_pair(fixtures={'p': 'p_tun_partner', 's': 's_tun'}, dhcp_failover_subnets=[copy.deepcopy(TUN_NET)])
    info = derive_pair(hostvars, pairs, 's', play_hosts=['p', 's'])
    assert (info['interfaces'], info['address']) == (['eth0'], '10.231.45.3')


# ---------------------------------------------------------------------------------------------
# Pairs outside this run (--limit PAIR, a later serial batch): their hosts are not contacted

def two_pairs_one_without_facts():
    hostvars, _pairs = lab_pair()
    other = {'dhcp_failover_subnets': [subnet('10.231.55.0')]}
    hostvars['q'] = dict(copy.deepcopy(other), dhcp_failover_role='primary')
    hostvars['t'] = dict(copy.deepcopy(other), dhcp_failover_role='secondary')
    return hostvars, {'refuse': ['p', 's'], 'other': ['q', 't']}


def test_a_pair_outside_the_run_without_facts_does_not_stop_the_run():
    """Its addresses come from facts that nobody gathered (its primary may be down, issue 13)."""
    hostvars, pairs = two_pairs_one_without_facts()
    info = derive_pair(hostvars, pairs, 'p', play_hosts=['p', 's'])
    assert (info['pair'], info['address'], info['peer_address']) == ('refuse', '10.231.41.2', '10.231.41.3')


def test_a_pair_outside_the_run_still_has_its_variables_checked():
    hostvars, pairs = two_pairs_one_without_facts()
    hostvars['t']['dhcp_failover_mclt'] = 'soon'
    with pytest.raises(PairError) as error:
        derive_pair(hostvars, pairs, 'p', play_hosts=['p', 's'])
    assert str(error.value).startswith('pair other, host t, variable dhcp_failover_mclt: '), str(error.value)


def test_a_pair_in_the_run_without_facts_is_refused():
    hostvars, pairs = two_pairs_one_without_facts()
    refused(hostvars, pairs, 'other', 'q', 'dhcp_failover_interfaces',
            'the network facts of this host are unknown', play_hosts=['q', 't'])
