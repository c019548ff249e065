"""smtpd's TLS: STARTTLS (RFC 3207) with the CVE-2011-0411 defence,
implicit TLS (smtps), the TLS 1.2 floor, logging and the Received: header,
required TLS on submission, and handshakes that never stall other
clients.  Real clients too: openssl s_client -starttls smtp."""
import os
import re
import socket
import ssl
import subprocess
import time
import unittest

from smtpd_util import Conn, tls_context, wait_log
from tern_instance import Instance, free_port, wait_until

USER = "alice@example.com"


class StartTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[USER], main_cf={"smtpd_starttls_timeout": "3s"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def conn(self):
        c = Conn(self.inst.smtp_port)
        self.assertEqual(c.reply()[0], 220)
        return c

    def test_starttls_offered_then_not(self):
        c = self.conn()
        code, exts = c.ehlo()
        self.assertIn("STARTTLS", exts)
        c.starttls(tls_context(self.inst))
        self.assertTrue(c.sock.version() in ("TLSv1.2", "TLSv1.3"))
        code, exts = c.ehlo()
        self.assertEqual(code, 250)
        self.assertNotIn("STARTTLS", exts)
        code, lines = c.cmd("STARTTLS")
        self.assertEqual(code, 554, lines)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        c.close()

    def test_state_reset_after_tls(self):
        """RFC 3207 4.2: after the handshake the client must EHLO again and
        an earlier MAIL FROM is forgotten."""
        c = self.conn()
        c.ehlo()
        c.starttls()
        code, _ = c.cmd("RCPT TO:<%s>" % USER)
        self.assertEqual(code, 503)
        c.close()

    def test_cve_2011_0411_injection_discarded(self):
        c = self.conn()
        c.ehlo()
        c.send("STARTTLS\r\nRSET\r\n")
        self.assertEqual(c.reply()[0], 220)
        c.sock = tls_context().wrap_socket(c.sock)
        # The RSET was plaintext: it must never be answered.  The next
        # reply must be the NOOP's, not a 250 for the RSET.
        code, lines = c.cmd("NOOP injected-test")
        self.assertEqual((code, lines), (250, ["2.0.0 Ok"]))
        c.sock.settimeout(1)
        with self.assertRaises((socket.timeout, TimeoutError)):
            c._line()
        c.close()
        wait_log(self.inst, "discarding 6 bytes pipelined after STARTTLS")

    def test_mail_over_tls_records_cipher(self):
        c = self.conn()
        c.ehlo()
        c.starttls(tls_context(self.inst))
        c.ehlo()
        self.assertEqual(c.cmd("MAIL FROM:<s@example.org>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % USER)[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: over tls\r\n\r\nsecret\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        c.cmd("QUIT")
        c.close()
        msg = wait_until(lambda: [m for m in self.inst.messages(USER) if b"over tls" in m], 20,
                         what="delivery")[0]
        self.assertIn(b"with ESMTPS id", msg)
        self.assertRegex(msg.decode("latin-1"),
                         r"\n\t\(using TLSv1\.[23] with cipher \S+ \(\d+(/\d+)? bits\)\)\n\tby ")
        log = self.inst.log()
        self.assertRegex(log, r"Anonymous TLS connection established from unknown\[127\.0\.0\.1\]: "
                              r"TLSv1\.[23] with cipher \S+ \(\d+/\d+ bits\)")

    def test_tls_1_1_refused(self):
        ctx = tls_context()
        try:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        except ValueError:
            self.skipTest("this Python cannot speak TLS 1.1")
        c = self.conn()
        c.ehlo()
        with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
            c.starttls(ctx)
        c.close()

    def test_stalled_handshake_times_out_without_delaying_others(self):
        stalled = self.conn()
        stalled.ehlo()
        stalled.send("STARTTLS\r\n")
        self.assertEqual(stalled.reply()[0], 220)
        stalled.send(b"\x16\x03\x01")   # a TLS record header, then nothing
        # Meanwhile another client gets full service.
        t0 = time.monotonic()
        c = self.conn()
        c.ehlo()
        c.starttls()
        self.assertEqual(c.ehlo()[0], 250)
        self.assertLess(time.monotonic() - t0, 2.5)
        c.close()
        self.assertTrue(stalled.closed(timeout=10))
        stalled.close()
        wait_log(self.inst, "timeout after STARTTLS")

    def test_openssl_s_client(self):
        p = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                            "127.0.0.1:%d" % self.inst.smtp_port, "-quiet", "-verify_return_error",
                            "-CAfile", os.path.join(self.inst.etc, "cert.pem")],
                           input=b"EHLO openssl.example\r\nQUIT\r\n", capture_output=True, timeout=30)
        out = p.stdout.decode(errors="replace")
        self.assertIn("250-", out, p.stderr.decode(errors="replace"))
        self.assertIn("221 2.0.0", out)
        self.assertNotIn("STARTTLS", out)


class RequiredTlsTest(unittest.TestCase):
    """The submission service of tern init: TLS first, then AUTH."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(mailboxes=[USER])
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_mail_before_starttls_refused(self):
        c = Conn(self.inst.submission_port)
        c.reply()
        code, exts = c.ehlo()
        self.assertIn("STARTTLS", exts)
        self.assertFalse([e for e in exts if e.startswith("AUTH")], exts)
        code, lines = c.cmd("MAIL FROM:<s@example.org>")
        self.assertEqual(code, 530, lines)
        self.assertIn("5.7.0", lines[0])
        code, lines = c.cmd("AUTH PLAIN AHVzZXIAcGFzcw==")
        self.assertEqual(code, 530, lines)
        c.close()

    def test_submission_without_auth_refused(self):
        c = Conn(self.inst.submission_port)
        c.reply()
        c.ehlo()
        c.starttls()
        code, exts = c.ehlo()
        self.assertIn("AUTH PLAIN LOGIN", exts)
        self.assertEqual(c.cmd("MAIL FROM:<s@example.org>")[0], 250)
        for rcpt in (USER, "someone@outside.example"):
            code, lines = c.cmd("RCPT TO:<%s>" % rcpt)
            self.assertEqual(code, 554, lines)
        c.close()


class WrapperModeTest(unittest.TestCase):
    def test_smtps(self):
        inst = Instance(mailboxes=[USER])
        try:
            port = free_port()
            with open(os.path.join(inst.etc, "master.cf"), "a") as f:
                f.write("127.0.0.1:%d inet n - n - 1 smtpd\n"
                        "  -o smtpd_tls_wrappermode=yes\n" % port)
            inst.start()
            c = Conn(port, tls=tls_context(inst))
            code, lines = c.reply()
            self.assertEqual(code, 220)
            code, exts = c.ehlo()
            self.assertNotIn("STARTTLS", exts)
            self.assertEqual(c.cmd("MAIL FROM:<s@example.org>")[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<%s>" % USER)[0], 250)
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send("Subject: smtps\r\n\r\nx\r\n.\r\n")
            self.assertEqual(c.reply()[0], 250)
            c.close()
            msg = wait_until(lambda: [m for m in inst.messages(USER) if b"smtps" in m], 20,
                             what="delivery")[0]
            self.assertIn(b"with ESMTPS", msg)
            # A plaintext client gets no greeting at all.
            s = socket.create_connection(("127.0.0.1", port), timeout=3)
            s.sendall(b"EHLO x\r\n")
            try:
                data = s.recv(100)
            except (socket.timeout, ConnectionError):
                data = b""
            self.assertFalse(data.startswith(b"220"), data)
            s.close()
        finally:
            inst.cleanup()

    def test_init_smtps_option(self):
        port = free_port()
        d = __import__("tempfile").mkdtemp(prefix="tern-e2e-")
        os.chmod(d, 0o755)
        try:
            subprocess.run([__import__("tern_instance").TERN, "init", d + "/i", "--smtps",
                            "127.0.0.1:%d" % port], check=True, stdout=subprocess.DEVNULL)
            text = open(d + "/i/etc/master.cf").read()
            # its log name as Postfix's master.cf gives it, then wrapper mode
            self.assertRegex(text, r"127\.0\.0\.1:%d\s+inet.*smtpd\n\s+-o syslog_name=tern/smtps\n"
                                   r"\s+-o smtpd_tls_wrappermode=yes" % port)
            self.assertIn("-o smtpd_sasl_auth_enable=yes", text)
        finally:
            subprocess.run(["rm", "-rf", d])



class ClientCertTest(unittest.TestCase):
    def test_fingerprint_logged(self):
        inst = Instance(main_cf={"smtpd_tls_ask_ccert": "yes", "strict_rfc821_envelopes": "yes"})
        try:
            inst.start()
            ctx = tls_context()
            ctx.load_cert_chain(os.path.join(inst.etc, "cert.pem"), os.path.join(inst.etc, "key.pem"))
            c = Conn(inst.smtp_port)
            c.reply()
            c.ehlo()
            c.starttls(ctx)
            c.ehlo()
            # strict_rfc821_envelopes: no space after the colon.
            self.assertEqual(c.cmd("MAIL FROM: <s@example.org>")[0], 501)
            self.assertEqual(c.cmd("MAIL FROM:<s@example.org>")[0], 250)
            c.close()
            out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                                  os.path.join(inst.etc, "cert.pem")],
                                 capture_output=True, text=True, check=True).stdout
            fp = out.strip().split("=", 1)[1]
            wait_log(inst, "Untrusted TLS connection established from unknown[127.0.0.1]")
            wait_log(inst, "client certificate SHA256 fingerprint " + fp)
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()
