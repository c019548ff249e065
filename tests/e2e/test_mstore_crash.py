"""Crash safety of the mailbox store (DESIGN.md invariants 3 and 5):
loops of appends, flag changes and expunges (tern mailbox) and of
deliveries (local, through smtpd) while processes are killed with
SIGKILL at random moments.  Afterwards every acknowledged change is there
(appends with their UIDs and bytes, flags, expunges), UIDs are unique,
the index agrees with a rebuild from the Maildir, and Dovecot reads the
same UIDs and flags."""
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import threading
import time
import unittest

from local_util import Dovecot, Users, need_root
from tern_instance import TERN, Instance, wait_until
from test_mstore_dovecot import imap_messages, tern_mailbox, tern_messages

WORKERS = 3
ROUNDS = 40


def fetch_all(maildir, folder="INBOX"):
    """[(uid, flags, keywords)] lines of tern mailbox fetch, as tuples."""
    out = []
    for line in tern_mailbox("fetch", maildir, folder).splitlines():
        kv = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        flags = frozenset(f for f in kv["flags"].split(",") if f and f != "\\Recent")
        out.append((int(kv["uid"]), flags, kv["keywords"]))
    return out


class StoreCrashTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.users = Users()
        cls.user = cls.users.add()

    @classmethod
    def tearDownClass(cls):
        cls.users.remove_all()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tern-mcrash-")
        os.chmod(self.tmp, 0o755)
        self.maildir = os.path.join(self.tmp, "Maildir")
        os.makedirs(self.maildir)
        shutil.chown(self.maildir, self.user, self.user)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_kill_9_during_append_store_expunge(self):
        rng = random.Random(int(os.environ.get("TERN_SEED", time.time())))
        lock = threading.Lock()
        running = {}               # pid -> Popen, the tern commands alive now
        acked = {}                 # uid -> tag of acknowledged appends
        flags_acked = {}           # uid -> flags of the last acknowledged change
        maybe_flags = {}           # uid -> flags of every later change that was killed
        expunged, maybe_expunged = set(), set()
        kills = [0]
        finished = [0]             # tern commands that ended, killed or not
        done = threading.Event()

        def run(args, stdin=None):
            p = subprocess.Popen([TERN, "mailbox"] + args, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with lock:
                running[p.pid] = p
            out, _ = p.communicate(stdin, timeout=60)
            with lock:
                running.pop(p.pid, None)
                finished[0] += 1
            return p.returncode, out.decode()

        def worker(n):
            mine = []
            for i in range(ROUNDS):
                op = rng.random()
                if op < 0.5 or not mine:
                    tag = "w%d-%d-%06d" % (n, i, rng.randrange(10 ** 6))
                    rc, out = run(["append", self.maildir, "INBOX"],
                                  ("Subject: %s\n\n%s\n" % (tag, tag * 20)).encode())
                    m = re.search(r"uid=(\d+)", out)
                    if rc == 0 and m:
                        with lock:
                            acked[int(m.group(1))] = tag
                        mine.append(int(m.group(1)))
                elif op < 0.85:
                    uid = rng.choice(mine)
                    want = rng.choice(["\\Seen", "\\Seen \\Flagged", "\\Answered", ""])
                    rc, _ = run(["flags", self.maildir, "INBOX", str(uid), "=" + want])
                    target = frozenset(want.split())
                    with lock:
                        if rc == 0:
                            flags_acked[uid] = target
                            maybe_flags.pop(uid, None)
                        else:
                            # A killed change may or may not have reached
                            # the disk; any of them since the last
                            # acknowledged one may be what is there now.
                            maybe_flags.setdefault(uid, set()).add(target)
                else:
                    uid = mine.pop(rng.randrange(len(mine)))
                    rc, _ = run(["expunge", self.maildir, "INBOX", str(uid)])
                    with lock:
                        (expunged if rc == 0 else maybe_expunged).add(uid)

        def killer():
            # One kill per three commands that ended, at a random moment of
            # one: a slow machine (ASan, load) gets as many kills and as
            # many acknowledged changes as a fast one.
            last = 0
            while not done.is_set():
                time.sleep(rng.uniform(0.005, 0.04))
                with lock:
                    if finished[0] < last + 3:
                        continue
                    pids = list(running)
                    if pids:
                        last = finished[0]
                if pids:
                    try:
                        os.kill(rng.choice(pids), signal.SIGKILL)
                        kills[0] += 1
                    except OSError:
                        pass

        k = threading.Thread(target=killer)
        k.start()
        ws = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
        for w in ws:
            w.start()
        for w in ws:
            w.join(300)
        done.set()
        k.join(10)
        print("\n    kills: %d; appends acknowledged: %d, expunges %d" %
              (kills[0], len(acked), len(expunged)))
        self.assertGreater(kills[0], 5, "the killer did not kill enough")
        self.assertGreater(len(acked), 10)

        have = {uid: (fl, kw) for uid, fl, kw in fetch_all(self.maildir)}
        for uid, tag in acked.items():
            if uid in expunged:
                self.assertNotIn(uid, have, "acknowledged expunge of %d lost" % uid)
                continue
            if uid in maybe_expunged and uid not in have:
                continue
            self.assertIn(uid, have, "acknowledged append %d (%s) lost" % (uid, tag))
            body = subprocess.run([TERN, "mailbox", "fetch", "-b", self.maildir, "INBOX",
                                   str(uid)], capture_output=True, timeout=60).stdout
            self.assertIn(tag.encode(), body, "UID %d holds another message" % uid)
            if uid in flags_acked:
                ok = {flags_acked[uid]}
                ok |= maybe_flags.get(uid, set())
                self.assertIn(have[uid][0], ok, "flags of %d" % uid)
        # The index repaired itself: a rebuild from the Maildir agrees.
        before = fetch_all(self.maildir)
        tern_mailbox("rebuild", self.maildir, "INBOX")
        after = fetch_all(self.maildir)
        self.assertEqual([(u, f, k) for u, f, k in before], [(u, f, k) for u, f, k in after])
        uids = [u for u, _, _ in after]
        self.assertEqual(uids, sorted(set(uids)))
        # and Dovecot reads the same UIDs and flags
        d = Dovecot(self.user, maildir=self.maildir)
        try:
            c = d.connect()
            dov, _, _ = imap_messages(c, "INBOX")
            c.logout()
        finally:
            d.stop()
        self.assertEqual(tern_messages(self.maildir, "INBOX"), dov)


class DeliveryCrashTest(unittest.TestCase):
    def test_kill_9_of_local_keeps_uids_and_index(self):
        """Deliveries through smtpd while local is killed: every accepted
        message arrives (at least once), each file has one UID, and the
        index agrees with a rebuild."""
        user = "crash@example.com"
        inst = Instance(mailboxes=[user], main_cf={
            "queue_run_delay": "1s", "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s"})
        rng = random.Random(int(os.environ.get("TERN_SEED", time.time())))
        accepted, done, kills = set(), threading.Event(), [0]
        try:
            inst.start()
            # a tern reader opened the mailbox: deliveries give UIDs now
            with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
                c.sendmail("s@example.org", [user], b"Subject: first\r\n\r\nx\r\n")
            md = inst.maildir(user)
            wait_until(lambda: os.path.isdir(os.path.join(md, "new")) and
                       os.listdir(os.path.join(md, "new")), 30, what="the first message")
            tern_mailbox("status", md, "INBOX")

            def killer():
                while not done.is_set():
                    time.sleep(rng.uniform(0.01, 0.1))
                    pids = inst.pids_of("local")
                    if pids:
                        try:
                            os.kill(rng.choice(pids), signal.SIGKILL)
                            kills[0] += 1
                        except OSError:
                            pass

            k = threading.Thread(target=killer)
            k.start()
            for i in range(120):
                tag = "dc-%03d" % i
                try:
                    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
                        c.sendmail("s@example.org", [user],
                                   ("Subject: %s\r\n\r\n%s\r\n" % (tag, tag)).encode())
                    accepted.add(tag)
                except (smtplib.SMTPException, OSError):
                    pass
            done.set()
            k.join(10)

            def tags():
                found = set()
                for d in ("new", "cur"):
                    for n in os.listdir(os.path.join(md, d)):
                        with open(os.path.join(md, d, n), "rb") as f:
                            m = re.search(rb"Subject: (dc-\d+)", f.read())
                            if m:
                                found.add(m.group(1).decode())
                return found
            wait_until(lambda: accepted <= tags(), 90,
                       what="every accepted message delivered; missing %s" %
                       sorted(accepted - tags())[:10])
            wait_until(lambda: inst.queue_files() == [], 60, what="an empty queue")
            print("\n    local kills: %d; accepted %d" % (kills[0], len(accepted)))
            files = sum(len(os.listdir(os.path.join(md, d))) for d in ("new", "cur"))
            with open(os.path.join(md, "dovecot-uidlist")) as f:
                given = len(f.read().splitlines()) - 1
            self.assertGreaterEqual(given, len(accepted))   # at delivery, not by a reader
            st = dict(f.split("=", 1) for f in tern_mailbox("status", md, "INBOX").split())
            self.assertEqual(int(st["messages"]), files)
            before = fetch_all(md)
            uids = [u for u, _, _ in before]
            self.assertEqual(len(uids), files)
            self.assertEqual(uids, sorted(set(uids)))
            tern_mailbox("rebuild", md, "INBOX")
            self.assertEqual(before, fetch_all(md))
        finally:
            done.set()
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
