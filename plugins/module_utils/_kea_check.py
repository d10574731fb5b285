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
# A JSON error: "Syntax check failed with: FILE:LINE.COLUMN-COLUMN: message".
_SYNTAX_RE = re.compile(r'^Syntax check failed with: (?P<file>.+?):(?P<line>\d+)\.(?P<column>\d+)(?:-\d+)?: (?P<text>.*)$')
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
    """The config ``-T`` is run on: HA multi-threading and its dedicated listener switched off, nothing else.

    Only the two values change (no key is added or removed), so the copy written in the role's
    layout (``dumps``) has the same lines as the config, and Kea's line numbers stay right.
    """
    result = copy.deepcopy(config)
    for hook in (result.get('Dhcp4') or {}).get('hooks-libraries') or []:
        for block in (hook.get('parameters') or {}).get('high-availability') or []:
            threading = block.get('multi-threading') if isinstance(block, dict) else None
            if isinstance(threading, dict):
                for key in ('enable-multi-threading', 'http-dedicated-listener'):
                    if key in threading:
                        threading[key] = False
    return result


def _position(text, path):
    match = _POSITION_RE.search(text)
    if not match:
        return None, None, None
    return match.group('file'), int(match.group('line')), int(match.group('column'))


def parse_output(rc, stdout, stderr, checked_path=None, shown_path=None):
    """Kea's verdict: {valid, errors: [{message, file, line, column, id}], warnings: [...]}.

    ``checked_path``: the file Kea read (a temporary copy); ``shown_path``: the file errors name
    instead (as it will be written).  Errors are Kea's ERROR/FATAL log lines (``id``: the message
    id, such as HA_CONFIGURATION_FAILED), its JSON syntax error, and its final "Error
    encountered" line unless an earlier error already says it.
    """
    def shown(text):
        return text.replace(checked_path, shown_path) if checked_path and shown_path else text

    errors, warnings = [], []
    for line in (stdout or '').splitlines() + (stderr or '').splitlines():
        line = line.rstrip()
        log = _LOG_RE.match(line)
        syntax = _SYNTAX_RE.match(line)
        if log:
            if log.group('severity') == 'WARN':
                warnings.append('%s %s' % (log.group('id'), shown(log.group('text'))))
            if log.group('severity') not in ('ERROR', 'FATAL'):
                continue
            message, kind = shown(log.group('text')), log.group('id')
            file_name, line_number, column = _position(message, shown_path)
        elif syntax:
            message, kind = shown(syntax.group('text')), 'SYNTAX_ERROR'
            file_name, line_number, column = shown(syntax.group('file')), int(syntax.group('line')), int(syntax.group('column'))
        elif line.startswith('Error encountered: '):
            message, kind = shown(line[len('Error encountered: '):]), None
            if any(message in error['message'] for error in errors):
                continue
            file_name, line_number, column = _position(message, shown_path)
        else:
            continue
        errors.append({'message': message, 'file': file_name, 'line': line_number, 'column': column, 'id': kind})
    valid = rc == 0
    if valid:
        errors = []
    elif not errors:
        errors = [{'message': 'kea-dhcp4 exited with %d and printed no error' % rc, 'file': None, 'line': None,
                   'column': None, 'id': None}]
    return {'valid': valid, 'errors': errors, 'warnings': warnings}


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
    return json.dumps(config, indent=4, sort_keys=True, separators=(',', ': '), ensure_ascii=False) + '\n'
