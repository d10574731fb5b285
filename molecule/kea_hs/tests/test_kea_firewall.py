"""dhcp_failover_firewall_enabled on a Kea pair: the HA port (8001) answers the partner only."""

from kea_checks import docker_exec

HA_PORT = 8001


def _connects(source, address, port):
    rc, _out, _err = docker_exec(source, "timeout", "3", "bash", "-c", f"exec 3<>/dev/tcp/{address}/{port}")
    return rc == 0


def test_the_ha_port_admits_only_the_partner(lab):
    for server, address, partner in ((lab.primary, lab.primary_address, lab.secondary),
                                     (lab.secondary, lab.secondary_address, lab.primary)):
        rc, rules, err = docker_exec(server, "nft", "list", "table", "inet", "dhcp_failover")
        assert rc == 0, f"expected the table inet dhcp_failover on {server}; saw rc {rc}: {err}"
        assert _connects(partner, address, HA_PORT), f"expected {partner} to reach {server}'s HA port {HA_PORT}"
        assert not _connects(lab.client, address, HA_PORT), (
            f"expected {server}'s HA port {HA_PORT} closed to the client {lab.client}; rules:\n{rules}")
