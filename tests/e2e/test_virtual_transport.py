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


class VirtualExtensionTest(unittest.TestCase):
    """recipient_delimiter = + : "dave+news@example.com" is dave's virtual
    mailbox at smtpd's RCPT check and at delivery (Postfix's table order
    user+ext@domain, user@domain, @domain); an unknown user stays unknown
    with or without an extension."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[SENDER, "dave@example.com"],
                            main_cf={"recipient_delimiter": "+"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_extension_reaches_the_mailbox(self):
        send(self.inst.smtp_port, ["dave+news@example.com"], "with extension")
        wait_until(lambda: self.inst.messages("dave@example.com"), 20, what="dave's mail")
        (raw,) = self.inst.messages("dave@example.com")
        self.assertIn(b"Subject: with extension", raw)
        self.assertIn(b"Delivered-To: dave+news@example.com", raw)

    def test_unknown_user_with_extension_refused(self):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.ehlo("client.test")
            s.mail(SENDER)
            code, text = s.rcpt("eve+news@example.com")
            self.assertEqual(code, 550, text)
            self.assertIn(b"User unknown in virtual mailbox table", text)
