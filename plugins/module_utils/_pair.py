# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Derive and validate ISC dhcpd failover pairs from inventory data.

This is a PRIVATE module_utils file of the dhcp.failover collection, used by the filter
``dhcp.failover.failover_pair``.  Its interface may change without notice.

Everything here works on plain data (dicts and lists), so it can be unit-tested without
Ansible: ``derive_pair(settings_by_host, pairs, host)`` validates every pair and returns the
derived settings of one host, or raises ``PairError`` whose text names the pair, the host and
the variable at fault.
"""

from __future__ import annotations

import ipaddress
import re

# Mirrors roles/server/defaults/main.yml (a unit test keeps the two equal).  Used for hosts
# whose effective role variables are not known, e.g. the partner of a host when the play runs
# with --limit.
DEFAULTS = {
    'dhcp_failover_pairs_group': 'dhcp_failover',
    'dhcp_failover_role': None,
    'dhcp_failover_address': None,
    'dhcp_failover_port': 647,
    'dhcp_failover_interfaces': None,
    'dhcp_failover_peer_name': None,
    'dhcp_failover_mode': 'load_balance',
    'dhcp_failover_split': 128,
    'dhcp_failover_hba': None,
    'dhcp_failover_max_response_delay': 60,
    'dhcp_failover_max_unacked_updates': 10,
    'dhcp_failover_load_balance_max_seconds': 3,
    'dhcp_failover_mclt': 3600,
    'dhcp_failover_auto_partner_down': 0,
    'dhcp_failover_omapi_enabled': True,
    'dhcp_failover_omapi_port': 7911,
    'dhcp_failover_omapi_key_name': 'omapi_key',
    'dhcp_failover_omapi_algorithm': 'hmac-sha256',
    'dhcp_failover_authoritative': True,
    'dhcp_failover_default_lease_time': 600,
    'dhcp_failover_max_lease_time': 7200,
    'dhcp_failover_ping_check': True,
    'dhcp_failover_ddns_update_style': 'none',
    'dhcp_failover_global_options': {},
    'dhcp_failover_subnets': [],
    'dhcp_failover_shared_networks': [],
    'dhcp_failover_reservations': [],
    'dhcp_failover_raw_global': '',
    'dhcp_failover_firewall_enabled': False,
    'dhcp_failover_firewall_extra_omapi_sources': [],
}

# Set per host; everything else in DEFAULTS is a pair setting both peers must share.
HOST_VARIABLES = (
    'dhcp_failover_role',
    'dhcp_failover_address',
    'dhcp_failover_port',
    'dhcp_failover_interfaces',
    'dhcp_failover_firewall_enabled',
    'dhcp_failover_firewall_extra_omapi_sources',
)
SHARED_VARIABLES = tuple(
    name for name in DEFAULTS if name not in HOST_VARIABLES and name != 'dhcp_failover_pairs_group'
)

MODES = ('load_balance', 'hot_standby')
ROLES = ('primary', 'secondary')
OMAPI_ALGORITHMS = (
    'hmac-md5', 'hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512',
)
DDNS_STYLES = ('none', 'interim', 'standard')

# Options whose value dhcpd reads as quoted text.
TEXT_OPTIONS = frozenset((
    'domain-name', 'host-name', 'root-path', 'tftp-server-name', 'bootfile-name',
    'nis-domain', 'nisplus-domain', 'netbios-scope', 'merit-dump', 'extensions-path',
    'vendor-class-identifier', 'dhcp-message', 'uap-servers', 'fqdn.fqdn',
))
# Options whose value is a list of quoted domain names.
DOMAIN_LIST_OPTIONS = frozenset(('domain-search',))

NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$')
OPTION_NAME_RE = re.compile(r'^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)?$')
INTERFACE_RE = re.compile(r'^[A-Za-z0-9_.:@-]{1,15}$')
HBA_RE = re.compile(r'^([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$')
MAC_RE = re.compile(r'^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$')
RAW_RANGE_RE = re.compile(r'(^|[;{\s])range6?\s', re.MULTILINE)

_TRUE = ('true', 'yes', 'on', '1')
_FALSE = ('false', 'no', 'off', '0')


class PairError(ValueError):
    """An inconsistent pair, with the pair, host and variable it is about."""

    def __init__(self, pair, host, variable, message):
        self.pair = pair
        self.host = host
        self.variable = variable
        self.message = message
        super(PairError, self).__init__(
            'pair %s, host %s, variable %s: %s' % (pair, host, variable, message))


class _Checker:
    """Type and range checks that raise PairError for one (pair, host)."""

    def __init__(self, pair, host):
        self.pair = pair
        self.host = host

    def fail(self, variable, message):
        raise PairError(self.pair, self.host, variable, message)

    def integer(self, variable, value, minimum=None, maximum=None):
        if isinstance(value, bool):
            self.fail(variable, 'must be an integer, got %r' % (value,))
        try:
            number = int(str(value).strip()) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            self.fail(variable, 'must be an integer, got %r' % (value,))
        if minimum is not None and number < minimum:
            self.fail(variable, 'must be at least %d, got %d' % (minimum, number))
        if maximum is not None and number > maximum:
            self.fail(variable, 'must be at most %d, got %d' % (maximum, number))
        return number

    def boolean(self, variable, value):
        if isinstance(value, bool):
            return value
        if isinstance(value, (str, int)) and str(value).strip().lower() in _TRUE:
            return True
        if isinstance(value, (str, int)) and str(value).strip().lower() in _FALSE:
            return False
        self.fail(variable, 'must be a boolean, got %r' % (value,))

    def string(self, variable, value, pattern=None, what=None):
        if not isinstance(value, str) or not value:
            self.fail(variable, 'must be a non-empty string, got %r' % (value,))
        if pattern is not None and not pattern.match(value):
            self.fail(variable, '%r is not a valid %s' % (value, what))
        return value

    def choice(self, variable, value, choices):
        if value not in choices:
            self.fail(variable, 'must be one of %s, got %r' % (', '.join(choices), value))
        return value

    def address(self, variable, value):
        try:
            return ipaddress.IPv4Address(str(value).strip())
        except (ipaddress.AddressValueError, ValueError):
            self.fail(variable, '%r is not an IPv4 address' % (value,))

    def address_list(self, variable, value):
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            self.fail(variable, 'must be a list of IPv4 addresses, got %r' % (value,))
        return [self.address('%s[%d]' % (variable, index), item) for index, item in enumerate(value)]

    def mapping(self, variable, value, allowed):
        if not isinstance(value, dict):
            self.fail(variable, 'must be a dictionary, got %r' % (value,))
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            self.fail(variable, 'unknown key(s) %s (allowed: %s)'
                      % (', '.join(unknown), ', '.join(sorted(allowed))))
        return value

    def sequence(self, variable, value):
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            self.fail(variable, 'must be a list, got %r' % (value,))
        return list(value)

    def statements(self, variable, value):
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        items = self.sequence(variable, value)
        for index, item in enumerate(items):
            if not isinstance(item, str):
                self.fail('%s[%d]' % (variable, index), 'must be a string, got %r' % (item,))
        return [item.strip() for item in items if item.strip()]


def _quote(text):
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return text
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def format_option_value(name, value):
    """Return the text dhcpd expects after ``option NAME``."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        if name in DOMAIN_LIST_OPTIONS:
            return ', '.join(_quote(str(item)) for item in value)
        return ', '.join(format_option_value(name, item) for item in value)
    text = str(value)
    if name in TEXT_OPTIONS or name in DOMAIN_LIST_OPTIONS:
        return _quote(text)
    return text


def _options(check, variable, value):
    if value is None:
        return []
    check.mapping(variable, value, value.keys() if isinstance(value, dict) else ())
    result = []
    for name in value:
        check.string('%s.%s' % (variable, name), name, OPTION_NAME_RE, 'dhcp option name')
        item = value[name]
        if item is None or (isinstance(item, (str, list, tuple)) and len(item) == 0):
            check.fail('%s.%s' % (variable, name), 'has no value')
        result.append({'name': name, 'value': format_option_value(name, item)})
    return result


SUBNET_KEYS = ('network', 'routers', 'domain_name_servers', 'domain_name', 'options',
               'statements', 'pools', 'relay')
POOL_KEYS = ('ranges', 'failover', 'statements')
RANGE_KEYS = ('start', 'end')
SHARED_NETWORK_KEYS = ('name', 'subnets', 'statements')
RESERVATION_KEYS = ('name', 'mac', 'address', 'options', 'statements')


def _subnet(check, variable, subnet):
    check.mapping(variable, subnet, SUBNET_KEYS)
    if 'network' not in subnet:
        check.fail(variable, 'a subnet needs network (for example 192.168.1.0/24)')
    try:
        network = ipaddress.IPv4Network(str(subnet['network']).strip(), strict=True)
    except ValueError as exc:
        check.fail(variable + '.network', '%r is not an IPv4 network: %s' % (subnet['network'], exc))
    routers = check.address_list(variable + '.routers', subnet.get('routers'))
    dns = check.address_list(variable + '.domain_name_servers', subnet.get('domain_name_servers'))
    domain_name = subnet.get('domain_name')
    if domain_name is not None:
        check.string(variable + '.domain_name', domain_name)
    raw = check.statements(variable + '.statements', subnet.get('statements'))
    for index, line in enumerate(raw):
        if RAW_RANGE_RE.search(line):
            check.fail('%s.statements[%d]' % (variable, index),
                       'a range outside a pool is not bound to the failover peer and would be '
                       'served by both peers; put it in pools[].ranges')
    pools = []
    for pool_index, pool in enumerate(check.sequence(variable + '.pools', subnet.get('pools'))):
        pool_var = '%s.pools[%d]' % (variable, pool_index)
        check.mapping(pool_var, pool, POOL_KEYS)
        if not check.boolean(pool_var + '.failover', pool.get('failover', True)):
            check.fail(pool_var + '.failover',
                       'every pool of a failover pair must be bound to the failover peer '
                       '(a pool without it is served by both peers, which then hand out the '
                       'same addresses twice)')
        ranges = []
        for range_index, item in enumerate(check.sequence(pool_var + '.ranges', pool.get('ranges'))):
            range_var = '%s.ranges[%d]' % (pool_var, range_index)
            check.mapping(range_var, item, RANGE_KEYS)
            if 'start' not in item or 'end' not in item:
                check.fail(range_var, 'a range needs start and end')
            start = check.address(range_var + '.start', item['start'])
            end = check.address(range_var + '.end', item['end'])
            if start > end:
                check.fail(range_var, 'start %s is after end %s' % (start, end))
            if start not in network or end not in network:
                check.fail(range_var, 'range %s-%s is not inside subnet %s' % (start, end, network))
            if network.prefixlen < 31 and (start == network.network_address
                                           or end == network.broadcast_address):
                check.fail(range_var, 'range %s-%s includes the network or broadcast address of %s'
                           % (start, end, network))
            for router in routers:
                if start <= router <= end:
                    check.fail(range_var, 'range %s-%s contains the router %s' % (start, end, router))
            ranges.append({'start': start, 'end': end, 'variable': range_var})
        if not ranges:
            check.fail(pool_var + '.ranges', 'a pool needs at least one range')
        pools.append({
            'ranges': ranges,
            'statements': check.statements(pool_var + '.statements', pool.get('statements')),
        })
    return {
        'network': network,
        'relay': check.boolean(variable + '.relay', subnet.get('relay', False)),
        'routers': routers,
        'domain_name_servers': dns,
        'domain_name': domain_name,
        'options': _options(check, variable + '.options', subnet.get('options')),
        'statements': raw,
        'pools': pools,
        'variable': variable,
    }


def _network_content(check, settings):
    """Validate and normalise the network content (subnets, shared networks, reservations)."""
    subnets = []
    for index, subnet in enumerate(check.sequence('dhcp_failover_subnets', settings['dhcp_failover_subnets'])):
        subnets.append(_subnet(check, 'dhcp_failover_subnets[%d]' % index, subnet))
    shared_networks = []
    names = set()
    for index, shared in enumerate(check.sequence('dhcp_failover_shared_networks',
                                                  settings['dhcp_failover_shared_networks'])):
        variable = 'dhcp_failover_shared_networks[%d]' % index
        check.mapping(variable, shared, SHARED_NETWORK_KEYS)
        name = check.string(variable + '.name', shared.get('name'), NAME_RE, 'shared-network name')
        if name in names:
            check.fail(variable + '.name', 'shared-network %r is declared twice' % name)
        names.add(name)
        members = [_subnet(check, '%s.subnets[%d]' % (variable, sub_index), subnet)
                   for sub_index, subnet in enumerate(check.sequence(variable + '.subnets',
                                                                     shared.get('subnets')))]
        if not members:
            check.fail(variable + '.subnets', 'a shared-network needs at least one subnet')
        shared_networks.append({
            'name': name,
            'subnets': members,
            'statements': check.statements(variable + '.statements', shared.get('statements')),
        })
    return subnets, shared_networks


def _check_ranges(check, all_subnets, peer_addresses):
    seen_networks = []
    for subnet in all_subnets:
        for other in seen_networks:
            if subnet['network'].overlaps(other['network']):
                check.fail(subnet['variable'] + '.network', 'subnet %s overlaps subnet %s (%s)'
                           % (subnet['network'], other['network'], other['variable']))
        seen_networks.append(subnet)
    seen_ranges = []
    for subnet in all_subnets:
        for pool in subnet['pools']:
            for item in pool['ranges']:
                for peer_host, peer_address in peer_addresses:
                    if item['start'] <= peer_address <= item['end']:
                        check.fail(item['variable'], 'range %s-%s contains the failover address %s of %s'
                                   % (item['start'], item['end'], peer_address, peer_host))
                for other in seen_ranges:
                    if item['start'] <= other['end'] and other['start'] <= item['end']:
                        check.fail(item['variable'], 'range %s-%s overlaps range %s-%s (%s)'
                                   % (item['start'], item['end'], other['start'], other['end'],
                                      other['variable']))
                seen_ranges.append(item)
    if not seen_ranges:
        check.fail('dhcp_failover_subnets', 'the pair serves no range: dhcpd refuses a failover peer '
                   'without pools (give at least one subnet a pool with a range)')
    return seen_ranges


def _reservations(check, value, ranges):
    result = []
    names = set()
    for index, item in enumerate(check.sequence('dhcp_failover_reservations', value)):
        variable = 'dhcp_failover_reservations[%d]' % index
        check.mapping(variable, item, RESERVATION_KEYS)
        name = check.string(variable + '.name', item.get('name'), NAME_RE, 'host name')
        if name in names:
            check.fail(variable + '.name', 'host %r is declared twice' % name)
        names.add(name)
        mac = check.string(variable + '.mac', item.get('mac'), MAC_RE, 'MAC address (aa:bb:cc:dd:ee:ff)')
        address = check.address(variable + '.address', item.get('address'))
        for other in ranges:
            if other['start'] <= address <= other['end']:
                check.fail(variable + '.address', 'reserved address %s is inside the dynamic range '
                           '%s-%s (%s); reserve addresses outside the pools'
                           % (address, other['start'], other['end'], other['variable']))
        result.append({
            'name': name,
            'mac': mac.lower(),
            'address': str(address),
            'options': _options(check, variable + '.options', item.get('options')),
            'statements': check.statements(variable + '.statements', item.get('statements')),
        })
    return result


def _public_subnet(subnet):
    network = subnet['network']
    return {
        'network': str(network),
        'address': str(network.network_address),
        'netmask': str(network.netmask),
        'relay': subnet['relay'],
        'routers': [str(item) for item in subnet['routers']],
        'domain_name_servers': [str(item) for item in subnet['domain_name_servers']],
        'domain_name': subnet['domain_name'],
        'options': subnet['options'],
        'statements': subnet['statements'],
        'pools': [{
            'ranges': [{'start': str(item['start']), 'end': str(item['end'])} for item in pool['ranges']],
            'statements': pool['statements'],
        } for pool in subnet['pools']],
    }


def _facts(hostvars):
    facts = hostvars.get('ansible_facts') or {}
    default_ipv4 = facts.get('default_ipv4') or hostvars.get('ansible_default_ipv4') or {}
    all_ipv4 = facts.get('all_ipv4_addresses')
    if all_ipv4 is None:
        all_ipv4 = hostvars.get('ansible_all_ipv4_addresses')
    return default_ipv4, all_ipv4


def effective_settings(hostvars, defaults=None):
    """Return the role variables in effect for one host.

    ``hostvars`` is that host's variables.  When the role ran on the host it recorded its
    complete view (inventory, play vars, role defaults) in ``__dhcp_failover_settings``; otherwise
    the inventory values are laid over the role defaults.
    """
    settings = dict(DEFAULTS)
    if defaults:
        settings.update((key, value) for key, value in defaults.items() if key in DEFAULTS)
    recorded = hostvars.get('__dhcp_failover_settings')
    source = recorded if isinstance(recorded, dict) else hostvars
    for name in DEFAULTS:
        if name in source:
            settings[name] = source[name]
    return settings


def _normalise_shared(check, settings):
    """Normalise the pair settings that both peers share (used to compare them)."""
    result = {}
    for name in SHARED_VARIABLES:
        value = settings[name]
        if name in ('dhcp_failover_subnets', 'dhcp_failover_shared_networks', 'dhcp_failover_reservations') and value is None:
            value = []
        if name == 'dhcp_failover_global_options' and value is None:
            value = {}
        if name == 'dhcp_failover_raw_global' and value is None:
            value = ''
        result[name] = value
    return result


def _host_part(check, host, settings, hostvars):
    default_ipv4, all_ipv4 = _facts(hostvars)
    role = settings['dhcp_failover_role']
    if role is not None:
        check.choice('dhcp_failover_role', role, ROLES)
    address = settings['dhcp_failover_address']
    if address is None or address == '':
        address = default_ipv4.get('address')
        if not address:
            check.fail('dhcp_failover_address', 'not set, and the fact ansible_default_ipv4.address '
                       'is unknown for this host (set it, or gather facts)')
    address = check.address('dhcp_failover_address', address)
    if all_ipv4 is not None and str(address) not in [str(item) for item in all_ipv4]:
        check.fail('dhcp_failover_address', '%s is not an address of this host (it has: %s)'
                   % (address, ', '.join(str(item) for item in all_ipv4) or 'none'))
    port = check.integer('dhcp_failover_port', settings['dhcp_failover_port'], 1, 65535)
    interfaces = settings['dhcp_failover_interfaces']
    if interfaces is None or interfaces == []:
        interface = default_ipv4.get('interface')
        if not interface:
            check.fail('dhcp_failover_interfaces', 'not set, and the fact ansible_default_ipv4.interface '
                       'is unknown for this host (set it, or gather facts)')
        interfaces = [interface]
    if isinstance(interfaces, str):
        interfaces = [interfaces]
    interfaces = check.sequence('dhcp_failover_interfaces', interfaces)
    for index, interface in enumerate(interfaces):
        check.string('dhcp_failover_interfaces[%d]' % index, interface, INTERFACE_RE, 'interface name')
    firewall = {
        'enabled': check.boolean('dhcp_failover_firewall_enabled', settings['dhcp_failover_firewall_enabled']),
        'extra_omapi_sources': _sources(check, 'dhcp_failover_firewall_extra_omapi_sources',
                                        settings['dhcp_failover_firewall_extra_omapi_sources']),
    }
    return {'role': role, 'address': address, 'port': port, 'interfaces': list(interfaces),
            'firewall': firewall}


def _sources(check, variable, value):
    """Addresses or networks (IPv4, then IPv6), overlaps merged, as nftables writes them."""
    if isinstance(value, str):
        value = [value]
    networks = {4: [], 6: []}
    for index, item in enumerate(check.sequence(variable, value)):
        try:
            network = ipaddress.ip_network(str(item).strip(), strict=True)
        except ValueError as exc:
            check.fail('%s[%d]' % (variable, index), '%r is not an IPv4 or IPv6 address or network: %s'
                       % (item, exc))
        networks[network.version].append(network)
    return [str(network.network_address) if network.num_addresses == 1 else str(network)
            for version in (4, 6) for network in ipaddress.collapse_addresses(networks[version])]


def _pair_part(check, pair, settings):
    """Validate the shared settings of one pair (as seen on one of its hosts)."""
    peer_name = settings['dhcp_failover_peer_name'] or pair
    check.string('dhcp_failover_peer_name', peer_name, NAME_RE,
                 'failover peer name (letters, digits, dot, dash, underscore; at most 63)')
    mode = check.choice('dhcp_failover_mode', settings['dhcp_failover_mode'], MODES)
    split = check.integer('dhcp_failover_split', settings['dhcp_failover_split'], 0, 256)
    hba = settings['dhcp_failover_hba']
    if hba:
        check.string('dhcp_failover_hba', hba, HBA_RE, 'hba (32 colon-separated hex bytes)')
        if mode == 'hot_standby':
            check.fail('dhcp_failover_hba', 'hba is a load_balance setting; hot_standby always '
                       'writes split 256')
    else:
        hba = None
    result = {
        'peer_name': peer_name,
        'mode': mode,
        'split': 256 if mode == 'hot_standby' else split,
        'hba': hba,
        'mclt': check.integer('dhcp_failover_mclt', settings['dhcp_failover_mclt'], 1),
        'max_response_delay': check.integer('dhcp_failover_max_response_delay',
                                            settings['dhcp_failover_max_response_delay'], 1),
        'max_unacked_updates': check.integer('dhcp_failover_max_unacked_updates',
                                             settings['dhcp_failover_max_unacked_updates'], 1),
        'load_balance_max_seconds': check.integer(
            'dhcp_failover_load_balance_max_seconds',
            settings['dhcp_failover_load_balance_max_seconds'], 1),
        'auto_partner_down': check.integer('dhcp_failover_auto_partner_down',
                                           settings['dhcp_failover_auto_partner_down'], 0),
        'omapi': {
            'enabled': check.boolean('dhcp_failover_omapi_enabled', settings['dhcp_failover_omapi_enabled']),
            'port': check.integer('dhcp_failover_omapi_port', settings['dhcp_failover_omapi_port'], 1, 65535),
            'key_name': check.string('dhcp_failover_omapi_key_name', settings['dhcp_failover_omapi_key_name'],
                                     NAME_RE, 'key name'),
            'algorithm': check.choice('dhcp_failover_omapi_algorithm', settings['dhcp_failover_omapi_algorithm'],
                                      OMAPI_ALGORITHMS),
        },
        'authoritative': check.boolean('dhcp_failover_authoritative', settings['dhcp_failover_authoritative']),
        'default_lease_time': check.integer('dhcp_failover_default_lease_time',
                                            settings['dhcp_failover_default_lease_time'], 1),
        'max_lease_time': check.integer('dhcp_failover_max_lease_time', settings['dhcp_failover_max_lease_time'], 1),
        'ping_check': check.boolean('dhcp_failover_ping_check', settings['dhcp_failover_ping_check']),
        'ddns_update_style': check.choice('dhcp_failover_ddns_update_style',
                                          settings['dhcp_failover_ddns_update_style'], DDNS_STYLES),
        'global_options': _options(check, 'dhcp_failover_global_options', settings['dhcp_failover_global_options']),
        'raw_global': settings['dhcp_failover_raw_global'] or '',
    }
    if result['default_lease_time'] > result['max_lease_time']:
        check.fail('dhcp_failover_default_lease_time', 'default lease time %d is longer than '
                   'dhcp_failover_max_lease_time %d' % (result['default_lease_time'], result['max_lease_time']))
    if not isinstance(result['raw_global'], str):
        check.fail('dhcp_failover_raw_global', 'must be a string of dhcpd statements')
    subnets, shared_networks = _network_content(check, settings)
    result['_subnets'] = subnets
    result['_shared_networks'] = shared_networks
    return result


def _assign_roles(pair, hosts, parts):
    first, second = hosts
    role_first, role_second = parts[first]['role'], parts[second]['role']
    if role_first is None and role_second is None:
        return {first: 'primary', second: 'secondary'}
    if role_first is None:
        return {second: role_second, first: 'secondary' if role_second == 'primary' else 'primary'}
    if role_second is None:
        return {first: role_first, second: 'secondary' if role_first == 'primary' else 'primary'}
    if role_first == role_second:
        raise PairError(pair, second, 'dhcp_failover_role',
                        'both %s and %s are %s; a pair needs exactly one primary and one secondary'
                        % (first, second, role_first))
    return {first: role_first, second: role_second}


def _validate_pair(pair, hosts, settings_by_host, hostvars_by_host):
    if len(hosts) != 2:
        raise PairError(pair, ', '.join(hosts) or '(none)', 'dhcp_failover_pairs_group',
                        'a pair group must hold exactly two hosts, it holds %d' % len(hosts))
    first, second = hosts
    # The peers must agree on every shared setting: compare them before anything else.
    shared = {}
    for host in hosts:
        shared[host] = _normalise_shared(_Checker(pair, host), settings_by_host[host])
    for name in SHARED_VARIABLES:
        if shared[first][name] != shared[second][name]:
            raise PairError(pair, second, name, 'differs between the peers (%s has %r, %s has %r); '
                            'both peers of a pair must share it (set it in the pair group vars)'
                            % (first, shared[first][name], second, shared[second][name]))
    parts = {}
    for host in hosts:
        parts[host] = _host_part(_Checker(pair, host), host, settings_by_host[host],
                                 hostvars_by_host[host])
    roles = _assign_roles(pair, hosts, parts)
    if parts[first]['address'] == parts[second]['address']:
        raise PairError(pair, second, 'dhcp_failover_address',
                        'both peers use %s; the two failover addresses must differ'
                        % parts[first]['address'])
    check = _Checker(pair, first)
    common = _pair_part(check, pair, settings_by_host[first])
    omapi_port = common['omapi']['port']
    if common['omapi']['enabled']:
        for host in hosts:
            if parts[host]['port'] == omapi_port:
                raise PairError(pair, host, 'dhcp_failover_omapi_port',
                                'OMAPI port %d is also the failover port of %s' % (omapi_port, host))
    all_subnets = list(common['_subnets'])
    for shared_network in common['_shared_networks']:
        all_subnets.extend(shared_network['subnets'])
    ranges = _check_ranges(check, all_subnets, [(host, parts[host]['address']) for host in hosts])
    common['host_reservations'] = _reservations(check, settings_by_host[first]['dhcp_failover_reservations'],
                                                ranges)
    for host in hosts:
        for reservation in common['host_reservations']:
            if reservation['address'] == str(parts[host]['address']):
                raise PairError(pair, first, 'dhcp_failover_reservations',
                                'host %s reserves %s, the failover address of %s'
                                % (reservation['name'], reservation['address'], host))
    common['subnets'] = [_public_subnet(subnet) for subnet in common.pop('_subnets')]
    common['shared_networks'] = [{
        'name': shared_network['name'],
        'statements': shared_network['statements'],
        'subnets': [_public_subnet(subnet) for subnet in shared_network['subnets']],
    } for shared_network in common.pop('_shared_networks')]
    return parts, roles, common


def derive_pair(hostvars, pairs, inventory_hostname, defaults=None, pairs_group=None):
    """Validate every pair and return the derived settings of ``inventory_hostname``.

    ``hostvars``: host name -> that host's variables (mapping).
    ``pairs``: pair (group) name -> list of its host names, in inventory order.
    ``defaults``: role defaults to use where a host's effective settings are unknown.
    """
    pairs_group = pairs_group or DEFAULTS['dhcp_failover_pairs_group']
    owner = {}
    for pair, hosts in pairs.items():
        for host in hosts:
            if host in owner:
                raise PairError(pair, host, 'dhcp_failover_pairs_group',
                                'host is in two pairs (%s and %s); a host serves one pair'
                                % (owner[host], pair))
            owner[host] = pair
    if not pairs:
        raise PairError('(none)', inventory_hostname, 'dhcp_failover_pairs_group',
                        'group %r has no pair groups (child groups of two hosts each)' % pairs_group)
    result = None
    for pair, hosts in pairs.items():
        hostvars_by_host = {}
        settings_by_host = {}
        for host in hosts:
            try:
                variables = hostvars[host]
            except KeyError:
                variables = {}
            hostvars_by_host[host] = variables
            settings_by_host[host] = effective_settings(variables, defaults)
        parts, roles, common = _validate_pair(pair, list(hosts), settings_by_host, hostvars_by_host)
        if inventory_hostname in hosts:
            partner = [host for host in hosts if host != inventory_hostname][0]
            role = roles[inventory_hostname]
            derived = dict(common)
            derived.update({
                'pair': pair,
                'host': inventory_hostname,
                'role': role,
                'partner_host': partner,
                'partner_role': roles[partner],
                'address': str(parts[inventory_hostname]['address']),
                'port': parts[inventory_hostname]['port'],
                'peer_address': str(parts[partner]['address']),
                'peer_port': parts[partner]['port'],
                'interfaces': parts[inventory_hostname]['interfaces'],
                'firewall': parts[inventory_hostname]['firewall'],
            })
            if role != 'primary':
                # dhcpd wants split/hba and mclt on the primary only.
                derived.update({'split': None, 'hba': None, 'mclt': None})
            elif derived['hba']:
                derived['split'] = None
            result = derived
    if result is None:
        raise PairError('(none)', inventory_hostname, 'dhcp_failover_pairs_group',
                        'host is not in any pair group under %r' % pairs_group)
    return result
