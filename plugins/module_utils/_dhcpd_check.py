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


# The OMAPI key and its secret: dhcpd -t prints the line it was reading when it fails, so a
# rejected key file shows its secret; such text is masked before anyone sees it.

MASK = '********'

# ``secret "BASE64";`` as in a key file, also the unterminated ``secret "BASE64`` of a line dhcpd
# cut short, and the unquoted form dhcpd accepts as well. Looked for outside comments only.
_SECRET_STATEMENT_RE = re.compile(r'(?P<keyword>\bsecret\s+)(?P<value>"[^"\n]*"?|[A-Za-z0-9+/=]+)')
_SECRET_VALUE_RE = re.compile(r'\bsecret\s+(?:"(?P<quoted>[^"]*)"?|(?P<bare>[A-Za-z0-9+/=]+))')
# In a comment (a key commented out), only the quoted form is taken for a secret.
_QUOTED_SECRET_RE = re.compile(r'(?P<keyword>\bsecret\s+)"(?P<quoted>[^"\n]*)"?')
# A line split into its statements and its comment (from a '#' outside a quoted string).
_COMMENT_RE = re.compile(r'^(?P<code>(?:[^"#\n]|"[^"\n]*(?:"|$))*)(?P<comment>.*)$', re.MULTILINE)
# A run of characters a base64 secret is made of.
_BASE64_RUN_RE = re.compile(r'[A-Za-z0-9+/=]+')
# dhcpd prints at most 80 characters of the line it was reading, and its base64 parser prints
# what follows an '=' inside a secret: pieces of a secret appear as well as whole ones. A run of
# base64 characters that shares this many characters in a row with a secret is masked whole.
_SECRET_PIECE = 8


def find_secrets(text):
    """The secrets of the ``secret`` statements in ``text`` (a key file or a dhcpd.conf)."""
    secrets = []
    for match in _SECRET_VALUE_RE.finditer(_COMMENT_RE.sub(r'\g<code>', text or '')):
        value = match.group('quoted') if match.group('quoted') is not None else match.group('bare')
        if value and value not in secrets:
            secrets.append(value)
    for comment in _COMMENT_RE.finditer(text or ''):
        for match in _QUOTED_SECRET_RE.finditer(comment.group('comment')):
            if match.group('quoted') and match.group('quoted') not in secrets:
                secrets.append(match.group('quoted'))
    return secrets


class SecretMasker(object):
    """Replace secrets, whole or in pieces, and every ``secret`` statement's value by ``MASK``."""

    def __init__(self, secrets):
        self.secrets = sorted(set(secret for secret in secrets if secret), key=len, reverse=True)
        self._pieces = set()
        for secret in self.secrets:
            for start in range(len(secret) - _SECRET_PIECE + 1):
                self._pieces.add(secret[start:start + _SECRET_PIECE])

    def _mask_run(self, match):
        run = match.group(0)
        for start in range(len(run) - _SECRET_PIECE + 1):
            if run[start:start + _SECRET_PIECE] in self._pieces:
                return MASK
        return run

    @staticmethod
    def _mask_statements(code):
        return _SECRET_STATEMENT_RE.sub(
            lambda match: match.group('keyword') + ('"%s"' % MASK if match.group('value').startswith('"') else MASK),
            code)

    def mask_text(self, text):
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _COMMENT_RE.sub(
            lambda match: (self._mask_statements(match.group('code'))
                           + _QUOTED_SECRET_RE.sub(r'\g<keyword>"%s"' % MASK, match.group('comment'))), text)
        if self._pieces:
            text = _BASE64_RUN_RE.sub(self._mask_run, text)
        return text

    def mask(self, value):
        """``value`` with every string in it masked (strings, lists, tuples and dicts, recursively)."""
        if isinstance(value, str):
            return self.mask_text(value)
        if isinstance(value, dict):
            return dict((key, self.mask(item)) for key, item in value.items())
        if isinstance(value, (list, tuple)):
            return [self.mask(item) for item in value]
        return value


def include_statement_re(include_path):
    """``include "PATH";`` for exactly this path."""
    return re.compile(r'\binclude\s+"%s"\s*;' % re.escape(include_path))


def inline_include(config, include_path, included_text):
    """Put ``included_text`` in place of each ``include "include_path";`` of ``config``.

    Returns ``(text, positions, count)``: the text to check, for each of its lines (0-based) where
    it comes from as ``('config', LINE)`` or ``('included', LINE)`` (1-based lines), and how many
    include statements were replaced. With ``included_text`` None, ``config`` is returned as it is.
    """
    if included_text is None:
        lines = config.split('\n')
        return config, [('config', number) for number in range(1, len(lines) + 1)], 0
    statement = include_statement_re(include_path)
    included = included_text[:-1] if included_text.endswith('\n') else included_text
    included_lines = included.count('\n') + 1
    lines = []
    positions = []
    count = 0
    for number, line in enumerate(config.split('\n'), start=1):
        replaced, found = statement.subn(lambda match: included, line)
        if not found:
            lines.append(line)
            positions.append(('config', number))
            continue
        count += found
        new_lines = replaced.split('\n')
        lines.extend(new_lines)
        positions.extend(('included', index % included_lines + 1) for index in range(len(new_lines)))
    return '\n'.join(lines), positions, count


def relocate_errors(errors, checked_file, positions, config_file, included_file):
    """Errors in ``checked_file`` (built by ``inline_include``) moved to the file and line they come from."""
    relocated = []
    for error in errors:
        error = dict(error)
        if error['file'] == checked_file:
            error['file'] = config_file
            if error['line'] is not None and 1 <= error['line'] <= len(positions):
                origin, line = positions[error['line'] - 1]
                error['file'] = included_file if origin == 'included' else config_file
                error['line'] = line
        relocated.append(error)
    return relocated
