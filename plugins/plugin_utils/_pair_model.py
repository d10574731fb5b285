# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The backend-neutral description of a DHCP failover pair, and the pair rules no spec can express.

PRIVATE controller-side code of the dhcp.failover collection (used by the action plugin
``dhcp.failover.pair_facts``); its interface may change without notice.

A pair is described once, in inventory, with the role's variables (``dhcp_failover_*``).  This
module finds the pairs (from ``groups``), validates each host's settings with the role's argument
spec (``_role_spec``), checks what no spec can (the two peers agree, addresses belong to their
hosts, ranges lie in their subnet and do not overlap, ...), checks against each host's gathered
network facts what ``dhcpd -t`` cannot see (the interfaces dhcpd listens on exist, carry an IPv4
address and lie on a declared subnet; every subnet not marked relay is on both servers), and builds
a description that knows nothing of the DHCP server software:

    {pair, hosts, peers: {host: {role, address, port, interfaces, firewall}}, mode,
     default_lease_time, max_lease_time, global_options, option_definitions, subnets,
     shared_networks, reservations}

A backend module (``_isc_dhcpd`` or ``_kea``, chosen per pair by ``dhcp_failover_backend``) adds its
own settings and turns the description into the view its templates (or, for Kea, its JSON) use.  Everything here works on plain data, so it is
unit-tested without a controller run.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_dhcpd, _kea, _role_spec
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError

PAIRS_GROUP = 'dhcp_failover'

# Set per host: the two peers differ here by design.
HOST_VARIABLES = (
    'dhcp_failover_pair',
    'dhcp_failover_role',
    'dhcp_failover_address',
    'dhcp_failover_port',
    'dhcp_failover_interfaces',
    'dhcp_failover_firewall_enabled',
    'dhcp_failover_firewall_extra_omapi_sources',
    'dhcp_failover_kea_ha_port',
)
# How one host is run (files, packages, service) or where the controller keeps things: a
# mixed pair (one Debian 12 and one Debian 13 peer) may differ here, the pair does not care.
LOCAL_VARIABLES = (
    'dhcp_failover_pairs_group',
    'dhcp_failover_omapi_key_dir',
    'dhcp_failover_omapi_key_file',
    'dhcp_failover_config_file',
    'dhcp_failover_defaults_file',
    'dhcp_failover_lease_file',
    'dhcp_failover_packages',
    'dhcp_failover_service',
    'dhcp_failover_kea_config_file',
    'dhcp_failover_kea_lease_file',
    'dhcp_failover_kea_control_socket',
    'dhcp_failover_kea_hooks_dir',
    'dhcp_failover_kea_service',
    'dhcp_failover_kea_packages',
)

ROLES = ('primary', 'secondary')
NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$')
OPTION_NAME_RE = re.compile(r'^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)?$')
INTERFACE_RE = re.compile(r'^[A-Za-z0-9_.:@-]{1,15}$')
MAC_RE = re.compile(r'^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$')
RAW_RANGE_RE = re.compile(r'(^|[;{\s])range6?\s', re.MULTILINE)
# Numeric limits no argument spec can state.
BOUNDS = {
    'dhcp_failover_port': (1, 65535),
    'dhcp_failover_default_lease_time': (1, None),
    'dhcp_failover_max_lease_time': (1, None),
}
OPTION_CODE_BOUNDS = (1, 254)
_SKIP_GROUPS = ('all', 'ungrouped')


class Check:
    """Raises PairError for one (pair, host)."""

    def __init__(self, pair, host):
        self.pair = pair
        self.host = host

    def fail(self, variable, message):
        raise PairError(self.pair, self.host, variable, message)

    def bounds(self, params, table):
        for name, (low, high) in table.items():
            value = params.get(name)
            if value is None:
                continue
            if low is not None and value < low:
                self.fail(name, 'must be at least %d, got %d' % (low, value))
            if high is not None and value > high:
                self.fail(name, 'must be at most %d, got %d' % (high, value))

    def address(self, variable, value):
        try:
            return ipaddress.IPv4Address(str(value).strip())
        except (ipaddress.AddressValueError, ValueError):
            self.fail(variable, '%r is not an IPv4 address' % (value,))

    def addresses(self, variable, value):
        return [self.address('%s[%d]' % (variable, index), item) for index, item in enumerate(value or [])]

    def name(self, variable, value, what, pattern=NAME_RE):
        if not isinstance(value, str) or not pattern.match(value):
            self.fail(variable, '%r is not a valid %s' % (value, what))
        return value


# ---------------------------------------------------------------------------------------------
# Finding the pairs

def find_pairs(groups, pairs_group=PAIRS_GROUP, pair_of_host=None):
    """Pair name -> its hosts in inventory order, from the play's ``groups`` alone.

    The rule (docs/inventory.md): a pair is a group whose hosts all belong to ``pairs_group``
    and that holds no smaller such group (groups named ``__...`` are left out) (so ``dhcp_failover`` itself, or a group of several
    pairs, is not one).  When a host is in two such groups (a group ``debian13`` of one peer of
    two pairs, say), set ``dhcp_failover_pair`` (the pair group's name) in each pair group's
    vars: then that variable alone decides.
    """
    if pairs_group not in groups:
        raise PairError('(none)', '(all)', 'dhcp_failover_pairs_group',
                        'the inventory has no group %r' % pairs_group)
    members = list(groups.get(pairs_group) or [])
    pair_of_host = dict(pair_of_host or {})
    named = [host for host in members if pair_of_host.get(host)]
    if named:
        pairs = {}
        for host in members:
            pair = pair_of_host.get(host)
            if not pair:
                raise PairError('(none)', host, 'dhcp_failover_pair',
                                'not set, but %s sets it: set it for every pair (in each pair group\'s '
                                'vars) or for none' % named[0])
            if pair not in groups or host not in groups[pair]:
                raise PairError(pair, host, 'dhcp_failover_pair',
                                'names %r, which is not a group holding this host' % pair)
            pairs.setdefault(pair, []).append(host)
        return pairs
    member_set = set(members)
    # Groups whose name starts with __ are the playbooks' own (group_by at run time: the servers
    # that answered, the primaries of a drill); they are never pairs.
    candidates = {
        name: list(hosts) for name, hosts in groups.items()
        if name not in _SKIP_GROUPS and name != pairs_group and not name.startswith('__')
        and hosts and set(hosts) <= member_set
    }
    pairs = {
        name: hosts for name, hosts in candidates.items()
        if not any(other != name and set(other_hosts) < set(hosts) for other, other_hosts in candidates.items())
    }
    owner = {}
    for pair, hosts in pairs.items():
        for host in hosts:
            if host in owner and set(pairs[owner[host]]) == set(hosts):
                raise PairError(pair, host, 'dhcp_failover_pair',
                                'groups %s and %s hold the same hosts, so either could be the pair: '
                                'set dhcp_failover_pair to the pair group\'s name in its vars (for every '
                                'pair)' % (owner[host], pair))
            if host in owner:
                raise PairError(pair, host, 'dhcp_failover_pairs_group',
                                'host is in two pairs (%s and %s); a host serves one pair. If one of '
                                'these groups is not a pair, set dhcp_failover_pair in each pair '
                                'group\'s vars' % (owner[host], pair))
            owner[host] = pair
    return pairs


# ---------------------------------------------------------------------------------------------
# Comparing the peers

def first_difference(left, right, path):
    """The path of the first value that differs between two settings, and both values."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in list(left) + [key for key in right if key not in left]:
            if key not in left or key not in right:
                return '%s.%s' % (path, key), left.get(key), right.get(key)
            found = first_difference(left[key], right[key], '%s.%s' % (path, key))
            if found:
                return found
        return None
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        for index in range(max(len(left), len(right))):
            if index >= len(left) or index >= len(right):
                return ('%s[%d]' % (path, index), left[index] if index < len(left) else '(absent)',
                        right[index] if index < len(right) else '(absent)')
            found = first_difference(left[index], right[index], '%s[%d]' % (path, index))
            if found:
                return found
        return None
    if left != right:
        return path, left, right
    return None


def shared_variables(options):
    return tuple(name for name in options if name not in HOST_VARIABLES and name not in LOCAL_VARIABLES)


def _compare_peers(pair, hosts, params, options):
    first, second = hosts
    secrets = _role_spec.secret_names(options)
    for name in shared_variables(options):
        found = first_difference(params[first].get(name), params[second].get(name), name)
        if not found:
            continue
        variable, left, right = found
        if name in secrets:
            detail = 'the two values differ (not shown: secret)'
        else:
            detail = '%s has %r, %s has %r' % (first, left, second, right)
        raise PairError(pair, second, variable, 'differs between the peers (%s); both peers of a pair '
                        'must share it (set it in the pair group vars)' % detail)


# ---------------------------------------------------------------------------------------------
# One host's part: role, failover address and port, interfaces, firewall

def network_facts(facts):
    """{interface: [its IPv4 addresses]} from a host's gathered facts, or None if not gathered.

    Ansible's network facts (gather_subset network): ``interfaces`` names every interface (``:``
    written ``_``), and the fact of that name holds ``ipv4`` (the first address) and
    ``ipv4_secondaries`` (the others, primary or secondary for the kernel alike).
    """
    names = facts.get('interfaces')
    if names is None:
        return None
    result = {}
    for name in names:
        item = facts.get(name) or {}
        found = [item.get('ipv4')] + list(item.get('ipv4_secondaries') or [])
        result[name] = [ipaddress.IPv4Address(entry['address']) for entry in found
                        if isinstance(entry, dict) and entry.get('address')]
    return result


def _host_part(check, params, facts, facts_required=False):
    default_ipv4 = facts.get('default_ipv4') or {}
    all_ipv4 = facts.get('all_ipv4_addresses')
    network = network_facts(facts)
    if network is None and facts_required:
        check.fail('dhcp_failover_interfaces', 'the network facts of this host are unknown '
                   '(ansible_facts.interfaces): gather them (ansible.builtin.setup with gather_subset '
                   'network) before the pair is validated')
    check.bounds(params, {'dhcp_failover_port': BOUNDS['dhcp_failover_port']})
    address = params.get('dhcp_failover_address')
    if not address:
        address = default_ipv4.get('address')
        if not address:
            check.fail('dhcp_failover_address', 'not set, and the fact ansible_default_ipv4.address '
                       'is unknown for this host (set it, or gather facts)')
    address = check.address('dhcp_failover_address', address)
    if all_ipv4 is not None and str(address) not in [str(item) for item in all_ipv4]:
        check.fail('dhcp_failover_address', '%s is not an address of this host (it has: %s)'
                   % (address, ', '.join(str(item) for item in all_ipv4) or 'none'))
    interfaces = params.get('dhcp_failover_interfaces')
    interfaces_default = not interfaces
    if not interfaces:
        interface = default_ipv4.get('interface')
        if not interface:
            check.fail('dhcp_failover_interfaces', 'not set, and the fact ansible_default_ipv4.interface '
                       'is unknown for this host (set it, or gather facts)')
        interfaces = [interface]
    for index, interface in enumerate(interfaces):
        check.name('dhcp_failover_interfaces[%d]' % index, interface, 'interface name', INTERFACE_RE)
    return {
        'role': params.get('dhcp_failover_role'),
        'address': address,
        'port': params['dhcp_failover_port'],
        'interfaces': list(interfaces),
        'interfaces_default': interfaces_default,
        'network': network,
        'interface_types': dict((name, (facts.get(name) or {}).get('type')) for name in (network or {})),
        'firewall': {
            'enabled': bool(params['dhcp_failover_firewall_enabled']),
            'extra_omapi_sources': _sources(check, 'dhcp_failover_firewall_extra_omapi_sources',
                                            params['dhcp_failover_firewall_extra_omapi_sources']),
        },
    }


def _sources(check, variable, value):
    """Addresses or networks (IPv4, then IPv6), overlaps merged, as nftables writes them."""
    networks = {4: [], 6: []}
    for index, item in enumerate(value or []):
        try:
            network = ipaddress.ip_network(str(item).strip(), strict=True)
        except ValueError as exc:
            check.fail('%s[%d]' % (variable, index), '%r is not an IPv4 or IPv6 address or network: %s'
                       % (item, exc))
        networks[network.version].append(network)
    return [str(network.network_address) if network.num_addresses == 1 else str(network)
            for version in (4, 6) for network in ipaddress.collapse_addresses(networks[version])]


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


# ---------------------------------------------------------------------------------------------
# Options and option definitions

# dhcpd's own text options (values are quoted for you).
TEXT_OPTIONS = frozenset((
    'domain-name', 'host-name', 'root-path', 'tftp-server-name', 'bootfile-name',
    'nis-domain', 'nisplus-domain', 'netbios-scope', 'merit-dump', 'extensions-path',
    'vendor-class-identifier', 'dhcp-message', 'uap-servers', 'fqdn.fqdn',
))
DOMAIN_LIST_OPTIONS = frozenset(('domain-search',))
OPTION_TYPES = ('boolean', 'uint8', 'uint16', 'uint32', 'int8', 'int16', 'int32',
                'ipv4-address', 'text', 'binary')
_HEX_RE = re.compile(r'^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})*$')


def _quote(text):
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return text
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def format_option_value(name, value, definitions=None):
    """The text after ``option NAME`` in dhcpd.conf (custom options by their defined type)."""
    definition = (definitions or {}).get(name)
    kind = definition['type'] if definition else None
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        if name in DOMAIN_LIST_OPTIONS:
            return ', '.join(_quote(str(item)) for item in value)
        return ', '.join(format_option_value(name, item, definitions) for item in value)
    text = str(value)
    if kind == 'text' or (kind is None and (name in TEXT_OPTIONS or name in DOMAIN_LIST_OPTIONS)):
        return _quote(text)
    if kind == 'binary' and not _HEX_RE.match(text):
        return _quote(text)
    return text


def _option_definitions(check, value):
    result, seen_names, seen_codes, spaces = [], set(), set(), []
    for index, item in enumerate(value or []):
        variable = 'dhcp_failover_option_definitions[%d]' % index
        space = item.get('space')
        if space:
            check.name(variable + '.space', space, 'option space name', re.compile(r'^[a-z][a-z0-9-]*$'))
        check.name(variable + '.name', item['name'], 'option name', re.compile(r'^[a-z0-9][a-z0-9-]*$'))
        full = '%s.%s' % (space, item['name']) if space else item['name']
        low, high = OPTION_CODE_BOUNDS
        if not low <= item['code'] <= high:
            check.fail(variable + '.code', 'must be between %d and %d, got %d' % (low, high, item['code']))
        if full in seen_names:
            check.fail(variable + '.name', 'option %s is defined twice' % full)
        if (space, item['code']) in seen_codes:
            check.fail(variable + '.code', 'code %d is defined twice in %s' % (item['code'], space or 'the dhcp space'))
        if item.get('array') and item['type'] in ('text', 'binary'):
            check.fail(variable + '.array', 'a %s option cannot be an array' % item['type'])
        seen_names.add(full)
        seen_codes.add((space, item['code']))
        if space and space not in spaces:
            spaces.append(space)
        result.append({'name': full, 'code': item['code'], 'type': item['type'],
                       'array': bool(item.get('array')), 'space': space})
    return result, spaces


def _options(check, variable, value, definitions):
    result = []
    for name, item in (value or {}).items():
        check.name('%s.%s' % (variable, name), name, 'dhcp option name', OPTION_NAME_RE)
        if item is None or (isinstance(item, (str, list, tuple)) and len(item) == 0):
            check.fail('%s.%s' % (variable, name), 'has no value')
        if '.' in name and name.split('.')[0] != 'fqdn' and name not in definitions:
            check.fail('%s.%s' % (variable, name), 'option %s is in a space of its own but is not '
                       'defined in dhcp_failover_option_definitions' % name)
        # value: dhcpd's spelling; raw: the value as given, for a backend that spells it its own way.
        result.append({'name': name, 'value': format_option_value(name, item, definitions), 'raw': item})
    return result


def _boot(check, variable, item):
    """PXE: next-server and filename, as data (dhcpd: next-server, filename; Kea: the same fields)."""
    next_server = item.get('next_server')
    if next_server:
        next_server = str(check.address(variable + '.next_server', next_server))
    return {'next_server': next_server or None, 'filename': item.get('filename') or None,
            'vendor_option_space': item.get('vendor_option_space') or None}


# ---------------------------------------------------------------------------------------------
# Subnets, pools, ranges, reservations

def _statements(value):
    return [line.strip() for line in (value or []) if line and line.strip()]


def _subnet(check, variable, subnet, definitions):
    try:
        network = ipaddress.IPv4Network(str(subnet['network']).strip(), strict=True)
    except ValueError as exc:
        check.fail(variable + '.network', '%r is not an IPv4 network: %s' % (subnet['network'], exc))
    routers = check.addresses(variable + '.routers', subnet.get('routers'))
    dns = check.addresses(variable + '.domain_name_servers', subnet.get('domain_name_servers'))
    raw = _statements(subnet.get('statements'))
    for index, line in enumerate(raw):
        if RAW_RANGE_RE.search(line):
            check.fail('%s.statements[%d]' % (variable, index),
                       'a range outside a pool is not bound to the failover peer and would be '
                       'served by both peers; put it in pools[].ranges')
    pools = []
    for pool_index, pool in enumerate(subnet.get('pools') or []):
        pool_var = '%s.pools[%d]' % (variable, pool_index)
        if not pool.get('failover', True):
            check.fail(pool_var + '.failover',
                       'every pool of a failover pair must be bound to the failover peer '
                       '(a pool without it is served by both peers, which then hand out the '
                       'same addresses twice)')
        ranges = []
        for range_index, item in enumerate(pool.get('ranges') or []):
            range_var = '%s.ranges[%d]' % (pool_var, range_index)
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
        pools.append(dict({
            'ranges': ranges,
            'options': _options(check, pool_var + '.options', pool.get('options'), definitions),
            'statements': _statements(pool.get('statements')),
        }, **_boot(check, pool_var, pool)))
    return dict({
        'network': network,
        'relay': bool(subnet.get('relay')),
        'routers': routers,
        'domain_name_servers': dns,
        'domain_name': subnet.get('domain_name'),
        'options': _options(check, variable + '.options', subnet.get('options'), definitions),
        'statements': raw,
        'pools': pools,
        'variable': variable,
    }, **_boot(check, variable, subnet))


def _network_content(check, params, definitions):
    subnets = [_subnet(check, 'dhcp_failover_subnets[%d]' % index, subnet, definitions)
               for index, subnet in enumerate(params.get('dhcp_failover_subnets') or [])]
    shared_networks, names = [], set()
    for index, shared in enumerate(params.get('dhcp_failover_shared_networks') or []):
        variable = 'dhcp_failover_shared_networks[%d]' % index
        name = check.name(variable + '.name', shared['name'], 'shared-network name')
        if name in names:
            check.fail(variable + '.name', 'shared-network %r is declared twice' % name)
        names.add(name)
        members = [_subnet(check, '%s.subnets[%d]' % (variable, sub_index), subnet, definitions)
                   for sub_index, subnet in enumerate(shared.get('subnets') or [])]
        if not members:
            check.fail(variable + '.subnets', 'a shared-network needs at least one subnet')
        shared_networks.append({'name': name, 'subnets': members,
                                'statements': _statements(shared.get('statements'))})
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
        check.fail('dhcp_failover_subnets', 'the pair serves no range: a failover pair needs at least '
                   'one pool (give at least one subnet a pool with a range)')
    return seen_ranges


def _reservations(check, value, ranges, subnets, definitions):
    result, names, macs, addresses = [], set(), {}, {}
    for index, item in enumerate(value or []):
        variable = 'dhcp_failover_reservations[%d]' % index
        name = check.name(variable + '.name', item['name'], 'host name')
        if name in names:
            check.fail(variable + '.name', 'host %r is declared twice' % name)
        names.add(name)
        mac = item['mac']
        if not MAC_RE.match(mac):
            check.fail(variable + '.mac', '%r is not a valid MAC address (aa:bb:cc:dd:ee:ff)' % (mac,))
        if mac.lower() in macs:
            check.fail(variable + '.mac', 'MAC %s is reserved twice (also by %s); dhcpd would hand that '
                       'client one of the two addresses' % (mac.lower(), macs[mac.lower()]))
        macs[mac.lower()] = variable
        address = check.address(variable + '.address', item['address'])
        if address in addresses:
            check.fail(variable + '.address', 'address %s is reserved twice (also by %s); two clients would '
                       'get the same address' % (address, addresses[address]))
        addresses[address] = variable
        if not any(address in subnet['network'] for subnet in subnets):
            check.fail(variable + '.address', 'reserved address %s is in no declared subnet (%s); dhcpd never '
                       'hands out a fixed-address outside the subnets it knows'
                       % (address, ', '.join(str(subnet['network']) for subnet in subnets)))
        for other in ranges:
            if other['start'] <= address <= other['end']:
                check.fail(variable + '.address', 'reserved address %s is inside the dynamic range '
                           '%s-%s (%s); reserve addresses outside the pools'
                           % (address, other['start'], other['end'], other['variable']))
        result.append(dict({
            'name': name,
            'mac': mac.lower(),
            'address': str(address),
            'options': _options(check, variable + '.options', item.get('options'), definitions),
            'statements': _statements(item.get('statements')),
        }, **_boot(check, variable, item)))
    return result


# ---------------------------------------------------------------------------------------------
# What dhcpd serves on each host: its listening interfaces against the declared subnets
#
# dhcpd 4.4.3-P1 (discover.c) gives each listening interface the subnet that holds one of its
# addresses. Measured in the lab (dhcpd -4 -f -d -cf FILE IFACE..., Debian 12 container with
# eth0 10.231.42.4/24 and eth1 10.231.41.4/24):
#   - an interface on no declared subnet (or missing, or without IPv4) is dropped:
#       No subnet declaration for eth0 (10.231.42.4).
#       ** Ignoring requests on eth0.  If this is not what
#          you want, please write a subnet declaration ...
#       No subnet declaration for ens18 (no IPv4 addresses).
#     and dhcpd goes on serving the other interfaces ("Server starting service.");
#   - with no interface left (a wrong name, a pair whose only subnets are relayed) it exits 1:
#       Not configured to listen on any interfaces!
#   - a second address (ip addr add 10.231.43.4/24 dev eth1) on a declared subnet is enough:
#       Listening on LPF/eth1/02:42:0a:e7:29:04/10.231.43.0/24
#   - addresses of one interface on two declared subnets of different shared networks: exit 1,
#       Interface eth1 matches multiple shared networks
# `dhcpd -t` reads no interface, so it passes all of these; the restarted service then serves
# nothing there, or does not start at all.

def _interface_variable(part, index):
    return 'dhcp_failover_interfaces' if part['interfaces_default'] else 'dhcp_failover_interfaces[%d]' % index


def _addresses_text(addresses):
    return ', '.join(str(item) for item in addresses) or 'no IPv4 address'


# The interface types of Ansible's network facts (/sys/class/net/IF/type, bridges and bonds named as such)
# that dhcpd's Linux packet filter accepts: its get_hw_addr() (common/lpf.c) takes ARPHRD_ETHER, IEEE 802
# and FDDI and stops with log_fatal("Unsupported device type %ld for \"%s\"") on anything else, such as
# a tun device (type 65534, facts "unknown"), ppp, or InfiniBand. Seen in the lab: a tun interface with an
# address on a declared subnet passes `dhcpd -t`, and dhcpd then exits with
#   Unsupported device type 65534 for "rolltun0"
LISTENABLE_TYPES = frozenset(('ether', 'bridge', 'bonding'))


def _check_interfaces(check, part, subnets):
    """Every interface dhcpd listens on exists, carries IPv4 and is on a declared subnet."""
    network = part['network']
    on_subnets = {}
    for index, name in enumerate(part['interfaces']):
        variable = _interface_variable(part, index)
        key = name.replace(':', '_')
        if key not in network:
            check.fail(variable, 'interface %s does not exist on this host (it has: %s); dhcpd would log '
                       '"No subnet declaration for %s (no IPv4 addresses)." and not serve on it, and with no '
                       'other interface exit with "Not configured to listen on any interfaces!"'
                       % (name, ', '.join(sorted(network)), name))
        kind = part.get('interface_types', {}).get(key)
        if kind is not None and kind not in LISTENABLE_TYPES:
            check.fail(variable, 'interface %s is of type %s; dhcpd listens only on Ethernet-type interfaces '
                       '(Ethernet, VLAN, bridge, bond) and would exit at start with "Unsupported device type ... '
                       'for \"%s\"" (dhcpd -t does not look at interfaces)' % (name, kind, name))
        if not network[key]:
            check.fail(variable, 'interface %s has no IPv4 address; dhcpd would log "No subnet declaration '
                       'for %s (no IPv4 addresses)." and not serve on it' % (name, name))
        found = [subnet for subnet in subnets if any(address in subnet['network'] for address in network[key])]
        groups = []
        for subnet in found:
            if subnet['group'] not in groups:
                groups.append(subnet['group'])
        if len(groups) > 1:
            check.fail(variable, 'interface %s (%s) is on %s, which are not in one shared-network; dhcpd '
                       'would exit with "Interface %s matches multiple shared networks" (put them in one '
                       'dhcp_failover_shared_networks entry)'
                       % (name, _addresses_text(network[key]),
                          ' and '.join('%s (%s)' % (subnet['network'], subnet['variable']) for subnet in found),
                          name))
        on_subnets[index] = found
    attached = [(name, address, subnet) for name, addresses in sorted(network.items()) for address in addresses
                for subnet in subnets if address in subnet['network']]
    for index, name in enumerate(part['interfaces']):
        if on_subnets[index]:
            continue
        addresses = _addresses_text(network[name.replace(':', '_')])
        said = ('dhcpd would log "No subnet declaration for %s (%s)." and ignore requests on it'
                % (name, network[name.replace(':', '_')][0]))
        if not any(on_subnets.values()):
            said += ', and with no other interface exit with "Not configured to listen on any interfaces!"'
        if not attached:
            declared = ', '.join('%s%s' % (subnet['network'], ' relay' if subnet['relay'] else '') for subnet in subnets)
            check.fail('dhcp_failover_subnets', 'no subnet of the pair is directly attached to this host: '
                       '%s (%s), where dhcpd listens, is on none of them (%s); %s. Declare the subnet of '
                       'the servers\' own network (it may have no pool), and mark only the subnets behind a '
                       'DHCP relay with relay: true' % (name, addresses, declared, said))
        if part['interfaces_default']:
            candidates = ', '.join('%s (%s in %s)' % (other, address, subnet['network'])
                                   for other, address, subnet in attached)
            check.fail('dhcp_failover_interfaces', 'not set, so dhcpd listens on the default-route interface '
                       '%s (%s), which is on no subnet of the pair; %s. Set it to the interfaces on the '
                       'pair\'s subnets: %s' % (name, addresses, said, candidates))
        check.fail(_interface_variable(part, index), 'interface %s (%s) is on no subnet of the pair; %s. '
                   'Declare its subnet, or do not listen on it' % (name, addresses, said))


def _check_subnets_attached(check_of, hosts, parts, subnets):
    """A subnet not marked relay is one both servers listen on (else dhcpd serves it only by relay)."""
    for subnet in subnets:
        if subnet['relay']:
            continue
        for host in hosts:
            part = parts[host]
            if part['network'] is None:
                continue
            listening = [(name, address) for name in part['interfaces']
                         for address in part['network'][name.replace(':', '_')]]
            if not any(address in subnet['network'] for _name, address in listening):
                check_of(host).fail(subnet['variable'], 'no interface dhcpd listens on is on %s (it listens on %s); '
                                    'set relay: true if a DHCP relay forwards this subnet\'s requests to the '
                                    'servers, or make dhcpd listen on its interface (dhcp_failover_interfaces)'
                                    % (subnet['network'], ', '.join('%s %s' % item for item in listening)))


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
        'next_server': subnet['next_server'],
        'filename': subnet['filename'],
        'vendor_option_space': subnet['vendor_option_space'],
        'pools': [{
            'ranges': [{'start': str(item['start']), 'end': str(item['end'])} for item in pool['ranges']],
            'options': pool['options'],
            'statements': pool['statements'],
            'next_server': pool['next_server'],
            'filename': pool['filename'],
            'vendor_option_space': pool['vendor_option_space'],
        } for pool in subnet['pools']],
    }


# ---------------------------------------------------------------------------------------------
# The pair

def describe_pair(pair, hosts, params, facts, play_hosts=None):
    """Validate one pair (its hosts' validated parameters) and return its neutral description.

    ``facts``: host -> its facts.  A host without network facts is checked without them only if
    it is outside the play (``play_hosts``; None: every host may be): it is not being changed,
    and its address and interfaces come from inventory.
    """
    if len(hosts) != 2:
        raise PairError(pair, ', '.join(hosts) or '(none)', 'dhcp_failover_pairs_group',
                        'a pair group must hold exactly two hosts, it holds %d' % len(hosts))
    first, second = hosts
    parts = {host: _host_part(Check(pair, host), params[host], facts.get(host) or {},
                              facts_required=play_hosts is not None and host in play_hosts)
             for host in hosts}
    roles = _assign_roles(pair, hosts, parts)
    if parts[first]['address'] == parts[second]['address']:
        raise PairError(pair, second, 'dhcp_failover_address',
                        'both peers use %s; the two failover addresses must differ' % parts[first]['address'])
    check = Check(pair, first)
    common = params[first]
    check.bounds(common, {name: BOUNDS[name] for name in BOUNDS if name != 'dhcp_failover_port'})
    if common['dhcp_failover_default_lease_time'] > common['dhcp_failover_max_lease_time']:
        times = (common['dhcp_failover_default_lease_time'], common['dhcp_failover_max_lease_time'])
        check.fail('dhcp_failover_default_lease_time', 'default lease time %d is longer than '
                   'dhcp_failover_max_lease_time %d' % times)
    definitions_list, spaces = _option_definitions(check, common.get('dhcp_failover_option_definitions'))
    definitions = {item['name']: item for item in definitions_list}
    subnets, shared_networks = _network_content(check, common, definitions)
    for subnet in subnets:
        subnet['group'] = subnet['variable']
    for shared in shared_networks:
        for subnet in shared['subnets']:
            subnet['group'] = 'shared-network ' + shared['name']
    all_subnets = subnets + [subnet for shared in shared_networks for subnet in shared['subnets']]
    ranges = _check_ranges(check, all_subnets, [(host, parts[host]['address']) for host in hosts])
    reservations = _reservations(check, common.get('dhcp_failover_reservations'), ranges, all_subnets,
                                 definitions)
    for host in hosts:
        if parts[host]['network'] is not None:
            _check_interfaces(Check(pair, host), parts[host], all_subnets)
    _check_subnets_attached(lambda host: Check(pair, host), hosts, parts, all_subnets)
    for host in hosts:
        for reservation in reservations:
            if reservation['address'] == str(parts[host]['address']):
                check.fail('dhcp_failover_reservations', 'host %s reserves %s, the failover address of %s'
                           % (reservation['name'], reservation['address'], host))
    return {
        'pair': pair,
        'hosts': list(hosts),
        'peers': {host: {
            'role': roles[host],
            'address': str(parts[host]['address']),
            'port': parts[host]['port'],
            'interfaces': parts[host]['interfaces'],
            'firewall': parts[host]['firewall'],
        } for host in hosts},
        'mode': common['dhcp_failover_mode'],
        'default_lease_time': common['dhcp_failover_default_lease_time'],
        'max_lease_time': common['dhcp_failover_max_lease_time'],
        'global_options': _options(check, 'dhcp_failover_global_options',
                                   common.get('dhcp_failover_global_options'), definitions),
        'option_definitions': definitions_list,
        'option_spaces': spaces,
        'subnets': [_public_subnet(subnet) for subnet in subnets],
        'shared_networks': [{
            'name': shared['name'],
            'statements': shared['statements'],
            'subnets': [_public_subnet(subnet) for subnet in shared['subnets']],
        } for shared in shared_networks],
        'reservations': reservations,
    }


BACKENDS = {'isc_dhcpd': _isc_dhcpd, 'kea': _kea}


def _unknown_without_facts(params, facts):
    """True when this host's failover address or interfaces must come from facts it does not have."""
    default_ipv4 = facts.get('default_ipv4') or {}
    return ((not params.get('dhcp_failover_address') and not default_ipv4.get('address'))
            or (not params.get('dhcp_failover_interfaces') and not default_ipv4.get('interface')))


def derive(options, settings, facts, pairs, inventory_hostname, pairs_group=PAIRS_GROUP, backend=None,
           play_hosts=None):
    """Validate every pair and return the view of ``inventory_hostname`` for its backend.

    ``settings``: host -> the role variables set for it (spec names only, templated).
    ``facts``: host -> its ansible_facts (may be empty).  ``pairs``: from find_pairs().
    ``play_hosts``: the hosts of the play, whose network facts must be known (None: not known).
    ``backend``: None (the default) takes each pair's own ``dhcp_failover_backend``.
    """
    return derive_all(options, settings, facts, pairs, [inventory_hostname], pairs_group=pairs_group,
                      backend=backend, play_hosts=play_hosts)[inventory_hostname]


def derive_all(options, settings, facts, pairs, wanted, pairs_group=PAIRS_GROUP, backend=None, play_hosts=None):
    """Validate every pair once and return host -> view for each host of ``wanted`` (derive()'s
    arguments otherwise): one pass over the pairs for all the hosts of a play, where one derive()
    per host would validate every pair once per host (hosts x pairs)."""
    if not pairs:
        raise PairError('(none)', wanted[0], 'dhcp_failover_pairs_group',
                        'group %r has no pair groups (groups of two hosts each)' % pairs_group)
    wanted_set = set(wanted)
    play_set = None if play_hosts is None else set(play_hosts)
    views = {}
    for pair, hosts in pairs.items():
        params = {}
        for host in hosts:
            params[host] = _role_spec.validate(options, settings.get(host) or {}, pair, host)
        if len(hosts) == 2:
            _compare_peers(pair, hosts, params, options)
        if (play_set is not None and not wanted_set & set(hosts)
                and not set(hosts) & play_set
                and any(_unknown_without_facts(params[host], facts.get(host) or {}) for host in hosts)):
            # A pair outside this run (--limit, a later serial batch) whose address or interfaces
            # come from facts nobody gathered (its hosts are not contacted, and may be down): its
            # variables were checked above; the rest is checked when it runs itself.
            continue
        description = describe_pair(pair, list(hosts), params, facts, play_hosts)
        # The peers agree on the backend (_compare_peers): the first host's says it for the pair.
        module = BACKENDS[backend or params[hosts[0]]['dhcp_failover_backend']]
        backend_settings = module.settings(Check(pair, hosts[0]), pair, params[hosts[0]], description, params)
        for host in hosts:
            module.check_host(Check(pair, host), params[host], description)
        for host in hosts:
            if host in wanted_set:
                views[host] = module.host_view(description, backend_settings, host, params)
    for host in wanted:
        if host not in views:
            raise PairError('(none)', host, 'dhcp_failover_pairs_group',
                            'host is not in any pair group under %r' % pairs_group)
    return views
