"""DKIM verification in the mail path and the one Authentication-Results
header (cleanup/msgauth.c): messages signed by dkimpy (Debian's
python3-dkim) with Ed25519 and RSA keys, sent over SMTP by a client outside
mynetworks, are delivered with exactly one `Authentication-Results:
<authserv_id>; spf=...; dkim=...` header: pass (one and two signatures, a
body of many data chunks), fail (body altered after signing), none
(unsigned), temperror (the key's DNS fails).  SPF's result comes from
smtpd (smtpd_spf_policy = mark) into the same header and no Received-SPF
header is added; an Authentication-Results header carrying our authserv-id
is removed, one of another host is kept.  DMARC: pass through aligned SPF
and through aligned DKIM, reject refused with 550 5.7.1 and nothing
queued (the domain's p= and an organisational domain's sp=; np= for a
From: subdomain without A, AAAA and MX records, RFC 9091), quarantine
delivered with X-Spam-Flag: YES, p=none and no record; RFC 9989's DNS
tree walk (psd=y, psd=n, the fewest-labels organisational domain, the
nearest ancestor's record as the policy).  Keys, SPF and DMARC
records come from a zone DNS server on loopback."""
import glob
import os
import subprocess
import tempfile
import unittest

from dns_zone import ZoneDns
from smtpd_util import Conn
from tern_instance import Instance, wait_until

DEBIAN_PYTHON = "/usr/bin/python3"  # python3-dkim lives there
USER = "alice@example.com"
AUTHSERV = "mx.test.example"

SIGN = r"""
import sys, dkim
sel, dom, keyfile = sys.argv[1:4]
msg = sys.stdin.buffer.read()
key = open(keyfile, "rb").read()
alg = b"rsa-sha256" if sel == "rs" else b"ed25519-sha256"
sig = dkim.sign(msg, sel.encode(), dom.encode(), key, canonicalize=(b"relaxed", b"simple"),
                signature_algorithm=alg,
                include_headers=[b"from", b"to", b"subject", b"date", b"from"])
sys.stdout.buffer.write(sig + msg)
"""


def header_fields(msg, name):
    """The unfolded values of every header field called name."""
    head = msg.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", "replace")
    out, cur = [], None
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and cur is not None:
            cur += " " + line.strip()
            continue
        if cur is not None:
            out.append(cur)
        cur = None
        if line.lower().startswith(name.lower() + ":"):
            cur = line.split(":", 1)[1].strip()
    if cur is not None:
        out.append(cur)
    return out


class MsgauthCleanupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-msgauth-")
        zone = {"pass.example": [("TXT", "v=spf1 ip4:127.0.0.0/8 -all")],
                "_dmarc.pass.example": [("TXT", "v=DMARC1; p=reject")],
                "broken._domainkey.pass.example": ["TIMEOUT"],
                "_dmarc.strict.example": [("TXT", "v=DMARC1; p=reject; adkim=s")],
                "_dmarc.quar.example": [("TXT", "v=DMARC1; p=quarantine")],
                "_dmarc.org.example": [("TXT", "v=DMARC1; p=none; sp=reject")],
                "_dmarc.lax.example": [("TXT", "v=DMARC1; p=none")],
                "_dmarc.np.example": [("TXT", "v=DMARC1; p=none; np=reject")],
                "real.np.example": [("A", "192.0.2.7")],
                "mx.np.example": [("MX", (10, "real.np.example"))],
                "_dmarc.npsp.example": [("TXT", "v=DMARC1; p=none; sp=quarantine")],
                # RFC 9989's tree walk (each case differs from the PSL's answer)
                "_dmarc.psd.example": [("TXT", "v=DMARC1; p=reject; psd=y")],
                "other.psd.example": [("TXT", "v=spf1 ip4:127.0.0.0/8 -all")],
                "_dmarc.dept.uni.example": [("TXT", "v=DMARC1; p=quarantine; psd=n")],
                "_dmarc.uni.example": [("TXT", "v=DMARC1; p=none")],
                "uni.example": [("TXT", "v=spf1 ip4:127.0.0.0/8 -all")],
                "_dmarc.walk.example": [("TXT", "v=DMARC1; p=reject")],
                "bounce.walk.example": [("TXT", "v=spf1 ip4:127.0.0.0/8 -all")],
                "_dmarc.b.multi.example": [("TXT", "v=DMARC1; p=quarantine")],
                "_dmarc.multi.example": [("TXT", "v=DMARC1; p=none; sp=none")]}
        for sel, ktype in (("ed", "ed25519"), ("rs", "rsa")):
            subprocess.run(["dknewkey", "--ktype", ktype, os.path.join(cls.tmp, sel)],
                           check=True, capture_output=True, timeout=60)
            with open(os.path.join(cls.tmp, sel + ".dns")) as f:
                zone["%s._domainkey.pass.example" % sel] = [("TXT", f.read().strip())]
        # The "broken" selector signs with the Ed25519 key; its record fails.
        cls.dns = ZoneDns(zone)
        cls.inst = Instance(mailboxes=[USER], main_cf={
            "mynetworks": "192.0.2.0/24",
            "dns_servers": "127.0.0.1:%d" % cls.dns.port,
            "smtpd_spf_policy": "mark",
            "authserv_id": AUTHSERV,
            "cleanup_dns_timeout": "2s",
        })
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.dns.stop()

    def sign(self, msg, sel):
        key = os.path.join(self.tmp, ("ed" if sel == "broken" else sel) + ".key")
        r = subprocess.run([DEBIAN_PYTHON, "-c", SIGN, sel, "pass.example", key],
                           input=msg, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def message(self, subject, body=b"Hello Alice.\r\n", extra=b"", frm=b"bob@pass.example"):
        return (b"From: Bob <" + frm + b">\r\nTo: alice@example.com\r\n"
                b"Subject: " + subject.encode() + b"\r\nDate: Sun, 6 Dec 2026 20:00:00 +0000\r\n"
                + extra + b"\r\n" + body)

    def send(self, msg, sender="bob@pass.example", code=250):
        c = Conn(self.inst.smtp_port)
        self.assertEqual(c.reply()[0], 220)
        c.ehlo("client.example.org")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender)[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % USER)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        data = msg.replace(b"\r\n.", b"\r\n..")
        c.send(data.decode("latin-1") + ".\r\n")
        final = c.reply()
        c.cmd("QUIT")
        c.close()
        self.assertEqual(final[0], code, final)
        return final

    def folder_messages(self, folder):
        """Messages in new/ of a Maildir++ folder ("" is INBOX)."""
        new = os.path.join(self.inst.maildir(USER), "." + folder if folder else "", "new")
        out = []
        for p in sorted(glob.glob(os.path.join(new, "*"))):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def delivered(self, subject, folder=""):
        tag = ("Subject: %s\n" % subject).encode()

        def find():
            return [m for m in self.folder_messages(folder)
                    if tag in m.replace(b"\r\n", b"\n")]
        wait_until(find, 30, what="delivery of %s" % subject)
        return find()[0]

    def results(self, subject, folder=""):
        """The one A-R header of the delivered message, as a string."""
        msg = self.delivered(subject, folder)
        ar = header_fields(msg, "Authentication-Results")
        self.assertEqual(len(ar), 1, ar)
        self.assertEqual(header_fields(msg, "Received-SPF"), [])
        self.assertTrue(ar[0].startswith(AUTHSERV + ";"), ar[0])
        return ar[0], msg

    def test_pass_ed25519_and_rsa(self):
        for sel in ("ed", "rs"):
            subject = "pass-" + sel
            self.send(self.sign(self.message(subject), sel))
            ar, msg = self.results(subject)
            self.assertIn("spf=pass smtp.mailfrom=bob@pass.example", ar)
            self.assertIn("dkim=pass header.d=pass.example header.s=%s" % sel, ar)
            self.assertIn(b"Hello Alice.", msg)

    def test_two_signatures_and_a_long_body(self):
        body = b"".join(b"line %d of a long body   with  spaces \r\n" % i for i in range(20000))
        msg = self.sign(self.sign(self.message("two-sigs", body), "ed"), "rs")
        self.send(msg)
        ar, got = self.results("two-sigs")
        self.assertIn("header.s=ed", ar)
        self.assertIn("header.s=rs", ar)
        self.assertEqual(ar.count("dkim=pass"), 2, ar)
        self.assertIn(b"line 19999 of a long body", got)

    def test_body_altered_fails(self):
        msg = self.sign(self.message("altered"), "ed").replace(b"Hello Alice.", b"Hello Eve..")
        self.send(msg)
        ar, _ = self.results("altered")
        self.assertIn("dkim=fail (body hash does not match)", ar)
        self.assertNotIn("dkim=pass", ar)

    def test_unsigned_is_none(self):
        self.send(self.message("unsigned"))
        ar, _ = self.results("unsigned")
        self.assertIn("dkim=none", ar)
        self.assertIn("spf=pass", ar)

    def test_key_lookup_failure_is_temperror(self):
        self.send(self.sign(self.message("temperror"), "broken"))
        ar, _ = self.results("temperror")
        self.assertIn("dkim=temperror", ar)
        self.assertIn("header.s=broken", ar)

    def test_dmarc_pass_by_spf_and_by_dkim(self):
        self.send(self.message("dmarc-spf"))
        ar, _ = self.results("dmarc-spf")
        self.assertIn("dmarc=pass (p=reject dis=none) header.from=pass.example", ar)
        # SPF none for the envelope domain; DKIM d=pass.example aligns
        self.send(self.sign(self.message("dmarc-dkim"), "ed"), sender="bob@nospf.example")
        ar, _ = self.results("dmarc-dkim")
        self.assertIn("spf=none", ar)
        self.assertIn("dmarc=pass", ar)

    def test_dmarc_reject_is_550_nothing_queued(self):
        before = len(self.inst.messages(USER))
        final = self.send(self.message("dmarc-reject", frm=b"ceo@strict.example"),
                          sender="ceo@strict.example", code=550)
        self.assertIn("5.7.1", final[1][0])
        self.assertIn("DMARC policy of strict.example", final[1][0])
        # the subdomain policy of the organisational domain's record
        final = self.send(self.message("dmarc-subpolicy", frm=b"news@mail.org.example"),
                          sender="news@mail.org.example", code=550)
        self.assertIn("DMARC policy of mail.org.example", final[1][0])
        # a sent message after them arrives; the refused ones never do
        self.send(self.message("dmarc-after"))
        self.delivered("dmarc-after")
        subjects = b"".join(self.inst.messages(USER))
        self.assertNotIn(b"Subject: dmarc-reject\n", subjects)
        self.assertNotIn(b"Subject: dmarc-subpolicy\n", subjects)
        self.assertEqual(len(self.inst.messages(USER)), before + 1)
        self.assertIn("dmarc=fail from=strict.example policy=reject", self.inst.log())

    def test_dmarc_quarantine_and_none(self):
        self.send(self.message("dmarc-quar", frm=b"x@quar.example"), sender="x@quar.example")
        # Quarantine marks the message; local files marked mail into Junk.
        ar, msg = self.results("dmarc-quar", folder="Junk")
        self.assertIn("dmarc=fail (p=quarantine dis=quarantine) header.from=quar.example", ar)
        self.assertEqual(header_fields(msg, "X-Spam-Flag"), ["YES"])
        self.assertFalse([m for m in self.folder_messages("")
                          if b"Subject: dmarc-quar" in m])
        self.send(self.message("dmarc-none", frm=b"x@lax.example"), sender="x@lax.example")
        ar, msg = self.results("dmarc-none")
        self.assertIn("dmarc=fail (p=none dis=none)", ar)
        self.assertEqual(header_fields(msg, "X-Spam-Flag"), [])
        self.send(self.message("dmarc-norecord", frm=b"x@norecord.example"),
                  sender="x@norecord.example")
        ar, _ = self.results("dmarc-norecord")
        self.assertIn("dmarc=none header.from=norecord.example", ar)

    def test_dmarc_np_for_non_existent_subdomains(self):
        # ghost.np.example has no A, AAAA or MX: np=reject applies
        final = self.send(self.message("np-ghost", frm=b"x@ghost.np.example"),
                          sender="x@ghost.np.example", code=550)
        self.assertIn("DMARC policy of ghost.np.example", final[1][0])
        self.assertIn("dmarc=fail from=ghost.np.example policy=reject", self.inst.log())
        # a subdomain with an A record, or with only an MX, exists: p=none
        for sub in ("real", "mx"):
            frm = "x@%s.np.example" % sub
            self.send(self.message("np-" + sub, frm=frm.encode()), sender=frm)
            ar, _ = self.results("np-" + sub)
            self.assertIn("dmarc=fail (p=none dis=none) header.from=%s.np.example" % sub, ar)
        # without np= a non-existent subdomain gets sp= (RFC 9091 4)
        self.send(self.message("np-sp", frm=b"x@ghost.npsp.example"),
                  sender="x@ghost.npsp.example")
        ar, _ = self.results("np-sp", folder="Junk")
        self.assertIn("dmarc=fail (p=quarantine dis=quarantine)", ar)

    def test_dmarc_tree_walk(self):
        # psd=y at psd.example: shop.psd.example is its own organisational
        # domain, so other.psd.example's SPF pass does not align (with the
        # PSL both would be psd.example's); the policy is psd.example's
        final = self.send(self.message("walk-psd", frm=b"x@shop.psd.example"),
                          sender="bob@other.psd.example", code=550)
        self.assertIn("DMARC policy of shop.psd.example", final[1][0])
        # psd=n at dept.uni.example: uni.example does not align with it, and
        # the walk stops there (uni.example's p=none is not used)
        self.send(self.message("walk-psdn", frm=b"x@dept.uni.example"),
                  sender="bob@uni.example")
        ar, _ = self.results("walk-psdn", folder="Junk")
        self.assertIn("spf=pass smtp.mailfrom=bob@uni.example", ar)
        self.assertIn("dmarc=fail (p=quarantine dis=quarantine) header.from=dept.uni.example",
                      ar)
        # the organisational domain is the record with the fewest labels:
        # bounce.walk.example aligns with news.walk.example (relaxed)
        self.send(self.message("walk-relaxed", frm=b"x@news.walk.example"),
                  sender="bob@bounce.walk.example")
        ar, _ = self.results("walk-relaxed")
        self.assertIn("dmarc=pass (p=reject dis=none) header.from=news.walk.example", ar)
        # the nearest ancestor's record is the policy (the PSL would ask
        # multi.example's, whose sp=none lets the message through)
        self.send(self.message("walk-nearest", frm=b"x@a.b.multi.example"),
                  sender="x@a.b.multi.example")
        ar, _ = self.results("walk-nearest", folder="Junk")
        self.assertIn("dmarc=fail (p=quarantine dis=quarantine) header.from=a.b.multi.example",
                      ar)
        # every name of the walk was asked for, up to the last label
        asked = [q[0].lower() for q in self.dns.queries]
        for name in ("_dmarc.a.b.multi.example", "_dmarc.b.multi.example",
                     "_dmarc.multi.example", "_dmarc.example"):
            self.assertIn(name, asked)
        self.assertNotIn("_dmarc.uni.example", asked)

    def test_forged_results_removed(self):
        extra = (b"Authentication-Results: " + AUTHSERV.encode() + b";\r\n\tdkim=pass header.d=bank.example\r\n"
                 b"Authentication-Results: other.example; spf=pass smtp.mailfrom=x@y.example\r\n")
        self.send(self.message("forged", extra=extra))
        msg = self.delivered("forged")
        ar = header_fields(msg, "Authentication-Results")
        self.assertEqual(len(ar), 2, ar)
        self.assertNotIn("bank.example", " ".join(ar))
        self.assertTrue(any(a.startswith("other.example;") for a in ar), ar)
        self.assertIn("removed an Authentication-Results header", self.inst.log())


if __name__ == "__main__":
    unittest.main()
