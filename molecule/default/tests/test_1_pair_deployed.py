"""After converge: both servers run the deployed configuration and reached `normal` together."""

import re

from lab_checks import CONFIG, assert_states, dhcpd_test, journal, service_active


def _failover_block(server, peer):
    text = server.file(CONFIG).content_string
    block = re.search(r'^failover peer "%s" \{(.*?)^\}' % re.escape(peer), text, re.M | re.S)
    assert block, f'expected a `failover peer "{peer}"` block in {server.backend.host}\'s {CONFIG}; saw:\n{text}'
    return {" ".join(line.split("#")[0].split()).rstrip(";") for line in block.group(1).splitlines()} - {""}


def test_deployed_failover_blocks_are_the_seeds(primary, secondary, lab):
    common = {"port 647", "peer port 647", "max-response-delay 60", "max-unacked-updates 10", "load balance max seconds 3"}
    expected = {
        primary: common | {"primary", f"address {lab.primary_address}", f"peer address {lab.secondary_address}",
                           "mclt 30", "split 128"},
        secondary: common | {"secondary", f"address {lab.secondary_address}", f"peer address {lab.primary_address}"},
    }
    for server, statements in expected.items():
        seen = _failover_block(server, lab.peer)
        assert seen == statements, (
            f"expected {server.backend.host}'s failover block to be the seed's {sorted(statements)}; "
            f"missing {sorted(statements - seen)}, unexpected {sorted(seen - statements)}"
        )


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
