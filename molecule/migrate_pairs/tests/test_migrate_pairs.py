"""Issue 15: one dhcp.failover.migrate run moves two ISC pairs (load-balancing and hot standby) to Kea HA.

Oracles: the clients' own records (busybox udhcpc: address, server identifier, lease time), the
process table (pidof dhcpd / kea-dhcp4), the config files on the servers and Kea's control socket
(lease4-get-all, status-get) on every server. Tests run in file order and share RECORDED.
"""

from __future__ import annotations

import json
import re

from kea_checks import (hold_full_leases, kea_command, kea_pids, run_playbook, sh, start_load, stop_load, udhcpc_lease,
                        wait_ha)

PAIRS = {
    # pair: (primary, secondary, client, Kea's state for both peers, MAC prefix byte)
    "mpa": ("dhcpf-mp-a1", "dhcpf-mp-a2", "dhcpf-mp-ca", "load-balancing", 0xA6),
    "mpb": ("dhcpf-mp-b1", "dhcpf-mp-b2", "dhcpf-mp-cb", "hot-standby", 0xB7),
}
ADDRESS = {"dhcpf-mp-a1": "10.231.86.2", "dhcpf-mp-a2": "10.231.86.3",
           "dhcpf-mp-b1": "10.231.87.2", "dhcpf-mp-b2": "10.231.87.3"}
HOST_OF = {address: host for host, address in ADDRESS.items()}
REPORT = "/usr/local/sbin/udhcpc-report.sh"
LOAD = "/usr/local/sbin/client-load.sh"
ACCEPT = "dhcp_failover_migrate_accept_losses=true"
# {pair: {mac: address}} recorded from dhcpd by the first test.
RECORDED = {}


def macs(prefix):
    # Varied bytes, so that dhcpd's load-balancing hash sends some to each peer.
    return ["02:%02x:%02x:%02x:01:%02x" % (prefix, (n * 37) % 256, (n * 91) % 256, n) for n in range(1, 7)]


def test_clients_of_both_pairs_hold_full_leases_from_dhcpd():
    for pair, (primary, secondary, client, _state, prefix) in PAIRS.items():
        for host in (primary, secondary):
            assert sh(host, "pidof dhcpd")[0] == 0, f"expected dhcpd running on {host} (pair {pair})"
        got = hold_full_leases(client, macs(prefix), REPORT)
        held = {mac: address for mac, (address, _server, _expiry) in got.items()}
        servers = {HOST_OF.get(server, server) for _address, server, _expiry in got.values()}
        RECORDED[pair] = held
        print(f"pair {pair}: {len(held)} leases from {sorted(servers)}: {held}")


def test_one_run_migrates_both_pairs_while_a_client_of_each_asks_every_half_second():
    for _p, _s, client, _state, prefix in PAIRS.values():
        start_load(client, LOAD, "/tmp/mpload", prefix)
    try:
        output = run_playbook("migrate", ACCEPT)
    finally:
        loads = {pair: stop_load(client, "/tmp/mpload") for pair, (_p, _s, client, _state, _prefix) in PAIRS.items()}
    gaps = re.findall(r'"seconds_without_a_serving_server": "([^"]+)"', output)
    assert len(gaps) == 2, f"expected the summary of both pairs' cutovers; saw {gaps}"
    for pair, load in loads.items():
        print(f"pair {pair}: {load.summary}")
        assert load.records and not load.unanswered, (
            f"expected every request of pair {pair} answered; unanswered {load.unanswered[:5]}")
    print(f"playbook gaps: {gaps}")


def test_each_pair_is_its_own_kea_pair_with_every_lease_on_both_servers():
    for pair, (primary, secondary, _client, state, _prefix) in PAIRS.items():
        for host in (primary, secondary):
            seen = wait_ha(host, [state], timeout=60, partner_states=[state])
            assert seen["state"] == state, f"pair {pair}, {host}: {seen}"
            assert sh(host, "pidof dhcpd")[0] != 0, f"expected no dhcpd on {host}"
            assert kea_pids(host), f"expected kea-dhcp4 running on {host}"
            rc, out = sh(host, "cat /etc/kea/kea-dhcp4.conf")
            hooks = json.loads(out)["Dhcp4"]["hooks-libraries"]
            ha = [(hook.get("parameters") or {})["high-availability"][0] for hook in hooks
                  if "high-availability" in (hook.get("parameters") or {})][0]
            urls = sorted(peer["url"] for peer in ha["peers"])
            expected = sorted(f"http://{ADDRESS[h]}:" for h in (primary, secondary))
            assert [u.rsplit(":", 1)[0] + ":" for u in urls] == expected, (
                f"expected {host}'s HA peers to be the servers of pair {pair} only; saw {urls}")
            answer = kea_command(host, "lease4-get-all")
            leases = {lease["ip-address"]: lease for lease in (answer.get("arguments") or {}).get("leases", [])}
            for mac, address in RECORDED[pair].items():
                assert address in leases and leases[address]["hw-address"] == mac, (
                    f"expected {address} ({mac}) of pair {pair} in Kea on {host}; saw {leases.get(address)}")
        print(f"pair {pair}: both Kea peers {state}; {len(RECORDED[pair])} recorded leases on both")


def test_every_client_of_both_pairs_keeps_its_address():
    for pair, (primary, _secondary, client, state, _prefix) in PAIRS.items():
        kept, lost = [], []
        for mac, address in RECORDED[pair].items():
            got = udhcpc_lease(client, mac, REPORT)
            server = got and HOST_OF.get(got[1], got[1])
            good = got and got[0] == address and (state != "hot-standby" or server == primary)
            (kept if good else lost).append(f"{mac}: {address} -> {got and got[0]} from {server}")
        print(f"pair {pair}: {len(kept)} of {len(RECORDED[pair])} clients kept their address")
        assert not lost, f"expected every client of pair {pair} to keep its address; saw {lost}"
