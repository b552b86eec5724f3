#!/usr/bin/env python3
"""UDP helper for the portmap UDP check.
  udp_echo.py serve PORT N      -- dual-stack echo server, answers N datagrams then exits (max 10 s)
  udp_echo.py send HOST PORT    -- sends one datagram, prints the reply (timeout 3 s)
"""
import socket
import sys

if sys.argv[1] == "serve":
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", int(sys.argv[2])))
    s.settimeout(10)
    for _ in range(int(sys.argv[3])):
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            break
        s.sendto(b"udp-pod-echo(from %s): " % peer[0].encode() + data, peer)
else:
    host, port = sys.argv[2], int(sys.argv[3])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(b"ping", (host, port))
    try:
        print(s.recvfrom(2048)[0].decode())
    except socket.timeout:
        print("timeout")
        sys.exit(1)
