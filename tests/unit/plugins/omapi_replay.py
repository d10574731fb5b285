# -*- coding: utf-8 -*-
# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# OMAPI conversations recorded against the lab's dhcpd 4.4.3-P1
# (tests/unit/fixtures/failover_state/omapi/record.py), replayed byte for byte: every byte the
# client sends must equal what it sent to the real server, and it gets the server's real answers.

from __future__ import annotations

import binascii
import json
import os

import pypureomapi

OMAPI_FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'fixtures', 'failover_state', 'omapi')


def load_omapi_recording(name):
    with open(os.path.join(OMAPI_FIXTURES, name + '.json'), encoding='utf-8') as handle:
        return json.load(handle)


class ReplaySocket(object):
    def __init__(self, conversation):
        self.conversation = [(direction, binascii.unhexlify(data)) for direction, data in conversation]

    def settimeout(self, value):
        pass

    def connect(self, address):
        pass

    def sendall(self, data):
        assert self.conversation, 'client sent more than in the recording'
        direction, expected = self.conversation.pop(0)
        assert direction == 'send', 'client sent while the server was answering'
        assert data == expected

    def recv(self, size):
        if not self.conversation:
            return b''
        direction, data = self.conversation.pop(0)
        assert direction == 'recv', 'client waits for an answer the server never sent'
        return data

    def close(self):
        pass


def start_replay(monkeypatch, name):
    """Make pypureomapi talk to recording NAME instead of a socket; returns the recording."""
    recording = load_omapi_recording(name)
    sock = ReplaySocket(recording['conversation'])
    tids = list(recording['tids'])

    def generate_tid(message):
        message.tid = tids.pop(0)

    monkeypatch.setattr(pypureomapi.socket, 'socket', lambda *args, **kwargs: sock)
    monkeypatch.setattr(pypureomapi.OmapiMessage, 'generate_tid', generate_tid)
    recording['socket'] = sock
    return recording
