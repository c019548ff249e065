"""The walking skeleton end to end: SMTP in, through smtpd, cleanup, the
queue, qmgr and local, into a Maildir."""
import os
import random
import re
import signal
import smtplib
import socket
import subprocess
import threading
import time
import unittest

from tern_instance import Instance, free_port, wait_until

USER = "alice@example.com"


def smtp_session(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    return s, f


def read_reply(f):
    """One (possibly multi-line) SMTP reply: (code, [lines])."""
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise AssertionError("connection closed, got %r" % lines)
        lines.append(line.decode("latin-1").rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return int(lines[-1][:3]), lines


class SkeletonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A DNS server that refuses (nothing listens on port 1): remote
        # mail is deferred by smtp and waits in the queue, whatever DNS the
        # machine has.
        cls.inst = Instance(mailboxes=[USER, "bob@example.com"],
                            main_cf={"smtp_dns_resolver": "127.0.0.1:1"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def wait_messages(self, addr, n, timeout=20):
        return wait_until(lambda: len(self.inst.messages(addr)) >= n and self.inst.messages(addr),
                          timeout, what="%d messages for %s\nlog:\n%s" % (n, addr, self.inst.log()[-3000:]))

    def test_message_arrives_byte_for_byte(self):
        body = (b"Subject: byte test\r\nFrom: sender@example.org\r\nTo: " + USER.encode() +
                b"\r\n\r\nline one\r\n.starts with a dot\r\n..two dots\r\n.\r\n"  # smtplib stuffs
                b"8-bit: caf\xc3\xa9 \xff\xfe raw\r\ntrailing line\r\n")
        # smtplib dot-stuffs for us; a lone "." line in the content must survive too.
        before = len(self.inst.messages(USER))
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=10) as c:
            code, _ = c.ehlo("client.example.org")
            self.assertEqual(code, 250)
            refused = c.sendmail("sender@example.org", [USER], body)
            self.assertEqual(refused, {})
        msgs = self.wait_messages(USER, before + 1)
        got = [m for m in msgs if b"byte test" in m][0]
        expected = body.replace(b"\r\n", b"\n")
        self.assertTrue(got.startswith(b"Return-Path: <sender@example.org>\nDelivered-To: " +
                                       USER.encode() + b"\nReceived: from client.example.org"),
                        got[:300])
        # Everything after tern's own headers is the message, byte for byte.
        idx = got.index(b"\nSubject: byte test")
        self.assertEqual(got[idx + 1:], expected)
        self.assertRegex(got.decode("latin-1"), r"by \S+ \(tern\) with ESMTP id [0-9A-V]{16}")

    def test_unknown_recipient_rejected_at_rcpt(self):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=10) as c:
            c.ehlo("client.example.org")
            c.mail("sender@example.org")
            code, msg = c.rcpt("nobody@example.com")
            self.assertEqual(code, 550, msg)
            self.assertIn(b"5.1.1", msg)
            code, msg = c.rcpt(USER)
            self.assertEqual(code, 250, msg)

    def test_ehlo_lists_exactly_the_extensions(self):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=10) as c:
            code, msg = c.ehlo("client.example.org")
            self.assertEqual(code, 250)
            exts = sorted(l.split()[0].upper() for l in msg.decode().split("\n")[1:])
            self.assertEqual(exts, ["8BITMIME", "CHUNKING", "DSN", "ENHANCEDSTATUSCODES",
                                    "PIPELINING", "SIZE", "SMTPUTF8", "STARTTLS"])

    def test_pipelined_commands_and_sequence_errors(self):
        s, f = smtp_session(self.inst.smtp_port)
        try:
            self.assertEqual(read_reply(f)[0], 220)
            s.sendall(b"EHLO x.example\r\nRCPT TO:<" + USER.encode() + b">\r\n"
                      b"MAIL FROM:<a@example.org>\r\nMAIL FROM:<b@example.org>\r\n"
                      b"RCPT TO:<" + USER.encode() + b">\r\nNOOP\r\nVRFY x\r\nRSET\r\n"
                      b"DATA\r\nFOO\r\nQUIT\r\n")
            codes = [read_reply(f)[0] for _ in range(11)]
            self.assertEqual(codes, [250, 503, 250, 503, 250, 250, 252, 250, 503, 502, 221])
        finally:
            s.close()

    def test_line_too_long(self):
        s, f = smtp_session(self.inst.smtp_port)
        try:
            read_reply(f)
            s.sendall(b"NOOP " + b"x" * 5000 + b"\r\nNOOP\r\n")
            code, lines = read_reply(f)
            self.assertEqual(code, 500, lines)
            self.assertEqual(read_reply(f)[0], 250)   # the tail was not taken as a command
        finally:
            s.close()

    def test_no_smtp_smuggling(self):
        """Only CRLF.CRLF ends DATA: a bare-LF dot line followed by commands
        stays message content, and no second message appears."""
        addr = "bob@example.com"
        before = len(self.inst.messages(addr))
        s, f = smtp_session(self.inst.smtp_port)
        try:
            read_reply(f)
            s.sendall(b"EHLO x.example\r\n")
            read_reply(f)
            s.sendall(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<" + addr.encode() + b">\r\nDATA\r\n")
            self.assertEqual([read_reply(f)[0] for _ in range(3)], [250, 250, 354])
            s.sendall(b"Subject: smuggle\r\n\r\nfirst\n.\r\nMAIL FROM:<evil@example.org>\r\n"
                      b"RCPT TO:<" + addr.encode() + b">\r\nDATA\r\nSubject: smuggled\r\n\r\n"
                      b"x\r\n.\r\n")
            code, lines = read_reply(f)
            self.assertEqual(code, 250, lines)
            s.sendall(b"QUIT\r\n")
            self.assertEqual(read_reply(f)[0], 221)
        finally:
            s.close()
        msgs = self.wait_messages(addr, before + 1)
        time.sleep(0.5)
        msgs = self.inst.messages(addr)
        self.assertEqual(len(msgs), before + 1)
        self.assertIn(b"MAIL FROM:<evil@example.org>", msgs[-1])

    def test_relay_from_mynetworks_is_queued(self):
        """127.0.0.1 is in mynetworks: outside domains are accepted (and wait
        in the queue, as smtp cannot look them up in this instance)."""
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=10) as c:
            c.ehlo("client.example.org")
            c.mail("sender@example.org")
            code, msg = c.rcpt("someone@outside.example")
            self.assertEqual(code, 250, msg)
            c.data(b"Subject: relay\r\n\r\nhello\r\n")
        out = wait_until(lambda: "someone@outside.example" in self.inst.tern("queue", "list").stdout
                         and self.inst.tern("queue", "list").stdout, 10, what="queue list")
        self.assertRegex(out, r"[0-9A-V]{16}[ *!]\s+\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d\s+sender@example.org")
        self.assertIn("Request", out)


class RelayControlTest(unittest.TestCase):
    """A client outside mynetworks may not relay."""

    def test_outside_domain_refused(self):
        inst = Instance(mailboxes=[USER], main_cf={"mynetworks": "192.0.2.0/24"})
        try:
            inst.start()
            with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
                c.ehlo("client.example.org")
                c.mail("sender@example.org")
                for rcpt in ("user@outside.example", "user@example.com.outside.example"):
                    code, msg = c.rcpt(rcpt)
                    self.assertEqual(code, 554, msg)
                    self.assertIn(b"5.7.1", msg)
                code, msg = c.rcpt(USER)
                self.assertEqual(code, 250, msg)
        finally:
            inst.cleanup()


class ConcurrencyTest(unittest.TestCase):
    def test_20_sessions_10_messages_each(self):
        inst = Instance(mailboxes=[USER])
        try:
            inst.start()
            errors = []

            def client(n):
                try:
                    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
                        c.ehlo("c%d.example.org" % n)
                        for i in range(10):
                            msg = ("Subject: load %d-%d\r\nMessage-ID: <%d.%d@test>\r\n\r\n"
                                   "body %d %d\r\n" % (n, i, n, i, n, i)).encode()
                            c.sendmail("s@example.org", [USER], msg)
                except Exception as e:  # noqa: reported below
                    errors.append(repr(e))

            threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            self.assertEqual(errors, [])
            wait_until(lambda: len(inst.messages(USER)) >= 200, 60, what="200 messages")
            time.sleep(0.5)
            subjects = sorted(re.search(rb"Subject: (load \d+-\d+)", m).group(1)
                              for m in inst.messages(USER))
            self.assertEqual(len(subjects), 200)
            self.assertEqual(len(set(subjects)), 200)
            wait_until(lambda: inst.queue_files() == [], 10, what="an empty queue")
        finally:
            inst.cleanup()


class PrivilegeTest(unittest.TestCase):
    def test_processes_run_as_designed(self):
        inst = Instance(mailboxes=[USER])
        try:
            inst.start()
            wait_until(lambda: {"smtpd", "cleanup", "qmgr"} <=
                       {p for _, p, _ in inst.processes()}, 10, what="the daemons")
            # The delivery agents start with their first client, as
            # Postfix's do: mail for a mailbox and for a remote domain
            # (deferred: no DNS here) starts local and smtp.
            time.sleep(0.5)
            self.assertFalse({"local", "smtp"} & {p for _, p, _ in inst.processes()},
                             inst.processes())
            with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
                c.sendmail("s@example.org", [USER], b"Subject: start local\r\n\r\nx\r\n")
                c.sendmail("s@example.org", ["someone@remote.invalid"],
                           b"Subject: start smtp\r\n\r\nx\r\n")
            wait_until(lambda: {"smtpd", "cleanup", "qmgr", "local", "smtp"} <=
                       {p for _, p, _ in inst.processes()}, 30, what="all daemons")
            if os.geteuid() == 0:
                want = {"smtpd": {"tern"}, "cleanup": {"tern"}, "qmgr": {"tern"},
                        "master": {"root"}, "local": {"root"}, "smtp": {"tern"}}
            else:
                me = __import__("pwd").getpwuid(os.geteuid()).pw_name
                want = {p: {me} for p in ("smtpd", "cleanup", "qmgr", "master", "local", "smtp")}
            want["pickup"] = want["qmgr"]  # pickup runs as mail_owner too
            want["auth"] = want["qmgr"]    # so does auth (no PAM helper by default)

            def users():
                seen = {}
                for _, prog, user in inst.processes():
                    seen.setdefault(prog, set()).add(user)
                return seen
            # A daemon is root for a moment after exec, until it has read its
            # configuration: wait for that moment to pass, then compare.
            wait_until(lambda: users() == want, 10,
                       what="processes running as %s, seen %s" % (want, users()))
            self.assertEqual(users(), want)
        finally:
            inst.cleanup()


class LifecycleTest(unittest.TestCase):
    def test_status_stop_reload_and_restart_of_a_crashed_daemon(self):
        inst = Instance(mailboxes=[USER])
        try:
            self.assertEqual(inst.tern("status", check=False).returncode, 3)
            inst.start()
            self.assertEqual(inst.tern("status", check=False).returncode, 0)
            self.assertNotEqual(inst.tern("start", check=False).returncode, 0)  # already running
            old = wait_until(lambda: inst.pids_of("qmgr"), 10, what="qmgr running")
            self.assertEqual(len(old), 1)
            os.kill(old[0], signal.SIGKILL)
            wait_until(lambda: inst.pids_of("qmgr") and inst.pids_of("qmgr") != old, 10,
                       what="qmgr restarted")
            self.assertEqual(inst.tern("reload", check=False).returncode, 0)
            with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
                c.sendmail("s@example.org", [USER], b"Subject: after reload\r\n\r\nx\r\n")
            wait_until(lambda: any(b"after reload" in m for m in inst.messages(USER)), 20,
                       what="delivery after reload")
            procs = inst.processes()
            self.assertEqual(inst.tern("stop", check=False).returncode, 0)
            inst.started = False

            def alive():
                out = []
                for p, prog, _ in procs:
                    try:
                        with open("/proc/%d/stat" % p) as f:
                            if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                                out.append("%s[%d]" % (prog, p))
                    except OSError:
                        pass
                return out
            # master exits only after reaping its children; a process killed
            # at the end of the grace period may still be on its way out.
            wait_until(lambda: not alive(), 15, what="every process gone, left: %s" % alive())
        finally:
            inst.cleanup()


if __name__ == "__main__":
    unittest.main()


class MasterTest(unittest.TestCase):
    def test_ipv6_listener(self):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
        except OSError:
            self.skipTest("this machine has no IPv6 loopback")
        inst = Instance(mailboxes=[USER])
        try:
            port = inst.submission_port
            with open(os.path.join(inst.etc, "master.cf")) as f:
                text = f.read()
            with open(os.path.join(inst.etc, "master.cf"), "w") as f:
                # Plain SMTP on the submission address (no TLS/AUTH -o options).
                text = re.sub(r"\n[ \t]+-o [^\n]*", "", text)
                f.write(text.replace("127.0.0.1:%d" % port, "[::1]:%d" % port))
            inst.start()
            c = smtplib.SMTP(timeout=10)
            c.connect("::1", port)
            try:
                c.sendmail("s@example.org", [USER], b"Subject: over ipv6\r\n\r\nx\r\n")
            finally:
                c.quit()
            msg = wait_until(lambda: [m for m in inst.messages(USER) if b"over ipv6" in m], 20,
                             what="delivery over IPv6")[0]
            self.assertIn(b"[IPv6:::1]", msg)
        finally:
            inst.cleanup()

    def test_failing_daemon_backs_off(self):
        """A service that dies at once is restarted with a growing delay,
        never in a fork storm, while the others keep working."""
        inst = Instance(mailboxes=[USER])
        try:
            with open(os.path.join(inst.etc, "master.cf"), "a") as f:
                f.write("127.0.0.1:%d inet n - n - 1 /bin/false\n" % free_port())
            inst.start()
            time.sleep(3)
            starts = inst.log().count("/bin/false pid")
            self.assertGreaterEqual(starts, 2, inst.log())
            self.assertLessEqual(starts, 8, inst.log())
            self.assertIn("failures in a row", inst.log())
            with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
                c.sendmail("s@example.org", [USER], b"Subject: still fine\r\n\r\nx\r\n")
            wait_until(lambda: any(b"still fine" in m for m in inst.messages(USER)), 20,
                       what="delivery next to a failing service")
        finally:
            inst.cleanup()
