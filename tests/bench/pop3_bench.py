"""The POP3 phase of make bench (BENCH_ONLY=POP3, issue 16): POP3
sessions per second of tern's pop3 against Debian's Dovecot 2.3 pop3d
(a private instance on loopback) over the same Maildirs, alternately, in
the same run (mailsrv.MailPair: same users, same Maildirs, neither side
hashing a password per login).

The mailboxes: USERS accounts, each an INBOX of NMSG messages of mixed
sizes (1-24 KiB, a tenth multipart).  One account per client process, as
a POP3 mailbox is one session at a time (tern answers a second one
"-ERR [IN-USE]"; Dovecot would let it in).

A session, issue 16's loop: connect, USER, PASS, STAT, UIDL, RETR of
every message (RETR = NMSG), QUIT, and wait for the server to close.  Nothing is deleted,
so every session sees the same mailbox.  USERS client processes each run
sessions back to back for SECS seconds; the rate is the sessions
completed over the time until the last one ended, and the CPU is that of
all the server's processes (its cgroup) per session.  Each server gets
one session per account first (tern's auth then holds the logins in its
cache; the servers build their indexes) and the UIDL answers of both are
compared (they must be equal: issue 16's Dovecot-compatible UIDLs).
The clients run on the same cores as the servers: both pay for them.
"""
import multiprocessing
import os
import random
import time

from mailsrv import Client, MailPair, make_messages

PW = "a-bench-password"
USERS = 8
NMSG = 20
RETR = NMSG                           # RETR all, as issue 16 says
SECS = 5.0
REPS = 3


def pop3_session(port, user):
    """One session; the UIDL listing."""
    c = Client(port)
    try:
        c.pop3(b"USER " + user.encode())
        c.pop3(b"PASS " + PW.encode())
        c.pop3(b"STAT")
        uidl = c.pop3(b"UIDL", multi=True)
        for i in range(1, RETR + 1):
            c.pop3(b"RETR %d" % i, multi=True)
        c.pop3(b"QUIT")
        c.wait_closed()
    finally:
        c.close()
    return uidl


def _client(port, user, start, end, q):
    n = fails = 0
    err = ""
    while time.time() < start:
        time.sleep(0.001)
    while time.time() < end:
        try:
            pop3_session(port, user)
            n += 1
        except (RuntimeError, OSError, EOFError) as e:
            fails += 1
            err = str(e)[:200]
    q.put((n, fails, err, time.time()))


def pop3_rate(port, users):
    """(sessions/s, failed sessions, a failure's text) of len(users) clients."""
    q = multiprocessing.Queue()
    start = time.time() + 0.5
    ps = [multiprocessing.Process(target=_client, args=(port, u, start, start + SECS, q))
          for u in users]
    for p in ps:
        p.start()
    got = [q.get() for _ in ps]
    for p in ps:
        p.join()
    took = max(g[3] for g in got) - start
    return (sum(g[0] for g in got) / took, sum(g[1] for g in got),
            [g[2] for g in got if g[2]][:1])


def pop3_phase(tern_bin, tmp, group_cls, raw, run, free_port, wait_until, port_open):
    """Runs the phase; returns a dict for the summary (or None on failure)."""
    users = ["pop%d@bench.test" % i for i in range(USERS)]
    pair = MailPair("pop3", tern_bin, tmp, group_cls, raw, run, free_port, users, PW)
    out = {}
    try:
        if not pair.prepare():
            return None
        uid, gid = pair.owner
        for i, u in enumerate(users):
            make_messages(os.path.join(pair.maildir(u), "cur"), NMSG, uid, gid,
                          random.Random(100 + i), u)
        if not pair.start(wait_until, port_open):
            return None
        # Warm-up (tern first: its dovecot-uidlist gives the UIDs Dovecot
        # reads), and the UIDLs compared.
        uidls = {}
        for p in ("tern", "dovecot"):
            for u in users:
                uidls[(p, u)] = pop3_session(pair.pport[p], u)
        for u in users:
            if uidls[("tern", u)] != uidls[("dovecot", u)]:
                raw("pop3 user=%s DIFFERENT UIDL tern=%r dovecot=%r" % (
                    u, uidls[("tern", u)][:120], uidls[("dovecot", u)][:120]))
                out["uidl_differs"] = True
        for rep in range(REPS):
            for p in ("tern", "dovecot"):
                g = pair.groups[p]
                cpu0 = g.cpu_seconds()
                rate, fails, err = pop3_rate(pair.pport[p], users)
                cpu = g.cpu_seconds() - cpu0
                cpu_ms = cpu * 1000 / max(1, rate * SECS)
                out.setdefault(p, []).append((rate, cpu_ms, fails))
                raw("pop3 server=%s rep=%d clients=%d sessions_per_s=%.1f failed=%d "
                    "cpu_ms_per_session=%.2f loadavg=%s%s" % (
                        p, rep, USERS, rate, fails, cpu_ms,
                        " ".join("%.2f" % x for x in os.getloadavg()),
                        " error=%r" % err[0] if err else ""))
    finally:
        pair.stop()
    return out


def summarize_pop3(out):
    if not out:
        return
    if "tern" not in out or "dovecot" not in out:
        print("POP3: FAILED (see the raw lines)")
        return
    print("POP3 sessions (USER, PASS, STAT, UIDL, RETR x%d, QUIT; %d clients, %d messages "
          "each; median of %d runs; tern against Dovecot 2.3 pop3d on the same Maildirs):"
          % (RETR, USERS, NMSG, REPS))
    med = {}
    for p in ("tern", "dovecot"):
        runs = out[p]
        rate = sorted(r[0] for r in runs)[len(runs) // 2]
        cpu = sorted(r[1] for r in runs)[len(runs) // 2]
        med[p] = (rate, cpu)
        print("  %-8s %8.1f sessions/s %6.2f CPU ms/session, %d failed" % (
            p, rate, cpu, sum(r[2] for r in runs)))
    print("  tern/Dovecot: %.2fx sessions/s (target >= 2.0x), %.2fx CPU per session "
          "(target <= 0.5x)%s" % (med["tern"][0] / med["dovecot"][0],
                                  med["tern"][1] / med["dovecot"][1] if med["dovecot"][1] else 0,
                                  "; UIDLs DIFFER" if out.get("uidl_differs") else ""))
