"""While the pair is normal, the primary answers every client's first DISCOVER and the secondary
logs that it leaves the client to its peer."""

import collections

from lab_checks import assert_in_pool, dhclient_lease, dhclient_release, identity, journal

IDENTITIES = 6


def test_primary_answers_every_first_attempt(client, secondary, lab):
    offered = collections.defaultdict(list)
    leases = []
    try:
        for number in range(IDENTITIES):
            lease = dhclient_lease(client, identity(0x20, number))
            leases.append(lease)
            assert lease.first_attempt and len(lease.offered_by) == 1, (
                f"expected {lease.mac} to get one offer for its first DISCOVER; saw {lease.discovers} "
                f"DISCOVERs, offers from {lease.offered_by}:\n{lease.output}"
            )
            assert_in_pool(lease, *lab.pool)
            offered[lease.offered_by[0]].append(lease.mac)
        print(f"first-attempt offers by server: { {k: len(v) for k, v in offered.items()} }")
        assert dict(offered) == {lab.primary_address: [lease.mac for lease in leases]}, (
            f"expected the primary {lab.primary_address} to offer to all {IDENTITIES} clients; saw {dict(offered)}"
        )
        balanced = "\n".join(journal(secondary, f"load balance to peer {lab.peer}"))
        missing = [lease.mac for lease in leases if lease.mac not in balanced]
        assert not missing, (
            f"expected the secondary to log 'load balance to peer {lab.peer}' for every client; none for {missing}"
        )
    finally:
        for lease in leases:
            dhclient_release(client, lease.mac)
