"""The primary is gone for good: the operator declares it down over OMAPI (dhcp.failover.state),
the secondary serves in partner-down, and the returning primary recovers to normal."""

import pytest

from lab_checks import (
    assert_served_by,
    assert_states,
    dhclient_lease,
    failover_state,
    set_failover_state,
    systemctl,
    wait_for_lease,
)


@pytest.fixture(scope="module")
def outage():
    return {}


def test_operator_sets_partner_down(primary, secondary, client, lab, omapi, outage):
    systemctl(primary, "stop")
    failover_state(secondary, lab.peer, wait_for=["communications-interrupted"], timeout=40)
    result = set_failover_state(secondary, lab.peer, "partner-down", omapi)
    seen = (result["before"]["my_state"], result["after"]["my_state"], result.get("changed"))
    assert seen == ("communications-interrupted", "partner-down", True), (
        f"expected dhcp.failover.state to move the secondary from communications-interrupted to "
        f"partner-down (changed); saw before/after/changed {seen}"
    )
    state = failover_state(secondary, lab.peer, wait_for=["partner-down"], timeout=20)
    assert state["my_state"] == "partner-down", f"expected state_info to report partner-down; saw {state}"
    lease = dhclient_lease(client)
    assert_served_by(lease, lab.secondary_address, " in partner-down")
    outage["lease"] = lease


def test_primary_returns_and_recovers(primary, secondary, lab, outage):
    systemctl(primary, "start")
    # The primary recovers from its partner and waits MCLT before it serves again.
    for server in (primary, secondary):
        assert_states(server, lab.peer, "normal", "normal", timeout=lab.mclt + 90)
    assert "lease" in outage, "expected a lease granted in partner-down (previous test)"
    wait_for_lease(primary, outage["lease"])
