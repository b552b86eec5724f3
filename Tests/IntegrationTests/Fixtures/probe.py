#!/usr/bin/env python3
"""One bounded request to HOST:PORT over tcp or udp; prints the answer and exits 0, or prints
what went wrong and exits 1. Tries a few times so a first packet lost to ARP/ND does not fail a test."""
import argparse
import socket
import sys


def attempt(proto, host, port, timeout, source_port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(family, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.settimeout(timeout)
        if source_port:
            sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", source_port))
        if proto == "tcp":
            sock.connect((host, port))
            return sock.recv(2048).decode().strip()
        sock.sendto(b"ping\n", (host, port))
        data, _ = sock.recvfrom(2048)
        return data.decode().strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("proto", choices=["tcp", "udp"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--source-port", type=int, default=0)
    args = parser.parse_args()
    error = None
    for _ in range(args.tries):
        try:
            print(attempt(args.proto, args.host, args.port, args.timeout, args.source_port))
            return 0
        except OSError as failure:
            error = failure
    print(f"no answer: {error}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
