# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one error type of the pair checks.

PRIVATE controller-side code of the dhcp.failover collection; its interface may change without notice.
"""

from __future__ import annotations


class PairError(ValueError):
    """An inconsistent pair, with the pair, host and variable it is about."""

    def __init__(self, pair, host, variable, message):
        self.pair = pair
        self.host = host
        self.variable = variable
        self.message = message
        super(PairError, self).__init__('pair %s, host %s, variable %s: %s' % (pair, host, variable, message))
