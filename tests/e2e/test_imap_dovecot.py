"""Differential test: the same Maildir served by Debian's Dovecot (imapd,
a private instance on loopback) and by tern's imap (stand-alone mode)
must give the same answers to the same commands.

Dovecot writes the mailbox (the corpus of tests/imap/corpus/ appended,
flags and keywords stored, folders created); then both servers read it,
read-only (EXAMINE), and their responses are compared, normalising only
what the RFCs leave free: the order of flags in a list, \\Recent (it
belongs to whichever session saw a message first), the text after a
tagged status, and the order of untagged SELECT data."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

from local_util import Dovecot
from tern_instance import BUILD, ROOT, Instance

IMAP = os.path.join(BUILD, "libexec", "imap")
CORPUS = os.path.join(ROOT, "tests", "imap", "corpus")
LITERAL = re.compile(rb"~?\{(\d+)\}$")


class Conn:
    """A raw IMAP connection over a socket (Dovecot) or pipes (tern)."""

    def __init__(self, rfile, wfile):
        self.r, self.w, self.n = rfile, wfile, 0
        self.r.readline()

    def cmd(self, text):
        """The untagged responses (literals inlined) and the tagged status."""
        self.n += 1
        tag = b"d%d" % self.n
        self.w.write(tag + b" " + text + b"\r\n")
        self.w.flush()
        out = []
        while True:
            line = self.r.readline()
            if not line:
                raise AssertionError("connection closed after %r" % text)
            line = line.rstrip(b"\r\n")
            m = LITERAL.search(line)
            while m:
                line += b"\r\n" + self.r.read(int(m.group(1)))
                rest = self.r.readline().rstrip(b"\r\n")
                line += rest
                m = LITERAL.search(rest)
            if line.startswith(tag + b" "):
                return out, line.split(b" ")[1]
            out.append(line)


def norm_flags(line):
    """Flag lists sorted, \\Recent dropped."""
    def fix(m):
        flags = sorted(f for f in m.group(1).split() if f != b"\\Recent")
        return b"FLAGS (" + b" ".join(flags) + b")"
    return re.sub(rb"FLAGS \(([^)]*)\)", fix, line)


class ImapDovecotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (Dovecot runs as a mail user)")
        cls.home = tempfile.mkdtemp(prefix="tern-imapdiff-")
        os.chmod(cls.home, 0o755)
        shutil.chown(cls.home, "nobody", "nogroup")
        cls.maildir = os.path.join(cls.home, "Maildir")
        cls.dovecot = Dovecot("nobody", home=cls.home)
        cls.inst = Instance(main_cf={"mailbox_autocreate": "no"})
        cls.files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))
        d = cls.connect_dovecot()
        for i, name in enumerate(cls.files):
            with open(os.path.join(CORPUS, name), "rb") as f:
                data = f.read().replace(b"\n", b"\r\n")
            flags = [b"()", b"(\\Seen)", b"(\\Flagged $Work)", b"(\\Answered \\Seen $x)"][i % 4]
            out, st = d.cmd(b"APPEND INBOX %s {%d+}\r\n%s" % (flags, len(data), data))
            assert st == b"OK", out
        for name in (b"Work", b"Work.Projects", b"Caf&AOk-", b"Trash", b"Old", b"Old.2025",
                     b"Old.2025.Q1", b"Lists.Deep.Down"):
            d.cmd(b"CREATE " + name)
        for name in (b"Work", b"Work.Projects", b"Old.2025.Q1", b"Lists.Deep.Down",
                     b"Gone.Child"):
            d.cmd(b"SUBSCRIBE " + name)
        d.cmd(b"SELECT INBOX")
        d.cmd(b"COPY 1:5 Work.Projects")
        d.cmd(b"STORE 3 +FLAGS (\\Deleted)")
        d.cmd(b"EXPUNGE")
        d.cmd(b"LOGOUT")

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        cls.inst.cleanup()
        shutil.rmtree(cls.home, ignore_errors=True)

    @classmethod
    def connect_dovecot(cls):
        s = socket.create_connection(("127.0.0.1", cls.dovecot.port), timeout=30)
        c = Conn(s.makefile("rb"), s.makefile("wb"))
        c.sock = s
        out, st = c.cmd(b"LOGIN nobody " + cls.dovecot.password.encode())
        assert st == b"OK", out
        return c

    def connect_tern(self):
        p = subprocess.Popen([IMAP, "-c", self.inst.dir, "--user", self.maildir],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.addCleanup(p.wait, 10)
        self.addCleanup(p.stdin.close)
        return Conn(p.stdout, p.stdin)

    def both(self):
        d = self.connect_dovecot()
        self.addCleanup(d.sock.close)
        return d, self.connect_tern()

    def same(self, d, t, command, normalise=norm_flags, sort=False):
        od, sd = d.cmd(command)
        ot, st = t.cmd(command)
        od = [normalise(x) for x in od]
        ot = [normalise(x) for x in ot]
        if sort:
            od, ot = sorted(od), sorted(ot)
        self.assertEqual((sd, od), (st, ot), command)
        return od

    def test_select_and_fetch_items(self):
        d, t = self.both()

        def select_data(line):
            # The UNSEEN/UIDNEXT/... codes and counts; not the human text.
            m = re.match(rb"(\* OK \[[^]]*\]|\* \d+ \w+|\* FLAGS .*)", line)
            return norm_flags(m.group(1)) if m else b""
        od, _ = d.cmd(b"EXAMINE INBOX")
        ot, _ = t.cmd(b"EXAMINE INBOX")
        want = [x for x in map(select_data, od) if x]
        got = [x for x in map(select_data, ot) if x]
        for line in want:
            if line.startswith(b"* OK [HIGHESTMODSEQ") or line.startswith(b"* 0 RECENT") or \
                    b"RECENT" in line or b"PERMANENTFLAGS" in line:
                continue  # modseqs are each server's own; \Recent per session
            self.assertIn(line, got)
        n = len(self.files) - 1
        for item in (b"UID", b"FLAGS", b"RFC822.SIZE", b"ENVELOPE", b"BODYSTRUCTURE", b"BODY",
                     b"INTERNALDATE", b"BODY.PEEK[]", b"BODY.PEEK[HEADER]", b"BODY.PEEK[TEXT]",
                     b"BODY.PEEK[1]", b"BODY.PEEK[1.MIME]", b"BODY.PEEK[2]",
                     b"BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]", b"BODY.PEEK[]<5.20>",
                     b"RFC822.HEADER",
                     # From the file: the empty line and a last line's
                     # newline only where the message has them.
                     b"BODY.PEEK[HEADER.FIELDS.NOT (Received)]",
                     b"BODY.PEEK[HEADER.FIELDS.NOT (From Subject)]<2.40>",
                     b"BODY.PEEK[2.HEADER.FIELDS (From Subject)]"):
            for seq in range(1, n + 1):
                self.same(d, t, b"FETCH %d (%s)" % (seq, item))

    def test_search(self):
        d, t = self.both()
        d.cmd(b"EXAMINE INBOX")
        t.cmd(b"EXAMINE INBOX")
        for keys in (b"ALL", b"SEEN", b"UNSEEN", b"FLAGGED", b"ANSWERED", b"KEYWORD $Work",
                     b"UNKEYWORD $x", b"SUBJECT test", b"FROM example", b"TO example",
                     b"BODY the", b"TEXT multipart", b"LARGER 1000", b"SMALLER 500",
                     b"SINCE 1-Jan-2000", b"SENTBEFORE 1-Jan-2010", b"OR SEEN FLAGGED",
                     b"NOT SEEN 2:10", b"UID 3:*", b"HEADER Content-Type mixed",
                     b"CHARSET UTF-8 SUBJECT {5+}\r\ncaf\xc3\xa9"):
            self.same(d, t, b"SEARCH " + keys)
            self.same(d, t, b"UID SEARCH " + keys)

    def test_header_cache(self):
        """SEARCH on header keys and SENT* dates, FETCH of chosen header
        fields, SORT and THREAD: tern answers them from its index cache once
        a first pass filled it (tern.index.cache holds the hdr.* fields), and
        the answers stay Dovecot's cold, warm, with the cache's records
        overwritten, cut short and removed."""
        cache = os.path.join(self.maildir, "tern.index.cache")
        commands = [b"SEARCH " + k for k in (
            b"FROM example", b"SUBJECT test", b"TO example", b"CC example", b"BCC nobody",
            b"HEADER Message-ID @", b"HEADER X-Mailer \"\"", b"HEADER Received from",
            b"SENTSINCE 1-Jan-2005", b"SENTBEFORE 1-Jan-2010 FROM a", b"NOT FROM example",
            b"OR FROM example SUBJECT re", b"HEADER Content-Type mixed",
            b"CHARSET UTF-8 SUBJECT {5+}\r\ncaf\xc3\xa9")]
        commands += [b"UID SEARCH SUBJECT test FROM example"]
        commands += [b"FETCH 1:* (BODY.PEEK[HEADER.FIELDS (%s)])" % f for f in (
            b"FROM TO SUBJECT DATE MESSAGE-ID", b"Received", b"References In-Reply-To",
            b"Content-Type X-Nothing", b"subject SUBJECT")]
        commands += [b"FETCH 1:* (UID ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)]<3.10>)",
                     b"FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (Received X-Mailer)])",
                     b"SORT (SUBJECT FROM) UTF-8 ALL", b"THREAD REFERENCES UTF-8 ALL"]

        def run():
            d, t = self.both()
            d.cmd(b"EXAMINE INBOX")
            t.cmd(b"EXAMINE INBOX")
            for command in commands:
                self.same(d, t, command)
            t.cmd(b"LOGOUT")
        run()
        with open(cache, "rb") as f:
            data = f.read()
        for field in (b"hdr.from", b"hdr.subject", b"hdr.received", b"hdr.date",
                      b"hdr.in-reply-to"):
            self.assertIn(field, data)
        run()
        size = len(data)
        with open(cache, "r+b") as f:
            f.seek(4096)
            f.write(bytes((i * 7) & 0xFF for i in range(size - 4096)))
        run()
        os.truncate(cache, 5000)
        run()
        os.unlink(cache)
        run()
        self.assertTrue(os.path.exists(cache))

    def test_sort_thread(self):
        d, t = self.both()
        d.cmd(b"EXAMINE INBOX")
        t.cmd(b"EXAMINE INBOX")
        for crit in (b"(ARRIVAL)", b"(SIZE)", b"(REVERSE SIZE)", b"(SUBJECT ARRIVAL)",
                     b"(FROM ARRIVAL)", b"(DATE ARRIVAL)"):
            self.same(d, t, b"SORT %s UTF-8 ALL" % crit)
        self.same(d, t, b"THREAD ORDEREDSUBJECT UTF-8 ALL")
        self.same(d, t, b"THREAD REFERENCES UTF-8 ALL")

    def test_list_status(self):
        d, t = self.both()

        def no_special(line):
            return re.sub(rb" ?\\(Drafts|Sent|Trash|Junk|Archive|All|Flagged)\b", b"", line)
        self.same(d, t, b'LIST "" *', no_special, sort=True)
        self.same(d, t, b'LIST "" %', no_special, sort=True)
        self.same(d, t, b'LSUB "" *', sort=True)
        # LIST-EXTENDED (RFC 5258): selection and return options,
        # RECURSIVEMATCH's CHILDINFO for parents of subscribed folders.
        for cmd in (b'LIST (SUBSCRIBED) "" *', b'LIST (SUBSCRIBED) "" %',
                    b'LIST (SUBSCRIBED RECURSIVEMATCH) "" %',
                    b'LIST (SUBSCRIBED RECURSIVEMATCH) "" *',
                    b'LIST (SUBSCRIBED RECURSIVEMATCH) "" Old.%',
                    b'LIST (SUBSCRIBED RECURSIVEMATCH) "" Lists.%',
                    b'LIST (SUBSCRIBED RECURSIVEMATCH) "" Gone',
                    b'LIST (SUBSCRIBED) "" % RETURN (CHILDREN)',
                    b'LIST "" % RETURN (CHILDREN SUBSCRIBED)',
                    b'LIST "" (Old Work.%) RETURN (CHILDREN)',
                    b'LIST (RECURSIVEMATCH) "" %'):
            self.same(d, t, cmd, no_special, sort=True)
        for name in (b"INBOX", b"Work.Projects", b"Caf&AOk-"):
            self.same(d, t, b"STATUS %s (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)" % name)
        self.same(d, t, b"STATUS Nonexistent (MESSAGES)", lambda x: x)


if __name__ == "__main__":
    unittest.main()
