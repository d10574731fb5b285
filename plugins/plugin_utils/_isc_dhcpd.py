# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What is ISC dhcpd's own in a pair: the failover peer block, OMAPI, global statements.

PRIVATE controller-side code of the dhcp.failover collection; its interface may change without
notice.  ``settings()`` checks the dhcpd-only settings of a pair (what the argument spec cannot:
numeric limits, split and hba, the peer name); ``check_host()`` checks one host's files against
Debian's AppArmor profile for dhcpd; ``host_view()`` joins them with the backend-neutral
description (``_pair_model``) into the view of one host that ``dhcpd.conf.j2`` renders.
"""

from __future__ import annotations

import posixpath
import re

from ansible_collections.dhcp.failover.plugins.plugin_utils import _role_spec
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError

NAME_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$')
HBA_RE = re.compile(r'^([0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$')

# The dhcpd-only variables (the Kea backend refuses them when they are set to anything but their default).
VARIABLES = (
    'dhcp_failover_peer_name', 'dhcp_failover_split', 'dhcp_failover_hba', 'dhcp_failover_mclt',
    'dhcp_failover_max_response_delay', 'dhcp_failover_max_unacked_updates',
    'dhcp_failover_load_balance_max_seconds', 'dhcp_failover_auto_partner_down',
    'dhcp_failover_max_lease_misbalance', 'dhcp_failover_max_lease_ownership',
    'dhcp_failover_min_balance', 'dhcp_failover_max_balance',
    'dhcp_failover_omapi_enabled', 'dhcp_failover_omapi_port', 'dhcp_failover_omapi_key_name',
    'dhcp_failover_omapi_algorithm', 'dhcp_failover_omapi_secret', 'dhcp_failover_ddns_update_style',
    'dhcp_failover_ping_check', 'dhcp_failover_raw_global',
)
# The split when neither dhcp_failover_split nor dhcp_failover_hba is set (load_balance).
DEFAULT_SPLIT = 128
BOUNDS = {
    'dhcp_failover_split': (0, 256),
    'dhcp_failover_mclt': (1, None),
    'dhcp_failover_max_response_delay': (1, None),
    'dhcp_failover_max_unacked_updates': (1, None),
    'dhcp_failover_load_balance_max_seconds': (1, None),
    'dhcp_failover_auto_partner_down': (0, None),
    'dhcp_failover_omapi_port': (1, 65535),
    # dhcpd reads these with atoi() into unsigned 32-bit fields (confpars.c) and replaces 0 by its
    # default, so 0 never means 0; the percentages are of a pool's free + backup leases.
    'dhcp_failover_max_lease_misbalance': (1, 100),
    'dhcp_failover_max_lease_ownership': (1, 100),
    'dhcp_failover_min_balance': (1, 2147483647),
    'dhcp_failover_max_balance': (1, 2147483647),
}
# The pool-balance statements of the failover peer block, with dhcpd's values when one is not
# written (includes/failover.h, 4.4.3-P1).  Each server balances its own side of every pool with
# its own values (failover.c, dhcp_failover_pool_dobalance); nothing of them crosses the failover
# link, so the role writes them on both peers.
POOL_BALANCE = (
    ('dhcp_failover_max_lease_misbalance', 'max-lease-misbalance', 15),
    ('dhcp_failover_max_lease_ownership', 'max-lease-ownership', 10),
    ('dhcp_failover_min_balance', 'min-balance', 60),
    ('dhcp_failover_max_balance', 'max-balance', 3600),
)


# The Kea-only variables (plugins/plugin_utils/_kea.py, VARIABLES): a dhcpd pair refuses them when set.
KEA_VARIABLES = (
    'dhcp_failover_kea_heartbeat_delay', 'dhcp_failover_kea_max_response_delay', 'dhcp_failover_kea_max_ack_delay',
    'dhcp_failover_kea_max_unacked_clients', 'dhcp_failover_kea_ha_port', 'dhcp_failover_kea_config_file',
    'dhcp_failover_kea_lease_file', 'dhcp_failover_kea_control_socket', 'dhcp_failover_kea_hooks_dir',
    'dhcp_failover_kea_service', 'dhcp_failover_kea_packages',
)


def refuse_kea_settings(pair, host_params):
    """A dhcpd pair refuses every Kea-only variable set to anything but its default (not ignored)."""
    options = _role_spec.load_options()
    for host in sorted(host_params or {}):
        found = _role_spec.set_apart_from_default(options, host_params[host], KEA_VARIABLES)
        if found:
            raise PairError(pair, host, found[0], 'is a Kea setting; an ISC dhcpd pair (dhcp_failover_backend='
                            'isc_dhcpd) does not use it: remove it, or set dhcp_failover_backend: kea for the pair')


def settings(check, pair, params, description, host_params=None):
    """The dhcpd settings of a pair (from one peer's parameters; the peers agree).

    ``host_params``: {host: validated parameters} of both peers, for the Kea-only variables each may set.
    """
    refuse_kea_settings(pair, host_params)
    check.bounds(params, BOUNDS)
    peer_name = params.get('dhcp_failover_peer_name') or pair
    check.name('dhcp_failover_peer_name', peer_name,
               'failover peer name (letters, digits, dot, dash, underscore; at most 63)')
    mode = description['mode']
    split = params.get('dhcp_failover_split')
    hba = params.get('dhcp_failover_hba') or None
    if hba:
        if not HBA_RE.match(hba):
            check.fail('dhcp_failover_hba', '%r is not a valid hba (32 colon-separated hex bytes)' % (hba,))
        if mode == 'hot_standby':
            check.fail('dhcp_failover_hba', 'hba is a load_balance setting; hot_standby always writes split 256')
    if split is not None:
        if mode == 'hot_standby':
            check.fail('dhcp_failover_split', 'split %d is a load_balance setting; hot_standby always writes '
                       'split 256 (remove dhcp_failover_split)' % split)
        if hba:
            # dhcpd turns a split into an hba, and the statement written last replaces the other
            # (confpars.c); `dhcpd -t` accepts both in either order (lab image, 4.4.3-P1).
            check.fail('dhcp_failover_split', 'split %d is set together with dhcp_failover_hba; dhcpd uses '
                       'one of them and ignores the other: set only one' % split)
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
    balance = pool_balance(check, params)
    return {
        'peer_name': peer_name,
        'split': 256 if mode == 'hot_standby' else (DEFAULT_SPLIT if split is None else split),
        'hba': hba,
        'mclt': params['dhcp_failover_mclt'],
        'max_response_delay': params['dhcp_failover_max_response_delay'],
        'max_unacked_updates': params['dhcp_failover_max_unacked_updates'],
        'load_balance_max_seconds': params['dhcp_failover_load_balance_max_seconds'],
        'auto_partner_down': params['dhcp_failover_auto_partner_down'],
        'pool_balance': balance,
        'omapi': omapi,
        'authoritative': bool(params['dhcp_failover_authoritative']),
        'ping_check': bool(params['dhcp_failover_ping_check']),
        'ddns_update_style': params['dhcp_failover_ddns_update_style'],
        'raw_global': raw_global,
    }


def pool_balance(check, params):
    """The pool-balance statements set for a pair, as [(keyword, value)] in dhcpd.conf order.

    Unset ones are not written (dhcpd then uses its defaults).  Two combinations are refused
    because dhcpd does not do what they say, compared with dhcpd's defaults where one side is unset:
    an ownership above the misbalance (after each balance run the server still sees more than
    the misbalance and logs `IMBALANCED pool`, its peer sends a POOLREQ at every run and is
    answered `Got POOLREQ, answering negatively!`; measured in the lab), and a min-balance above
    the max-balance (dhcpd schedules a run no later than max-balance seconds ahead, then moves it
    to min-balance after the last run: min-balance wins).
    """
    value = dict((name, params.get(name)) for name, _keyword, _default in POOL_BALANCE)
    effective = dict((name, default if value[name] is None else value[name])
                     for name, _keyword, default in POOL_BALANCE)

    def spell(name):
        return '%d' % value[name] if value[name] is not None else "%d (dhcpd's default)" % effective[name]

    ownership, misbalance = 'dhcp_failover_max_lease_ownership', 'dhcp_failover_max_lease_misbalance'
    if (value[ownership] is not None or value[misbalance] is not None) and \
            effective[ownership] > effective[misbalance]:
        check.fail(ownership if value[ownership] is not None else misbalance,
                   'max-lease-ownership %s is above max-lease-misbalance %s: after every balance run the '
                   'server that keeps its share logs "IMBALANCED pool" and its peer asks for leases '
                   '(POOLREQ) that it never gets; set dhcp_failover_max_lease_misbalance to at least '
                   'dhcp_failover_max_lease_ownership' % (spell(ownership), spell(misbalance)))
    low, high = 'dhcp_failover_min_balance', 'dhcp_failover_max_balance'
    if (value[low] is not None or value[high] is not None) and effective[low] > effective[high]:
        check.fail(low if value[low] is not None else high,
                   'min-balance %s is above max-balance %s: dhcpd never balances sooner than min-balance '
                   'seconds after its last run, so max-balance would not be kept; set '
                   'dhcp_failover_min_balance at most dhcp_failover_max_balance' % (spell(low), spell(high)))
    return [(keyword, value[name]) for name, keyword, _default in POOL_BALANCE if value[name] is not None]


# ---------------------------------------------------------------------------------------------
# Files dhcpd opens, and Debian's AppArmor profile for it

# The file rules of /etc/apparmor.d/usr.sbin.dhcpd as isc-dhcp-server 4.4.3-P1-2 (Debian 12)
# ships it (read in the lab image: docker run --rm dhcp-failover-lab:latest cat
# /etc/apparmor.d/usr.sbin.dhcpd), in its own order, directories and /proc left out; its
# abstractions (base, nameservice, ssl_keys) grant nothing a dhcpd.conf, a key or a lease file
# belongs in, and its local/usr.sbin.dhcpd and dhcpd.d are empty there.  The role checks
# dhcpd.conf with `dhcpd -t` on a copy in /etc/dhcp, so a file outside these rules passes that
# check and is then denied to the service: both peers would fail to start.
APPARMOR_PROFILE = '/etc/apparmor.d/usr.sbin.dhcpd'
APPARMOR_RULES = (
    ('/etc/hosts.allow', 'r'),
    ('/etc/hosts.deny', 'r'),
    ('/etc/dhcp/**', 'r'),
    ('/etc/dhcpd{,6}.conf', 'r'),
    ('/etc/dhcpd{,6}_ldap.conf', 'r'),
    ('/usr/sbin/dhcpd', 'mr'),
    ('/var/lib/dhcp/dhcpd{,6}.leases*', 'lrw'),
    ('/var/log/**', 'rw'),
    ('/{,var/}run/{,dhcp-server/}dhcpd{,6}.pid', 'rw'),
    ('/etc/ldap/ldap.conf', 'r'),
    ('/etc/ltsp/**', 'r'),
    ('/etc/dhcpd{,6}-k12ltsp.conf', 'r'),
    ('/etc/dhcpd{,6}.leases*', 'lrw'),
    ('/ltsp/**', 'r'),
    ('/{,var/}run/eucalyptus/net/**', 'r'),
    ('/{,var/}run/eucalyptus/net/*.pid', 'lrw'),
    ('/{,var/}run/eucalyptus/net/*.leases*', 'lrw'),
    ('/{,var/}run/eucalyptus/net/*.trace', 'lrw'),
    ('/var/lib/wicd/*', 'r'),
    ('/etc/dhcp/ddns-keys/**', 'r'),
)


def apparmor_regex(pattern):
    """A regular expression for an AppArmor path glob: ``**`` crosses ``/``, ``*`` and ``?`` do
    not, ``{a,b}`` is either, ``[...]`` a character class."""
    out, index, depth = [], 0, 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith('**', index):
            out.append('.*')
            index += 2
            continue
        if char == '*':
            out.append('[^/]*')
        elif char == '?':
            out.append('[^/]')
        elif char == '{':
            out.append('(?:')
            depth += 1
        elif char == '}' and depth:
            out.append(')')
            depth -= 1
        elif char == ',' and depth:
            out.append('|')
        elif char == '[':
            end = pattern.index(']', index)
            out.append(pattern[index:end + 1])
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile('^%s$' % ''.join(out))


_APPARMOR = [(apparmor_regex(pattern), pattern, modes) for pattern, modes in APPARMOR_RULES]


def apparmor_allows(path, modes):
    """Whether one rule of the profile grants every mode of ``modes`` (``r``, ``w``, ``l``) on ``path``."""
    return any(regex.match(path) and set(modes) <= set(granted) for regex, _pattern, granted in _APPARMOR)


def check_host(check, params, description):
    """The files dhcpd itself opens on this host lie where AppArmor lets it open them.

    dhcpd reads its config and the OMAPI key it includes; it rewrites its lease file by writing
    NAME.<time>, linking NAME to NAME~ and renaming the new file to NAME (db.c, new_lease_file),
    so it needs r, w and l on all three.
    """
    files = [('dhcp_failover_config_file', 'r', 'read', 'under /etc/dhcp/ (or /etc/dhcpd.conf)')]
    if params.get('dhcp_failover_omapi_enabled'):
        files.append(('dhcp_failover_omapi_key_file', 'r', 'read', 'under /etc/dhcp/'))
    files.append(('dhcp_failover_lease_file', 'lrw', 'write and link',
                  'at /var/lib/dhcp/dhcpd.leases (dhcpd.leases* there)'))
    for variable, modes, verb, where in files:
        value = params.get(variable)
        if not value:
            continue
        path = posixpath.normpath(str(value))
        if not posixpath.isabs(path):
            check.fail(variable, '%r is not an absolute path' % (value,))
        needed = [path]
        if 'w' in modes:
            needed += [path + '.1700000000', path + '~']
        denied = [item for item in needed if not apparmor_allows(item, modes)]
        if denied:
            check.fail(variable, '%s is not a file dhcpd may %s: Debian\'s AppArmor profile for dhcpd (%s) '
                       'denies it, so dhcpd would fail to start on it (`dhcpd -t`, run by the role on a copy '
                       'in /etc/dhcp, does not see this). Keep it %s'
                       % (denied[0], verb, APPARMOR_PROFILE, where))


def host_view(description, dhcpd, host, host_params=None):
    """One host's view of its pair, flat, as the role's template and the playbooks read it."""
    local = (host_params or {}).get(host) or {}
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
        # The unit the playbooks start, stop and read, under the same key for every backend.
        'service': local.get('dhcp_failover_service', 'isc-dhcp-server'),
        'control_socket': None,
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
