#!/usr/bin/env python3
"""Holds many idle SMTP sessions open: the load of make bench's W1+idle phase
(and of the e2e test that holds more sessions than 1024 descriptors).

    idle_hold.py HOST PORT COUNT [TIMEOUT]

Opens COUNT connections with non-blocking sockets and one selector (no
thread per session), at most BATCH of them still in their greeting or EHLO
at a time, so the server's listen queue is never what is measured.  Each
session reads the 220 greeting, sends EHLO and reads the 250 reply, then
stays open, idle.  When every session is up or has failed, or TIMEOUT
seconds (default 120) have passed, it prints one line

    established N failed M [first failure: ...]

to stdout, then keeps the established sessions open and answers each line
"count" on stdin with "open N" (sessions the server has not closed).  It
exits, closing everything, at the end of stdin or on SIGTERM.  Every wait is
bounded; the caller stops it by its pid.

Stdlib only.  Raises RLIMIT_NOFILE as far as needed (as root also the hard
limit).  Not here: sending mail (the load of W1 comes from smtp-source).
"""
import errno
import os
import resource
import selectors
import signal
import socket
import sys
import time

BATCH = 256                 # sessions between connect() and their 250 to EHLO


def raise_fd_limit(n):
    """Room for n sockets and some slack; as root the hard limit may grow."""
    want = n + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return
        except (ValueError, OSError):
            want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Session:
    """One connection walking connect -> 220 -> EHLO -> 250 -> idle."""

    def __init__(self, sock):
        self.sock = sock
        self.state = "connect"
        self.buf = b""

    def reply(self):
        """The code of the complete reply in buf (RFC 5321 4.2: the last
        line has a space after the code), or None while it is incomplete."""
        lines = self.buf.split(b"\r\n")
        for line in lines[:-1]:
            if len(line) < 4 or line[3:4] != b"-":
                return line[:3]
        return None


class Holder:
    def __init__(self, host, port, count):
        self.addr = (host, port)
        self.count = count
        self.sel = selectors.DefaultSelector()
        self.started = 0
        self.pending = 0            # sessions not yet idle nor failed
        self.idle = []
        self.failed = 0
        self.first_error = None

    def fail(self, s, why):
        self.failed += 1
        self.pending -= 1
        if self.first_error is None:
            self.first_error = why
        try:
            self.sel.unregister(s.sock)
        except (KeyError, ValueError):
            pass
        s.sock.close()

    def start_one(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        s = Session(sock)
        self.started += 1
        self.pending += 1
        err = sock.connect_ex(self.addr)
        if err not in (0, errno.EINPROGRESS):
            self.fail(s, "connect: %s" % os.strerror(err))
            return
        self.sel.register(sock, selectors.EVENT_WRITE, s)

    def step(self, s, events):
        if s.state == "connect":
            err = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                return self.fail(s, "connect: %s" % os.strerror(err))
            s.state = "greeting"
            self.sel.modify(s.sock, selectors.EVENT_READ, s)
            return
        try:
            data = s.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            return self.fail(s, "recv: %s" % e)
        if not data:
            return self.fail(s, "closed by the server in %s after %r" % (s.state, s.buf[-200:]))
        s.buf += data
        code = s.reply()
        if code is None:
            return
        if s.state == "greeting" and code == b"220":
            s.state, s.buf = "ehlo", b""
            s.sock.send(b"EHLO idle.bench.test\r\n")     # a few bytes: the buffer takes them
        elif s.state == "ehlo" and code == b"250":
            s.state, s.buf = "idle", b""
            self.pending -= 1
            self.idle.append(s)
            self.sel.unregister(s.sock)
        else:
            self.fail(s, "%s answered %r" % (s.state, s.buf[-200:]))

    def open_all(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self.started < self.count or self.pending):
            while self.started < self.count and self.pending < BATCH:
                self.start_one()
            for key, events in self.sel.select(min(1.0, max(0.0, deadline - time.monotonic()))):
                self.step(key.data, events)
        for key in list(self.sel.get_map().values()):   # still pending at the deadline
            self.fail(key.data, "timeout in %s" % key.data.state)
        self.failed += self.count - self.started

    def still_open(self):
        """Sessions the server has not closed (a closed one reads as EOF)."""
        n = 0
        for s in self.idle:
            try:
                if s.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    continue
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                continue
            n += 1
        return n


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    raise_fd_limit(count)
    h = Holder(host, port, count)
    h.open_all(timeout)
    line = "established %d failed %d" % (len(h.idle), h.failed)
    if h.first_error:
        line += " [first failure: %s]" % h.first_error
    print(line, flush=True)
    for cmd in sys.stdin:
        if cmd.strip() == "count":
            print("open %d" % h.still_open(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
