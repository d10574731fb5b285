"""After converge over SSH as ops with become, on bare bookworm and trixie servers.

Every oracle here is outside the code under test: dpkg and apt's own log in the containers,
the images themselves, the local repository's index on the host, the dhcpd process
(pidof, /proc), the raw journal of the unit's current run (_SYSTEMD_INVOCATION_ID), sshd's and
sudo's journal, /etc/os-release, and a real DHCP client on each network. All read with
`docker exec` from the host, not through Ansible.
"""

import ipaddress
import re
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PAIRS = {
    "opa": {
        "primary": "dhcpf-op-a1", "secondary": "dhcpf-op-a2", "client": "dhcpf-op-ca",
        "servers": {"10.231.52.2", "10.231.52.3"}, "pool": ("10.231.52.100", "10.231.52.149"),
        "gateway": "10.231.52.254", "packages": ["isc-dhcp-server", "python3-systemd", "python3-pypureomapi"],
    },
    "opb": {
        "primary": "dhcpf-op-b1", "secondary": "dhcpf-op-b2", "client": "dhcpf-op-cb",
        "servers": {"10.231.53.2", "10.231.53.3"}, "pool": ("10.231.53.100", "10.231.53.149"),
        "gateway": "10.231.53.254",
        # The pair's firewall is on: the role also installs nftables.
        "packages": ["isc-dhcp-server", "python3-systemd", "python3-pypureomapi", "nftables"],
    },
}
SERVERS = [(pair, PAIRS[pair][role]) for pair in PAIRS for role in ("primary", "secondary")]
SERVER_IDS = ["%s-%s" % s for s in SERVERS]
# Long enough for a first sync of a pair with MCLT 30 on a busy machine; polled, never slept out.
DEADLINE = 180


def sh(container, command, check=True, timeout=120):
    result = subprocess.run(["docker", "exec", container, "sh", "-c", command], capture_output=True,
                            text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"{container}: `{command}` exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def codename(container):
    return sh(container, ". /etc/os-release && echo $VERSION_CODENAME").stdout.strip()


def repo_versions(suite):
    """{package: version} of the lab's local apt repository's index for SUITE, read on the host."""
    text = (REPO / "build" / "apt-repo" / suite / "Packages").read_text()
    return dict(re.findall(r"^Package: (\S+)\n(?:.*\n)*?Version: (\S+)$", text, re.M))


@pytest.mark.parametrize("pair,container", SERVERS, ids=SERVER_IDS)
def test_the_image_is_bare(pair, container):
    image = subprocess.run(["docker", "inspect", "-f", "{{.Config.Image}}", container], capture_output=True,
                           text=True, check=True).stdout.strip()
    result = subprocess.run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "dpkg-query", image,
                             "-W", "-f", "${Package} ${Status}\n"] + PAIRS[pair]["packages"],
                            capture_output=True, text=True, check=False)
    installed = [line for line in result.stdout.splitlines() if line.endswith(" installed")]
    assert not installed, f"{container}'s image {image} already holds {installed}: the role's install path did not run"


@pytest.mark.parametrize("pair,container", SERVERS, ids=SERVER_IDS)
def test_the_role_installed_the_packages_from_the_local_repository(pair, container):
    wanted = PAIRS[pair]["packages"]
    status = sh(container, "dpkg-query -W -f '${Package} ${Version} ${Status}\\n' " + " ".join(wanted)).stdout
    installed = dict((line.split()[0], line.split()[1]) for line in status.splitlines() if line.endswith(" installed"))
    assert sorted(installed) == sorted(wanted), f"{container}: dpkg says\n{status}"
    # The versions are the local repository's, for this host's own Debian release.
    index = repo_versions(codename(container))
    for package, version in installed.items():
        assert index.get(package) == version, (
            f"{container}: {package} {version} is installed, the lab repository for {codename(container)} has {index.get(package)}")
    # apt's own log: one install run, asked for by ops through sudo (become), that installed them.
    history = sh(container, "cat /var/log/apt/history.log").stdout
    runs = [run for run in history.split("\n\n") if "Requested-By: ops (" in run]
    done = {name for run in runs for name in re.findall(r"(?:^Install: |\), )([^:\s]+):", run, re.M)}
    assert set(wanted) <= done, f"{container}: apt's history shows no install of {sorted(set(wanted) - done)} by ops:\n{history}"
    # apt's only source is the lab's mirror.
    sources = sh(container, "apt-get indextargets --format '$(SITE)' | sort -u").stdout.split()
    assert sources == ["file:/srv/dhcp-failover-lab-apt/%s" % codename(container)], f"{container}: apt sources {sources}"


@pytest.mark.parametrize("pair,container", SERVERS, ids=SERVER_IDS)
def test_dhcpd_runs(pair, container):
    pids = sh(container, "pidof dhcpd", check=False).stdout.split()
    assert len(pids) == 1, f"{container}: expected one dhcpd process, pidof says {pids}"
    cmdline = sh(container, "tr '\\0' ' ' < /proc/%s/cmdline" % pids[0]).stdout
    assert "/usr/sbin/dhcpd" in cmdline and "-cf /etc/dhcp/dhcpd.conf" in cmdline, f"{container}: {cmdline}"


@pytest.mark.parametrize("pair,container", SERVERS, ids=SERVER_IDS)
def test_both_servers_normal_in_the_current_run(pair, container):
    wanted = "failover peer %s: Both servers normal" % pair
    deadline = time.monotonic() + DEADLINE
    while True:
        invocation = sh(container, "systemctl show -p InvocationID --value isc-dhcp-server").stdout.strip()
        assert invocation, f"{container}: isc-dhcp-server has no current run"
        lines = sh(container, "journalctl --no-pager -o cat _SYSTEMD_INVOCATION_ID=%s" % invocation).stdout
        if wanted in lines:
            return
        assert time.monotonic() < deadline, f"{container}: no `{wanted}` in the unit's current run {invocation}:\n{lines[-3000:]}"
        time.sleep(1)


@pytest.mark.parametrize("pair", ["opa"])
def test_the_peers_run_different_debian_releases(pair):
    releases = {role: codename(PAIRS[pair][role]) for role in ("primary", "secondary")}
    assert releases == {"primary": "bookworm", "secondary": "trixie"}, f"{pair}: {releases}"


@pytest.mark.parametrize("pair,container", SERVERS, ids=SERVER_IDS)
def test_ansible_came_as_ops_over_ssh_and_became_root_with_sudo(pair, container):
    gateway = PAIRS[pair]["gateway"]      # the controller (this host) as the lab bridge sees it
    sshd = sh(container, "journalctl --no-pager -o cat -t sshd -t sshd-session").stdout
    accepted = re.findall(r"^Accepted publickey for (\S+) from (\S+) ", sshd, re.M)
    assert accepted and set(accepted) == {("ops", gateway)}, f"{container}: sshd accepted {accepted}:\n{sshd[-2000:]}"
    sudo = sh(container, "journalctl --no-pager -o cat -t sudo").stdout
    assert re.search(r"^\s*ops : .*USER=root ; COMMAND=/bin/sh -c 'echo BECOME-SUCCESS-", sudo, re.M), (
        f"{container}: sudo's journal shows no become by ops:\n{sudo[-2000:]}")


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_a_client_on_each_network_gets_a_lease(pair):
    p = PAIRS[pair]
    # The client drops its Docker address and asks by DHCP, once.
    out = sh(p["client"], "ip addr flush dev eth0 && rm -f /var/lib/dhcp/dhclient.leases && "
             "timeout 60 dhclient -v -1 -lf /var/lib/dhcp/dhclient.leases eth0 2>&1; "
             "dhclient -x eth0 >/dev/null 2>&1; true", timeout=90).stdout
    acks = re.findall(r"DHCPACK of (\S+) from (\S+)", out)
    assert acks, f"{p['client']}: no DHCPACK:\n{out}"
    address, server = acks[-1]
    low, high = (ipaddress.ip_address(a) for a in p["pool"])
    assert low <= ipaddress.ip_address(address) <= high, f"{p['client']}: {address} is outside {p['pool']}"
    assert server in p["servers"], f"{p['client']}: answered by {server}, not by pair {pair} {sorted(p['servers'])}"
