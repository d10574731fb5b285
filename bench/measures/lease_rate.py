# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `rate`: perfdhcp (relay mode, through bench/relay.py) against the pair and a standalone
server of the same backend with the same subnet/pool settings (dhcpd without failover, or kea-dhcp4
without the HA hook); then the same load while the primary is killed. Runs on the main pair
(bench/benchlab.py), ISC dhcpd or Kea (the pass's backend)."""
import json
import os
import re
import statistics
import subprocess
import time

from benchlab import (ADDR, BACKEND, BENCH, GIADDR, LOAD, P, RATE_TARGET, RELAY_PAIR, RELAY_SOLO, S, SOLO, WORK,
                      dexec, log, service, sh, wait_normal, wait_normal_states)

NAME = 'rate'
MAIN_PAIR = True


def run(ctx):
    a = ctx.args
    return bench_rate(ctx.inventory, [int(x) for x in a.rates.split(',')], a.rate_seconds, a.clients, a.rate_reps,
                      a.kill_seconds, a.kill_at)


PERF_LINE = re.compile(r'sent: (\d+)/(\d+); received: (\d+)/(\d+); drops: (\d+)/(\d+)')


def perfdhcp(target, rate, seconds, clients, report=False):
    argv = ('timeout %d perfdhcp -4 -l %s -r %d -R %d -p %d -s 1 %s %s' % (
        seconds + 20, GIADDR, rate, clients, seconds, '-t 1' if report else '', target))
    start = time.time()
    proc = sh(['docker', 'exec', LOAD, 'bash', '-c', argv], check=False, timeout=seconds + 60)
    if proc.returncode not in (0, 3):
        raise RuntimeError('perfdhcp failed (rc %d): %s' % (proc.returncode, (proc.stdout + proc.stderr)[-1500:]))
    return parse_perfdhcp(proc.stdout, start, rate, seconds)


def parse_perfdhcp(text, start, rate, seconds):
    res = {'offered_rate': rate, 'seconds': seconds, 'started': start}
    m = re.search(r'Rate: ([\d.]+) 4-way exchanges/second', text)
    res['exchanges_per_s'] = float(m.group(1)) if m else 0.0
    for section, key in (('DISCOVER-OFFER', 'do'), ('REQUEST-ACK', 'ra')):
        part = text.split('***Statistics for: %s***' % section, 1)
        stats = {}
        if len(part) == 2:
            for name in ('sent packets', 'received packets', 'drops', 'orphans'):
                mm = re.search(r'^%s: (\d+)' % name, part[1], re.M)
                stats[name.replace(' packets', '')] = int(mm.group(1)) if mm else None
            mm = re.search(r'^avg delay: ([\d.]+) ms', part[1], re.M)
            stats['avg_delay_ms'] = float(mm.group(1)) if mm else None
            mm = re.search(r'^max delay: ([\d.]+) ms', part[1], re.M)
            stats['max_delay_ms'] = float(mm.group(1)) if mm else None
        res[key] = stats
    discovers = res['do'].get('sent') or 0
    acks = res['ra'].get('received') or 0
    res['discovers_sent'] = discovers
    res['acks_received'] = acks
    # an exchange is lost when either its OFFER or its ACK never came
    res['drop_ratio'] = round(1 - acks / discovers, 4) if discovers else None
    res['intervals'] = [[int(x) for x in m.groups()] for m in PERF_LINE.finditer(text)]
    return res


def solo_config():
    """The primary's rendered dhcpd.conf without failover and OMAPI: same globals, subnet and pool."""
    conf = dexec(P, 'cat /etc/dhcp/dhcpd.conf')
    conf = re.sub(r'\nfailover peer "[^"]+" \{.*?\n\}\n', '\n', conf, flags=re.S)
    lines = [line for line in conf.splitlines()
             if not re.match(r'\s*(failover peer "[^"]+";|include "|omapi-)', line)]
    return '# dhcpf-bench standalone: the pair primary\'s dhcpd.conf without failover and OMAPI\n' + '\n'.join(lines) + '\n'


KEA_CONF = '/etc/kea/kea-dhcp4.conf'


def kea_solo_config():
    """The primary's kea-dhcp4.conf without the HA hook: same globals, subnet and pools. In
    load-balancing the role splits each pool in two, one per server, for the classes the HA hook
    gives each client (HA_<server>): without the hook no client is in either, so the classes go."""
    conf = json.loads(dexec(P, 'cat %s' % KEA_CONF))
    dhcp4 = conf['Dhcp4']
    dhcp4['hooks-libraries'] = [h for h in dhcp4.get('hooks-libraries', []) if not h['library'].endswith('/libdhcp_ha.so')]
    dhcp4['client-classes'] = [c for c in dhcp4.get('client-classes', []) if not c['name'].startswith('HA_')]
    if not dhcp4['client-classes']:
        del dhcp4['client-classes']
    for subnet in dhcp4.get('subnet4', []):
        for pool in subnet.get('pools', []):
            if str(pool.get('client-class', '')).startswith('HA_'):
                del pool['client-class']
    return json.dumps(conf, indent=1) + '\n'


def start_solo():
    """The standalone server of the pass's backend, with the primary's settings; returns its config."""
    if BACKEND['name'] == 'kea':
        conf = kea_solo_config()
        dexec(SOLO, 'cat > %s.new && chown root:_kea %s.new && chmod 0640 %s.new' % (KEA_CONF, KEA_CONF, KEA_CONF), stdin=conf)
        check = dexec(SOLO, 'kea-dhcp4 -t %s.new 2>&1 && mv %s.new %s && echo CHECKED' % (KEA_CONF, KEA_CONF, KEA_CONF), check=False)
        if 'CHECKED' not in check:
            raise RuntimeError('standalone Kea config rejected: ' + check[-800:])
        name = 'solo-kea-dhcp4.conf'
    else:
        conf = solo_config()
        dexec(SOLO, 'cat > /etc/dhcp/dhcpd.conf && echo \'INTERFACESv4="eth0"\' > /etc/default/isc-dhcp-server', stdin=conf)
        check = dexec(SOLO, 'dhcpd -t -cf /etc/dhcp/dhcpd.conf 2>&1', check=False)
        if 'Configuration file errors' in check:
            raise RuntimeError('standalone config rejected: ' + check[-800:])
        name = 'solo-dhcpd.conf'
    with open(os.path.join(WORK, name), 'w') as handle:
        handle.write(conf)
    dexec(SOLO, 'systemctl restart %s' % service())


def start_relays():
    dexec(LOAD, 'ip addr add %s/24 dev eth0; ip addr add %s/24 dev eth0; cat > /run/relay.py' % (RELAY_PAIR, RELAY_SOLO),
          stdin=open(os.path.join(BENCH, 'relay.py')).read())
    sh(['docker', 'exec', '-d', LOAD, 'python3', '/run/relay.py', RELAY_PAIR, ADDR[P], ADDR[S]])
    sh(['docker', 'exec', '-d', LOAD, 'python3', '/run/relay.py', RELAY_SOLO, ADDR[SOLO]])
    time.sleep(1)


def bench_rate(inventory, rates, seconds, clients, reps, kill_seconds, kill_at):
    start_solo()
    start_relays()
    # warm-up: every simulated client gets its lease once on each side, so both measure steady state
    for target in (RELAY_SOLO, RELAY_PAIR):
        perfdhcp(target, 100, 3, clients)
    result = {'clients': clients, 'seconds': seconds, 'rates': {}}
    for rate in rates:
        runs = {'pair': [], 'standalone': []}
        for rep in range(reps):
            order = [('standalone', RELAY_SOLO), ('pair', RELAY_PAIR)]
            if rep % 2:
                order.reverse()
            for kind, target in order:
                r = perfdhcp(target, rate, seconds, clients)
                r['load_avg'] = os.getloadavg()[0]
                runs[kind].append(r)
                log('rate %d/s %s: %.1f exchanges/s, drop ratio %.3f' % (rate, kind, r['exchanges_per_s'], r['drop_ratio'] or 0))
        pair = statistics.median(r['exchanges_per_s'] for r in runs['pair'])
        solo = statistics.median(r['exchanges_per_s'] for r in runs['standalone'])
        result['rates'][str(rate)] = {
            'pair_exchanges_per_s': round(pair, 1), 'standalone_exchanges_per_s': round(solo, 1),
            'pair_drop_ratio': round(statistics.median(r['drop_ratio'] for r in runs['pair']), 4),
            'standalone_drop_ratio': round(statistics.median(r['drop_ratio'] for r in runs['standalone']), 4),
            'ratio_pair_to_standalone': round(pair / solo, 3) if solo else None,
            'met': bool(solo) and pair >= RATE_TARGET * solo, 'runs': runs}
    dexec(SOLO, 'systemctl stop %s' % service())
    # the same loads while the primary is killed
    result['kill_under_load'] = {}
    for kill_rate in rates:
        result['kill_under_load'][str(kill_rate)] = kill_under_load(inventory, kill_rate, clients, kill_seconds, kill_at)
    return result


def kill_under_load(inventory, rate, clients, seconds, kill_at):
    log('rate: %d/s for %d s against the pair, primary killed (SIGKILL) after %d s' % (rate, seconds, kill_at))
    wait_normal(inventory, [P, S])
    perf = subprocess.Popen(['docker', 'exec', LOAD, 'bash', '-c', 'timeout %d perfdhcp -4 -l %s -r %d -R %d -p %d -s 1 -t 1 %s' % (
        seconds + 20, GIADDR, rate, clients, seconds, RELAY_PAIR)], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    start = time.time()
    time.sleep(kill_at)
    t_kill = time.time()
    dexec(P, 'systemctl kill --signal=SIGKILL %s' % service())
    out, _ignored = perf.communicate(timeout=seconds + 60)
    under = parse_perfdhcp(out, start, rate, seconds)
    under['kill_after_s'] = round(t_kill - start, 2)
    under.update(kill_phases(under['intervals'], under['kill_after_s'], rate))
    dexec(P, 'systemctl restart %s' % service())
    try:
        under['back_to_normal_s'] = round(wait_normal(inventory, [P, S], timeout=120)[0], 2)
    except RuntimeError:   # a finding, not the end of the run: keep what both peers say
        under['back_to_normal_s'] = None
        under['not_normal_after_restart'] = {
            name: {'state_info': wait_normal_states(inventory, name),
                   'journal_tail': dexec(name, 'journalctl -u %s -o short-unix --no-pager -n 25' % service(), check=False)}
            for name in (P, S)}
        log('pair NOT back to normal within 120 s after the restart; states recorded')
    log('rate %d/s under kill: before %s, during %s drops in %s s, after %s drop ratio' % (
        rate, under['before']['drop_ratio'], under['during']['drops'], under['during']['seconds'], under['after']['drop_ratio']))
    return under


def kill_phases(intervals, kill_after, rate):
    """Per-second deltas of perfdhcp's cumulative report; 'during' runs from the kill until the first
    second whose exchanges complete again (drops back under 5 % of that second's discovers)."""
    rows, prev = [], [0] * 6
    for i, cur in enumerate(intervals):
        d = [c - p for c, p in zip(cur, prev)]
        prev = cur
        rows.append({'second': i + 1, 'discovers': d[0], 'requests': d[1], 'offers': d[2], 'acks': d[3],
                     'drops_do': d[4], 'drops_ra': d[5]})
    kill_second = int(kill_after)        # report i covers (i-1, i]; the kill falls in report kill_second+1
    pre = rows[:kill_second]
    pre_ok = (sum(r['acks'] for r in pre) / max(1, sum(r['discovers'] for r in pre))) if pre else 1.0
    recovered = None
    for row in rows[kill_second:]:
        if row['discovers'] and row['acks'] >= 0.9 * pre_ok * row['discovers']:
            recovered = row['second']
            break

    def phase(sel):
        disc = sum(r['discovers'] for r in sel)
        drops = sum(r['drops_do'] + r['drops_ra'] for r in sel)
        return {'seconds': len(sel), 'discovers': disc, 'drops': drops, 'drop_ratio': round(drops / disc, 4) if disc else None}
    before = rows[:kill_second]
    during = rows[kill_second:(recovered - 1) if recovered else len(rows)]
    after = rows[(recovered - 1):] if recovered else []
    return {'per_second': rows, 'before': phase(before), 'during': phase(during), 'after': phase(after),
            'disrupted_s': len(during)}
