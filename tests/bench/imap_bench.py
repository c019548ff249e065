"""The IMAP phase of make bench (BENCH_ONLY=IMAP): tern's imap and pop3
against Debian's Dovecot 2.3 (imap and pop3, a private instance on
loopback) serving the same Maildir, alternately, in the same run.

The Maildir: one account's INBOX of 10,000 messages (scaled by
BENCH_SCALE, at least 500) of mixed sizes (1-24 KiB of text, a few
multipart with a base64 part), a third of them \\Seen, written straight
into cur/.  Both servers open it once first (each builds its own index;
tern also writes dovecot-uidlist, which Dovecot then reads), so the
timed runs are warm.  Every operation reads only (EXAMINE, BODY.PEEK,
POP3 without DELE), so the runs do not change what the next one sees.

Operations, each timed end to end by one client (login included) and
charged the CPU of all the server's processes (a cgroup each):
- imap-headers: LOGIN, EXAMINE INBOX, FETCH 1:* (UID FLAGS RFC822.SIZE
  BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID)]), LOGOUT
  (what a client's first sync of a folder asks);
- imap-search-text: LOGIN, EXAMINE, SEARCH TEXT of a word in one message
  (every message read), LOGOUT;
- imap-search-from: the same with SEARCH FROM (headers only);
- pop3: USER/PASS, LIST, RETR of the first 2,000 messages (scaled), QUIT.

Then the big folder of issue 15's target: folder Big of 100,000 small
messages (scaled, at least 5,000), SELECT Big + UID FETCH 1:* (FLAGS):
- big-cold: the first access, no index of the server's own: tern first
  (it writes dovecot-uidlist), then Dovecot (the uidlist there, no
  dovecot.index*), then tern again with its index files removed (the
  uidlist there: the number compared with Dovecot's);
- big-warm: the same session with both indexes built, REPS times each.
"""
import os
import random
import shutil
import socket
import subprocess
import time

USER, PW = "reader@bench.test", "a-bench-password"
NMSG = 10000
NBIG = 100000
RETR = 2000
REPS = 3
NEEDLE = "zanzibarquux"
WORDS = ("mail server index folder message client header body search fetch "
         "dovecot tern quick brown fox jumps over the lazy dog").split()


def make_messages(cur, n, uid, gid, rng, sizes=(1, 2, 2, 4, 4, 8, 16, 24)):
    """n message files in cur/, owned by uid:gid."""
    now = int(time.time()) - n
    for i in range(n):
        size = rng.choice(sizes) * 1024
        words = []
        total = 0
        while total < size:
            w = rng.choice(WORDS)
            words.append(w)
            total += len(w) + 1
        if i == n // 2:
            words.append(NEEDLE)
        text = "\n".join(" ".join(words[k:k + 12]) for k in range(0, len(words), 12))
        hdr = ("From: Sender %d <sender%d@example.org>\nTo: %s\nSubject: message %d about %s\n"
               "Date: Sun, 6 Dec 2026 10:%02d:%02d +0000\nMessage-ID: <%d.bench@example.org>\n"
               % (i % 50, i % 50, USER, i, rng.choice(WORDS), (i // 60) % 60, i % 60, i))
        if i % 10 == 0:
            body = ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BB\n\n"
                    "--BB\nContent-Type: text/plain\n\n%s\n--BB\n"
                    "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64"
                    "\n\nAAECAwQFBgcICQoLDA0ODw==\n--BB--\n" % text)
        else:
            body = "\n" + text + "\n"
        data = (hdr + body).encode()
        flags = "S" if i % 3 == 0 else ""
        name = "%d.M%06dP1.bench,S=%d:2,%s" % (now + i, i, len(data), flags)
        path = os.path.join(cur, name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (now + i, now + i))
        os.chown(path, uid, gid)


class Client:
    """A raw line client; answers are read as bytes up to the tagged line."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=300)
        self.buf = b""
        self.read_line()

    def read_line(self):
        while b"\r\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _more(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise EOFError(self.buf[-200:])
        self.buf += chunk

    def until(self, marker, start=0):
        """Reads until marker (bytes) and the end of its line; returns the
        bytes before and the line."""
        while True:
            i = self.buf.find(marker, start)
            if i >= 0:
                j = self.buf.find(b"\r\n", i + len(marker))
                if j >= 0:
                    out, line = self.buf[:i], self.buf[i:j]
                    self.buf = self.buf[j + 2:]
                    return out, line
            start = max(0, len(self.buf) - len(marker) - 2)
            self._more()

    def imap(self, tag, text):
        """Sends a command; the untagged answers as bytes (after OK)."""
        self.s.sendall(b"%s %s\r\n" % (tag, text))
        self.buf = b"\r\n" + self.buf  # the tagged line may come first
        out, line = self.until(b"\r\n%s " % tag)
        line = line[2:]
        if not line.startswith(tag + b" OK"):
            raise RuntimeError("%r: %r" % (text, line[:200]))
        return out

    def close(self):
        self.s.close()


def imap_session(port, commands):
    c = Client(port)
    c.imap(b"a", b"LOGIN \"%s\" \"%s\"" % (USER.encode(), PW.encode()))
    results = []
    for i, cmd in enumerate(commands):
        results.append(c.imap(b"c%d" % i, cmd))
    c.s.sendall(b"z LOGOUT\r\n")
    c.close()
    return results


def pop3_session(port, nretr):
    c = Client(port)
    for cmd in (b"USER " + USER.encode(), b"PASS " + PW.encode()):
        c.s.sendall(cmd + b"\r\n")
        line = c.read_line()
        if not line.startswith(b"+OK"):
            raise RuntimeError("pop3 %r: %r" % (cmd, line))
    c.s.sendall(b"LIST\r\n")
    c.until(b"\r\n.")
    got = 0
    for i in range(1, nretr + 1):
        c.s.sendall(b"RETR %d\r\n" % i)
        out, _ = c.until(b"\r\n.")
        got += len(out)
    c.s.sendall(b"QUIT\r\n")
    c.close()
    return got


DOVECOT_CONF = """
protocols = imap pop3
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{maildir}
mail_max_userip_connections = 0
passdb {{
  driver = static
  args = password={pw}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={maildir}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


def imap_phase(tern_bin, tmp, group_cls, raw, run, free_port, wait_until, port_open, scale):
    """Runs the phase; returns a dict for the summary (or None on failure)."""
    n = max(500, int(NMSG * scale))
    nretr = max(100, int(RETR * scale))
    d = os.path.join(tmp, "tern-imap")
    ports = {k: free_port() for k in ("smtp", "sub", "imap", "pop3", "dimap", "dpop3")}
    r = run([tern_bin, "init", d, "--smtp", "127.0.0.1:%d" % ports["smtp"], "--submission",
             "127.0.0.1:%d" % ports["sub"], "--imap", "127.0.0.1:%d" % ports["imap"],
             "--pop3", "127.0.0.1:%d" % ports["pop3"], "--domain", "bench.test"])
    if r.returncode != 0:
        raw("imap FAILED tern init: %s" % r.stderr)
        return None
    with open(os.path.join(d, "etc", "main.cf"), "a") as f:
        f.write("\n# added by make bench (IMAP)\nimap_max_user_connections = 0\n"
                "mailbox_autocreate = no\n")
    r = run([tern_bin, "-c", d, "user", "add", USER, "--stdin"], input=PW + "\n")
    if r.returncode != 0:
        raw("imap FAILED tern user add: %s" % r.stderr)
        return None
    md = os.path.join(d, "mail", "bench.test", "reader")
    st = os.stat(md)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
        os.chown(os.path.join(md, sub), st.st_uid, st.st_gid)
    t0 = time.monotonic()
    make_messages(os.path.join(md, "cur"), n, st.st_uid, st.st_gid, random.Random(42))
    raw("imap maildir messages=%d made_in_s=%.1f" % (n, time.monotonic() - t0))
    nbig = max(5000, int(NBIG * scale))
    big = os.path.join(md, ".Big")
    for sub in ("", "cur", "new", "tmp"):
        os.makedirs(os.path.join(big, sub), exist_ok=True)
        os.chown(os.path.join(big, sub), st.st_uid, st.st_gid)
    open(os.path.join(big, "maildirfolder"), "w").close()
    os.chown(os.path.join(big, "maildirfolder"), st.st_uid, st.st_gid)
    t0 = time.monotonic()
    make_messages(os.path.join(big, "cur"), nbig, st.st_uid, st.st_gid, random.Random(7),
                  sizes=(1,))
    raw("imap big folder messages=%d made_in_s=%.1f" % (nbig, time.monotonic() - t0))
    dd = os.path.join(tmp, "dovecot")
    os.makedirs(os.path.join(dd, "state"))
    os.chmod(dd, 0o755)
    conf = os.path.join(dd, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(DOVECOT_CONF.format(d=dd, maildir=md, pw=PW, uid=st.st_uid, gid=st.st_gid,
                                    imap=ports["dimap"], pop3=ports["dpop3"]))
    groups = {"tern": group_cls("imap-tern"), "dovecot": group_cls("imap-dovecot")}
    dproc = None
    out = {}
    try:
        r = run([tern_bin, "-c", d, "start"], preexec_fn=groups["tern"].preexec)
        if r.returncode != 0 or not wait_until(lambda: port_open(ports["imap"]), 20):
            raw("imap FAILED tern start: %s%s" % (r.stdout, r.stderr))
            return None
        dproc = subprocess.Popen(["dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, preexec_fn=groups["dovecot"].preexec)
        if not wait_until(lambda: port_open(ports["dimap"]), 20):
            raw("imap FAILED dovecot start")
            return None
        wait_until(lambda: port_open(ports["pop3"]) and port_open(ports["dpop3"]), 20)
        iport = {"tern": ports["imap"], "dovecot": ports["dimap"]}
        pport = {"tern": ports["pop3"], "dovecot": ports["dpop3"]}
        ops = [
            ("imap-headers", lambda p: imap_session(iport[p], [
                b"EXAMINE INBOX", b"FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS "
                b"(FROM TO SUBJECT DATE MESSAGE-ID)])"])),
            ("imap-search-text", lambda p: imap_session(iport[p], [
                b"EXAMINE INBOX", b"SEARCH TEXT " + NEEDLE.encode()])),
            ("imap-search-from", lambda p: imap_session(iport[p], [
                b"EXAMINE INBOX", b"SEARCH FROM sender7@"])),
            ("pop3", lambda p: pop3_session(pport[p], nretr)),
        ]
        # Warm-up: each server indexes the folder once (tern first: it
        # gives the UIDs, in dovecot-uidlist, that Dovecot then reads).
        for p in ("tern", "dovecot"):
            t0 = time.monotonic()
            res = ops[0][1](p)
            raw("imap warmup server=%s secs=%.3f bytes=%d" % (
                p, time.monotonic() - t0, len(res[1])))
        check = {}
        for name, fn in ops:
            for rep in range(REPS):
                for p in ("tern", "dovecot"):
                    cpu0 = groups[p].cpu_seconds()
                    t0 = time.monotonic()
                    res = fn(p)
                    secs = time.monotonic() - t0
                    cpu = groups[p].cpu_seconds() - cpu0
                    size = res if isinstance(res, int) else len(res[-1])
                    if name.startswith("imap-search"):
                        check.setdefault(name, {})[p] = res[-1].strip()
                    out.setdefault((name, p), []).append((secs, cpu))
                    raw("imap op=%s server=%s rep=%d secs=%.3f cpu_s=%.3f bytes=%d" % (
                        name, p, rep, secs, cpu, size))
        # The big folder: first access without an index, then warm.
        def big_session(p):
            return imap_session(iport[p], [b"SELECT Big", b"UID FETCH 1:* (FLAGS)"])

        def drop_index(prefix):
            for f in os.listdir(big):
                if f.startswith(prefix):
                    os.unlink(os.path.join(big, f))

        def timed(name, p, rep):
            cpu0 = groups[p].cpu_seconds()
            t0 = time.monotonic()
            res = big_session(p)
            secs = time.monotonic() - t0
            cpu = groups[p].cpu_seconds() - cpu0
            out.setdefault((name, p), []).append((secs, cpu))
            raw("imap op=%s server=%s rep=%d secs=%.3f cpu_s=%.3f bytes=%d" % (
                name, p, rep, secs, cpu, len(res[-1])))
            return res[-1]
        timed("big-cold-uidlist", "tern", 0)
        timed("big-cold", "dovecot", 0)
        drop_index("tern.index")
        timed("big-cold", "tern", 0)
        answers = {}
        for rep in range(REPS):
            for p in ("tern", "dovecot"):
                answers[p] = timed("big-warm", p, rep).count(b" FETCH ")
        raw("imap big folder FETCH lines tern=%d dovecot=%d" % (
            answers["tern"], answers["dovecot"]))
        out["nbig"] = nbig
        for name, answers in check.items():
            if answers.get("tern") != answers.get("dovecot"):
                raw("imap op=%s DIFFERENT answers tern=%r dovecot=%r" % (
                    name, answers.get("tern")[:200], answers.get("dovecot")[:200]))
        out["n"], out["nretr"] = n, nretr
    finally:
        run([tern_bin, "-c", d, "stop"], timeout=60)
        if dproc:
            dproc.terminate()
            try:
                dproc.wait(30)
            except subprocess.TimeoutExpired:
                dproc.kill()
        for g in groups.values():
            g.kill_rest()
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(dd, ignore_errors=True)
    return out


def summarize_imap(out):
    if not out:
        return
    print("IMAP/POP3 (tern against Dovecot 2.3 on the same Maildir, %d messages; "
          "median of %d runs each; ratios tern/Dovecot, lower is better):" % (out["n"], REPS))
    for name in ("imap-headers", "imap-search-text", "imap-search-from", "pop3", "big-cold",
                 "big-warm"):
        t = out.get((name, "tern"))
        dv = out.get((name, "dovecot"))
        if not t or not dv:
            continue
        ts = sorted(x[0] for x in t)[len(t) // 2]
        ds = sorted(x[0] for x in dv)[len(dv) // 2]
        tc = sorted(x[1] for x in t)[len(t) // 2]
        dc = sorted(x[1] for x in dv)[len(dv) // 2]
        print("  %-17s tern %7.3f s %7.3f CPU s | dovecot %7.3f s %7.3f CPU s | time %.2fx "
              "CPU %.2fx" % (name, ts, tc, ds, dc, ts / ds, tc / dc if dc else 0))
