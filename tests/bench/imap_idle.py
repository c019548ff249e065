#!/usr/bin/env python3
"""The IMAP-IDLE phase of make bench (BENCH_ONLY=IMAP-IDLE, issue 15):
10,000 concurrent IDLE sessions (scaled by BENCH_SCALE, at least 100)
held by a tern instance in its default configuration, what they cost it
in memory, and how fast a delivery wakes them.

The instance: "tern init" with an SMTP and an IMAP listener and USERS
accounts (the default password scheme; the default auth cache holds a
login for auth_cache_ttl, so the logins hash about once per user), and
nothing else changed.  Its default imap_max_user_connections (10, as
Dovecot's mail_max_userip_connections) allows 10 sessions of one user
from one client address, so the sessions of each user come from
127.0.0.1, 127.0.0.2, ... (10 a user from each); imap_client_limit (100)
puts 100 sessions of one user in one imap process.

A holder process (this file run as a script: non-blocking sockets, one
selector, RLIMIT_NOFILE raised) opens the sessions, at most BATCH of them
between connect() and IDLE at a time: greeting, LOGIN, SELECT INBOX, IDLE,
"+" continuation.  With all of them idle, the RSS and PSS sums of the
instance's processes (its cgroup) are read.  Then one message is sent
through smtpd to each of WAKE users; the bench polls each one's Maildir
(new/ and cur/) for the file appearing, the holder notes when each
session of those users reads its "* n EXISTS", and the latency of a
session is the second time minus the first (both CLOCK_MONOTONIC).

Holder protocol (stdin/stdout, one line each): it prints "established N
failed M [first failure: ...]" once every session is idle or failed (or
at the timeout); then "arm U1 U2 ..." forgets what those users' sessions
saw and answers "armed"; "report" answers one "wake USER SECONDS" line a
session of the armed users (SECONDS the monotonic time of its first
EXISTS after "arm", or "-") and "end"; "count" answers "open N".
End of stdin or SIGTERM ends it.

BENCH_IDLE_PERF=FILE (by hand) records a perf profile of the instance's
processes over the wake-up into FILE.
"""
import errno
import os
import re
import resource
import selectors
import signal
import smtplib
import socket
import subprocess
import sys
import time

USERS = 100
SESSIONS = 10000
PER_IP = 10                  # imap_max_user_connections' default
WAKE = 20                    # users that get a message
PW = "an-idle-bench-password"
BATCH = 256                  # sessions between connect() and their IDLE
DOMAIN = "bench.test"
EXISTS = re.compile(rb"^\* \d+ EXISTS\r$", re.M)


def user_name(i):
    return "idle%03d@%s" % (i, DOMAIN)


# ---------------------------------------------------------------- the holder
def raise_fd_limit(n):
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
    def __init__(self, sock, user, src):
        self.sock, self.user, self.src = sock, user, src
        self.state = "connect"
        self.buf = b""
        self.woke = None


class Holder:
    def __init__(self, port, users, per_user, pw):
        self.port, self.users, self.per_user, self.pw = port, users, per_user, pw
        self.sel = selectors.DefaultSelector()
        self.todo = [(u, k) for k in range(per_user) for u in range(users)]
        self.todo.reverse()
        self.pending = 0
        self.idle = []
        self.failed = 0
        self.first_error = None
        self.armed = set()

    def fail(self, s, why):
        self.failed += 1
        if s.state != "idle":
            self.pending -= 1
        else:
            self.idle.remove(s)
        if self.first_error is None:
            self.first_error = "%s from %s: %s" % (s.user, s.src, why)
        try:
            self.sel.unregister(s.sock)
        except (KeyError, ValueError):
            pass
        s.sock.close()

    def start_one(self):
        u, k = self.todo.pop()
        src = "127.0.0.%d" % (1 + k // PER_IP)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        s = Session(sock, user_name(u), src)
        self.pending += 1
        try:
            sock.bind((src, 0))
        except OSError as e:
            return self.fail(s, "bind: %s" % e)
        err = sock.connect_ex(("127.0.0.1", self.port))
        if err not in (0, errno.EINPROGRESS):
            return self.fail(s, "connect: %s" % os.strerror(err))
        self.sel.register(sock, selectors.EVENT_WRITE, s)

    def tagged(self, s, tag):
        """The tagged reply line in buf, or None."""
        for line in s.buf.split(b"\r\n")[:-1]:
            if line.startswith(tag + b" "):
                return line
        return None

    def step(self, s, now):
        if s.state == "connect":
            err = s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                return self.fail(s, "connect: %s" % os.strerror(err))
            s.state = "greeting"
            self.sel.modify(s.sock, selectors.EVENT_READ, s)
            return
        try:
            data = s.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            return self.fail(s, "recv: %s" % e)
        if not data:
            return self.fail(s, "closed by the server in %s after %r" % (s.state, s.buf[-200:]))
        s.buf += data
        if s.state == "idle":
            if s.user in self.armed and s.woke is None and EXISTS.search(s.buf):
                s.woke = now
            s.buf = s.buf[-200:]
            return
        if b"\r\n" not in s.buf:
            return
        if s.state == "greeting":
            if not s.buf.startswith(b"* OK"):
                return self.fail(s, "greeting %r" % s.buf[:200])
            s.state, s.buf = "login", b""
            s.sock.send(b"a LOGIN \"%s\" \"%s\"\r\n" % (s.user.encode(), self.pw.encode()))
        elif s.state == "login":
            line = self.tagged(s, b"a")
            if line is None:
                return
            if not line.startswith(b"a OK"):
                return self.fail(s, "LOGIN: %r" % line[:200])
            s.state, s.buf = "select", b""
            s.sock.send(b"b SELECT INBOX\r\n")
        elif s.state == "select":
            line = self.tagged(s, b"b")
            if line is None:
                return
            if not line.startswith(b"b OK"):
                return self.fail(s, "SELECT: %r" % line[:200])
            s.state, s.buf = "idling", b""
            s.sock.send(b"c IDLE\r\n")
        elif s.state == "idling":
            if s.buf.startswith(b"+"):
                s.state, s.buf = "idle", b""
                self.pending -= 1
                self.idle.append(s)
            elif self.tagged(s, b"c") is not None or not s.buf.startswith(b"*"):
                return self.fail(s, "IDLE: %r" % s.buf[:200])

    def open_all(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self.todo or self.pending):
            while self.todo and self.pending < BATCH:
                self.start_one()
            ready = self.sel.select(min(1.0, max(0.0, deadline - time.monotonic())))
            now = time.monotonic()
            for key, _ in ready:
                self.step(key.data, now)
        for key in list(self.sel.get_map().values()):
            if key.data.state != "idle":
                self.fail(key.data, "timeout in %s" % key.data.state)
        self.failed += len(self.todo)

    def still_open(self):
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

    def command(self, line):
        words = line.split()
        if not words:
            return True
        if words[0] == "count":
            print("open %d" % self.still_open(), flush=True)
        elif words[0] == "arm":
            self.armed = set(words[1:])
            for s in self.idle:
                if s.user in self.armed:
                    s.woke, s.buf = None, b""
            print("armed", flush=True)
        elif words[0] == "report":
            for s in self.idle:
                if s.user in self.armed:
                    print("wake %s %s" % (s.user, "-" if s.woke is None else "%.6f" % s.woke))
            print("end", flush=True)
        return True

    def serve(self):
        """Reads the idle sessions and stdin until stdin ends."""
        stdin = sys.stdin.buffer.raw
        self.sel.register(stdin, selectors.EVENT_READ, None)
        pending = b""
        while True:
            ready = self.sel.select(None)
            now = time.monotonic()
            for key, _ in ready:
                if key.data is not None:
                    self.step(key.data, now)
                    continue
                data = os.read(stdin.fileno(), 4096)
                if not data:
                    return
                pending += data
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    self.command(line.decode())


def holder_main():
    port, users, per_user = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    pw, timeout = sys.argv[4], float(sys.argv[5])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    raise_fd_limit(users * per_user)
    h = Holder(port, users, per_user, pw)
    h.open_all(timeout)
    line = "established %d failed %d" % (len(h.idle), h.failed)
    if h.first_error:
        line += " [first failure: %s]" % h.first_error
    print(line, flush=True)
    h.serve()
    return 0


# ---------------------------------------------------------------- the phase
def count_entries(md):
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(md, sub)))
        except OSError:
            pass
    return n


def by_program(group):
    """{program: (processes, RSS KiB, PSS KiB)} of the group's processes."""
    out = {}
    for pid in group.pids():
        try:
            with open("/proc/%d/comm" % pid) as f:
                name = f.read().strip()
            rss = pss = 0
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss = int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
        n, r, p = out.get(name, (0, 0, 0))
        out[name] = (n + 1, r + rss, p + pss)
    return out


def idle_phase(tern_bin, tmp, group_cls, raw, run, free_port, wait_until, port_open, scale):
    """Runs the phase; returns a dict for the summary (or None on failure)."""
    sessions = max(100, int(round(SESSIONS * scale)))
    per_user = max(1, sessions // USERS)
    sessions = per_user * USERS
    d = os.path.join(tmp, "tern-idle")
    smtp_port, imap_port = free_port(), free_port()
    group = group_cls("imap-idle")
    out = {"sessions": sessions, "users": USERS, "per_user": per_user}
    holder = None
    try:
        r = run([tern_bin, "init", d, "--smtp", "127.0.0.1:%d" % smtp_port,
                 "--imap", "127.0.0.1:%d" % imap_port, "--domain", DOMAIN])
        if r.returncode != 0:
            raw("imap-idle FAILED tern init: %s" % r.stderr)
            return None
        mds = {}
        for i in range(USERS):
            u = user_name(i)
            r = run([tern_bin, "-c", d, "user", "add", u, "--stdin"], input=PW + "\n")
            if r.returncode != 0:
                raw("imap-idle FAILED tern user add: %s" % r.stderr)
                return None
            md = os.path.join(d, "mail", DOMAIN, "idle%03d" % i)
            st = os.stat(md)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub), exist_ok=True)
                os.chown(os.path.join(md, sub), st.st_uid, st.st_gid)
            mds[u] = md
        r = run([tern_bin, "-c", d, "start"], preexec_fn=group.preexec)
        if r.returncode != 0 or not wait_until(lambda: port_open(imap_port), 20):
            raw("imap-idle FAILED tern start: %s%s" % (r.stdout, r.stderr))
            return None
        rss0, pss0 = group.rss_kib(), group.pss_kib()
        raw("imap-idle unloaded rss_sum_kib=%d pss_sum_kib=%d processes=%d" % (
            rss0, pss0, len(group.pids())))
        t0 = time.monotonic()
        holder = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), str(imap_port), str(USERS),
             str(per_user), PW, str(max(120.0, sessions / 20.0))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = holder.stdout.readline().strip()
        ramp = time.monotonic() - t0
        m = re.match(r"established (\d+) failed (\d+)", line)
        est = int(m.group(1)) if m else 0
        out.update(established=est, ramp_s=ramp)
        raw("imap-idle sessions=%d users=%d per_user=%d source_addresses=%d %s secs=%.1f" % (
            sessions, USERS, per_user, (per_user + PER_IP - 1) // PER_IP, line, ramp))
        if est == 0:
            return None
        time.sleep(2.0)                      # log lines and lazy frees settle
        holder.stdin.write("count\n")
        still = holder.stdout.readline().strip()
        rss, pss = group.rss_kib(), group.pss_kib()
        out.update(rss_kib=rss, pss_kib=pss, open=still)
        raw("imap-idle held %s rss_sum_kib=%d pss_sum_kib=%d processes=%d" % (
            still, rss, pss, len(group.pids())))
        for name, (n, r_, p_) in sorted(by_program(group).items(), key=lambda x: -x[1][2]):
            raw("imap-idle program=%s processes=%d rss_kib=%d pss_kib=%d pss_per_process_kib=%d"
                % (name, n, r_, p_, p_ // n))
        # The wake-up: one message to each of WAKE users.
        wake = [user_name(i) for i in range(0, USERS, USERS // WAKE)][:WAKE]
        holder.stdin.write("arm %s\n" % " ".join(wake))
        if holder.stdout.readline().strip() != "armed":
            raw("imap-idle FAILED holder did not arm")
            return None
        base = {u: count_entries(mds[u]) for u in wake}
        perf = None
        if os.environ.get("BENCH_IDLE_PERF"):    # a profile of the wake-up, by hand
            perf = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-g", "-o",
                                     os.environ["BENCH_IDLE_PERF"], "-p",
                                     ",".join(str(x) for x in group.pids())],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(2.0)
        sent, seen = {}, {}
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as smtp:
            for u in wake:
                smtp.sendmail("sender@example.org", [u],
                              "From: sender@example.org\r\nTo: %s\r\nSubject: wake up\r\n\r\n"
                              "a message for an idle session\r\n" % u)
                sent[u] = time.monotonic()
                for v in wake:                # poll while sending too
                    if v not in seen and count_entries(mds[v]) > base[v]:
                        seen[v] = time.monotonic()
        deadline = time.monotonic() + 60
        while len(seen) < len(wake) and time.monotonic() < deadline:
            now = time.monotonic()
            for u in wake:
                if u not in seen and count_entries(mds[u]) > base[u]:
                    seen[u] = now
            time.sleep(0.001)
        time.sleep(3.0)                      # the slowest session past 1 s still counts
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(60)
        holder.stdin.write("report\n")
        lat, lat_smtp, missing = [], [], 0
        while True:
            line = holder.stdout.readline()
            if not line or line.strip() == "end":
                break
            _, u, t = line.split()
            if t == "-" or u not in seen:
                missing += 1
                continue
            lat.append(float(t) - seen[u])
            lat_smtp.append(float(t) - sent[u])
        lat.sort()
        lat_smtp.sort()
        woken_1s = sum(1 for x in lat if x <= 1.0)
        out.update(wake_users=len(wake), delivered=len(seen), woken=len(lat), missing=missing,
                   woken_1s=woken_1s, lat=lat, lat_smtp=lat_smtp)
        if lat:
            raw("imap-idle wake users=%d delivered=%d sessions_woken=%d not_woken=%d "
                "within_1s=%d from_file median_ms=%.1f max_ms=%.1f from_smtp_250 "
                "median_ms=%.1f max_ms=%.1f" % (
                    len(wake), len(seen), len(lat), missing, woken_1s,
                    lat[len(lat) // 2] * 1000, lat[-1] * 1000,
                    lat_smtp[len(lat_smtp) // 2] * 1000, lat_smtp[-1] * 1000))
        else:
            raw("imap-idle wake users=%d delivered=%d sessions_woken=0 not_woken=%d" % (
                len(wake), len(seen), missing))
        holder.stdin.write("count\n")
        raw("imap-idle after the wake-up %s" % holder.stdout.readline().strip())
    finally:
        if holder:
            try:
                holder.stdin.close()
            except OSError:
                pass
            try:
                holder.wait(30)
            except subprocess.TimeoutExpired:
                holder.kill()
                holder.wait()
        run([tern_bin, "-c", d, "stop"], timeout=60)
        group.kill_rest()
    return out


def summarize_idle(out):
    if not out:
        return
    print("IMAP IDLE (tern's default configuration, %d users, %d sessions each from %d "
          "addresses):" % (out["users"], out["per_user"],
                           (out["per_user"] + PER_IP - 1) // PER_IP))
    print("  sessions held %d of %d (login ramp %.1f s); RSS sum %.1f MiB, PSS sum %.1f MiB "
          "(target: RSS <= 1024 MiB at 10,000)" % (
              out.get("established", 0), out["sessions"], out.get("ramp_s", 0),
              out.get("rss_kib", 0) / 1024, out.get("pss_kib", 0) / 1024))
    lat = out.get("lat")
    if lat is None:
        return
    n = out["woken"] + out["missing"]
    if lat:
        print("  wake-up after a delivery to %d users (%d sessions): median %.0f ms, max %.0f ms "
              "from the Maildir file; %d of %d within 1 s (target: all)" % (
                  out["wake_users"], n, lat[len(lat) // 2] * 1000, lat[-1] * 1000,
                  out["woken_1s"], n))
    else:
        print("  wake-up: no session woke (%d expected)" % n)


if __name__ == "__main__":
    sys.exit(holder_main())
