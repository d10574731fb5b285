# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The operator scenario's lab for tests/test_operator_paths.py: ansible-playbook run as an
operator runs it (the collection's playbooks by FQCN, Molecule's inventory of this scenario, SSH as
ops, -b), and the oracles, none of them the collection's own code, all read with `docker exec`
from the host: checksums of the files under /etc/dhcp, /etc/default and /etc/systemd/system and of
the installed packages, the dhcpd process (pidof, its start time from /proc/PID/stat), the states
from the raw journal of the unit's current run (_SYSTEMD_INVOCATION_ID). Every wait polls a state
to a deadline; nothing sleeps a fixed time."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import time

SCENARIO = pathlib.Path(__file__).resolve().parents[1]
REPO = SCENARIO.parents[1]
EPHEMERAL = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
INVENTORY = str(pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)
# This module's own inventory source, given after Molecule's: the host variables a test changed.
OVERRIDE = EPHEMERAL / "override-operator-paths.yml"
LOGS = REPO / "build" / "operator-logs"
shutil.rmtree(LOGS, ignore_errors=True)         # this run's logs and reports only
MCLT = 30
PLAYBOOK_TIMEOUT = 900

PAIRS = {
    "opa": {"primary": "dhcpf-op-a1", "secondary": "dhcpf-op-a2"},
    "opb": {"primary": "dhcpf-op-b1", "secondary": "dhcpf-op-b2"},
}
ADDRESS = {"dhcpf-op-a1": "10.231.52.2", "dhcpf-op-a2": "10.231.52.3",
           "dhcpf-op-b1": "10.231.53.2", "dhcpf-op-b2": "10.231.53.3"}
SERVERS = [PAIRS[pair][role] for pair in PAIRS for role in ("primary", "secondary")]

# Host variables the tests set so far (every later run keeps them, as an edited inventory would);
# a pytest run of its own on a lab that verify left up starts from what it left.
_OVERRIDES: dict = json.loads(OVERRIDE.read_text())["all"]["hosts"] if OVERRIDE.exists() else {}


def sh(container, command, check=True, timeout=60):
    """COMMAND with sh -c in CONTAINER (docker exec)."""
    proc = subprocess.run(["docker", "exec", container, "sh", "-c", command], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("%s: `%s` exited %d:\n%s%s" % (container, command, proc.returncode, proc.stdout, proc.stderr))
    return proc


def docker(*args):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=True, timeout=180)


def set_pair_vars(pair, **variables):
    """Set VARIABLES on both servers of PAIR for every later run (this module's inventory source)."""
    for role in ("primary", "secondary"):
        _OVERRIDES.setdefault(PAIRS[pair][role], {}).update(variables)
    OVERRIDE.write_text(json.dumps({"all": {"hosts": _OVERRIDES}}, indent=1) + "\n")


def run(playbook, *args, become=True, tag=None):
    """ansible-playbook PLAYBOOK (a dhcp.failover FQCN or a path) on the scenario's inventory, -b
    unless BECOME is false; the output is kept in build/operator-logs/TAG.log."""
    argv = ["ansible-playbook", "-i", INVENTORY]
    if OVERRIDE.exists():
        argv += ["-i", str(OVERRIDE)]
    argv += (["-b"] if become else []) + [playbook] + list(args)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("ANSIBLE_DIFF_ALWAYS", None)       # the check step's --diff only
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=PLAYBOOK_TIMEOUT,
                          cwd=str(REPO))
    LOGS.mkdir(parents=True, exist_ok=True)
    name = tag or re.sub(r"[^\w]+", "_", " ".join((playbook,) + args))[:80]
    (LOGS / ("%s.log" % name)).write_text(" ".join(argv) + "\n" + proc.stdout + proc.stderr)
    return proc


def recap(output):
    """{host: {ok: N, changed: N, ...}} from the PLAY RECAP lines of ansible-playbook's output."""
    return {host: {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", rest)}
            for host, rest in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.MULTILINE)}


def changed(result):
    return {host: counts.get("changed", 0) for host, counts in recap(result.stdout).items()}


def output(result):
    """What ansible-playbook printed: its errors (fatal lines included) go to stderr."""
    return result.stdout + result.stderr


def tail(result):
    return result.stdout[-4000:] + result.stderr[-2000:]


# --- oracles ---------------------------------------------------------------------------------


def files(container):
    """Checksums of everything under /etc/dhcp, the defaults file, the units and the package list."""
    return sh(container, "find /etc/dhcp /etc/default/isc-dhcp-server /etc/systemd/system -type f "
                         "-exec sha256sum {} + 2>/dev/null | sort; "
                         "dpkg-query -W -f '${Package} ${Version} ${Status}\\n' | sha256sum", check=False).stdout


def dhcpd(container):
    """(pid, start time in clock ticks) of the running dhcpd, or None."""
    out = sh(container, 'pid=$(pidof dhcpd) && echo $pid $(cut -d" " -f22 /proc/$pid/stat)', check=False).stdout.split()
    return (int(out[0]), int(out[1])) if len(out) == 2 else None


def started_at(container):
    """Epoch of the running dhcpd's start (its start ticks since boot, /proc/uptime, CLK_TCK)."""
    out = sh(container, 'echo $(date +%s.%N) $(cut -d" " -f1 /proc/uptime) $(getconf CLK_TCK)').stdout.split()
    now, uptime, hertz = float(out[0]), float(out[1]), int(out[2])
    return now - uptime + dhcpd(container)[1] / hertz


def moves(container):
    """[(epoch, old, new)] of this server's own moves in the unit's current run (raw journal)."""
    invocation = sh(container, "systemctl show -p InvocationID --value isc-dhcp-server", check=False).stdout.strip()
    if not invocation:
        return []
    text = sh(container, "journalctl --no-pager -o short-unix _SYSTEMD_INVOCATION_ID=%s" % invocation,
              check=False).stdout
    return [(float(at), old, new) for at, old, new in
            re.findall(r"^(\d+\.\d+) .*failover peer \w+: I move from (\S+) to (\S+)$", text, re.MULTILINE)]


def is_normal(container):
    return bool(dhcpd(container)) and (moves(container) or [(0, "", "")])[-1][2] == "normal"


def wait_normal(*containers, timeout=MCLT * 3 + 60):
    deadline = time.monotonic() + timeout
    pending = list(containers or SERVERS)
    while pending:
        pending = [name for name in pending if not is_normal(name)]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not pending, "not normal in their current dhcpd run: %s (moves %s)" % (
        pending, {name: moves(name) for name in pending})


def wait_booted(container, timeout=120):
    """After docker start: systemd up, sshd answering on port 22 (from the host)."""
    deadline = time.monotonic() + timeout
    state = banner = None
    while time.monotonic() < deadline:
        state = sh(container, "systemctl is-system-running", check=False).stdout.strip()
        if state in ("running", "degraded"):
            try:
                with socket.create_connection((ADDRESS[container], 22), timeout=5) as conn:
                    banner = conn.recv(64)
                if banner.startswith(b"SSH-"):
                    return
            except OSError as error:
                banner = str(error)
        time.sleep(1)
    raise AssertionError("%s: not booted within %ds (systemd %r, sshd %r)" % (container, timeout, state, banner))
