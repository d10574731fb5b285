# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What of an ISC dhcpd pair's description a Kea HA pair cannot carry (dhcpd -> Kea migration).

PRIVATE controller-side code of the dhcp.failover collection (groundwork of issue 15); its
interface may change without notice.

``report(params)`` takes one peer's validated parameters (``_role_spec.validate``: the role's
variables with the spec's defaults filled in, as ``_pair_model`` has them) and lists every part
that does not carry over to Kea, each as ``{variable, severity, why, refused_by_kea}``:

- severity ``loss``: something the pair does today that the Kea pair would not do (refused
  unless the user accepts the listed losses);
- severity ``note``: informational, nothing a client would see is lost (Kea has its own
  equivalent, or the setting has no meaning there);
- ``refused_by_kea``: the Kea backend (``_kea.settings``, branch kea-render) refuses the
  description as it stands (an ISC-only variable apart from its spec default, raw dhcpd text,
  pool next_server/filename, vendor_option_space): the migration must drop it from the Kea
  pair's description once the user accepted the report.
"""

from __future__ import annotations

from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_dhcpd, _role_spec

LOSS = 'loss'
NOTE = 'note'

# The ISC-only variables the Kea backend refuses when set apart from the spec default, besides
# _isc_dhcpd.VARIABLES (as _kea.ISC_ONLY on branch kea-render).
ISC_ONLY_FILES = ('dhcp_failover_port', 'dhcp_failover_config_file', 'dhcp_failover_defaults_file',
                  'dhcp_failover_lease_file', 'dhcp_failover_service', 'dhcp_failover_packages',
                  'dhcp_failover_omapi_key_file', 'dhcp_failover_omapi_rotate',
                  'dhcp_failover_firewall_extra_omapi_sources')

# Informational: the Kea setting that takes the place of a dhcpd one, or why there is none.
NOTES = {
    'dhcp_failover_peer_name': 'the Kea HA relationship is named after the pair, its servers after the inventory hosts',
    'dhcp_failover_mclt': 'Kea has no MCLT: a Kea HA server answers only after its partner acknowledged the lease '
                          '(no lazy updates), so nothing takes its place',
    'dhcp_failover_max_response_delay': 'Kea\'s equivalent is dhcp_failover_kea_max_response_delay, in milliseconds',
    'dhcp_failover_max_unacked_updates': 'Kea\'s equivalents are dhcp_failover_kea_max_ack_delay and '
                                         'dhcp_failover_kea_max_unacked_clients',
    'dhcp_failover_load_balance_max_seconds': 'Kea HA has no secs-based fallback: in load-balancing a server '
                                              'answers another server\'s clients only in partner-down',
    'dhcp_failover_auto_partner_down': 'Kea\'s nearest equivalent is dhcp_failover_kea_max_unacked_clients: 0 '
                                       '(partner-down on lost contact alone)',
    'dhcp_failover_max_lease_misbalance': 'Kea has no per-server free-lease halves to balance (each address is '
                                          'one pool half\'s, or the hot-standby primary\'s)',
    'dhcp_failover_max_lease_ownership': 'Kea has no per-server free-lease halves to balance',
    'dhcp_failover_min_balance': 'Kea has no per-server free-lease halves to balance',
    'dhcp_failover_max_balance': 'Kea has no per-server free-lease halves to balance',
    'dhcp_failover_port': 'the Kea HA channel is HTTP on dhcp_failover_kea_ha_port (default 8001)',
    'dhcp_failover_config_file': 'see dhcp_failover_kea_config_file',
    'dhcp_failover_defaults_file': 'Kea\'s unit has no defaults file',
    'dhcp_failover_lease_file': 'see dhcp_failover_kea_lease_file; the dhcpd lease file is kept on the host',
    'dhcp_failover_service': 'see dhcp_failover_kea_service',
    'dhcp_failover_packages': 'see dhcp_failover_kea_packages',
}
OMAPI_NOTE = ('Kea has no OMAPI: a Kea server is read and operated over its control socket on the host '
              '(dhcp_failover_kea_control_socket); tools of your own that speak OMAPI stop working')

# Kea's standard DHCPv4 option names (src/lib/dhcp/std_option_defs.h, STANDARD_V4_OPTION_DEFINITIONS,
# the list of the Kea source the search tool holds; 2.2 and 2.6 have at least these).  An option
# of the description named otherwise, and not defined in dhcp_failover_option_definitions, is a
# dhcpd-only name.
KEA_STD_OPTIONS = frozenset((
    'subnet-mask', 'time-offset', 'routers', 'time-servers', 'name-servers', 'domain-name-servers', 'log-servers',
    'cookie-servers', 'lpr-servers', 'impress-servers', 'resource-location-servers', 'host-name', 'boot-size',
    'merit-dump', 'domain-name', 'swap-server', 'root-path', 'extensions-path', 'ip-forwarding',
    'non-local-source-routing', 'policy-filter', 'max-dgram-reassembly', 'default-ip-ttl',
    'path-mtu-aging-timeout', 'path-mtu-plateau-table', 'interface-mtu', 'all-subnets-local', 'broadcast-address',
    'perform-mask-discovery', 'mask-supplier', 'router-discovery', 'router-solicitation-address', 'static-routes',
    'trailer-encapsulation', 'arp-cache-timeout', 'ieee802-3-encapsulation', 'default-tcp-ttl',
    'tcp-keepalive-interval', 'tcp-keepalive-garbage', 'nis-domain', 'nis-servers', 'ntp-servers',
    'netbios-name-servers', 'netbios-dd-server', 'netbios-node-type', 'netbios-scope', 'font-servers',
    'x-display-manager', 'dhcp-requested-address', 'dhcp-lease-time', 'dhcp-option-overload', 'dhcp-message-type',
    'dhcp-server-identifier', 'dhcp-parameter-request-list', 'dhcp-message', 'dhcp-max-message-size',
    'dhcp-renewal-time', 'dhcp-rebinding-time', 'vendor-class-identifier', 'dhcp-client-identifier',
    'nwip-domain-name', 'nwip-suboptions', 'nisplus-domain-name', 'nisplus-servers', 'tftp-server-name',
    'boot-file-name', 'mobile-ip-home-agent', 'smtp-server', 'pop-server', 'nntp-server', 'www-server',
    'finger-server', 'irc-server', 'streettalk-server', 'streettalk-directory-assistance-server', 'user-class',
    'slp-directory-agent', 'slp-service-scope', 'fqdn', 'dhcp-agent-options', 'nds-servers', 'nds-tree-name',
    'nds-context', 'bcms-controller-names', 'bcms-controller-address', 'authenticate',
    'client-last-transaction-time', 'associated-ip', 'client-system', 'client-ndi', 'uuid-guid', 'uap-servers',
    'geoconf-civic', 'pcode', 'tcode', 'netinfo-server-address', 'netinfo-server-tag', 'default-url',
    'auto-config', 'name-service-search', 'subnet-selection', 'domain-search', 'vivco-suboptions',
    'vivso-suboptions', 'pana-agent', 'v4-lost', 'capwap-ac-v4', 'sip-ua-cs-domains', 'rdnss-selection',
    'v4-portparams', 'v4-captive-portal', 'option-6rd', 'v4-access-domain',
))
# dhcpd's spelling -> Kea's, for the names that differ (dhcp-options(5) of 4.4 / std_option_defs.h).
RENAMED_OPTIONS = {
    'ien116-name-servers': 'name-servers',
    'nwip-domain': 'nwip-domain-name',
    'nisplus-domain': 'nisplus-domain-name',
    'nds-tree': 'nds-tree-name',
}


def _item(variable, severity, why, refused_by_kea):
    return {'variable': variable, 'severity': severity, 'why': why, 'refused_by_kea': bool(refused_by_kea)}


def _hba_buckets(hba):
    """How many of the 256 hash buckets an hba gives the primary (None: not an hba)."""
    if not _isc_dhcpd.HBA_RE.match(hba):
        return None
    return sum(bin(int(part, 16)).count('1') for part in hba.split(':'))


def _split_items(params, apart):
    items = []
    mode = params.get('dhcp_failover_mode')
    split = params.get('dhcp_failover_split')
    hba = params.get('dhcp_failover_hba') or None
    if mode != 'load_balance':
        return items
    if split is not None:
        if split == _isc_dhcpd.DEFAULT_SPLIT:
            items.append(_item('dhcp_failover_split', NOTE, 'split 128 is what Kea load-balancing does (every pool '
                               'split in halves, one per server); remove it from the Kea description',
                               'dhcp_failover_split' in apart))
        elif split >= 255:
            items.append(_item('dhcp_failover_split', LOSS, 'split %d puts (nearly) every client on the primary; Kea '
                               'load-balancing is always 50/50: set dhcp_failover_mode: hot_standby to keep all '
                               'clients on the primary (Kea hot-standby)' % split, 'dhcp_failover_split' in apart))
        else:
            items.append(_item('dhcp_failover_split', LOSS, 'split %d gives the primary %d/256 of the clients; Kea '
                               'load-balancing is always 50/50 (128/256)' % (split, split), 'dhcp_failover_split' in apart))
    if hba:
        buckets = _hba_buckets(hba)
        if buckets == 128:
            items.append(_item('dhcp_failover_hba', NOTE, 'an hba of 128 buckets is 50/50 like Kea load-balancing '
                               '(Kea picks its own halves of the hash buckets); remove it from the Kea description',
                               True))
        elif buckets is None:
            items.append(_item('dhcp_failover_hba', LOSS, '%r is not an hba (32 colon-separated hex bytes)' % (hba,), True))
        elif buckets == 256:
            items.append(_item('dhcp_failover_hba', NOTE, 'an all-primary hba is hot standby: set dhcp_failover_mode: '
                               'hot_standby for the Kea pair (Kea hot-standby serves every client from the primary)',
                               True))
        else:
            items.append(_item('dhcp_failover_hba', LOSS, 'an hba of %d/256 buckets for the primary; Kea '
                               'load-balancing is always 50/50' % buckets, True))
    return items


def _options_items(variable, options, definitions):
    items = []
    for name in sorted(options or {}):
        if name in definitions:
            continue
        if '.' in name:
            space = name.split('.', 1)[0]
            if space in ('agent', 'server', 'fqdn', 'nwip'):
                items.append(_item('%s.%s' % (variable, name), LOSS, 'option %s is in dhcpd\'s internal space %s, '
                                   'which Kea does not have' % (name, space), False))
            continue
        if name in RENAMED_OPTIONS:
            items.append(_item('%s.%s' % (variable, name), LOSS, 'dhcpd\'s option %s is %s in Kea: rename it in the '
                               'description' % (name, RENAMED_OPTIONS[name]), False))
        elif name == 'vendor-encapsulated-options':
            items.append(_item('%s.%s' % (variable, name), LOSS, 'Kea builds option 43 from an option space only '
                               '(vendor-encapsulated-options-space); a raw value is not carried', False))
        elif name not in KEA_STD_OPTIONS:
            items.append(_item('%s.%s' % (variable, name), LOSS, 'Kea has no standard option named %s (define it in '
                               'dhcp_failover_option_definitions, or kea-dhcp4 refuses the config)' % name, False))
    return items


def _raw_items(params, definitions):
    """Raw dhcpd text, and what the Kea rendering does not carry, in subnets, pools and reservations."""
    items = []
    raw_global = params.get('dhcp_failover_raw_global') or ''
    if raw_global.strip():
        items.append(_item('dhcp_failover_raw_global', LOSS, 'raw dhcpd statements have no Kea meaning: not carried',
                           True))
    items.extend(_options_items('dhcp_failover_global_options', params.get('dhcp_failover_global_options'), definitions))
    subnets = [('dhcp_failover_subnets[%d]' % index, subnet)
               for index, subnet in enumerate(params.get('dhcp_failover_subnets') or [])]
    for index, shared in enumerate(params.get('dhcp_failover_shared_networks') or []):
        variable = 'dhcp_failover_shared_networks[%d]' % index
        if shared.get('statements'):
            items.append(_item(variable + '.statements', LOSS, 'raw dhcpd statements: not carried', True))
        subnets.extend(('%s.subnets[%d]' % (variable, sub_index), subnet)
                       for sub_index, subnet in enumerate(shared.get('subnets') or []))
    for variable, subnet in subnets:
        if subnet.get('statements'):
            items.append(_item(variable + '.statements', LOSS, 'raw dhcpd statements: not carried', True))
        if subnet.get('vendor_option_space'):
            items.append(_item(variable + '.vendor_option_space', LOSS, 'vendor-encapsulated options (option 43) are '
                               'not rendered for Kea pairs yet: a Kea pair would not send them', True))
        items.extend(_options_items(variable + '.options', subnet.get('options'), definitions))
        for pool_index, pool in enumerate(subnet.get('pools') or []):
            pool_variable = '%s.pools[%d]' % (variable, pool_index)
            if pool.get('statements'):
                items.append(_item(pool_variable + '.statements', LOSS, 'raw dhcpd statements: not carried', True))
            if pool.get('vendor_option_space'):
                items.append(_item(pool_variable + '.vendor_option_space', LOSS, 'vendor-encapsulated options (option '
                                   '43) are not rendered for Kea pairs yet', True))
            for field in ('next_server', 'filename'):
                if pool.get(field):
                    items.append(_item('%s.%s' % (pool_variable, field), LOSS, 'a Kea pool has no %s of its own (Kea '
                                       'sets it per subnet or reservation): move it to the subnet' % field, True))
            items.extend(_options_items(pool_variable + '.options', pool.get('options'), definitions))
    for index, item in enumerate(params.get('dhcp_failover_reservations') or []):
        variable = 'dhcp_failover_reservations[%d]' % index
        if item.get('statements'):
            items.append(_item(variable + '.statements', LOSS, 'raw dhcpd statements: not carried', True))
        if item.get('vendor_option_space'):
            items.append(_item(variable + '.vendor_option_space', LOSS, 'vendor-encapsulated options (option 43) are '
                               'not rendered for Kea pairs yet', True))
        items.extend(_options_items(variable + '.options', item.get('options'), definitions))
    return items


def report(params, options=None):
    """Every part of one peer's validated parameters that a Kea pair does not carry (list of items)."""
    options = options if options is not None else _role_spec.load_options()
    isc_only = tuple(_isc_dhcpd.VARIABLES) + ISC_ONLY_FILES
    apart = set(apart_from_default(options, params, isc_only))
    definitions = set(item['name'] for item in params.get('dhcp_failover_option_definitions') or [])
    items = _split_items(params, apart)
    if params.get('dhcp_failover_ddns_update_style', 'none') != 'none':
        items.append(_item('dhcp_failover_ddns_update_style', LOSS, 'dynamic DNS updates (%s): a Kea pair needs '
                           'kea-dhcp-ddns for them, which this collection does not deploy: DNS would no longer be '
                           'updated' % params['dhcp_failover_ddns_update_style'], True))
    if params.get('dhcp_failover_ping_check', True):
        items.append(_item('dhcp_failover_ping_check', NOTE, 'Kea (2.2, 2.6 as rendered) does not ping an address '
                           'before offering it; a conflict shows up only when the client declines the address',
                           'dhcp_failover_ping_check' in apart))
    else:
        items.append(_item('dhcp_failover_ping_check', NOTE, 'Kea does not ping before offering either: nothing '
                           'changes; remove it from the Kea description', 'dhcp_failover_ping_check' in apart))
    if params.get('dhcp_failover_omapi_enabled'):
        items.append(_item('dhcp_failover_omapi_enabled', NOTE, OMAPI_NOTE, 'dhcp_failover_omapi_enabled' in apart))
    items.append(_item('dhcp_failover_mclt', NOTE, NOTES['dhcp_failover_mclt'], 'dhcp_failover_mclt' in apart))
    # Every other dhcpd-only variable set apart from its default: the Kea backend refuses it as set.
    listed = set(item['variable'] for item in items)
    for name in isc_only:
        if name not in apart or name in listed:
            continue
        if name.startswith('dhcp_failover_omapi_') or name == 'dhcp_failover_firewall_extra_omapi_sources':
            items.append(_item(name, NOTE, OMAPI_NOTE, True))
        elif name == 'dhcp_failover_raw_global':
            continue        # reported with the raw text below
        else:
            items.append(_item(name, NOTE, NOTES.get(name, 'an ISC dhcpd setting with no Kea meaning'), True))
    items.extend(_raw_items(params, definitions))
    return items


def apart_from_default(options, params, names):
    """The names among ``names`` whose validated value is not the spec's default (the rule of
    ``_role_spec.set_apart_from_default`` on branch kea-render, by which the Kea backend refuses them)."""
    return [name for name in names if name in options and name in params and params[name] != options[name].get('default')]


# Kea load-balancing lets a client use only its own server's half of each pool (split by address,
# client classes HA_<server>), and picks the server by a hash of the client; dhcpd handed out free
# and backup addresses from the whole range. The cutover gives each carried address whose client
# the other server serves a one-address pool of that server (module_utils/_kea_pools.py), so every
# client keeps its address (molecule/migrate). Added by migrate_preview for a load-balancing target.
LB_ADDRESS_ITEM = {
    'variable': 'dhcp_failover_mode', 'severity': NOTE, 'refused_by_kea': False,
    'why': 'load_balance: Kea splits every pool into two halves by address and gives each client to the server '
           'its hash picks, while dhcpd gave out addresses from the whole range; each carried address whose client '
           'the other server serves gets a one-address pool of that server in kea-dhcp4.conf (marked in its '
           'user-context, kept by later runs), so that every client keeps its address',
}


def losses(items):
    return [item for item in items if item['severity'] == LOSS]


def lines(pair, items):
    """The report for a human: one line per item, losses first."""
    ordered = sorted(items, key=lambda item: (item['severity'] != LOSS, item['variable']))
    result = []
    for item in ordered:
        tail = ' (the Kea backend refuses it as set: dropped once accepted)' if item['refused_by_kea'] else ''
        result.append('pair %s, %s: %s: %s%s' % (pair, item['variable'], item['severity'], item['why'], tail))
    return result
