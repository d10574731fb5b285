# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Kea backend: rendering of kea-dhcp4.conf from the pair description, and its refusals.

The rendered configs of kea_pair() (the network 10.231.73 and 10.231.74 ones) were started on
real Kea 2.2.0 and 2.6.3 pairs in the lab and reached load-balancing and hot-standby
(tests/unit/fixtures/kea/check/README.md); their -t/-T outputs are the fixtures of
test_kea_config.py.
"""

from __future__ import annotations

import copy
import ipaddress

import pytest

from ansible_collections.dhcp.failover.plugins.plugin_utils import _kea
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError
from ansible_collections.dhcp.failover.plugins.plugin_utils._role_spec import load_options
from ansible_collections.dhcp.failover.tests.unit.plugins.plugin_utils.rendering import derive_pair

HOSTS = ('kea1', 'kea2')


def kea_pair(network='192.168.1', **changes):
    """A Kea pair like molecule/default's: one subnet, one pool .120-.200, a reservation, short HA timers."""
    common = {
        'dhcp_failover_backend': 'kea',
        'dhcp_failover_mode': 'load_balance',
        'dhcp_failover_kea_heartbeat_delay': 2000,
        'dhcp_failover_kea_max_response_delay': 6000,
        'dhcp_failover_kea_max_ack_delay': 5000,
        'dhcp_failover_kea_max_unacked_clients': 0,
        'dhcp_failover_global_options': {'ntp-servers': ['%s.11' % network]},
        'dhcp_failover_subnets': [{
            'network': '%s.0/24' % network,
            'routers': ['%s.254' % network],
            'domain_name_servers': ['%s.11' % network, '%s.12' % network],
            'domain_name': 'domini.cat',
            'pools': [{'ranges': [{'start': '%s.120' % network, 'end': '%s.200' % network}]}],
        }],
        'dhcp_failover_reservations': [{'name': 'printer', 'mac': '52:54:00:12:34:56', 'address': '%s.20' % network}],
    }
    common.update(changes)
    hostvars = {}
    for host, last, role in (('kea1', 11, 'primary'), ('kea2', 12, 'secondary')):
        address = '%s.%d' % (network, last)
        hostvars[host] = dict(copy.deepcopy(common), dhcp_failover_role=role, dhcp_failover_address=address,
                              ansible_facts={'default_ipv4': {'address': address, 'interface': 'eth0'},
                                             'all_ipv4_addresses': [address]})
    return hostvars, {'kpair': list(HOSTS)}


def info_of(pair, host='kea1'):
    hostvars, pairs = pair
    return derive_pair(hostvars, pairs, host)


def rendered(pair, host='kea1'):
    return info_of(pair, host)['kea']['config']


def ha(config):
    return config['Dhcp4']['hooks-libraries'][1]['parameters']['high-availability'][0]


def refused(pair, host='kea1'):
    with pytest.raises(PairError) as error:
        info_of(pair, host)
    return error.value


# ---------------------------------------------------------------------------------------------
# Rendering

def test_load_balancing_splits_every_pool_primary_first():
    """.120-.200 is 81 addresses: the primary (class HA_kea1) gets the first 41, the secondary (HA_kea2) the other 40."""
    config = rendered(kea_pair())
    assert config['Dhcp4']['subnet4'][0]['pools'] == [
        {'pool': '192.168.1.120 - 192.168.1.160', 'client-class': 'HA_kea1'},
        {'pool': '192.168.1.161 - 192.168.1.200', 'client-class': 'HA_kea2'},
    ]
    assert config['Dhcp4']['client-classes'] == [{'name': 'HA_kea1'}, {'name': 'HA_kea2'}]


def test_split_classes_are_ha_and_each_servers_own_name():
    """Kea's HA hook classes a load-balancing client HA_<this-server-name of the server that serves it>.

    Measured on Kea 2.2.0 (H3's lab, kea-findings.md 07:17): pools of class HA_server1/HA_server2 with
    servers named otherwise serve no client at all. The inventory names become the server names.
    """
    hostvars, _pairs = kea_pair()
    renamed = {'dhcp-a.example.net': hostvars['kea1'], 'dhcp-b.example.net': hostvars['kea2']}
    pairs = {'kpair': ['dhcp-a.example.net', 'dhcp-b.example.net']}
    for host in renamed:
        config = derive_pair(renamed, pairs, host)['kea']['config']
        block = ha(config)
        names = dict((peer['role'], peer['name']) for peer in block['peers'])
        assert names == {'primary': 'dhcp-a.example.net', 'secondary': 'dhcp-b.example.net'}
        assert [pool['client-class'] for pool in config['Dhcp4']['subnet4'][0]['pools']] == [
            'HA_' + names['primary'], 'HA_' + names['secondary']]
        assert config['Dhcp4']['client-classes'] == [{'name': 'HA_dhcp-a.example.net'},
                                                     {'name': 'HA_dhcp-b.example.net'}]


@pytest.mark.parametrize('start, end, halves', [
    ('10.0.0.10', '10.0.0.19', [('10.0.0.10', '10.0.0.14'), ('10.0.0.15', '10.0.0.19')]),
    ('10.0.0.10', '10.0.0.10', [('10.0.0.10', '10.0.0.10')]),
    ('10.0.0.10', '10.0.0.11', [('10.0.0.10', '10.0.0.10'), ('10.0.0.11', '10.0.0.11')]),
    ('10.0.0.250', '10.0.1.4', [('10.0.0.250', '10.0.0.255'), ('10.0.1.0', '10.0.1.4')]),
])
def test_split_range_exact_addresses(start, end, halves):
    assert [(str(low), str(high)) for low, high in _kea.split_range(start, end)] == halves


def test_every_range_of_every_pool_is_split_and_pool_options_follow():
    pair = kea_pair()
    for host in HOSTS:
        pair[0][host]['dhcp_failover_subnets'][0]['pools'] = [
            {'ranges': [{'start': '192.168.1.100', 'end': '192.168.1.103'},
                        {'start': '192.168.1.110', 'end': '192.168.1.112'}],
             'options': {'domain-name': 'pool.cat'}},
        ]
    pools = rendered(pair)['Dhcp4']['subnet4'][0]['pools']
    data = [{'name': 'domain-name', 'data': 'pool.cat'}]
    assert pools == [
        {'pool': '192.168.1.100 - 192.168.1.101', 'client-class': 'HA_kea1', 'option-data': data},
        {'pool': '192.168.1.102 - 192.168.1.103', 'client-class': 'HA_kea2', 'option-data': data},
        {'pool': '192.168.1.110 - 192.168.1.111', 'client-class': 'HA_kea1', 'option-data': data},
        {'pool': '192.168.1.112 - 192.168.1.112', 'client-class': 'HA_kea2', 'option-data': data},
    ]


def test_hot_standby_pools_are_unsplit_with_primary_and_standby():
    config = rendered(kea_pair(dhcp_failover_mode='hot_standby'))
    assert config['Dhcp4']['subnet4'][0]['pools'] == [{'pool': '192.168.1.120 - 192.168.1.200'}]
    assert 'client-classes' not in config['Dhcp4']
    block = ha(config)
    assert block['mode'] == 'hot-standby'
    assert [(peer['name'], peer['role']) for peer in block['peers']] == [('kea1', 'primary'), ('kea2', 'standby')]


def test_both_hooks_ha_multi_threading_and_the_files():
    config = rendered(kea_pair())['Dhcp4']
    assert [hook['library'] for hook in config['hooks-libraries']] == [
        '/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so', '/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so']
    assert config['multi-threading'] == {'enable-multi-threading': True}
    assert ha({'Dhcp4': config})['multi-threading'] == {
        'enable-multi-threading': True, 'http-dedicated-listener': True,
        'http-listener-threads': 2, 'http-client-threads': 2}
    assert config['control-socket'] == {'socket-type': 'unix', 'socket-name': '/run/kea/kea4-ctrl-socket'}
    assert config['lease-database'] == {'type': 'memfile', 'persist': True, 'name': '/var/lib/kea/kea-leases4.csv',
                                        'lfc-interval': 3600}
    assert config['interfaces-config'] == {'interfaces': ['eth0']}
    assert (config['valid-lifetime'], config['max-valid-lifetime']) == (600, 7200)


def test_the_two_configs_differ_only_in_this_server_name_and_urls_mirror():
    pair = kea_pair()
    pair[0]['kea2']['dhcp_failover_kea_ha_port'] = 8011
    first, second = rendered(pair, 'kea1'), rendered(pair, 'kea2')
    assert ha(first)['this-server-name'] == 'kea1' and ha(second)['this-server-name'] == 'kea2'
    assert ha(first)['peers'] == ha(second)['peers'] == [
        {'name': 'kea1', 'url': 'http://192.168.1.11:8001/', 'role': 'primary', 'auto-failover': True},
        {'name': 'kea2', 'url': 'http://192.168.1.12:8011/', 'role': 'secondary', 'auto-failover': True}]
    ha(second)['this-server-name'] = 'kea1'
    assert first == second
    view = info_of(pair, 'kea2')
    assert (view['kea']['url'], view['kea']['peer_url']) == ('http://192.168.1.12:8011/', 'http://192.168.1.11:8001/')
    assert (view['port'], view['peer_port'], view['kea']['ha_port'], view['kea']['peer_ha_port']) == (8011, 8001, 8011, 8001)
    assert (view['kea']['ha_role'], view['role'], view['partner_role']) == ('secondary', 'secondary', 'primary')


def test_ha_timers_from_the_description():
    block = ha(rendered(kea_pair()))
    assert (block['heartbeat-delay'], block['max-response-delay'], block['max-ack-delay'],
            block['max-unacked-clients']) == (2000, 6000, 5000, 0)


def test_subnet_ids_options_and_reservations():
    pair = kea_pair(
        dhcp_failover_option_definitions=[{'name': 'wpad-url', 'code': 252, 'type': 'text'},
                                          {'name': 'servers', 'code': 224, 'type': 'ipv4-address', 'array': True},
                                          {'name': 'magic', 'code': 208, 'type': 'binary', 'space': 'pxelinux'}],
        dhcp_failover_global_options={'wpad-url': 'http://wpad/a,b.dat', 'servers': ['10.0.0.1', '10.0.0.2']},
        dhcp_failover_shared_networks=[{'name': 'campus', 'subnets': [
            {'network': '10.9.0.0/24', 'relay': True, 'pools': [{'ranges': [{'start': '10.9.0.10', 'end': '10.9.0.13'}]}]},
        ]}])
    for host in HOSTS:
        subnet = pair[0][host]['dhcp_failover_subnets'][0]
        subnet.update(next_server='192.168.1.5', filename='pxelinux.0')
        pair[0][host]['dhcp_failover_reservations'][0].update(options={'host-name': 'printer1'}, filename='p.bin')
        pair[0][host]['dhcp_failover_subnets'].append({'network': '192.168.2.0/24', 'relay': True})
    config = rendered(pair)['Dhcp4']
    assert config['option-def'] == [
        {'name': 'wpad-url', 'code': 252, 'type': 'string', 'array': False, 'space': 'dhcp4'},
        {'name': 'servers', 'code': 224, 'type': 'ipv4-address', 'array': True, 'space': 'dhcp4'},
        {'name': 'magic', 'code': 208, 'type': 'binary', 'array': False, 'space': 'pxelinux'}]
    assert config['option-data'] == [{'name': 'wpad-url', 'data': 'http://wpad/a\\,b.dat'},
                                     {'name': 'servers', 'data': '10.0.0.1, 10.0.0.2'}]
    first, second = config['subnet4']
    assert (first['id'], first['subnet'], second['id'], second['subnet']) == (1, '192.168.1.0/24', 2, '192.168.2.0/24')
    assert first['option-data'] == [{'name': 'routers', 'data': '192.168.1.254'},
                                    {'name': 'domain-name-servers', 'data': '192.168.1.11, 192.168.1.12'},
                                    {'name': 'domain-name', 'data': 'domini.cat'}]
    assert (first['next-server'], first['boot-file-name']) == ('192.168.1.5', 'pxelinux.0')
    assert first['reservations'] == [{'hw-address': '52:54:00:12:34:56', 'ip-address': '192.168.1.20',
                                      'hostname': 'printer', 'option-data': [{'name': 'host-name', 'data': 'printer1'}],
                                      'boot-file-name': 'p.bin'}]
    assert 'reservations' not in second and second['pools'] == []
    assert config['shared-networks'] == [{'name': 'campus', 'subnet4': [{
        'id': 3, 'subnet': '10.9.0.0/24',
        'pools': [{'pool': '10.9.0.10 - 10.9.0.11', 'client-class': 'HA_kea1'},
                  {'pool': '10.9.0.12 - 10.9.0.13', 'client-class': 'HA_kea2'}]}]}]


@pytest.mark.parametrize('value, kind, data', [
    ('f1:00:74:7e', 'binary', 'F100747E'),
    ('1:2:ff', 'binary', '0102FF'),
    ('abc', 'binary', '616263'),
    (True, None, 'true'),
    (['a.cat', 'b.cat'], None, 'a.cat, b.cat'),
    ('x,y', 'text', 'x\\,y'),
    (42, 'uint8', '42'),
])
def test_option_data_text(value, kind, data):
    assert _kea.option_data_text(value, kind) == data


def test_host_view_keys():
    view = info_of(kea_pair())
    assert (view['backend'], view['pair'], view['host'], view['partner_host'], view['peer_name']) == (
        'kea', 'kpair', 'kea1', 'kea2', 'kpair')
    assert (view['pair_mclt'], view['service'], view['control_socket'], view['omapi']) == (
        0, 'kea-dhcp4-server', '/run/kea/kea4-ctrl-socket', {'enabled': False})
    assert view['kea']['mode'] == 'load-balancing' and view['kea']['this_server_name'] == 'kea1'
    assert (view['kea']['config_file'], view['kea']['lease_file']) == ('/etc/kea/kea-dhcp4.conf',
                                                                       '/var/lib/kea/kea-leases4.csv')


def test_local_kea_paths_may_differ_between_peers():
    pair = kea_pair()
    pair[0]['kea2'].update(dhcp_failover_kea_lease_file='/var/lib/kea/other.csv',
                           dhcp_failover_kea_hooks_dir='/usr/lib/aarch64-linux-gnu/kea/hooks')
    second = rendered(pair, 'kea2')['Dhcp4']
    assert second['lease-database']['name'] == '/var/lib/kea/other.csv'
    assert second['hooks-libraries'][1]['library'] == '/usr/lib/aarch64-linux-gnu/kea/hooks/libdhcp_ha.so'
    assert rendered(pair, 'kea1')['Dhcp4']['lease-database']['name'] == '/var/lib/kea/kea-leases4.csv'


def test_isc_view_names_its_service_and_no_control_socket():
    pair = kea_pair(dhcp_failover_backend='isc_dhcpd')
    for host in HOSTS:
        for name in list(pair[0][host]):
            if name.startswith('dhcp_failover_kea_'):
                del pair[0][host][name]
    pair[0]['kea2']['dhcp_failover_service'] = 'dhcpd'
    assert (info_of(pair)['service'], info_of(pair)['control_socket']) == ('isc-dhcp-server', None)
    assert info_of(pair, 'kea2')['service'] == 'dhcpd' and info_of(pair)['backend'] == 'isc_dhcpd'


# ---------------------------------------------------------------------------------------------
# The rendered pair is checked where Kea is blind

def _description_and_configs():
    from ansible_collections.dhcp.failover.plugins.plugin_utils import _pair_model
    hostvars, pairs = kea_pair()
    options = load_options()
    params = {}
    for host in HOSTS:
        own = dict((name, value) for name, value in hostvars[host].items() if name in options)
        params[host] = _pair_model._role_spec.validate(options, own, 'kpair', host)
    facts = dict((host, hostvars[host]['ansible_facts']) for host in HOSTS)
    description = _pair_model.describe_pair('kpair', list(HOSTS), params, facts)
    kea = _kea.settings(_pair_model.Check('kpair', 'kea1'), 'kpair', params['kea1'], description, params)
    return description, kea['configs']


def _break_unsplit(configs):
    for config in configs.values():
        config['Dhcp4']['subnet4'][0]['pools'] = [{'pool': '192.168.1.120 - 192.168.1.200'}]


def _break_half(configs):
    for config in configs.values():
        config['Dhcp4']['subnet4'][0]['pools'][0]['pool'] = '192.168.1.120 - 192.168.1.159'


def _break_swapped(configs):
    for config in configs.values():
        pools = config['Dhcp4']['subnet4'][0]['pools']
        pools[0]['client-class'], pools[1]['client-class'] = 'HA_kea2', 'HA_kea1'


def _break_arm_classes(configs):
    """The ARM example's class names, which only fit servers named server1 and server2."""
    for config in configs.values():
        pools = config['Dhcp4']['subnet4'][0]['pools']
        pools[0]['client-class'], pools[1]['client-class'] = 'HA_server1', 'HA_server2'


def _break_name(configs):
    ha(configs['kea2'])['this-server-name'] = 'nobody'


def _break_mode(configs):
    for config in configs.values():
        ha(config)['mode'] = 'bogus'


def _break_url(configs):
    ha(configs['kea2'])['peers'][1]['url'] = 'http://192.168.1.12:8002/'


def _break_address(configs):
    for config in configs.values():
        ha(config)['peers'][1]['url'] = 'http://192.168.1.13:8001/'


def _break_hook(configs):
    del configs['kea1']['Dhcp4']['hooks-libraries'][0]


def _break_roles(configs):
    for config in configs.values():
        ha(config)['peers'][1]['role'] = 'primary'


@pytest.mark.parametrize('breaking, host, variable, words', [
    (_break_unsplit, 'kea1', 'dhcp_failover_subnets[0].pools[0].ranges[0]', 'split in two halves'),
    (_break_half, 'kea1', 'dhcp_failover_subnets[0].pools[0].ranges[0]', '192.168.1.120-192.168.1.160 (HA_kea1) for the primary'),
    (_break_arm_classes, 'kea1', 'dhcp_failover_subnets[0].pools[0].ranges[0]', 'class HA_<its name>'),
    (_break_swapped, 'kea1', 'dhcp_failover_subnets[0].pools[0].ranges[0]', 'split in two halves'),
    (_break_name, 'kea2', 'dhcp_failover_pairs_group', "this-server-name 'nobody' is not among the peers"),
    (_break_mode, 'kea1', 'dhcp_failover_mode', "mode 'bogus'"),
    (_break_url, 'kea2', 'dhcp_failover_kea_ha_port', 'must mirror each other'),
    (_break_address, 'kea2', 'dhcp_failover_address', 'URL http://192.168.1.13:8001/ is not on its address'),
    (_break_hook, 'kea1', 'dhcp_failover_kea_hooks_dir', 'no libdhcp_lease_cmds.so'),
    (_break_roles, 'kea1', 'dhcp_failover_role', 'must be primary and secondary'),
])
def test_check_pair_refuses_what_kea_does_not(breaking, host, variable, words):
    description, configs = _description_and_configs()
    _kea.check_pair('kpair', description, copy.deepcopy(configs))
    breaking(configs)
    with pytest.raises(PairError) as error:
        _kea.check_pair('kpair', description, configs)
    assert (error.value.pair, error.value.host, error.value.variable) == ('kpair', host, variable), str(error.value)
    assert words in error.value.message


def test_check_pair_accepts_a_split_of_every_size():
    """An odd range, a one-address range, a range crossing an octet: the rendering always passes the check."""
    for start, end in (('192.168.1.100', '192.168.1.100'), ('192.168.1.100', '192.168.1.101'),
                       ('192.168.1.99', '192.168.1.200')):
        pair = kea_pair()
        for host in HOSTS:
            pair[0][host]['dhcp_failover_subnets'][0]['pools'] = [{'ranges': [{'start': start, 'end': end}]}]
        pools = rendered(pair)['Dhcp4']['subnet4'][0]['pools']
        covered = []
        for pool in pools:
            low, high = [ipaddress.IPv4Address(part) for part in pool['pool'].split(' - ')]
            covered.extend(range(int(low), int(high) + 1))
        assert covered == list(range(int(ipaddress.IPv4Address(start)), int(ipaddress.IPv4Address(end)) + 1))


# ---------------------------------------------------------------------------------------------
# Validation: Kea-only checks, cross-backend refusals

def _set(host, **values):
    def change(pair):
        pair[0][host].update(values)
    return change


def _both(**values):
    def change(pair):
        for host in HOSTS:
            pair[0][host].update(copy.deepcopy(values))
    return change


def _subnet(**values):
    def change(pair):
        for host in HOSTS:
            pair[0][host]['dhcp_failover_subnets'][0].update(copy.deepcopy(values))
    return change


def _pool(**values):
    def change(pair):
        for host in HOSTS:
            pair[0][host]['dhcp_failover_subnets'][0]['pools'][0].update(copy.deepcopy(values))
    return change


def _reservation(**values):
    def change(pair):
        for host in HOSTS:
            pair[0][host]['dhcp_failover_reservations'][0].update(copy.deepcopy(values))
    return change


BAD = [
    (_both(dhcp_failover_kea_heartbeat_delay=0), 'kea1', 'dhcp_failover_kea_heartbeat_delay', 'positive'),
    (_both(dhcp_failover_kea_max_ack_delay=-1), 'kea1', 'dhcp_failover_kea_max_ack_delay', 'positive'),
    (_both(dhcp_failover_kea_max_unacked_clients=-1), 'kea1', 'dhcp_failover_kea_max_unacked_clients', '0 or more'),
    (_both(dhcp_failover_kea_heartbeat_delay=6000), 'kea1', 'dhcp_failover_kea_heartbeat_delay',
     'not below dhcp_failover_kea_max_response_delay'),
    (_set('kea2', dhcp_failover_kea_ha_port=70000), 'kea2', 'dhcp_failover_kea_ha_port', 'between 1 and 65535'),
    (_set('kea2', dhcp_failover_kea_ha_port=67), 'kea2', 'dhcp_failover_kea_ha_port', 'the DHCP server port'),
    (_set('kea1', dhcp_failover_kea_ha_port=8000), 'kea1', 'dhcp_failover_kea_ha_port', 'Control Agent'),
    (_set('kea2', dhcp_failover_kea_lease_file='/srv/leases.csv'), 'kea2', 'dhcp_failover_kea_lease_file',
     'not a file in /var/lib/kea'),
    (_set('kea2', dhcp_failover_kea_lease_file='/var/lib/kea/../dhcp/x.csv'), 'kea2', 'dhcp_failover_kea_lease_file',
     '/var/lib/dhcp/x.csv is not a file in /var/lib/kea'),
    (_set('kea1', dhcp_failover_kea_control_socket='/tmp/kea4-ctrl-socket'), 'kea1',
     'dhcp_failover_kea_control_socket', 'is not in /run/kea'),
    (_set('kea1', dhcp_failover_kea_control_socket='/run/kea/' + 'x' * 100), 'kea1',
     'dhcp_failover_kea_control_socket', 'longer than 107 bytes'),
    (_set('kea1', dhcp_failover_kea_config_file='kea.conf'), 'kea1', 'dhcp_failover_kea_config_file', 'absolute'),
    # dhcpd-only settings: shared, host and local ones, each with its Kea equivalent where there is one.
    (_both(dhcp_failover_mclt=30), 'kea1', 'dhcp_failover_mclt', 'Kea has no MCLT'),
    (_both(dhcp_failover_split=200), 'kea1', 'dhcp_failover_split', 'always 50/50'),
    (_both(dhcp_failover_max_response_delay=10), 'kea1', 'dhcp_failover_max_response_delay',
     'see dhcp_failover_kea_max_response_delay'),
    (_both(dhcp_failover_peer_name='dhcp-failover'), 'kea1', 'dhcp_failover_peer_name', 'is an ISC dhcpd setting'),
    (_both(dhcp_failover_omapi_enabled=False), 'kea1', 'dhcp_failover_omapi_enabled', 'dhcp_failover_kea_control_socket'),
    (_both(dhcp_failover_raw_global='ddns-updates off;'), 'kea1', 'dhcp_failover_raw_global', 'is an ISC dhcpd setting'),
    (_set('kea2', dhcp_failover_port=648), 'kea2', 'dhcp_failover_port', 'see dhcp_failover_kea_ha_port'),
    (_set('kea2', dhcp_failover_service='dhcpd'), 'kea2', 'dhcp_failover_service', 'see dhcp_failover_kea_service'),
    (_set('kea2', dhcp_failover_lease_file='/var/lib/dhcp/x.leases'), 'kea2', 'dhcp_failover_lease_file',
     'see dhcp_failover_kea_lease_file'),
    # raw dhcpd text, and what a Kea pool cannot carry
    (_subnet(statements=['option ntp-servers 10.0.0.1;']), 'kea1', 'dhcp_failover_subnets[0].statements',
     'raw dhcpd statements are refused'),
    (_pool(statements=['allow unknown-clients;']), 'kea1', 'dhcp_failover_subnets[0].pools[0].statements',
     'raw dhcpd statements are refused'),
    (_reservation(statements=['ddns-hostname "p";']), 'kea1', 'dhcp_failover_reservations[0].statements',
     'raw dhcpd statements are refused'),
    (_pool(next_server='192.168.1.5'), 'kea1', 'dhcp_failover_subnets[0].pools[0].next_server', 'set it on the subnet'),
    (_subnet(vendor_option_space='pxelinux'), 'kea1', 'dhcp_failover_subnets[0].vendor_option_space', 'option 43'),
    (_both(dhcp_failover_shared_networks=[{'name': 'campus', 'statements': ['x;'], 'subnets': [
        {'network': '10.9.0.0/24', 'relay': True}]}]), 'kea1', 'dhcp_failover_shared_networks[0].statements',
     'raw dhcpd statements'),
]


@pytest.mark.parametrize('change, host, variable, words', BAD)
def test_bad_kea_pair_is_refused_naming_pair_host_variable(change, host, variable, words):
    pair = kea_pair()
    info_of(pair)
    change(pair)
    error = refused(pair)
    assert (error.pair, error.host, error.variable) == ('kpair', host, variable), str(error)
    assert words in error.message, str(error)
    assert str(error).startswith('pair kpair, host %s, variable %s: ' % (host, variable))


def test_isc_only_message_in_full():
    pair = kea_pair()
    _both(dhcp_failover_mclt=30)(pair)
    assert str(refused(pair)) == (
        'pair kpair, host kea1, variable dhcp_failover_mclt: is an ISC dhcpd setting; a Kea pair '
        '(dhcp_failover_backend=kea) does not use it: remove it, or Kea has no MCLT (a server answers only after its '
        'partner acknowledged the lease)')


def test_isc_only_settings_at_their_default_are_accepted():
    options = load_options()
    pair = kea_pair(**dict((name, options[name]['default']) for name in _kea.ISC_ONLY if 'default' in options[name]))
    assert info_of(pair)['backend'] == 'kea'


@pytest.mark.parametrize('name', sorted(_kea.VARIABLES))
def test_isc_pair_refuses_every_kea_only_setting(name):
    options = load_options()
    value = {'int': 8123, 'path': '/var/lib/kea/x', 'str': 'kea-other', 'list': ['kea-dhcp4-server']}[options[name]['type']]
    assert value != options[name].get('default')
    pair = kea_pair(dhcp_failover_backend='isc_dhcpd')
    for host in HOSTS:
        for other in list(pair[0][host]):
            if other.startswith('dhcp_failover_kea_'):
                del pair[0][host][other]
    info_of(pair)
    pair[0]['kea2'][name] = value
    if name not in ('dhcp_failover_kea_ha_port',) and name in load_options() and not name.endswith(
            ('_file', '_socket', '_dir', '_service', '_packages')):
        pair[0]['kea1'][name] = value
    error = refused(pair)
    assert error.variable == name and error.pair == 'kpair', str(error)
    assert 'is a Kea setting; an ISC dhcpd pair (dhcp_failover_backend=isc_dhcpd) does not use it' in error.message


def test_every_kea_variable_is_in_the_spec_and_placed():
    from ansible_collections.dhcp.failover.plugins.plugin_utils import _pair_model
    options = load_options()
    shared = set(_pair_model.shared_variables(options))
    for name in _kea.VARIABLES:
        assert name in options, name
    assert 'dhcp_failover_backend' in shared
    assert 'dhcp_failover_kea_ha_port' in _pair_model.HOST_VARIABLES
    assert set(name for name in _kea.VARIABLES if name not in shared) == {
        'dhcp_failover_kea_ha_port', 'dhcp_failover_kea_config_file', 'dhcp_failover_kea_lease_file',
        'dhcp_failover_kea_control_socket', 'dhcp_failover_kea_hooks_dir', 'dhcp_failover_kea_service',
        'dhcp_failover_kea_packages'}
    assert set(options) >= set(_kea.ISC_ONLY)


def test_the_backend_is_per_pair():
    """One inventory, a Kea pair and a dhcpd pair: each host gets its own pair's backend."""
    kea_hostvars, _pairs = kea_pair()
    isc_hostvars, _pairs = kea_pair(network='192.168.5', dhcp_failover_backend='isc_dhcpd')
    hostvars = dict(kea_hostvars)
    for host in HOSTS:
        variables = dict((name, value) for name, value in isc_hostvars[host].items()
                         if not name.startswith('dhcp_failover_kea_'))
        hostvars['isc' + host[-1]] = variables
    pairs = {'kpair': list(HOSTS), 'ipair': ['isc1', 'isc2']}
    assert derive_pair(hostvars, pairs, 'kea1')['backend'] == 'kea'
    assert derive_pair(hostvars, pairs, 'isc2')['backend'] == 'isc_dhcpd'


def test_the_peers_must_agree_on_the_backend():
    pair = kea_pair()
    pair[0]['kea2']['dhcp_failover_backend'] = 'isc_dhcpd'
    error = refused(pair)
    assert (error.host, error.variable) == ('kea2', 'dhcp_failover_backend') and 'differs between the peers' in error.message
