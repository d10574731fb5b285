# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's nftables firewall (dhcp_failover_firewall_enabled) against lab containers.

Network dhcpf-capture-fw (10.231.28.0/24): the pair p (.2) and s (.3), a stranger x (.4) on the
same wire, a DHCP client c (.5). With the firewall on, the pair still reaches `normal` and serves
c, x's TCP to the failover and OMAPI ports is dropped while the partner and localhost get through,
other ports and other tables are untouched; the rules survive a container restart and
nftables.service restarts; turning the firewall off (with dhcp.failover.site) removes everything it
added, and only that: files of the same names elsewhere under /etc stay.
"""

from __future__ import annotations

import copy
import re
import time

import pytest
import yaml

from conftest import LabPair, docker, lab_net, recap, run_playbook

NET = lab_net('10.231.28')
P, S, X = NET + '.2', NET + '.3', NET + '.4'
OMAPI = 7911

PLAYBOOK = """
- name: Apply dhcp.failover.server
  hosts: dhcp_failover
  gather_facts: true
  roles:
    - role: dhcp.failover.server
"""

PAIR_VARS = {
    'dhcp_failover_peer_name': 'dhcp-failover',
    'dhcp_failover_mclt': 30,          # a first start waits up to MCLT in recover
    'dhcp_failover_firewall_enabled': True,
    'dhcp_failover_subnets': [{
        'network': NET + '.0/24',
        'routers': [NET + '.254'],
        'domain_name_servers': [NET + '.254'],
        'pools': [{'ranges': [{'start': NET + '.100', 'end': NET + '.200'}]}],
    }],
}


class Runner:
    def __init__(self, lab, tmp):
        self.lab = lab
        self.tmp = tmp
        self.count = 0

    def run(self, pair_vars=None, host_vars=None, args=(), playbook=PLAYBOOK):
        self.count += 1
        variables = copy.deepcopy(PAIR_VARS)
        variables['dhcp_failover_omapi_key_dir'] = str(self.tmp / 'keys')
        variables.update(pair_vars or {})
        hosts = {}
        for host in ('p', 's'):
            hosts[host] = {'ansible_connection': 'community.docker.docker',
                           'ansible_host': self.lab.containers[host],
                           'ansible_python_interpreter': '/usr/bin/python3'}
            hosts[host].update((host_vars or {}).get(host, {}))
        inventory = self.tmp / ('inventory%d.yml' % self.count)
        inventory.write_text(yaml.safe_dump(
            {'dhcp_failover': {'children': {'office': {'hosts': hosts, 'vars': variables}}}}))
        path = self.tmp / ('site%d.yml' % self.count)
        path.write_text(playbook)
        result = run_playbook(str(path), str(inventory), *args)
        return result.returncode, result.stdout + result.stderr


def connects(lab, source, address, port, wait=3):
    """(connected, seconds): a TCP connect from container ``source``; a drop takes ``wait`` s."""
    start = time.time()
    result = lab.exec(source, "timeout %d bash -c '</dev/tcp/%s/%d'" % (wait, address, port), check=False)
    return result.returncode == 0, time.time() - start


def table(lab, host):
    return lab.exec(host, 'nft list table inet dhcp_failover', check=False)


def counter(listing, match, verdict):
    """Packets counted by the rule of ``listing`` that starts with ``match`` and ends in ``verdict``."""
    match = re.search(re.escape(match) + r' counter packets (\d+) bytes \d+ ' + verdict, listing)
    assert match, listing
    return int(match.group(1))


def other_tables(lab, host):
    """Every table but ours, with its rules (counters left out: they move)."""
    listing = lab.exec(host, 'nft list ruleset 2>/dev/null').stdout
    listing = re.sub(r'counter packets \d+ bytes \d+', 'counter', listing)
    return re.sub(r'table inet dhcp_failover \{.*?\n\}\n?', '', listing, flags=re.DOTALL)


def wait_normal(lab, host, since='', timeout=90):
    """Wait until dhcpd on ``host`` logs its move to `normal` (after ``since``, journalctl time)."""
    log = ''
    deadline = time.time() + timeout
    while time.time() < deadline:
        log = lab.exec(host, 'journalctl -u isc-dhcp-server --no-pager -o cat %s' % since, check=False).stdout
        if re.search(r'failover peer dhcp-failover: I move from \S+ to normal', log):
            return log
        time.sleep(1)
    raise AssertionError('%s did not reach normal:\n%s' % (host, log))


@pytest.fixture(scope='module')
def lab(lab_image):
    pair = LabPair(lab_image, 'dhcpf-capture-fw', NET,
                   hosts=(('p', 2), ('s', 3), ('x', 4), ('c', 5))).start()
    try:
        yield pair
    finally:
        pair.close()


@pytest.fixture(scope='module')
def converged(lab, tmp_path_factory):
    before = {host: other_tables(lab, host) for host in ('p', 's')}
    runner = Runner(lab, tmp_path_factory.mktemp('firewall'))
    # --check --diff on fresh hosts: shows the rules, loads nothing (the unit does not exist yet)
    rc, output = runner.run(args=('--check', '--diff'))
    assert rc == 0, output
    assert 'tcp dport 647 ip saddr %s counter accept' % S in output, output
    for host in ('p', 's'):
        assert table(lab, host).returncode != 0
        assert other_tables(lab, host) == before[host]
    rc, output = runner.run()
    assert rc == 0, output
    return runner, output, before


def test_pair_reaches_normal_through_the_firewall(converged, lab):
    for host in ('p', 's'):
        wait_normal(lab, host)
        assert lab.exec(host, 'systemctl is-enabled dhcp-failover-firewall').stdout.strip() == 'enabled'
        assert lab.exec(host, 'systemctl is-active dhcp-failover-firewall').stdout.strip() == 'active'
    # the failover connection went through the partner's accept rule on at least one side
    accepted = [counter(table(lab, host).stdout, 'tcp dport 647 ip saddr %s' % peer, 'accept')
                for host, peer in (('p', S), ('s', P))]
    assert max(accepted) > 0, accepted


@pytest.mark.parametrize('target', [P, S])
@pytest.mark.parametrize('port', [647, OMAPI])
def test_stranger_is_dropped(converged, lab, target, port):
    host = 'p' if target == P else 's'
    drops = counter(table(lab, host).stdout, 'tcp dport %d' % port, 'drop')
    connected, seconds = connects(lab, 'x', target, port)
    assert not connected
    assert seconds >= 2.5, 'refused at once, so not dropped: %.1f s' % seconds
    assert counter(table(lab, host).stdout, 'tcp dport %d' % port, 'drop') > drops


def test_partner_and_localhost_reach_omapi(converged, lab):
    assert connects(lab, 's', P, OMAPI)[0]
    assert connects(lab, 'p', S, OMAPI)[0]
    for host, own in (('p', P), ('s', S)):
        assert connects(lab, host, '127.0.0.1', OMAPI)[0]
        assert connects(lab, host, own, OMAPI)[0]        # its own address, through lo


def test_partner_reaches_the_failover_port(converged, lab):
    connected, _ignored = connects(lab, 's', P, 647)
    assert connected
    # the pair is still (or again) in normal
    for host in ('p', 's'):
        wait_normal(lab, host)


def test_other_ports_and_tables_untouched(converged, lab):
    _ignored, _ignored, before = converged
    # a listener on another port of p is reachable from the stranger
    lab.exec('p', 'busybox nc -l -p 2222 </dev/null >/dev/null 2>&1 & sleep 0.5')
    assert connects(lab, 'x', P, 2222)[0]
    # a closed port answers at once (RST), it is not dropped
    connected, seconds = connects(lab, 'x', P, 2223)
    assert not connected and seconds < 2
    for host in ('p', 's'):
        assert other_tables(lab, host) == before[host]
        assert 'table ip nat' in before[host]          # Docker's DNS rules in the container


def test_client_gets_a_lease(converged, lab):
    result = lab.exec('c', 'ip addr flush dev eth0; timeout 60 dhclient -v -1 eth0', check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    bound = re.search(r'bound to (\S+)', output)
    assert bound, output
    assert 100 <= int(bound.group(1).split('.')[-1]) <= 200, output
    assert re.search(r'DHCPACK of \S+ from %s' % '(%s|%s)' % (re.escape(P), re.escape(S)), output), output


OMAPI_READ = """
- name: Read the failover state over OMAPI with the state module's default algorithm
  hosts: dhcp_failover
  gather_facts: false
  tasks:
    - name: Ask for shutdown in check mode (reads the state, changes nothing)
      dhcp.failover.state:
        peer: dhcp-failover
        state: shutdown
        key_name: omapi_key
        # the controller's copy the role keeps: PAIR-ID.KEYNAME (ID from the pair's hosts and addresses)
        key_secret: "{{ lookup('ansible.builtin.file', lookup('ansible.builtin.fileglob', dhcp_failover_omapi_key_dir ~ '/office-*.omapi_key')) }}"
      check_mode: true
      register: omapi
    - name: Show it
      ansible.builtin.debug:
        msg: "OMAPI before.my_state={{ omapi.before.my_state }}"
"""


def test_omapi_key_is_hmac_sha256_and_dhcpd_accepts_it(converged, lab):
    """The role's default algorithm is the state module's: no key_algorithm needed."""
    runner, _ignored, _ignored = converged
    for host in ('p', 's'):
        assert 'algorithm hmac-sha256;' in lab.exec(host, 'cat /etc/dhcp/omapi-key.conf').stdout
    rc, output = runner.run(playbook=OMAPI_READ)
    assert rc == 0, output
    assert output.count('OMAPI before.my_state=normal') == 2, output


def test_second_run_changes_nothing(converged):
    runner, _ignored, _ignored = converged
    rc, output = runner.run()
    assert rc == 0, output
    assert all(counts['changed'] == 0 for counts in recap(output).values()), output


def test_check_diff_shows_the_rules_change_without_making_it(converged, lab):
    runner, _ignored, _ignored = converged
    state = 'cat /etc/nftables.d/dhcp-failover.nft; nft -s list table inet dhcp_failover'
    before = {host: lab.exec(host, state).stdout for host in ('p', 's')}
    rc, output = runner.run(host_vars={'p': {'dhcp_failover_firewall_extra_omapi_sources': [X]}},
                            args=('--check', '--diff'))
    assert rc == 0, output
    assert '+        tcp dport %d ip saddr { %s } counter accept' % (OMAPI, X) in output, output
    assert recap(output)['p']['changed'] >= 1 and recap(output)['s']['changed'] == 0, output
    assert before == {host: lab.exec(host, state).stdout for host in ('p', 's')}


def test_extra_omapi_source_is_admitted_on_that_host_only(converged, lab):
    runner, _ignored, _ignored = converged
    rc, output = runner.run(host_vars={'p': {'dhcp_failover_firewall_extra_omapi_sources': [X]}})
    assert rc == 0, output
    assert recap(output)['p']['changed'] >= 1 and recap(output)['s']['changed'] == 0, output
    assert 'RUNNING HANDLER [dhcp.failover.server : Reload the dhcpd firewall]' in output, output
    assert connects(lab, 'x', P, OMAPI)[0]
    assert not connects(lab, 'x', P, 647)[0]
    assert not connects(lab, 'x', S, OMAPI)[0]
    rc, output = runner.run()
    assert rc == 0, output
    assert not connects(lab, 'x', P, OMAPI)[0]


def test_nftables_service_flush_does_not_open_the_ports(converged, lab):
    """Debian's nftables.service flushes the whole ruleset; ours follows its restart and reload."""
    for action in ('restart', 'reload'):
        lab.exec('p', 'systemctl %s nftables' % action)
        # /etc/nftables.conf flushed Docker's DNS rules (why the role never uses it) ...
        assert 'table ip nat' not in lab.exec('p', 'nft list tables').stdout, action
        # ... and ours was loaded again right after
        assert table(lab, 'p').returncode == 0, action
        assert not connects(lab, 'x', P, 647)[0], action
    # Stopping it flushes everything, ours included; our unit then says so (PartOf=).
    lab.exec('p', 'systemctl stop nftables')
    assert table(lab, 'p').returncode != 0
    assert lab.exec('p', 'systemctl is-active dhcp-failover-firewall', check=False).stdout.strip() == 'inactive'
    lab.exec('p', 'systemctl start dhcp-failover-firewall')
    assert table(lab, 'p').returncode == 0


def test_role_reloads_a_table_someone_deleted(converged, lab):
    runner, _ignored, _ignored = converged
    lab.exec('p', 'nft delete table inet dhcp_failover')
    rc, output = runner.run()
    assert rc == 0, output
    assert recap(output)['p']['changed'] == 1 and recap(output)['s']['changed'] == 0, output
    assert table(lab, 'p').returncode == 0
    assert not connects(lab, 'x', P, 647)[0]


def test_rules_survive_a_restart(converged, lab):
    since = lab.exec('p', 'date "+%Y-%m-%d %H:%M:%S"').stdout.strip()
    lab.exec('p', 'sleep 1')
    docker('restart', lab.containers['p'])
    lab.wait_for_systemd('p')
    assert lab.exec('p', 'systemctl is-active dhcp-failover-firewall').stdout.strip() == 'active'
    assert not connects(lab, 'x', P, 647)[0]
    assert not connects(lab, 'x', P, OMAPI)[0]
    wait_normal(lab, 'p', since='--since "%s"' % since)


SITE = """
- name: Deploy with dhcp.failover.site
  ansible.builtin.import_playbook: dhcp.failover.site
"""
UNIT = '/etc/systemd/system/dhcp-failover-firewall.service'
RULES = '/etc/nftables.d/dhcp-failover.nft'
# Files an operator may keep under /etc with the same names (the role's find looks for these names
# under /etc) or a similar one: they are not the role's, and stay.
DECOYS = ('/etc/systemd/user/dhcp-failover-firewall.service', '/etc/nftables.d.old/dhcp-failover.nft',
          '/etc/nftables.d/dhcp-failover.nft.orig')
WAIT_TASK = 'TASK [Wait until both peers report normal]'


def final_wait(output):
    """{host: ok/skipping/fatal} of dhcp.failover.site's final wait task."""
    assert WAIT_TASK in output, output
    section = output.split(WAIT_TASK, 1)[1].split('\nTASK [', 1)[0]
    found = re.findall(r'^(ok|skipping|changed|fatal): \[(\w+)\]', section, re.MULTILINE)
    return dict((host, status) for status, host in found)


def test_turning_it_off_removes_everything(converged, lab):
    runner, _ignored, _ignored = converged
    for host in ('p', 's'):
        # what an earlier run with the firewall on left, seen on the container
        assert lab.exec(host, 'ls %s %s' % (UNIT, RULES), check=False).returncode == 0, host
        assert 'table inet dhcp_failover' in lab.exec(host, 'nft list ruleset').stdout, host
        lab.exec(host, ' ; '.join('mkdir -p %s && echo decoy > %s' % (path.rsplit('/', 1)[0], path)
                                  for path in DECOYS))
    # with dhcp.failover.site: a run that changed the firewall asks the pair's state again at the end
    rc, output = runner.run(pair_vars={'dhcp_failover_firewall_enabled': False}, playbook=SITE)
    assert rc == 0, output
    for host, address in (('p', P), ('s', S)):
        assert table(lab, host).returncode != 0
        assert 'dhcp_failover' not in lab.exec(host, 'nft list ruleset').stdout, host
        listing = lab.exec(host, 'ls %s %s' % (UNIT, RULES), check=False)
        assert listing.returncode != 0 and listing.stdout == '', (host, listing.stdout)
        assert lab.exec(host, 'systemctl is-enabled dhcp-failover-firewall', check=False).stdout.strip() != 'enabled'
        assert lab.exec(host, 'cat %s' % ' '.join(DECOYS), check=False).stdout == 'decoy\n' * len(DECOYS), host
        # the stranger now connects, and dhcpd itself turns it away (why the failover part of
        # the firewall takes nothing from anyone)
        assert connects(lab, 'x', address, 647)[0]
        log = lab.exec(host, 'journalctl -u isc-dhcp-server --no-pager -o cat', check=False).stdout
        assert 'failover: listener: no matching state' in log
    assert final_wait(output) == {'p': 'ok', 's': 'ok'}, output
    # nothing left to remove (the decoys are not the role's): no change, and no second look at the state
    rc, output = runner.run(pair_vars={'dhcp_failover_firewall_enabled': False}, playbook=SITE)
    assert rc == 0, output
    assert all(counts['changed'] == 0 for counts in recap(output).values()), output
    assert final_wait(output) == {'p': 'skipping', 's': 'skipping'}, output
    for host in ('p', 's'):
        assert lab.exec(host, 'cat %s' % ' '.join(DECOYS), check=False).stdout == 'decoy\n' * len(DECOYS), host
