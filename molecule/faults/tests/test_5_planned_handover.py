"""Planned maintenance of the primary without interruption: shutdown state over OMAPI (the
secondary takes over in partner-down), stop, start, recover, normal - a client served at every step."""

import pytest

from lab_checks import (
    assert_served_by,
    assert_states,
    failover_state,
    identity,
    journal,
    set_failover_state,
    systemctl,
    udhcpc_lease,
    wait_for_settled_lease,
)


@pytest.fixture(scope="module")
def served():
    """Leases granted during the handover, by step."""
    return {}


def _serve(client2, served, step, expected_server=None):
    lease = udhcpc_lease(client2, identity(0x40, len(served)))
    if expected_server:
        assert_served_by(lease, expected_server, f" after step '{step}'")
    served[step] = lease
    print(f"{step}: {lease.address} from {lease.server}")
    return lease


def test_shutdown_hands_over_to_the_secondary(primary, secondary, client2, lab, omapi, served):
    set_failover_state(primary, lab.peer, "shutdown", omapi)
    state = failover_state(primary, lab.peer, wait_for=["shutdown"], timeout=30)
    assert state["my_state"] == "shutdown", f"expected the primary's journal to show shutdown; saw {state}"
    state = failover_state(secondary, lab.peer, wait_for=["partner-down"], timeout=30)
    assert state["my_state"] == "partner-down", f"expected the secondary to take over in partner-down; saw {state}"
    _serve(client2, served, "shutdown", lab.secondary_address)


def test_stop_and_start_the_primary(primary, secondary, client2, lab, served):
    systemctl(primary, "stop")
    _serve(client2, served, "stopped", lab.secondary_address)
    systemctl(primary, "start")
    state = failover_state(primary, lab.peer, wait_for=["shutdown"], timeout=30)
    assert state["my_state"] == "shutdown", f"expected the restarted primary to stay in shutdown; saw {state}"
    _serve(client2, served, "started", lab.secondary_address)


def test_recover_to_normal(primary, secondary, client2, lab, omapi, served):
    result = set_failover_state(primary, lab.peer, "recover", omapi)
    moves = journal(primary, f"failover peer {lab.peer}: I move from shutdown to recover")
    assert moves, f"expected the primary's current run to move from shutdown to recover; saw {result}"
    for server in (primary, secondary):
        assert_states(server, lab.peer, "normal", "normal", timeout=60)
    _serve(client2, served, "normal")
    assert list(served) == ["shutdown", "stopped", "started", "normal"], f"expected a lease at every step; saw {served}"
    # Leases granted in partner-down last MCLT (nothing acknowledged by the partner, server/dhcp.c),
    # so by now the first ones have ended: each must be on both servers with its client's MAC (unique
    # to its step) and the same end, active until that end and then free or backup, never left
    # expired once the pair is normal (wait_for_settled_lease says why).
    settled = {}
    for step, lease in served.items():
        blocks = wait_for_settled_lease((primary, secondary), lease)
        settled[step] = (lease.address, next(iter(blocks.values()))["binding_state"])
    print(f"leases of the handover, settled on both servers: {settled}")
