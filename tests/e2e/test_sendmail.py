"""sendmail, postdrop and pickup end to end: every option checked in the
delivered message and its envelope, run as an ordinary user made for the
test; real mail programs (bsd-mailx, mutt); the daemons down; and the
trust boundary (the queue is closed to users, maildrop files are
checked)."""
import os
import re
import smtplib
import socket
import subprocess
import threading
import time
import unittest

from sendmail_util import (EX_DATAERR, EX_USAGE, SubmitInstance, TestUser, encode,
                           queue_file_envelope)
from tern_instance import wait_until

BOXES = ["alice@localhost", "bob@localhost", "carol@localhost", "dave@localhost"]


class SendmailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = TestUser()
        cls.inst = SubmitInstance(mailboxes=BOXES)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.user.remove()

    def sendmail(self, args, data, **kw):
        return self.user.run([self.inst.sendmail, "-C", self.inst.dir] + args, input=data, **kw)

    def deliver(self, args, data, addr):
        """Sends data with a unique X-Test: header first; the delivered copy."""
        token = b"X-Test: %d.%f\n" % (os.getpid(), time.time())
        r = self.sendmail(args, token + data)
        self.assertEqual(r.returncode, 0, r.stderr)
        return self.inst.wait_for(addr, token)

    def test_plain_recipient_and_added_headers(self):
        msg = self.deliver(["alice"], b"Subject: plain\n\nhello\n", "alice@localhost")
        self.assertTrue(msg.startswith(b"Return-Path: <%s@localhost>\n" % self.user.name.encode()))
        self.assertIn(b"(tern, from userid %d)" % self.user.uid, msg)
        self.assertRegex(msg, rb"\nFrom: %s@localhost\n" % self.user.name.encode())
        self.assertRegex(msg, rb"\nDate: \w{3}, \d+ \w{3} \d{4} ")
        self.assertRegex(msg, rb"\nMessage-ID: <[^>]+@[^>]+>\n")
        self.assertTrue(msg.endswith(b"\n\nhello\n"))
        self.assertRegex(self.inst.log(), r"uid=%d from=<%s>" % (self.user.uid, self.user.name))

    def test_existing_headers_are_kept(self):
        data = (b"From: Someone <someone@example.org>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n"
                b"Message-ID: <fixed@example.org>\nSubject: kept\n\nbody\n")
        msg = self.deliver(["bob"], data, "bob@localhost")
        self.assertEqual(msg.count(b"\nFrom:"), 1)
        self.assertEqual(msg.count(b"\nDate:"), 1)
        self.assertIn(b"\nMessage-ID: <fixed@example.org>\n", msg)

    def test_f_r_and_F(self):
        msg = self.deliver(["-f", "sender@example.org", "-F", "Jane Q. Doe", "carol"],
                           b"Subject: f\n\nx\n", "carol@localhost")
        self.assertTrue(msg.startswith(b"Return-Path: <sender@example.org>\n"))
        self.assertIn(b'\nFrom: "Jane Q. Doe" <sender@example.org>\n', msg)
        msg = self.deliver(["-r", "<other@example.org>", "carol"], b"Subject: r\n\nx\n",
                           "carol@localhost")
        self.assertTrue(msg.startswith(b"Return-Path: <other@example.org>\n"))
        msg = self.deliver(["-f", "<>", "carol"], b"Subject: null\n\nx\n", "carol@localhost")
        self.assertTrue(msg.startswith(b"Return-Path: <>\n"))

    def test_t_extracts_and_removes_bcc(self):
        data = (b"To: Alice <alice@localhost>, bob\nCc: (c) carol@localhost\n"
                b"Bcc: dave@localhost,\n nobody-else\nSubject: t\n\nbody Bcc: stays\n")
        r = self.sendmail(["-t", "-f", "t@example.org"], data)
        self.assertEqual(r.returncode, 0, r.stderr)
        for a in BOXES:
            msg = self.inst.wait_for(a, b"Subject: t\n")
            self.assertNotIn(b"\nBcc:", msg)
            self.assertNotIn(b"nobody-else", msg)
            self.assertIn(b"\nTo: Alice <alice@localhost>, bob\n", msg)
            self.assertIn(b"body Bcc: stays", msg)

    def test_t_adds_argument_recipients(self):
        r = self.sendmail(["-t", "dave"], b"To: alice\nSubject: t+args\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.inst.wait_for("alice@localhost", b"Subject: t+args\n")
        self.inst.wait_for("dave@localhost", b"Subject: t+args\n")

    def test_t_without_recipients(self):
        r = self.sendmail(["-t"], b"Subject: nobody\n\nx\n")
        self.assertEqual(r.returncode, EX_USAGE)
        self.assertIn(b"no recipient", r.stderr)

    def test_lone_dot_and_i(self):
        data = b"Subject: dots\n\nline\n.\nafter the dot\n"
        msg = self.deliver(["alice"], data, "alice@localhost")
        self.assertTrue(msg.endswith(b"\nline\n"), msg)
        for opt in ("-i", "-oi"):
            msg = self.deliver([opt, "alice"], data, "alice@localhost")
            self.assertTrue(msg.endswith(b"\nline\n.\nafter the dot\n"), msg)
        msg = self.deliver(["alice"], b"Subject: crlf\r\n\r\nx\r\n.\r\nno\r\n", "alice@localhost")
        self.assertTrue(msg.endswith(b"\n\nx\n"), msg)
        msg = self.deliver(["alice"], b"Subject: nolf\n\nlast", "alice@localhost")
        self.assertTrue(msg.endswith(b"\n\nlast\n"), msg)

    def test_dsn_options_reach_the_queue_file(self):
        # A remote recipient stays in the queue: its file shows the envelope.
        r = self.sendmail(["-N", "success,delay", "-R", "hdrs", "-V", "env-42", "-B", "8BITMIME",
                           "-oem", "-odb", "-oeq", "-om", "-odi", "-oep", "-v", "-U",
                           "far@remote.invalid"], b"Subject: dsn\n\nx\n")
        self.assertEqual(r.returncode, 0, r.stderr)

        def find():
            for p in self.inst.queue_files(("incoming", "active", "deferred")):
                try:
                    env = queue_file_envelope(p)
                except (OSError, AssertionError):
                    continue
                if env[1] and env[1][0].get("addr") == "far@remote.invalid":
                    return env
            return None
        sender, rcpts, attrs = wait_until(find, 20, what="queue file for far@remote.invalid")
        self.assertEqual(sender, "%s@localhost" % self.user.name)
        self.assertEqual(rcpts[0].get("notify"), "SUCCESS,DELAY")
        self.assertEqual(attrs.get("ret"), "HDRS")
        self.assertEqual(attrs.get("envid"), "env-42")
        self.assertEqual(attrs.get("uid"), str(self.user.uid))

    def test_bad_usage(self):
        for args in (["-Z", "alice"], [], ["-N", "sometimes", "alice"], ["-R", "x", "alice"],
                     ["-B", "9BIT", "alice"], ["-bz"]):
            r = self.sendmail(args, b"x\n")
            self.assertEqual(r.returncode, EX_USAGE, (args, r.stderr))

    def test_large_message_is_streamed(self):
        line = b"0123456789" * 99 + b"\n"
        body = line * 3000     # about 3 MB
        msg = self.deliver(["bob"], b"Subject: big\n\n" + body, "bob@localhost")
        self.assertTrue(msg.endswith(b"\n\n" + body))

    def test_bs_with_smtplib(self):
        ours, theirs = socket.socketpair()
        p = subprocess.Popen([self.inst.sendmail, "-C", self.inst.dir, "-bs"], stdin=theirs,
                             stdout=theirs, stderr=subprocess.PIPE, user=self.user.uid,
                             group=self.user.gid, extra_groups=[], env=self.user.env())
        theirs.close()
        try:
            s = smtplib.SMTP()
            s.sock = ours
            s.file = None
            code, banner = s.getreply()
            self.assertEqual(code, 220)
            code, _ = s.ehlo("localhost")
            self.assertEqual(code, 250)
            self.assertTrue(s.has_extn("dsn"))
            refused = s.sendmail("bs@example.org", ["dave@localhost"],
                                 b"Subject: via -bs\r\n\r\n.leading dot\r\nend\r\n",
                                 mail_options=["RET=FULL", "ENVID=a+2Bb"],
                                 rcpt_options=["NOTIFY=FAILURE"])
            self.assertEqual(refused, {})
            code, _ = s.docmd("RCPT", "TO:<x@localhost>")
            self.assertEqual(code, 503)
            s.quit()
        finally:
            ours.close()
            p.wait(timeout=30)
        msg = self.inst.wait_for("dave@localhost", b"Subject: via -bs")
        self.assertTrue(msg.startswith(b"Return-Path: <bs@example.org>\n"))
        self.assertTrue(msg.endswith(b"\n\n.leading dot\nend\n"), msg)

    def test_bs_parses_as_smtpd_does(self):
        """-bs uses smtpd's command and ESMTP parameter parsers (lib/smtp/):
        the same replies to the same mistakes, where it once let them by."""
        script = [
            ("EHLO client.example", 250),
            ("MAIL FROM:<a@example.org> RET=ALL", 501),
            ("MAIL FROM:<a@example.org> FOO=bar", 555),
            ("MAIL FROM:<a@example.org> SIZE=999999999999", 552),
            ("MAIL FROM:<a@example.org> SIZE=ten", 501),
            ("MAIL FROM:<a@example.org> ENVID=a+0Ab", 501),
            ("MAIL FROM:<a@example.org> ENVID=a+", 501),
            ("MAIL FROM:<a@example.org> AUTH=<>", 555),
            ("MAIL FROM:<s\u00e9@example.org>", 553),
            ("MAIL FROM:<a@example.org> RET=FULL ENVID=env+2B1 SIZE=100", 250),
            ("RCPT TO:<alice@localhost> NOTIFY=bogus", 501),
            ("RCPT TO:<alice@localhost> NOTIFY=SUCCESS,SUCCESS", 501),
            ("RCPT TO:<alice@localhost> ORCPT=rfc822", 501),
            ("RCPT TO:<alice@localhost> ORCPT=rfc822;a+2Bb@x ORCPT=rfc822;c@d", 501),
            ("RCPT TO:<alice@localhost> NOTIFY=success ORCPT=rfc822;a+2Bb@x", 250),
            ("DATA now", 501),
            ("BDAT 10 LAST", 502),
            ("AUTH PLAIN", 502),
            ("EHLO", 501),
            ("RSET", 250),
            ("QUIT", 221),
        ]
        data = "".join(line + "\r\n" for line, _ in script).encode()
        r = self.user.run([self.inst.sendmail, "-C", self.inst.dir, "-bs"], input=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        replies, cur = [], []
        for line in r.stdout.decode().split("\r\n")[1:]:      # after the greeting
            cur.append(line)
            if len(line) >= 4 and line[3] == " ":
                replies.append(cur)
                cur = []
        self.assertEqual(len(replies), len(script), r.stdout)
        for (cmd, want), got in zip(script, replies):
            self.assertEqual(int(got[0][:3]), want, (cmd, got))
        self.assertIn("250-SIZE 10240000", replies[0])

    def test_mailx(self):
        rc = os.path.join(self.user.home, "mailrc")
        with open(rc, "w") as f:
            f.write("set sendmail=\"%s\"\n" % self.inst.sendmail)
        # bsd-mailx passes no -C: the instance comes through TERN_CONFIG.
        r = self.user.run(["mail", "-s", "from mailx", "alice"], input=b"hello from mailx\n",
                          env=self.user.env(MAILRC=rc, TERN_CONFIG=self.inst.etc))
        self.assertEqual(r.returncode, 0, r.stderr)
        msg = self.inst.wait_for("alice@localhost", b"\nSubject: from mailx\n")
        self.assertIn(b"hello from mailx", msg)

    def test_mutt(self):
        r = self.user.run(["mutt", "-n", "-F", "/dev/null", "-e",
                           "set sendmail=\"%s\"" % self.inst.sendmail, "-e", "set use_from=no",
                           "-s", "from mutt", "bob@localhost"],
                          input=b"hello from mutt\n",
                          env=self.user.env(TERN_CONFIG=self.inst.etc, TERM="dumb"))
        self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
        msg = self.inst.wait_for("bob@localhost", b"\nSubject: from mutt\n")
        self.assertIn(b"hello from mutt", msg)

    def test_mailq_by_name(self):
        # mailq is "tern queue list" (lib/queue_list.c owns its output).
        want = self.inst.tern("queue", "list", check=False)
        for cmd in (["mailq"], ["sendmail", "-bp"]):
            r = subprocess.run([os.path.join(self.inst.bin, cmd[0])] + cmd[1:] +
                               ["-C", self.inst.dir], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, want.returncode, r.stderr)
            self.assertEqual(r.stdout.splitlines()[:1], want.stdout.splitlines()[:1])


class DaemonsDownTest(unittest.TestCase):
    """sendmail works while the mail system is stopped; pickup delivers
    later.  Also the trust boundary around maildrop/."""

    @classmethod
    def setUpClass(cls):
        cls.user = TestUser()
        cls.inst = SubmitInstance(mailboxes=BOXES)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.user.remove()

    def test_down_then_start(self):
        inst = self.inst
        self.assertFalse(inst.started)
        r = self.user.run([inst.sendmail, "-C", inst.dir, "alice"], input=b"Subject: down\n\nwaited\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        files = inst.maildrop_files()
        self.assertEqual(len(files), 1)
        st = os.stat(files[0])
        self.assertEqual(st.st_uid, self.user.uid)
        md = os.stat(os.path.join(inst.queue, "maildrop"))
        self.assertEqual(md.st_mode & 0o7777, 0o1730)
        inst.start()
        try:
            msg = inst.wait_messages("alice@localhost", 1)[0]
            self.assertIn(b"waited", msg)
            wait_until(lambda: not inst.maildrop_files(), 10, what="maildrop emptied")
        finally:
            inst.stop()

    def test_tern_check_repairs(self):
        inst = self.inst
        md = os.path.join(inst.queue, "maildrop")
        os.chmod(md, 0o777)
        os.chown(inst.postdrop, 0, 0)     # loses the set-gid bit and group
        os.rmdir(os.path.join(inst.queue, "hold"))
        r = inst.tern("check", check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("repaired %s" % md, r.stdout)
        self.assertIn("created %s" % os.path.join(inst.queue, "hold"), r.stdout)
        self.assertEqual(os.stat(md).st_mode & 0o7777, 0o1730)
        self.assertEqual(os.stat(inst.postdrop).st_mode & 0o7777, 0o2755)
        r = inst.tern("check", check=False)
        self.assertEqual((r.returncode, r.stdout), (0, ""))
        # As an ordinary user it only reports.
        os.chmod(md, 0o777)
        r = self.user.run([os.path.join(inst.bin, "tern"), "-c", inst.dir, "check"])
        self.assertEqual(r.returncode, 78, r.stderr)
        inst.tern("check")

    def test_user_cannot_touch_the_queue(self):
        probe = ("import os, sys\n"
                 "q = sys.argv[1]\n"
                 "bad = []\n"
                 "for d in ('maildrop', 'incoming', 'active', 'deferred', 'corrupt', 'private'):\n"
                 "    try: os.listdir(os.path.join(q, d)); bad.append('list ' + d)\n"
                 "    except OSError: pass\n"
                 "    try: open(os.path.join(q, d, 'X'), 'w'); bad.append('write ' + d)\n"
                 "    except OSError: pass\n"
                 "print(' '.join(bad))\n")
        r = self.user.run(["python3", "-c", probe, self.inst.queue])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), b"")

    def test_postdrop_refuses_malformed_input(self):
        inst = self.inst
        good_begin = encode(("op", "begin"), ("sender", "a"), ("rcpt", "alice"))
        streams = [
            b"garbage",
            good_begin,                                                    # no end
            good_begin + encode(("op", "data"), ("data", "x\n")),          # no end
            encode(("op", "begin"), ("sender", "a"), ("rcpt", "b"), ("uid", "0")) +
            encode(("op", "end")),                                         # forged uid
            encode(("op", "begin"), ("sender", "a"), ("rcpt", "b"), ("client_addr", "1.2.3.4"))
            + encode(("op", "end")),                                       # not allowed
            encode(("op", "begin"), ("sender", "a")) + encode(("op", "end")),  # no rcpt
            good_begin + encode(("op", "end")) + encode(("op", "end")),    # after the end
            good_begin + encode(("op", "data"), ("data", "x" * 70000)) + encode(("op", "end")),
            encode(("op", "begin"), ("sender", "a\nb"), ("rcpt", "b")) + encode(("op", "end")),
        ]
        before = inst.maildrop_files()
        for s in streams:
            r = self.user.run([inst.postdrop, "-c", inst.etc], input=s)
            self.assertEqual(r.returncode, EX_DATAERR, (s[:80], r.stderr))
            self.assertEqual(inst.maildrop_files(), before)
        # A configuration the user controls is refused while setgid.
        mine = os.path.join(self.user.home, "etc")
        os.makedirs(mine, exist_ok=True)
        with open(os.path.join(mine, "main.cf"), "w") as f:
            f.write("queue_directory = /tmp\n")
        os.chown(mine, self.user.uid, self.user.gid)
        r = self.user.run([inst.postdrop, "-c", mine],
                          input=good_begin + encode(("op", "end")))
        self.assertEqual(r.returncode, 77, r.stderr)

    def test_pickup_checks_ownership(self):
        inst = self.inst
        md = os.path.join(inst.queue, "maildrop")
        qid = "0" * 11 + "FORGE"
        forged = (encode(("op", "begin"), ("sender", "root"), ("rcpt", "carol"),
                         ("uid", "0"), ("time", "1")) +
                  encode(("op", "data"), ("data", "Subject: forged\n\nx\n")) + encode(("op", "end")))
        path = os.path.join(md, qid)
        with open(path, "wb") as f:
            f.write(forged)
        os.chown(path, self.user.uid, self.user.gid)
        junk = os.path.join(md, "1" * 11 + "JUNK0")
        with open(junk, "wb") as f:
            f.write(b"12:not a record")
        os.chown(junk, self.user.uid, self.user.gid)
        inst.start()
        try:
            corrupt = os.path.join(inst.queue, "corrupt")
            wait_until(lambda: sorted(os.listdir(corrupt)) == sorted([qid, os.path.basename(junk)]),
                       20, what="both files in corrupt/\n" + inst.log()[-2000:])
            self.assertIn("recorded uid differs from the file owner", inst.log())
            self.assertEqual(inst.messages("carol@localhost"), [])
        finally:
            inst.stop()


if __name__ == "__main__":
    unittest.main()
