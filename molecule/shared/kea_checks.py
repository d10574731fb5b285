"""What a network engineer checks by hand on a Kea HA pair, for the Kea Molecule scenarios.

The oracle is not the collection: every state is read with `docker exec` from Kea itself, over its
control socket (a few lines of Python run inside the server container send one command and read
the JSON answer), or from the process table (`pidof kea-dhcp4`, /proc), or from Kea's journal
(HA_STATE_TRANSITION lines). Clients are busybox udhcpc runs in a client container of the full lab
image, one macvlan interface (its own MAC) per client identity, asking once.

Every wait polls a state until a deadline (no fixed sleeps) and fails saying what it saw.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import time

from lab_checks import parse_lease_blocks

UNIT = "kea-dhcp4-server"
SOCKET = "/run/kea/kea4-ctrl-socket"
CONFIG = "/etc/kea/kea-dhcp4.conf"
LEASES = "/var/lib/kea/kea-leases4.csv"

# Sends one command to the control socket and prints Kea's answer; run with python3 -c inside the
# server (bare lab images have python3, no socat).
_CTL = """
import json, socket, sys
command = json.loads(sys.argv[1])
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[2])
s.sendall(json.dumps(command).encode())
buf = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    try:
        json.loads(buf)
        break
    except ValueError:
        pass
sys.stdout.write(buf.decode())
"""


def docker_exec(container, *argv, timeout=60):
    proc = subprocess.run(["docker", "exec", container, *argv], capture_output=True, text=True, check=False,
                          timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def sh(container, script, timeout=120):
    """SCRIPT run with sh -c in CONTAINER: (exit code, stdout + stderr)."""
    rc, out, err = docker_exec(container, "sh", "-c", script, timeout=timeout)
    return rc, out + err


def plain(text):
    """TEXT without the terminal colours of Ansible's callback (Molecule forces them on)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def kea_command(container, command, arguments=None, socket=SOCKET):
    """Kea's answer ({result, text, arguments}) to COMMAND on CONTAINER's control socket; None when
    the socket does not answer (kea-dhcp4 not running)."""
    message = {"command": command}
    if arguments is not None:
        message["arguments"] = arguments
    rc, out, _err = docker_exec(container, "python3", "-c", _CTL, json.dumps(message), socket)
    if rc != 0 or not out:
        return None
    return json.loads(out)


def kea_pids(container):
    """kea-dhcp4's live processes (not zombies, not stopped), from the process table."""
    rc, out, _err = docker_exec(container, "sh", "-c",
                                "for p in $(pidof kea-dhcp4); do s=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null) && "
                                "case $s in Z|X|T|t) ;; *) echo $p ;; esac; done")
    return out.split()


def ha_status(container):
    """CONTAINER's HA view from status-get: {running, state, partner_state, mode, role, scopes,
    communication_interrupted, raw}. state None when the socket does not answer."""
    answer = kea_command(container, "status-get")
    seen = {"running": bool(kea_pids(container)), "state": None, "partner_state": None, "raw": answer}
    if answer and answer.get("result") == 0:
        ha = (answer.get("arguments", {}).get("high-availability") or [{}])[0]
        servers = ha.get("ha-servers", {})
        local, remote = servers.get("local", {}), servers.get("remote", {})
        seen.update(state=local.get("state"), role=local.get("role"), scopes=local.get("scopes"),
                    mode=ha.get("ha-mode"), partner_state=remote.get("last-state"),
                    communication_interrupted=remote.get("communication-interrupted"))
    return seen


def wait_ha(container, states, timeout=90, partner_states=None):
    """Wait until kea-dhcp4 runs on CONTAINER and its HA state is one of STATES (and, when given,
    the partner's last state one of PARTNER_STATES); return the status."""
    states = [states] if isinstance(states, str) else list(states)
    deadline = time.monotonic() + timeout
    while True:
        seen = ha_status(container)
        if seen["running"] and seen["state"] in states and (
                partner_states is None or seen["partner_state"] in partner_states):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(
                f"expected {container} running in HA state {states}"
                f"{' with partner in ' + str(partner_states) if partner_states else ''} within {timeout}s "
                f"(status-get over {SOCKET}); saw running={seen['running']}, state={seen['state']}, "
                f"partner={seen['partner_state']}")
        time.sleep(0.5)


def transitions(container, since=None):
    """Kea's HA_STATE_TRANSITION lines (journal of the unit), after SINCE (epoch seconds) when given."""
    argv = ["journalctl", "-u", UNIT, "--no-pager", "-o", "cat"]
    if since is not None:
        argv.append("--since=@%d" % int(since))
    _rc, out, _err = docker_exec(container, *argv)
    return [line for line in out.splitlines() if "HA_STATE_TRANSITION" in line]


def systemctl(container, action):
    rc, out, err = docker_exec(container, "systemctl", action, UNIT)
    assert rc == 0, f"expected `systemctl {action} {UNIT}` on {container} to succeed; saw rc {rc}: {out}{err}"


def kill9(container):
    rc, out, err = docker_exec(container, "systemctl", "kill", "--signal=SIGKILL", UNIT)
    assert rc == 0, f"expected systemctl kill --signal=SIGKILL {UNIT} on {container}; saw rc {rc}: {out}{err}"


def identity(prefix, number):
    """A locally administered MAC for client identity NUMBER (0..255) of a test."""
    return f"02:{prefix:02x}:00:00:00:{number:02x}"


_ACK = re.compile(r"lease of ([0-9.]+) obtained from ([0-9.]+)")


def udhcpc(client, mac, tries=1, wait=3):
    """One client identity MAC asks on a macvlan interface of CLIENT's eth0 with busybox udhcpc,
    TRIES discovers WAIT seconds apart, and keeps nothing (-q, script /bin/true).
    Returns (address, server) or (None, output) when no lease came."""
    script = (
        "ip link del kfid 2>/dev/null; "
        f"ip link add kfid link eth0 address {mac} type macvlan mode bridge && ip link set kfid up && "
        f"busybox udhcpc -i kfid -f -q -n -t {tries} -T {wait} -s /bin/true 2>&1; rc=$?; ip link del kfid; exit $rc")
    _rc, out, err = docker_exec(client, "sh", "-c", script)
    found = _ACK.findall(out + err)
    if found:
        return found[-1]
    return None, out + err


_BOUND = re.compile(r"bound at=([0-9.]+) ip=([0-9.]+) serverid=([0-9.]+) lease=([0-9]+)")


def udhcpc_lease(client, mac, report, tries=4):
    """MAC asks for a lease on a macvlan of CLIENT's eth0 (busybox udhcpc with the event script
    REPORT, molecule/migrate/files/udhcpc-report.sh: applies nothing, keeps nothing, no release):
    (address, server identifier, expiry epoch) or None."""
    ifc = "mc" + mac.replace(":", "")[-6:]
    script = (f"ip link del {ifc} 2>/dev/null; ip link add {ifc} link eth0 address {mac} type macvlan mode bridge && "
              f"ip link set {ifc} up && busybox udhcpc -i {ifc} -f -q -n -t {tries} -T 2 -s {report} 2>&1; rc=$?; "
              f"ip link del {ifc}; exit $rc")
    _rc, out, err = docker_exec(client, "sh", "-c", script, timeout=120)
    found = _BOUND.search(out + err)
    if not found:
        return None
    at, address, server, lease = found.groups()
    return address, server, float(at) + int(lease)


def hold_full_leases(client, macs, report, left=300, timeout=180):
    """Every MAC asks (udhcpc_lease) until it holds a lease with more than LEFT seconds to run:
    dhcpd's first lease to a client is MCLT long until the partner has acknowledged it, and the
    leases must outlive the scenario. {mac: (address, server identifier, expiry)}."""
    pending, held = list(macs), {}
    deadline = time.monotonic() + timeout
    while pending:
        for mac in list(pending):
            got = udhcpc_lease(client, mac, report)
            if got and got[2] - time.time() > left:
                held[mac] = got
                pending.remove(mac)
        assert time.monotonic() < deadline or not pending, f"expected full leases on {client} for {pending}"
        if pending:
            time.sleep(2)
    return held


def start_load(client, load, directory, tag):
    """The client load of molecule/migrate/files/client-load.sh (LOAD): a new MAC asks every 0.5 s."""
    docker_exec(client, "rm", "-rf", directory)
    rc, out, err = docker_exec(client, "sh", "-c", f"nohup {load} {directory} {tag} 2000 >/dev/null 2>&1 &")
    assert rc == 0, out + err


class LoadRecords:
    """What the client load saw: its request lines, the answer times, the unanswered requests."""

    def __init__(self, lines):
        self.records = lines
        self.bound = sorted(float(m.group(1)) for m in (re.search(r"bound at=([0-9.]+)", line) for line in lines) if m)
        self.unanswered = [line for line in lines if "bound at=" not in line]
        self.restarted = [line for line in lines if not re.search(r"attempts=1 ", line)]
        self.longest = max([b - a for a, b in zip(self.bound, self.bound[1:])] or [0])
        self.summary = (f"client asked {len(lines)}, answered {len(self.bound)}, longest gap between answers "
                        f"{self.longest:.1f} s")


def stop_load(client, directory):
    """Stops the client load, waits until every request has ended and returns its LoadRecords."""
    docker_exec(client, "touch", f"{directory}/stop")
    wait_until(f"the client load on {client} to end",
               lambda: docker_exec(client, "test", "-e", f"{directory}/done")[0] == 0, timeout=60)
    return LoadRecords(docker_exec(client, "cat", f"{directory}/records")[1].splitlines())


def held_by(container, prefix):
    """The addresses CONTAINER's DHCP server holds as active leases for clients whose MAC starts with
    PREFIX, read from the server itself: Kea's lease4-get-all when kea-dhcp4 runs (default state, not
    expired), else dhcpd's lease file (the last entry of each address, as dhcpd reads it, in binding
    state active). {address: mac}."""
    prefix = prefix.lower()
    if kea_pids(container):
        answer = kea_command(container, "lease4-get-all") or {}
        leases = (answer.get("arguments") or {}).get("leases", [])
        return {lease["ip-address"]: lease["hw-address"] for lease in leases
                if lease.get("hw-address", "").lower().startswith(prefix) and lease.get("state", 0) == 0
                and lease.get("cltt", 0) + lease.get("valid-lft", 0) > time.time()}
    _rc, text, _err = docker_exec(container, "cat", "/var/lib/dhcp/dhcpd.leases")
    latest = dict(parse_lease_blocks(text))
    return {address: fields["mac"] for address, fields in latest.items()
            if fields["binding_state"] == "active" and (fields["mac"] or "").lower().startswith(prefix)}


def lease4(container, address):
    """The lease Kea holds for ADDRESS (lease4-get over the control socket), or None."""
    answer = kea_command(container, "lease4-get", {"ip-address": address})
    if answer and answer.get("result") == 0:
        return answer["arguments"]
    return None


def wait_until(what, probe, timeout=30, interval=0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {what} within {timeout}s; last saw {value!r}")
        time.sleep(interval)


def octets(address):
    return tuple(int(x) for x in address.split("."))


def in_range(address, first, last):
    return octets(first) <= octets(address) <= octets(last)


# ---------------------------------------------------------------------------------------------
# The day-2 playbooks, run as a user runs them (ansible-playbook dhcp.failover.NAME) against the
# installed collection, with the scenario's inventory.

EPHEMERAL = pathlib.Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp"))
INVENTORY = str(pathlib.Path(os.environ.get("MOLECULE_INVENTORY_FILE", "/tmp/inventory/x")).parent)


def run_playbook(name, *extra_vars, expect_rc=0, inventory=None):
    argv = ["ansible-playbook", "dhcp.failover." + name, "-i", str(inventory or INVENTORY)]
    for item in extra_vars:
        argv += ["-e", item]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=os.environ, check=False)
    output = proc.stdout + proc.stderr
    (EPHEMERAL / ("playbook-%s.log" % name)).write_text(output)
    print(f"dhcp.failover.{name}: exit {proc.returncode} in {time.monotonic() - started:.1f} s")
    assert proc.returncode == expect_rc, "expected dhcp.failover.%s to exit %d, saw %d:\n%s" % (
        name, expect_rc, proc.returncode, output[-6000:])
    return output
