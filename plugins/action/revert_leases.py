# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import time

from ansible.plugins.action import ActionBase

from ansible_collections.dhcp.failover.plugins.plugin_utils import _kea_leases


class ActionModule(ActionBase):
    """kea-leases4.csv texts (one or both servers') -> dhcpd.leases texts and the report (controller only)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _args, params = self.validate_argument_spec(argument_spec=dict(
            lease_files=dict(type='list', elements='str', required=True),
            encoding=dict(type='str', default='base64', choices=['base64', 'text']),
            peer=dict(type='str', required=True),
            my_state=dict(type='str', default='partner-down', choices=['partner-down', 'communications-interrupted']),
            now=dict(type='int'),
        ))
        texts = []
        for item in params['lease_files']:
            texts.append(base64.b64decode(item).decode('utf-8', 'replace') if params['encoding'] == 'base64' else item)
        now = params['now'] if params['now'] is not None else int(time.time())
        result['changed'] = False
        try:
            found = _kea_leases.translate(texts, now, peer=params['peer'], my_state=params['my_state'])
        except _kea_leases.CsvError as exc:
            result['failed'] = True
            result['msg'] = 'the Kea lease files cannot be translated: %s' % (exc,)
            return result
        for key in ('primary', 'secondary', 'leases', 'counts', 'report'):
            result[key] = found[key]
        result['now'] = now
        return result
