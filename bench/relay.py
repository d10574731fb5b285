# Copyright (c) dhcp.failover contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A minimal DHCP relay for the bench lab: forwards every packet it receives to every server.

perfdhcp in relay mode (`-l GIADDR`) sends each request to one unicast address, with giaddr set;
a real relay with two `helper` addresses sends it to both servers of a pair, and the server
whose load-balancing hash owns the client answers to giaddr:67 directly. This script is that
relay: it runs inside a lab container, listens on LISTEN:67 and copies each datagram, unchanged
(giaddr stays the perfdhcp address), to every SERVER:67. Replies do not pass through it.

Usage (inside a lab container): python3 relay.py LISTEN SERVER [SERVER...]
Only ever point it at the lab's own servers. SIGUSR1 prints the counters to stderr.
"""
import signal
import socket
import sys


def main():
    listen, servers = sys.argv[1], sys.argv[2:]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((listen, 67))
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    counts = {'received': 0, 'forwarded': 0, 'errors': 0}
    signal.signal(signal.SIGUSR1, lambda *_: print(counts, file=sys.stderr, flush=True))
    targets = [(server, 67) for server in servers]
    while True:
        try:
            data = sock.recv(4096)
        except InterruptedError:
            continue
        counts['received'] += 1
        for target in targets:
            try:
                out.sendto(data, target)
                counts['forwarded'] += 1
            except OSError:  # a stopped server answers with ICMP port unreachable
                counts['errors'] += 1


if __name__ == '__main__':
    main()
