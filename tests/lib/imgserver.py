#!/usr/bin/env python3
"""imgserver.py - a small HTTP server for the system tests: serves base images from a
directory on a loopback port, with byte ranges (Python's SimpleHTTPRequestHandler has none).

    imgserver.py DIR PORTFILE LOGFILE

Listens on 127.0.0.1 on a free port and writes the port to PORTFILE once it listens.
Each request is logged to LOGFILE as one JSON line: {"path", "range", "status", "sent"}.

Paths pick a behaviour, then name a file in DIR:
    /img/NAME        the file, honouring "Range: bytes=A-" and "bytes=A-B" (206, 416)
    /cut/NAME        the first GET of NAME sends half of what it promises, then closes;
                     later GETs behave as /img/NAME (to test resumed downloads)
    /norange/NAME    ignores Range: always the whole file with 200
Anything else, or a missing file, is a 404.
"""
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT, PORTFILE, LOGFILE = sys.argv[1], sys.argv[2], sys.argv[3]
LOCK = threading.Lock()
CUT_DONE = set()


def log(entry):
    with LOCK, open(LOGFILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: we keep our own log
        pass

    def fail(self, status, rng):
        body = b"not found\n" if status == 404 else b"range not satisfiable\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log({"path": self.path, "range": rng, "status": status, "sent": 0})

    def serve(self):
        rng = self.headers.get("Range")
        m = re.fullmatch(r"/(img|cut|norange)/([A-Za-z0-9_.+-]+)", self.path)
        if not m or m.group(2).startswith("."):
            return self.fail(404, rng)
        mode, name = m.group(1), m.group(2)
        path = os.path.join(ROOT, name)
        if not os.path.isfile(path):
            return self.fail(404, rng)
        size = os.path.getsize(path)
        start, end, status = 0, size - 1, 200
        if rng and mode != "norange":
            r = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if not r:
                return self.fail(416, rng)
            start = int(r.group(1))
            if r.group(2):
                end = min(int(r.group(2)), size - 1)
            if start >= size or start > end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                log({"path": self.path, "range": rng, "status": 416, "sent": 0})
                return None
            status = 206
        length = end - start + 1
        cut = None
        if mode == "cut":
            with LOCK:
                if name not in CUT_DONE:
                    CUT_DONE.add(name)
                    cut = length // 2
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "none" if mode == "norange" else "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        sent = 0
        if self.command == "GET":
            want = length if cut is None else cut
            with open(path, "rb") as f:
                f.seek(start)
                while sent < want:
                    chunk = f.read(min(65536, want - sent))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    sent += len(chunk)
            if cut is not None:
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
        log({"path": self.path, "range": rng, "status": status, "sent": sent,
             "cut": cut is not None})
        return None

    def do_GET(self):
        self.serve()

    def do_HEAD(self):
        self.serve()


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, PORTFILE)
    server.serve_forever()


if __name__ == "__main__":
    main()
