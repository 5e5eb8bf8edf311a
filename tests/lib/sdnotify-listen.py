#!/usr/bin/env python3
"""sdnotify-listen.py SOCKET LOG: plays systemd's notification socket. Binds a datagram
socket at SOCKET and appends each notification to LOG as one line (its own newlines
turned into spaces), until killed."""
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace").replace("\n", " ") + "\n")
        f.flush()
