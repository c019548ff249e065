"""Postfix's virtual transport: a master.cf line "virtual unix - n n - -
virtual" with virtual_transport = virtual delivers virtual mailboxes
(tern's local in its virtual(8) mode), logged relay=virtual, and
transport_maps may route an address to it."""
import os
import shutil
import smtplib
import tempfile
import unittest

from tern_instance import Instance, wait_until

SENDER = "sender@example.com"


def send(port, rcpts, subject):
    msg = "From: %s\r\nSubject: %s\r\n\r\nvirtual body\r\n" % (SENDER, subject)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.sendmail(SENDER, rcpts, msg.encode())


class VirtualTransportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-virtual-")
        os.chmod(cls.tmp, 0o755)
        table = os.path.join(cls.tmp, "transport")
        with open(table, "w") as f:
            f.write("routed@example.com virtual:\n")
        cls.inst = Instance(mailboxes=[SENDER, "v@example.com", "routed@example.com"],
                            main_cf={"virtual_transport": "virtual",
                                     "transport_maps": "texthash:" + table})
        with open(cls.inst.master_cf_path, "a") as f:
            f.write("virtual   unix  -       n       n       -       -       virtual\n")
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def log_for(self, rcpt, status):
        def find():
            for line in self.inst.log().splitlines():
                if "to=<%s>" % rcpt in line and "status=%s" % status in line:
                    return line
            return None
        return wait_until(find, 20, what="%s %s" % (rcpt, status))

    def test_delivers_virtual_mailboxes(self):
        send(self.inst.smtp_port, ["v@example.com", "routed@example.com"], "via virtual")
        for rcpt in ("v@example.com", "routed@example.com"):
            wait_until(lambda: self.inst.messages(rcpt), 20, what=rcpt)
            (raw,) = self.inst.messages(rcpt)
            self.assertIn(b"Subject: via virtual", raw)
            self.assertTrue(raw.endswith(b"\n\nvirtual body\n"), raw[-40:])
            self.assertIn("relay=virtual", self.log_for(rcpt, "sent"))
        # Logged under the service's name, as Postfix's virtual(8) does.
        self.assertIn("tern/virtual[", self.log_for("v@example.com", "sent"))
