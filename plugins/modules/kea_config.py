#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
module: kea_config
short_description: Write kea-dhcp4.conf in one step checked by the best check of the installed Kea
version_added: 1.0.0
description:
  - Writes the Kea DHCPv4 server's configuration (O(content), JSON) to O(path), or puts back the file an earlier
    call replaced (O(rollback)).
  - Compares O(content) with the file on the managed node. When they are the same, nothing is run and nothing is
    written (RV(checked) is V(false)).
  - When they differ, runs the best check the installed Kea offers on the new text before writing anything, on a
    new file of mode C(0600) in O(tmpdir), always removed afterwards. Kea 2.2 (Debian 12) has only C(kea-dhcp4 -t),
    which parses the configuration and opens the hook libraries but does not configure them. Kea 2.3.6 and later
    (Debian 13 has 2.6) get C(kea-dhcp4 -T), which also configures the hooks (it catches a bogus HA mode, a
    C(this-server-name) missing from the peers, a lease file outside C(/var/lib/kea)); since C(-T) fails every
    valid HA configuration whose HA multi-threading uses the dedicated listener (Kea 2.6.3, "CmdHttpListener cannot
    be started when multi-threading is disabled"), the copy it checks has C(enable-multi-threading) and
    C(http-dedicated-listener) of the C(high-availability) entries set to V(false), nothing else changed.
  - If Kea rejects it, the task fails and nothing is written. RV(errors) give Kea's messages, with the file, line and
    column Kea gives, naming O(path) instead of the temporary file.
  - Otherwise the file is replaced atomically (a temporary file in the same directory, renamed over it), after a
    backup of the previous one (O(backup)). RV(rollback) tells how to undo exactly this change.
  - Kea's pair rules that no Kea check sees (split load-balancing pools, mirrored peer URLs, both hooks) are checked
    on the controller before this module runs (the server role's pair validation).
  - Lease files are never read or written by this module, in any mode. Error messages carry Kea's own text only,
    never the file's content.
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports whether the file would change, with the diff, and runs the Kea check when it would (it only reads).
        If kea-dhcp4 is not installed, the check is skipped with a warning instead of failing.
  diff_mode:
    support: full
  idempotent:
    support: full
    details:
      - A second run with the same text changes nothing and runs no check.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  content:
    description:
      - The text of C(kea-dhcp4.conf) (JSON, for example C(dhcp_failover_pair_info.kea.config | to_nice_json)),
        written to O(path) with mode C(0640), owner C(root), group C(_kea) (C(root) and mode C(0644) where there is no
        C(_kea) group).
      - Required unless O(rollback) is given.
    type: str
  path:
    description: The configuration file kea-dhcp4 reads.
    type: path
    default: /etc/kea/kea-dhcp4.conf
  validate:
    description: Run Kea's check on a changed text before writing it. V(false) writes without it.
    type: bool
    default: true
  kea_dhcp4:
    description:
      - The kea-dhcp4 program, a path or a name looked up in E(PATH) and the usual C(sbin) directories.
      - Needed only when the text changes. If it is not installed, the module fails, except in check mode.
    type: path
    default: /usr/sbin/kea-dhcp4
  tmpdir:
    description: Directory for the temporary file Kea checks.
    type: path
    default: /etc/kea
  backup:
    description:
      - Keep a copy of the file before it is replaced, next to it, with a timestamp in its name
        (C(FILE.PID.YYYY-MM-DD@HH:MM:SS~)).
      - Without a backup, RV(rollback) cannot put back a replaced file; it lists only a file that did not exist
        before.
    type: bool
    default: true
  carried_addresses:
    description:
      - Addresses carried from dhcpd into a load-balancing pair whose client Kea gives to the other server than the
        half of the pool the address lies in (dhcp.failover.migrate computes them). Each is cut out of its half and
        gets a one-address pool of the class of the server that serves its client, marked in its C(user-context),
        so that the client keeps its address at renewal (Kea renews only an address in a pool the client may use).
      - The marked pools of the file already on the host are always kept, on every write, so a later
        C(dhcp.failover.site) does not undo them; those whose address is no longer in a pool of the other class (the
        pool was shrunk, the pair is hot-standby now, a server was renamed) are dropped.
    type: list
    elements: dict
    suboptions:
      subnet_id:
        description: The Kea subnet id.
        type: int
        required: true
      address:
        description: The address.
        type: str
        required: true
      client_class:
        description: The class of the server that serves its client (V(HA_<server name>)).
        type: str
        required: true
  rollback:
    description:
      - Put the file back instead of writing O(content). The value is RV(rollback) as returned by an earlier call;
        no check is run.
      - The key is O(path), its value the backup to copy back over it (atomically, with the backup's mode, owner and
        group) or V(null) when the file did not exist before (it is removed).
      - A backup must be next to O(path), its name starting with the file's name. Anything else is refused before the
        file is touched. A file that already is as the backup (or already absent) is left alone.
    type: dict
notes:
  - Requires Kea on the managed node (Debian package C(kea-dhcp4-server)). Tested with 2.2.0 (Debian 12) and 2.6.3
    (Debian 13).
seealso:
  - module: dhcp.failover.dhcpd_config
    description: The same for ISC dhcpd.
  - name: kea-dhcp4(8)
    description: The C(-t) and C(-T) options.
    link: https://manpages.debian.org/trixie/kea-dhcp4-server/kea-dhcp4.8.en.html
"""

EXAMPLES = r"""
- name: Write kea-dhcp4.conf, checked by kea-dhcp4 -t (2.2) or -T (2.6) first
  dhcp.failover.kea_config:
    content: "{{ dhcp_failover_pair_info.kea.config | to_nice_json }}"
    path: "{{ dhcp_failover_pair_info.kea.config_file }}"
  register: kea_file

- name: Restart Kea when the file changed
  ansible.builtin.systemd_service:
    name: kea-dhcp4-server
    state: restarted
  register: kea_restart
  ignore_errors: true
  when: kea_file is changed

- name: Put the previous file back if Kea did not come back
  dhcp.failover.kea_config:
    rollback: "{{ kea_file.rollback }}"
  when: kea_restart is failed
"""

RETURN = r"""
changed_files:
  description: The file written or removed (or whose mode, owner or group only was corrected); in check mode, the file
    that would change.
  returned: success
  type: list
  elements: str
  sample: [/etc/kea/kea-dhcp4.conf]
rollback:
  description:
    - How to undo this change with O(rollback)=RV(rollback) in a later call - the file and its backup, or V(null) if
      the file did not exist before.
    - Empty in check mode, when nothing changed, after a mode or owner correction only, and after a rollback.
  returned: success
  type: dict
  sample:
    /etc/kea/kea-dhcp4.conf: /etc/kea/kea-dhcp4.conf.4711.2026-12-02@07:40:13~
checked:
  description: Whether Kea's check ran (and accepted the text, or the task would have failed).
  returned: always
  type: bool
  sample: true
version:
  description: The installed Kea version (C(kea-dhcp4 -v)), when it was read (the text changed).
  returned: when kea-dhcp4 was run
  type: str
  sample: 2.6.3
check_command:
  description: The check that ran, C(kea-dhcp4 -t) or C(kea-dhcp4 -T) and the temporary file.
  returned: when the check ran
  type: list
  elements: str
  sample: [/usr/sbin/kea-dhcp4, -T, /etc/kea/.kea-dhcp4.conf.check.json]
errors:
  description: What Kea rejected, in the order it printed it; returned when it rejected the new text.
  returned: failure
  type: list
  elements: dict
  contains:
    message:
      description: Kea's message.
      type: str
      returned: always
      sample: "failed to configure High Availability hooks library: unsupported value 'bogus' for mode parameter"
    id:
      description: Kea's message id (C(HA_CONFIGURATION_FAILED), ...), C(SYNTAX_ERROR) for a JSON error, or V(null).
      type: str
      returned: always
      sample: HA_CONFIGURATION_FAILED
    file:
      description: The file Kea names (O(path) for the checked text), or V(null).
      type: str
      returned: always
      sample: /etc/kea/kea-dhcp4.conf
    line:
      description: The line Kea gives, or V(null).
      type: int
      returned: always
      sample: 82
    column:
      description: The column Kea gives, or V(null).
      type: int
      returned: always
      sample: 33
carried:
  description: The number of one-address pools of carried addresses in the file written (or compared).
  returned: success
  type: int
  sample: 7
kea_warnings:
  description: Kea's WARN lines of the check (message id and text).
  returned: always
  type: list
  elements: str
  sample: ["DHCP4_RESERVATIONS_LOOKUP_FIRST_ENABLED Multi-threading is enabled and host reservations lookup is always performed first."]
"""

import grp
import json
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.dhcp.failover.plugins.module_utils._kea_check import (
    COMMAND_ENVIRONMENT,
    build_argv,
    check_flag,
    checkable_copy,
    dumps,
    format_errors,
    parse_output,
    parse_version,
)
from ansible_collections.dhcp.failover.plugins.module_utils._kea_pools import carve, deployed_moves

ROOT = 0
KEA_GROUP = '_kea'


def read_file(path):
    """``(bytes, stat)`` of a regular file, ``(None, None)`` if there is none."""
    try:
        with open(path, 'rb') as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise OSError('%s is not a regular file' % path)
            return handle.read(), info
    except FileNotFoundError:
        return None, None


def owner_and_mode():
    try:
        return ROOT, grp.getgrnam(KEA_GROUP).gr_gid, 0o640
    except KeyError:
        return ROOT, ROOT, 0o644


def write_temp(text, directory):
    fd, path = tempfile.mkstemp(prefix='.kea-dhcp4.', suffix='.check.json', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(to_bytes(text))
    except BaseException:
        remove(path)
        raise
    return path


def remove(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def checked_text(content, flag):
    """The text Kea checks, and whether its lines are the content's (so Kea's positions name the content)."""
    if flag != '-T':
        return content, True
    try:
        config = json.loads(content)
    except ValueError:
        # Not plain JSON (Kea also reads comments): Kea checks it as it is and says what it finds.
        return content, True
    if not isinstance(config, dict):
        return content, True
    copy = dumps(checkable_copy(config))
    return copy, dumps(config).rstrip('\n') == content.rstrip('\n')


def run_check(module, content, result):
    params = module.params
    kea = module.get_bin_path(params['kea_dhcp4'], opt_dirs=['/usr/sbin', '/sbin'])
    if kea is None:
        if module.check_mode:
            module.warn('kea-dhcp4 (%s) is not installed: the new configuration was not checked' % params['kea_dhcp4'])
            return
        module.fail_json(msg='kea-dhcp4 (%s) is not installed: cannot check the new configuration; nothing was '
                             'written. Install kea-dhcp4-server first.' % params['kea_dhcp4'], **result)
    rc, out, err = module.run_command([kea, '-v'], check_rc=False, environ_update=COMMAND_ENVIRONMENT)
    numbers, version = parse_version(out)
    if numbers is None:
        module.fail_json(msg='cannot read the Kea version: "%s -v" exited with %d: %s; nothing was written'
                             % (kea, rc, (out + err).strip()[:200]), **result)
    result['version'] = version
    flag = check_flag(numbers)
    text, same_lines = checked_text(content, flag)
    try:
        temp = write_temp(text, params['tmpdir'])
    except OSError as exc:
        module.fail_json(msg='Cannot write the configuration to a temporary file in %s: %s; nothing was written'
                             % (params['tmpdir'], to_native(exc)), **result)
    try:
        argv = build_argv(kea, flag, temp)
        result['check_command'] = argv
        rc, out, err = module.run_command(argv, check_rc=False, environ_update=COMMAND_ENVIRONMENT)
    finally:
        remove(temp)
    result['checked'] = True
    shown = params['path'] if same_lines else '%s (its copy for -T)' % params['path']
    parsed = parse_output(rc, out, err, temp, shown)
    result['kea_warnings'] = parsed['warnings']
    if not parsed['valid']:
        module.fail_json(msg='kea-dhcp4 %s (Kea %s) rejected the new configuration; nothing was written: %s'
                             % (flag, version, '; '.join(format_errors(parsed['errors']))),
                         errors=parsed['errors'], **result)


def put(module, path, data, uid, gid, mode):
    """Write ``data`` to ``path`` atomically with its final mode and owner already set."""
    directory, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % name, suffix='.new', dir=directory or '.')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchown(handle.fileno(), uid, gid)
            os.fchmod(handle.fileno(), mode)
        if os.path.exists(path):
            set_attributes(path, uid, gid, mode)
        module.atomic_move(tmp, path)
    except BaseException:
        remove(tmp)
        raise
    set_attributes(path, uid, gid, mode)


def set_attributes(path, uid, gid, mode):
    info = os.stat(path)
    if (info.st_uid, info.st_gid) != (uid, gid):
        os.chown(path, uid, gid)
    if stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode)


def diff(path, before, after):
    return {
        'before_header': path if before is not None else '%s (absent)' % path,
        'after_header': path if after is not None else '%s (absent)' % path,
        'before': to_text(before or b'', errors='surrogate_or_replace'),
        'after': to_text(after or b'', errors='surrogate_or_replace'),
    }


def with_carried(content, current, extra):
    """The text to write and the number of carried-address pools in it: ``content`` with the marked
    pools of the deployed file (``current``, bytes or None) and ``extra`` moves applied."""
    try:
        config = json.loads(content)
    except ValueError:
        return content, 0
    moves = []
    if current is not None:
        try:
            moves = deployed_moves(json.loads(to_text(current, errors='surrogate_or_strict')))
        except (ValueError, TypeError, KeyError, AttributeError):
            moves = []   # a file the role did not write (comments, ...): nothing of ours to keep
    moves += [dict(move) for move in extra or []]
    if not moves or not isinstance(config, dict):
        return content, 0
    config, applied = carve(config, moves)
    return (dumps(config), applied) if applied else (content, 0)


def write_config(module):
    params = module.params
    path = params['path']
    result = {'changed': False, 'changed_files': [], 'rollback': {}, 'checked': False, 'kea_warnings': []}
    try:
        current, info = read_file(path)
    except OSError as exc:
        module.fail_json(msg='Cannot read %s to compare: %s' % (path, to_native(exc)), **result)
    text, result['carried'] = with_carried(params['content'], current, params['carried_addresses'])
    desired = to_bytes(text)
    uid, gid, mode = owner_and_mode()
    content_changes = current != desired
    attributes_change = (not content_changes and info is not None
                         and (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) != (mode, uid, gid))
    if content_changes and params['validate']:
        run_check(module, text, result)
    if module._diff and content_changes:
        result['diff'] = diff(path, current, desired)
    if not (content_changes or attributes_change):
        return result
    result['changed'] = True
    result['changed_files'] = [path]
    if module.check_mode:
        return result
    try:
        if attributes_change:
            set_attributes(path, uid, gid, mode)
            return result
        backup = module.backup_local(path) if params['backup'] and current is not None else None
        put(module, path, desired, uid, gid, mode)
    except (OSError, IOError) as exc:
        result.update(changed=False, changed_files=[])
        module.fail_json(msg='Cannot write %s: %s' % (path, to_native(exc)), **result)
    if current is None:
        result['rollback'] = {path: None}
    elif backup:
        result['rollback'] = {path: backup}
    return result


def restore(module):
    params = module.params
    result = {'changed': False, 'changed_files': [], 'rollback': {}, 'checked': False, 'kea_warnings': []}
    path = os.path.normpath(params['path'])
    for target, backup in params['rollback'].items():
        target = os.path.normpath(target)
        if target != path:
            module.fail_json(msg='rollback: %s is not the file this module writes (path: %s); pass the same path as in '
                                 'the call that returned the rollback value. Nothing was changed.' % (target, path),
                             **result)
        if backup is not None:
            if not isinstance(backup, str):
                module.fail_json(msg='rollback: the value for %s must be a backup file or null, not %r. Nothing was '
                                     'changed.' % (target, backup), **result)
            backup = os.path.normpath(backup)
            if (os.path.dirname(backup) != os.path.dirname(path)
                    or not os.path.basename(backup).startswith(os.path.basename(path) + '.')):
                module.fail_json(msg='rollback: %s is not a backup of %s (it must be next to it, its name starting with '
                                     '"%s."). Nothing was changed.' % (backup, path, os.path.basename(path)), **result)
        try:
            current, _info = read_file(path)
            desired, info = read_file(backup) if backup is not None else (None, None)
        except OSError as exc:
            module.fail_json(msg='rollback: cannot read %s: %s. Nothing was changed.' % (path, to_native(exc)), **result)
        if backup is not None and desired is None:
            module.fail_json(msg='rollback: the backup %s does not exist. Nothing was changed.' % backup, **result)
        if current == desired:
            continue
        if module._diff:
            result['diff'] = diff(path, current, desired)
        result['changed'] = True
        result['changed_files'] = [path]
        if module.check_mode:
            continue
        try:
            if desired is None:
                os.unlink(path)
            else:
                put(module, path, desired, info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode))
        except OSError as exc:
            module.fail_json(msg='rollback: cannot put back %s: %s' % (path, to_native(exc)), **result)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            content=dict(type='str'),
            path=dict(type='path', default='/etc/kea/kea-dhcp4.conf'),
            validate=dict(type='bool', default=True),
            kea_dhcp4=dict(type='path', default='/usr/sbin/kea-dhcp4'),
            tmpdir=dict(type='path', default='/etc/kea'),
            backup=dict(type='bool', default=True),
            carried_addresses=dict(type='list', elements='dict', options={
                'subnet_id': dict(type='int', required=True),
                'address': dict(type='str', required=True),
                'client_class': dict(type='str', required=True),
            }),
            rollback=dict(type='dict'),
        ),
        required_one_of=[('content', 'rollback')],
        mutually_exclusive=[('content', 'rollback')],
        supports_check_mode=True,
    )
    if module.params['rollback'] is not None:
        result = restore(module)
    else:
        result = write_config(module)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
