"""tern's maillog_file read by Debian's pflogsumm (--syslog-name=tern):
syslog-shaped lines with the host field, messages received, delivered
and bounced counted as pflogsumm counts Postfix's.  (Bytes received and
top senders need Postfix's order of smtpd's client= line before the
from=, size= line; see the report of issue 13.)"""
import os
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import unittest

from tern_instance import Instance, wait_until

SENDER = "s@example.com"


def send(port, rcpt):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.sendmail(SENDER, [rcpt], b"From: s@example.com\r\nSubject: x\r\n\r\nhello\r\n")


def grand_total(report, what):
    m = re.search(r"^\s*(\d+)\s+%s\b" % re.escape(what), report, re.M)
    assert m, "no %r in:\n%s" % (what, report)
    return int(m.group(1))


class PflogsummTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("pflogsumm") is None:
            self.fail("pflogsumm is not installed (make deps)")
        self.tmp = tempfile.mkdtemp(prefix="tern-pflogsumm-")
        os.chmod(self.tmp, 0o755)
        table = os.path.join(self.tmp, "transport")
        with open(table, "w") as f:
            f.write("bad.test error:5.1.1 no such user here\n")
        self.inst = Instance(mailboxes=["a@example.com", "b@example.com", SENDER],
                             main_cf={"transport_maps": "texthash:" + table})
        self.inst.start()

    def tearDown(self):
        self.inst.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_counts(self):
        for rcpt in ("a@example.com", "a@example.com", "b@example.com", "x@bad.test"):
            send(self.inst.smtp_port, rcpt)
        wait_until(lambda: len(self.inst.messages("a@example.com")) == 2
                   and self.inst.messages("b@example.com")
                   and self.inst.messages(SENDER), 20, what="deliveries and the bounce")
        host = socket.gethostname().split(".")[0]
        for line in self.inst.log().splitlines():
            self.assertRegex(line, r"^\w{3} [ \d]\d \d\d:\d\d:\d\d %s tern/[\w-]+\[\d+\]: "
                             % re.escape(host))
        r = subprocess.run(["pflogsumm", "--syslog-name=tern", self.inst.log_path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(grand_total(r.stdout, "received"), 4, r.stdout)
        # The bounce notice to the sender is a delivery too, as in Postfix.
        self.assertEqual(grand_total(r.stdout, "delivered"), 4, r.stdout)
        self.assertEqual(grand_total(r.stdout, "bounced"), 1, r.stdout)
        self.assertEqual(grand_total(r.stdout, "deferred"), 0, r.stdout)
        self.assertEqual(grand_total(r.stdout, "recipients"), 3, r.stdout)  # a, b, s


if __name__ == "__main__":
    unittest.main()
