# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab keeps its traffic on the machine (lab/lab.yml network.address_space, lab.py isolate).

Masquerading is off on every lab network, but the host still forwards a container's packets to
any other address out of its uplink, un-NATed. `make lab-image` inserts DOCKER-USER rules that
drop them. Proof by the mechanism: the packet counter of the rule of the lab's address space goes
up when a lab container pings an outside address (TEST-NET-1, 192.0.2.1). The ping is sent only
once the rule is in place (test_rules_in_place), so it never leaves the machine; without the
rules the test fails before anything is sent.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import LabPair, lab

OUTSIDE = '192.0.2.1'


def _rule_packets(space):
    out = subprocess.run(['iptables', '-L', 'DOCKER-USER', '-v', '-x', '-n'], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[2] == 'DROP' and fields[7] == space and fields[5].startswith('br-+') \
                and fields[6] == '!br-+':
            return int(fields[0])
    return None


def test_networks_outside_the_space_are_refused():
    with pytest.raises(ValueError, match=r'outside the lab address space'):
        lab.network_create_args('172.17.5.0/24')
    assert '--subnet' in lab.network_create_args('10.231.78.0/24')


def test_rules_in_place():
    missing = lab.isolate(check_only=True)
    assert missing == [], 'make lab-image sets up these DOCKER-USER rules; missing: %r' % missing


@pytest.fixture(scope='module')
def isolated_pair(lab_image):
    assert lab.isolate(check_only=True) == [], 'the forward rules are missing: no packet is sent'
    pair = LabPair(lab_image, 'dhcpf-isolate', '10.231.78', hosts=(('c', 2),))
    pair.start()
    yield pair
    pair.close()


def test_a_packet_to_outside_is_dropped_by_the_host(isolated_pair):
    before = _rule_packets('10.231.0.0/16')
    assert before is not None, 'no DROP rule for 10.231.0.0/16 in DOCKER-USER'
    route = isolated_pair.exec('c', 'ip route show default').stdout
    assert re.search(r'default via 10\.231\.78\.254', route), route
    result = isolated_pair.exec('c', 'ping -c 3 -W 1 %s' % OUTSIDE, check=False)
    assert result.returncode != 0, 'a reply came back from %s: %s' % (OUTSIDE, result.stdout)
    after = _rule_packets('10.231.0.0/16')
    assert after >= before + 3, 'the rule dropped %d of the 3 packets (before %d, after %d)' % (
        after - before, before, after)
