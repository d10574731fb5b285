"""Issue 14 item 5 on this scenario's Kea pair: the shared checks (molecule/shared/kea_pair_tests.py),
in file order."""

from kea_pair_tests import (
    test_both_servers_run_the_pair_normal,
    test_first_attempts_of_many_clients,
    test_a_lease_is_in_both_lease_databases,
    test_kill_9_of_the_primary_the_partner_serves,
    test_restarting_both_in_either_order_never_ends_terminated,
    test_status_shows_both_servers,
    test_drill_fails_over_to_the_partner_and_back,
    test_maintenance_serves_a_client_at_every_step,
    test_partner_down_refused_while_the_pair_talks_then_declared,
    test_a_change_kea_rejects_at_start_is_rolled_back_and_the_partner_untouched,
)

# Re-exported so that pytest collects them here.
__all__ = [
    "test_both_servers_run_the_pair_normal",
    "test_first_attempts_of_many_clients",
    "test_a_lease_is_in_both_lease_databases",
    "test_kill_9_of_the_primary_the_partner_serves",
    "test_restarting_both_in_either_order_never_ends_terminated",
    "test_status_shows_both_servers",
    "test_drill_fails_over_to_the_partner_and_back",
    "test_maintenance_serves_a_client_at_every_step",
    "test_partner_down_refused_while_the_pair_talks_then_declared",
    "test_a_change_kea_rejects_at_start_is_rolled_back_and_the_partner_untouched",
]
