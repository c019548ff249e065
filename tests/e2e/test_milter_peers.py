"""smtpd_milters with the real filters from Debian: rspamd's proxy worker in
milter mode (self-scanning, DNS pointed at a closed loopback port so that no
look-up leaves the machine) and clamav-milter in front of clamd.

clamd runs with a database directory holding the EICAR test signature
alone (an MD5 hash signature, eicar.hdb, written by the test): the official
ClamAV databases are not in any Debian package (freshclam downloads them),
and no network is allowed here.  The signature is the standard EICAR file's
hash, so clamd, clamav-milter and tern do exactly what they would do with
the full database for this file."""
import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from rspamd_util import Rspamd, chown_tree
from smtpd_util import Conn
from tern_instance import Instance, free_port, stop_process, wait_until

ALICE = "alice@example.com"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def need_root(case):
    if os.geteuid() != 0:
        raise unittest.SkipTest("rspamd and clamd are started as their own users (needs root)")


def send(port, subject, body, sender="someone@example.org", headers=""):
    """One message; returns (code, text) of the final reply."""
    c = Conn(port, timeout=60)
    try:
        assert c.reply()[0] == 220
        assert c.ehlo()[0] == 250
        assert c.cmd("MAIL FROM:<%s>" % sender)[0] == 250
        assert c.cmd("RCPT TO:<%s>" % ALICE)[0] == 250
        assert c.cmd("DATA")[0] == 354
        c.send("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%f@example.org>\r\n"
               "Date: Sun, 06 Dec 2026 20:00:00 +0000\r\n%s\r\n%s\r\n.\r\n"
               % (sender, ALICE, subject, time.time(), headers, body))
        code, text = c.reply()
        c.cmd("QUIT")
        return code, " ".join(text)
    finally:
        c.close()


class Daemon:
    """A foreground daemon started by the test, stopped by its PID."""

    def __init__(self, args, log, cwd=None):
        self.out = open(log, "wb")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=subprocess.STDOUT, cwd=cwd)

    def stop(self):
        stop_process(self.proc, 20)
        self.out.close()


class RspamdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.rspamd = Rspamd()
        cls.port = cls.rspamd.port
        cls.inst = Instance(mailboxes=[ALICE])
        cls.inst.append_main_cf({"smtpd_milters": "inet:127.0.0.1:%d" % cls.port,
                                 "milter_default_action": "tempfail",
                                 "milter_content_timeout": "120s"})
        cls.inst.start()
        cls.rspamd.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.rspamd.stop()

    def test_gtube_rejected_and_ham_marked(self):
        code, text = send(self.inst.smtp_port, "test", "This is spam.\r\n" + GTUBE)
        self.assertEqual(code, 554, text)
        self.assertIn("5.7.1 Gtube pattern", text)  # rspamd names the rule that fired
        code, text = send(self.inst.smtp_port, "lunch on friday",
                          "Hello Alice,\r\n\r\nshall we meet for lunch on Friday at noon?\r\n"
                          "\r\nBest regards,\r\nBob\r\n")
        self.assertEqual(code, 250, text)
        msgs = wait_until(lambda: [m for m in self.inst.messages(ALICE) if b"lunch on friday" in m],
                          30, what="the ham message")
        head = msgs[0].split(b"\n\n", 1)[0]
        self.assertNotIn(b"GTUBE", b"".join(self.inst.messages(ALICE)))
        # rspamd's milter adds its verdict headers to accepted mail.
        self.assertIn(b"\nX-Spamd-Result: default: False", head)
        self.assertIn(b"\nX-Spam-Status: No, score=", head)
        self.assertNotIn(b"X-Spam: Yes", head)


class ClamavTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.dir = tempfile.mkdtemp(prefix="clamav-e2e-")
        os.chmod(cls.dir, 0o755)
        d = cls.dir
        os.makedirs(os.path.join(d, "db"))
        with open(os.path.join(d, "db", "eicar.hdb"), "w") as f:
            f.write("%s:%d:Eicar-Test-Signature\n" % (hashlib.md5(EICAR).hexdigest(), len(EICAR)))
        cls.port = free_port()
        with open(os.path.join(d, "clamd.conf"), "w") as f:
            f.write("LocalSocket %s/clamd.sock\nFixStaleSocket true\nForeground true\n"
                    "DatabaseDirectory %s/db\nLogFile %s/clamd.log\nUser clamav\nScanMail true\n"
                    "ScanArchive true\nTemporaryDirectory %s\nSelfCheck 0\n" % (d, d, d, d))
        with open(os.path.join(d, "clamav-milter.conf"), "w") as f:
            f.write("MilterSocket inet:%d@127.0.0.1\nClamdSocket unix:%s/clamd.sock\n"
                    "Foreground yes\nUser clamav\nOnInfected Reject\nOnFail Defer\n"
                    "AddHeader Replace\nLogFile %s/milter.log\nLogInfected Basic\n"
                    "RejectMsg Virus found: %%v\n" % (cls.port, d, d))
        chown_tree(d, "clamav")
        cls.clamd = Daemon(["clamd", "-c", os.path.join(d, "clamd.conf")],
                           os.path.join(d, "clamd.out"))
        wait_until(lambda: os.path.exists(os.path.join(d, "clamd.sock")) or
                   cls.clamd.proc.poll() is not None, 120, 0.2, what="clamd's socket")
        if cls.clamd.proc.poll() is not None:
            raise AssertionError("clamd exited: %s" % open(os.path.join(d, "clamd.out")).read())
        cls.milter = Daemon(["clamav-milter", "-c", os.path.join(d, "clamav-milter.conf")],
                            os.path.join(d, "milter.out"))
        wait_until(lambda: Instance._port_open(cls.port), 60, 0.2, what="clamav-milter's port")
        cls.inst = Instance(mailboxes=[ALICE])
        cls.inst.append_main_cf({"smtpd_milters": "inet:127.0.0.1:%d" % cls.port})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.milter.stop()
        cls.clamd.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_eicar_rejected_clean_accepted(self):
        b64 = base64.encodebytes(EICAR).decode().replace("\n", "\r\n")
        body = ("--b1\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n"
                "--b1\r\nContent-Type: application/octet-stream\r\n"
                "Content-Disposition: attachment; filename=\"eicar.com\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n%s--b1--\r\n" % b64)
        mime = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n"
        code, text = send(self.inst.smtp_port, "a virus", body, headers=mime)
        self.assertEqual(code // 100, 5, text)
        self.assertIn("Virus found: Eicar-Test-Signature", text)
        code, text = send(self.inst.smtp_port, "clean mail", "Nothing to see here.\r\n")
        self.assertEqual(code, 250, text)
        msgs = wait_until(lambda: [m for m in self.inst.messages(ALICE) if b"clean mail" in m],
                          30, what="the clean message")
        self.assertIn(b"\nX-Virus-Status: Clean\n", msgs[0])
        self.assertFalse([m for m in self.inst.messages(ALICE) if b"a virus" in m])


if __name__ == "__main__":
    unittest.main()
