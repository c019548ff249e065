"""TLS-RPT (RFC 8460) reports of the smtp client: with smtp_tls_reports =
yes, deliveries to MX hosts under MTA-STS policies (the fixture of
test_mta_sts.py: policies over HTTPS from a test CA, a TLS SMTP server on
loopback as every MX) succeed or fail, each TLS session becomes a line of
smtp_tls_report_log, and `tern tlsrpt report` mails one gzipped JSON
report per policy domain to the mailto: of its _smtp._tls record
(multipart/report; report-type="tlsrpt", RFC 8460 5.3), POSTs one to an
https: rua, and writes them with --output.  The decompressed JSON is
checked: policies, counts, failure result types, addresses."""
import base64
import email
import glob
import gzip
import json
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

DOMAINS = ["good.test", "badcert.test", "nomatch.test", "missing.test", "posted.test",
           "testbad.test", "testunlisted.test"]
REPORTS = "tlsrpt@example.com"
RESULT_TYPES = {"starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
                "certificate-not-trusted", "validation-failure", "tlsa-invalid",
                "dnssec-invalid", "dane-required", "sts-policy-fetch-error",
                "sts-policy-invalid", "sts-webpki-invalid"}


class TlsRptTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-tlsrpt-")
        os.chmod(cls.tmp, 0o755)
        names = ["mx.sts.test", "reports.posted.test"] + ["mta-sts." + d for d in DOMAINS]
        chain, key, ca, _ = make_chain(cls.tmp, names)
        cls.smtp = FakeSMTPServer(tls=(chain, key))
        cls.web = PolicyServer(chain, key)
        zone = {"mx.sts.test": [("A", "127.0.0.1")],
                "other.sts.test": [("A", "127.0.0.1")],  # not in the certificate
                "reports.posted.test": [("A", "127.0.0.1")]}
        mx = {"badcert.test": "other.sts.test", "testbad.test": "other.sts.test"}
        for d in DOMAINS:
            zone[d] = [("MX", (10, mx.get(d, "mx.sts.test")))]
            zone["_mta-sts." + d] = [("TXT", "v=STSv1; id=1")]
            zone["mta-sts." + d] = [("A", "127.0.0.1")]
            zone["_smtp._tls." + d] = [("TXT", "v=TLSRPTv1; rua=mailto:%s" % REPORTS)]
        zone["_smtp._tls.posted.test"] = [
            ("TXT", "v=TLSRPTv1;rua=https://reports.posted.test:%d/tlsrpt" % cls.web.port)]
        cls.dns = ZoneDns(zone, ttl=1)
        cls.web.serve("good.test", policy("enforce", "mx.sts.test"))
        cls.web.serve("badcert.test", policy("enforce", "other.sts.test"))
        cls.web.serve("nomatch.test", policy("enforce", "mail.example.net"))
        cls.web.serve("posted.test", policy("testing", "mx.sts.test"))
        # testing mode: what enforce would refuse is delivered and reported
        cls.web.serve("testbad.test", policy("testing", "other.sts.test"))
        cls.web.serve("testunlisted.test", policy("testing", "mail.example.net"))
        tm = os.path.join(cls.tmp, "transport")
        with open(tm, "w") as f:
            for d in DOMAINS:
                f.write("%s smtp:%s:%d\n" % (d, d, cls.smtp.port))
        cls.inst = Instance(mailboxes=[REPORTS], main_cf={
            "transport_maps": "texthash:" + tm, "dns_servers": "127.0.0.1:%d" % cls.dns.port,
            "inet_protocols": "ipv4", "smtp_tls_CAfile": ca, "smtp_mta_sts_CAfile": ca,
            "smtp_mta_sts_https_port": str(cls.web.port),
            "smtp_connection_cache_on_demand": "no",
            "smtp_tls_reports": "yes",
            "tlsrpt_report_org_name": "Tern Test Sender",
            "tlsrpt_report_sender": "tls-reports@example.com",
            "tlsrpt_report_https_CAfile": ca})
        cls.inst.start()
        cls.log = os.path.join(cls.inst.main_cf_value("data_directory"), "smtp_tls_report.log")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.smtp.stop()
        cls.web.stop()
        cls.dns.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        # Each test starts from an empty log (smtp opens it for each line).
        for p in (self.log, self.log + ".sending"):
            if os.path.exists(p):
                os.unlink(p)

    def send(self, rcpt, status):
        start = len(self.inst.log())
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail("from@example.com", [rcpt], b"Subject: tlsrpt\r\n\r\nhello\r\n")

        def line():
            return [l for l in self.inst.log()[start:].splitlines() if "to=<%s>" % rcpt in l]
        got = wait_until(line, 30, what="the delivery to %s" % rcpt)
        self.assertIn("status=" + status, got[0])

    def lines(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def report_mails(self):
        return [email.message_from_bytes(m) for m in self.inst.messages(REPORTS)
                if b"TLS-Report-Domain:" in m]

    def test_testing_mode_failures_are_delivered_and_reported(self):
        start = len(self.inst.log())
        self.send("t@testbad.test", "sent")
        self.send("u@testunlisted.test", "sent")
        self.assertTrue([l for l in self.inst.log()[start:].splitlines() if
                         "MTA-STS policy of testbad.test (testing): the certificate of "
                         "other.sts.test is not verified: " in l and "delivering anyway" in l])
        wait_until(lambda: len(self.lines()) >= 2, 30, what="2 outcomes")
        out = os.path.join(self.tmp, "out-testing")
        os.mkdir(out)
        begin, end = int(time.time()) - 120, int(time.time()) + 60
        # "send": the name issue 20 gives "report"
        r = self.inst.tern("tlsrpt", "send", "--output", out, "--range", str(begin), str(end))
        reports = {}
        for f in os.listdir(out):
            with gzip.open(os.path.join(out, f)) as g:
                reports[f.split("!")[1]] = json.load(g)
        self.assertEqual(set(reports), {"testbad.test", "testunlisted.test"},
                         (r.stdout, r.stderr))
        for domain, mx, result in (("testbad.test", "other.sts.test", "certificate-host-mismatch"),
                                   ("testunlisted.test", "mx.sts.test", "validation-failure")):
            [pol] = reports[domain]["policies"]
            self.assertEqual(pol["policy"]["policy-type"], "sts")
            self.assertIn("mode: testing", pol["policy"]["policy-string"])
            self.assertEqual(pol["summary"], {"total-successful-session-count": 0,
                                              "total-failure-session-count": 1})
            [fd] = pol["failure-details"]
            self.assertEqual(fd["result-type"], result)
            self.assertEqual(fd["receiving-mx-hostname"], mx)

    def test_reports(self):
        begin = int(time.time()) - 5
        before = 0
        self.send("a@good.test", "sent")
        self.send("b@good.test", "sent")
        self.send("c@badcert.test", "deferred")
        self.send("d@nomatch.test", "deferred")
        self.send("e@missing.test", "sent")  # no policy: 404
        self.send("f@posted.test", "sent")
        # good 2, badcert 1, nomatch 1, missing 2 (fetch error, session), posted 1
        wait_until(lambda: len(self.lines()) >= before + 7, 30, what="7 outcomes")
        self.assertEqual(len(self.lines()), before + 7, self.lines())
        end = int(time.time()) + 60

        out = os.path.join(self.tmp, "out")
        os.mkdir(out)
        r = self.inst.tern("tlsrpt", "report", "--output", out, "--range", str(begin), str(end))
        files = sorted(os.listdir(out))
        self.assertEqual(len(files), 5, (files, r.stdout, r.stderr))
        for f in files:
            self.assertRegex(f, r"^[^!]+![a-z.]+!%d!%d\.json\.gz$" % (begin, end - 1))
        self.assertFalse(os.path.exists(self.log + ".sending"))
        reports = {}
        for f in files:
            with gzip.open(os.path.join(out, f)) as g:
                rep = json.load(g)
            reports[f.split("!")[1]] = rep
        good = reports["good.test"]
        self.assertEqual(good["organization-name"], "Tern Test Sender")
        self.assertEqual(good["contact-info"], "tls-reports@example.com")
        self.assertEqual(good["date-range"]["start-datetime"],
                         time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(begin)))
        self.assertTrue(good["report-id"])
        [pol] = good["policies"]
        self.assertEqual(pol["policy"]["policy-type"], "sts")
        self.assertEqual(pol["policy"]["policy-domain"], "good.test")
        self.assertEqual(pol["policy"]["mx-host"], ["mx.sts.test"])
        self.assertIn("mode: enforce", pol["policy"]["policy-string"])
        self.assertEqual(pol["summary"], {"total-successful-session-count": 2,
                                          "total-failure-session-count": 0})
        self.assertNotIn("failure-details", pol)

        [pol] = reports["badcert.test"]["policies"]
        self.assertEqual(pol["summary"]["total-failure-session-count"], 1)
        self.assertEqual(pol["summary"]["total-successful-session-count"], 0)
        [fd] = pol["failure-details"]
        self.assertEqual(fd["result-type"], "certificate-host-mismatch")
        self.assertEqual(fd["receiving-mx-hostname"], "other.sts.test")
        self.assertEqual(fd["receiving-ip"], "127.0.0.1")
        self.assertEqual(fd["sending-mta-ip"], "127.0.0.1")
        self.assertEqual(fd["failed-session-count"], 1)

        [pol] = reports["nomatch.test"]["policies"]
        [fd] = pol["failure-details"]
        self.assertEqual(fd["result-type"], "validation-failure")
        self.assertEqual(fd["receiving-mx-hostname"], "mx.sts.test")

        pols = {p["policy"]["policy-type"]: p for p in reports["missing.test"]["policies"]}
        self.assertEqual(set(pols), {"sts", "no-policy-found"})
        [fd] = pols["sts"]["failure-details"]
        self.assertEqual(fd["result-type"], "sts-policy-fetch-error")
        self.assertIn("404", fd["failure-reason-code"])
        self.assertEqual(pols["no-policy-found"]["summary"]["total-successful-session-count"], 1)

        for rep in reports.values():
            for p in rep["policies"]:
                for fd in p.get("failure-details", []):
                    self.assertIn(fd["result-type"], RESULT_TYPES)

        # The same sessions again, sent: the log was taken by the run
        # above, so the deliveries are repeated.
        mails_before = len(self.report_mails())
        self.send("g@good.test", "sent")
        self.send("h@badcert.test", "deferred")
        self.send("i@posted.test", "sent")
        wait_until(lambda: len(self.lines()) >= 3, 30, what="3 outcomes")
        r = self.inst.tern("tlsrpt", "report", "--range", str(begin), str(end))
        self.assertIn("good.test: report", r.stdout)
        self.assertIn("sent to <%s>" % REPORTS, r.stdout)
        self.assertIn("posted to https://reports.posted.test:%d/tlsrpt" % self.web.port,
                      r.stdout)
        self.assertFalse(os.path.exists(self.log + ".sending"))
        wait_until(lambda: len(self.report_mails()) >= mails_before + 2, 30,
                   what="two report mails")
        mails = {m["TLS-Report-Domain"]: m for m in self.report_mails()[mails_before:]}
        self.assertEqual(set(mails), {"good.test", "badcert.test"})
        m = mails["badcert.test"]
        self.assertEqual(m.get_content_type(), "multipart/report")
        self.assertEqual(m.get_param("report-type"), "tlsrpt")
        self.assertEqual(m["From"], "tls-reports@example.com")
        self.assertTrue(m["TLS-Report-Submitter"])
        self.assertTrue(m["Subject"].startswith("Report Domain: badcert.test Submitter: "))
        [part] = [p for p in m.walk() if p.get_content_type() == "application/tlsrpt+gzip"]
        self.assertRegex(part.get_filename(),
                         r"^%s!badcert\.test!%d!%d\.json\.gz$"
                         % (m["TLS-Report-Submitter"].replace(".", r"\."), begin, end - 1))
        rep = json.loads(gzip.decompress(base64.b64decode(part.get_payload())))
        [pol] = rep["policies"]
        self.assertEqual(pol["summary"]["total-failure-session-count"], 1)
        self.assertEqual(pol["failure-details"][0]["result-type"], "certificate-host-mismatch")
        rep = json.loads(gzip.decompress(base64.b64decode(
            [p for p in mails["good.test"].walk()
             if p.get_content_type() == "application/tlsrpt+gzip"][0].get_payload())))
        self.assertEqual(rep["policies"][0]["summary"]["total-successful-session-count"], 1)
        [post] = [p for p in self.web.posts if p[0] == "reports.posted.test"]
        self.assertEqual(post[1], "/tlsrpt")
        self.assertEqual(post[2], "application/tlsrpt+gzip")
        rep = json.loads(gzip.decompress(post[3]))
        self.assertEqual(rep["policies"][0]["policy"]["policy-domain"], "posted.test")
        self.assertEqual(rep["policies"][0]["summary"]["total-successful-session-count"], 1)

    def test_later_lines_stay_for_the_next_run(self):
        # A line after the range's end goes back to the log.
        self.send("j@good.test", "sent")
        wait_until(lambda: len(self.lines()) >= 1, 30, what="an outcome")
        r = self.inst.tern("tlsrpt", "report", "--range", "1000", "2000")
        self.assertIn("no TLS sessions to report", r.stdout)
        self.assertEqual(len(self.lines()), 1, self.lines())
        self.assertTrue(self.lines()[0].startswith("1\t"))
        # ... and smtp can still append to the log the command put it in.
        self.send("k@good.test", "sent")
        wait_until(lambda: len(self.lines()) >= 2, 30, what="an outcome after the run")


if __name__ == "__main__":
    unittest.main()
