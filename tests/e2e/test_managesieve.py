"""ManageSieve end to end (RFC 5804): managesieve-login (capabilities,
STARTTLS, AUTHENTICATE PLAIN/LOGIN with and without an initial response,
LOGOUT, NOOP) and the user's managesieve process (HAVESPACE, PUTSCRIPT,
LISTSCRIPTS, SETACTIVE, GETSCRIPT, DELETESCRIPT, RENAMESCRIPT,
CHECKSCRIPT, limits), over raw sockets and with Debian's sieve-connect;
scripts land where Pigeonhole keeps them (~/sieve/NAME.sieve and the
~/.dovecot.sieve link), and a script uploaded this way files mail
delivered through smtpd; the same command conversation compared with
Dovecot's managesieve."""
import base64
import os
import pwd
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import unittest

from login_util import Lines, tls_context
from tern_instance import Instance, wait_until

USER = "carol@example.com"
PASS = "sieve-secret-1"

GOOD = b'require "fileinto";\r\nif header :contains "subject" "report" {\r\n  fileinto "Work";\r\n}\r\n'
BAD = b'require "fileinto";\r\nfileinot "x";\r\n'


def plain(user=USER, password=PASS):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()


def literal(data):
    return b"{%d+}\r\n" % len(data) + data


class Msv(Lines):
    """A ManageSieve client that can send anything."""

    def response(self):
        """Reads up to the OK/NO/BYE line: (status, code, text, lines
        before it); a literal in a line is read whole into it."""
        before = []
        while True:
            line = self.line()
            m = re.search(rb"\{(\d+)\}\r\n$", line)
            if m:
                n = int(m.group(1))
                while len(self.buf) < n:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise EOFError("closed in a literal")
                    self.buf += chunk
                line = line[:m.start()] + b"{" + self.buf[:n] + b"}"
                self.buf = self.buf[n:]
                line += self.line()
            st = re.match(rb"(OK|NO|BYE)( \(([^)]*)\))?( (.*))?\r\n$", line, re.S)
            if st:
                text = st.group(5) or b""
                return (st.group(1).decode(), (st.group(3) or b"").decode(), text, before)
            before.append(line)

    def do(self, data):
        """Sends one command (CRLF added) and reads its response."""
        self.send((data if isinstance(data, bytes) else data.encode()) + b"\r\n")
        return self.response()


DOVECOT_MANAGESIEVE = "/usr/lib/dovecot/managesieve"

# The conversation run on both servers; answers compared by status, code
# and data lines (the texts are worded differently).
DIFF_COMMANDS = [
    b'PUTSCRIPT "work" ' + literal(GOOD),
    b'PUTSCRIPT "bad" ' + literal(BAD),
    b"CHECKSCRIPT " + literal(BAD),
    b"CHECKSCRIPT " + literal(GOOD),
    b"LISTSCRIPTS",
    b'SETACTIVE "work"',
    b"LISTSCRIPTS",
    b'GETSCRIPT "work"',
    b'GETSCRIPT "nope"',
    b'DELETESCRIPT "work"',
    b'PUTSCRIPT "other" "keep;"',
    b'RENAMESCRIPT "work" "other"',
    b'RENAMESCRIPT "work" "w2"',
    b"LISTSCRIPTS",
    b'SETACTIVE "nope"',
    b'SETACTIVE "w2"',
    b'SETACTIVE ""',
    b"LISTSCRIPTS",
    b'DELETESCRIPT "w2"',
    b'DELETESCRIPT "nope"',
    b'HAVESPACE "x" 100',
    b'NOOP "t1"',
    b"GETSCRIPT x",
    b'HAVESPACE "x"',
    b"FROB",
    b'PUTSCRIPT "../x" "keep;"',
    b'PUTSCRIPT "a \\"q\\"" "discard;"',
    b"LISTSCRIPTS",
]


class SockMsv(Msv):
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""


def dovecot_conversation(commands):
    """Runs Dovecot's managesieve, pre-authenticated, on a socket over a
    fresh home as nobody; returns its answers to commands and the home's
    Sieve files ({name: bytes}, link target)."""
    d = tempfile.mkdtemp(prefix="tern-dovecot-msv-")
    os.chmod(d, 0o755)
    home = os.path.join(d, "home")
    os.mkdir(home)
    try:
        conf = os.path.join(d, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("mail_location = maildir:%s/Maildir\nlog_path = %s/dovecot.log\n"
                    "ssl = no\nprotocols = sieve\nplugin {\n"
                    "  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n" % (home, d))
        for top, dirs, files in os.walk(d):
            for n in dirs + files + ["."]:
                os.lchown(os.path.join(top, n), 65534, 65534)
        a, b = socket.socketpair()
        p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              "env", "-i", "USER=carol", "HOME=%s" % home,
                              DOVECOT_MANAGESIEVE, "-c", conf], stdin=b, stdout=b,
                             stderr=subprocess.DEVNULL)
        b.close()
        a.settimeout(30)
        c = SockMsv(a)  # pre-authenticated: no greeting
        answers = [c.do(cmd) for cmd in commands]
        c.do(b"LOGOUT")
        a.close()
        p.wait(timeout=30)
        return answers, sieve_files(home)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def sieve_files(home):
    sdir = os.path.join(home, "sieve")
    files = {}
    for n in sorted(os.listdir(sdir)) if os.path.isdir(sdir) else []:
        if n.endswith(".sieve"):
            with open(os.path.join(sdir, n), "rb") as f:
                files[n] = f.read()
    link = os.path.join(home, ".dovecot.sieve")
    return files, os.readlink(link) if os.path.islink(link) else None


class ManageSieveTest(unittest.TestCase):
    main_cf = {"auth_failure_exceptions": "127.0.0.0/8",
               "sieve_quota_max_scripts": "5", "sieve_max_script_size": "20000"}

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(managesieve=True, main_cf=cls.main_cf)
        cls.inst.user_add(USER, PASS)
        cls.inst.start()
        wait_until(lambda: cls.inst._port_open(cls.inst.managesieve_port), 30,
                   what="managesieve port")
        cls.home = cls.inst.maildir(USER)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        shutil.rmtree(os.path.join(self.home, "sieve"), ignore_errors=True)
        link = os.path.join(self.home, ".dovecot.sieve")
        if os.path.lexists(link):
            os.unlink(link)

    def connect(self):
        c = Msv(self.inst.managesieve_port)
        st, code, text, caps = c.response()
        self.assertEqual(st, "OK")
        return c, caps

    def login(self):
        c, _ = self.connect()
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % plain()),
                         ("OK", "", b'"Logged in."', []))
        return c

    def test_greeting_capabilities(self):
        c, caps = self.connect()
        caps = b"".join(caps)
        self.assertIn(b'"IMPLEMENTATION" "tern"\r\n', caps)
        self.assertIn(b"PLAIN", re.search(rb'"SASL" "([^"]*)"', caps).group(1).split())
        self.assertIn(b'"STARTTLS"\r\n', caps)
        self.assertIn(b'"VERSION" "1.0"\r\n', caps)
        sieve = re.search(rb'"SIEVE" "([^"]*)"', caps).group(1).split()
        for ext in (b"fileinto", b"vacation", b"imap4flags", b"variables", b"regex", b"enotify"):
            self.assertIn(ext, sieve)
        self.assertIn(b'"NOTIFY" "mailto"\r\n', caps)
        st, _, _, again = c.do("CAPABILITY")
        self.assertEqual(st, "OK")
        # the greeting may come before the login process has heard auth's
        # mechanisms (then it offers PLAIN); by now it has
        self.assertIn(b'"SASL" "PLAIN LOGIN"\r\n', again)
        self.assertEqual([l for l in again if not l.startswith(b'"SASL"')],
                         [l for l in caps.splitlines(True) if not l.startswith(b'"SASL"')])
        self.assertEqual(c.do('NOOP "sync-1"'), ("OK", 'TAG "sync-1"', b'"Done"', []))
        self.assertEqual(c.do("LISTSCRIPTS")[:2], ("NO", ""))
        self.assertEqual(c.do("LOGOUT")[0], "OK")
        self.assertTrue(c.closed())

    def test_authenticate_forms(self):
        c, _ = self.connect()
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % plain(password="wrong"))[0], "NO")
        # no initial response: an empty challenge, the response a literal
        c.send('AUTHENTICATE "PLAIN"\r\n')
        self.assertEqual(c.line(), b'""\r\n')
        self.assertEqual(c.do(literal(plain().encode())),
                         ("OK", "", b'"Logged in."', []))
        self.assertEqual(c.do("LISTSCRIPTS"), ("OK", "", b'"Listscripts completed."', []))
        self.assertEqual(c.do("LOGOUT")[0], "OK")
        # LOGIN, each answer a quoted string; then "*" cancels
        c, _ = self.connect()
        c.send('AUTHENTICATE "LOGIN"\r\n')
        self.assertTrue(c.line().startswith(b'"'))
        c.send('"%s"\r\n' % base64.b64encode(USER.encode()).decode())
        self.assertTrue(c.line().startswith(b'"'))
        self.assertEqual(c.do('"%s"' % base64.b64encode(PASS.encode()).decode())[0], "OK")
        c.close()
        c, _ = self.connect()
        c.send('AUTHENTICATE "PLAIN"\r\n')
        self.assertEqual(c.line(), b'""\r\n')
        self.assertEqual(c.do('"*"')[0], "NO")
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % plain())[0], "OK")
        c.close()

    def test_scripts(self):
        c = self.login()
        self.assertEqual(c.do(b'PUTSCRIPT "work" ' + literal(GOOD)),
                         ("OK", "", b'"PUTSCRIPT completed."', []))
        path = os.path.join(self.home, "sieve", "work.sieve")
        with open(path, "rb") as f:
            self.assertEqual(f.read(), GOOD)
        owner = pwd.getpwuid(os.stat(path).st_uid).pw_uid
        self.assertEqual(owner, os.stat(self.home).st_uid)
        # a script that does not compile is refused with its line, not stored
        st, code, text, _ = c.do(b'PUTSCRIPT "bad" ' + literal(BAD))
        self.assertEqual(st, "NO")
        self.assertIn(b"line 2", text)
        self.assertFalse(os.path.exists(os.path.join(self.home, "sieve", "bad.sieve")))
        st, _, text, _ = c.do(b"CHECKSCRIPT " + literal(BAD))
        self.assertEqual(st, "NO")
        self.assertIn(b"line 2: error", text)
        self.assertEqual(c.do(b"CHECKSCRIPT " + literal(GOOD))[0], "OK")
        self.assertEqual(c.do(b'PUTSCRIPT "other" "keep;"')[0], "OK")
        self.assertEqual(c.do("LISTSCRIPTS")[3], [b'"other"\r\n', b'"work"\r\n'])
        self.assertEqual(c.do('SETACTIVE "work"')[0], "OK")
        link = os.path.join(self.home, ".dovecot.sieve")
        self.assertEqual(os.readlink(link), "sieve/work.sieve")
        self.assertEqual(c.do("LISTSCRIPTS")[3], [b'"other"\r\n', b'"work" ACTIVE\r\n'])
        st, _, _, lines = c.do('GETSCRIPT "work"')
        self.assertEqual((st, lines), ("OK", [b"{" + GOOD + b"}\r\n"]))
        self.assertEqual(c.do('GETSCRIPT "nope"')[:2], ("NO", "NONEXISTENT"))
        self.assertEqual(c.do('DELETESCRIPT "work"')[:2], ("NO", "ACTIVE"))
        self.assertEqual(c.do('DELETESCRIPT "nope"')[:2], ("NO", "NONEXISTENT"))
        self.assertEqual(c.do('RENAMESCRIPT "work" "other"')[:2], ("NO", "ALREADYEXISTS"))
        self.assertEqual(c.do('RENAMESCRIPT "work" "filters"')[0], "OK")
        self.assertEqual(os.readlink(link), "sieve/filters.sieve")
        self.assertEqual(c.do("LISTSCRIPTS")[3], [b'"filters" ACTIVE\r\n', b'"other"\r\n'])
        self.assertEqual(c.do('SETACTIVE "nope"')[:2], ("NO", "NONEXISTENT"))
        self.assertEqual(c.do('SETACTIVE ""')[0], "OK")
        self.assertFalse(os.path.lexists(link))
        self.assertEqual(c.do('DELETESCRIPT "filters"')[0], "OK")
        self.assertEqual(c.do("LISTSCRIPTS")[3], [b'"other"\r\n'])
        for name in ('"../x"', '"a/b"', '".hidden"', '""'):
            self.assertEqual(c.do('PUTSCRIPT %s "keep;"' % name)[0], "NO", name)
        self.assertEqual(os.listdir(os.path.join(self.home, "sieve")), ["other.sieve"])
        # quoted names with escapes, UTF-8
        self.assertEqual(c.do('PUTSCRIPT "a \\"q\\" \xe9t\xe9" "keep;"'.encode("utf-8"))[0],
                         "OK")
        self.assertIn('a "q" \xe9t\xe9.sieve', os.listdir(os.path.join(self.home, "sieve")))
        self.assertEqual(c.do("LOGOUT")[0], "OK")
        self.assertTrue(c.closed())

    def test_limits(self):
        c = self.login()
        self.assertEqual(c.do('HAVESPACE "x" 100'), ("OK", "", b'"Putscript would succeed."', []))
        self.assertEqual(c.do('HAVESPACE "x" 20001')[:2], ("NO", "QUOTA/MAXSIZE"))
        # a literal past the limit is skipped, not stored; the session goes on
        big = b"# " + b"x" * 30000 + b"\r\nkeep;\r\n"
        self.assertEqual(c.do(b'PUTSCRIPT "big" ' + literal(big))[:2], ("NO", "QUOTA/MAXSIZE"))
        self.assertEqual(c.do("NOOP")[0], "OK")
        for i in range(5):
            self.assertEqual(c.do('PUTSCRIPT "s%d" "keep;"' % i)[0], "OK")
        self.assertEqual(c.do('HAVESPACE "s5" 10')[:2], ("NO", "QUOTA/MAXSCRIPTS"))
        self.assertEqual(c.do('PUTSCRIPT "s5" "keep;"')[:2], ("NO", "QUOTA/MAXSCRIPTS"))
        self.assertEqual(c.do('PUTSCRIPT "s4" "discard;"')[0], "OK")  # replacing is fine
        # syntax errors are answered, not fatal
        self.assertEqual(c.do('HAVESPACE "x" "y"')[0], "NO")
        self.assertEqual(c.do("PUTSCRIPT \"x\"")[0], "NO")
        self.assertEqual(c.do("FROB")[0], "NO")
        self.assertEqual(c.do("NOOP")[0], "OK")
        c.close()

    def test_unauthenticate(self):
        """RFC 5804 2.14.1: back to the non-authenticated state on the same
        connection (managesieve-login takes the client back), commands
        pipelined after UNAUTHENTICATE answered there; then over TLS, which
        stays up."""
        c, caps = self.connect()
        self.assertIn(b'"UNAUTHENTICATE"\r\n', caps)
        self.assertEqual(c.do("UNAUTHENTICATE")[:2], ("NO", ""))  # not logged in yet
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % plain())[0], "OK")
        st, _, _, again = c.do("CAPABILITY")
        self.assertIn(b'"UNAUTHENTICATE"\r\n', again)
        self.assertEqual(c.do(b'PUTSCRIPT "u1" "keep;"')[0], "OK")
        # one write: the user process answers the first, the login process the rest
        c.send(b'UNAUTHENTICATE\r\nLISTSCRIPTS\r\nNOOP "after"\r\nPUTSCRIPT "u2" '
               + literal(b"discard;") + b"\r\n")
        self.assertEqual(c.response(), ("OK", "", b'"Unauthenticate completed."', []))
        self.assertEqual(c.response()[:3], ("NO", "", b'"Not logged in."'))
        self.assertEqual(c.response(), ("OK", 'TAG "after"', b'"Done"', []))
        self.assertEqual(c.response()[:3], ("NO", "", b'"Not logged in."'))
        self.assertFalse(os.path.exists(os.path.join(self.home, "sieve", "u2.sieve")))
        # a wrong password is a failed login as any other, a right one logs in again
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % plain(password="wrong"))[0], "NO")
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % plain()),
                         ("OK", "", b'"Logged in."', []))
        self.assertEqual(c.do("LISTSCRIPTS")[3], [b'"u1"\r\n'])
        self.assertEqual(c.do("UNAUTHENTICATE")[0], "OK")
        self.assertEqual(c.do("LOGOUT")[0], "OK")
        self.assertTrue(c.closed())
        # over STARTTLS: the session stays encrypted after UNAUTHENTICATE
        c, _ = self.connect()
        self.assertEqual(c.do("STARTTLS")[0], "OK")
        c.starttls(tls_context(self.inst))
        self.assertEqual(c.response()[0], "OK")
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % plain())[0], "OK")
        self.assertEqual(c.do("UNAUTHENTICATE")[0], "OK")
        st, _, _, again = c.do("CAPABILITY")
        self.assertEqual(st, "OK")
        self.assertNotIn(b'"STARTTLS"\r\n', again)
        self.assertEqual(c.do("STARTTLS")[0], "NO")
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % plain())[0], "OK")
        self.assertEqual(c.do(b'PUTSCRIPT "u3" "keep;"')[0], "OK")
        self.assertEqual(c.do("LISTSCRIPTS")[3], [b'"u1"\r\n', b'"u3"\r\n'])
        self.assertEqual(c.do("LOGOUT")[0], "OK")
        self.assertTrue(c.closed())

    def test_starttls(self):
        c, caps = self.connect()
        self.assertEqual(c.do("STARTTLS")[0], "OK")
        c.starttls(tls_context(self.inst))
        st, _, text, again = c.response()
        self.assertEqual((st, text), ("OK", b'"TLS negotiation successful."'))
        self.assertNotIn(b'"STARTTLS"\r\n', again)
        self.assertIn(b'"SASL" "PLAIN LOGIN"\r\n', again)
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % plain())[0], "OK")
        self.assertEqual(c.do(b'PUTSCRIPT "tls" ' + literal(GOOD))[0], "OK")
        st, _, _, lines = c.do('GETSCRIPT "tls"')
        self.assertEqual(lines, [b"{" + GOOD + b"}\r\n"])
        c.close()

    def test_sieve_connect(self):
        d = tempfile.mkdtemp(prefix="tern-sieve-connect-")
        try:
            local = os.path.join(d, "up.sieve")
            with open(local, "wb") as f:
                f.write(GOOD)
            base = ["sieve-connect", "--server", "127.0.0.1", "--port",
                    str(self.inst.managesieve_port), "--user", USER, "--passwordfd", "0",
                    "--notlsverify", "--authmech", "PLAIN"]
            r = subprocess.run(base + ["--upload", "--localsieve", local, "--remotesieve",
                                       "uploaded"], input=PASS + "\n", capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = subprocess.run(base + ["--activate", "--remotesieve", "uploaded"],
                               input=PASS + "\n", capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = subprocess.run(base + ["--list"], input=PASS + "\n", capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("uploaded", r.stdout)
            out = os.path.join(d, "down.sieve")
            r = subprocess.run(base + ["--download", "--remotesieve", "uploaded",
                                       "--localsieve", out], input=PASS + "\n",
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), GOOD)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        self.assertEqual(os.readlink(os.path.join(self.home, ".dovecot.sieve")),
                         "sieve/uploaded.sieve")

    def test_same_as_dovecot(self):
        want, want_files = dovecot_conversation(DIFF_COMMANDS)
        c = self.login()
        got = [c.do(cmd) for cmd in DIFF_COMMANDS]
        c.close()
        self.assertEqual(len(want), len(DIFF_COMMANDS))
        for cmd, g, w in zip(DIFF_COMMANDS, got, want):
            # status, response code and data lines agree; texts differ, and
            # Dovecot lists scripts in directory order, tern sorted
            self.assertEqual((g[0], g[1], sorted(g[3])), (w[0], w[1], sorted(w[3])), cmd)
        self.assertEqual(sieve_files(self.home), want_files)

    def test_uploaded_script_files_mail(self):
        c = self.login()
        self.assertEqual(c.do(b'PUTSCRIPT "work" ' + literal(GOOD))[0], "OK")
        self.assertEqual(c.do('SETACTIVE "work"')[0], "OK")
        c.close()
        work = os.path.join(self.home, ".Work")
        shutil.rmtree(work, ignore_errors=True)
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail("alice@example.org", [USER],
                       b"From: alice@example.org\r\nSubject: weekly report\r\n\r\nnumbers\r\n")
            s.sendmail("alice@example.org", [USER],
                       b"From: alice@example.org\r\nSubject: lunch\r\n\r\nsoup\r\n")
        # fileinto without :create goes to INBOX unless the folder exists
        wait_until(lambda: len(os.listdir(os.path.join(self.home, "new"))) >= 2, 60,
                   what="both messages in INBOX")
        c = self.login()
        st, _, _, _ = c.do(b'PUTSCRIPT "work" ' + literal(GOOD.replace(
            b'require "fileinto";', b'require ["fileinto", "mailbox"];').replace(
            b'fileinto "Work"', b'fileinto :create "Work"')))
        self.assertEqual(st, "OK")
        c.close()
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail("alice@example.org", [USER],
                       b"From: alice@example.org\r\nSubject: monthly report\r\n\r\nmore\r\n")
        wait_until(lambda: os.path.isdir(os.path.join(work, "new")) and
                   os.listdir(os.path.join(work, "new")), 60, what="mail filed into Work")
        names = os.listdir(os.path.join(work, "new"))
        self.assertEqual(len(names), 1)
        with open(os.path.join(work, "new", names[0]), "rb") as f:
            self.assertIn(b"Subject: monthly report", f.read())


if __name__ == "__main__":
    unittest.main()
