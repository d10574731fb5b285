# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Addresses carried from dhcpd into a Kea load-balancing pair, kept by the clients that hold them.

Kea's load balancing splits each pool into two halves by address, one per server (client classes
``HA_<server name>``), and gives each client to one server by a hash of its client identifier (or,
without one, its hardware address): ``loadBalance()`` in Kea's HA hook
(src/hooks/dhcp/high_availability/query_filter.cc, the same since 1.4: RFC 3074's hash, modulo 2;
0 is the primary). A server renews a client's lease only if the address lies in a pool the client
may use (``inAllowedPool()`` in the allocation engine). dhcpd handed out addresses from the whole
range, so about half the carried leases lie in the other server's half; without help their
clients get a new address at their next request.

The help: each such address becomes a one-address pool of the class of the server that serves its
client (cut out of the half it was in), marked in its ``user-context``. The address is then in
exactly one server's pools, as Kea's split requires, and it is the server its client talks to.
The marked pools are read back from the deployed file and kept on every later write
(dhcp.failover.kea_config), so a later ``dhcp.failover.site`` does not undo them.
"""

from __future__ import annotations

import ipaddress

MARK_KEY = 'dhcp-failover'
MARK = 'carried from dhcpd: the client holding this address is served by this class'

# RFC 3074, section 6 (as in Kea's query_filter.cc).
MIXING_TABLE = (
    251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232, 31, 32, 55, 60, 152, 58, 17, 237,
    174, 70, 160, 144, 220, 90, 57, 223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243, 124, 95, 222, 179, 197,
    65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23, 97, 16, 40, 91, 219, 61, 100, 10, 210,
    109, 250, 127, 22, 138, 29, 108, 244, 67, 207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77, 193, 200,
    121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25, 226, 227, 199, 75, 27, 41, 245, 230, 224, 43, 225, 177, 26,
    155, 150, 212, 142, 218, 115, 241, 73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148,
    154, 122, 12, 84, 82, 163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239, 195, 42, 106,
    198, 118, 112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164, 102, 147, 45, 66, 231, 52,
    141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171, 72, 50, 33, 104,
    101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125, 188, 213, 96, 235, 136, 208, 162, 129, 190, 132, 156,
    38, 47, 1, 7, 254, 24, 4, 216, 131, 89, 21, 28, 133, 37, 153, 149, 80, 170, 68, 6, 169, 234, 151,
)


def lb_hash(key):
    """Kea's QueryFilter::loadBalanceHash() of a byte string."""
    value = len(key) & 0xff
    for byte in reversed(bytearray(key)):
        value = MIXING_TABLE[value ^ byte]
    return value


def _bytes(text):
    """'01:02:0a' (Kea's form) or '01020a' -> bytes; None for nothing."""
    if not text:
        return None
    return bytes(bytearray.fromhex(str(text).replace(':', '').replace('-', '')))


def lb_index(client_id=None, hw_address=None):
    """0 (the primary) or 1 (the secondary): the server Kea's load balancing gives this client to;
    None when neither identifier is known."""
    key = _bytes(client_id) or _bytes(hw_address)
    if not key:
        return None
    return lb_hash(key) % 2


def ha_classes(config):
    """(primary's class, secondary's class) of a load-balancing config, else None."""
    dhcp4 = config.get('Dhcp4', config)
    for library in dhcp4.get('hooks-libraries') or []:
        for block in (library.get('parameters') or {}).get('high-availability') or []:
            if block.get('mode') != 'load-balancing':
                return None
            roles = dict((peer.get('role'), peer.get('name')) for peer in block.get('peers') or [])
            if 'primary' in roles and 'secondary' in roles:
                return 'HA_%s' % roles['primary'], 'HA_%s' % roles['secondary']
    return None


def _subnets(config):
    dhcp4 = config.get('Dhcp4', config)
    found = list(dhcp4.get('subnet4') or [])
    for shared in dhcp4.get('shared-networks') or []:
        found.extend(shared.get('subnet4') or [])
    return found


def _range(pool):
    text = pool['pool']
    if '/' in text:
        network = ipaddress.IPv4Network(text.strip(), strict=False)
        return network[0], network[-1]
    start, end = [part.strip() for part in text.split('-')]
    return ipaddress.IPv4Address(start), ipaddress.IPv4Address(end)


def _text(start, end):
    return '%s - %s' % (start, end)


def is_marked(pool):
    return MARK_KEY in (pool.get('user-context') or {})


def moves_for(leases, config):
    """The addresses of ``leases`` (lease4-add arguments: ip-address, subnet-id, client-id,
    hw-address) whose client Kea gives to the other server than the half the address lies in:
    [{'subnet_id', 'address', 'client_class'}], in address order. [] for hot-standby."""
    classes = ha_classes(config)
    if not classes:
        return []
    by_id = dict((subnet.get('id'), subnet) for subnet in _subnets(config))
    moves = []
    for lease in leases:
        subnet = by_id.get(lease.get('subnet-id'))
        index = lb_index(lease.get('client-id'), lease.get('hw-address'))
        if subnet is None or index is None:
            continue
        address = ipaddress.IPv4Address(lease['ip-address'])
        for pool in subnet.get('pools') or []:
            start, end = _range(pool)
            if start <= address <= end:
                if pool.get('client-class') in classes and pool['client-class'] != classes[index]:
                    moves.append({'subnet_id': subnet['id'], 'address': str(address), 'client_class': classes[index]})
                break
    return sorted(moves, key=lambda move: (move['subnet_id'], ipaddress.IPv4Address(move['address'])))


def deployed_moves(config):
    """The moves a deployed config holds (its marked one-address pools)."""
    moves = []
    for subnet in _subnets(config):
        for pool in subnet.get('pools') or []:
            if is_marked(pool):
                start, end = _range(pool)
                for value in range(int(start), int(end) + 1):
                    moves.append({'subnet_id': subnet.get('id'), 'address': str(ipaddress.IPv4Address(value)),
                                  'client_class': pool.get('client-class')})
    return moves


def carve(config, moves):
    """``config`` with every move applied (changed in place and returned) and the number applied.

    A move applies when its subnet is there, its address lies in a pool of the other HA class
    (cut out of it: the rest of that pool keeps its class and options) and its class is one of the
    subnet's pool classes; the address then gets a pool of its own with the move's class, the same
    options as the pool it came from, and the mark. Moves that do not apply (the pool was shrunk,
    the pair is hot-standby, the server was renamed) are dropped."""
    classes = ha_classes(config)
    if not classes or not moves:
        return config, 0
    wanted = {}
    for move in moves:
        if move.get('client_class') in classes:
            wanted.setdefault(move.get('subnet_id'), {})[ipaddress.IPv4Address(move['address'])] = move['client_class']
    applied = 0
    for subnet in _subnets(config):
        todo = wanted.get(subnet.get('id'))
        if not todo:
            continue
        pools = []
        for pool in subnet.get('pools') or []:
            start, end = _range(pool)
            klass = pool.get('client-class')
            inside = sorted(address for address, target in todo.items()
                            if start <= address <= end and klass in classes and target != klass)
            if not inside or is_marked(pool):
                pools.append(pool)
                continue
            low = start
            for address in inside:
                if low < address:
                    pools.append(dict(pool, pool=_text(low, address - 1)))
                moved = dict((key, value) for key, value in pool.items() if key not in ('pool', 'client-class', 'user-context'))
                moved.update({'pool': _text(address, address), 'client-class': todo[address],
                              'user-context': {MARK_KEY: MARK}})
                pools.append(moved)
                applied += 1
                low = address + 1
            if low <= end:
                pools.append(dict(pool, pool=_text(low, end)))
        subnet['pools'] = pools
    return config, applied
