# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The facts the action dhcp.failover.pair_facts hands to the pair checks, from real hostvars.

The hostvars are built from network facts captured in the lab (tests/unit/fixtures/facts): as
``ansible_facts`` (what setup leaves in hostvars) and as the injected ``ansible_*`` variables.
"""

from __future__ import annotations

import json
import os

from ansible.vars.clean import namespace_facts

from ansible_collections.dhcp.failover.plugins.action.pair_facts import ActionModule

FACTS = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'facts')


def captured(name):
    with open(os.path.join(FACTS, name + '.json'), encoding='utf-8') as handle:
        return json.load(handle)['ansible_facts']


EXPECTED = {
    'default_ipv4': captured('multihomed_a_secondary')['ansible_default_ipv4'],
    'all_ipv4_addresses': ['10.231.42.4', '10.231.41.4', '10.231.43.4'],
    'interfaces': ['lo', 'eth0', 'eth1'],
    'lo': {'device': 'lo', 'ipv4': captured('multihomed_a_secondary')['ansible_lo']['ipv4']},
    'eth0': {'device': 'eth0', 'ipv4': captured('multihomed_a_secondary')['ansible_eth0']['ipv4']},
    'eth1': {'device': 'eth1', 'ipv4': captured('multihomed_a_secondary')['ansible_eth1']['ipv4'],
             'ipv4_secondaries': captured('multihomed_a_secondary')['ansible_eth1']['ipv4_secondaries']},
}


def test_interfaces_and_their_addresses_from_ansible_facts():
    hostvars = {'ma': namespace_facts(captured('multihomed_a_secondary'))}
    facts = ActionModule._facts(hostvars, 'ma')
    assert facts == EXPECTED
    assert facts['eth1']['ipv4_secondaries'][0]['address'] == '10.231.43.4'


def test_interfaces_and_their_addresses_from_injected_variables():
    hostvars = {'ma': dict(captured('multihomed_a_secondary'))}
    assert ActionModule._facts(hostvars, 'ma') == EXPECTED


def test_a_host_without_facts():
    assert ActionModule._facts({'x': {'dhcp_failover_address': '10.0.0.1'}}, 'x') == {}
    assert ActionModule._facts({}, 'x') == {}
