"""When the primary stops, the standby serves; when it returns, the pair is normal again."""

from lab_checks import (
    assert_dhcpd_running,
    assert_served_by,
    assert_states,
    dhclient_lease,
    failover_state,
    systemctl,
    wait_for_lease,
)


def test_secondary_serves_when_the_primary_stops(primary, secondary, client, lab):
    systemctl(primary, "stop")
    assert_dhcpd_running(primary, False)
    state = failover_state(secondary, lab.peer, wait_for=["communications-interrupted"], timeout=90)
    assert state["my_state"] == "communications-interrupted", f"expected communications-interrupted; saw {state}"
    lease = dhclient_lease(client)
    assert_served_by(lease, lab.secondary_address, " while the primary is down")
    systemctl(primary, "start")
    for server in (primary, secondary):
        assert_states(server, lab.peer, "normal", "normal", timeout=90)
    wait_for_lease(primary, lease)
