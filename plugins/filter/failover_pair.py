# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: failover_pair
short_description: Validate every ISC dhcpd failover pair of the inventory and derive one host's settings
version_added: 1.0.0
author: dhcp.failover maintainers
description:
  - Reads every pair group (child group of O(pairs_group)) from O(_input) (C(hostvars)) and checks
    each pair as a whole, with the checks an argument spec cannot express
    (exactly one primary and one secondary, distinct failover addresses that belong to their host,
    ranges inside their subnet and not overlapping, no range holding a peer address or a router,
    split 0..256, positive mclt, a valid peer name, every pool bound to the peer, and both peers
    sharing every pair setting).
  - Returns the derived settings of O(inventory_hostname) - its role, its partner's address and
    port, the pair settings, with split, hba and mclt only on the primary - ready for the role's
    dhcpd.conf template.
  - "Raises an error C(pair PAIR, host HOST, variable VAR: message) on the first problem found."
  - Hosts on which the role ran record their effective role variables in C(__dhcp_failover_settings);
    for the others the inventory values are laid over the role defaults.
options:
  _input:
    description: The C(hostvars) of the play.
    type: dict
    required: true
  groups:
    description: The C(groups) of the play (used when the inventory hierarchy is not available).
    type: dict
    required: true
  inventory_hostname:
    description: The host whose settings are returned.
    type: str
    required: true
  pairs_group:
    description: The parent group of the pair groups.
    type: str
    default: dhcp_failover
  defaults:
    description: Role defaults to lay the inventory values over, for hosts without C(__dhcp_failover_settings).
    type: dict
"""

EXAMPLES = r"""
- name: Derive this server's failover settings (fails on any inconsistent pair)
  ansible.builtin.set_fact:
    dhcp_failover_pair_info: "{{ hostvars | dhcp.failover.failover_pair(groups, inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: The derived settings of the host.
  type: dict
  contains:
    pair:
      description: Pair group name.
      type: str
    peer_name:
      description: Failover peer name.
      type: str
    role:
      description: V(primary) or V(secondary).
      type: str
    partner_host:
      description: Inventory name of the other peer.
      type: str
    address:
      description: This server's failover address.
      type: str
    port:
      description: This server's failover port.
      type: int
    peer_address:
      description: The partner's failover address.
      type: str
    peer_port:
      description: The partner's failover port.
      type: int
    mode:
      description: V(load_balance) or V(hot_standby).
      type: str
    split:
      description: Split; on the primary only, V(null) on the secondary.
      type: int
    mclt:
      description: MCLT; on the primary only, V(null) on the secondary.
      type: int
    omapi:
      description: OMAPI C(enabled), C(port), C(key_name), C(algorithm) (never the secret).
      type: dict
    firewall:
      description: C(enabled) and C(extra_omapi_sources) (IPv4 then IPv6, overlaps merged) of this host.
      type: dict
    subnets:
      description: Normalised subnets (address, netmask, options, pools).
      type: list
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.dhcp.failover.plugins.module_utils._pair import PairError, derive_pair

_SKIP_GROUPS = ('all', 'ungrouped')


def _pairs_from_inventory(hostvars, pairs_group):
    """Child groups of pairs_group, read from the inventory behind hostvars when available."""
    inventory = getattr(hostvars, '_inventory', None)
    groups = getattr(inventory, 'groups', None)
    if not isinstance(groups, Mapping) or pairs_group not in groups:
        return None
    return {
        child.name: [host.name for host in child.get_hosts()]
        for child in groups[pairs_group].child_groups
    }


def _pairs_from_groups(groups, pairs_group):
    """Fallback: the smallest groups made only of hosts of pairs_group."""
    members = set(groups.get(pairs_group) or [])
    candidates = {
        name: list(hosts) for name, hosts in groups.items()
        if name not in _SKIP_GROUPS and name != pairs_group and hosts and set(hosts) <= members
    }
    return {
        name: hosts for name, hosts in candidates.items()
        if not any(other != name and set(other_hosts) < set(hosts)
                   for other, other_hosts in candidates.items())
    }


def failover_pair(hostvars, groups, inventory_hostname, pairs_group='dhcp_failover', defaults=None):
    if not isinstance(groups, Mapping):
        raise AnsibleFilterError('failover_pair: groups must be the play variable groups')
    if pairs_group not in groups:
        raise AnsibleFilterError('pair (none), host %s, variable dhcp_failover_pairs_group: the inventory has '
                                 'no group %r' % (inventory_hostname, pairs_group))
    pairs = _pairs_from_inventory(hostvars, pairs_group)
    if pairs is None:
        pairs = _pairs_from_groups(groups, pairs_group)
    try:
        return derive_pair(hostvars, pairs, inventory_hostname, defaults=defaults, pairs_group=pairs_group)
    except PairError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {'failover_pair': failover_pair}
