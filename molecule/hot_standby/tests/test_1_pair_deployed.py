"""After converge: a hot-standby pair (split 256) running and normal."""

from lab_checks import CONFIG, assert_dhcpd_running, assert_states, dhcpd_test


def test_dhcpd_accepts_the_deployed_config(servers):
    for server in servers:
        res = dhcpd_test(server)
        assert res.rc == 0, f"expected `dhcpd -t` to accept the config on {server.backend.host}; saw rc {res.rc}:\n{res.stderr}"


def test_primary_owns_every_hash_bucket(primary, secondary):
    config = primary.file(CONFIG).content_string
    assert "split 256;" in config, f"expected `split 256;` in the primary's {CONFIG}; saw:\n{config}"
    # Without it on both peers the server that lacks it answers every client (LAB-NOTES).
    for server in (primary, secondary):
        text = server.file(CONFIG).content_string
        assert "load balance max seconds" in text, (
            f"expected `load balance max seconds` in {server.backend.host}'s {CONFIG}; saw:\n{text}"
        )


def test_both_running_and_normal(servers, lab):
    # dhcpd's process and the current run's raw journal (not is-active, not state_info).
    for server in servers:
        assert_dhcpd_running(server)
        assert_states(server, lab.peer, "normal", "normal", timeout=90)
