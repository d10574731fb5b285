# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest outside ansible-test (``make pytest``): where the collection under test comes from.

One path: the installed collection (``make collection``: the built tarball installed into
build/collections), found through ANSIBLE_COLLECTIONS_PATH, which the Makefile exports. Unit and
lab tests import ``ansible_collections.dhcp.failover...``; ansible-core's collection finder,
installed here, finds it for them. Under ansible-test units the finder is already installed on the
collection's own tree and nothing is changed.
"""

from __future__ import annotations

import sys


def _finder_installed():
    """ansible-core's collection finder is on sys.meta_path (ansible-test units puts it there, on the
    collection's own tree; its module tests cannot import ansible.plugins, so look without importing)."""
    return any(type(finder).__name__ == '_AnsibleCollectionFinder' for finder in sys.meta_path)


# Outside ansible-test, install it here, configured from ANSIBLE_COLLECTIONS_PATH as ansible-playbook
# does, before anything imports ansible_collections (the ansible package's own ansible_collections in
# site-packages would shadow the installed collection): imports of ansible_collections.dhcp.failover
# and the plugin loader (lookup_loader.get('dhcp.failover...')) then resolve the collection the same way.
if not _finder_installed():
    from ansible.plugins.loader import init_plugin_loader
    init_plugin_loader()
