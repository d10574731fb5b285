#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: revert_leases
short_description: Translate Kea memfile lease files back into ISC dhcpd lease files (Kea -> dhcpd revert)
version_added: 1.0.0
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
  - dhcp.failover.attributes.info_module
  - dhcp.failover.attributes.idempotent_not_modify_state
description:
  - Runs on the controller (an action plugin; nothing is sent to the host and nothing changes).
  - Reads the Kea memfile lease files (C(kea-leases4.csv.2), C(.csv.1), C(.csv)) of one or both servers of a
    pair, keeps per address the newest row (the later cltt, that is expire - valid_lifetime; for the same cltt the
    row read last), and returns C(dhcpd.leases) texts holding every active lease with the same address, hardware
    address, client id (as the quoted string dhcpd writes) and hostname, with C(ends) equal to Kea's expiry.
  - Deleted (valid lifetime 0), expired, declined and reclaimed leases are not written; RV(report) says how many
    of each and why.
  - RV(primary) starts with a C(failover peer ... state) block putting the primary in O(my_state) (default
    C(partner-down), in which it serves the whole pool once it leaves C(startup), which dhcpd does after a fixed
    15 s, or at once when set over OMAPI as dhcp.failover.migrate does); RV(secondary) has no state block (its dhcpd
    syncs every lease from the primary in C(recover)).
options:
  lease_files:
    description: The lease files' contents, oldest first (each server's C(.csv.2), C(.csv.1), C(.csv)).
    type: list
    elements: str
    required: true
  encoding:
    description: How O(lease_files) is given.
    type: str
    choices: [base64, text]
    default: base64
  peer:
    description: The dhcpd failover peer name (C(failover peer "NAME")) of the pair.
    type: str
    required: true
  my_state:
    description: The failover state the primary's dhcpd starts in.
    type: str
    choices: [partner-down, communications-interrupted]
    default: partner-down
  now:
    description: Epoch seconds of the revert (a lease that expired before it is not written). Default now.
    type: int
attributes:
  action:
    description: Runs on the controller, as an action plugin.
    support: full
seealso:
  - module: dhcp.failover.migrate_leases
"""

EXAMPLES = r"""
- name: Translate the Kea server's final lease files
  dhcp.failover.revert_leases:
    lease_files: ["{{ kea_csv_2.content }}", "{{ kea_csv.content }}"]
    peer: office
  register: reverted
"""

RETURN = r"""
primary:
  description: The primary's dhcpd.leases text (the failover state block first).
  type: str
  returned: success
secondary:
  description: The secondary's dhcpd.leases text (no state block).
  type: str
  returned: success
leases:
  description: The leases written (address, hw-address, client-id, hostname, expire).
  type: list
  elements: dict
  returned: success
counts:
  description: Number of leases per kind (C(active) is the number written).
  type: dict
  returned: success
report:
  description: Lines for a human, what is written and what is not and why.
  type: list
  elements: str
  returned: success
now:
  description: The revert time used.
  type: int
  returned: success
"""
