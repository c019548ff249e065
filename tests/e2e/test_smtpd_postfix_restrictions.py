"""The restrictions of Postfix's default and Debian's stock main.cf, from a
client outside mynetworks: defer_unauth_destination (Debian's
smtpd_relay_restrictions) answers Postfix's 454, mail for our own users
is delivered, permit_auth_destination, a bare type:table in a list,
reject_multi_recipient_bounce, reject_unknown_hostname (the Postfix 2.2
name of reject_unknown_helo_hostname, against a fake DNS server),
reject_plaintext_session, reject_code; and a restriction tern does not
implement is an error of tern check and tern start, not a 451 at RCPT."""
import os
import time
import unittest

from dns_zone import FakeDns
from smtpd_util import Conn, tls_context
from tern_instance import Instance, wait_until

ALICE = "alice@example.com"
BOB = "bob@example.com"
EX_CONFIG = 78


def session(port, helo="good.example"):
    c = Conn(port)
    code, _ = c.reply()
    assert code == 220
    c.ehlo(helo)
    return c


class DebianRelayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = FakeDns(mx=["good.example"])
        cls.inst = Instance(mailboxes=[ALICE, BOB], main_cf={
            "mynetworks": "192.0.2.0/24",
            "dns_servers": "127.0.0.1:%d" % cls.dns.port,
        })
        etc = cls.inst.etc
        with open(os.path.join(etc, "rcpt_access"), "w") as f:
            f.write("blocked@example.com REJECT not this one\n")
        cls.inst.append_main_cf({
            "smtpd_relay_restrictions":
                "permit_mynetworks permit_sasl_authenticated defer_unauth_destination",
            "smtpd_helo_restrictions": "reject_unknown_hostname",
            "smtpd_recipient_restrictions":
                "reject_multi_recipient_bounce, texthash:%s/rcpt_access,"
                " permit_auth_destination, reject" % etc,
        })
        cls.check = cls.inst.tern("check", check=False)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.dns.stop()

    def test_check_is_clean(self):
        self.assertEqual(self.check.returncode, 0, self.check.stderr)
        self.assertNotIn("restriction", self.check.stdout + self.check.stderr)

    def test_relay_refused_with_postfix_reply(self):
        c = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("MAIL FROM:<x@good.example>")[0], 250)
        code, lines = c.cmd("RCPT TO:<user@outside.example>")
        self.assertEqual((code, lines[0]),
                         (454, "4.7.1 <user@outside.example>: Relay access denied"))
        code, lines = c.cmd("RCPT TO:<user%outside.example@example.com>")
        self.assertEqual(code, 454, lines)
        c.close()

    def test_local_user_gets_mail(self):
        c = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("MAIL FROM:<x@good.example>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        code, lines = c.cmd("Subject: from outside\r\n\r\nhello\r\n.")
        self.assertEqual(code, 250, lines)
        c.close()
        msgs = wait_until(lambda: [m for m in self.inst.messages(ALICE)
                                   if b"Subject: from outside" in m], 20,
                          what="the message in alice's mailbox")
        self.assertIn(b"hello", msgs[0])

    def test_bare_table(self):
        c = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("MAIL FROM:<x@good.example>")[0], 250)
        code, lines = c.cmd("RCPT TO:<blocked@example.com>")
        self.assertEqual((code, lines[0]), (554, "5.7.1 <blocked@example.com>: "
                                                 "Recipient address rejected: not this one"))
        c.close()

    def test_multi_recipient_bounce(self):
        c = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("MAIL FROM:<>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE)[0], 250)
        code, lines = c.cmd("RCPT TO:<%s>" % BOB)
        self.assertEqual((code, lines[0]), (550, "5.5.3 <%s>: Recipient address rejected: "
                                                 "Multi-recipient bounce" % BOB))
        c.close()

    def test_unknown_helo_hostname(self):
        c = session(self.inst.smtp_port, helo="nowhere.example")
        self.assertEqual(c.cmd("MAIL FROM:<x@good.example>")[0], 250)
        code, lines = c.cmd("RCPT TO:<%s>" % ALICE)
        self.assertEqual((code, lines[0]), (450, "4.7.1 <nowhere.example>: Helo command "
                                                 "rejected: Host not found"))
        c.close()


class PlaintextTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[ALICE], main_cf={
            "smtpd_sender_restrictions": "reject_plaintext_session",
            "smtpd_data_restrictions": "reject",
            "reject_code": "521",
            "smtpd_tls_security_level": "may",
        })
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_plaintext_refused_tls_passes_reject_code(self):
        c = session(self.inst.smtp_port)
        self.assertEqual(c.cmd("MAIL FROM:<x@example.org>")[0], 250)
        code, lines = c.cmd("RCPT TO:<%s>" % ALICE)
        self.assertEqual((code, lines[0]), (450, "4.7.1 Session encryption is required"))
        c.close()
        c = session(self.inst.smtp_port)
        c.starttls(tls_context(self.inst))
        c.ehlo()
        self.assertEqual(c.cmd("MAIL FROM:<x@example.org>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE)[0], 250)
        code, lines = c.cmd("DATA")
        self.assertEqual((code, lines[0]), (521, "5.7.1 <DATA>: Data command rejected: "
                                                 "Access denied"))
        c.close()


class UnimplementedRefusedTest(unittest.TestCase):
    def test_check_and_start_refuse(self):
        inst = Instance(main_cf={
            "smtpd_recipient_restrictions": "permit_dnswl_client list.example, reject_no_such_thing",
        })
        try:
            c = inst.tern("check", check=False)
            self.assertEqual(c.returncode, EX_CONFIG, c.stderr)
            self.assertIn("smtpd_recipient_restrictions: restriction permit_dnswl_client is not "
                          "implemented by tern", c.stderr)
            self.assertIn("smtpd_recipient_restrictions: unknown restriction "
                          "reject_no_such_thing", c.stderr)
            self.assertNotIn("list.example", c.stderr)
            r = inst.tern("start", check=False)
            inst.started = r.returncode == 0
            self.assertNotEqual(r.returncode, 0, r.stderr)
            self.assertIn("cannot start: the configuration has errors", r.stderr)
            time.sleep(0.5)
            self.assertFalse(Instance._port_open(inst.smtp_port))
        finally:
            inst.cleanup()


class DeferIfTest(unittest.TestCase):
    """defer_if_permit / defer_if_reject and the DEFER_IF_PERMIT /
    DEFER_IF_REJECT table results, as Postfix: a 4xx kept aside replaces
    the lists' final permit (resp. a later 5xx); otherwise the verdict
    stands."""
    CASES = [
        ({"smtpd_recipient_restrictions": "defer_if_permit, permit"},
         (450, "4.7.1 <alice@example.com>: Recipient address rejected: "
               "defer_if_permit requested")),
        ({"smtpd_recipient_restrictions": "defer_if_permit, reject"},
         (554, "5.7.1 <alice@example.com>: Recipient address rejected: Access denied")),
        ({"smtpd_recipient_restrictions": "defer_if_reject, reject"},
         (450, "4.7.1 <alice@example.com>: Recipient address rejected: "
               "defer_if_reject requested")),
        ({"smtpd_recipient_restrictions": "defer_if_reject, permit"}, (250, "2.1.5 Ok")),
        ({"smtpd_recipient_restrictions":
          "check_recipient_access inline:{ { alice@example.com = DEFER_IF_PERMIT not yet } }, permit"},
         (450, "4.7.1 <alice@example.com>: Recipient address rejected: not yet")),
        ({"smtpd_recipient_restrictions":
          "check_recipient_access inline:{ { alice@example.com = DEFER_IF_REJECT maybe later } }, "
          "reject"},
         (450, "4.7.1 <alice@example.com>: Recipient address rejected: maybe later")),
        # Kept across lists: the client list's defer_if_permit, the
        # recipient list's permit.
        ({"smtpd_client_restrictions": "defer_if_permit, permit",
          "defer_if_permit_code": "421",
          "smtpd_recipient_restrictions": "permit"},
         (421, "4.7.1 <unknown[127.0.0.1]>: Client host rejected: defer_if_permit requested")),
    ]

    def test_cases(self):
        for settings, want in self.CASES:
            with self.subTest(settings=settings):
                main_cf = {"mynetworks": "192.0.2.0/24"}
                main_cf.update(settings)
                inst = Instance(mailboxes=[ALICE], main_cf=main_cf)
                self.addCleanup(inst.cleanup)
                check = inst.tern("check", check=False)
                self.assertEqual(check.returncode, 0, check.stderr)
                inst.start()
                c = session(inst.smtp_port)
                self.assertEqual(c.cmd("MAIL FROM:<someone@example.org>")[0], 250)
                code, text = c.cmd("RCPT TO:<%s>" % ALICE)
                c.close()
                self.assertEqual((code, " ".join(text)), want)
                inst.stop()


class UnlistedRecipientTest(unittest.TestCase):
    """smtpd_reject_unlisted_recipient = no (Debian's commented submission
    service sets it): an unknown user of our domain is taken at RCPT and
    bounced by the delivery agent; the restriction reject_unlisted_recipient
    still refuses one where a list names it."""

    def instance(self, restrictions):
        inst = Instance(mailboxes=[ALICE], main_cf={
            "smtpd_reject_unlisted_recipient": "no",
            "smtpd_recipient_restrictions": restrictions})
        self.addCleanup(inst.cleanup)
        self.assertEqual(inst.tern("check", check=False).returncode, 0)
        inst.start()
        c = session(inst.smtp_port)
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % ALICE)[0], 250)
        return inst, c

    def test_unknown_user_taken_and_bounced(self):
        inst, c = self.instance("permit_mynetworks, reject_unauth_destination")
        self.assertEqual(c.cmd("RCPT TO:<nobody@example.com>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: to nobody\r\n\r\nhello\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        # the delivery agent refuses it, and the sender gets the bounce
        wait_until(lambda: any(b"Subject: Undelivered Mail" in m
                               for m in inst.messages(ALICE)), 30,
                   what="the bounce\n" + inst.log()[-2000:])
        self.assertRegex(inst.log(), r"to=<nobody@example\.com>.*status=bounced")

    def test_the_restriction_still_refuses(self):
        _, c = self.instance("reject_unlisted_recipient, permit_mynetworks, "
                             "reject_unauth_destination")
        code, text = c.cmd("RCPT TO:<nobody@example.com>")
        self.assertEqual(code, 550)
        self.assertIn("User unknown in virtual mailbox table", " ".join(text))
        self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE)[0], 250)

if __name__ == "__main__":
    unittest.main()
