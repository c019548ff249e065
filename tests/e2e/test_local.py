"""Local delivery to system users: the spool mbox (read back with
bsd-mailx), home Maildir (read back with Dovecot over IMAP), extensions,
case folding, unknown users, locking, concurrency, full disks."""
import os
import re
import shutil
import smtplib
import stat
import subprocess
import threading
import time
import unittest

from local_util import (SECONDS, Dovecot, LocalInstance, Users, home, mailx_headers,
                        mbox_messages, need_root, uid, wait_mbox)
from tern_instance import TERN, wait_until


class SpoolMboxTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.users = Users()
        cls.alice = cls.users.add()
        cls.bob = cls.users.add()
        cls.inst = LocalInstance()
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.users.remove_all()

    def test_mbox_read_by_mailx_with_from_escaping(self):
        u = self.alice
        box = self.inst.spool_mbox(u)
        self.inst.send(u + "@localhost", subject="first one", sender="one@example.org")
        self.inst.send(u + "@localhost", subject="second one", sender="two@example.org",
                       body="From the start of a line\nnot From here\n\nFrom again\n")
        msgs = wait_mbox(box, 2)
        st = os.stat(box)
        self.assertEqual(st.st_uid, uid(u))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        lines = mailx_headers(box)
        self.assertEqual(len(lines), 2, lines)
        self.assertIn("one@example.org", lines[0])
        self.assertIn("first one", lines[0])
        self.assertIn("two@example.org", lines[1])
        self.assertIn("second one", lines[1])
        with open(box, "rb") as f:
            raw = f.read()
        self.assertTrue(raw.startswith(b"From one@example.org "), raw[:80])
        self.assertIn(b"\n>From the start of a line\nnot From here\n\n>From again\n\n", raw)
        self.assertTrue(raw.endswith(b"\n\n"))
        self.assertEqual(msgs[1]["Delivered-To"], u + "@localhost")
        # local drops its dotlock right after the bytes are in: the mbox can
        # be read a moment before that; a lock that stays is the failure.
        wait_until(lambda: not os.path.exists(box + ".lock"), 30,
                   what="the dotlock of %s removed" % box)

    def test_log_line_has_delays_dsn_and_orig_to(self):
        """The Postfix-shaped line: delays a/b/c/d add up to delay, c is 0
        (no connection), and an ORCPT naming another address is orig_to.
        bob: alice's mailbox is counted exactly by the mailx test."""
        u = self.bob
        box = self.inst.spool_mbox(u)
        before = len(mbox_messages(box))
        rcpt = u + "@localhost"
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.ehlo()
            self.assertTrue(c.has_extn("dsn"))
            c.sendmail("orcpt@example.org", [rcpt], b"Subject: orcpt\r\n\r\nhi\r\n",
                       rcpt_options=["ORCPT=rfc822;list+2Bx@example.org"])
        wait_mbox(box, before + 1)
        pat = re.compile(r"to=<%s>, orig_to=<list\+x@example\.org>, relay=local, "
                         r"delay=(%s), delays=(%s)/(%s)/(%s)/(%s), dsn=2\.0\.0, status=sent "
                         % ((re.escape(rcpt),) + (SECONDS,) * 5))
        m = wait_until(lambda: pat.search(self.inst.log()), 30,
                       what="log line with orig_to\n" + self.inst.log()[-3000:])
        delay, a, b, c, d = (float(x) for x in m.groups())
        self.assertEqual(c, 0.0, m.group(0))
        self.assertAlmostEqual(a + b + c + d, delay, delta=0.25, msg=m.group(0))

    def test_extension_and_case_folding(self):
        u = self.bob
        box = self.inst.spool_mbox(u)
        before = len(mbox_messages(box))
        refused = self.inst.send([u + "+tag@localhost", u.upper() + "@localhost"],
                                 subject="ext")
        self.assertEqual(refused, {})
        msgs = wait_mbox(box, before + 2)
        got = sorted(m["Delivered-To"] for m in msgs[before:])
        self.assertEqual(got, sorted([u + "+tag@localhost", u.upper() + "@localhost"]))

    def test_unknown_user_rejected_at_rcpt(self):
        import smtplib
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=10) as c:
            c.ehlo("client.example.org")
            c.mail("sender@example.org")
            code, msg = c.rcpt("ttnosuchuser@localhost")
            self.assertEqual(code, 550, msg)
            self.assertIn(b"5.1.1", msg)
            self.assertIn(b"User unknown in local recipient table", msg)
            code, msg = c.rcpt(self.alice + "+x@localhost")
            self.assertEqual(code, 250, msg)

    def test_concurrent_deliveries_do_not_interleave(self):
        u = self.users.add()
        box = self.inst.spool_mbox(u)
        n = 12
        body = "".join("line %03d of a longer body so writes take a while\n" % i
                       for i in range(2000))

        def send(i):
            self.inst.send(u + "@localhost", subject="concurrent %d" % i,
                           body="marker %d\n%s" % (i, body))

        threads = [threading.Thread(target=send, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        msgs = wait_mbox(box, n, timeout=60)
        self.assertEqual(len(msgs), n)
        subjects = sorted(m["Subject"] for m in msgs)
        self.assertEqual(subjects, sorted("concurrent %d" % i for i in range(n)))
        for m in msgs:
            i = int(m["Subject"].split()[1])
            self.assertEqual(m.get_payload(), "marker %d\n%s" % (i, body))
        self.assertEqual(len(mailx_headers(box)), n)

    def test_dot_lock_is_honoured_and_stale_locks_broken(self):
        u = self.users.add()
        box = self.inst.spool_mbox(u)
        lock = box + ".lock"
        with open(lock, "w"):
            pass
        self.inst.send(u + "@localhost", subject="waits for the lock")
        time.sleep(3)
        self.assertEqual(mbox_messages(box), [])
        os.unlink(lock)
        wait_mbox(box, 1)
        # local takes its own dot-lock for that delivery and removes it just
        # after the mbox has the message: wait for that before planting ours.
        wait_until(lambda: not os.path.exists(lock), 10, what="local's own lock removed")
        # A lock older than stale_lock_time (500s) is removed.
        with open(lock, "w"):
            pass
        old = time.time() - 1000
        os.utime(lock, (old, old))
        self.inst.send(u + "@localhost", subject="stale lock")
        wait_mbox(box, 2)
        self.assertIn("removed stale lock file " + lock, self.inst.log())


class VanishedUserTest(unittest.TestCase):
    """A user accepted at RCPT who is gone when delivery is retried is
    bounced as unknown (5.1.1)."""

    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.users = Users()
        cls.inst = LocalInstance({"deliver_lock_attempts": "1", "minimal_backoff_time": "1s",
                                  "maximal_backoff_time": "2s", "queue_run_delay": "1s"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.users.remove_all()

    def test_vanished_user_bounces(self):
        u = self.users.add()
        rcpt = u + "@localhost"
        box = self.inst.spool_mbox(u)
        with open(box + ".lock", "w"):
            pass
        self.inst.send(rcpt, subject="vanishing")
        st = self.inst.wait_status(rcpt, 1)
        self.assertEqual(st[0][0], "deferred", st)
        h = home(u)
        subprocess.run(["userdel", u], check=True)
        self.users.names.remove(u)
        shutil.rmtree(h, ignore_errors=True)
        os.unlink(box + ".lock")
        st = self.inst.wait_status(rcpt, 2, timeout=60)
        self.assertEqual(st[1][0], "bounced", st)
        self.assertIn('unknown user: "%s"' % u, st[1][1])
        self.assertRegex(self.inst.log(), r"to=<%s>.*dsn=5\.1\.1, status=bounced" % rcpt)


class HomeMaildirTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.users = Users()
        cls.inst = LocalInstance({"home_mailbox": "Maildir/"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.users.remove_all()

    def test_maildir_read_by_dovecot(self):
        u = self.users.add()
        for i in range(3):
            self.inst.send(u + "+box@localhost", subject="maildir %d" % i)
        md = os.path.join(home(u), "Maildir")
        wait_until(lambda: os.path.isdir(os.path.join(md, "new")) and
                   len(os.listdir(os.path.join(md, "new"))) == 3, 30,
                   what="3 messages in " + md + "\n" + self.inst.log()[-2000:])
        for d in ("", "new", "cur", "tmp"):
            self.assertEqual(os.stat(os.path.join(md, d)).st_uid, uid(u), d)
        for n in os.listdir(os.path.join(md, "new")):
            self.assertEqual(os.stat(os.path.join(md, "new", n)).st_uid, uid(u))
        # once a tern reader made the index, deliveries get their UIDs
        # (and every file of the store is the user's)
        r = subprocess.run([TERN, "mailbox", "status", md, "INBOX"], capture_output=True,
                           text=True, timeout=60)
        self.assertIn("messages=3 ", r.stdout, r.stderr)
        self.inst.send(u + "@localhost", subject="maildir 3")
        wait_until(lambda: len(os.listdir(os.path.join(md, "new"))) +
                   len(os.listdir(os.path.join(md, "cur"))) == 4, 30, what="4 messages")
        with open(os.path.join(md, "dovecot-uidlist")) as f:
            self.assertEqual(len(f.read().splitlines()), 5)   # header + 4 UIDs
        for n in os.listdir(md):
            self.assertEqual(os.stat(os.path.join(md, n)).st_uid, uid(u), n)
        dv = Dovecot(u)
        try:
            self.assertEqual(sorted(dv.subjects()),
                             ["maildir 0", "maildir 1", "maildir 2", "maildir 3"])
        finally:
            dv.stop()


SCRIPT = """#!/bin/sh
# mailbox_command for the tests: records its environment and input, then
# exits with the code found in $HOME/exitcode.
code=$(cat "$HOME/exitcode" 2>/dev/null || echo 0)
n=$(ls "$HOME" | grep -c '^got\\.')
env > "$HOME/env.$n"
id >> "$HOME/env.$n"
cat > "$HOME/got.$n"
echo "script says code $code"
exit "$code"
"""


class MailboxCommandTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.users = Users()
        cls.script = "/tmp/tern-local-mbcmd-%d.sh" % os.getpid()
        with open(cls.script, "w") as f:
            f.write(SCRIPT)
        os.chmod(cls.script, 0o755)
        cls.inst = LocalInstance({"mailbox_command": cls.script})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.users.remove_all()
        os.unlink(cls.script)

    def set_code(self, u, code):
        p = os.path.join(home(u), "exitcode")
        with open(p, "w") as f:
            f.write("%d\n" % code)

    def test_command_runs_as_user_with_environment(self):
        u = self.users.add()
        self.inst.send(u + "+ext@localhost", subject="to command", sender="s@example.org")
        st = self.inst.wait_status(u + "+ext@localhost")
        self.assertEqual(st[0][0], "sent", st)
        h = home(u)
        with open(os.path.join(h, "env.0")) as f:
            env = f.read()
        with open(os.path.join(h, "got.0"), "rb") as f:
            got = f.read()
        self.assertEqual(os.stat(os.path.join(h, "got.0")).st_uid, uid(u))
        for line in ("USER=" + u, "LOGNAME=" + u, "HOME=" + h, "EXTENSION=ext",
                     "RECIPIENT=%s+ext@localhost" % u, "SENDER=s@example.org",
                     "DOMAIN=localhost", "LOCAL=%s+ext" % u, "SHELL=/bin/sh"):
            self.assertIn(line + "\n", env)
        self.assertIn("uid=%d(%s)" % (uid(u), u), env)
        self.assertTrue(got.startswith(b"From s@example.org "), got[:60])
        self.assertIn(b"\nSubject: to command\n", got)

    def test_exit_75_defers_and_67_bounces(self):
        u = self.users.add()
        self.set_code(u, 75)
        self.inst.send(u + "@localhost", subject="tempfail")
        st = self.inst.wait_status(u + "@localhost")
        self.assertEqual(st[0][0], "deferred", st)
        self.assertIn("script says code 75", st[0][1])
        v = self.users.add()
        self.set_code(v, 67)
        self.inst.send(v + "@localhost", subject="nouser")
        st = self.inst.wait_status(v + "@localhost")
        self.assertEqual(st[0][0], "bounced", st)
        self.assertIn("script says code 67", st[0][1])
        self.assertRegex(self.inst.log(), r"to=<%s@localhost>.*dsn=5\.1\.1, status=bounced" % v)


class FullDiskTest(unittest.TestCase):
    """The spool on a 64 KiB tmpfs: a message that does not fit defers and
    leaves the mbox exactly as it was."""

    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.mnt = "/tmp/tern-local-full-%d" % os.getpid()
        os.makedirs(cls.mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=2775", "tmpfs",
                            cls.mnt], capture_output=True, text=True)
        if r.returncode != 0:
            os.rmdir(cls.mnt)
            raise unittest.SkipTest("cannot mount a tmpfs here: " + r.stderr)
        cls.users = Users()
        cls.inst = LocalInstance({"mailbox_size_limit": "0"}, spool=cls.mnt)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.users.remove_all()
        subprocess.run(["umount", cls.mnt])
        os.rmdir(cls.mnt)

    def test_full_disk_defers_without_corruption(self):
        u = self.users.add()
        box = self.inst.spool_mbox(u)
        self.inst.send(u + "@localhost", subject="fits", body="small\n" * 1000)
        wait_mbox(box, 1)
        with open(box, "rb") as f:
            before = f.read()
        self.inst.send(u + "@localhost", subject="too big", body="x" * 70 + "\n" * 1 +
                       ("y" * 76 + "\n") * 1200)
        st = self.inst.wait_status(u + "@localhost", 2)
        self.assertEqual(st[1][0], "deferred", st)
        # The file system's trouble (RFC 3463 X.3.1), not the mailbox's.
        self.assertIn("insufficient system storage", st[1][1])
        self.assertNotIn("mailbox full", st[1][1])
        self.assertRegex(self.inst.log(), r"to=<%s@localhost>.*dsn=4\.3\.1, status=deferred" % u)
        with open(box, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertFalse(os.path.exists(box + ".lock"))
        self.assertEqual(len(mailx_headers(box)), 1)


if __name__ == "__main__":
    unittest.main()
