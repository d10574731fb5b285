# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every dhcpd.conf the unit tests render is accepted by the real `dhcpd -t` of the lab image."""

from __future__ import annotations

import glob
import os

import pytest

from ansible_collections.dhcp.failover.tests.unit.plugins.plugin_utils.rendering import (
    EXAMPLES, checkable, inventory_hostvars, render_host,
)
from conftest import docker

CONTAINER = 'dhcpf-capture-role-dhcpd'
INVENTORIES = sorted(glob.glob(os.path.join(EXAMPLES, '*', 'inventory.yml')))
CASES = [(inventory, host) for inventory in INVENTORIES for host in inventory_hostvars(inventory)[0]]


@pytest.fixture(scope='module')
def dhcpd(lab_image):
    docker('rm', '-f', CONTAINER, check=False)
    docker('run', '-d', '--name', CONTAINER, '--network', 'none', '--pull', 'never',
           '--entrypoint', 'sleep', lab_image, 'infinity')
    try:
        yield CONTAINER
    finally:
        docker('rm', '-f', CONTAINER, check=False)


def test_every_example_pair_is_covered():
    """The documented examples are all found, and both peers of every pair of each are checked below
    (a renamed or emptied example would otherwise just run fewer cases)."""
    covered = {}
    for inventory, host in CASES:
        covered.setdefault(os.path.basename(os.path.dirname(inventory)), set()).add(host)
    assert {'campus', 'hot_standby', 'load_balance'} <= set(covered), sorted(covered)
    for inventory in INVENTORIES:
        pairs = inventory_hostvars(inventory)[1]
        assert pairs, '%s declares no pair under dhcp_failover' % inventory
        for pair, hosts in pairs.items():
            assert len(hosts) == 2 and set(hosts) <= covered[os.path.basename(os.path.dirname(inventory))], (pair, hosts)


@pytest.mark.parametrize('inventory, host', CASES,
                         ids=['%s-%s' % (os.path.basename(os.path.dirname(i)), h) for i, h in CASES])
def test_rendered_config_passes_dhcpd_t(dhcpd, inventory, host):
    info, conf, key = render_host(inventory, host)
    text = checkable(conf, key) if info['omapi']['enabled'] else conf
    result = docker('exec', '-i', dhcpd, 'sh', '-c',
                    'cat > /etc/dhcp/rendered.conf && dhcpd -t -cf /etc/dhcp/rendered.conf 2>&1',
                    check=False, input=text)
    assert result.returncode == 0, result.stdout + '\n' + text
    assert 'Configuration file errors encountered' not in result.stdout


def test_dhcpd_t_rejects_the_seeds_hot_standby_primary(dhcpd):
    """The reason for the hot-standby corrections: the seed's primary has no mclt."""
    seed = os.path.join(os.path.dirname(__file__), '..', 'unit', 'fixtures', 'seed', 'hot_standby_primary.conf')
    with open(seed, encoding='utf-8') as handle:
        text = handle.read() + (
            '\nsubnet 192.168.1.0 netmask 255.255.255.0 {\n pool {\n  failover peer "dhcp-failover";\n'
            '  range 192.168.1.120 192.168.1.200;\n }\n}\n')
    result = docker('exec', '-i', dhcpd, 'sh', '-c',
                    'cat > /etc/dhcp/seed.conf && dhcpd -t -cf /etc/dhcp/seed.conf 2>&1', check=False, input=text)
    assert result.returncode != 0
    assert 'primary failover server must have mclt.' in result.stdout
