# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Kea description of an ISC dhcpd pair (dhcpd -> Kea migration, issue 15 item 3).

PRIVATE controller-side code of the dhcp.failover collection; its interface may change without
notice.

``kea_settings(settings, items)`` takes one host's role variables (as ``pair_facts`` collects
them) and that host's migration report (``_migration_report.report``) and returns the same
description with ``dhcp_failover_backend: kea`` and, removed, every part the report lists as a
loss or as refused by the Kea backend: the losses the user accepted, and the dhcpd-only
settings that have no Kea meaning.  Nothing else changes.
"""

from __future__ import annotations

import copy
import re

from collections.abc import Mapping

from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_dhcpd, _migration_report
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError

_TOKEN = re.compile(r'\[(\d+)\]|\.([A-Za-z_][A-Za-z0-9_]*)')
# Dicts whose keys are option names (which may hold dots: agent.circuit-id).
OPTION_MAPS = ('options', 'dhcp_failover_global_options')


def parse_path(path):
    """'dhcp_failover_subnets[0].pools[1].options.agent.x' -> ['dhcp_failover_subnets', 0, 'pools', 1,
    'options', 'agent.x']."""
    match = re.match(r'[A-Za-z_][A-Za-z0-9_]*', path)
    if not match:
        raise ValueError('not a variable path: %r' % (path,))
    parts = [match.group(0)]
    rest = path[match.end():]
    while rest:
        if parts[-1] in OPTION_MAPS and isinstance(parts[-1], str) and rest.startswith('.'):
            parts.append(rest[1:])
            break
        token = _TOKEN.match(rest)
        if not token:
            raise ValueError('not a variable path: %r' % (path,))
        parts.append(int(token.group(1)) if token.group(1) is not None else token.group(2))
        rest = rest[token.end():]
    return parts


def remove(settings, path):
    """Remove what ``path`` names from ``settings`` (in place); False when it is not there."""
    parts = parse_path(path)
    node = settings
    for part in parts[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    try:
        del node[parts[-1]]
    except (KeyError, IndexError, TypeError):
        return False
    return True


def dropped(items):
    """The report items the Kea description leaves out: every loss, and what the Kea backend refuses."""
    return [item for item in items if item['severity'] == _migration_report.LOSS or item['refused_by_kea']]


# The Kea-only variables of the pair after the migration (HA timers, port, files): an ISC pair
# refuses dhcp_failover_kea_* as set (dhcpd does not use them), so the migration takes them from
# this one variable, e.g. {dhcp_failover_kea_heartbeat_delay: 2000}; the Kea backend checks them.
KEA_SETTINGS_VARIABLE = 'dhcp_failover_migrate_kea_settings'


def kea_only_settings(pair, host, value):
    """The Kea-only variables ``host`` sets for its Kea pair (KEA_SETTINGS_VARIABLE), checked by name."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PairError(pair, host, KEA_SETTINGS_VARIABLE, 'must be a mapping of dhcp_failover_kea_* variables, got %s'
                        % type(value).__name__)
    for name in value:
        if name not in _isc_dhcpd.KEA_VARIABLES:
            raise PairError(pair, host, KEA_SETTINGS_VARIABLE, '%r is not a Kea-only variable of the role (one of %s)'
                            % (name, ', '.join(_isc_dhcpd.KEA_VARIABLES)))
    return dict(value)


def kea_settings(settings, items):
    """``settings`` with the backend changed to kea and the dropped items removed (a deep copy)."""
    result = copy.deepcopy(settings)
    for item in dropped(items):
        remove(result, item['variable'])
    result['dhcp_failover_backend'] = 'kea'
    return result
