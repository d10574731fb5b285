# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcp.failover.controller_stat on real files in a temporary directory, compared with what
ansible.builtin.stat's own code reports for the same files (the task it replaces)."""

from __future__ import annotations

import ast
import os
import pathlib
import pwd
import shutil
import tempfile

import pytest

from ansible.plugins.loader import lookup_loader

from ansible_collections.dhcp.failover.plugins.lookup.controller_stat import controller_stat


def test_missing_file(tmp_path):
    assert controller_stat(str(tmp_path / 'none')) == {
        'path': str(tmp_path / 'none'), 'exists': False, 'isreg': False, 'readable': False, 'owner': None, 'mode': None}


def test_key_copy_0600(tmp_path):
    path = tmp_path / 'pair.key'
    path.write_text('secret\n')
    path.chmod(0o600)
    info = controller_stat(str(path))
    assert info == {'path': str(path), 'exists': True, 'isreg': True, 'readable': True,
                    'owner': pwd.getpwuid(os.getuid()).pw_name, 'mode': '0600'}
    # the content is never read, so never returned
    assert 'secret' not in repr(info)


def as_other_user(func, *args):
    """func(*args) in a child process that runs as nobody (when the tests run as root, which reads any
    file), or in this process otherwise; returns its result or the text of its exception."""
    if os.geteuid() != 0:
        try:
            return func(*args)
        except Exception as exc:  # pylint: disable=broad-except
            return 'error: %s' % exc
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: drop to nobody, report, exit without running pytest's cleanup
        try:
            os.setgid(pwd.getpwnam('nobody').pw_gid)
            os.setuid(pwd.getpwnam('nobody').pw_uid)
            try:
                out = repr(func(*args))
            except Exception as exc:  # pylint: disable=broad-except
                out = repr('error: %s' % exc)
            os.write(write_end, out.encode())
        finally:
            os._exit(0)  # pylint: disable=protected-access
    os.close(write_end)
    os.waitpid(pid, 0)
    with os.fdopen(read_end) as handle:
        return ast.literal_eval(handle.read())


@pytest.fixture
def open_dir():
    """A directory every user may search (pytest's tmp_path lies under a 0700 one)."""
    path = tempfile.mkdtemp(prefix='dhcpf-controller-stat-')
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path)


def test_copy_another_user_cannot_read(open_dir):
    """A copy left 0600 by a run with become on the controller, seen by the user running the playbook."""
    path = open_dir / 'pair.key'
    path.write_text('secret\n')
    path.chmod(0o600 if os.geteuid() == 0 else 0o000)
    info = as_other_user(controller_stat, str(path))
    assert info['exists'] and info['isreg'] and not info['readable']
    assert info['owner'] == pwd.getpwuid(os.getuid()).pw_name
    assert 'secret' not in repr(info)


def test_a_directory_that_cannot_be_searched_fails_with_its_cause(open_dir):
    keys = open_dir / 'keys'
    keys.mkdir()
    (keys / 'pair.key').write_text('secret\n')
    keys.chmod(0o700 if os.geteuid() == 0 else 0o000)
    try:
        result = as_other_user(controller_stat, str(keys / 'pair.key'))
    finally:
        keys.chmod(0o700)
    assert result.startswith('error: cannot look at %s: ' % (keys / 'pair.key')), result
    assert 'ermission denied' in result and 'secret' not in result


def test_directory_is_not_a_regular_file(tmp_path):
    info = controller_stat(str(tmp_path))
    assert info['exists'] and not info['isreg']


def test_lookup_returns_one_dict_per_term(tmp_path):
    (tmp_path / 'a').write_text('x')
    # through the plugin loader, as a task's lookup() gets it (it gives the plugin its name and docs;
    # tests/conftest.py has installed the collection finder it needs)
    result = lookup_loader.get('dhcp.failover.controller_stat').run([str(tmp_path / 'a'), str(tmp_path / 'b')], variables={})
    assert [r['exists'] for r in result] == [True, False]
