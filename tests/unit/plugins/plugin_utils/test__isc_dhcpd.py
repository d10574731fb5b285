# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's rendering of the seed's two setups compared with the seed's files, and the pool-balance
statements (rendering and validation) compared with what real dhcpd did with them."""

from __future__ import annotations

import copy
import json
import os
import re

import pytest
import yaml

from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_dhcpd
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError
from ansible_collections.dhcp.failover.tests.unit.plugins.plugin_utils.rendering import (
    EXAMPLES, SEED, derive_pair, inventory_hostvars, render, render_host, statements, statements_of_block,
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


# ---------------------------------------------------------------------------------------------
# Pool balance (max-lease-misbalance, max-lease-ownership, min-balance, max-balance), issue 12
# item 10. Real dhcpd output in tests/unit/fixtures/pool_balance/ (README.md there says how).

POOL_BALANCE_FIXTURES = os.path.join(os.path.dirname(SEED), 'pool_balance')
BALANCE_KEYWORDS = ('max-lease-misbalance', 'max-lease-ownership', 'min-balance', 'max-balance')
HOT_TUNING = {'dhcp_failover_max_lease_ownership': 50, 'dhcp_failover_max_lease_misbalance': 50,
              'dhcp_failover_min_balance': 2, 'dhcp_failover_max_balance': 10}
# The pair of tests/lab/test_hot_standby_balance.py (and of the fixtures), as an inventory.
LAB_PAIR = {'dhcp_failover': {'children': {'hot': {
    'hosts': dict((host, {
        'dhcp_failover_role': role, 'dhcp_failover_address': address,
        'ansible_facts': {'default_ipv4': {'address': address, 'interface': 'eth0'},
                          'all_ipv4_addresses': [address]},
    }) for host, role, address in (('p', 'primary', '10.231.46.2'), ('s', 'secondary', '10.231.46.3'))),
    'vars': {
        'dhcp_failover_mode': 'hot_standby', 'dhcp_failover_peer_name': 'hot', 'dhcp_failover_mclt': 10,
        'dhcp_failover_omapi_enabled': False, 'dhcp_failover_ping_check': False,
        'dhcp_failover_subnets': [{'network': '10.231.46.0/24', 'pools': [
            {'ranges': [{'start': '10.231.46.100', 'end': '10.231.46.109'}]}]}],
    },
}}}}


def pool_balance_fixture(name):
    with open(os.path.join(POOL_BALANCE_FIXTURES, name), encoding='utf-8') as handle:
        return json.load(handle) if name.endswith('.json') else handle.read()


def with_pair_vars(inventory, **values):
    inventory = copy.deepcopy(inventory)
    for group in inventory['dhcp_failover']['children'].values():
        group['vars'].update(values)
    return inventory


def example(path, **values):
    with open(path, encoding='utf-8') as handle:
        return with_pair_vars(yaml.safe_load(handle), **values)


def hot_standby(**values):
    return example(HOT_STANDBY, **values)


def balance_statements(conf):
    return {(path, statement) for path, statement in statements(conf) if statement.split()[0] in BALANCE_KEYWORDS}


def test_pool_balance_is_not_written_unless_set():
    for host in (PRIMARY, SECONDARY):
        assert not balance_statements(render_host(HOT_STANDBY, host)[1])


@pytest.mark.parametrize('host', [PRIMARY, SECONDARY])
def test_pool_balance_is_written_in_the_failover_peer_block_of_both_peers(host):
    conf = render_host(hot_standby(**HOT_TUNING), host)[1]
    peer = ('failover peer "dhcp-failover"',)
    assert balance_statements(conf) == {(peer, 'max-lease-misbalance 50'), (peer, 'max-lease-ownership 50'),
                                        (peer, 'min-balance 2'), (peer, 'max-balance 10')}


@pytest.mark.parametrize('host', ['p', 's'])
def test_rendering_is_the_configuration_dhcpd_accepted(host):
    """The role's rendering of the lab pair with the tuning has exactly the statements of the
    configuration real dhcpd accepted (`dhcpd -t`, captured; the lab test runs it), where dhcpd
    refused them anywhere else (global, subnet, pool)."""
    cases = pool_balance_fixture('placement.json')['cases']
    accepted = cases['peer_%s' % ('primary' if host == 'p' else 'secondary')]
    assert accepted['rc'] == 0
    for where in ('global', 'subnet', 'pool'):
        refused = cases['%s_primary' % where]
        assert refused['rc'] == 1 and 'expecting a parameter or declaration' in refused['stderr'], where
    info = derive_pair(*inventory_hostvars(with_pair_vars(LAB_PAIR, **HOT_TUNING)), host=host)
    conf = render('dhcpd.conf.j2', info)
    assert statements(conf) == statements(accepted['conf'])
    assert {path for path, _statement in balance_statements(conf)} == {('failover peer "hot"',)}


def test_zero_is_dhcpds_default_not_zero():
    """With all four set to 0, dhcpd's own balance run used 10 % and 15 % of the pool (its
    defaults), not 0: so 0 is refused rather than written."""
    defaults = dict((keyword, default) for _name, keyword, default in _isc_dhcpd.POOL_BALANCE)
    for host in ('p', 's'):
        text = pool_balance_fixture('zero.%s.journal' % host)
        total, own = re.search(r'balancing pool \S+ \S+\s+total (\d+)\s.*max-own \(\+/-\)(\d+)', text).groups()
        misbalance = re.search(r'balanced pool \S+ \S+\s.*max-misbal (\d+)', text).group(1)
        assert int(own) == (int(total) * defaults['max-lease-ownership'] + 50) // 100 > 0
        assert int(misbalance) == (int(total) * defaults['max-lease-misbalance'] + 50) // 100 > 0


def test_ownership_above_misbalance_is_refused_for_what_dhcpd_did_with_it():
    """Captured: ownership 50 with dhcpd's default misbalance 15; the primary logs IMBALANCED
    after every run and answers the secondary's POOLREQs negatively."""
    primary = pool_balance_fixture('ownership_above_misbalance.p.journal')
    secondary = pool_balance_fixture('ownership_above_misbalance.s.journal')
    assert 'IMBALANCED pool' in primary and 'Got POOLREQ, answering negatively!' in primary
    assert '(requesting peer rebalance!)' in secondary
    with pytest.raises(PairError) as error:
        render_host(hot_standby(dhcp_failover_max_lease_ownership=50), PRIMARY)
    assert str(error.value).startswith('pair office, host dhcp0375, variable dhcp_failover_max_lease_ownership: '
                                       "max-lease-ownership 50 is above max-lease-misbalance 15 (dhcpd's default)")
    assert 'IMBALANCED pool' in str(error.value) and 'POOLREQ' in str(error.value)


BAD_BALANCE = [
    ('misbalance-zero', {'dhcp_failover_max_lease_misbalance': 0},
     'dhcp_failover_max_lease_misbalance', 'must be at least 1, got 0'),
    ('ownership-zero', {'dhcp_failover_max_lease_ownership': 0},
     'dhcp_failover_max_lease_ownership', 'must be at least 1, got 0'),
    ('min-balance-zero', {'dhcp_failover_min_balance': 0}, 'dhcp_failover_min_balance', 'must be at least 1, got 0'),
    ('max-balance-zero', {'dhcp_failover_max_balance': 0}, 'dhcp_failover_max_balance', 'must be at least 1, got 0'),
    ('misbalance-over-100', {'dhcp_failover_max_lease_misbalance': 101},
     'dhcp_failover_max_lease_misbalance', 'must be at most 100, got 101'),
    ('max-balance-over-int', {'dhcp_failover_max_balance': 2 ** 31},
     'dhcp_failover_max_balance', 'must be at most 2147483647'),
    ('misbalance-below-default-ownership', {'dhcp_failover_max_lease_misbalance': 5},
     'dhcp_failover_max_lease_misbalance',
     "max-lease-ownership 10 (dhcpd's default) is above max-lease-misbalance 5"),
    ('ownership-above-misbalance', {'dhcp_failover_max_lease_ownership': 40, 'dhcp_failover_max_lease_misbalance': 30},
     'dhcp_failover_max_lease_ownership', 'max-lease-ownership 40 is above max-lease-misbalance 30'),
    ('min-above-max', {'dhcp_failover_min_balance': 120, 'dhcp_failover_max_balance': 60},
     'dhcp_failover_min_balance', 'min-balance 120 is above max-balance 60'),
    ('max-below-default-min', {'dhcp_failover_max_balance': 30},
     'dhcp_failover_max_balance', "min-balance 60 (dhcpd's default) is above max-balance 30"),
    ('min-above-default-max', {'dhcp_failover_min_balance': 7200},
     'dhcp_failover_min_balance', "min-balance 7200 is above max-balance 3600 (dhcpd's default)"),
]


@pytest.mark.parametrize('values, variable, message', [case[1:] for case in BAD_BALANCE],
                         ids=[case[0] for case in BAD_BALANCE])
def test_bad_pool_balance_is_refused(values, variable, message):
    for host in (PRIMARY, SECONDARY):
        with pytest.raises(PairError) as error:
            render_host(hot_standby(**values), host)
        assert str(error.value).startswith('pair office, host dhcp0375, variable %s: ' % variable), str(error.value)
        assert message in str(error.value)


@pytest.mark.parametrize('values', [
    HOT_TUNING,
    {'dhcp_failover_max_lease_ownership': 15},                 # equal to the default misbalance
    {'dhcp_failover_min_balance': 5},
    {'dhcp_failover_max_balance': 60},                          # equal to the default min-balance
    {'dhcp_failover_max_lease_misbalance': 100, 'dhcp_failover_max_balance': 2 ** 31 - 1},
])
def test_good_pool_balance_is_written(values):
    conf = render_host(hot_standby(**values), SECONDARY)[1]
    written = {statement for _path, statement in balance_statements(conf)}
    assert written == {'%s %d' % (keyword, values[name]) for name, keyword, _default in _isc_dhcpd.POOL_BALANCE
                       if name in values}


def test_pool_balance_in_load_balance_mode_too():
    conf = render_host(example(LOAD_BALANCE, dhcp_failover_min_balance=5), PRIMARY)[1]
    assert (('failover peer "dhcp-failover"',), 'min-balance 5') in statements(conf)
