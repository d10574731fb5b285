# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What is Kea's own in a pair: the High Availability hook, its peers, split pools, Kea's files.

PRIVATE controller-side code of the dhcp.failover collection; its interface may change without
notice.  ``settings()`` checks the Kea-only settings of a pair and refuses the dhcpd-only ones
(and raw dhcpd text), renders both servers' ``kea-dhcp4.conf`` (as dicts: ``{"Dhcp4": {...}}``)
and checks the rendered pair where Kea's own checks are blind (``check_pair``: modes and roles,
``this-server-name`` among the peers, URLs that mirror each other, both hooks, every
load-balancing pool split); ``check_host()`` checks one host's Kea ports and paths;
``host_view()`` returns the view of one host (``dhcp_failover_pair_info``), its config included.

One rendered config serves Kea 2.2 (Debian 12) and 2.6 (Debian 13): measured in the lab
(bare-bookworm kea-dhcp4-server 2.2.0-6, bare-trixie 2.6.3-1+deb13u1), a bare hook name
(``libdhcp_ha.so``) fails on 2.2.0 when the server starts ("HOOKS_OPEN_ERROR failed to open hook
library libdhcp_lease_cmds.so: ... cannot open shared object file", ``-t`` does not see it), the
absolute path in Debian's hooks directory works on both; the absolute control socket path
``/run/kea/kea4-ctrl-socket`` is accepted by both.
"""

from __future__ import annotations

import ipaddress
import posixpath

from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_dhcpd, _role_spec
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError

# The Kea-only variables (a dhcpd pair refuses them when they are not at their default).
VARIABLES = _isc_dhcpd.KEA_VARIABLES

# The dhcpd-only variables: refused for a Kea pair when not at their spec default.  The value
# names the Kea setting that takes its place, or says why there is none.
ISC_ONLY = dict((name, None) for name in _isc_dhcpd.VARIABLES)
ISC_ONLY.update({
    'dhcp_failover_port': None, 'dhcp_failover_config_file': None, 'dhcp_failover_defaults_file': None,
    'dhcp_failover_lease_file': None, 'dhcp_failover_service': None, 'dhcp_failover_packages': None,
    'dhcp_failover_omapi_key_file': None, 'dhcp_failover_omapi_rotate': None,
    'dhcp_failover_firewall_extra_omapi_sources': None,
})
EQUIVALENTS = {
    'dhcp_failover_port': 'see dhcp_failover_kea_ha_port (the HA listener port of this host)',
    'dhcp_failover_max_response_delay': 'see dhcp_failover_kea_max_response_delay (milliseconds)',
    'dhcp_failover_auto_partner_down': 'see dhcp_failover_kea_max_unacked_clients (0: partner-down on lost contact '
                                       'alone)',
    'dhcp_failover_max_unacked_updates': 'see dhcp_failover_kea_max_unacked_clients and '
                                         'dhcp_failover_kea_max_ack_delay',
    'dhcp_failover_config_file': 'see dhcp_failover_kea_config_file',
    'dhcp_failover_lease_file': 'see dhcp_failover_kea_lease_file',
    'dhcp_failover_service': 'see dhcp_failover_kea_service',
    'dhcp_failover_packages': 'see dhcp_failover_kea_packages',
    'dhcp_failover_split': 'Kea load-balancing is always 50/50 (every pool is split in halves); for all clients on '
                           'the primary use dhcp_failover_mode: hot_standby',
    'dhcp_failover_hba': 'Kea load-balancing is always 50/50 (every pool is split in halves)',
    'dhcp_failover_mclt': 'Kea has no MCLT (a server answers only after its partner acknowledged the lease)',
    'dhcp_failover_peer_name': 'the Kea relationship is named after the pair and its servers after the '
                               'inventory hosts',
    'dhcp_failover_raw_global': 'raw dhcpd text has no Kea meaning; use the collection\'s neutral variables',
}
for _name in ISC_ONLY:
    if _name.startswith('dhcp_failover_omapi_') or _name == 'dhcp_failover_firewall_extra_omapi_sources':
        EQUIVALENTS.setdefault(_name, 'see dhcp_failover_kea_control_socket (a Kea server is read and operated over '
                                      'its control socket, on the host)')

MODES = {'load_balance': 'load-balancing', 'hot_standby': 'hot-standby'}
HA_ROLES = {'load-balancing': ('primary', 'secondary'), 'hot-standby': ('primary', 'standby')}
# The HA hook puts each client of a load-balancing pair in the class "HA_" + the name of the server
# whose hash bucket it falls in (the ARM's HA_server1/HA_server2 are only its servers' names):
# measured on 2.2.0 by H3, pools of class HA_server1 with servers named otherwise serve nobody
# ("ALLOC_ENGINE_V4_ALLOC_FAIL_CLASSES ... client with classes: ALL, HA_dhcpf-k3-p, ...").
SPLIT_CLASS_PREFIX = 'HA_'
HOOKS = ('libdhcp_lease_cmds.so', 'libdhcp_ha.so')
LEASE_DIRECTORY = '/var/lib/kea'
SOCKET_DIRECTORY = '/run/kea'
# Ports a HA listener must not take: DHCP itself, and the Kea Control Agent's default.
RESERVED_PORTS = {67: 'the DHCP server port', 68: 'the DHCP client port', 8000: 'the Kea Control Agent\'s port'}
# sun_path of struct sockaddr_un is 108 bytes, the final NUL included.
SOCKET_PATH_MAX = 107
LFC_INTERVAL = 3600
HA_THREADS = 2
# Option value types: the collection's names -> Kea's option-def types.
OPTION_TYPES = {'text': 'string', 'binary': 'binary', 'ipv4-address': 'ipv4-address', 'boolean': 'boolean',
                'uint8': 'uint8', 'uint16': 'uint16', 'uint32': 'uint32', 'int8': 'int8', 'int16': 'int16',
                'int32': 'int32'}


# ---------------------------------------------------------------------------------------------
# Refusals: dhcpd-only settings and raw dhcpd text

def refuse_isc_settings(pair, hosts, host_params):
    options = _role_spec.load_options()
    for host in hosts:
        found = _role_spec.set_apart_from_default(options, host_params[host], ISC_ONLY)
        if found:
            name = found[0]
            raise PairError(pair, host, name, 'is an ISC dhcpd setting; a Kea pair (dhcp_failover_backend=kea) does '
                            'not use it: remove it%s' % ((', or ' + EQUIVALENTS[name]) if name in EQUIVALENTS else ''))


def _raw_fields(variable, item, fields):
    for field in fields:
        value = item.get(field)
        if value:
            yield '%s.%s' % (variable, field), field


def refuse_raw_text(check, params):
    """Raw dhcpd statements, and what the Kea rendering does not carry (yet), refused before any change."""
    places = []
    subnets = [('dhcp_failover_subnets[%d]' % index, subnet)
               for index, subnet in enumerate(params.get('dhcp_failover_subnets') or [])]
    for index, shared in enumerate(params.get('dhcp_failover_shared_networks') or []):
        variable = 'dhcp_failover_shared_networks[%d]' % index
        places.extend(_raw_fields(variable, shared, ('statements',)))
        subnets.extend(('%s.subnets[%d]' % (variable, sub_index), subnet)
                       for sub_index, subnet in enumerate(shared.get('subnets') or []))
    for variable, subnet in subnets:
        places.extend(_raw_fields(variable, subnet, ('statements', 'vendor_option_space')))
        for pool_index, pool in enumerate(subnet.get('pools') or []):
            places.extend(_raw_fields('%s.pools[%d]' % (variable, pool_index), pool,
                                      ('statements', 'vendor_option_space', 'next_server', 'filename')))
    for index, item in enumerate(params.get('dhcp_failover_reservations') or []):
        places.extend(_raw_fields('dhcp_failover_reservations[%d]' % index, item, ('statements', 'vendor_option_space')))
    for variable, field in places:
        if field == 'statements':
            check.fail(variable, 'raw dhcpd statements are refused for a Kea pair (dhcp_failover_backend=kea): Kea '
                       'does not read dhcpd text; use options, next_server and filename, or remove them')
        if field == 'vendor_option_space':
            check.fail(variable, 'vendor-encapsulated options (option 43) are not rendered for Kea pairs by this '
                       'collection yet; remove it (a Kea pair would not send them)')
        check.fail(variable, 'a Kea pool has no %s of its own (Kea sets it per subnet or reservation): set it on the '
                   'subnet' % field)


# ---------------------------------------------------------------------------------------------
# One host: its HA port and the paths Kea opens

def _absolute(check, params, variable):
    value = params.get(variable)
    path = posixpath.normpath(str(value))
    if not posixpath.isabs(path):
        check.fail(variable, '%r is not an absolute path' % (value,))
    return path


def check_host(check, params, description):
    """This host's Kea port and files: a port of its own, the lease file and the socket where Kea accepts them."""
    port = params.get('dhcp_failover_kea_ha_port')
    if port is not None:
        if not 1 <= port <= 65535:
            check.fail('dhcp_failover_kea_ha_port', 'must be between 1 and 65535, got %d' % port)
        if port in RESERVED_PORTS:
            check.fail('dhcp_failover_kea_ha_port', 'port %d is %s; the HA listener needs a port of its own (for '
                       'example 8001)' % (port, RESERVED_PORTS[port]))
    lease_file = _absolute(check, params, 'dhcp_failover_kea_lease_file')
    if posixpath.dirname(lease_file) != LEASE_DIRECTORY:
        check.fail('dhcp_failover_kea_lease_file', '%s is not a file in %s: Kea 2.6 refuses a lease file anywhere '
                   'else ("kea-dhcp4 -T" says so, Kea 2.2\'s "-t" does not), so the server would not start after an '
                   'upgrade; keep it in %s' % (lease_file, LEASE_DIRECTORY, LEASE_DIRECTORY))
    socket = _absolute(check, params, 'dhcp_failover_kea_control_socket')
    if posixpath.dirname(socket) != SOCKET_DIRECTORY:
        check.fail('dhcp_failover_kea_control_socket', '%s is not in %s, the runtime directory of the Kea unit '
                   '(mode 0750); Kea 2.6 refuses a control socket anywhere else' % (socket, SOCKET_DIRECTORY))
    if len(socket.encode('utf-8')) > SOCKET_PATH_MAX:
        check.fail('dhcp_failover_kea_control_socket', '%s is longer than %d bytes, the most a UNIX socket path may '
                   'be' % (socket, SOCKET_PATH_MAX))
    for variable in ('dhcp_failover_kea_config_file', 'dhcp_failover_kea_hooks_dir'):
        _absolute(check, params, variable)


# ---------------------------------------------------------------------------------------------
# The pair's settings, and both rendered configs

def settings(check, pair, params, description, host_params=None):
    """Kea settings of a pair and both servers' rendered configs, checked as a pair."""
    hosts = description['hosts']
    host_params = host_params or {hosts[0]: params}
    refuse_isc_settings(pair, [host for host in hosts if host in host_params], host_params)
    refuse_raw_text(check, params)
    for host in hosts:
        if host in host_params:
            check_host(_Check(pair, host), host_params[host], description)
    for name in ('dhcp_failover_kea_heartbeat_delay', 'dhcp_failover_kea_max_response_delay',
                 'dhcp_failover_kea_max_ack_delay'):
        if params[name] < 1:
            check.fail(name, 'must be a positive number of milliseconds, got %d' % params[name])
    if params['dhcp_failover_kea_max_unacked_clients'] < 0:
        check.fail('dhcp_failover_kea_max_unacked_clients', 'must be 0 or more, got %d'
                   % params['dhcp_failover_kea_max_unacked_clients'])
    if params['dhcp_failover_kea_heartbeat_delay'] >= params['dhcp_failover_kea_max_response_delay']:
        check.fail('dhcp_failover_kea_heartbeat_delay', 'heartbeat delay %d ms is not below '
                   'dhcp_failover_kea_max_response_delay %d ms: a server would declare its partner unresponsive '
                   'between two heartbeats' % (params['dhcp_failover_kea_heartbeat_delay'],
                                               params['dhcp_failover_kea_max_response_delay']))
    mode = MODES[description['mode']]
    peers = []
    for host in sorted(hosts, key=lambda name: description['peers'][name]['role'] != 'primary'):
        local = host_params.get(host, params)
        port = local['dhcp_failover_kea_ha_port']
        peers.append({
            'name': host,
            'url': url(description['peers'][host]['address'], port),
            'role': HA_ROLES[mode][0 if description['peers'][host]['role'] == 'primary' else 1],
            'auto-failover': True,
        })
    kea = {
        'mode': mode,
        'peers': peers,
        'heartbeat_delay': params['dhcp_failover_kea_heartbeat_delay'],
        'max_response_delay': params['dhcp_failover_kea_max_response_delay'],
        'max_ack_delay': params['dhcp_failover_kea_max_ack_delay'],
        'max_unacked_clients': params['dhcp_failover_kea_max_unacked_clients'],
    }
    configs = dict((host, render(description, kea, host, host_params.get(host, params))) for host in hosts)
    check_pair(pair, description, configs)
    kea['configs'] = configs
    return kea


class _Check(object):
    def __init__(self, pair, host):
        self.pair, self.host = pair, host

    def fail(self, variable, message):
        raise PairError(self.pair, self.host, variable, message)


def url(address, port):
    return 'http://%s:%d/' % (address, port)


def split_range(start, end):
    """A range's two halves for load-balancing: the primary gets the first, and the extra address of an odd size."""
    start, end = ipaddress.IPv4Address(start), ipaddress.IPv4Address(end)
    size = int(end) - int(start) + 1
    first = (size + 1) // 2
    halves = [(start, start + (first - 1))]
    if size > first:
        halves.append((start + first, end))
    return halves


def _pool_text(start, end):
    return '%s - %s' % (start, end)


def _hex(text):
    return ''.join('%02X' % byte for byte in text.encode('utf-8'))


def option_data_text(value, kind):
    """The ``data`` of a Kea option-data entry (CSV; a comma inside a text value escaped)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return ', '.join(option_data_text(item, kind) for item in value)
    text = str(value)
    if kind == 'binary':
        # dhcpd's colon-separated hex (01:2:ff) as Kea's plain hex, anything else as the hex of its text.
        if _isc_dhcpd_hex(text):
            return ''.join(part.zfill(2) for part in text.split(':')).upper()
        return _hex(text)
    if kind == 'text':
        return text.replace(',', '\\,')
    return text


def _isc_dhcpd_hex(text):
    parts = text.split(':')
    return all(1 <= len(part) <= 2 and all(char in '0123456789abcdefABCDEF' for char in part) for part in parts)


def option_data(options, definitions):
    """Kea option-data from the description's options (their values as given)."""
    result = []
    for item in options:
        name = item['name']
        definition = definitions.get(name)
        kind = definition['type'] if definition else None
        entry = {}
        if '.' in name:
            space, short = name.split('.', 1)
            entry = {'space': space, 'name': short}
        else:
            entry = {'name': name}
        entry['data'] = option_data_text(item.get('raw', item['value']), kind)
        result.append(entry)
    return result


def _option_defs(description):
    result = []
    for item in description['option_definitions']:
        short = item['name'].split('.', 1)[1] if item.get('space') else item['name']
        result.append({'name': short, 'code': item['code'], 'type': OPTION_TYPES[item['type']],
                       'array': bool(item.get('array')), 'space': item.get('space') or 'dhcp4'})
    return result


def _subnet_options(subnet, definitions):
    options = []
    if subnet['routers']:
        options.append({'name': 'routers', 'data': ', '.join(subnet['routers'])})
    if subnet['domain_name_servers']:
        options.append({'name': 'domain-name-servers', 'data': ', '.join(subnet['domain_name_servers'])})
    if subnet['domain_name']:
        options.append({'name': 'domain-name', 'data': option_data_text(subnet['domain_name'], 'text')})
    return options + option_data(subnet['options'], definitions)


def _boot(target, item):
    if item.get('next_server'):
        target['next-server'] = item['next_server']
    if item.get('filename'):
        target['boot-file-name'] = item['filename']


def split_classes(peers):
    """The classes of the two halves: HA_<primary's name> for the first, HA_<secondary's name> for the second."""
    by_role = dict((peer['role'], peer['name']) for peer in peers)
    return SPLIT_CLASS_PREFIX + by_role['primary'], SPLIT_CLASS_PREFIX + by_role['secondary']


def _subnet(subnet, subnet_id, mode, reservations, definitions, classes):
    pools = []
    for pool in subnet['pools']:
        extra = {}
        data = option_data(pool['options'], definitions)
        if data:
            extra['option-data'] = data
        for item in pool['ranges']:
            if mode == 'load-balancing':
                for index, (start, end) in enumerate(split_range(item['start'], item['end'])):
                    pools.append(dict({'pool': _pool_text(start, end), 'client-class': classes[index]}, **extra))
            else:
                pools.append(dict({'pool': _pool_text(item['start'], item['end'])}, **extra))
    network = ipaddress.IPv4Network(subnet['network'])
    result = {'id': subnet_id, 'subnet': subnet['network']}
    data = _subnet_options(subnet, definitions)
    if data:
        result['option-data'] = data
    _boot(result, subnet)
    result['pools'] = pools
    mine = []
    for reservation in reservations:
        if ipaddress.IPv4Address(reservation['address']) not in network:
            continue
        entry = {'hw-address': reservation['mac'], 'ip-address': reservation['address'],
                 'hostname': reservation['name']}
        data = option_data(reservation['options'], definitions)
        if data:
            entry['option-data'] = data
        _boot(entry, reservation)
        mine.append(entry)
    if mine:
        result['reservations'] = mine
    return result


def all_subnets(description):
    """(variable, subnet, shared-network index or None) in id order: top-level subnets, then shared ones."""
    found = [('dhcp_failover_subnets[%d]' % index, subnet, None) for index, subnet in enumerate(description['subnets'])]
    for index, shared in enumerate(description['shared_networks']):
        found.extend(('dhcp_failover_shared_networks[%d].subnets[%d]' % (index, sub_index), subnet, index)
                     for sub_index, subnet in enumerate(shared['subnets']))
    return found


def render(description, kea, host, local):
    """The whole kea-dhcp4.conf of one host, as a dict."""
    definitions = dict((item['name'], item) for item in description['option_definitions'])
    mode = kea['mode']
    hooks_dir = posixpath.normpath(local['dhcp_failover_kea_hooks_dir'])
    ha = {
        'this-server-name': host,
        'mode': mode,
        'heartbeat-delay': kea['heartbeat_delay'],
        'max-response-delay': kea['max_response_delay'],
        'max-ack-delay': kea['max_ack_delay'],
        'max-unacked-clients': kea['max_unacked_clients'],
        # kea-dhcp4 serves the HA URL itself: no Control Agent on 2.2 (needs core multi-threading too) or 2.6.
        'multi-threading': {
            'enable-multi-threading': True,
            'http-dedicated-listener': True,
            'http-listener-threads': HA_THREADS,
            'http-client-threads': HA_THREADS,
        },
        'peers': [dict(peer) for peer in kea['peers']],
    }
    classes = split_classes(kea['peers']) if mode == 'load-balancing' else None
    subnets, shared_networks = [], {}
    for subnet_id, (_variable, subnet, shared) in enumerate(all_subnets(description), 1):
        rendered = _subnet(subnet, subnet_id, mode, description['reservations'], definitions, classes)
        if shared is None:
            subnets.append(rendered)
        else:
            shared_networks.setdefault(shared, []).append(rendered)
    dhcp4 = {
        'interfaces-config': {'interfaces': list(description['peers'][host]['interfaces'])},
        'control-socket': {'socket-type': 'unix',
                           'socket-name': posixpath.normpath(local['dhcp_failover_kea_control_socket'])},
        'lease-database': {'type': 'memfile', 'persist': True,
                           'name': posixpath.normpath(local['dhcp_failover_kea_lease_file']),
                           'lfc-interval': LFC_INTERVAL},
        'multi-threading': {'enable-multi-threading': True},
        'valid-lifetime': description['default_lease_time'],
        'max-valid-lifetime': description['max_lease_time'],
        'hooks-libraries': [
            {'library': posixpath.join(hooks_dir, HOOKS[0])},
            {'library': posixpath.join(hooks_dir, HOOKS[1]), 'parameters': {'high-availability': [ha]}},
        ],
    }
    if mode == 'load-balancing':
        # Assigned by the HA hook to the clients of each server's hash buckets.
        dhcp4['client-classes'] = [{'name': name} for name in classes]
    defs = _option_defs(description)
    if defs:
        dhcp4['option-def'] = defs
    data = option_data(description['global_options'], definitions)
    if data:
        dhcp4['option-data'] = data
    dhcp4['subnet4'] = subnets
    if shared_networks:
        dhcp4['shared-networks'] = [{'name': shared['name'], 'subnet4': shared_networks.get(index, [])}
                                    for index, shared in enumerate(description['shared_networks'])]
    return {'Dhcp4': dhcp4}


# ---------------------------------------------------------------------------------------------
# The rendered pair, checked where Kea is blind

def ha_block(config):
    """The high-availability entry of a rendered config, or None."""
    for hook in config['Dhcp4'].get('hooks-libraries') or []:
        if posixpath.basename(hook.get('library', '')) == 'libdhcp_ha.so':
            return ((hook.get('parameters') or {}).get('high-availability') or [None])[0]
    return None


def _pool_range(text):
    start, end = [part.strip() for part in text.split('-')]
    return ipaddress.IPv4Address(start), ipaddress.IPv4Address(end)


def _rendered_subnets(config):
    dhcp4 = config['Dhcp4']
    found = list(dhcp4.get('subnet4') or [])
    for shared in dhcp4.get('shared-networks') or []:
        found.extend(shared.get('subnet4') or [])
    return dict((subnet['subnet'], subnet) for subnet in found)


def check_pair(pair, description, configs):
    """Both rendered configs make one working HA pair (what ``kea-dhcp4 -t``/``-T`` do not check).

    On Kea 2.2, ``-t`` passes a bogus mode, a ``this-server-name`` missing from ``peers``, a
    missing lease_cmds hook and an unsplit load-balancing pool (docs: KEA-NOTES); the server
    then does not start for the first two, and hands out every address twice for the last.
    """
    hosts = description['hosts']
    blocks = {}
    for host in hosts:
        config = configs[host]
        libraries = [posixpath.basename(hook.get('library', '')) for hook in config['Dhcp4'].get('hooks-libraries') or []]
        for hook in HOOKS:
            if hook not in libraries:
                raise PairError(pair, host, 'dhcp_failover_kea_hooks_dir', 'the config loads no %s (HA needs both %s)'
                                % (hook, ' and '.join(HOOKS)))
        block = ha_block(config)
        if block.get('mode') not in HA_ROLES:
            raise PairError(pair, host, 'dhcp_failover_mode', 'Kea HA mode %r is not one of %s'
                            % (block.get('mode'), ', '.join(sorted(HA_ROLES))))
        names = [peer.get('name') for peer in block.get('peers') or []]
        if block.get('this-server-name') not in names:
            raise PairError(pair, host, 'dhcp_failover_pairs_group', 'this-server-name %r is not among the peers (%s): '
                            'kea-dhcp4 would not start' % (block.get('this-server-name'), ', '.join(map(str, names))))
        if len(set(names)) != 2 or len(names) != 2:
            raise PairError(pair, host, 'dhcp_failover_pairs_group', 'a Kea HA pair needs two peers of distinct '
                            'names, the config has %s' % (names,))
        roles = sorted(peer.get('role') for peer in block['peers'])
        if roles != sorted(HA_ROLES[block['mode']]):
            raise PairError(pair, host, 'dhcp_failover_role', 'in %s the peers must be %s, the config has %s'
                            % (block['mode'], ' and '.join(HA_ROLES[block['mode']]), ' and '.join(map(str, roles))))
        me = [peer for peer in block['peers'] if peer['name'] == host][0]
        expected = url(description['peers'][host]['address'], int(me['url'].rsplit(':', 1)[1].strip('/')))
        if me['url'] != expected:
            raise PairError(pair, host, 'dhcp_failover_address', 'this server\'s URL %s is not on its address %s'
                            % (me['url'], description['peers'][host]['address']))
        blocks[host] = block
    first, second = hosts
    for key in ('mode', 'peers', 'heartbeat-delay', 'max-response-delay', 'max-ack-delay', 'max-unacked-clients'):
        if blocks[first].get(key) != blocks[second].get(key):
            raise PairError(pair, second, 'dhcp_failover_kea_ha_port' if key == 'peers' else 'dhcp_failover_mode',
                            'the peers\' HA %s differ (%s has %r, %s has %r): their URLs and roles must mirror each '
                            'other' % (key, first, blocks[first].get(key), second, blocks[second].get(key)))
    urls = [peer['url'] for peer in blocks[first]['peers']]
    if len(set(urls)) != 2:
        raise PairError(pair, second, 'dhcp_failover_kea_ha_port', 'both peers have the URL %s' % urls[0])
    if blocks[first]['this-server-name'] == blocks[second]['this-server-name']:
        raise PairError(pair, second, 'dhcp_failover_pairs_group', 'both servers call themselves %r'
                        % blocks[first]['this-server-name'])
    mode = blocks[first]['mode']
    for host in hosts:
        rendered = _rendered_subnets(configs[host])
        for variable, subnet, _shared in all_subnets(description):
            _check_pools(pair, host, variable, subnet, rendered.get(subnet['network']), mode, blocks[host]['peers'])


def _check_pools(pair, host, variable, subnet, rendered, mode, peers):
    if rendered is None:
        raise PairError(pair, host, variable, 'subnet %s is missing from the config' % subnet['network'])
    pools = [(_pool_range(pool['pool']), pool.get('client-class')) for pool in rendered.get('pools') or []]
    for pool_index, pool in enumerate(subnet['pools']):
        for range_index, item in enumerate(pool['ranges']):
            where = '%s.pools[%d].ranges[%d]' % (variable, pool_index, range_index)
            start, end = ipaddress.IPv4Address(item['start']), ipaddress.IPv4Address(item['end'])
            parts = sorted((low, high, klass) for (low, high), klass in pools if low <= end and start <= high)
            if mode == 'hot-standby':
                if [(low, high) for low, high, _klass in parts] != [(start, end)] or parts[0][2]:
                    raise PairError(pair, host, where, 'hot-standby serves range %s-%s as one pool without a client '
                                    'class, the config has %s' % (start, end, _parts_text(parts)))
                continue
            size = int(end) - int(start) + 1
            first = (size + 1) // 2
            # Independent of split_classes(): the class Kea gives a server's clients is HA_ + its name.
            names = dict((peer['role'], peer['name']) for peer in peers)
            wanted = [(start, start + (first - 1), 'HA_%s' % names['primary'])]
            if size > first:
                wanted.append((start + first, end, 'HA_%s' % names['secondary']))
            if parts != wanted:
                raise PairError(pair, host, where, 'load-balancing needs range %s-%s split in two halves, %s for the '
                                'primary and %s for the secondary (the HA hook puts a server\'s clients in the class '
                                'HA_<its name>), the config has %s: Kea does not check this; with an unsplit pool both '
                                'servers hand out the same addresses, with other classes nobody is served'
                                % (start, end, _parts_text(wanted[:1]), _parts_text(wanted[1:]), _parts_text(parts)))


def _parts_text(parts):
    return ', '.join('%s-%s%s' % (low, high, ' (%s)' % klass if klass else '') for low, high, klass in parts) or 'none'


# ---------------------------------------------------------------------------------------------
# One host's view

def host_view(description, kea, host, host_params=None):
    """One host's view of its pair (``dhcp_failover_pair_info``), its whole kea-dhcp4.conf included."""
    local = (host_params or {}).get(host) or {}
    partner = [other for other in description['hosts'] if other != host][0]
    me, peer = description['peers'][host], description['peers'][partner]
    by_name = dict((entry['name'], entry) for entry in kea['peers'])
    port = int(by_name[host]['url'].rsplit(':', 1)[1].strip('/'))
    peer_port = int(by_name[partner]['url'].rsplit(':', 1)[1].strip('/'))
    config = kea['configs'][host]
    return {
        'backend': 'kea',
        'pair': description['pair'],
        'host': host,
        'role': me['role'],
        'partner_host': partner,
        'partner_role': peer['role'],
        'address': me['address'],
        'peer_address': peer['address'],
        # The port the partner connects to (the firewall admits only the partner there).
        'port': port,
        'peer_port': peer_port,
        'interfaces': me['interfaces'],
        'firewall': me['firewall'],
        'mode': description['mode'],
        'default_lease_time': description['default_lease_time'],
        'max_lease_time': description['max_lease_time'],
        'global_options': description['global_options'],
        'option_definitions': description['option_definitions'],
        'option_spaces': description['option_spaces'],
        'subnets': description['subnets'],
        'shared_networks': description['shared_networks'],
        'reservations': description['reservations'],
        'peer_name': description['pair'],
        # Kea has no MCLT; the playbooks' waits add theirs to it.
        'pair_mclt': 0,
        'service': local.get('dhcp_failover_kea_service', 'kea-dhcp4-server'),
        'control_socket': config['Dhcp4']['control-socket']['socket-name'],
        'omapi': {'enabled': False},
        'kea': {
            'mode': kea['mode'],
            'this_server_name': host,
            'ha_role': by_name[host]['role'],
            'url': by_name[host]['url'],
            'peer_url': by_name[partner]['url'],
            'ha_port': port,
            'peer_ha_port': peer_port,
            'config_file': posixpath.normpath(local.get('dhcp_failover_kea_config_file', '/etc/kea/kea-dhcp4.conf')),
            'lease_file': config['Dhcp4']['lease-database']['name'],
            'config': config,
        },
    }
