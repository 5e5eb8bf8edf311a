#!/usr/bin/env python3
"""chanclient.py - a hand-made migration channel client for the system tests.

It speaks the channel (TLS 1.3 with the cluster key's external PSK, frames of
lib/bus/chanwire.h inside) well or badly on purpose. Python's ssl module has no
external PSKs, so TLS is `openssl s_client` in a subprocess: frames go to its
standard input and come back on its standard output.

  chanclient.py ADDR random BYTES          random bytes, then wait for the close
  chanclient.py ADDR auth KEYFILE          TLS and hellos; prints "welcome" or
                                           "refused: WHY"
  chanclient.py ADDR hold N SECONDS        N connections sending one byte, held open;
                                           prints how many the agent closed
  chanclient.py ADDR truncate KEYFILE VM HOST MODE
                                           offers vm VM to HOST, then MODE:
                                           cut   - some stream bytes, then closes
                                           badend - an end frame with a wrong count
                                           junk  - a stream the driver cannot read
                                           prints the agent's answers
  chanclient.py ADDR replay KEYFILE        records a whole TLS conversation through a
                                           relay, then plays the client's bytes again
                                           on a new connection; prints "replay: ..."
  chanclient.py ADDR cert CRT KEY CA NAME FROM VM
                                           with host certificates (Python's ssl): says
                                           hello as NAME, offers vm VM "from" FROM;
                                           prints "welcome" and the agent's answer, or
                                           "refused: WHY"
Exit status 0 when the conversation went as described (the test checks the output).
"""
import hashlib
import hmac
import json
import os
import select
import ssl
import socket
import struct
import subprocess
import sys
import threading
import time

MAGIC = b"VMCMIG02"
PSK_IDENTITY = "vmc-mig cluster key"


def connect(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=15)
    return s


def read_key(path):
    with open(path, "rb") as f:
        return f.read().rstrip(b" \t\r\n")


def psk_hex(key):
    """The TLS external PSK the agents derive from the cluster key (lib/bus/chanwire.c)."""
    return hmac.new(key, b"vmc-mig tls13 psk", hashlib.sha256).hexdigest()


def frame(t, payload):
    return bytes([ord(t)]) + struct.pack(">I", len(payload)) + payload


class Tls:
    """A TLS 1.3 client to ADDR with the PSK of key: openssl s_client in a subprocess."""

    def __init__(self, addr, key):
        self.p = subprocess.Popen(
            ["openssl", "s_client", "-connect", addr, "-tls1_3", "-quiet",
             "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-psk_identity", PSK_IDENTITY,
             "-psk", psk_hex(key)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def recv_exact(self, n, timeout=15):
        b = b""
        fd = self.p.stdout.fileno()
        end = time.time() + timeout
        while len(b) < n:
            r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
            if not r:
                raise EOFError("nothing after %d of %d bytes" % (len(b), n))
            c = os.read(fd, n - len(b))
            if not c:
                raise EOFError("closed after %d of %d bytes" % (len(b), n))
            b += c
        return b

    def read_frame(self):
        hdr = self.recv_exact(5)
        return chr(hdr[0]), self.recv_exact(struct.unpack(">I", hdr[1:])[0])

    def why(self):
        """What s_client said on its way out."""
        self.close()
        err = self.p.stderr.read().decode(errors="replace")
        for line in err.splitlines():
            if " alert " in line:  # "...:sslv3 alert illegal parameter:..."
                return "TLS alert: " + line.split(" alert ", 1)[1].split(":", 1)[0]
        return "the connection closed during the TLS handshake"

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def handshake(key, addr):
    """TLS, then the hellos. Returns (Tls, "welcome") or (None, "refused: ...")."""
    t = Tls(addr, key)
    try:
        t.send(frame("H", MAGIC + b"chanclient"))
        kind, body = t.read_frame()
    except (EOFError, BrokenPipeError):
        return None, "refused: " + t.why()
    if kind == "R":
        return None, "refused: " + body.decode(errors="replace")
    if kind != "H" or body[:8] != MAGIC:
        return None, "not a migration channel"
    return t, "welcome"


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
    t, what = handshake(read_key(keyfile), addr)
    print(what)
    if t:
        t.close()


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
    t, what = handshake(read_key(keyfile), addr)
    if not t:
        print(what)
        return
    offer = {"op": "migrate", "id": "chanclient.1." + vm, "vm": vm, "from": "chanclient",
             "to": host, "driver": "sim", "mem_mb": 256,
             "config": 'name = "%s"\nmemory = 256\nvcpus = 1\n' % vm, "tags": []}
    t.send(frame("C", json.dumps(offer).encode()))
    try:
        kind, body = t.read_frame()
    except EOFError as e:
        print("closed:", e)
        t.close()
        return
    print("answer:", body.decode(errors="replace"))
    if b'"accept"' not in body:
        t.close()
        return
    if mode == "junk":
        data = os.urandom(5000)
    else:
        data = b"VMCSIM01" + bytes([ord("H")]) + struct.pack(">I", 100000) + b"{" * 3000
    try:
        t.send(frame("D", data))
    except OSError:
        print("closed: the connection was gone before the data")
        t.close()
        return
    if mode == "cut":
        time.sleep(0.5)
        t.close()
        print("cut")
        return
    total = len(data) + (7 if mode == "badend" else 0)
    try:
        t.send(frame("E", struct.pack(">Q", total)))
        kind, body = t.read_frame()
        print("answer:", kind, body.decode(errors="replace"))
    except EOFError as e:
        print("closed:", e)
    except OSError:  # the agent closed first and s_client with it: a broken pipe
        print("closed: the connection was gone before the end frame")
    t.close()


def relay(listener, upstream, record):
    """Passes one connection's bytes to upstream, recording what the client sent."""
    c, _ = listener.accept()
    u = connect(upstream)
    socks = [c, u]
    while socks:
        r, _, _ = select.select(socks, [], [], 15)
        if not r:
            break
        for s in r:
            d = s.recv(65536)
            other = u if s is c else c
            if not d:
                socks = []
                break
            if s is c:
                record.append(d)
            other.sendall(d)
    c.close()
    u.close()


def cmd_replay(addr, keyfile):
    """A genuine conversation (TLS, hellos, a status question) through a recording relay,
    then the client's bytes played again to the agent on a new connection."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    record = []
    th = threading.Thread(target=relay, args=(lst, addr, record))
    th.start()
    t, what = handshake(read_key(keyfile), "127.0.0.1:%d" % lst.getsockname()[1])
    if not t:
        print("recording failed:", what)
        return
    t.send(frame("C", json.dumps({"op": "status", "id": "chanclient.9.x"}).encode()))
    try:
        kind, body = t.read_frame()
        print("recorded: an answer to the status question" if kind == "C" else "recorded")
    except EOFError:
        print("recorded: no answer")
    t.close()
    th.join()
    s = connect(addr)
    s.sendall(b"".join(record))
    s.settimeout(15)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except (ConnectionResetError, socket.timeout):
        pass
    # what the agent sent back is TLS records only it and a genuine client could read;
    # the agent must close without a hello or an answer being read from the replay
    print("replay: closed after %d bytes back" % len(got))


class CertTls:
    """A TLS 1.3 client with a host certificate (Python's ssl module)."""

    def __init__(self, addr, crt, key, ca):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False  # the agent is reached by address; its name comes next
        ctx.load_cert_chain(crt, key)
        ctx.load_verify_locations(ca)
        self.s = ctx.wrap_socket(connect(addr))

    def send(self, data):
        self.s.sendall(data)

    def recv_exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("closed after %d of %d bytes" % (len(b), n))
            b += c
        return b

    def read_frame(self):
        hdr = self.recv_exact(5)
        return chr(hdr[0]), self.recv_exact(struct.unpack(">I", hdr[1:])[0])


def cmd_cert(addr, crt, key, ca, name, sender, vm):
    try:
        t = CertTls(addr, crt, key, ca)
        t.send(frame("H", MAGIC + name.encode()))
        kind, body = t.read_frame()
    except (ssl.SSLError, OSError, EOFError) as e:
        print("refused: TLS: %s" % e)
        return
    if kind != "H":
        print("refused: " + body.decode(errors="replace"))
        return
    offer = {"op": "migrate", "id": "chanclient.2." + vm, "vm": vm, "from": sender,
             "to": body[8:].decode(), "driver": "sim", "mem_mb": 256,
             "config": 'name = "%s"\nmemory = 256\nvcpus = 1\n' % vm, "tags": []}
    try:
        t.send(frame("C", json.dumps(offer).encode()))
        kind, body = t.read_frame()
    except (ssl.SSLError, OSError, EOFError) as e:
        print("refused: closed: %s" % e)
        return
    if kind == "R":
        print("refused: " + body.decode(errors="replace"))
    else:
        print("welcome; answer:", body.decode(errors="replace"))


def main():
    addr, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    {"random": cmd_random, "auth": cmd_auth, "hold": cmd_hold,
     "truncate": cmd_truncate, "replay": cmd_replay, "cert": cmd_cert}[mode](addr, *args)


if __name__ == "__main__":
    main()
