# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: controller_stat
author:
  - dhcp.failover maintainers (@dhcp-failover)
short_description: Whether files on the controller exist and can be read, and their owner and mode
version_added: 1.1.0
description:
  - For each path, what the role needs to know about the controller's copy of a pair's OMAPI secret
    before it reads it, read in the controller's own process (C(os.stat), C(os.access)) instead of a
    module run on localhost.
  - Never reads the file's content. A path this user cannot even look at (a directory on the way it
    may not search) fails with the cause.
options:
  _terms:
    description: Paths on the controller.
    type: list
    elements: path
    required: true
notes:
  - Like every lookup, it runs as the user running ansible-playbook, never with become.
seealso:
  - module: ansible.builtin.stat
"""

EXAMPLES = r"""
- name: Refuse a controller copy the user cannot read
  ansible.builtin.assert:
    that: not info.exists or info.readable
    fail_msg: "cannot read {{ info.path }} (owner {{ info.owner }}, mode {{ info.mode }})"
  vars:
    info: "{{ lookup('dhcp.failover.controller_stat', '/home/ops/.dhcp-failover/keys/pair.key') }}"
"""

RETURN = r"""
_raw:
  description: One dictionary per path.
  type: list
  elements: dict
  contains:
    path:
      description: The path as given.
      type: str
    exists:
      description: Whether the path exists (a broken symbolic link does not).
      type: bool
    isreg:
      description: Whether it is a regular file.
      type: bool
    readable:
      description: Whether the user running ansible-playbook may read it.
      type: bool
    owner:
      description: The owner's name (its uid when it has no name); V(null) when the path does not exist.
      type: str
    mode:
      description: The permission bits in octal, as M(ansible.builtin.stat) gives them (V(0600)); V(null) when the path does not exist.
      type: str
"""

import os
import pwd
import stat

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase


def controller_stat(path):
    """What os.stat and os.access say of one path, as the lookup returns it."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return {'path': path, 'exists': False, 'isreg': False, 'readable': False, 'owner': None, 'mode': None}
    except OSError as exc:   # a directory on the way that this user may not search
        raise AnsibleLookupError('cannot look at %s: %s' % (path, exc.strerror or exc))
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    return {
        'path': path,
        'exists': True,
        'isreg': stat.S_ISREG(st.st_mode),
        'readable': os.access(path, os.R_OK),
        'owner': owner,
        'mode': '%04o' % stat.S_IMODE(st.st_mode),
    }


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        return [controller_stat(os.path.expanduser(str(term))) for term in terms]
