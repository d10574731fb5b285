"""The seed's failover drill: stop the primary, a client is still served (by the secondary), the
primary comes back, both return to normal, and the lease granted meanwhile is on the primary."""

import pytest

from lab_checks import (
    assert_dhcpd_running,
    assert_in_pool,
    assert_served_by,
    assert_states,
    dhclient_lease,
    dhclient_release,
    failover_state,
    systemctl,
    wait_for_lease,
)


@pytest.fixture(scope="module")
def outage():
    return {}


def test_primary_stop_interrupts_the_secondary(primary, secondary, lab):
    systemctl(primary, "stop")
    assert_dhcpd_running(primary, False)
    state = failover_state(secondary, lab.peer, wait_for=["communications-interrupted"], timeout=90)
    assert state["my_state"] == "communications-interrupted", (
        f"expected the secondary in communications-interrupted; saw {state['my_state']}"
    )


def test_client_is_served_by_the_secondary(client, lab, outage):
    dhclient_release(client)
    lease = dhclient_lease(client)
    assert_served_by(lease, lab.secondary_address, " while the primary is down")
    assert_in_pool(lease, *lab.pool)
    outage["lease"] = lease


def test_primary_back_both_normal(primary, secondary, lab):
    systemctl(primary, "start")
    for server in (primary, secondary):
        assert_states(server, lab.peer, "normal", "normal", timeout=90)


def test_outage_lease_is_on_the_primary(primary, outage):
    assert "lease" in outage, "expected a lease granted during the outage (previous test)"
    wait_for_lease(primary, outage["lease"])
