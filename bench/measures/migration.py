# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `migration`: `dhcp.failover.migrate` of a live ISC pair holding 1,000+ leases (made by
perfdhcp) to Kea HA on the same hosts (issue 15 item 6), while a client asks for a new lease every
0.5 s: wall time, the playbook's own gap (dhcpd on the primary stopped -> Kea on the secondary
partner-down), the longest gap between two answers the client saw, and the leases carried,
checked one by one against both Kea servers (lease4-get-all over each control socket).

Lab: bare-bookworm servers (isc-dhcp-server, then Kea, from the lab's local apt repository, as
molecule/migrate) and a full-image client on network PREFIX-mig, a /21 (default 10.231.96.0/21;
with DHCP_FAILOVER_BENCH_NET=15, 10.231.104.0/21), so that one pool holds 1,500 addresses.
MCLT and lease time 1800 s: dhcpd's first lease to a client is at most MCLT long, and every lease
must outlive the run. perfdhcp (relay mode through bench/relay.py on the client, forwarding to both
servers) runs bursts of 600 exchanges, each from its own base MAC, until both dhcpd lease files
together hold 1,000 active leases; the oracle is dhcpd's own lease files (last block per address, read here by
regex) before, and Kea's control socket after."""
import calendar
import json
import os
import re
import shutil
import subprocess
import time

import lab  # pylint: disable=wrong-import-order
from benchlab import (BENCH, BIN, NET_BASE, PREFIX, ROOT, WORK, ansible_env, cleanup, client_load, dexec, log, reset_keys, run_site, sh,
                      start_containers, stop_client_load, summarize, wait_normal, write_inventory)

NAME = 'migration'
MAIN_PAIR = False
THIRD = 96 + 8 * ((NET_BASE - 10) // 5)
NET_PREFIX = '10.231.%d' % THIRD
SUBNET = NET_PREFIX + '.0/21'
MP, MS, MC = ('%s-mig-%s' % (PREFIX, n) for n in ('p', 's', 'c'))
ADDR = {MP: NET_PREFIX + '.2', MS: NET_PREFIX + '.3', MC: NET_PREFIX + '.10'}
GIADDR = NET_PREFIX + '.11'
RELAY = NET_PREFIX + '.12'
POOL = ('10.231.%d.0' % (THIRD + 1), '10.231.%d.200' % (THIRD + 7))
TARGET_LEASES = 1000
LIFETIME = 1800
PERF_CLIENTS = 1400
KEA_SOCKET = '/run/kea/kea4-ctrl-socket'
# One command to Kea's control socket from inside the server (bare images have python3, no socat).
KEA_CTL = r'''
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[2])
s.sendall(sys.argv[1].encode())
buf = b""
while True:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    buf += chunk
    try:
        json.loads(buf)
        break
    except ValueError:
        pass
sys.stdout.write(buf.decode())
'''
_BLOCK = re.compile(r'^lease (\S+) \{\n(.*?)^\}', re.M | re.S)


def run(ctx):
    trials = [bench_migration(n + 1) for n in range(ctx.args.migration_trials)]
    result = {'trials': trials, 'n': len(trials)}
    for key, pick in (('wall_s', lambda t: t['migrate']['wall_s']),
                      ('playbook_gap_s', lambda t: t['migrate']['playbook_gap_s']),
                      ('client_longest_gap_s', lambda t: t['client']['longest_gap_s'])):
        result[key] = summarize([pick(t) for t in trials])
    result['carried'] = min(t['carried'] for t in trials)
    result['isc_active_before'] = min(t['isc_active_before'] for t in trials)
    result['lost'] = sum(max(t['lost_count'].values()) for t in trials)
    result['asked'] = sum(t['client']['asked'] for t in trials)
    result['answered'] = sum(t['client']['answered'] for t in trials)
    result['met'] = all(t['met'] for t in trials)
    return result


def create_network(name):
    sh(['docker', 'network', 'create'] + lab.network_create_args(SUBNET) + [name])


def group_vars():
    return {
        'dhcp_failover_pair': 'mig',
        'dhcp_failover_peer_name': 'bench',
        'dhcp_failover_mclt': LIFETIME,
        'dhcp_failover_ping_check': False,
        'dhcp_failover_default_lease_time': LIFETIME,
        'dhcp_failover_max_lease_time': LIFETIME,
        'dhcp_failover_omapi_key_dir': os.path.join(WORK, 'keys-migration'),
        'dhcp_failover_subnets': [{'network': SUBNET, 'routers': [NET_PREFIX + '.254'], 'domain_name': 'mig.bench.lab',
                                   'pools': [{'ranges': [{'start': POOL[0], 'end': POOL[1]}]}]}],
        # as molecule/migrate: Kea's HA timers short (2 s heartbeat), not its 10 s defaults
        'dhcp_failover_migrate_kea_settings': {'dhcp_failover_kea_heartbeat_delay': 2000,
                                               'dhcp_failover_kea_max_response_delay': 6000,
                                               'dhcp_failover_kea_max_ack_delay': 1000,
                                               'dhcp_failover_kea_max_unacked_clients': 0},
    }


def write_mig_inventory():
    path = write_inventory(os.path.join(WORK, 'migration.yml'), {'mig': ('bench', MP, MS, NET_PREFIX)})
    with open(path) as handle:
        inventory = json.loads(handle.read().split('\n', 1)[1])
    group = inventory['all']['children']['dhcp_failover']['children']['mig']
    group['vars'] = group_vars()
    for host in (MP, MS):
        group['hosts'][host].update({'dhcp_failover_address': ADDR[host], 'dhcp_failover_interfaces': ['eth0']})
    with open(path, 'w') as handle:
        handle.write('# Written by bench/measures/migration.py\n' + json.dumps(inventory, indent=1) + '\n')
    return path


def dhcpd_active(text, now):
    """{address: (mac, ends)} of the last block of each address that is active and ends after NOW."""
    last = {}
    for address, body in _BLOCK.findall(text):
        last[address] = body
    found = {}
    for address, body in last.items():
        state = re.search(r'^  binding state (\w+);', body, re.M)
        ends = re.search(r'^  ends \d (\d{4}/\d\d/\d\d \d\d:\d\d:\d\d);', body, re.M)
        mac = re.search(r'^  hardware ethernet ([0-9a-f:]+);', body, re.M)
        if state and state.group(1) == 'active' and ends and mac:
            epoch = calendar.timegm(time.strptime(ends.group(1), '%Y/%m/%d %H:%M:%S'))
            if epoch > now:
                found[address] = (mac.group(1), epoch)
    return found


def isc_leases():
    """The union of both servers' active dhcpd leases (their lease files as dhcpd wrote them)."""
    now = time.time()
    union = {}
    for host in (MP, MS):
        for address, (mac, ends) in dhcpd_active(dexec(host, 'cat /var/lib/dhcp/dhcpd.leases'), now).items():
            if address not in union or union[address][1] < ends:
                union[address] = (mac, ends)
    return union


def start_relay():
    dexec(MC, 'ip addr add %s/21 dev eth0; ip addr add %s/21 dev eth0; cat > /run/relay.py' % (GIADDR, RELAY),
          stdin=open(os.path.join(BENCH, 'relay.py')).read())
    sh(['docker', 'exec', '-d', MC, 'python3', '/run/relay.py', RELAY, ADDR[MP], ADDR[MS]])
    time.sleep(1)


def make_leases():
    """perfdhcp bursts until both dhcpd lease files hold TARGET_LEASES active leases: (leases, bursts)."""
    bursts = []
    leases = {}
    for burst in range(12):
        started = time.monotonic()
        # perfdhcp walks the same client sequence from its base MAC on every run: a new base per burst
        proc = sh(['docker', 'exec', MC, 'timeout', '60', 'perfdhcp', '-4', '-l', GIADDR, '-r', '150', '-R', str(PERF_CLIENTS),
                   '-b', 'mac=00:0c:%02x:00:00:00' % (burst + 1), '-p', '4', RELAY], check=False, timeout=120)
        if proc.returncode not in (0, 3):
            raise RuntimeError('perfdhcp failed (rc %d): %s' % (proc.returncode, (proc.stdout + proc.stderr)[-1500:]))
        leases = isc_leases()
        bursts.append({'seconds': round(time.monotonic() - started, 1), 'active_after': len(leases)})
        log('migration: perfdhcp burst %d, %d active dhcpd leases' % (burst + 1, len(leases)))
        if len(leases) >= TARGET_LEASES:
            break
    return leases, bursts


def kea_leases(host):
    command = json.dumps({'command': 'lease4-get-all'})
    answer = json.loads(sh(['docker', 'exec', host, 'python3', '-c', KEA_CTL, command, KEA_SOCKET], timeout=120).stdout)
    if answer.get('result') not in (0, 3):
        raise RuntimeError('lease4-get-all on %s: %s' % (host, answer.get('text')))
    return {lease['ip-address']: lease for lease in (answer.get('arguments') or {}).get('leases', [])}


def run_migrate(inventory, trial):
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, 'dhcp.failover.migrate',
            '-e', 'dhcp_failover_migrate_accept_losses=true']
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(), cwd=WORK, timeout=1200, check=False)
    wall = time.monotonic() - started
    logfile = os.path.join(WORK, 'logs', 'migration-migrate-%d.log' % trial)
    with open(logfile, 'w') as handle:
        handle.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError('dhcp.failover.migrate failed (rc %d), see %s' % (proc.returncode, logfile))
    gap = re.search(r'"seconds_without_a_serving_server": "([0-9.]+)', proc.stdout)
    counts = re.search(r'"lease_counts": (\{[^}]*\})', proc.stdout)
    moved = re.search(r'"addresses_given_a_pool_of_their_clients_server": "?(\d+)', proc.stdout)
    return {'wall_s': round(wall, 1), 'playbook_gap_s': float(gap.group(1)) if gap else None,
            'lease_counts': json.loads(counts.group(1)) if counts else None,
            'moved_to_their_clients_server': int(moved.group(1)) if moved else None, 'log': os.path.relpath(logfile, ROOT)}


def bench_migration(trial):
    cleanup()
    reset_keys()
    shutil.rmtree(os.path.join(WORK, 'keys-migration'), ignore_errors=True)
    repo = lab.get('apt_repository')
    mounts = ['%s:%s:ro' % (os.path.join(ROOT, repo['directory']), repo['mount'])]
    net = '%s-mig' % PREFIX
    create_network(net)
    start_containers([(MP, net, ADDR[MP]), (MS, net, ADDR[MS])], image=lab.image('bare-bookworm'), mounts=mounts)
    start_containers([(MC, net, ADDR[MC])])
    inventory = write_mig_inventory()
    log('migration: fresh ISC pair on %s, %s (%s)' % (MP, MS, SUBNET))
    site = run_site(inventory, 'migration-site-%d' % trial)
    result = {'trial': trial, 'subnet': SUBNET, 'pool': list(POOL), 'lifetime_s': LIFETIME,
              'site': {k: site.get(k) for k in ('wall_s', 'recap', 'log')}}
    # wait_normal reads peer 'bench' (the pair's peer name here)
    result['normal_after_site_s'] = round(wait_normal(inventory, [MP, MS], timeout=LIFETIME + 120)[0], 1)
    start_relay()
    before, result['perfdhcp_bursts'] = make_leases()
    result['isc_active_before'] = len(before)
    if len(before) < TARGET_LEASES:
        raise RuntimeError('perfdhcp made %d active leases, not %d' % (len(before), TARGET_LEASES))
    client_load(MC, '/tmp/mload', 0x96)
    try:
        result['migrate'] = run_migrate(inventory, trial)
    finally:
        result['client'] = stop_client_load(MC, '/tmp/mload')
    log('migration %d: %.1f s wall, playbook gap %s s, client asked %d, answered %d, longest gap %s s' % (
        trial, result['migrate']['wall_s'], result['migrate']['playbook_gap_s'], result['client']['asked'],
        result['client']['answered'], result['client']['longest_gap_s']))
    lost = {}
    for host in (MP, MS):
        kea = kea_leases(host)
        missing = []
        for address, (mac, ends) in sorted(before.items()):
            lease = kea.get(address)
            if not lease or lease['hw-address'] != mac or lease['cltt'] + lease['valid-lft'] < ends - 1:
                missing.append({'address': address, 'mac': mac, 'ends': ends, 'kea': lease})
        result['kea_leases_%s' % ('primary' if host == MP else 'secondary')] = len(kea)
        lost[host] = missing
    result['carried'] = len(before) - max(len(v) for v in lost.values())
    result['lost'] = {host: v[:20] for host, v in lost.items()}
    result['lost_count'] = {host: len(v) for host, v in lost.items()}
    result['met'] = (not any(lost.values()) and not result['client']['unanswered']
                     and result['isc_active_before'] >= TARGET_LEASES)
    log('migration %d: %d of %d dhcpd leases found on both Kea servers (lost %s)' % (
        trial, result['carried'], len(before), result['lost_count']))
    cleanup()
    return result
