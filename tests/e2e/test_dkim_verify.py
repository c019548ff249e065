"""DKIM verification (`tern dkim verify`) against an independent signer:
messages signed by dkimpy (Debian's python3-dkim: dkimsign, dkim.sign)
with RSA-2048 and Ed25519 keys made by dknewkey, in every simple/relaxed
combination, over folded headers, 8-bit bodies, trailing blank lines and
LF or CRLF line ends, verify as pass; tampered ones (a header, the body,
content appended past l=) as fail; revoked keys, rsa-sha1 and missing
keys as permerror; a failing DNS server as temperror.  The RFC 8463
example message from dkimpy's test data verifies.  Messages OpenDKIM signs
(`opendkim -t`, Debian's opendkim) verify as pass, and fail once altered.  Keys come from a zone
DNS server on loopback."""
import base64
import os
import re
import subprocess
import tempfile
import unittest

from dns_zone import ZoneDns
from tern_instance import TERN

DEBIAN_PYTHON = "/usr/bin/python3"  # python3-dkim lives there
DKIMPY_DATA = "/usr/lib/python3/dist-packages/dkim/tests/data"

MESSAGES = {
    "plain": b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n"
             b"Subject: hello\r\nDate: Sun, 6 Dec 2026 20:00:00 +0000\r\n"
             b"Message-ID: <1@example.com>\r\n\r\nHello Bob.\r\n",
    "folded": b"From: Alice\r\n  <alice@example.com>\r\nTo: bob@example.org,\r\n\t carol@example.org\r\n"
              b"Subject:   a   folded\r\n   subject   line  \r\n\r\n"
              b"body  with   spaces   \r\n\tand tabs\t\r\n",
    "8bit": "From: alice@example.com\r\nSubject: caf\u00e9\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "Gr\u00fc\u00dfe aus K\u00f6ln \u2013 \u00e7a va?\r\n".encode(),
    "trailing": b"From: alice@example.com\r\nSubject: blank lines\r\n\r\n"
                b"text\r\n\r\n\r\n\r\n",
    "empty": b"From: alice@example.com\r\nSubject: empty body\r\n\r\n",
}

SIGN = r"""
import sys, dkim
sel, dom, keyfile, alg, hc, bc, length = sys.argv[1:8]
msg = sys.stdin.buffer.read()
key = open(keyfile, "rb").read()
sig = dkim.sign(msg, sel.encode(), dom.encode(), key, canonicalize=(hc.encode(), bc.encode()),
                signature_algorithm=alg.encode(), length=length == "1",
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id", b"from",
                                 b"subject"])
sys.stdout.buffer.write(sig + msg)
"""


class DkimVerifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-dkim-")
        zone = {}
        for sel, ktype in (("ed", "ed25519"), ("rs", "rsa")):
            subprocess.run(["dknewkey", "--ktype", ktype, os.path.join(cls.tmp, sel)],
                           check=True, capture_output=True, timeout=60)
            with open(os.path.join(cls.tmp, sel + ".dns")) as f:
                zone["%s._domainkey.example.com" % sel] = [("TXT", f.read().strip())]
        with open(os.path.join(DKIMPY_DATA, "ed25519test.dns")) as f:
            zone["brisbane._domainkey.football.example.com"] = [
                ("TXT", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")]
        # An RSA key OpenDKIM signs with (opendkim -t, test mode, no daemon).
        cls.od_key = os.path.join(cls.tmp, "od.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", cls.od_key],
                       check=True, capture_output=True, timeout=60)
        der = subprocess.run(["openssl", "pkey", "-in", cls.od_key, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True, timeout=60).stdout
        zone["od._domainkey.example.com"] = [
            ("TXT", "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode())]
        zone["revoked._domainkey.example.com"] = [("TXT", "v=DKIM1; k=ed25519; p=")]
        zone["broken._domainkey.example.com"] = ["TIMEOUT"]
        cls.dns = ZoneDns(zone)
        cls.conf = os.path.join(cls.tmp, "etc")
        os.mkdir(cls.conf)
        with open(os.path.join(cls.conf, "main.cf"), "w") as f:
            f.write("dns_servers = 127.0.0.1:%d\nsmtpd_dns_timeout = 4s\n" % cls.dns.port)

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def sign(self, msg, sel="ed", alg="ed25519-sha256", hc="relaxed", bc="relaxed",
             length=False, domain="example.com"):
        r = subprocess.run([DEBIAN_PYTHON, "-c", SIGN, sel, domain,
                            os.path.join(self.tmp, sel + ".key"), alg, hc, bc,
                            "1" if length else "0"],
                           input=msg, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def verify(self, msg):
        r = subprocess.run([TERN, "-c", self.conf, "dkim", "verify"], input=msg,
                           capture_output=True, timeout=60)
        return r.returncode, r.stdout.decode().strip().splitlines()

    def test_dkimpy_signed_messages_pass(self):
        for sel, alg in (("ed", "ed25519-sha256"), ("rs", "rsa-sha256")):
            for hc in ("simple", "relaxed"):
                for bc in ("simple", "relaxed"):
                    for name, msg in MESSAGES.items():
                        for lf in (False, True):
                            with self.subTest(alg=alg, c=hc + "/" + bc, msg=name, lf=lf):
                                signed = self.sign(msg, sel, alg, hc, bc)
                                if lf:  # stored with LF line ends, as in a Maildir
                                    signed = signed.replace(b"\r\n", b"\n")
                                rc, lines = self.verify(signed)
                                self.assertEqual(lines, ["dkim=pass d=example.com s=%s a=%s"
                                                         % (sel, alg)])
                                self.assertEqual(rc, 0)

    def opendkim_sign(self, msg, canon):
        """The message with OpenDKIM's signature on top (opendkim -t prints
        the header it would insert)."""
        conf = os.path.join(self.tmp, "od.conf")
        path = os.path.join(self.tmp, "od.eml")
        with open(conf, "w") as f:
            f.write("Domain example.com\nSelector od\nKeyFile %s\nMode s\nSyslog no\n"
                    "RequireSafeKeys no\nCanonicalization %s\nOversignHeaders From\n"
                    % (self.od_key, canon))
        with open(path, "wb") as f:
            f.write(msg)
        r = subprocess.run(["/usr/sbin/opendkim", "-x", conf, "-t", path],
                           capture_output=True, text=True, timeout=60)
        # "opendkim: FILE:" then the field it would add
        m = re.search(r"^(DKIM-Signature:.*)", r.stdout + r.stderr, re.M | re.S)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        field = m.group(1).strip().replace("\n", "\r\n")
        return field.encode() + b"\r\n" + msg

    def test_opendkim_signed_messages(self):
        for canon in ("simple/simple", "relaxed/relaxed", "relaxed/simple"):
            for name in ("plain", "folded", "8bit", "trailing"):
                with self.subTest(c=canon, msg=name):
                    # opendkim -t hands the file to its milter code, which
                    # rebuilds each field as "Name: value": blanks after the
                    # colon become one space before it signs, so a simple/
                    # signature covers bytes the file does not have (dkimpy
                    # fails it too).  Fields here have one space already.
                    msg = re.sub(rb"^([!-9;-~]+):[ \t]+", rb"\1: ", MESSAGES[name], flags=re.M)
                    signed = self.opendkim_sign(msg, canon)
                    rc, lines = self.verify(signed)
                    self.assertEqual(lines, ["dkim=pass d=example.com s=od a=rsa-sha256"])
                    self.assertEqual(rc, 0)
                    rc, lines = self.verify(signed.replace(b"\r\n\r\n", b"\r\n\r\nX", 1))
                    self.assertEqual(rc, 1)
                    self.assertIn("dkim=fail", lines[0])

    def test_tampered_messages_fail(self):
        signed = self.sign(MESSAGES["plain"])
        rc, lines = self.verify(signed.replace(b"Subject: hello", b"Subject: hullo"))
        self.assertEqual(rc, 1)
        self.assertIn("dkim=fail", lines[0])
        self.assertIn("signature does not verify", lines[0])
        rc, lines = self.verify(signed.replace(b"Hello Bob.", b"Hello Eve."))
        self.assertIn("dkim=fail", lines[0])
        self.assertIn("body hash does not match", lines[0])
        # a second From: added above the signed one (over-signing catches it)
        rc, lines = self.verify(b"From: mallory@example.net\r\n" + signed)
        self.assertIn("dkim=fail", lines[0])
        signed_rsa = self.sign(MESSAGES["plain"], "rs", "rsa-sha256", "simple", "simple")
        rc, lines = self.verify(signed_rsa.replace(b"To: bob", b"To: rob"))
        self.assertIn("dkim=fail", lines[0])

    def test_length_tag(self):
        signed = self.sign(MESSAGES["plain"], length=True)
        rc, lines = self.verify(signed)
        self.assertEqual(lines, ["dkim=pass d=example.com s=ed a=ed25519-sha256 l="])
        rc, lines = self.verify(signed + b"Unsigned text appended.\r\n")
        self.assertEqual(rc, 1)
        self.assertIn("dkim=fail", lines[0])
        self.assertIn("body extends past l=", lines[0])

    def test_key_problems(self):
        signed = self.sign(MESSAGES["plain"])
        for sel, result, why in (("revoked", "permerror", "key revoked"),
                                 ("missing", "permerror", "no key"),
                                 ("broken", "temperror", "key look-up")):
            rc, lines = self.verify(signed.replace(b"s=ed;", b"s=%s;" % sel.encode()))
            self.assertIn("dkim=%s" % result, lines[0])
            self.assertIn(why, lines[0])
        sha1 = self.sign(MESSAGES["plain"], "rs", "rsa-sha1")
        rc, lines = self.verify(sha1)
        self.assertIn("dkim=permerror", lines[0])
        self.assertIn("RFC 8301", lines[0])
        rc, lines = self.verify(MESSAGES["plain"])
        self.assertEqual((rc, lines), (0, ["dkim=none"]))

    def test_rfc8463_example(self):
        with open(os.path.join(DKIMPY_DATA, "rfc6376.signed.msg"), "rb") as f:
            msg = f.read()
        rc, lines = self.verify(msg)
        # the first signature is RFC 8463's Ed25519 one; the second, RSA,
        # has no key published here
        self.assertEqual(lines[0], "dkim=pass d=football.example.com s=brisbane a=ed25519-sha256")
        self.assertIn("dkim=permerror", lines[1])


if __name__ == "__main__":
    unittest.main()
