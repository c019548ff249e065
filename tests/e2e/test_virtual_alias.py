"""virtual_alias_maps and virtual_alias_domains with Postfix's semantics,
through real SMTP sessions from a client outside mynetworks (Debian's
relay restrictions): one-to-many aliases, catch-all domain rewriting,
aliases in a virtual mailbox domain, the RCPT check of a virtual alias
domain (550 5.1.1), duplicate recipients (given twice, or reached twice
through aliases) delivered once, and an alias loop deferred (451 to
DATA, before the 354) with nothing delivered and nothing in the queue."""
import os
import re
import smtplib
import time
import unittest

from tern_instance import Instance, wait_until

ALICE = "alice@example.com"
BOB = "bob@example.com"

VIRTUAL = """\
example.net         anything
info@example.net    alice@example.com, bob@example.com
twice@example.net   alice@example.com, info@example.net
sales@example.com   alice@example.com
example.org         anything
@example.org        @example.com
loop1@example.net   loop2@example.net
loop2@example.net   loop1@example.net
"""


class VirtualAliasTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[ALICE, BOB])
        path = os.path.join(cls.inst.etc, "virtual")
        with open(path, "w") as f:
            f.write(VIRTUAL)
        cls.inst.append_main_cf({
            "mynetworks": "192.0.2.0/24",
            "smtpd_relay_restrictions":
                "permit_mynetworks permit_sasl_authenticated defer_unauth_destination",
            "virtual_alias_maps": "texthash:" + path,
        })
        cls.check = cls.inst.tern("check", check=False)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def send(self, rcpts, subject):
        c = smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30)
        try:
            c.ehlo("client.example.org")
            refused = c.sendmail("sender@example.org", rcpts,
                                 "Subject: %s\r\n\r\nbody of %s\r\n" % (subject, subject))
        finally:
            c.quit()
        self.assertEqual(refused, {})

    def copies(self, addr, subject):
        needle = ("Subject: %s\n" % subject).encode()
        return [m for m in self.inst.messages(addr) if needle in m.replace(b"\r\n", b"\n")]

    def wait_copies(self, addr, subject, n=1):
        wait_until(lambda: len(self.copies(addr, subject)) >= n, 30,
                   what="%d copies of %r for %s\n%s" % (n, subject, addr,
                                                         self.inst.log()[-3000:]))
        wait_until(lambda: not self.inst.queue_files(), 30, what="an empty queue")
        time.sleep(0.3)
        self.assertEqual(len(self.copies(addr, subject)), n, addr)

    def test_check_is_clean(self):
        self.assertEqual(self.check.returncode, 0, self.check.stderr)
        self.assertNotIn("virtual_alias", self.check.stdout + self.check.stderr)

    def test_one_to_many(self):
        self.send(["info@example.net"], "one to many")
        self.wait_copies(ALICE, "one to many")
        self.wait_copies(BOB, "one to many")
        # Postfix logs the address before expansion as orig_to=.
        for addr in (ALICE, BOB):
            self.assertRegex(self.inst.log(), r": to=<%s>, orig_to=<info@example\.net>, relay=\S+, "
                             r".*status=sent " % re.escape(addr))

    def test_duplicates_delivered_once(self):
        # alice given twice, and reached twice more through aliases.
        self.send([ALICE, "twice@example.net", ALICE, "sales@example.com"], "dups")
        self.wait_copies(ALICE, "dups")
        self.wait_copies(BOB, "dups")
        self.assertIn("duplicate recipients dropped", self.inst.log())

    def test_catch_all_domain_rewrite(self):
        self.send(["bob@example.org"], "domain rewrite")
        self.wait_copies(BOB, "domain rewrite")

    def test_rcpt_check(self):
        c = smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30)
        try:
            c.ehlo("client.example.org")
            c.mail("sender@example.org")
            code, text = c.rcpt("nobody@example.net")
            self.assertEqual((code, text.decode()),
                             (550, "5.1.1 <nobody@example.net>: Recipient address rejected: "
                                   "User unknown in virtual alias table"))
            code, _ = c.rcpt("sales@example.com")  # an alias in a mailbox domain
            self.assertEqual(code, 250)
            code, text = c.rcpt("someone@outside.example")
            self.assertEqual(code, 454, text)
        finally:
            c.quit()

    def test_loop_deferred_nothing_lost(self):
        c = smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30)
        try:
            c.ehlo("client.example.org")
            c.mail("sender@example.org")
            self.assertEqual(c.rcpt("loop1@example.net")[0], 250)
            # cleanup refuses the envelope: DATA fails before any 354.
            code, text = c.docmd("DATA")
            self.assertEqual((code, text), (451, b"4.6.0 Error: virtual alias expansion error"))
        finally:
            c.quit()
        self.assertIn("unreasonable virtual_alias_maps map nesting for <loop1@example.net>",
                      self.inst.log())
        self.assertEqual(self.inst.queue_files(("incoming", "active", "deferred")), [])


if __name__ == "__main__":
    unittest.main()
