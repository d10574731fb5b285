# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reader of the lab definition (lab/lab.yml) for Python and shell.

Python (tests/lab, bench): ``sys.path`` gets ``lab/``, then ``import lab``::

    lab.docker_run_args()            # ['--cap-add', 'NET_ADMIN', ..., '--stop-signal', ...]
    lab.network_create_args('10.231.22.0/24')
    lab.image('full')                # env override, else build/lab-image.ref, else repository:latest

Shell (scripts, build.sh): ``python3 lab/lab.py COMMAND`` prints one word per line, for
``mapfile -t``::

    lab.py docker-run-args | network-create-args SUBNET | image KIND | get DOTTED.KEY | images
    lab.py isolate [--check] [ADDR,...]   # drop forwarded traffic from lab bridges to outside the lab
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFINITION = os.path.join(HERE, 'lab.yml')


def load():
    with open(DEFINITION, encoding='utf-8') as f:
        return yaml.safe_load(f)


def get(key, data=None):
    value = load() if data is None else data
    for part in key.split('.'):
        value = value[part]
    return value


def docker_run_args():
    """`docker run` flags every lab container gets (before the image name)."""
    c = load()['container']
    args = []
    for cap in c['capabilities']:
        args += ['--cap-add', cap]
    args += ['--cgroupns', c['cgroupns_mode']]
    for volume in c['volumes']:
        args += ['-v', volume]
    for path in c['tmpfs']:
        args += ['--tmpfs', path]
    args += ['--stop-signal', c['stop_signal'], '--pull', 'never']
    return args


def command():
    return load()['container']['command']


def in_address_space(subnet):
    """Raise ValueError unless SUBNET lies in the lab's address space (lab.yml network.address_space)."""
    net = ipaddress.ip_network(subnet)
    spaces = [ipaddress.ip_network(space) for space in load()['network']['address_space']]
    if not any(net.subnet_of(space) for space in spaces):
        raise ValueError('lab network %s is outside the lab address space %s (lab/lab.yml network.address_space): '
                         'the host would forward its traffic out' % (net, ', '.join(str(s) for s in spaces)))
    return net


def forward_rules():
    """The DOCKER-USER rules (iptables arguments after the chain) that keep lab traffic on the machine."""
    # Bridged traffic between a lab network's own containers (DHCP broadcasts included) goes out
    # the same bridge and is left alone; only what would leave through another interface (the
    # uplink, docker0) is dropped.
    return [['-i', 'br-+', '!', '-o', 'br-+', '-s', space, '-j', 'DROP']
            for space in load()['network']['address_space']]


def isolate(check_only=False):
    """Insert the forward rules into DOCKER-USER where missing; returns the rules missing before."""
    missing = []
    for rule in forward_rules():
        if subprocess.run(['iptables', '-C', 'DOCKER-USER'] + rule, capture_output=True, check=False).returncode:
            missing.append(rule)
            if not check_only:
                subprocess.run(['iptables', '-I', 'DOCKER-USER', '1'] + rule, check=True)
    return missing


def network_create_args(subnet):
    """`docker network create` flags for a lab network on SUBNET (a /24), before its name."""
    n = load()['network']
    net = in_address_space(subnet)
    gateway = net.network_address + n['gateway_last_octet']
    ip_range = ipaddress.ip_network('%s/%d' % (net.network_address, n['ip_range_prefix_length']))
    args = ['--driver', n['driver'], '--subnet', str(net), '--gateway', str(gateway),
            '--ip-range', str(ip_range)]
    for key, value in sorted(n['options'].items()):
        args += ['-o', '%s=%s' % (key, value)]
    return args


def image(kind='full'):
    """The reference of a lab image: its env override, else its ref file (make lab-image)."""
    spec = load()['images'][kind]
    if os.environ.get(spec['env']):
        return os.environ[spec['env']]
    ref = os.path.join(REPO, spec['ref'])
    if os.path.exists(ref):
        with open(ref, encoding='utf-8') as f:
            value = f.read().strip()
        if value:
            return value
    return '%s:latest' % spec['repository']


def main(argv):
    if not argv:
        sys.exit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == 'docker-run-args':
        out = docker_run_args()
    elif cmd == 'network-create-args':
        out = network_create_args(args[0])
    elif cmd == 'command':
        out = [command()]
    elif cmd == 'image':
        out = [image(args[0] if args else 'full')]
    elif cmd == 'isolate':
        # Optional: comma-separated addresses (or subnets) of the networks about to be made.
        for item in [a for arg in args if not arg.startswith('--') for a in arg.split(',') if a]:
            try:
                in_address_space(ipaddress.ip_network(item, strict=False).supernet(new_prefix=24)
                                 if '/' not in item else item)
            except ValueError as exc:
                sys.exit(str(exc))
        missing = isolate(check_only='--check' in args)
        if '--check' in args and missing:
            sys.exit('missing DOCKER-USER rules: ' + '; '.join(' '.join(rule) for rule in missing))
        out = [' '.join(['iptables', '-A', 'DOCKER-USER'] + rule) for rule in forward_rules()]
    elif cmd == 'images':
        out = sorted(load()['images'])
    elif cmd == 'get':
        value = get(args[0])
        if isinstance(value, list):
            out = [str(v) for v in value]
        elif isinstance(value, dict):
            out = [json.dumps(value, sort_keys=True)]
        else:
            out = [str(value)]
    else:
        sys.exit('unknown command %r\n%s' % (cmd, __doc__))
    print('\n'.join(out))


if __name__ == '__main__':
    main(sys.argv[1:])
