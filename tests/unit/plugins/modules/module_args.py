# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``patch_module_args`` for the module tests, on every ansible-core the collection supports.

ansible-core 2.19 ships ``ansible.module_utils.testing.patch_module_args``; 2.16 to 2.18 do not,
so the same thing is done there the way those versions read a module's arguments.
"""

from __future__ import annotations

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib
    import json
    from unittest import mock

    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def patch_module_args(args=None):
        payload = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': dict(args or {})}))
        with mock.patch.object(basic, '_ANSIBLE_ARGS', payload):
            yield

__all__ = ['patch_module_args']
