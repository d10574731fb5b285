#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: controller_dir
short_description: Make a private directory on the controller, in the controller's own process
version_added: 1.1.0
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
description:
  - Runs on the controller (an action plugin; nothing is sent to the host). Makes O(path) and any missing parent
    (the new ones with O(mode)), or sets O(mode) on it when it exists, as the user running ansible-playbook.
  - What M(ansible.builtin.file) with O(ansible.builtin.file#module:state=directory), delegated to localhost,
    does for a directory, without a module run on localhost (a Python start and module upload per host and task).
    The role C(dhcp.failover.server) makes the controller's OMAPI key directory with it.
  - Fails with the cause (for example V(Permission denied)) when the directory cannot be made or changed,
    or when O(path) exists and is not a directory.
options:
  path:
    description: The directory on the controller. C(~) is expanded for the user running ansible-playbook.
    type: path
    required: true
  mode:
    description: Permission bits of O(path) (and of the parents it makes), in octal.
    type: str
    default: '0700'
attributes:
  action:
    description: Runs on the controller, as an action plugin.
    support: full
  check_mode:
    support: full
    details:
      - Reports what would change, changes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
notes:
  - Like a lookup it runs as the user running ansible-playbook; become does not apply.
seealso:
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Make the controller's key directory
  dhcp.failover.controller_dir:
    path: ~/.dhcp-failover/keys
    mode: '0700'
"""

RETURN = r"""
path:
  description: The directory, C(~) expanded.
  returned: always
  type: str
  sample: /home/ops/.dhcp-failover/keys
mode:
  description: Its permission bits after the task (what they would be, in check mode).
  returned: success
  type: str
  sample: '0700'
"""
