# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `change`: a configuration change of the main pair under client load (issue 17 item 4).
While the client container asks for a new lease every 0.5 s (bench/benchlab.py client_load), one
`dhcp.failover.site` run changes default-lease-time (600 -> 900 s, then back on the next trial), so
that both peers restart, one at a time. Per trial: the wall time from the run's start to both peers
read `normal` again (the run waits for that itself; dhcp.failover.state_info confirms it right after),
the longest gap between two answers the client saw, asked and answered, and, from the servers' own
process table, that both dhcpd were restarted (new pids). The gap is compared with a real dhclient's
first retry interval, read from its own DISCOVER line in the same client container."""
import re

from benchlab import CLIENT, P, S, client_answers, client_load, dexec, log, run_site, stop_client_load, wait_client_answers, wait_normal

NAME = 'change'
MAIN_PAIR = True
LOAD_DIR = '/run/bench-change'
TAG = 0xc7
TIMES = (900, 600)
INTERVAL = re.compile(r'DHCPDISCOVER on \S+ to \S+ port 67 interval (\d+)')


def run(ctx):
    return bench_change(ctx.inventory, ctx.args.change_trials)


def dhclient_first_interval():
    """How long a real dhclient waits before its first retry: the `interval N` of its first DISCOVER
    (a fresh client on a macvlan of the client container, so that eth0 is never touched)."""
    out = dexec(CLIENT, 'ip link add bchg0 link eth0 address 02:44:c7:ff:00:01 type macvlan mode bridge && ip link set bchg0 up; '
                        'timeout 30 dhclient -v -1 -pf /run/bchg0.pid -lf /run/bchg0.leases bchg0 2>&1; '
                        'dhclient -r -pf /run/bchg0.pid -lf /run/bchg0.leases bchg0 >/dev/null 2>&1; ip link del bchg0', check=False)
    m = INTERVAL.search(out)
    return int(m.group(1)) if m else None


def pids():
    return {host: dexec(host, 'pidof dhcpd || true').strip() for host in (P, S)}


def bench_change(inventory, trials):
    result = {'dhclient_first_retry_s': dhclient_first_interval(), 'trials': []}
    for trial in range(trials):
        lease_time = TIMES[trial % 2]
        before = pids()
        client_load(CLIENT, LOAD_DIR, TAG)
        wait_client_answers(CLIENT, LOAD_DIR, 4, timeout=60)
        site = run_site(inventory, 'change-%d' % (trial + 1), ['-e', 'dhcp_failover_default_lease_time=%d' % lease_time])
        confirm_s = wait_normal(inventory, [P, S], timeout=60)[0]
        # six more answers after the run, so the gap after the second restart counts too
        ended = max(client_answers(CLIENT, LOAD_DIR) or [0.0])
        wait_client_answers(CLIENT, LOAD_DIR, 6, since=ended, timeout=60)
        client = stop_client_load(CLIENT, LOAD_DIR)
        after = pids()
        deployed = {host: dexec(host, "grep -c '^default-lease-time %d;' /etc/dhcp/dhcpd.conf || true" % lease_time).strip()
                    for host in (P, S)}
        row = {'default_lease_time': lease_time, 'site': site, 'site_to_normal_s': site['wall_s'], 'normal_confirmed_in_s': round(confirm_s, 2),
               'client': client, 'pids_before': before, 'pids_after': after,
               'both_restarted': all(after[h] and after[h] != before[h] for h in (P, S)),
               'deployed_on_both': all(v == '1' for v in deployed.values())}
        result['trials'].append(row)
        log('change %d: default-lease-time %d, site %.1f s, client asked %d answered %d, longest gap %s s, restarted %s' % (
            trial + 1, lease_time, site['wall_s'], client['asked'], client['answered'], client['longest_gap_s'], row['both_restarted']))
    gaps = [t['client']['longest_gap_s'] for t in result['trials'] if t['client']['longest_gap_s'] is not None]
    result['longest_gap_s'] = max(gaps) if gaps else None
    result['site_to_normal'] = [t['site_to_normal_s'] for t in result['trials']]
    result['unanswered'] = sum(t['client']['asked'] - t['client']['answered'] for t in result['trials'])
    first_retry = result['dhclient_first_retry_s']
    result['met'] = (result['longest_gap_s'] is not None and first_retry is not None and result['longest_gap_s'] <= first_retry
                     and result['unanswered'] == 0 and all(t['both_restarted'] and t['deployed_on_both'] for t in result['trials']))
    return result
