#!/usr/bin/env python3
"""Open N keep-alive connections to 127.0.0.1:PORT, send one GET / on each,
read the answers, print `ready <answered>` and hold the sockets open until
stdin closes or HOLD seconds pass. run.sh reads the target's RSS meanwhile.

  idle_conns.py PORT N HOLD
"""
import select
import socket
import sys
import time


def read_response(sock):
    """Read one HTTP/1.1 response with a content length; True on 2xx."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        body += chunk
    return head.split(b" ")[1].startswith(b"2")


def main():
    port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
        socks.append(s)
    answered = 0
    for s in socks:
        try:
            answered += read_response(s)
        except OSError:
            pass
    print(f"ready {answered}", flush=True)
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sys.stdin], [], [], 0.5)
        if readable and not sys.stdin.read(1):
            break
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
