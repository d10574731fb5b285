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

from ansible_collections.dhcp.failover.plugins.plugin_utils import _migration_report

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


def kea_settings(settings, items):
    """``settings`` with the backend changed to kea and the dropped items removed (a deep copy)."""
    result = copy.deepcopy(settings)
    for item in dropped(items):
        remove(result, item['variable'])
    result['dhcp_failover_backend'] = 'kea'
    return result
