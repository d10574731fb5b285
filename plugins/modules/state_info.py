#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
module: state_info
short_description: Failover state of ISC dhcpd (journald, leases file) or Kea HA state (control socket)
version_added: 1.0.0
description:
  - With O(backend=kea) (Kea DHCPv4 with the HA hook), see the Kea description further down; what follows until there
    is about ISC dhcpd (O(backend=isc_dhcpd), the default).
  - Reports, for each failover peer of the ISC dhcpd 4.4 server on the host, its own state and its partner's state, since
    when, the last transitions, whether both servers reached C(normal) in the current service run, and the latest pool
    balance figures.
  - Reads journald for the service unit, only the entries of the current (or last) run of the unit, matched by the
    unit's C(InvocationID) on the C(_SYSTEMD_INVOCATION_ID) field that journald attaches to every line dhcpd logs.
    journald indexes that field, so the cost does not grow with the size of the journal.
  - Uses Debian's C(python3-systemd) journal reader when it can be imported, else runs C(journalctl -o json).
  - Cross-checks with the C(failover peer "NAME" state {}) block of the leases file, and works from the leases file alone
    where journald is absent. dhcpd rewrites that block at every state change with the time of the transition (after a
    restart it keeps the time of its state before the restart until the next change, so the journal is newer there).
    RV(peers.my_state) and RV(peers.partner_state) each come from the source that records the newer transition
    (RV(peers.my_state_source), RV(peers.partner_state_source)); journald drops a unit's lines beyond its rate limit
    (C(RateLimitBurst) per C(RateLimitIntervalSec), default 10000 per 30 s, or the unit's C(LogRateLimitBurst)), for
    example under heavy DHCP load, and a dropped state line would otherwise leave a stale state.
  - Where both sources give the same transition time (one second resolution) or a time is missing, the journal wins,
    unless journald logged that it dropped lines of the unit since the service started (its own
    C(Suppressed N messages from UNIT) lines, read by their C(MESSAGE_ID) from the start of the run, see
    RV(journal_suppressed)); then the leases file wins.
  - The state dict of a peer (RV(peers)) is the collection's one vocabulary for failover state. M(dhcp.failover.state)
    returns the same dict, read over OMAPI, before and after its change (RV(dhcp.failover.state#module:before),
    RV(dhcp.failover.state#module:after)), and the report of the C(dhcp.failover.status) playbook uses the same keys.
  - "Tells plainly whether dhcpd runs (RV(running)): the unit is C(active) with SubState C(running) and a live C(dhcpd)
    process sits in the unit's cgroup (or is its C(MainPID)). C(systemctl is-active) is not enough, because Debian's
    C(isc-dhcp-server) is an LSB unit with C(RemainAfterExit=yes): after C(kill -9) of dhcpd (a crash) it stays
    C(active) with SubState C(exited) and C(MainPID=0). Without systemd, any live C(dhcpd) process counts."
  - The states of a dhcpd that is not running are what it last recorded, not what it serves; RV(peers.running) says so
    for each peer, and O(wait_for) is never satisfied by a dhcpd that is not running.
  - When the journal cannot be read (not root and not in group C(systemd-journal) or C(adm), no reader, or no entries for
    the unit's current run, which always logs at least its start), it warns, says in RV(journal_problem) which source
    the states come from instead, and with O(source=journald) it fails.
  - "Kea (O(backend=kea)): asks kea-dhcp4 over its unix control socket (O(control_socket)) with C(status-get) and
    C(ha-heartbeat) (plus C(config-get) for the server's name on Kea 2.2, whose C(status-get) does not name it, and
    C(version-get)), through a plain AF_UNIX JSON client (no socat, no Control Agent). Works with Kea 2.2 and 2.6."
  - "Kea: the result has the same keys. RV(peers) has one entry per HA relationship, named O(peer) when given (the
    playbooks pass the pair name) else the relationship's C(this-server-name). RV(peers.my_state) and
    RV(peers.partner_state) use the collection's vocabulary: C(load-balancing) and C(hot-standby) are V(normal),
    C(communication-recovery) is V(communications-interrupted), C(partner-down) is V(partner-down), every other Kea state
    keeps its Kea name (V(waiting), V(syncing), V(ready), V(in-maintenance), V(partner-in-maintenance), V(terminated),
    V(backup), V(passive-backup), V(unavailable) for a partner that cannot be reached). Kea's own names are in
    RV(peers.ha_state) and RV(peers.partner_ha_state)."
  - "Kea: RV(peers.my_state_since) is the time of the last C(HA_STATE_TRANSITION) line of the current run of the unit
    into the current state (Kea 2.2 and 2.6 formats), V(null) when the journal has none; Kea does not tell since when
    the partner is in its state (RV(peers.partner_state_since) is V(null))."
  - "Kea: RV(running) is judged from the process: the unit (O(unit), default C(kea-dhcp4-server)) is C(active) with
    SubState C(running) and a live C(kea-dhcp4) is in its cgroup or is its C(MainPID). After C(kill -9) the unit is
    C(failed) and the socket file stays (connecting is refused); RV(socket_problem) then says why no state was read."
  - Never changes anything.
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
  - dhcp.failover.attributes.INFO_MODULE
  - dhcp.failover.attributes.IDEMPOTENT_NOT_MODIFY_STATE
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  backend:
    description:
      - The DHCP server of the host. V(isc_dhcpd) reads ISC dhcpd's failover state, V(kea) Kea's HA state over its
        control socket.
      - The playbooks of the collection pass C(dhcp_failover_pair_info.backend).
    type: str
    choices: [isc_dhcpd, kea]
    default: isc_dhcpd
  control_socket:
    description:
      - With O(backend=kea), kea-dhcp4's unix control socket (C(control-socket.socket-name) of kea-dhcp4.conf).
      - The playbooks of the collection pass C(dhcp_failover_pair_info.control_socket).
    type: path
    default: /run/kea/kea4-ctrl-socket
  peer:
    description:
      - Name of the failover peer (C(failover peer "NAME")) to report. All peers when omitted.
      - With O(backend=kea), the name to report the (first) HA relationship under (the pair name); when omitted,
        the relationship's C(this-server-name).
    type: str
  source:
    description:
      - Where to read the state from.
      - V(auto) reads journald when the unit and a journal reader exist, and the leases file when it exists.
      - V(journald) reads only journald and fails when it cannot. V(leases) reads only the leases file.
      - Only V(auto) with O(backend=kea) (the state comes from the control socket, the since-times from journald).
    type: str
    choices: [auto, journald, leases]
    default: auto
  unit:
    description:
      - The systemd unit of dhcpd (or kea-dhcp4), whose journal is read and whose state and cgroup tell whether the
        server runs.
      - The playbooks of the collection pass C(dhcp_failover_pair_info.service).
      - Default C(isc-dhcp-server), or C(kea-dhcp4-server) with O(backend=kea).
    type: str
  lease_file:
    description:
      - The dhcpd leases file.
      - The playbooks of the collection pass the role variable C(dhcp_failover_lease_file).
    type: path
    default: /var/lib/dhcp/dhcpd.leases
  wait_for:
    description:
      - Wait until dhcpd runs (RV(running)) and every reported peer's own state (RV(peers.my_state)) is one of these
        states.
      - Fails with the last seen states when O(timeout) passes first; when dhcpd is not running the message says
        C(dhcpd is not running) and why (RV(not_running_reason)).
      - With O(backend=kea), the collection's names (V(normal) is the mode's normal state, C(load-balancing) or
        C(hot-standby); V(communications-interrupted), V(partner-down)) and Kea's own names (V(waiting), V(syncing),
        V(ready), V(in-maintenance), V(partner-in-maintenance), V(terminated), V(backup), V(passive-backup),
        V(load-balancing), V(hot-standby), V(communication-recovery), ...). The ISC-only states are refused for Kea and the
        Kea-only states for ISC dhcpd.
    type: list
    elements: str
    choices:
      - backup
      - communication-recovery
      - communications-interrupted
      - conflict-done
      - hot-standby
      - in-maintenance
      - load-balancing
      - normal
      - partner-down
      - partner-in-maintenance
      - passive-backup
      - paused
      - potential-conflict
      - ready
      - recover
      - recover-done
      - recover-wait
      - resolution-interrupted
      - shutdown
      - startup
      - syncing
      - terminated
      - unavailable
      - unknown-state
      - waiting
  timeout:
    description: Seconds to wait for O(wait_for).
    type: int
    default: 60
  max_transitions:
    description: How many of the latest transitions to return for each peer.
    type: int
    default: 20
  read_enabled:
    description:
      - Also ask C(systemctl is-enabled) whether O(unit) starts at boot (RV(unit_enabled)), once, after the wait.
      - The role passes V(true) before its restarts, so that a server already enabled is not asked again by a task of
        its own.
    type: bool
    default: false
requirements:
  - C(python3-systemd) (optional; without it the module runs C(journalctl))
notes:
  - The pool figures come from dhcpd's C(balancing pool) / C(balanced pool) lines, which do not name their failover peer.
    They are returned per peer (RV(peers.pool)) only when the server has a single failover peer, and always in RV(pools).
  - Stopping or killing dhcpd does not log a state change. RV(running) tells whether the states come from a running
    dhcpd.
  - journald writes its C(Suppressed N messages) line only with the unit's first line after the rate-limit interval, so
    RV(journal_suppressed) can stay 0 for a while after lines were dropped; the newer transition time still decides.
    RV(peers.transitions) and RV(peers.both_normal_seen) come from the journal alone and can miss dropped lines.
  - To keep dhcpd's lines at high DHCP rates, raise the unit's C(LogRateLimitBurst) in a systemd drop-in; dhcpd logs
    several lines per client exchange, so this lets it fill the journal faster, and it takes effect at the next start of
    the unit.
seealso:
  - module: dhcp.failover.state
  - name: ISC DHCP failover (dhcpd.conf manual page)
    description: The failover states and what the server does in each.
    link: https://manpages.debian.org/bookworm/isc-dhcp-server/dhcpd.conf.5.en.html
"""

EXAMPLES = r"""
- name: Report the failover state of every peer
  dhcp.failover.state_info:
  register: failover

- name: Show my state and the partner's
  ansible.builtin.debug:
    msg: "{{ item.key }}: {{ item.value.my_state }} / partner {{ item.value.partner_state }}"
  loop: "{{ failover.peers | dict2items }}"

- name: Wait until the pair is back in normal after a restart
  dhcp.failover.state_info:
    peer: dhcp-failover
    wait_for: [normal]
    timeout: 300

- name: Wait until a Kea server is back in its mode's normal HA state (load-balancing or hot-standby)
  dhcp.failover.state_info:
    backend: kea
    control_socket: /run/kea/kea4-ctrl-socket
    peer: "{{ dhcp_failover_pair_info.peer_name }}"
    wait_for: [normal]
    timeout: 120
  become: true

- name: Read only the leases file (no journald on this host)
  dhcp.failover.state_info:
    source: leases
    lease_file: /var/lib/dhcp/dhcpd.leases
"""

RETURN = r"""
peers:
  description: Failover state per peer name.
  returned: always
  type: dict
  contains:
    my_state:
      description: This server's failover state.
      type: str
      sample: normal
    my_state_since:
      description: When this server entered RV(peers.my_state), ISO 8601 UTC.
      type: str
      sample: '2026-11-24T15:54:22Z'
    my_state_source:
      description:
        - Where RV(peers.my_state) comes from, V(journald) or V(leases) (the source with the newer transition time).
      type: str
      sample: leases
    partner_state:
      description: The partner's failover state as this server knows it.
      type: str
      sample: normal
    partner_state_since:
      description: When the partner entered RV(peers.partner_state), ISO 8601 UTC.
      type: str
      sample: '2026-11-24T15:54:22Z'
    partner_state_source:
      description: Where RV(peers.partner_state) comes from, V(journald) or V(leases).
      type: str
      sample: leases
    mclt:
      description:
        - The MCLT in seconds the server uses for the peer, as dhcpd records it in the leases file. dhcpd records it on the
          secondary only (the MCLT it learned from the primary); V(null) on the primary and when the leases file was not
          read.
      type: int
      sample: 3600
    transitions:
      description: The last O(max_transitions) transitions of the current service run, oldest first.
      type: list
      elements: dict
      sample:
        - {time: '2026-11-24T15:54:58Z', who: me, from: normal, to: communications-interrupted}
        - {time: '2026-11-24T15:55:01Z', who: me, from: communications-interrupted, to: partner-down}
    both_normal_seen:
      description:
        - Whether dhcpd logged C(Both servers normal) for this peer since the service started.
        - V(null) when journald was not read.
      type: bool
      sample: true
    both_normal_since:
      description: When C(Both servers normal) was last logged in the current run, or V(null).
      type: str
      sample: '2026-11-24T15:54:22Z'
    disconnected_at:
      description: When dhcpd last logged C(peer NAME disconnected) in the current run, or V(null).
      type: str
      sample: '2026-11-24T15:54:58Z'
    pool:
      description:
        - Latest pool balance figures, summed over the pools (only with a single failover peer, else V(null)).
        - C(free) are addresses the primary may allocate, C(backup) those the secondary may allocate.
      type: dict
      sample: {total: 40, free: 19, backup: 20, lts: 0, max_own: null, balanced: true}
    source:
      description:
        - V(journald) when the current run's journal gave RV(peers.my_state) or RV(peers.partner_state), else V(leases).
        - See RV(peers.my_state_source) and RV(peers.partner_state_source) for each state.
      type: str
      sample: journald
    leases_file:
      description: The peer's latest state block of the leases file, V(null) when not read or absent.
      type: dict
      sample: {my_state: normal, my_state_since: '2026-11-24T15:54:22Z', partner_state: normal,
               partner_state_since: '2026-11-24T15:54:22Z', mclt: null}
    running:
      description:
        - Whether the dhcpd holding this state runs (RV(running)). When V(false), RV(peers.my_state) and
          RV(peers.partner_state) are what the dead dhcpd last recorded, not what it serves.
        - M(dhcp.failover.state) returns V(true) (dhcpd answered over OMAPI).
      type: bool
      sample: true
    backend:
      description:
        - V(kea) (only with O(backend=kea)).
        - Returned only with O(backend=kea).
      type: str
      sample: 'kea'
    ha_state:
      description:
        - Kea's own name of this server's HA state (C(status-get) C(ha-servers.local.state)).
        - Only with O(backend=kea).
      type: str
      sample: 'hot-standby'
    partner_ha_state:
      description:
        - Kea's name of the partner's last known state (C(ha-servers.remote.last-state)); V(unavailable) when it cannot be reached.
        - Only with O(backend=kea).
      type: str
      sample: 'hot-standby'
    ha_mode:
      description:
        - The relationship's mode, V(load-balancing), V(hot-standby) or V(passive-backup).
        - Only with O(backend=kea).
      type: str
      sample: 'hot-standby'
    ha_role:
      description:
        - This server's role in the relationship (V(primary), V(secondary), V(standby), V(backup)).
        - Only with O(backend=kea).
      type: str
      sample: 'primary'
    partner_role:
      description:
        - The partner's role.
        - Only with O(backend=kea).
      type: str
      sample: 'standby'
    server_name:
      description:
        - This server's C(this-server-name).
        - Only with O(backend=kea).
      type: str
      sample: 'server1'
    partner_name:
      description:
        - The partner's name (Kea 2.6; V(null) on 2.2).
        - Only with O(backend=kea).
      type: str
      sample: 'server2'
    scopes:
      description:
        - The scopes (HA_server1, ...) this server serves now, by server name.
        - Only with O(backend=kea).
      type: list
      elements: str
      sample: ["server1"]
    partner_scopes:
      description:
        - The partner's last known scopes.
        - Only with O(backend=kea).
      type: list
      elements: str
      sample: []
    unsent_update_count:
      description:
        - Lease updates not yet sent to the partner (C(ha-heartbeat)).
        - Only with O(backend=kea).
      type: int
      sample: 0
    in_touch:
      description:
        - Whether this server has talked to the partner since it started.
        - Only with O(backend=kea).
      type: bool
      sample: true
    communication_interrupted:
      description:
        - Whether the partner stopped answering (max-response-delay passed).
        - Only with O(backend=kea).
      type: bool
      sample: false
    age:
      description:
        - Seconds since the partner last answered.
        - Only with O(backend=kea).
      type: int
      sample: 1
    unacked_clients:
      description:
        - Clients the partner left unanswered while communication is interrupted.
        - Only with O(backend=kea).
      type: int
      sample: 0
    unacked_clients_left:
      description:
        - How many more unanswered clients before this server moves to partner-down.
        - Only with O(backend=kea).
      type: int
      sample: 0
    connecting_clients:
      description:
        - Clients seen trying to reach the partner while communication is interrupted.
        - Only with O(backend=kea).
      type: int
      sample: 0
    analyzed_packets:
      description:
        - Packets analyzed while communication is interrupted.
        - Only with O(backend=kea).
      type: int
      sample: 0
    date_time:
      description:
        - The server's clock as C(ha-heartbeat) gives it.
        - Only with O(backend=kea).
      type: str
      sample: 'Wed, 02 Dec 2026 07:10:13 GMT'
  sample:
    dhcp-failover:
      my_state: normal
      my_state_since: '2026-11-24T15:54:22Z'
      my_state_source: journald
      partner_state: normal
      partner_state_since: '2026-11-24T15:54:22Z'
      partner_state_source: journald
      mclt: null
      transitions:
        - {time: '2026-11-24T15:54:22Z', who: me, from: recover-done, to: normal}
        - {time: '2026-11-24T15:54:22Z', who: partner, from: recover-done, to: normal}
      both_normal_seen: true
      both_normal_since: '2026-11-24T15:54:22Z'
      disconnected_at: null
      pool: {total: 40, free: 20, backup: 20, lts: 0, max_own: null, balanced: true}
      source: journald
      leases_file: null
      running: true
source:
  description:
    - V(journald) when the journal answered for at least one peer, V(leases) otherwise.
    - V(control_socket) with O(backend=kea) (RV(peers.source) and the C(*_source) keys of each peer too).
  returned: always
  type: str
  sample: journald
journal_reader:
  description: V(python3-systemd) or V(journalctl), V(null) when journald was not read.
  returned: always
  type: str
  sample: python3-systemd
invocation_id:
  description: The InvocationID of the unit's current (or last) run whose entries were read.
  returned: always
  type: str
  sample: 62f8682833c944e5b820d6f7aedb18b4
unit_enabled:
  description:
    - With O(read_enabled=true), whether C(systemctl is-enabled) answers C(enabled) for O(unit) (V(true)); V(false) for
      any other answer (C(disabled), C(masked), C(static), C(generated), ...) or when it fails.
    - V(null) when not asked (O(read_enabled=false)) or without systemctl.
  returned: always
  type: bool
  sample: true
running:
  description:
    - Whether dhcpd runs, that is the unit is C(active) with SubState C(running) and a live C(dhcpd) process is in the
      unit's cgroup (or is its C(MainPID)); without systemd, whether any C(dhcpd) process lives.
    - Debian's LSB unit stays C(active) (SubState C(exited), C(MainPID=0)) after dhcpd was killed, so ActiveState alone
      would call a crashed dhcpd running.
  returned: always
  type: bool
  sample: true
not_running_reason:
  description: Why RV(running) is V(false), V(null) when it is V(true).
  returned: always
  type: str
  sample: 'unit isc-dhcp-server.service is active/exited (its dhcpd died: killed or crashed, while the LSB unit stays active)'
dhcpd_pids:
  description: The PIDs of the live dhcpd processes of the unit (with O(backend=kea), of the live C(kea-dhcp4) processes).
  returned: always
  type: list
  elements: int
  sample: [808]
service_active:
  description: The same as RV(running) (kept for earlier users of this key).
  returned: always
  type: bool
  sample: true
journal_problem:
  description:
    - Why the journal was not read, and which source the states come from instead; V(null) when it was read (or
      O(source=leases)). The module also warns with this text.
  returned: always
  type: str
  sample: >-
    journalctl failed (rc 1): No journal files were opened due to insufficient permissions. (the module runs as uid
    1000, not root: journald shows it only its own entries unless it is in group systemd-journal or adm; use become);
    the states come from the leases file /var/lib/dhcp/dhcpd.leases only
service_state:
  description: The unit's ActiveState and SubState as C(ACTIVE/SUB), for example C(active/exited) after dhcpd was killed.
  returned: always
  type: str
  sample: active/running
pools:
  description: Latest figures of each pool, keyed by dhcpd's pool id.
  returned: always
  type: dict
  sample:
    563fc4671f90: {network: 10.231.21.0/24, total: 40, free: 19, backup: 20, lts: 0, max_own: null,
                   max_misbalance: 6, balanced: true, time: '2026-11-24T15:56:53Z'}
journal_suppressed:
  description:
    - How many lines of the unit journald dropped (rate limit) since the service started, from journald's own
      C(Suppressed N messages from UNIT) lines; V(0) when none.
    - V(null) when journald was not read or the start of the service run is unknown.
    - When not V(0), the transitions and RV(peers.both_normal_seen) may miss lines, and the leases file wins where its
      transition time ties with the journal's.
  returned: always
  type: int
  sample: 0
journal_lines:
  description: How many journal entries of the current run were read.
  returned: always
  type: int
  sample: 161
last_messages:
  description:
    - The last 12 lines the unit logged in its current (or last) run, oldest first; after a failed start they hold
      dhcpd's own reason (for example C(No subnet declaration for eth1 (10.0.0.2).) and
      C(Not configured to listen on any interfaces!)). Empty when the journal was not read.
  returned: always
  type: list
  elements: str
  sample: ['Sending on   Socket/fallback/fallback-net', 'Server starting service.']
backend:
  description: The backend read, V(isc_dhcpd) or V(kea).
  returned: always
  type: str
  sample: kea
version:
  description: The Kea version (C(version-get)), V(null) for ISC dhcpd or when the socket did not answer.
  returned: always
  type: str
  sample: 2.6.3
control_socket:
  description: The control socket asked (O(backend=kea)), V(null) for ISC dhcpd.
  returned: always
  type: str
  sample: /run/kea/kea4-ctrl-socket
socket_problem:
  description:
    - With O(backend=kea), why the control socket gave no state (missing, refused after kea-dhcp4 died, permission
      denied, timeout, error answer); V(null) when it answered, and for ISC dhcpd.
  returned: always
  type: str
  sample: >-
    control socket /run/kea/kea4-ctrl-socket refuses connections: no kea-dhcp4 listens on it (the socket file stays after
    kea-dhcp4 died)
waited:
  description: Seconds spent waiting for O(wait_for).
  returned: always
  type: float
  sample: 12.5
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dhcp.failover.plugins.module_utils import _failover_log
from ansible_collections.dhcp.failover.plugins.module_utils import _kea_ctrl
from ansible_collections.dhcp.failover.plugins.module_utils._leases import read_leases

ISC_STATES = frozenset(_failover_log.STATE_NUMBERS)
KEA_STATES = frozenset(_kea_ctrl.WAIT_STATES)
DEFAULT_UNITS = {'isc_dhcpd': 'isc-dhcp-server', 'kea': _kea_ctrl.DEFAULT_UNIT}


def _journal_access_hint():
    """Why journald may show this process nothing: journald gives a user who is neither root nor in
    group systemd-journal (or adm) only that user's own entries, silently."""
    if os.geteuid() == 0:
        return ''
    return ' (the module runs as uid %d, not root: journald shows it only its own entries unless it is in group ' \
        'systemd-journal or adm; use become)' % os.geteuid()


LAST_MESSAGES = 12


def last_messages(entries, count=LAST_MESSAGES):
    """The text of the last ``count`` lines of the run: after a failed start, dhcpd's own reason."""
    texts = [entry.get('MESSAGE') for entry in entries]
    return [text for text in texts if isinstance(text, str) and text.strip()][-count:]


def read_state(module):
    params = module.params
    source = params['source']
    result = {'journal_reader': None, 'invocation_id': None, 'service_active': None, 'service_state': None, 'pools': {}, 'journal_lines': 0,
              'journal_suppressed': None, 'running': None, 'dhcpd_pids': [], 'not_running_reason': None, 'journal_problem': None,
              'last_messages': []}
    journal = None
    suppressed = None
    # Whether dhcpd runs is asked whatever the source: a state read from a dead daemon's files is history.
    props = _failover_log.unit_properties(module, params['unit'])
    status = _failover_log.daemon_status(props, params['unit'])
    result.update(running=status['running'], service_active=status['running'], dhcpd_pids=status['pids'],
                  not_running_reason=status['reason'] or None)
    if props:
        result['service_state'] = '%s/%s' % (props.get('ActiveState'), props.get('SubState'))
    if source in ('auto', 'journald'):
        problem = None
        if not props:
            problem = 'no systemd unit %s to read the journal of (systemctl missing or unit not found)' % params['unit']
        elif not props.get('InvocationID'):
            problem = 'unit %s has no InvocationID (it has not run since boot)' % params['unit']
        else:
            result['invocation_id'] = props['InvocationID']
            try:
                entries, reader = _failover_log.read_run(module, props['InvocationID'])
            except _failover_log.JournalUnreadable as exc:
                entries, reader = [], 'journalctl'
                problem = '%s%s' % (exc, _journal_access_hint())
            if entries is None:
                problem = 'no journal reader (neither python3-systemd nor journalctl)'
            elif problem:
                result['journal_reader'] = reader
            elif not entries:
                # every run of the unit logs at least its start, so nothing read means nothing readable
                problem = 'journald returned no entries for the current run %s of unit %s%s' % (
                    props['InvocationID'], params['unit'], _journal_access_hint())
                result['journal_reader'] = reader
            else:
                journal = _failover_log.parse_entries(entries, params['max_transitions'])
                result['journal_reader'] = reader
                result['pools'] = journal['pools']
                result['journal_lines'] = len(entries)
                result['last_messages'] = last_messages(entries)
                since = props.get('started_usec')
                if since is None and entries:
                    # systemctl < 248 (no --timestamp=unix): one second before the run's first line
                    since = int(entries[0]['__REALTIME_TIMESTAMP']) - 1000000
                suppressed = _failover_log.read_suppressed(module, props.get('Id') or params['unit'], since)
                if suppressed is not None:
                    result['journal_suppressed'] = suppressed['count']
        result['journal_problem'] = problem
        if problem and source == 'journald':
            module.fail_json(msg='cannot read the journal (source=journald): %s' % problem, **result)
    leases = None
    if source in ('auto', 'leases'):
        if os.path.exists(params['lease_file']):
            try:
                leases = read_leases(params['lease_file'])
            except (IOError, OSError) as exc:
                module.fail_json(msg='cannot read %s: %s' % (params['lease_file'], exc))
        elif source == 'leases':
            module.fail_json(msg='lease file %s does not exist' % params['lease_file'])
    if result['journal_problem']:
        result['journal_problem'] += '; the states come from %s only' % (
            'the leases file %s' % params['lease_file'] if leases is not None else 'nowhere (no leases file either)')
    result['peers'] = _failover_log.combine(journal, leases, params['peer'], suppressed=result['journal_suppressed'])
    for peer in result['peers'].values():
        peer['running'] = result['running']
    result['source'] = 'journald' if any(p['source'] == 'journald' for p in result['peers'].values()) else 'leases'
    result.update(backend='isc_dhcpd', version=None, control_socket=None, socket_problem=None)
    return result


def read_kea_state(module):
    params = module.params
    result = _kea_ctrl.read_server(module, params['control_socket'], params['unit'], params['peer'], params['max_transitions'],
                                   timeout=min(float(params['timeout']) or _kea_ctrl.DEFAULT_TIMEOUT, _kea_ctrl.DEFAULT_TIMEOUT))
    if result['journal_problem'] is None and result['invocation_id'] and not result['journal_lines']:
        result['journal_problem'] = 'journald returned no entries for the current run %s of unit %s%s' % (
            result['invocation_id'], params['unit'], _journal_access_hint())
    elif result['journal_problem'] and result['journal_problem'].startswith('journalctl failed'):
        result['journal_problem'] += _journal_access_hint()
    if result['journal_problem']:
        result['journal_problem'] += ('; the control socket gave no state either' if result['socket_problem']
                                      else '; the states come from the control socket only (no since-times)')
    return result


def warn_unread_journal(module, result):
    if result['journal_problem']:
        module.warn('journal not read: %s' % result['journal_problem'])


def describe(peers, backend='isc_dhcpd'):
    if backend == 'kea':
        return _kea_ctrl.describe(peers)
    return ', '.join('%s: my state %s, partner %s' % (name, p['my_state'], p['partner_state'])
                     for name, p in sorted(peers.items())) or 'no failover peer found'


def unit_enabled(module, unit):
    """True when ``systemctl is-enabled UNIT`` answers ``enabled``, False for any other answer, None without systemctl.

    Debian's isc-dhcp-server is an LSB script: systemctl asks systemd-sysv-install, which prints ``enabled`` on stdout
    (and its redirect notes on stderr).
    """
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        return None
    rc, out, dummy = module.run_command([systemctl, 'is-enabled', unit], environ_update={'LC_ALL': 'C'})
    return rc == 0 and out.split()[:1] == ['enabled']


def main():
    module = AnsibleModule(
        argument_spec=dict(
            backend=dict(type='str', default='isc_dhcpd', choices=['isc_dhcpd', 'kea']),
            control_socket=dict(type='path', default=_kea_ctrl.DEFAULT_SOCKET),
            peer=dict(type='str'),
            source=dict(type='str', default='auto', choices=['auto', 'journald', 'leases']),
            unit=dict(type='str'),
            lease_file=dict(type='path', default='/var/lib/dhcp/dhcpd.leases'),
            wait_for=dict(type='list', elements='str', choices=sorted(ISC_STATES | KEA_STATES)),
            timeout=dict(type='int', default=60),
            max_transitions=dict(type='int', default=20),
            read_enabled=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    backend = params['backend']
    if params['unit'] is None:
        params['unit'] = DEFAULT_UNITS[backend]
    wait_for = params['wait_for']
    own, other = (KEA_STATES, ISC_STATES) if backend == 'kea' else (ISC_STATES, KEA_STATES)
    foreign = sorted(set(wait_for or []) - own)
    if foreign:
        module.fail_json(msg='wait_for: %s %s not a state of %s (backend=%s); its states: %s' % (
            ', '.join(foreign), 'is' if len(foreign) == 1 else 'are', 'Kea HA' if backend == 'kea' else 'ISC dhcpd failover',
            backend, ', '.join(sorted(own))))
    if backend == 'kea' and params['source'] != 'auto':
        module.fail_json(msg='source=%s is for backend=isc_dhcpd; a Kea server is read over its control socket (source auto)' % params['source'])
    reader = read_kea_state if backend == 'kea' else read_state
    daemon = 'kea-dhcp4' if backend == 'kea' else 'dhcpd'
    started = time.monotonic()
    while True:
        result = reader(module)
        result['waited'] = round(time.monotonic() - started, 1)
        peers = result['peers']
        if not wait_for:
            break
        # a state is only reached by a running server: a killed dhcpd leaves its last state behind
        if result['running'] and peers and all(p['my_state'] in wait_for or p.get('ha_state') in wait_for for p in peers.values()):
            break
        if result['waited'] >= module.params['timeout']:
            warn_unread_journal(module, result)
            if not result['running']:
                module.fail_json(msg='timeout after %ss waiting for %s: %s is not running (%s); last recorded %s' % (
                    module.params['timeout'], ' or '.join(wait_for), daemon, result['not_running_reason'], describe(peers, backend)),
                    changed=False, **result)
            if result.get('socket_problem'):
                module.fail_json(msg='timeout after %ss waiting for %s: %s' % (
                    module.params['timeout'], ' or '.join(wait_for), result['socket_problem']), changed=False, **result)
            module.fail_json(msg='timeout after %ss waiting for %s; last seen %s' % (
                module.params['timeout'], ' or '.join(wait_for), describe(peers, backend)), changed=False, **result)
        time.sleep(1)
    warn_unread_journal(module, result)
    result['unit_enabled'] = unit_enabled(module, params['unit']) if params['read_enabled'] else None
    if backend == 'kea' and result['socket_problem'] and not peers:
        module.warn('Kea HA state not read: %s' % result['socket_problem'])
    elif backend == 'kea' and not peers:
        module.warn('kea-dhcp4 answered but has no HA relationship (is libdhcp_ha.so loaded?)')
    elif module.params['peer'] and module.params['peer'] not in peers:
        module.fail_json(msg='failover peer %s not found in the journal or the leases file' % module.params['peer'],
                         changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
