# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module_utils is private to the dhcp.failover collection. Its interface can change
# at any time; do not use it from outside the collection.

"""Kea DHCPv4 HA state over kea-dhcp4's unix control socket, and from its journald lines.

A plain AF_UNIX JSON client (no socat, no Control Agent): send one ``{"command": ...}``, read
until the answer parses as JSON. The parsers turn ``status-get`` / ``ha-heartbeat`` answers of
Kea 2.2 and 2.6 into the collection's state dict (the keys ``dhcp.failover.state_info`` returns
for ISC dhcpd, plus Kea's own), and read ``HA_STATE_TRANSITION`` lines of both versions.
"""

from __future__ import annotations

import json
import re
import socket
import time

from ansible_collections.dhcp.failover.plugins.module_utils import _failover_log


DEFAULT_SOCKET = '/run/kea/kea4-ctrl-socket'
DEFAULT_UNIT = 'kea-dhcp4-server'
KEA_COMM = 'kea-dhcp4'
DEFAULT_TIMEOUT = 10.0

# Kea's HA states (ARM hooks-ha, "Server States"); `unavailable` is what a server reports for a
# partner it cannot reach.
KEA_STATES = (
    'backup', 'communication-recovery', 'hot-standby', 'in-maintenance', 'load-balancing', 'partner-down',
    'partner-in-maintenance', 'passive-backup', 'ready', 'syncing', 'terminated', 'unavailable', 'waiting',
)
# Kea states that have a name of the collection's vocabulary (the ISC dhcpd failover states);
# every other Kea state keeps its Kea name.
TO_COLLECTION = {
    'load-balancing': 'normal',
    'hot-standby': 'normal',
    'communication-recovery': 'communications-interrupted',
    'partner-down': 'partner-down',
}
# The states a wait can name for a Kea server: the collection's names plus every Kea name.
WAIT_STATES = tuple(sorted(set(TO_COLLECTION.values()) | set(KEA_STATES)))

# Module commands -> Kea commands (ARM hooks-ha "Control Commands").
COMMANDS = {
    'maintenance_start': 'ha-maintenance-start',
    'maintenance_cancel': 'ha-maintenance-cancel',
    'continue': 'ha-continue',
    'sync': 'ha-sync',
    'reset': 'ha-reset',
    'heartbeat': 'ha-heartbeat',
}


class KeaCtrlError(Exception):
    """The control socket could not be asked; ``reason`` is one of missing, refused, permission,
    timeout, protocol, other."""

    def __init__(self, message, reason='other'):
        super(KeaCtrlError, self).__init__(message)
        self.reason = reason


def _decode(buf):
    """The JSON object in ``buf``, or None while it is incomplete."""
    try:
        return json.loads(buf.decode('utf-8'))
    except ValueError:
        return None


def send_command(path, command, arguments=None, timeout=DEFAULT_TIMEOUT, raw=None):
    """Send one command to kea-dhcp4's unix control socket ``path`` and return its answer (a dict).

    Kea answers with one JSON object and then closes the connection; its answer can come in several
    chunks, so it is read until it parses (or the peer closes). ``timeout`` bounds the whole
    exchange. ``raw`` sends those bytes instead of a built command (tests).
    """
    if raw is None:
        request = {'command': command}
        if arguments is not None:
            request['arguments'] = arguments
        raw = json.dumps(request).encode('utf-8')
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except FileNotFoundError:
            raise KeaCtrlError('control socket %s does not exist (kea-dhcp4 not started, or its control-socket is elsewhere)' % path, 'missing')
        except ConnectionRefusedError:
            raise KeaCtrlError('control socket %s refuses connections: no kea-dhcp4 listens on it (the socket file stays after kea-dhcp4 died)'
                               % path, 'refused')
        except PermissionError:
            raise KeaCtrlError('permission denied on control socket %s (it belongs to _kea and only its owner may write to it;'
                               ' /run/kea is 0750 on Kea 2.6: use become)' % path, 'permission')
        except socket.timeout:
            raise KeaCtrlError('timeout after %ss connecting to control socket %s' % (timeout, path), 'timeout')
        except OSError as exc:
            raise KeaCtrlError('cannot connect to control socket %s: %s' % (path, exc), 'other')
        buf = b''
        try:
            sock.sendall(raw)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
                answer = _decode(buf)
                if answer is not None:
                    break
        except socket.timeout:
            raise KeaCtrlError('timeout after %ss waiting for the answer to %s on %s (%d bytes read)' % (timeout, command, path, len(buf)), 'timeout')
        except OSError as exc:
            raise KeaCtrlError('error talking to control socket %s: %s' % (path, exc), 'other')
    finally:
        sock.close()
    answer = _decode(buf)
    if not isinstance(answer, dict):
        raise KeaCtrlError('the answer to %s on %s is not a JSON object: %r' % (command, path, buf[:200]), 'protocol')
    return answer


def result_of(answer):
    """``{'result': int, 'text': str}`` of an answer (what modules return as kea_response)."""
    return {'result': answer.get('result'), 'text': answer.get('text')}


def collection_state(kea_state):
    """The collection's name for a Kea HA state (None stays None)."""
    if kea_state is None:
        return None
    kea_state = kea_state.lower()
    return TO_COLLECTION.get(kea_state, kea_state)


def state_matches(state, wanted):
    """Whether a peers entry's state is one of ``wanted`` (collection names or Kea names)."""
    return state.get('my_state') in wanted or state.get('ha_state') in wanted


def new_state():
    """A peers entry with every key ISC dhcpd's has, plus Kea's own."""
    return {
        'my_state': None, 'my_state_since': None, 'my_state_source': None,
        'partner_state': None, 'partner_state_since': None, 'partner_state_source': None,
        'mclt': None, 'transitions': [], 'both_normal_seen': None, 'both_normal_since': None,
        'disconnected_at': None, 'pool': None, 'source': None, 'leases_file': None, 'running': None,
        'backend': 'kea', 'ha_state': None, 'partner_ha_state': None, 'ha_mode': None, 'ha_role': None,
        'partner_role': None, 'server_name': None, 'partner_name': None, 'scopes': None,
        'partner_scopes': None, 'unsent_update_count': None, 'in_touch': None,
        'communication_interrupted': None, 'age': None, 'unacked_clients': None,
        'unacked_clients_left': None, 'connecting_clients': None, 'analyzed_packets': None,
        'date_time': None,
    }


def _check(answer, command):
    if answer.get('result') != 0:
        raise KeaCtrlError('%s failed (result %s): %s' % (command, answer.get('result'), answer.get('text')), 'command')
    return answer.get('arguments') or {}


def parse_status_get(answer):
    """The HA relationships of a ``status-get`` answer, each a state dict (see ``new_state``).

    Kea 2.2 gives one relationship without names; 2.6 adds ``server-name`` to local and remote.
    A server without the HA hook answers without ``high-availability``: an empty list.
    """
    arguments = _check(answer, 'status-get')
    states = []
    for relationship in arguments.get('high-availability') or []:
        servers = relationship.get('ha-servers') or {}
        local = servers.get('local') or {}
        remote = servers.get('remote') or {}
        state = new_state()
        state.update(
            ha_mode=relationship.get('ha-mode'),
            ha_state=local.get('state'),
            my_state=collection_state(local.get('state')),
            my_state_source='control_socket',
            ha_role=local.get('role'),
            scopes=local.get('scopes'),
            server_name=local.get('server-name'),
            source='control_socket',
        )
        if remote:
            state.update(
                partner_ha_state=remote.get('last-state') or None,
                partner_state=collection_state(remote.get('last-state') or None),
                partner_state_source='control_socket',
                partner_role=remote.get('role'),
                partner_name=remote.get('server-name'),
                partner_scopes=remote.get('last-scopes'),
                in_touch=remote.get('in-touch'),
                communication_interrupted=remote.get('communication-interrupted'),
                age=remote.get('age'),
                unacked_clients=remote.get('unacked-clients'),
                unacked_clients_left=remote.get('unacked-clients-left'),
                connecting_clients=remote.get('connecting-clients'),
                analyzed_packets=remote.get('analyzed-packets'),
            )
        states.append(state)
    return states


def parse_heartbeat(answer):
    """``{state, my_state, scopes, unsent_update_count, date_time}`` of an ``ha-heartbeat`` answer."""
    arguments = _check(answer, 'ha-heartbeat')
    return {
        'ha_state': arguments.get('state'),
        'my_state': collection_state(arguments.get('state')),
        'scopes': arguments.get('scopes'),
        'unsent_update_count': arguments.get('unsent-update-count'),
        'date_time': arguments.get('date-time'),
    }


def merge_heartbeat(state, heartbeat):
    """Add what only ``ha-heartbeat`` tells (unsent updates, the server's clock) to a state dict."""
    state['unsent_update_count'] = heartbeat['unsent_update_count']
    state['date_time'] = heartbeat['date_time']
    if state['ha_state'] is None:
        state['ha_state'], state['my_state'], state['scopes'] = heartbeat['ha_state'], heartbeat['my_state'], heartbeat['scopes']
    return state


def this_server_name(config_answer):
    """``this-server-name`` of the first HA relationship in a ``config-get`` answer, and the partner
    names, as ``(name, [partner names])``; ``(None, [])`` without the HA hook. Kea 2.2's status-get
    does not name the servers."""
    arguments = _check(config_answer, 'config-get')
    for hook in (arguments.get('Dhcp4') or {}).get('hooks-libraries') or []:
        relationships = (hook.get('parameters') or {}).get('high-availability')
        if relationships:
            first = relationships[0]
            name = first.get('this-server-name')
            partners = [peer.get('name') for peer in first.get('peers') or [] if peer.get('name') != name]
            return name, partners
    return None, []


def version_of(answer):
    """The version text of a ``version-get`` answer, e.g. ``2.2.0`` (None on error)."""
    if answer.get('result') != 0:
        return None
    return (answer.get('text') or '').strip() or None


# HA_STATE_TRANSITION: "server transitions from READY to HOT-STANDBY state, partner state is READY"
# (2.2); 2.6 puts the relationship name first ("server1: server transitions ..."). Kea's own log
# prefix (its time, severity and logger) may stand before the message id when it logs to stdout.
_TRANSITION_RE = re.compile(
    r'HA_STATE_TRANSITION\s+(?:(?P<relationship>[^\s:]+):\s+)?server transitions from (?P<old>[A-Z-]+) to (?P<new>[A-Z-]+) state,'
    r' partner state is (?P<partner>[A-Z-]+)')


def parse_transition(message):
    """``{relationship, from, to, partner_state}`` (Kea names, lower case; relationship None on 2.2)
    of an HA_STATE_TRANSITION message, or None for any other line."""
    match = _TRANSITION_RE.search(message or '')
    if not match:
        return None
    return {
        'relationship': match.group('relationship'),
        'from': match.group('old').lower(),
        'to': match.group('new').lower(),
        'partner_state': match.group('partner').lower(),
    }


def parse_entries(entries, max_transitions=20):
    """Transitions of one service run from journald entries (dicts with MESSAGE and
    __REALTIME_TIMESTAMP), oldest first, each ``{time, who: me, from, to, partner_state,
    relationship}`` with collection names in from/to/partner_state and Kea's in ha_from/ha_to."""
    transitions = []
    for entry in entries:
        message = entry.get('MESSAGE')
        if isinstance(message, list):  # journalctl -o json gives non-UTF-8 text as a byte list
            message = bytes(message).decode('utf-8', 'replace')
        found = parse_transition(message)
        if not found:
            continue
        stamp = entry.get('__REALTIME_TIMESTAMP')
        transitions.append({
            'time': _failover_log.iso_utc(stamp) if stamp is not None else None,
            'who': 'me',
            'from': collection_state(found['from']),
            'to': collection_state(found['to']),
            'partner_state': collection_state(found['partner_state']),
            'ha_from': found['from'],
            'ha_to': found['to'],
            'relationship': found['relationship'],
        })
    return transitions[-max_transitions:] if max_transitions else transitions


def add_journal(state, transitions, max_transitions=20):
    """Since-times and the transitions of the current run for a state dict: my_state_since is the
    time of the last transition into the current state, both_normal_seen whether the server reached
    its mode's normal state in this run (Kea enters load-balancing/hot-standby only with its partner
    in a matching state)."""
    mine = [t for t in transitions if t['relationship'] in (None, state.get('server_name'))] if state.get('server_name') else transitions
    state['transitions'] = mine[-max_transitions:] if max_transitions else list(mine)
    if state.get('ha_state'):
        into = [t for t in mine if t['ha_to'] == state['ha_state']]
        if into:
            state['my_state_since'] = into[-1]['time']
    normal = [t for t in mine if t['to'] == 'normal']
    state['both_normal_seen'] = bool(normal)
    state['both_normal_since'] = normal[-1]['time'] if normal else None
    return state


def name_states(states, peer=None, server_name=None):
    """``{PEER_NAME: state}``: ``peer`` (the pair name the playbooks pass) for the first relationship,
    else the relationship's this-server-name (``server_name`` where Kea 2.2 does not give it)."""
    named = {}
    for index, state in enumerate(states):
        if state['server_name'] is None and index == 0 and server_name:
            state['server_name'] = server_name
        if peer and index == 0:
            named[peer] = state
        else:
            named[state['server_name'] or 'relationship%d' % (index + 1)] = state
    return named


def daemon_status(props, unit, proc=None):
    """Whether kea-dhcp4 runs: the unit active/running and a live kea-dhcp4 in its cgroup or its
    MainPID (``_failover_log.daemon_status`` with Kea's process name)."""
    return _failover_log.daemon_status(props, unit, proc, comm=KEA_COMM)


def describe(peers):
    """One line per relationship for messages."""
    return ', '.join('%s: my state %s (%s), partner %s' % (name, s['my_state'], s['ha_state'], s['partner_state'])
                     for name, s in sorted(peers.items())) or 'no HA relationship found'


def read_server(module, control_socket=DEFAULT_SOCKET, unit=DEFAULT_UNIT, peer=None, max_transitions=20, timeout=DEFAULT_TIMEOUT):
    """What dhcp.failover.state_info returns for a Kea server: the process check, the HA state over
    the control socket (status-get + ha-heartbeat; config-get for the server's name on 2.2, version-get),
    and the current run's HA_STATE_TRANSITION lines from journald for the since-times.

    The socket is asked whatever systemd says (a kea-dhcp4 started by hand still answers); a
    socket that cannot be asked leaves ``peers`` empty and says why in ``socket_problem``.
    """
    result = {'backend': 'kea', 'control_socket': control_socket, 'version': None, 'source': 'control_socket',
              'journal_reader': None, 'invocation_id': None, 'running': None, 'service_active': None,
              'service_state': None, 'not_running_reason': None, 'dhcpd_pids': [], 'pools': {}, 'journal_lines': 0,
              'journal_suppressed': None, 'journal_problem': None, 'last_messages': [], 'socket_problem': None, 'peers': {}}
    props = _failover_log.unit_properties(module, unit)
    status = daemon_status(props, unit)
    result.update(running=status['running'], service_active=status['running'], dhcpd_pids=status['pids'],
                  not_running_reason=status['reason'] or None)
    if props:
        result['service_state'] = '%s/%s' % (props.get('ActiveState'), props.get('SubState'))
    server_name = None
    try:
        states = parse_status_get(send_command(control_socket, 'status-get', timeout=timeout))
        if states and not states[0]['server_name'] and not peer:
            server_name = this_server_name(send_command(control_socket, 'config-get', timeout=timeout))[0]
        if states:
            merge_heartbeat(states[0], parse_heartbeat(send_command(control_socket, 'ha-heartbeat', timeout=timeout)))
        result['version'] = version_of(send_command(control_socket, 'version-get', timeout=timeout))
    except KeaCtrlError as exc:
        result['socket_problem'] = str(exc)
        states = []
    entries = None
    if props and props.get('InvocationID'):
        result['invocation_id'] = props['InvocationID']
        try:
            entries, reader = _failover_log.read_run(module, props['InvocationID'])
            result['journal_reader'] = reader
        except _failover_log.JournalUnreadable as exc:
            result['journal_problem'] = str(exc)
        if entries is None and not result['journal_problem']:
            result['journal_problem'] = 'no journal reader (neither python3-systemd nor journalctl)'
    elif not props:
        result['journal_problem'] = 'no systemd unit %s to read the journal of' % unit
    transitions = []
    if entries:
        result['journal_lines'] = len(entries)
        texts = [entry.get('MESSAGE') for entry in entries]
        result['last_messages'] = [text for text in texts if isinstance(text, str) and text.strip()][-12:]
        transitions = parse_entries(entries, 0)
    result['peers'] = name_states(states, peer, server_name)
    for state in result['peers'].values():
        add_journal(state, transitions, max_transitions)
        state['running'] = result['running']
    return result
