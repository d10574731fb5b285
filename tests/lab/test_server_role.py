# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role dhcp.failover.server against two lab containers.

- converge: both peers reach `normal`, a second run changes nothing, --check --diff shows a
  pending change without making it;
- bad inventories: the play fails with a message naming pair, host and variable, and nothing
  changed on either host (files, packages, service).
"""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from conftest import recap, run_playbook

# As dhcp.failover.site does: the pair validation first (pre_tasks), so that every refusal,
# argument-spec type errors included, reads "pair P, host H, variable V: reason".
PLAYBOOK = """
- name: Apply dhcp.failover.server
  hosts: {hosts}
  gather_facts: {gather}
  pre_tasks:
    - name: Validate every failover pair before any change
      ansible.builtin.include_role:
        name: dhcp.failover.server
        tasks_from: validate.yml
  roles:
    - role: dhcp.failover.server
"""

# Variables of other roles in the same inventory (group_vars/all of a site that also runs web
# servers): the role reads only what its argument spec declares, so none of them may matter.
FOREIGN_VARS = {
    'server_packages': ['nginx'],
    'server_name': '{{ web_domain }}',        # web_domain is defined on web hosts only
    'server_service': 'apache2',
    'server_subnets': 'not a list',
    'server_failover_role': 'both',
    'server_interfaces': ['ens99'],
    'server_pairs_group': 'webservers',
}

PAIR_VARS = {
    'dhcp_failover_peer_name': 'dhcp-failover',
    'dhcp_failover_mclt': 30,          # a first start waits up to MCLT in recover
    'dhcp_failover_subnets': [{
        'network': '10.231.22.0/24',
        'routers': ['10.231.22.254'],
        'domain_name_servers': ['10.231.22.254'],
        'domain_name': 'domini.cat',
        'pools': [{'ranges': [{'start': '10.231.22.100', 'end': '10.231.22.200'}]}],
    }],
}


class Runner:
    def __init__(self, lab, tmp):
        self.lab = lab
        self.tmp = tmp
        self.count = 0

    def run(self, pair_vars=None, host_vars=None, extra_pairs=None, hosts='dhcp_failover', args=(),
            all_vars=None, gather_facts=True):
        self.count += 1
        variables = copy.deepcopy(PAIR_VARS)
        variables['dhcp_failover_omapi_key_dir'] = str(self.tmp / 'keys')
        variables.update(pair_vars or {})
        inventory = self.lab.inventory(pair_vars=variables, host_vars=host_vars, extra_pairs=extra_pairs)
        if all_vars:
            inventory['all'] = {'vars': all_vars}
        path = self.tmp / ('inventory%d.yml' % self.count)
        path.write_text(yaml.safe_dump(inventory))
        inventory = path
        playbook = self.tmp / ('site%d.yml' % self.count)
        playbook.write_text(PLAYBOOK.format(hosts=hosts, gather=str(gather_facts).lower()))
        result = run_playbook(str(playbook), str(inventory), *args)
        return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope='module')
def converged(lab_pair, tmp_path_factory):
    runner = Runner(lab_pair, tmp_path_factory.mktemp('role'))
    first = runner.run()
    assert first[0] == 0, first[1]
    return runner, first


def test_converge_reaches_normal_on_both_peers(converged, lab_pair):
    runner, (rc, output) = converged
    assert recap(output)['p']['changed'] > 0
    for host in ('p', 's'):
        deadline_log = ''
        for _ignored in range(60):
            deadline_log = lab_pair.exec(host, 'journalctl -u isc-dhcp-server --no-pager', check=False).stdout
            if 'I move from recover-done to normal' in deadline_log or 'I move from startup to normal' in deadline_log:
                break
            lab_pair.exec(host, 'sleep 1')
        assert re.search(r'failover peer dhcp-failover: I move from \S+ to normal', deadline_log), deadline_log
        assert lab_pair.exec(host, 'systemctl is-enabled isc-dhcp-server').stdout.strip() == 'enabled'
        mode = lab_pair.exec(host, 'stat -c %a /etc/dhcp/omapi-key.conf').stdout.strip()
        assert mode == '640'


def test_second_run_changes_nothing(converged):
    runner, _ignored = converged
    rc, output = runner.run()
    assert rc == 0, output
    assert all(counts['changed'] == 0 for counts in recap(output).values()), output


def test_check_diff_shows_a_change_without_making_it(converged, lab_pair):
    runner, _ignored = converged
    before = {host: lab_pair.snapshot(host) for host in ('p', 's')}
    rc, output = runner.run(pair_vars={'dhcp_failover_mclt': 60}, args=('--check', '--diff'))
    assert rc == 0, output
    assert '-    mclt 30;' in output and '+    mclt 60;' in output, output
    # p: dhcpd.conf and the (check-mode) restart handler; s has no mclt, so no change
    assert recap(output)['p']['changed'] >= 1 and recap(output)['s']['changed'] == 0, output
    assert before == {host: lab_pair.snapshot(host) for host in ('p', 's')}


def test_secret_never_shown(converged, lab_pair):
    runner, _ignored = converged
    secret = re.search(r'secret "([^"]+)"', lab_pair.exec('p', 'cat /etc/dhcp/omapi-key.conf').stdout).group(1)
    rc, output = runner.run(args=('-vvv',))
    assert rc == 0
    assert secret not in output
    key_dir = runner.tmp / 'keys'
    assert oct(key_dir.stat().st_mode & 0o777) == '0o700'
    assert [oct(item.stat().st_mode & 0o777) for item in key_dir.iterdir()] == ['0o600']


def test_loose_controller_copy_is_made_0600_again(converged):
    """A controller copy of the secret left readable by others (0644: an older run, a user's cp) is
    rewritten 0600 with the same secret by the next run; the run after that leaves it alone.

    The rerun path looks at the copy in the controller's own process (lookup controller_stat) and
    writes only a copy that is missing or differs: a mode check lost there would keep 0644 for good.
    """
    runner, _ignored = converged
    (stored,) = list((runner.tmp / 'keys').iterdir())
    secret = stored.read_text()
    stored.chmod(0o644)
    rc, output = runner.run()
    assert rc == 0, output
    assert oct(stored.stat().st_mode & 0o777) == '0o600', output
    assert stored.read_text() == secret
    assert re.search(r"TASK \[dhcp\.failover\.server : Write the controller's copy of the secret \(0600\)\][^\n]*\n(changed|ok): ",
                     output), output
    rc, output = runner.run()
    assert rc == 0, output
    assert all(counts['changed'] == 0 for counts in recap(output).values()), output
    assert "Write the controller's copy of the secret" not in output, output


def test_other_roles_variables_change_nothing(converged, lab_pair):
    """server_* variables of other roles in group_vars/all: same result as the run without them.

    Before the interface rework the role read every server_* variable (server_packages became
    its package list; server_name's undefined web_domain failed validation).
    """
    runner, _ignored = converged
    before = {host: lab_pair.snapshot(host) for host in ('p', 's')}
    rc, output = runner.run(all_vars=FOREIGN_VARS)
    assert rc == 0, output
    assert all(counts['changed'] == 0 for counts in recap(output).values()), output
    assert before == {host: lab_pair.snapshot(host) for host in ('p', 's')}
    for host in ('p', 's'):
        packages = lab_pair.exec(host, "dpkg-query -W -f '${Package}\\n'").stdout.split()
        assert 'nginx' not in packages and 'apache2' not in packages
        assert 'INTERFACESv4="eth0"' in lab_pair.exec(host, 'cat /etc/default/isc-dhcp-server').stdout


def test_a_server_that_cannot_be_read_stops_its_partner(converged, lab_pair):
    """In a play of your own (no any_errors_fatal), a server whose read fails (here: no Python
    where its inventory says) fails alone at "Stop when this server could not be read"; its partner,
    whose pair still validates (the failed server's address and interfaces are in the inventory),
    is stopped by "Stop unless every server of the play passed validation" (run once for the
    batch), before it writes the pending change (MCLT 60 on p) or restarts.
    """
    runner, _ignored = converged
    before = {host: lab_pair.snapshot(host) for host in ('p', 's')}
    rc, output = runner.run(pair_vars={'dhcp_failover_mclt': 60}, gather_facts=False, host_vars={'s': {
        'ansible_python_interpreter': '/nonexistent/python3',
        'dhcp_failover_address': lab_pair.hosts['s'], 'dhcp_failover_interfaces': ['eth0']}})
    assert rc != 0, output
    assert re.search(r'fatal: \[s\]: FAILED! => .*host s: ', output), output
    assert 'validation failed on s; nothing was changed on any host.' in output, output
    assert recap(output)['p']['failed'] == 1, output
    assert not re.search(r'^changed: ', output, re.MULTILINE), output
    assert before == {host: lab_pair.snapshot(host) for host in ('p', 's')}


# (id, run arguments, expected text naming pair, host and variable)
BAD = [
    ('two-primaries', {'host_vars': {'p': {'dhcp_failover_role': 'primary'}, 's': {'dhcp_failover_role': 'primary'}}},
     'pair office, host s, variable dhcp_failover_role: both p and s are primary'),
    ('split-out-of-range', {'pair_vars': {'dhcp_failover_split': 300}},
     'pair office, host p, variable dhcp_failover_split: must be at most 256'),
    ('peers-disagree', {'host_vars': {'s': {'dhcp_failover_mclt': 60}}},
     'pair office, host s, variable dhcp_failover_mclt: differs between the peers'),
    ('address-not-local', {'host_vars': {'p': {'dhcp_failover_address': '10.231.22.9'}}},
     'pair office, host p, variable dhcp_failover_address: 10.231.22.9 is not an address of this host'),
    ('range-outside-subnet', {'pair_vars': {'dhcp_failover_subnets': [dict(PAIR_VARS['dhcp_failover_subnets'][0], pools=[
        {'ranges': [{'start': '10.231.22.100', 'end': '10.231.23.10'}]}])]}},
     'pair office, host p, variable dhcp_failover_subnets[0].pools[0].ranges[0]: range 10.231.22.100-10.231.23.10 is not inside'),
    ('range-holds-peer', {'pair_vars': {'dhcp_failover_subnets': [dict(PAIR_VARS['dhcp_failover_subnets'][0], pools=[
        {'ranges': [{'start': '10.231.22.3', 'end': '10.231.22.50'}]}])]}},
     'pair office, host p, variable dhcp_failover_subnets[0].pools[0].ranges[0]: '
     'range 10.231.22.3-10.231.22.50 contains the failover address 10.231.22.3 of s'),
    ('pool-not-bound', {'pair_vars': {'dhcp_failover_subnets': [dict(PAIR_VARS['dhcp_failover_subnets'][0], pools=[
        {'failover': False, 'ranges': [{'start': '10.231.22.100', 'end': '10.231.22.200'}]}])]}},
     'pair office, host p, variable dhcp_failover_subnets[0].pools[0].failover: every pool'),
    ('type-error-on-one-host', {'host_vars': {'s': {'dhcp_failover_port': 'not-a-port'}}},
     'pair office, host s, variable dhcp_failover_port: argument \'dhcp_failover_port\' is of type str and we were '
     'unable to convert to int'),
    ('other-pair-broken', {'hosts': 'office', 'extra_pairs': {'lab': {'hosts': {
        'x1': {'dhcp_failover_role': 'primary', 'dhcp_failover_address': '10.9.0.1', 'dhcp_failover_interfaces': ['eth0']},
        'x2': {'dhcp_failover_role': 'primary', 'dhcp_failover_address': '10.9.0.2', 'dhcp_failover_interfaces': ['eth0']}}}}},
     'pair lab, host x2, variable dhcp_failover_role: both x1 and x2 are primary'),
    ('peer-name-invalid', {'pair_vars': {'dhcp_failover_peer_name': 'dhcp failover'}},
     "pair office, host p, variable dhcp_failover_peer_name: 'dhcp failover' is not a valid failover peer name"),
]


@pytest.mark.parametrize('arguments, message', [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_inventory_changes_nothing(converged, lab_pair, arguments, message):
    runner, _ignored = converged
    before = {host: lab_pair.snapshot(host) for host in ('p', 's')}
    rc, output = runner.run(**arguments)
    assert rc != 0, output
    assert message in output, output
    assert not re.search(r'^changed: ', output, re.MULTILINE), output
    assert before == {host: lab_pair.snapshot(host) for host in ('p', 's')}
