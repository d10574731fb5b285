"""kill -9 of the primary's dhcpd: the secondary notices at once and keeps serving; a restart
brings the pair back to normal and the primary learns the lease it missed."""

import pytest

from lab_checks import (
    assert_served_by,
    assert_states,
    assert_dhcpd_running,
    dhcpd_pids,
    journal,
    failover_state,
    kill_dhcpd,
    systemctl,
    udhcpc_lease,
    wait_for_lease,
    wait_until,
)


@pytest.fixture(scope="module")
def crash():
    return {}


def test_secondary_keeps_serving_after_kill_9(primary, secondary, client2, lab, crash):
    assert dhcpd_pids(primary), "expected dhcpd running on the primary before the crash"
    kill_dhcpd(primary, "KILL")
    wait_until("no dhcpd process left on the primary", lambda: not dhcpd_pids(primary), timeout=10)
    state = failover_state(secondary, lab.peer, wait_for=["communications-interrupted"], timeout=30)
    assert state["my_state"] == "communications-interrupted", f"expected communications-interrupted; saw {state}"
    disconnected = journal(secondary, f"peer {lab.peer}: disconnected")
    assert disconnected, f"expected the secondary's current run to log 'peer {lab.peer}: disconnected'; saw {state}"
    lease = udhcpc_lease(client2)
    assert_served_by(lease, lab.secondary_address, " after the primary's dhcpd was killed")
    assert lease.options.get("router") == lab.router, (
        f"expected udhcpc to get the router option {lab.router}; saw options {lease.options}"
    )
    crash["lease"] = lease


def test_killed_dhcpd_is_not_running(primary):
    # Debian's LSB unit stays active (exited) after kill -9: only the process tells.
    assert_dhcpd_running(primary, False)


def test_restart_returns_to_normal(primary, secondary, lab, crash):
    systemctl(primary, "restart")
    assert_dhcpd_running(primary)
    for server in (primary, secondary):
        assert_states(server, lab.peer, "normal", "normal", timeout=60)
    assert "lease" in crash, "expected a lease granted after the crash (previous test)"
    wait_for_lease(primary, crash["lease"])
