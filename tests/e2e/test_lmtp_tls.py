"""STARTTLS and AUTH of the lmtp transport, under Postfix's lmtp(8)
parameter names: lmtp_tls_security_level, lmtp_tls_policy_maps,
lmtp_tls_CAfile, lmtp_starttls_timeout, lmtp_sasl_auth_enable,
lmtp_sasl_password_maps, lmtp_sasl_security_options.  TLS against
Dovecot's LMTP server (a real peer, certificate verified against
lmtp_tls_CAfile); AUTH against a scripted LMTP server (test_lmtp's),
because Debian's LMTP servers that are set up in these tests (Dovecot)
do not offer AUTH.  The smtp_* parameters are set to values that would
make these deliveries fail, so each test also shows the lmtp_* name is
the one read."""
import os
import shutil
import tempfile
import unittest

import test_lmtp
from smtp_util import make_cert

def make_ip_cert(directory):
    """A self-signed certificate for 127.0.0.1 (an IP subjectAltName),
    readable by Dovecot's unprivileged processes."""
    cert, key = make_cert(directory, "127.0.0.1", san="IP:127.0.0.1")
    os.chmod(key, 0o644)
    return cert, key


class LmtpTlsAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("Dovecot's LMTP delivery as another user needs root")
        cls.tmp = tempfile.mkdtemp(prefix="tern-lmtp-tls-")
        os.chmod(cls.tmp, 0o755)
        cls.cert, cls.key = make_ip_cert(cls.tmp)
        other_cert, _ = make_ip_cert(tempfile.mkdtemp(dir=cls.tmp))
        cls.dovecot = test_lmtp.DovecotLmtp(["a@tls.test", "b@wrongca.test"],
                                            tls=(cls.cert, cls.key))
        cls.auth_path = os.path.join(cls.tmp, "auth")
        cls.auth = test_lmtp.ScriptedLmtp(cls.auth_path, tls=(cls.cert, cls.key),
                                          auth=("lmtpuser", "s3cret"))
        cls.auth.start()
        cls.clear_path = os.path.join(cls.tmp, "clear")
        cls.clear = test_lmtp.ScriptedLmtp(cls.clear_path, auth=("lmtpuser", "s3cret"))
        cls.clear.start()
        cls.notls_path = os.path.join(cls.tmp, "notls")
        cls.notls = test_lmtp.ScriptedLmtp(cls.notls_path)
        cls.notls.start()
        dv = "[127.0.0.1]:%d" % cls.dovecot.port
        with open(os.path.join(cls.tmp, "transport"), "w") as f:
            f.write("tls.test lmtp:%s\n" % dv)
            f.write("wrongca.test lmtp:inet:127.0.0.1:%d\n" % cls.dovecot.port)
            f.write("auth.test lmtp:unix:%s\n" % cls.auth_path)
            f.write("clear.test lmtp:unix:%s\n" % cls.clear_path)
            f.write("notls.test lmtp:unix:%s\n" % cls.notls_path)
        with open(os.path.join(cls.tmp, "tls_policy"), "w") as f:
            f.write("%s verify\n" % dv)
            # The same server under another next-hop name, whose CA is
            # not trusted: verify must fail.
            f.write("inet:127.0.0.1:%d secure\n" % cls.dovecot.port)
            f.write("unix:%s encrypt\n" % cls.auth_path)
            f.write("unix:%s encrypt\n" % cls.notls_path)
        with open(os.path.join(cls.tmp, "sasl_passwd"), "w") as f:
            f.write("unix:%s lmtpuser:s3cret\n" % cls.auth_path)
            f.write("unix:%s lmtpuser:s3cret\n" % cls.clear_path)
        cls.inst = test_lmtp.lmtp_instance({
            "transport_maps": "texthash:%s/transport" % cls.tmp,
            "lmtp_tls_policy_maps": "texthash:%s/tls_policy" % cls.tmp,
            "lmtp_tls_CAfile": cls.cert,
            "lmtp_sasl_auth_enable": "yes",
            "lmtp_sasl_password_maps": "texthash:%s/sasl_passwd" % cls.tmp,
            # Postfix's default is $lmtp_sasl_security_options
            # (noplaintext): PLAIN/LOGIN only under TLS is set by hand.
            "lmtp_sasl_tls_security_options": "noanonymous",
            # What the smtp client would do instead: CA of another
            # certificate, no AUTH, no TLS policy.
            "smtp_tls_CAfile": other_cert,
            "smtp_sasl_auth_enable": "no",
            "smtp_tls_security_level": "none",
        })

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        for s in (cls.auth, cls.clear, cls.notls):
            s.stop()
        cls.dovecot.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def log_for(self, rcpt, status):
        return test_lmtp.status_line(self.inst, rcpt, status, 30)

    def test_verified_starttls_to_dovecot(self):
        test_lmtp.send(self.inst.smtp_port, ["a@tls.test"], "over tls")
        self.log_for("a@tls.test", "sent")
        (raw,) = self.dovecot.messages("a@tls.test")
        self.assertIn(b"Subject: over tls", raw)
        tls = [l for l in self.inst.log().splitlines()
               if "Verified TLS connection" in l and "127.0.0.1]:%d" % self.dovecot.port in l]
        self.assertTrue(tls, self.inst.log())
        # Dovecot's Received: header records the TLS session.
        self.assertRegex(raw.decode(), r"(?s)Received: from .*\(using TLS")

    def test_secure_level_refuses_unmatched_name(self):
        """secure checks the next-hop name (inet:127.0.0.1:port is a host
        name 127.0.0.1, the certificate has only an IP): deferred, not
        sent in the clear."""
        test_lmtp.send(self.inst.smtp_port, ["b@wrongca.test"], "must not arrive")
        line = self.log_for("b@wrongca.test", "deferred")
        self.assertIn("dsn=4.7.5", line)
        self.assertEqual(self.dovecot.messages("b@wrongca.test"), [])

    def test_auth_after_starttls(self):
        test_lmtp.send(self.inst.smtp_port, ["x@auth.test"], "with auth")
        self.log_for("x@auth.test", "sent")
        self.assertIn(("PLAIN", "lmtpuser", "s3cret", True), self.auth.auths)

    def test_no_plaintext_auth_without_tls(self):
        """lmtp_sasl_security_options' default noplaintext: a server
        without STARTTLS gets no password, the mail waits."""
        test_lmtp.send(self.inst.smtp_port, ["y@clear.test"], "no auth in clear")
        line = self.log_for("y@clear.test", "deferred")
        self.assertIn("SASL authentication failed", line)
        self.assertIn("no mechanism is allowed without TLS", line)
        self.assertEqual(self.clear.auths, [])

    def test_encrypt_without_starttls_defers(self):
        test_lmtp.send(self.inst.smtp_port, ["z@notls.test"], "needs tls")
        line = self.log_for("z@notls.test", "deferred")
        self.assertIn("TLS is required, but was not offered", line)


if __name__ == "__main__":
    unittest.main()
