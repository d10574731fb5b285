# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.dhcp.failover.plugins.module_utils._leases import parse_leases, read_leases

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'failover_state')

# last state block of each captured leases file (my state, since, partner state, since, mclt)
BLOCKS = [
    ('01-startup-normal.p', 'normal', '15:54:22', 'normal', '15:54:22', None),
    ('01-startup-normal.s', 'normal', '15:54:22', 'normal', '15:54:22', 30),
    ('02-primary-stopped-communications-interrupted.s', 'communications-interrupted', '15:54:27', 'normal', '15:54:22', 30),
    ('03-secondary-partner-down.s', 'partner-down', '15:54:29', 'normal', '15:54:22', 30),
    ('04-primary-recover-wait.p', 'recover-wait', '15:54:22', 'partner-down', '15:54:32', None),
    ('04-primary-recover-wait.s', 'partner-down', '15:54:29', 'recover-wait', '15:54:32', 30),
    ('06-primary-shutdown-secondary-partner-down.p', 'shutdown', '15:54:53', 'partner-down', '15:54:53', None),
    ('07-primary-restarted-in-shutdown.s', 'partner-down', '15:54:53', 'shutdown', '15:54:54', 30),
    ('08-primary-recover-normal.p', 'normal', '15:55:02', 'normal', '15:55:02', None),
]


@pytest.mark.parametrize('name, my_state, my_since, partner_state, partner_since, mclt', BLOCKS)
def test_last_block_wins(name, my_state, my_since, partner_state, partner_since, mclt):
    peers = read_leases(os.path.join(FIXTURES, name + '.leases'))
    assert list(peers) == ['dhcp-failover']
    assert peers['dhcp-failover'] == {
        'my_state': my_state, 'my_state_since': '2026-11-24T%sZ' % my_since,
        'partner_state': partner_state, 'partner_state_since': '2026-11-24T%sZ' % partner_since,
        'mclt': mclt,
    }


def test_first_block_of_a_fresh_start_is_overridden():
    with open(os.path.join(FIXTURES, '01-startup-normal.p.leases')) as handle:
        lines = handle.read().splitlines()
    end = lines.index('}') + 1  # the first block only: written in recover
    assert parse_leases(lines[:end])['dhcp-failover']['my_state'] == 'recover'
    assert parse_leases(lines)['dhcp-failover']['my_state'] == 'normal'


def test_no_failover_block():
    assert parse_leases(['lease 10.231.21.120 {', '  binding state active;', '}']) == {}
