# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verify of the rolling scenario (issue 11): dhcp.failover.site never takes the pair down.

Run in file order on the converged pair, each step as a user runs it (``ansible-playbook
dhcp.failover.site``/``maintenance`` against the installed collection):

1. A change that needs a restart (default-lease-time 600 -> 900) while a client asks for a new
   lease every 0.5 s: every request is answered, and the peers restart one at a time - the second
   peer's restart begins only after the first peer's new dhcpd has logged its move to normal.
2. A change that ``dhcpd -t`` accepts but dhcpd refuses at start: a raw global statement
   ``lease-file-name "/nonexistent/dhcpd.leases";`` for the pair (dhcpd exits with ``Can't open lease
   database /nonexistent/dhcpd.leases``). The secondary restarts first, meets the fault and is
   rolled back (its files as before) and serves again; the primary is never written nor restarted,
   clients are answered throughout, and the run fails naming the host and dhcpd's reason. (A tun
   interface, dhcpd's "Unsupported device type", is refused before any change since the pre-checks
   read interface types, so it no longer reaches a restart.)
3. An interface that does not exist on one peer (its only one, so dhcpd would exit with "Not
   configured to listen on any interfaces!"): refused before any host changes.
4. A second controller (another HOME: no local key store, no OMAPI secret variable) runs site: no
   key file changes, no restart; then maintenance from the first controller still works.

Judged by rolling_lab's oracle only (pidof and /proc, the raw journal since the step began, file
checksums, the client's own record); figures go to build/rolling-figures.json.
"""

from __future__ import annotations

import json
import re
import time

from conftest import GOOD_VARS
from rolling_lab import (
    ADDRESS, EPHEMERAL, KEY_FILE, PAIR, PRIMARY, SECONDARY, SERVERS, ClientLoad, all_checksums, changed_files,
    clock, disturbed, first_line, host_override, journal, load_figures, moved_to, omapi_secret, processes,
    run_playbook, sh, timeline,
)

# A statement dhcpd -t accepts (it opens no lease file) and dhcpd refuses at start.
BAD_LEASE_FILE = "/nonexistent/dhcpd.leases"
DHCPD_REASON = "Can't open lease database %s" % BAD_LEASE_FILE


def same_process(one, other):
    """The same dhcpd process: same pid and start time (to the clock ticks' jitter)."""
    return one is not None and other is not None and one.pid == other.pid and abs(one.started - other.started) < 0.5


def describe(procs):
    return {host: str(proc) if proc else "not running" for host, proc in procs.items()}


def secret_shown(run, *secrets):
    """Problems if RUN's output shows an OMAPI secret (the message never quotes it)."""
    if any(secret and secret in run.output for secret in secrets):
        return ["expected no OMAPI secret in the output of %s; it is there (see playbook log)" % run.name]
    return []


def names_pair(output):
    """Does OUTPUT name the pair `roll` (as a word of its own, not inside the host names)?"""
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(PAIR), output) is not None


def run_under_load(tag, *extra_vars, inventories=(), after_run=None):
    """Start a client load, wait until it is served, run site, then (AFTER_RUN, or until six more
    requests are answered) stop it. Returns (run, records, problems)."""
    problems = []
    load = ClientLoad(tag).start()
    try:
        load.wait_for_answers(4, timeout=40)
        run = run_playbook("site", *extra_vars, inventories=inventories, tag="site-load-%d" % tag)
        try:
            if after_run:
                after_run(load, run)
            else:
                load.wait_for_answers(6, timeout=30, since=run.ended)
        except AssertionError as exc:
            problems.append(str(exc))
    finally:
        records = load.stop()
    return run, records, problems


def test_1_config_change_under_load_restarts_one_peer_at_a_time(figures):
    before = processes()
    assert all(before.values()), "expected dhcpd running on both peers after converge; saw %s" % describe(before)
    secret = omapi_secret()
    start = time.time()
    run, records, problems = run_under_load(1, *GOOD_VARS)
    problems += secret_shown(run, secret, omapi_secret())
    after = processes()
    journals = {host: journal(host, start) for host in SERVERS}
    load = load_figures(records)
    figures["config_change"] = dict(load, site_rc=run.rc, site_seconds=run.seconds, change="default-lease-time 600 -> 900")

    if run.rc != 0:
        problems.append("expected site to apply the change (exit 0); saw exit %d:\n%s" % (run.rc, run.errors()))
    deployed = {host: sh(host, "grep -c '^default-lease-time 900;' /etc/dhcp/dhcpd.conf", check=False).stdout.strip()
                for host in SERVERS}
    if set(deployed.values()) != {"1"}:
        problems.append("expected default-lease-time 900 in both dhcpd.conf; saw matches %s" % deployed)
    if load["unanswered"]:
        problems.append("expected every request answered; %d of %d were not (requests %s); timeline %s" % (
            len(load["unanswered"]), load["asked"], load["unanswered"], timeline(records)))

    restarts = {"before": describe(before), "after": describe(after)}
    restarted = [host for host in SERVERS if after[host] is not None and not same_process(before[host], after[host])]
    if len(restarted) != 2 or not all(after.values()):
        restarts["verdict"] = "not both restarted"
        problems.append("expected the change to restart dhcpd on both peers and both to run; before %s, after %s" % (
            describe(before), describe(after)))
    else:
        first, second = sorted(SERVERS, key=lambda host: after[host].started)
        first_normal = moved_to(journals[first], after[first].pid, "normal")
        second_began = disturbed(journals[second], before[second], after[second])
        restarts.update(
            order=[first, second],
            dhcpd_started_apart_s=round(after[second].started - after[first].started, 3),
            first_normal_at=clock(first_normal) if first_normal else None,
            second_began_at=clock(second_began),
            second_began_after_first_normal_s=round(second_began - first_normal, 2) if first_normal else None,
        )
        if first_normal is None:
            restarts["verdict"] = "first never normal"
            problems.append("expected %s's new dhcpd (%s) to log its move to normal; its journal since %s has no such "
                            "line" % (first, after[first], clock(start)))
        elif second_began <= first_normal:
            restarts["verdict"] = "together (%.3f s apart)" % (after[second].started - after[first].started)
            problems.append(
                "expected %s's restart to begin only after %s was back in normal; it began at %s, %.2f s before %s's "
                "new dhcpd logged normal at %s (the two dhcpd started %.3f s apart)" % (
                    second, first, clock(second_began), first_normal - second_began, first, clock(first_normal),
                    after[second].started - after[first].started))
        else:
            restarts["verdict"] = "one at a time (%.1f s after normal)" % (second_began - first_normal)
        if moved_to(journals[second], after[second].pid, "normal") is None:
            problems.append("expected %s's new dhcpd (%s) to log its move to normal (the pair normal at the end)"
                            % (second, after[second]))
    figures["config_change"]["restarts"] = restarts
    print("change under load: asked %(asked)d, answered %(answered)d, longest gap %(longest_gap_s)s s, longest wait "
          "%(longest_wait_s)s s, answered by %(answered_by)s" % load)
    print("restarts: %s" % json.dumps(restarts))
    print("timeline (p/s answered, - unanswered): %s" % timeline(records))
    assert not problems, "\n".join(problems)


def test_2_restart_failure_on_one_peer_is_rolled_back(figures):
    before, files_before = processes(), all_checksums()
    assert all(before.values()), "expected dhcpd running on both peers; saw %s" % describe(before)
    secret = omapi_secret()
    raw = {"dhcp_failover_raw_global": 'lease-file-name "%s";' % BAD_LEASE_FILE}
    override = host_override("bad-lease-file", SECONDARY, raw)
    override.write_text(json.dumps({"all": {"hosts": {host: raw for host in SERVERS}}}, indent=1) + "\n")
    start = time.time()

    def until_secondary_serves(load, run):
        # The client's view of "serves again": a request asked after the run answered by the secondary.
        if processes()[SECONDARY] is not None:
            load.wait_for_answers(1, timeout=30, since=run.ended, host=SECONDARY)
        load.wait_for_answers(4, timeout=30, since=run.ended)

    run, records, problems = run_under_load(2, *GOOD_VARS, inventories=[override], after_run=until_secondary_serves)
    after, files_after = processes(), all_checksums()
    journals = {host: journal(host, start) for host in SERVERS}
    load = load_figures(records)
    figures["rollback"] = result = dict(load, site_rc=run.rc, site_seconds=run.seconds,
                                        fault='the pair gets lease-file-name "%s" (dhcpd -t accepts it)' % BAD_LEASE_FILE)

    reason = first_line(journals[SECONDARY], DHCPD_REASON)
    secondary_back = moved_to(journals[SECONDARY], after[SECONDARY].pid, "normal") if after[SECONDARY] else None
    began = disturbed(journals[SECONDARY], before[SECONDARY], after[SECONDARY])
    result.update(
        dhcpd_reason=reason.message if reason else None,
        rollback_s=round(secondary_back - reason.time, 2) if reason and secondary_back else None,
        secondary_outage_s=round(secondary_back - began, 2) if began and secondary_back else None,
        secondary=describe({"before": before[SECONDARY], "after": after[SECONDARY]}),
        secondary_files_changed=changed_files(files_before[SECONDARY], files_after[SECONDARY]),
        primary_files_changed=changed_files(files_before[PRIMARY], files_after[PRIMARY]),
        other_peer="untouched" if same_process(before[PRIMARY], after[PRIMARY]) else "restarted or down",
    )

    if not same_process(before[SECONDARY], after[SECONDARY]) and reason is None:
        problems.append("expected the secondary's restart to meet the fault (%r in its journal); saw none" % DHCPD_REASON)
    if same_process(before[SECONDARY], after[SECONDARY]) and not result["secondary_files_changed"]:
        problems.append("expected the fault to reach the secondary's restart (the rollback path); the run changed "
                        "nothing (refused before any change?), exit %d:\n%s" % (run.rc, run.errors(2000)))
    problems += secret_shown(run, secret)
    if run.rc == 0:
        problems.append("expected site to fail (a peer had to be rolled back); it exited 0")
    for needle, what in ((SECONDARY, "the host"), (DHCPD_REASON, "dhcpd's reason")):
        if needle not in run.output:
            problems.append("expected the run's error to name %s (%r); saw:\n%s" % (what, needle, run.errors(2500)))
    if not names_pair(run.output):
        problems.append("expected the run's error to name the pair %r" % PAIR)
    if after[SECONDARY] is None:
        problems.append("expected the secondary's dhcpd running again after the rollback; pidof finds none")
    elif secondary_back is None:
        problems.append("expected the secondary's new dhcpd (%s) to log its move to normal" % after[SECONDARY])
    if result["secondary_files_changed"]:
        problems.append("expected the secondary's files put back; these differ from before the run: %s"
                        % result["secondary_files_changed"])
    if not same_process(before[PRIMARY], after[PRIMARY]):
        problems.append("expected the primary never restarted; before %s, after %s" % (before[PRIMARY], after[PRIMARY]))
    stops = [entry.message for entry in journals[PRIMARY] if entry.message.startswith("Stopping")]
    if stops or result["primary_files_changed"]:
        problems.append("expected the primary untouched; its journal has %s, changed files %s" % (
            stops, result["primary_files_changed"]))
    if load["unanswered"]:
        problems.append("expected every request answered; %d of %d were not (requests %s); timeline %s" % (
            len(load["unanswered"]), load["asked"], load["unanswered"], timeline(records)))
    print("rollback: asked %(asked)d, answered %(answered)d, longest gap %(longest_gap_s)s s, answered by "
          "%(answered_by)s" % load)
    print("rollback: %s" % json.dumps({k: v for k, v in result.items() if k not in load}))
    print("timeline (p/s answered, - unanswered): %s" % timeline(records))
    assert not problems, "\n".join(problems)


def test_3_missing_interface_is_refused_before_any_change(figures):
    before, files_before = processes(), all_checksums()
    assert all(before.values()), "expected dhcpd running on both peers; saw %s" % describe(before)
    override = host_override("nosuch", SECONDARY, {"dhcp_failover_interfaces": ["nosuch0"]})
    start = time.time()
    run = run_playbook("site", *GOOD_VARS, inventories=[override], tag="site-nosuch")
    after, files_after = processes(), all_checksums()
    journals = {host: journal(host, start) for host in SERVERS}
    problems = secret_shown(run, omapi_secret())
    changed = {host: changed_files(files_before[host], files_after[host]) for host in SERVERS}
    restarted = [host for host in SERVERS if not same_process(before[host], after[host])]
    stopped = {host: [e.message for e in journals[host] if e.message.startswith("Stopping")] for host in SERVERS}
    if run.rc == 0:
        problems.append("expected site to refuse an interface that does not exist; it exited 0")
    for needle in (SECONDARY, "nosuch0", "dhcp_failover_interfaces"):
        if needle not in run.output:
            problems.append("expected the refusal to name %r; saw:\n%s" % (needle, run.errors(2500)))
    if any(changed.values()) or restarted or any(stopped.values()):
        problems.append("expected no host to change; changed files %s, restarted %s (before %s, after %s), "
                        "stops in the journal %s" % (changed, restarted, describe(before), describe(after), stopped))
    if run.rc != 0 and not (any(changed.values()) or restarted):
        verdict = "refused, nothing changed"
    else:
        verdict = "exit %d, changed %s, restarted %s" % (
            run.rc, sorted(host for host in SERVERS if changed[host]) or "nothing", restarted or "nothing")
    figures["refused"] = {"site_rc": run.rc, "site_seconds": run.seconds, "changed_files": changed,
                          "restarted": restarted, "verdict": verdict}
    assert not problems, "\n".join(problems)


def test_4_second_controller_rotates_nothing_and_maintenance_still_works(figures, tmp_path):
    before, files_before = processes(), all_checksums()
    assert all(before.values()), "expected dhcpd running on both peers; saw %s" % describe(before)
    home = tmp_path / "second-controller"
    home.mkdir()
    secret = omapi_secret()
    start = time.time()
    run = run_playbook("site", *GOOD_VARS, env={"HOME": str(home)}, tag="site-second-controller")
    after, files_after = processes(), all_checksums()
    journals = {host: journal(host, start) for host in SERVERS}
    problems = secret_shown(run, secret, omapi_secret())
    key_changed = [host for host in SERVERS if files_before[host][KEY_FILE] != files_after[host][KEY_FILE]]
    restarted = [host for host in SERVERS if not same_process(before[host], after[host])]
    stopped = {host: [e.message for e in journals[host] if e.message.startswith("Stopping")] for host in SERVERS}
    if key_changed:
        problems.append("expected no key file change from a controller without the key; %s changed on %s" % (
            KEY_FILE, key_changed))
    if restarted or any(stopped.values()):
        problems.append("expected no restart from a controller without the key; restarted %s (before %s, after %s), "
                        "stops %s" % (restarted, describe(before), describe(after), stopped))
    if run.rc != 0 and "dhcp_failover_omapi_secret" not in run.output:
        problems.append("expected site either to reuse the servers' key (exit 0) or to refuse saying how to provide "
                        "it (dhcp_failover_omapi_secret); saw exit %d:\n%s" % (run.rc, run.errors(2500)))
    if key_changed or restarted:
        verdict = "exit %d, key file changed on %s, restarted %s" % (run.rc, key_changed or "none", restarted or "none")
    else:
        verdict = "%s, nothing changed" % ("key reused (exit 0)" if run.rc == 0 else "refused (exit %d)" % run.rc)
    result = figures["second_controller"] = {
        "site_rc": run.rc, "site_seconds": run.seconds, "key_file_changed_on": key_changed, "restarted": restarted,
        "verdict": verdict,
    }

    report_path = EPHEMERAL / "maintenance.json"
    report_path.unlink(missing_ok=True)
    start = time.time()
    maintenance = run_playbook("maintenance", "dhcp_failover_maintenance_report=%s" % report_path,
                               tag="maintenance-first-controller")
    problems += secret_shown(maintenance, secret, omapi_secret())
    final = processes()
    journals = {host: journal(host, start) for host in SERVERS}
    reports = json.loads(report_path.read_text())["servers"] if report_path.exists() else []
    passed = {item["host"]: item.get("passed") for item in reports}
    normal_again = {host: bool(final[host] and moved_to(journals[host], final[host].pid, "normal")) for host in SERVERS}
    result.update(maintenance="exit %d in %ss, passed %s" % (maintenance.rc, maintenance.seconds, passed),
                  maintenance_normal_again=normal_again)
    if maintenance.rc != 0:
        problems.append("expected maintenance from the first controller to work (exit 0); saw exit %d:\n%s" % (
            maintenance.rc, maintenance.errors(3000)))
    if passed != {PRIMARY: True, SECONDARY: True}:
        problems.append("expected maintenance to report both servers passed; saw %s" % passed)
    for host in SERVERS:
        if same_process(after[host], final[host]) or not normal_again[host]:
            problems.append("expected maintenance to restart %s (%s) and its new dhcpd to log normal; before %s, after %s"
                            % (host, ADDRESS[host], after[host], final[host]))
    print("second controller: %s; maintenance: %s" % (result["verdict"], result["maintenance"]))
    assert not problems, "\n".join(problems)
