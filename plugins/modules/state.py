#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
module: state
short_description: Set the own failover state of ISC dhcpd over OMAPI
version_added: 1.0.0
description:
  - Sets this server's own state (C(my_state)) of a failover peer of a running ISC dhcpd 4.4 over OMAPI (C(local-state)
    of the C(failover-state) object, the only writable field).
  - Returns the peer's state before and after the change (RV(before), RV(after)) as the same dict, with the same keys, as
    M(dhcp.failover.state_info) returns for the peer (RV(dhcp.failover.state_info#module:peers)). OMAPI gives the own
    and the partner's state, since when (the time dhcpd also writes in the leases file) and the MCLT; the keys that only
    journald or the leases file can give are V(null) (RV(before.transitions) empty), and C(source) is V(omapi).
  - V(partner-down) declares the partner dead after a real outage; this server then serves every client.
    Only after the partner is really down, or both servers may hand out the same address.
  - V(shutdown) is the planned handover before stopping this server; its partner moves to C(partner-down) at once and
    serves everyone.
  - V(recover) brings a server back after a planned shutdown; it syncs with its partner and goes to C(recover-done) then
    C(normal). With an empty pool that takes seconds; with leases in the pool dhcpd goes C(recover-wait) and waits out
    MCLT first.
  - "Guard rails: without O(force) the module refuses, with the reason and without sending anything, a change that
    would stop service or risk split brain: V(recover) except from C(shutdown); V(partner-down) except from
    C(communications-interrupted) or C(resolution-interrupted) (from C(normal) the partner is still in touch and
    serving); V(shutdown) except from C(normal) (only then does the partner take over). Already being in the requested
    state is never refused."
  - "Measured on dhcpd 4.4.3-P1 in the lab: V(recover) on a lone survivor (its partner killed) in
    C(communications-interrupted) or C(partner-down) moves it to C(recover), where it logs C(not responding
    (recovering)) to every C(DHCPDISCOVER), even of a client it had just leased to: nobody serves until the partner is
    back. Recover from C(startup) or C(paused) was not measured and is refused too."
  - Talks OMAPI with the C(pypureomapi) library (Debian ships it as C(python3-pypureomapi)) rather than dhcpd's
    C(omshell), because it sends structured messages and reads typed answers (no parsing of an interactive tool's
    output), and the secret never appears on a command line or in a temporary file. pypureomapi signs only with HMAC-MD5
    and has no failover helpers; this collection adds an authenticator for every HMAC dhcpd accepts and uses
    pypureomapi's low-level open/update messages.
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the current state over OMAPI and reports whether it would change it.
  diff_mode:
    support: full
    details:
      - Shows the own state (C(my_state)) before and after.
  idempotent:
    support: full
    details:
      - No change when the own state is already the requested one (for V(recover), also C(recover-wait),
        C(recover-done) or C(normal)).
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  peer:
    description: Name of the failover peer (C(failover peer "NAME")).
    type: str
    required: true
  state:
    description: The own state (RV(after.my_state)) to set.
    type: str
    required: true
    choices: [partner-down, shutdown, recover]
  host:
    description: Address of dhcpd's OMAPI listener.
    type: str
    default: 127.0.0.1
  port:
    description: dhcpd's C(omapi-port).
    type: int
    default: 7911
  key_name:
    description:
      - Name of the C(omapi-key) (C(key NAME { ... })). Without it the connection is not authenticated, which dhcpd
        accepts only when it has no C(omapi-key).
    type: str
  key_algorithm:
    description:
      - HMAC of the key, as written in dhcpd.conf. dhcpd 4.4.3-P1 accepts all of them over OMAPI (checked in the lab for
        V(hmac-md5) and V(hmac-sha256)).
    type: str
    default: hmac-sha256
    choices: [hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512]
  key_secret:
    description: Base64 secret of the key.
    type: str
  wait:
    description:
      - Wait until the own state (RV(after.my_state)) reached the target (V(shutdown), V(partner-down); for V(recover),
        C(recover-done) or C(normal)).
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait with O(wait); also the OMAPI connection timeout (at most 30 s per request).
      - Must be at least V(1); V(0) is refused (it used to mean a socket without timeout).
    type: int
    default: 60
  force:
    description:
      - Make a change the guard rails refuse (see the description). The module warns and returns the reason in
        RV(forced).
      - "The risk: V(recover) on a server whose partner is not serving stops DHCP service for new clients until the
        partner returns and MCLT passes; V(partner-down) while the partner still serves lets both hand out the same
        addresses (split brain); V(shutdown) of a server whose partner does not take over stops service."
    type: bool
    default: false
requirements:
  - pypureomapi (Debian package C(python3-pypureomapi)) on the host that runs the module
notes:
  - OMAPI listens on all addresses once C(omapi-port) is set. Protect it with C(omapi-key) and a firewall.
seealso:
  - module: dhcp.failover.state_info
  - name: pypureomapi
    description: The OMAPI client library used.
    link: https://github.com/CygnusNetworks/pypureomapi
"""

EXAMPLES = r"""
- name: Planned handover before stopping this server (its partner takes over at once)
  dhcp.failover.state:
    peer: dhcp-failover
    state: shutdown
    key_name: omapi_key
    key_secret: "{{ dhcp_failover_omapi_secret }}"
    wait: true

- name: Bring the server back after maintenance
  dhcp.failover.state:
    peer: dhcp-failover
    state: recover
    key_name: omapi_key
    key_secret: "{{ dhcp_failover_omapi_secret }}"
    wait: true
    timeout: 300
  register: recovered

- name: Show the change (the same keys as dhcp.failover.state_info returns per peer)
  ansible.builtin.debug:
    msg: >-
      {{ recovered.before.my_state }} -> {{ recovered.after.my_state }} since {{ recovered.after.my_state_since }},
      partner {{ recovered.after.partner_state }}

- name: Declare the partner dead after a real outage
  dhcp.failover.state:
    peer: dhcp-failover
    state: partner-down
    key_name: omapi_key
    key_algorithm: hmac-md5
    key_secret: "{{ dhcp_failover_omapi_secret }}"

# Refused unless this server is in communications-interrupted (or resolution-interrupted).
# Only with certainty that the partner serves nobody:
- name: Declare partner-down although the partner may still be in touch (split-brain risk)
  dhcp.failover.state:
    peer: dhcp-failover
    state: partner-down
    force: true
    key_name: omapi_key
    key_secret: "{{ dhcp_failover_omapi_secret }}"
"""

RETURN = r"""
before:
  description:
    - The peer's state before the change, read over OMAPI.
    - The same keys as a peer of M(dhcp.failover.state_info) (RV(dhcp.failover.state_info#module:peers)); what OMAPI does
      not give is V(null).
  returned: success
  type: dict
  contains:
    my_state:
      description: This server's failover state.
      type: str
      sample: normal
    my_state_since:
      description: When this server entered RV(before.my_state), ISO 8601 UTC (OMAPI C(local-stos)); V(null) when unknown.
      type: str
      sample: '2026-11-24T15:55:02Z'
    my_state_source:
      description: Where RV(before.my_state) comes from, always V(omapi).
      type: str
      sample: omapi
    partner_state:
      description: The partner's failover state as this server knows it.
      type: str
      sample: normal
    partner_state_since:
      description: When the partner entered RV(before.partner_state), ISO 8601 UTC (OMAPI C(partner-stos)).
      type: str
      sample: '2026-11-24T15:55:02Z'
    partner_state_source:
      description: Where RV(before.partner_state) comes from, always V(omapi).
      type: str
      sample: omapi
    mclt:
      description: The MCLT in seconds this server uses for the peer (OMAPI C(mclt)).
      type: int
      sample: 3600
    transitions:
      description: Always empty (only journald records transitions).
      type: list
      elements: dict
      sample: []
    both_normal_seen:
      description: Always V(null) (only journald records it).
      type: bool
      sample: null
    both_normal_since:
      description: Always V(null) (only journald records it).
      type: str
      sample: null
    disconnected_at:
      description: Always V(null) (only journald records it).
      type: str
      sample: null
    pool:
      description: Always V(null) (only journald records the pool balance).
      type: dict
      sample: null
    source:
      description: Always V(omapi).
      type: str
      sample: omapi
    leases_file:
      description: Always V(null) (the leases file is not read).
      type: dict
      sample: null
    running:
      description: Always V(true) (dhcpd answered over OMAPI).
      type: bool
      sample: true
  sample:
    my_state: normal
    my_state_since: '2026-11-24T15:55:02Z'
    my_state_source: omapi
    partner_state: normal
    partner_state_since: '2026-11-24T15:55:02Z'
    partner_state_source: omapi
    mclt: 30
    transitions: []
    both_normal_seen: null
    both_normal_since: null
    disconnected_at: null
    pool: null
    source: omapi
    leases_file: null
    running: true
after:
  description:
    - The peer's state after the change, with the same keys as RV(before), read back from dhcpd after the change and
      again after waiting with O(wait). Equal to RV(before) when nothing changed and O(wait) is not set.
    - In check mode, RV(before) with RV(after.my_state) set to the state the module would request (and
      RV(after.my_state_since) V(null)), or RV(before) when nothing would change.
  returned: success
  type: dict
  contains:
    my_state:
      description: This server's failover state.
      type: str
      sample: shutdown
    my_state_since:
      description: When this server entered RV(after.my_state), ISO 8601 UTC (OMAPI C(local-stos)); V(null) when unknown.
      type: str
      sample: '2026-11-24T15:58:23Z'
    partner_state:
      description: The partner's failover state as this server knows it.
      type: str
      sample: partner-down
  sample:
    my_state: shutdown
    my_state_since: '2026-11-24T15:58:23Z'
    my_state_source: omapi
    partner_state: partner-down
    partner_state_since: '2026-11-24T15:58:23Z'
    partner_state_source: omapi
    mclt: 30
    transitions: []
    both_normal_seen: null
    both_normal_since: null
    disconnected_at: null
    pool: null
    source: omapi
    leases_file: null
    running: true
forced:
  description:
    - With O(force), the reason the guard rails would have refused the change; V(null) when the change was safe.
    - When refused (without O(force)) the failure carries the reason as C(refused) and RV(before) / RV(after).
  returned: success
  type: str
  sample: null
role:
  description: V(primary) or V(secondary) (OMAPI C(hierarchy)).
  returned: success
  type: str
  sample: primary
reached:
  description: With O(wait), whether the target was reached before O(timeout). V(null) without O(wait).
  returned: success
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.dhcp.failover.plugins.module_utils import _omapi


def main():
    module = AnsibleModule(
        argument_spec=dict(
            peer=dict(type='str', required=True),
            state=dict(type='str', required=True, choices=sorted(_omapi.SETTABLE_STATES)),
            host=dict(type='str', default='127.0.0.1'),
            port=dict(type='int', default=7911),
            key_name=dict(type='str', no_log=False),
            key_algorithm=dict(type='str', default='hmac-sha256', choices=sorted(_omapi.ALGORITHMS)),
            key_secret=dict(type='str', no_log=True),
            wait=dict(type='bool', default=False),
            timeout=dict(type='int', default=60),
            force=dict(type='bool', default=False),
        ),
        required_together=[('key_name', 'key_secret')],
        supports_check_mode=True,
    )
    if not _omapi.HAS_PYPUREOMAPI:
        module.fail_json(msg=missing_required_lib('pypureomapi (Debian: python3-pypureomapi)'),
                         exception=_omapi.PYPUREOMAPI_IMPORT_ERROR)
    params = module.params
    peer, target = params['peer'], params['state']
    if params['timeout'] < 1:
        module.fail_json(msg='timeout must be at least 1 second (got %s): it bounds the OMAPI connection and the wait'
                         % params['timeout'])
    try:
        client = _omapi.FailoverStateClient(params['host'], params['port'], params['key_name'], params['key_secret'],
                                            params['key_algorithm'], timeout=min(params['timeout'], 30) or None)
    except _omapi.OmapiFailoverError as exc:
        module.fail_json(msg=str(exc))
    try:
        read = client.get(peer)
        before = _omapi.peer_state(read)
        result = dict(
            changed=before['my_state'] not in _omapi.SETTABLE_STATES[target],
            before=before,
            role=read['role'],
            reached=None,
        )
        after = before
        reason = _omapi.refusal(target, before['my_state']) if result['changed'] else None
        if reason and not params['force']:
            module.fail_json(msg='failover peer %s: %s' % (peer, reason), changed=False, before=before, after=before,
                             role=read['role'], reached=None, refused=reason)
        result['forced'] = reason
        if reason:
            module.warn('failover peer %s: forced: %s' % (peer, reason))
        if result['changed'] and not module.check_mode:
            after = _omapi.peer_state(client.set_my_state(peer, target))
        if params['wait'] and not module.check_mode:
            read, result['reached'] = client.wait_for(peer, _omapi.WAIT_TARGETS[target], params['timeout'])
            after = _omapi.peer_state(read)
        if module.check_mode and result['changed']:
            # what it would request; when dhcpd would enter it is not known
            after = dict(before, my_state=target, my_state_since=None)
        result['after'] = after
    except _omapi.OmapiFailoverError as exc:
        module.fail_json(msg=str(exc))
    finally:
        client.close()
    if module._diff:
        result['diff'] = dict(before='my_state: %s\n' % result['before']['my_state'],
                              after='my_state: %s\n' % result['after']['my_state'])
    if params['wait'] and result['reached'] is False:
        module.fail_json(msg='failover peer %s: my state %s, partner state %s after %ss, not %s' % (
            peer, result['after']['my_state'], result['after']['partner_state'], params['timeout'],
            ' or '.join(_omapi.WAIT_TARGETS[target])), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
