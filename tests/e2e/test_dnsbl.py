"""reject_rbl_client against an authoritative DNS server on loopback: a
listed client is refused with Postfix's reply, an answer outside the
site's filter and a DNSBL that fails (SERVFAIL) or does not list the
client (NXDOMAIN) let mail through, and the look-ups never block smtpd."""
import unittest

from dns_zone import ZoneDns
from smtpd_util import Conn
from tern_instance import Instance, wait_log, wait_until

ALICE = "alice@example.com"
CLIENT = "1.0.0.127"  # 127.0.0.1 reversed, as DNSBLs list it


def rcpt_reply(port, sender="someone@example.org", helo=None):
    c = Conn(port)
    try:
        assert c.reply()[0] == 220
        assert (c.cmd("EHLO " + helo) if helo else c.ehlo())[0] == 250
        assert c.cmd("MAIL FROM:<%s>" % sender)[0] == 250
        code, text = c.cmd("RCPT TO:<%s>" % ALICE)
        c.cmd("QUIT")
        return code, " ".join(text)
    finally:
        c.close()


class DnsblTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = ZoneDns({
            CLIENT + ".bl.example": [("A", "127.0.0.2"), ("TXT", "listed for the test")],
            CLIENT + ".policy.example": [("A", "127.0.0.1")],  # outside [2..11]
            CLIENT + ".down.example": ["TIMEOUT"],
            "spammer.example.rhs.example": [("A", "127.0.0.2")],
            "bad-helo.example.rhs.example": [("A", "127.0.0.2")],
            "example.com.rhs.example": [("A", "127.0.0.4")],
        })

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def instance(self, sites, restriction="reject_rbl_client"):
        inst = Instance(mailboxes=[ALICE], main_cf={
            "mynetworks": "192.0.2.0/24",  # the test client is not trusted
            "dns_servers": "127.0.0.1:%d" % self.dns.port,
            "smtpd_recipient_restrictions":
                ", ".join("%s %s" % (restriction, s) for s in sites) + ", permit",
        })
        inst.start()
        self.addCleanup(inst.cleanup)
        return inst

    def test_listed_client_rejected(self):
        inst = self.instance(["policy.example=127.0.0.[2..11]", "down.example",
                              "clean.example", "bl.example=127.0.0.[2..11]"])
        code, text = rcpt_reply(inst.smtp_port)
        self.assertEqual(code, 554)
        self.assertIn("5.7.1 Service unavailable; Client host [127.0.0.1] blocked using "
                      "bl.example", text)
        asked = [q[0] for q in self.dns.queries]
        for zone in ("policy", "down", "clean", "bl"):
            self.assertIn("%s.%s.example" % (CLIENT, zone), asked)
        wait_until(lambda: "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 554 5.7.1" in inst.log(),
                   10, what="the reject log line")

    def test_warn_if_reject_logs_and_goes_on(self):
        # Postfix: the next restriction's reject is logged as
        # reject_warning and the list goes on; a later one still rejects.
        inst = self.instance(["bl.example"], restriction="warn_if_reject reject_rbl_client")
        code, text = rcpt_reply(inst.smtp_port)
        self.assertEqual(code, 250, text)
        lines = wait_log(inst, "NOQUEUE: reject_warning: RCPT from unknown[127.0.0.1]: 554 "
                               "5.7.1 Service unavailable; Client host [127.0.0.1] blocked "
                               "using bl.example;")
        self.assertEqual(len(lines), 1)  # once, though the command waited for DNS
        self.assertIn("from=<someone@example.org> to=<%s>" % ALICE, lines[0])
        self.assertNotIn("NOQUEUE: reject: ", inst.log())
        inst2 = self.instance(["bl.example"], restriction=(
            "warn_if_reject reject_rbl_client bl.example, reject_rbl_client"))
        self.assertEqual(rcpt_reply(inst2.smtp_port)[0], 554)

    def test_unlisted_filtered_and_failing_sites_pass(self):
        inst = self.instance(["policy.example=127.0.0.[2;3;5..11]", "down.example",
                              "clean.example", "bl.example=127.0.0.[3..11]"])
        code, text = rcpt_reply(inst.smtp_port)
        self.assertEqual(code, 250, text)

    def test_rhsbl_sender_helo_recipient(self):
        inst = Instance(mailboxes=[ALICE], main_cf={
            "mynetworks": "192.0.2.0/24",
            "dns_servers": "127.0.0.1:%d" % self.dns.port,
            "smtpd_recipient_restrictions":
                "reject_rhsbl_helo rhs.example, reject_rhsbl_sender rhs.example, "
                "reject_rhsbl_recipient rhs.example=127.0.0.2, "
                "reject_rhsbl_client rhs.example, permit",
        })
        inst.start()
        self.addCleanup(inst.cleanup)
        code, text = rcpt_reply(inst.smtp_port, sender="x@spammer.example")
        self.assertEqual((code, text), (554, "5.7.1 Service unavailable; Sender address "
                                             "[spammer.example] blocked using rhs.example"))
        code, text = rcpt_reply(inst.smtp_port, helo="bad-helo.example")
        self.assertEqual((code, text), (554, "5.7.1 Service unavailable; Helo command "
                                             "[bad-helo.example] blocked using rhs.example"))
        # example.com is listed with 127.0.0.4, outside the recipient filter;
        # the client has no name (unknown), so nothing is looked up for it.
        self.assertEqual(rcpt_reply(inst.smtp_port)[0], 250)
        asked = [q[0] for q in self.dns.queries]
        self.assertIn("example.com.rhs.example", asked)
        self.assertNotIn("unknown.rhs.example", asked)


class ClientHostnameTest(unittest.TestCase):
    """reject_unknown_reverse_client_hostname (a PTR name at all) and
    reject_unknown_client_hostname (forward-confirmed), each against its
    own zone for 127.0.0.1."""
    PTR = CLIENT + ".in-addr.arpa"

    def verdicts(self, zone):
        dns = ZoneDns(zone)
        self.addCleanup(dns.stop)
        out = []
        for restriction in ("reject_unknown_reverse_client_hostname",
                            "reject_unknown_client_hostname"):
            inst = Instance(mailboxes=[ALICE], main_cf={
                "mynetworks": "192.0.2.0/24",
                "dns_servers": "127.0.0.1:%d" % dns.port,
                "smtpd_recipient_restrictions": restriction + ", permit",
            })
            inst.start()
            self.addCleanup(inst.cleanup)
            out.append(rcpt_reply(inst.smtp_port))
        return out

    def test_confirmed_name_passes_both(self):
        self.assertEqual(self.verdicts({
            self.PTR: [("PTR", "mail.example")],
            "mail.example": [("A", "192.0.2.7"), ("A", "127.0.0.1")],
        }), [(250, "2.1.5 Ok"), (250, "2.1.5 Ok")])

    def test_unconfirmed_name_fails_forward_only(self):
        self.assertEqual(self.verdicts({
            self.PTR: [("PTR", "liar.example")],
            "liar.example": [("A", "192.0.2.9")],
        }), [(250, "2.1.5 Ok"),
             (450, "4.7.25 Client host rejected: cannot find your hostname, [127.0.0.1]")])

    def test_no_ptr_fails_both(self):
        self.assertEqual(self.verdicts({"other.example": [("A", "192.0.2.1")]}), [
            (450, "4.7.25 Client host rejected: cannot find your reverse hostname, "
                  "[127.0.0.1]"),
            (450, "4.7.25 Client host rejected: cannot find your hostname, [127.0.0.1]")])

    def test_reject_code_and_temporary_failure(self):
        dns = ZoneDns({self.PTR: ["TIMEOUT"]})
        self.addCleanup(dns.stop)
        inst = Instance(mailboxes=[ALICE], main_cf={
            "mynetworks": "192.0.2.0/24", "dns_servers": "127.0.0.1:%d" % dns.port,
            "unknown_client_reject_code": "550",
            "smtpd_recipient_restrictions": "reject_unknown_client_hostname, permit"})
        inst.start()
        self.addCleanup(inst.cleanup)
        # SERVFAIL: 450 whatever the configured code.
        self.assertEqual(rcpt_reply(inst.smtp_port)[0], 450)


if __name__ == "__main__":
    unittest.main()
