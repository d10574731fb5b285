# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Kea memfile reader and the dhcpd.leases writer of the revert (dhcp.failover.migrate with
dhcp_failover_migrate_revert), on the lease files real Kea 2.2.0 servers of the molecule/migrate lab
wrote, the clients' own records of the same runs, and dhcpd.leases files real dhcpd 4.4.3-P1 wrote
(tests/unit/fixtures/leases/kea_revert/README.md and migration/README.md say how each was captured)."""

from __future__ import annotations

import calendar
import csv
import io
import os
import re
import time

import pytest

from ansible_collections.dhcp.failover.plugins.plugin_utils import _isc_leases
from ansible_collections.dhcp.failover.plugins.plugin_utils import _kea_leases

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'leases')
REVERT = os.path.join(FIXTURES, 'kea_revert')
# The two runs of the capture: the revert of a migrated pair, and the rollback of a migration whose
# second Kea host (the primary) did not start, after the secondary had served alone with Kea.
RUNS = {'01-revert': '20261203T134632Z', '02-second-host-failure': '20261203T134745Z'}
SECONDARY_ID = '10.231.90.3'


def text(name, directory=REVERT):
    with open(os.path.join(directory, name), encoding='utf-8') as handle:
        return handle.read()


def when(run):
    return calendar.timegm(time.strptime(RUNS[run], '%Y%m%dT%H%M%SZ'))


def files(run):
    """The run's lease files in the order the revert reads them (the first-stopped server first)."""
    return [text(run + '.p.csv'), text(run + '.s.csv')]


def client_records(run):
    """[(mac, address, server id, bound at, lease seconds)] of every answered request of the client load."""
    found = []
    for line in text(run + '.client-records.txt').splitlines():
        match = re.search(r'mac=(\S+) .*bound at=([0-9.]+) ip=(\S+) serverid=(\S+) lease=(\d+)', line)
        if match:
            mac, bound, address, server, lease = match.groups()
            found.append((mac, address, server, float(bound), int(lease)))
    return found


@pytest.mark.parametrize('name', ['01-revert.p.csv', '01-revert.s.csv', '02-second-host-failure.p.csv',
                                  '02-second-host-failure.s.csv'])
def test_every_row_kea_wrote_is_read(name):
    expected = list(csv.DictReader(io.StringIO(text(name))))
    rows = _kea_leases.parse_csv(text(name))
    assert len(rows) == len(expected) > 50
    assert [(row['address'], row['hwaddr'], row['expire'], row['state']) for row in rows] == [
        (item['address'], item['hwaddr'], int(item['expire']), int(item['state'])) for item in expected]


@pytest.mark.parametrize('version', ['2.2.0', '2.6.3'])
def test_both_kea_headers_are_read(version):
    rows = _kea_leases.parse_csv(text('kea-leases4.%s.csv' % version, os.path.join(FIXTURES, 'kea_csv')))
    assert [(row['address'], row['hwaddr'], row['client_id'], row['hostname'], row['expire']) for row in rows] == [
        ('10.231.81.105', '02:00:00:80:00:02', '01:02:00:00:80:00:02', 'mg-client-2', 2000000000)]


def test_the_files_hold_each_kind_the_revert_sorts():
    # what real Kea wrote in these runs: deletions (valid_lifetime 0), reclaimed leases (state 2),
    # several rows of one address (a renewal, an HA update)
    rows = _kea_leases.parse_csv(text('01-revert.p.csv'))
    assert any(row['valid_lifetime'] == 0 for row in rows)
    assert any(row['state'] == 2 for row in rows)
    addresses = [row['address'] for row in rows]
    assert len(set(addresses)) < len(addresses)
    found = _kea_leases.translate(files('01-revert'), when('01-revert'), peer='mig')
    assert set(found['counts']) >= {'active', 'deleted', 'expired-reclaimed'}
    assert found['counts']['active'] == len(found['leases']) > 10


@pytest.mark.parametrize('run', sorted(RUNS))
def test_every_lease_a_client_holds_from_kea_is_written_for_dhcpd(run):
    now = when(run)
    found = _kea_leases.translate(files(run), now, peer='mig')
    written = dict((item['address'], item) for item in found['leases'])
    rows = _kea_leases.parse_csv(files(run)[0]) + _kea_leases.parse_csv(files(run)[1])
    seen_by_kea = set((row['hwaddr'], row['address']) for row in rows if row['valid_lifetime'] == 600)
    # a client's own record of a full (600 s) lease that Kea wrote and that outlives the revert
    held = [(mac, address, bound + lease) for mac, address, _server, bound, lease in client_records(run)
            if lease == 600 and (mac, address) in seen_by_kea and bound + lease > now]
    assert held
    for mac, address, expiry in held:
        assert address in written, '%s (%s) held by its client, not written' % (address, mac)
        assert written[address]['hw-address'] == mac
        assert written[address]['expire'] >= int(expiry) - 1


def test_leases_of_the_secondary_serving_alone_are_taken_from_its_files():
    # 02: Kea on the primary never started, so its file holds only the import; the clients the
    # secondary served alone (lease 600 from 10.231.90.3) are in the secondary's file only
    run = '02-second-host-failure'
    alone = [(mac, address) for mac, address, server, _bound, lease in client_records(run)
             if server == SECONDARY_ID and lease == 600]
    assert alone
    merged = dict((item['address'], item['hw-address']) for item in _kea_leases.translate(files(run), when(run))['leases'])
    primary_only = dict((item['address'], item['hw-address'])
                        for item in _kea_leases.translate(files(run)[:1], when(run))['leases'])
    for mac, address in alone:
        assert merged.get(address) == mac
        assert primary_only.get(address) != mac


def test_dhcpd_reads_back_what_is_written():
    run = '01-revert'
    now = when(run)
    found = _kea_leases.translate(files(run), now, peer='mig')
    primary, secondary = _isc_leases.parse(found['primary']), _isc_leases.parse(found['secondary'])
    assert primary['failover']['mig']['my_state'] == 'partner-down'
    assert secondary['failover'] == {}
    assert sorted(primary['leases']) == sorted(secondary['leases']) == sorted(item['address'] for item in found['leases'])
    for item in found['leases']:
        lease = primary['leases'][item['address']]
        assert lease['binding_state'] == 'active'
        assert lease['hardware'] == {'type': 'ethernet', 'address': item['hw-address']}
        assert lease['ends'] == item['expire']
        if item['client-id']:
            assert _isc_leases.hex_bytes(lease['uid']) == item['client-id']


def real_dhcpd_lines(pattern):
    leases_text = text('01-normal.p.leases', os.path.join(FIXTURES, 'migration'))
    return re.findall(pattern, leases_text, re.MULTILINE)


def test_times_are_written_as_dhcpd_writes_them():
    # every time of a real dhcpd.leases, read back to epoch and written again, is the text dhcpd wrote
    written = real_dhcpd_lines(r'^  (?:starts|ends|cltt|tstp|tsfp) (\d \d{4}/\d\d/\d\d \d\d:\d\d:\d\d);')
    assert len(written) > 20
    for stamp in written:
        epoch = calendar.timegm(time.strptime(stamp[2:], '%Y/%m/%d %H:%M:%S'))
        assert _kea_leases.dhcpd_time(epoch) == stamp


def test_uids_and_hostnames_are_written_as_dhcpd_writes_them():
    # every uid and client-hostname string of the real dhcpd.leases files, decoded by the lease
    # reader and written again, is the text dhcpd wrote (octal escapes for the non-printable bytes)
    written = []
    for name in sorted(os.listdir(os.path.join(FIXTURES, 'migration'))):
        if name.endswith('.leases'):
            leases_text = text(name, os.path.join(FIXTURES, 'migration'))
            written += re.findall(r'^  (?:uid|client-hostname) (".*");$', leases_text, re.MULTILINE)
    assert len([item for item in written if item.startswith('"\\')]) > 10
    for quoted in set(written):
        assert _kea_leases.dhcpd_string(_isc_leases._unquote(quoted)) == quoted


def test_a_cut_file_fails_with_its_line():
    cut = text('01-revert.s.csv').splitlines()
    cut[5] = cut[5].rsplit(',', 3)[0]
    with pytest.raises(_kea_leases.CsvError, match=r'^line 6: '):
        _kea_leases.parse_csv('\n'.join(cut))
    with pytest.raises(_kea_leases.CsvError, match='not a Kea DHCPv4 memfile header'):
        _kea_leases.parse_csv(text('01-normal.p.leases', os.path.join(FIXTURES, 'migration')))


@pytest.mark.parametrize('run', sorted(RUNS))
def test_the_newest_row_wins_whichever_server_is_read_first(run):
    # the revert reads the first-stopped server first; the leases written must not depend on it
    p_first = _kea_leases.translate(files(run), when(run))['leases']
    s_first = _kea_leases.translate(list(reversed(files(run))), when(run))['leases']
    assert p_first == s_first
    one_file = set()
    for single in files(run):
        one_file |= set(item['address'] for item in _kea_leases.translate([single], when(run))['leases'])
    assert set(item['address'] for item in p_first) == one_file


def test_a_lease_given_again_after_a_deletion_on_the_partner_is_written():
    # 01: 10.231.90.176 was deleted on the secondary (a row with valid_lifetime 0), then leased again
    # by the primary (a later cltt, 600 s): written, from the primary's row, whichever file is read last
    rows = [row for row in _kea_leases.parse_csv(text('01-revert.s.csv')) if row['address'] == '10.231.90.176']
    assert rows[-1]['valid_lifetime'] == 0
    for order in (files('01-revert'), list(reversed(files('01-revert')))):
        written = dict((item['address'], item) for item in _kea_leases.translate(order, when('01-revert'))['leases'])
        assert '10.231.90.176' in written
