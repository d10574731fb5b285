#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: migrate_preview
short_description: Show the Kea HA config an ISC dhcpd failover server would get, and what it cannot carry
version_added: 1.0.0
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
  - dhcp.failover.attributes.info_module
  - dhcp.failover.attributes.idempotent_not_modify_state
description:
  - Runs on the controller (an action plugin; nothing is sent to the host and nothing changes).
  - Validates the pair as M(dhcp.failover.pair_facts) does, with its own backend (V(isc_dhcpd)).
  - Lists every part of this host's description a Kea HA pair cannot carry (the migration report, a
    C(loss) or C(note) per variable).
  - Renders the kea-dhcp4 config this host would get from the same description with only
    C(dhcp_failover_backend) changed to V(kea), leaving out every loss and every dhcpd-only
    setting the Kea backend refuses (listed in RV(dropped)).
  - Never fails on losses itself; it returns RV(refusal) when there are losses and O(accept_losses)
    is false. The playbook C(dhcp.failover.migrate) fails on it.
  - A pair whose backend is already V(kea) is skipped.
options:
  pairs_group:
    description: The group of all DHCP failover servers (see M(dhcp.failover.pair_facts)).
    type: str
    default: dhcp_failover
  accept_losses:
    description: The user accepts the losses the report lists (RV(refusal) is then V(null)).
    type: bool
    default: false
attributes:
  action:
    description: Runs on the controller, as an action plugin.
    support: full
notes:
  - The hosts of the play need their network facts, as for M(dhcp.failover.pair_facts).
  - Neither the OMAPI secret nor any other secret is read or returned.
seealso:
  - module: dhcp.failover.pair_facts
  - module: dhcp.failover.kea_config
"""

EXAMPLES = r"""
- name: Show what a Kea pair would get
  dhcp.failover.migrate_preview:
    accept_losses: false
  register: preview

- name: Print it
  ansible.builtin.debug:
    var: preview.kea_config
"""

RETURN = r"""
pair:
  description: This host's pair.
  returned: always, unless the description is invalid
  type: str
kea_config:
  description: The whole kea-dhcp4 config this host would get (the C(Dhcp4) dict).
  returned: success, for an ISC pair
  type: dict
kea_config_file:
  description: Where it would be written (C(dhcp_failover_kea_config_file)).
  returned: success, for an ISC pair
  type: str
kea_role:
  description: This host's Kea HA role (C(primary), C(secondary) or C(standby)).
  returned: success, for an ISC pair
  type: str
migration_report:
  description: One line per item the Kea pair cannot carry, C(pair P, VARIABLE, loss|note, why), losses first.
  returned: success, for an ISC pair
  type: list
  elements: str
losses:
  description: The C(loss) items, each C(variable), C(severity), C(why), C(refused_by_kea).
  returned: success, for an ISC pair
  type: list
  elements: dict
dropped:
  description: The variables left out of the Kea description (every loss, and what the Kea backend refuses).
  returned: success, for an ISC pair
  type: list
  elements: str
refusal:
  description: C(pair P, host H, variable V, ...) when there are losses and O(accept_losses) is false, else V(null).
  returned: success, for an ISC pair
  type: str
"""
