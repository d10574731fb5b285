# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench_calls: per host, the task results that ran a module on that host (bench/run.py).

A task result counts as one remote call on the host that executed it (the delegate when the task is
delegated) unless it was skipped, ran on the controller (delegated to localhost, connection local) or
is an action the controller answers alone: an action plugin that says it needs no connection
(_requires_connection False: set_fact, assert, debug, validate_argument_spec, dhcp.failover.pair_facts,
...) or a task the strategy runs itself (meta, include_*). A loop
counts once per item that was not skipped. An action plugin that runs several modules for one task
(template and copy: a stat, then copy or file) still counts once: the figure is task results, and
the action of each is recorded, so such tasks can be told apart. Written as JSON to the file named by
the environment variable BENCH_CALLS_OUT at the end of the playbook.
"""
from __future__ import absolute_import, division, print_function

import json
import os

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import action_loader

__metaclass__ = type  # pylint: disable=invalid-name

DOCUMENTATION = '''
name: bench_calls
type: aggregate
short_description: counts remote module calls per host for the bench
description:
  - Writes, per host, the number of task results that ran a module on the host, with the task names,
    to the file named by the environment variable E(BENCH_CALLS_OUT).
requirements:
  - enabled in callbacks_enabled
'''

# Actions the controller answers without running anything on the host.
LOCAL_ACTIONS = frozenset((
    'add_host', 'assert', 'debug', 'end_host', 'end_play', 'fail', 'group_by', 'import_role', 'import_tasks',
    'include', 'include_role', 'include_tasks', 'include_vars', 'meta', 'noop', 'pause', 'set_fact', 'set_stats',
    'validate_argument_spec',
))
LOCAL_HOSTS = frozenset(('localhost', '127.0.0.1', '::1'))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_calls'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hosts = {}
        self.local = {}

    @staticmethod
    def _controller_only(task):
        """True when the task's action plugin runs without a connection to the host."""
        name = getattr(task, 'resolved_action', None) or task.action or ''
        if name.rsplit('.', 1)[-1] in LOCAL_ACTIONS:
            return True
        try:
            cls = action_loader.get(name, class_only=True)
        except Exception:  # pylint: disable=broad-exception-caught
            cls = None
        return cls is not None and getattr(cls, '_requires_connection', True) is False

    def _record(self, result, status):
        task = result._task  # pylint: disable=protected-access
        action = (task.action or '').rsplit('.', 1)[-1]
        controller_only = self._controller_only(task)
        host = result._host.get_name()  # pylint: disable=protected-access
        res = result._result  # pylint: disable=protected-access
        looped = task.loop is not None or bool(getattr(task, 'loop_with', None))
        items = res.get('results') if isinstance(res.get('results'), list) and looped else None
        rows = items if items is not None else [res]
        for row in rows:
            if not isinstance(row, dict) or row.get('skipped'):
                continue
            delegated = row.get('_ansible_delegated_vars') or res.get('_ansible_delegated_vars') or {}
            target = delegated.get('ansible_delegated_host') or host
            connection = delegated.get('ansible_connection') or ''
            local = (controller_only or target in LOCAL_HOSTS or connection.rsplit('.', 1)[-1] == 'local')
            book = self.local if local else self.hosts
            entry = book.setdefault(target, {'calls': 0, 'tasks': []})
            entry['calls'] += 1
            name = task.get_name().strip()
            if entry['tasks'] and entry['tasks'][-1]['task'] == name and entry['tasks'][-1]['action'] == action:
                entry['tasks'][-1]['calls'] += 1
            else:
                entry['tasks'].append({'task': name, 'action': action, 'calls': 1, 'status': status,
                                       'changed': bool(row.get('changed')),
                                       **({'for_host': host} if target != host else {})})

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get('BENCH_CALLS_OUT')
        if not path:
            return
        with open(path, 'w') as handle:
            json.dump({'hosts': self.hosts, 'local': self.local}, handle, indent=1, sort_keys=True)
            handle.write('\n')
