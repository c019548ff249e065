#!/usr/bin/env python3
"""The mailbox store against Dovecot on a big folder (issue 15's target:
SELECT + UID FETCH 1:* (FLAGS) on 100,000 messages, warm index <= 0.5x
Dovecot's time; first access without index <= 1.0x).

Makes one Maildir of MSTORE_BENCH_N (default 100000) small messages with
mixed flags and keywords (files only: no dovecot-uidlist, no index, as a
Maildir copied from elsewhere), copies it twice, then times:
  - Dovecot 2.3 (a private instance on loopback): LOGIN, SELECT INBOX,
    UID FETCH 1:* (FLAGS) over a raw socket, first without any index,
    then warm (RUNS times);
  - tern's store (tests/bench/mstore_bench.c, built here against
    build/libtern.a): mstore_open, mstore_view_open, and one formatted
    FETCH line per message, first without any index, then warm.
tern's figures have no network and no IMAP parsing (the IMAP server is
another lane's): they are the store's share of the same command.

Run as root (Dovecot needs a mail user): python3 tests/bench/mstore_bench.py
"""
import os
import pwd
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from local_util import Dovecot, Users  # noqa: E402

BUILD = os.environ.get("TERN_BUILD", os.path.join(ROOT, "build"))
N = int(os.environ.get("MSTORE_BENCH_N", "100000"))
RUNS = int(os.environ.get("MSTORE_BENCH_RUNS", "3"))


def make_maildir(path, n, uid, gid):
    rng = random.Random(1)
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, d))
    with open(os.path.join(path, "dovecot-keywords"), "w") as f:
        f.write("0 $Label1\n1 Work\n")
    body = b"From: a@example.org\nTo: b@example.org\nSubject: bench %d\n\n" + b"x" * 300 + b"\n"
    t0 = 1700000000
    for i in range(n):
        data = body % i
        size, vsize = len(data), len(data) + data.count(b"\n")
        flags = "".join(c for c, p in (("F", 0.05), ("R", 0.1), ("S", 0.8)) if rng.random() < p)
        if rng.random() < 0.05:
            flags += "a"
        name = "%d.M%dP1.bench,S=%d,W=%d:2,%s" % (t0 + i, i, size, vsize, flags)
        with open(os.path.join(path, "cur", name), "wb") as f:
            f.write(data)
    subprocess.run(["chown", "-R", "%d:%d" % (uid, gid), path], check=True)


def imap_select_fetch(port, user, password):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    f.readline()
    t0 = time.monotonic()

    def cmd(tag, text):
        s.sendall(b"%s %s\r\n" % (tag, text))
        lines = 0
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line.startswith(tag + b" "):
                if not line.startswith(tag + b" OK"):
                    raise RuntimeError(line)
                return lines
            lines += 1
    cmd(b"a", b"LOGIN %s %s" % (user.encode(), password.encode()))
    t1 = time.monotonic()
    cmd(b"b", b"SELECT INBOX")
    n = cmd(b"c", b"UID FETCH 1:* (FLAGS)")
    t2 = time.monotonic()
    cmd(b"d", b"LOGOUT")
    s.close()
    return t2 - t1, n, t1 - t0


def main():
    if os.geteuid() != 0:
        sys.exit("run as root (Dovecot needs a mail user)")
    exe = os.path.join(BUILD, "bench", "mstore_bench")
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-I", os.path.join(ROOT, "lib"),
                    "-o", exe, os.path.join(HERE, "mstore_bench.c"),
                    os.path.join(BUILD, "libtern.a"), "-lbsd"], check=True)
    users = Users()
    tmp = tempfile.mkdtemp(prefix="mstore-bench-", dir=os.environ.get("BENCH_TMPDIR", "/var/tmp"))
    os.chmod(tmp, 0o755)
    try:
        user = users.add()
        pw = pwd.getpwnam(user)
        src = os.path.join(tmp, "src")
        t = time.monotonic()
        make_maildir(src, N, pw.pw_uid, pw.pw_gid)
        print("made %d messages in %.1fs" % (N, time.monotonic() - t), flush=True)
        dmd, tmd = os.path.join(tmp, "dovecot"), os.path.join(tmp, "tern")
        shutil.copytree(src, dmd, symlinks=True)
        shutil.copytree(src, tmd, symlinks=True)
        subprocess.run(["chown", "-R", "%d:%d" % (pw.pw_uid, pw.pw_gid), dmd, tmd], check=True)
        subprocess.run(["sync"])
        d = Dovecot(user, maildir=dmd)
        try:
            dov = [imap_select_fetch(d.port, user, d.password) for _ in range(1 + RUNS)]
        finally:
            d.stop()
        for i, (secs, n, _) in enumerate(dov):
            print("dovecot run=%d %s lines=%d select_fetch_s=%.4f" %
                  (i, "cold" if i == 0 else "warm", n, secs), flush=True)
        r = subprocess.run(["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                            "--clear-groups", exe, tmd, str(1 + RUNS)],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            sys.exit("mstore_bench: %s" % r.stderr)
        tern = []
        for line in r.stdout.splitlines():
            kv = dict(x.split("=") for x in line.split())
            tern.append(float(kv["total_s"]))
            print("tern run=%s %s %s" % (kv["run"], "cold" if kv["run"] == "0" else "warm", line),
                  flush=True)
        dw = min(x[0] for x in dov[1:])
        tw = min(tern[1:])
        print("cold (no index): tern %.3fs, dovecot %.3fs: %.2fx" % (tern[0], dov[0][0],
                                                                   tern[0] / dov[0][0]))
        print("warm:            tern %.3fs, dovecot %.3fs: %.2fx" % (tw, dw, tw / dw))
    finally:
        users.remove_all()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
