#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
module: host_info
short_description: Read in one call what a run must know about a server before it changes anything
version_added: 1.1.0
description:
  - Reads, in one module run on the server, what the role P(dhcp.failover.server#role) needs before it validates a
    pair and before it installs, cleans up or writes anything
    (one run instead of M(ansible.builtin.setup), a command and M(ansible.builtin.slurp)).
  - With O(network=true), the network facts as M(ansible.builtin.setup) with
    O(ansible.builtin.setup#module:gather_subset=[!all, !min, network]) returns them (ansible-core's own Linux network
    collector), as C(ansible_facts) - C(ansible_default_ipv4), C(ansible_all_ipv4_addresses), C(ansible_interfaces)
    and one fact per interface. The network facts alone - M(ansible.builtin.setup) adds the C(platform) and
    C(distribution) facts its network collector needs first (C(ansible_distribution), C(ansible_hostname) and the like);
    gather those with M(ansible.builtin.setup) when a later task needs them.
  - With O(packages=true), the installed packages, read from dpkg itself (C(dpkg-query --show)); a host without
    python3-apt (which M(ansible.builtin.package_facts) needs) and without a package index is fine.
  - With O(paths), which of those paths exist.
  - With O(secret_file), the content of that file (the OMAPI key file). Run the task with C(no_log) then, since the
    content is returned as it is. Why it could not be read is returned apart, in RV(secret_file_error), which
    holds no part of the content.
  - Never fails because something could not be read; each problem is returned in RV(errors) (and
    RV(secret_file_error)), so that a task with C(no_log) can still show its cause in a following task.
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
  - dhcp.failover.attributes.info_module
  - dhcp.failover.attributes.idempotent_not_modify_state
options:
  network:
    description:
      - Return the network facts (as the C(network) subset of M(ansible.builtin.setup)) in C(ansible_facts).
    type: bool
    default: true
  packages:
    description:
      - Return the names of the installed packages (dpkg status C(ii)) in RV(packages).
    type: bool
    default: false
  paths:
    description:
      - Paths to look for; those that exist are returned in RV(paths_present).
    type: list
    elements: path
    default: []
  secret_file:
    description:
      - A file to read and return in RV(secret_file_content), for example C(/etc/dhcp/omapi-key.conf).
      - A missing file is no error (RV(secret_file_exists=false)).
    type: path
notes:
  - Reads only; changes nothing on the server.
  - The network facts are gathered by ansible-core's own code (C(ansible.module_utils.facts.network.linux)),
    so they are the same network facts as those of M(ansible.builtin.setup) on Linux
    (the order of C(ansible_interfaces) is that of each run). On other systems none are returned
    and RV(errors) says so.
seealso:
  - module: ansible.builtin.setup
  - module: ansible.builtin.slurp
"""

EXAMPLES = r"""
- name: Read the network facts, the installed packages and the OMAPI key file in one call
  dhcp.failover.host_info:
    packages: true
    paths:
      - /etc/systemd/system/dhcp-failover-firewall.service
    secret_file: /etc/dhcp/omapi-key.conf
  register: host
  no_log: true

- name: Show why something could not be read (without the secret)
  ansible.builtin.fail:
    msg: "{{ host.errors + ([host.secret_file_error] if host.secret_file_error else []) }}"
  when: host.errors | length > 0 or host.secret_file_error
"""

RETURN = r"""
ansible_facts:
  description: The network facts, as M(ansible.builtin.setup) returns them for the C(network) subset (without the platform and distribution facts it adds).
  returned: O(network=true) and the facts could be gathered
  type: dict
  sample:
    ansible_interfaces: [eth0, lo]
    ansible_default_ipv4: {address: 192.0.2.2, interface: eth0}
packages:
  description: Names of the installed packages (dpkg status C(ii)), sorted.
  returned: O(packages=true) and dpkg-query answered
  type: list
  elements: str
  sample: [isc-dhcp-server, nftables]
paths_present:
  description: The paths of O(paths) that exist (also a broken symbolic link), in the order given.
  returned: always
  type: list
  elements: str
secret_file_exists:
  description: Whether O(secret_file) exists.
  returned: O(secret_file) given
  type: bool
secret_file_content:
  description: The content of O(secret_file).
  returned: O(secret_file) given and read
  type: str
secret_file_error:
  description: Why O(secret_file) could not be read (for example V(Permission denied) - run with become); empty when it was.
  returned: always
  type: str
errors:
  description: What could not be read, one sentence each (never the content of O(secret_file)).
  returned: always
  type: list
  elements: str
"""

import os
import platform

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native


def _installed(stdout):
    """The installed packages from ``dpkg-query --show --showformat='${Package} ${db:Status-Abbrev}\\n'``:
    the status ``ii`` (desired install, installed). ``rc`` (removed, config files left), ``iU`` (unpacked)
    and the like are not installed."""
    names = set()
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] == 'ii':
            names.add(parts[0].split(':', 1)[0])
    return sorted(names)


def _network_facts(module):
    if platform.system() != 'Linux':
        return None, 'network facts: only Linux is supported here (this is %s): gather them with ansible.builtin.setup' % platform.system()
    # Imported only when asked for: the collector is the part of this module that costs.
    from ansible.module_utils.facts.network.linux import LinuxNetwork
    facts = LinuxNetwork(module).populate()
    return dict(('ansible_' + key, value) for key, value in facts.items()), None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            network=dict(type='bool', default=True),
            packages=dict(type='bool', default=False),
            paths=dict(type='list', elements='path', default=[]),
            secret_file=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False, errors=[], secret_file_error='',
                  paths_present=[path for path in params['paths'] if os.path.lexists(path)])

    if params['network']:
        try:
            facts, error = _network_facts(module)
        except Exception as exc:  # pylint: disable=broad-except  # reported, like setup's own collector errors
            facts, error = None, 'network facts: %s' % to_native(exc)
        if error:
            result['errors'].append(error)
        else:
            result['ansible_facts'] = facts

    if params['packages']:
        dpkg_query = module.get_bin_path('dpkg-query')
        if not dpkg_query:
            result['errors'].append('installed packages: dpkg-query not found (a Debian or Ubuntu server is needed)')
        else:
            rc, out, err = module.run_command([dpkg_query, '--show', '--showformat=${Package} ${db:Status-Abbrev}\\n'],
                                              environ_update=dict(LC_ALL='C'))
            if rc != 0:
                result['errors'].append('installed packages: dpkg-query exited with %d: %s' % (rc, err.strip() or out.strip()))
            else:
                result['packages'] = _installed(out)

    if params['secret_file']:
        path = params['secret_file']
        result['secret_file_exists'] = os.path.lexists(path)
        if result['secret_file_exists']:
            try:
                with open(path, 'rb') as handle:
                    result['secret_file_content'] = handle.read().decode('utf-8', 'replace')
            except (IOError, OSError) as exc:
                result['secret_file_error'] = '%s: %s' % (path, to_native(exc.strerror or exc))

    module.exit_json(**result)


if __name__ == '__main__':
    main()
