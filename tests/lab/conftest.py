# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab fixtures for tests that need real dhcpd hosts (Docker containers of the lab image).

Reusable pieces:
- ``lab_image``: the full lab image (lab/lab.yml: env DHCP_FAILOVER_LAB_IMAGE, else
  build/lab-image.ref from ``make lab-image``). Without Docker or the image the tests are skipped,
  except under ``make test`` / ``make pytest``, which set DHCP_FAILOVER_LAB_REQUIRED=1: there a
  missing lab fails them.
- ``LabPair``: a bridge network and two systemd containers (``p`` and ``s``) on it, with the
  container flags and network options of lab/lab.yml, removed on ``close()``.
- ``run_playbook()``: ansible-playbook from the repo's venv against the installed collection
  (ANSIBLE_COLLECTIONS_PATH, which the Makefile sets to build/collections, ``make collection``).
- ``lab_pair``: a module-scoped LabPair named ``dhcpf-capture-role`` on 10.231.22.0/24.
- ``lab_net()`` and DHCP_FAILOVER_LAB_NAME_PREFIX: a second lab on the same Docker engine (another
  worktree) runs the same tests on its own networks and container names, e.g.
  DHCP_FAILOVER_LAB_NETS=10.231.28=10.231.15,10.231.41=10.231.16 DHCP_FAILOVER_LAB_NAME_PREFIX=dhcpf-pt-
  (a module that uses lab_net() for its network; CI sets neither).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
VENV_BIN = os.path.dirname(sys.executable)
# The collection as installed by `make collection` (the built tarball), as a user has it: the one
# path, ANSIBLE_COLLECTIONS_PATH (the Makefile exports build/collections), nothing on PYTHONPATH.
DEV_COLLECTIONS = os.environ.get('ANSIBLE_COLLECTIONS_PATH') or os.path.join(REPO, 'build', 'collections')
# lab/lab.py: the lab definition (lab/lab.yml).
sys.path.insert(0, os.path.join(REPO, 'lab'))
import lab  # noqa: E402  pylint: disable=wrong-import-position


def docker(*args, check=True, input=None, timeout=120):
    return subprocess.run(['docker'] + list(args), check=check, input=input, capture_output=True,
                          text=True, timeout=timeout)


def recap(output):
    """{host: {ok: N, changed: N, ...}} from the PLAY RECAP lines of ansible-playbook's output."""
    return dict((host, dict((key, int(value)) for key, value in re.findall(r'(\w+)=(\d+)', rest)))
                for host, rest in re.findall(r'^(\S+)\s+:\s+(ok=.*)$', output, re.MULTILINE))


def lab_net(default):
    """The first three octets of a test module's lab network: ``default`` ('10.231.28'), unless
    DHCP_FAILOVER_LAB_NETS maps it to another one ('10.231.28=10.231.15,10.231.41=10.231.16')."""
    for item in os.environ.get('DHCP_FAILOVER_LAB_NETS', '').split(','):
        if '=' in item and item.split('=', 1)[0].strip() == default:
            return item.split('=', 1)[1].strip()
    return default


def lab_missing(reason):
    """Skip, or fail where the lab is required (make test, make pytest: DHCP_FAILOVER_LAB_REQUIRED=1)."""
    if os.environ.get('DHCP_FAILOVER_LAB_REQUIRED') == '1':
        pytest.fail('the lab is required here (DHCP_FAILOVER_LAB_REQUIRED=1) and %s' % reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope='session')
def lab_image():
    image = lab.image('full')
    if shutil.which('docker') is None:
        lab_missing('docker is not installed')
    if docker('info', check=False).returncode != 0:
        lab_missing('the docker engine is not running')
    if docker('image', 'inspect', image, check=False).returncode != 0:
        lab_missing('lab image %s is not built (make lab-image)' % image)
    if not os.path.isdir(os.path.join(DEV_COLLECTIONS, 'ansible_collections', 'dhcp', 'failover')):
        lab_missing('the collection is not installed in %s (make collection)' % DEV_COLLECTIONS)
    return image


class LabPair:
    """A bridge network with two systemd containers of the lab image, ``p`` and ``s``."""

    def __init__(self, image, name, prefix, hosts=(('p', 2), ('s', 3))):
        self.image = image
        # dhcpf-NAME, or PREFIXNAME with DHCP_FAILOVER_LAB_NAME_PREFIX (another lab on this engine)
        if name.startswith('dhcpf-') and os.environ.get('DHCP_FAILOVER_LAB_NAME_PREFIX'):
            name = os.environ['DHCP_FAILOVER_LAB_NAME_PREFIX'] + name[len('dhcpf-'):]
        self.name = name
        self.prefix = prefix                      # e.g. '10.231.22'
        self.hosts = dict((host, '%s.%d' % (prefix, last)) for host, last in hosts)
        self.containers = dict((host, '%s-%s' % (name, host)) for host in self.hosts)

    def start(self):
        self.close()
        docker('network', 'create', *lab.network_create_args(self.prefix + '.0/24'), self.name)
        for host, address in self.hosts.items():
            docker('run', '-d', '--name', self.containers[host], '--hostname', host,
                   '--network', self.name, '--ip', address, *lab.docker_run_args(), self.image,
                   lab.command())
        for host in self.hosts:
            self.wait_for_systemd(host)
        return self

    def wait_for_systemd(self, host, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.exec(host, 'systemctl is-system-running', check=False).stdout.strip()
            if state in ('running', 'degraded'):
                return
            time.sleep(1)
        raise RuntimeError('systemd did not start in %s' % self.containers[host])

    def exec(self, host, command, check=True, input=None, timeout=120):
        return docker('exec', '-i', self.containers[host], 'sh', '-c', command, check=check,
                      input=input, timeout=timeout)

    def close(self):
        for container in self.containers.values():
            docker('rm', '-f', '-v', container, check=False)
        docker('network', 'rm', self.name, check=False)

    def inventory(self, pair='office', pair_vars=None, host_vars=None, extra_pairs=None):
        """A YAML inventory (as a dict) of one pair made of the two containers."""
        hosts = {}
        for host in self.hosts:
            hosts[host] = {'ansible_connection': 'community.docker.docker',
                           'ansible_host': self.containers[host],
                           'ansible_python_interpreter': '/usr/bin/python3'}
            hosts[host].update((host_vars or {}).get(host, {}))
        children = {pair: {'hosts': hosts, 'vars': dict(pair_vars or {})}}
        children.update(extra_pairs or {})
        return {'dhcp_failover': {'children': children}}

    def snapshot(self, host):
        """Everything the role could change on a host: files, packages, service state.

        The lease directory is left out: the running dhcpd rewrites it by itself. So are directory
        mtimes: dhcp.failover.config_check creates and removes its temporary file in /etc/dhcp.
        """
        return self.exec(host, ' ; '.join((
            'find /etc/dhcp /etc/default/isc-dhcp-server -type f -exec sha256sum {} + | sort',
            'find /etc/dhcp /etc/default/isc-dhcp-server ! -type d -printf "%p %m %s %T@\\n" | sort',
            "dpkg-query -W -f '${Package} ${Version} ${Status}\\n' | sha256sum",
            'systemctl is-active isc-dhcp-server',
            'systemctl is-enabled isc-dhcp-server',
            'systemctl show -p ActiveEnterTimestampMonotonic -p NRestarts isc-dhcp-server',
        )), check=False).stdout


def run_playbook(playbook, inventory, *args, env=None, timeout=600):
    environment = dict(os.environ)
    environment.update({
        'ANSIBLE_COLLECTIONS_PATH': DEV_COLLECTIONS,
        'ANSIBLE_HOST_KEY_CHECKING': 'False',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
    })
    environment.update(env or {})
    command = [os.path.join(VENV_BIN, 'ansible-playbook'), '-i', inventory, playbook] + list(args)
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=timeout,
                          cwd=REPO, check=False)


@pytest.fixture(scope='module')
def lab_pair(lab_image):
    pair = LabPair(lab_image, 'dhcpf-capture-role', '10.231.22').start()
    try:
        yield pair
    finally:
        pair.close()
