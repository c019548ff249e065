"""DKIM signing in the mail path (cleanup/dkim_sign.c): mail from a
trusted client (loopback is in the default mynetworks) and local
submissions (sendmail) for a From: domain with an Ed25519 and an RSA key
in the instance's etc/dkim/ (made by `tern dkim keygen`) is delivered with
two DKIM-Signature fields that dkimpy (Debian's python3-dkim) verifies,
over a long body; From/To/Subject/Date are over-signed (a second Subject
breaks it); a domain without a key and mail from an untrusted client are
not signed; the signature carries cleanup's own Date:/Message-ID: when it
added them.  OpenDKIM (`opendkim -t` with TestPublicKeys, Debian's opendkim)
verifies both of tern's signatures too."""
import os
import re
import smtplib
import subprocess
import unittest

from dns_zone import ZoneDns
from tern_instance import TERN, Instance, wait_until
from test_dkim_verify import DEBIAN_PYTHON

USER = "alice@example.com"

VERIFY = r"""
import sys, dkim
records = dict(a.split("=", 1) for a in sys.argv[1:])
msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
n = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
res = [d.verify(idx=i, dnsfunc=lambda name, timeout=5: records.get(name.decode().rstrip("."), "").encode())
       for i in range(n)]
print(" ".join("pass" if r else "fail" for r in res))
"""


class DkimSigningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[USER], main_cf={})
        cls.records = {}
        for kind in ("ed25519", "rsa"):
            r = subprocess.run([TERN, "-c", cls.inst.dir, "dkim", "keygen", "example.com",
                                "--" + kind], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            m = re.match(r'(\S+)\._domainkey\.example\.com\. IN TXT \((.*)\)$', r.stdout.strip())
            assert m, r.stdout
            cls.records["%s._domainkey.example.com" % kind] = "".join(
                re.findall(r'"([^"]*)"', m.group(2)))
        assert os.path.exists(os.path.join(cls.inst.etc, "dkim", "example.com.rsa.key"))
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def delivered(self, subject):
        tag = ("Subject: %s\n" % subject).encode()

        def find():
            return [m for m in self.inst.messages(USER) if tag in m.replace(b"\r\n", b"\n")]
        wait_until(find, 30, what="delivery of %s" % subject)
        return find()[0]

    def dkimpy(self, msg):
        r = subprocess.run([DEBIAN_PYTHON, "-c", VERIFY] +
                           ["%s=%s" % kv for kv in self.records.items()],
                           input=msg, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().split()

    def signatures(self, msg):
        head = msg.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode()
        return re.findall(r"^DKIM-Signature:.*?(?=^\S)", head + "\nX", re.M | re.S)

    def smtp_send(self, sender, subject, body="Hello.\r\n", frm="Alice <alice@example.com>"):
        msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 7 Dec 2026 00:00:00 +0000\r\n"
               "Message-ID: <%s@example.com>\r\n\r\n%s" % (frm, USER, subject, subject, body))
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail(sender, [USER], msg.encode())

    def test_trusted_client_dual_signed(self):
        body = "".join("line %d  with   spaces \r\n" % i for i in range(5000)) + "\r\n\r\n"
        self.smtp_send("alice@example.com", "signed-smtp", body)
        msg = self.delivered("signed-smtp")
        sigs = self.signatures(msg)
        self.assertEqual(len(sigs), 2, sigs)
        self.assertTrue(any("a=ed25519-sha256" in s for s in sigs), sigs)
        self.assertTrue(any("a=rsa-sha256" in s for s in sigs), sigs)
        self.assertIn("h=from:from:", re.sub(r"\s", "", sigs[0]))
        self.assertEqual(self.dkimpy(msg), ["pass", "pass"])
        # over-signed Subject: one added later breaks both
        tampered = msg.replace(b"Subject: signed-smtp", b"Subject: signed-smtp\nSubject: more", 1)
        self.assertEqual(self.dkimpy(tampered), ["fail", "fail"])
        self.assertIn("dkim: signed d=example.com s=ed25519", self.inst.log())

    def test_local_submission_signed_with_added_headers(self):
        sendmail = os.path.join(os.path.dirname(TERN), "sendmail")
        msg = "From: alice@example.com\nTo: %s\nSubject: signed-local\n\nfrom sendmail\n" % USER
        subprocess.run([sendmail, "-C", self.inst.dir, "-f", "alice@example.com", USER],
                       input=msg.encode(), check=True, timeout=60)
        got = self.delivered("signed-local")
        sigs = self.signatures(got)
        self.assertEqual(len(sigs), 2, sigs)
        hlist = re.search(r"h=([^;]*);", re.sub(r"\s", "", sigs[0])).group(1).split(":")
        self.assertIn("date", hlist)
        self.assertIn("message-id", hlist)
        self.assertEqual(self.dkimpy(got), ["pass", "pass"])

    def test_domain_without_key_not_signed(self):
        self.smtp_send("bob@other.example", "unsigned-domain", frm="bob@other.example")
        self.assertEqual(self.signatures(self.delivered("unsigned-domain")), [])

    def test_opendkim_verifies(self):
        """OpenDKIM's own verifier (opendkim -t, in test mode: no daemon) with
        the public keys given by TestPublicKeys, one "name record" a line."""
        self.smtp_send("alice@example.com", "signed-opendkim", "For OpenDKIM.\r\n")
        msg = self.delivered("signed-opendkim")
        conf = os.path.join(self.inst.dir, "opendkim.conf")
        keys = os.path.join(self.inst.dir, "opendkim.keys")
        path = os.path.join(self.inst.dir, "signed.eml")
        with open(keys, "w") as f:
            for k, v in self.records.items():
                f.write("%s %s\n" % (k, v))
        with open(conf, "w") as f:
            f.write("TestPublicKeys %s\nSyslog no\n" % keys)
        with open(path, "wb") as f:
            f.write(msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        r = subprocess.run(["/usr/sbin/opendkim", "-x", conf, "-vv", "-t", path],
                           capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        self.assertEqual(r.returncode, 0, out)
        # OpenDKIM writes the Authentication-Results it would insert.
        self.assertIn("header.a=ed25519-sha256 header.s=ed25519", out)
        self.assertIn("header.a=rsa-sha256 header.s=rsa", out)
        self.assertEqual(out.count("dkim=pass"), 2, out)
        self.assertNotIn("dkim=fail", out)


if __name__ == "__main__":
    unittest.main()
