# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module_utils is private to the dhcp.failover collection. Its interface can change
# at any time; do not use it from outside the collection.

"""Failover state of ISC dhcpd 4.4 from its journald lines (one service run at a time)."""

from __future__ import annotations

import datetime
import json
import os
import re

try:
    from systemd import journal as _systemd_journal  # Debian: python3-systemd
    HAS_SYSTEMD_JOURNAL = True
except ImportError:
    _systemd_journal = None
    HAS_SYSTEMD_JOURNAL = False


# Numbers are the ones OMAPI uses (server/failover.c, includes/failover.h of dhcpd 4.4.3-P1).
STATE_NUMBERS = {
    'unknown-state': 0,
    'startup': 1,
    'normal': 2,
    'communications-interrupted': 3,
    'partner-down': 4,
    'potential-conflict': 5,
    'recover': 6,
    'paused': 7,
    'shutdown': 8,
    'recover-done': 9,
    'resolution-interrupted': 10,
    'conflict-done': 11,
    'recover-wait': 254,
}
STATE_NAMES = dict((number, name) for name, number in STATE_NUMBERS.items())

_MOVE_RE = re.compile(
    r'^failover peer (?P<peer>\S+): (?P<who>I move|peer moves) from (?P<old>[a-z-]+) to (?P<new>[a-z-]+)\s*$')
_BOTH_NORMAL_RE = re.compile(r'^failover peer (?P<peer>\S+): Both servers normal\s*$')
_DISCONNECTED_RE = re.compile(r'^peer (?P<peer>\S+): disconnected\s*$')
_POOL_RE = re.compile(
    r'^(?P<kind>balancing|balanced|IMBALANCED) pool (?P<id>[0-9a-f]+) (?P<network>\S*)\s+'
    r'total (?P<total>\d+)\s+free (?P<free>\d+)\s+backup (?P<backup>\d+)\s+lts (?P<lts>-?\d+)\s+'
    r'max-(?:own \(\+/-\)|misbal )(?P<max>\d+)\s*$')


# journald's own "Suppressed N messages from UNIT" lines (rate limit, RateLimitBurst /
# LogRateLimitBurst): MESSAGE_ID SD_MESSAGE_JOURNAL_DROPPED, logged by systemd-journald itself
# (journald 252: "Suppressed 2 messages from isc-dhcp-server.service"; before 246 the unit was
# given as its cgroup path, "/system.slice/isc-dhcp-server.service").
JOURNAL_DROPPED_MESSAGE_ID = 'a596d6fe7bfa4994828e72309e95d61e'
JOURNALD_UNIT = 'systemd-journald.service'
_SUPPRESSED_RE = re.compile(r'^Suppressed (?P<count>\d+) messages from (?:\S*/)?(?P<unit>[^/\s]+)\s*$')


def iso_utc(usec):
    """ISO 8601 UTC string for a journald timestamp in microseconds since the epoch."""
    moment = datetime.datetime.fromtimestamp(int(usec) // 1000000, tz=datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def _new_peer():
    return {
        'my_state': None,
        'my_state_since': None,
        'partner_state': None,
        'partner_state_since': None,
        'transitions': [],
        'both_normal_seen': False,
        'both_normal_since': None,
        'disconnected_at': None,
    }


def parse_entries(entries, max_transitions=20):
    """Fold the journald entries of one dhcpd run into failover state.

    ``entries`` is an iterable of dicts with at least ``MESSAGE`` and ``__REALTIME_TIMESTAMP``
    (microseconds, int or str) in journal order, as ``journalctl -o json`` or the
    python3-systemd reader give them.

    Returns ``{'peers': {name: {...}}, 'pools': {pool_id: {...}}, 'lines': N}``. Pool lines do not
    name their failover peer, so pools are returned apart from peers.
    """
    peers = {}
    pools = {}
    lines = 0
    for entry in entries:
        message = entry.get('MESSAGE')
        if isinstance(message, list):  # journalctl -o json gives a list for non-UTF-8 data
            continue
        if not message:
            continue
        lines += 1
        when = iso_utc(entry['__REALTIME_TIMESTAMP'])
        match = _MOVE_RE.match(message)
        if match:
            peer = peers.setdefault(match.group('peer'), _new_peer())
            who = 'me' if match.group('who') == 'I move' else 'partner'
            prefix = 'my' if who == 'me' else 'partner'
            peer[prefix + '_state'] = match.group('new')
            if match.group('old') != match.group('new') or peer[prefix + '_state_since'] is None:
                peer[prefix + '_state_since'] = when
            peer['transitions'].append({'time': when, 'who': who, 'from': match.group('old'), 'to': match.group('new')})
            if max_transitions is not None and len(peer['transitions']) > max_transitions:
                del peer['transitions'][0]
            continue
        match = _BOTH_NORMAL_RE.match(message)
        if match:
            peer = peers.setdefault(match.group('peer'), _new_peer())
            peer['both_normal_seen'] = True
            peer['both_normal_since'] = when
            continue
        match = _DISCONNECTED_RE.match(message)
        if match:
            peers.setdefault(match.group('peer'), _new_peer())['disconnected_at'] = when
            continue
        match = _POOL_RE.match(message)
        if match:
            kind = match.group('kind')
            previous = pools.get(match.group('id'), {})
            pools[match.group('id')] = {
                'network': match.group('network'),
                'total': int(match.group('total')),
                'free': int(match.group('free')),
                'backup': int(match.group('backup')),
                'lts': int(match.group('lts')),
                # "balancing" lines give max-own, "balanced"/"IMBALANCED" lines max-misbal
                'max_own': int(match.group('max')) if kind == 'balancing' else previous.get('max_own'),
                'max_misbalance': int(match.group('max')) if kind != 'balancing' else previous.get('max_misbalance'),
                'balanced': None if kind == 'balancing' else kind == 'balanced',
                'time': when,
            }
    return {'peers': peers, 'pools': pools, 'lines': lines}


def pool_summary(pools):
    """One ``pool`` figure for a peer: the sum of the latest figures of every pool."""
    if not pools:
        return None
    summary = {'total': 0, 'free': 0, 'backup': 0, 'lts': 0, 'max_own': None, 'balanced': True}
    for pool in pools.values():
        for key in ('total', 'free', 'backup', 'lts'):
            summary[key] += pool[key]
        if pool['max_own'] is not None:
            summary['max_own'] = (summary['max_own'] or 0) + pool['max_own']
        if pool['balanced'] is None:
            summary['balanced'] = None if summary['balanced'] is not False else False
        elif not pool['balanced']:
            summary['balanced'] = False
    return summary


def parse_systemctl_show(text):
    """``systemctl show -p A -p B UNIT`` output as a dict."""
    result = {}
    for line in text.splitlines():
        key, sep, value = line.partition('=')
        if sep:
            result[key.strip()] = value.strip()
    return result


def unit_name(unit):
    """The full unit name journald uses (``isc-dhcp-server`` -> ``isc-dhcp-server.service``)."""
    return unit if re.search(r'\.(service|scope|socket|mount|swap|timer|path|slice|target|device|automount)$', unit) else unit + '.service'


def parse_unix_timestamp(value):
    """Microseconds since the epoch of ``systemctl show --timestamp=unix`` (``@1795539596``), else None."""
    match = re.match(r'^@(\d+)$', (value or '').strip())
    return int(match.group(1)) * 1000000 if match and int(match.group(1)) else None


def unit_properties(module, unit):
    """InvocationID, ActiveState, SubState, MainPID, ControlGroup, Id and start time of ``unit``; None
    when systemctl is absent or fails, or the unit does not exist.

    ``started_usec`` is the unit's ``InactiveExitTimestamp`` (the start of the current run, in
    microseconds since the epoch; None where systemctl is older than 248 and knows no
    ``--timestamp=unix``).
    """
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        return None
    props_argv = ['-p', 'InvocationID', '-p', 'ActiveState', '-p', 'SubState', '-p', 'LoadState', '-p', 'Id',
                  '-p', 'MainPID', '-p', 'ControlGroup']
    rc, out, dummy = module.run_command(
        [systemctl, 'show', '--timestamp=unix'] + props_argv + ['-p', 'InactiveExitTimestamp', unit],
        environ_update={'LC_ALL': 'C'})
    if rc != 0:
        rc, out, dummy = module.run_command([systemctl, 'show'] + props_argv + [unit], environ_update={'LC_ALL': 'C'})
    if rc != 0:
        return None
    props = parse_systemctl_show(out)
    if props.get('LoadState') == 'not-found':
        return None
    props['started_usec'] = parse_unix_timestamp(props.get('InactiveExitTimestamp'))
    return props


# Where the process table is read; tests point it at a captured copy.
PROC = '/proc'
DHCPD_COMM = 'dhcpd'


def _read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def dhcpd_processes(unit=None, proc=None, comm=DHCPD_COMM):
    """PIDs of the live dhcpd processes (``/proc/PID/comm`` is ``dhcpd``, or ``comm``: the Kea
    backend asks for ``kea-dhcp4``), sorted.

    With ``unit``, only those in that unit's cgroup (a line of ``/proc/PID/cgroup`` ending in
    ``/UNIT.service``), so a dhcpd started by hand or in another unit does not count.
    """
    proc = proc or PROC
    suffix = '/' + unit_name(unit) if unit else None
    pids = []
    try:
        names = os.listdir(proc)
    except OSError:
        return pids
    for name in names:
        if not name.isdigit():
            continue
        name_seen = _read_text(os.path.join(proc, name, 'comm'))
        if name_seen is None or name_seen.strip() != comm:
            continue
        if suffix:
            cgroup = _read_text(os.path.join(proc, name, 'cgroup')) or ''
            if not any(line.rstrip().endswith(suffix) for line in cgroup.splitlines()):
                continue
        pids.append(int(name))
    return sorted(pids)


def daemon_status(props, unit, proc=None, comm=DHCPD_COMM):
    """Whether dhcpd runs, judged by the unit and by the process table, never by ActiveState alone.

    Debian starts dhcpd through an LSB init script (``Type=forking``, ``RemainAfterExit=yes``, no
    PID file: ``MainPID`` is 0 even while dhcpd runs). systemd keeps such a unit ``active`` after
    its daemon died (``kill -9``): SubState ``exited``, ``MainPID=0``, empty ``ControlGroup``. So
    dhcpd runs when the unit is ``active``/``running`` and a live dhcpd process sits in the unit's
    cgroup (or is its ``MainPID``). Without systemd (``props`` None) any live dhcpd process counts.

    ``comm`` names the daemon's process (``kea-dhcp4`` for Kea, whose unit is ``Type=simple``:
    its MainPID is kea-dhcp4, and after ``kill -9`` the unit is ``failed``).

    Returns ``{'running': bool, 'pids': [...], 'reason': str}``; ``reason`` says why not running.
    """
    if props is None:
        pids = dhcpd_processes(None, proc, comm)
        return {'running': bool(pids), 'pids': pids,
                'reason': '' if pids else 'no %s process (systemd unit %s not found)' % (comm, unit)}
    pids = dhcpd_processes(props.get('Id') or unit, proc, comm)
    main_pid = props.get('MainPID', '0')
    if main_pid.isdigit() and int(main_pid) and int(main_pid) not in pids:
        main_comm = _read_text(os.path.join(proc or PROC, main_pid, 'comm'))
        if main_comm is not None and main_comm.strip() == comm:
            pids = sorted(pids + [int(main_pid)])
    state = '%s/%s' % (props.get('ActiveState'), props.get('SubState'))
    if props.get('ActiveState') != 'active' or props.get('SubState') != 'running':
        reason = 'unit %s is %s' % (props.get('Id') or unit, state)
        if state == 'active/exited' and comm == DHCPD_COMM:
            reason += ' (its dhcpd died: killed or crashed, while the LSB unit stays active)'
        return {'running': False, 'pids': pids, 'reason': reason}
    if not pids:
        return {'running': False, 'pids': pids, 'reason': 'unit %s is %s but no %s process lives in it' % (props.get('Id') or unit, state, comm)}
    return {'running': True, 'pids': pids, 'reason': ''}


def daemon_running(props, unit='isc-dhcp-server', proc=None):
    """``daemon_status(props, unit, proc)['running']``."""
    return daemon_status(props, unit, proc)['running']


def journalctl_argv(journalctl, invocation_id):
    """argv that prints exactly one service run (one invocation) as JSON lines.

    journald indexes every field, so the match costs the same whatever the size of the journal.
    """
    return [journalctl, '--no-pager', '--quiet', '-o', 'json', '_SYSTEMD_INVOCATION_ID=' + invocation_id]


def parse_journalctl_json(text):
    """Entries of ``journalctl -o json`` output (one JSON object a line)."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            yield json.loads(line)


def read_run_python_systemd(invocation_id):
    """Entries of one service run with Debian's python3-systemd reader."""
    reader = _systemd_journal.Reader(converters={'__REALTIME_TIMESTAMP': int})
    try:
        reader.add_match(_SYSTEMD_INVOCATION_ID=invocation_id)
        yield from reader
    finally:
        reader.close()


class JournalUnreadable(Exception):
    """journalctl could not read the journal (for example: not root, "No journal files were opened
    due to insufficient permissions", exit 1)."""


def read_run(module, invocation_id, prefer_python=True):
    """Entries of one service run and the reader used (``python3-systemd`` or ``journalctl``).

    Returns ``(None, None)`` when neither reader is available; raises ``JournalUnreadable`` when
    journalctl fails. python3-systemd's reader gives a user who may not read the journal no entries
    and no error: the caller must treat an empty run as unread.
    """
    if prefer_python and HAS_SYSTEMD_JOURNAL:
        return list(read_run_python_systemd(invocation_id)), 'python3-systemd'
    journalctl = module.get_bin_path('journalctl')
    if not journalctl:
        return None, None
    rc, out, err = module.run_command(journalctl_argv(journalctl, invocation_id), environ_update={'LC_ALL': 'C'})
    if rc != 0:
        raise JournalUnreadable('journalctl failed (rc %s): %s' % (rc, err.strip()))
    return list(parse_journalctl_json(out)), 'journalctl'


def suppressed_argv(journalctl, since_usec):
    """argv that prints journald's own "messages dropped" lines since ``since_usec`` as JSON lines.

    Both fields are indexed and ``--since`` seeks, so the cost does not grow with the journal.
    """
    return [journalctl, '--no-pager', '--quiet', '-o', 'json', '--since', '@%d.%06d' % divmod(int(since_usec), 1000000),
            '_SYSTEMD_UNIT=' + JOURNALD_UNIT, 'MESSAGE_ID=' + JOURNAL_DROPPED_MESSAGE_ID]


def read_suppressed_python_systemd(since_usec):
    """journald's "messages dropped" lines since ``since_usec`` with the python3-systemd reader."""
    reader = _systemd_journal.Reader(converters={'__REALTIME_TIMESTAMP': int})
    try:
        reader.add_match(_SYSTEMD_UNIT=JOURNALD_UNIT, MESSAGE_ID=JOURNAL_DROPPED_MESSAGE_ID)
        reader.seek_realtime(int(since_usec))
        yield from reader
    finally:
        reader.close()


def parse_suppressed(entries, unit, since_usec=None):
    """How many lines of ``unit`` journald dropped, from its ``Suppressed N messages from UNIT`` lines.

    Only lines logged by systemd-journald itself count (not a service that logs the same text).
    Returns ``{'count': N, 'last': ISO time of the last such line or None}``.
    """
    unit = unit_name(unit)
    count = 0
    last = None
    for entry in entries:
        message_id = entry.get('MESSAGE_ID')
        message_id = getattr(message_id, 'hex', message_id)  # python3-systemd gives a uuid.UUID
        if entry.get('_SYSTEMD_UNIT') != JOURNALD_UNIT or message_id != JOURNAL_DROPPED_MESSAGE_ID:
            continue
        if since_usec is not None and int(entry['__REALTIME_TIMESTAMP']) < since_usec:
            continue
        message = entry.get('MESSAGE')
        match = _SUPPRESSED_RE.match(message) if isinstance(message, str) else None
        if not match or match.group('unit') != unit:
            continue
        count += int(match.group('count'))
        last = iso_utc(entry['__REALTIME_TIMESTAMP'])
    return {'count': count, 'last': last}


def read_suppressed(module, unit, since_usec, prefer_python=True):
    """``parse_suppressed`` of the lines journald logged since ``since_usec`` (the unit's start).

    Returns None when no reader is available or the start time is unknown.
    """
    if since_usec is None:
        return None
    if prefer_python and HAS_SYSTEMD_JOURNAL:
        return parse_suppressed(read_suppressed_python_systemd(since_usec), unit, since_usec)
    journalctl = module.get_bin_path('journalctl')
    if not journalctl:
        return None
    argv = suppressed_argv(journalctl, since_usec)
    rc, out, err = module.run_command(argv, environ_update={'LC_ALL': 'C'})
    if rc != 0:
        module.fail_json(msg='journalctl failed: %s' % err.strip(), rc=rc, stdout=out, stderr=err, cmd=argv)
    return parse_suppressed(parse_journalctl_json(out), unit, since_usec)


def _pick(logged, recorded, prefix, suppressed):
    """``(state, since, source)`` of ``prefix`` (``my``/``partner``) from the source with the newer
    transition; on a tie or a missing time the journal wins, unless journald dropped lines."""
    key, since = prefix + '_state', prefix + '_state_since'
    from_journal = (logged[key], logged[since], 'journald') if logged and logged[key] else None
    from_leases = (recorded[key], recorded[since], 'leases') if recorded and recorded[key] else None
    if not from_journal or not from_leases:
        return from_journal or from_leases or (None, None, None)
    if from_journal[1] and from_leases[1] and from_journal[1] != from_leases[1]:
        # same ISO 8601 UTC format on both sides: the string order is the time order
        return from_leases if from_leases[1] > from_journal[1] else from_journal
    return from_leases if suppressed else from_journal


def new_peer_state():
    """The state of one failover peer, every key present and nothing known yet.

    This is the one vocabulary of the collection: ``dhcp.failover.state_info`` returns one such
    dict per peer, ``dhcp.failover.state`` returns one ``before`` and one ``after`` its change, and
    the status playbook reports the same keys. A source fills what it knows and says so in
    ``my_state_source``, ``partner_state_source`` and ``source`` (``journald``, ``leases`` or
    ``omapi``); the rest stays None (``transitions`` empty).
    """
    return {
        'my_state': None, 'my_state_since': None, 'my_state_source': None,
        'partner_state': None, 'partner_state_since': None, 'partner_state_source': None,
        'mclt': None,
        'transitions': [], 'both_normal_seen': None, 'both_normal_since': None, 'disconnected_at': None,
        'pool': None, 'source': None, 'leases_file': None,
        'running': None,
    }


def combine(journal, leases, peer=None, single_pool_owner=True, suppressed=None):
    """Per-peer report from one run's journal (``parse_entries`` result or None) and the leases
    file (``parse_leases`` result or None).

    ``my_state`` and ``partner_state`` each come from the source that records the newer
    transition (``my_state_source``, ``partner_state_source``): journald can drop dhcpd's lines
    (rate limit) while dhcpd still rewrites the state block of the leases file at every state
    change. Where the times tie or one is missing, the journal wins, unless ``suppressed`` (the
    number of the unit's lines journald dropped in this run) is non-zero. The transitions and
    ``both_normal_*`` come from the journal; the leases file's block is returned as ``leases_file``,
    and its ``mclt`` (dhcpd records it on the secondary only) as ``mclt``.
    """
    journal_peers = journal['peers'] if journal else {}
    leases = leases or {}
    names = sorted(set(journal_peers) | set(leases))
    if peer is not None:
        names = [name for name in names if name == peer]
    pool = pool_summary(journal['pools']) if journal and single_pool_owner and len(set(journal_peers) | set(leases)) == 1 else None
    report = {}
    for name in names:
        logged = journal_peers.get(name)
        recorded = leases.get(name)
        entry = new_peer_state()
        entry.update(pool=pool, leases_file=recorded, mclt=recorded['mclt'] if recorded else None)
        if logged:
            for key in ('transitions', 'both_normal_seen', 'both_normal_since', 'disconnected_at'):
                entry[key] = logged[key]
        elif journal is not None:
            entry['both_normal_seen'] = False
        sources = []
        for prefix in ('my', 'partner'):
            state, since, source = _pick(logged, recorded, prefix, suppressed)
            entry[prefix + '_state'], entry[prefix + '_state_since'], entry[prefix + '_state_source'] = state, since, source
            if source:
                sources.append(source)
        entry['source'] = 'journald' if 'journald' in sources else ('leases' if sources else None)
        report[name] = entry
    return report
