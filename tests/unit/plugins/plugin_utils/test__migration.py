# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Kea description of an ISC pair (_migration.kea_settings): the same description with the
backend changed and what the migration report drops removed, on the collection's example
inventory validated with the role's own argument spec; the Kea backend's own refusals
(_kea.refuse_isc_settings, refuse_raw_text) are the independent judge of what is left."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.dhcp.failover.plugins.plugin_utils import _kea, _migration, _migration_report, _role_spec
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError
from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_model import Check
from ansible_collections.dhcp.failover.tests.unit.plugins.plugin_utils.test__migration_report import (
    LOAD_BALANCE, params_of)


def raw_settings(**changes):
    """The example pair's first host's settings as pair_facts collects them (no defaults filled in)."""
    options = _role_spec.load_options()
    params = params_of(LOAD_BALANCE, **changes)
    return options, dict((name, value) for name, value in params.items()
                         if name in changes or name in ('dhcp_failover_subnets', 'dhcp_failover_reservations',
                                                        'dhcp_failover_split', 'dhcp_failover_peer_name',
                                                        'dhcp_failover_role', 'dhcp_failover_address'))


def kea_refusal(options, settings):
    params = _role_spec.validate(options, settings, 'office', 'h')
    try:
        _kea.refuse_isc_settings('office', ['h'], {'h': params})
        _kea.refuse_raw_text(Check('office', 'h'), params)
    except PairError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize('path, parts', [
    ('dhcp_failover_split', ['dhcp_failover_split']),
    ('dhcp_failover_subnets[0].pools[1].next_server', ['dhcp_failover_subnets', 0, 'pools', 1, 'next_server']),
    ('dhcp_failover_subnets[2].options.agent.circuit-id', ['dhcp_failover_subnets', 2, 'options', 'agent.circuit-id']),
    ('dhcp_failover_global_options.ien116-name-servers', ['dhcp_failover_global_options', 'ien116-name-servers']),
    ('dhcp_failover_shared_networks[1].subnets[0].statements',
     ['dhcp_failover_shared_networks', 1, 'subnets', 0, 'statements']),
])
def test_parse_path(path, parts):
    assert _migration.parse_path(path) == parts


@pytest.mark.parametrize('path', ['', '[0]', 'dhcp_failover_subnets[x]', 'dhcp_failover_subnets..a'])
def test_parse_path_refuses_what_is_not_a_path(path):
    with pytest.raises(ValueError):
        _migration.parse_path(path)


def test_remove_leaves_everything_else():
    settings = {'a': [{'pools': [{'next_server': '1.2.3.4', 'ranges': [1]}], 'options': {'agent.x': 1, 'ntp-servers': 2}}]}
    assert _migration.remove(settings, 'a[0].pools[0].next_server') is True
    assert _migration.remove(settings, 'a[0].options.agent.x') is True
    assert _migration.remove(settings, 'a[3].options') is False
    assert _migration.remove(settings, 'b') is False
    assert settings == {'a': [{'pools': [{'ranges': [1]}], 'options': {'ntp-servers': 2}}]}


def test_an_isc_description_with_losses_becomes_one_the_kea_backend_takes():
    options, settings = raw_settings(dhcp_failover_split=200, dhcp_failover_raw_global='log-facility local7;',
                                     dhcp_failover_port=847)
    subnets = copy.deepcopy(settings['dhcp_failover_subnets'])
    subnets[0]['statements'] = 'allow unknown-clients;'
    subnets[0]['pools'][0]['next_server'] = '192.168.1.2'
    subnets[0]['options'] = {'ien116-name-servers': '192.168.1.2', 'ntp-servers': '192.168.1.3'}
    settings['dhcp_failover_subnets'] = subnets
    before = copy.deepcopy(settings)
    params = _role_spec.validate(options, settings, 'office', 'h')
    items = _migration_report.report(params, options)
    as_kea = dict(settings, dhcp_failover_backend='kea')
    assert kea_refusal(options, as_kea) is not None            # with the backend alone changed, Kea refuses it
    result = _migration.kea_settings(settings, items)
    assert settings == before                                   # a copy: the ISC description is untouched
    assert kea_refusal(options, result) is None
    assert result['dhcp_failover_backend'] == 'kea'
    for name in ('dhcp_failover_split', 'dhcp_failover_raw_global', 'dhcp_failover_port', 'dhcp_failover_peer_name'):
        assert name not in result
    assert 'statements' not in result['dhcp_failover_subnets'][0]
    assert 'next_server' not in result['dhcp_failover_subnets'][0]['pools'][0]
    assert result['dhcp_failover_subnets'][0]['options'] == {'ntp-servers': '192.168.1.3'}
    # What the report does not drop is carried as it was: the reservations, the ranges.
    assert result['dhcp_failover_reservations'] == settings['dhcp_failover_reservations']
    assert result['dhcp_failover_subnets'][0]['pools'][0]['ranges'] == subnets[0]['pools'][0]['ranges']


def test_notes_the_kea_backend_takes_are_kept():
    options, settings = raw_settings(dhcp_failover_mclt=3600)
    items = _migration_report.report(_role_spec.validate(options, settings, 'office', 'h'), options)
    assert 'dhcp_failover_mclt' in [item['variable'] for item in items]
    assert 'dhcp_failover_mclt' not in _migration.dropped(items)
    assert _migration.kea_settings(settings, items)['dhcp_failover_mclt'] == 3600


def test_kea_only_settings_of_the_migrated_pair_are_taken_by_name():
    value = {'dhcp_failover_kea_heartbeat_delay': 2000, 'dhcp_failover_kea_max_unacked_clients': 0}
    assert _migration.kea_only_settings('office', 'h', value) == value
    assert _migration.kea_only_settings('office', 'h', None) == {}


@pytest.mark.parametrize('value, words', [
    ({'dhcp_failover_split': 128}, "'dhcp_failover_split' is not a Kea-only variable"),
    ([2000], 'must be a mapping'),
])
def test_kea_only_settings_refuse_what_is_not_a_kea_variable(value, words):
    with pytest.raises(PairError) as error:
        _migration.kea_only_settings('office', 'h', value)
    assert 'pair office, host h, variable dhcp_failover_migrate_kea_settings' in str(error.value)
    assert words in str(error.value)
