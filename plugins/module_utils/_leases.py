# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module_utils is private to the dhcp.failover collection. Its interface can change
# at any time; do not use it from outside the collection.

"""The ``failover peer "NAME" state { ... }`` blocks of an ISC dhcpd 4.4 leases file."""

from __future__ import annotations

import re

_BLOCK_START_RE = re.compile(r'^failover peer "(?P<peer>(?:[^"\\]|\\.)*)" state \{\s*$')
# "my state normal at 2 2026/11/24 15:54:22;" (weekday number, then UTC date and time)
_STATE_RE = re.compile(
    r'^\s*(?P<who>my|partner) state (?P<state>[a-z-]+) at '
    r'(?:(?P<never>never)|\d+ (?P<date>\d{4}/\d{2}/\d{2}) (?P<time>\d{2}:\d{2}:\d{2}))\s*;\s*$')
_MCLT_RE = re.compile(r'^\s*mclt (?P<mclt>\d+)\s*;\s*$')


def _iso(date, time):
    return '%sT%sZ' % (date.replace('/', '-'), time)


def parse_leases(lines):
    """Latest state block of every failover peer in a leases file.

    dhcpd appends a new block on every state change and rewrites the file from time to time,
    so the last block of a peer is its current record. Note that dhcpd writes the block before
    it syncs with its partner: the file can lag behind the state dhcpd logs.

    ``lines`` is any iterable of text lines (an open file works). Returns
    ``{peer: {my_state, my_state_since, partner_state, partner_state_since, mclt}}``.
    """
    peers = {}
    current = None
    for line in lines:
        if current is None:
            match = _BLOCK_START_RE.match(line)
            if match:
                current = {'my_state': None, 'my_state_since': None, 'partner_state': None,
                           'partner_state_since': None, 'mclt': None}
                peers[match.group('peer')] = current
            continue
        if line.strip() == '}':
            current = None
            continue
        match = _STATE_RE.match(line)
        if match:
            prefix = match.group('who')
            current[prefix + '_state'] = match.group('state')
            current[prefix + '_state_since'] = None if match.group('never') else _iso(match.group('date'), match.group('time'))
            continue
        match = _MCLT_RE.match(line)
        if match:
            current['mclt'] = int(match.group('mclt'))
    return peers


def read_leases(path):
    """``parse_leases`` of the file at ``path``."""
    with open(path, 'r', encoding='utf-8', errors='replace') as handle:
        return parse_leases(handle)
