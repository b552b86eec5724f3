#!/usr/bin/env python3
"""A pod's workload for the demo and the tests: answers every TCP connection and UDP datagram on
the given ports, over IPv4 and IPv6, with its name and the peer it saw, so a client can tell which
pod answered and whether its source was masqueraded. Prints "ready" once listening.

  pod_server.py --name NAME [--tcp PORT]... [--udp PORT]... [--http] [--log FILE]

Plain answers are "NAME from PEER". With --http, a TCP client's request is read and answered as
HTTP/1.0 with the body "hello from NAME (you are PEER)", a datagram with "hello from NAME over udp
(you are PEER)" (what the demo's probes expect). With --log FILE, each UDP datagram's peer and
payload is appended there, so a test can see what arrived even when the answer cannot find its
way back (a spoofed source)."""
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


def answer_http(conn, name, peer):
    request = b""
    while b"\r\n\r\n" not in request and len(request) < 8192:
        chunk = conn.recv(1024)
        if not chunk:
            break
        request += chunk
    body = f"hello from {name} (you are {peer})\n".encode()
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                 + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--tcp", type=int, action="append", default=[])
    parser.add_argument("--udp", type=int, action="append", default=[])
    parser.add_argument("--http", action="store_true")
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
                try:
                    conn, peer = sock.accept()
                except BlockingIOError:
                    continue
                with conn:
                    conn.setblocking(True)
                    conn.settimeout(1)
                    try:
                        if args.http:
                            answer_http(conn, args.name, peer[0])
                        else:
                            conn.sendall(f"{args.name} from {peer[0]}\n".encode())
                    except OSError:
                        pass
            else:
                try:
                    payload, peer = sock.recvfrom(2048)
                except BlockingIOError:
                    continue
                if args.log:
                    with open(args.log, "a") as log:
                        log.write(f"udp {peer[0]} {payload.decode(errors='replace').strip()}\n")
                text = f"hello from {args.name} over udp (you are {peer[0]})" if args.http else f"{args.name} from {peer[0]}"
                sock.sendto(f"{text}\n".encode(), peer)


if __name__ == "__main__":
    main()
