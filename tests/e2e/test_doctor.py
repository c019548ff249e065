"""`tern doctor`: for each mail domain, the MX, the host's addresses, SPF
(evaluated for this host's addresses), every DKIM key of the key directory
and DMARC, checked against a zone DNS server on loopback: a domain that
publishes everything is all "ok" (exit 0); one that publishes nothing or
the wrong thing gets a FAIL line and the record to publish for each
(exit 1); a failing name server is exit 75."""
import os
import re
import subprocess
import tempfile
import unittest

from dns_zone import ZoneDns
from tern_instance import TERN

HOST = "mail.good.example"


class DoctorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-doctor-")
        cls.keys = os.path.join(cls.tmp, "keys")
        os.mkdir(cls.keys)
        zone = {
            "good.example": [("MX", (10, HOST)), ("TXT", "v=spf1 mx -all")],
            HOST: [("A", "127.0.0.1")],
            "_dmarc.good.example": [("TXT", "v=DMARC1; p=reject")],
            "bad.example": [("MX", (10, "mx.elsewhere.example")), ("TXT", "v=spf1 -all")],
            "_dmarc.bad.example": [("TXT", "v=DMARC1; p=bogus")],
            "keyless.example": [("MX", (10, HOST)), ("TXT", "v=spf1 a:%s ~all" % HOST)],
            "_dmarc.keyless.example": [("TXT", "v=DMARC1; p=none")],
            "broken.example": ["TIMEOUT"],
        }
        for kind in ("ed25519", "rsa"):
            r = subprocess.run([TERN, "dkim", "keygen", "good.example", "--" + kind,
                                "--dir", cls.keys], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            record = "".join(re.findall(r'"([^"]*)"', r.stdout))
            zone["%s._domainkey.good.example" % kind] = [("TXT", record)]
        # bad.example has a key, not published
        r = subprocess.run([TERN, "dkim", "keygen", "bad.example", "--dir", cls.keys],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        cls.dns = ZoneDns(zone)
        cls.conf = os.path.join(cls.tmp, "etc")
        os.mkdir(cls.conf)
        with open(os.path.join(cls.conf, "main.cf"), "w") as f:
            f.write("dns_servers = 127.0.0.1:%d\nmyhostname = %s\nmydomain = good.example\n"
                    "dkim_key_directory = %s\nsmtpd_dns_timeout = 2s\n"
                    % (cls.dns.port, HOST, cls.keys))

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def doctor(self, *domains):
        r = subprocess.run([TERN, "-c", self.conf, "doctor"] + list(domains),
                           capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr

    def test_all_published(self):
        rc, out = self.doctor()  # mydomain
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)
        self.assertIn("ok    A/AAAA  %s: 127.0.0.1" % HOST, out)
        self.assertIn("ok    MX      good.example: %s" % HOST, out)
        self.assertIn("ok    SPF     good.example permits", out)
        for kind in ("ed25519", "rsa"):
            self.assertIn("ok    DKIM    %s._domainkey.good.example: ok, the published record"
                          " matches" % kind, out)
        self.assertIn("ok    DMARC   _dmarc.good.example: p=reject", out)

    def test_nothing_right(self):
        rc, out = self.doctor("bad.example")
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL  MX      bad.example: the MX records do not name this host", out)
        self.assertIn("publish: bad.example. IN MX 10 %s." % HOST, out)
        self.assertIn("FAIL  SPF     bad.example does not permit 127.0.0.1: fail", out)
        self.assertIn('publish: bad.example. IN TXT "v=spf1 mx -all"', out)
        self.assertIn("FAIL  DKIM    ed25519._domainkey.bad.example: no record published", out)
        self.assertIn("._domainkey.bad.example. IN TXT", out)
        self.assertIn("FAIL  DMARC   _dmarc.bad.example: no valid DMARC record", out)
        self.assertIn('publish: _dmarc.bad.example. IN TXT "v=DMARC1; p=none"', out)

    def test_no_key_and_two_domains(self):
        rc, out = self.doctor("good.example", "keyless.example")
        self.assertEqual(rc, 1, out)
        self.assertIn("ok    SPF     keyless.example permits", out)
        self.assertIn("FAIL  DKIM    keyless.example: no key in %s" % self.keys, out)
        self.assertIn("run: tern dkim keygen keyless.example", out)
        self.assertEqual(out.count("ok    MX"), 2, out)

    def test_lookup_failure(self):
        rc, out = self.doctor("broken.example")
        self.assertIn("FAIL  MX      broken.example: look-up failed", out)
        self.assertIn(rc, (1, 75), out)  # DKIM: no key for it is a plain FAIL
        self.assertIn("FAIL  DKIM    broken.example: no key", out)


if __name__ == "__main__":
    unittest.main()
