# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hot standby as dhcpd really does it: the pool balance, untuned and tuned (issue 12, item 10).

In hot standby (`split 256`) every client hashes to the primary, yet dhcpd still splits each
pool's free addresses into FREE (the primary's) and BACKUP (the secondary's). A pair of real
dhcpd servers with a 10-address pool and MCLT 10 (so that the first leases expire within
seconds and come back as used free addresses) is deployed from the role's own rendering
(pair model + dhcpd.conf.j2), twice:

- untuned (dhcpd's defaults): the never-used pool is split 5/5, half of ten fresh clients get
  their lease from the secondary; once the leases expired, dhcpd re-balances the used addresses
  to FREE 6 / BACKUP 4 and a burst of ten fresh clients is not served by the primary alone
  (the primary logs "peer holds all free leases" while the secondary logs "load balance to
  peer": those first attempts go unanswered);
- tuned (max-lease-ownership 50, max-lease-misbalance 50, min-balance 2, max-balance 10): the
  secondary hands never-used addresses back within seconds, and every used free address stays
  with the primary (FREE 10 / BACKUP 0): the same burst is answered by the primary alone.

Oracles independent of the collection's modules: each client's own record of the server
identifier that answered it (busybox udhcpc, one DISCOVER, a script that applies nothing and
only records), and the "balanced pool ... free N backup M" lines dhcpd logs in the raw journal
of the unit's current run (its InvocationID).

Clients run in a third container on the same bridge, each on a macvlan interface of its own
with a fresh MAC address and no IP address; the containers' eth0 is never changed.
Network dhcpf-balance (10.231.46.0/24): dhcpf-balance-p (.2), dhcpf-balance-s (.3),
dhcpf-balance-c (.4, the clients).
"""

from __future__ import annotations

import re
import subprocess
import time

import pytest

from ansible_collections.dhcp.failover.tests.unit.plugins.plugin_utils.rendering import (
    derive_pair, inventory_hostvars, render,
)
from conftest import LabPair

PREFIX = '10.231.46'
ADDRESSES = {'p': PREFIX + '.2', 's': PREFIX + '.3'}
SERVERS = {ADDRESSES['p']: 'primary', ADDRESSES['s']: 'secondary'}
POOL_SIZE = 10
PAIR_VARS = {
    'dhcp_failover_mode': 'hot_standby',
    'dhcp_failover_peer_name': 'hot',
    'dhcp_failover_mclt': 10,
    'dhcp_failover_omapi_enabled': False,
    'dhcp_failover_ping_check': False,
    'dhcp_failover_subnets': [{
        'network': PREFIX + '.0/24',
        'pools': [{'ranges': [{'start': PREFIX + '.100', 'end': PREFIX + '.109'}]}],
    }],
}
TUNING = {
    'dhcp_failover_max_lease_ownership': 50,
    'dhcp_failover_max_lease_misbalance': 50,
    'dhcp_failover_min_balance': 2,
    'dhcp_failover_max_balance': 10,
}
POOL_LINES = re.compile(r'pool \S+ \S+\s+total|peer holds all free leases|load balance to peer|POOLREQ')
BALANCED = re.compile(r'balanced pool \S+ \S+\s+total (\d+)\s+free (\d+)\s+backup (\d+)')

# N fresh-MAC clients (MACs 02:46:00:00:xx:yy from START), each one DISCOVER on a macvlan of
# its own; the udhcpc script applies nothing and records the server identifier. par: all at once.
CLIENTS = r'''
set -u
n=$1; start=$2; mode=$3; out=/tmp/clients.$start
rm -f $out; mkdir -p /tmp/cl
printf '#!/bin/sh\n[ "$1" = bound ] && echo "$interface $ip $serverid" >> %s\nexit 0\n' $out > /tmp/cl/record
chmod +x /tmp/cl/record
one() {
  mac=$(printf '02:46:00:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)))
  ip link add cl$1 link eth0 address $mac type macvlan mode bridge && ip link set cl$1 up
  busybox udhcpc -i cl$1 -n -q -f -t 1 -T 3 -s /tmp/cl/record > /tmp/cl/log$1 2>&1 || echo "cl$1 none none" >> $out
  ip link del cl$1
}
i=$start
while [ $i -lt $((start + n)) ]; do
  if [ $mode = par ]; then one $i & else one $i; fi
  i=$((i + 1))
done
wait
cat $out
'''


@pytest.fixture(scope='module')
def lab(lab_image):
    pair = LabPair(lab_image, 'dhcpf-balance', PREFIX, hosts=(('p', 2), ('s', 3), ('c', 4))).start()
    try:
        yield pair
    finally:
        pair.close()


def rendered(tuning):
    """Each server's dhcpd.conf and interfaces file, from the role's pair model and templates."""
    hosts = dict((host, {
        'dhcp_failover_role': 'primary' if host == 'p' else 'secondary',
        'dhcp_failover_address': address,
        'ansible_facts': {'default_ipv4': {'address': address, 'interface': 'eth0'},
                          'all_ipv4_addresses': [address]},
    }) for host, address in ADDRESSES.items())
    inventory = {'dhcp_failover': {'children': {'hot': {'hosts': hosts, 'vars': dict(PAIR_VARS, **tuning)}}}}
    hostvars, pairs = inventory_hostvars(inventory)
    files = {}
    for host in hosts:
        info = derive_pair(hostvars, pairs, host)
        files[host] = (render('dhcpd.conf.j2', info), render('isc-dhcp-server.j2', info))
    return files


def deploy(lab, files):
    """Both servers with empty lease files and ``files`` (from rendered()), started together."""
    for host, (conf, interfaces) in files.items():
        lab.exec(host, 'systemctl stop isc-dhcp-server; rm -f /var/lib/dhcp/dhcpd.leases*; '
                       'touch /var/lib/dhcp/dhcpd.leases; cat > /etc/dhcp/dhcpd.conf', input=conf)
        lab.exec(host, 'cat > /etc/default/isc-dhcp-server', input=interfaces)
    starts = [subprocess.Popen(['docker', 'exec', lab.containers[host], 'systemctl', 'start', 'isc-dhcp-server'])
              for host in ADDRESSES]
    assert [start.wait(timeout=120) for start in starts] == [0, 0]
    wait_for(lambda: all('Both servers normal' in journal(lab, host) for host in ADDRESSES) and balances(lab),
             60, 'both servers normal and a first balance run')


def journal(lab, host):
    """The raw journal of the dhcpd unit's current run."""
    return lab.exec(host, 'journalctl --no-pager -o cat '
                          '_SYSTEMD_INVOCATION_ID=$(systemctl show -p InvocationID --value isc-dhcp-server)').stdout


def balances(lab):
    """(total, free, backup) of each "balanced pool" line the primary logged in its current run."""
    return [tuple(int(value) for value in found) for found in BALANCED.findall(journal(lab, 'p'))]


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(1)
    raise AssertionError('timed out after %d s waiting for %s' % (timeout, what))


def clients(lab, count, start, mode):
    """{'primary': n, 'secondary': n, 'none': n} and the raw records of ``count`` fresh clients."""
    records = lab.exec('c', 'sh -s %d %d %s' % (count, start, mode), input=CLIENTS, timeout=60).stdout.split('\n')
    records = [line.split() for line in records if line.strip()]
    assert len(records) == count, records
    counts = {'primary': 0, 'secondary': 0, 'none': 0}
    for _interface, _address, server in records:
        counts[SERVERS.get(server, 'none')] += 1
    return counts, records


def used_pool_balance(lab, before):
    """The primary's first balance run after ``before`` runs that counts all the addresses as free
    again (the fill's leases, MCLT long, expired)."""
    def found():
        runs = balances(lab)[before:]
        return [run for run in runs if run[0] == run[1] + run[2] == POOL_SIZE]
    return wait_for(found, 100, 'a balance run with the whole pool free again')[0]


def measure(lab, files, first_mac):
    deploy(lab, files)
    startup = balances(lab)[0]
    fill, fill_records = clients(lab, POOL_SIZE, first_mac, 'seq')
    runs_after_fill = len(balances(lab))
    used = used_pool_balance(lab, runs_after_fill)
    burst, burst_records = clients(lab, POOL_SIZE, first_mac + 100, 'par')
    log = dict((host, [line for line in journal(lab, host).splitlines() if POOL_LINES.search(line)])
               for host in ADDRESSES)
    print('startup balance %s\nfill %s %s\nused balance %s\nburst %s %s\n%s'
          % (startup, fill, fill_records, used, burst, burst_records,
             '\n'.join('%s: %s' % (host, line) for host in ADDRESSES for line in log[host])))
    return startup, fill, used, burst, log


def test_untuned_hot_standby_splits_the_pool_and_leaves_the_primary_short(lab):
    startup, fill, used, burst, log = measure(lab, rendered({}), 0)
    # never-used addresses: FREE 5 / BACKUP 5, so the secondary answers half of ten new clients
    assert startup == (POOL_SIZE, 5, 5)
    assert fill == {'primary': 5, 'secondary': 5, 'none': 0}
    # used addresses: dhcpd gives the secondary all but max-lease-ownership (10 %) above half
    _total, free, backup = used
    assert backup > 0 and free < POOL_SIZE, used
    # a burst of fresh clients: the primary cannot answer more than its FREE addresses
    assert burst['primary'] <= free and burst['secondary'] + burst['none'] >= POOL_SIZE - free, burst
    assert any('peer holds all free leases' in line for line in log['p']), log['p']


def test_tuned_hot_standby_keeps_the_primary_supplied(lab):
    files = rendered(TUNING)
    startup, fill, used, burst, log = measure(lab, files, 1000)
    # never-used addresses are still split half and half: no setting changes that
    assert startup == (POOL_SIZE, 5, 5)
    # ... but the secondary hands them back within seconds once the primary's run out
    assert fill['none'] == 0 and fill['primary'] >= 5, fill
    # every used free address stays with the primary, which answers the whole burst
    assert used == (POOL_SIZE, POOL_SIZE, 0)
    assert burst == {'primary': POOL_SIZE, 'secondary': 0, 'none': 0}
    assert not any('IMBALANCED' in line or 'answering negatively' in line for line in log['p'] + log['s'])
    for host in ADDRESSES:
        for statement in ('max-lease-ownership 50;', 'max-lease-misbalance 50;', 'min-balance 2;',
                          'max-balance 10;'):
            assert statement in files[host][0], (host, statement)
