"""A partition of the failover link (TCP 647 between the peers) while clients keep getting leases
on both sides; after the heal both servers are normal and hold every lease: nothing is lost.

Both servers share one broadcast domain here, so "a client on the primary's side" is a client
that only the primary hears: the secondary's dhcpd is frozen (SIGSTOP) while it asks, and the
other way round. The failover link stays cut all along.
"""

import pytest

from lab_checks import (
    assert_served_by,
    assert_states,
    dhclient_lease,
    dhclient_release,
    failover_state,
    frozen,
    heal,
    identity,
    partition,
    udhcpc_lease,
    wait_for_lease,
)


@pytest.fixture(scope="module")
def granted():
    return []


def test_partition_interrupts_both_peers(primary, secondary, lab):
    partition(primary, lab.secondary_address)
    partition(secondary, lab.primary_address)
    # With max-response-delay 10, a contact message crosses the cut within seconds.
    for server in (primary, secondary):
        state = failover_state(server, lab.peer, wait_for=["communications-interrupted"], timeout=40)
        assert state["my_state"] == "communications-interrupted", f"expected communications-interrupted; saw {state}"


def test_clients_on_both_sides_get_leases(primary, secondary, client, client2, lab, granted):
    for side, address, other in ((1, lab.primary_address, secondary), (2, lab.secondary_address, primary)):
        with frozen(other):
            for lease in (dhclient_lease(client, identity(0x30, side)), udhcpc_lease(client2, identity(0x31, side))):
                assert_served_by(lease, address, " on its side of the partition")
                granted.append(lease)
    print(f"leases granted during the partition: {[(lease.address, lease.server) for lease in granted]}")


def test_heal_both_normal_and_no_lease_lost(primary, secondary, client, lab, granted):
    heal(primary)
    heal(secondary)
    for server in (primary, secondary):
        assert_states(server, lab.peer, "normal", "normal", timeout=60)
    assert len(granted) == 4, f"expected 4 leases granted during the partition; saw {granted}"
    # In communications-interrupted a lease lasts at most MCLT; what matters is that the binding
    # of each address to its client reached the other server.
    for lease in granted:
        for server in (primary, secondary):
            wait_for_lease(server, lease, states=("active", "expired"))
    for lease in granted:
        if lease.client == "dhclient":
            dhclient_release(client, lease.mac)
