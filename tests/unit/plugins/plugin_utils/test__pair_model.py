# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the pair model and its validation (plugins/plugin_utils/_pair_model.py, _role_spec.py).

Type, choice and unknown-key errors come from ansible-core's ArgumentSpecValidator running the
role's meta/argument_specs.yml; the other cases are the pair rules of _pair_model / _isc_dhcpd.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError
from ansible_collections.dhcp.failover.plugins.plugin_utils import _pair_model
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_model import (
    derive, derive_all, find_pairs, first_difference, format_option_value, shared_variables,
)
from ansible_collections.dhcp.failover.plugins.plugin_utils._role_spec import load_options
from ansible_collections.dhcp.failover.tests.unit.plugins.plugin_utils.rendering import derive_pair

SUBNET = {
    'network': '192.168.1.0/24',
    'routers': ['192.168.1.2'],
    'domain_name_servers': ['192.168.1.2'],
    'domain_name': 'domini.cat',
    'pools': [{'ranges': [{'start': '192.168.1.120', 'end': '192.168.1.200'}]}],
}


def seed_pair():
    """The seed's load-balancing pair: hostvars and pairs, as the filter receives them."""
    common = {'dhcp_failover_peer_name': 'dhcp-failover', 'dhcp_failover_subnets': [copy.deepcopy(SUBNET)]}
    hostvars = {
        'dhcp0375': dict(common, dhcp_failover_role='primary', dhcp_failover_address='192.168.1.2',
                         ansible_facts={'default_ipv4': {'address': '192.168.1.2', 'interface': 'eth0'},
                                        'all_ipv4_addresses': ['192.168.1.2']}),
        'dhcp0374': dict(copy.deepcopy(common), dhcp_failover_role='secondary',
                         dhcp_failover_address='192.168.1.1',
                         ansible_facts={'default_ipv4': {'address': '192.168.1.1', 'interface': 'eth0'},
                                        'all_ipv4_addresses': ['192.168.1.1']}),
    }
    return hostvars, {'office': ['dhcp0375', 'dhcp0374']}


def both(hostvars, **values):
    for host in hostvars:
        hostvars[host].update(copy.deepcopy(values))


def subnet_of(hostvars, **changes):
    subnet = copy.deepcopy(SUBNET)
    subnet.update(changes)
    both(hostvars, dhcp_failover_subnets=[subnet])


def ranges(hostvars, *pairs):
    subnet_of(hostvars, pools=[{'ranges': [{'start': s, 'end': e} for s, e in pairs]}])


# ---------------------------------------------------------------------------------------------
# The derivation

def test_seed_primary_settings():
    hostvars, pairs = seed_pair()
    info = derive_pair(hostvars, pairs, 'dhcp0375')
    assert info['role'] == 'primary' and info['partner_host'] == 'dhcp0374'
    assert (info['address'], info['port'], info['peer_address'], info['peer_port']) == \
        ('192.168.1.2', 647, '192.168.1.1', 647)
    assert (info['split'], info['mclt'], info['hba']) == (128, 3600, None)
    assert info['peer_name'] == 'dhcp-failover'
    assert info['interfaces'] == ['eth0']
    assert info['omapi'] == {'enabled': True, 'port': 7911, 'key_name': 'omapi_key', 'algorithm': 'hmac-sha256'}
    assert info['subnets'][0]['netmask'] == '255.255.255.0'
    assert info['subnets'][0]['pools'][0]['ranges'] == [{'start': '192.168.1.120', 'end': '192.168.1.200'}]


def test_firewall_is_off_by_default_and_per_host():
    """Extra OMAPI sources come back IPv4 first, sorted, overlaps merged (nft refuses overlaps)."""
    hostvars, pairs = seed_pair()
    assert derive_pair(hostvars, pairs, 'dhcp0375')['firewall'] == {'enabled': False, 'extra_omapi_sources': []}
    # A host setting, not a pair setting: one peer may have it and the other not.
    hostvars['dhcp0374'].update(dhcp_failover_firewall_enabled=True, dhcp_failover_firewall_extra_omapi_sources=[
        '2001:db8::/64', '198.51.100.128/25', '192.0.2.10', '198.51.100.0/24', '2001:db8:1::5/128',
        '192.0.2.10/32'])
    assert derive_pair(hostvars, pairs, 'dhcp0375')['firewall']['enabled'] is False
    assert derive_pair(hostvars, pairs, 'dhcp0374')['firewall'] == {
        'enabled': True,
        'extra_omapi_sources': ['192.0.2.10', '198.51.100.0/24', '2001:db8::/64', '2001:db8:1::5'],
    }


def test_seed_secondary_has_no_primary_only_settings():
    hostvars, pairs = seed_pair()
    info = derive_pair(hostvars, pairs, 'dhcp0374')
    assert info['role'] == 'secondary'
    assert (info['address'], info['peer_address']) == ('192.168.1.1', '192.168.1.2')
    assert (info['split'], info['mclt'], info['hba']) == (None, None, None)
    assert info['load_balance_max_seconds'] == 3


def test_partner_port_is_derived_from_the_other_host():
    hostvars, pairs = seed_pair()
    hostvars['dhcp0374']['dhcp_failover_port'] = 847
    assert derive_pair(hostvars, pairs, 'dhcp0375')['peer_port'] == 847
    assert derive_pair(hostvars, pairs, 'dhcp0374')['port'] == 847


def test_default_roles_follow_inventory_order():
    hostvars, pairs = seed_pair()
    for host in hostvars:
        del hostvars[host]['dhcp_failover_role']
    assert derive_pair(hostvars, pairs, 'dhcp0375')['role'] == 'primary'
    assert derive_pair(hostvars, pairs, 'dhcp0374')['role'] == 'secondary'


def test_one_explicit_role_gives_the_other_the_opposite():
    hostvars, pairs = seed_pair()
    del hostvars['dhcp0375']['dhcp_failover_role']
    hostvars['dhcp0374']['dhcp_failover_role'] = 'primary'
    assert derive_pair(hostvars, pairs, 'dhcp0375')['role'] == 'secondary'


def test_address_and_interface_default_to_facts():
    hostvars, pairs = seed_pair()
    for host in hostvars:
        del hostvars[host]['dhcp_failover_address']
    info = derive_pair(hostvars, pairs, 'dhcp0374')
    assert (info['address'], info['peer_address'], info['interfaces']) == ('192.168.1.1', '192.168.1.2', ['eth0'])


def test_hot_standby_is_split_256_with_lbms_on_both():
    hostvars, pairs = seed_pair()
    both(hostvars, dhcp_failover_mode='hot_standby')
    primary = derive_pair(hostvars, pairs, 'dhcp0375')
    secondary = derive_pair(hostvars, pairs, 'dhcp0374')
    assert (primary['split'], primary['mclt']) == (256, 3600)
    assert primary['load_balance_max_seconds'] == secondary['load_balance_max_seconds'] == 3
    assert secondary['split'] is None and secondary['mclt'] is None


def test_hba_replaces_split_on_the_primary():
    hostvars, pairs = seed_pair()
    hba = ':'.join(['aa'] * 16 + ['55'] * 16)
    both(hostvars, dhcp_failover_hba=hba)
    info = derive_pair(hostvars, pairs, 'dhcp0375')
    assert (info['hba'], info['split']) == (hba, None)


def test_many_pairs_each_host_gets_its_own():
    hostvars, pairs = seed_pair()
    for host, address in (('lab1', '10.0.0.1'), ('lab2', '10.0.0.2')):
        hostvars[host] = {'dhcp_failover_address': address, 'dhcp_failover_interfaces': ['eth1'],
                          'dhcp_failover_subnets': [{'network': '10.0.0.0/24', 'pools': [
                              {'ranges': [{'start': '10.0.0.100', 'end': '10.0.0.150'}]}]}]}
    pairs['lab'] = ['lab1', 'lab2']
    info = derive_pair(hostvars, pairs, 'lab2')
    assert (info['pair'], info['peer_name'], info['role'], info['peer_address']) == \
        ('lab', 'lab', 'secondary', '10.0.0.1')


def _pairs_of(count):
    """COUNT load-balancing pairs p1..pCOUNT, each on its own /24 (hostvars and pairs as in a run)."""
    hostvars, pairs = {}, {}
    for i in range(1, count + 1):
        net = '10.%d.0' % i
        subnet = {'network': net + '.0/24', 'pools': [{'ranges': [{'start': net + '.100', 'end': net + '.150'}]}]}
        for last, host in ((1, 'p%d-a' % i), (2, 'p%d-b' % i)):
            address = '%s.%d' % (net, last)
            hostvars[host] = {'dhcp_failover_subnets': [copy.deepcopy(subnet)], 'ansible_facts': {
                'default_ipv4': {'address': address, 'interface': 'eth0'}, 'all_ipv4_addresses': [address],
                'interfaces': ['lo', 'eth0'],
                'eth0': {'device': 'eth0', 'ipv4': {'address': address, 'netmask': '255.255.255.0', 'network': net + '.0'}}}}
        pairs['p%d' % i] = ['p%d-a' % i, 'p%d-b' % i]
    return hostvars, pairs


def _model_args(hostvars, pairs):
    options = load_options()
    groups = dict(pairs, all=list(hostvars), ungrouped=[], dhcp_failover=list(hostvars))
    settings = {name: {key: value for key, value in variables.items() if key in options}
                for name, variables in hostvars.items()}
    facts = {name: variables.get('ansible_facts') or {} for name, variables in hostvars.items()}
    return options, settings, facts, find_pairs(groups)


def test_one_pass_gives_every_host_the_view_derive_gives_it():
    hostvars, pairs = _pairs_of(5)
    options, settings, facts, found = _model_args(hostvars, pairs)
    hosts = list(hostvars)
    views = derive_all(options, settings, facts, found, hosts, play_hosts=hosts)
    assert sorted(views) == sorted(hosts)
    for host in hosts:
        assert views[host] == derive(options, settings, facts, found, host, play_hosts=hosts), host
    assert (views['p3-b']['pair'], views['p3-b']['role'], views['p3-b']['peer_address']) == ('p3', 'secondary', '10.3.0.1')


def test_one_pass_validates_each_host_once_not_once_per_host(monkeypatch):
    """What makes a site run of many pairs linear: derive() on each of 2N hosts validates every
    host's variables 2N times over (4N^2 validations); derive_all() once for all of them, 2N."""
    hostvars, pairs = _pairs_of(6)
    options, settings, facts, found = _model_args(hostvars, pairs)
    calls = []
    real = _pair_model._role_spec.validate

    def counting(*args, **kwargs):
        calls.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(_pair_model._role_spec, 'validate', counting)
    derive_all(options, settings, facts, found, list(hostvars), play_hosts=list(hostvars))
    assert sorted(calls) == sorted(hostvars)
    calls.clear()
    for host in hostvars:
        derive(options, settings, facts, found, host, play_hosts=list(hostvars))
    assert len(calls) == len(hostvars) ** 2


def test_one_pass_refuses_a_broken_pair_with_the_message_each_host_gave():
    hostvars, pairs = _pairs_of(4)
    hostvars['p3-b']['dhcp_failover_mclt'] = 60
    options, settings, facts, found = _model_args(hostvars, pairs)
    with pytest.raises(PairError) as every:
        derive_all(options, settings, facts, found, list(hostvars), play_hosts=list(hostvars))
    with pytest.raises(PairError) as one:
        derive(options, settings, facts, found, 'p1-a', play_hosts=list(hostvars))
    assert str(every.value) == str(one.value)
    assert str(every.value).startswith('pair p3, host p3-b, variable dhcp_failover_mclt: differs between the peers')


def test_one_pass_names_a_wanted_host_that_is_in_no_pair():
    hostvars, pairs = _pairs_of(2)
    options, settings, facts, found = _model_args(hostvars, pairs)
    with pytest.raises(PairError) as refused:
        derive_all(options, settings, facts, found, ['p1-a', 'stray'], play_hosts=list(hostvars))
    assert str(refused.value).startswith('pair (none), host stray, variable dhcp_failover_pairs_group: host is not in any pair group')


def test_option_definitions_come_first_and_custom_options_get_their_type():
    hostvars, pairs = seed_pair()
    both(hostvars, dhcp_failover_option_definitions=[
        WPAD, {'name': 'magic', 'code': 208, 'type': 'binary', 'space': 'pxelinux'},
        {'name': 'servers', 'code': 224, 'type': 'ipv4-address', 'array': True}],
        dhcp_failover_global_options={'wpad-url': 'http://wpad/wpad.dat', 'servers': ['10.0.0.1', '10.0.0.2']})
    hostvars['dhcp0375']['dhcp_failover_subnets'][0]['pools'][0]['options'] = {'pxelinux.magic': 'f1:00:74:7e'}
    hostvars['dhcp0374']['dhcp_failover_subnets'][0]['pools'][0]['options'] = {'pxelinux.magic': 'f1:00:74:7e'}
    info = derive_pair(hostvars, pairs, 'dhcp0375')
    assert [(d['name'], d['dhcpd_type']) for d in info['option_definitions']] == [
        ('wpad-url', 'text'), ('pxelinux.magic', 'string'), ('servers', 'array of ip-address')]
    assert info['option_spaces'] == ['pxelinux']
    assert info['global_options'] == [
        {'name': 'wpad-url', 'value': '"http://wpad/wpad.dat"', 'raw': 'http://wpad/wpad.dat'},
        {'name': 'servers', 'value': '10.0.0.1, 10.0.0.2', 'raw': ['10.0.0.1', '10.0.0.2']}]
    assert info['subnets'][0]['pools'][0]['options'] == [
        {'name': 'pxelinux.magic', 'value': 'f1:00:74:7e', 'raw': 'f1:00:74:7e'}]


def test_options_are_formatted_for_dhcpd():
    assert format_option_value('domain-name', 'domini.cat') == '"domini.cat"'
    assert format_option_value('domain-search', ['a.cat', 'b.cat']) == '"a.cat", "b.cat"'
    assert format_option_value('ntp-servers', ['10.0.0.1', '10.0.0.2']) == '10.0.0.1, 10.0.0.2'
    assert format_option_value('ip-forwarding', False) == 'false'
    assert format_option_value('interface-mtu', 1500) == '1500'


# ---------------------------------------------------------------------------------------------
# The table of bad inventories: (id, change to the seed pair, pair, host, variable, message part)

def _set(host, **values):
    def change(hostvars, pairs):
        hostvars[host].update(values)
    return change


def _both(**values):
    def change(hostvars, pairs):
        both(hostvars, **values)
    return change


def _subnet(**changes):
    def change(hostvars, pairs):
        subnet_of(hostvars, **changes)
    return change


def _ranges(*items):
    def change(hostvars, pairs):
        ranges(hostvars, *items)
    return change


def _three_hosts(hostvars, pairs):
    hostvars['dhcp0376'] = copy.deepcopy(hostvars['dhcp0374'])
    pairs['office'].append('dhcp0376')


def _host_in_two_pairs(hostvars, pairs):
    hostvars['dhcp0376'] = copy.deepcopy(hostvars['dhcp0374'])
    pairs['other'] = ['dhcp0374', 'dhcp0376']


def _group_with_the_pairs_hosts(hostvars, pairs):
    pairs['servers'] = ['dhcp0374', 'dhcp0375']


def _no_facts(hostvars, pairs):
    del hostvars['dhcp0374']['dhcp_failover_address']
    del hostvars['dhcp0374']['ansible_facts']


def _same_address_without_facts(hostvars, pairs):
    for host in hostvars:
        del hostvars[host]['ansible_facts']
        hostvars[host].update(dhcp_failover_address='192.168.1.2', dhcp_failover_interfaces=['eth0'])


def _no_pools(hostvars, pairs):
    subnet = copy.deepcopy(SUBNET)
    del subnet['pools']
    both(hostvars, dhcp_failover_subnets=[subnet])


def _overlapping_subnets(hostvars, pairs):
    both(hostvars, dhcp_failover_subnets=[copy.deepcopy(SUBNET), dict(copy.deepcopy(SUBNET), network='192.168.0.0/23')])


def _overlap_in_shared_network(hostvars, pairs):
    both(hostvars, dhcp_failover_shared_networks=[{'name': 'campus', 'subnets': [{
        'network': '192.168.1.0/25', 'relay': True,
        'pools': [{'ranges': [{'start': '192.168.1.30', 'end': '192.168.1.60'}]}]}]}])


def _reservation_in_pool(hostvars, pairs):
    both(hostvars, dhcp_failover_reservations=[
        {'name': 'printer', 'mac': '52:54:00:12:34:56', 'address': '192.168.1.150'}])


def _reservation_bad_mac(hostvars, pairs):
    both(hostvars, dhcp_failover_reservations=[
        {'name': 'printer', 'mac': '52:54:00:12:34', 'address': '192.168.1.20'}])


def _different_subnets(hostvars, pairs):
    hostvars['dhcp0374']['dhcp_failover_subnets'][0]['pools'][0]['ranges'][0]['end'] = '192.168.1.210'


HBA = ':'.join(['ff'] * 32)
WPAD = {'name': 'wpad-url', 'code': 252, 'type': 'text'}

BAD = [
    ('two-primaries', _set('dhcp0374', dhcp_failover_role='primary'),
     'office', 'dhcp0374', 'dhcp_failover_role', 'both dhcp0375 and dhcp0374 are primary'),
    ('two-secondaries', _set('dhcp0375', dhcp_failover_role='secondary'),
     'office', 'dhcp0374', 'dhcp_failover_role', 'exactly one primary and one secondary'),
    ('bad-role-name', _set('dhcp0375', dhcp_failover_role='master'),
     'office', 'dhcp0375', 'dhcp_failover_role', "value of dhcp_failover_role must be one of: primary, secondary, got: master"),
    ('three-hosts', _three_hosts,
     'office', 'dhcp0375, dhcp0374, dhcp0376', 'dhcp_failover_pairs_group', 'exactly two hosts, it holds 3'),
    ('host-in-two-pairs', _host_in_two_pairs,
     'other', 'dhcp0374', 'dhcp_failover_pairs_group', 'host is in two pairs (office and other)'),
    ('group-with-the-pairs-hosts', _group_with_the_pairs_hosts,
     'servers', 'dhcp0374', 'dhcp_failover_pair', 'groups office and servers hold the same hosts'),
    ('same-address', _set('dhcp0374', dhcp_failover_address='192.168.1.2'),
     'office', 'dhcp0374', 'dhcp_failover_address', 'is not an address of this host'),
    ('same-address-no-facts', _same_address_without_facts,
     'office', 'dhcp0374', 'dhcp_failover_address', 'both peers use 192.168.1.2'),
    ('address-not-ipv4', _set('dhcp0375', dhcp_failover_address='192.168.1.300'),
     'office', 'dhcp0375', 'dhcp_failover_address', 'is not an IPv4 address'),
    ('address-unknown', _no_facts,
     'office', 'dhcp0374', 'dhcp_failover_address', 'ansible_default_ipv4.address is unknown'),
    ('port-out-of-range', _set('dhcp0375', dhcp_failover_port=70000),
     'office', 'dhcp0375', 'dhcp_failover_port', 'must be at most 65535'),
    ('split-over-256', _both(dhcp_failover_split=300),
     'office', 'dhcp0375', 'dhcp_failover_split', 'must be at most 256, got 300'),
    ('split-negative', _both(dhcp_failover_split=-1),
     'office', 'dhcp0375', 'dhcp_failover_split', 'must be at least 0'),
    ('mclt-zero', _both(dhcp_failover_mclt=0),
     'office', 'dhcp0375', 'dhcp_failover_mclt', 'must be at least 1, got 0'),
    ('mclt-not-int', _both(dhcp_failover_mclt='an hour'),
     'office', 'dhcp0375', 'dhcp_failover_mclt', 'is of type str and we were unable to convert to int'),
    ('lbms-zero', _both(dhcp_failover_load_balance_max_seconds=0),
     'office', 'dhcp0375', 'dhcp_failover_load_balance_max_seconds', 'must be at least 1'),
    ('peer-name-quote', _both(dhcp_failover_peer_name='dhcp "failover"'),
     'office', 'dhcp0375', 'dhcp_failover_peer_name', 'is not a valid failover peer name'),
    ('bad-mode', _both(dhcp_failover_mode='active_active'),
     'office', 'dhcp0375', 'dhcp_failover_mode', 'must be one of: load_balance, hot_standby, got: active_active'),
    ('hba-malformed', _both(dhcp_failover_hba='ff:ff'),
     'office', 'dhcp0375', 'dhcp_failover_hba', 'is not a valid hba'),
    ('hba-in-hot-standby', _both(dhcp_failover_hba=HBA, dhcp_failover_mode='hot_standby'),
     'office', 'dhcp0375', 'dhcp_failover_hba', 'hot_standby always writes split 256'),
    ('peers-disagree-mode', _set('dhcp0374', dhcp_failover_mode='hot_standby'),
     'office', 'dhcp0374', 'dhcp_failover_mode', 'differs between the peers'),
    ('peers-disagree-peer-name', _set('dhcp0374', dhcp_failover_peer_name='other'),
     'office', 'dhcp0374', 'dhcp_failover_peer_name', "dhcp0375 has 'dhcp-failover', dhcp0374 has 'other'"),
    ('peers-disagree-mclt', _set('dhcp0375', dhcp_failover_mclt=1800),
     'office', 'dhcp0374', 'dhcp_failover_mclt', 'differs between the peers'),
    ('peers-disagree-ranges', _different_subnets,
     'office', 'dhcp0374', 'dhcp_failover_subnets[0].pools[0].ranges[0].end',
     "differs between the peers (dhcp0375 has '192.168.1.200', dhcp0374 has '192.168.1.210')"),
    ('range-outside-subnet', _ranges(('192.168.1.120', '192.168.2.10')),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].pools[0].ranges[0]', 'is not inside subnet 192.168.1.0/24'),
    ('range-reversed', _ranges(('192.168.1.200', '192.168.1.120')),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].pools[0].ranges[0]', 'start 192.168.1.200 is after end 192.168.1.120'),
    ('range-bad-address', _ranges(('192.168.1.x', '192.168.1.120')),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].pools[0].ranges[0].start', 'is not an IPv4 address'),
    ('ranges-overlap', _ranges(('192.168.1.120', '192.168.1.160'), ('192.168.1.150', '192.168.1.200')),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].pools[0].ranges[1]', 'overlaps range 192.168.1.120-192.168.1.160'),
    ('range-holds-peer-address', _ranges(('192.168.1.1', '192.168.1.1')),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].pools[0].ranges[0]', 'contains the failover address 192.168.1.1 of dhcp0374'),
    ('range-holds-router', _subnet(routers=['192.168.1.130']),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].pools[0].ranges[0]', 'contains the router 192.168.1.130'),
    ('range-holds-broadcast', _ranges(('192.168.1.200', '192.168.1.255')),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].pools[0].ranges[0]', 'network or broadcast address'),
    ('network-not-a-network', _subnet(network='192.168.1.1/24'),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].network', 'is not an IPv4 network'),
    ('subnets-overlap', _overlapping_subnets,
     'office', 'dhcp0375', 'dhcp_failover_subnets[1].network', 'overlaps subnet 192.168.1.0/24'),
    ('shared-network-range-overlaps', _overlap_in_shared_network,
     'office', 'dhcp0375', 'dhcp_failover_shared_networks[0].subnets[0].network', 'overlaps subnet'),
    ('pool-not-bound', _subnet(pools=[{'failover': False, 'ranges': [{'start': '192.168.1.120',
                                                                     'end': '192.168.1.200'}]}]),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].pools[0].failover', 'must be bound to the failover peer'),
    ('raw-range-outside-pool', _subnet(statements=['range 192.168.1.10 192.168.1.20;']),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].statements[0]', 'range outside a pool'),
    ('no-pool-at-all', _no_pools,
     'office', 'dhcp0375', 'dhcp_failover_subnets', 'a failover pair needs at least one pool'),
    ('pool-without-range', _subnet(pools=[{'ranges': []}]),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].pools[0].ranges', 'a pool needs at least one range'),
    ('unknown-subnet-key', _subnet(gateway='192.168.1.254'),
     'office', 'dhcp0375', 'dhcp_failover_subnets', 'unknown key(s): dhcp_failover_subnets.gateway'),
    ('omapi-port-is-failover-port', _both(dhcp_failover_omapi_port=647),
     'office', 'dhcp0375', 'dhcp_failover_omapi_port', 'OMAPI port 647 is also the failover port of dhcp0375'),
    ('omapi-bad-algorithm', _both(dhcp_failover_omapi_algorithm='hmac-sha999'),
     'office', 'dhcp0375', 'dhcp_failover_omapi_algorithm', 'must be one of: hmac-md5'),
    ('lease-times-inverted', _both(dhcp_failover_default_lease_time=9000),
     'office', 'dhcp0375', 'dhcp_failover_default_lease_time', 'is longer than dhcp_failover_max_lease_time 7200'),
    ('reservation-in-pool', _reservation_in_pool,
     'office', 'dhcp0375', 'dhcp_failover_reservations[0].address', 'is inside the dynamic range'),
    ('reservation-bad-mac', _reservation_bad_mac,
     'office', 'dhcp0375', 'dhcp_failover_reservations[0].mac', 'is not a valid MAC address'),
    ('bad-interface', _set('dhcp0374', dhcp_failover_interfaces=['eth0; rm -rf']),
     'office', 'dhcp0374', 'dhcp_failover_interfaces[0]', 'is not a valid interface name'),
    ('bad-option-name', _both(dhcp_failover_global_options={'Domain Name': 'x'}),
     'office', 'dhcp0375', 'dhcp_failover_global_options.Domain Name', 'is not a valid dhcp option name'),
    ('firewall-bad-omapi-source', _set('dhcp0374', dhcp_failover_firewall_extra_omapi_sources=['192.0.2.0/24', 'admin-pc']),
     'office', 'dhcp0374', 'dhcp_failover_firewall_extra_omapi_sources[1]', "'admin-pc' is not an IPv4 or IPv6 address"),
    ('option-in-undefined-space', _subnet(options={'pxelinux.magic': 'f1:00:74:7e'}),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].options.pxelinux.magic',
     'is not defined in dhcp_failover_option_definitions'),
    ('option-code-out-of-range', _both(dhcp_failover_option_definitions=[dict(WPAD, code=255)]),
     'office', 'dhcp0375', 'dhcp_failover_option_definitions[0].code', 'must be between 1 and 254, got 255'),
    ('option-defined-twice', _both(dhcp_failover_option_definitions=[WPAD, dict(WPAD, code=251)]),
     'office', 'dhcp0375', 'dhcp_failover_option_definitions[1].name', 'option wpad-url is defined twice'),
    ('option-text-array', _both(dhcp_failover_option_definitions=[dict(WPAD, array=True)]),
     'office', 'dhcp0375', 'dhcp_failover_option_definitions[0].array', 'a text option cannot be an array'),
    ('option-bad-type', _both(dhcp_failover_option_definitions=[dict(WPAD, type='url')]),
     'office', 'dhcp0375', 'dhcp_failover_option_definitions', 'must be one of: boolean, uint8'),
    ('next-server-not-an-address', _subnet(next_server='tftp.example'),
     'office', 'dhcp0375', 'dhcp_failover_subnets[0].next_server', "'tftp.example' is not an IPv4 address"),
    ('firewall-source-host-bits', _set('dhcp0374', dhcp_failover_firewall_extra_omapi_sources=['192.0.2.7/24']),
     'office', 'dhcp0374', 'dhcp_failover_firewall_extra_omapi_sources[0]', 'has host bits set'),
]


@pytest.mark.parametrize('change, pair, host, variable, message',
                         [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_inventory_is_refused(change, pair, host, variable, message):
    hostvars, pairs = seed_pair()
    change(hostvars, pairs)
    for caller in hostvars:
        with pytest.raises(PairError) as error:
            derive_pair(hostvars, pairs, caller)
        text = str(error.value)
        assert text.startswith('pair %s, host %s, variable %s: ' % (pair, host, variable)), text
        assert message in text, text


def test_bad_table_cases_are_distinct():
    assert len({case[0] for case in BAD}) == len(BAD)
    assert len({(case[4], case[5]) for case in BAD}) == len(BAD)


# A value of the right type for each shared variable, different from the seed's and the default.
OTHER_VALUES = {'str': 'other-name', 'int': 42, 'bool': None, 'list': None, 'dict': {'ntp-servers': '192.0.2.1'},
                'path': '/etc/other'}


@pytest.mark.parametrize('name', shared_variables(load_options()))
def test_every_shared_variable_is_compared(name):
    """Changing any pair setting on one peer alone is refused, naming that variable."""
    option = load_options()[name]
    hostvars, pairs = seed_pair()
    current = option.get('default')
    if option['type'] == 'bool':
        value = not current
    elif option['type'] == 'list':
        value = [{'name': 'x', 'code': 250, 'type': 'text'}] if name == 'dhcp_failover_option_definitions' else \
            [{'name': 'printer', 'mac': '52:54:00:12:34:56', 'address': '192.168.1.20'}] \
            if name == 'dhcp_failover_reservations' else \
            [{'name': 'campus', 'subnets': [{'network': '10.9.0.0/24', 'relay': True}]}] \
            if name == 'dhcp_failover_shared_networks' else [{'network': '10.9.0.0/24', 'relay': True}]
    elif option.get('choices'):
        value = [choice for choice in option['choices'] if choice != current][0]
    else:
        value = OTHER_VALUES[option['type']]
    hostvars['dhcp0374'][name] = value
    with pytest.raises(PairError) as error:
        derive_pair(hostvars, pairs, 'dhcp0375')
    assert 'variable %s' % name in str(error.value) and 'differs between the peers' in str(error.value), str(error.value)


def test_a_difference_names_the_one_field_not_two_dumps():
    hostvars, pairs = seed_pair()
    hostvars['dhcp0374']['dhcp_failover_subnets'][0]['domain_name'] = 'other.cat'
    with pytest.raises(PairError) as error:
        derive_pair(hostvars, pairs, 'dhcp0375')
    assert str(error.value) == (
        "pair office, host dhcp0374, variable dhcp_failover_subnets[0].domain_name: differs between the peers "
        "(dhcp0375 has 'domini.cat', dhcp0374 has 'other.cat'); both peers of a pair must share it "
        "(set it in the pair group vars)")


def test_first_difference_walks_lists_and_dicts():
    assert first_difference({'a': [1, {'b': 2}]}, {'a': [1, {'b': 3}]}, 'v') == ('v.a[1].b', 2, 3)
    assert first_difference([1], [1, 2], 'v') == ('v[1]', '(absent)', 2)
    assert first_difference({'a': 1}, {'a': 1}, 'v') is None


def test_a_secret_that_differs_is_never_shown():
    hostvars, pairs = seed_pair()
    hostvars['dhcp0375']['dhcp_failover_omapi_secret'] = 'c2VjcmV0LW9uZQ=='
    hostvars['dhcp0374']['dhcp_failover_omapi_secret'] = 'c2VjcmV0LXR3bw=='
    with pytest.raises(PairError) as error:
        derive_pair(hostvars, pairs, 'dhcp0375')
    assert 'variable dhcp_failover_omapi_secret: differs' in str(error.value)
    assert 'c2VjcmV0' not in str(error.value)


def test_local_settings_may_differ_between_peers():
    """A mixed pair (Debian 12 + 13) may use other packages, files or service names per host."""
    hostvars, pairs = seed_pair()
    hostvars['dhcp0374'].update(dhcp_failover_packages=['isc-dhcp-server'], dhcp_failover_service='dhcpd')
    assert derive_pair(hostvars, pairs, 'dhcp0375')['partner_host'] == 'dhcp0374'


# ---------------------------------------------------------------------------------------------
# Finding the pairs from groups

GROUPS = {'all': ['a', 'b', 'c', 'd', 'web'], 'ungrouped': ['web'], 'dhcp_failover': ['a', 'b', 'c', 'd'],
          'office': ['a', 'b'], 'campus': ['c', 'd'], 'webservers': ['web', 'a']}


def test_pairs_are_the_smallest_groups_of_failover_servers():
    assert find_pairs(GROUPS) == {'office': ['a', 'b'], 'campus': ['c', 'd']}


def test_a_cross_group_of_failover_servers_is_refused_with_the_way_out():
    groups = dict(GROUPS, debian13=['b', 'd'])
    with pytest.raises(PairError, match='host is in two pairs .* set dhcp_failover_pair'):
        find_pairs(groups)


def test_a_group_with_the_same_hosts_as_a_pair_needs_the_pair_named():
    """Molecule puts a scenario's servers in a group of their own (platforms: groups: [servers])."""
    groups = {'all': ['a', 'b'], 'dhcp_failover': ['a', 'b'], 'servers': ['a', 'b'], 'office': ['a', 'b']}
    with pytest.raises(PairError, match='variable dhcp_failover_pair: groups servers and office hold the same hosts'):
        find_pairs(groups)
    assert find_pairs(groups, pair_of_host={'a': 'office', 'b': 'office'}) == {'office': ['a', 'b']}


def test_the_playbooks_run_time_groups_are_never_pairs():
    """status groups the servers that answered, drill the primaries: neither is a pair.

    With one pair and its secondary down, {a} would otherwise be the smallest group of
    failover servers and hide the pair (found by running dhcp.failover.status on one pair).
    """
    groups = {'all': ['a', 'b'], 'dhcp_failover': ['a', 'b'], 'office': ['a', 'b'],
              '__dhcp_failover_status_reachable': ['a'], '__dhcp_failover_drill_primaries': ['a']}
    assert find_pairs(groups) == {'office': ['a', 'b']}


def test_dhcp_failover_pair_decides_when_set():
    groups = dict(GROUPS, debian13=['b', 'd'])
    named = {'a': 'office', 'b': 'office', 'c': 'campus', 'd': 'campus'}
    assert find_pairs(groups, pair_of_host=named) == {'office': ['a', 'b'], 'campus': ['c', 'd']}
    with pytest.raises(PairError, match='host d, variable dhcp_failover_pair: not set, but a sets it'):
        find_pairs(groups, pair_of_host=dict(named, d=None))
    with pytest.raises(PairError, match="pair debian12, host a, variable dhcp_failover_pair: names 'debian12'"):
        find_pairs(groups, pair_of_host=dict(named, a='debian12'))


def test_another_pairs_group():
    groups = {'all': ['a', 'b'], 'dhcp_servers': ['a', 'b'], 'office': ['a', 'b']}
    assert find_pairs(groups, 'dhcp_servers') == {'office': ['a', 'b']}
    with pytest.raises(PairError, match='variable dhcp_failover_pairs_group: the inventory has no group'):
        find_pairs(groups)


def test_host_outside_every_pair():
    hostvars, pairs = seed_pair()
    with pytest.raises(PairError, match='host stranger, variable dhcp_failover_pairs_group: host is not in any pair'):
        derive_pair(hostvars, pairs, 'stranger')


def test_another_pair_broken_fails_this_host_too():
    """The filter validates every pair, so a broken pair stops the whole play."""
    hostvars, pairs = seed_pair()
    hostvars['lab1'] = {'dhcp_failover_address': '10.0.0.1', 'dhcp_failover_interfaces': ['eth0'],
                        'dhcp_failover_role': 'primary'}
    hostvars['lab2'] = dict(hostvars['lab1'], dhcp_failover_address='10.0.0.2')
    pairs['lab'] = ['lab1', 'lab2']
    with pytest.raises(PairError, match='pair lab, host lab2, variable dhcp_failover_role'):
        derive_pair(hostvars, pairs, 'dhcp0375')
