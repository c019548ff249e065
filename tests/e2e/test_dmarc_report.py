"""DMARC aggregate reports (RFC 7489 7.2): with dmarc_aggregate_reports =
yes, cleanup records one line per DMARC evaluation of a domain whose
record has rua=; `tern dmarc report --output DIR` writes one gzipped XML
report per policy domain (parsed here: metadata, policy published, one
record per distinct result with its count, auth results), and `tern dmarc
report` mails it, as a gzip attachment, to the rua= address, but only
after RFC 7489 7.1's check for an outside destination
(DOMAIN._report._dmarc.DEST must say v=DMARC1; else nothing is sent).
A domain without rua= is not recorded.  DNS from a zone server on
loopback; mail by SMTP from a client outside mynetworks."""
import base64
import email
import glob
import gzip
import os
import tempfile
import unittest
import xml.etree.ElementTree as ET

from dns_zone import ZoneDns
from smtpd_util import Conn
from tern_instance import Instance, wait_until

USER = "alice@example.com"
REPORTS = "reports@example.com"


class DmarcReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-dmarc-report-")
        zone = {
            "rep.example": [("TXT", "v=spf1 ip4:127.0.0.0/8 -all")],
            "_dmarc.rep.example": [("TXT", "v=DMARC1; p=none; rua=mailto:%s" % REPORTS)],
            "rep.example._report._dmarc.example.com": [("TXT", "v=DMARC1")],
            "_dmarc.norep.example": [("TXT", "v=DMARC1; p=none; rua=mailto:%s" % REPORTS)],
            "_dmarc.quiet.example": [("TXT", "v=DMARC1; p=none")],
            "quiet.example": [("TXT", "v=spf1 ip4:127.0.0.0/8 -all")],
        }
        cls.dns = ZoneDns(zone)
        cls.inst = Instance(mailboxes=[USER, REPORTS], main_cf={
            "mynetworks": "192.0.2.0/24",
            "dns_servers": "127.0.0.1:%d" % cls.dns.port,
            "smtpd_spf_policy": "mark",
            "cleanup_dns_timeout": "2s",
            "smtpd_dns_timeout": "4s",
            "dmarc_aggregate_reports": "yes",
            "dmarc_report_org_name": "Tern Test Receiver",
            "dmarc_report_sender": "dmarc-reports@example.com",
        })
        cls.inst.start()
        cls.log = os.path.join(cls.inst.main_cf_value("data_directory"), "dmarc_aggregate.log")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.dns.stop()

    def send(self, frm, sender, subject):
        c = Conn(self.inst.smtp_port)
        self.assertEqual(c.reply()[0], 220)
        c.ehlo("client.example.org")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % USER)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nHello.\r\n.\r\n"
               % (frm, USER, subject))
        self.assertEqual(c.reply()[0], 250)
        c.cmd("QUIT")
        c.close()

    def lines(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return f.read().splitlines()

    def evaluations(self, want):
        wait_until(lambda: len(self.lines()) >= want, 30, what="%d evaluations" % want)
        return self.lines()

    def test_1_report_written(self):
        before = len(self.lines())
        self.send("x@rep.example", "bob@rep.example", "r1")
        self.send("y@rep.example", "bob@rep.example", "r2")
        self.send("z@rep.example", "eve@elsewhere.example", "r3")
        self.send("q@quiet.example", "bob@quiet.example", "r4")
        lines = self.evaluations(before + 3)
        self.assertEqual(len(lines), before + 3, lines)  # quiet.example has no rua=
        self.assertTrue(all(l.startswith("1\t") for l in lines), lines)
        out = os.path.join(self.tmp, "out")
        os.mkdir(out)
        r = self.inst.tern("dmarc", "report", "--output", out)
        self.assertIn("rep.example: report", r.stdout)
        files = glob.glob(os.path.join(out, "*!rep.example!*.xml.gz"))
        self.assertEqual(len(files), 1, os.listdir(out))
        self.assertFalse(os.path.exists(self.log))
        self.assertFalse(os.path.exists(self.log + ".sending"))
        with gzip.open(files[0]) as f:
            root = ET.parse(f).getroot()
        self.assertEqual(root.tag, "feedback")
        meta = root.find("report_metadata")
        self.assertEqual(meta.findtext("org_name"), "Tern Test Receiver")
        self.assertEqual(meta.findtext("email"), "dmarc-reports@example.com")
        begin = int(meta.findtext("date_range/begin"))
        end = int(meta.findtext("date_range/end"))
        self.assertLessEqual(begin, end)
        self.assertTrue(os.path.basename(files[0]).endswith("!%d!%d.xml.gz" % (begin, end)))
        pol = root.find("policy_published")
        self.assertEqual(pol.findtext("domain"), "rep.example")
        self.assertEqual(pol.findtext("p"), "none")
        self.assertEqual(pol.findtext("adkim"), "r")
        self.assertEqual(pol.findtext("pct"), "100")
        records = root.findall("record")
        by_spf = {r.findtext("auth_results/spf/domain"): r for r in records}
        self.assertEqual(set(by_spf), {"rep.example", "elsewhere.example"}, ET.tostring(root))
        ok = by_spf["rep.example"]
        self.assertEqual(ok.findtext("row/source_ip"), "127.0.0.1")
        self.assertEqual(ok.findtext("row/count"), "2")
        self.assertEqual(ok.findtext("row/policy_evaluated/disposition"), "none")
        self.assertEqual(ok.findtext("row/policy_evaluated/spf"), "pass")
        self.assertEqual(ok.findtext("row/policy_evaluated/dkim"), "fail")
        self.assertEqual(ok.findtext("identifiers/header_from"), "rep.example")
        self.assertEqual(ok.findtext("auth_results/spf/result"), "pass")
        bad = by_spf["elsewhere.example"]
        self.assertEqual(bad.findtext("row/count"), "1")
        self.assertEqual(bad.findtext("row/policy_evaluated/spf"), "fail")
        self.assertEqual(bad.findtext("auth_results/spf/result"), "none")

    def test_2_report_mailed_with_destination_check(self):
        before = len(self.lines())
        self.send("x@rep.example", "bob@rep.example", "m1")
        self.send("x@norep.example", "bob@norep.example", "m2")
        self.evaluations(before + 2)
        r = self.inst.tern("dmarc", "report")
        self.assertIn("rep.example: report", r.stdout)
        self.assertIn("sent to <%s>" % REPORTS, r.stdout)
        # norep.example gave no permission for reports to go to example.com
        self.assertIn("norep.example: not sent to <%s>: norep.example._report._dmarc."
                      "example.com has no v=DMARC1 record" % REPORTS, r.stdout)
        self.assertFalse(os.path.exists(self.log + ".sending"))

        def reports():
            return [m for m in self.inst.messages(REPORTS) if b"Report Domain:" in m]
        wait_until(lambda: reports(), 30, what="the report's delivery")
        msgs = reports()
        self.assertEqual(len(msgs), 1, msgs)
        msg = email.message_from_bytes(msgs[0])
        self.assertTrue(msg["Subject"].startswith("Report Domain: rep.example Submitter: "
                                                  "Tern Test Receiver Report-ID: <"))
        self.assertEqual(msg["From"], "dmarc-reports@example.com")
        parts = [p for p in msg.walk() if p.get_content_type() == "application/gzip"]
        self.assertEqual(len(parts), 1)
        self.assertIn("!rep.example!", parts[0].get_filename())
        root = ET.fromstring(gzip.decompress(base64.b64decode(parts[0].get_payload())))
        self.assertEqual(root.findtext("policy_published/domain"), "rep.example")
        self.assertEqual([r.findtext("row/count") for r in root.findall("record")], ["1"])


if __name__ == "__main__":
    unittest.main()
