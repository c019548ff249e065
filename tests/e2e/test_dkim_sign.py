"""DKIM signing (`tern dkim keygen`, `tern dkim sign`) checked by an
independent verifier: messages tern signs with Ed25519 and RSA-2048 keys
verify in dkimpy (Debian's python3-dkim, given the record keygen prints)
and in tern itself, over folded headers, 8-bit bodies, trailing blank
lines and LF or CRLF line ends; From/To/Subject/Date are over-signed, so a
second Subject added after signing fails in both; keygen refuses to
overwrite a key.  `tern dkim check` says whether the published record
carries the local key (ok, another key, none published), for one key, a
domain's keys or every key of the key directory."""
import os
import shutil
import re
import subprocess
import tempfile
import unittest

from dns_zone import ZoneDns
from tern_instance import TERN
from test_dkim_verify import DEBIAN_PYTHON, MESSAGES

VERIFY = r"""
import sys, dkim
record = sys.argv[1].encode()
msg = sys.stdin.buffer.read()
ok = dkim.verify(msg, dnsfunc=lambda name, timeout=5: record)
print("pass" if ok else "fail")
"""


class DkimSignTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-dkimsign-")
        cls.records = {}
        zone = {}
        for kind in ("ed25519", "rsa"):
            r = subprocess.run([TERN, "dkim", "keygen", "example.com", "--" + kind,
                                "--dir", cls.tmp], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            m = re.match(r'(\S+)\._domainkey\.example\.com\. IN TXT \((.*)\)$', r.stdout.strip())
            assert m, r.stdout
            record = "".join(re.findall(r'"([^"]*)"', m.group(2)))
            cls.records[kind] = record
            zone["%s._domainkey.example.com" % kind] = [("TXT", record)]
            assert oct(os.stat(os.path.join(cls.tmp, "example.com.%s.key" % kind)).st_mode
                       & 0o777) == "0o600"
        # for `tern dkim check`: a record of the other key, and none at all
        zone["swapped._domainkey.example.com"] = [("TXT", cls.records["ed25519"])]
        for sel in ("swapped", "nope"):
            shutil.copy(os.path.join(cls.tmp, "example.com.rsa.key"),
                        os.path.join(cls.tmp, "example.com.%s.key" % sel))
        cls.dns = ZoneDns(zone)
        cls.conf = os.path.join(cls.tmp, "etc")
        os.mkdir(cls.conf)
        with open(os.path.join(cls.conf, "main.cf"), "w") as f:
            f.write("dns_servers = 127.0.0.1:%d\n" % cls.dns.port)

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def sign(self, kind, msg):
        r = subprocess.run([TERN, "dkim", "sign", "-d", "example.com", "-s", kind, "-k",
                            os.path.join(self.tmp, "example.com.%s.key" % kind)],
                           input=msg, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def dkimpy(self, kind, msg):
        r = subprocess.run([DEBIAN_PYTHON, "-c", VERIFY, self.records[kind]], input=msg,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().strip()

    def tern_verify(self, msg):
        r = subprocess.run([TERN, "-c", self.conf, "dkim", "verify"], input=msg,
                           capture_output=True, timeout=60)
        return r.stdout.decode().strip()

    def test_signed_messages_verify_in_dkimpy_and_tern(self):
        for kind in ("ed25519", "rsa"):
            alg = "ed25519-sha256" if kind == "ed25519" else "rsa-sha256"
            for name, msg in MESSAGES.items():
                for lf in (False, True):
                    with self.subTest(kind=kind, msg=name, lf=lf):
                        m = msg.replace(b"\r\n", b"\n") if lf else msg
                        signed = self.sign(kind, m)
                        self.assertTrue(signed.startswith(b"DKIM-Signature: v=1; a=%s;"
                                                          % alg.encode()), signed[:80])
                        self.assertEqual(self.dkimpy(kind, signed), "pass")
                        self.assertEqual(self.tern_verify(signed),
                                         "dkim=pass d=example.com s=%s a=%s" % (kind, alg))
                        if not lf:  # line ends as the message's
                            self.assertNotIn(b"\n", signed.replace(b"\r\n", b""))

    def test_oversigning(self):
        signed = self.sign("ed25519", MESSAGES["plain"])
        head = signed.split(b"\r\n\r\n")[0].replace(b"\r\n\t", b" ")
        h = re.search(rb"h=([^;]*);", head).group(1).decode()
        self.assertEqual(h.split(":").count("from"), 2)
        self.assertEqual(h.split(":").count("subject"), 2)
        forged = signed.replace(b"Subject: hello", b"Subject: hello\r\nSubject: buy now")
        self.assertEqual(self.dkimpy("ed25519", forged), "fail")
        self.assertIn("dkim=fail", self.tern_verify(forged))

    def test_keygen_does_not_overwrite(self):
        r = subprocess.run([TERN, "dkim", "keygen", "example.com", "--ed25519",
                            "--dir", self.tmp], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("File exists", r.stderr)

    def test_keygen_names_a_missing_dir(self):
        missing = os.path.join(self.tmp, "no-such-dir")
        r = subprocess.run([TERN, "dkim", "keygen", "example.com", "--dir", missing],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 73)  # EX_CANTCREAT
        self.assertEqual(r.stderr.strip(),
                         "tern dkim: --dir %s: No such file or directory" % missing)
        self.assertFalse(os.path.exists(missing))

    def check(self, sel):
        r = subprocess.run([TERN, "-c", self.conf, "dkim", "check", "example.com", sel,
                            "--dir", self.tmp], capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout

    def test_check_published_record(self):
        for kind in ("ed25519", "rsa"):
            rc, out = self.check(kind)
            self.assertEqual(rc, 0, out)
            self.assertIn("ok, the published record matches the key", out)
        rc, out = self.check("swapped")
        self.assertEqual(rc, 1, out)
        self.assertIn("of another type", out)
        self.assertIn('swapped._domainkey.example.com. IN TXT ( "v=DKIM1; k=rsa; p=', out)
        rc, out = self.check("nope")
        self.assertEqual(rc, 1, out)
        self.assertIn("no record published", out)
        r = subprocess.run([TERN, "-c", self.conf, "dkim", "check", "example.com", "absent",
                            "--dir", self.tmp], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 66, r.stderr)  # EX_NOINPUT

    def test_check_every_key(self):
        # no selector: every key of the domain, one line each, the worst status
        for args in (["example.com"], []):
            r = subprocess.run([TERN, "-c", self.conf, "dkim", "check"] + args +
                               ["--dir", self.tmp], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 1, r.stdout)
            lines = [l for l in r.stdout.splitlines() if "._domainkey.example.com:" in l]
            self.assertEqual([l.split(":")[0] for l in lines],
                             ["%s._domainkey.example.com" % s
                              for s in ("ed25519", "nope", "rsa", "swapped")], r.stdout)
            self.assertIn("ed25519._domainkey.example.com: ok,", r.stdout)
            self.assertIn("nope._domainkey.example.com: no record published", r.stdout)
        r = subprocess.run([TERN, "-c", self.conf, "dkim", "check", "other.example",
                            "--dir", self.tmp], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 66, r.stderr)
        # the keys cleanup signs with: dkim_key_directory, all published
        keys = os.path.join(self.tmp, "keys")
        conf = os.path.join(self.tmp, "etc2")
        os.makedirs(keys, exist_ok=True)
        os.makedirs(conf, exist_ok=True)
        for kind in ("ed25519", "rsa"):
            shutil.copy(os.path.join(self.tmp, "example.com.%s.key" % kind), keys)
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write("dns_servers = 127.0.0.1:%d\ndkim_key_directory = %s\n"
                    % (self.dns.port, keys))
        r = subprocess.run([TERN, "-c", conf, "dkim", "check"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.count(": ok, the published record matches the key"), 2,
                         r.stdout)

    def test_no_from_refused(self):
        r = subprocess.run([TERN, "dkim", "sign", "-d", "example.com", "-s", "ed25519", "-k",
                            os.path.join(self.tmp, "example.com.ed25519.key")],
                           input=b"Subject: x\r\n\r\nno sender\r\n", capture_output=True,
                           timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"no From", r.stderr)


if __name__ == "__main__":
    unittest.main()
