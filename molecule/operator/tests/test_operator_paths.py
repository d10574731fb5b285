# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks run the way operators run them (issue 13, items 2 and 3), in the operator
scenario: SSH as ops with -b, on bare bookworm and trixie servers that installed everything from
the lab's local apt repository; `--check --diff` first (Molecule's check step, between the
snapshots of prepare.yml and side_effect.yml), then --limit to one pair or one server, a pair's
host down, serial: 1, status/drill/maintenance limited to one pair.

Pairs: opa (dhcpf-op-a1 bookworm primary, dhcpf-op-a2 trixie secondary) and opb (dhcpf-op-b1
trixie primary, dhcpf-op-b2 bookworm secondary, firewall on). No server has its address or
interfaces in the inventory: they come from facts, so a run that needs them must contact the host.

Oracles (operator_paths_lab), none of them the collection's own code: checksums of every file
under /etc/dhcp and of the installed packages (which host changed), the dhcpd process (pidof, its
start time from /proc/PID/stat: was it restarted), the states from the raw journal of the unit's
current run (_SYSTEMD_INVOCATION_ID), status's JSON file and stdout, ansible-playbook's rc and
PLAY RECAP.

Tests run in file order after test_deployed.py; each leaves both pairs normal.
"""

from __future__ import annotations

import json
import re

from operator_paths_lab import (EPHEMERAL, LOGS, PAIRS, SCENARIO, SERVERS, changed, dhcpd, docker, files, moves,
                                output, recap, run, set_pair_vars, sh, started_at, tail, wait_booted, wait_normal)

A1, A2 = PAIRS["opa"]["primary"], PAIRS["opa"]["secondary"]
B1, B2 = PAIRS["opb"]["primary"], PAIRS["opb"]["secondary"]


def snapshot(name):
    return json.loads((EPHEMERAL / "snapshots" / ("%s.json" % name)).read_text())


def test_check_diff_on_the_fresh_hosts_changed_nothing():
    """Molecule's check step (`site --check --diff` on the fresh bare hosts) succeeded, or the
    sequence would have stopped; the snapshots taken from outside right before and right after it
    are identical, and isc-dhcp-server was absent in both (so the wait for normal, which would
    fail without a dhcpd, was not run)."""
    before, after = snapshot("before-check"), snapshot("after-check")
    assert sorted(before["servers"]) == sorted(SERVERS)
    for server in SERVERS:
        assert after["servers"][server] == before["servers"][server], server
        assert "installed" not in before["servers"][server]["isc_dhcp_server"], before["servers"][server]
        assert before["servers"][server]["dhcpd"] == "none"
        assert before["servers"][server]["packages"].count("\n") > 50      # a real package list
    assert before["controller_key_dir_exists"] is False
    assert after["controller_key_dir_exists"] is False, "check mode wrote the controller's OMAPI key store"


def test_site_reruns_with_nothing_changed():
    running = {name: dhcpd(name) for name in SERVERS}
    state = {name: files(name) for name in SERVERS}
    assert all(running.values()), running
    again = run("dhcp.failover.site")
    assert again.returncode == 0, tail(again)
    assert set(changed(again)) >= set(SERVERS) and set(changed(again).values()) == {0}, changed(again)
    assert {name: dhcpd(name) for name in SERVERS} == running
    assert {name: files(name) for name in SERVERS} == state


def test_limit_one_secondary_then_its_pair():
    running = {name: dhcpd(name) for name in SERVERS}
    state = {name: files(name) for name in SERVERS}
    set_pair_vars("opa", dhcp_failover_max_lease_time=7300)
    result = run("dhcp.failover.site", "--limit", A2)
    assert result.returncode == 0, tail(result)
    assert files(A2) != state[A2]
    assert dhcpd(A2) != running[A2]                       # restarted with its new file
    for name in (A1, B1, B2):
        assert files(name) == state[name], name
        assert dhcpd(name) == running[name], name
    wait_normal(A1, A2)
    secondary = dhcpd(A2)
    result = run("dhcp.failover.site", "--limit", "opa")
    assert result.returncode == 0, tail(result)
    assert files(A1) != state[A1] and dhcpd(A1) != running[A1]
    assert dhcpd(A2) == secondary                          # already up to date: not restarted again
    wait_normal(A1, A2)


def test_limit_pair_while_a_host_of_another_pair_is_down():
    state = {name: files(name) for name in SERVERS}
    opa_running = {name: dhcpd(name) for name in (A1, A2)}
    docker("stop", B1)
    try:
        set_pair_vars("opa", dhcp_failover_max_lease_time=7400)
        result = run("dhcp.failover.site", "--limit", "opa")
        assert result.returncode == 0, tail(result)
        assert set(recap(result.stdout)) == {A1, A2}, recap(result.stdout)
        for name in (A1, A2):
            assert files(name) != state[name] and dhcpd(name) != opa_running[name], name
        assert files(B2) == state[B2]
    finally:
        docker("start", B1)
        wait_booted(B1)
    wait_normal()


def test_serial_one_rolls_one_server_at_a_time():
    running = {name: dhcpd(name) for name in SERVERS}
    set_pair_vars("opb", dhcp_failover_max_lease_time=7300)
    result = run(str(SCENARIO / "serial.yml"))
    assert result.returncode == 0, tail(result)
    restarted = [name for name in SERVERS if dhcpd(name) != running[name]]
    assert restarted == [B1, B2], restarted
    wait_normal(B1, B2)
    # Pair safety from the raw journal: the server restarted first was normal again before the
    # second one's dhcpd started.
    starts = {name: started_at(name) for name in restarted}
    first, second = sorted(restarted, key=starts.get)
    normal_again = [at for at, _old, new in moves(first) if new == "normal"]
    assert normal_again and normal_again[0] < starts[second], (first, moves(first), starts)


def status_json(name, *args):
    path = LOGS / ("%s.json" % name)
    if path.exists():
        path.unlink()
    result = run("dhcp.failover.status", "-e", "dhcp_failover_status_json=%s" % path, *args, tag=name)
    report = json.loads(path.read_text()) if path.exists() else None
    return result, report


def test_status_limit_pair_reports_that_pair_only():
    result, report = status_json("status-opa", "--limit", "opa", "-e", "dhcp_failover_status_fail_unless_normal=true")
    assert result.returncode == 0, tail(result)
    assert report is not None, "no JSON report written"
    assert sorted(row["host"] for row in report["servers"]) == [A1, A2]
    assert [(pair["pair"], pair["normal"]) for pair in report["pairs"]] == [("opa", True)]
    shown = result.stdout.split("TASK [Show the failover")[-1]
    assert "pair opa: normal" in result.stdout and "opb" not in shown and "dhcpf-op-b" not in shown, shown

    sh(A2, "systemctl stop isc-dhcp-server")
    try:
        result, report = status_json("status-opa-down", "--limit", "opa",
                                     "-e", "dhcp_failover_status_fail_unless_normal=true")
        assert result.returncode != 0, tail(result)
        assert [(pair["pair"], pair["normal"]) for pair in report["pairs"]] == [("opa", False)]
        assert "not normal: opa" in output(result)
    finally:
        sh(A2, "systemctl restart isc-dhcp-server")
    wait_normal(A1, A2)


def test_status_hosts_as_a_pattern():
    result, report = status_json("status-pattern", "-e", "dhcp_failover_hosts=opa:opb")
    assert result.returncode == 0, tail(result)
    assert sorted(row["host"] for row in report["servers"]) == sorted(SERVERS)
    assert sorted((pair["pair"], pair["normal"]) for pair in report["pairs"]) == [("opa", True), ("opb", True)]


def test_maintenance_and_drill_limited_to_one_pair():
    """With the pair's probe client (dhcp_failover_probe_host, outside the limit: delegated to)."""
    running = {name: dhcpd(name) for name in SERVERS}
    report = LOGS / "maintenance-opa.json"
    result = run("dhcp.failover.maintenance", "--limit", "opa", "-e", "dhcp_failover_maintenance_report=%s" % report)
    assert result.returncode == 0, tail(result)
    servers = json.loads(report.read_text())["servers"]
    assert sorted(server["host"] for server in servers) == [A1, A2]
    assert all(server["passed"] for server in servers), servers
    assert all(dhcpd(name) != running[name] for name in (A1, A2))
    assert all(dhcpd(name) == running[name] for name in (B1, B2))
    wait_normal(A1, A2)

    running = {name: dhcpd(name) for name in SERVERS}
    report = LOGS / "drill-opb.json"
    result = run("dhcp.failover.drill", "--limit", "opb", "-e", "dhcp_failover_drill_report=%s" % report)
    assert result.returncode == 0, tail(result)
    pairs = json.loads(report.read_text())["pairs"]
    assert [(pair["pair"], pair["result"]) for pair in pairs] == [("opb", "passed")], pairs
    assert dhcpd(B1) != running[B1] and dhcpd(B2) == running[B2]
    assert all(dhcpd(name) == running[name] for name in (A1, A2))
    wait_normal()


def test_without_become_the_cause_is_shown():
    """No no_log hides why a run without become fails (the OMAPI key file is 0640 root); the
    scenario's inventory sets ansible_become, so this run overrides it as an inventory without it."""
    result = run("dhcp.failover.site", "--limit", "opa", "-e", "ansible_become=false", become=False)
    assert result.returncode != 0
    assert "the output has been hidden" not in output(result)
    assert re.search(r"not readable|[Pp]ermission denied|run with become", output(result)), tail(result)


def test_a_controller_failure_under_no_log_shows_its_cause():
    """The OMAPI key lookup writes the new secret on the controller under no_log: a key directory
    that cannot be made must fail with its cause, not "the output has been hidden"."""
    state = {name: files(name) for name in (A1, A2)}
    running = {name: dhcpd(name) for name in (A1, A2)}
    result = run("dhcp.failover.site", "--limit", "opa", "-e", "dhcp_failover_omapi_rotate=true",
                 "-e", "dhcp_failover_omapi_key_dir=/proc/no-such-dir/keys")
    assert result.returncode != 0, tail(result)
    assert "the output has been hidden" not in output(result), tail(result)
    assert re.search(r"fatal: .*/proc/no-such-dir/keys", output(result)), tail(result)
    assert {name: files(name) for name in state} == state
    assert {name: dhcpd(name) for name in running} == running
