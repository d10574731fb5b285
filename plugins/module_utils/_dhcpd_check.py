# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Build the ``dhcpd -t`` / ``dhcpd -T`` command line and parse what ISC dhcpd 4.4 prints."""

from __future__ import annotations

import os
import re
import tempfile

# dhcpd writes its messages in English only; LC_ALL=C keeps it that way and keeps any
# locale-dependent strerror() text ("No such file or directory") stable for the parser.
COMMAND_ENVIRONMENT = {'LC_ALL': 'C'}

# "FILE line N: message": parse_warn() in common/parse.c. It is followed by the text of the
# line as far as dhcpd has read it, and by a line with a caret under the offending token.
_LOCATED_RE = re.compile(r'^(?P<file>.+?) line (?P<line>\d+): (?P<message>.*)$')
_CARET_RE = re.compile(r'^ *\^$')
_VERSION_RE = re.compile(r'^Internet Systems Consortium DHCP Server (?P<version>\S+)$')
# "Can't open FILE: strerror" (config or include file), "Can't open lease database FILE: ..."
_CANT_OPEN_RE = re.compile(r"^Can't open (?:lease database )?(?P<file>.+?): ")

# Fatal lines without a file position.
_ERROR_PREFIXES = (
    'ERROR:',
    "Can't ",
    'Configuration file errors encountered',
    'Failover configuration sanity check failed',
    'Corrupt lease file',
)

# Not fatal, and said on purpose: these become warnings.
_WARNING_PREFIXES = (
    'WARNING:',
    'Warning:',
)

# Informational lines dhcpd prints on every run (banner, paths, lease-file test summary, and
# the "report a bug" paragraph after a fatal error). They are neither errors nor warnings.
_NOISE_PREFIXES = (
    'Internet Systems Consortium DHCP Server',
    'Copyright ',
    'All rights reserved.',
    'For info, please visit ',
    'Config file: ',
    'Database file: ',
    'PID file: ',
    'Wrote ',
    'Lease file test successful',
    'If you think you have received this message due to a bug rather',
    'than a configuration issue please read the section on submitting',
    'bugs on either our web page at www.isc.org or in the README file',
    'before submitting a bug.  These pages explain the proper',
    'process and the information we find helpful for debugging.',
    'exiting.',
)


def build_argv(dhcpd, config_file, lease_file=None):
    """Return the argv list that checks ``config_file`` (and ``lease_file`` if given).

    ``-t`` tests the configuration only; ``-T`` tests the configuration and reads the lease
    file named by ``-lf``. ``-4`` because only the IPv4 server is checked.
    """
    if lease_file:
        return [dhcpd, '-T', '-4', '-cf', config_file, '-lf', lease_file]
    return [dhcpd, '-t', '-4', '-cf', config_file]


def _error(message, file=None, line=None, context=None):
    return {'file': file, 'line': line, 'message': message, 'context': context or []}


def _starts_with(text, prefixes):
    return any(text.startswith(prefix) for prefix in prefixes)


def parse_output(rc, stdout, stderr):
    """Parse the output of ``dhcpd -t``/``-T``.

    Returns a dict with ``valid`` (bool), ``errors`` (list of dicts with ``file``, ``line``,
    ``message``, ``context``), ``warnings`` (list of str) and ``dhcpd_version`` (str or None).

    The configuration is valid only if dhcpd exited with 0 *and* printed no error: a corrupt
    lease file is reported line by line, but ``dhcpd -T`` still exits with 0.
    """
    lines = (stdout or '').splitlines() + (stderr or '').splitlines()
    errors = []
    warnings = []
    version = None
    # The last error (a dict) or warning (its index), while the lines right after it may
    # continue its text: dhcpd logs long explanations as extra lines, e.g. after the caret
    # line of a dynamic-bootp range error, or after "Can't open lease database ...".
    continuing = None

    index = 0
    while index < len(lines):
        text = lines[index].rstrip()
        index += 1

        match = _LOCATED_RE.match(text)
        if match:
            context = []
            # The line dhcpd was reading and the caret under it, when both are there.
            if index + 1 < len(lines) and _CARET_RE.match(lines[index + 1]):
                context = [lines[index].rstrip(), lines[index + 1].rstrip()]
                index += 2
            continuing = _error(match.group('message').strip(), file=match.group('file'),
                                line=int(match.group('line')), context=context)
            errors.append(continuing)
            continue

        stripped = text.strip()
        if not stripped:
            continuing = None
            continue

        version_match = _VERSION_RE.match(stripped)
        if version_match:
            version = version_match.group('version')
            continuing = None
            continue

        if _starts_with(stripped, _ERROR_PREFIXES):
            cant_open = _CANT_OPEN_RE.match(stripped)
            continuing = _error(stripped, file=cant_open.group('file') if cant_open else None)
            errors.append(continuing)
            continue

        if _starts_with(stripped, _WARNING_PREFIXES):
            warnings.append(stripped)
            continuing = len(warnings) - 1
            continue

        if _starts_with(stripped, _NOISE_PREFIXES):
            continuing = None
            continue

        if isinstance(continuing, dict):
            continuing['message'] = '%s %s' % (continuing['message'], stripped)
        elif continuing is not None:
            warnings[continuing] = '%s %s' % (warnings[continuing], stripped)
        else:
            # Anything else dhcpd says without failing is worth showing, but is not an error.
            warnings.append(stripped)

    # "Corrupt lease file - possible data loss!" comes once per bad lease: report it once.
    unique_errors = []
    for error in errors:
        if error not in unique_errors:
            unique_errors.append(error)
    errors = unique_errors

    if rc != 0 and not errors:
        errors.append(_error('dhcpd exited with return code %d without an error message this module knows; '
                             'see stderr' % rc))

    return {
        'valid': rc == 0 and not errors,
        'errors': errors,
        'warnings': warnings,
        'dhcpd_version': version,
    }


def format_errors(errors):
    """One line per error, as dhcpd would print it (``FILE line N: message``)."""
    formatted = []
    for error in errors:
        if error['line'] is not None:
            formatted.append('%s line %d: %s' % (error['file'], error['line'], error['message']))
        else:
            formatted.append(error['message'])
    return formatted


def write_temp_config(content, tmpdir):
    """Write ``content`` to a new file of mode 0600 in ``tmpdir`` and return its path.

    The caller removes it (see ``remove_temp_config``). ``tmpdir`` matters: Debian's AppArmor
    profile for dhcpd lets it read ``/etc/dhcp`` but not ``/tmp`` or ``~/.ansible/tmp``.
    """
    fd, path = tempfile.mkstemp(prefix='.dhcpd-check-', suffix='.conf', dir=tmpdir)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            fd = None
            handle.write(content)
    except BaseException:
        if fd is not None:
            os.close(fd)
        remove_temp_config(path)
        raise
    return path


def remove_temp_config(path):
    """Remove a file written by ``write_temp_config``; a missing file is not an error."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
