#!/usr/bin/env python3
"""A pod's workload for the tests: answers every TCP connection and UDP datagram on the given
ports, over IPv4 and IPv6, with its name and the peer it saw ("pod-a from 192.0.2.10"), so a test
can tell which pod answered and whether the source was masqueraded. Prints "ready" once listening.
With --log FILE, each UDP datagram's peer and payload is appended there, so a test can see what
arrived even when the answer cannot find its way back (a spoofed source)."""
import argparse
import selectors
import socket


def listeners(kind, port):
    socks = []
    for family, address in ((socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")):
        sock = socket.socket(family, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind((address, port))
        except OSError:
            sock.close()  # no address of that family in this namespace
            continue
        if kind == socket.SOCK_STREAM:
            sock.listen(16)
        sock.setblocking(False)
        socks.append(sock)
    return socks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--tcp", type=int, action="append", default=[])
    parser.add_argument("--udp", type=int, action="append", default=[])
    parser.add_argument("--log")
    args = parser.parse_args()
    selector = selectors.DefaultSelector()
    for port in args.tcp:
        for sock in listeners(socket.SOCK_STREAM, port):
            selector.register(sock, selectors.EVENT_READ, "tcp")
    for port in args.udp:
        for sock in listeners(socket.SOCK_DGRAM, port):
            selector.register(sock, selectors.EVENT_READ, "udp")
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            if key.data == "tcp":
                conn, peer = sock.accept()
                with conn:
                    conn.settimeout(1)
                    conn.sendall(f"{args.name} from {peer[0]}\n".encode())
            else:
                payload, peer = sock.recvfrom(2048)
                if args.log:
                    with open(args.log, "a") as log:
                        log.write(f"udp {peer[0]} {payload.decode(errors='replace').strip()}\n")
                sock.sendto(f"{args.name} from {peer[0]}\n".encode(), peer)


if __name__ == "__main__":
    main()
