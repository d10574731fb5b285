# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What is ISC dhcpd's own in a pair: the failover peer block, OMAPI, global statements.

PRIVATE controller-side code of the dhcp.failover collection; its interface may change without
notice.  ``settings()`` checks the dhcpd-only settings of a pair (what the argument spec cannot:
numeric limits, hba, the peer name); ``host_view()`` joins them with the backend-neutral
description (``_pair_model``) into the view of one host that ``dhcpd.conf.j2`` renders.
"""

from __future__ import annotations

import re

NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$')
HBA_RE = re.compile(r'^([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$')

# The dhcpd-only variables (a later backend refuses them when they are set).
VARIABLES = (
    'dhcp_failover_peer_name', 'dhcp_failover_split', 'dhcp_failover_hba', 'dhcp_failover_mclt',
    'dhcp_failover_max_response_delay', 'dhcp_failover_max_unacked_updates',
    'dhcp_failover_load_balance_max_seconds', 'dhcp_failover_auto_partner_down',
    'dhcp_failover_omapi_enabled', 'dhcp_failover_omapi_port', 'dhcp_failover_omapi_key_name',
    'dhcp_failover_omapi_algorithm', 'dhcp_failover_omapi_secret', 'dhcp_failover_ddns_update_style',
    'dhcp_failover_authoritative', 'dhcp_failover_ping_check', 'dhcp_failover_raw_global',
)
BOUNDS = {
    'dhcp_failover_split': (0, 256),
    'dhcp_failover_mclt': (1, None),
    'dhcp_failover_max_response_delay': (1, None),
    'dhcp_failover_max_unacked_updates': (1, None),
    'dhcp_failover_load_balance_max_seconds': (1, None),
    'dhcp_failover_auto_partner_down': (0, None),
    'dhcp_failover_omapi_port': (1, 65535),
}


def settings(check, pair, params, description):
    """The dhcpd settings of a pair (from one peer's parameters; the peers agree)."""
    check.bounds(params, BOUNDS)
    peer_name = params.get('dhcp_failover_peer_name') or pair
    check.name('dhcp_failover_peer_name', peer_name,
               'failover peer name (letters, digits, dot, dash, underscore; at most 63)')
    mode = description['mode']
    hba = params.get('dhcp_failover_hba') or None
    if hba:
        if not HBA_RE.match(hba):
            check.fail('dhcp_failover_hba', '%r is not a valid hba (32 colon-separated hex bytes)' % (hba,))
        if mode == 'hot_standby':
            check.fail('dhcp_failover_hba', 'hba is a load_balance setting; hot_standby always writes split 256')
    omapi = {
        'enabled': bool(params['dhcp_failover_omapi_enabled']),
        'port': params['dhcp_failover_omapi_port'],
        'key_name': check.name('dhcp_failover_omapi_key_name', params['dhcp_failover_omapi_key_name'], 'key name'),
        'algorithm': params['dhcp_failover_omapi_algorithm'],
    }
    if omapi['enabled']:
        for host in description['hosts']:
            if description['peers'][host]['port'] == omapi['port']:
                check.fail('dhcp_failover_omapi_port', 'OMAPI port %d is also the failover port of %s'
                           % (omapi['port'], host))
    raw_global = params.get('dhcp_failover_raw_global') or ''
    return {
        'peer_name': peer_name,
        'split': 256 if mode == 'hot_standby' else params['dhcp_failover_split'],
        'hba': hba,
        'mclt': params['dhcp_failover_mclt'],
        'max_response_delay': params['dhcp_failover_max_response_delay'],
        'max_unacked_updates': params['dhcp_failover_max_unacked_updates'],
        'load_balance_max_seconds': params['dhcp_failover_load_balance_max_seconds'],
        'auto_partner_down': params['dhcp_failover_auto_partner_down'],
        'omapi': omapi,
        'authoritative': bool(params['dhcp_failover_authoritative']),
        'ping_check': bool(params['dhcp_failover_ping_check']),
        'ddns_update_style': params['dhcp_failover_ddns_update_style'],
        'raw_global': raw_global,
    }


def host_view(description, dhcpd, host):
    """One host's view of its pair, flat, as the role's template and the playbooks read it."""
    partner = [other for other in description['hosts'] if other != host][0]
    me, peer = description['peers'][host], description['peers'][partner]
    view = dict(dhcpd)
    view.update({
        # The pair's MCLT on both peers (for timeouts), while `mclt` follows dhcpd.conf.
        'pair_mclt': dhcpd['mclt'],
        'backend': 'isc_dhcpd',
        'pair': description['pair'],
        'host': host,
        'role': me['role'],
        'partner_host': partner,
        'partner_role': peer['role'],
        'address': me['address'],
        'port': me['port'],
        'peer_address': peer['address'],
        'peer_port': peer['port'],
        'interfaces': me['interfaces'],
        'firewall': me['firewall'],
        'mode': description['mode'],
        'default_lease_time': description['default_lease_time'],
        'max_lease_time': description['max_lease_time'],
        'global_options': description['global_options'],
        'option_definitions': [dict(item, dhcpd_type=option_type(item))
                               for item in description['option_definitions']],
        'option_spaces': description['option_spaces'],
        'subnets': description['subnets'],
        'shared_networks': description['shared_networks'],
        'reservations': description['reservations'],
    })
    if me['role'] != 'primary':
        # dhcpd wants split/hba and mclt on the primary only.
        view.update({'split': None, 'hba': None, 'mclt': None})
    elif view['hba']:
        view['split'] = None
    return view


def option_type(definition):
    """dhcpd's spelling of a neutral option type (``option NAME code N = TYPE;``)."""
    kind = definition['type']
    words = {
        'boolean': 'boolean', 'ipv4-address': 'ip-address', 'text': 'text', 'binary': 'string',
    }.get(kind)
    if words is None:
        sign = 'signed' if kind.startswith('int') else 'unsigned'
        words = '%s integer %s' % (sign, re.sub(r'[^0-9]', '', kind))
    return 'array of %s' % words if definition.get('array') else words
