#!/usr/bin/env python3
"""chanclient.py - a hand-made migration channel client for the system tests.

It speaks the wire format of lib/chanwire.h (HMAC-SHA256 handshake, AES-256-GCM
frames; python3-cryptography) well or badly on purpose:

  chanclient.py ADDR random BYTES          random bytes, then wait for the close
  chanclient.py ADDR auth KEYFILE          handshake; prints "welcome" or "refused: WHY"
  chanclient.py ADDR hold N SECONDS        N connections sending one byte, held open;
                                           prints how many the agent closed
  chanclient.py ADDR truncate KEYFILE VM HOST MODE
                                           offers vm VM to HOST, then MODE:
                                           cut   - some stream bytes, then closes
                                           badend - an end frame with a wrong count
                                           junk  - a stream the driver cannot read
                                           prints the agent's answers
Exit status 0 when the conversation went as described (the test checks the output).
"""
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"VMCMIG01"
TAG = 16


def connect(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=15)
    return s


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("closed after %d of %d bytes" % (len(b), n))
        b += c
    return b


def read_frame(s, sess=None, seq=0):
    hdr = recv_exact(s, 5)
    t, ln = hdr[0], struct.unpack(">I", hdr[1:])[0]
    body = recv_exact(s, ln + (TAG if sess else 0))
    if sess is None:
        return chr(t), body
    return chr(t), AESGCM(sess).decrypt(nonce(b"s", seq), body, hdr)


def nonce(direction, seq):
    return direction + b"\0\0\0" + struct.pack(">Q", seq)


def frame(t, payload, sess=None, seq=0):
    """A frame; after the handshake sealed with AES-256-GCM (header as associated data)."""
    hdr = bytes([ord(t)]) + struct.pack(">I", len(payload))
    if sess is None:
        return hdr + payload
    return hdr + AESGCM(sess).encrypt(nonce(b"c", seq), payload, hdr)


def proof(key, which, ns, nc):
    return hmac.new(key, b"vmc-mig " + which.encode() + ns + nc, hashlib.sha256).digest()


def read_key(path):
    with open(path, "rb") as f:
        return f.read().rstrip(b" \t\r\n")


def handshake(s, key):
    t, hello = read_frame(s)
    if t == "R":
        return None, "refused: " + hello.decode(errors="replace")
    assert t == "H" and hello[:8] == MAGIC, "bad hello"
    ns = hello[8:40]
    nc = os.urandom(32)
    s.sendall(frame("A", nc + proof(key, "client", ns, nc) + b"chanclient"))
    t, body = read_frame(s)
    if t == "R":
        return None, "refused: " + body.decode(errors="replace")
    if t != "W" or not hmac.compare_digest(body, proof(key, "server", ns, nc)):
        return None, "the server could not prove it holds the key"
    return proof(key, "session", ns, nc), "welcome"


def wait_closed(s, limit=15):
    s.settimeout(limit)
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True  # closed with our bytes unread: a reset
    except socket.timeout:
        return False


def cmd_random(addr, n):
    s = connect(addr)
    try:
        s.sendall(os.urandom(int(n)))
    except (BrokenPipeError, ConnectionResetError):
        print("closed")
        return
    print("closed" if wait_closed(s) else "still open")


def cmd_auth(addr, keyfile):
    s = connect(addr)
    _, what = handshake(s, read_key(keyfile))
    print(what)


def cmd_hold(addr, n, seconds):
    socks = []
    for _ in range(int(n)):
        s = connect(addr)
        s.sendall(b"A")
        s.setblocking(False)
        socks.append(s)
    print("holding %d" % len(socks), flush=True)  # the test waits for this line
    time.sleep(float(seconds))
    closed = 0
    for s in socks:
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    closed += 1
                    break
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
    print("closed %d of %d" % (closed, len(socks)))


def cmd_truncate(addr, keyfile, vm, host, mode):
    s = connect(addr)
    sess, what = handshake(s, read_key(keyfile))
    if not sess:
        print(what)
        return
    seq = 0
    offer = {"op": "migrate", "id": "chanclient.1." + vm, "vm": vm, "from": "chanclient",
             "to": host, "driver": "sim", "mem_mb": 256,
             "config": 'name = "%s"\nmemory = 256\nvcpus = 1\n' % vm, "tags": []}
    s.sendall(frame("C", json.dumps(offer).encode(), sess, seq))
    seq += 1
    rseq = 0
    t, body = read_frame(s, sess, rseq)
    rseq += 1
    print("answer:", body.decode(errors="replace"))
    if b'"accept"' not in body:
        return
    if mode == "junk":
        data = os.urandom(5000)
    else:
        data = b"VMCSIM01" + bytes([ord("H")]) + struct.pack(">I", 100000) + b"{" * 3000
    s.sendall(frame("D", data, sess, seq))
    seq += 1
    if mode == "cut":
        s.close()
        print("cut")
        return
    total = len(data) + (7 if mode == "badend" else 0)
    s.sendall(frame("E", struct.pack(">Q", total), sess, seq))
    seq += 1
    try:
        t, body = read_frame(s, sess, rseq)
        print("answer:", t, body.decode(errors="replace"))
    except EOFError as e:
        print("closed:", e)


def main():
    addr, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    {"random": cmd_random, "auth": cmd_auth, "hold": cmd_hold,
     "truncate": cmd_truncate}[mode](addr, *args)


if __name__ == "__main__":
    main()
