"""ARC verification (RFC 8617) against dkimpy as the reference
implementation: chains of one, two and three sets sealed by dkimpy's
arc_sign (python3-dkim) give the result dkimpy's arc_verify gives, in
`tern dkim verify`'s arc= line (pass with the newest instance and the
newest sealer's domain); tampered ones (the body, a signed header, a
seal, an AAR, a removed or doubled set, a wrong cv=) fail in both.  Keys
come from a zone DNS server on loopback; dkimpy reads the same records
through its dnsfunc."""
import base64
import os
import subprocess
import tempfile
import unittest

from dns_zone import ZoneDns
from tern_instance import TERN

DEBIAN_PYTHON = "/usr/bin/python3"  # python3-dkim lives there

# argv: keyfile, then (selector, domain, srv_id, timestamp) per set to add;
# the message on stdin, the sealed one on stdout.  Each hop first adds its
# Authentication-Results (with arc=pass once there is a chain, as a
# verifying sealer would).
SEAL = r"""
import sys, dkim
key = open(sys.argv[1], "rb").read()
msg = sys.stdin.buffer.read()
hops = sys.argv[2:]
for k in range(0, len(hops), 4):
    sel, dom, srv, ts = hops[k:k + 4]
    arc = "; arc=pass" if b"ARC-Seal:" in msg else ""
    msg = ("Authentication-Results: %s; spf=pass smtp.mailfrom=alice@example.com%s\r\n"
           % (srv, arc)).encode() + msg
    sets = dkim.arc_sign(msg, sel.encode(), dom.encode(), key, srv.encode(), timestamp=int(ts))
    if not sets:
        sys.exit("arc_sign made no set")
    msg = b"".join(sets) + msg
sys.stdout.buffer.write(msg)
"""

# The message on stdin; prints dkimpy's verdict (pass, fail, none).
VERIFY = r"""
import sys, dkim
recs = dict(line.split(" ", 1) for line in open(sys.argv[1]).read().splitlines())
def dns(name, timeout=5):
    r = recs.get(name.decode().rstrip("."))
    return r.encode() if r else None
cv, _, why = dkim.arc_verify(sys.stdin.buffer.read(), dnsfunc=dns)
print((cv or b"fail").decode())
"""

MSG = (b"From: Alice <alice@example.com>\r\nTo: list@example.org\r\n"
       b"Subject: hello\r\nDate: Sun, 6 Dec 2026 20:00:00 +0000\r\n"
       b"Message-ID: <1@example.com>\r\n\r\nHello list.\r\n\r\n")


class ArcVerifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-arc-")
        cls.key = os.path.join(cls.tmp, "arc.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", cls.key],
                       check=True, capture_output=True, timeout=60)
        der = subprocess.run(["openssl", "pkey", "-in", cls.key, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True, timeout=60).stdout
        rec = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
        names = ["arc._domainkey.lists.example.org", "arc._domainkey.relay.example.net",
                 "arc._domainkey.fwd.example.com"]
        cls.dns = ZoneDns({n: [("TXT", rec)] for n in names})
        cls.recs = os.path.join(cls.tmp, "recs")
        with open(cls.recs, "w") as f:
            for n in names:
                f.write("%s %s\n" % (n, rec))
        cls.conf = os.path.join(cls.tmp, "etc")
        os.mkdir(cls.conf)
        with open(os.path.join(cls.conf, "main.cf"), "w") as f:
            f.write("dns_servers = 127.0.0.1:%d\nsmtpd_dns_timeout = 4s\n" % cls.dns.port)

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    HOPS = [("arc", "lists.example.org", "lists.example.org", "1765000000"),
            ("arc", "relay.example.net", "relay.example.net", "1765000100"),
            ("arc", "fwd.example.com", "fwd.example.com", "1765000200")]

    def seal(self, msg, hops):
        argv = [x for hop in hops for x in hop]
        r = subprocess.run([DEBIAN_PYTHON, "-c", SEAL, self.key] + argv, input=msg,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def dkimpy(self, msg):
        r = subprocess.run([DEBIAN_PYTHON, "-c", VERIFY, self.recs], input=msg,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().strip()

    def tern(self, msg):
        r = subprocess.run([TERN, "-c", self.conf, "dkim", "verify"], input=msg,
                           capture_output=True, timeout=60)
        arc = [l for l in r.stdout.decode().splitlines() if l.startswith("arc=")]
        return r.returncode, arc

    def test_dkimpy_chains_pass(self):
        for n in (1, 2, 3):
            for lf in (False, True):
                with self.subTest(sets=n, lf=lf):
                    msg = self.seal(MSG, self.HOPS[:n])
                    if lf:
                        msg = msg.replace(b"\r\n", b"\n")
                    self.assertEqual(self.dkimpy(msg), "pass")
                    rc, arc = self.tern(msg)
                    self.assertEqual(arc, ["arc=pass i=%d oldest-pass=0 d=%s"
                                           % (n, self.HOPS[n - 1][1])])
                    self.assertEqual(rc, 0)

    def test_no_chain_is_none(self):
        self.assertEqual(self.dkimpy(MSG), "none")
        rc, arc = self.tern(MSG)
        self.assertEqual(arc, [])

    def tampered(self):
        two = self.seal(MSG, self.HOPS[:2])
        head, body = two.split(b"\r\n\r\n", 1)
        fields = []
        for line in head.split(b"\r\n"):
            if line[:1] in (b" ", b"\t"):
                fields[-1] += b"\r\n" + line
            else:
                fields.append(line)

        def join(fs, b=body):
            return b"\r\n".join(fs) + b"\r\n\r\n" + b

        def edit(pred, fn):
            return join([fn(f) if pred(f) else f for f in fields])

        def is_(name, inst):
            return lambda f: f.lower().startswith(name.lower() + b":") and \
                (b"i=%d;" % inst) in f.replace(b" ", b"")

        yield "body", join(fields, body.replace(b"Hello", b"Howdy"))
        yield "subject", edit(lambda f: f.startswith(b"Subject:"),
                              lambda f: b"Subject: changed")
        yield "aar1", edit(is_(b"ARC-Authentication-Results", 1),
                           lambda f: f.replace(b"spf=pass", b"spf=fail"))
        yield "seal1_cv", edit(is_(b"ARC-Seal", 1), lambda f: f.replace(b"cv=none", b"cv=pass"))
        yield "seal2_cv", edit(is_(b"ARC-Seal", 2), lambda f: f.replace(b"cv=pass", b"cv=none"))
        yield "seal1_b", edit(is_(b"ARC-Seal", 1),
                              lambda f: f.replace(b"b=", b"b=AAAA", 1))
        yield "set1_removed", join([f for f in fields
                                    if not (is_(b"ARC-Seal", 1)(f) or
                                            is_(b"ARC-Message-Signature", 1)(f) or
                                            is_(b"ARC-Authentication-Results", 1)(f))])
        yield "aar2_doubled", join([f for f in fields if is_(b"ARC-Authentication-Results", 2)(f)]
                                   + fields)
        yield "ams2_removed", join([f for f in fields if not is_(b"ARC-Message-Signature", 2)(f)])

    def test_tampered_chains_fail(self):
        for name, msg in self.tampered():
            with self.subTest(case=name):
                self.assertEqual(self.dkimpy(msg), "fail")
                rc, arc = self.tern(msg)
                self.assertEqual(len(arc), 1, arc)
                self.assertTrue(arc[0].startswith("arc=fail"), arc)
                self.assertEqual(rc, 1)

    def test_older_ams_broken_gives_oldest_pass(self):
        # A body change between hop 1 and hop 2 (a list footer): AMS i=1
        # no longer verifies, the chain still passes (RFC 8617 5.2), and
        # oldest-pass says from where the AMSs hold.
        one = self.seal(MSG, self.HOPS[:1]) + b"-- \r\nlist footer\r\n"
        two = self.seal(one, self.HOPS[1:2])
        self.assertEqual(self.dkimpy(two), "pass")
        rc, arc = self.tern(two)
        self.assertEqual(arc, ["arc=pass i=2 oldest-pass=2 d=relay.example.net"])


if __name__ == "__main__":
    unittest.main()
