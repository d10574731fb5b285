# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bench's lab: containers, networks, inventories and ansible-playbook runs (bench/run.py and
bench/measures/*). Containers and networks come from lab/lab.yml through lab/lab.py, as in Molecule.

Lab: network dhcpf-bench (10.231.10.0/24) for the main pair, dhcpf-bench-n1..n4 (10.231.11-14.0/24)
for the measures with pairs of their own; containers dhcpf-bench-*. All DHCP traffic stays on these
networks.
"""
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')
CALLBACKS = os.path.join(BENCH, 'callback_plugins')
WORK = os.path.join(ROOT, 'build', 'bench')
BIN = os.path.dirname(os.path.abspath(sys.executable))
# The lab's image, container flags and network options: lab/lab.yml (lab/lab.py reads it).
sys.path.insert(0, os.path.join(ROOT, 'lab'))
import lab  # noqa: E402  pylint: disable=wrong-import-position

IMAGE = lab.image('full')
INSTALLED = os.environ.get('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, 'build', 'collections')).split(':')[0]
# A private copy of the installed collection: a `make collection` running meanwhile (rm -rf, then
# install) must not pull it from under a half-done benchmark.
COLLECTIONS = os.path.join(WORK, 'collections')

# Container/network name prefix and the main network's third octet (the measures with pairs of their
# own use the next four): another lab on the same Docker engine sets DHCP_FAILOVER_BENCH_PREFIX
# (e.g. dhcpf-pt-bench) and DHCP_FAILOVER_BENCH_NET (e.g. 15: 10.231.15-19.0/24).
PREFIX = os.environ.get('DHCP_FAILOVER_BENCH_PREFIX', 'dhcpf-bench')
NET = PREFIX
NET_BASE = int(os.environ.get('DHCP_FAILOVER_BENCH_NET', '10'))
LAN = '10.231.%d' % NET_BASE
P, S, SOLO, CLIENT, LOAD = (PREFIX + '-' + n for n in ('p', 's', 'solo', 'c', 'load'))
ADDR = {P: LAN + '.2', S: LAN + '.3', SOLO: LAN + '.4', CLIENT: LAN + '.10', LOAD: LAN + '.11'}
GIADDR = LAN + '.11'          # perfdhcp's own address: giaddr, replies come back to it on port 67
RELAY_PAIR = LAN + '.12'      # bench/relay.py -> both servers of the pair
RELAY_SOLO = LAN + '.13'      # bench/relay.py -> the standalone server
PEER = 'bench'
MCLT = 30
POOL = {'start': LAN + '.16', 'end': LAN + '.253'}   # Docker's own addresses stay in .0/28
SERVICE = 'isc-dhcp-server'
# The main pair's backend: bench/run.py deploys it once as ISC dhcpd and once as Kea HA (set_backend),
# and the main-pair measures ask service() and state_args() for the one of the pass under way.
BACKEND = {'name': 'isc_dhcpd'}
SERVICES = {'isc_dhcpd': 'isc-dhcp-server', 'kea': 'kea-dhcp4-server'}
# Kea timers of molecule/kea_lb (the role's defaults are Kea's own: 10 s heartbeat, 60 s response delay)
KEA_VARS = {'dhcp_failover_backend': 'kea', 'dhcp_failover_kea_heartbeat_delay': 2000,
            'dhcp_failover_kea_max_response_delay': 6000, 'dhcp_failover_kea_max_ack_delay': 1000,
            'dhcp_failover_kea_max_unacked_clients': 0, 'dhcp_failover_restart_timeout': 30}

TAKEOVER_TARGET_S = 2.0
RATE_TARGET = 0.8
RERUN_TARGET = 1 / 3
JOURNAL_TARGET_S = 1.0
SCALING_TARGET = 2.0


def set_backend(name):
    BACKEND['name'] = name


def service():
    return SERVICES[BACKEND['name']]


def state_args(**extra):
    """dhcp.failover.state_info's arguments for the main pair (PEER) on the pass's backend."""
    args = {'peer': PEER}
    if BACKEND['name'] == 'kea':
        args['backend'] = 'kea'
    args.update(extra)
    return args


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


def start_containers(specs, image=None, mounts=()):
    """specs: [(name, network, address)]; waits until systemd runs in every one.
    mounts: extra `docker run -v` values (the bare images' apt repository, authorized keys)."""
    extra = []
    for mount in mounts:
        extra += ['-v', mount]
    for name, net, address in specs:
        sh(['docker', 'run', '-d', '--name', name, '--hostname', name, '--network', net, '--ip', address]
           + lab.docker_run_args() + extra + [image or IMAGE, lab.command()])
    for name, _ignored, _ignored in specs:
        deadline = time.monotonic() + 90
        while True:
            state = sh(['docker', 'exec', name, 'systemctl', 'is-system-running'], check=False).stdout.strip()
            if state in ('running', 'degraded'):
                break
            if time.monotonic() > deadline:
                raise RuntimeError('systemd did not come up in %s (%s)' % (name, state))
            time.sleep(0.5)


# molecule/migrate's client: a new client every 0.5 s (a macvlan with a fresh MAC, busybox udhcpc,
# up to 6 DISCOVERs 2 s apart, the lease released when it ends by dhcp-release.py), one record line
# per request.
LOAD_SCRIPT = os.path.join(ROOT, 'molecule', 'migrate', 'files', 'client-load.sh')
REPORT_SCRIPT = os.path.join(ROOT, 'molecule', 'migrate', 'files', 'udhcpc-report.sh')
RELEASE_SCRIPT = os.path.join(ROOT, 'molecule', 'migrate', 'files', 'dhcp-release.py')
_BOUND = re.compile(r'bound at=([0-9.]+)')


def client_load(container, directory, tag, max_requests=4000):
    """Start LOAD_SCRIPT in CONTAINER, its records under DIRECTORY; TAG (0..255) keeps its MACs apart."""
    for path in (LOAD_SCRIPT, REPORT_SCRIPT, RELEASE_SCRIPT):
        sh(['docker', 'cp', path, '%s:/usr/local/sbin/%s' % (container, os.path.basename(path))])
    dexec(container, 'chmod 0755 /usr/local/sbin/client-load.sh /usr/local/sbin/udhcpc-report.sh '
          '/usr/local/sbin/dhcp-release.py; rm -rf %s' % directory)
    sh(['docker', 'exec', '-d', container, '/usr/local/sbin/client-load.sh', directory, str(tag), str(max_requests)])


def client_answers(container, directory, since=0.0):
    """The times (epoch) at which requests asked at SINCE or later were answered."""
    records = dexec(container, 'cat %s/records 2>/dev/null || true' % directory).splitlines()
    asked = re.compile(r'asked=([0-9.]+)')
    return sorted(float(m.group(1)) for line in records for m in [_BOUND.search(line)]
                  if m and float(asked.search(line).group(1)) >= since)


def wait_client_answers(container, directory, count, since=0.0, timeout=60):
    deadline = time.monotonic() + timeout
    while len(client_answers(container, directory, since)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError('fewer than %d client requests answered within %d s' % (count, timeout))
        time.sleep(0.5)


def stop_client_load(container, directory):
    """Ask no more, wait until every request has ended: asked, answered, the longest gap between two
    answers, the unanswered requests' records."""
    dexec(container, 'touch %s/stop' % directory)
    deadline = time.monotonic() + 60
    while dexec(container, 'test -e %s/done && echo yes || true' % directory).strip() != 'yes':
        if time.monotonic() > deadline:
            raise RuntimeError('the client load did not end within 60 s')
        time.sleep(0.5)
    records = dexec(container, 'cat %s/records' % directory).splitlines()
    bound = sorted(float(m.group(1)) for m in (_BOUND.search(line) for line in records) if m)
    gaps = [b - a for a, b in zip(bound, bound[1:])]
    return {'asked': len(records), 'answered': len(bound), 'longest_gap_s': round(max(gaps), 2) if gaps else None,
            'unanswered': [line for line in records if 'bound at=' not in line][:10]}


def remove_containers(names):
    sh(['docker', 'rm', '-f'] + list(names), check=False)


# ---------------------------------------------------------------- ansible


def pair_group(name, primary, secondary, prefix, keys, style='current', backend='isc_dhcpd'):
    """One pair's inventory group. style 'current': today's dhcp_failover_* variables; '1.0.0': the
    server_* variables of the 1.0.0 role (commit 3ab564b), same settings."""
    subnet = {
        'network': prefix + '.0/24',
        'routers': [prefix + '.254'],
        'domain_name': 'bench.lab',
        'pools': [{'ranges': [{'start': prefix + '.16', 'end': prefix + '.253'}]}],
    }
    if style == '1.0.0':
        return {
            'hosts': {primary: {'server_failover_role': 'primary', 'server_failover_address': prefix + '.2'},
                      secondary: {'server_failover_role': 'secondary', 'server_failover_address': prefix + '.3'}},
            'vars': {'server_failover_peer_name': name, 'server_failover_mclt': MCLT, 'server_ping_check': False,
                     'server_interfaces': ['eth0'], 'server_omapi_key_dir': keys, 'server_subnets': [subnet]},
        }
    if backend == 'kea':
        return {
            'hosts': {primary: {'dhcp_failover_role': 'primary'}, secondary: {'dhcp_failover_role': 'secondary'}},
            'vars': dict(KEA_VARS, dhcp_failover_pair=name, dhcp_failover_subnets=[subnet]),
        }
    return {
        'hosts': {primary: {'dhcp_failover_role': 'primary'}, secondary: {'dhcp_failover_role': 'secondary'}},
        'vars': {
            'dhcp_failover_peer_name': name,
            'dhcp_failover_mclt': MCLT,
            'dhcp_failover_ping_check': False,          # ping-check adds ~1 s to every offer (LAB-NOTES)
            'dhcp_failover_omapi_key_dir': keys,
            'dhcp_failover_subnets': [subnet],
        },
    }


DOCKER_CONNECTION = {'ansible_connection': 'community.docker.docker', 'ansible_python_interpreter': '/usr/bin/python3'}


def write_inventory(path, pairs, style='current', connection=None, host_vars=None, backend='isc_dhcpd'):
    """pairs: {group: (peer, primary, secondary, prefix)}; connection: the inventory's all.vars
    (default: community.docker as root); host_vars: {host: {var: value}} added to each host. JSON is YAML."""
    keys = os.path.join(WORK, 'keys-' + style)
    groups = {group: pair_group(peer, p, s, prefix, keys, style, backend) for group, (peer, p, s, prefix) in pairs.items()}
    for group in groups.values():
        for host, hvars in group['hosts'].items():
            hvars.update((host_vars or {}).get(host, {}))
    inventory = {'all': {
        'vars': dict(connection or DOCKER_CONNECTION),
        'children': {'dhcp_failover': {'children': groups}},
    }}
    with open(path, 'w') as handle:
        handle.write('# Written by bench/run.py\n' + json.dumps(inventory, indent=1) + '\n')
    return path


def ansible_env(collections=None, calls_out=None):
    """The environment of every ansible(-playbook) run: the bench's private collections path, the
    profile_tasks callback and bench/callback_plugins/bench_calls.py (remote module calls per host,
    written to calls_out)."""
    env = dict(os.environ)
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections or COLLECTIONS,
        'ANSIBLE_PIPELINING': 'true',
        'ANSIBLE_STDOUT_CALLBACK': 'default',
        'ANSIBLE_CALLBACK_PLUGINS': CALLBACKS,
        'ANSIBLE_CALLBACKS_ENABLED': 'ansible.posix.profile_tasks' + (',bench_calls' if calls_out else ''),
        'PROFILE_TASKS_TASK_OUTPUT_LIMIT': 'all',
        'PROFILE_TASKS_SORT_ORDER': 'descending',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
        'ANSIBLE_DEPRECATION_WARNINGS': 'false',
        # the SSH measure: a key made for the run, lab containers made for the run
        'ANSIBLE_HOST_KEY_CHECKING': 'false',
        'ANSIBLE_SSH_ARGS': '-C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null',
        'ANSIBLE_SSH_CONTROL_PATH_DIR': os.path.join(WORK, 'ssh-cp'),
    })
    if calls_out:
        env['BENCH_CALLS_OUT'] = calls_out
    return env


PROFILE_LINE = re.compile(r'^(?P<name>\S.*?) ?-+ (?P<s>\d+\.\d\d)s$')
RECAP_LINE = re.compile(r'^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unr>\d+)\s+'
                        r'failed=(?P<failed>\d+)')


def _container_cpu_ns(ids):
    """CPU time (ns) the lab's containers have used so far, from their cgroups (v1 cpuacct with
    Docker's cgroupfs driver, or v2 cpu.stat under Docker's own or systemd's cgroup); None when no
    container's cgroup is found."""
    total, found = 0, False
    for cid in ids:
        for path, field in (('/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage' % cid, None),
                            ('/sys/fs/cgroup/docker/%s/cpu.stat' % cid, 'usage_usec'),
                            ('/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat' % cid, 'usage_usec')):
            try:
                with open(path) as handle:
                    text = handle.read()
            except OSError:
                continue
            if field is None:
                total += int(text.strip())
            else:
                total += 1000 * int(dict(line.split() for line in text.splitlines())[field])
            found = True
            break
    return total if found else None


def _busy_ticks():
    """The machine's busy CPU time (clock ticks) from /proc/stat: every state but idle and iowait."""
    with open('/proc/stat') as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def cpu_snapshot(ids=None):
    """What the CPU time of one run is measured from: the machine's busy time, the controller's (this
    process's children: ansible-playbook, its forks and their docker CLI processes, once waited for)
    and the lab containers' (every process in them: modules, dhcpd, systemd, journald). The rest of
    the machine's busy time is Docker's daemons (docker exec goes through dockerd and containerd)
    and the kernel. ids: the containers of the snapshot before (the one after lists none, so that no
    docker CLI run falls inside the window)."""
    if ids is None:
        ids = sh(['docker', 'ps', '-q', '--no-trunc', '--filter', 'name=^' + PREFIX], check=False).stdout.split()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {'ids': ids, 'containers_ns': _container_cpu_ns(ids), 'controller_s': children.ru_utime + children.ru_stime,
            'busy_ticks': _busy_ticks()}


def cpu_used(before, after, wall):
    """Core-seconds used between two cpu_snapshot()s, and how much of the machine's cores the run kept busy."""
    hz, cores = os.sysconf('SC_CLK_TCK'), os.cpu_count()
    busy = (after['busy_ticks'] - before['busy_ticks']) / hz
    res = {'busy_core_s': round(busy, 2), 'controller_core_s': round(after['controller_s'] - before['controller_s'], 2),
           'cores': cores, 'utilization': round(busy / (wall * cores), 3) if wall else None}
    if before['containers_ns'] is not None and after['containers_ns'] is not None:
        res['containers_core_s'] = round((after['containers_ns'] - before['containers_ns']) / 1e9, 2)
        res['other_core_s'] = round(busy - res['controller_core_s'] - res['containers_core_s'], 2)
    return res


def run_site(inventory, label, extra=(), playbook='dhcp.failover.site', collections=None):
    """One `ansible-playbook dhcp.failover.site` run: wall time, changed per host, per-task times and
    the remote module calls per host (bench_calls callback)."""
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, playbook] + list(extra)
    calls_file = os.path.join(WORK, 'logs', label + '.calls.json')
    if os.path.exists(calls_file):
        os.unlink(calls_file)
    cpu_before = cpu_snapshot()
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(collections, calls_file), cwd=WORK,
                          timeout=900, check=False)
    wall = time.monotonic() - start
    cpu = cpu_used(cpu_before, cpu_snapshot(cpu_before['ids']), wall)
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
    res = {'wall_s': round(wall, 2), 'changed': sum(r['changed'] for r in recap.values()), 'recap': recap,
           'tasks': tasks, 'task_results_per_host': results, 'log': os.path.relpath(logfile, ROOT), 'cpu': cpu}
    if os.path.exists(calls_file):
        with open(calls_file) as handle:
            calls = json.load(handle)
        res['remote_calls_per_host'] = {host: v['calls'] for host, v in calls['hosts'].items()}
        res['remote_calls'] = calls
    return res


def wait_normal_states(inventory, host):
    proc = subprocess.run([os.path.join(BIN, 'ansible'), '-i', inventory, host, '-o', '-m', 'dhcp.failover.state_info',
                           '-a', json.dumps(state_args())], capture_output=True, text=True, env=ansible_env(), cwd=WORK,
                          timeout=120, check=False)
    try:
        peer = json.loads(proc.stdout.split(' => ', 1)[1])['peers'][PEER]
        return {k: peer.get(k) for k in ('my_state', 'my_state_since', 'partner_state', 'partner_state_since')}
    except (IndexError, KeyError, ValueError):
        return {'raw': proc.stdout[-500:]}


def wait_normal(inventory, hosts, timeout=180):
    """Both peers in normal, read with dhcp.failover.state_info wait_for. Returns seconds and the results."""
    args = json.dumps(state_args(wait_for=['normal'], timeout=timeout))
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


def summarize(values):
    values = [v for v in values if v is not None]
    if not values:
        return {'n': 0, 'median_s': None, 'worst_s': None, 'best_s': None}
    return {'n': len(values), 'median_s': round(statistics.median(values), 3), 'worst_s': round(max(values), 3),
            'best_s': round(min(values), 3), 'values_s': values}


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


def reset_keys():
    """Forget the OMAPI keys of an earlier lab: fresh containers get fresh keys."""
    for style in ('current', '1.0.0'):
        shutil.rmtree(os.path.join(WORK, 'keys-' + style), ignore_errors=True)
