# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

from ansible.plugins.action import ActionBase


def make_dir(path, mode, check_mode=False):
    """Make ``path`` (and missing parents, with ``mode``) or set ``mode`` on it. Returns the task result."""
    result = {'changed': False, 'path': path}
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        return dict(result, failed=True, msg='cannot look at %s on the controller: %s' % (path, exc.strerror or exc))
    if st is not None and not stat.S_ISDIR(st.st_mode):
        return dict(result, failed=True, msg='%s exists on the controller and is not a directory' % path)
    if st is not None and stat.S_IMODE(st.st_mode) == mode:
        return dict(result, mode='%04o' % mode)
    result.update(changed=True, mode='%04o' % mode)
    if check_mode:
        return result
    try:
        if st is None:
            missing = []
            parent = path
            while parent and not os.path.lexists(parent):
                missing.append(parent)
                parent = os.path.dirname(parent.rstrip('/')) or '/'
            # exist_ok: both servers of a new pair run this at once, in two forked workers, and the other
            # one may make it between the look above and here; the mode is set below either way.
            os.makedirs(path, mode, exist_ok=True)
            for made in missing:   # makedirs applies the umask; the mode is set as asked
                os.chmod(made, mode)
        else:
            os.chmod(path, mode)
    except OSError as exc:
        return dict(result, changed=False, failed=True,
                    msg='cannot make %s on the controller: %s' % (path, exc.strerror or exc))
    return result


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _args, params = self.validate_argument_spec(argument_spec=dict(
            path=dict(type='path', required=True),
            mode=dict(type='str', default='0700'),
        ))
        try:
            mode = int(params['mode'], 8)
            if not 0 <= mode <= 0o7777:
                raise ValueError(params['mode'])
        except ValueError:
            result.update(failed=True, msg='mode %r is not an octal permission (for example 0700)' % params['mode'])
            return result
        result.update(make_dir(os.path.expanduser(params['path']), mode, self._task.check_mode))
        return result
