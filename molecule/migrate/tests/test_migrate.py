"""Issue 15 items 1, 2, 4, 5: dhcp.failover.migrate on a live ISC pair, judged from outside.

Oracles: the client's own record (busybox udhcpc: address, server identifier, lease time), the
process table (pidof dhcpd / kea-dhcp4), the files on the servers, and Kea's control socket
(lease4-get-all, status-get) on BOTH servers. Tests run in file order and share RECORDED.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import time

import yaml
from kea_checks import (EPHEMERAL, INVENTORY, held_by, hold_full_leases, kea_command, kea_pids, plain, run_playbook, sh,
                        start_load, stop_load, udhcpc_lease, wait_ha, wait_until)

PRIMARY, SECONDARY, CLIENT = "dhcpf-mc-p", "dhcpf-mc-s", "dhcpf-mc-c"
SERVERS = (PRIMARY, SECONDARY)
SERVER_ID = {"10.231.90.2": PRIMARY, "10.231.90.3": SECONDARY}
RESERVED_MAC, RESERVED_IP = "02:90:00:00:00:99", "10.231.90.20"
# Varied bytes, so that dhcpd's load-balancing hash sends some to each peer.
MACS = ["02:90:%02x:%02x:01:%02x" % ((n * 37) % 256, (n * 91) % 256, n) for n in range(1, 13)]
ISC_FILES = ("/etc/dhcp/dhcpd.conf", "/var/lib/dhcp/dhcpd.leases")
REPORT = "/usr/local/sbin/udhcpc-report.sh"
LOAD = "/usr/local/sbin/client-load.sh"
ACCEPT = "dhcp_failover_migrate_accept_losses=true"
DROPIN = "/etc/systemd/system/kea-dhcp4-server.service.d/zz-test-fail.conf"
# The leases recorded by test 1, kept in the scenario's ephemeral directory so that a later test
# can be run again on its own (pytest -k) against the same lab.
RECORDED_FILE = EPHEMERAL / "migrate-recorded.json"
RECORDED = json.loads(RECORDED_FILE.read_text()) if RECORDED_FILE.exists() else {}
# {mac: address} each recorded client holds from Kea after its renewal (written by the renewal test).
KEA_ADDRESSES_FILE = EPHEMERAL / "migrate-kea-addresses.json"
# The output of the successful migration (its summary tells the user how to describe the pair from now on).
MIGRATION_OUTPUT_FILE = EPHEMERAL / "migrate-output.log"
DHCPD_UNIT = "isc-dhcp-server"


def ask(mac, tries=4):
    """MAC asks for a lease (udhcpc on a macvlan, keeps nothing, no release): (address, server, expiry) or None."""
    got = udhcpc_lease(CLIENT, mac, REPORT, tries)
    return got and (got[0], SERVER_ID.get(got[1], got[1]), got[2])


def kea_leases(host):
    answer = kea_command(host, "lease4-get-all")
    assert answer is not None and answer.get("result") in (0, 3), f"expected lease4-get-all to answer on {host}; saw {answer}"
    return {lease["ip-address"]: lease for lease in (answer.get("arguments") or {}).get("leases", [])}


def dhcpd_running(host):
    return sh(host, "pidof dhcpd")[0] == 0


def test_the_dhcpd_pair_serves_clients_from_both_halves_and_a_reservation():
    for path in (REPORT, LOAD):
        rc, out = sh(CLIENT, f"test -x {path}")
        assert rc == 0, f"expected {path} on the client (prepared by the test); saw {out}"
    held = hold_full_leases(CLIENT, MACS + [RESERVED_MAC], REPORT)
    RECORDED.update((mac, (address, SERVER_ID.get(server, server), expiry)) for mac, (address, server, expiry) in held.items())
    RECORDED_FILE.write_text(json.dumps(RECORDED))
    print("recorded: " + ", ".join(f"{mac} {a} from {s}" for mac, (a, s, _e) in RECORDED.items()))
    assert RECORDED[RESERVED_MAC][0] == RESERVED_IP, f"expected the reservation {RESERVED_IP}; saw {RECORDED[RESERVED_MAC]}"
    servers = {server for _a, server, _e in RECORDED.values()}
    # Seen once in CI (2026-12-04, not reproduced in the four runs since): every answer from the
    # secondary. The servers' own account goes with the failure, so that the next one can be read.
    assert servers == set(SERVERS), (f"expected answers from both dhcpd peers (both halves); saw {servers}; "
                                     + "; ".join(f"{host}: pidof dhcpd {sh(host, 'pidof dhcpd')[1].strip() or 'none'}, journal: "
                                                 + sh(host, f"journalctl -u {DHCPD_UNIT} --no-pager -n 40 -o short-precise")[1]
                                                 for host in SERVERS))


def test_a_run_on_one_server_of_the_pair_is_refused_before_any_change():
    pids = {host: sh(host, "pidof dhcpd")[1].split() for host in SERVERS}
    output = run_playbook("migrate", ACCEPT, f"dhcp_failover_hosts={PRIMARY}", expect_rc=2)
    assert f"pair mig, host {PRIMARY}: its partner {SECONDARY} is not in this run" in output, output[-3000:]
    for host in SERVERS:
        assert sh(host, "pidof dhcpd")[1].split() == pids[host], f"expected dhcpd untouched on {host} (same pid)"
        assert sh(host, "dpkg-query -W kea-dhcp4-server")[0] != 0, f"expected Kea not installed on {host} yet"


def test_kea_that_does_not_start_on_the_first_kea_host_is_rolled_back_to_the_dhcpd_pair():
    # Injected from outside the collection: kea-dhcp4 cannot start on the secondary (the first Kea host).
    rc, out = sh(SECONDARY, f"mkdir -p {DROPIN.rsplit('/', 1)[0]} && printf '[Service]\\nExecStartPre=/bin/false\\n' > {DROPIN} "
                            "&& systemctl daemon-reload")
    assert rc == 0, out
    try:
        output = run_playbook("migrate", ACCEPT, expect_rc=2)
    finally:
        sh(SECONDARY, f"rm -f {DROPIN} && systemctl daemon-reload")
    assert "the cutover to Kea stopped at" in output and "Restored:" in output, output[-3000:]
    for host in SERVERS:
        assert dhcpd_running(host), f"expected dhcpd running again on {host} (pidof dhcpd)"
        assert not kea_pids(host), f"expected no kea-dhcp4 on {host}; saw pids {kea_pids(host)}"
        for path in ISC_FILES:
            assert sh(host, f"test -s {path}")[0] == 0, f"expected {path} kept on {host}"
    for mac, (address, _server, _expiry) in RECORDED.items():
        again = ask(mac)
        assert again and again[0] == address, f"expected {mac} to keep {address} from the dhcpd pair; saw {again}"


def test_migration_while_a_client_asks_every_half_second():
    started = time.time()
    output, load = load_run(0x90, ACCEPT)
    MIGRATION_OUTPUT_FILE.write_text(output)
    wall = time.time() - started
    shown = re.search(r'"seconds_without_a_serving_server": "([^"]+)"', output)
    print(f"migration: {wall:.1f} s wall; {load.summary}; started over after an unanswered REQUEST (as dhclient does): "
          f"{len(load.restarted)} {load.restarted[:3]}; playbook: {shown.group(1) if shown else '?'}")
    assert load.records and not load.unanswered, f"expected every request answered; unanswered: {load.unanswered[:5]}"


def test_every_recorded_lease_is_in_both_kea_servers():
    for host in SERVERS:
        leases = kea_leases(host)
        for mac, (address, _server, expiry) in RECORDED.items():
            if mac == RESERVED_MAC:
                continue  # dhcpd keeps no lease for a host reservation; renewed below
            lease = leases.get(address)
            assert lease, f"expected {address} ({mac}) in Kea's lease database on {host}; Kea holds {sorted(leases)}"
            assert lease["hw-address"] == mac, f"expected {address} with {mac} on {host}; saw {lease}"
            kea_expiry = lease["cltt"] + lease["valid-lft"]
            assert kea_expiry >= int(expiry) - 1, (
                f"expected {address} on {host} to expire no earlier than the client saw ({int(expiry)}); Kea: {kea_expiry}")
    print(f"leases: {len(RECORDED) - 1} recorded leases found on both Kea servers")


def test_both_kea_peers_are_load_balancing_and_dhcpd_is_gone():
    for host in SERVERS:
        seen = wait_ha(host, ["load-balancing"], timeout=60, partner_states=["load-balancing"])
        assert seen["state"] == "load-balancing", seen
        assert not dhcpd_running(host), f"expected no dhcpd on {host}"
        for path in ISC_FILES:
            assert sh(host, f"test ! -e {path} && test -s {path}.migrated-to-kea")[0] == 0, (
                f"expected {path} renamed to {path}.migrated-to-kea on {host}")


def test_a_new_client_is_served_by_kea():
    new = ask("02:90:00:00:02:01")
    assert new and new[1] in SERVERS, f"expected a new client served by a Kea server; saw {new}"
    assert new[0] not in [a for a, _s, _e in RECORDED.values()], f"expected a new address for a new client; saw {new}"


def kea_pool_classes(host):
    """[(first, last, client class)] of the pools in the Kea config on ``host`` (read from the file there)."""
    rc, out = sh(host, "cat /etc/kea/kea-dhcp4.conf")
    assert rc == 0, f"expected the Kea config on {host}; saw {out}"
    pools = []
    for subnet in json.loads(out)["Dhcp4"]["subnet4"]:
        for pool in subnet.get("pools", []):
            first, last = (part.strip() for part in pool["pool"].split("-"))
            pools.append((ipaddress.IPv4Address(first), ipaddress.IPv4Address(last), pool.get("client-class")))
    return pools


def pool_class(pools, address):
    found = [cls for first, last, cls in pools if first <= ipaddress.IPv4Address(address) <= last]
    return found[0] if found else None


# Kea load-balancing splits every pool in two halves by address and lets a client use only its own
# server's half (client classes HA_<server>), picking the server by a hash of the client, while dhcpd
# handed out free and backup addresses from the whole range. The cutover gives each carried address
# whose client the other server serves a one-address pool of that server (marked in its
# user-context). Oracles: the client's own answer (address and server identifier), and the config
# files on the servers. Every client, the reservation included, must keep its address, answered by
# the server whose class the pool of its address has; both servers hold the same pools; the
# marked pools exist (the recorded clients come from both dhcpd halves, so some lie in the other
# Kea half: the test fails if none is marked, as it would with the old cutover).
def test_every_client_keeps_its_address_on_renewal():
    pools = kea_pool_classes(PRIMARY)
    assert len({cls for _first, _last, cls in pools}) == 2, f"expected pools of the two servers' classes; saw {pools}"
    assert kea_pool_classes(SECONDARY) == pools, "expected the same pools on both Kea servers"
    rc, out = sh(PRIMARY, "cat /etc/kea/kea-dhcp4.conf")
    marked = [pool["pool"] for subnet in json.loads(out)["Dhcp4"]["subnet4"] for pool in subnet.get("pools", [])
              if "dhcp-failover" in (pool.get("user-context") or {})]
    server_class = {}
    for host in SERVERS:
        rc, out = sh(host, "cat /etc/kea/kea-dhcp4.conf")
        hooks = json.loads(out)["Dhcp4"]["hooks-libraries"]
        name = [(hook.get("parameters") or {})["high-availability"][0]["this-server-name"]
                for hook in hooks if "high-availability" in (hook.get("parameters") or {})][0]
        server_class[host] = "HA_" + name
    kept, wrong, in_other_half = [], [], 0
    kea_addresses = {}
    for mac, (address, _server, _expiry) in RECORDED.items():
        again = ask(mac)
        assert again, f"expected {mac} to get an answer from Kea"
        new_address, server = again[0], again[1]
        kea_addresses[mac] = new_address
        if new_address == address and pool_class(pools, address) in (server_class.get(server), None):
            kept.append(mac)
            in_other_half += any(pool.startswith(address + " ") for pool in marked)
        else:
            wrong.append(f"{mac}: {address} -> {new_address} ({pool_class(pools, new_address)}) from {server}")
    KEA_ADDRESSES_FILE.write_text(json.dumps(kea_addresses))
    print(f"renewals: {len(kept)} of {len(RECORDED)} kept their address, {in_other_half} of them in a one-address "
          f"pool of their Kea server (of {len(marked)} such pools)")
    assert not wrong, f"expected every client to keep its address; saw {wrong}"
    assert in_other_half > 0, f"expected some recorded clients in the other Kea half (marked pools {marked})"


# -- The way back (dhcp_failover_migrate_revert) and a second-host failure of a new migration --------
# Oracles: the client's own record, the process table, the files on the servers, and dhcpd's own
# journal of the current run ("failover peer mig: I move from X to Y"), never the collection's reading.


def journal_moves(host, since):
    """dhcpd's state moves ("I move from X to Y") for peer mig logged on HOST since epoch SINCE."""
    rc, out = sh(host, f"journalctl -u {DHCPD_UNIT} -o cat --no-pager --since @{int(since)}")
    return re.findall(r"failover peer mig: I move from (\S+) to (\S+)", out)


def wait_dhcpd_normal(since, timeout=120):
    def both_normal():
        moves = {host: journal_moves(host, since) for host in SERVERS}
        return moves if all(m and m[-1][1] == "normal" for m in moves.values()) else None
    return wait_until("both dhcpd peers to log their move to normal", both_normal, timeout=timeout)


def load_run(tag, *extra, expect_rc=0):
    """Run dhcp.failover.migrate with EXTRA while a client asks every 0.5 s: (output, LoadRecords)."""
    directory = f"/tmp/mload{tag:x}"
    start_load(CLIENT, LOAD, directory, tag)
    try:
        output = run_playbook("migrate", *extra, expect_rc=expect_rc)
    finally:
        load = stop_load(CLIENT, directory)
    # The load must not drain the pool (150 addresses; a run asks 50-130 times): each client's lease is
    # released as it ends; read here from the servers that run now. Before dhcp-release.py none was
    # (busybox udhcpc -q sends no release): runs left 11 and 31 leases held for 600 s, and in a later
    # run the primary's dhcpd, partner-down after a revert, logged "peer holds all free leases" to new
    # clients until MCLT had passed. A release that reaches a server in the moment it stops is lost
    # while its lease is carried: at most one per server stop, 4 in a run.
    prefix = "02:44:%02x:" % tag
    held = {}
    for host in SERVERS:
        held.update(held_by(host, prefix))
    print(f"leases the load's clients still hold after the run: {len(held)} of {len(load.bound)} answered")
    assert len(held) <= 4, f"expected the load's leases released; {len(held)} held by the servers: {sorted(held.items())[:10]}"
    return output, load


def assert_back_on_dhcpd(since, addresses):
    for host in SERVERS:
        assert dhcpd_running(host), f"expected dhcpd running on {host} (pidof dhcpd)"
        assert not kea_pids(host), f"expected no kea-dhcp4 on {host}; saw pids {kea_pids(host)}"
        rc, out = sh(host, "ls /var/lib/kea/")
        assert "kea-leases4.csv.reverted-to-dhcpd-" in out, f"expected Kea's lease file renamed (kept) on {host}; saw {out}"
    moves = wait_dhcpd_normal(since)
    rc, leases = sh(PRIMARY, "cat /var/lib/dhcp/dhcpd.leases")
    kept, lost = [], []
    for mac, address in addresses.items():
        if mac != RESERVED_MAC and f"lease {address} {{" not in leases:
            lost.append(f"{mac} {address} not in the primary's dhcpd.leases")
            continue
        again = ask(mac)
        (kept if again and again[0] == address else lost).append(f"{mac}: {address} -> {again}")
    return moves, kept, lost


# After the migration the user describes the pair as a Kea pair (docs/migration.md, "After the
# migration"): dhcp_failover_backend: kea, the migration's Kea settings as the pair's own variables,
# the dhcpd-only ones removed, as the migration's summary lists them. dhcp.failover.site on that
# inventory must find the pair as the migration left it: the same kea-dhcp4.conf on both servers
# (the one-address pools of the renewal test kept), the same kea-dhcp4 processes (no restart),
# nothing changed in the recap.
def test_site_with_the_kea_backend_finds_the_migrated_pair_as_it_is():
    summary = plain(MIGRATION_OUTPUT_FILE.read_text())
    to_set = json.loads(re.search(r'"set_for_the_pair": (\{[^}]*\})', summary).group(1))
    to_remove = re.findall(r'"(dhcp_failover_\w+)"', re.search(r'"remove_from_the_pair": \[([^]]*)\]', summary).group(1))
    print(f"the migration's summary: set {to_set}, remove {to_remove}")
    assert to_set.get("dhcp_failover_backend") == "kea" and "dhcp_failover_peer_name" in to_remove, summary[-3000:]
    kea_inventory = EPHEMERAL / "inventory-kea"
    shutil.rmtree(kea_inventory, ignore_errors=True)
    shutil.copytree(INVENTORY, kea_inventory, symlinks=True)
    pair_file = kea_inventory / "group_vars" / "mig"
    pair = yaml.safe_load(pair_file.read_text())
    for name in to_remove:
        pair.pop(name, None)
    pair.update(to_set)
    pair_file.write_text(yaml.safe_dump(pair))

    def seen():
        return {host: (sh(host, "sha256sum /etc/kea/kea-dhcp4.conf")[1].split()[0], kea_pids(host)) for host in SERVERS}

    before = seen()
    marked = sh(PRIMARY, "grep -c '\"dhcp-failover\"' /etc/kea/kea-dhcp4.conf")[1].strip()
    output = run_playbook("site", inventory=kea_inventory)
    recap = dict(re.findall(r"^(dhcpf-mc-[ps])\s+: .*?changed=(\d+)", plain(output), re.M))
    after = seen()
    print(f"site (backend kea) after the migration: changed {recap}; marked pools {marked}; {after}")
    assert after == before, f"expected the same Kea config and processes on both servers; before {before}, after {after}"
    assert recap == {PRIMARY: "0", SECONDARY: "0"}, f"expected nothing changed on the migrated pair; saw {recap}"


def test_revert_to_dhcpd_while_a_client_asks_every_half_second():
    addresses = json.loads(KEA_ADDRESSES_FILE.read_text())
    since = time.time() - 1
    output, load = load_run(0x91, "dhcp_failover_migrate_revert=true")
    shown = re.search(r'"seconds_without_a_serving_server": "([^"]+)"', output)
    counts = re.search(r'"lease_counts": (\{[^}]*\})', output)
    print(f"revert: {load.summary}; playbook: {shown.group(1) if shown else '?'}; lease counts {counts.group(1) if counts else '?'}")
    assert load.records and not load.unanswered, (
        f"expected every request answered during the revert; unanswered: {load.unanswered[:5]}")
    moves, kept, lost = assert_back_on_dhcpd(since, addresses)
    print(f"revert: dhcpd moves {moves}; {len(kept)} of {len(addresses)} clients kept their Kea address under dhcpd")
    assert not lost, f"expected every client to keep the address Kea gave it; saw {lost}"
    for host in SERVERS:
        assert sh(host, "test -s /etc/dhcp/dhcpd.conf && test ! -e /etc/dhcp/dhcpd.conf.migrated-to-kea")[0] == 0, (
            f"expected dhcpd.conf back in place on {host}")


def test_a_second_kea_host_that_does_not_start_is_rolled_back_to_dhcpd():
    addresses = json.loads(KEA_ADDRESSES_FILE.read_text())
    # Injected from outside the collection: kea-dhcp4 cannot start on the primary (the second Kea host).
    rc, out = sh(PRIMARY, f"mkdir -p {DROPIN.rsplit('/', 1)[0]} && printf '[Service]\\nExecStartPre=/bin/false\\n' > {DROPIN} "
                          "&& systemctl daemon-reload")
    assert rc == 0, out
    since = time.time() - 1
    try:
        output, load = load_run(0x92, ACCEPT, expect_rc=2)
    finally:
        sh(PRIMARY, f"rm -f {DROPIN} && systemctl daemon-reload")
    shown = re.search(r'"seconds_without_a_serving_server": "([^"]+)"', output)
    print(f"second-host failure: {load.summary}; playbook: {shown.group(1) if shown else '?'}")
    assert "the cutover to Kea stopped at the second Kea host" in output and "Restored: the dhcpd pair" in output, output[-3000:]
    assert load.records and not load.unanswered, f"expected every request answered; unanswered: {load.unanswered[:5]}"
    moves, kept, lost = assert_back_on_dhcpd(since, addresses)
    print(f"second-host failure: dhcpd moves {moves}; {len(kept)} of {len(addresses)} clients kept their address")
    assert not lost, f"expected every client to keep its address; saw {lost}"


def test_a_revert_of_a_pair_on_dhcpd_is_refused_before_any_change():
    pids = {host: sh(host, "pidof dhcpd")[1].split() for host in SERVERS}
    output = run_playbook("migrate", "dhcp_failover_migrate_revert=true", expect_rc=2)
    for host in SERVERS:
        assert f"pair mig, host {host}, variable dhcp_failover_migrate_revert: nothing to revert here" in output, output[-3000:]
        assert sh(host, "pidof dhcpd")[1].split() == pids[host], f"expected dhcpd untouched on {host} (same pid)"
        assert not kea_pids(host), f"expected no kea-dhcp4 on {host}"


# Hot standby, the seed's other mode (split 256 under dhcpd): the same pair is changed to hot
# standby on dhcpd by dhcp.failover.site (a config change on a live pair), then migrated under the
# same client load. Kea hot-standby lets the primary serve every pool whole: every client must keep
# its address from the primary, no one-address pool is left over from the load-balancing history,
# both peers must be in hot-standby (their control sockets).
def test_a_hot_standby_pair_migrates_and_every_client_keeps_its_address():
    hot_standby = "dhcp_failover_mode=hot_standby"
    addresses = json.loads(KEA_ADDRESSES_FILE.read_text())
    since = time.time() - 1
    run_playbook("site", hot_standby)
    wait_dhcpd_normal(since)
    rc, out = sh(PRIMARY, "grep -E '^ *(split|hba) ' /etc/dhcp/dhcpd.conf")
    assert "split 256" in out, f"expected the primary's dhcpd.conf in hot standby (split 256); saw {out}"
    output, load = load_run(0x93, ACCEPT, hot_standby)
    shown = re.search(r'"seconds_without_a_serving_server": "([^"]+)"', output)
    print(f"hot-standby migration: {load.summary}; playbook: {shown.group(1) if shown else '?'}")
    assert load.records and not load.unanswered, f"expected every request answered; unanswered: {load.unanswered[:5]}"
    for host in SERVERS:
        seen = wait_ha(host, ["hot-standby"], timeout=60, partner_states=["hot-standby"])
        assert seen["state"] == "hot-standby", seen
        assert not dhcpd_running(host), f"expected no dhcpd on {host}"
        rc, out = sh(host, "cat /etc/kea/kea-dhcp4.conf")
        pools = [pool for subnet in json.loads(out)["Dhcp4"]["subnet4"] for pool in subnet.get("pools", [])]
        assert len(pools) == 1 and not pools[0].get("client-class") and not pools[0].get("user-context"), (
            f"expected one whole pool for every client on {host}; saw {pools}")
        leases = kea_leases(host)
        missing = [f"{mac} {address}" for mac, address in addresses.items() if mac != RESERVED_MAC and address not in leases]
        assert not missing, f"expected every client's lease in Kea on {host}; missing {missing}"
    kept, lost = [], []
    for mac, address in addresses.items():
        again = ask(mac)
        (kept if again and again[0] == address and again[1] == PRIMARY else lost).append(f"{mac}: {address} -> {again}")
    print(f"hot-standby migration: {len(kept)} of {len(addresses)} clients kept their address, answered by the primary")
    assert not lost, f"expected every client to keep its address from the primary; saw {lost}"
