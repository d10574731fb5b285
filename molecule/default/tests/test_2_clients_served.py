"""Clients get leases from the pool with the seed's options; both servers know every lease and
share the clients between them (load balancing, judged on first attempts only)."""

from lab_checks import assert_in_pool, dhclient_lease, first_attempt_offers, journal, wait_for_lease

IDENTITIES = 8


def test_client_gets_a_lease_with_the_seeds_options(client, servers, lab):
    lease = dhclient_lease(client)
    assert_in_pool(lease, *lab.pool)
    expected = {"routers": lab.router, "domain-name-servers": lab.dns, "domain-name": lab.domain}
    seen = {name: lease.options.get(name) for name in expected}
    assert seen == expected, f"expected the seed's options {expected}; the client's lease has {seen}"
    addr = client.check_output("ip -4 -o addr show dev eth0")
    assert f" {lease.address}/24 " in addr, f"expected eth0 to carry {lease.address}/24; saw {addr}"
    route = client.check_output("ip route show default")
    assert f"via {lab.router} " in route, f"expected the default route via {lab.router}; saw {route!r}"
    # The databases are in sync: whoever answered, both servers hold the lease.
    for server in servers:
        wait_for_lease(server, lease)


def test_first_attempts_are_shared_by_both_servers(client, primary, secondary, lab):
    """Load balancing decides who answers a DISCOVER: judged by who offered, on the first DISCOVER."""
    with first_attempt_offers(client, 0x10, IDENTITIES, lab.pool) as (answered, _leases):
        addresses = {lab.primary_address, lab.secondary_address}
        assert set(answered) == addresses, (
            f"expected both {sorted(addresses)} to answer some of {IDENTITIES} clients; saw {dict(answered)}"
        )
        # What each server logged for the clients its peer answered.
        for server, peer_address in ((primary, lab.secondary_address), (secondary, lab.primary_address)):
            balanced = "\n".join(journal(server, f"load balance to peer {lab.peer}"))
            missing = [mac for mac in answered[peer_address] if mac not in balanced]
            assert not missing, (
                f"expected {server.backend.host} to log 'load balance to peer {lab.peer}' for the clients "
                f"{peer_address} answered; no such line for {missing}"
            )
