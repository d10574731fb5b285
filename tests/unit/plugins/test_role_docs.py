# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/role_docs.py, the generator of the role README's variable reference and of
defaults/main.yml, on a small collection tree of its own (the real files are checked by
`make docs-check`)."""

from __future__ import annotations

import importlib.util
import os
import textwrap

import pytest
import yaml

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'scripts', 'role_docs.py')
_SPEC = importlib.util.spec_from_file_location('role_docs', SCRIPT)
role_docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(role_docs)

SPEC = textwrap.dedent('''\
    ---
    argument_specs:
      main:
        short_description: test role
        options:
          demo_mode:
            type: str
            choices: [load_balance, hot_standby]
            default: load_balance
            description:
              - C(load_balance) - both answer; see O(demo_split).
              - Second paragraph.
          demo_split:
            type: int
            default: 128
            description: Share of the primary.
          demo_address:
            type: str
            description:
              - This host's address.
              - Default - C(ansible_default_ipv4.address).
          demo_key_dir:
            type: str
            default: "{{ lookup('ansible.builtin.env', 'HOME') }}/keys"
            description: Key directory.
          demo_subnets:
            type: list
            elements: dict
            default: []
            description: Subnets.
            options:
              network:
                type: str
                required: true
                description: Network, for example C(192.168.1.0/24).
              pools:
                type: list
                elements: dict
                description: Pools.
                options:
                  ranges:
                    type: list
                    elements: dict
                    required: true
                    description: Ranges.
                    options:
                      start:
                        type: str
                        required: true
                        description: First address.
''')

README = textwrap.dedent(f'''\
    # demo.role.server

    Hand-written introduction.

    ## Variables

    {role_docs.BEGIN}
    stale table
    {role_docs.END}

    ## License

    Hand-written license.
''')


@pytest.fixture
def tree(tmp_path):
    (tmp_path / 'galaxy.yml').write_text('namespace: demo\nname: role\nversion: 1.0.0\n')
    meta = tmp_path / 'roles' / 'server' / 'meta'
    meta.mkdir(parents=True)
    (meta / 'argument_specs.yml').write_text(SPEC)
    (tmp_path / 'roles' / 'server' / 'README.md').write_text(README)
    return tmp_path


def contents(root):
    return {str(path.relative_to(root)): path.read_text() for path in sorted(root.rglob('*')) if path.is_file()}


def test_check_fails_on_stale_files_and_writes_nothing(tree, capsys):
    before = contents(tree)
    assert role_docs.main(['--check'], root=str(tree)) == 1
    out = capsys.readouterr().out
    assert '--- a/roles/server/README.md' in out
    assert '-stale table' in out
    assert '+++ b/roles/server/defaults/main.yml' in out
    assert out.splitlines()[-1] == ('stale: roles/server/README.md, roles/server/defaults/main.yml; '
                                    'run: .venv/bin/python scripts/role_docs.py')
    assert contents(tree) == before


def test_check_passes_after_generation_and_fails_again_when_a_description_changes(tree, capsys):
    assert role_docs.main([], root=str(tree)) == 0
    assert role_docs.main(['--check'], root=str(tree)) == 0
    spec = tree / 'roles' / 'server' / 'meta' / 'argument_specs.yml'
    spec.write_text(spec.read_text().replace('Share of the primary.', 'Share of the primary, 0..256.'))
    capsys.readouterr()
    assert role_docs.main(['--check'], root=str(tree)) == 1
    out = capsys.readouterr().out
    assert '+| `demo_split` | int |  | `128` |  | Share of the primary, 0..256. |' in out
    assert '+# Share of the primary, 0..256.' in out


def test_readme_keeps_the_hand_written_text_and_nests_suboptions(tree):
    role_docs.main([], root=str(tree))
    readme = (tree / 'roles' / 'server' / 'README.md').read_text()
    assert readme.startswith('# demo.role.server\n\nHand-written introduction.\n\n## Variables\n\n' + role_docs.BEGIN + '\n')
    assert readme.endswith(role_docs.END + '\n\n## License\n\nHand-written license.\n')
    assert 'stale table' not in readme
    rows = [line for line in readme.splitlines() if line.startswith('| `')]
    assert [row.split(' | ')[0] for row in rows] == [
        '| `demo_mode`', '| `demo_split`', '| `demo_address`', '| `demo_key_dir`', '| `demo_subnets`',
        '| `demo_subnets[].network`', '| `demo_subnets[].pools`', '| `demo_subnets[].pools[].ranges`',
        '| `demo_subnets[].pools[].ranges[].start`',
    ]
    assert rows[0] == ('| `demo_mode` | str |  | `load_balance` | `load_balance`, `hot_standby` | '
                       '`load_balance` - both answer; see `demo_split`.<br>Second paragraph. |')
    assert rows[8] == '| `demo_subnets[].pools[].ranges[].start` | str | yes |  |  | First address. |'
    assert '| `demo_subnets` | list of dict |  | `[]` |' in readme


def test_defaults_load_as_the_spec_defaults(tree):
    role_docs.main([], root=str(tree))
    text = (tree / 'roles' / 'server' / 'defaults' / 'main.yml').read_text()
    assert yaml.safe_load(text) == {
        'demo_mode': 'load_balance',
        'demo_split': 128,
        'demo_key_dir': "{{ lookup('ansible.builtin.env', 'HOME') }}/keys",
        'demo_subnets': [],
    }
    assert '#   demo_address: Default - `ansible_default_ipv4.address`.' in text
    assert '# Share of the primary.\ndemo_split: 128\n' in text
    # The first paragraph of demo_mode fits on one line; its second paragraph is not used.
    assert '# `load_balance` - both answer; see `demo_split`.\ndemo_mode: load_balance\n' in text


@pytest.mark.parametrize('value', [
    '', 'none', 'yes', 'off', '0644', '647', 'a: b', '# not a comment', "it's", 'say "hi"',
    "{{ lookup('ansible.builtin.env', 'HOME') }}/x", True, False, 0, 1, 1.5,
    ['isc-dhcp-server', 'true'], {'domain-name': 'x', 'routers': ['10.0.0.1']}, [{'start': '1', 'end': 2}],
])
def test_every_default_survives_the_round_trip(tmp_path, value):
    spec = {'argument_specs': {'main': {'options': {'demo_value': {'default': value, 'description': 'A value.'}}}}}
    text = role_docs.defaults(spec['argument_specs']['main'], 'demo.role.server', 'defaults/main.yml')
    loaded = yaml.safe_load(text)['demo_value']
    assert role_docs.same(loaded, value), text


@pytest.mark.parametrize('text, table, expected', [
    ('O(a) V(b) C(c) M(d.e.f) P(x.y.z#filter) RV(r)', True, '`a` `b` `c` `d.e.f` `x.y.z` `r`'),
    ('O(ignore:old) O(ns.coll.mod#module:opt=1)', True, '`old` `opt=1`'),
    ('V(a\\)b) and C(x)', True, '`a)b` and `x`'),
    ('C(a|b) or c|d', True, '`a\\|b` or c\\|d'),
    ('C(a|b)', False, '`a|b`'),
    ('C(`x`)', True, '`` `x` ``'),
    ('I(it) B(bold) U(https://x.org) L(text,https://x.org)', True, '*it* **bold** <https://x.org> [text](https://x.org)'),
    ('MCLT(no markup) C(unclosed', True, 'MCLT(no markup) C(unclosed'),
])
def test_markup(text, table, expected):
    assert role_docs.markdown(text, table) == expected


def test_readme_without_markers_is_refused(tree, capsys):
    (tree / 'roles' / 'server' / 'README.md').write_text('# no markers\n')
    assert role_docs.main(['--check'], root=str(tree)) == 2
    assert 'roles/server/README.md: needs one line' in capsys.readouterr().err


def test_a_spec_that_does_not_parse_is_refused(tree, capsys):
    (tree / 'roles' / 'server' / 'meta' / 'argument_specs.yml').write_text('argument_specs: [\n')
    assert role_docs.main(['--check'], root=str(tree)) == 2
    assert 'argument_specs.yml: not valid YAML' in capsys.readouterr().err
