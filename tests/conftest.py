# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest outside ansible-test (``make pytest``): where the collection under test comes from.

One path: the installed collection (``make collection``: the built tarball installed into
build/collections), found through ANSIBLE_COLLECTIONS_PATH, which the Makefile exports. Unit and
lab tests import ``ansible_collections.dhcp.failover...``; this puts the ANSIBLE_COLLECTIONS_PATH
entries on sys.path for them. Under ansible-test units the collection is already importable (its
own tree) and nothing is changed.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def _collection_importable():
    try:
        return importlib.util.find_spec('ansible_collections.dhcp.failover') is not None
    except ImportError:
        return False


if not _collection_importable():
    for _path in reversed([p for p in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if p]):
        sys.path.insert(0, _path)
