"""After converge: both servers run the deployed configuration and reached `normal` together."""

from lab_checks import assert_states, dhcpd_test, journal, service_active


def test_dhcpd_accepts_the_deployed_config(servers):
    for server in servers:
        res = dhcpd_test(server)
        assert res.rc == 0, f"expected `dhcpd -t` to accept the config on {server.backend.host}; saw rc {res.rc}:\n{res.stderr}"


def test_service_is_active(servers):
    for server in servers:
        state = service_active(server)
        assert state == "active", f"expected isc-dhcp-server active on {server.backend.host}; saw {state!r}"


def test_state_info_reports_normal_normal(servers, lab):
    for server in servers:
        state = assert_states(server, lab.peer, "normal", "normal", timeout=90)
        assert state["both_normal_seen"] is True, (
            f"expected state_info on {server.backend.host} to have seen 'Both servers normal'; saw {state}"
        )


def test_journal_shows_move_to_normal(servers, lab):
    for server in servers:
        moves = [
            line for line in journal(server, f"failover peer {lab.peer}: I move from ")
            if line.endswith(" to normal")
        ]
        assert moves, (
            f"expected journald on {server.backend.host} to show 'failover peer {lab.peer}: I move from ... to normal'; "
            f"saw {journal(server, 'failover peer')[-5:]}"
        )
