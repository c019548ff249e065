"""ARC in the mail path (cleanup/msgauth.c): a message sealed by dkimpy
(i=1, python3-dkim's arc_sign) arrives from a client outside mynetworks
for a relay domain; tern writes arc=pass (with smtp.remote-ip and
header.oldest-pass) into its Authentication-Results, adds the next set
with arc_sealing = yes (its key made by `tern dkim keygen --rsa`), and
relays it to a capturing SMTP server, where dkimpy's arc_verify says pass
with i=2.  A message without a chain gets arc=none and a set with cv=none
(dkimpy: pass, i=1); a chain broken on the way (the body changed) gets
arc=fail and is not sealed (dkimpy: fail).  Forwarding, what ARC is for:
a Sieve redirect (local's forward_submit, the path of .forward and
alias targets too) sends a new queue file on that carries the set added
at reception, and dkimpy still says pass at the far end."""
import os
import re
import subprocess
import tempfile
import unittest

from dns_zone import ZoneDns
from smtp_util import FakeSMTPServer
from smtpd_util import Conn
from tern_instance import TERN, Instance, wait_until
from test_arc import DEBIAN_PYTHON, MSG, SEAL
from test_msgauth_cleanup import header_fields
import test_sieve_local

AUTHSERV = "mx.tern.example"

# recs file, message on stdin: "cv instances" as dkimpy's arc_verify sees it.
VERIFY = r"""
import sys, dkim
recs = dict(line.split(" ", 1) for line in open(sys.argv[1]).read().splitlines())
def dns(name, timeout=5):
    r = recs.get(name.decode().rstrip("."))
    return r.encode() if r else None
cv, results, why = dkim.arc_verify(sys.stdin.buffer.read(), dnsfunc=dns)
print((cv or b"fail").decode(), max([r["instance"] for r in results] or [0]), why)
"""


class ArcSealTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-arcseal-")
        cls.key = os.path.join(cls.tmp, "lists.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", cls.key],
                       check=True, capture_output=True, timeout=60)
        import base64
        der = subprocess.run(["openssl", "pkey", "-in", cls.key, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True, timeout=60).stdout
        rec = "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
        recs = {"arc._domainkey.lists.example.org": rec,
                "arc._domainkey.relay.example.net": rec}
        cls.srv = FakeSMTPServer()
        cls.dns = ZoneDns({})
        cls.inst = Instance(mailboxes=["postmaster@example.com", "carol@example.com"], main_cf={
            "mynetworks": "192.0.2.0/24",
            "relay_domains": "remote.test",
            "relayhost": "[127.0.0.1]:%d" % cls.srv.port,
            "dns_servers": "127.0.0.1:%d" % cls.dns.port,
            "authserv_id": AUTHSERV,
            "cleanup_dns_timeout": "2s",
            "arc_sealing": "yes",
            "arc_seal_domain": "seal.example",
            "arc_seal_selector": "s1",
            "dmarc_arc_trusted_sealers": "lists.example.org",
        })
        r = subprocess.run([TERN, "-c", cls.inst.dir, "dkim", "keygen", "seal.example", "--rsa",
                            "--selector", "s1"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        m = re.match(r'(\S+)\. IN TXT \((.*)\)$', r.stdout.strip())
        assert m, r.stdout
        recs[m.group(1)] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
        zone = {n: [("TXT", v)] for n, v in recs.items()}
        zone["_dmarc.strict.example"] = [("TXT", "v=DMARC1; p=reject")]
        cls.dns.set_zone(zone)
        cls.recs = os.path.join(cls.tmp, "recs")
        with open(cls.recs, "w") as f:
            for n, v in recs.items():
                f.write("%s %s\n" % (n, v))
        cls.inst.start()
        test_sieve_local.SieveLocalTest.script(cls, "carol@example.com", 'redirect "dave@remote.test";\n')

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.dns.stop()
        cls.srv.stop()

    def seal(self, msg, sealer="lists.example.org"):
        r = subprocess.run([DEBIAN_PYTHON, "-c", SEAL, self.key, "arc", sealer,
                            sealer, "1765000000"],
                           input=msg, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def dkimpy(self, msg):
        r = subprocess.run([DEBIAN_PYTHON, "-c", VERIFY, self.recs], input=msg,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        cv, n, why = r.stdout.decode().strip().split(" ", 2)
        return cv, int(n), why

    def relay(self, msg, code=250, rcpt="bob@remote.test"):
        before = len(self.srv.transactions)
        c = Conn(self.inst.smtp_port)
        self.assertEqual(c.reply()[0], 220)
        c.ehlo("client.example.org")
        self.assertEqual(c.cmd("MAIL FROM:<list@lists.example.org>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % rcpt)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(msg.replace(b"\r\n.", b"\r\n..").decode("latin-1") + ".\r\n")
        final = c.reply()
        c.cmd("QUIT")
        c.close()
        self.assertEqual(final[0], code, final)
        if code != 250:
            return final
        wait_until(lambda: len(self.srv.transactions) > before, 30,
                   what="the relayed message\n" + self.inst.log()[-3000:])
        return self.srv.transactions[before].data

    def ours(self, got):
        return [v for v in header_fields(got, "Authentication-Results")
                if v.startswith(AUTHSERV + ";")]

    def test_sealed_chain_relayed_with_our_set(self):
        sent = self.seal(MSG.replace(b"hello", b"arc-two"))
        self.assertEqual(self.dkimpy(sent)[:2], ("pass", 1))
        got = self.relay(sent)
        ar = self.ours(got)
        self.assertEqual(len(ar), 1, ar)
        self.assertIn("arc=pass (i=1 d=lists.example.org) smtp.remote-ip=127.0.0.1 "
                      "header.oldest-pass=0", ar[0])
        self.assertEqual(self.dkimpy(got)[:2], ("pass", 2), self.dkimpy(got))
        aar = [v for v in header_fields(got, "ARC-Authentication-Results")
               if v.startswith("i=2;")]
        self.assertEqual(len(aar), 1)
        self.assertIn(AUTHSERV + "; ", aar[0])
        self.assertIn("arc=pass", aar[0])
        seal = [v for v in header_fields(got, "ARC-Seal") if v.startswith("i=2;")]
        self.assertIn("cv=pass", seal[0])
        self.assertIn("d=seal.example; s=s1", seal[0])
        # tern's own verifier agrees with dkimpy on what it sent
        r = subprocess.run([TERN, "-c", self.inst.dir, "dkim", "verify"], input=got,
                           capture_output=True, timeout=60)
        self.assertIn("arc=pass i=2 oldest-pass=0 d=seal.example", r.stdout.decode())

    def test_forwarded_by_sieve_redirect(self):
        """carol's Sieve script redirects to dave@remote.test: the copy is a
        new queue file from local (not verified or sealed again: it has no
        client), relayed with the chain of reception intact."""
        for sealed, want in ((False, ("pass", 1)), (True, ("pass", 2))):
            with self.subTest(sealed=sealed):
                msg = MSG.replace(b"hello", b"arc-redirect-%d" % sealed)
                got = self.relay(self.seal(msg) if sealed else msg, rcpt="carol@example.com")
                t = self.srv.transactions[-1]
                self.assertEqual(t.rcpts, ["dave@remote.test"])
                self.assertIn(b"arc-redirect-%d" % sealed, got)
                self.assertEqual(self.dkimpy(got)[:2], want, self.dkimpy(got))
                seals = header_fields(got, "ARC-Seal")
                self.assertEqual(len(seals), want[1], seals)
                self.assertIn("d=seal.example; s=s1", [v for v in seals
                                                       if v.startswith("i=%d;" % want[1])][0])

    def test_no_chain_sealed_with_cv_none(self):
        got = self.relay(MSG.replace(b"hello", b"arc-one"))
        self.assertIn("arc=none", self.ours(got)[0])
        self.assertEqual(self.dkimpy(got)[:2], ("pass", 1))
        seal = header_fields(got, "ARC-Seal")
        self.assertEqual(len(seal), 1)
        self.assertIn("cv=none", seal[0])

    def test_broken_chain_not_sealed(self):
        sent = self.seal(MSG.replace(b"hello", b"arc-broken")).replace(b"Hello list.",
                                                                        b"Hello world")
        self.assertEqual(self.dkimpy(sent)[0], "fail")
        got = self.relay(sent)
        self.assertIn("arc=fail (i=1 d=lists.example.org: ARC-Message-Signature i=1: "
                      "body hash does not match)", self.ours(got)[0])
        self.assertEqual([v for v in header_fields(got, "ARC-Seal") if v.startswith("i=2")], [])
        self.assertEqual(self.dkimpy(got)[0], "fail")
        self.assertIn("arc: the chain failed: not sealed", self.inst.log())

    def test_trusted_sealer_overrides_dmarc_reject(self):
        """strict.example says p=reject and the message has no aligned pass:
        rejected, unless the chain passes and its newest sealer is in
        dmarc_arc_trusted_sealers (RFC 8617 7.2, a local policy)."""
        msg = MSG.replace(b"alice@example.com", b"alice@strict.example")
        final = self.relay(self.seal(msg.replace(b"hello", b"arc-untrusted"),
                                     sealer="relay.example.net"), code=550)
        self.assertIn("5.7.1 Message rejected by the DMARC policy of strict.example", final[1])
        got = self.relay(self.seal(msg.replace(b"hello", b"arc-trusted")))
        self.assertIn("dmarc=fail (p=reject dis=none local_policy=arc "
                      "sealer=lists.example.org) header.from=strict.example", self.ours(got)[0])
        self.assertIn("arc_override=lists.example.org", self.inst.log())


class ArcSealConfigTest(unittest.TestCase):
    def test_missing_key_is_a_check_error(self):
        """arc_sealing without the seal key (or without arc_seal_domain) is an
        error of `tern check`, and tern start refuses to start."""
        for cf, err in (({"arc_seal_domain": "seal.example", "arc_seal_selector": "s9"},
                         "arc_sealing: no RSA key seal.example.s9.key in "),
                        ({}, "arc_sealing needs arc_seal_domain"),
                        ({"arc_seal_domain": "seal.example", "arc_verify": "no"},
                         "arc_sealing needs dkim_verify and arc_verify")):
            with self.subTest(err=err):
                cf = dict(cf, arc_sealing="yes")
                inst = Instance(main_cf=cf)
                try:
                    c = inst.tern("check", check=False)
                    self.assertNotEqual(c.returncode, 0)
                    self.assertIn(err, c.stderr)
                    r = inst.tern("start", check=False)
                    self.assertNotEqual(r.returncode, 0)
                finally:
                    inst.cleanup()


if __name__ == "__main__":
    unittest.main()
