# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helpers: render the role's templates from an inventory file, and parse dhcpd.conf.

Rendering uses the same code path as the role (the pair model of the action dhcp.failover.pair_facts,
then the role's Jinja template with Ansible's template settings: trim_blocks, the `comment` filter),
without a controller run.
"""

from __future__ import annotations

import os
import re

import jinja2
import yaml

from ansible.plugins.filter.core import comment
from ansible_collections.dhcp.failover.plugins.plugin_utils import _pair_model, _role_spec

COLLECTION = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
ROLE = os.path.join(COLLECTION, 'roles', 'server')
EXAMPLES = os.path.join(COLLECTION, 'examples')
SEED = os.path.join(COLLECTION, 'tests', 'unit', 'fixtures', 'seed')
TEST_SECRET = 'dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI='
KEY_FILE = '/etc/dhcp/omapi-key.conf'


def derive_pair(hostvars, pairs, host, play_hosts=None):
    """The pair model on test hostvars: each host's spec-declared variables and its facts.

    ``pairs`` become groups (under the pairs group), so the pairs are found as in a real run.
    ``play_hosts``: the hosts of the play (their network facts must be known), as the action
    plugin passes ``ansible_play_hosts_all``; None as before that existed.
    """
    options = _role_spec.load_options()
    groups = dict(pairs, all=list(hostvars), ungrouped=[])
    groups[_pair_model.PAIRS_GROUP] = list(hostvars)
    pairs = _pair_model.find_pairs(groups)
    settings = {name: {key: value for key, value in variables.items() if key in options}
                for name, variables in hostvars.items()}
    facts = {name: variables.get('ansible_facts') or {} for name, variables in hostvars.items()}
    if play_hosts is None:
        return _pair_model.derive(options, settings, facts, pairs, host)
    return _pair_model.derive(options, settings, facts, pairs, host, play_hosts=play_hosts)


def inventory_hostvars(inventory, pairs_group=_pair_model.PAIRS_GROUP, interface='eth0'):
    """(hostvars, pairs) of a YAML inventory of the shape docs/design.md describes.

    Each host gets the facts a real run would gather: its default interface is ``interface``
    and its default address is ``ansible_host``.
    """
    if isinstance(inventory, str):
        with open(inventory, encoding='utf-8') as handle:
            inventory = yaml.safe_load(handle)
    top = inventory[pairs_group]
    hostvars, pairs = {}, {}
    for pair, group in (top.get('children') or {}).items():
        pairs[pair] = list((group.get('hosts') or {}).keys())
        for host, variables in (group.get('hosts') or {}).items():
            merged = dict(top.get('vars') or {})
            merged.update(group.get('vars') or {})
            merged.update(variables or {})
            merged.setdefault('ansible_facts', {'default_ipv4': {
                'address': merged.get('ansible_host'), 'interface': interface}})
            hostvars[host] = merged
    return hostvars, pairs


def _environment():
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(ROLE, 'templates')),
        trim_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters['comment'] = comment
    return env


def render(template, info, **extra):
    variables = {
        'ansible_managed': 'Ansible managed',
        'dhcp_failover_pair_info': info,
        'dhcp_failover_omapi_key_file': KEY_FILE,
        'dhcp_failover_config_file': '/etc/dhcp/dhcpd.conf',
        '__dhcp_failover_omapi_secret': TEST_SECRET,
    }
    variables.update(extra)
    return _environment().get_template(template).render(**variables)


def render_host(inventory, host):
    """Return (derived settings, dhcpd.conf text, key file text) of one host."""
    hostvars, pairs = inventory_hostvars(inventory)
    info = derive_pair(hostvars, pairs, host)
    return info, render('dhcpd.conf.j2', info), render('omapi-key.conf.j2', info)


def checkable(conf, key):
    """What the role hands to dhcpd -t: dhcpd.conf with the key file inlined."""
    return conf.replace('include "%s";' % KEY_FILE, key)


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{};]|[^\s{};"]+')


def _strip_comments(text):
    lines = []
    for line in text.splitlines():
        out, quoted = [], False
        for char in line:
            if char == '"':
                quoted = not quoted
            if char == '#' and not quoted:
                break
            out.append(char)
        lines.append(''.join(out))
    return '\n'.join(lines)


def statements(text):
    """Set of (block path, statement) of a dhcpd.conf, comments and layout ignored."""
    result = set()
    path, words = [], []
    for token in _TOKEN.findall(_strip_comments(text)):
        if token == '{':
            path.append(' '.join(words))
            words = []
        elif token == '}':
            path.pop()
        elif token == ';':
            result.add((tuple(path), ' '.join(words)))
            words = []
        else:
            words.append(token)
    assert not path and not words, 'unbalanced dhcpd.conf'
    return result


def statements_of_block(text, prefix):
    return {statement for path, statement in statements(text) if path and path[0].startswith(prefix)}
