# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The dhcpd.leases reader and the lease translation to Kea, on lease files of a real dhcpd 4.4.3-P1
failover pair and memfile lease files written by real Kea 2.2.0 and 2.6.3
(tests/unit/fixtures/leases/*/README.md says how each was captured)."""

from __future__ import annotations

import calendar
import json
import os
import re
import time

import pytest

from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_leases

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'leases')
MIGRATION = os.path.join(FIXTURES, 'migration')
KEA_CSV = os.path.join(FIXTURES, 'kea_csv')
# The rendered shape of a Kea config (subnet4 with ids, as _kea.render writes it): the lab's subnet
# is the second one, so a wrong lookup shows.
KEA_CONFIG = {'Dhcp4': {'subnet4': [{'id': 1, 'subnet': '10.231.79.0/24', 'pools': []},
                                    {'id': 2, 'subnet': '10.231.80.0/24', 'pools': [],
                                     'reservations': [{'hw-address': '02:00:00:80:00:06', 'ip-address': '10.231.80.60',
                                                       'hostname': 'mg-reserved'}]}]}}


def text(name):
    with open(os.path.join(MIGRATION, name), encoding='utf-8') as handle:
        return handle.read()


def captured_at(snapshot):
    stamp = text(snapshot + '.captured-at').strip()
    return calendar.timegm(time.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ'))


def blocks(leases_text):
    """[(address, body)] of every lease block, by a plain regex (independent of the parser)."""
    return re.findall(r'^lease (\S+) \{\n(.*?)^\}', leases_text, re.MULTILINE | re.DOTALL)


def last_states(leases_text):
    """{address: binding state of its last block}, by regex."""
    result = {}
    for address, body in blocks(leases_text):
        result[address] = re.search(r'^  binding state (\w+);', body, re.MULTILINE).group(1)
    return result


def count(states):
    found = {}
    for state in states.values():
        found[state] = found.get(state, 0) + 1
    return found


def dhcpd_time(body, field):
    match = re.search(r'^  %s \d (\S+ \S+);' % field, body, re.MULTILINE)
    return calendar.timegm(time.strptime(match.group(1), '%Y/%m/%d %H:%M:%S')) if match else None


FILES = ('01-normal.p.leases', '01-normal.s.leases', '02-partner-stopped.p.leases', '02-partner-stopped.s.leases')

# Last entry per address, as counted in the README (awk over the files) for each capture.
EXPECTED_STATES = {
    '01-normal.p.leases': {'active': 4, 'free': 7, 'backup': 7, 'abandoned': 2},
    '01-normal.s.leases': {'active': 5, 'free': 7, 'backup': 6, 'abandoned': 2},
    '02-partner-stopped.p.leases': {'active': 4, 'free': 5, 'backup': 6, 'abandoned': 2, 'expired': 2, 'released': 1},
    '02-partner-stopped.s.leases': {'active': 7, 'free': 5, 'backup': 6, 'abandoned': 2},
}


@pytest.mark.parametrize('name', FILES)
def test_every_entry_read_and_the_last_of_each_address_wins(name):
    leases_text = text(name)
    parsed = _isc_leases.parse(leases_text)
    assert len(parsed['entries']) == len(blocks(leases_text))
    states = dict((address, lease['binding_state']) for address, lease in parsed['leases'].items())
    assert states == last_states(leases_text)
    assert count(states) == EXPECTED_STATES[name]
    assert parsed['authoring_byte_order'] == 'little-endian'
    assert parsed['server_duid'] and parsed['server_duid'][:4] == b'\x00\x01\x00\x01'   # DUID-LLT


def test_several_rewrites_of_one_binding_last_one_counts():
    leases_text = text('01-normal.p.leases')
    parsed = _isc_leases.parse(leases_text)
    # the udhcpc client m2 (02:00:00:80:00:02) renewed several times: one entry per change
    address = [a for a, lease in parsed['leases'].items()
               if lease['hardware'] and lease['hardware']['address'] == '02:00:00:80:00:02'][0]
    bodies = [body for found, body in blocks(leases_text) if found == address]
    assert parsed['rewrites'][address] == len(bodies) >= 4
    lease = parsed['leases'][address]
    assert lease['ends'] == dhcpd_time(bodies[-1], 'ends')
    assert lease['cltt'] == dhcpd_time(bodies[-1], 'cltt')
    assert lease['ends'] != dhcpd_time(bodies[1], 'ends')     # an earlier rewrite said otherwise


def test_released_after_active_is_not_carried():
    leases_text = text('02-partner-stopped.p.leases')
    parsed = _isc_leases.parse(leases_text)
    released = [a for a, lease in parsed['leases'].items() if lease['binding_state'] == 'released']
    assert len(released) == 1
    history = [lease['binding_state'] for lease in parsed['entries'] if lease['address'] == released[0]]
    assert 'active' in history and history[-1] == 'released'
    result = _isc_leases.translate(leases_text, KEA_CONFIG, captured_at('02-partner-stopped'))
    assert released[0] not in [item['ip-address'] for item in result['leases']]
    assert [item['address'] for item in result['skipped']['released']] == released


def test_uid_forms():
    parsed = _isc_leases.parse(text('01-normal.p.leases'))
    by_mac = dict((lease['hardware']['address'], lease) for lease in parsed['entries'] if lease['hardware'])
    # udhcpc's default client id 01 + MAC, written with octal escapes
    assert by_mac['02:00:00:80:00:02']['uid'] == b'\x01\x02\x00\x00\x80\x00\x02'
    assert by_mac['02:00:00:80:00:02']['uid_form'] == 'string'
    # dhclient's printable client id, written as it is
    assert by_mac['02:00:00:80:00:01']['uid'] == b'mg-client-one'
    # a client id of raw bytes with a printable tail: "\377\000\000\200\000\007AB"
    assert by_mac['02:00:00:80:00:07']['uid'] == b'\xff\x00\x00\x80\x00\x07AB'
    # udhcpc -C: no client id
    assert by_mac['02:00:00:80:00:03']['uid'] is None
    # a host made over OMAPI: its non-printable client id written as hex bytes
    host = parsed['hosts']['mg-omapi-host']
    assert host['uid_form'] == 'hex' and host['uid'] == b'\x01\x02\x00\x00\x80\x00\x09'
    assert host['fixed_address'] == ['10.231.80.61'] and host['dynamic'] and not host['deleted']
    assert _isc_leases.hex_bytes(by_mac['02:00:00:80:00:01']['uid']) == '6d:67:2d:63:6c:69:65:6e:74:2d:6f:6e:65'


@pytest.mark.parametrize('snapshot, server', [('01-normal', 'p'), ('01-normal', 's'),
                                              ('02-partner-stopped', 'p'), ('02-partner-stopped', 's')])
def test_carried_leases_keep_address_ids_hostname_and_expire_no_earlier(snapshot, server):
    leases_text = text('%s.%s.leases' % (snapshot, server))
    now = captured_at(snapshot)
    result = _isc_leases.translate(leases_text, KEA_CONFIG, now)
    last = {}
    for address, body in blocks(leases_text):
        last[address] = body
    active = [a for a, body in last.items() if re.search(r'^  binding state active;', body, re.MULTILINE)
              and dhcpd_time(body, 'ends') > now]
    assert sorted(item['ip-address'] for item in result['leases']) == sorted(active)
    assert result['counts']['active'] == len(active)
    for item in result['leases']:
        body = last[item['ip-address']]
        assert item['expire'] >= dhcpd_time(body, 'ends')
        # Kea's cltt: dhcpd's cltt, or starts in an entry learnt from the peer (no cltt written there)
        assert item['expire'] - item['valid-lft'] == (dhcpd_time(body, 'cltt') or dhcpd_time(body, 'starts'))
        assert item['hw-address'] == re.search(r'hardware ethernet (\S+);', body).group(1)
        hostname = re.search(r'client-hostname "([^"]*)";', body)
        assert item.get('hostname') == (hostname.group(1) if hostname else None)
        assert ('client-id' in item) == ('uid ' in body)
        assert item['subnet-id'] == 2 and item['state'] == 0
        assert item['fqdn-fwd'] is False and item['fqdn-rev'] is False
    # the reservation of dhcpd.conf (host mg-reserved, fixed-address .60) is not in the lease file
    assert '10.231.80.60' not in last


def test_counts_and_reasons_per_kind():
    result = _isc_leases.translate(text('02-partner-stopped.p.leases'), KEA_CONFIG, captured_at('02-partner-stopped'))
    assert result['counts'] == {'active': 4, 'free': 5, 'backup': 6, 'abandoned': 2, 'expired': 2, 'released': 1}
    for kind, items in result['skipped'].items():
        assert all(item['reason'] == _isc_leases.REASONS[kind] for item in items)
    assert 'Kea would hand it out again' in _isc_leases.REASONS['abandoned']
    assert result['report'][0] == '4 active lease(s) carried to Kea'
    assert any(line.startswith('host mg-omapi-host (02:00:00:80:00:09, 10.231.80.61)') for line in result['report'])
    assert result['hosts'] == [{'name': 'mg-omapi-host', 'hw-address': '02:00:00:80:00:09',
                                'client-id': '01:02:00:00:80:00:09', 'ip-address': '10.231.80.61'}]


def test_failover_state_blocks():
    primary = _isc_leases.parse(text('02-partner-stopped.p.leases'))
    secondary = _isc_leases.parse(text('02-partner-stopped.s.leases'))
    assert primary['failover']['mg-pair']['my_state'] == 'communications-interrupted'
    assert primary['failover']['mg-pair']['mclt'] is None            # only the secondary writes mclt
    assert secondary['failover']['mg-pair']['my_state'] == 'normal'
    assert secondary['failover']['mg-pair']['mclt'] == 30
    assert len(primary['failover_entries']) == text('02-partner-stopped.p.leases').count('failover peer "mg-pair" state {')


def test_an_active_lease_past_its_end_is_not_carried():
    now = captured_at('01-normal') + 7200
    result = _isc_leases.translate(text('01-normal.p.leases'), KEA_CONFIG, now)
    assert result['leases'] == []
    assert result['counts']['ended'] == 4


def test_subnet_id_lookup_shared_networks_and_no_subnet():
    leases_text = text('01-normal.p.leases')
    now = captured_at('01-normal')
    shared = {'Dhcp4': {'subnet4': [{'id': 1, 'subnet': '10.231.79.0/24'}],
                        'shared-networks': [{'name': 'lab', 'subnet4': [{'id': 9, 'subnet': '10.231.80.0/25'}]}]}}
    result = _isc_leases.translate(leases_text, shared, now)
    assert set(item['subnet-id'] for item in result['leases']) == {9}
    outside = _isc_leases.translate(leases_text, {'Dhcp4': {'subnet4': [{'id': 1, 'subnet': '10.231.79.0/24'}]}}, now)
    assert outside['leases'] == [] and outside['counts']['no_subnet'] == 4


def test_an_address_reserved_for_another_client_in_kea_is_not_carried():
    leases_text = text('01-normal.p.leases')
    now = captured_at('01-normal')
    one = _isc_leases.translate(leases_text, KEA_CONFIG, now)['leases'][0]
    config = {'Dhcp4': {'subnet4': [{'id': 2, 'subnet': '10.231.80.0/24', 'reservations': [
        {'hw-address': '02:00:00:80:00:ff', 'ip-address': one['ip-address']}]}]}}
    result = _isc_leases.translate(leases_text, config, now)
    assert [item['address'] for item in result['skipped']['reserved_elsewhere']] == [one['ip-address']]
    same = {'Dhcp4': {'subnet4': [{'id': 2, 'subnet': '10.231.80.0/24', 'reservations': [
        {'hw-address': one['hw-address'], 'ip-address': one['ip-address']}]}]}}
    assert one['ip-address'] in [item['ip-address'] for item in _isc_leases.translate(leases_text, same, now)['leases']]


def test_both_servers_files_merged():
    now = captured_at('02-partner-stopped')
    both = _isc_leases.translate([text('02-partner-stopped.p.leases'), text('02-partner-stopped.s.leases')], KEA_CONFIG, now)
    primary = _isc_leases.translate(text('02-partner-stopped.p.leases'), KEA_CONFIG, now)
    # the stopped secondary's file is older: the running primary's newer entries win (m5's lease:
    # active in the secondary's file, expired in the primary's, same starts)
    assert both['leases'] == primary['leases']
    assert both['counts'] == primary['counts']
    secondary = _isc_leases.translate(text('02-partner-stopped.s.leases'), KEA_CONFIG, now)
    assert secondary['counts'] != primary['counts']
    # in 01-normal the primary had not yet heard of m5's lease the secondary had just given: merged,
    # the lease is carried although one file alone misses it
    now = captured_at('01-normal')
    merged = _isc_leases.translate([text('01-normal.p.leases'), text('01-normal.s.leases')], KEA_CONFIG, now)
    alone = _isc_leases.translate(text('01-normal.p.leases'), KEA_CONFIG, now)
    assert [item['hw-address'] for item in merged['leases'] if item not in alone['leases']] == ['02:00:00:80:00:05']


@pytest.mark.parametrize('version', ['2.2.0', '2.6.3'])
def test_csv_header_and_row_as_kea_writes_them(version):
    with open(os.path.join(KEA_CSV, 'kea-leases4.%s.csv' % version), encoding='utf-8') as handle:
        written = handle.read().splitlines()
    assert _isc_leases.csv_header(version) == written[0]
    # the lease4-add the capture sent, as rows: what Kea itself wrote for it
    args = {'ip-address': '10.231.81.105', 'hw-address': '02:00:00:80:00:02', 'client-id': '01:02:00:00:80:00:02',
            'hostname': 'mg-client-2', 'valid-lft': 600, 'expire': 2000000000, 'subnet-id': 1, 'state': 0,
            'fqdn-fwd': False, 'fqdn-rev': False}
    assert _isc_leases.csv_rows([args], version) == written
    with open(os.path.join(KEA_CSV, 'lease4-add.%s.response.json' % version), encoding='utf-8') as handle:
        assert json.load(handle)['result'] == 0


def test_csv_of_an_unmeasured_version_is_refused():
    with pytest.raises(ValueError, match='Kea 2.4.1'):
        _isc_leases.csv_header('2.4.1')


def test_truncated_file_fails_with_its_line():
    leases_text = text('01-normal.p.leases')
    cut = leases_text[:leases_text.index('binding state', 2000)]
    with pytest.raises(_isc_leases.LeaseFileError, match=r'line \d+'):
        _isc_leases.parse(cut)
