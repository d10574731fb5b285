# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Descriptions that pass `dhcpd -t` but would take the pair down are refused before any host
changes (issue 11, item 3).

One pair is deployed with dhcp.failover.site; then site runs once with each bad description. Each
run must fail with "pair P, host H, variable V: ..." and leave both hosts exactly as they were:
dhcpd.conf, /etc/default/isc-dhcp-server and the OMAPI key file (sha256), dhcpd's pid
(`pidof dhcpd`), the unit's NRestarts and ExecMainStartTimestamp, and every file under /etc/dhcp.

Network dhcpf-refuse (10.231.41.0/24), containers dhcpf-refuse-p and dhcpf-refuse-s.
"""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from conftest import LabPair, lab_net, recap, run_playbook

NET = lab_net('10.231.41')

PAIR = 'refuse'
OWN_SUBNET = {
    'network': NET + '.0/24',
    'routers': [NET + '.254'],
    'pools': [{'ranges': [{'start': NET + '.100', 'end': NET + '.200'}]}],
}
PAIR_VARS = {
    'dhcp_failover_peer_name': 'dhcpf-refuse',
    'dhcp_failover_mclt': 30,          # a first start waits up to MCLT in recover
    'dhcp_failover_subnets': [OWN_SUBNET],
}
HBA = ':'.join(['ff'] * 16 + ['00'] * 16)
STATE = ' ; '.join((
    'sha256sum /etc/dhcp/dhcpd.conf /etc/default/isc-dhcp-server /etc/dhcp/omapi-key.conf',
    'echo "pid $(pidof dhcpd)"',
    'systemctl show -p NRestarts -p ExecMainStartTimestamp isc-dhcp-server',
    'find /etc/dhcp -type f -exec sha256sum {} + | sort',
))


def relayed(network):
    prefix = network.rsplit('.', 1)[0]
    return {'network': network + '/24', 'relay': True,
            'pools': [{'ranges': [{'start': prefix + '.100', 'end': prefix + '.200'}]}]}


def reservation(name, mac, address):
    return {'name': name, 'mac': mac, 'address': address}


@pytest.fixture(scope='module')
def lab(lab_image, tmp_path_factory):
    pair = LabPair(lab_image, 'dhcpf-refuse', NET).start()
    pair.tmp = tmp_path_factory.mktemp('refused')
    pair.runs = 0
    try:
        rc, output = site(pair)
        assert rc == 0, output
        yield pair
    finally:
        pair.close()


def site(lab, pair_vars=None, host_vars=None, args=()):
    lab.runs += 1
    variables = copy.deepcopy(PAIR_VARS)
    variables['dhcp_failover_omapi_key_dir'] = str(lab.tmp / 'keys')
    variables.update(copy.deepcopy(pair_vars or {}))
    path = lab.tmp / ('inventory%d.yml' % lab.runs)
    path.write_text(yaml.safe_dump(lab.inventory(pair=PAIR, pair_vars=variables, host_vars=host_vars)))
    result = run_playbook('dhcp.failover.site', str(path), *args)
    return result.returncode, result.stdout + result.stderr


def state(lab):
    return {host: lab.exec(host, STATE, check=False).stdout for host in ('p', 's')}


def test_the_deployed_pair_runs(lab):
    for host, text in state(lab).items():
        assert re.search(r'^pid \d+$', text, re.MULTILINE), (host, text)
        assert 'ExecMainStartTimestamp=' in text and 'NRestarts=0' in text, (host, text)


# (id, site arguments, the refusal: pair, host, variable and the start of the reason)
BAD = [
    ('wrong-interface-name', {'host_vars': {'s': {'dhcp_failover_interfaces': ['ens18']}}},
     'pair refuse, host s, variable dhcp_failover_interfaces[0]: interface ens18 does not exist on this host'),
    ('relay-only-pair', {'pair_vars': {'dhcp_failover_subnets': [relayed('10.231.99.0')]}},
     'pair refuse, host p, variable dhcp_failover_subnets: no subnet of the pair is directly attached to this host'),
    ('non-relay-subnet-no-interface-is-on', {'pair_vars': {'dhcp_failover_subnets': [
        OWN_SUBNET, dict(relayed('10.231.50.0'), relay=False)]}},
     'pair refuse, host p, variable dhcp_failover_subnets[1]: no interface dhcpd listens on is on 10.231.50.0/24'),
    ('split-and-hba', {'pair_vars': {'dhcp_failover_split': 128, 'dhcp_failover_hba': HBA}},
     'pair refuse, host p, variable dhcp_failover_split: split 128 is set together with dhcp_failover_hba'),
    ('split-with-hot-standby', {'pair_vars': {'dhcp_failover_split': 128, 'dhcp_failover_mode': 'hot_standby'}},
     'pair refuse, host p, variable dhcp_failover_split: split 128 is a load_balance setting'),
    ('reservation-outside-subnets', {'pair_vars': {'dhcp_failover_reservations': [
        reservation('printer', '52:54:00:12:34:56', '10.231.44.20')]}},
     'pair refuse, host p, variable dhcp_failover_reservations[0].address: reserved address 10.231.44.20 is in no '
     'declared subnet'),
    ('duplicate-mac', {'pair_vars': {'dhcp_failover_reservations': [
        reservation('printer', '52:54:00:12:34:56', NET + '.20'),
        reservation('scanner', '52:54:00:12:34:56', NET + '.21')]}},
     'pair refuse, host p, variable dhcp_failover_reservations[1].mac: MAC 52:54:00:12:34:56 is reserved twice'),
    ('duplicate-address', {'pair_vars': {'dhcp_failover_reservations': [
        reservation('printer', '52:54:00:12:34:56', NET + '.20'),
        reservation('scanner', '52:54:00:12:34:57', NET + '.20')]}},
     'pair refuse, host p, variable dhcp_failover_reservations[1].address: address %s.20 is reserved twice' % NET),
    ('config-file-outside-etc-dhcp', {'host_vars': {'s': {'dhcp_failover_config_file': '/srv/dhcp/dhcpd.conf'}}},
     'pair refuse, host s, variable dhcp_failover_config_file: /srv/dhcp/dhcpd.conf is not a file dhcpd may read'),
    ('omapi-key-file-outside-etc-dhcp', {'pair_vars': {'dhcp_failover_omapi_key_file': '/root/omapi-key.conf'}},
     'pair refuse, host p, variable dhcp_failover_omapi_key_file: /root/omapi-key.conf is not a file dhcpd may read'),
    # --limit p: s is outside the play, but its facts are gathered (its address comes from them),
    # so its interfaces are checked too.
    ('limit-partner-wrong-interface', {'host_vars': {'s': {'dhcp_failover_interfaces': ['ens18']}},
                                       'args': ('--limit', 'p')},
     'pair refuse, host s, variable dhcp_failover_interfaces[0]: interface ens18 does not exist on this host'),
]


@pytest.mark.parametrize('arguments, message', [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_refused_before_any_host_changes(lab, arguments, message):
    before = state(lab)
    snapshot = {host: lab.snapshot(host) for host in ('p', 's')}
    rc, output = site(lab, **arguments)
    assert rc != 0, output
    assert message in output, output
    assert not re.search(r'^changed: ', output, re.MULTILINE), output
    assert state(lab) == before
    assert {host: lab.snapshot(host) for host in ('p', 's')} == snapshot


def dhcpd_pid(lab, host):
    return lab.exec(host, 'pidof dhcpd', check=False).stdout.strip()


def test_a_disabled_unit_is_enabled_again_without_a_restart(lab):
    # The role asks systemd whether isc-dhcp-server starts at boot in its state read, and enables
    # it only when it does not (issue 17: no separate call on a rerun with nothing to change).
    lab.exec('p', 'systemctl disable isc-dhcp-server')
    assert lab.exec('p', 'systemctl is-enabled isc-dhcp-server', check=False).stdout.strip() == 'disabled'
    before = {host: dhcpd_pid(lab, host) for host in ('p', 's')}
    rc, output = site(lab)
    assert rc == 0, output
    for host in ('p', 's'):
        assert lab.exec(host, 'systemctl is-enabled isc-dhcp-server', check=False).stdout.strip() == 'enabled', host
        assert dhcpd_pid(lab, host) == before[host], host                    # no restart for it
    assert (recap(output)['p']['changed'], recap(output)['s']['changed']) == (1, 0), output


# dhcp.failover.site's final wait for `normal` is skipped on an ISC server that did not restart
# (issue 17): never after a restart. Judged from the containers: dhcpd's pid and the raw journal
# lines of that process (its last "I move from ... to normal").
WAIT_TASK = 'TASK [Wait until both peers report normal]'
JOURNAL = ('pid=$(pidof dhcpd); echo "pid $pid"; '
           'TZ=UTC journalctl -u isc-dhcp-server --no-pager -o short-iso | grep -F "dhcpd[$pid]:"')


def final_wait(output):
    """{host: ok/skipping/fatal} of site's final wait task."""
    assert WAIT_TASK in output, output
    section = output.split(WAIT_TASK, 1)[1].split('\nTASK [', 1)[0]
    found = re.findall(r'^(ok|skipping|changed|fatal): \[(\w+)\]', section, re.MULTILINE)
    return dict((host, status) for status, host in found)


def shown(output):
    """{host: (state, since)} from site's summary line of the pair."""
    return dict((host, (st, since)) for host, st, since in
                re.findall(r'\b(p|s) \((?:primary|secondary)\) (\S+) since (\S+?)[,"\]]', output))


def on_host(lab, host):
    """(dhcpd's pid, the time its journal says this process last moved to normal, ISO UTC)."""
    text = lab.exec(host, JOURNAL, check=False).stdout
    pid = re.search(r'^pid (\d+)$', text, re.MULTILINE)
    assert pid, (host, text)
    moves = re.findall(r'^(\S{19})\S* \S+ dhcpd\[\d+\]: failover peer dhcpf-refuse: I move from \S+ to normal$',
                       text, re.MULTILINE)
    return pid.group(1), (moves[-1] + 'Z' if moves else None)


def test_final_wait_is_skipped_only_without_a_restart(lab):
    # No change: neither server restarts, and neither is asked again at the end; the summary shows
    # the move to normal of the running dhcpd, as its journal has it.
    before = {host: on_host(lab, host) for host in ('p', 's')}
    rc, output = site(lab)
    assert rc == 0, output
    assert final_wait(output) == {'p': 'skipping', 's': 'skipping'}, output
    for host in ('p', 's'):
        assert on_host(lab, host) == before[host], host                      # same dhcpd, no new move
        assert before[host][1] is not None, (host, before)
        assert shown(output)[host] == ('normal', before[host][1]), (host, before, output)

    # A config change of the pair (one more option): both restart, one at a time, and both are
    # asked again at the end; the summary shows the new dhcpd's move to normal, not the old one's.
    changed = dict(OWN_SUBNET, domain_name_servers=[NET + '.254'])
    rc, output = site(lab, pair_vars={'dhcp_failover_subnets': [changed]})
    assert rc == 0, output
    assert final_wait(output) == {'p': 'ok', 's': 'ok'}, output
    for host in ('p', 's'):
        pid, normal_since = on_host(lab, host)
        assert pid != before[host][0], (host, before)                          # dhcpd restarted
        assert normal_since is not None, host                                  # the new one moved to normal
        assert shown(output)[host] == ('normal', normal_since), (host, normal_since, output)

    # Only s changes (someone edited its dhcpd.conf: the role writes it back): s restarts, p does
    # not, and p is asked again at the end too, since its partner restarted.
    lab.exec('s', 'echo "# edited by hand" >> /etc/dhcp/dhcpd.conf')
    before = {host: on_host(lab, host) for host in ('p', 's')}
    rc, output = site(lab, pair_vars={'dhcp_failover_subnets': [changed]})
    assert rc == 0, output
    after = {host: on_host(lab, host) for host in ('p', 's')}
    assert after['p'][0] == before['p'][0] and after['s'][0] != before['s'][0], (before, after)
    assert final_wait(output) == {'p': 'ok', 's': 'ok'}, output
    for host in ('p', 's'):
        # p moved back to normal once s was back: the summary shows that move, not the earlier one
        assert shown(output)[host] == ('normal', after[host][1]), (host, before, after, output)
