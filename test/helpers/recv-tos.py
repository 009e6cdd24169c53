#!/usr/bin/env python3
"""UDP receiver that reports the IP TOS byte of each datagram (Node's dgram cannot read it).

Binds 127.0.0.1 on a free port, prints the port, then one line "TOS LENGTH" per datagram until
COUNT datagrams arrived or TIMEOUT seconds passed. Used by test/daemon/ng-flags.test.ts.
"""
import select
import socket
import sys
import time

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
deadline = time.time() + timeout
got = 0
while got < count and time.time() < deadline:
    ready, _, _ = select.select([s], [], [], max(0.0, deadline - time.time()))
    if not ready:
        break
    data, ancdata, _flags, _addr = s.recvmsg(2048, socket.CMSG_SPACE(4))
    tos = -1
    for level, kind, value in ancdata:
        if level == socket.IPPROTO_IP and kind == socket.IP_TOS:
            tos = value[0]
    print(tos, len(data), flush=True)
    got += 1
