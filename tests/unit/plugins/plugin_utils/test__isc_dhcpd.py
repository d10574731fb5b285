# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's rendering of the seed's two setups compared with the seed's files."""

from __future__ import annotations

import os

import pytest

from ansible_collections.dhcp.failover.tests.unit.plugins.plugin_utils.rendering import (
    EXAMPLES, SEED, render, render_host, statements, statements_of_block,
)

LOAD_BALANCE = os.path.join(EXAMPLES, 'load_balance', 'inventory.yml')
HOT_STANDBY = os.path.join(EXAMPLES, 'hot_standby', 'inventory.yml')
PRIMARY, SECONDARY = 'dhcp0375', 'dhcp0374'   # the seed's server names


def seed(name):
    with open(os.path.join(SEED, name), encoding='utf-8') as handle:
        return handle.read()


@pytest.mark.parametrize('host, fixture', [(PRIMARY, 'load_balance_primary.conf'),
                                           (SECONDARY, 'load_balance_secondary.conf')])
def test_load_balance_rendering_carries_every_seed_statement(host, fixture):
    info, conf, key = render_host(LOAD_BALANCE, host)
    expected = statements(seed(fixture))
    missing = expected - statements(conf)
    assert not missing, 'statements of the seed missing from the rendering: %s' % sorted(missing)
    assert conf.startswith('#\n# Ansible managed\n#\n')


def test_load_balance_primary_only_statements():
    primary = statements_of_block(render_host(LOAD_BALANCE, PRIMARY)[1], 'failover peer')
    secondary = statements_of_block(render_host(LOAD_BALANCE, SECONDARY)[1], 'failover peer')
    assert {'mclt 3600', 'split 128'} <= primary
    assert not {s for s in secondary if s.split()[0] in ('mclt', 'split', 'hba')}
    shared = {s for s in primary if s.split()[0] not in ('mclt', 'split', 'primary', 'address', 'peer')}
    assert shared <= secondary


def test_hot_standby_rendering_carries_the_corrections():
    primary = render_host(HOT_STANDBY, PRIMARY)[1]
    secondary = render_host(HOT_STANDBY, SECONDARY)[1]
    primary_peer = statements_of_block(primary, 'failover peer')
    secondary_peer = statements_of_block(secondary, 'failover peer')
    # split 256 (the seed's 255 leaves 1/256 of clients to the secondary), mclt on the primary
    # (dhcpd -t refuses a primary without it), lbms on both (the one without it answers everyone)
    assert 'split 256' in primary_peer and 'split 255' not in primary_peer
    assert 'mclt 3600' in primary_peer
    assert 'load balance max seconds 3' in primary_peer
    assert 'load balance max seconds 3' in secondary_peer
    assert not {s for s in secondary_peer if s.split()[0] in ('mclt', 'split', 'hba')}


@pytest.mark.parametrize('host, fixture', [(PRIMARY, 'hot_standby_primary.conf'),
                                           (SECONDARY, 'hot_standby_secondary.conf')])
def test_hot_standby_keeps_every_other_seed_statement(host, fixture):
    corrected = {(('failover peer "dhcp-failover"',), 'split 255')}
    expected = statements(seed(fixture)) - corrected
    missing = expected - statements(render_host(HOT_STANDBY, host)[1])
    assert not missing, sorted(missing)


def test_both_peers_get_identical_network_content():
    primary = statements(render_host(LOAD_BALANCE, PRIMARY)[1])
    secondary = statements(render_host(LOAD_BALANCE, SECONDARY)[1])

    def outside_peer(items):
        return {i for i in items if not (i[0] and i[0][0].startswith('failover peer'))}

    assert outside_peer(primary) == outside_peer(secondary)


def test_key_file_holds_the_key_and_dhcpd_conf_does_not():
    info, conf, key = render_host(LOAD_BALANCE, PRIMARY)
    assert 'secret' not in conf
    assert 'include "/etc/dhcp/omapi-key.conf"' in conf
    assert (('key omapi_key',), 'algorithm hmac-sha256') in statements(key)
    assert ((), 'omapi-key omapi_key') in statements(conf) and ((), 'omapi-port 7911') in statements(conf)


def test_interfaces_file():
    info = render_host(LOAD_BALANCE, PRIMARY)[0]
    text = render('isc-dhcp-server.j2', info)
    assert 'INTERFACESv4="eth0"\n' in text and 'INTERFACESv6=""\n' in text


def test_option_definitions_precede_every_use():
    """dhcpd rejects a custom option used before its definition ("unknown option")."""
    info, conf, key = render_host(os.path.join(EXAMPLES, 'campus', 'inventory.yml'), 'dhcp-a1')
    lines = conf.splitlines()
    definition = lines.index('option wpad-url code 252 = text;')
    space = lines.index('option space pxelinux;')
    uses = [number for number, line in enumerate(lines)
            if line.strip().startswith(('option wpad-url "', 'option pxelinux.'))]
    assert uses and space < definition < min(uses)
    assert lines.index('failover peer "campus-failover" {') < lines.index('class "pxe" {') < \
        lines.index('subnet 10.20.0.0 netmask 255.255.255.0 {')
    for statement in ('next-server 10.20.0.5;', 'filename "pxelinux.0";', 'vendor-option-space pxelinux;',
                      'option pxelinux.reboottime 30;', 'filename "thinclient/boot.efi";'):
        assert statement in conf, statement
