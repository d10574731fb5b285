"""The checks of issue 14 item 5 on a converged Kea HA pair, shared by the scenarios kea_lb
(load-balancing, Debian 12, Kea 2.2) and kea_hs (hot-standby, Debian 13, Kea 2.6). A scenario's
tests/test_kea_pair.py imports them and defines the `lab` fixture (containers, addresses, pool
halves, mode) in its conftest.py. They share the lab and run in file order: each leaves the pair
normal for the next. States are read from Kea itself (kea_checks), never from the collection;
the playbooks are judged by their own reports AND by what Kea then says."""

from __future__ import annotations

import json
import os
import pathlib
import time

from kea_checks import (
    CONFIG,
    EPHEMERAL,
    docker_exec,
    ha_status,
    identity,
    in_range,
    kea_pids,
    kill9,
    lease4,
    run_playbook,
    systemctl,
    transitions,
    udhcpc,
    wait_ha,
    wait_until,
)

CLIENTS = 20


def _normal(lab):
    return lab.normal_state


def test_both_servers_run_the_pair_normal(lab):
    for server in (lab.primary, lab.secondary):
        rc, text, err = docker_exec(server, "cat", CONFIG)
        assert rc == 0, f"expected to read {CONFIG} on {server}; saw {err}"
        config = json.loads(text)["Dhcp4"]
        libraries = [hook["library"].rsplit("/", 1)[-1] for hook in config.get("hooks-libraries", [])]
        assert "libdhcp_lease_cmds.so" in libraries and "libdhcp_ha.so" in libraries, (
            f"expected both HA hooks on {server}; saw {libraries}")
        assert kea_pids(server), f"expected a kea-dhcp4 process on {server}"
    for server in (lab.primary, lab.secondary):
        seen = wait_ha(server, [_normal(lab)], timeout=60, partner_states=[_normal(lab)])
        assert seen["mode"] == lab.kea_mode, f"expected HA mode {lab.kea_mode} on {server}; saw {seen['mode']}"
        print(f"{server}: {seen['role']} in {seen['state']}, partner {seen['partner_state']}, scopes {seen['scopes']}")


def test_first_attempts_of_many_clients(lab):
    """Each client identity asks once (one DISCOVER): who answers is the pair's decision alone."""
    answered = {}
    missing = []
    for number in range(CLIENTS):
        mac = identity(0x40, number)
        address, server = udhcpc(lab.client, mac, tries=1)
        if address is None:
            missing.append(mac)
            continue
        answered[mac] = (address, server)
    assert not missing, f"expected every client's first DISCOVER answered; no lease for {missing}"
    by_server = {}
    for mac, (address, server) in answered.items():
        by_server.setdefault(server, []).append(address)
    print(f"first attempts of {CLIENTS} clients by server: { {k: len(v) for k, v in by_server.items()} }")
    if lab.kea_mode == "load-balancing":
        assert set(by_server) == {lab.primary_address, lab.secondary_address}, (
            f"expected both servers to answer first attempts in load-balancing; saw {by_server}")
        for server_address, half in ((lab.primary_address, lab.primary_half), (lab.secondary_address, lab.secondary_half)):
            outside = [a for a in by_server[server_address] if not in_range(a, *half)]
            assert not outside, f"expected {server_address} to hand out only its half {half}; saw {outside}"
    else:
        assert set(by_server) == {lab.primary_address}, (
            f"expected the primary {lab.primary_address} to answer every first attempt in hot-standby; saw {by_server}")
        for address in by_server[lab.primary_address]:
            assert in_range(address, *lab.pool), f"expected an address of the pool {lab.pool}; saw {address}"
    lab.leases.update(answered)


def test_a_lease_is_in_both_lease_databases(lab):
    mac, (address, _server) = sorted(lab.leases.items())[-1]
    for server in (lab.primary, lab.secondary):
        held = wait_until(f"{server} to hold {address} (lease4-get)", lambda s=server: lease4(s, address), timeout=15)
        assert held["hw-address"] == mac, f"expected {server}'s lease {address} for {mac}; saw {held}"
    print(f"lease {address} for {mac} in both lease databases")


def test_kill_9_of_the_primary_the_partner_serves(lab):
    before = time.time()
    kill9(lab.primary)
    killed = time.monotonic()
    wait_until(f"no kea-dhcp4 process on {lab.primary}", lambda: not kea_pids(lab.primary), timeout=10)
    # In load-balancing the secondary answers the clients of its own half anyway: only a client of
    # the primary's half (its HA class), answered by the secondary, proves the takeover.
    own = []
    number = 0
    while True:
        number += 1
        address, server = udhcpc(lab.client, identity(0x41, number), tries=1, wait=2)
        if address is not None:
            assert server == lab.secondary_address, (
                f"expected the partner {lab.secondary_address} to answer while the primary is dead; saw {server}")
            if lab.kea_mode != "load-balancing" or in_range(address, *lab.primary_half):
                break
            own.append(address)
        assert time.monotonic() - killed < 60, (
            f"expected a lease from {lab.secondary_address} for a client of the primary's share within 60 s of the "
            f"kill -9; saw only leases of its own half {own}")
    takeover = time.monotonic() - killed
    seen = wait_ha(lab.secondary, ["partner-down"], timeout=30)
    print(f"kill -9 of the primary {lab.primary}: new client {identity(0x41, number)} got {address} from the partner "
          f"{lab.secondary} {takeover:.1f} s later (attempt {number}; its own half's clients before it: {own}); "
          f"partner now {seen['state']}")
    lab.takeover.append(round(takeover, 1))
    systemctl(lab.primary, "restart")
    started = time.monotonic()
    for server in (lab.primary, lab.secondary):
        wait_ha(server, [_normal(lab)], timeout=90, partner_states=[_normal(lab)])
    print(f"pair back to {lab.normal_state} {time.monotonic() - started:.1f} s after the primary's restart")
    lines = [line for server in (lab.primary, lab.secondary) for line in transitions(server, before)]
    assert not [line for line in lines if "to TERMINATED" in line], f"expected no terminated state; saw {lines}"


def test_restarting_both_in_either_order_never_ends_terminated(lab):
    for first, second in ((lab.primary, lab.secondary), (lab.secondary, lab.primary)):
        before = time.time() - 1
        systemctl(first, "restart")
        wait_until(f"kea-dhcp4 running again on {first}", lambda f=first: kea_pids(f), timeout=20)
        systemctl(second, "restart")
        started = time.monotonic()
        for server in (first, second):
            wait_ha(server, [_normal(lab)], timeout=90, partner_states=[_normal(lab)])
        lines = [line for server in (first, second) for line in transitions(server, before)]
        terminated = [line for line in lines if "to TERMINATED" in line]
        assert not terminated, f"expected no terminated state after restarting {first} then {second}; saw {terminated}"
        print(f"restart {first} then {second}: both {lab.normal_state} {time.monotonic() - started:.1f} s after the second restart")


def test_status_shows_both_servers(lab):
    json_path = EPHEMERAL / "status.json"
    prom_path = EPHEMERAL / "status.prom"
    output = run_playbook("status", f"dhcp_failover_status_json={json_path}", f"dhcp_failover_status_textfile={prom_path}")
    table = [line for line in output.splitlines() if lab.pair in line or "PAIR" in line]
    print("\n".join(table))
    rows = {row["host"]: row for row in json.loads(json_path.read_text())["servers"]}
    assert sorted(rows) == sorted([lab.primary, lab.secondary]), f"expected rows for both servers; saw {sorted(rows)}"
    for host, row in rows.items():
        assert (row["backend"], row["my_state"], row["partner_state"], row["running"]) == ("kea", "normal", "normal", True), (
            f"expected {host} shown as a running Kea server in normal/normal; saw {row}")
        truth = wait_ha(host, [_normal(lab)], timeout=5)
        assert row["ha_state"] == truth["state"], f"expected the report's HA state of {host} to be Kea's {truth['state']}; saw {row}"
    prom = prom_path.read_text().splitlines()
    samples = [line for line in prom if line and not line.startswith("#")]
    assert samples and all('backend="kea"' in line for line in samples), (
        "expected a backend=\"kea\" label on every sample; saw:\n" + "\n".join(samples))
    for host, role in ((lab.primary, "primary"), (lab.secondary, "secondary")):
        assert any(line.startswith("dhcp_failover_my_state{") and f'host="{host}"' in line and line.endswith(" 2")
                   for line in samples), f"expected dhcp_failover_my_state 2 (normal) for {host}; saw:\n" + "\n".join(samples)
    (EPHEMERAL / "status-table.txt").write_text(output)
    # For docs/samples: a real run's report, when asked for (DHCP_FAILOVER_SAMPLES_DIR).
    samples = os.environ.get("DHCP_FAILOVER_SAMPLES_DIR")
    if samples:
        target = pathlib.Path(samples)
        target.mkdir(parents=True, exist_ok=True)
        (target / f"status-{lab.pair}.json").write_text(json_path.read_text())
        (target / f"status-{lab.pair}.prom").write_text(prom_path.read_text())
        (target / f"status-{lab.pair}.txt").write_text(output)


def test_drill_fails_over_to_the_partner_and_back(lab):
    path = EPHEMERAL / "drill.json"
    before = time.time()
    output = run_playbook("drill", f"dhcp_failover_drill_report={path}", f"dhcp_failover_drill_method={lab.drill_method}")
    report = json.loads(path.read_text())["pairs"][0]
    assert report["passed"] is True and report["result"] == "passed", f"expected the drill to pass; saw {report}"
    assert report["probe"]["answered_by_host"] == lab.secondary, f"expected the probe's lease from {lab.secondary}; saw {report['probe']}"
    print("\n".join(line for line in output.splitlines() if "drill of pair" in line or " s  " in line))
    print(f"drill ({lab.drill_method}): takeover {report['takeover_seconds']} s, whole drill {report['seconds']} s")
    lab.takeover.append(report["takeover_seconds"])
    for server in (lab.primary, lab.secondary):
        wait_ha(server, [_normal(lab)], timeout=10, partner_states=[_normal(lab)])
    lines = [line for server in (lab.primary, lab.secondary) for line in transitions(server, before)]
    assert any("PARTNER-DOWN" in line for line in transitions(lab.secondary, before)), (
        f"expected {lab.secondary} to have been in partner-down during the drill (its journal); saw {lines}")


def test_maintenance_serves_a_client_at_every_step(lab):
    path = EPHEMERAL / "maintenance.json"
    before = time.time()
    output = run_playbook("maintenance", f"dhcp_failover_maintenance_report={path}")
    servers = json.loads(path.read_text())["servers"]
    assert [s["host"] for s in servers] == [lab.primary, lab.secondary], f"expected both servers maintained in turn; saw {servers}"
    for server in servers:
        assert server["passed"] is True, f"expected the maintenance of {server['host']} to pass; saw {server['steps']}"
        leases = [step for step in server["steps"] if step["step"].startswith("lease ")]
        assert len(leases) == 3 and all(step["result"] == "ok" for step in leases), (
            f"expected a probe lease after the handover, while stopped and once normal, for {server['host']}; saw {leases}")
        print(f"maintenance of {server['host']}: {server['seconds']} s; "
              + "; ".join(f"{s['step']} {s['result']} {s['seconds']} s" for s in server["steps"]))
    for server in (lab.primary, lab.secondary):
        wait_ha(server, [_normal(lab)], timeout=10, partner_states=[_normal(lab)])
        seen = transitions(server, before)
        assert any("IN-MAINTENANCE" in line for line in seen), f"expected {server} to have been in maintenance; saw {seen}"
        assert not any("to TERMINATED" in line for line in seen), f"expected no terminated state on {server}; saw {seen}"
    assert "STOPPED" not in output
    print(f"takeover times measured: {lab.takeover} s")


def test_partner_down_refused_while_the_pair_talks_then_declared(lab):
    confirm = (f"dhcp_failover_survivor={lab.secondary}", f"dhcp_failover_confirm_partner_down={lab.primary}")
    output = run_playbook("partner_down", *confirm, expect_rc=2)
    assert "not cut off from" in output, f"expected the refusal of a survivor in touch with its partner; saw:\n{output[-3000:]}"
    assert ha_status(lab.secondary)["state"] == lab.normal_state, "expected the refusal to change nothing"

    kill9(lab.primary)
    wait_until(f"no kea-dhcp4 process on {lab.primary}", lambda: not kea_pids(lab.primary), timeout=10)

    # As an operator: once the survivor has noticed (its next heartbeat failed).
    def _noticed():
        seen = ha_status(lab.secondary)
        return seen if seen["communication_interrupted"] or seen["state"] != lab.normal_state else None

    noticed = wait_until(f"{lab.secondary} to notice that its partner is gone", _noticed, timeout=30)
    print(f"survivor {lab.secondary} before partner_down: {noticed['state']}, communication-interrupted "
          f"{noticed['communication_interrupted']}, partner {noticed['partner_state']}")
    output = run_playbook("partner_down", *confirm)
    seen = wait_ha(lab.secondary, ["partner-down"], timeout=5)
    assert "-> partner-down" in output, f"expected the report line '... -> partner-down'; saw:\n{output[-3000:]}"
    assert f"{lab.primary} declared down (kea-dhcp4 not running: " in output and "isc-dhcp-server" not in output, (
        f"expected the lost server judged by its kea-dhcp4 unit and process; saw:\n{output[-3000:]}")
    address, server = udhcpc(lab.client, identity(0x44, 1), tries=2, wait=2)
    assert server == lab.secondary_address, f"expected the survivor {lab.secondary_address} to serve; saw {address} from {server}"
    print("partner_down: " + " | ".join(line.strip().strip('",') for line in output.splitlines() if "->" in line or "declared down" in line)
          + f"; survivor {seen['state']}, new client {address} from {server}")
    systemctl(lab.primary, "restart")
    for host in (lab.primary, lab.secondary):
        wait_ha(host, [_normal(lab)], timeout=90, partner_states=[_normal(lab)])


def _lease_file_of(server):
    rc, text, err = docker_exec(server, "cat", CONFIG)
    assert rc == 0, f"expected to read {CONFIG} on {server}; saw {err}"
    return json.loads(text)["Dhcp4"]["lease-database"]["name"]


def test_a_change_kea_rejects_at_start_is_rolled_back_and_the_partner_untouched(lab):
    """A lease file Kea cannot open (the test makes a directory of that name on both servers, as a
    broken disk would): `kea-dhcp4 -t` (2.2) accepts the configuration, kea-dhcp4 exits at start. The
    first server's restart must be rolled back (the old file back, kea-dhcp4 serving again) and its
    partner never restarted. On Kea 2.6 `-T` may refuse it before any change; then nothing changes."""
    broken = "/var/lib/kea/unopenable.csv"
    before = {server: (kea_pids(server), _lease_file_of(server)) for server in (lab.primary, lab.secondary)}
    for server in (lab.primary, lab.secondary):
        assert docker_exec(server, "mkdir", "-p", broken)[0] == 0, f"expected to make {broken} on {server}"
    try:
        output = run_playbook("site", f"dhcp_failover_kea_lease_file={broken}", expect_rc=2)
    finally:
        for server in (lab.primary, lab.secondary):
            docker_exec(server, "rmdir", broken)
    failure = [line for line in output.splitlines() if "did not come back after" in line or ("fatal:" in line and "msg" in line)]
    print(f"site with a lease file Kea cannot open (Kea {lab.kea_version}): "
          + " | ".join(line.strip()[:500] for line in failure[:2]))
    for server in (lab.primary, lab.secondary):
        assert _lease_file_of(server) == before[server][1], f"expected {server}'s {CONFIG} put back; it names {_lease_file_of(server)}"
        wait_ha(server, [_normal(lab)], timeout=60, partner_states=[_normal(lab)])
    assert kea_pids(lab.primary) == before[lab.primary][0], (
        f"expected the primary {lab.primary} never restarted (pids {before[lab.primary][0]}); saw {kea_pids(lab.primary)}")
    if lab.kea_version == "2.2" or "did not come back" in output:
        assert f"host {lab.secondary}: kea-dhcp4 did not come back" in output and "Put back" in output, (
            f"expected the secondary's restart rolled back, named in the failure; saw:\n{output[-3000:]}")
        assert "kea-dhcp4 runs again with it" in output, f"expected the rollback confirmed; saw:\n{output[-3000:]}"
        assert kea_pids(lab.secondary) != before[lab.secondary][0], f"expected {lab.secondary} restarted (and back)"
