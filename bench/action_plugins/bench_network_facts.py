# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench_network_facts: set this host's network facts from the task's arguments, on the controller.

Only for bench/measures/validation.py, whose inventories of up to 50 pairs have no hosts behind
them: it measures the role's validation (validate.yml), which runs on the controller, and needs
each server's network facts as ansible.builtin.setup leaves them (ansible_facts.interfaces, ...).
The argument ``facts`` is returned as ``ansible_facts``, which the strategy stores as the host's
facts (unlike set_fact, whose values become host variables)."""
from __future__ import absolute_import, division, print_function

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result.update(changed=False, ansible_facts=dict(self._task.args.get('facts') or {}))
        return result
