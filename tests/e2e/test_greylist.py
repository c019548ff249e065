"""Built-in greylisting (check_greylist): a new triplet gets 450 4.7.1, a
retry before the (test-shortened) delay too, a retry after it is accepted
and the triplet is known from then on (also after a restart: the LMDB
database outlives smtpd), a client network whose triplets passed
smtpd_greylist_auto_allowlist times is not greylisted any more, and
mynetworks clients are exempt."""
import os
import time
import unittest

from smtpd_util import Conn
from tern_instance import Instance, wait_until

DELAY = 3


def rcpt(port, rcpt_to, sender="someone@example.org"):
    c = Conn(port)
    try:
        assert c.reply()[0] == 220
        assert c.cmd("EHLO client.example.org")[0] == 250
        assert c.cmd("MAIL FROM:<%s>" % sender)[0] == 250
        code, text = c.cmd("RCPT TO:<%s>" % rcpt_to)
        c.cmd("QUIT")
        return code, " ".join(text)
    finally:
        c.close()


def pass_greylist(port, rcpt_to, sender="someone@example.org"):
    """Retries (bounded) until the triplet is let through; returns the
    replies seen before."""
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        code, text = rcpt(port, rcpt_to, sender)
        if code == 250:
            return seen
        seen.append((code, text))
        time.sleep(0.5)
    raise AssertionError("never let through: %r" % seen[-3:])


class GreylistTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        boxes = ["u%d@example.com" % i for i in range(6)]
        cls.inst = Instance(mailboxes=boxes, main_cf={
            "mynetworks": "192.0.2.0/24",
            "smtpd_recipient_restrictions":
                "permit_mynetworks, reject_unauth_destination, check_greylist, permit",
            "smtpd_greylist_delay": "%ds" % DELAY,
            "smtpd_greylist_auto_allowlist": "2",
        })
        cls.check = cls.inst.tern("check", check=False)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_1_check_accepts(self):
        self.assertEqual(self.check.returncode, 0, self.check.stdout + self.check.stderr)

    def test_2_first_deferred_retry_accepted_then_known(self):
        port = self.inst.smtp_port
        code, text = rcpt(port, "u0@example.com")
        self.assertEqual(code, 450, text)
        self.assertTrue(text.startswith("4.7.1 <u0@example.com>: Recipient address rejected: "
                                        "Greylisted"), text)
        seen = pass_greylist(port, "u0@example.com")
        self.assertTrue(all(c == 450 for c, _ in seen), seen)
        # Known now: accepted at once, every time, after a restart too.
        self.assertEqual(rcpt(port, "u0@example.com")[0], 250)
        self.inst.stop()
        self.inst.start()
        self.assertEqual(rcpt(port, "u0@example.com")[0], 250)
        data_dir = self.inst.main_cf_value("data_directory")
        self.assertTrue(os.path.exists(os.path.join(data_dir, "greylist.lmdb")))

    def test_3_auto_allowlist_after_two_passes(self):
        port = self.inst.smtp_port
        # A second triplet of the same client passes: two passes in all.
        self.assertEqual(rcpt(port, "u1@example.com")[0], 450)
        pass_greylist(port, "u1@example.com")
        # Now the client's network is allowlisted: a new triplet goes through.
        self.assertEqual(rcpt(port, "u2@example.com", "new@example.net")[0], 250)


class GreylistExemptTest(unittest.TestCase):
    def test_mynetworks_not_greylisted(self):
        inst = Instance(mailboxes=["u0@example.com"], main_cf={
            "smtpd_recipient_restrictions": "check_greylist, permit",
            "smtpd_greylist_delay": "3600s",
        })
        inst.start()
        self.addCleanup(inst.cleanup)
        # 127.0.0.1 is in the default mynetworks.
        self.assertEqual(rcpt(inst.smtp_port, "u0@example.com")[0], 250)


if __name__ == "__main__":
    unittest.main()
