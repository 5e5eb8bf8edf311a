#!/usr/bin/env python3
"""tests/xen/tcp-relay.py LISTEN_ADDR LISTEN_PORT TO_ADDR TO_PORT

Runs in a nested dom0 for check-xen: relays every TCP connection accepted on
LISTEN_ADDR:LISTEN_PORT (the dom0's address on the private link, which guests
on xenbr0 reach) to TO_ADDR:TO_PORT (the broker's guestfwd address on the
restricted user-mode NIC, which only dom0 reaches). One thread per direction.
"""
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def serve(client, to):
    try:
        upstream = socket.create_connection(to, timeout=10)
        upstream.settimeout(None)
    except OSError as e:
        print(f"relay: cannot reach {to[0]}:{to[1]}: {e}", flush=True)
        client.close()
        return
    a = threading.Thread(target=pump, args=(client, upstream), daemon=True)
    b = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    a.start()
    b.start()
    a.join()
    b.join()
    client.close()
    upstream.close()


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: tcp-relay.py LISTEN_ADDR LISTEN_PORT TO_ADDR TO_PORT")
    listen = (sys.argv[1], int(sys.argv[2]))
    to = (sys.argv[3], int(sys.argv[4]))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(listen)
    ls.listen(16)
    print(f"relay: {listen[0]}:{listen[1]} -> {to[0]}:{to[1]}", flush=True)
    while True:
        client, peer = ls.accept()
        print(f"relay: connection from {peer[0]}:{peer[1]}", flush=True)
        threading.Thread(target=serve, args=(client, to), daemon=True).start()


if __name__ == "__main__":
    main()
