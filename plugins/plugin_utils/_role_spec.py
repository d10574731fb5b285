# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role's argument spec, applied to any host of a pair with ansible-core's own validator.

PRIVATE controller-side code of the dhcp.failover collection (used by the action plugin
``dhcp.failover.pair_facts``); its interface may change without notice.

There is one description of the role's variables: ``roles/server/meta/argument_specs.yml``.
ansible-core validates it for the hosts a play runs the role on; this module runs the same
``ArgumentSpecValidator`` on the settings of *any* pair host (the partner of a host may be
outside the play), fills in the spec's defaults, and turns the validator's messages into
``pair P, host H, variable V: message`` errors.
"""

from __future__ import annotations

import os
import re

import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.dhcp.failover.plugins.plugin_utils._pair_error import PairError

ROLE_SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'roles', 'server',
                         'meta', 'argument_specs.yml')

_CACHE = {}


def load_options(path=ROLE_SPEC):
    """The options of the role's ``main`` entry point (cached per path)."""
    path = os.path.normpath(path)
    if path not in _CACHE:
        with open(path, encoding='utf-8') as handle:
            _CACHE[path] = yaml.safe_load(handle)['argument_specs']['main']['options']
    return _CACHE[path]


def secret_names(options):
    """Top-level options marked no_log (their values never leave this module)."""
    return tuple(name for name, option in options.items() if option.get('no_log'))


def set_apart_from_default(options, params, names):
    """The names among ``names`` whose validated value is not the spec's default, in that order."""
    return [name for name in names if name in options and name in params
            and params[name] != options[name].get('default')]


def _variable_of(message, names):
    """The variable a validator message is about: the first top-level option it names."""
    found = [(message.find(name), name) for name in names if re.search(r'\b%s\b' % re.escape(name), message)]
    if not found:
        return None
    return min(found)[1]


def _readable(message):
    """ansible-core says "argument 'x' is of type <class 'str'>"; say "x is a str"."""
    return re.sub(r"<class '([a-z]+)'>", r'\1', message)


def validate(options, raw, pair, host, derived=()):
    """Validate one host's settings with the role's argument spec.

    ``raw``: the spec-declared variables set for the host (templated values).  ``derived``:
    names whose absence is fine because the pair rules derive them (role, address, ...).
    Returns the validated parameters, the spec's defaults filled in.
    """
    validator = ArgumentSpecValidator(options)
    result = validator.validate(dict(raw))
    if result.error_messages:
        secrets = [str(raw[name]) for name in secret_names(options) if raw.get(name)]
        message = result.error_messages[0]
        errors = getattr(result.errors, 'errors', None) or []
        if errors and isinstance(errors[0], UnsupportedError):
            message = 'unknown key(s): %s' % message
        for secret in secrets:
            message = message.replace(secret, '********')
        variable = _variable_of(message, options) or '(argument spec)'
        raise PairError(pair, host, variable, _readable(message))
    return result.validated_parameters
