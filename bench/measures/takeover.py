# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `takeover`: the primary stopped (systemctl stop) or killed (SIGKILL): time to the first
lease from the secondary for a client the primary serves in normal (a MAC the primary answered in the
baseline: with load balancing the secondary answers the other half at once, which says nothing of a
takeover); baseline: fresh clients against the pair in normal. Runs on the main pair
(bench/benchlab.py), ISC dhcpd or Kea (the pass's backend)."""
import random
import re
import subprocess
import time

from benchlab import ADDR, BACKEND, CLIENT, P, PEER, S, TAKEOVER_TARGET_S, dexec, log, service, summarize, wait_normal

NAME = 'takeover'
MAIN_PAIR = True
OWNED = 6           # clients of the primary the trials cycle through
# The secondary's own journal line when it starts serving its partner's clients: dhcpd leaves normal
# (communications-interrupted or partner-down), a Kea load-balancing server reaches partner-down
# (communication-recovery, which it passes through first, still serves only its own half)
LEFT_NORMAL = {'isc_dhcpd': r'I move from normal to', 'kea': r'HA_STATE_TRANSITION.*transitions from \S+ to PARTNER-DOWN'}


def run(ctx):
    return bench_takeover(ctx.inventory, ctx.args.trials, ctx.args.baseline_trials)


CLIENT_PREP = r"""
set -u
dhclient -x -lf /run/bench.leases -pf /run/bench.pid eth0 >/dev/null 2>&1
rm -f /run/bench.leases /run/bench.pid
ip link set eth0 down && ip link set eth0 address {mac} && ip link set eth0 up && ip addr flush dev eth0
"""
# Fresh clients one after the other inside one shell (no docker exec between them), until one is
# answered by `expect` (any server when empty). Every dhclient line is stamped with the wall clock
# (the container shares the host's kernel clock).
CLIENT_RUN = r"""
set -u
expect='{expect}'
for mac in {macs}; do
  if [ "$mac" != first ]; then
    dhclient -r -lf /run/bench.leases -pf /run/bench.pid eth0 >/dev/null 2>&1
    rm -f /run/bench.leases /run/bench.pid
    ip link set eth0 down && ip link set eth0 address "$mac" && ip link set eth0 up && ip addr flush dev eth0
  fi
  printf '%s CLIENT %s\n' "$EPOCHREALTIME" "$mac"
  timeout {timeout} dhclient -v -1 -lf /run/bench.leases -pf /run/bench.pid eth0 2>&1 |
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done > /run/bench.out
  cat /run/bench.out
  if [ -z "$expect" ] || grep -q "DHCPACK of .* from $expect\b" /run/bench.out; then break; fi
done
"""
CLIENT_RELEASE = 'dhclient -r -lf /run/bench.leases -pf /run/bench.pid eth0 >/dev/null 2>&1; ip addr flush dev eth0; true'


def fresh_mac(rng):
    return '02:bb:%02x:%02x:%02x:%02x' % tuple(rng.randrange(256) for _ignored in range(4))


def client_lease(stop_cmd, rng, expect, timeout=40, clients=4, macs=None):
    """Clients (MACS, else fresh ones) from t0 until one gets an ACK from `expect`; stop_cmd runs on the
    primary at t0."""
    macs = list(macs) if macs else [fresh_mac(rng) for _ignored in range(clients)]
    dexec(CLIENT, CLIENT_PREP.format(mac=macs[0]))
    t0 = time.time()
    stopper = None
    if stop_cmd:
        stopper = subprocess.Popen(['docker', 'exec', P, 'bash', '-c', stop_cmd + '; echo "DONE $EPOCHREALTIME"'],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    script = CLIENT_RUN.format(expect=expect or '', macs=' '.join(['first'] + macs[1:]), timeout=timeout)
    out = dexec(CLIENT, script, check=False, timeout=clients * (timeout + 10))
    dexec(CLIENT, CLIENT_RELEASE, check=False)
    attempts = []
    for t, text in parse_events(out):
        if text.startswith('CLIENT '):
            attempts.append({'mac': macs[len(attempts)], 'started_s': round(t - t0, 3), 'discovers': 0,
                             'ack_from': None, 'address': None, 'ack_after_s': None, 'client_log': []})
            continue
        if not attempts or not re.match(r'DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK)', text):
            continue
        cur = attempts[-1]
        cur['client_log'].append('%+.3f %s' % (t - t0, text))
        cur['discovers'] += text.startswith('DHCPDISCOVER')
        m = re.search(r'DHCPACK of (\S+) from (\S+)', text)
        if m and cur['ack_from'] is None:
            cur.update(ack_from=m.group(2), address=m.group(1), ack_after_s=round(t - t0, 3))
    result = {'t0': t0, 'attempts': attempts}
    if stopper:
        out, _ignored = stopper.communicate(timeout=120)
        m = re.search(r'DONE (\d+\.\d+)', out)
        result['stop_command_s'] = round(float(m.group(1)) - t0, 3) if m else None
    last = attempts[-1] if attempts else {'ack_from': None, 'ack_after_s': None}
    result['ok'] = last['ack_from'] is not None and (expect is None or last['ack_from'] == expect)
    result['lease_s'] = last['ack_after_s'] if result['ok'] else None
    return result


def parse_events(out):
    for line in out.splitlines():
        stamp, _ignored, text = line.partition(' ')
        try:
            yield float(stamp), text
        except ValueError:
            continue


def journal_since(name, since, pattern):
    """Seconds from `since` to the first line of the dhcpd unit's journal matching pattern (microsecond stamps)."""
    out = dexec(name, 'journalctl -u %s -o short-unix --no-pager --since @%d' % (service(), int(since) - 1), check=False)
    for line in out.splitlines():
        stamp, _ignored, text = line.partition(' ')
        try:
            when = float(stamp)
        except ValueError:
            continue
        if when >= since - 0.5 and re.search(pattern, text):
            return round(when - since, 3)
    return None


def bench_takeover(inventory, trials, baseline_trials):
    rng = random.Random(20261124)
    log('takeover: baseline, %d fresh clients against the pair in normal' % baseline_trials)
    baseline, owned = [], []
    # fresh clients until there are baseline_trials of them and OWNED that the primary answered
    while len(baseline) < baseline_trials or len(owned) < OWNED:
        if len(baseline) >= baseline_trials + 10 * OWNED:
            raise RuntimeError('the primary answered %d of %d fresh clients in normal' % (len(owned), len(baseline)))
        r = client_lease(None, rng, expect=None, clients=1)
        # in normal either server may answer: the one that owns the client's hash
        first = r['attempts'][0]
        baseline.append({'lease_s': first['ack_after_s'], 'ack_from': first['ack_from'], 'discovers': first['discovers'],
                         'mac': first['mac']})
        if first['ack_from'] == ADDR[P] and len(owned) < OWNED:
            owned.append(first['mac'])
    unit = service()
    methods = {'stop': 'systemctl stop %s' % unit, 'kill': 'systemctl kill --signal=SIGKILL %s' % unit}
    runs = {m: [] for m in methods}
    for i in range(trials):
        for k, (method, cmd) in enumerate(methods.items()):     # interleaved, so drift on a noisy machine hits both
            start = (2 * i + k) % OWNED
            r = client_lease(cmd, rng, expect=ADDR[S], macs=(owned[start:] + owned[:start])[:4])
            # when the secondary noticed: its own journal line, stamped to the microsecond
            r['secondary_left_normal_s'] = journal_since(S, r['t0'], LEFT_NORMAL[BACKEND['name']])
            # dhcpd's generated (LSB) unit keeps RemainAfterExit=yes: after a SIGKILL it still says
            # active, so `start` would do nothing. restart runs the init script's stop (no-op) and start.
            t_start = time.monotonic()
            dexec(P, 'systemctl restart %s' % unit)
            back_s, states = wait_normal(inventory, [P, S])
            r['back_to_normal_s'] = round(time.monotonic() - t_start, 2)
            sec = states.get(S, {}).get('peers', {}).get(PEER, {})
            r['secondary_transitions'] = sec.get('transitions', [])[-4:]
            r['primary_back_at'] = states.get(P, {}).get('peers', {}).get(PEER, {}).get('my_state_since')
            r['trial'] = i + 1
            runs[method].append(r)
            log('takeover %s #%d: lease from secondary after %s s (attempts %d), back to normal in %.1f s' % (
                method, i + 1, r['lease_s'], len(r['attempts']), r['back_to_normal_s']))
    result = {'baseline_normal': summarize([b['lease_s'] for b in baseline]), 'baseline_trials': baseline,
              'primary_clients': owned, 'backend': BACKEND['name']}
    base_median = result['baseline_normal']['median_s']
    for method, rows in runs.items():
        figures = [r['lease_s'] for r in rows if r['ok']]
        summary = summarize(figures)
        summary.update({'failed_trials': sum(1 for r in rows if not r['ok']),
                        'ratio_median_to_baseline': round(summary['median_s'] / base_median, 2) if base_median else None,
                        'back_to_normal': summarize([r['back_to_normal_s'] for r in rows]),
                        'stop_command': summarize([r.get('stop_command_s') for r in rows]),
                        'secondary_left_normal': summarize([r.get('secondary_left_normal_s') for r in rows]),
                        'met': summary['median_s'] is not None and summary['median_s'] <= TAKEOVER_TARGET_S
                        and not any(not r['ok'] for r in rows)})
        result[method] = summary
        result[method + '_trials'] = rows
    return result
