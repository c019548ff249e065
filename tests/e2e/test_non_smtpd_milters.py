"""non_smtpd_milters: mail submitted with sendmail (postdrop, pickup) goes
through the milters in cleanup, as Postfix does it: the events of an ESMTP
session from localhost [127.0.0.1] (connect, EHLO localhost, MAIL, RCPT,
DATA, the message), the milters' header and envelope edits applied, a 5xx
bounced to the sender with the milter's reply, a 4xx and a refused
recipient left in maildrop for later, a discard thrown away.  qmgr's
notices pass the milters and header_checks only with
internal_mail_filter_classes = bounce (NoticeFilterTest).  The milter
is tests/e2e/milter_py.py on Debian's python3-milter; it decides by the
Subject (see its docstring)."""
import os
import re
import time
import unittest

import test_milter  # its PyMilter (the module, so its tests are not run here)
from sendmail_util import SubmitInstance, TestUser
from tern_instance import wait_log, wait_until

BOXES = ["alice@localhost", "bob@localhost", "refused@localhost", "carol@example.com"]


def check_with(inst, settings):
    """tern check's result with settings added to main.cf, which is then
    put back as it was."""
    with open(inst.main_cf_path) as f:
        saved = f.read()
    try:
        inst.append_main_cf(settings)
        return inst.tern("check", check=False)
    finally:
        with open(inst.main_cf_path, "w") as f:
            f.write(saved)


class MilterInstance:
    """An instance whose non_smtpd_milters is the py milter, a test user,
    and main_cf(inst)'s extra settings."""

    @classmethod
    def main_cf(cls, inst):
        return {}

    @classmethod
    def setUpClass(cls):
        cls.user = TestUser()
        cls.inst = SubmitInstance(mailboxes=BOXES)
        cls.milter = test_milter.PyMilter(cls.inst.dir)
        cf = {"non_smtpd_milters": "inet:127.0.0.1:%d" % cls.milter.port,
              "milter_content_timeout": "20s"}
        cf.update(cls.main_cf(cls.inst))
        cls.inst.append_main_cf(cf)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.milter.stop()
        cls.user.remove()


class NonSmtpdMilterTest(MilterInstance, unittest.TestCase):

    def setUp(self):
        self.log_start = len(self.inst.log())

    def new_log(self):
        return self.inst.log()[self.log_start:]

    def wait_new_log(self, needle):
        return wait_until(lambda: needle in self.new_log(), 30,
                          what="log line %r\nlog:\n%s" % (needle, self.inst.log()[-3000:]))

    def submit(self, args, subject, token):
        data = b"X-Test: %s\nSubject: %s\n\nHello from sendmail.\n" % (token, subject)
        r = self.user.run([self.inst.sendmail, "-C", self.inst.dir] + args, input=data)
        # As with Postfix, sendmail is done once the file is in maildrop:
        # the milters' verdict comes later, in cleanup.
        self.assertEqual(r.returncode, 0, r.stderr)

    def token(self):
        return b"%d.%f" % (os.getpid(), time.time())

    def test_accepted_message_gets_the_milters_header(self):
        t = self.token()
        self.submit(["alice"], b"plain", t)
        msg = self.inst.wait_for("alice@localhost", t)
        self.assertIn(b"\nX-Py-Milter: seen by py\n", msg)
        # cleanup's own additions are still there.
        self.assertIn(b"(tern, from userid %d)" % self.user.uid, msg)
        self.assertRegex(msg, rb"\nMessage-ID: <[^>]+>\n")
        # The events of a local submission, as Postfix plays them.
        ev = self.milter.events()
        connect = [e for e in ev if e["ev"] == "connect"][-1]
        self.assertEqual((connect["host"], connect["addr"]), ("localhost", "127.0.0.1"))
        self.assertEqual(connect["under"], "localhost [127.0.0.1]")
        self.assertIn({"ev": "helo", "name": "localhost"}, ev)
        sender = "<%s@localhost>" % self.user.name
        self.assertTrue(any(e["ev"] == "mail" and e["sender"] == sender for e in ev), ev)
        self.assertTrue(any(e["ev"] == "rcpt" and e["rcpt"] == "<alice@localhost>"
                            for e in ev), ev)
        self.assertEqual(self.inst.maildrop_files(), [])
        # The milters saw the headers cleanup adds, as Postfix's see them
        # in its queue file: Received: first, Date:, Message-ID:, From:.
        eom = [e for e in ev if e["ev"] == "eom" and
               ["X-Test", t.decode()] in e["headers"]][-1]
        names = [h[0] for h in eom["headers"]]
        self.assertEqual(names[0], "Received")
        self.assertIn("(tern, from userid %d)" % self.user.uid, eom["headers"][0][1])
        for name in ("Date", "Message-ID", "From"):
            self.assertEqual(names.count(name), 1, eom["headers"])
        seen = dict((h[0], h[1]) for h in eom["headers"])
        # ... and they are the message's: not added a second time.
        self.assertIn(b"\nMessage-ID: %s\n" % seen["Message-ID"].encode(), msg)
        self.assertEqual(msg.count(b"(tern, from userid"), 1)
        self.assertEqual(len(re.findall(rb"(?m)^Date:", msg)), 1)

    def test_header_and_envelope_edits(self):
        t = self.token()
        self.submit(["alice"], b"add rcpt", t)
        self.inst.wait_for("alice@localhost", t)
        added = self.inst.wait_for("carol@example.com", t)
        self.assertIn(b"\nX-Py-Milter: seen by py\n", added)
        t = self.token()
        self.submit(["bob"], b"edit headers", t)
        msg = self.inst.wait_for("bob@localhost", t)
        self.assertIn(b"\nSubject: edited by py\n", msg)
        self.assertIn(b"X-First: at the top\n", msg)

    def test_reject_bounces_to_the_sender(self):
        t = self.token()
        self.submit(["-f", "bob@localhost", "alice"], b"reject", t)
        bounce = self.inst.wait_for("bob@localhost", t)
        self.assertIn(b"content refused by py", bounce)
        self.assertIn(b"Return-Path: <>", bounce)
        self.wait_new_log("milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: "
                          "5.7.1 content refused by py; from=<bob@localhost>")
        self.wait_new_log("to=<alice@localhost>, relay=none")
        self.assertIn("dsn=5.7.1, status=bounced (content refused by py)", self.new_log())
        self.assertFalse(any(t in m for m in self.inst.messages("alice@localhost")))
        self.assertEqual(self.inst.maildrop_files(), [])
        # The notice itself passed no milter (internal_mail_filter_classes
        # is empty): nothing was added to its own header.
        self.assertNotIn(b"X-Py-Milter", bounce.split(b"\n\n", 1)[0])

    def test_tempfail_stays_in_maildrop(self):
        t = self.token()
        self.submit(["alice"], b"tempfail", t)
        self.wait_new_log("deferred by cleanup: 4.7.1 try again later, says py")
        self.assertIn("NOQUEUE: milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: "
                      "4.7.1 try again later, says py", self.new_log())
        files = [f for f in self.inst.maildrop_files() if t in open(f, "rb").read()]
        self.assertEqual(len(files), 1)
        os.unlink(files[0])  # else pickup tries it again and again
        self.assertFalse(any(t in m for m in self.inst.messages("alice@localhost")))

    def test_refused_recipient_is_a_configuration_error(self):
        t = self.token()
        self.submit(["refused"], b"plain", t)
        self.wait_new_log("deferred by cleanup: 4.3.5 Server configuration error")
        self.assertIn("milter configuration error: can't reject recipient "
                      "<refused@localhost>", self.new_log())
        files = [f for f in self.inst.maildrop_files() if t in open(f, "rb").read()]
        self.assertEqual(len(files), 1)
        os.unlink(files[0])

    def test_discard(self):
        t = self.token()
        self.submit(["alice"], b"discard", t)
        self.wait_new_log("milter-discard: END-OF-MESSAGE from localhost[127.0.0.1]: "
                          "milter triggers DISCARD action")
        wait_until(lambda: self.inst.maildrop_files() == [], 30, what="maildrop emptied")
        self.assertFalse(any(t in m for m in self.inst.messages("alice@localhost")))

    def test_quarantine_goes_to_hold(self):
        t = self.token()
        self.submit(["alice"], b"quarantine", t)
        self.wait_new_log("milter-hold: END-OF-MESSAGE from localhost[127.0.0.1]: held by py")
        self.wait_new_log("hold: quarantined by a milter")
        held = wait_until(lambda: [f for f in self.inst.queue_files(("hold",))
                                   if t in open(f, "rb").read()], 30, what="file in hold/")
        self.assertEqual(len(held), 1)
        self.assertFalse(any(t in m for m in self.inst.messages("alice@localhost")))

    def test_tern_check_refuses_a_bad_list(self):
        r = check_with(self.inst, {"non_smtpd_milters": "tcp:127.0.0.1:1"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("non_smtpd_milters", r.stdout + r.stderr)

    def test_smtp_mail_is_not_given_to_them(self):
        before = len(self.milter.events("connect"))
        code, _ = test_milter.transaction(self.inst.smtp_port, "x@example.org",
                                          ["alice@localhost"], "over smtp")
        self.assertEqual(code, 250)
        self.inst.wait_for("alice@localhost", b"Subject: over smtp")
        self.assertEqual(len(self.milter.events("connect")), before)


class NoticeFilterTest(MilterInstance, unittest.TestCase):
    """internal_mail_filter_classes = bounce: a notice qmgr makes is inspected
    as a local submission is, by non_smtpd_milters and header_checks."""

    @classmethod
    def main_cf(cls, inst):
        checks = os.path.join(inst.dir, "header_checks.pcre")
        with open(checks, "w") as f:
            f.write("/^Subject: Undelivered Mail/ PREPEND X-Notice-Checked: yes\n"
                    "/^To: <carol@example\\.com>/ REJECT no notices for carol\n")
        return {"header_checks": "pcre:" + checks, "internal_mail_filter_classes": "bounce"}

    def test_notice_passes_the_milter_and_the_checks(self):
        t = b"%d.%f" % (os.getpid(), time.time())
        data = b"X-Test: %s\nSubject: reject\n\nrefused by the milter\n" % t
        r = self.user.run([self.inst.sendmail, "-C", self.inst.dir, "-f", "bob@localhost",
                           "alice"], input=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        bounce = self.inst.wait_for("bob@localhost", t)
        head = bounce.split(b"\n\n", 1)[0] + b"\n"
        self.assertIn(b"\nX-Py-Milter: seen by py\n", head)
        self.assertIn(b"X-Notice-Checked: yes\n", head)
        self.assertIn(b"Return-Path: <>", head)
        self.assertIn(b"content refused by py", bounce)
        # the milter was told of the notice as of a local submission, from <>
        self.assertTrue(any(e["ev"] == "mail" and e["sender"] == "<>"
                            for e in self.milter.events()), self.milter.events())

    def test_refused_notice_goes_to_the_postmaster(self):
        """A notice a check refuses is queued marked rejected, as a local
        submission is: qmgr bounces it on to bounce_notice_recipient (a
        double bounce), and the original is done with."""
        mark = len(self.inst.log())
        t = b"%d.%f" % (os.getpid(), time.time())
        data = b"X-Test: %s\nSubject: reject\n\nrefused by the milter\n" % t
        r = self.user.run([self.inst.sendmail, "-C", self.inst.dir, "-f",
                           "carol@example.com", "alice"], input=data)
        self.assertEqual(r.returncode, 0, r.stderr)
        log = lambda: self.inst.log()[mark:]
        wait_until(lambda: "to=<carol@example.com>" in log() and
                   "status=bounced (no notices for carol)" in log(), 30,
                   what="the notice to carol bounced\n" + self.inst.log()[-3000:])
        m = re.search(r"(\w+): to=<carol@example.com>, .*status=bounced \(no notices for carol\)",
                      log())
        wait_until(lambda: re.search(r"%s: sender non-delivery notification: \w+"
                                     % m.group(1), log()), 30,
                   what="the double bounce\n" + self.inst.log()[-3000:])
        self.assertFalse(any(t in msg for msg in self.inst.messages("carol@example.com")))

    def test_tern_check_refuses_an_unknown_class(self):
        r = check_with(self.inst, {"internal_mail_filter_classes": "bounce, trace"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('internal_mail_filter_classes: "trace" is not bounce or notify',
                      r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
