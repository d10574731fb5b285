#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: migrate_leases
short_description: Translate ISC dhcpd lease files into Kea memfile rows (dhcpd -> Kea migration)
version_added: 1.0.0
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
  - dhcp.failover.attributes.info_module
  - dhcp.failover.attributes.idempotent_not_modify_state
description:
  - Runs on the controller (an action plugin; nothing is sent to the host and nothing changes).
  - Reads one or more C(dhcpd.leases) texts (both servers' files of a pair), keeps per address the newest
    entry, and returns the active bindings as rows of Kea's memfile lease file (C(kea-leases4.csv)) for the
    given Kea version, with the same address, hardware address, client id and hostname, and an expiry
    equal to dhcpd's C(ends).
  - Expired, free, backup, released, reset and abandoned bindings, and active ones Kea would refuse, are
    not carried; RV(report) says how many of each and why.
options:
  lease_files:
    description: The lease files' contents (as M(ansible.builtin.slurp) returns them with O(encoding=base64)).
    type: list
    elements: str
    required: true
  encoding:
    description: How O(lease_files) is given.
    type: str
    choices: [base64, text]
    default: base64
  kea_config:
    description: The kea-dhcp4 config (the whole file, with its C(Dhcp4) key) the leases go to; subnet ids and reservations come from it.
    type: dict
    required: true
  kea_version:
    description: The Kea version (C(2.2.0), C(2.6.3)); it picks the memfile header.
    type: str
    required: true
  now:
    description: Epoch seconds of the cutover (an active binding that ended before it is not carried). Default now.
    type: int
attributes:
  action:
    description: Runs on the controller, as an action plugin.
    support: full
seealso:
  - module: dhcp.failover.migrate_preview
"""

EXAMPLES = r"""
- name: Translate both servers' lease files
  dhcp.failover.migrate_leases:
    lease_files: ["{{ primary_leases.content }}", "{{ secondary_leases.content }}"]
    kea_config: "{{ preview.kea_config }}"
    kea_version: 2.2.0
  register: translated
"""

RETURN = r"""
csv:
  description: The text of kea-leases4.csv (header first).
  type: str
  returned: success
leases:
  description: The carried leases, as lease4-add arguments.
  type: list
  elements: dict
  returned: success
counts:
  description: Number of bindings per kind (C(active) is the number carried).
  type: dict
  returned: success
report:
  description: Lines for a human, what is carried and what is not and why.
  type: list
  elements: str
  returned: success
moved:
  description:
    - For a load-balancing pair, the carried addresses whose client Kea's load balancing gives to the other server
      than the half of the pool the address lies in (Kea's hash of the client id, else the hardware address), each
      with the class of the server that serves its client. Passed to dhcp.failover.kea_config O(dhcp.failover.kea_config#module:carried_addresses),
      they get one-address pools of that class, so that the clients keep their addresses. V([]) for hot-standby.
  type: list
  elements: dict
  returned: success
  sample: [{"subnet_id": 1, "address": "10.231.90.169", "client_class": "HA_mc-s"}]
hosts:
  description: Reservations made over OMAPI found in the files (not carried as leases).
  type: list
  elements: dict
  returned: success
now:
  description: The cutover time used.
  type: int
  returned: success
"""
