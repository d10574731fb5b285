# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks run the way operators run them (issue 13, items 2 and 3): as a sudo user with
become, on hosts that start without isc-dhcp-server, with --check first, --limit to one pair or
one server, serial: 1, and status/drill/maintenance limited to one pair.

Two pairs, each on its own network: opa (dhcpf-opfix-a, 10.231.54.0/24) and opb (dhcpf-opfix-b,
10.231.55.0/24). The servers start bare for this collection: isc-dhcp-server, python3-systemd,
python3-pypureomapi, nftables and python3-apt are purged and the apt index emptied; the role installs them from
a local apt repository (the .deb files fetched on the host with apt-get download, indexed with
dpkg-scanpackages, copied into each container as a file: source), as a site with its own mirror.
Ansible connects as the user `ops` (passwordless sudo) and every run passes -b. opb's servers have
no dhcp_failover_address/interfaces in the inventory: they come from facts, so a run that needs
them must contact opb's hosts, and one that must not (--limit opa) cannot hide it.

Not proven here: that the controller-side tasks (reports, the OMAPI key store) never use become.
The controller runs as root in this lab, and a become from root to root on the local connection
is not observable (tried: a localhost with a become executable that does not exist, and no sudo on
the controller; the old playbooks' delegated report writes under -b still passed).

Oracles, none of them the collection's own code: checksums of every file under /etc/dhcp and of
the installed packages (which host changed), the dhcpd process (pidof, its start time from
/proc/PID/stat: was it restarted), the states from the raw journal of the unit's current run
(_SYSTEMD_INVOCATION_ID), status's JSON file and stdout, ansible-playbook's rc and PLAY RECAP.

Tests run in file order on one module-scoped lab; each leaves both pairs normal.
"""

from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
import yaml

from conftest import LabPair, docker, recap, run_playbook

PAIRS = {'opa': ('dhcpf-opfix-a', '10.231.54'), 'opb': ('dhcpf-opfix-b', '10.231.55')}
MCLT = 30
# python3-apt too: a bare Debian host lacks it (package_facts needs it; the apt module installs it)
BARE = 'isc-dhcp-server python3-systemd python3-pypureomapi nftables python3-apt'
MIRROR_PACKAGES = ('isc-dhcp-server', 'python3-systemd', 'python3-pypureomapi', 'nftables', 'libnftables1',
                   'libnftnl11', 'python3-apt', 'sudo')
SERIAL_PLAY = """
- name: Roll the role one server at a time
  hosts: dhcp_failover
  serial: 1
  gather_facts: false
  roles:
    - role: dhcp.failover.server
"""


class Lab:
    def __init__(self, image, tmp):
        self.tmp = tmp
        self.pairs = {pair: LabPair(image, network, prefix) for pair, (network, prefix) in PAIRS.items()}
        self.keys = tmp / 'keys'
        self.max_lease_time = {'opa': 7200, 'opb': 7200}
        self.inventory_path = str(tmp / 'inventory.yml')

    def host(self, name):
        """(LabPair, host in it) of an inventory name such as opa-s."""
        pair, host = name.split('-')
        return self.pairs[pair], host

    def sh(self, name, command, check=True):
        lab, host = self.host(name)
        return lab.exec(host, command, check=check)

    def write_inventory(self):
        children = {}
        for pair, lab in self.pairs.items():
            hosts = {}
            for host, role in (('p', 'primary'), ('s', 'secondary')):
                hosts['%s-%s' % (pair, host)] = dict({
                    'ansible_connection': 'community.docker.docker', 'ansible_host': lab.containers[host],
                    'ansible_user': 'ops', 'ansible_python_interpreter': '/usr/bin/python3',
                    'dhcp_failover_role': role,
                }, **({'dhcp_failover_address': lab.hosts[host], 'dhcp_failover_interfaces': ['eth0']}
                      if pair == 'opa' else {}))
            children[pair] = {'hosts': hosts, 'vars': {
                'dhcp_failover_peer_name': pair, 'dhcp_failover_mclt': MCLT, 'dhcp_failover_ping_check': False,
                'dhcp_failover_omapi_key_dir': str(self.keys),
                'dhcp_failover_max_lease_time': self.max_lease_time[pair],
                'dhcp_failover_subnets': [{
                    'network': lab.prefix + '.0/24', 'routers': [lab.prefix + '.254'],
                    'pools': [{'ranges': [{'start': lab.prefix + '.100', 'end': lab.prefix + '.150'}]}]}]}}
        inventory = {
            'dhcp_failover': {'children': children},
        }
        with open(self.inventory_path, 'w', encoding='utf-8') as handle:
            yaml.safe_dump(inventory, handle)

    def run(self, playbook, *args, timeout=900):
        result = run_playbook(playbook, self.inventory_path, '-b', *args, timeout=timeout)
        name = re.sub(r'[^\w]+', '_', ' '.join((playbook,) + args))[:80]
        (self.tmp / ('%s.log' % name)).write_text(result.stdout + result.stderr)
        return result

    # --- oracles -------------------------------------------------------------------------------

    def files(self, name):
        """Checksums of everything under /etc/dhcp, the defaults file and the package list."""
        return self.sh(name, 'find /etc/dhcp /etc/default/isc-dhcp-server /etc/systemd/system -type f '
                             '-exec sha256sum {} + 2>/dev/null | sort; '
                             "dpkg-query -W -f '${Package} ${Version} ${Status}\\n' | sha256sum", check=False).stdout

    def dhcpd(self, name):
        """(pid, start time in clock ticks) of the running dhcpd, or None."""
        out = self.sh(name, 'pid=$(pidof dhcpd) && echo $pid $(cut -d" " -f22 /proc/$pid/stat)', check=False).stdout.split()
        return (int(out[0]), int(out[1])) if len(out) == 2 else None

    def moves(self, name):
        """[(epoch, old, new)] of this server's own moves in the unit's current run (raw journal)."""
        run = self.sh(name, 'systemctl show -p InvocationID --value isc-dhcp-server', check=False).stdout.strip()
        if not run:
            return []
        text = self.sh(name, 'journalctl --no-pager -o short-unix _SYSTEMD_INVOCATION_ID=%s' % run, check=False).stdout
        return [(float(at), old, new) for at, old, new in
                re.findall(r'^(\d+\.\d+) .*failover peer \w+: I move from (\S+) to (\S+)$', text, re.MULTILINE)]

    def wait_normal(self, *names, timeout=MCLT * 3 + 60):
        deadline = time.time() + timeout
        pending = list(names)
        while pending and time.time() < deadline:
            pending = [name for name in pending
                       if not (self.dhcpd(name) and (self.moves(name) or [(0, '', '')])[-1][2] == 'normal')]
            if pending:
                time.sleep(1)
        assert not pending, 'not normal in their current dhcpd run: %s (moves %s)' % (
            pending, {name: self.moves(name) for name in pending})

    def all_hosts(self):
        return ['%s-%s' % (pair, host) for pair in PAIRS for host in ('p', 's')]


def local_mirror(folder):
    """The packages the bare servers lack, from Debian's archive with apt, indexed as a repository."""
    folder.mkdir()
    subprocess.run(['apt-get', 'download'] + list(MIRROR_PACKAGES), cwd=str(folder), check=True,
                   capture_output=True, timeout=300)
    index = subprocess.run(['dpkg-scanpackages', '-m', '.'], cwd=str(folder), check=True,
                           capture_output=True, text=True, timeout=120).stdout
    (folder / 'Packages').write_text(index)
    return folder


@pytest.fixture(scope='module')
def lab(lab_image, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('operator_paths')
    mirror = local_mirror(tmp / 'mirror')
    lab = Lab(lab_image, tmp)
    try:
        for pair in lab.pairs.values():
            pair.start()
        for name in lab.all_hosts():
            labpair, host = lab.host(name)
            docker('cp', str(mirror), '%s:/srv/mirror' % labpair.containers[host])
            lab.sh(name, ' && '.join((
                'apt-get purge -y -q %s >/dev/null' % BARE,
                'rm -rf /var/lib/apt/lists/* /etc/apt/sources.list /etc/apt/sources.list.d/*',
                'echo "deb [trusted=yes] file:/srv/mirror ./" > /etc/apt/sources.list.d/site-mirror.list',
                # the operator's account: sudo comes from the mirror, then the index is emptied again
                'apt-get update -q >/dev/null && apt-get install -y -q sudo >/dev/null',
                'rm -rf /var/lib/apt/lists/*',
                'useradd -m -s /bin/sh ops',
                'echo "ops ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/ops && chmod 0440 /etc/sudoers.d/ops',
                '! dpkg -s isc-dhcp-server >/dev/null 2>&1')))
        lab.write_inventory()
        yield lab
    finally:
        for pair in lab.pairs.values():
            pair.close()


def changed(result):
    return {host: counts.get('changed', 0) for host, counts in recap(result.stdout).items()}


def test_check_diff_on_bare_hosts_changes_nothing(lab):
    before = {name: lab.files(name) for name in lab.all_hosts()}
    result = lab.run('dhcp.failover.site', '--check', '--diff')
    assert result.returncode == 0, result.stdout[-4000:]
    assert 'Could not find the requested service' not in result.stdout
    assert {name: lab.files(name) for name in lab.all_hosts()} == before
    assert all(lab.dhcpd(name) is None for name in lab.all_hosts())
    assert not lab.keys.exists(), 'check mode wrote the OMAPI key store %s' % lab.keys
    # the wait for normal (MCLT + 120 s on a fresh pair) is not run in check mode
    wait = re.search(r'TASK \[Wait until both peers report normal\][^\n]*\n(.*?)\n\n', result.stdout, re.DOTALL)
    assert wait and set(re.findall(r'^(\w+): \[', wait.group(1), re.MULTILINE)) == {'skipping'}, wait


def test_site_installs_then_reruns_with_nothing_changed(lab):
    result = lab.run('dhcp.failover.site')
    assert result.returncode == 0, result.stdout[-4000:]
    lab.wait_normal(*lab.all_hosts())
    assert all('isc-dhcp-server' in lab.sh(name, 'dpkg-query -W isc-dhcp-server').stdout for name in lab.all_hosts())
    running = {name: lab.dhcpd(name) for name in lab.all_hosts()}
    files = {name: lab.files(name) for name in lab.all_hosts()}
    again = lab.run('dhcp.failover.site')
    assert again.returncode == 0, again.stdout[-4000:]
    assert set(changed(again).values()) == {0}, changed(again)
    assert {name: lab.dhcpd(name) for name in lab.all_hosts()} == running
    assert {name: lab.files(name) for name in lab.all_hosts()} == files


def test_limit_one_secondary_then_its_pair(lab):
    running = {name: lab.dhcpd(name) for name in lab.all_hosts()}
    files = {name: lab.files(name) for name in lab.all_hosts()}
    lab.max_lease_time['opa'] = 7300
    lab.write_inventory()
    result = lab.run('dhcp.failover.site', '--limit', 'opa-s')
    assert result.returncode == 0, result.stdout[-4000:]
    assert lab.files('opa-s') != files['opa-s']
    assert lab.dhcpd('opa-s') != running['opa-s']       # restarted with its new file
    for name in ('opa-p', 'opb-p', 'opb-s'):
        assert lab.files(name) == files[name], name
        assert lab.dhcpd(name) == running[name], name
    lab.wait_normal('opa-p', 'opa-s')
    secondary = lab.dhcpd('opa-s')
    result = lab.run('dhcp.failover.site', '--limit', 'opa')
    assert result.returncode == 0, result.stdout[-4000:]
    assert lab.files('opa-p') != files['opa-p'] and lab.dhcpd('opa-p') != running['opa-p']
    assert lab.dhcpd('opa-s') == secondary               # already up to date: not restarted again
    lab.wait_normal('opa-p', 'opa-s')


def test_limit_pair_while_a_host_of_another_pair_is_down(lab):
    files = {name: lab.files(name) for name in lab.all_hosts()}
    opa_running = {name: lab.dhcpd(name) for name in ('opa-p', 'opa-s')}
    docker('stop', lab.pairs['opb'].containers['p'])
    try:
        lab.max_lease_time['opa'] = 7400
        lab.write_inventory()
        result = lab.run('dhcp.failover.site', '--limit', 'opa')
        assert result.returncode == 0, result.stdout[-4000:]
        assert set(recap(result.stdout)) == {'opa-p', 'opa-s'}, recap(result.stdout)
        for name in ('opa-p', 'opa-s'):
            assert lab.files(name) != files[name] and lab.dhcpd(name) != opa_running[name], name
        assert lab.files('opb-s') == files['opb-s']
    finally:
        docker('start', lab.pairs['opb'].containers['p'])
        lab.pairs['opb'].wait_for_systemd('p')
    lab.wait_normal(*lab.all_hosts())


def test_serial_one_rolls_one_server_at_a_time(lab):
    (lab.tmp / 'serial.yml').write_text(SERIAL_PLAY)
    running = {name: lab.dhcpd(name) for name in lab.all_hosts()}
    lab.max_lease_time['opb'] = 7300
    lab.write_inventory()
    result = lab.run(str(lab.tmp / 'serial.yml'))
    assert result.returncode == 0, result.stdout[-4000:]
    restarted = [name for name in lab.all_hosts() if lab.dhcpd(name) != running[name]]
    assert restarted == ['opb-p', 'opb-s'], restarted
    lab.wait_normal('opb-p', 'opb-s')
    # Pair safety from the raw journal: the server restarted first was normal again before the
    # second one's dhcpd started (ticks since boot -> epoch via /proc/uptime).
    starts = {}
    for name in restarted:
        out = lab.sh(name, 'echo $(date +%s.%N) $(cut -d" " -f1 /proc/uptime) $(getconf CLK_TCK)').stdout.split()
        now, uptime, hz = float(out[0]), float(out[1]), int(out[2])
        starts[name] = now - uptime + lab.dhcpd(name)[1] / hz
    first, second = sorted(restarted, key=starts.get)
    normal_again = [at for at, _old, new in lab.moves(first) if new == 'normal']
    assert normal_again and normal_again[0] < starts[second], (first, lab.moves(first), starts)


def status_json(lab, name, *args):
    path = lab.tmp / ('%s.json' % name)
    result = lab.run('dhcp.failover.status', '-e', 'dhcp_failover_status_json=%s' % path, *args)
    report = json.loads(path.read_text()) if path.exists() else None
    return result, report


def test_status_limit_pair_reports_that_pair_only(lab):
    result, report = status_json(lab, 'status-opa', '--limit', 'opa', '-e', 'dhcp_failover_status_fail_unless_normal=true')
    assert result.returncode == 0, result.stdout[-4000:]
    assert report is not None, 'no JSON report written'
    assert sorted(row['host'] for row in report['servers']) == ['opa-p', 'opa-s']
    assert [(pair['pair'], pair['normal']) for pair in report['pairs']] == [('opa', True)]
    assert 'pair opa: normal' in result.stdout and 'opb' not in result.stdout.split('TASK [Show the failover')[-1]

    lab.sh('opa-s', 'systemctl stop isc-dhcp-server')
    try:
        result, report = status_json(lab, 'status-opa-down', '--limit', 'opa',
                                     '-e', 'dhcp_failover_status_fail_unless_normal=true')
        assert result.returncode != 0, result.stdout[-4000:]
        assert [(pair['pair'], pair['normal']) for pair in report['pairs']] == [('opa', False)]
        assert 'not normal: opa' in result.stdout
    finally:
        lab.sh('opa-s', 'systemctl restart isc-dhcp-server')
    lab.wait_normal('opa-p', 'opa-s')


def test_status_hosts_as_a_pattern(lab):
    result, report = status_json(lab, 'status-pattern', '-e', 'dhcp_failover_hosts=opa:opb')
    assert result.returncode == 0, result.stdout[-4000:]
    assert sorted(row['host'] for row in report['servers']) == sorted(lab.all_hosts())
    assert sorted((pair['pair'], pair['normal']) for pair in report['pairs']) == [('opa', True), ('opb', True)]


def test_maintenance_and_drill_limited_to_one_pair(lab):
    running = {name: lab.dhcpd(name) for name in lab.all_hosts()}
    report = lab.tmp / 'maintenance.json'
    result = lab.run('dhcp.failover.maintenance', '--limit', 'opa', '-e', 'dhcp_failover_maintenance_probe=false',
                     '-e', 'dhcp_failover_maintenance_report=%s' % report)
    assert result.returncode == 0, result.stdout[-4000:]
    assert sorted(server['host'] for server in json.loads(report.read_text())['servers']) == ['opa-p', 'opa-s']
    assert all(lab.dhcpd(name) != running[name] for name in ('opa-p', 'opa-s'))
    assert all(lab.dhcpd(name) == running[name] for name in ('opb-p', 'opb-s'))
    lab.wait_normal('opa-p', 'opa-s')

    running = {name: lab.dhcpd(name) for name in lab.all_hosts()}
    report = lab.tmp / 'drill.json'
    result = lab.run('dhcp.failover.drill', '--limit', 'opb', '-e', 'dhcp_failover_drill_accept_unproven=true',
                     '-e', 'dhcp_failover_drill_report=%s' % report)
    assert result.returncode == 0, result.stdout[-4000:]
    assert [pair['pair'] for pair in json.loads(report.read_text())['pairs']] == ['opb']
    assert lab.dhcpd('opb-p') != running['opb-p'] and lab.dhcpd('opb-s') == running['opb-s']
    assert all(lab.dhcpd(name) == running[name] for name in ('opa-p', 'opa-s'))
    lab.wait_normal(*lab.all_hosts())


def test_without_become_the_cause_is_shown(lab):
    """No no_log hides why a run without become fails (the OMAPI key file is 0640 root)."""
    result = run_playbook('dhcp.failover.site', lab.inventory_path, '--limit', 'opa')
    assert result.returncode != 0
    assert 'the output has been hidden' not in result.stdout
    assert re.search(r'not readable|[Pp]ermission denied|run with become', result.stdout), result.stdout[-3000:]


def test_a_controller_failure_under_no_log_shows_its_cause(lab):
    """The OMAPI key lookup writes the new secret on the controller under no_log: a key directory
    that cannot be made must fail with its cause, not "the output has been hidden"."""
    files = {name: lab.files(name) for name in ('opa-p', 'opa-s')}
    running = {name: lab.dhcpd(name) for name in ('opa-p', 'opa-s')}
    result = lab.run('dhcp.failover.site', '--limit', 'opa', '-e', 'dhcp_failover_omapi_rotate=true',
                     '-e', 'dhcp_failover_omapi_key_dir=/proc/no-such-dir/keys')
    assert result.returncode != 0
    assert 'the output has been hidden' not in result.stdout, result.stdout[-3000:]
    assert re.search(r'fatal: .*/proc/no-such-dir/keys', result.stdout), result.stdout[-3000:]
    assert {name: lab.files(name) for name in files} == files
    assert {name: lab.dhcpd(name) for name in running} == running
