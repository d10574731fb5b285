# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.dhcp.failover.plugins.plugin_utils import _pair_model, _role_spec
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError

# Recorded by this action (record=true) on every host the role runs on: that host's own view
# of the role variables, play vars and role defaults included, which its partner cannot see.
RECORD = '__dhcp_failover_settings'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def _template(self, host, name, value):
        try:
            return self._templar.template(value)
        except AnsibleError as exc:
            raise PairError('(none)', host, name, 'cannot be templated: %s' % exc)

    def _own_settings(self, options, task_vars, host):
        secrets = _role_spec.secret_names(options)
        return {
            name: self._template(host, name, task_vars[name])
            for name in options if name in task_vars and name not in secrets
        }

    def _other_settings(self, options, hostvars, host):
        """A host's settings as seen from here: its record if the role ran there, else its inventory."""
        try:
            variables = hostvars[host]
        except KeyError:
            return {}
        secrets = _role_spec.secret_names(options)
        if RECORD in variables:
            recorded = self._template(host, RECORD, variables[RECORD])
            if isinstance(recorded, dict):
                return recorded
        settings = {}
        for name in options:
            if name in secrets or name not in variables:
                continue
            try:
                settings[name] = variables[name]
            except AnsibleError as exc:
                raise PairError('(none)', host, name, 'cannot be templated: %s' % exc)
        return settings

    @staticmethod
    def _facts(hostvars, host):
        """The network facts the pair checks read: the default route, every IPv4 address, and
        each interface with its addresses (``interfaces``, ``ansible_facts[NAME].ipv4`` and
        ``.ipv4_secondaries``)."""
        try:
            variables = hostvars[host]
        except KeyError:
            return {}
        gathered = dict(variables.get('ansible_facts') or {}) if 'ansible_facts' in variables else {}

        def fact(name):
            if name in gathered:
                return gathered[name]
            return variables.get('ansible_' + name)

        facts = {}
        for name in ('default_ipv4', 'all_ipv4_addresses', 'interfaces'):
            value = fact(name)
            if value is not None:
                facts[name] = value
        for name in facts.get('interfaces') or ():
            item = fact(name)
            if isinstance(item, dict):
                facts[name] = {key: item[key] for key in ('device', 'ipv4', 'ipv4_secondaries') if key in item}
        return facts

    def _settings_and_pairs(self, options, own, members, me, hostvars, groups, pairs_group):
        """Every member's settings (this host's own, the others' recorded or from the inventory) and
        the pairs they make, every host's ``dhcp_failover_pair`` read."""
        settings = {me: own}
        for host in members:
            if host != me:
                settings[host] = self._other_settings(options, hostvars, host)
        pairs = _pair_model.find_pairs(
            groups, pairs_group, {host: (settings.get(host) or {}).get('dhcp_failover_pair') for host in members})
        return settings, pairs

    @staticmethod
    def _pair_of(pairs, me):
        return next(((pair, list(hosts)) for pair, hosts in pairs.items() if me in hosts), None)

    def _own_pair(self, options, own, members, me, hostvars, groups, pairs_group):
        """(pair, its hosts) of this host, for the record step, from ``groups`` and this host's own
        ``dhcp_failover_pair`` alone: reading every other host's variables here, on every host,
        would cost hosts x hosts look-ups. The step without record checks every host's
        ``dhcp_failover_pair`` against the others'. When the groups alone do not settle it (a host
        in two pair groups, say), every host's variable is read, as that step does."""
        named = own.get('dhcp_failover_pair')
        if named and named in groups and me in groups[named]:
            member_set = set(members)
            return named, [host for host in groups[named] if host in member_set]
        found = None
        if not named:
            try:
                found = self._pair_of(_pair_model.find_pairs(groups, pairs_group), me)
            except PairError:
                found = None
        if found is None:
            _settings, pairs = self._settings_and_pairs(options, own, members, me, hostvars, groups, pairs_group)
            found = self._pair_of(pairs, me)
        return found or (None, [me])

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _args, params = self.validate_argument_spec(argument_spec=dict(
            pairs_group=dict(type='str', default=_pair_model.PAIRS_GROUP),
            record=dict(type='bool', default=False),
            hosts=dict(type='list', elements='str'),
        ))
        me = task_vars['inventory_hostname']
        hostvars = task_vars['hostvars']
        groups = task_vars['groups']
        options = _role_spec.load_options()
        result['changed'] = False
        try:
            own = self._own_settings(options, task_vars, me)
            members = list(groups.get(params['pairs_group']) or [])
            if params['record']:
                pair, pair_hosts = self._own_pair(options, own, members, me, hostvars, groups, params['pairs_group'])
                _role_spec.validate(options, own, pair or '(none)', me)
                result['settings'] = own
                result['pair_hosts'] = pair_hosts
                return result
            settings, pairs = self._settings_and_pairs(options, own, members, me, hostvars, groups, params['pairs_group'])
            facts = {host: self._facts(hostvars, host) for host in members}
            facts[me] = self._facts({me: task_vars}, me)
            # The hosts this task runs on now gathered their network facts (validate.yml): they
            # are checked with them, always. A host outside the play (--limit), or in a later
            # batch of a serial play, may have none; it is checked when it runs itself.
            play_hosts = task_vars.get('ansible_play_batch', task_vars.get('ansible_play_hosts'))
            # hosts: the views of those hosts too (the role runs this once for its whole batch)
            wanted = [me] + [host for host in params['hosts'] or () if host != me]
            views = _pair_model.derive_all(options, settings, facts, pairs, wanted,
                                           pairs_group=params['pairs_group'],
                                           play_hosts=None if play_hosts is None else list(play_hosts))
            result['pair_info'] = views[me]
            if params['hosts'] is not None:
                result['pair_info_of'] = views
        except PairError as exc:
            result['failed'] = True
            result['msg'] = str(exc)
        return result
