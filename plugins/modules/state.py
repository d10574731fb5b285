#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
module: state
short_description: Set the local failover state of ISC dhcpd over OMAPI
version_added: 1.0.0
description:
  - Sets the local state of a failover peer of a running ISC dhcpd 4.4 over OMAPI (C(local-state) of the
    C(failover-state) object, the only writable field).
  - V(partner-down) declares the partner dead after a real outage; this server then serves every client.
    Only after the partner is really down, or both servers may hand out the same address.
  - V(shutdown) is the planned handover before stopping this server; its partner moves to C(partner-down) at once and
    serves everyone.
  - V(recover) brings a server back after a planned shutdown; it syncs with its partner and goes to C(recover-done) then
    C(normal) without waiting MCLT.
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
      - Shows the local state before and after.
  idempotent:
    support: full
    details:
      - No change when the local state is already the requested one (for V(recover), also C(recover-wait),
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
    description: The local state to set.
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
      - Wait until the local state reached the target (V(shutdown), V(partner-down); for V(recover), C(recover-done)
        or C(normal)).
    type: bool
    default: false
  timeout:
    description: Seconds to wait with O(wait); also the OMAPI connection timeout.
    type: int
    default: 60
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

- name: Declare the partner dead after a real outage
  dhcp.failover.state:
    peer: dhcp-failover
    state: partner-down
    key_name: omapi_key
    key_algorithm: hmac-md5
    key_secret: "{{ dhcp_failover_omapi_secret }}"
"""

RETURN = r"""
state_before:
  description: Local state before the change.
  returned: success
  type: str
  sample: normal
state_after:
  description:
    - Local state after the change (after waiting with O(wait)).
    - In check mode, the state the module would request, or RV(state_before) when nothing would change.
  returned: success
  type: str
  sample: shutdown
partner_state_before:
  description: The partner's state, as this server knew it, before the change.
  returned: success
  type: str
  sample: normal
partner_state_after:
  description: The partner's state, as this server knows it, after the change.
  returned: success
  type: str
  sample: partner-down
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
        ),
        required_together=[('key_name', 'key_secret')],
        supports_check_mode=True,
    )
    if not _omapi.HAS_PYPUREOMAPI:
        module.fail_json(msg=missing_required_lib('pypureomapi (Debian: python3-pypureomapi)'),
                         exception=_omapi.PYPUREOMAPI_IMPORT_ERROR)
    params = module.params
    peer, target = params['peer'], params['state']
    try:
        client = _omapi.FailoverStateClient(params['host'], params['port'], params['key_name'], params['key_secret'],
                                            params['key_algorithm'], timeout=min(params['timeout'], 30) or None)
    except _omapi.OmapiFailoverError as exc:
        module.fail_json(msg=str(exc))
    try:
        before = client.get(peer)
        result = dict(
            changed=before['local_state_name'] not in _omapi.SETTABLE_STATES[target],
            state_before=before['local_state_name'],
            partner_state_before=before.get('partner_state_name'),
            role=before.get('role'),
            reached=None,
        )
        after = before
        if result['changed'] and not module.check_mode:
            after = client.set_local_state(peer, target)
        if params['wait'] and not module.check_mode:
            after, result['reached'] = client.wait_for(peer, _omapi.WAIT_TARGETS[target], params['timeout'])
        result['state_after'] = target if (module.check_mode and result['changed']) else after['local_state_name']
        result['partner_state_after'] = after.get('partner_state_name')
    except _omapi.OmapiFailoverError as exc:
        module.fail_json(msg=str(exc))
    finally:
        client.close()
    if module._diff:
        result['diff'] = dict(before='local-state: %s\n' % result['state_before'],
                              after='local-state: %s\n' % result['state_after'])
    if params['wait'] and result['reached'] is False:
        module.fail_json(msg='failover peer %s: local state %s, partner %s after %ss, not %s' % (
            peer, result['state_after'], result['partner_state_after'], params['timeout'],
            ' or '.join(_omapi.WAIT_TARGETS[target])), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
