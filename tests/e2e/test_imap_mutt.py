"""A real client through imap-login: Debian's mutt, run in a detached tmux
pane (it wants a terminal) with its keys pushed from its configuration:
it logs in over IMAP, opens INBOX, reads the first message, saves it to
another folder, expunges it from INBOX and quits.  The outcome is checked
with imaplib: the message moved byte for byte, \\Seen set, INBOX without
it."""
import imaplib
import os
import shutil
import subprocess
import tempfile
import unittest

from login_util import crlf, put_message, start_instance
from tern_instance import wait_until

USER = "mutt@example.com"
PASS = "mutt-secret-1"
MSG1 = (b"From: Ann <ann@example.org>\nTo: mutt@example.com\nSubject: for mutt\n"
        b"Date: Sun, 6 Dec 2026 10:00:00 +0000\nMessage-ID: <m1@example.org>\n\n"
        b"first message, read and moved by mutt\n")
MSG2 = (b"From: Bob <bob@example.org>\nTo: mutt@example.com\nSubject: stays\n"
        b"Date: Mon, 7 Dec 2026 10:00:00 +0000\nMessage-ID: <m2@example.org>\n\n"
        b"second message, left alone\n")


class MuttTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = start_instance({USER: PASS}, imap=True)
        md = cls.inst.maildir(USER)
        put_message(md, MSG1)
        put_message(md, MSG2)
        c = cls.imap()
        assert c.create("Moved")[0] == "OK"
        c.logout()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    @classmethod
    def imap(cls):
        c = imaplib.IMAP4("127.0.0.1", cls.inst.imap_port)
        c.login(USER, PASS)
        return c

    def run_mutt(self, keys):
        d = tempfile.mkdtemp(prefix="tern-mutt-")
        self.addCleanup(shutil.rmtree, d, True)
        rc, done = os.path.join(d, "muttrc"), os.path.join(d, "done")
        with open(rc, "w") as f:
            f.write('set imap_user="%s"\nset imap_pass="%s"\n' % (USER, PASS))
            f.write('set folder="imap://127.0.0.1:%d/"\nset spoolfile="+INBOX"\n'
                    % self.inst.imap_port)
            # Plaintext on loopback (login_secured_networks): no TLS prompts.
            f.write("set ssl_starttls=no\nset ssl_force_tls=no\n")
            f.write("set delete=yes\nset confirmappend=no\nset confirmcreate=no\n"
                    "set move=no\nset mark_old=no\nset quit=yes\nset wait_key=no\n"
                    "set sleep_time=0\nset header_cache=\nset message_cachedir=\n"
                    "set beep=no\nset timeout=3\nset pager_stop=yes\n")
            f.write('push "%s"\n' % keys)
        session = "tern-mutt-%d" % os.getpid()
        env = dict(os.environ, HOME=d, TERM="xterm", MUTT=rc)
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "50",
                        "mutt -n -F %s; echo $? > %s" % (rc, done)], env=env, check=True)
        self.addCleanup(subprocess.run, ["tmux", "kill-session", "-t", session],
                        capture_output=True)

        def screen():
            return subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                  capture_output=True, text=True).stdout
        try:
            wait_until(lambda: os.path.exists(done) and open(done).read().strip(), 60,
                       what="mutt to finish")
        except Exception:
            raise AssertionError("mutt did not finish; its screen:\n" + screen())
        self.assertEqual(open(done).read().strip(), "0")

    def test_read_and_move_a_message(self):
        self.run_mutt("<display-message><exit><save-message>=Moved<enter>"
                      "<sync-mailbox><quit>")
        c = self.imap()
        typ, data = c.select("Moved", readonly=True)
        self.assertEqual(typ, "OK")
        self.assertEqual(int(data[0]), 1)
        typ, data = c.fetch(b"1", "(FLAGS BODY.PEEK[])")
        self.assertIn(b"\\Seen", data[0][0])
        self.assertEqual(data[0][1], crlf(MSG1))
        typ, data = c.select("INBOX", readonly=True)
        self.assertEqual(int(data[0]), 1)
        typ, data = c.fetch(b"1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"Subject: stays", data[0][1])
        c.logout()
        wait_until(lambda: "Login: user=<%s>, method=" % USER in self.inst.log(), 10,
                   what="mutt's login line")


if __name__ == "__main__":
    unittest.main()
