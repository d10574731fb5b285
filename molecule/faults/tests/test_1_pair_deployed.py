"""Starting point of every fault: the pair is deployed and normal."""

from lab_checks import assert_states, dhcpd_test, service_active


def test_pair_is_normal(servers, lab):
    for server in servers:
        res = dhcpd_test(server)
        assert res.rc == 0, f"expected `dhcpd -t` to accept the config on {server.backend.host}; saw {res.stderr}"
        assert service_active(server) == "active", f"expected isc-dhcp-server active on {server.backend.host}"
        assert_states(server, lab.peer, "normal", "normal", timeout=90)
