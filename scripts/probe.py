#!/usr/bin/env python3
"""One bounded request, for the demo, the runtime test and the integration tests:

  probe.py http|tcp|udp HOST PORT [PATH] [--timeout S] [--tries N] [--source-port P]

http: GET PATH (default /; http.client consults no proxy settings) and print "HTTP <status>:
<body>"; tcp: connect and print what the server sends first; udp: send one datagram and print the
answer. Each try waits --timeout seconds (default 1.5), --tries times (default 2: a first packet
may be lost to ARP/ND). Prints the answer and exits 0, or prints what went wrong and exits 1."""
import argparse
import http.client
import socket
import sys


def attempt(args):
    if args.proto == "http":
        conn = http.client.HTTPConnection(args.host, args.port, timeout=args.timeout)
        try:
            conn.request("GET", args.path)
            response = conn.getresponse()
            return f"HTTP {response.status}: {response.read().decode().strip()}"
        finally:
            conn.close()
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    kind = socket.SOCK_STREAM if args.proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(family, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.settimeout(args.timeout)
        if args.source_port:
            sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", args.source_port))
        if args.proto == "tcp":
            sock.connect((args.host, args.port))
            return sock.recv(2048).decode().strip()
        sock.sendto(b"ping\n", (args.host, args.port))
        return sock.recvfrom(2048)[0].decode().strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("proto", choices=["http", "tcp", "udp"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("path", nargs="?", default="/")
    parser.add_argument("--timeout", type=float, default=1.5)
    parser.add_argument("--tries", type=int, default=2)
    parser.add_argument("--source-port", type=int, default=0)
    args = parser.parse_args()
    error = None
    for _ in range(args.tries):
        try:
            print(attempt(args))
            return 0
        except (OSError, http.client.HTTPException) as failure:
            error = failure
    print(f"no answer ({error})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
