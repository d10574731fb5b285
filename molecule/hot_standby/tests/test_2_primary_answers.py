"""While the pair is normal, the primary answers every client's first DISCOVER and the secondary
logs that it leaves the client to its peer."""

from lab_checks import first_attempt_offers, journal

IDENTITIES = 6


def test_primary_answers_every_first_attempt(client, secondary, lab):
    with first_attempt_offers(client, 0x20, IDENTITIES, lab.pool) as (offered, leases):
        assert dict(offered) == {lab.primary_address: [lease.mac for lease in leases]}, (
            f"expected the primary {lab.primary_address} to offer to all {IDENTITIES} clients; saw {dict(offered)}"
        )
        balanced = "\n".join(journal(secondary, f"load balance to peer {lab.peer}"))
        missing = [lease.mac for lease in leases if lease.mac not in balanced]
        assert not missing, (
            f"expected the secondary to log 'load balance to peer {lab.peer}' for every client; none for {missing}"
        )
