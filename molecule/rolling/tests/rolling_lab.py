# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rolling scenario's lab and its oracle, independent of the collection's own modules.

- Is dhcpd running, and since when: ``pidof dhcpd`` and its start time from ``/proc`` (Debian's
  LSB unit has MainPID 0, and its "active" says nothing about the daemon).
- What a server did: its raw journal (``journalctl -u isc-dhcp-server -o json``) from the moment
  the step under test began, so no line of an earlier run counts; dhcpd's own lines are tied to
  the dhcpd process that wrote them (``_PID``).
- Did a file change: sha256 of the live files (never their content: the key file holds the secret).
- Were clients served: the client's own record (client-load.sh) of every request, its answer and
  the DHCP server identifier of the server that answered.

Every wait polls a state until a deadline; nothing sleeps a fixed time.
"""

from __future__ import annotations

import collections
import json
import os
import pathlib
import re
import shlex
import subprocess
import time
from dataclasses import dataclass

PRIMARY = "dhcpf-roll-p"
SECONDARY = "dhcpf-roll-s"
CLIENT = "dhcpf-roll-c"
SERVERS = (PRIMARY, SECONDARY)
ADDRESS = {PRIMARY: "10.231.44.2", SECONDARY: "10.231.44.3"}
HOST_OF = {address: host for host, address in ADDRESS.items()}
PAIR = "roll"
PEER = "roll"
UNIT = "isc-dhcp-server"
KEY_FILE = "/etc/dhcp/omapi-key.conf"
# What the role writes and dhcpd reads when it starts.
LIVE_FILES = ("/etc/dhcp/dhcpd.conf", "/etc/default/isc-dhcp-server", KEY_FILE)
# No playbook run of this scenario should come near it; it keeps a hung run from hanging verify.
PLAYBOOK_TIMEOUT = 900

SCENARIO = pathlib.Path(__file__).resolve().parents[1]
REPO = SCENARIO.parents[1]
EPHEMERAL = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
INVENTORY = str(pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)
LOGS = REPO / "build" / "rolling-logs"


def sh(container, command, check=True, timeout=60):
    """COMMAND with sh -c in CONTAINER (docker exec)."""
    proc = subprocess.run(["docker", "exec", container, "sh", "-c", command],
                          capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("expected `%s` to succeed in %s; saw rc %d: %s%s" % (
            command, container, proc.returncode, proc.stdout, proc.stderr))
    return proc


def wait_until(what, probe, timeout, interval=0.5):
    """Poll PROBE until it returns a truthy value; fail saying WHAT was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("expected %s within %ds; last saw %r" % (what, timeout, value))
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Servers


@dataclass(frozen=True)
class Dhcpd:
    """The running dhcpd process of a server."""

    pid: int
    started: float  # epoch seconds (10 ms: the kernel's clock ticks)

    def __str__(self):
        return "pid %d started %s" % (self.pid, clock(self.started))


def clock(epoch):
    return time.strftime("%H:%M:%S", time.gmtime(epoch)) + (".%03d" % int((epoch % 1) * 1000))


# Uptime and "now" are read in the same command as the process's start time (clock ticks since
# boot), so that the start time becomes an epoch time to 10 ms. The containers share the host's
# kernel: their clocks and the journal's timestamps are the same clock.
_PROCESS = (
    "pids=$(pidof dhcpd) || exit 3; set -- $pids; [ $# -eq 1 ] || { echo \"several dhcpd: $*\"; exit 4; }; "
    "echo $1 $(cut -d' ' -f22 /proc/$1/stat) $(getconf CLK_TCK) $(cut -d' ' -f1 /proc/uptime) $(date +%s.%N)"
)


def dhcpd(container):
    """The dhcpd process running in CONTAINER, or None."""
    proc = sh(container, _PROCESS, check=False)
    if proc.returncode == 3:
        return None
    assert proc.returncode == 0, "expected pidof/proc to describe dhcpd in %s; saw rc %d: %s%s" % (
        container, proc.returncode, proc.stdout, proc.stderr)
    pid, ticks, hertz, uptime, now = proc.stdout.split()
    return Dhcpd(int(pid), float(now) - (float(uptime) - int(ticks) / int(hertz)))


def processes():
    return {host: dhcpd(host) for host in SERVERS}


def checksums(container, paths=LIVE_FILES):
    """sha256 of each live file (or 'absent'); never the content."""
    script = "; ".join('if [ -e %s ]; then sha256sum %s; else echo "absent %s"; fi' % ((shlex.quote(p),) * 3)
                       for p in paths)
    sums = {}
    for line in sh(container, script).stdout.splitlines():
        digest, path = line.split(None, 1)
        sums[path] = digest
    return sums


def all_checksums():
    return {host: checksums(host) for host in SERVERS}


def changed_files(before, after):
    return sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))


@dataclass(frozen=True)
class Entry:
    """One journald record of the unit."""

    time: float
    pid: int
    message: str


def journal(container, since):
    """The unit's raw journal records from SINCE (epoch) on: systemd's, the init script's, dhcpd's."""
    out = sh(container, "journalctl -u %s --since @%d -o json --no-pager" % (UNIT, int(since)), timeout=120).stdout
    entries = []
    for line in out.splitlines():
        record = json.loads(line)
        moment = int(record["__REALTIME_TIMESTAMP"]) / 1e6
        if moment < since:
            continue
        message = record.get("MESSAGE") or ""
        if isinstance(message, list):  # journald's form of a message that is not UTF-8
            message = bytes(message).decode("utf-8", "replace")
        entries.append(Entry(moment, int(record.get("_PID") or 0), message))
    return entries


_MOVE = re.compile(r"failover peer %s: I move from (\S+) to (\S+)" % re.escape(PEER))


def moved_to(entries, pid, state):
    """When dhcpd PID logged its move to STATE (the first time), or None."""
    for entry in entries:
        match = _MOVE.search(entry.message)
        if entry.pid == pid and match and match.group(2) == state:
            return entry.time
    return None


def disturbed(entries, before, after):
    """When the restart of a server that ran dhcpd BEFORE began: systemd or the init script began
    stopping it, its old dhcpd moved to shutdown (an OMAPI handover before the stop), or at the
    latest its new dhcpd (AFTER) started. None if nothing of the kind happened. (Its old dhcpd
    moving to communications-interrupted or partner-down is what the partner's restart does to
    it, not its own restart.)"""
    moments = [entry.time for entry in entries if entry.message.startswith("Stopping")]
    if before is not None:
        for entry in entries:
            match = _MOVE.search(entry.message)
            if entry.pid == before.pid and match and match.group(2) == "shutdown":
                moments.append(entry.time)
    if after is not None and (before is None or after.pid != before.pid):
        moments.append(after.started)
    return min(moments) if moments else None


# Every OMAPI secret read from a server: masked in whatever this scenario prints.
KNOWN_SECRETS = set()


def omapi_secret(container=PRIMARY):
    """The OMAPI secret in the server's key file (to check that no output shows it; never printed)."""
    text = sh(container, "cat %s 2>/dev/null || true" % KEY_FILE).stdout
    match = re.search(r'secret\s+"?([^";\s]+)', text)
    if not match:
        return None
    KNOWN_SECRETS.add(match.group(1))
    return match.group(1)


def masked(text):
    for secret in KNOWN_SECRETS:
        text = text.replace(secret, "********")
    return text


def first_line(entries, text):
    for entry in entries:
        if text in entry.message:
            return entry
    return None


# ---------------------------------------------------------------------------------------------
# Clients


@dataclass(frozen=True)
class Request:
    """One lease request as the client saw it (a line of client-load.sh's record)."""

    n: int
    mac: str
    asked: float
    ended: float
    rc: int
    discovers: int
    bound_at: float | None
    address: str | None
    server: str | None
    lease: int | None

    @property
    def answered(self):
        return self.bound_at is not None

    @property
    def host(self):
        return HOST_OF.get(self.server, self.server)


def _request(line):
    fields = dict(item.split("=", 1) for item in line.split() if "=" in item)
    bound = "at" in fields
    return Request(
        n=int(fields["n"]), mac=fields["mac"], asked=float(fields["asked"]), ended=float(fields["ended"]),
        rc=int(fields["rc"]), discovers=int(fields["discovers"]),
        bound_at=float(fields["at"]) if bound else None,
        address=fields.get("ip") if bound else None,
        server=fields.get("serverid") if bound else None,
        lease=int(fields["lease"]) if bound and fields.get("lease") else None,
    )


class ClientLoad:
    """client-load.sh in the client container: a new client every 0.5 s until stopped (at most
    MAX_REQUESTS). TAG (1..255) keeps the MACs of one load apart from every other load's."""

    scripts = ("client-load.sh", "udhcpc-report.sh")
    installed = False

    def __init__(self, tag, max_requests=1200):
        self.tag = tag
        self.max_requests = max_requests
        self.dir = "/run/rolling-load/%d" % tag

    @classmethod
    def install(cls):
        if cls.installed:
            return
        for name in cls.scripts:
            proc = subprocess.run(["docker", "cp", str(SCENARIO / "files" / name), "%s:/usr/local/sbin/%s" % (CLIENT, name)],
                                  capture_output=True, text=True, check=False)
            assert proc.returncode == 0, "expected docker cp of %s to %s; saw %s" % (name, CLIENT, proc.stderr)
        cls.installed = True

    def start(self):
        self.install()
        sh(CLIENT, "rm -rf %s" % self.dir)
        proc = subprocess.run(["docker", "exec", "-d", CLIENT, "/usr/local/sbin/client-load.sh", self.dir,
                               str(self.tag), str(self.max_requests)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, "expected the client load to start in %s; saw %s" % (CLIENT, proc.stderr)
        return self

    def records(self):
        out = sh(CLIENT, "cat %s/records 2>/dev/null || true" % self.dir).stdout
        return sorted((_request(line) for line in out.splitlines() if line.strip()), key=lambda r: r.n)

    def wait_for_answers(self, count, timeout, since=0.0, host=None):
        """Wait until COUNT requests asked at SINCE or later were answered (by HOST if given)."""
        def probe():
            answered = [r for r in self.records() if r.answered and r.asked >= since and host in (None, r.host)]
            return answered if len(answered) >= count else None
        return wait_until("%d request(s) asked after %s answered%s" % (count, clock(since), " by %s" % host if host else ""),
                          probe, timeout)

    def stop(self, timeout=30):
        """Ask no more; wait until every request in flight has ended; return the record."""
        sh(CLIENT, "touch %s/stop" % self.dir)
        wait_until("the client load to end", lambda: sh(CLIENT, "test -e %s/done" % self.dir, check=False).returncode == 0,
                   timeout)
        records = self.records()
        LOGS.mkdir(parents=True, exist_ok=True)
        (LOGS / ("client-load-%d.txt" % self.tag)).write_text(sh(CLIENT, "cat %s/records" % self.dir).stdout)
        return records


def load_figures(records):
    """What a user of the network noticed: requests asked and answered, the longest time in which
    no client got a lease (from the first question, between answers, to the last question), the
    longest wait of one client, and who answered."""
    answered = [r for r in records if r.answered]
    figures = {
        "timeline": timeline(records),
        "asked": len(records),
        "answered": len(answered),
        "unanswered": [r.n for r in records if not r.answered],
        "answered_by": dict(collections.Counter(r.host for r in answered)),
        "retried": sum(1 for r in answered if r.discovers > 1),
    }
    if records:
        points = sorted([min(r.asked for r in records), max(r.asked for r in records)] + [r.bound_at for r in answered])
        figures["longest_gap_s"] = round(max(b - a for a, b in zip(points, points[1:])), 2) if len(points) > 1 else None
        figures["longest_wait_s"] = round(max((r.bound_at - r.asked for r in answered), default=0.0), 2)
        figures["duration_s"] = round(max(r.ended for r in records) - min(r.asked for r in records), 1)
    return figures


def timeline(records, limit=400):
    """The record, one character per request in order: first letter of the answering host's role
    (p/s) or '-' for an unanswered request; for a failure message."""
    marks = []
    for r in records[:limit]:
        marks.append("-" if not r.answered else ("p" if r.host == PRIMARY else "s" if r.host == SECONDARY else "?"))
    return "".join(marks)


# ---------------------------------------------------------------------------------------------
# Playbooks


@dataclass
class Run:
    name: str
    rc: int
    output: str
    started: float
    ended: float

    @property
    def seconds(self):
        return round(self.ended - self.started, 1)

    def tail(self, chars=4000):
        return masked(self.output)[-chars:]

    def errors(self, chars=3000):
        """What the run said when it failed: ansible's error lines (else the end of the output)."""
        lines = [line for line in masked(self.output).splitlines()
                 if re.search(r"fatal: |\[ERROR\]|FAILED!|^failed: |msg:", line)]
        return "\n".join(lines)[-chars:] if lines else self.tail(chars)


def run_playbook(name, *extra_vars, inventories=(), env=None, tag=None):
    """ansible-playbook dhcp.failover.NAME on the scenario's inventory (plus INVENTORIES, given
    after it so that their host variables win), as a user runs it; the output (OMAPI secrets
    masked) is kept as build/rolling-logs/TAG.log, which outlives Molecule's ephemeral directory."""
    argv = ["ansible-playbook", "dhcp.failover." + name, "-i", INVENTORY]
    for extra in inventories:
        argv += ["-i", str(extra)]
    for item in extra_vars:
        argv += ["-e", item]
    started = time.time()
    proc = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ, **(env or {})), check=False,
                          timeout=PLAYBOOK_TIMEOUT)
    ended = time.time()
    output = proc.stdout + proc.stderr
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / ("%s.log" % (tag or name))).write_text(masked(output))
    return Run(name, proc.returncode, output, started, ended)


def host_override(name, host, variables):
    """A one-host inventory source setting VARIABLES for HOST (given after the scenario's own)."""
    path = EPHEMERAL / ("override-%s.yml" % name)
    path.write_text(json.dumps({"all": {"hosts": {host: variables}}}, indent=1) + "\n")
    return path
