#!/usr/bin/env python3
"""UDP helper for the portmap UDP checks.
  udp_echo.py serve PORT TAG          -- dual-stack echo server answering "TAG: <datagram>" until
                                         killed (or 120 s without a datagram)
  udp_echo.py send HOST PORT [SRC]    -- sends one datagram (from source port SRC if given), prints
                                         the reply (timeout 3 s)
"""
import socket
import sys

if sys.argv[1] == "serve":
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", int(sys.argv[2])))
    s.settimeout(120)
    tag = sys.argv[3].encode()
    while True:
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            break
        s.sendto(tag + b": " + data, peer)
else:
    host, port = sys.argv[2], int(sys.argv[3])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if len(sys.argv) > 4:
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", int(sys.argv[4])))
    s.settimeout(3)
    s.sendto(b"ping", (host, port))
    try:
        print(s.recvfrom(2048)[0].decode())
    except socket.timeout:
        print("timeout")
        sys.exit(1)
