"""MTA-STS (RFC 8461) in the smtp client: policies served over HTTPS by a
loopback server whose certificate comes from a test CA (trusted through
smtp_mta_sts_CAfile, a parameter for tests), the _mta-sts TXT records and
MX records from the test DNS server (dns_zone.py), a TLS SMTP server on
loopback as every MX.  Enforce delivers to a listed MX with a verified
certificate and defers an unlisted MX or a bad certificate; testing logs
and delivers; a policy that cannot be fetched is no policy; policies stay
cached across a restart and are fetched again when the record's id
changes."""
import os
import shutil
import smtplib
import tempfile
import time
import unittest

from dns_zone import ZoneDns
from dnssec_util import make_chain
from smtp_util import FakeSMTPServer, PolicyServer, sts_policy as policy
from tern_instance import Instance, wait_until

DOMAINS = ["good.test", "nomatch.test", "badcert.test", "testing.test", "missing.test",
           "redirect.test", "keep.test", "wildcard.test"]


class MtaStsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-sts-")
        os.chmod(cls.tmp, 0o755)
        names = ["mx.sts.test", "mx1.wild.test"] + ["mta-sts." + d for d in DOMAINS]
        chain, key, ca, _ = make_chain(cls.tmp, names)
        cls.ca = ca
        cls.smtp = FakeSMTPServer(tls=(chain, key))
        cls.web = PolicyServer(chain, key)
        zone = {"mx.sts.test": [("A", "127.0.0.1")],
                # Same server, but its certificate does not name this host.
                "other.sts.test": [("A", "127.0.0.1")],
                "mx1.wild.test": [("A", "127.0.0.1")]}
        mx = {"badcert.test": "other.sts.test", "wildcard.test": "mx1.wild.test"}
        for d in DOMAINS:
            zone[d] = [("MX", (10, mx.get(d, "mx.sts.test")))]
            zone["_mta-sts." + d] = [("TXT", "v=STSv1; id=20260101T000000")]
            zone["mta-sts." + d] = [("A", "127.0.0.1")]
        # A record that is not STSv1 is ignored beside the real one.
        zone["_mta-sts.good.test"].append(("TXT", "v=spf1 -all"))
        cls.dns = ZoneDns(zone, ttl=1)
        w = cls.web
        w.serve("good.test", policy("enforce", "mx.sts.test", "backup.example.net"))
        w.serve("nomatch.test", policy("enforce", "mail.example.net"))
        w.serve("badcert.test", policy("enforce", "other.sts.test"))
        w.serve("testing.test", policy("testing", "mail.example.net"))
        w.serve("redirect.test", "", status=301,
                extra={"Location": "https://mta-sts.good.test/.well-known/mta-sts.txt"})
        w.serve("keep.test", policy("enforce", "mx.sts.test"))
        w.serve("wildcard.test", policy("enforce", "*.wild.test"))
        tm = os.path.join(cls.tmp, "transport")
        with open(tm, "w") as f:
            for d in DOMAINS:
                f.write("%s smtp:%s:%d\n" % (d, d, cls.smtp.port))
        cls.inst = Instance(main_cf={
            "transport_maps": "texthash:" + tm, "dns_servers": "127.0.0.1:%d" % cls.dns.port,
            "inet_protocols": "ipv4", "smtp_tls_CAfile": ca, "smtp_mta_sts_CAfile": ca,
            "smtp_mta_sts_https_port": str(cls.web.port),
            # Every message looks its policy up (a cached session would
            # carry the next message to the same domain without).
            "smtp_connection_cache_on_demand": "no"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.smtp.stop()
        cls.web.stop()
        cls.dns.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.log_start = len(self.inst.log())

    def new_log(self, needle, timeout=30):
        """Lines with needle written since the test started (bounded wait)."""
        def found():
            return [l for l in self.inst.log()[self.log_start:].splitlines() if needle in l]
        try:
            return wait_until(found, timeout, what="log line with %r" % needle)
        except AssertionError as e:
            raise AssertionError("%s\nlog:\n%s" % (e, self.inst.log()[-4000:])) from None

    def send(self, rcpt):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail("from@example.com", [rcpt], b"Subject: sts\r\n\r\nhello\r\n")
        return self.new_log("to=<%s>" % rcpt)[0]

    def delivered(self, rcpt):
        return [t for t in self.smtp.transactions if rcpt in t.rcpts]

    def test_enforce_listed_mx_is_verified(self):
        line = self.send("a@good.test")
        self.assertIn("status=sent", line)
        self.assertIn("relay=mx.sts.test[127.0.0.1]", line)
        self.assertTrue(self.delivered("a@good.test")[0].tls)
        tls = self.new_log("Verified TLS connection established to mx.sts.test[127.0.0.1]")
        self.assertTrue([l for l in tls if "MTA-STS policy enforce of good.test" in l], tls)
        self.new_log("MTA-STS policy of good.test fetched: id 20260101T000000, mode enforce")

    def test_enforce_wildcard_pattern(self):
        line = self.send("w@wildcard.test")
        self.assertIn("status=sent", line)
        self.assertIn("relay=mx1.wild.test[127.0.0.1]", line)
        self.new_log("MTA-STS policy enforce of wildcard.test")

    def test_enforce_unlisted_mx_defers(self):
        line = self.send("b@nomatch.test")
        self.assertIn("dsn=4.7.5, status=deferred (MTA-STS policy of nomatch.test (enforce): "
                      "MX host mx.sts.test is not listed in the policy)", line)
        self.assertFalse(self.delivered("b@nomatch.test"))

    def test_enforce_bad_certificate_defers(self):
        line = self.send("c@badcert.test")
        self.assertIn("status=deferred", line)
        self.assertIn("Cannot start TLS", line)
        self.assertIn("other.sts.test[127.0.0.1]", line)
        self.assertFalse(self.delivered("c@badcert.test"))

    def test_testing_mode_logs_and_delivers(self):
        line = self.send("d@testing.test")
        self.assertIn("status=sent", line)
        self.assertTrue(self.delivered("d@testing.test"))
        self.new_log("MTA-STS policy of testing.test (testing): MX host mx.sts.test is not "
                     "listed in the policy; delivering anyway")

    def test_missing_policy_is_no_policy(self):
        line = self.send("e@missing.test")
        self.assertIn("status=sent", line)
        warn = self.new_log("MTA-STS policy of missing.test not fetched")
        self.assertIn("HTTP status 404", warn[0])

    def test_redirect_is_not_followed(self):
        before = self.web.fetches("good.test")
        line = self.send("f@redirect.test")
        self.assertIn("status=sent", line)
        warn = self.new_log("MTA-STS policy of redirect.test not fetched")
        self.assertIn("HTTP status 301", warn[0])
        self.assertEqual(self.web.fetches("redirect.test"), 1)
        self.assertEqual(self.web.fetches("good.test"), before)

    def test_zz_policy_cached_across_restart_and_refreshed_by_id(self):
        line = self.send("g@keep.test")
        self.assertIn("status=sent", line)
        self.assertEqual(self.web.fetches("keep.test"), 1)
        # The web server now names another MX: the cached policy must hold.
        self.web.serve("keep.test", policy("enforce", "elsewhere.example.net"))
        self.inst.stop()
        self.inst.start()
        self.log_start = len(self.inst.log())
        line = self.send("h@keep.test")
        self.assertIn("status=sent", line)
        self.assertEqual(self.web.fetches("keep.test"), 1)
        self.assertTrue(self.delivered("h@keep.test"))
        # A new id: the new policy is fetched and refuses mx.sts.test.
        self.dns.zone["_mta-sts.keep.test"] = [("TXT", "v=STSv1; id=2")]
        time.sleep(1.5)  # the smtp process's DNS cache keeps the old record for its 1 s TTL
        line = self.send("i@keep.test")
        self.assertIn("status=deferred (MTA-STS policy of keep.test (enforce): MX host "
                      "mx.sts.test is not listed", line)
        self.assertEqual(self.web.fetches("keep.test"), 2)
        self.new_log("MTA-STS policy of keep.test fetched: id 2, mode enforce")


if __name__ == "__main__":
    unittest.main()
