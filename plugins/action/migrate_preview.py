# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.dhcp.failover.plugins.action.pair_facts import ActionModule as PairFactsAction
from ansible_collections.dhcp.failover.plugins.plugin_utils import _migration, _migration_report, _pair_model, _role_spec
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError


class ActionModule(PairFactsAction):
    """The Kea config one host of an ISC pair would get, and what the pair cannot carry (no host changes)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(PairFactsAction, self).run(tmp, task_vars)  # pylint: disable=bad-super-call
        del tmp
        _args, params = self.validate_argument_spec(argument_spec=dict(
            pairs_group=dict(type='str', default=_pair_model.PAIRS_GROUP),
            accept_losses=dict(type='bool', default=False),
        ))
        me = task_vars['inventory_hostname']
        hostvars = task_vars['hostvars']
        groups = task_vars['groups']
        options = _role_spec.load_options()
        result['changed'] = False
        try:
            settings = {me: self._own_settings(options, task_vars, me)}
            members = list(groups.get(params['pairs_group']) or [])
            for host in members:
                if host != me:
                    settings[host] = self._other_settings(options, hostvars, host)
            pairs = _pair_model.find_pairs(
                groups, params['pairs_group'],
                {host: (settings.get(host) or {}).get('dhcp_failover_pair') for host in members})
            facts = {host: self._facts(hostvars, host) for host in members}
            facts[me] = self._facts({me: task_vars}, me)
            play_hosts = task_vars.get('ansible_play_batch', task_vars.get('ansible_play_hosts'))
            play_hosts = None if play_hosts is None else list(play_hosts)
            # The pair as it runs today, checked as the role checks it.
            current = _pair_model.derive(options, settings, facts, pairs, me, pairs_group=params['pairs_group'],
                                         play_hosts=play_hosts)
            pair = current['pair']
            result['pair'] = pair
            if current['backend'] != 'isc_dhcpd':
                result['skipped'] = True
                result['msg'] = 'pair %s, host %s: already a %s pair, nothing to migrate' % (pair, me, current['backend'])
                return result
            items = {}
            for host in pairs[pair]:
                items[host] = _migration_report.report(_role_spec.validate(options, settings[host], pair, host), options)
            target = dict(settings)
            for host in pairs[pair]:
                target[host] = _migration.kea_settings(settings[host], items[host])
                target[host].update(_migration.kea_only_settings(
                    pair, host, (task_vars if host == me else hostvars[host]).get(_migration.KEA_SETTINGS_VARIABLE)))
            view = _pair_model.derive(options, target, facts, pairs, me, pairs_group=params['pairs_group'],
                                      play_hosts=play_hosts)
        except PairError as exc:
            result['failed'] = True
            result['msg'] = str(exc)
            return result
        # Not a variable the Kea description drops: what the cutover does for load balancing (a note).
        if _ha_mode(view['kea']['config']) == 'load-balancing':
            items[me] = items[me] + [_migration_report.LB_ADDRESS_ITEM]
        losses = _migration_report.losses(items[me])
        result['kea_config'] = view['kea']['config']
        result['kea_config_file'] = view['kea']['config_file']
        result['kea_role'] = view['kea']['ha_role']
        result['migration_report'] = _migration_report.lines(pair, items[me])
        result['losses'] = losses
        result['dropped'] = [item['variable'] for item in _migration.dropped(items[me])
                             if item is not _migration_report.LB_ADDRESS_ITEM]
        if losses and not params['accept_losses']:
            result['refusal'] = (
                'pair %s, host %s, variable %s: cannot be carried over to Kea (%s); %d loss(es) in all, listed in '
                'the migration report above. Nothing was changed. Accept them with -e '
                'dhcp_failover_migrate_accept_losses=true, or change the description first'
                % (pair, me, losses[0]['variable'], losses[0]['why'], len(losses)))
        else:
            result['refusal'] = None
        return result


def _ha_mode(config):
    for hook in config.get('Dhcp4', {}).get('hooks-libraries', []):
        for relationship in (hook.get('parameters') or {}).get('high-availability', []):
            return relationship.get('mode')
    return None
