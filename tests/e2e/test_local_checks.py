"""header_checks and body_checks on mail submitted with sendmail (postdrop,
pickup): nobody is left to hear a 550, so a REJECT bounces the message to
its sender with the table's text, as Postfix's cleanup does for pickup,
and delivers it nowhere; a DEFER leaves it in the maildrop for the next
try; nothing goes to corrupt/ and nothing is lost."""
import os
import time
import unittest

from sendmail_util import SubmitInstance, TestUser
from tern_instance import wait_until

BOXES = ["alice@localhost", "bob@localhost"]

HEADER_CHECKS = r"""
/^Subject: reject me$/     REJECT 5.7.1 no such subjects here
/^Subject: defer me$/      DEFER later please
"""

BODY_CHECKS = r"""
/^bad body line$/          REJECT body refused
"""


class LocalChecksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.user = TestUser()
        cls.inst = SubmitInstance(mailboxes=BOXES)
        tables = {}
        for name, text in (("header", HEADER_CHECKS), ("body", BODY_CHECKS)):
            path = os.path.join(cls.inst.etc, name + "_checks")
            with open(path, "w") as f:
                f.write(text)
            tables[name] = "pcre:" + path
        cls.inst.append_main_cf({"header_checks": tables["header"],
                                 "body_checks": tables["body"]})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.user.remove()

    def setUp(self):
        self.log_start = len(self.inst.log())

    def new_log(self):
        return self.inst.log()[self.log_start:]

    def wait_new_log(self, needle):
        return wait_until(lambda: needle in self.new_log(), 30,
                          what="log line %r\nlog:\n%s" % (needle, self.inst.log()[-3000:]))

    def submit(self, sender, rcpt, subject, token, body=b"Hello from sendmail.\n"):
        data = b"X-Test: %s\nSubject: %s\n\n%s" % (token, subject, body)
        r = self.user.run([self.inst.sendmail, "-C", self.inst.dir, "-f", sender, rcpt],
                          input=data)
        self.assertEqual(r.returncode, 0, r.stderr)

    def token(self):
        return b"%d.%f" % (os.getpid(), time.time())

    def corrupt_files(self):
        d = os.path.join(self.inst.queue, "corrupt")
        return os.listdir(d) if os.path.isdir(d) else []

    def test_header_reject_bounces_to_the_sender(self):
        t = self.token()
        self.submit("bob@localhost", "alice", b"reject me", t)
        bounce = self.inst.wait_for("bob@localhost", t)
        self.assertIn(b"Return-Path: <>", bounce)
        self.assertIn(b"no such subjects here", bounce)
        self.assertIn(b"Status: 5.7.1", bounce)
        self.wait_new_log("to=<alice@localhost>, relay=none")
        self.assertIn("dsn=5.7.1, status=bounced (no such subjects here)", self.new_log())
        self.assertIn("reject: header Subject: reject me", self.new_log())
        self.assertFalse(any(t in m for m in self.inst.messages("alice@localhost")))
        self.assertEqual(self.inst.maildrop_files(), [])
        self.assertEqual(self.corrupt_files(), [])

    def test_body_reject_bounces_with_the_default_code(self):
        t = self.token()
        self.submit("bob@localhost", "alice", b"body", t, body=b"ok line\nbad body line\nmore\n")
        bounce = self.inst.wait_for("bob@localhost", t)
        self.assertIn(b"body refused", bounce)
        self.wait_new_log("dsn=5.7.1, status=bounced (body refused)")
        self.assertFalse(any(t in m for m in self.inst.messages("alice@localhost")))
        self.assertEqual(self.corrupt_files(), [])

    def test_defer_stays_in_maildrop(self):
        t = self.token()
        self.submit("bob@localhost", "alice", b"defer me", t)
        self.wait_new_log("deferred by cleanup: 4.7.1 later please")
        files = [f for f in self.inst.maildrop_files() if t in open(f, "rb").read()]
        self.assertEqual(len(files), 1)
        self.assertFalse(any(t in m for m in self.inst.messages("alice@localhost")))
        os.unlink(files[0])

    def test_clean_message_is_delivered(self):
        t = self.token()
        self.submit("bob@localhost", "alice", b"hello", t)
        msg = self.inst.wait_for("alice@localhost", t)
        self.assertIn(b"Hello from sendmail.", msg)


if __name__ == "__main__":
    unittest.main()
