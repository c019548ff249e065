"""Several sessions of one user through imap-login: they share one imap
process (postlogin), so a long SEARCH/SORT in one session must not hold
the others back (searchcmd.c runs it in slices from the event loop).
Raw sockets; orderings of answers are asserted, never durations."""
import imaplib
import os
import re
import select
import unittest

from line_client import LineClient
from login_util import Lines, put_message, start_instance
from tern_instance import wait_until

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
        cls.inst = start_instance({USER: PASS}, imap=True)
        md = cls.inst.maildir(USER)
        for i in range(NMSG):
            put_message(md, big_message(i, needle=(i == NMSG - 5)), sub="cur")
        # The needle's sequence number (file names decide the UID order).
        c = imaplib.IMAP4("127.0.0.1", cls.inst.imap_port)
        c.login(USER, PASS)
        c.select("INBOX", readonly=True)
        typ, data = c.search(None, "HEADER", "Message-ID", "<%d@example.org>" % (NMSG - 5))
        cls.needle = int(data[0])
        c.logout()

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
        self.assertIn(b"* SEARCH %d\r\n" % self.needle, res)
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
        self.assertIn(b"* SORT %d\r\n" % self.needle, lines)
        self.assertIn(b"* SEARCH %d\r\n" % self.needle, lines)
        a.close()
        b.close()

    def test_imaplib_thread_result(self):
        c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        c.login(USER, PASS)
        c.select("INBOX", readonly=True)
        typ, data = c.thread("REFERENCES", "UTF-8", "TEXT", "xyzzy-needle")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"(%d)" % self.needle])
        c.logout()


class ImapLimitsTest(unittest.TestCase):
    """imap_max_user_connections (per user and client address, counted by
    the user's imap process), imap_client_limit (sessions per imap
    process: the next login starts a second process) and
    login_client_limit (clients of one imap-login process)."""

    @classmethod
    def setUpClass(cls):
        cls.inst = start_instance({USER: PASS}, imap=True, main_cf={
            "imap_max_user_connections": "2", "imap_client_limit": "3",
            "login_client_limit": "8"})

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def login(self, source="127.0.0.1", tag=b"l"):
        s = LineClient(self.inst.imap_port, source=source)
        self.assertTrue(s.raw_line().startswith(b"* OK"))
        s.send(b"%s LOGIN %s %s\r\n" % (tag, USER.encode(), PASS.encode()))
        lines = []
        while True:
            ln = s.raw_line()
            lines.append(ln)
            if ln.startswith(tag + b" "):
                return s, lines

    def mpids(self, n):
        """The mpid= of the last n Login lines of the user."""
        found = re.findall(r"imap-login\[\d+\]: Login: user=<%s>.*?mpid=(\d+)" % USER,
                           self.inst.log())
        return found[-n:] if len(found) >= n else None

    def test_user_connections_per_address_and_client_limit(self):
        a, la = self.login()
        b, lb = self.login()
        self.assertTrue(la[-1].startswith(b"l OK") and lb[-1].startswith(b"l OK"), (la, lb))
        # A third from the same address: refused on its login command.
        c, lc = self.login()
        self.assertEqual(len(lc), 2, lc)
        self.assertTrue(lc[0].startswith(b"* BYE [LIMIT] Maximum number of connections"), lc)
        self.assertTrue(lc[1].startswith(b"l NO [LIMIT]"), lc)
        self.assertTrue(c.closed())
        # Another address of the same user is counted apart.
        d, ld = self.login(source="127.0.0.2")
        self.assertTrue(ld[-1].startswith(b"l OK"), ld)
        # Three sessions fill one imap process (imap_client_limit=3): the
        # fourth is served by a second one.
        e, le = self.login(source="127.0.0.3")
        self.assertTrue(le[-1].startswith(b"l OK"), le)
        wait_until(lambda: self.mpids(5), 10, what="Login lines")
        pids = self.mpids(5)
        # a, b, (c refused by the process a and b share), d, e: d joins
        # them once that process has seen c go, else the second one (the
        # refused session is counted until then); e is the second's
        self.assertEqual(len({pids[0], pids[1], pids[2]}), 1, pids)
        self.assertNotEqual(pids[4], pids[0], pids)
        # Once one of the first two has logged out, the address may log in again.
        a.send(b"x LOGOUT\r\n")
        self.assertTrue(a.closed())
        wait_until(lambda: "imap(%s): Logged out" % USER in self.inst.log(), 10,
                   what="the logout")
        f, lf = self.login()
        self.assertTrue(lf[-1].startswith(b"l OK"), lf)
        for s in (b, d, e, f):
            s.close()

    def test_login_client_limit(self):
        """Clients that have not logged in all stay with the one imap-login
        process; past login_client_limit the next is refused at once."""
        held = []
        for i in range(8):
            s = LineClient(self.inst.imap_port)
            self.assertTrue(s.raw_line().startswith(b"* OK"))
            held.append(s)
        s = LineClient(self.inst.imap_port)
        self.assertEqual(s.raw_line(),
                         b"* BYE [UNAVAILABLE] Too many connections, try again later.\r\n")
        self.assertTrue(s.closed())
        held.pop().close()
        wait_until(lambda: self._greets(), 10, what="room in imap-login")
        for s in held:
            s.close()

    def _greets(self):
        s = LineClient(self.inst.imap_port)
        try:
            return s.raw_line().startswith(b"* OK")
        finally:
            s.close()


if __name__ == "__main__":
    unittest.main()
