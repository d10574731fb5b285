# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure `ssh`: the no-change rerun of `dhcp.failover.site` as users run it, over SSH (user ops, a
key made for this run, pipelining, become through sudo), next to the same rerun over the docker
connection (root), alternating, on the same pair of bare containers (lab image bare-bookworm: sshd,
sudo, python3, packages from the lab's local apt repository; network dhcpf-bench-n3, 10.231.13.0/24).
The pair is deployed fresh over SSH first (that run installs the packages)."""
import os
import socket
import time

import lab  # pylint: disable=wrong-import-order
from benchlab import (DOCKER_CONNECTION, NET_BASE, PREFIX, ROOT, WORK, cleanup, create_network, log, reset_keys, run_site, sh,
                      start_containers, summarize, write_inventory)

NAME = 'ssh'
MAIN_PAIR = False
PREFIX_NET = '10.231.%d' % (NET_BASE + 3)


def run(ctx):
    return bench_ssh(ctx.args.rerun_trials)


def wait_sshd(address, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, 22), timeout=2) as conn:
                if conn.recv(64).startswith(b'SSH-'):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError('sshd on %s did not answer within %d s' % (address, timeout))
        time.sleep(0.5)


def bench_ssh(trials):
    cleanup()
    reset_keys()
    ssh_dir = os.path.join(WORK, 'ssh')
    key = os.path.join(ssh_dir, 'id_ed25519')
    if not os.path.exists(key):
        os.makedirs(os.path.join(ssh_dir, 'authorized'), exist_ok=True)
        sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'dhcpf-bench', '-f', key])
    with open(key + '.pub') as src, open(os.path.join(ssh_dir, 'authorized', 'ops'), 'w') as dst:
        dst.write(src.read())
    os.chmod(os.path.join(ssh_dir, 'authorized', 'ops'), 0o644)
    image = lab.image('bare-bookworm')
    repo = lab.get('apt_repository')
    mounts = ['%s:%s:ro' % (os.path.join(ROOT, repo['directory']), repo['mount']),
              '%s:/etc/ssh/lab_authorized_keys:ro' % os.path.join(ssh_dir, 'authorized')]
    net = '%s-n3' % PREFIX
    create_network(net, PREFIX_NET)
    p, s = '%s-ssh-p' % PREFIX, '%s-ssh-s' % PREFIX
    addr = {p: PREFIX_NET + '.2', s: PREFIX_NET + '.3'}
    start_containers([(p, net, addr[p]), (s, net, addr[s])], image=image, mounts=mounts)
    for host in (p, s):
        wait_sshd(addr[host])
    pairs = {'ssh': ('ssh', p, s, PREFIX_NET)}
    ssh_conn = {'ansible_connection': 'ssh', 'ansible_user': 'ops', 'ansible_ssh_private_key_file': key,
                'ansible_become': True, 'ansible_python_interpreter': '/usr/bin/python3'}
    inventories = {
        'ssh': write_inventory(os.path.join(WORK, 'ssh-ssh.yml'), pairs, connection=ssh_conn,
                               host_vars={h: {'ansible_host': a} for h, a in addr.items()}),
        'docker': write_inventory(os.path.join(WORK, 'ssh-docker.yml'), pairs, connection=DOCKER_CONNECTION),
    }
    log('ssh: fresh site run over SSH on %s (image %s)' % (', '.join((p, s)), image))
    result = {'image': image, 'trials': trials, 'fresh_ssh': run_site(inventories['ssh'], 'ssh-fresh'), 'order': []}
    runs = {'ssh': [], 'docker': []}
    for trial in range(trials):
        order = ['ssh', 'docker'] if trial % 2 == 0 else ['docker', 'ssh']
        for kind in order:
            r = run_site(inventories[kind], 'ssh-rerun-%s-%d' % (kind, trial + 1))
            r['load_avg'] = os.getloadavg()
            runs[kind].append(r)
            result['order'].append(kind)
            log('ssh: rerun over %s #%d: %.1f s, changed %d, remote calls per host %s' % (
                kind, trial + 1, r['wall_s'], r['changed'], r.get('remote_calls_per_host')))
    for kind, rows in runs.items():
        result[kind] = {'reruns': rows, 'wall': summarize([r['wall_s'] for r in rows]), 'changed': [r['changed'] for r in rows],
                        'remote_calls_per_host': rows[0].get('remote_calls_per_host')}
    med_ssh, med_docker = result['ssh']['wall']['median_s'], result['docker']['wall']['median_s']
    result['ratio_median_ssh_to_docker'] = round(med_ssh / med_docker, 3) if med_docker else None
    cleanup()
    return result
