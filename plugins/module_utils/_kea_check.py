# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Kea's own configuration check (``kea-dhcp4 -t`` / ``-T``): which one, on what, and what it said.

PRIVATE module_utils of the dhcp.failover collection (used by ``dhcp.failover.kea_config``); its
interface may change without notice.

Measured in the lab (tests/unit/fixtures/kea/check/README.md): Kea 2.2.0 has only ``-t`` (it
parses the config and opens the hook libraries, but does not configure them: a bogus HA mode, a
``this-server-name`` missing from the peers and a lease file anywhere pass); ``-T`` (2.3.6 and
later) configures the hooks too and catches those, but on 2.6.3 it fails every valid HA config
whose HA multi-threading uses the dedicated listener (rc 1, "Error encountered: Error initializing
hooks: CmdHttpListener cannot be started when multi-threading is disabled"), so the copy it checks
has HA multi-threading off.
"""

from __future__ import annotations

import copy
import json
import re

COMMAND_ENVIRONMENT = {'LC_ALL': 'C', 'LANG': 'C'}
# The first version with -T (Kea's ChangeLog: 2.3.6 added "-T" to test a configuration with hooks).
FULL_TEST_VERSION = (2, 3, 6)

_VERSION_RE = re.compile(r'^\s*(\d+)\.(\d+)\.(\d+)')
# Kea's error text ends with the position of the element: (FILE:LINE:COLUMN) or (<string>:L:C).
_POSITION_RE = re.compile(r'\((?P<file>[^():]+|<string>):(?P<line>\d+):(?P<column>\d+)\)')
_LOG_RE = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ +(?P<severity>[A-Z]+) +\[(?P<logger>[^\]]+)\] '
                     r'(?P<id>[A-Z0-9_]+) (?P<text>.*)$')


def parse_version(text):
    """(major, minor, patch) and the text ``M.m.p`` of ``kea-dhcp4 -v`` output, or (None, None)."""
    match = _VERSION_RE.match(text or '')
    if not match:
        return None, None
    numbers = tuple(int(part) for part in match.groups())
    return numbers, '%d.%d.%d' % numbers


def check_flag(version):
    """``-T`` where the version has it, else ``-t``."""
    return '-T' if version is not None and tuple(version) >= FULL_TEST_VERSION else '-t'


def build_argv(kea_dhcp4, flag, path):
    return [kea_dhcp4, flag, path]


def checkable_copy(config):
    """The config ``-T`` is run on: HA multi-threading and its dedicated listener off, the rest as is."""
    result = copy.deepcopy(config)
    for hook in (result.get('Dhcp4') or {}).get('hooks-libraries') or []:
        for block in (hook.get('parameters') or {}).get('high-availability') or []:
            if isinstance(block, dict) and 'multi-threading' in block:
                block['multi-threading'] = {'enable-multi-threading': False, 'http-dedicated-listener': False}
    return result


def _position(text, path):
    match = _POSITION_RE.search(text)
    if not match:
        return None, None, None
    name = match.group('file')
    return (path if path and name != '<string>' else name), int(match.group('line')), int(match.group('column'))


def parse_output(rc, stdout, stderr, checked_path=None, shown_path=None):
    """Kea's verdict and errors: {valid, errors: [{message, file, line, column, id}], warnings: [..]}.

    ``checked_path``: the file Kea read (a temporary copy); ``shown_path``: the name errors give
    instead (the file as it will be written).
    """
    def shown(text):
        return text.replace(checked_path, shown_path) if checked_path and shown_path else text

    errors, warnings, seen = [], [], set()
    for line in (stdout or '').splitlines() + (stderr or '').splitlines():
        line = line.rstrip()
        log = _LOG_RE.match(line)
        if log:
            if log.group('severity') in ('ERROR', 'FATAL'):
                message = shown(log.group('text'))
                kind = log.group('id')
            elif log.group('severity') == 'WARN':
                warnings.append('%s %s' % (log.group('id'), shown(log.group('text'))))
                continue
            else:
                continue
        elif line.startswith('Error encountered: '):
            message, kind = shown(line[len('Error encountered: '):]), None
        elif line.strip():
            message, kind = shown(line.strip()), None
        else:
            continue
        file_name, line_number, column = _position(message, shown_path)
        key = _core(message)
        if key in seen:
            continue
        seen.add(key)
        errors.append({'message': message, 'file': file_name, 'line': line_number, 'column': column, 'id': kind})
    valid = rc == 0
    if valid:
        errors = []
    elif not errors:
        errors = [{'message': 'kea-dhcp4 exited with %d and printed nothing' % rc, 'file': None, 'line': None,
                   'column': None, 'id': None}]
    return {'valid': valid, 'errors': errors, 'warnings': warnings}


def _core(message):
    """The reason without what Kea wraps around it, to print a reason repeated over several lines once."""
    text = re.sub(r"^(failed to initialize Kea server: )?(configuration error using file[^:]*: )?", '', message)
    text = re.sub(r'^reason: ', '', text)
    return text.strip()


def format_errors(errors):
    result = []
    for error in errors:
        where = ''
        if error.get('line') is not None:
            where = '%s:%d:%d: ' % (error.get('file') or '?', error['line'], error.get('column') or 0)
        result.append(where + error['message'])
    return result


def dumps(config):
    """The text of a config as the role writes it (the same as Ansible's to_nice_json)."""
    return json.dumps(config, indent=4, sort_keys=True, separators=(',', ': ')) + '\n'
