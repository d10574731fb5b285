#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
module: kea_ha
short_description: Operator commands for a Kea DHCPv4 HA server over its control socket
version_added: 1.0.0
description:
  - Sends one HA operator command (C(ha-maintenance-start), C(ha-maintenance-cancel), C(ha-continue), C(ha-sync),
    C(ha-reset) or C(ha-heartbeat)) to kea-dhcp4 over its unix control socket, with a plain AF_UNIX JSON client (no
    socat, no Control Agent). Works with Kea 2.2 and 2.6.
  - Returns the server's HA state before and after (RV(before), RV(after)) as the same dict, with the same keys, as
    M(dhcp.failover.state_info) returns for a Kea server (RV(dhcp.failover.state_info#module:peers)), so
    C(after.my_state) is in the collection's vocabulary (V(normal) for C(load-balancing)/C(hot-standby),
    V(partner-down), V(partner-in-maintenance), ...).
  - V(maintenance_start) goes to the server that STAYS UP. Its partner moves to C(in-maintenance), it moves to
    C(partner-in-maintenance) and serves every client; the partner can then be stopped (this server then goes
    C(partner-down)). Sent to a server whose partner is already unreachable, Kea moves the server straight to
    C(partner-down) ("Server is now in the partner-down state as its partner appears to be offline for maintenance."). That is
    Kea's way to declare the partner down, measured on Kea 2.2.0 and 2.6.3 in the lab (state reached within 0.2 s of
    the command, the partner killed with C(kill -9) a moment before).
  - V(maintenance_cancel) goes to the server in C(partner-in-maintenance) while its partner is still
    C(in-maintenance); both return to their normal state.
  - V(continue) resumes a paused HA state machine (C(state-machine) pausing in the HA config).
  - V(sync) pulls the partner's leases into this server (C(ha-sync), the partner's DHCP service is disabled meanwhile,
    at most O(max_period) seconds). V(reset) sends C(ha-reset), which makes the server resynchronize (from C(terminated)
    it goes back to C(waiting)).
  - V(heartbeat) only reads (C(ha-heartbeat)); it never changes anything.
  - "Guard rails: nothing is sent when the server is already where the command leads (V(maintenance_start) in
    C(partner-in-maintenance) or C(partner-down), V(maintenance_cancel) anywhere but C(partner-in-maintenance)); the
    module fails without sending when V(maintenance_start) or V(maintenance_cancel) goes to a server in
    C(in-maintenance) (they belong on its partner), and when the control socket cannot be asked."
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the state over the control socket and reports whether the command would change it; sends nothing else.
        For V(continue), V(sync) and V(reset) it reports a change (Kea cannot say beforehand whether they will act).
  diff_mode:
    support: full
    details:
      - Shows the own state (C(my_state)) before and after.
  idempotent:
    support: partial
    details:
      - V(maintenance_start) and V(maintenance_cancel) change nothing when the server is already where they lead;
        V(sync) and V(reset) act every time.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  command:
    description: The HA command to send.
    type: str
    required: true
    choices: [maintenance_start, maintenance_cancel, continue, sync, reset, heartbeat]
  control_socket:
    description:
      - kea-dhcp4's unix control socket (C(control-socket.socket-name) of kea-dhcp4.conf).
      - The playbooks of the collection pass C(dhcp_failover_pair_info.control_socket).
    type: path
    default: /run/kea/kea4-ctrl-socket
  unit:
    description:
      - The systemd unit of kea-dhcp4, whose state and cgroup tell whether it runs (C(before.running)) and whose
        journal gives the since-times.
    type: str
    default: kea-dhcp4-server
  peer:
    description:
      - The name of the state in the result (the pair name); the relationship's C(this-server-name) when omitted.
    type: str
  max_period:
    description: With V(sync), the most seconds the partner's DHCP service stays disabled during the sync.
    type: int
    default: 60
  wait_for:
    description:
      - After the command, wait until this server's own state (C(after.my_state), or Kea's name C(after.ha_state)) is
        one of these; fail with the last seen state when O(timeout) passes first.
      - The collection's names (V(normal) is the mode's normal state) and Kea's own names.
    type: list
    elements: str
    choices:
      - backup
      - communication-recovery
      - communications-interrupted
      - hot-standby
      - in-maintenance
      - load-balancing
      - normal
      - partner-down
      - partner-in-maintenance
      - passive-backup
      - ready
      - syncing
      - terminated
      - unavailable
      - waiting
  timeout:
    description: Seconds to wait for O(wait_for); also bounds each exchange on the socket (at most 10 s each, V(sync) 60 s).
    type: int
    default: 60
seealso:
  - module: dhcp.failover.state_info
  - name: Kea ARM, High Availability hook
    description: HA states and control commands (ha-maintenance-start, ha-sync, ha-reset, ...).
    link: https://kea.readthedocs.io/en/latest/arm/hooks.html#ha-high-availability-outage-resilience-for-kea-servers
"""

EXAMPLES = r"""
- name: Put the partner in maintenance (sent to the server that stays up)
  dhcp.failover.kea_ha:
    command: maintenance_start
    peer: "{{ dhcp_failover_pair_info.peer_name }}"
    wait_for: [partner-in-maintenance, partner-down]
    timeout: 30
  become: true

- name: Declare the partner down after a real outage (Kea's partner-down)
  dhcp.failover.kea_ha:
    command: maintenance_start
    wait_for: [partner-down]
  become: true

- name: Cancel a maintenance that was not needed
  dhcp.failover.kea_ha:
    command: maintenance_cancel
    wait_for: [normal]
  become: true

- name: Read the server's heartbeat
  dhcp.failover.kea_ha:
    command: heartbeat
  register: heartbeat
  become: true
"""

RETURN = r"""
before:
  description:
    - The server's HA state before the command, the dict M(dhcp.failover.state_info) returns under
      RV(dhcp.failover.state_info#module:peers) for a Kea server (C(my_state), C(partner_state), C(ha_state),
      C(partner_ha_state), C(ha_mode), C(ha_role), C(scopes), C(unsent_update_count), C(in_touch),
      C(communication_interrupted), C(running), ...).
  returned: always
  type: dict
  sample: {my_state: normal, ha_state: hot-standby, partner_state: normal, partner_ha_state: hot-standby,
           ha_mode: hot-standby, ha_role: primary, scopes: [server1], running: true, backend: kea}
after:
  description:
    - The state after the command (and after O(wait_for)), same keys as RV(before). In check mode, the same as
      RV(before).
  returned: always
  type: dict
  sample: {my_state: partner-in-maintenance, ha_state: partner-in-maintenance, partner_state: in-maintenance,
           partner_ha_state: in-maintenance, ha_mode: hot-standby, ha_role: primary, scopes: [server1], running: true}
peer:
  description: The name of the state (O(peer), or the server's C(this-server-name)).
  returned: always
  type: str
  sample: server1
kea_command:
  description: The Kea command this module sends (or would send in check mode), V(null) when nothing is to be sent.
  returned: always
  type: str
  sample: ha-maintenance-start
kea_response:
  description: Kea's answer, C(result) (0 success, 1 error, 2 unsupported, 3 empty) and C(text); V(null) when nothing
    was sent.
  returned: always
  type: dict
  sample: {result: 0, text: Server is now in the partner-in-maintenance state and its partner is in-maintenance state.
           The partner can be now safely shut down.}
heartbeat:
  description: With V(heartbeat), the parsed answer (Kea's state name, scopes, unsent update count, the server's clock).
  returned: when O(command=heartbeat)
  type: dict
  sample: {ha_state: hot-standby, my_state: normal, scopes: [server1], unsent_update_count: 0,
           date_time: 'Wed, 02 Dec 2026 07:10:13 GMT'}
version:
  description: The Kea version (C(version-get)).
  returned: always
  type: str
  sample: 2.2.0
waited:
  description: Seconds spent waiting for O(wait_for).
  returned: always
  type: float
  sample: 0.4
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.dhcp.failover.plugins.module_utils import _kea_ctrl

CHANGES_ALWAYS = ('continue', 'sync', 'reset')


def read(module):
    """(name, state, result of read_server) of the server's first HA relationship; fails when unreadable."""
    params = module.params
    server = _kea_ctrl.read_server(module, params['control_socket'], params['unit'], params['peer'], timeout=_kea_ctrl.DEFAULT_TIMEOUT)
    if server['socket_problem']:
        module.fail_json(msg='cannot read the HA state of kea-dhcp4: %s%s' % (
            server['socket_problem'], '' if server['running'] else ' (kea-dhcp4 is not running: %s)' % server['not_running_reason']),
            socket_problem=server['socket_problem'], running=server['running'])
    if not server['peers']:
        module.fail_json(msg='kea-dhcp4 on %s has no HA relationship (is libdhcp_ha.so loaded?)' % params['control_socket'])
    name = sorted(server['peers'])[0] if not params['peer'] else params['peer']
    return name, server['peers'][name], server


def plan(command, state):
    """(send, changed, refusal): whether to send the command and whether it changes state."""
    ha_state = state['ha_state']
    if command == 'heartbeat':
        return True, False, None
    if command == 'maintenance_start':
        if ha_state in ('partner-in-maintenance', 'partner-down'):
            return False, False, None
        if ha_state == 'in-maintenance':
            return False, False, ('this server is in-maintenance (its partner sent maintenance_start): maintenance_start goes to the server that '
                                  'stays up; to end the maintenance send maintenance_cancel to the partner')
        return True, True, None
    if command == 'maintenance_cancel':
        if ha_state == 'in-maintenance':
            return False, False, 'this server is in-maintenance: send maintenance_cancel to its partner, which is partner-in-maintenance'
        if ha_state != 'partner-in-maintenance':
            return False, False, None
        return True, True, None
    return True, command in CHANGES_ALWAYS, None


def arguments_for(module, command, state, server):
    if command != 'sync':
        return None
    partner = state.get('partner_name')
    if not partner:
        config = _kea_ctrl.send_command(module.params['control_socket'], 'config-get', timeout=_kea_ctrl.DEFAULT_TIMEOUT)
        partners = _kea_ctrl.this_server_name(config)[1]
        partner = partners[0] if partners else None
    if not partner:
        module.fail_json(msg='sync: cannot tell the partner server name (neither status-get nor config-get names it)')
    return {'server-name': partner, 'max-period': module.params['max_period']}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            command=dict(type='str', required=True, choices=sorted(_kea_ctrl.COMMANDS)),
            control_socket=dict(type='path', default=_kea_ctrl.DEFAULT_SOCKET),
            unit=dict(type='str', default=_kea_ctrl.DEFAULT_UNIT),
            peer=dict(type='str'),
            max_period=dict(type='int', default=60),
            wait_for=dict(type='list', elements='str', choices=sorted(_kea_ctrl.WAIT_STATES)),
            timeout=dict(type='int', default=60),
        ),
        supports_check_mode=True,
    )
    params = module.params
    command = params['command']
    kea_command = _kea_ctrl.COMMANDS[command]
    name, before, server = read(module)
    send, changed, refusal = plan(command, before)
    result = dict(changed=False, peer=name, before=before, after=before, kea_command=kea_command if send else None,
                  kea_response=None, version=server['version'], waited=0.0)
    if refusal:
        module.fail_json(msg='%s refused on %s (%s, state %s): %s' % (command, name, params['control_socket'], before['ha_state'], refusal), **result)
    if module.check_mode:
        result['changed'] = changed
        if module._diff:
            result['diff'] = {'before': {'my_state': before['my_state']}, 'after': {'my_state': before['my_state']}}
        module.exit_json(**result)
    if send:
        arguments = arguments_for(module, command, before, server)
        timeout = max(params['max_period'] + 10, 60) if command == 'sync' else _kea_ctrl.DEFAULT_TIMEOUT
        try:
            answer = _kea_ctrl.send_command(params['control_socket'], kea_command, arguments, timeout=timeout)
        except _kea_ctrl.KeaCtrlError as exc:
            module.fail_json(msg='%s on %s: %s' % (kea_command, name, exc), **result)
        result['kea_response'] = _kea_ctrl.result_of(answer)
        if answer.get('result') != 0:
            module.fail_json(msg='%s on %s failed (result %s): %s' % (kea_command, name, answer.get('result'), answer.get('text')), **result)
        if command == 'heartbeat':
            result['heartbeat'] = _kea_ctrl.parse_heartbeat(answer)
        if command == 'continue':
            changed = 'not paused' not in (answer.get('text') or '')
    started = time.monotonic()
    while True:
        after = read(module)[1]
        result['after'] = after
        result['waited'] = round(time.monotonic() - started, 1)
        if not params['wait_for'] or _kea_ctrl.state_matches(after, params['wait_for']):
            break
        if result['waited'] >= params['timeout']:
            module.fail_json(msg='%s sent to %s; timeout after %ss waiting for %s, last seen %s (%s), partner %s' % (
                kea_command, name, params['timeout'], ' or '.join(params['wait_for']), after['my_state'], after['ha_state'],
                after['partner_state']), **result)
        time.sleep(0.5)
    result['changed'] = bool(changed or after['ha_state'] != before['ha_state']) and command != 'heartbeat'
    if module._diff:
        result['diff'] = {'before': {'my_state': before['my_state']}, 'after': {'my_state': after['my_state']}}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
