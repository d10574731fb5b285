"""Sends a DHCPRELEASE for a lease a client of client-load.sh holds, run inside the client container:

    python3 dhcp-release.py INTERFACE MAC ADDRESS SERVER

busybox udhcpc -q -R sends none: with -q it quits before it is BOUND, and its release is a unicast
from the leased address, which the load's macvlan never holds. So this sends one the way a client
without an address can: a broadcast from 0.0.0.0:68 on INTERFACE only (SO_BINDTODEVICE), ciaddr
ADDRESS, the same client identifier udhcpc sent (type 1 + MAC) and the server identifier of the
server that gave the lease. dhcpd (server/dhcp.c dhcprelease) and Kea release a lease by its
address and client; a broadcast reaches both servers of a pair, as it reaches any on the link.
Exit 0 when sent.
"""

import os
import socket
import struct
import sys


def release(interface, mac, address, server):
    chaddr = bytes(int(octet, 16) for octet in mac.split(":"))
    header = struct.pack("!BBBB4sHH4s4s4s4s16s64s128s", 1, 1, 6, 0, os.urandom(4), 0, 0,
                         socket.inet_aton(address), b"\0" * 4, b"\0" * 4, b"\0" * 4,
                         chaddr.ljust(16, b"\0"), b"\0" * 64, b"\0" * 128)
    options = (b"\x63\x82\x53\x63"            # magic cookie
               + b"\x35\x01\x07"              # DHCP message type: DHCPRELEASE
               + b"\x36\x04" + socket.inet_aton(server)
               + b"\x3d\x07\x01" + chaddr     # client identifier: hardware type 1 + MAC, as udhcpc sends
               + b"\xff")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        sock.bind(("0.0.0.0", 68))
        sock.sendto(header + options, ("255.255.255.255", 67))
    finally:
        sock.close()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    release(*sys.argv[1:])
