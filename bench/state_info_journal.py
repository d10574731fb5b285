# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: does dhcp.failover.state_info stay flat as the journal grows?

Starts one lab container (dhcp-failover-lab image, own bridge network dhcpf-capture-st-bench,
10.231.27.0/24), and for each size fills its journal with that many more unrelated lines
(systemd-cat from a file, journald rate limit off, persistent storage) *before* restarting
isc-dhcp-server, then times:
  - state_info through ansible (community.docker connection), the way users run it;
  - the module's journal read alone inside the container (python3-systemd, match on the unit's
    InvocationID), and the same with journalctl;
  - for contrast, a full scan of the journal (what reading "everything of the unit" by time would cost).
Usage: .venv/bin/python bench/state_info_journal.py [SIZES...]   (default 10000 100000 1000000; cumulative)
Writes bench/results/state_info_journal.json.
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The lab's image, container flags and network options: lab/lab.yml (lab/lab.py reads it).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lab'))
import lab  # noqa: E402  pylint: disable=wrong-import-position

IMAGE = lab.image('full')
NET, NAME = 'dhcpf-capture-st-bench', 'dhcpf-capture-st-bench'
CONF = """ddns-update-style none;
failover peer "bench" {
  primary; address 10.231.27.2; port 647; peer address 10.231.27.3; peer port 647;
  max-response-delay 30; max-unacked-updates 10; load balance max seconds 3; mclt 30; split 128;
}
subnet 10.231.27.0 netmask 255.255.255.0 {
  pool { failover peer "bench"; range 10.231.27.100 10.231.27.139; }
}
"""
READ = r"""
import sys, time
from systemd import journal
t = time.monotonic()
r = journal.Reader(converters={'__REALTIME_TIMESTAMP': int})
r.add_match(_SYSTEMD_INVOCATION_ID=sys.argv[1])
n = sum(1 for _ in r)
print(n, time.monotonic() - t)
"""


def sh(*argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs).stdout


def dexec(*argv, **kwargs):
    return sh('docker', 'exec', *((['-i'] if 'input' in kwargs else []) + [NAME] + list(argv)), **kwargs)


def timed(fn, repeat=3):
    best = None
    for dummy in range(repeat):
        start = time.monotonic()
        out = fn()
        took = time.monotonic() - start
        best = took if best is None or took < best else best
    return round(best, 3), out


def setup():
    subprocess.run(['docker', 'rm', '-f', NAME], capture_output=True, check=False)
    subprocess.run(['docker', 'network', 'rm', NET], capture_output=True, check=False)
    sh('docker', 'network', 'create', *lab.network_create_args('10.231.27.0/24'), NET)
    sh('docker', 'run', '-d', '--name', NAME, '--hostname', 'bench', '--network', NET, '--ip', '10.231.27.2',
       *lab.docker_run_args(), IMAGE, lab.command())
    time.sleep(3)
    dexec('sh', '-c', 'mkdir -p /var/log/journal && printf "[Journal]\\nStorage=persistent\\nRateLimitBurst=0\\n'
          'SystemMaxUse=4G\\nSystemMaxFileSize=512M\\n" > /etc/systemd/journald.conf && systemctl restart systemd-journald')
    dexec('sh', '-c', 'cat > /etc/dhcp/dhcpd.conf && echo INTERFACESv4=\\"eth0\\" > /etc/default/isc-dhcp-server', input=CONF)


def fill(count):
    # one stream connection: fast, and journald keeps every line with rate limiting off
    dexec('sh', '-c', 'seq 1 %d | sed "s/^/unrelated benchmark line /" | systemd-cat -t bench-filler' % count)
    for dummy in range(120):
        if int(dexec('sh', '-c', 'journalctl -t bench-filler -o cat | wc -l').strip() or 0) >= count:
            return
        time.sleep(1)


def measure(total):
    dexec('systemctl', 'restart', 'isc-dhcp-server')
    time.sleep(3)
    inv = dexec('systemctl', 'show', '-p', 'InvocationID', '--value', 'isc-dhcp-server').strip()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, 'build', 'dev'), ANSIBLE_HOST_KEY_CHECKING='False')
    ansible = os.path.join(ROOT, '.venv', 'bin', 'ansible')
    base = [ansible, '-i', NAME + ',', '-c', 'community.docker.docker', 'all', '-e', 'ansible_python_interpreter=/usr/bin/python3']
    module_s, out = timed(lambda: sh(*(base + ['-m', 'dhcp.failover.state_info', '-o']), env=env))
    ping_s, dummy = timed(lambda: sh(*(base + ['-m', 'ansible.builtin.ping', '-o']), env=env))
    reader = [dexec('python3', '-c', READ, inv).split() for dummy in range(3)]
    reader_s = min(float(r[1]) for r in reader)
    journalctl_s, lines = timed(lambda: dexec('sh', '-c', 'journalctl -o json _SYSTEMD_INVOCATION_ID=%s | wc -l' % inv))
    scan_s, dummy = timed(lambda: dexec('sh', '-c', 'journalctl -o json | grep -c "\\"dhcpd\\"" || true'), repeat=1)
    disk = dexec('journalctl', '--disk-usage').strip()
    result = json.loads(out.split(' => ', 1)[1])
    return {
        'unrelated_lines_in_journal': total,
        'journal_disk_usage': disk,
        'current_run_entries': int(reader[0][0]),
        'state_info_via_ansible_s': module_s,
        'ansible_ping_baseline_s': ping_s,
        'state_info_minus_ping_s': round(module_s - ping_s, 3),
        'python3_systemd_read_current_run_s': round(reader_s, 4),
        'journalctl_read_current_run_s': journalctl_s,
        'full_journal_scan_s': scan_s,
        'state_info_my_state': result['peers']['bench']['my_state'],
        'state_info_journal_lines': result['journal_lines'],
    }


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [10000, 100000, 1000000]
    setup()
    results, total = [], 0
    try:
        for size in sizes:
            fill(size - total)
            total = size
            results.append(measure(total))
            print(json.dumps(results[-1]), flush=True)
    finally:
        subprocess.run(['docker', 'rm', '-f', NAME], capture_output=True, check=False)
        subprocess.run(['docker', 'network', 'rm', NET], capture_output=True, check=False)
    report = {
        'what': 'dhcp.failover.state_info cost against journal size (unrelated lines logged before the last service start)',
        'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        'image': IMAGE, 'host': 'CI-like VM, 2 cores', 'times': 'best of 3 (full scan: 1 run), seconds',
        'results': results,
    }
    os.makedirs(os.path.join(ROOT, 'bench', 'results'), exist_ok=True)
    with open(os.path.join(ROOT, 'bench', 'results', 'state_info_journal.json'), 'w') as handle:
        json.dump(report, handle, indent=1)
        handle.write('\n')


if __name__ == '__main__':
    main()
