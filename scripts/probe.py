#!/usr/bin/env python3
"""One bounded request for the demo and the runtime test: probe.py http|udp HOST PORT [PATH].
HTTP GET PATH (default /; http.client consults no proxy settings) or one UDP datagram; 1.5 s per
attempt, two attempts (the first packet may wait for ARP/ND). Prints the answer and exits 0, or
prints what went wrong and exits 1."""
import http.client, socket, sys

proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
path = sys.argv[4] if len(sys.argv) > 4 else "/"
error = None
for _ in range(2):
    try:
        if proto == "http":
            conn = http.client.HTTPConnection(host, port, timeout=1.5)
            conn.request("GET", path)
            response = conn.getresponse()
            print(f"HTTP {response.status}: {response.read().decode().strip()}")
            conn.close()
        else:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.settimeout(1.5)
                sock.sendto(b"ping\n", (host, port))
                print(sock.recvfrom(2048)[0].decode().strip())
        sys.exit(0)
    except (OSError, http.client.HTTPException) as failure:
        error = failure
print(f"no answer ({error})")
sys.exit(1)
