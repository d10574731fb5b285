# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate each role's variable reference and defaults from its meta/argument_specs.yml, so that
the argument spec is the only place a role variable is described.

For every roles/ROLE/meta/argument_specs.yml (entry point `main`):
  roles/ROLE/README.md          the text between the BEGIN and END markers below: one table row per
                                option, suboptions nested (`dhcp_failover_subnets[].pools[].ranges[].start`)
  roles/ROLE/defaults/main.yml  every top-level option that has a default; the others are listed in
                                a comment (the role derives them, or they are optional)

Usage: .venv/bin/python scripts/role_docs.py [--check]
  without options  rewrite the files that are stale
  --check          write nothing; print a unified diff and exit 1 when a file is stale (`make docs-check`)
Exit 2 when a spec cannot be read or a README has no markers.
"""
import argparse
import collections
import difflib
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENTRY_POINT = 'main'
BEGIN = '<!-- BEGIN generated from meta/argument_specs.yml by scripts/role_docs.py: edit the spec, not this section -->'
END = '<!-- END generated from meta/argument_specs.yml by scripts/role_docs.py -->'
HINT = 'run: .venv/bin/python scripts/role_docs.py'
# A description line becomes a comment in defaults/main.yml only if the whole comment fits this width.
COMMENT_WIDTH = 120
# Argument-spec constraints, in the order and words the reference shows them.
CONSTRAINTS = (
    ('mutually_exclusive', 'mutually exclusive'),
    ('required_together', 'required together'),
    ('required_one_of', 'at least one of'),
    ('required_if', None),
    ('required_by', None),
)
# Ansible documentation markup (https://docs.ansible.com/ansible/latest/dev_guide/ansible_markup.html).
# O(), V(), RV() and E() allow backslash escapes inside; the others end at the first ")".
MARKUP = re.compile(r'(?<![A-Za-z0-9_])(RV|[OVCMPEIBUL])\(|(?<![A-Za-z0-9_])HORIZONTALLINE(?![A-Za-z0-9_])')
ESCAPING = frozenset(('O', 'V', 'RV', 'E'))


Generated = collections.namedtuple('Generated', 'path current new')


class DocsError(Exception):
    """A spec or README the generator cannot use; the message names the file."""


class Dumper(yaml.SafeDumper):
    """Safe YAML in the repository's style: sequences indented under their key (yamllint's
    indent-sequences) and double quotes where a string needs quotes."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)

    def choose_scalar_style(self):
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


def code(text, table):
    """Markdown code span; in a table cell a `|` must be escaped even inside the span."""
    fence = '`' * (max((len(run) for run in re.findall('`+', text)), default=0) + 1)
    if len(fence) > 1 or text.startswith('`') or text.endswith('`'):
        text = f' {text} '
    if table:
        text = text.replace('|', '\\|')
    return f'{fence}{text}{fence}'


def option_name(text):
    """O()/RV() content without the `ignore:` prefix or a `ns.coll.plugin#type:` qualifier."""
    if text.startswith('ignore:'):
        text = text[len('ignore:'):]
    if '#' in text and ':' in text.split('#', 1)[1]:
        text = text.split('#', 1)[1].split(':', 1)[1]
    return text


def markup_content(text, start, escaping):
    """The markup's content from `start` to its closing parenthesis, and the index after it (None if unclosed)."""
    if not escaping:
        end = text.find(')', start)
        return (None, None) if end < 0 else (text[start:end], end + 1)
    chars = []
    index = start
    while index < len(text):
        char = text[index]
        if char == '\\' and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
        elif char == ')':
            return ''.join(chars), index + 1
        else:
            chars.append(char)
            index += 1
    return None, None


def render_markup(kind, content, table):
    if kind in ('O', 'RV'):
        return code(option_name(content), table)
    if kind == 'P':
        return code(content.split('#', 1)[0], table)
    if kind in ('C', 'V', 'E', 'M'):
        return code(content, table)
    if kind == 'I':
        return f'*{content}*'
    if kind == 'B':
        return f'**{content}**'
    if kind == 'U':
        return f'<{content}>'
    label, url = content.rsplit(',', 1) if ',' in content else (content, content)    # L(label,url)
    return f'[{label}]({url})'


def markdown(text, table=True):
    """One description paragraph as Markdown on one line: Ansible markup becomes code spans (and
    italics, bold, links); in a table cell `|` is escaped."""
    text = ' '.join(str(text).split())
    out = []
    pos = 0
    while True:
        match = MARKUP.search(text, pos)
        plain = text[pos:match.start() if match else len(text)]
        out.append(plain.replace('|', '\\|') if table else plain)
        if not match:
            return ''.join(out)
        if match.group(0) == 'HORIZONTALLINE':
            out.append('<br>' if table else ' - ')
            pos = match.end()
            continue
        kind = match.group(1)
        content, end = markup_content(text, match.end(), kind in ESCAPING)
        if content is None:     # no closing parenthesis: not markup
            out.append(match.group(0))
            pos = match.end()
            continue
        out.append(render_markup(kind, content, table))
        pos = end


def paragraphs(spec):
    description = spec.get('description')
    if description is None:
        return []
    if isinstance(description, str):
        description = [description]
    return [' '.join(str(item).split()) for item in description if str(item).strip()]


def inline_yaml(value):
    """A value as flow YAML on one line, quoted only where YAML needs it."""
    text = yaml.dump(value, Dumper=Dumper, default_flow_style=True, width=float('inf'), allow_unicode=True)
    text = text.strip()
    if text.endswith('\n...'):
        text = text[:-4].rstrip()
    return text


def has_default(spec):
    # The argument spec treats `default: null` as no default.
    return spec.get('default') is not None


def type_of(spec):
    kind = spec.get('type', 'str')
    if kind == 'list' and spec.get('elements'):
        return f"list of {spec['elements']}"
    return str(kind)


def walk(options, prefix=''):
    """(name, spec) for every option, each followed by its suboptions, in spec order."""
    for name, spec in (options or {}).items():
        spec = spec or {}
        full = f'{prefix}{name}'
        yield full, spec
        if spec.get('options'):
            separator = '[].' if spec.get('type') == 'list' else '.'
            yield from walk(spec['options'], full + separator)


def constraint_lines(options, spec, prefix=''):
    """Markdown list items for the spec's constraints, then those of every suboption level."""
    def names(items):
        if isinstance(items, str):
            items = [items]
        return ', '.join(code(f'{prefix}{item}', True) for item in items)

    lines = []
    for key, words in CONSTRAINTS:
        for rule in spec.get(key) or []:
            if key == 'required_if':
                option, value, required = rule[0], rule[1], rule[2]
                which = 'one of' if len(rule) > 3 and rule[3] else 'all of'
                lines.append(f'- if {names(option)} is {code(inline_yaml(value), True)}: {which} {names(required)} required')
            elif key == 'required_by':
                lines.append(f'- {names(rule)} requires {names(spec[key][rule])}')
            else:
                lines.append(f'- {words}: {names(rule)}')
    for name, sub in (options or {}).items():
        sub = sub or {}
        if sub.get('options'):
            separator = '[].' if sub.get('type') == 'list' else '.'
            lines.extend(constraint_lines(sub['options'], sub, f'{prefix}{name}{separator}'))
    return lines


def reference(entry):
    """The generated README section (without the markers)."""
    rows = [
        '| variable | type | required | default | choices | description |',
        '|---|---|---|---|---|---|',
    ]
    for name, spec in walk(entry.get('options')):
        kind = type_of(spec)
        if spec.get('no_log'):
            kind += ', no_log'
        cells = [
            code(name, True),
            kind,
            'yes' if spec.get('required') else '',
            code(inline_yaml(spec['default']), True) if has_default(spec) else '',
            ', '.join(code(inline_yaml(choice), True) for choice in spec.get('choices') or []),
            '<br>'.join(markdown(paragraph) for paragraph in paragraphs(spec)),
        ]
        rows.append('| ' + ' | '.join(cells) + ' |')
    constraints = constraint_lines(entry.get('options'), entry)
    if constraints:
        rows += ['', 'Constraints:', ''] + constraints
    return '\n'.join(rows) + '\n'


def readme(current, entry, path):
    """The README with the text between the markers replaced; everything else is kept as it is."""
    lines = current.splitlines(keepends=True)
    begins = [index for index, line in enumerate(lines) if line.rstrip('\n') == BEGIN]
    ends = [index for index, line in enumerate(lines) if line.rstrip('\n') == END]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise DocsError(f'{path}: needs one line\n  {BEGIN}\nand after it one line\n  {END}')
    return ''.join(lines[:begins[0] + 1]) + '\n' + reference(entry) + '\n' + ''.join(lines[ends[0]:])


def comment(text, lead='# '):
    """`# text` (Ansible markup as code spans) when it fits on one line, else None."""
    line = f'{lead}{markdown(text, table=False)}'
    return line if len(line) <= COMMENT_WIDTH else None


def same(left, right):
    """Equality that also compares types (True == 1 and 1 == 1.0 in Python, not in YAML)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    return left == right


def defaults(entry, role_name, path):
    """defaults/main.yml: the top-level defaults of the spec, each under its first description line."""
    options = entry.get('options') or {}
    lines = [
        '---',
        '# Generated from meta/argument_specs.yml by scripts/role_docs.py: do not edit, change the spec',
        '# and run .venv/bin/python scripts/role_docs.py. Every variable is described in the role',
        f'# README and by `ansible-doc -t role {role_name}`.',
    ]
    underived = [(name, spec or {}) for name, spec in options.items() if not has_default(spec or {})]
    if underived:
        lines += ['#', '# Without a default here (derived by the role, or optional):']
        for name, spec in underived:
            texts = paragraphs(spec)
            preferred = [text for text in texts if text.startswith('Default - ')] + texts[:1]
            notes = [comment(f'{name}: {text}', '#   ') for text in preferred]
            notes = [note for note in notes if note]
            lines.append(notes[0] if notes else f'#   {name}')
    values = {}
    for name, spec in options.items():
        spec = spec or {}
        if not has_default(spec):
            continue
        values[name] = spec['default']
        lines.append('')
        note = comment(paragraphs(spec)[0]) if paragraphs(spec) else None
        if note:
            lines.append(note)
        lines.append(yaml.dump({name: spec['default']}, Dumper=Dumper, default_flow_style=False,
                               sort_keys=False, width=float('inf'), allow_unicode=True).rstrip('\n'))
    text = '\n'.join(lines) + '\n'
    if not same(yaml.safe_load(text) or {}, values):
        raise DocsError(f'{path}: the generated YAML does not load as the spec defaults')
    return text


def read(path):
    try:
        with open(path, encoding='utf-8') as handle:
            return handle.read()
    except FileNotFoundError:
        return ''


def load_yaml(path):
    try:
        return yaml.safe_load(read(path))
    except yaml.YAMLError as exc:
        raise DocsError(f'{path}: not valid YAML: {exc}') from exc


def generated(root):
    """Generated(path relative to root, current text, generated text) for every role with an argument spec."""
    galaxy = load_yaml(os.path.join(root, 'galaxy.yml')) or {}
    collection = f"{galaxy.get('namespace')}.{galaxy.get('name')}"
    files = []
    roles = os.path.join(root, 'roles')
    for role in sorted(os.listdir(roles)) if os.path.isdir(roles) else []:
        spec_path = os.path.join('roles', role, 'meta', 'argument_specs.yml')
        if not os.path.isfile(os.path.join(root, spec_path)):
            continue
        spec = load_yaml(os.path.join(root, spec_path))
        entry = ((spec or {}).get('argument_specs') or {}).get(ENTRY_POINT)
        if not isinstance(entry, dict) or not isinstance(entry.get('options') or {}, dict):
            raise DocsError(f'{spec_path}: no entry point {ENTRY_POINT!r} with an options mapping')
        readme_path = os.path.join('roles', role, 'README.md')
        current = read(os.path.join(root, readme_path))
        files.append(Generated(readme_path, current, readme(current, entry, readme_path)))
        defaults_path = os.path.join('roles', role, 'defaults', 'main.yml')
        files.append(Generated(defaults_path, read(os.path.join(root, defaults_path)),
                               defaults(entry, f'{collection}.{role}', defaults_path)))
    return files


def main(argv=None, root=ROOT):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--check', action='store_true',
                        help='write nothing; show the difference and exit 1 when a file is stale')
    args = parser.parse_args(argv)
    try:
        files = generated(root)
    except DocsError as exc:
        print(f'role_docs: {exc}', file=sys.stderr)
        return 2
    stale = [item for item in files if item.current != item.new]
    if args.check:
        for item in stale:
            sys.stdout.writelines(difflib.unified_diff(
                item.current.splitlines(keepends=True), item.new.splitlines(keepends=True),
                f'a/{item.path}', f'b/{item.path}'))
        if stale:
            print(f"stale: {', '.join(item.path for item in stale)}; {HINT}")
            return 1
        print(f"up to date: {', '.join(item.path for item in files)}")
        return 0
    for item in stale:
        os.makedirs(os.path.dirname(os.path.join(root, item.path)), exist_ok=True)
        with open(os.path.join(root, item.path), 'w', encoding='utf-8') as handle:
            handle.write(item.new)
        print(f'wrote {item.path}')
    if not stale:
        print(f"up to date: {', '.join(item.path for item in files)}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
