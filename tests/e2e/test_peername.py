"""The client's host name, looked up at connect before the greeting
(smtpd_peername_lookup): a forward-confirmed PTR name is in the connect
line, Received: and the restrictions (check_client_access by name,
reject_rhsbl_client); a PTR name that does not resolve back stays
"unknown", is logged as Postfix does, and only reject_rhsbl_reverse_client
sees it.  Every test talks to its own loopback DNS server."""
import os

import unittest

from dns_zone import ZoneDns
from smtpd_util import Conn
from tern_instance import Instance, wait_log, wait_until

ALICE = "alice@example.com"
PTR = "1.0.0.127.in-addr.arpa"


def send(port, rcpt=ALICE, body="Subject: hi\r\n\r\nhello\r\n"):
    """(code, text) of the RCPT reply, after the message if it was taken."""
    c = Conn(port)
    try:
        assert c.reply()[0] == 220
        assert c.ehlo()[0] == 250
        assert c.cmd("MAIL FROM:<bob@example.org>")[0] == 250
        code, text = c.cmd("RCPT TO:<%s>" % rcpt)
        if code == 250:
            assert c.cmd("DATA")[0] == 354
            c.send(body.encode() + b".\r\n")
            assert c.reply()[0] == 250
        c.cmd("QUIT")
        return code, " ".join(text)
    finally:
        c.close()


class PeernameTest(unittest.TestCase):
    def instance(self, zone, **cf):
        dns = ZoneDns(zone)
        self.addCleanup(dns.stop)
        main_cf = {"mynetworks": "192.0.2.0/24", "dns_servers": "127.0.0.1:%d" % dns.port}
        main_cf.update(cf)
        inst = Instance(mailboxes=[ALICE], main_cf=main_cf)
        inst.start()
        self.addCleanup(inst.cleanup)
        return inst, dns

    def test_confirmed_name_in_logs_and_received(self):
        inst, _ = self.instance({PTR: [("PTR", "mail.client.example")],
                                 "mail.client.example": [("A", "192.0.2.7"),
                                                         ("A", "127.0.0.1")]})
        self.assertEqual(send(inst.smtp_port)[0], 250)
        wait_log(inst, "connect from mail.client.example[127.0.0.1]")
        wait_until(lambda: inst.messages(ALICE), 20, what="delivery")
        msg = inst.messages(ALICE)[0].decode()
        self.assertIn("(mail.client.example [127.0.0.1])", msg)
        self.assertIn("client=mail.client.example[127.0.0.1]", inst.log())

    def test_name_and_parent_in_check_client_access(self):
        inst, _ = self.instance({PTR: [("PTR", "mail.client.example")],
                                 "mail.client.example": [("A", "127.0.0.1")]})
        table = os.path.join(inst.etc, "client_access")
        with open(table, "w") as f:
            f.write("client.example REJECT no mail from your domain\n")
        inst.stop()
        inst.append_main_cf({"smtpd_client_restrictions": "check_client_access texthash:" +
                             table})
        inst.start()
        code, text = send(inst.smtp_port)
        self.assertEqual((code, text), (
            554, "5.7.1 <mail.client.example[127.0.0.1]>: Client host rejected: "
                 "no mail from your domain"))

    def test_unconfirmed_name_is_unknown(self):
        inst, dns = self.instance(
            {PTR: [("PTR", "liar.example")], "liar.example": [("A", "192.0.2.9")],
             "liar.example.rhs.example": [("A", "127.0.0.2")]},
            smtpd_recipient_restrictions="reject_rhsbl_client rhs.example, "
                                         "reject_rhsbl_reverse_client rhs.example, permit")
        code, text = send(inst.smtp_port)
        self.assertEqual((code, text), (
            554, "5.7.1 Service unavailable; Unverified Client host [liar.example] "
                 "blocked using rhs.example"))
        wait_log(inst, "connect from unknown[127.0.0.1]")
        wait_log(inst, "warning: hostname liar.example does not resolve to address 127.0.0.1")
        # reject_rhsbl_client has only the verified name, and there is none.
        asked = [q[0] for q in dns.queries]
        self.assertEqual(asked.count("liar.example.rhs.example"), 1)

    def test_rhsbl_client_uses_the_verified_name(self):
        inst, _ = self.instance(
            {PTR: [("PTR", "mail.client.example")],
             "mail.client.example": [("A", "127.0.0.1")],
             "mail.client.example.rhs.example": [("A", "127.0.0.2")]},
            smtpd_recipient_restrictions="reject_rhsbl_client rhs.example, permit")
        self.assertEqual(send(inst.smtp_port), (
            554, "5.7.1 Service unavailable; Client host [mail.client.example] "
                 "blocked using rhs.example"))

    def test_lookup_off(self):
        inst, dns = self.instance({PTR: [("PTR", "mail.client.example")],
                                   "mail.client.example": [("A", "127.0.0.1")]},
                                  smtpd_peername_lookup="no")
        self.assertEqual(send(inst.smtp_port)[0], 250)
        wait_log(inst, "connect from unknown[127.0.0.1]")
        self.assertNotIn(PTR, [q[0] for q in dns.queries])

    def test_dns_failure_still_greets(self):
        # A server that does not answer: the greeting comes once the
        # look-up timed out; the name is unknown, temporarily (450).
        dns = ZoneDns({PTR: ["TIMEOUT"]}, drop=True)
        self.addCleanup(dns.stop)
        inst = Instance(mailboxes=[ALICE], main_cf={
            "mynetworks": "192.0.2.0/24", "dns_servers": "127.0.0.1:%d" % dns.port,
            "smtpd_dns_timeout": "2s",
            "smtpd_recipient_restrictions": "reject_unknown_client_hostname, permit"})
        inst.start()
        self.addCleanup(inst.cleanup)
        code, text = send(inst.smtp_port)
        self.assertEqual((code, text), (
            450, "4.7.25 Client host rejected: cannot find your hostname, [127.0.0.1]"))
        wait_log(inst, "connect from unknown[127.0.0.1]")

    def test_client_gone_during_the_lookup(self):
        """A client that leaves while its name is looked up (the DNS server
        does not answer) gets its connect line before the disconnect line,
        as in Postfix, whose smtpd looks the name up before anything.  It
        comes from 127.0.0.2, apart from start's probes of the port."""
        ptr2 = "2.0.0.127.in-addr.arpa"
        dns = ZoneDns({ptr2: ["TIMEOUT"]}, drop=True)
        self.addCleanup(dns.stop)
        inst = Instance(mailboxes=[ALICE], main_cf={
            "mynetworks": "192.0.2.0/24", "dns_servers": "127.0.0.1:%d" % dns.port,
            "smtpd_dns_timeout": "10s"})
        inst.start()
        self.addCleanup(inst.cleanup)
        c = Conn(inst.smtp_port, source="127.0.0.2")
        wait_until(lambda: ptr2 in [q[0] for q in dns.queries], 20, what="the PTR query")
        c.close()
        wait_log(inst, "disconnect from unknown[127.0.0.2]")
        lines = [ln for ln in inst.log().splitlines() if "[127.0.0.2]" in ln]
        self.assertRegex(lines[0], r": connect from unknown\[127\.0\.0\.2\]$")
        self.assertRegex(lines[-1], r": disconnect from unknown\[127\.0\.0\.2\]")
        self.assertEqual(len([ln for ln in lines if ": connect from" in ln]), 1, lines)

if __name__ == "__main__":
    unittest.main()
