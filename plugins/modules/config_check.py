#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
module: config_check
short_description: Check an ISC dhcpd configuration (and lease file) with C(dhcpd -t)
version_added: 1.0.0
description:
  - Runs C(dhcpd -t -4 -cf FILE) (IPv4) on a configuration file, or on configuration text given in O(content),
    and returns whether dhcpd accepts it, with every error as V({file, line, message}) and every warning.
  - With O(lease_file), runs C(dhcpd -T -4 -cf FILE -lf LEASE_FILE), which also reads the lease file. A lease file
    that dhcpd cannot read completely makes the check fail, although C(dhcpd -T) itself exits with 0 in that case.
  - The command runs as an argument list, without a shell, with E(LC_ALL=C).
  - Fails on an invalid configuration unless O(fail_on_invalid=false).
  - This module changes nothing and never reports a change. It only reads the configuration and lease files
    (see O(content) and O(lease_file) for the temporary files involved).
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
  - dhcp.failover.attributes.info_module
  - dhcp.failover.attributes.idempotent_not_modify_state
options:
  path:
    description:
      - Configuration file to check, on the managed node, for example C(/etc/dhcp/dhcpd.conf).
      - Exactly one of O(path) and O(content) is required.
    type: path
  content:
    description:
      - Configuration text to check instead of a file.
      - It is written to a new file of mode C(0600) in O(tmpdir), checked there, and always removed afterwards.
      - C(include) statements in it are resolved by dhcpd as usual, so the files they name must exist on the managed node.
      - Error and warning positions then name the temporary file.
      - Not logged, because a configuration may hold an OMAPI key secret.
    type: str
  tmpdir:
    description:
      - Directory on the managed node for the temporary file written from O(content).
      - The default is C(/etc/dhcp) because Debian's and Ubuntu's AppArmor profile for dhcpd does not let it read
        files under C(/tmp) or Ansible's temporary directories.
      - Ignored with O(path).
    type: path
    default: /etc/dhcp
  lease_file:
    description:
      - Also check this lease file (C(dhcpd -T -lf LEASE_FILE)), for example C(/var/lib/dhcp/dhcpd.leases).
      - The lease file must exist; dhcpd reports a missing one as an error.
      - dhcpd writes a temporary copy of the lease file next to it and removes it again, so its directory must
        be writable by dhcpd (it is, for the default C(/var/lib/dhcp)). The lease file itself is not modified.
    type: path
  dhcpd:
    description:
      - The dhcpd program, a path or a name looked up in E(PATH) and the usual C(sbin) directories.
    type: path
    default: /usr/sbin/dhcpd
  fail_on_invalid:
    description:
      - Fail the task when dhcpd rejects the configuration or the lease file.
      - With V(false), the task succeeds and RV(valid) tells the result.
    type: bool
    default: true
notes:
  - Only the IPv4 server (C(dhcpd -4)) is checked.
  - "Warnings dhcpd prints, such as C(WARNING: load balancing will be disabled for failover peer ...), are returned in
    RV(dhcpd_warnings) and also shown as Ansible warnings."
  - Requires ISC dhcpd on the managed node (Debian and Ubuntu package C(isc-dhcp-server)). Tested with 4.4.3-P1.
seealso:
  - name: dhcpd.conf(5)
    description: ISC dhcpd configuration file, including the failover peer declaration.
    link: https://manpages.debian.org/bookworm/isc-dhcp-server/dhcpd.conf.5.en.html
  - name: dhcpd(8)
    description: The C(-t), C(-T), C(-cf) and C(-lf) options.
    link: https://manpages.debian.org/bookworm/isc-dhcp-server/dhcpd.8.en.html
  - module: ansible.builtin.template
    description: Its C(validate) option can run C(dhcpd -t -cf %s), but AppArmor may deny dhcpd its temporary file.
"""

EXAMPLES = r"""
- name: Check the installed configuration
  dhcp.failover.config_check:
    path: /etc/dhcp/dhcpd.conf

- name: Check a rendered configuration before it replaces the installed one
  dhcp.failover.config_check:
    content: "{{ lookup('ansible.builtin.template', 'dhcpd.conf.j2') }}"

- name: Check the configuration together with the lease file, without failing
  dhcp.failover.config_check:
    path: /etc/dhcp/dhcpd.conf
    lease_file: /var/lib/dhcp/dhcpd.leases
    fail_on_invalid: false
  register: dhcpd_check

- name: Show what dhcpd rejects
  ansible.builtin.debug:
    msg: "{{ item.file }} line {{ item.line }}: {{ item.message }}"
  loop: "{{ dhcpd_check.errors }}"
  when: not dhcpd_check.valid
"""

RETURN = r"""
valid:
  description: Whether dhcpd accepts the configuration (and the lease file, with O(lease_file)).
  returned: success
  type: bool
  sample: false
errors:
  description:
    - What dhcpd rejects, in the order it printed it.
    - An invalid configuration usually ends with an entry C(Configuration file errors encountered -- exiting)
      without a position.
  returned: success
  type: list
  elements: dict
  contains:
    file:
      description:
        - File the error is in (the configuration, an included file, or the lease file).
        - For C(Can't open FILE) the file that could not be opened; V(null) for other errors without a position.
      type: str
      returned: always
      sample: /etc/dhcp/dhcpd.conf
    line:
      description: Line number in RV(errors[].file), or V(null) when dhcpd gives none.
      type: int
      returned: always
      sample: 13
    message:
      description: The error message, without the file and line prefix.
      type: str
      returned: always
      sample: primary failover server must have mclt.
    context:
      description:
        - The part of the line dhcpd had read, and a line with a caret under the offending token, as dhcpd printed them.
        - Empty when dhcpd printed none.
      type: list
      elements: str
      returned: always
      sample: ["  split 300;", "         ^"]
  sample:
    - file: /etc/dhcp/dhcpd.conf
      line: 13
      message: primary failover server must have mclt.
      context: ["}", " ^"]
    - file: null
      line: null
      message: Configuration file errors encountered -- exiting
      context: []
dhcpd_warnings:
  description:
    - Non-fatal messages dhcpd printed, one per line. They are also emitted as Ansible warnings.
    - Named so because Ansible reserves the C(warnings) key of a result for its own warnings.
  returned: success
  type: list
  elements: str
  sample:
    - "WARNING: load balancing will be disabled for failover peer, dhcp-failover, because its load balance max secs is 0"
dhcpd_version:
  description: Version of dhcpd, from the banner it prints; V(null) if it printed none.
  returned: success
  type: str
  sample: 4.4.3-P1
cmd:
  description: The command that was run, as an argument list.
  returned: success
  type: list
  elements: str
  sample: [/usr/sbin/dhcpd, -t, -4, -cf, /etc/dhcp/dhcpd.conf]
rc:
  description: Exit code of dhcpd.
  returned: success
  type: int
  sample: 1
stdout:
  description: Standard output of dhcpd (it normally prints nothing there).
  returned: success
  type: str
  sample: ""
stderr:
  description: Standard error of dhcpd, where it prints its banner, errors and warnings.
  returned: success
  type: str
  sample: |-
    Internet Systems Consortium DHCP Server 4.4.3-P1
    Copyright 2004-2022 Internet Systems Consortium.
    All rights reserved.
    For info, please visit https://www.isc.org/software/dhcp/
    /etc/dhcp/dhcpd.conf line 13: primary failover server must have mclt.
    }
     ^
    Configuration file errors encountered -- exiting
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.dhcp.failover.plugins.module_utils._dhcpd_check import (
    COMMAND_ENVIRONMENT,
    build_argv,
    format_errors,
    parse_output,
    remove_temp_config,
    write_temp_config,
)


def run_check(module, dhcpd, config_file, lease_file):
    argv = build_argv(dhcpd, config_file, lease_file)
    rc, stdout, stderr = module.run_command(argv, check_rc=False, environ_update=COMMAND_ENVIRONMENT)
    result = parse_output(rc, stdout, stderr)
    return {
        'changed': False,
        'valid': result['valid'],
        'errors': result['errors'],
        'dhcpd_warnings': result['warnings'],
        'dhcpd_version': result['dhcpd_version'],
        'cmd': argv,
        'rc': rc,
        'stdout': stdout,
        'stderr': stderr,
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path'),
            content=dict(type='str', no_log=True),
            tmpdir=dict(type='path', default='/etc/dhcp'),
            lease_file=dict(type='path'),
            dhcpd=dict(type='path', default='/usr/sbin/dhcpd'),
            fail_on_invalid=dict(type='bool', default=True),
        ),
        mutually_exclusive=[('path', 'content')],
        required_one_of=[('path', 'content')],
        supports_check_mode=True,
    )

    dhcpd = module.get_bin_path(module.params['dhcpd'], required=True)

    # Checking changes nothing, so check mode runs the same check.
    if module.params['content'] is not None:
        try:
            config_file = write_temp_config(module.params['content'], module.params['tmpdir'])
        except OSError as exc:
            module.fail_json(msg='Cannot write the configuration to a temporary file in %s: %s'
                             % (module.params['tmpdir'], to_native(exc)))
        try:
            result = run_check(module, dhcpd, config_file, module.params['lease_file'])
        finally:
            remove_temp_config(config_file)
    else:
        result = run_check(module, dhcpd, module.params['path'], module.params['lease_file'])

    for warning in result['dhcpd_warnings']:
        module.warn('dhcpd: %s' % warning)

    if not result['valid'] and module.params['fail_on_invalid']:
        module.fail_json(msg='dhcpd check failed: %s' % '; '.join(format_errors(result['errors'])),
                         **result)
    # Ansible marks a task with a non-zero rc as failed unless the result says otherwise.
    module.exit_json(failed=False, **result)


if __name__ == '__main__':
    main()
