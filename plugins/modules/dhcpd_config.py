#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


DOCUMENTATION = r"""
module: dhcpd_config
short_description: Write the files ISC dhcpd reads (dhcpd.conf, OMAPI key, defaults) in one step checked by C(dhcpd -t)
version_added: 1.0.0
description:
  - Writes C(dhcpd.conf) (O(content)), the OMAPI key file it includes (O(key_content)) and the service's defaults
    file (O(defaults_content)) as one validated change, or puts back the files an earlier call replaced
    (O(rollback)).
  - Compares each given text with the file on the managed node. When none differs, nothing is run and nothing is
    written (RV(checked) is V(false)).
  - When any differs, runs C(dhcpd -t -4 -cf FILE) on the new configuration before writing anything. The key file's
    new text is put in place of the configuration's C(include "KEY_PATH";) statement, so the new key is checked
    together with the new configuration, before either is written. FILE is a new file of mode C(0600) in
    O(tmpdir), always removed afterwards. If O(content) is not given, the configuration on the managed node
    (O(path)) is checked instead.
  - If dhcpd rejects it, the task fails and nothing is written. RV(errors) give the file and line of each error in
    the files as they will be written (O(path) or O(key_path)), not in the temporary file.
  - Otherwise each file that differs is replaced atomically (a temporary file in the same directory, renamed over
    it), after a backup of the previous one (O(backup)). RV(rollback) tells how to undo exactly this change.
  - "The OMAPI key's secret never appears in the module's results: not in RV(errors) (dhcpd prints the line it was
    reading, which can be the key's C(secret) line, whole or cut short), not in warnings, messages or the diff.
    Every C(secret) statement's value, and any piece of a secret of 8 characters or more, is replaced by
    C(********)."
  - Lease files are never read or written by this module, in any mode.
author:
  - dhcp.failover maintainers (@dhcp-failover)
extends_documentation_fragment:
  - dhcp.failover.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports which files would change, with the diff, and runs C(dhcpd -t) when something would change (it only
        reads). If dhcpd is not installed, the check is skipped with a warning instead of failing.
  diff_mode:
    support: full
    details:
      - Shows the old and new text of O(path) and O(defaults_path). The key file appears only as a line saying that it
        is created, changed or removed, never with its text.
  idempotent:
    support: full
    details:
      - A second run with the same texts changes nothing and does not run C(dhcpd -t).
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  content:
    description:
      - The text of C(dhcpd.conf), written to O(path) with mode C(0644), owner and group C(root).
      - When the OMAPI key is managed (O(key_content)), it should include the key file with the statement
        C(include "KEY_PATH";), KEY_PATH being O(key_path) exactly; otherwise the key is not checked and a warning
        says so.
      - If not given, O(path) is left as it is (and checked, when the key or the defaults file changes).
    type: str
  path:
    description: The configuration file dhcpd reads.
    type: path
    default: /etc/dhcp/dhcpd.conf
  key_content:
    description:
      - The text of the OMAPI key file, for example C(key omapi_key { algorithm hmac-sha256; secret "..."; };),
        written to O(key_path) with mode C(0640), owner and group C(root).
      - Not logged. Its secret is masked in everything the module returns.
      - Ignored with O(key_state=absent).
    type: str
  key_path:
    description:
      - The OMAPI key file. The default is the server role's C(dhcp_failover_omapi_key_file).
    type: path
    default: /etc/dhcp/omapi-key.conf
  key_state:
    description:
      - V(present) writes O(key_content) to O(key_path); it is the default when O(key_content) is given.
      - V(absent) removes O(key_path), for example when OMAPI is turned off. The configuration must then no longer
        include it (the module refuses O(content) that still has C(include "KEY_PATH";)).
      - Without O(key_state) and O(key_content), the key file is not managed (dhcpd still reads it during the check if
        the configuration includes it).
    type: str
    choices: [present, absent]
  defaults_content:
    description:
      - The text of the service's defaults file (C(INTERFACESv4) and C(DHCPDv4_CONF) on Debian), written to
        O(defaults_path) with mode C(0644), owner and group C(root).
      - A change of it alone also runs C(dhcpd -t) (on O(content), or on O(path)).
      - If not given, the defaults file is left as it is.
    type: str
  defaults_path:
    description: The defaults file of the C(isc-dhcp-server) service.
    type: path
    default: /etc/default/isc-dhcp-server
  dhcpd:
    description:
      - The dhcpd program, a path or a name looked up in E(PATH) and the usual C(sbin) directories.
      - Needed only when something changes. If it is not installed, the module fails, except in check mode.
    type: path
    default: /usr/sbin/dhcpd
  tmpdir:
    description:
      - Directory for the temporary file C(dhcpd -t) checks.
      - The default is C(/etc/dhcp) because Debian's and Ubuntu's AppArmor profile for dhcpd does not let it read
        files under C(/tmp) or Ansible's temporary directories.
    type: path
    default: /etc/dhcp
  backup:
    description:
      - Keep a copy of each file before it is replaced or removed, next to it, with a timestamp in its name
        (C(FILE.PID.YYYY-MM-DD@HH:MM:SS~)). A copy of the key file has the key file's mode.
      - Without backups, RV(rollback) cannot put back a replaced or removed file; it lists only files that did not
        exist before.
    type: bool
    default: true
  rollback:
    description:
      - Put files back instead of writing new texts. The value is RV(rollback) as returned by an earlier call;
        O(content), O(key_content), O(key_state) and O(defaults_content) are then ignored, and C(dhcpd -t) is not run.
      - Each key is a file, each value the backup to copy back over it (atomically, with the backup's mode, owner and
        group) or V(null) when the file did not exist before (it is removed).
      - Each key must be O(path), O(key_path) or O(defaults_path) (pass the same paths as in the call that returned
        the value), and each backup a file next to it whose name starts with the file's name. Anything else is
        refused before any file is touched.
      - A file that already is as the backup (or already absent) is left alone.
    type: dict
notes:
  - Only the IPv4 server (C(dhcpd -4)) is checked.
  - C(dhcpd -t) cannot see everything that stops dhcpd from starting (for example an interface in the defaults file
    that does not exist). Check the service after a change and use RV(rollback) if it does not come back.
  - "Warnings dhcpd prints, such as C(WARNING: load balancing will be disabled for failover peer ...), are returned in
    RV(dhcpd_warnings) and also shown as Ansible warnings."
  - Requires ISC dhcpd on the managed node (Debian and Ubuntu package C(isc-dhcp-server)). Tested with 4.4.3-P1.
seealso:
  - module: dhcp.failover.config_check
    description: Runs the same C(dhcpd -t) check without writing anything.
  - name: dhcpd.conf(5)
    description: ISC dhcpd configuration file, including the C(key), C(omapi-key) and C(include) statements.
    link: https://manpages.debian.org/bookworm/isc-dhcp-server/dhcpd.conf.5.en.html
  - name: dhcpd(8)
    description: The C(-t) and C(-cf) options.
    link: https://manpages.debian.org/bookworm/isc-dhcp-server/dhcpd.8.en.html
"""

EXAMPLES = r"""
- name: Write dhcpd.conf, the OMAPI key and the interfaces, checked together by dhcpd -t
  dhcp.failover.dhcpd_config:
    content: "{{ lookup('ansible.builtin.template', 'dhcpd.conf.j2') }}"
    key_content: |
      key omapi_key {
          algorithm hmac-sha256;
          secret "{{ omapi_secret }}";
      }
    defaults_content: |
      DHCPDv4_CONF=/etc/dhcp/dhcpd.conf
      INTERFACESv4="eth0"
      INTERFACESv6=""
  register: dhcpd_files

- name: Restart dhcpd when a file changed
  ansible.builtin.systemd_service:
    name: isc-dhcp-server
    state: restarted
  register: dhcpd_restart
  ignore_errors: true
  when: dhcpd_files is changed

- name: Put the previous files back if dhcpd did not come back
  dhcp.failover.dhcpd_config:
    rollback: "{{ dhcpd_files.rollback }}"
  when: dhcpd_restart is failed

- name: Turn OMAPI off (the new configuration no longer includes the key file)
  dhcp.failover.dhcpd_config:
    content: "{{ lookup('ansible.builtin.template', 'dhcpd.conf.j2') }}"
    key_state: absent
"""

RETURN = r"""
changed_files:
  description:
    - The files written, removed, or (only their mode, owner or group) corrected, in the order they were changed.
    - In check mode, the files that would change.
  returned: success
  type: list
  elements: str
  sample: [/etc/dhcp/omapi-key.conf, /etc/dhcp/dhcpd.conf]
rollback:
  description:
    - How to undo this change with O(rollback)=RV(rollback) in a later call. For each file written or removed,
      its backup, or V(null) if the file did not exist before.
    - Lists only files whose content changed; a file whose mode, owner or group only was corrected is not in it.
      Without O(backup), a replaced or removed file is not in it either.
    - Empty in check mode, when nothing changed, and after a rollback.
  returned: success
  type: dict
  sample:
    /etc/dhcp/dhcpd.conf: /etc/dhcp/dhcpd.conf.4711.2026-11-30@10:02:13~
    /etc/dhcp/omapi-key.conf: null
failover_link_changed:
  description:
    - Whether the change alters what the two peers need to talk to each other - a C(failover peer) declaration's
      name, C(primary)/C(secondary), C(address), C(port), C(peer address) or C(peer port). Such a change cannot
      reach C(normal) until both peers run it; the role then restarts the second peer once the first serves
      (in C(communications-interrupted)), instead of waiting for C(normal) in between.
    - V(false) for a new file, when the configuration does not change, and after a rollback.
  returned: success
  type: bool
  sample: false
checked:
  description:
    - Whether C(dhcpd -t) ran (and accepted the configuration, or the task would have failed).
    - V(false) when nothing differs, after a rollback, and in check mode when dhcpd is not installed.
  returned: always
  type: bool
  sample: true
errors:
  description:
    - What dhcpd rejected, in the order it printed it; returned when it rejected the new configuration.
    - Secrets are masked in every field.
  returned: failure
  type: list
  elements: dict
  contains:
    file:
      description:
        - File the error is in as it will be written, O(path) or O(key_path) (or an included file); V(null) for
          errors without a position.
      type: str
      returned: always
      sample: /etc/dhcp/omapi-key.conf
    line:
      description: Line number in RV(errors[].file), or V(null) when dhcpd gives none.
      type: int
      returned: always
      sample: 4
    message:
      description: The error message, without the file and line prefix.
      type: str
      returned: always
      sample: "stuff after base64 '=' terminator: algorithm."
    context:
      description:
        - The part of the line dhcpd had read, and a line with a caret under the offending token, as dhcpd printed them
          (at most 80 characters of the line).
      type: list
      elements: str
      returned: always
      sample: ['    secret "********" algorithm;', "                                       ^"]
dhcpd_warnings:
  description:
    - Non-fatal messages C(dhcpd -t) printed, one per line, with secrets masked. They are also emitted as Ansible
      warnings.
  returned: always
  type: list
  elements: str
  sample:
    - "WARNING: load balancing will be disabled for failover peer, dhcp-failover, because its load balance max secs is 0"
"""

import os
import re
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.dhcp.failover.plugins.module_utils._dhcpd_check import (
    COMMAND_ENVIRONMENT,
    SecretMasker,
    build_argv,
    find_secrets,
    format_errors,
    include_statement_re,
    inline_include,
    parse_output,
    relocate_errors,
    remove_temp_config,
    write_temp_config,
)

CONFIG_MODE = 0o644
KEY_MODE = 0o640
ROOT = 0


class ManagedFile(object):
    """One file this module writes: what should be in it, and what is there now."""

    def __init__(self, path, mode, secret, desired, uid=ROOT, gid=ROOT):
        self.path = path
        self.mode = mode
        self.secret = secret
        self.desired = desired          # bytes, or None for "absent"
        self.uid = uid
        self.gid = gid
        self.current, self.stat = read_file(path)

    @property
    def content_changes(self):
        return self.current != self.desired

    @property
    def attributes_change(self):
        return (self.desired is not None and self.current is not None and not self.content_changes
                and (stat.S_IMODE(self.stat.st_mode), self.stat.st_uid, self.stat.st_gid)
                != (self.mode, self.uid, self.gid))

    @property
    def changes(self):
        return self.content_changes or self.attributes_change


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


def text(data):
    return '' if data is None else to_text(data, errors='surrogate_or_replace')


def describe_attributes(managed):
    return '%s: mode %04o, owner %d:%d -> mode %04o, owner %d:%d' % (
        managed.path, stat.S_IMODE(managed.stat.st_mode), managed.stat.st_uid, managed.stat.st_gid,
        managed.mode, managed.uid, managed.gid)


def file_diff(managed, masker):
    if managed.attributes_change:
        return {'prepared': describe_attributes(managed)}
    if managed.secret:
        if managed.desired is None:
            what = 'is removed'
        elif managed.current is None:
            what = 'is created'
        else:
            what = 'changes'
        return {'prepared': 'OMAPI key file %s %s (its content is not shown)' % (managed.path, what)}
    return {
        'before_header': managed.path if managed.current is not None else '%s (absent)' % managed.path,
        'after_header': managed.path if managed.desired is not None else '%s (absent)' % managed.path,
        'before': masker.mask_text(text(managed.current)),
        'after': masker.mask_text(text(managed.desired)),
    }


def make_backup(module, managed):
    """A timestamped copy of the current file; a key file's copy is never readable by others."""
    previous = os.umask(0o077) if managed.secret else None
    try:
        return module.backup_local(managed.path)
    finally:
        if previous is not None:
            os.umask(previous)


def stage(managed):
    """Write the new content to a private temporary file next to the target and return its name."""
    directory, name = os.path.split(managed.path)
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % name, suffix='.new', dir=directory or '.')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(managed.desired)
            handle.flush()
            os.fsync(handle.fileno())
            info = os.fstat(handle.fileno())
            if (info.st_uid, info.st_gid) != (managed.uid, managed.gid):
                os.fchown(handle.fileno(), managed.uid, managed.gid)
            os.fchmod(handle.fileno(), managed.mode)
    except BaseException:
        remove_temp_config(tmp)
        raise
    return tmp


def set_attributes(managed):
    info = os.stat(managed.path)
    if (info.st_uid, info.st_gid) != (managed.uid, managed.gid):
        os.chown(managed.path, managed.uid, managed.gid)
    if stat.S_IMODE(info.st_mode) != managed.mode:
        os.chmod(managed.path, managed.mode)


def commit(module, managed, tmp):
    if tmp is None:
        os.unlink(managed.path)
        return
    # atomic_move gives the new file the mode and owner of the one it replaces: set them first, so
    # that the new content is never readable by more than it should be, not even for a moment.
    if os.path.exists(managed.path):
        set_attributes(managed)
    module.atomic_move(tmp, managed.path)
    set_attributes(managed)


def remove_staged(staged):
    for entry in staged:
        if entry[1] is not None:
            remove_temp_config(entry[1])


def apply_changes(module, files, backup, result):
    """Stage every file (backups, temporary files), then move them into place one by one."""
    staged = []
    try:
        for managed in files:
            if not managed.content_changes:
                continue
            backup_file = None
            if backup and managed.current is not None:
                backup_file = make_backup(module, managed)
            tmp = stage(managed) if managed.desired is not None else None
            staged.append((managed, tmp, backup_file))
    except Exception as exc:
        remove_staged(staged)
        module.fail_json(msg='Nothing was written: cannot prepare %s: %s' % (managed.path, to_native(exc)), **result)

    for index, (managed, tmp, backup_file) in enumerate(staged):
        try:
            commit(module, managed, tmp)
        except Exception as exc:
            remove_staged(staged[index:])
            result['changed'] = bool(result['changed_files'])
            module.fail_json(msg='Cannot write %s: %s (files already written are in changed_files; '
                                 'rollback puts them back)' % (managed.path, to_native(exc)), **result)
        result['changed_files'].append(managed.path)
        if managed.current is None:
            result['rollback'][managed.path] = None
        elif backup_file:
            result['rollback'][managed.path] = backup_file

    for managed in files:
        if managed.attributes_change:
            try:
                set_attributes(managed)
            except OSError as exc:
                module.fail_json(msg='Cannot set the mode or owner of %s: %s' % (managed.path, to_native(exc)), **result)
            result['changed_files'].append(managed.path)


def check_configuration(module, config, files, masker, result):
    """Run dhcpd -t on the new configuration with the new key inlined; fail if dhcpd rejects it."""
    params = module.params
    dhcpd = module.get_bin_path(params['dhcpd'])
    if dhcpd is None:
        if module.check_mode:
            module.warn('dhcpd (%s) is not installed: the new configuration was not checked with dhcpd -t'
                        % params['dhcpd'])
            return
        module.fail_json(msg='dhcpd (%s) is not installed: cannot check the new configuration with dhcpd -t; '
                             'nothing was written. Install isc-dhcp-server first.' % params['dhcpd'], **result)

    key = files.get('key')
    inlined = to_text(key.desired) if key is not None and key.desired is not None else None
    checked_text, positions, count = inline_include(config, params['key_path'], inlined)
    if inlined is not None and count == 0:
        module.warn('The configuration does not include the key file (include "%s";): the key file is written, '
                    'but dhcpd does not read it and it was not checked.' % params['key_path'])

    try:
        checked_file = write_temp_config(checked_text, params['tmpdir'])
    except OSError as exc:
        module.fail_json(msg='Cannot write the configuration to a temporary file in %s: %s'
                             % (params['tmpdir'], to_native(exc)), **result)
    try:
        argv = build_argv(dhcpd, checked_file)
        rc, stdout, stderr = module.run_command(argv, check_rc=False, environ_update=COMMAND_ENVIRONMENT)
    finally:
        remove_temp_config(checked_file)
    result['checked'] = True

    parsed = parse_output(rc, stdout, stderr)
    errors = relocate_errors(parsed['errors'], checked_file, positions, params['path'], params['key_path'])
    # The temporary file's name means nothing to anyone: say which file it stands for.
    errors = [dict((field, value.replace(checked_file, params['path']) if isinstance(value, str) else value)
                   for field, value in error.items()) for error in errors]
    for error in errors:
        error['context'] = [line.replace(checked_file, params['path']) for line in error['context']]
    warnings = [warning.replace(checked_file, params['path']) for warning in parsed['warnings']]
    result['dhcpd_warnings'] = masker.mask(warnings)
    for warning in result['dhcpd_warnings']:
        module.warn('dhcpd: %s' % warning)

    if not parsed['valid']:
        errors = masker.mask(errors)
        module.fail_json(msg='dhcpd -t rejected the new configuration; nothing was written: %s'
                             % '; '.join(format_errors(errors)), errors=errors, **result)


def collect_secrets(*texts):
    secrets = []
    for value in texts:
        secrets.extend(find_secrets(text(value) if isinstance(value, bytes) else value))
    return secrets


_PEER_BLOCK_RE = re.compile(r'failover\s+peer\s+"([^"]+)"\s*\{([^}]*)\}')
_LINK_STATEMENT_RE = re.compile(r'^\s*(primary|secondary|(?:peer\s+)?address|(?:peer\s+)?port)\b\s*([^;]*);', re.MULTILINE)


def failover_links(config):
    """{peer name: sorted link statements} of a dhcpd.conf: the role and both ends' addresses and ports,
    what two peers must agree on to talk at all (not split, hba, mclt or timers)."""
    links = {}
    for name, body in _PEER_BLOCK_RE.findall(config or ''):
        body = re.sub(r'#[^\n]*', '', body)
        links[name] = sorted((' '.join(key.split()), ' '.join(value.split()))
                             for key, value in _LINK_STATEMENT_RE.findall(body))
    return links


def write_files(module):
    params = module.params
    result = {'changed': False, 'changed_files': [], 'rollback': {}, 'checked': False, 'dhcpd_warnings': [],
              'failover_link_changed': False}

    key_state = params['key_state'] or ('present' if params['key_content'] is not None else None)
    files = {}
    try:
        if key_state is not None:
            files['key'] = ManagedFile(params['key_path'], KEY_MODE, True,
                                       to_bytes(params['key_content']) if key_state == 'present' else None)
        if params['content'] is not None:
            files['config'] = ManagedFile(params['path'], CONFIG_MODE, False, to_bytes(params['content']))
        if params['defaults_content'] is not None:
            files['defaults'] = ManagedFile(params['defaults_path'], CONFIG_MODE, False,
                                            to_bytes(params['defaults_content']))
        deployed_key = files['key'].current if 'key' in files else read_file(params['key_path'])[0]
        deployed_config = files['config'].current if 'config' in files else read_file(params['path'])[0]
    except OSError as exc:
        module.fail_json(msg='Cannot read the files to compare: %s' % to_native(exc), **result)

    masker = SecretMasker(collect_secrets(params['key_content'], deployed_key, params['content'], deployed_config))
    config = params['content'] if params['content'] is not None else (
        text(deployed_config) if deployed_config is not None else None)

    if key_state == 'absent' and config is not None and include_statement_re(params['key_path']).search(config):
        module.fail_json(msg='key_state=absent removes %s, but the configuration (%s) still includes it; '
                             'nothing was written.' % (params['key_path'], params['path']), **result)

    # Written in this order: the key before the configuration that includes it, a key that goes
    # away after the configuration that stops including it.
    order = [files[name] for name in ('key', 'config', 'defaults') if name in files]
    if key_state == 'absent':
        order = order[1:] + order[:1]
    changing = [managed for managed in order if managed.changes]
    if 'config' in files and deployed_config is not None and files['config'].content_changes:
        result['failover_link_changed'] = failover_links(text(deployed_config)) != failover_links(params['content'])

    if any(managed.content_changes for managed in changing):
        if config is None:
            module.fail_json(msg='Cannot check the change with dhcpd -t: content is not given and %s does not exist; '
                                 'nothing was written.' % params['path'], **result)
        check_configuration(module, config, files, masker, result)

    if module._diff:
        result['diff'] = [file_diff(managed, masker) for managed in changing]
    if module.check_mode:
        result['changed_files'] = [managed.path for managed in changing]
        result['changed'] = bool(changing)
        return result

    apply_changes(module, order, params['backup'], result)
    result['changed'] = bool(result['changed_files'])
    return result


class RestoredFile(ManagedFile):
    """A file put back from its backup (with the backup's mode and owner), or removed."""

    def __init__(self, path, secret, backup_file):
        desired, info = read_file(backup_file) if backup_file is not None else (None, None)
        if backup_file is not None and desired is None:
            raise OSError('the backup %s does not exist' % backup_file)
        ManagedFile.__init__(self, path, stat.S_IMODE(info.st_mode) if info else 0, secret, desired,
                             info.st_uid if info else ROOT, info.st_gid if info else ROOT)
        self.backup_file = backup_file


def restore_files(module):
    params = module.params
    result = {'changed': False, 'changed_files': [], 'rollback': {}, 'checked': False, 'dhcpd_warnings': [],
              'failover_link_changed': False}
    managed_paths = dict((os.path.normpath(params[option]), option == 'key_path')
                         for option in ('path', 'key_path', 'defaults_path'))

    restored = []
    for path, backup_file in params['rollback'].items():
        path = os.path.normpath(path)
        if path not in managed_paths:
            module.fail_json(msg='rollback: %s is not a file this module writes (path, key_path, defaults_path: %s); '
                                 'pass the same paths as in the call that returned the rollback value. '
                                 'Nothing was changed.' % (path, ', '.join(sorted(managed_paths))), **result)
        if backup_file is not None:
            if not isinstance(backup_file, str):
                module.fail_json(msg='rollback: the value for %s must be a backup file or null, not %r. '
                                     'Nothing was changed.' % (path, backup_file), **result)
            backup_file = os.path.normpath(backup_file)
            if (os.path.dirname(backup_file) != os.path.dirname(path)
                    or not os.path.basename(backup_file).startswith(os.path.basename(path) + '.')):
                module.fail_json(msg='rollback: %s is not a backup of %s (it must be next to it, its name starting '
                                     'with "%s."). Nothing was changed.'
                                     % (backup_file, path, os.path.basename(path)), **result)
        try:
            restored.append(RestoredFile(path, managed_paths[path], backup_file))
        except OSError as exc:
            module.fail_json(msg='rollback: cannot put back %s: %s. Nothing was changed.' % (path, to_native(exc)),
                             **result)

    # Files put back in the order they are written (the key before the configuration that includes
    # it), then files that did not exist removed (a key after the configuration that included it).
    restore_order = ('key_path', 'path', 'defaults_path')
    remove_order = ('path', 'defaults_path', 'key_path')
    restored.sort(key=lambda managed: (
        managed.desired is None,
        [os.path.normpath(params[option]) for option in (remove_order if managed.desired is None else restore_order)]
        .index(managed.path)))
    changing = [managed for managed in restored if managed.changes]

    masker = SecretMasker(collect_secrets(*[value for managed in restored for value in (managed.current, managed.desired)]))
    if module._diff:
        result['diff'] = [file_diff(managed, masker) for managed in changing]
    if module.check_mode:
        result['changed_files'] = [managed.path for managed in changing]
        result['changed'] = bool(changing)
        return result

    apply_changes(module, restored, False, result)
    result['rollback'] = {}
    result['changed'] = bool(result['changed_files'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            content=dict(type='str'),
            path=dict(type='path', default='/etc/dhcp/dhcpd.conf'),
            key_content=dict(type='str', no_log=True),
            key_path=dict(type='path', default='/etc/dhcp/omapi-key.conf', no_log=False),
            key_state=dict(type='str', choices=['present', 'absent'], no_log=False),
            defaults_content=dict(type='str'),
            defaults_path=dict(type='path', default='/etc/default/isc-dhcp-server'),
            dhcpd=dict(type='path', default='/usr/sbin/dhcpd'),
            tmpdir=dict(type='path', default='/etc/dhcp'),
            backup=dict(type='bool', default=True),
            rollback=dict(type='dict'),
        ),
        required_if=[('key_state', 'present', ['key_content'])],
        supports_check_mode=True,
    )

    if module.params['rollback'] is not None:
        result = restore_files(module)
    else:
        result = write_files(module)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
