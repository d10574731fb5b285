# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report writer of bench/run.py: RESULTS.md from a run's results (the JSON bench/run.py writes),
through the templates bench/RESULTS.md.j2 (the page) and bench/RESULTS-analysis.md.j2 (the
explanation of each missed target), which hold every word of it; this file only formats figures.
`bench/run.py --report JSON` rewrites RESULTS.md from an earlier run's JSON."""
import os
import statistics

import jinja2

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'RESULTS.md.j2')
ANALYSIS = os.path.join(os.path.dirname(TEMPLATE), 'RESULTS-analysis.md.j2')


def fmt(value, unit='', digits=2):
    if value is None:
        return 'n/a'
    return ('%.*f%s' % (digits, value, unit)) if isinstance(value, float) else '%s%s' % (value, unit)


def pct(ratio):
    return 'n/a' if ratio is None else '%.1f %%' % (100 * ratio)


def slowest(tasks, count=4):
    return '; '.join('%s %.1f s' % (t['task'], t['seconds']) for t in tasks[:count])


def acks_per_request(runs):
    """perfdhcp counts the second ACK of a relayed REQUEST as an orphan: ACKs per REQUEST, median."""
    return statistics.median(1 + (r['ra'].get('orphans') or 0) / max(1, r['ra'].get('sent') or 0) for r in runs)


def median_discovers(trials):
    return statistics.median(t['attempts'][-1]['discovers'] for t in trials) if trials else None


def calls(per_host):
    """{host: n} -> 'n on every host' or 'host n, host n'."""
    if not per_host:
        return 'n/a'
    values = set(per_host.values())
    if len(values) == 1 and len(per_host) > 1:
        return '%d on each of %d hosts' % (values.pop(), len(per_host))
    return ', '.join('%s %d' % kv for kv in sorted(per_host.items()))


def execs(per_host, key='execs'):
    return calls({host: v.get(key, 0) for host, v in (per_host or {}).items()})


def controller_results(site_run):
    """{host: n} of a site run's task results the controller answered alone (bench_calls' "local")."""
    return {host: v['calls'] for host, v in (site_run.get('remote_calls') or {}).get('local', {}).items()}


def time_split(site_run):
    """profile_tasks seconds of a site run: in tasks that ran a module on a host, and in the others
    (answered by the controller, or delegated to it)."""
    remote = {t['task'] for v in (site_run.get('remote_calls') or {}).get('hosts', {}).values() for t in v['tasks']}
    on_hosts = sum(t['seconds'] for t in site_run.get('tasks', []) if t['task'] in remote)
    return {'hosts_s': round(on_hosts, 1), 'controller_s': round(sum(t['seconds'] for t in site_run.get('tasks', [])) - on_hosts, 1)}


def environment():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.dirname(TEMPLATE)), trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.Undefined, autoescape=False)
    env.filters.update(fmt=fmt, pct=pct, slowest=slowest, acks_per_request=acks_per_request,
                       median_discovers=median_discovers, calls=calls, execs=execs, controller_results=controller_results, time_split=time_split,
                       max_or_zero=lambda values: max(list(values) or [0]))
    env.tests.update(digits=lambda s: str(s).isdigit(), longer_than=lambda seq, n: len(seq) > n)
    return env


def template(path=TEMPLATE):
    return environment().get_template(os.path.basename(path))


def analysis(results, names):
    """One line per missed target, each explained by the measured breakdown (the template's macro).
    names: the lab's primary and secondary (P, S) and the MCLT."""
    text = str(template(ANALYSIS).module.analysis(results, names['P'], names['S'], names['MCLT']))
    return [line for line in text.splitlines() if line.strip()]


def write_report(data, md_path, names):
    text = template().render(r=data['results'], P=names['P'], S=names['S'], MCLT=names['MCLT'], **data)
    with open(md_path, 'w') as handle:
        handle.write(text)
