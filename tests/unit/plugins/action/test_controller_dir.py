# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""dhcp.failover.controller_dir: the directory made (parents too) with the mode asked, the mode set on
an existing one, check mode, and a failure that names its cause; on the real file system (tmp_path)."""

from __future__ import annotations

import os
import stat

from ansible_collections.dhcp.failover.plugins.action.controller_dir import make_dir


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_directory_and_its_new_parents_get_the_mode(tmp_path):
    target = tmp_path / 'a' / 'b' / 'keys'
    old = os.umask(0o022)
    try:
        result = make_dir(str(target), 0o700)
    finally:
        os.umask(old)
    assert result == {'changed': True, 'path': str(target), 'mode': '0700'}
    assert [mode(p) for p in (tmp_path / 'a', tmp_path / 'a' / 'b', target)] == [0o700] * 3
    assert make_dir(str(target), 0o700) == {'changed': False, 'path': str(target), 'mode': '0700'}


def test_an_existing_directory_gets_the_mode_and_keeps_its_files(tmp_path):
    target = tmp_path / 'keys'
    target.mkdir(mode=0o755)
    (target / 'pair.key').write_text('x')
    os.chmod(target, 0o755)
    result = make_dir(str(target), 0o700)
    assert result['changed'] is True and mode(target) == 0o700
    assert (target / 'pair.key').read_text() == 'x'


def test_check_mode_changes_nothing(tmp_path):
    target = tmp_path / 'keys'
    assert make_dir(str(target), 0o700, check_mode=True) == {'changed': True, 'path': str(target), 'mode': '0700'}
    assert not target.exists()
    target.mkdir(mode=0o755)
    os.chmod(target, 0o755)
    assert make_dir(str(target), 0o700, check_mode=True)['changed'] is True
    assert mode(target) == 0o755


def test_a_file_in_the_way_and_a_directory_that_cannot_be_made_fail_with_the_cause(tmp_path):
    blocker = tmp_path / 'keys'
    blocker.write_text('')
    result = make_dir(str(blocker), 0o700)
    assert result['failed'] is True and result['msg'] == '%s exists on the controller and is not a directory' % blocker
    # /proc refuses new directories even to root
    result = make_dir('/proc/no-such-dir/keys', 0o700)
    assert result['failed'] is True and result['changed'] is False
    assert result['msg'].startswith('cannot make /proc/no-such-dir/keys on the controller: ')
    assert not os.path.exists('/proc/no-such-dir')


def test_a_directory_another_worker_makes_at_the_same_time_is_no_failure(tmp_path, monkeypatch):
    """Both servers of a new pair run this task at once, in two forked workers of the controller:
    each sees no directory, and the second os.makedirs finds the first one's (FileExistsError). Seen
    in the bench: "cannot make .../keys-current on the controller: File exists", which stopped a
    fresh site run of one pair. Here the other worker's mkdir (umask mode 0755) happens right before
    this one's."""
    target = tmp_path / 'keys'
    real_makedirs = os.makedirs

    def other_worker_first(path, mode=0o777, exist_ok=False):
        os.mkdir(path, 0o755)
        os.chmod(path, 0o755)
        return real_makedirs(path, mode, exist_ok)

    monkeypatch.setattr(os, 'makedirs', other_worker_first)
    result = make_dir(str(target), 0o700)
    assert 'failed' not in result, result
    assert result['mode'] == '0700' and mode(target) == 0o700
