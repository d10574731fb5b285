# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify of the maintenance scenario: the day-2 playbooks run as a user runs them
(``ansible-playbook dhcp.failover.NAME`` against the installed collection) on the converged lab
pair, in order: status, drill (with the probe client's addresses, routes and resolv.conf
compared before and after), the drill's refusals (no probe client, no probe interface, a probe
interface holding a DHCP lease), a drill accepted as not proven, maintenance, drill by SIGKILL,
partner_down (refused without the names, refused while only dhcpd is stopped, then confirmed once
the primary server is gone), site to restore. Each test checks what the playbook reported and
what the servers then say. The tests share the lab and depend on running in file order."""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import pathlib
import subprocess
import time

import pytest

PRIMARY = "dhcpf-maint-p"
SECONDARY = "dhcpf-maint-s"
CLIENT = "dhcpf-maint-c"
SECONDARY_ADDRESS = "10.231.4.3"
POOL = (ipaddress.ip_address("10.231.4.100"), ipaddress.ip_address("10.231.4.199"))
PAIR = "maint"
PEER = "maint"
EPHEMERAL = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
INVENTORY = str(pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)


def run_playbook(name, *extra_vars, expect_rc=0):
    """Run dhcp.failover.NAME; return its stdout. Fails unless the exit code is expect_rc
    (0) or, with expect_rc=None, any non-zero code."""
    argv = ["ansible-playbook", "dhcp.failover." + name, "-i", INVENTORY]
    for item in extra_vars:
        argv += ["-e", item]
    proc = subprocess.run(argv, capture_output=True, text=True, env=os.environ, check=False)
    output = proc.stdout + proc.stderr
    (EPHEMERAL / ("playbook-%s.log" % name)).write_text(output)
    if expect_rc is None:
        assert proc.returncode != 0, "expected dhcp.failover.%s to refuse (non-zero exit), saw exit 0:\n%s" % (
            name, output[-3000:])
    else:
        assert proc.returncode == expect_rc, "expected dhcp.failover.%s to exit %d, saw %d:\n%s" % (
            name, expect_rc, proc.returncode, output[-5000:])
    return output


def module(host, name, args):
    """Run a module on one lab host with the scenario's inventory; return its result."""
    argv = ["ansible", host, "-i", INVENTORY, "-m", name, "-a", json.dumps(args)]
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    # Other callbacks enabled by Molecule's ansible.cfg (profile_tasks) print around the JSON.
    try:
        start = proc.stdout.index("{\n")
        document = json.JSONDecoder().raw_decode(proc.stdout, start)[0]
        return document["plays"][0]["tasks"][0]["hosts"][host]
    except (ValueError, KeyError, IndexError):
        raise AssertionError("expected a JSON result from %s on %s, saw rc %d:\n%s%s" % (
            name, host, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))


def state_of(host, wait_for=None, timeout=120):
    args = {"peer": PEER}
    if wait_for:
        args.update(wait_for=wait_for, timeout=timeout)
    result = module(host, "dhcp.failover.state_info", args)
    assert not result.get("failed"), "expected state_info on %s to succeed%s, saw: %s" % (
        host, " (waiting for %s)" % wait_for if wait_for else "", result.get("msg"))
    return result["peers"][PEER]


def docker_exec(container, *argv):
    proc = subprocess.run(["docker", "exec", container, *argv], capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def network_of(container):
    """What the probe must leave alone on a probe client: addresses, routes and resolv.conf."""
    rc, out = docker_exec(container, "sh", "-c",
                          "ip addr; echo '== ip route'; ip route; echo '== resolv.conf'; cat /etc/resolv.conf")
    assert rc == 0, "expected to read the network of %s, saw rc %d: %s" % (container, rc, out)
    return out


def assert_network_unchanged(before, container, when):
    after = network_of(container)
    diff = difflib.unified_diff(before.splitlines(True), after.splitlines(True), "before", "after")
    assert after == before, "expected %s's addresses, routes and resolv.conf unchanged by %s, saw:\n%s" % (
        container, when, "".join(diff))


def dhcpd_pids(container):
    """dhcpd's process ids, from the process table (not from the module under test)."""
    return docker_exec(container, "pidof", "dhcpd")[1].split()


def acks_since(container, since, address):
    """The DHCPACK lines for address that dhcpd on container logged since the Unix time since."""
    rc, out = docker_exec(container, "journalctl", "-u", "isc-dhcp-server", "--since=@%d" % int(since),
                          "-o", "cat", "--no-pager")
    assert rc == 0, "expected to read the journal of %s, saw rc %d: %s" % (container, rc, out)
    return [line for line in out.splitlines() if line.startswith("DHCPACK on %s to " % address)]


def status_report(tag):
    path = EPHEMERAL / ("status-%s.json" % tag)
    run_playbook("status", "dhcp_failover_status_json=%s" % path)
    return {row["host"]: row for row in json.loads(path.read_text())["servers"]}


def assert_both_normal(rows, when):
    for host in (PRIMARY, SECONDARY):
        row = rows[host]
        assert (row["my_state"], row["partner_state"], row["service_active"]) == ("normal", "normal", True), (
            "%s: expected %s running with my state normal, partner normal; saw my state %s, partner %s, "
            "service active %s" % (when, host, row["my_state"], row["partner_state"], row["service_active"]))


def steps_by_name(report):
    return {step["step"]: step for step in report["steps"]}


def test_status_writes_json_and_textfile():
    json_path = EPHEMERAL / "status.json"
    prom_path = EPHEMERAL / "status.prom"
    output = run_playbook("status", "dhcp_failover_status_json=%s" % json_path,
                          "dhcp_failover_status_textfile=%s" % prom_path,
                          "dhcp_failover_status_textfile_on_servers=/run/dhcp_failover.prom")
    report = json.loads(json_path.read_text())
    rows = {row["host"]: row for row in report["servers"]}
    assert sorted(rows) == [PRIMARY, SECONDARY], "expected rows for %s and %s, saw %s" % (
        PRIMARY, SECONDARY, sorted(rows))
    roles = {host: rows[host]["role"] for host in rows}
    assert roles == {PRIMARY: "primary", SECONDARY: "secondary"}, "expected roles primary/secondary, saw %s" % roles
    assert_both_normal(rows, "status after converge")
    for host, row in rows.items():
        assert (row["pair"], row["peer"]) == (PAIR, PEER), "expected pair/peer %s/%s for %s, saw %s/%s" % (
            PAIR, PEER, host, row["pair"], row["peer"])
        assert (row["pool"] or {}).get("total") == 100, "expected a pool of 100 addresses on %s, saw %s" % (host, row["pool"])
        assert row["my_state_since"], "expected a since-time for %s, saw %r" % (host, row["my_state_since"])
    # in_run: how many of the pair's servers this run read (both, without --limit).
    assert report["pairs"] == [{"pair": PAIR, "peer": PEER, "backend": "isc_dhcpd", "hosts": [PRIMARY, SECONDARY], "in_run": 2,
                                "normal": True}], (
        "expected pair %s normal, saw %s" % (PAIR, report["pairs"]))
    assert "pair maint: normal" in output, "expected the table to end with 'pair maint: normal', saw:\n%s" % output

    prom = prom_path.read_text()
    for host, role in ((PRIMARY, "primary"), (SECONDARY, "secondary")):
        labels = 'pair="maint",host="%s",peer="maint",role="%s",backend="isc_dhcpd"' % (host, role)
        for line in ('dhcp_failover_my_state{%s,state="normal"} 2' % labels,
                     'dhcp_failover_partner_state{%s,state="normal"} 2' % labels,
                     'dhcp_failover_up{%s} 1' % labels,
                     'dhcp_failover_service_active{%s} 1' % labels,
                     'dhcp_failover_pool_leases{%s,kind="total"} 100' % labels):
            assert line in prom.splitlines(), "expected the textfile line %r, saw:\n%s" % (line, prom)
    assert "# TYPE dhcp_failover_my_state gauge" in prom, "expected TYPE lines in the textfile, saw:\n%s" % prom

    rc, own = docker_exec(PRIMARY, "cat", "/run/dhcp_failover.prom")
    assert rc == 0 and 'host="%s"' % PRIMARY in own and 'host="%s"' % SECONDARY not in own, (
        "expected %s's own textfile with only its samples, saw (rc %d):\n%s" % (PRIMARY, rc, own))


def test_drill_fails_over_to_the_secondary_and_back():
    path = EPHEMERAL / "drill.json"
    network = network_of(CLIENT)
    started = time.time()
    output = run_playbook("drill", "dhcp_failover_drill_report=%s" % path)
    assert_network_unchanged(network, CLIENT, "the drill's probe")
    reports = json.loads(path.read_text())["pairs"]
    assert len(reports) == 1, "expected one drilled pair, saw %d" % len(reports)
    report = reports[0]
    assert (report["result"], report["passed"]) == ("passed", True), "expected the drill to pass, saw %s, steps:\n%s" % (
        report["result"], json.dumps(report["steps"], indent=1))
    assert report["secondary_state"] == "communications-interrupted", (
        "expected the secondary in communications-interrupted while the primary was stopped, saw %s"
        % report["secondary_state"])
    probe = report["probe"]
    assert probe["ok"] is True and probe["answered_by_host"] == SECONDARY and probe["client"] == CLIENT, (
        "expected %s to get a lease from %s, saw: %s" % (CLIENT, SECONDARY, probe["detail"]))
    assert probe["answered_by_address"] == SECONDARY_ADDRESS, "expected the server identifier %s, saw %r" % (
        SECONDARY_ADDRESS, probe["answered_by_address"])
    assert POOL[0] <= ipaddress.ip_address(probe["address"]) <= POOL[1], (
        "expected a lease in 10.231.4.100-199, saw %r" % probe["address"])
    # dhcpd's own word, independent of the playbook's parsing: the secondary acknowledged that
    # address during this drill.
    assert acks_since(SECONDARY, started, probe["address"]), (
        "expected %s's journal to show 'DHCPACK on %s' since the drill started" % (SECONDARY, probe["address"]))
    names = [step["step"] for step in report["steps"]]
    assert names[-1] == "both peers back to normal" and report["steps"][-1]["result"] == "ok", (
        "expected the last step 'both peers back to normal' ok, saw %s" % report["steps"][-1])
    results = {step["step"]: step["result"] for step in report["steps"]}
    assert set(results.values()) == {"ok"}, "expected every drill step ok, saw %s" % results
    assert "drill of pair maint" in output and "PASSED" in output, "expected the printed report, saw:\n%s" % output[-3000:]
    assert_both_normal(status_report("after-drill"), "after the drill")


def test_drill_refuses_without_a_probe_client():
    pids = dhcpd_pids(PRIMARY)
    output = run_playbook("drill", "dhcp_failover_probe_host=", expect_rc=None)
    assert "refusing the drill, it would be not proven" in output and "dhcp_failover_drill_accept_unproven=true" in output, (
        "expected the refusal 'not proven' naming dhcp_failover_drill_accept_unproven, saw:\n%s" % output[-3000:])
    assert "PASSED" not in output, "expected no PASSED without a probe client, saw:\n%s" % output[-3000:]
    assert pids and dhcpd_pids(PRIMARY) == pids, "expected dhcpd on %s untouched (pids %s), saw %s" % (
        PRIMARY, pids, dhcpd_pids(PRIMARY))


def test_drill_refuses_a_probe_client_without_its_interface():
    pids = dhcpd_pids(PRIMARY)
    output = run_playbook("drill", "dhcp_failover_probe_interface=", expect_rc=None)
    assert "probe client %s has no dhcp_failover_probe_interface" % CLIENT in output, (
        "expected the refusal naming dhcp_failover_probe_interface, saw:\n%s" % output[-3000:])
    assert pids and dhcpd_pids(PRIMARY) == pids, "expected dhcpd on %s untouched (pids %s), saw %s" % (
        PRIMARY, pids, dhcpd_pids(PRIMARY))


def test_drill_refuses_a_probe_interface_holding_a_dhcp_lease():
    # A finite lifetime is what a DHCP client gives its address ("dynamic" in ip addr).
    rc, out = docker_exec(CLIENT, "ip", "addr", "add", "10.231.4.77/24", "dev", "eth0",
                          "valid_lft", "600", "preferred_lft", "600")
    assert rc == 0, "expected to add a dynamic address on %s, saw rc %d: %s" % (CLIENT, rc, out)
    try:
        pids = dhcpd_pids(PRIMARY)
        output = run_playbook("drill", expect_rc=None)
        assert "interface eth0: it holds a DHCP lease of its own (10.231.4.77/24, dynamic)" in output, (
            "expected the refusal of an interface with a DHCP lease, saw:\n%s" % output[-3000:])
        assert pids and dhcpd_pids(PRIMARY) == pids, "expected dhcpd on %s untouched (pids %s), saw %s" % (
            PRIMARY, pids, dhcpd_pids(PRIMARY))
    finally:
        docker_exec(CLIENT, "ip", "addr", "del", "10.231.4.77/24", "dev", "eth0")


def test_drill_without_a_probe_client_accepted_says_not_proven():
    path = EPHEMERAL / "drill-unproven.json"
    pids = dhcpd_pids(PRIMARY)
    output = run_playbook("drill", "dhcp_failover_probe_host=", "dhcp_failover_drill_accept_unproven=true",
                          "dhcp_failover_drill_report=%s" % path)
    report = json.loads(path.read_text())["pairs"][0]
    assert (report["result"], report["passed"]) == ("not proven", False), (
        "expected result 'not proven' and passed false, saw %s/%s" % (report["result"], report["passed"]))
    results = {step["step"]: step["result"] for step in report["steps"]}
    assert results.get("probe client gets a lease from the secondary") == "skipped", (
        "expected the lease check skipped, saw %s" % results)
    assert "NOT PROVEN" in output and "PASSED" not in output, "expected NOT PROVEN in the report, saw:\n%s" % output[-3000:]
    assert dhcpd_pids(PRIMARY) not in ([], pids), "expected the primary's dhcpd stopped and started again (pids %s), saw %s" % (
        pids, dhcpd_pids(PRIMARY))
    assert_both_normal(status_report("after-unproven-drill"), "after the drill accepted as not proven")


def test_maintenance_restarts_both_peers_with_a_lease_at_every_step():
    path = EPHEMERAL / "maintenance.json"
    run_playbook("maintenance", "dhcp_failover_maintenance_report=%s" % path)
    reports = {item["host"]: item for item in json.loads(path.read_text())["servers"]}
    assert list(reports) == [PRIMARY, SECONDARY], "expected the primary then the secondary, saw %s" % list(reports)
    for host, partner in ((PRIMARY, SECONDARY), (SECONDARY, PRIMARY)):
        report = reports[host]
        steps = steps_by_name(report)
        assert report["passed"] is True, "expected the maintenance of %s to pass, saw:\n%s" % (
            host, json.dumps(report["steps"], indent=1))
        handover = steps["handover: %s shutdown, %s partner-down" % (host, partner)]
        assert "-> shutdown" in handover["detail"] and "%s partner-down" % partner in handover["detail"], (
            "expected %s in shutdown and %s in partner-down after the handover, saw %r" % (host, partner, handover["detail"]))
        for name in ("lease after the handover", "lease while dhcpd is stopped"):
            step = steps[name]
            assert step["result"] == "ok" and "from" in step["detail"] and "(%s)" % partner in step["detail"], (
                "%s of %s: expected a lease from %s, saw %s: %s" % (name, host, partner, step["result"], step["detail"]))
        step = steps["lease with the pair normal again"]
        assert step["result"] == "ok", "expected a lease once %s's pair is normal again, saw %s: %s" % (
            host, step["result"], step["detail"])
        recover = steps["recover: both peers normal"]
        assert recover["detail"].count("normal since") == 2, (
            "expected both peers normal after recovering %s, saw %r" % (host, recover["detail"]))
    assert_both_normal(status_report("after-maintenance"), "after the maintenance")


def test_drill_by_kill():
    path = EPHEMERAL / "drill-kill.json"
    network = network_of(CLIENT)
    run_playbook("drill", "dhcp_failover_drill_method=kill", "dhcp_failover_drill_report=%s" % path)
    assert_network_unchanged(network, CLIENT, "the probe of the drill by kill")
    report = json.loads(path.read_text())["pairs"][0]
    first = report["steps"][0]
    assert (report["method"], first["detail"]) == ("kill", "SIGKILL isc-dhcp-server"), (
        "expected the primary killed with SIGKILL, saw method %s, first step %r" % (report["method"], first["detail"]))
    assert report["passed"] is True and report["probe"]["answered_by_host"] == SECONDARY, (
        "expected the drill by kill to pass with a lease from %s, saw passed=%s, probe: %s" % (
            SECONDARY, report["passed"], report["probe"].get("detail")))
    assert_both_normal(status_report("after-kill-drill"), "after the drill by kill")


def test_partner_down_refuses_without_the_names():
    for extra, said in (((), "got dhcp_failover_survivor unset"),
                        (("dhcp_failover_survivor=nothere",), "got dhcp_failover_survivor nothere, which is not a host")):
        output = run_playbook("partner_down", *extra, expect_rc=None)
        assert "Refusing to declare partner-down" in output and said in output, (
            "expected partner_down %s to refuse with %r, saw:\n%s" % (" ".join(extra), said, output[-3000:]))
        assert "PLAY [Declare the lost partner down on the survivor]" not in output, (
            "expected the refusal before any server is touched, saw:\n%s" % output[-3000:])


def test_partner_down_refuses_without_confirmation():
    rc, out = docker_exec(PRIMARY, "systemctl", "stop", "isc-dhcp-server")
    assert rc == 0, "expected systemctl stop on %s to succeed, saw rc %d: %s" % (PRIMARY, rc, out)
    state = state_of(SECONDARY, wait_for=["communications-interrupted"])
    assert state["my_state"] == "communications-interrupted", "expected the secondary cut off, saw %s" % state["my_state"]

    output = run_playbook("partner_down", "dhcp_failover_survivor=%s" % SECONDARY, expect_rc=None)
    assert "Refusing to declare partner-down" in output, "expected the refusal message, saw:\n%s" % output[-3000:]
    output = run_playbook("partner_down", "dhcp_failover_survivor=%s" % SECONDARY,
                          "dhcp_failover_confirm_partner_down=%s" % SECONDARY, expect_rc=None)
    assert "Refusing to declare partner-down" in output, (
        "expected a refusal when the confirmation names the survivor, saw:\n%s" % output[-3000:])
    state = state_of(SECONDARY)
    assert state["my_state"] == "communications-interrupted", (
        "expected the refused runs to change nothing (communications-interrupted), saw %s" % state["my_state"])

    for name in ("drill", "maintenance"):
        output = run_playbook(name, expect_rc=None)
        assert "expected both normal" in output, "expected %s to refuse a pair that is not normal, saw:\n%s" % (
            name, output[-3000:])


def test_partner_down_with_confirmation_when_the_primary_is_gone_then_restore():
    # A real outage: the whole primary server goes away (its container stops).
    proc = subprocess.run(["docker", "stop", PRIMARY], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "expected docker stop %s to succeed, saw: %s" % (PRIMARY, proc.stderr)
    # Unreachable looks like a network split: one confirmation is not enough.
    output = run_playbook("partner_down", "dhcp_failover_survivor=%s" % SECONDARY,
                          "dhcp_failover_confirm_partner_down=%s" % PRIMARY, expect_rc=None)
    assert "confirm it again with -e dhcp_failover_confirm_unreachable=%s" % PRIMARY in output, (
        "expected a refusal asking for the second confirmation, saw:\n%s" % output[-3000:])
    output = run_playbook("partner_down", "dhcp_failover_survivor=%s" % SECONDARY,
                          "dhcp_failover_confirm_partner_down=%s" % PRIMARY,
                          "dhcp_failover_confirm_unreachable=%s" % PRIMARY)
    assert "communications-interrupted -> partner-down" in output, (
        "expected the report line 'communications-interrupted -> partner-down', saw:\n%s" % output[-3000:])
    assert "%s declared down (unreachable, confirmed" % PRIMARY in output, (
        "expected the report to say %s was unreachable, saw:\n%s" % (PRIMARY, output[-3000:]))

    json_path = EPHEMERAL / "status-partner-down.json"
    prom_path = EPHEMERAL / "status-partner-down.prom"
    run_playbook("status", "dhcp_failover_status_json=%s" % json_path, "dhcp_failover_status_textfile=%s" % prom_path)
    rows = {row["host"]: row for row in json.loads(json_path.read_text())["servers"]}
    assert rows[SECONDARY]["my_state"] == "partner-down", (
        "expected %s in partner-down, saw %s" % (SECONDARY, rows[SECONDARY]["my_state"]))
    assert rows[PRIMARY]["ok"] is False and rows[PRIMARY]["error"].startswith("unreachable"), (
        "expected %s reported unreachable, saw ok=%s error=%r" % (PRIMARY, rows[PRIMARY]["ok"], rows[PRIMARY]["error"]))
    assert (rows[PRIMARY]["pair"], rows[PRIMARY]["role"]) == (PAIR, "primary"), (
        "expected the unreachable %s still shown as primary of %s, saw %s/%s" % (
            PRIMARY, PAIR, rows[PRIMARY]["pair"], rows[PRIMARY]["role"]))
    prom = prom_path.read_text().splitlines()
    for line in ('dhcp_failover_up{pair="maint",host="%s",peer="maint",role="primary",backend="isc_dhcpd"} 0' % PRIMARY,
                 'dhcp_failover_my_state{pair="maint",host="%s",peer="maint",role="secondary",backend="isc_dhcpd",state="partner-down"} 4'
                 % SECONDARY):
        assert line in prom, "expected the textfile line %r, saw:\n%s" % (line, "\n".join(prom))

    # Restore as an operator would: the server comes back, and the site playbook makes sure dhcpd
    # runs and waits until the pair is normal.
    proc = subprocess.run(["docker", "start", PRIMARY], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "expected docker start %s to succeed, saw: %s" % (PRIMARY, proc.stderr)
    run_playbook("site")
    assert_both_normal(status_report("restored"), "after restoring with dhcp.failover.site")


@pytest.fixture(scope="module", autouse=True)
def _collection_is_installed():
    assert os.environ.get("ANSIBLE_COLLECTIONS_PATH"), "expected ANSIBLE_COLLECTIONS_PATH to point at the installed tarball"
