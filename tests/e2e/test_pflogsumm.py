"""tern's maillog_file read by Debian's pflogsumm (--syslog-name=tern):
syslog-shaped lines with the host field, messages received, delivered
and bounced counted as pflogsumm counts Postfix's, and bytes received and
senders, which pflogsumm counts only when smtpd's "QID: client=" line
comes before the message's "from=<>, size=" line (Postfix's order)."""
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


def received_sizes(log):
    """{qid: size} of the messages smtpd received, from the log."""
    smtpd = set(re.findall(r"tern/smtpd\[\d+\]: (\w+): client=", log))
    sizes = dict(re.findall(r": (\w+): from=<[^>]*>, size=(\d+),", log))
    return {q: int(sizes[q]) for q in smtpd if q in sizes}


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
        # Bytes and senders: the four messages from smtpd, not the bounce.
        log = self.inst.log()
        sizes = received_sizes(log)
        self.assertEqual(len(sizes), 4, log)
        for q in sizes:
            self.assertLess(log.index("%s: client=" % q), log.index("%s: from=<" % q))
        self.assertEqual(grand_total(r.stdout, "bytes received"), sum(sizes.values()), r.stdout)
        self.assertEqual(grand_total(r.stdout, "senders"), 1, r.stdout)
        self.assertEqual(grand_total(r.stdout, "sending hosts/domains"), 1, r.stdout)
        by_count = r.stdout.split("Senders by message count", 1)[1]
        self.assertRegex(by_count, r"^\s*-+\n\s+4\s+%s\n" % re.escape(SENDER))
        by_size = r.stdout.split("Senders by message size", 1)[1]
        self.assertRegex(by_size, r"^\s*-+\n\s+%d\s+%s\n" % (sum(sizes.values()),
                                                              re.escape(SENDER)))


if __name__ == "__main__":
    unittest.main()
