"""DMARC aggregate reports (RFC 9990): with dmarc_aggregate_reports =
yes, cleanup records one line per DMARC evaluation of a domain whose
record has rua=; `tern dmarc report --output DIR` writes one gzipped XML
report per policy domain (validated against RFC 9990's schema,
tests/data/dmarc-2.0.xsd, with xmllint, and parsed here: metadata, policy
published, one record per distinct result with its count, identifiers,
auth results, the reason of t=y), and `tern dmarc report` mails it, as a
gzip attachment named RECEIVER!DOMAIN!BEGIN!END.xml.gz under RFC 9990's
Subject, to the rua= address, but only after the check for an outside
destination (DOMAIN._report._dmarc.DEST must say v=DMARC1; else nothing
is sent).  A domain without rua= is not recorded.  Lines of the log's
version 1 (tern before RFC 9990) still make a valid report.  DNS from a
zone server on loopback; mail by SMTP from a client outside
mynetworks."""
import base64
import email
import glob
import gzip
import os
import re
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

from dns_zone import ZoneDns
from smtpd_util import Conn
from tern_instance import Instance, wait_until

USER = "alice@example.com"
REPORTS = "reports@example.com"
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "dmarc-2.0.xsd")
NS = "{urn:ietf:params:xml:ns:dmarc-2.0}"


def report_root(data):
    """The report's XML checked against RFC 9990's schema; its root with
    the namespace taken off the tags (asserted first)."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as f:
        f.write(data)
        f.flush()
        r = subprocess.run(["xmllint", "--noout", "--schema", SCHEMA, f.name],
                           capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + data.decode()
    root = ET.fromstring(data)
    assert root.tag == NS + "feedback", root.tag
    for el in root.iter():
        assert el.tag.startswith(NS), el.tag
        el.tag = el.tag[len(NS):]
    return root


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
            "_dmarc.test.example": [("TXT", "v=DMARC1; p=reject; t=y; rua=mailto:%s" % REPORTS)],
            "test.example": [("TXT", "v=spf1 -all")],
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

    def send(self, frm, sender, subject, helo="client.example.org"):
        c = Conn(self.inst.smtp_port)
        self.assertEqual(c.reply()[0], 220)
        c.ehlo(helo)
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
        self.send("n@rep.example", "", "r5", helo="helo.rep.example")
        self.send("t@test.example", "bob@test.example", "r6")
        lines = self.evaluations(before + 5)
        self.assertEqual(len(lines), before + 5, lines)  # quiet.example has no rua=
        self.assertTrue(all(l.startswith("2\t") for l in lines), lines)
        out = os.path.join(self.tmp, "out")
        os.mkdir(out)
        r = self.inst.tern("dmarc", "report", "--output", out)
        self.assertIn("rep.example: report", r.stdout)
        receiver = self.inst.main_cf_value("myhostname")
        files = glob.glob(os.path.join(out, "*!rep.example!*.xml.gz"))
        self.assertEqual(len(files), 1, os.listdir(out))
        self.assertTrue(os.path.basename(files[0]).startswith(receiver + "!rep.example!"))
        self.assertFalse(os.path.exists(self.log))
        self.assertFalse(os.path.exists(self.log + ".sending"))
        with gzip.open(files[0]) as f:
            root = report_root(f.read())
        self.assertEqual(root.findtext("version"), "1.0")
        meta = root.find("report_metadata")
        self.assertEqual(meta.findtext("org_name"), "Tern Test Receiver")
        self.assertEqual(meta.findtext("email"), "dmarc-reports@example.com")
        self.assertEqual(meta.findtext("generator"), "tern")
        begin = int(meta.findtext("date_range/begin"))
        end = int(meta.findtext("date_range/end"))
        self.assertLessEqual(begin, end)
        self.assertEqual(meta.findtext("report_id"),
                         "%d.%d.rep.example@%s" % (begin, end, receiver))
        self.assertTrue(os.path.basename(files[0]).endswith("!%d!%d.xml.gz" % (begin, end)))
        pol = root.find("policy_published")
        self.assertEqual(pol.findtext("domain"), "rep.example")
        self.assertEqual(pol.findtext("discovery_method"), "treewalk")
        self.assertEqual(pol.findtext("p"), "none")
        self.assertEqual(pol.findtext("sp"), "none")
        self.assertEqual(pol.findtext("np"), "none")
        self.assertEqual(pol.findtext("adkim"), "r")
        self.assertEqual(pol.findtext("testing"), "n")
        self.assertIsNone(pol.find("pct"))  # RFC 9990 has none
        records = root.findall("record")
        by_spf = {r.findtext("auth_results/spf/domain"): r for r in records}
        self.assertEqual(set(by_spf), {"rep.example", "elsewhere.example", "helo.rep.example"},
                         ET.tostring(root))
        ok = by_spf["rep.example"]
        self.assertEqual(ok.findtext("row/source_ip"), "127.0.0.1")
        self.assertEqual(ok.findtext("row/count"), "2")
        self.assertEqual(ok.findtext("row/policy_evaluated/disposition"), "none")
        self.assertEqual(ok.findtext("row/policy_evaluated/spf"), "pass")
        self.assertEqual(ok.findtext("row/policy_evaluated/dkim"), "fail")
        self.assertIsNone(ok.find("row/policy_evaluated/reason"))
        self.assertEqual(ok.findtext("identifiers/header_from"), "rep.example")
        self.assertEqual(ok.findtext("identifiers/envelope_from"), "rep.example")
        self.assertEqual(ok.findtext("auth_results/spf/scope"), "mfrom")
        self.assertEqual(ok.findtext("auth_results/spf/result"), "pass")
        bad = by_spf["elsewhere.example"]
        self.assertEqual(bad.findtext("row/count"), "1")
        self.assertEqual(bad.findtext("row/policy_evaluated/spf"), "fail")
        self.assertEqual(bad.findtext("identifiers/envelope_from"), "elsewhere.example")
        self.assertEqual(bad.findtext("auth_results/spf/result"), "none")
        # the null reverse-path: envelope_from there but empty, SPF of
        # postmaster@HELO (RFC 7208 2.4: still the MAIL FROM identity)
        null = by_spf["helo.rep.example"]
        self.assertEqual(null.find("identifiers/envelope_from").text, None)
        self.assertEqual(null.findtext("auth_results/spf/scope"), "mfrom")
        # t=y: reject became quarantine, and the report says why
        files = glob.glob(os.path.join(out, "*!test.example!*.xml.gz"))
        self.assertEqual(len(files), 1, os.listdir(out))
        with gzip.open(files[0]) as f:
            root = report_root(f.read())
        self.assertEqual(root.findtext("policy_published/p"), "reject")
        self.assertEqual(root.findtext("policy_published/testing"), "y")
        row = root.find("record/row")
        self.assertEqual(row.findtext("policy_evaluated/disposition"), "quarantine")
        self.assertEqual(row.findtext("policy_evaluated/reason/type"), "policy_test_mode")

    def test_3_old_lines_and_every_reason(self):
        """A log holding a version-1 line (tern before RFC 9990) and
        version-2 lines with each reason makes one valid report."""
        v2 = ("2\t%d\tlog.example\tmailto:r@log.example\treject\t-\tquarantine\ty"
              "\tpsl\ts\ts\t2001:db8::1\tsub.log.example\t%s\t%s\tfail\tfail\t%s\t%s\t%s%s")
        with open(self.log, "a") as f:
            f.write("1\t1765000000\tlog.example\tmailto:r@log.example\treject\t-\t-\t50\tr\tr"
                    "\t192.0.2.1\tlog.example\tnone\tfail\tfail\tlog.example\tsoftfail"
                    "\tlog.example/s1/fail\tarc=fwd.example\n")
            f.write(v2 % (1765000100, "log.example", "quarantine", "policy_test_mode",
                          "log.example", "fail",
                          "\tlog.example/s1/pass\tother.example/s2/permerror") + "\n")
            f.write(v2 % (1765000200, "<>", "none", "sampled_out", "helo.example", "temperror",
                          "") + "\n")
            f.write(v2 % (1765000300, "-", "pass", "-", "-", "-", "\tlog.example/s1/pass") + "\n")
            f.write("2\tbroken\n")
        out = os.path.join(self.tmp, "out3")
        os.mkdir(out)
        r = self.inst.tern("dmarc", "report", "--output", out)
        self.assertIn("1 bad line(s)", r.stderr)
        files = glob.glob(os.path.join(out, "*!log.example!1765000000!1765000300.xml.gz"))
        self.assertEqual(len(files), 1, os.listdir(out))
        with gzip.open(files[0]) as f:
            root = report_root(f.read())
        pol = root.find("policy_published")  # the last line's
        self.assertEqual((pol.findtext("p"), pol.findtext("sp"), pol.findtext("np")),
                         ("reject", "reject", "quarantine"))
        self.assertEqual(pol.findtext("discovery_method"), "psl")
        reasons = [r.findtext("row/policy_evaluated/reason/type") for r in root.findall("record")]
        self.assertEqual(reasons, ["trusted_forwarder", "policy_test_mode", "other", None])
        self.assertEqual(len(root.findall("record")[1].findall("auth_results/dkim")), 2)

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
        receiver = self.inst.main_cf_value("myhostname")
        # RFC 9990: "Report Domain: D Submitter: RECEIVER Report-ID: <ID>",
        # the ID the report's own, the file RECEIVER!D!BEGIN!END.xml.gz
        subject = " ".join(msg["Subject"].split())
        m = re.fullmatch(r"Report Domain: rep\.example Submitter: (\S+) Report-ID: <(\S+)>",
                         subject)
        self.assertTrue(m, subject)
        self.assertEqual(m.group(1), receiver)
        self.assertEqual(msg["From"], "dmarc-reports@example.com")
        parts = [p for p in msg.walk() if p.get_content_type() == "application/gzip"]
        self.assertEqual(len(parts), 1)
        root = report_root(gzip.decompress(base64.b64decode(parts[0].get_payload())))
        self.assertEqual(root.findtext("policy_published/domain"), "rep.example")
        self.assertEqual(root.findtext("report_metadata/report_id"), m.group(2))
        self.assertEqual(parts[0].get_filename(), "%s!rep.example!%s!%s.xml.gz" % (
            receiver, root.findtext("report_metadata/date_range/begin"),
            root.findtext("report_metadata/date_range/end")))
        self.assertEqual([r.findtext("row/count") for r in root.findall("record")], ["1"])


if __name__ == "__main__":
    unittest.main()
