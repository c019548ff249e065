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
import time

from mailsrv import Client, MailPair, make_messages

USER, PW = "reader@bench.test", "a-bench-password"
NMSG = 10000
NBIG = 100000
RETR = 2000
REPS = 3
NEEDLE = "zanzibarquux"


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


def imap_phase(tern_bin, tmp, group_cls, raw, run, free_port, wait_until, port_open, scale):
    """Runs the phase; returns a dict for the summary (or None on failure)."""
    n = max(500, int(NMSG * scale))
    nretr = max(100, int(RETR * scale))
    pair = MailPair("imap", tern_bin, tmp, group_cls, raw, run, free_port, [USER], PW)
    out = {}
    try:
        if not pair.prepare():
            return None
        md = pair.maildir(USER)
        uid, gid = pair.owner
        t0 = time.monotonic()
        make_messages(os.path.join(md, "cur"), n, uid, gid, random.Random(42), USER,
                      needle=NEEDLE)
        raw("imap maildir messages=%d made_in_s=%.1f" % (n, time.monotonic() - t0))
        nbig = max(5000, int(NBIG * scale))
        big = os.path.join(md, ".Big")
        for sub in ("", "cur", "new", "tmp"):
            os.makedirs(os.path.join(big, sub), exist_ok=True)
            os.chown(os.path.join(big, sub), uid, gid)
        open(os.path.join(big, "maildirfolder"), "w").close()
        os.chown(os.path.join(big, "maildirfolder"), uid, gid)
        t0 = time.monotonic()
        make_messages(os.path.join(big, "cur"), nbig, uid, gid, random.Random(7), USER,
                      sizes=(1,))
        raw("imap big folder messages=%d made_in_s=%.1f" % (nbig, time.monotonic() - t0))
        if not pair.start(wait_until, port_open):
            return None
        groups = pair.groups
        iport, pport = pair.iport, pair.pport
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
        pair.stop()
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
