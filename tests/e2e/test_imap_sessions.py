"""Several sessions of one user through imap-login: they share one imap
process (postlogin), so a long SEARCH/SORT in one session must not hold
the others back (searchcmd.c runs it in slices from the event loop).
Raw sockets; orderings of answers are asserted, never durations."""
import imaplib
import os
import re
import select
import unittest

from login_util import Lines, put_message
from tern_instance import Instance, wait_until

USER = "erin@example.com"
PASS = "imap-secret-2"
NMSG = 3000


def big_message(i, needle=False):
    words = " ".join("word%d lorem ipsum dolor sit amet" % (i * 7 + k) for k in range(300))
    body = "\n".join(words[j:j + 76] for j in range(0, len(words), 76))
    return ("From: s%d@example.org\nTo: %s\nSubject: message %d\n"
            "Message-ID: <%d@example.org>\n\n%s\n%s" % (
                i, USER, i, i, body, "the xyzzy-needle is here\n" if needle else "")).encode()


class Session(Lines):
    def __init__(self, port):
        super().__init__(port)
        assert self.line().startswith(b"* OK")

    def until(self, tag):
        """Lines up to and including the tagged one of tag (bytes)."""
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            if ln.startswith(tag + b" "):
                return out

    def ready(self):
        """Has the server sent anything not yet read?"""
        if self.buf:
            return True
        r, _, _ = select.select([self.sock], [], [], 0)
        return bool(r)


class ImapSessionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(imap=True, main_cf={"auth_failure_exceptions": "127.0.0.0/8"})
        cls.inst.user_add(USER, PASS)
        cls.inst.start()
        wait_until(lambda: cls.inst._port_open(cls.inst.imap_port), 30, what="imap port")
        md = cls.inst.maildir(USER)
        for i in range(NMSG):
            put_message(md, big_message(i, needle=(i == NMSG - 5)), sub="cur")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def login(self):
        s = Session(self.inst.imap_port)
        s.send("l LOGIN %s %s\r\n" % (USER, PASS))
        self.assertTrue(s.until(b"l")[-1].startswith(b"l OK"))
        return s

    def select(self, s):
        s.send("s SELECT INBOX\r\n")
        lines = s.until(b"s")
        self.assertTrue(lines[-1].startswith(b"s OK"), lines)
        return lines

    def test_search_does_not_block_other_sessions(self):
        """While session A's SEARCH TEXT reads every message, session B of
        the same user (same imap process) gets its NOOP and FETCH answered
        and an IDLE notification of a new message, all before A's answer;
        then A's result is the right one."""
        a, b = self.login(), self.login()
        self.select(a)
        self.select(b)
        b.send("i IDLE\r\n")
        self.assertEqual(b.line(), b"+ idling\r\n")
        a.send("a1 SEARCH TEXT xyzzy-needle\r\n")
        put_message(self.inst.maildir(USER), b"Subject: new\n\nnew mail\n")
        exists = b.line()
        self.assertRegex(exists, rb"^\* %d EXISTS" % (NMSG + 1))
        self.assertFalse(a.ready(), "A's search answered before B's IDLE notification")
        b.send("DONE\r\n")
        self.assertTrue(b.until(b"i")[-1].startswith(b"i OK"))
        b.send("b1 NOOP\r\n")
        self.assertTrue(b.until(b"b1")[-1].startswith(b"b1 OK"))
        b.send("b2 FETCH 2 (FLAGS RFC822.SIZE)\r\n")
        fl = b.until(b"b2")
        self.assertTrue(fl[-1].startswith(b"b2 OK"), fl)
        self.assertTrue(fl[0].startswith(b"* 2 FETCH (FLAGS"), fl)
        self.assertFalse(a.ready(), "A's search answered before B's NOOP and FETCH")
        res = a.until(b"a1")
        self.assertIn(b"* SEARCH %d\r\n" % (NMSG - 4), res)
        self.assertTrue(res[-1].startswith(b"a1 OK"), res)
        # A's view was not synced under the search: the new message is
        # announced before its tagged OK (or at the next command).
        a.send("a2 NOOP\r\n")
        self.assertIn(b"* %d EXISTS\r\n" % (NMSG + 1), res + a.until(b"a2"))
        a.close()
        b.close()

    def test_sort_and_pipelined_commands_in_order(self):
        """A SORT over the whole folder answered in slices, with commands
        pipelined behind it answered after it, in order."""
        a, b = self.login(), self.login()
        self.select(a)
        a.send("a1 SORT (REVERSE SUBJECT) UTF-8 BODY xyzzy-needle\r\n"
               "a2 UID SEARCH BODY xyzzy-needle\r\na3 NOOP\r\n")
        b.send("b1 NOOP\r\n")
        self.assertTrue(b.until(b"b1")[-1].startswith(b"b1 OK"))
        lines = a.until(b"a3")
        tagged = [ln[:3] for ln in lines if re.match(rb"^a\d ", ln)]
        self.assertEqual(tagged, [b"a1 ", b"a2 ", b"a3 "], lines)
        self.assertIn(b"* SORT %d\r\n" % (NMSG - 4), lines)
        a.close()
        b.close()

    def test_imaplib_thread_result(self):
        c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        c.login(USER, PASS)
        c.select("INBOX", readonly=True)
        typ, data = c.thread("REFERENCES", "UTF-8", "TEXT", "xyzzy-needle")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"(%d)" % (NMSG - 4)])
        c.logout()


if __name__ == "__main__":
    unittest.main()
