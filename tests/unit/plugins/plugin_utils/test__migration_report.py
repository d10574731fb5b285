# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The migration report: what of an ISC pair's description a Kea pair does not carry, on the
collection's example inventories validated with the role's own argument spec."""

from __future__ import annotations

import copy
import os

import pytest
import yaml

from ansible_collections.dhcp.failover.plugins.plugin_utils import _migration_report, _role_spec
from ansible_collections.dhcp.failover.tests.unit.plugins.plugin_utils.rendering import EXAMPLES

LOAD_BALANCE = os.path.join(EXAMPLES, 'load_balance', 'inventory.yml')
HOT_STANDBY = os.path.join(EXAMPLES, 'hot_standby', 'inventory.yml')


def params_of(inventory, host=None, **changes):
    """One host's validated parameters (the spec's defaults filled in), as _pair_model has them."""
    with open(inventory, encoding='utf-8') as handle:
        top = yaml.safe_load(handle)['dhcp_failover']['children']
    pair, group = sorted(top.items())[0]
    host = host or sorted(group['hosts'])[0]
    options = _role_spec.load_options()
    raw = dict(group.get('vars') or {})
    raw.update(group['hosts'][host])
    raw.update(changes)
    raw = dict((name, value) for name, value in raw.items() if name in options)
    return _role_spec.validate(options, raw, pair, host)


def by_variable(items):
    return dict((item['variable'], item) for item in items)


def test_seed_load_balance_pair_has_notes_only():
    items = by_variable(_migration_report.report(params_of(LOAD_BALANCE)))
    assert _migration_report.losses(list(items.values())) == []
    assert items['dhcp_failover_split']['severity'] == 'note'            # split 128 is Kea's 50/50
    assert items['dhcp_failover_split']['refused_by_kea'] is True        # set: the Kea backend refuses it as set
    assert items['dhcp_failover_mclt']['severity'] == 'note'
    assert items['dhcp_failover_mclt']['refused_by_kea'] is False        # 3600 is the spec default
    assert 'no MCLT' in items['dhcp_failover_mclt']['why']
    assert items['dhcp_failover_peer_name']['severity'] == 'note'
    assert 'dhcp_failover_max_response_delay' not in items              # the seed's 60 is the spec default
    changed = by_variable(_migration_report.report(params_of(LOAD_BALANCE, dhcp_failover_max_response_delay=17)))
    assert 'milliseconds' in changed['dhcp_failover_max_response_delay']['why']
    assert changed['dhcp_failover_max_response_delay']['severity'] == 'note'
    assert items['dhcp_failover_ping_check']['severity'] == 'note'
    assert items['dhcp_failover_omapi_enabled']['severity'] == 'note'


def test_hot_standby_pair_split_is_not_reported():
    items = by_variable(_migration_report.report(params_of(HOT_STANDBY)))
    assert 'dhcp_failover_split' not in items and 'dhcp_failover_hba' not in items
    assert _migration_report.losses(list(items.values())) == []


@pytest.mark.parametrize('split, severity', [(128, 'note'), (200, 'loss'), (64, 'loss'), (256, 'loss'), (255, 'loss')])
def test_split_other_than_128_is_a_loss(split, severity):
    items = by_variable(_migration_report.report(params_of(LOAD_BALANCE, dhcp_failover_split=split)))
    assert items['dhcp_failover_split']['severity'] == severity
    if split >= 255:
        assert 'hot_standby' in items['dhcp_failover_split']['why']


@pytest.mark.parametrize('hba, severity', [
    (':'.join(['ff'] * 16 + ['00'] * 16), 'note'),       # 128 buckets: 50/50
    (':'.join(['aa'] * 32), 'note'),                     # 128 buckets, interleaved
    (':'.join(['ff'] * 32), 'note'),                     # all-primary: Kea hot-standby
    (':'.join(['ff'] * 24 + ['00'] * 8), 'loss'),        # 192/256
])
def test_hba_other_than_50_50_or_all_primary_is_a_loss(hba, severity):
    items = by_variable(_migration_report.report(params_of(LOAD_BALANCE, dhcp_failover_split=None, dhcp_failover_hba=hba)))
    assert items['dhcp_failover_hba']['severity'] == severity
    assert items['dhcp_failover_hba']['refused_by_kea'] is True


def test_raw_text_pool_boot_fields_vendor_space_ddns():
    seed = params_of(LOAD_BALANCE)
    subnets = copy.deepcopy(seed['dhcp_failover_subnets'])
    subnets[0]['statements'] = 'allow unknown-clients;'
    subnets[0]['pools'][0]['next_server'] = '192.168.1.2'
    subnets[0]['pools'][0]['filename'] = 'pxelinux.0'
    subnets[0]['options'] = {'ien116-name-servers': '192.168.1.2', 'ntp-servers': '192.168.1.2',
                             'agent.circuit-id': 'x', 'site-thing': '1'}
    params = params_of(LOAD_BALANCE, dhcp_failover_subnets=subnets, dhcp_failover_raw_global='one-lease-per-client true;',
                       dhcp_failover_ddns_update_style='interim', dhcp_failover_authoritative=False,
                       dhcp_failover_option_definitions=[{'name': 'site-thing', 'code': 224, 'type': 'uint8'}])
    items = by_variable(_migration_report.report(params))
    loss = dict((item['variable'], item) for item in _migration_report.losses(list(items.values())))
    assert set(loss) == {
        'dhcp_failover_raw_global', 'dhcp_failover_subnets[0].statements', 'dhcp_failover_subnets[0].pools[0].next_server',
        'dhcp_failover_subnets[0].pools[0].filename', 'dhcp_failover_subnets[0].options.ien116-name-servers',
        'dhcp_failover_subnets[0].options.agent.circuit-id', 'dhcp_failover_ddns_update_style'}
    assert 'name-servers' in loss['dhcp_failover_subnets[0].options.ien116-name-servers']['why']
    assert loss['dhcp_failover_subnets[0].pools[0].filename']['refused_by_kea'] is True
    lines = _migration_report.lines('office', list(items.values()))
    # authoritative is shared by both backends (Kea's `authoritative`): carried, never a loss.
    assert 'dhcp_failover_authoritative' not in items
    assert lines[0].startswith('pair office, dhcp_failover_ddns_update_style: loss: ')
    assert all(line.startswith('pair office, ') for line in lines)


def test_omapi_secret_never_in_the_report():
    secret = 'dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI='
    params = params_of(LOAD_BALANCE, dhcp_failover_omapi_secret=secret)
    items = _migration_report.report(params)
    assert 'dhcp_failover_omapi_secret' in by_variable(items)
    assert secret not in repr(items) and secret not in repr(_migration_report.lines('office', items))


def _other_value(option):
    """A valid value of a spec option that is not its default."""
    default = option.get('default')
    if option.get('choices'):
        return [choice for choice in option['choices'] if choice != default][0]
    if option.get('type') == 'bool':
        return not default
    if option.get('type') == 'int':
        return (default or 0) + 7
    if option.get('type') == 'list':
        return ['10.0.0.9']
    if option.get('type') == 'path':
        return '/etc/dhcp/other'
    return 'other'


WITHOUT_ISC_SETTINGS = dict(dhcp_failover_split=None, dhcp_failover_peer_name=None)


def test_a_pair_without_isc_settings_has_nothing_the_kea_backend_refuses():
    items = _migration_report.report(params_of(LOAD_BALANCE, **WITHOUT_ISC_SETTINGS))
    assert [item for item in items if item['refused_by_kea']] == []


@pytest.mark.parametrize('name', _migration_report.ISC_ONLY_FILES + tuple(_migration_report._isc_dhcpd.VARIABLES))
def test_every_isc_only_variable_set_apart_from_its_default_is_listed(name):
    # The rule by which the Kea backend (_kea.refuse_isc_settings, branch kea-render) refuses a
    # description: every such variable must be in the report, marked refused_by_kea.
    options = _role_spec.load_options()
    changes = dict(WITHOUT_ISC_SETTINGS)
    changes[name] = _other_value(options[name])
    items = by_variable(_migration_report.report(params_of(LOAD_BALANCE, **changes)))
    assert name in items and items[name]['refused_by_kea'] is True
