# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `kea`: the main pair's measures converge (site_cost.py), takeover (takeover.py) and rate
(lease_rate.py) again, on the same lab (network, addresses, client, load generator) with the pair
deployed as Kea HA (load-balancing, molecule/kea_lb's timers: heartbeat 2 s, max-response-delay 6 s,
max-ack-delay 1 s, max-unacked-clients 0) and the standalone server a kea-dhcp4 without the HA hook.
The servers are bare-bookworm containers with kea-dhcp4-server and python3-systemd installed from the
lab's apt repository before the fresh converge, as the ISC pass's image holds isc-dhcp-server: both
fresh converges configure and start, neither installs. The report sets the two passes side by side."""
import os
import time

import lab  # pylint: disable=wrong-import-order
from benchlab import (ADDR, CLIENT, LAN, LOAD, NET, P, PEER, ROOT, S, SOLO, WORK, cleanup, create_network, dexec, log, reset_keys,
                      set_backend, start_containers, write_inventory)
from measures import lease_rate, site_cost, takeover

NAME = 'kea'
MAIN_PAIR = False
MEASURES = (site_cost, takeover, lease_rate)
PACKAGES = {P: 'kea-dhcp4-server python3-systemd', S: 'kea-dhcp4-server python3-systemd', SOLO: 'kea-dhcp4-server'}


def run(ctx):
    set_backend('kea')
    try:
        return bench_kea(ctx)
    finally:
        set_backend('isc_dhcpd')
        cleanup()


def bench_kea(ctx):
    cleanup()
    reset_keys()
    create_network(NET, LAN)
    repo = lab.get('apt_repository')
    mounts = ['%s:%s:ro' % (os.path.join(ROOT, repo['directory']), repo['mount'])]
    start_containers([(n, NET, ADDR[n]) for n in (P, S, SOLO)], image=lab.image('bare-bookworm'), mounts=mounts)
    start_containers([(n, NET, ADDR[n]) for n in (CLIENT, LOAD)])
    for host, packages in PACKAGES.items():
        dexec(host, 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq %s >/dev/null' % packages, timeout=600)
    inventory = write_inventory(os.path.join(WORK, 'inventory-kea.yml'), {PEER: (PEER, P, S, LAN)}, backend='kea')
    sub = ctx.__class__(ctx.args, inventory)
    out = {'backend': 'kea', 'kea_version': dexec(P, 'kea-dhcp4 -V 2>&1 | head -n 1', check=False).strip()}
    log('kea: %s, pair %s/%s' % (out['kea_version'], P, S))
    for measure in MEASURES:
        t = time.monotonic()
        out[measure.NAME] = measure.run(sub)
        out[measure.NAME]['phase_wall_s'] = round(time.monotonic() - t, 1)
    return out
