# -*- coding: utf-8 -*-

# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note: this module_utils is private to the dhcp.failover collection. Its interface can change
# at any time; do not use it from outside the collection.

"""Failover state of ISC dhcpd over OMAPI, with pypureomapi's low-level message API.

pypureomapi (Debian: python3-pypureomapi 0.8; PyPI 1.1) has no failover-state setter and signs
with HMAC-MD5 only; this file adds both. dhcpd 4.4.3-P1 accepts every HMAC it knows when the
client names it ``<algorithm>.SIG-ALG.REG.INT.`` (checked in the lab for hmac-md5 and
hmac-sha256).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import struct
import time
import traceback

try:
    import pypureomapi
    HAS_PYPUREOMAPI = True
    PYPUREOMAPI_IMPORT_ERROR = None
except ImportError:
    pypureomapi = None
    HAS_PYPUREOMAPI = False
    PYPUREOMAPI_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.dhcp.failover.plugins.module_utils._failover_log import STATE_NAMES, STATE_NUMBERS, iso_utc, new_peer_state

ALGORITHMS = {
    'hmac-md5': 'md5',
    'hmac-sha1': 'sha1',
    'hmac-sha224': 'sha224',
    'hmac-sha256': 'sha256',
    'hmac-sha384': 'sha384',
    'hmac-sha512': 'sha512',
}

# The states an operator may set, and the own states (my_state) that already count as "there".
SETTABLE_STATES = {
    'partner-down': ('partner-down',),
    'shutdown': ('shutdown',),
    'recover': ('recover', 'recover-wait', 'recover-done', 'normal'),
}
# What `wait` waits for after a change.
WAIT_TARGETS = {
    'partner-down': ('partner-down',),
    'shutdown': ('shutdown',),
    'recover': ('recover-done', 'normal'),
}

# From which own states (my_state) each change is safe without force, and why the others are not.
# Measured on dhcpd 4.4.3-P1 in the lab (tests/unit/fixtures/failover_state/omapi/README.md):
# recover from shutdown (the planned handover) goes recover -> recover-done -> normal with the
# partner serving throughout; recover on a lone survivor in communications-interrupted or
# partner-down makes it log "not responding (recovering)" to every DHCPDISCOVER: nobody serves.
SAFE_FROM = {
    'recover': ('shutdown',),
    'partner-down': ('communications-interrupted', 'resolution-interrupted'),
    'shutdown': ('normal',),
}
UNSAFE_REASONS = {
    'recover': 'in recover dhcpd answers no new client ("not responding (recovering)") until its partner is back and '
               'MCLT has passed; only a server that handed over with shutdown (its partner in partner-down serves) '
               'may be sent to recover',
    'partner-down': 'partner-down is for a server that lost its partner (communications-interrupted); from %s it may '
                    'still be in touch with a partner that serves, and both would hand out the same addresses '
                    '(split brain)',
    'shutdown': 'shutdown stops this server from serving; only from normal does its partner take over at once '
                '(partner-down); from %s nobody may serve',
}


def refusal(target, my_state):
    """Why changing the own state from ``my_state`` to ``target`` is refused, or None when safe.

    Already being there (``SETTABLE_STATES``) is not a change and never refused.
    """
    if my_state in SETTABLE_STATES[target] or my_state in SAFE_FROM[target]:
        return None
    reason = UNSAFE_REASONS[target]
    if '%s' in reason:
        reason = reason % my_state
    return 'refusing to move from %s to %s: %s. Set force=true to do it anyway.' % (my_state, target, reason)


_OP_UPDATE = 3
_OP_STATUS = 5


class OmapiFailoverError(Exception):
    pass


class HMACAuthenticator(object):
    """OMAPI authenticator for any HMAC dhcpd knows (pypureomapi only ships HMAC-MD5).

    Duck-typed like pypureomapi.OmapiAuthenticatorBase: authid, authlen, auth_object(), sign().
    """

    authid = -1

    def __init__(self, key_name, secret, algorithm='hmac-sha256'):
        if algorithm not in ALGORITHMS:
            raise OmapiFailoverError('unsupported key algorithm %s' % algorithm)
        self.user = key_name.encode('utf-8')
        try:
            self.key = binascii.a2b_base64(secret.encode('ascii'))
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise OmapiFailoverError('key secret is not valid base64: %s' % exc)
        self.digest = ALGORITHMS[algorithm]
        self.algorithm = ('%s.SIG-ALG.REG.INT.' % algorithm).encode('ascii')
        self.authlen = hashlib.new(self.digest).digest_size

    def auth_object(self):
        return {b'name': self.user, b'algorithm': self.algorithm}

    def sign(self, message):
        return hmac.new(self.key, message, self.digest).digest()


def _status_text(message):
    fields = dict(message.message)
    text = fields.get(b'message', b'').decode('utf-8', 'replace')
    result = fields.get(b'result')
    code = struct.unpack('!I', result)[0] if result and len(result) == 4 else None
    return code, text


def decode_failover_state(obj):
    """Readable fields of a failover-state object, in the collection's vocabulary.

    OMAPI's ``local-state``/``partner-state`` become ``my_state``/``partner_state`` (state names,
    as dhcpd logs them), its ``local-stos``/``partner-stos`` (when each entered its state, the
    time dhcpd also writes in the leases file) ``my_state_since``/``partner_state_since`` (ISO 8601
    UTC), ``hierarchy`` becomes ``role``, ``local-port`` ``my_port``. ``partner-address`` and
    ``local-address`` are left out: dhcpd 4.4 returns garbage for them.
    """
    fields = dict(obj)
    raw = {}
    for key in ('local-state', 'partner-state', 'local-stos', 'partner-stos', 'mclt', 'hierarchy', 'skew',
                'cur-unacked-updates', 'max-response-delay', 'local-port', 'partner-port'):
        value = fields.get(key.encode('ascii'))
        if value is not None and len(value) == 4:
            raw[key] = struct.unpack('!I', value)[0]
    result = {'name': fields.get(b'name', b'').decode('utf-8', 'replace')}
    for prefix, omapi_prefix in (('my', 'local'), ('partner', 'partner')):
        number = raw.get(omapi_prefix + '-state')
        result[prefix + '_state'] = None if number is None else STATE_NAMES.get(number, 'unknown-%d' % number)
        stos = raw.get(omapi_prefix + '-stos')
        result[prefix + '_state_since'] = iso_utc(stos * 1000000) if stos else None
        result[prefix + '_port'] = raw.get(omapi_prefix + '-port')
    result['role'] = None if raw.get('hierarchy') is None else ('primary' if raw['hierarchy'] == 0 else 'secondary')
    for key in ('mclt', 'skew', 'cur-unacked-updates', 'max-response-delay'):
        result[key.replace('-', '_')] = raw.get(key)
    return result


def peer_state(failover_state):
    """The peer's state dict of ``dhcp.failover.state_info`` (``_failover_log.new_peer_state``)
    filled from a decoded failover-state object: what OMAPI knows, the rest None."""
    state = new_peer_state()
    for key in ('my_state', 'my_state_since', 'partner_state', 'partner_state_since', 'mclt'):
        state[key] = failover_state.get(key)
    # dhcpd answered over OMAPI: the daemon runs
    state.update(my_state_source='omapi', partner_state_source='omapi', source='omapi', running=True)
    return state


class FailoverStateClient(object):
    """One authenticated OMAPI connection to dhcpd, reading and setting failover-state objects."""

    def __init__(self, host, port, key_name=None, key_secret=None, key_algorithm='hmac-sha256', timeout=10):
        if not HAS_PYPUREOMAPI:
            raise OmapiFailoverError('pypureomapi is not installed')
        try:
            self.omapi = pypureomapi.Omapi(host, port, timeout=timeout)
        except (OSError, pypureomapi.OmapiError) as exc:
            raise OmapiFailoverError('cannot connect to OMAPI at %s:%s: %s' % (host, port, exc))
        if key_name:
            try:
                self.omapi.initialize_authenticator(HMACAuthenticator(key_name, key_secret or '', key_algorithm))
            except pypureomapi.OmapiError as exc:
                self.close()
                raise OmapiFailoverError(
                    'OMAPI authentication with key %s (%s) refused by %s:%s: %s'
                    % (key_name, key_algorithm, host, port, exc))

    def close(self):
        self.omapi.close()

    def _query(self, message):
        try:
            return self.omapi.query_server(message)
        except (OSError, pypureomapi.OmapiError) as exc:
            if 'wrong authenticator' in str(exc):
                # dhcpd answers unsigned when it cannot verify a request's signature
                raise OmapiFailoverError('dhcpd rejected the signature of the OMAPI request: wrong key_secret or key_algorithm? (%s)' % exc)
            raise OmapiFailoverError('OMAPI request failed: %s' % exc)

    def _open(self, peer):
        message = pypureomapi.OmapiMessage.open(b'failover-state')
        message.update_object({b'name': peer.encode('utf-8')})
        response = self._query(message)
        if response.opcode != _OP_UPDATE:
            code, text = _status_text(response)
            raise OmapiFailoverError('failover peer %s: OMAPI open failed: %s (result %s)' % (peer, text or 'no such object', code))
        return response

    def get(self, peer):
        """Decoded failover-state object of ``peer``."""
        return decode_failover_state(self._open(peer).obj)

    def set_my_state(self, peer, state):
        """Ask dhcpd to move this server's own state of ``peer`` (OMAPI ``local-state``) to
        ``state`` (a name); returns the failover-state object read back."""
        handle = self._open(peer).handle
        message = pypureomapi.OmapiMessage.update(handle)
        message.update_object({b'local-state': struct.pack('!I', STATE_NUMBERS[state])})
        response = self._query(message)
        if response.opcode == _OP_STATUS:
            code, text = _status_text(response)
            if code:
                raise OmapiFailoverError('failover peer %s: dhcpd refused local-state %s: %s (result %s)' % (peer, state, text, code))
        elif response.opcode != _OP_UPDATE:
            raise OmapiFailoverError('failover peer %s: unexpected OMAPI answer (opcode %s)' % (peer, response.opcode))
        return self.get(peer)

    def wait_for(self, peer, states, timeout, interval=1.0, clock=time.monotonic, sleep=time.sleep):
        """Poll until this server's own state of ``peer`` (``my_state``) is one of ``states``; returns
        the last object read and whether it got there before ``timeout`` seconds."""
        deadline = clock() + timeout
        while True:
            current = self.get(peer)
            if current.get('my_state') in states:
                return current, True
            if clock() >= deadline:
                return current, False
            sleep(interval)
