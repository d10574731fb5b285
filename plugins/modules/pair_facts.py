#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pair_facts
short_description: Validate every DHCP failover pair of the inventory and derive one server's view of its pair
version_added: 1.0.0
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
  - dhcp.failover.attributes.info_module
  - dhcp.failover.attributes.idempotent_not_modify_state
description:
  - Runs on the controller (an action plugin; nothing is sent to the host and nothing changes).
  - Finds the pairs from C(groups) (see O(pairs_group)), validates every host's role variables
    (C(dhcp_failover_*)) with the role's own C(meta/argument_specs.yml) through ansible-core's
    argument spec validator, for hosts outside the play too, then applies the rules no spec can
    express (the peers agree on every pair setting, failover addresses belong to their hosts,
    ranges lie inside their subnet and do not overlap, reservations lie in a declared subnet and
    outside the pools and reserve no MAC or address twice, C(dhcp_failover_split) is not set with
    C(dhcp_failover_hba) or with C(hot_standby), ...).
  - Checks what C(dhcpd -t) cannot see against each server's network facts (C(interfaces),
    C(ansible_facts[NAME].ipv4) and C(.ipv4_secondaries)) - every interface dhcpd listens on
    exists, carries an IPv4 address and is on a declared subnet (dhcpd ignores it otherwise, and
    does not start when no interface is left), no interface is on subnets of two shared networks,
    and every subnet not marked C(relay) holds an address of a listening interface of both servers.
  - Checks that the files dhcpd opens (C(dhcp_failover_config_file), C(dhcp_failover_omapi_key_file),
    C(dhcp_failover_lease_file)) lie where Debian's AppArmor profile for dhcpd
    (C(/etc/apparmor.d/usr.sbin.dhcpd)) lets it open them.
  - "Fails with C(pair PAIR, host HOST, variable VARIABLE: message) on the first problem."
  - Reads only the variables the argument spec declares; other roles' variables in the same
    inventory are never read.
  - The role C(dhcp.failover.server) calls it twice, first with O(record=true) on every host
    (so each host's partner sees its play vars and role defaults), then once for the whole play
    batch (C(run_once), O(hosts=ansible_play_batch)). One pass over the pairs gives every server's
    view, where a call on every server would validate every pair once per server.
options:
  pairs_group:
    description:
      - The group of all DHCP failover servers. A pair is a group whose hosts all belong to it and
        that holds no smaller such group, or, when hosts set C(dhcp_failover_pair), the group that
        variable names.
    type: str
    default: dhcp_failover
  record:
    description:
      - Only validate this host's own variables and return them in RV(settings) (secrets left out),
        for the role to record as C(__dhcp_failover_settings).
    type: bool
    default: false
  hosts:
    description:
      - Also derive the view of each of these hosts (inventory names), returned in RV(pair_info_of).
        Every pair is validated once for all of them. Each must have recorded its variables
        (O(record=true), kept as C(__dhcp_failover_settings)) and, if in the play, gathered its
        network facts. Ignored with O(record=true).
    type: list
    elements: str
attributes:
  action:
    description: Runs on the controller, as an action plugin.
    support: full
notes:
  - Hosts outside the play are seen through C(hostvars) (inventory, facts, extra vars); play
    vars do not reach them, so set pair settings in inventory (the pair group's vars).
  - The hosts of the play (of its current batch, C(ansible_play_batch)) must have their network facts gathered
    (C(ansible.builtin.setup) with C(gather_subset=network)). A host outside the play without
    them (C(--limit), address and interfaces set in inventory) is checked without them, since the
    run does not change it. A host of a later batch (C(serial)) is checked with them in its own batch.
seealso:
  - module: dhcp.failover.config_check
"""

EXAMPLES = r"""
- name: Validate every pair and derive this server's view of its pair
  dhcp.failover.pair_facts:
  register: pair

- name: Use it
  ansible.builtin.debug:
    msg: "{{ pair.pair_info.pair }}: {{ pair.pair_info.role }}, partner {{ pair.pair_info.partner_host }}"

# As the role does: every server records its own variables, then one pass over the pairs for the
# whole batch gives each server its view.
- name: Check this server's variables and keep them for the other servers
  dhcp.failover.pair_facts:
    record: true
  register: own

- name: Keep them
  ansible.builtin.set_fact:
    __dhcp_failover_settings: "{{ own.settings }}"

- name: Validate every pair once and derive each server's view
  dhcp.failover.pair_facts:
    hosts: "{{ ansible_play_batch }}"
  register: pairs
  run_once: true

- name: Keep this server's view
  ansible.builtin.set_fact:
    dhcp_failover_pair_info: "{{ pairs.pair_info_of[inventory_hostname] }}"
"""

RETURN = r"""
pair_info:
  description:
    - This host's view of its pair (the role keeps it as the fact C(dhcp_failover_pair_info)).
      Never holds the OMAPI secret.
  returned: success and O(record=false)
  type: dict
  contains:
    backend:
      description: The DHCP server software, V(isc_dhcpd).
      type: str
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
    partner_role:
      description: The partner's role.
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
    interfaces:
      description: Interfaces dhcpd listens on.
      type: list
      elements: str
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
      description: C(enabled) and C(extra_omapi_sources) of this host.
      type: dict
    subnets:
      description: Normalised subnets (address, netmask, options, pools).
      type: list
      elements: dict
    reservations:
      description: Normalised reservations.
      type: list
      elements: dict
  sample:
    backend: isc_dhcpd
    pair: office
    peer_name: dhcp-failover
    role: primary
    partner_host: dhcp0374
    address: 192.168.1.2
    port: 647
    peer_address: 192.168.1.1
    peer_port: 647
pair_info_of:
  description:
    - Inventory name -> that host's view of its pair (as RV(pair_info)), for this host and each host
      of O(hosts).
  returned: success, O(record=false) and O(hosts) given
  type: dict
  sample:
    dhcp0374:
      pair: office
      role: secondary
      partner_host: dhcp0373
settings:
  description: This host's role variables as validated (secrets left out).
  returned: O(record=true)
  type: dict
pair_hosts:
  description:
    - The hosts of this host's pair, this host included, in inventory order (found from C(groups)
      and this host's C(dhcp_failover_pair) alone, no facts needed; the other hosts' variables are
      read only when the groups do not settle it, and checked against each other by the call
      without O(record)). The role gathers the network facts of
      those outside the play batch (C(--limit), C(serial)) and of no other host.
  returned: O(record=true)
  type: list
  elements: str
"""
