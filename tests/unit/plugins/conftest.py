# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The `replay` fixture: OMAPI conversations recorded against the lab's dhcpd 4.4.3-P1
# (tests/unit/fixtures/failover_state/omapi/record.py), replayed byte for byte: every byte the
# client sends must equal what it sent to the real server, and it gets the server's real answers.

from __future__ import annotations

import pypureomapi
import pytest

from ansible_collections.dhcp.failover.tests.unit.plugins.omapi_replay import ReplaySocket, load_omapi_recording


@pytest.fixture
def replay(monkeypatch):
    """``replay(name)`` makes pypureomapi talk to recording NAME instead of a socket."""
    def start(name):
        recording = load_omapi_recording(name)
        sock = ReplaySocket(recording['conversation'])
        tids = list(recording['tids'])

        def generate_tid(message):
            message.tid = tids.pop(0)

        monkeypatch.setattr(pypureomapi.socket, 'socket', lambda *args, **kwargs: sock)
        monkeypatch.setattr(pypureomapi.OmapiMessage, 'generate_tid', generate_tid)
        recording['socket'] = sock
        return recording
    return start
