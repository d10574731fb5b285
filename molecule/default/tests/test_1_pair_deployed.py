"""After converge: both servers run the deployed configuration and reached `normal` together."""

import re

from lab_checks import CONFIG, assert_dhcpd_running, assert_states, dhcpd_test, journal


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


def test_dhcpd_runs(servers):
    # The process, not `systemctl is-active` (active (exited) after kill -9 of dhcpd).
    for server in servers:
        assert_dhcpd_running(server)


def test_journal_reports_normal_normal(servers, lab):
    # The raw journal of the current run, not dhcp.failover.state_info (the module under test).
    for server in servers:
        assert_states(server, lab.peer, "normal", "normal", timeout=90)
        both = journal(server, f"failover peer {lab.peer}: Both servers normal")
        assert both, (
            f"expected the current run's journal on {server.backend.host} to log 'Both servers normal'; "
            f"saw {journal(server, 'failover peer')[-5:]}"
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
