# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Kea's memfile lease file (kea-leases4.csv) read, and dhcpd.leases written from it: the way back
of the dhcpd -> Kea migration (dhcp.failover.migrate with dhcp_failover_migrate_revert, issue 15).

PRIVATE controller-side code of the dhcp.failover collection; its interface may change without notice.

- ``parse_csv(text)``: the rows of one kea-leases4.csv (Kea 2.2 or 2.6 header).  Kea appends a row
  for every change of a lease (a new lease, a renewal, a release, a reclamation) and writes a
  deleted lease as a row with valid_lifetime 0, so the last row of an address wins.
- ``merge(texts)``: {address: row} over the files of one or several servers (``.csv.2``, ``.csv.1``
  and ``.csv`` of each, in that order: Kea's lease file cleanup moves the old rows to ``.2``): per
  address the row with the later cltt (expire - valid_lifetime) wins, the later row for the same cltt.
- ``select(rows, now)``: the leases dhcpd must know (state 0 "default", not deleted, expire in the
  future) and the others by kind (deleted, expired, declined, expired-reclaimed) with why.
- ``dhcpd_leases(leases, now, peer=None, my_state=None)``: a dhcpd.leases text: one ``lease`` block
  per lease as dhcpd writes it (times ``W YYYY/MM/DD HH:MM:SS`` UTC, ``binding state active``,
  ``hardware ethernet``, ``uid`` as a quoted string with octal escapes, ``client-hostname``) and,
  with ``peer``, a ``failover peer "PEER" state`` block first that makes dhcpd start in ``my_state``
  (partner-down: the primary serves the whole pool at once, as dhcpd does after an OMAPI
  partner-down; measured in molecule/migrate).
- ``translate(texts, now, peer, mclt)``: the entry point of the dhcp.failover.revert_leases action.
"""

from __future__ import annotations

import ipaddress
import time

# Kea lease states (dhcpsrv/lease.h): 0 default, 1 declined, 2 expired-reclaimed (3 released in 2.6+).
STATES = {0: 'default', 1: 'declined', 2: 'expired-reclaimed', 3: 'released'}
REASONS = {
    'deleted': 'deleted by Kea (released with reclamation, or removed over lease4-del): no client holds it',
    'expired': 'its expire time has passed: no client holds it, dhcpd makes a free address of it',
    'declined': 'declined by a client (the address is in use by someone else): Kea keeps it out of use for '
                'decline-probation-period; not written as active (check the address by hand)',
    'expired-reclaimed': 'expired and reclaimed by Kea: no client holds it',
    'released': 'released by its client (Kea 2.6 state 3): no client holds it',
}
INFINITE = 0xffffffff


class CsvError(ValueError):
    """A kea-leases4.csv text that cannot be read (line number in the message)."""


def _unescape(value):
    # Kea's CSV escapes a comma inside a field as "&#x2c" (util/csv_file.cc).
    return value.replace('&#x2c', ',')


def parse_csv(text):
    """[row dict] of one kea-leases4.csv, in file order; an empty text gives []."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0].strip().split(',')
    for name in ('address', 'hwaddr', 'client_id', 'valid_lifetime', 'expire', 'subnet_id', 'hostname', 'state'):
        if name not in header:
            raise CsvError('line 1: not a Kea DHCPv4 memfile header (no %s): %r' % (name, lines[0][:120]))
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(',')
        if len(fields) != len(header):
            raise CsvError('line %d: %d fields, the header has %d: %r' % (number, len(fields), len(header), line[:120]))
        row = dict(zip(header, fields))
        try:
            ipaddress.IPv4Address(row['address'])
            row['valid_lifetime'] = int(row['valid_lifetime'])
            row['expire'] = int(row['expire'])
            row['subnet_id'] = int(row['subnet_id'])
            row['state'] = int(row['state'] or 0)
        except ValueError as exc:
            raise CsvError('line %d: %s: %r' % (number, exc, line[:120]))
        row['hostname'] = _unescape(row['hostname'])
        row['line'] = number
        rows.append(row)
    return rows


def _cltt(row):
    if row['valid_lifetime'] == INFINITE:
        return 0
    return row['expire'] - row['valid_lifetime']


def merge(texts):
    """{address: row}: the files in the order given (oldest first), per address the later cltt wins."""
    latest = {}
    order = 0
    for text in texts:
        for row in parse_csv(text):
            order += 1
            row['order'] = order
            known = latest.get(row['address'])
            if known is None or _cltt(row) >= _cltt(known):
                latest[row['address']] = row
    return latest


def _kind(row, now):
    if row['valid_lifetime'] == 0:
        return 'deleted'
    if row['state'] != 0:
        return STATES.get(row['state'], 'state %d' % row['state'])
    if row['valid_lifetime'] != INFINITE and row['expire'] <= now:
        return 'expired'
    return 'active'


def select(latest, now):
    """(active rows sorted by address, {kind: [{address, expire, reason}]})."""
    active, skipped = [], {}
    for address in sorted(latest, key=ipaddress.IPv4Address):
        row = latest[address]
        kind = _kind(row, now)
        if kind == 'active':
            active.append(row)
        else:
            skipped.setdefault(kind, []).append({'address': address, 'expire': row['expire'],
                                                 'reason': REASONS.get(kind, kind)})
    return active, skipped


def dhcpd_time(epoch):
    """dhcpd's default db-time-format: weekday (0 Sunday) and UTC date/time."""
    tm = time.gmtime(epoch)
    fields = ((tm.tm_wday + 1) % 7, tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
    return '%d %04d/%02d/%02d %02d:%02d:%02d' % fields


def dhcpd_string(data):
    """A dhcpd quoted string of bytes, as db.c writes a lease's uid: printable ASCII as is, others \\ooo."""
    out = []
    for byte in bytearray(data):
        if byte in (0x22, 0x5c):
            out.append('\\' + chr(byte))
        elif 0x20 <= byte < 0x7f:
            out.append(chr(byte))
        else:
            out.append('\\%03o' % byte)
    return '"%s"' % ''.join(out)


def _hex_to_bytes(value):
    return bytes(bytearray(int(item, 16) for item in value.split(':') if item != ''))


def lease_block(row):
    """One dhcpd.leases ``lease`` block of an active Kea lease."""
    lines = ['lease %s {' % row['address']]
    start = _cltt(row)
    lines.append('  starts %s;' % dhcpd_time(start))
    if row['valid_lifetime'] == INFINITE:
        lines.append('  ends never;')
    else:
        lines.append('  ends %s;' % dhcpd_time(row['expire']))
    lines.append('  cltt %s;' % dhcpd_time(start))
    lines.append('  binding state active;')
    lines.append('  next binding state expired;')
    lines.append('  rewind binding state free;')
    if row['hwaddr']:
        lines.append('  hardware ethernet %s;' % row['hwaddr'].lower())
    if row['client_id']:
        lines.append('  uid %s;' % dhcpd_string(_hex_to_bytes(row['client_id'])))
    if row['hostname']:
        lines.append('  client-hostname %s;' % dhcpd_string(row['hostname'].rstrip('.').encode('utf-8')))
    lines.append('}')
    return '\n'.join(lines)


def dhcpd_leases(leases, now, peer=None, my_state=None, partner_state='shutdown'):
    """A dhcpd.leases text for the active rows; with ``peer``, the failover state block first."""
    parts = ['# Written by dhcp.failover.migrate (revert to dhcpd) from Kea\'s lease files at %s UTC' % dhcpd_time(now)[2:]]
    if peer:
        parts.append('failover peer %s state {\n  my state %s at %s;\n  partner state %s at %s;\n}'
                     % (dhcpd_string(peer.encode('utf-8')), my_state, dhcpd_time(now), partner_state, dhcpd_time(now)))
    parts.extend(lease_block(row) for row in leases)
    return '\n\n'.join(parts) + '\n'


def translate(texts, now, peer=None, my_state='partner-down'):
    """Kea lease file texts (oldest first) -> the dhcpd.leases texts of a pair and the report.

    Returns ``primary`` (with the failover state block: dhcpd starts in ``my_state``), ``secondary``
    (the same leases, no state block: dhcpd starts in startup and syncs from its partner), ``leases``
    ([{address, hw-address, client-id, hostname, expire}]), ``counts`` ({kind: n}, written under
    ``active``) and ``report`` (lines for a human).
    """
    latest = merge(texts)
    active, skipped = select(latest, now)
    counts = dict((kind, len(items)) for kind, items in skipped.items())
    counts['active'] = len(active)
    report = ['%d active Kea lease(s) written to dhcpd.leases' % len(active)]
    for kind in sorted(skipped):
        report.append('%d %s lease(s) not written: %s' % (len(skipped[kind]), kind, REASONS.get(kind, kind)))
    return {
        'primary': dhcpd_leases(active, now, peer=peer, my_state=my_state),
        'secondary': dhcpd_leases(active, now),
        'leases': [{'address': row['address'], 'hw-address': row['hwaddr'] or None, 'client-id': row['client_id'] or None,
                    'hostname': row['hostname'] or None, 'expire': row['expire']} for row in active],
        'counts': counts,
        'skipped': skipped,
        'report': report,
    }
