"""DANE (RFC 7672) in the smtp client, against Debian's unbound as the
validating resolver on loopback (dnssec_util.py) and a TLS server on
loopback: matching TLSA records give "Verified TLS", a mismatch defers, an
unsigned zone stays opportunistic, and dane-only without records defers.
Beside DANE, MTA-STS (RFC 8461 section 2): a domain publishing both is
delivered by DANE without its policy being fetched; a host without
validated TLSA records follows the domain's policy.  TLSA records of an
MX host that is a CNAME are looked up at the expanded name first (RFC
7672 section 2.2.3)."""
import os
import re
import shutil
import smtplib
import tempfile
import unittest

from dnssec_util import Unbound, cert_sha256, make_chain, spki_sha256
from smtp_util import FakeSMTPServer, PolicyServer, sts_policy
from tern_instance import Instance, wait_log, wait_until

NAMES = ["mx.dane.test", "bad.dane.test", "none.dane.test", "ta.dane.test", "host.plain.test",
         "mta-sts.viamx.dane.test", "mta-sts.sts.plain.test"]


class DaneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-dane-")
        os.chmod(cls.tmp, 0o755)
        chain, key, ca, leaf = make_chain(cls.tmp, NAMES)
        cls.srv = FakeSMTPServer(tls=(chain, key))
        # Both domains' policies would refuse their MX host.
        cls.web = PolicyServer(chain, key)
        cls.web.serve("viamx.dane.test", sts_policy("enforce", "elsewhere.example"))
        cls.web.serve("sts.plain.test", sts_policy("enforce", "elsewhere.example"))
        p = cls.srv.port
        ee = spki_sha256(leaf)
        cls.dns = Unbound({
            "dane.test": [
                "mx A 127.0.0.1", "_%d._tcp.mx TLSA 3 1 1 %s" % (p, ee),
                "bad A 127.0.0.1", "_%d._tcp.bad TLSA 3 1 1 %s" % (p, "00" * 32),
                "none A 127.0.0.1",
                "ta A 127.0.0.1", "_%d._tcp.ta TLSA 2 0 1 %s" % (p, cert_sha256(ca)),
                "viamx MX 10 mx.dane.test.",
                '_mta-sts.viamx TXT "v=STSv1; id=1"', "mta-sts.viamx A 127.0.0.1",
                # RFC 7672 2.2.3: the CNAME-expanded name's records first...
                "alias CNAME real", "real A 127.0.0.1",
                "_%d._tcp.real TLSA 3 1 1 %s" % (p, ee),
                "_%d._tcp.alias TLSA 3 1 1 %s" % (p, "00" * 32),
                # ... and the alias's own when the expanded name has none.
                "alias2 CNAME real2", "real2 A 127.0.0.1",
                "_%d._tcp.alias2 TLSA 3 1 1 %s" % (p, ee),
            ],
            # Not signed: the same records carry no weight.
            "plain.test": ["host A 127.0.0.1", "_%d._tcp.host TLSA 3 1 1 %s" % (p, ee),
                           "sts MX 10 host.plain.test.", '_mta-sts.sts TXT "v=STSv1; id=1"',
                           "mta-sts.sts A 127.0.0.1"],
        }, signed=("dane.test",))
        tm = os.path.join(cls.tmp, "transport")
        with open(tm, "w") as f:
            for dom, hop in (("good.example", "[mx.dane.test]"), ("bad.example", "[bad.dane.test]"),
                             ("plain.example", "[host.plain.test]"),
                             ("none.example", "[none.dane.test]"),
                             ("ta.example", "[ta.dane.test]"),
                             ("viamx.example", "viamx.dane.test"),
                             ("sts.example", "sts.plain.test"),
                             ("cname.example", "[alias.dane.test]"),
                             ("cname2.example", "[alias2.dane.test]")):
                f.write("%s smtp:%s:%d\n" % (dom, hop, p))
        pol = os.path.join(cls.tmp, "policy")
        with open(pol, "w") as f:
            f.write("[none.dane.test]:%d dane-only\n" % p)
        cls.inst = Instance(main_cf={
            "transport_maps": "texthash:" + tm, "smtp_tls_policy_maps": "texthash:" + pol,
            "smtp_tls_security_level": "dane", "smtp_dns_support_level": "dnssec",
            "dns_servers": cls.dns.resolver, "inet_protocols": "ipv4",
            "smtp_mta_sts_CAfile": ca, "smtp_mta_sts_https_port": str(cls.web.port)})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.srv.stop()
        cls.web.stop()
        cls.dns.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def send(self, rcpt):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail("from@example.com", [rcpt], b"Subject: dane\r\n\r\nhello\r\n")
        return wait_log(self.inst, "to=<%s>" % rcpt)[0]

    def queue_show(self, line):
        """tern queue show of the message a delivery log line is about."""
        qid = re.search(r"([0-9A-Za-z]+): to=<", line).group(1)
        return self.inst.tern("queue", "show", qid).stdout

    def delivered(self, rcpt):
        return wait_until(lambda: [t for t in self.srv.transactions if rcpt in t.rcpts], 30,
                          what="delivery to %s" % rcpt)[0]

    def test_matching_dane_ee_is_verified(self):
        line = self.send("a@good.example")
        self.assertIn("status=sent", line)
        self.assertTrue(self.delivered("a@good.example").tls)
        log = wait_log(self.inst, "Verified TLS connection established to mx.dane.test[127.0.0.1]")
        self.assertIn("DANE TLSA 3 1 1 matched", log[0])

    def test_matching_dane_ta_is_verified(self):
        line = self.send("e@ta.example")
        self.assertIn("status=sent", line)
        log = wait_log(self.inst, "Verified TLS connection established to ta.dane.test[127.0.0.1]")
        self.assertIn("DANE TLSA 2 0 1 matched", log[0])

    def test_mx_from_a_signed_zone(self):
        line = self.send("f@viamx.example")
        self.assertIn("status=sent", line)
        self.assertIn("relay=mx.dane.test[127.0.0.1]", line)
        wait_log(self.inst, "Verified TLS connection established to mx.dane.test[127.0.0.1]")

    def test_tlsa_at_the_cname_expanded_name_first(self):
        line = self.send("j@cname.example")
        self.assertIn("status=sent", line)
        log = wait_log(self.inst,
                       "Verified TLS connection established to alias.dane.test[127.0.0.1]")
        self.assertIn("DANE TLSA 3 1 1 matched at real.dane.test", log[0])

    def test_tlsa_at_the_alias_when_the_expanded_name_has_none(self):
        line = self.send("k@cname2.example")
        self.assertIn("status=sent", line)
        log = wait_log(self.inst,
                       "Verified TLS connection established to alias2.dane.test[127.0.0.1]")
        self.assertIn("DANE TLSA 3 1 1 matched", log[0])
        self.assertNotIn(" at real2", log[0])

    def test_dane_wins_over_mta_sts(self):
        line = self.send("g@viamx.example")
        self.assertIn("status=sent", line)
        self.assertIn("relay=mx.dane.test[127.0.0.1]", line)
        self.assertEqual(self.web.fetches("viamx.dane.test"), 0)

    def test_mta_sts_where_no_dane(self):
        line = self.send("h@sts.example")
        self.assertIn("dsn=4.7.5, status=deferred (MTA-STS policy of sts.plain.test (enforce): "
                      "MX host host.plain.test is not listed in the policy)", line)
        self.assertEqual(self.web.fetches("sts.plain.test"), 1)
        self.assertFalse([t for t in self.srv.transactions if "h@sts.example" in t.rcpts])

    def test_mismatch_defers(self):
        line = self.send("b@bad.example")
        self.assertIn("status=deferred", line)
        self.assertIn("Cannot start TLS", line)
        self.assertIn("bad.dane.test[127.0.0.1]", line)
        shown = wait_until(lambda: (lambda o: o if "Cannot start TLS" in o else None)(
            self.queue_show(line)), 15, what="the deferral reason in tern queue show")
        self.assertIn("status: deferred 4.7.5", shown)
        self.assertFalse([t for t in self.srv.transactions if "b@bad.example" in t.rcpts])

    def test_unsigned_zone_is_opportunistic(self):
        line = self.send("c@plain.example")
        self.assertIn("status=sent", line)
        self.assertTrue(self.delivered("c@plain.example").tls)
        wait_log(self.inst, "Untrusted TLS connection established to host.plain.test[127.0.0.1]")

    def test_dane_only_without_records_defers(self):
        line = self.send("d@none.example")
        self.assertIn("dsn=4.7.5, status=deferred (no DNSSEC-validated TLSA records for "
                      "none.dane.test", line)
        shown = wait_until(lambda: (lambda o: o if "no DNSSEC-validated TLSA" in o else None)(
            self.queue_show(line)), 15, what="the deferral reason in tern queue show")
        self.assertIn("status: deferred 4.7.5", shown)
        self.assertFalse([t for t in self.srv.transactions if "d@none.example" in t.rcpts])


class DaneConfigTest(unittest.TestCase):
    """tern check knows the levels and the DNS support level."""

    def check(self, main_cf):
        inst = Instance(main_cf=main_cf)
        try:
            return inst.tern("check", check=False)
        finally:
            inst.cleanup()

    def test_unknown_values_are_errors(self):
        c = self.check({"smtp_tls_security_level": "danger", "smtp_dns_support_level": "yes"})
        self.assertEqual(c.returncode, os.EX_CONFIG, c.stderr)
        self.assertIn('unknown smtp_tls_security_level "danger"', c.stderr)
        self.assertIn('smtp_dns_support_level must be disabled, enabled or dnssec, not "yes"',
                      c.stderr)

    def test_dane_without_dnssec_warns(self):
        c = self.check({"smtp_tls_security_level": "dane"})
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertIn("smtp_tls_security_level = dane needs smtp_dns_support_level = dnssec",
                      c.stderr)
        c = self.check({"smtp_tls_security_level": "dane-only",
                        "smtp_dns_support_level": "dnssec"})
        self.assertEqual(c.returncode, 0, c.stderr)
        self.assertNotIn("smtp_dns_support_level", c.stderr)


if __name__ == "__main__":
    unittest.main()
