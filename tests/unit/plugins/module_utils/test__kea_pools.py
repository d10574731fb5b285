# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Carried addresses in a Kea load-balancing pair (module_utils/_kea_pools.py): Kea's choice of server
held to what real Kea 2.2.0 servers did in the lab (tests/unit/fixtures/kea/lb_scope/README.md), the
moves computed from real dhcpd 4.4.3-P1 lease files (tests/unit/fixtures/leases/migration), and the
one-address pools cut from the halves."""

from __future__ import annotations

import calendar
import copy
import ipaddress
import os
import re
import time

from ansible_collections.dhcp.failover.plugins.module_utils import _kea_pools
from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_leases

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
SERVER_ID = {'10.231.90.2': 0, '10.231.90.3': 1, 'dhcpf-mc-p': 0, 'dhcpf-mc-s': 1}


def read(*parts):
    with open(os.path.join(FIXTURES, *parts), encoding='utf-8') as handle:
        return handle.read()


def answered_in_load_balancing():
    """[(mac, index of the server that answered)] of real Kea load-balancing answers to udhcpc clients."""
    found = []
    for line in read('kea', 'lb_scope', 'molecule-migrate-renewals-20261203.txt').splitlines():
        mac, _old, _arrow, _new, _from, server = line.split()
        found.append((mac, SERVER_ID[server]))
    records = []
    for line in answered_lines():
        match = re.search(r'mac=(\S+) .*serverid=(\S+)', line)
        records.append((match.group(1), SERVER_ID[match.group(2)]) if match else (None, None))
    # The pair was in load-balancing until the revert's ha-maintenance-start, shortly before its gap
    # (the first unanswered request): the records before the gap, up to the secondary's last answer.
    before_gap = records[:[index for index, line in enumerate(answered_lines()) if 'bound at=' not in line][0]]
    last_secondary = max(index for index, (_mac, server) in enumerate(before_gap) if server == 1)
    return found + before_gap[:last_secondary + 1]


def answered_lines():
    return read('leases', 'kea_revert', '01-revert.client-records.txt').splitlines()


def test_the_server_index_is_the_one_real_kea_chose_by_client_id():
    answers = answered_in_load_balancing()
    assert len(answers) >= 15 and {server for _mac, server in answers} == {0, 1}
    # udhcpc sends the client identifier 01 + MAC; Kea hashes it (not the MAC) when there is one.
    wrong = [(mac, server) for mac, server in answers if _kea_pools.lb_index('01:' + mac, mac) != server]
    assert wrong == []
    by_mac_only = [(mac, server) for mac, server in answers if _kea_pools.lb_index(None, mac) != server]
    assert by_mac_only, 'the MAC alone would pick the same servers: the fixture cannot tell the two keys apart'


def test_no_identifier_no_server():
    assert _kea_pools.lb_index(None, None) is None and _kea_pools.lb_index('', '') is None


def lb_config(first='10.231.80.100', middle=('10.231.80.109', '10.231.80.110'), last='10.231.80.119', mode='load-balancing'):
    """A kea-dhcp4.conf as the role renders it for load-balancing (the parts read here): subnet 2's range split in
    two halves with the classes of the two servers, and the HA hook's peers."""
    pools = [{'pool': '%s - %s' % (first, middle[0]), 'client-class': 'HA_kea1',
              'option-data': [{'name': 'domain-name', 'data': 'pool.lab'}]},
             {'pool': '%s - %s' % (middle[1], last), 'client-class': 'HA_kea2',
              'option-data': [{'name': 'domain-name', 'data': 'pool.lab'}]}]
    if mode == 'hot-standby':
        pools = [{'pool': '%s - %s' % (first, last)}]
    return {'Dhcp4': {
        'subnet4': [{'id': 1, 'subnet': '10.231.79.0/24', 'pools': []},
                    {'id': 2, 'subnet': '10.231.80.0/24', 'pools': pools}],
        'hooks-libraries': [{'library': 'libdhcp_lease_cmds.so'},
                            {'library': 'libdhcp_ha.so', 'parameters': {'high-availability': [{
                                'this-server-name': 'kea1', 'mode': mode,
                                'peers': [{'name': 'kea1', 'role': 'primary'},
                                          {'name': 'kea2', 'role': 'standby' if mode == 'hot-standby' else 'secondary'}]}]}}],
    }}


def pool_of(config, address):
    address = ipaddress.IPv4Address(address)
    found = []
    for subnet in config['Dhcp4']['subnet4']:
        for pool in subnet['pools']:
            start, end = [ipaddress.IPv4Address(part.strip()) for part in pool['pool'].split('-')]
            if start <= address <= end:
                found.append(pool)
    return found


def carried_leases():
    texts = [read('leases', 'migration', name) for name in ('01-normal.p.leases', '01-normal.s.leases')]
    stamp = read('leases', 'migration', '01-normal.captured-at').strip()
    now = calendar.timegm(time.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ'))
    return _isc_leases.translate(texts, lb_config(), now)['leases']


def test_moves_of_real_dhcpd_leases_put_every_client_in_a_pool_of_its_server():
    leases = carried_leases()
    config = lb_config()
    moves = _kea_pools.moves_for(leases, config)
    carved, applied = _kea_pools.carve(copy.deepcopy(config), moves)
    assert applied == len(moves)
    classes = ('HA_kea1', 'HA_kea2')
    in_pools = 0
    for lease in leases:
        pools = pool_of(carved, lease['ip-address'])
        if not pool_of(config, lease['ip-address']):
            assert not pools
            continue
        in_pools += 1
        assert len(pools) == 1, 'every address in exactly one pool: %s in %s' % (lease['ip-address'], pools)
        server = _kea_pools.lb_index(lease.get('client-id'), lease.get('hw-address'))
        assert pools[0]['client-class'] == classes[server], lease
        assert pools[0]['option-data'] == [{'name': 'domain-name', 'data': 'pool.lab'}]
    # the real files hold clients of both halves, some in the half of the other server
    assert in_pools >= 5 and 0 < len(moves) < in_pools
    assert all(_kea_pools.is_marked(pool_of(carved, move['address'])[0]) for move in moves)


def test_every_address_of_the_range_stays_in_exactly_one_pool():
    config = lb_config()
    moves = [{'subnet_id': 2, 'address': address, 'client_class': klass}
             for address, klass in (('10.231.80.100', 'HA_kea2'), ('10.231.80.105', 'HA_kea2'),
                                    ('10.231.80.106', 'HA_kea2'), ('10.231.80.109', 'HA_kea2'),
                                    ('10.231.80.110', 'HA_kea1'), ('10.231.80.119', 'HA_kea1'),
                                    ('10.231.80.112', 'HA_kea2'))]   # the last is in its own half already
    carved, applied = _kea_pools.carve(copy.deepcopy(config), moves)
    assert applied == 6
    for value in range(int(ipaddress.IPv4Address('10.231.80.100')), int(ipaddress.IPv4Address('10.231.80.119')) + 1):
        assert len(pool_of(carved, str(ipaddress.IPv4Address(value)))) == 1
    texts = [(pool['pool'], pool['client-class']) for pool in carved['Dhcp4']['subnet4'][1]['pools']]
    assert texts == [
        ('10.231.80.100 - 10.231.80.100', 'HA_kea2'), ('10.231.80.101 - 10.231.80.104', 'HA_kea1'),
        ('10.231.80.105 - 10.231.80.105', 'HA_kea2'), ('10.231.80.106 - 10.231.80.106', 'HA_kea2'),
        ('10.231.80.107 - 10.231.80.108', 'HA_kea1'), ('10.231.80.109 - 10.231.80.109', 'HA_kea2'),
        ('10.231.80.110 - 10.231.80.110', 'HA_kea1'), ('10.231.80.111 - 10.231.80.118', 'HA_kea2'),
        ('10.231.80.119 - 10.231.80.119', 'HA_kea1')]


def test_a_deployed_file_gives_back_its_moves_and_a_rewrite_keeps_them():
    moves = [{'subnet_id': 2, 'address': '10.231.80.103', 'client_class': 'HA_kea2'},
             {'subnet_id': 2, 'address': '10.231.80.115', 'client_class': 'HA_kea1'}]
    deployed, _applied = _kea_pools.carve(lb_config(), moves)
    assert _kea_pools.deployed_moves(deployed) == moves
    again, applied = _kea_pools.carve(lb_config(), _kea_pools.deployed_moves(deployed))
    assert applied == 2 and again == deployed


def test_moves_that_no_longer_apply_are_dropped():
    moves = [{'subnet_id': 2, 'address': '10.231.80.103', 'client_class': 'HA_kea2'}]
    # the range shrunk below the address
    shrunk, applied = _kea_pools.carve(lb_config(first='10.231.80.104'), moves)
    assert applied == 0 and shrunk == lb_config(first='10.231.80.104')
    # hot-standby: one pool, no classes
    standby, applied = _kea_pools.carve(lb_config(mode='hot-standby'), moves)
    assert applied == 0 and standby == lb_config(mode='hot-standby')
    assert _kea_pools.moves_for(carried_leases(), lb_config(mode='hot-standby')) == []
    # a server renamed: its old class is gone
    renamed, applied = _kea_pools.carve(lb_config(), [dict(moves[0], **{'client_class': 'HA_old-name'})])
    assert applied == 0 and renamed == lb_config()
