# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ISC dhcpd's lease file (dhcpd.leases, dhcpd 4.4) read, and what of it a Kea server takes over.

PRIVATE controller-side code of the dhcp.failover collection (groundwork of the dhcpd -> Kea
migration, issue 15); its interface may change without notice.

- ``parse(text)``: every statement of a dhcpd.leases file: ``lease`` blocks (times, binding
  states, hardware, uid in both forms, client-hostname, ``set``/``on`` statements, flags),
  ``host`` blocks (reservations made over OMAPI are stored there; hosts of dhcpd.conf are not),
  ``failover peer ... state`` blocks, ``server-duid``, ``authoring-byte-order``.  dhcpd appends
  every change of a lease to the file, so the last entry of an address wins.
- ``select(parsed, kea_config, now)``: the leases to carry to Kea (``lease4-add`` arguments) and
  what is left behind, by kind, each with why.
- ``csv_header(version)`` / ``csv_rows(leases, version)``: the same leases as rows of Kea's memfile
  lease file (``kea-leases4.csv``), header as Kea 2.2 and 2.6 write it.
- ``translate(leases_text, kea_config, now)``: the entry point for a later playbook.

What dhcpd writes (db.c, 4.4.3-P1, and the captures in tests/unit/fixtures/leases/migration):
times as ``W YYYY/MM/DD HH:MM:SS`` in UTC (or ``epoch N`` with ``db-time-format local``, or
``never``); a lease's ``uid`` always as a quoted string, non-printable bytes as octal escapes
(``"\\001\\002..."``); a host's client id as colon-separated hex when it is not printable.
"""

from __future__ import annotations

import calendar
import ipaddress
import re

# Binding states of dhcpd 4.4 (common/tables.c binding_state_names).
BINDING_STATES = ('free', 'active', 'expired', 'released', 'abandoned', 'reset', 'backup')
TIME_FIELDS = ('starts', 'ends', 'tstp', 'tsfp', 'atsfp', 'cltt')
# Kea's valid-lft for a lease that never ends (dhcpd `ends never;`): Kea's infinite lifetime.
INFINITE = 0xffffffff

# Why each kind of binding is not carried (the report says it, with the count).
REASONS = {
    'expired': 'expired: its lease ended; no client holds it, and Kea makes a free address of it anyway',
    'ended': 'active in the file but its ends time has passed (dhcpd had not yet moved it to expired): no client '
             'holds it any more; carried as nothing, the address is free for Kea',
    'free': 'free: an unused address of the primary\'s half; Kea has no free-lease entries (its pools are its '
            'free addresses)',
    'backup': 'backup: an unused address of the secondary\'s half; Kea has no free-lease entries (its pools are '
              'its free addresses)',
    'released': 'released: the client gave it back (DHCPRELEASE); no client holds it',
    'reset': 'reset: an operator freed it over OMAPI; no client holds it',
    'abandoned': 'abandoned: dhcpd found the address in use by a host without a lease (ping answered) or a '
                 'client declined it; not carried: Kea would hand it out again at once, without ping, since it '
                 'keeps declined addresses only for decline-probation-period (a Kea lease in state 1, '
                 '"declined", is the equivalent); check the address by hand and free it in dhcpd first',
    'no_subnet': 'active, but its address is in no subnet of the Kea config: Kea would refuse it (lease4-add '
                 'needs a subnet)',
    'reserved_elsewhere': 'active, but the Kea config reserves its address for another client: Kea would refuse '
                          'it or the reservation would not work',
    'reserved_flag': 'marked "reserved" (an OMAPI lease reservation) without being active: Kea has no such lease '
                     'flag; describe it as a reservation (dhcp_failover_reservations) instead',
}

_TOKEN_RE = re.compile(r'''
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<punct>[{};=,])
  | (?P<word>[^\s{};=,"\#]+)
''', re.VERBOSE | re.DOTALL)


class LeaseFileError(ValueError):
    """A dhcpd.leases text that cannot be read (line number in the message)."""


def _unquote(token):
    """The bytes of a dhcpd quoted string: \\ooo octal, \\xHH hex, \\t \\n \\r, \\" and \\\\."""
    body = token[1:-1]
    out = bytearray()
    index = 0
    while index < len(body):
        char = body[index]
        if char != '\\':
            out.extend(char.encode('utf-8'))
            index += 1
            continue
        nxt = body[index + 1:index + 2]
        octal = re.match(r'[0-7]{1,3}', body[index + 1:])
        if octal:
            out.append(int(octal.group(0), 8) & 0xff)
            index += 1 + len(octal.group(0))
        elif nxt == 'x' and re.match(r'[0-9a-fA-F]{1,2}', body[index + 2:]):
            digits = re.match(r'[0-9a-fA-F]{1,2}', body[index + 2:]).group(0)
            out.append(int(digits, 16))
            index += 2 + len(digits)
        else:
            out.extend({'t': b'\t', 'n': b'\n', 'r': b'\r'}.get(nxt, nxt.encode('utf-8')))
            index += 2
    return bytes(out)


def tokens(text):
    """(kind, value, line) of every token; comments and spaces dropped."""
    line = 1
    position = 0
    result = []
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if not match:
            raise LeaseFileError('line %d: cannot read %r' % (line, text[position:position + 20]))
        kind = match.lastgroup
        value = match.group(kind)
        if kind not in ('space', 'comment'):
            result.append((kind, value, line))
        line += value.count('\n')
        position = match.end()
    return result


class _Reader(object):
    def __init__(self, text):
        self.tokens = tokens(text)
        self.index = 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else (None, None, self.line())

    def line(self):
        if not self.tokens:
            return 1
        return self.tokens[min(self.index, len(self.tokens) - 1)][2]

    def next(self):
        token = self.peek()
        if token[0] is None:
            raise LeaseFileError('line %d: unexpected end of file' % token[2])
        self.index += 1
        return token

    def expect(self, value):
        token = self.next()
        if token[1] != value:
            raise LeaseFileError('line %d: expected %r, found %r' % (token[2], value, token[1]))
        return token

    def until_semicolon(self):
        """The tokens of a statement up to its ';' (nested blocks skipped whole)."""
        found = []
        while True:
            token = self.next()
            if token[1] == ';':
                return found
            if token[1] == '{':
                self.skip_block()
                return found
            found.append(token)

    def skip_block(self):
        """After a '{': up to its matching '}'."""
        depth = 1
        while depth:
            value = self.next()[1]
            if value == '{':
                depth += 1
            elif value == '}':
                depth -= 1


def _time(words, line):
    """Epoch seconds (UTC) of a dhcpd time: 'W YYYY/MM/DD HH:MM:SS', 'epoch N', or None for 'never'."""
    if words == ['never']:
        return None
    if len(words) == 2 and words[0] == 'epoch':
        return int(words[1])
    if len(words) == 3:
        match = re.match(r'^(\d{4})/(\d{1,2})/(\d{1,2})$', words[1])
        clock = re.match(r'^(\d{1,2}):(\d{2}):(\d{2})$', words[2])
        if match and clock:
            return calendar.timegm(tuple(int(part) for part in match.groups() + clock.groups()))
    raise LeaseFileError('line %d: not a dhcpd time: %s' % (line, ' '.join(words)))


def _id_value(token_list, line):
    """(bytes, form) of a uid / client id: a quoted string ('string') or colon-separated hex ('hex')."""
    if len(token_list) == 1 and token_list[0][0] == 'string':
        return _unquote(token_list[0][1]), 'string'
    text = ''.join(value for _kind, value, _line in token_list)
    if re.match(r'^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})*$', text):
        return bytes(int(part, 16) for part in text.split(':')), 'hex'
    raise LeaseFileError('line %d: not a client id: %s' % (line, text))


def _value_text(token_list):
    parts = []
    for kind, value, _line in token_list:
        parts.append(_unquote(value).decode('utf-8', 'replace') if kind == 'string' else value)
    return ' '.join(parts)


def _lease(reader, address, line):
    lease = {'address': address, 'line': line, 'binding_state': None, 'next_binding_state': None,
             'rewind_binding_state': None, 'hardware': None, 'uid': None, 'uid_form': None,
             'client_hostname': None, 'set': {}, 'on': [], 'reserved': False, 'bootp': False, 'other': []}
    for field in TIME_FIELDS:
        lease[field] = None
    reader.expect('{')
    while True:
        kind, value, at = reader.next()
        if value == '}':
            return lease
        if value in TIME_FIELDS:
            lease[value] = _time([item[1] for item in reader.until_semicolon()], at)
        elif value in ('binding', 'next', 'rewind'):
            words = [item[1] for item in reader.until_semicolon()]
            prefix = ['binding', 'state'] if value != 'binding' else ['state']
            if words[:len(prefix)] != prefix or len(words) != len(prefix) + 1 or words[-1] not in BINDING_STATES:
                raise LeaseFileError('line %d: not a binding state: %s %s' % (at, value, ' '.join(words)))
            lease['binding_state' if value == 'binding' else value + '_binding_state'] = words[-1]
        elif value == 'hardware':
            words = [item[1] for item in reader.until_semicolon()]
            if len(words) != 2:
                raise LeaseFileError('line %d: not a hardware statement' % at)
            lease['hardware'] = {'type': words[0], 'address': words[1].lower()}
        elif value == 'uid':
            lease['uid'], lease['uid_form'] = _id_value(reader.until_semicolon(), at)
        elif value == 'client-hostname':
            found = reader.until_semicolon()
            lease['client_hostname'] = _unquote(found[0][1]).decode('utf-8', 'replace') if found else None
        elif value == 'set':
            found = reader.until_semicolon()
            if len(found) < 3 or found[1][1] != '=':
                raise LeaseFileError('line %d: not a set statement' % at)
            lease['set'][found[0][1]] = _value_text(found[2:])
        elif value == 'on':
            events = []
            while reader.peek()[1] != '{':
                word = reader.next()[1]
                if word != 'or':
                    events.append(word)
            reader.next()
            reader.skip_block()
            lease['on'].append(events)
        elif value == 'reserved':
            reader.until_semicolon()
            lease['reserved'] = True
        elif value == 'dynamic-bootp':
            reader.until_semicolon()
            lease['bootp'] = True
        elif value == 'abandoned':
            # dhcpd 2.x wrote the flag; 3.0+ write "binding state abandoned".
            reader.until_semicolon()
            lease['binding_state'] = 'abandoned'
        else:
            lease['other'].append(' '.join([value] + [item[1] for item in reader.until_semicolon()]))


def _host(reader, name, line):
    host = {'name': name, 'line': line, 'hardware': None, 'uid': None, 'uid_form': None, 'fixed_address': [],
            'dynamic': False, 'deleted': False, 'other': []}
    reader.expect('{')
    while True:
        _kind, value, at = reader.next()
        if value == '}':
            return host
        if value == 'hardware':
            words = [item[1] for item in reader.until_semicolon()]
            host['hardware'] = {'type': words[0], 'address': words[1].lower()}
        elif value == 'uid':
            host['uid'], host['uid_form'] = _id_value(reader.until_semicolon(), at)
        elif value == 'fixed-address':
            host['fixed_address'] = [item[1] for item in reader.until_semicolon() if item[1] != ',']
        elif value in ('dynamic', 'deleted'):
            reader.until_semicolon()
            host[value] = True
        else:
            host['other'].append(' '.join([value] + [item[1] for item in reader.until_semicolon()]))


def _failover_state(reader, line):
    reader.expect('state')
    reader.expect('{')
    state = {'line': line, 'my_state': None, 'my_state_since': None, 'partner_state': None,
             'partner_state_since': None, 'mclt': None}
    while True:
        _kind, value, at = reader.next()
        if value == '}':
            return state
        words = [value] + [item[1] for item in reader.until_semicolon()]
        if words[0] in ('my', 'partner') and len(words) >= 4 and words[1] == 'state' and words[3] == 'at':
            state[words[0] + '_state'] = words[2]
            state[words[0] + '_state_since'] = _time(words[4:], at)
        elif words[0] == 'mclt' and len(words) == 2:
            state['mclt'] = int(words[1])
        else:
            raise LeaseFileError('line %d: unknown failover state statement: %s' % (at, ' '.join(words)))


def parse(text):
    """Every entry of a dhcpd.leases text, in file order, and the last one of each address/host/peer."""
    reader = _Reader(text)
    result = {'entries': [], 'leases': {}, 'rewrites': {}, 'hosts': {}, 'failover': {}, 'failover_entries': [],
              'server_duid': None, 'authoring_byte_order': None, 'other': []}
    while reader.peek()[0] is not None:
        kind, value, line = reader.next()
        if value == 'lease':
            address = reader.next()[1]
            try:
                address = str(ipaddress.IPv4Address(address))
            except ValueError:
                raise LeaseFileError('line %d: %r is not an IPv4 address' % (line, address))
            lease = _lease(reader, address, line)
            result['entries'].append(lease)
            # dhcpd appends every new version of a lease: the last entry of an address is its state.
            result['leases'][address] = lease
            result['rewrites'][address] = result['rewrites'].get(address, 0) + 1
        elif value == 'host':
            name = reader.next()[1]
            host = _host(reader, name, line)
            result['hosts'][name] = host
        elif value == 'failover':
            reader.expect('peer')
            name_token = reader.next()
            name = _unquote(name_token[1]).decode('utf-8') if name_token[0] == 'string' else name_token[1]
            state = _failover_state(reader, line)
            state['peer'] = name
            result['failover_entries'].append(state)
            result['failover'][name] = state
        elif value == 'server-duid':
            found = reader.until_semicolon()
            result['server_duid'] = _id_value(found, line)[0] if found else None
        elif value == 'authoring-byte-order':
            found = reader.until_semicolon()
            result['authoring_byte_order'] = found[0][1] if found else None
        elif kind == 'word':
            # lease6/ia-na/class/subclass/group and anything newer: kept by name, not read
            found = reader.until_semicolon()
            result['other'].append((line, ' '.join([value] + [item[1] for item in found])))
        else:
            raise LeaseFileError('line %d: unexpected %r' % (line, value))
    return result


# ---------------------------------------------------------------------------------------------
# What a Kea server takes over

def hex_bytes(data):
    """Bytes as Kea writes client ids and hardware addresses: lower-case hex, colon-separated."""
    return ':'.join('%02x' % byte for byte in bytearray(data))


def kea_subnets(kea_config):
    """[(network, subnet-id, reservations)] of a rendered config ({"Dhcp4": ...} or the Dhcp4 dict)."""
    dhcp4 = kea_config.get('Dhcp4', kea_config)
    found = list(dhcp4.get('subnet4') or [])
    for shared in dhcp4.get('shared-networks') or []:
        found.extend(shared.get('subnet4') or [])
    return [(ipaddress.IPv4Network(subnet['subnet']), subnet['id'], subnet.get('reservations') or []) for subnet in found]


def _subnet_of(subnets, address):
    ip = ipaddress.IPv4Address(address)
    for network, subnet_id, reservations in subnets:
        if ip in network:
            return subnet_id, reservations
    return None, None


def _kind(lease, now):
    state = lease['binding_state'] or 'free'
    if state == 'active' and lease['ends'] is not None and lease['ends'] <= now:
        return 'ended'
    return state


def lease4_add(lease, subnet_id):
    """The lease4-add arguments of an active dhcpd lease (Kea lease_cmds)."""
    start = lease['cltt'] if lease['cltt'] is not None else lease['starts']
    if lease['ends'] is None:
        valid = INFINITE
    else:
        # Kea's cltt = expire - valid-lft: the expiry is dhcpd's `ends`, never earlier.
        valid = max(1, lease['ends'] - start) if start is not None else 1
    args = {'ip-address': lease['address'], 'subnet-id': subnet_id, 'valid-lft': valid, 'state': 0,
            'fqdn-fwd': False, 'fqdn-rev': False}
    if lease['ends'] is not None:
        args['expire'] = lease['ends']
    if lease['hardware']:
        args['hw-address'] = lease['hardware']['address']
    if lease['uid']:
        args['client-id'] = hex_bytes(lease['uid'])
    if lease['client_hostname']:
        args['hostname'] = lease['client_hostname']
    return args


def select(parsed, kea_config, now):
    """Leases to carry (lease4-add argument dicts) and every other binding by kind, each with its reason.

    ``parsed``: parse()'s result, or several (both servers' files: per address the entry with the
    later starts wins; for the same starts, an entry past active, e.g. expired, wins over the active one).  ``now``: epoch seconds of the cutover.
    """
    latest = merge(parsed if isinstance(parsed, (list, tuple)) else [parsed])
    subnets = kea_subnets(kea_config)
    carried, skipped = [], {}
    for address in sorted(latest, key=ipaddress.IPv4Address):
        lease = latest[address]
        kind = _kind(lease, now)
        if kind == 'active':
            subnet_id, reservations = _subnet_of(subnets, address)
            mac = lease['hardware']['address'] if lease['hardware'] else None
            other = [item for item in reservations or [] if item.get('ip-address') == address
                     and str(item.get('hw-address', '')).lower() != mac]
            if subnet_id is None:
                kind = 'no_subnet'
            elif other:
                kind = 'reserved_elsewhere'
            else:
                carried.append(lease4_add(lease, subnet_id))
                continue
        elif lease['reserved']:
            kind = 'reserved_flag'
        skipped.setdefault(kind, []).append({'address': address, 'binding_state': lease['binding_state'],
                                             'ends': lease['ends'], 'reason': REASONS.get(kind, kind)})
    return carried, skipped


def merge(parsed_list):
    """{address: lease} over several parsed files: the later starts wins, then an entry past active."""
    latest = {}
    for parsed in parsed_list:
        for address, lease in parsed['leases'].items():
            known = latest.get(address)
            if known is None or _age(lease) > _age(known):
                latest[address] = lease
    return latest


def _age(lease):
    # The binding's start orders the entries of both files (cltt is written only by the server that
    # answered the client: an entry learnt from the peer has none, measured); for the same start an
    # entry past active (expired, released, ...: dhcpd keeps starts then) is the newer one.
    return (lease['starts'] or 0, 0 if lease['binding_state'] == 'active' else 1)


# Kea's memfile header (first line of kea-leases4.csv), as written by Kea 2.2.0 and 2.6.3 in the lab
# (tests/unit/fixtures/leases/kea_csv); 2.6 adds pool_id.
CSV_HEADERS = {
    '2.2': ('address', 'hwaddr', 'client_id', 'valid_lifetime', 'expire', 'subnet_id', 'fqdn_fwd', 'fqdn_rev',
            'hostname', 'state', 'user_context'),
    '2.6': ('address', 'hwaddr', 'client_id', 'valid_lifetime', 'expire', 'subnet_id', 'fqdn_fwd', 'fqdn_rev',
            'hostname', 'state', 'user_context', 'pool_id'),
}


def csv_family(version):
    """'2.2' or '2.6' from a Kea version ('2.2.0', '2.6.3', '2.6')."""
    family = '.'.join(str(version).split('.')[:2])
    if family not in CSV_HEADERS:
        raise ValueError('Kea %s: the memfile header of only %s is known (measured)' % (version, ', '.join(sorted(CSV_HEADERS))))
    return family


def csv_header(version):
    return ','.join(CSV_HEADERS[csv_family(version)])


def _csv_text(value):
    # Kea's CSV escapes a comma inside a field as "&#x2c" (util/csv_file.cc escapeCharacters).
    return str(value).replace(',', '&#x2c')


def csv_rows(leases, version):
    """The lines of kea-leases4.csv (header first) for lease4-add argument dicts."""
    family = csv_family(version)
    lines = [csv_header(family)]
    for args in leases:
        expire = args.get('expire', 0)
        row = [args['ip-address'], args.get('hw-address', ''), args.get('client-id', ''), args['valid-lft'], expire,
               args['subnet-id'], int(bool(args.get('fqdn-fwd'))), int(bool(args.get('fqdn-rev'))),
               _csv_text(args.get('hostname', '')), args.get('state', 0), '']
        if family == '2.6':
            row.append(0)
        lines.append(','.join(str(item) for item in row))
    return lines


def translate(leases_text, kea_config, now):
    """The entry point for a playbook: dhcpd.leases text(s) -> what to load into Kea, and the report.

    ``leases_text``: one file's text or a list of texts (both servers').  Returns ``leases`` (the
    lease4-add arguments), ``skipped`` ({kind: [{address, binding_state, ends, reason}]}),
    ``counts`` ({kind: number}, carried under ``active``), ``hosts`` (reservations found in the file,
    made over OMAPI: not carried as leases, to be described as reservations), ``failover`` (last
    state block per peer of each file) and ``report`` (lines for a human).
    """
    texts = [leases_text] if isinstance(leases_text, str) else list(leases_text)
    parsed = [parse(text) for text in texts]
    leases, skipped = select(parsed, kea_config, now)
    counts = dict((kind, len(items)) for kind, items in skipped.items())
    counts['active'] = len(leases)
    hosts = []
    for one in parsed:
        for host in one['hosts'].values():
            if not host['deleted'] and host['name'] not in [item['name'] for item in hosts]:
                hosts.append({'name': host['name'], 'hw-address': host['hardware']['address'] if host['hardware'] else None,
                              'client-id': hex_bytes(host['uid']) if host['uid'] else None,
                              'ip-address': host['fixed_address'][0] if host['fixed_address'] else None})
    report = ['%d active lease(s) carried to Kea' % len(leases)]
    for kind in sorted(skipped):
        report.append('%d %s binding(s) not carried: %s' % (len(skipped[kind]), kind, REASONS.get(kind, kind)))
    for host in hosts:
        report.append('host %s (%s, %s) is a reservation made over OMAPI, stored only in dhcpd.leases: not carried; '
                      'add it to dhcp_failover_reservations' % (host['name'], host['hw-address'], host['ip-address']))
    return {'leases': leases, 'skipped': skipped, 'counts': counts, 'hosts': hosts,
            'failover': [one['failover'] for one in parsed], 'report': report}
