"""bench_vmtop_pty.py - vmtop-cluster on a terminal of its own, for tests/bench/vmtop_live.

  python3 bench_vmtop_pty.py HOSTS VMS SETTLE_S WINDOW_S TRIALS -- VMTOP [ARGS...]

Runs the console on a pseudo-terminal (200x60, xterm-256color), reads everything it
draws and prints one line of name=value figures:
  full_ms      start until the title line shows every host online and every VM running
               ("HOSTS online", "VMS running"): the full picture on screen (to within the
               quarter second between two ^L, which have the whole screen drawn anew)
  cpu_pct      the console's CPU over WINDOW_S seconds after SETTLE_S more, idle (no key)
  filter_ms    a filter typed at once ("/", ^U, a VM's name, Enter) until that VM's row is
               drawn: the slowest and the median of TRIALS, at random moments of the
               frame cycle
  help_ms      ? until the help page is drawn, and a key closing it until the row is
               back: the slowest and the median
Each key is followed by ^L (redraw the screen), so that what the key brought is drawn
whole, not only where it differs from the screen before (curses writes only changed
cells): a key's time includes drawing the whole screen.
CPU is read from /proc/PID/schedstat (time on a CPU, exact). Exits 1 if the picture
is not complete within 30 s or a key is not answered within 5 s."""
import fcntl
import os
import pty
import random
import select
import signal
import statistics
import struct
import sys
import termios
import time


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


class Console:
    def __init__(self, argv):
        pid, fd = pty.fork()
        if pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 200, 0, 0))
            os.environ["TERM"] = "xterm-256color"
            os.environ["LANG"] = os.environ.get("LANG", "C.UTF-8")
            os.execv(argv[0], argv)
        self.pid, self.fd = pid, fd
        self.buf = b""

    def pump(self, until):
        """Reads what the console draws until the monotonic time until."""
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    raise SystemExit("bench_vmtop_pty: the console went away")
                self.buf = (self.buf + data)[-262144:]

    def wait_for(self, markers, timeout, nudge=None):
        """Seconds until every marker has been drawn since the call; None on time-out.
        nudge: keys sent every quarter second meanwhile."""
        t0 = time.monotonic()
        self.buf = b""
        seen = set()
        next_nudge = t0
        while time.monotonic() - t0 < timeout:
            if nudge and time.monotonic() >= next_nudge:
                os.write(self.fd, nudge)
                next_nudge += 0.25
            r, _, _ = select.select([self.fd], [], [], 0.05 if nudge else 0.5)
            if not r:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return None
            tail = self.buf[-256:]
            self.buf = (self.buf + data)[-262144:]
            for m in markers:
                if m in tail + data:
                    seen.add(m)
            if len(seen) == len(markers):
                return time.monotonic() - t0
        return None

    def key(self, text, markers, timeout=5):
        self.buf = b""
        os.write(self.fd, text)
        return self.wait_for(markers, timeout)

    def stop(self):
        os.kill(self.pid, signal.SIGTERM)
        os.waitpid(self.pid, 0)


def main():
    sep = sys.argv.index("--")
    hosts, vms, settle, window, trials = sys.argv[1:sep]
    hosts, vms, trials = int(hosts), int(vms), int(trials)
    c = Console(sys.argv[sep + 1:])
    full = c.wait_for([b"%d online" % hosts, b"%d running" % vms], 30, b"\x0c")
    if full is None:
        c.stop()
        raise SystemExit("bench_vmtop_pty: the full picture did not come within 30 s")
    c.pump(time.monotonic() + float(settle))
    a = cpu_ns(c.pid)
    t0 = time.monotonic()
    c.pump(t0 + float(window))
    cpu = (cpu_ns(c.pid) - a) / 1e9 / (time.monotonic() - t0) * 100

    filt, helps = [], []
    for i in range(trials):
        c.pump(time.monotonic() + random.uniform(0.3, 2.3))
        name = b"b%05d-vm%03d" % ((i * 7919 + 17) % hosts, i % 20 + 1)
        t = c.key(b"/\x15" + name + b"\r\x0c", [name])
        if t is None:
            c.stop()
            raise SystemExit("bench_vmtop_pty: filter %s not answered in 5 s" % name)
        filt.append(t * 1000)
        c.pump(time.monotonic() + random.uniform(0.3, 2.3))
        t = c.key(b"\x0c?", [b"this help (arrows"])
        t2 = c.key(b"x\x0c", [name]) if t is not None else None
        if t is None or t2 is None:
            c.stop()
            raise SystemExit("bench_vmtop_pty: help not answered in 5 s")
        helps += [t * 1000, t2 * 1000]
    c.stop()
    print("full_ms=%.0f cpu_pct=%.2f filter_ms_max=%.1f filter_ms_median=%.1f "
          "help_ms_max=%.1f help_ms_median=%.1f"
          % (full * 1000, cpu, max(filt), statistics.median(filt), max(helps),
             statistics.median(helps)))


main()
