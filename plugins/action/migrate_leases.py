# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import time

from ansible.plugins.action import ActionBase

from ansible_collections.dhcp.failover.plugins.module_utils import _kea_pools
from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_leases


class ActionModule(ActionBase):
    """dhcpd.leases texts (both servers') -> Kea memfile rows and the carried/left-behind report (controller only)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _args, params = self.validate_argument_spec(argument_spec=dict(
            lease_files=dict(type='list', elements='str', required=True),
            encoding=dict(type='str', default='base64', choices=['base64', 'text']),
            kea_config=dict(type='dict', required=True),
            kea_version=dict(type='str', required=True),
            now=dict(type='int'),
        ))
        texts = []
        for item in params['lease_files']:
            texts.append(base64.b64decode(item).decode('utf-8', 'replace') if params['encoding'] == 'base64' else item)
        now = params['now'] if params['now'] is not None else int(time.time())
        result['changed'] = False
        try:
            found = _isc_leases.translate(texts, params['kea_config'], now)
            rows = _isc_leases.csv_rows(found['leases'], params['kea_version'])
            moved = _kea_pools.moves_for(found['leases'], params['kea_config'])
        except (_isc_leases.LeaseFileError, ValueError, KeyError) as exc:
            result['failed'] = True
            result['msg'] = 'the dhcpd lease files cannot be translated: %s' % (exc,)
            return result
        result['csv'] = '\n'.join(rows) + '\n'
        result['leases'] = found['leases']
        result['counts'] = found['counts']
        result['report'] = found['report'] + (
            ['%d carried address(es) whose client Kea gives to the other server get a one-address pool of that '
             "server's class (kept by dhcp.failover.kea_config)" % len(moved)] if moved else [])
        result['moved'] = moved
        result['hosts'] = found['hosts']
        result['now'] = now
        return result
