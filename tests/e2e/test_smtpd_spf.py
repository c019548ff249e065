"""SPF in smtpd at MAIL FROM (smtpd_spf_policy), against a zone DNS server
on loopback: "reject" refuses a fail with 550 5.7.23 and the domain's
explanation, accepts pass/softfail/none with a Received-SPF: header in
the delivered message, defers a temperror with 451 4.7.24 when
smtpd_spf_temperror_defer is on, checks the HELO identity for the null
sender; "mark" accepts a fail and records it in Authentication-Results (the
Received-SPF header only with smtpd_spf_received_header); clients in mynetworks and
authenticated clients are not checked (no header, no TXT query); many
sessions checking at once each get their own answer.  The HELO identity
(smtpd_spf_helo_policy, RFC 7208 2.3): a failing HELO name is refused
with a non-null sender too, a passing one is a second spf= entry
(smtp.helo=) and a second Received-SPF header (identity=helo); the
reject-results lists (policyd-spf's Mail_From_reject/HELO_reject) and
smtpd_spf_exempt_networks."""
import base64
import smtplib
import subprocess
import threading
import unittest

from dns_zone import ZoneDns
from smtpd_util import Conn, tls_context, wait_log
from tern_instance import TERN, Instance, wait_until

USER = "alice@example.com"
PASSWORD = "spf test password"
ZONE = {
    "pass.example": [("TXT", "v=spf1 ip4:127.0.0.0/8 -all")],
    "fail.example": [("TXT", "v=spf1 ip4:192.0.2.0/24 -all exp=why.fail.example")],
    "why.fail.example": [("TXT", "%{i} is not a mail server of %{d}")],
    "soft.example": [("TXT", "v=spf1 ~all")],
    "mx.example": [("TXT", "v=spf1 mx -all"), ("MX", (10, "mail.mx.example"))],
    "mail.mx.example": [("A", "127.0.0.1")],
    "nospf.example": [("MX", (10, "mail.mx.example"))],
    "broken.example": ["TIMEOUT"],
    "badhelo.example": [("TXT", "v=spf1 -all")],
    "mail.good.example": [("TXT", "v=spf1 ip4:127.0.0.1 -all")],
    "softhelo.example": [("TXT", "v=spf1 ~all")],
}


def session(port, helo="client.example.org"):
    c = Conn(port)
    assert c.reply()[0] == 220
    c.ehlo(helo)
    return c


def send(inst, sender, helo="client.example.org", body="Subject: spf\r\n\r\nhello\r\n"):
    """MAIL, RCPT, DATA: the MAIL reply, and the final reply if MAIL passed."""
    c = session(inst.smtp_port, helo)
    code, lines = c.cmd("MAIL FROM:<%s>" % sender)
    if code != 250:
        c.close()
        return (code, lines[0]), None
    assert c.cmd("RCPT TO:<%s>" % USER)[0] == 250
    assert c.cmd("DATA")[0] == 354
    c.send(body + ".\r\n")
    final = c.reply()
    c.cmd("QUIT")
    c.close()
    return (code, lines[0]), final


def spf_header(msg):
    """The unfolded Received-SPF header of a delivered message, or None."""
    head = msg.split(b"\n\n", 1)[0].decode()
    lines = head.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        if line.lower().startswith("received-spf:"):
            value = line
            for cont in lines[i + 1:]:
                if not cont[:1] in (" ", "\t"):
                    break
                value += " " + cont.strip()
            return value
    return None


class SpfRejectTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = ZoneDns(ZONE)
        cls.inst = Instance(mailboxes=[USER], main_cf={
            "mynetworks": "192.0.2.0/24",
            "dns_servers": "127.0.0.1:%d" % cls.dns.port,
            "smtpd_spf_policy": "reject",
            "smtpd_spf_received_header": "yes",
            "smtpd_spf_temperror_defer": "yes",
        })
        subprocess.run([TERN, "passwd", "-c", cls.inst.dir, "--stdin", "alice"],
                       input=PASSWORD + "\n", text=True, check=True, timeout=30)
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.dns.stop()

    def delivered(self, subject):
        """The delivered message with this subject (the tests share a mailbox)."""
        tag = ("Subject: %s\r\n" % subject).encode()

        def find():
            return [m for m in self.inst.messages(USER) if tag in m.replace(b"\n", b"\r\n")
                    or tag in m]
        wait_until(find, 20, what="delivery of %s" % subject)
        return find()[0]

    def test_fail_rejected_with_explanation(self):
        mail, final = send(self.inst, "bob@fail.example")
        self.assertEqual(mail[0], 550, mail)
        self.assertIn("5.7.23", mail[1])
        self.assertIn("127.0.0.1 is not a mail server of fail.example", mail[1])
        self.assertIsNone(final)
        wait_log(self.inst, "spf: ")
        self.assertIn("from=<bob@fail.example>", self.inst.log())

    def test_pass_softfail_none_accepted_with_header(self):
        for sender, result in (("bob@pass.example", "pass"), ("bob@mx.example", "pass"),
                               ("bob@soft.example", "softfail"),
                               ("bob@nospf.example", "none")):
            subject = "spf-" + sender
            mail, final = send(self.inst, sender,
                               body="Subject: %s\r\n\r\nhello\r\n" % subject)
            self.assertEqual(mail[0], 250, (sender, mail))
            self.assertEqual(final[0], 250, (sender, final))
            msg = self.delivered(subject)
            h = spf_header(msg)
            self.assertIsNotNone(h, msg)
            self.assertTrue(h.startswith("Received-SPF: %s " % result), h)
            self.assertIn("client-ip=127.0.0.1;", h)
            self.assertIn('envelope-from="%s";' % sender, h)
            self.assertIn("identity=mailfrom;", h)
            # the header sits right below cleanup's Received:
            # (local adds Return-Path: and Delivered-To: above it)
            head = msg.decode().split("\n")
            rcvd = next(i for i, l in enumerate(head) if l.startswith("Received: "))
            idx = next(i for i, l in enumerate(head) if l.startswith("Received-SPF:"))
            self.assertGreater(idx, rcvd, head[:idx + 1])
            self.assertTrue(all(l[:1] in (" ", "\t") for l in head[rcvd + 1:idx]),
                            head[:idx + 1])

    def test_temperror_deferred(self):
        mail, _ = send(self.inst, "bob@broken.example")
        self.assertEqual(mail[0], 451, mail)
        self.assertIn("4.7.24", mail[1])

    def test_null_sender_checks_helo(self):
        mail, _ = send(self.inst, "", helo="badhelo.example")
        self.assertEqual(mail[0], 550, mail)
        mail, final = send(self.inst, "", helo="pass.example",
                           body="Subject: null-sender\r\n\r\nhello\r\n")
        self.assertEqual(final[0], 250, final)
        h = spf_header(self.delivered("null-sender"))
        self.assertTrue(h.startswith("Received-SPF: pass "), h)
        self.assertIn("identity=helo;", h)

    def test_authenticated_client_exempt(self):
        queries = len(self.dns.queries)
        with smtplib.SMTP("127.0.0.1", self.inst.submission_port, timeout=30) as s:
            s.starttls(context=tls_context(self.inst))
            s.login("alice", PASSWORD)
            s.sendmail("alice@fail.example", [USER], b"Subject: authed\r\n\r\nhi\r\n")
        msg = self.delivered("authed")
        self.assertIsNone(spf_header(msg))
        self.assertNotIn(("fail.example", 16), self.dns.queries[queries:])

    def test_parallel_sessions(self):
        results = {}

        def one(sender):
            results[sender] = send(self.inst, sender)[0][0]

        senders = ["u%d@%s" % (i, d) for i in range(4)
                   for d in ("pass.example", "fail.example")]
        threads = [threading.Thread(target=one, args=(s,)) for s in senders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for s in senders:
            self.assertEqual(results.get(s), 250 if "pass" in s else 550, (s, results))


class SpfMarkAndTrustedTest(unittest.TestCase):
    def instance(self, dns, **main_cf):
        cf = {"dns_servers": "127.0.0.1:%d" % dns.port}
        cf.update(main_cf)
        inst = Instance(mailboxes=[USER], main_cf=cf)
        self.addCleanup(inst.cleanup)
        inst.start()
        return inst

    def setUp(self):
        self.dns = ZoneDns(ZONE)
        self.addCleanup(self.dns.stop)

    def test_mark_accepts_fail_with_header(self):
        inst = self.instance(self.dns, mynetworks="192.0.2.0/24", smtpd_spf_policy="mark")
        mail, final = send(inst, "bob@fail.example")
        self.assertEqual(final[0], 250, final)
        wait_until(lambda: inst.messages(USER), 20, what="delivery")
        msg = inst.messages(USER)[0]
        # By default the result goes into cleanup's Authentication-Results
        # header (smtpd_spf_received_header = no), not into Received-SPF.
        self.assertIsNone(spf_header(msg))
        head = msg.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode()
        self.assertEqual(head.count("Authentication-Results:"), 1, head)
        self.assertIn("spf=fail smtp.mailfrom=bob@fail.example", head)
        # a temperror is accepted too when smtpd_spf_temperror_defer is off
        self.assertEqual(send(inst, "bob@broken.example")[1][0], 250)

    def test_mynetworks_exempt(self):
        inst = self.instance(self.dns, mynetworks="127.0.0.0/8", smtpd_spf_policy="reject")
        mail, final = send(inst, "bob@fail.example")
        self.assertEqual(final[0], 250, final)
        wait_until(lambda: inst.messages(USER), 20, what="delivery")
        self.assertIsNone(spf_header(inst.messages(USER)[0]))
        self.assertNotIn(("fail.example", 16), self.dns.queries)

    def test_bad_policy_is_an_error(self):
        # A value tern does not understand is an error at start (and in
        # "tern check"), never a silent failure at MAIL FROM.
        inst = Instance(mailboxes=[USER], main_cf={"smtpd_spf_policy": "maybe"})
        self.addCleanup(inst.cleanup)
        c = inst.tern("check", check=False)
        self.assertEqual(c.returncode, 78, c.stderr)  # EX_CONFIG
        self.assertIn("smtpd_spf_policy = maybe: not none, mark or reject", c.stderr)
        r = inst.tern("start", check=False)
        self.assertNotEqual(r.returncode, 0, r.stderr)
        self.assertIn("smtpd_spf_policy = maybe: not none, mark or reject", r.stderr)
        self.assertIn("the configuration has errors", r.stderr)


def head_of(msg):
    return msg.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode()


def spf_headers(msg):
    """Every unfolded Received-SPF header of a message."""
    out = []
    for line in head_of(msg).split("\n"):
        if line[:1] in (" ", "\t") and out and out[-1] is not None:
            out[-1] += " " + line.strip()
        elif line.lower().startswith("received-spf:"):
            out.append(line)
        else:
            out.append(None)
    return [h for h in out if h]


class SpfHeloTest(unittest.TestCase):
    def instance(self, **main_cf):
        cf = {"dns_servers": "127.0.0.1:%d" % self.dns.port, "mynetworks": "192.0.2.0/24"}
        cf.update(main_cf)
        inst = Instance(mailboxes=[USER], main_cf=cf)
        self.addCleanup(inst.cleanup)
        inst.start()
        return inst

    def setUp(self):
        self.dns = ZoneDns(ZONE)
        self.addCleanup(self.dns.stop)

    def test_failing_helo_refused_with_any_sender(self):
        inst = self.instance(smtpd_spf_policy="reject")
        mail, final = send(inst, "bob@pass.example", helo="badhelo.example")
        self.assertEqual(mail[0], 550, mail)
        self.assertIn("5.7.23 SPF: HELO badhelo.example", mail[1])
        self.assertIsNone(final)
        wait_log(inst, "identity=helo from=<bob@pass.example> helo=<badhelo.example>: fail")
        # the same sender with a HELO name that passes gets through
        mail, final = send(inst, "bob@pass.example", helo="mail.good.example")
        self.assertEqual(final[0], 250, final)

    def test_helo_result_recorded_beside_mailfrom(self):
        inst = self.instance(smtpd_spf_policy="mark", smtpd_spf_received_header="yes")
        mail, final = send(inst, "bob@fail.example", helo="mail.good.example")
        self.assertEqual(final[0], 250, final)
        wait_until(lambda: inst.messages(USER), 20, what="delivery")
        msg = inst.messages(USER)[0]
        head = head_of(msg)
        self.assertEqual(head.count("Authentication-Results:"), 1, head)
        self.assertIn("spf=fail smtp.mailfrom=bob@fail.example", head)
        self.assertIn("spf=pass smtp.helo=mail.good.example", head)
        # DMARC-relevant: the MAIL FROM identity is the first spf= entry
        self.assertLess(head.index("smtp.mailfrom="), head.index("smtp.helo="))
        hs = spf_headers(msg)
        self.assertEqual(len(hs), 2, hs)
        self.assertTrue(hs[0].startswith("Received-SPF: fail "), hs)
        self.assertIn("identity=mailfrom;", hs[0])
        self.assertTrue(hs[1].startswith("Received-SPF: pass "), hs)
        self.assertIn("identity=helo;", hs[1])
        self.assertIn('envelope-from="bob@fail.example";', hs[1])
        self.assertIn('helo="mail.good.example";', hs[1])

    def test_helo_policy_none_and_address_literal_not_checked(self):
        inst = self.instance(smtpd_spf_policy="reject", smtpd_spf_helo_policy="none")
        mail, final = send(inst, "bob@pass.example", helo="badhelo.example")
        self.assertEqual(final[0], 250, final)
        self.assertNotIn(("badhelo.example", 16), self.dns.queries)
        inst2 = self.instance(smtpd_spf_policy="reject")
        mail, final = send(inst2, "bob@pass.example", helo="[127.0.0.1]")
        self.assertEqual(final[0], 250, final)
        wait_until(lambda: len(inst2.messages(USER)) == 1, 20, what="delivery")
        self.assertNotIn("smtp.helo=", head_of(inst2.messages(USER)[0]))

    def test_reject_results_lists(self):
        inst = self.instance(smtpd_spf_policy="reject",
                             smtpd_spf_reject_results="fail, softfail",
                             smtpd_spf_helo_reject_results="fail softfail")
        mail, _ = send(inst, "bob@soft.example", helo="mail.good.example")
        self.assertEqual(mail[0], 550, mail)
        self.assertNotIn("HELO", mail[1])
        mail, _ = send(inst, "bob@pass.example", helo="softhelo.example")
        self.assertEqual(mail[0], 550, mail)
        self.assertIn("HELO softhelo.example", mail[1])
        # the default list refuses fail only
        inst2 = self.instance(smtpd_spf_policy="reject")
        mail, final = send(inst2, "bob@soft.example", helo="softhelo.example")
        self.assertEqual(final[0], 250, final)

    def test_exempt_networks(self):
        inst = self.instance(smtpd_spf_policy="reject", smtpd_spf_exempt_networks="127.0.0.0/8")
        mail, final = send(inst, "bob@fail.example", helo="badhelo.example")
        self.assertEqual(final[0], 250, final)
        self.assertNotIn(("fail.example", 16), self.dns.queries)
        self.assertNotIn(("badhelo.example", 16), self.dns.queries)

    def test_bad_reject_result_is_an_error(self):
        inst = Instance(mailboxes=[USER], main_cf={"smtpd_spf_policy": "reject",
                                                   "smtpd_spf_helo_reject_results": "failing"})
        self.addCleanup(inst.cleanup)
        inst.start()
        c = Conn(inst.smtp_port, timeout=3)
        try:
            c.reply()
        except (EOFError, OSError, ValueError):
            pass
        c.close()
        wait_log(inst, "bad smtpd_spf_helo_reject_results: failing")


if __name__ == "__main__":
    unittest.main()
