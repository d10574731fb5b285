"""What a network engineer checks by hand on a dhcpd failover pair, for the Molecule scenarios.

Shared by every scenario's tests/conftest.py (imported, never copied). The helpers drive real
clients (ISC dhclient, busybox udhcpc) inside a client container, read the servers' journald and
leases files, and change states with the collection's dhcp.failover.state module.

The oracle is not the collection: whether dhcpd runs is the dhcpd process (`pidof dhcpd` and
/proc), not `systemctl is-active` (Debian's LSB unit stays `active (exited)` after kill -9); which
failover state a server is in is read from the raw journal of the unit's current run (its
InvocationID), never from dhcp.failover.state_info, so lines of an earlier run cannot satisfy a
check and a dead dhcpd has no state.

Every helper that waits polls a state until a deadline: no fixed sleeps. Every failed check raises
AssertionError saying what was expected and what was seen.
"""

from __future__ import annotations

import calendar
import collections
import json
import re
import shlex
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import testinfra
from testinfra.modules.ansible import AnsibleException

UNIT = "isc-dhcp-server"
CONFIG = "/etc/dhcp/dhcpd.conf"
LEASES = "/var/lib/dhcp/dhcpd.leases"
FAILOVER_PORT = 647

# A client's first DISCOVER carries secs=0; dhclient's next one comes after its first retransmit
# interval (3 s or more), when `secs` may already exceed `load balance max seconds` and both
# servers answer. A lease obtained with a single DISCOVER shows who load balancing picked.
_DHCLIENT_OFFER = re.compile(r"DHCPOFFER of (\S+) from (\S+)")
_DHCLIENT_ACK = re.compile(r"DHCPACK of (\S+) from (\S+)")
_UDHCPC_ACK = re.compile(r"lease of ([0-9.]+) obtained from ([0-9.]+)")
_LEASE_BLOCK = re.compile(r"^lease (\S+) \{(.*?)^\}", re.M | re.S)


def lab_host(name, inventory):
    """A testinfra host reached through Molecule's inventory (docker exec, and host.ansible)."""
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=inventory)


def identity(prefix, number):
    """A locally administered MAC address for client identity NUMBER (0..255) of a test."""
    return f"02:{prefix:02x}:00:00:00:{number:02x}"


# ---------------------------------------------------------------------------------------------
# Clients


@dataclass
class Lease:
    """One DHCP exchange as a client saw it."""

    client: str
    mac: str
    address: str
    server: str
    discovers: int
    options: dict = field(default_factory=dict)
    output: str = ""
    offered_by: list = field(default_factory=list)

    @property
    def first_attempt(self):
        return self.discovers == 1


def _run(host, command):
    return host.run(command)


# A client identity (MAC) is a macvlan interface on the client's eth0: the client's own lease on
# eth0 stays as it is, and each identity is a separate client to the servers.
_IDENTITY_IFACE = "dhcpid"


@contextmanager
def _identity(client, mac):
    if mac is None:
        iface = "eth0"
        mac = client.check_output(f"cat /sys/class/net/{iface}/address").strip()
        res = _run(client, f"ip addr flush dev {iface}")
        assert res.rc == 0, f"expected to drop the client's addresses on {iface}; saw {res.stderr}"
        yield iface, mac
        return
    iface = _IDENTITY_IFACE
    _run(client, f"ip link del {iface}")
    res = _run(client, f"ip link add {iface} link eth0 address {mac} type macvlan mode bridge && ip link set {iface} up")
    assert res.rc == 0, f"expected a macvlan client interface with MAC {mac}; saw rc {res.rc}: {res.stderr}"
    try:
        yield iface, mac
    finally:
        _run(client, f"ip link del {iface}")


def _dhclient_files(iface, mac):
    """Lease and pid file of the client on eth0, or of one identity (kept per MAC for release)."""
    if iface == "eth0":
        return "-lf /var/lib/dhcp/dhclient.eth0.leases -pf /run/dhclient.eth0.pid"
    tag = mac.replace(":", "")
    return f"-lf /var/lib/dhcp/dhclient.{tag}.leases -pf /run/dhclient.{tag}.pid -sf /bin/true"


def dhclient_lease(client, mac=None, timeout=20):
    """Get a lease with ISC dhclient (one try, `-1`) and report who offered and acknowledged it.

    Without MAC: the client itself on eth0 drops its Docker address and runs the real
    dhclient-script (address, default route, resolv.conf), and dhclient stays to renew, as on a
    real machine. With MAC: a separate client identity that only takes the lease.
    """
    with _identity(client, mac) as (iface, mac):
        files = _dhclient_files(iface, mac)
        lease_file, pid_file = files.split()[1], files.split()[3]
        if iface != "eth0":
            # A new client: no lease to ask for again (INIT-REBOOT), so it starts with a DISCOVER.
            _run(client, f"rm -f {lease_file}")
        else:
            # The client's own dhclient from an earlier run would fight over eth0.
            _run(client, f"test -s {pid_file} && kill $(cat {pid_file})")
        res = _run(client, f"timeout {timeout} dhclient -v -1 {files} {iface}")
        output = res.stdout + res.stderr
        ack = _DHCLIENT_ACK.findall(output)
        assert res.rc == 0 and ack, (
            f"expected dhclient ({mac}) to get a DHCPACK within {timeout}s; saw rc {res.rc}:\n{output}"
        )
        options = dhclient_options(client, lease_file)
        if iface != "eth0":
            # Stop this identity's dhclient without releasing (SIGTERM; `dhclient -x` would send
            # one more REQUEST): the lease stays active on the servers.
            _run(client, f"kill $(cat {pid_file})")
    address, server = ack[-1]
    offered_by = [offerer for _offered, offerer in _DHCLIENT_OFFER.findall(output)]
    return Lease("dhclient", mac, address, server, output.count("DHCPDISCOVER"), options, output, offered_by)


def dhclient_release(client, mac=None):
    """`dhclient -r`: release the lease of the client on eth0 (or of identity MAC)."""
    with _identity(client, mac) as (iface, mac):
        res = _run(client, f"timeout 10 dhclient -v -r {_dhclient_files(iface, mac)} {iface}")
    output = res.stdout + res.stderr
    assert res.rc == 0 and "DHCPRELEASE" in output, (
        f"expected dhclient -r ({mac}) to send a DHCPRELEASE; saw rc {res.rc}:\n{output}"
    )
    return output


def dhclient_renew(client, mac, timeout=20):
    """The client identity MAC asks again for the lease it holds (dhclient -1 with its lease file
    kept: INIT-REBOOT, a broadcast DHCPREQUEST for its address, as a rebooted or a rebinding client
    does). Returns the Lease, whose `address` is what the server acknowledged."""
    with _identity(client, mac) as (iface, mac):
        files = _dhclient_files(iface, mac)
        lease_file, pid_file = files.split()[1], files.split()[3]
        res = _run(client, f"timeout {timeout} dhclient -v -1 {files} {iface}")
        output = res.stdout + res.stderr
        ack = _DHCLIENT_ACK.findall(output)
        assert res.rc == 0 and ack, (
            f"expected dhclient ({mac}) to get a DHCPACK for its lease within {timeout}s; saw rc {res.rc}:\n{output}"
        )
        options = dhclient_options(client, lease_file)
        _run(client, f"kill $(cat {pid_file})")
    address, server = ack[-1]
    offered_by = [offerer for _offered, offerer in _DHCLIENT_OFFER.findall(output)]
    return Lease("dhclient", mac, address, server, output.count("DHCPDISCOVER"), options, output, offered_by)


def dhclient_options(client, lease_file="/var/lib/dhcp/dhclient.eth0.leases"):
    """Options of the latest lease dhclient stored in LEASE_FILE."""
    text = client.file(lease_file).content_string
    blocks = text.split("lease {")
    assert len(blocks) > 1, f"expected a lease in the client's lease file; saw:\n{text}"
    return {name: value.strip('"') for name, value in re.findall(r"option (\S+) (.*?);", blocks[-1])}


# udhcpc hands the lease to its script in the environment; this script prints what matters.
_UDHCPC_SCRIPT = "/usr/local/sbin/udhcpc-report"
_UDHCPC_SCRIPT_TEXT = """#!/bin/sh
[ "$1" = bound ] && echo "bound ip=$ip serverid=$serverid router=$router dns=$dns domain=$domain lease=$lease"
exit 0
"""


def udhcpc_lease(client, mac=None, tries=2):
    """Get a lease with busybox udhcpc (a second, independent DHCP client implementation)."""
    script = client.file(_UDHCPC_SCRIPT)
    if not script.exists or script.content_string != _UDHCPC_SCRIPT_TEXT:
        res = _run(
            client,
            f"printf %s {shlex.quote(_UDHCPC_SCRIPT_TEXT)} > {_UDHCPC_SCRIPT} && chmod 0755 {_UDHCPC_SCRIPT}",
        )
        assert res.rc == 0, f"expected to write {_UDHCPC_SCRIPT}; saw {res.stderr}"
    with _identity(client, mac) as (iface, mac):
        # -T 3: the first retransmit comes after the servers' ping check (about 1 s) has answered.
        res = _run(client, f"busybox udhcpc -i {iface} -f -q -n -t {tries} -T 3 -s {_UDHCPC_SCRIPT}")
    output = res.stdout + res.stderr
    ack = _UDHCPC_ACK.findall(output)
    assert res.rc == 0 and ack, f"expected udhcpc ({mac}) to obtain a lease; saw rc {res.rc}:\n{output}"
    address, server = ack[-1]
    bound = re.search(r"^bound (.*)$", output, re.M)
    options = dict(kv.split("=", 1) for kv in bound.group(1).split(" ") if "=" in kv) if bound else {}
    return Lease("udhcpc", mac, address, server, output.count("broadcasting discover"), options, output)


def assert_served_by(lease, answered_by_address, why=""):
    assert lease.server == answered_by_address, (
        f"expected {lease.client} {lease.mac} to be answered by {answered_by_address}{why}; "
        f"saw {lease.address} from {lease.server}:\n{lease.output}"
    )


def _octets(address):
    return tuple(int(x) for x in address.split("."))


def assert_in_pool(lease, first, last):
    assert _octets(first) <= _octets(lease.address) <= _octets(last), (
        f"expected an address in the pool {first}-{last} for {lease.mac}; saw {lease.address}"
    )


@contextmanager
def first_attempt_offers(client, prefix, count, pool):
    """COUNT fresh client identities ask once each: yields ({server: [mac]}, leases), grouped by the
    server that offered to the first DISCOVER (secs still below load balance max seconds, so only
    the server that load balancing picks answers). Every lease is released again on exit, so a
    client that still holds one does not change who answers later."""
    offered = collections.defaultdict(list)
    leases = []
    try:
        for number in range(count):
            lease = dhclient_lease(client, identity(prefix, number))
            leases.append(lease)
            assert lease.first_attempt and len(lease.offered_by) == 1, (
                f"expected {lease.mac} to get one offer for its first DISCOVER (secs below load balance "
                f"max seconds); saw {lease.discovers} DISCOVERs, offers from {lease.offered_by}:\n{lease.output}"
            )
            assert_in_pool(lease, *pool)
            offered[lease.offered_by[0]].append(lease.mac)
        print(f"first-attempt offers by server: { {k: len(v) for k, v in offered.items()} }")
        yield offered, leases
    finally:
        for lease in leases:
            dhclient_release(client, lease.mac)


# ---------------------------------------------------------------------------------------------
# Servers


def dhcpd_running(server):
    """Is a dhcpd process alive on SERVER (not a zombie, not stopped)? Judged by the process."""
    res = server.run(
        "for p in $(pidof dhcpd); do s=$(cut -d' ' -f3 /proc/$p/stat 2>/dev/null) && "
        "case $s in Z|X|T|t) ;; *) echo $p ;; esac; done"
    )
    return bool(res.stdout.split())


def assert_dhcpd_running(server, running=True):
    seen = dhcpd_running(server)
    assert seen == running, (
        f"expected dhcpd {'running' if running else 'not running'} on {server.backend.host} (pidof dhcpd, /proc); "
        f"saw pidof: {server.run('pidof dhcpd').stdout.strip()!r}, "
        f"unit: {server.run(f'systemctl show -p ActiveState -p SubState {UNIT}').stdout.split()}"
    )


def dhcpd_test(server, config=CONFIG):
    """`dhcpd -t`: does dhcpd accept the deployed configuration?"""
    return server.run(f"dhcpd -t -cf {config}")


def invocation_id(server):
    run = server.run(f"systemctl show -p InvocationID --value {UNIT}").stdout.strip()
    assert run, f"expected {UNIT} on {server.backend.host} to have an InvocationID (a current run)"
    return run


def journal(server, grep=None, since=None):
    """dhcpd's journald lines of the unit's CURRENT run (its InvocationID), optionally only those
    after SINCE (a `date +%s.%N` of the server) and filtered by a fixed string."""
    command = f"journalctl -u {UNIT} --no-pager -o cat _SYSTEMD_INVOCATION_ID={invocation_id(server)}"
    if since is not None:
        command += f" --since @{since}"
    lines = server.run(command).stdout.splitlines()
    if grep is not None:
        lines = [line for line in lines if grep in line]
    return lines


def journal_entries(server, grep=None, since=None):
    """Like journal(), with each line's journald timestamp: [(seconds since the epoch, line)]."""
    command = f"journalctl -u {UNIT} --no-pager -o json _SYSTEMD_INVOCATION_ID={invocation_id(server)}"
    if since is not None:
        command += f" --since @{since}"
    entries = []
    for raw in server.run(command).stdout.splitlines():
        entry = json.loads(raw)
        message = entry.get("MESSAGE")
        if isinstance(message, str) and (grep is None or grep in message):
            entries.append((int(entry["__REALTIME_TIMESTAMP"]) / 1e6, message))
    return entries


def server_now(server):
    """The server's clock, for journal(since=...)."""
    return server.check_output("date +%s.%N").strip()


_LEASE_TIME = re.compile(r"^\s*(starts|ends|tstp|tsfp|atsfp|cltt) (?:\d (\S+ \S+)|(never));", re.M)


def _lease_fields(body):
    """A lease block's binding state, MAC and times (seconds since the epoch; dhcpd writes UTC,
    'never' is None)."""
    state = re.search(r"^\s*binding state (\S+);", body, re.M)
    rewind = re.search(r"^\s*rewind binding state (\S+);", body, re.M)
    mac = re.search(r"hardware ethernet (\S+);", body)
    fields = {
        "binding_state": state.group(1) if state else None,
        "rewind_binding_state": rewind.group(1) if rewind else None,
        "mac": mac.group(1) if mac else None,
    }
    for name, stamp, _never in _LEASE_TIME.findall(body):
        fields[name] = calendar.timegm(time.strptime(stamp, "%Y/%m/%d %H:%M:%S")) if stamp else None
    return fields


def lease_blocks(server, path=LEASES):
    """Every lease block of the server's leases database, in file order: [(address, fields)].
    dhcpd appends a block on each change of a lease (the file is rewritten only at start-up and
    hourly), so this is also each lease's recent history."""
    return parse_lease_blocks(server.file(path).content_string)


def parse_lease_blocks(text):
    """``lease_blocks`` of a leases database's TEXT."""
    return [(address, _lease_fields(body)) for address, body in _LEASE_BLOCK.findall(text)]


def leases_file(server, path=LEASES):
    """The server's leases database: address -> the latest block for it (dhcpd appends).
    Each value has binding_state, rewind_binding_state, mac and the times the block has (starts,
    ends, tstp, tsfp, atsfp, cltt; seconds since the epoch)."""
    return dict(lease_blocks(server, path))


def own_half(server, mine, pool):
    """The addresses SERVER may hand to a new client without its partner (server/failover.c
    lease_mine_to_reallocate): leases in its own allocatable state MINE (the primary's `free`, the
    secondary's `backup`), and expired or released ones whose last state the partner acknowledged
    (`rewind binding state`) was MINE. An address of the POOL range (first, last) with no block in
    the file is `free` (server/mdb.c new_address_range), so the primary's."""
    leases = leases_file(server)
    own = {
        address for address, x in leases.items()
        if x["binding_state"] == mine
        or (x["binding_state"] in ("expired", "released") and x["rewind_binding_state"] == mine)
    }
    if mine == "free":
        prefix = pool[0].rsplit(".", 1)[0]
        first, last = (int(address.rsplit(".", 1)[1]) for address in pool)
        own |= {f"{prefix}.{n}" for n in range(first, last + 1)} - set(leases)
    return own


def server_clock(server):
    """The server's clock in seconds since the epoch (float)."""
    return float(server_now(server))


def wait_for_lease(server, lease, states=("active",), timeout=30):
    """Wait until the server's leases file binds LEASE's address to LEASE's MAC in one of STATES."""
    deadline = time.monotonic() + timeout
    while True:
        seen = leases_file(server).get(lease.address)
        if seen and seen["mac"] == lease.mac and seen["binding_state"] in states:
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(
                f"expected {server.backend.host} to hold {lease.address} for {lease.mac} in state "
                f"{'/'.join(states)} within {timeout}s (databases in sync); its leases file has {seen}"
            )
        time.sleep(0.5)


def wait_for_settled_lease(servers, lease, timeout=60):
    """Wait until both SERVERS' leases files hold LEASE's address for LEASE's MAC with the same end,
    in the state dhcpd gives such a lease now, the same on both:

    - its end still ahead (server clock): `active`;
    - its end passed: `free` or `backup`. dhcpd's pool timer moves an ended active lease to
      `expired` (server/mdb.c pool_timer); when the partner acknowledges that update, both set it
      to `free` (server/failover.c dhcp_failover_process_bind_ack), and the primary hands the
      leases of the secondary's clients (load balancing hash) and the pool rebalance hands others
      on to `backup`. `expired` is the transition, not a settled state of a normal pair; the MAC
      and the end stay in the block, so the binding that reached the partner is still visible.

    Returns {host: block}. Fails saying what each file held."""
    deadline = time.monotonic() + timeout
    while True:
        blocks = {server.backend.host: leases_file(server).get(lease.address) or {} for server in servers}
        now = max(server_clock(server) for server in servers)
        ends = {block.get("ends") for block in blocks.values()}
        states = {block.get("binding_state") for block in blocks.values()}
        macs = {block.get("mac") for block in blocks.values()}
        if macs == {lease.mac} and len(ends) == 1 and len(states) == 1:
            (end,), (state,) = ends, states
            expected = ("active",) if end is None or end > now else ("free", "backup")
            if state in expected:
                return blocks
        if time.monotonic() > deadline:
            raise AssertionError(
                f"expected both servers to hold {lease.address} for {lease.mac} with the same end, active until "
                f"that end and then free or backup (the partner's acknowledgement of the expiry), within {timeout}s; "
                f"saw {blocks} at {now:.0f}"
            )
        time.sleep(0.5)


_MOVE = re.compile(r"failover peer (\S+): (I|peer) moves? from (\S+) to (\S+)")


def journal_state(server, peer, since=None):
    """SERVER's own and its partner's failover state for PEER, from the raw journal of the
    current run: the last `I move from A to B` / `peer moves from A to B` lines. None = not logged
    in this run (or after SINCE, a server_now() value, when given). Also `running`: the dhcpd
    process, and `lines`: the state lines seen."""
    me = partner = None
    lines = []
    for line in journal(server, f"failover peer {peer}: ", since=since):
        move = _MOVE.search(line)
        if move and move.group(1) == peer:
            lines.append(line)
            if move.group(2) == "I":
                me = move.group(4)
            else:
                partner = move.group(4)
    return {"my_state": me, "partner_state": partner, "running": dhcpd_running(server), "lines": lines}


def failover_state(server, peer, wait_for=None, timeout=60, since=None):
    """SERVER's failover state for PEER (journal_state), optionally waiting until its own state is
    one of WAIT_FOR with dhcpd running (judged only on lines after SINCE when given). Fails saying
    what the journal showed."""
    wanted = [wait_for] if isinstance(wait_for, str) else wait_for
    deadline = time.monotonic() + timeout
    while True:
        state = journal_state(server, peer, since)
        if not wanted or (state["running"] and state["my_state"] in wanted):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(
                f"expected {server.backend.host} to reach {wanted} for peer {peer} with dhcpd running within "
                f"{timeout}s (raw journal of the current run); saw running={state['running']}, "
                f"state lines {state['lines'][-4:]}"
            )
        time.sleep(1)


def assert_states(server, peer, me, partner, timeout=60, since=None):
    """Wait until SERVER's dhcpd runs, and its current run's journal (after SINCE when given) says
    it moved to ME and its partner moved to PARTNER."""
    deadline = time.monotonic() + timeout
    while True:
        state = journal_state(server, peer, since)
        if state["running"] and (state["my_state"], state["partner_state"]) == (me, partner):
            return state
        if time.monotonic() > deadline:
            raise AssertionError(
                f"expected {server.backend.host} in {me}/{partner} (me/partner) for {peer} with dhcpd running "
                f"within {timeout}s (raw journal of the current run); saw running={state['running']}, "
                f"{state['my_state']}/{state['partner_state']}, lines {state['lines'][-4:]}"
            )
        time.sleep(1)


def set_failover_state(server, peer, state, omapi, wait=True, timeout=60):
    """dhcp.failover.state on SERVER (OMAPI on 127.0.0.1): the operator's state change.

    OMAPI is a dict with the pair's key: key_name, key_algorithm, key_secret.
    """
    args = {"peer": peer, "state": state, "wait": wait, "timeout": timeout, **omapi}
    try:
        return server.ansible("dhcp.failover.state", json.dumps(args), check=False)
    except AnsibleException as exc:
        raise AssertionError(
            f"expected dhcp.failover.state to set {peer} to {state} on {server.backend.host}; "
            f"it failed: {exc.result.get('msg')}"
        ) from None


def omapi_key(server):
    """The pair's OMAPI key as the inventory gives it to the role (for dhcp.failover.state)."""
    hostvars = server.ansible.get_variables()
    return {
        "key_name": hostvars.get("dhcp_failover_omapi_key_name", "omapi_key"),
        "key_algorithm": hostvars["dhcp_failover_omapi_algorithm"],
        "key_secret": hostvars["dhcp_failover_omapi_secret"],
    }


def systemctl(server, action):
    res = server.run(f"systemctl {action} {UNIT}")
    assert res.rc == 0, f"expected `systemctl {action} {UNIT}` to succeed; saw rc {res.rc}: {res.stderr}"


def kill_dhcpd(server, signal):
    """Send SIGNAL to dhcpd only (the unit's processes), e.g. KILL for a crash, STOP to freeze it."""
    res = server.run(f"systemctl kill --signal={signal} {UNIT}")
    assert res.rc == 0, f"expected systemctl kill --signal={signal} to succeed; saw {res.stderr}"


def dhcpd_pids(server):
    return server.run("pidof dhcpd").stdout.split()


@contextmanager
def frozen(server):
    """Freeze SERVER's dhcpd (SIGSTOP) meanwhile: the clients reach only the other server."""
    kill_dhcpd(server, "STOP")
    try:
        yield
    finally:
        kill_dhcpd(server, "CONT")


def wait_until(what, probe, timeout=30, interval=0.5):
    """Poll PROBE until it returns a truthy value; fail saying WHAT was awaited and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {what} within {timeout}s; last saw {value!r}")
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# Faults between the peers


_PARTITION_TABLE = "dhcpf_partition"


def partition(server, peer_address, port=FAILOVER_PORT):
    """Cut the failover link (TCP PORT) from PEER_ADDRESS at SERVER with nftables; call it on both.

    Every failover packet from the peer is answered with a TCP reset (resets themselves pass, so
    the peer's reset reaches this side too): each side sees the link drop at its next contact
    message, and reconnects are refused. DHCP itself (UDP 67/68 through dhcpd's packet sockets)
    is untouched, so both servers stay reachable by clients.
    """
    match = f"ip saddr {peer_address} tcp flags & rst == 0"
    rules = (
        f"table inet {_PARTITION_TABLE} {{\n"
        f"  chain input {{\n"
        f"    type filter hook input priority 0;\n"
        f"    {match} tcp dport {port} reject with tcp reset\n"
        f"    {match} tcp sport {port} reject with tcp reset\n"
        f"  }}\n"
        f"}}"
    )
    res = server.run(f"printf '%s\\n' {shlex.quote(rules)} | nft -f -")
    assert res.rc == 0, f"expected nft to load the partition rules; saw rc {res.rc}: {res.stderr}"


_SIDE_TABLE = "dhcpf_side"


def drop_dhcp_replies(server, mac_prefix):
    """SERVER's DHCP replies to clients whose MAC (chaddr) starts with 02:MAC_PREFIX are dropped on
    the way out, unicast or broadcast (a NAK is broadcast), by nftables on the netdev egress hook of
    eth0: dhcpd sends through a packet socket, which the ip/inet hooks never see, but egress does.
    The rule matches the BOOTP chaddr field (UDP payload offset 28). Those clients then reach only
    the other server, while SERVER still hears them. Undo with allow_dhcp_replies()."""
    rules = (
        f"table netdev {_SIDE_TABLE} {{\n"
        f"  chain egress {{\n"
        f"    type filter hook egress device eth0 priority 0;\n"
        f"    udp sport 67 @th,288,16 0x02{mac_prefix:02x} drop\n"
        f"  }}\n"
        f"}}"
    )
    res = server.run(f"printf '%s\\n' {shlex.quote(rules)} | nft -f -")
    assert res.rc == 0, f"expected nft to load the egress rule on {server.backend.host}; saw rc {res.rc}: {res.stderr}"


def allow_dhcp_replies(server):
    res = server.run(f"nft delete table netdev {_SIDE_TABLE}")
    assert res.rc == 0, f"expected nft to delete the egress table; saw rc {res.rc}: {res.stderr}"


def heal(server):
    res = server.run(f"nft delete table inet {_PARTITION_TABLE}")
    assert res.rc == 0, f"expected nft to delete the partition table; saw rc {res.rc}: {res.stderr}"


# ---------------------------------------------------------------------------------------------
# Fixtures: a scenario's conftest.py defines a `lab` fixture (a SimpleNamespace with the container
# names and the pair's settings) and imports these.


@pytest.fixture(scope="session")
def inventory(pytestconfig):
    return pytestconfig.getoption("ansible_inventory")


@pytest.fixture(scope="session")
def primary(lab, inventory):
    return lab_host(lab.primary, inventory)


@pytest.fixture(scope="session")
def secondary(lab, inventory):
    return lab_host(lab.secondary, inventory)


@pytest.fixture(scope="session")
def servers(primary, secondary):
    return [primary, secondary]


@pytest.fixture(scope="session")
def client(lab, inventory):
    return lab_host(lab.client, inventory)
