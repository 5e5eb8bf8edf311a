# tests/lib/tcpproxy.py LPORT RPORT - a TCP proxy on loopback: every connection to LPORT
# is piped to RPORT. Killing it closes every connection through it (a network cut).
import os, socket, sys, threading, time
lport, rport = int(sys.argv[1]), int(sys.argv[2])
parent = os.getppid()
def orphaned():  # the test is gone: so is the proxy
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)
threading.Thread(target=orphaned, daemon=True).start()
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", lport))
srv.listen(8)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    u = socket.create_connection(("127.0.0.1", rport))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
