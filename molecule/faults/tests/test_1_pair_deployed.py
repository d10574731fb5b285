"""Starting point of every fault: the pair is deployed and normal."""

from lab_checks import assert_dhcpd_running, assert_states, dhcpd_test


def test_pair_is_normal(servers, lab):
    for server in servers:
        res = dhcpd_test(server)
        assert res.rc == 0, f"expected `dhcpd -t` to accept the config on {server.backend.host}; saw {res.stderr}"
        assert_dhcpd_running(server)
        assert_states(server, lab.peer, "normal", "normal", timeout=90)
