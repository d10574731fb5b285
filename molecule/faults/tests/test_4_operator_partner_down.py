"""The primary is gone for good: the operator declares it down over OMAPI (dhcp.failover.state),
the secondary serves in partner-down, and the returning primary recovers to normal.

Proof of partner-down by what only partner-down does. In communications-interrupted the secondary
serves new clients from its own half of the pool only (binding state `backup`); in partner-down,
once MCLT has passed, it also allocates the primary's half (`free`). So: new clients take every
backup lease the secondary holds until one gets no answer (exhausted, still
communications-interrupted); after partner-down a new client gets an address that the secondary's
leases file listed as `free` (the primary's) - which a communications-interrupted secondary never
hands out. The state itself is read from the secondary's current-run journal, not state_info.
"""

import os
import time

import pytest

from lab_checks import (
    LEASES,
    assert_dhcpd_running,
    assert_served_by,
    assert_states,
    failover_state,
    identity,
    journal,
    leases_file,
    set_failover_state,
    systemctl,
    udhcpc_lease,
    wait_for_lease,
)

PREFIX = 0x50
# Set to 1 only to watch this test fail without the partner-down step (its claim's control).
SKIP_PARTNER_DOWN = os.environ.get("DHCPF_SKIP_PARTNER_DOWN") == "1"


@pytest.fixture(scope="module")
def outage():
    return {"next": 0}


def _new_client(client2, outage):
    """A fresh client identity asks once (udhcpc, 2 DISCOVERs); its lease, or None if unanswered."""
    mac = identity(PREFIX, outage["next"])
    outage["next"] += 1
    try:
        return udhcpc_lease(client2, mac)
    except AssertionError:
        return None


def _states(secondary):
    return {address: lease["binding_state"] for address, lease in leases_file(secondary, LEASES).items()}


def test_interrupted_secondary_serves_only_its_backup_half(primary, secondary, client2, lab, outage):
    systemctl(primary, "stop")
    assert_dhcpd_running(primary, False)
    failover_state(secondary, lab.peer, wait_for=["communications-interrupted"], timeout=40)
    before = _states(secondary)
    backup = {a for a, s in before.items() if s == "backup"}
    assert backup, f"expected the secondary to own some backup leases; saw states {sorted(set(before.values()))}"
    # More new clients than it has backup leases: leases are capped at MCLT here, so expired ones
    # come back to it and every one is used at least once (all its backup leases are then newer
    # than the primary's free ones, which partner-down allocates first once they are its own).
    granted = []
    for _attempt in range(len(backup) + 5):
        lease = _new_client(client2, outage)
        if lease is not None:
            assert_served_by(lease, lab.secondary_address, " in communications-interrupted")
            granted.append(lease)
    not_backup = sorted({lease.address for lease in granted} - backup)
    assert not not_backup, (
        f"expected a communications-interrupted secondary to hand out only its backup leases; "
        f"these were not backup before: {not_backup}"
    )
    after = _states(secondary)
    free = {a for a, s in before.items() if s == "free" and after.get(a) == "free"}
    assert free, "expected the primary's half (binding state free) to be left in the secondary's leases file"
    print(f"communications-interrupted: {len(granted)} new clients, {len({x.address for x in granted})} addresses, "
          f"all of the {len(backup)} backup; {len(free)} free (primary's) untouched")
    outage["free"] = free


def test_operator_sets_partner_down(secondary, lab, omapi, outage):
    if not SKIP_PARTNER_DOWN:
        set_failover_state(secondary, lab.peer, "partner-down", omapi)
    state = failover_state(secondary, lab.peer, wait_for=["partner-down", "communications-interrupted"], timeout=20)
    outage["partner_down_at"] = time.monotonic()
    print(f"secondary journal after the OMAPI request: {state['lines'][-2:]}")


def test_partner_down_hands_out_the_primarys_half(secondary, client2, lab, outage):
    assert "free" in outage, "expected the secondary's backup leases all used first (previous test)"
    # The primary's free leases become the secondary's to allocate MCLT after partner-down.
    deadline = outage["partner_down_at"] + lab.mclt + 60
    seen = []
    while time.monotonic() < deadline:
        lease = _new_client(client2, outage)
        if lease is None:
            continue
        assert_served_by(lease, lab.secondary_address, " in partner-down")
        seen.append(lease.address)
        if lease.address in outage["free"]:
            break
    else:
        raise AssertionError(
            f"expected a new client to get an address of the primary's half (free before) within MCLT+60 s of "
            f"partner-down; saw only {seen} (secondary's journal: "
            f"{journal(secondary, f'failover peer {lab.peer}: I move')[-2:]})"
        )
    print(f"partner-down: addresses handed out {seen}; {lease.address} was the primary's")
    moves = journal(secondary, f"failover peer {lab.peer}: I move from communications-interrupted to partner-down")
    assert moves, "expected the secondary's current run to log its move to partner-down"
    outage["lease"] = lease


def test_primary_returns_and_recovers(primary, secondary, lab, outage):
    systemctl(primary, "start")
    # The primary recovers from its partner and waits MCLT before it serves again.
    for server in (primary, secondary):
        assert_states(server, lab.peer, "normal", "normal", timeout=lab.mclt + 90)
    assert "lease" in outage, "expected a lease granted in partner-down (previous test)"
    wait_for_lease(primary, outage["lease"], states=("active", "expired"))
