"""The imap server through its stand-alone (pre-authenticated) mode,
"imap -c DIR --user ADDR" on stdin/stdout, as a tunnel client (mbsync,
mutt) uses it: Python's imaplib (IMAP4_stream) and a raw pipe where
imaplib cannot (literals, IDLE, COMPRESS, limits)."""
import imaplib
import os
import re
import select
import subprocess
import time
import unittest
import zlib

from tern_instance import BUILD, Instance, wait_until

IMAP = os.path.join(BUILD, "libexec", "imap")
USER = "u@example.com"

MSG1 = (b"From: Ann <ann@example.com>\r\nTo: u@example.com\r\nSubject: hello world\r\n"
        b"Date: Sun, 6 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\n"
        b"first body line\r\n")
MSG2 = (b"From: Bob <bob@example.com>\nTo: u@example.com\nSubject: Re: hello world\n"
        b"Date: Mon, 7 Dec 2026 10:00:00 +0000\nMessage-ID: <2@example.com>\n"
        b"In-Reply-To: <1@example.com>\nReferences: <1@example.com>\n"
        b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
        b"--XX\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 bare LF\n"
        b"--XX\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
        b"AAECAwQ=\n--XX--\n")


class Raw:
    """A raw pipe to the server: bytes in, lines and literals out."""

    def __init__(self, inst, user=USER):
        env = dict(os.environ)
        # Under ASan freed memory is held back; memory tests want it reused.
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=0"
        self.p = subprocess.Popen([IMAP, "-c", inst.dir, "--user", user], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.buf = b""
        self.z_out = None
        self.z_in = None
        self.greeting = self.line()

    def send(self, data):
        if self.z_out:
            data = self.z_out.compress(data) + self.z_out.flush(zlib.Z_SYNC_FLUSH)
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def _fill(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            raise AssertionError("no answer within %ss (have %r)" % (timeout, self.buf))
        data = os.read(self.p.stdout.fileno(), 65536)
        if not data:
            raise EOFError(self.buf)
        if self.z_in:
            data = self.z_in.decompress(data)
        self.buf += data

    def line(self, timeout=10):
        while b"\r\n" not in self.buf:
            self._fill(timeout)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self, n, timeout=10):
        while len(self.buf) < n:
            self._fill(timeout)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def cmd(self, tag, text):
        """Sends "tag text" and returns (untagged lines with literals, tagged line)."""
        self.send(tag + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag, timeout=10):
        out = []
        while True:
            line = self.line(timeout)
            m = re.search(rb"~?\{(\d+)\}$", line)
            while m:
                line += b"\r\n" + self.read(int(m.group(1)))
                rest = self.line(timeout)
                line += rest
                m = re.search(rb"~?\{(\d+)\}$", rest)
            if line.startswith(tag + b" "):
                return out, line
            out.append(line)

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        self.p.wait(10)


class ImapServerTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance(mailboxes=[USER])
        os.makedirs(self.inst.maildir(USER), exist_ok=True)
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            try:
                c.logout()
            except Exception:
                pass
        self.inst.cleanup()

    def imap(self):
        m = imaplib.IMAP4_stream("%s -c %s --user %s" % (IMAP, self.inst.dir, USER))
        self.clients.append(m)
        return m

    def raw(self):
        r = Raw(self.inst)
        self.addCleanup(r.close)
        return r

    def fill(self, m):
        typ, data = m.append("INBOX", None, None, MSG1)
        self.assertEqual(typ, "OK")
        self.assertIn(b"[APPENDUID ", data[0])
        typ, data = m.append("INBOX", "(\\Flagged $Work)", '"07-Dec-2026 11:00:00 +0100"', MSG2)
        self.assertEqual(typ, "OK")

    def test_greeting_capability_namespace(self):
        m = self.imap()
        self.assertTrue(m.welcome.startswith(b"* PREAUTH [CAPABILITY IMAP4rev1 IMAP4rev2"))
        for cap in ("IDLE", "UIDPLUS", "MOVE", "CONDSTORE", "QRESYNC", "COMPRESS=DEFLATE",
                    "ESEARCH", "SORT", "THREAD=REFERENCES", "LITERAL+", "SPECIAL-USE"):
            self.assertIn(cap, m.capabilities)
        typ, data = m.namespace()
        self.assertEqual(data, [b'(("" ".")) NIL NIL'])

    def test_list_autocreated_special_use(self):
        m = self.imap()
        typ, data = m.list()
        names = {d.split(b' "." ')[1]: d for d in data}
        self.assertIn(b"INBOX", names)
        self.assertIn(b"\\Sent", names[b"Sent"])
        self.assertIn(b"\\Trash", names[b"Trash"])
        typ, data = m.lsub()
        self.assertTrue(any(d.endswith(b" Drafts") for d in data))

    def test_select_fetch_envelope_body_and_sizes(self):
        m = self.imap()
        self.fill(m)
        typ, data = m.select("INBOX")
        self.assertEqual(data, [b"2"])
        typ, data = m.fetch("1:2", "(UID FLAGS RFC822.SIZE ENVELOPE)")
        self.assertIn(b'ENVELOPE ("Sun, 6 Dec 2026 10:00:00 +0000" "hello world"', data[0])
        self.assertIn(b"RFC822.SIZE %d" % len(MSG1), data[0])
        crlf2 = MSG2.replace(b"\n", b"\r\n")
        self.assertIn(b"RFC822.SIZE %d" % len(crlf2), data[1])
        self.assertIn(b"\\Flagged", data[1])
        self.assertIn(b"$Work", data[1])
        # BODY[] is byte-exact and bare LFs come back as CRLF.
        typ, data = m.fetch("2", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], crlf2)
        typ, data = m.fetch("2", "(BODY.PEEK[1] BODY.PEEK[2.MIME] BINARY.PEEK[1] BINARY.SIZE[2])")
        self.assertIn(b"BODY[1] {17}", data[0][0])
        self.assertEqual(data[0][1], b"caf=C3=A9 bare LF")
        self.assertEqual(data[2][1], "café bare LF".encode())
        self.assertIn(b"BINARY.SIZE[2] 5", data[3])
        typ, data = m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[]<10.20>)")
        self.assertEqual(data[0][1], b"Subject: Re: hello world\r\n\r\n")
        self.assertEqual(data[1][1], crlf2[10:30])
        typ, data = m.fetch("2", "BODYSTRUCTURE")
        self.assertIn(b'("text" "plain" ("charset" "utf-8") NIL NIL "quoted-printable"', data[0])
        self.assertIn(b'"mixed" ("boundary" "XX")', data[0])
        # A non-PEEK section sets \Seen, and the FETCH says so.
        typ, data = m.fetch("1", "(BODY[TEXT])")
        self.assertEqual(data[0][1], b"first body line\r\n")
        self.assertIn(b"\\Seen", data[0][0] + data[1])

    def test_search_sort_thread(self):
        m = self.imap()
        self.fill(m)
        m.select("INBOX")
        self.assertEqual(m.search(None, "SUBJECT", "hello")[1], [b"1 2"])
        self.assertEqual(m.search(None, "FLAGGED")[1], [b"2"])
        self.assertEqual(m.search(None, "BODY", "first")[1], [b"1"])
        self.assertEqual(m.search(None, "KEYWORD", "$Work")[1], [b"2"])
        m.uid("SEARCH", "RETURN", "(MIN MAX COUNT)", "ALL")
        typ, data = m.response("ESEARCH")
        self.assertRegex(data[0], rb'^\(TAG "[A-Z0-9]+"\) UID MIN \d+ MAX \d+ COUNT 2$')
        typ, data = m.sort("(REVERSE DATE)", "UTF-8", "ALL")
        self.assertEqual(data, [b"2 1"])
        typ, data = m.thread("REFERENCES", "UTF-8", "ALL")
        self.assertEqual(data, [b"(1 2)"])

    def test_store_copy_move_expunge_uidplus(self):
        m = self.imap()
        self.fill(m)
        m.select("INBOX")
        typ, data = m.store("1", "+FLAGS", "(\\Deleted $Done)")
        self.assertIn(b"$Done", data[0])
        typ, data = m.copy("2", "Archive")
        self.assertRegex(data[0], rb"^\[COPYUID \d+ \d+ 1\] Copy completed\.$")
        typ, data = m.expunge()
        self.assertEqual(data, [b"1"])
        typ, data = m.uid("MOVE", "1:*", "Trash")
        self.assertEqual(typ, "OK")
        typ, data = m.status("Trash", "(MESSAGES UIDNEXT)")
        self.assertEqual(data, [b"Trash (MESSAGES 1 UIDNEXT 2)"])
        typ, data = m.status("INBOX", "(MESSAGES)")
        self.assertEqual(data, [b"INBOX (MESSAGES 0)"])
        typ, data = m.copy("1", "Nowhere")
        self.assertEqual(typ, "NO")
        # What survives on disk: the Maildir files themselves.
        cur = os.listdir(os.path.join(self.inst.maildir(USER), ".Trash", "cur"))
        new = os.listdir(os.path.join(self.inst.maildir(USER), ".Trash", "new"))
        self.assertEqual(len(cur) + len(new), 1)

    def test_flags_seen_by_a_second_session(self):
        a, b = self.imap(), self.imap()
        self.fill(a)
        a.select("INBOX")
        b.select("INBOX")
        a.store("1", "+FLAGS", "(\\Answered)")
        typ, data = b.noop()
        self.assertIn(b"1 (FLAGS (\\Answered", b"".join(b.untagged_responses.get("FETCH", [])))
        a.append("INBOX", None, None, b"Subject: three\r\n\r\nx\r\n")
        b.noop()
        self.assertEqual(b.untagged_responses.get("EXISTS")[-1], b"3")

    def test_create_rename_delete_subscribe(self):
        m = self.imap()
        self.assertEqual(m.create("Work.Projects")[0], "OK")
        self.assertEqual(m.create("Caf&AOk-")[0], "OK")
        typ, data = m.list('""', "Work*")
        # Maildir++ has no folder for a level that was never created.
        self.assertIn(b'(\\Noselect \\HasChildren) "." Work', data)
        self.assertIn(b'(\\HasNoChildren) "." Work.Projects', data)
        self.assertEqual(m.rename("Work", "Job")[0], "OK")
        typ, data = m.list('""', "%")
        names = [d.split(b' "." ')[1] for d in data]
        self.assertIn(b"Job", names)
        self.assertIn(b"Caf&AOk-", names)
        self.assertTrue(os.path.isdir(os.path.join(self.inst.maildir(USER), ".Caf&AOk-")))
        self.assertEqual(m.subscribe("Job.Projects")[0], "OK")
        self.assertIn(b'() "." Job.Projects', m.lsub('""', "Job*")[1])
        self.assertEqual(m.delete("Job.Projects")[0], "OK")
        self.assertEqual(m.select("Job.Projects")[0], "NO")
        self.assertEqual(m.create("INBOX")[0], "NO")

    def test_condstore_qresync(self):
        r = self.raw()
        r.cmd(b"a0", b"APPEND INBOX {%d+}\r\n" % len(MSG1) + MSG1)
        r.cmd(b"a1", b"APPEND INBOX {%d+}\r\n" % len(MSG1) + MSG1)
        out, tag = r.cmd(b"a2", b"ENABLE QRESYNC")
        self.assertIn(b"* ENABLED QRESYNC", out)
        out, tag = r.cmd(b"a3", b"SELECT INBOX (CONDSTORE)")
        uv = int(re.search(rb"UIDVALIDITY (\d+)", b"\n".join(out)).group(1))
        hm = int(re.search(rb"HIGHESTMODSEQ (\d+)", b"\n".join(out)).group(1))
        out, tag = r.cmd(b"a4", b"UID STORE 1 +FLAGS.SILENT (\\Seen)")
        self.assertTrue(tag.startswith(b"a4 OK"), tag)
        self.assertRegex(out[0], rb"^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$")
        out, tag = r.cmd(b"a5", b"UID STORE 2 (UNCHANGEDSINCE 1) +FLAGS (\\Flagged)")
        self.assertIn(b"[MODIFIED 2]", tag)
        out, tag = r.cmd(b"a6", b"STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        out, tag = r.cmd(b"a7", b"UID EXPUNGE 1")
        self.assertIn(b"* VANISHED 1", out)
        out, tag = r.cmd(b"a8", b"EXPUNGE")
        self.assertIn(b"* VANISHED 2", out)
        out, tag = r.cmd(b"a9", b"UNSELECT")
        r.cmd(b"b0", b"APPEND INBOX {%d+}\r\n" % len(MSG1) + MSG1)
        r.cmd(b"b1", b"STORE 1 +FLAGS (\\Answered)")
        out, tag = r.cmd(b"b2", b"SELECT INBOX (QRESYNC (%d %d))" % (uv, hm))
        self.assertTrue(tag.startswith(b"b2 OK"), (out, tag))
        text = b"\n".join(out)
        self.assertIn(b"* VANISHED (EARLIER) 1:2", text)
        out, tag = r.cmd(b"b3", b"UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % hm)
        self.assertRegex(out[0], rb"^\* 1 FETCH \(UID 3 FLAGS \(.*\) MODSEQ \(\d+\)\)$")

    def test_literals_sync_and_limits(self):
        r = self.raw()
        self.assertTrue(r.greeting.startswith(b"* PREAUTH"))
        # A synchronising literal is answered with "+" before its bytes.
        r.send(b"c1 CREATE {5}\r\n")
        self.assertTrue(r.line().startswith(b"+ "))
        r.send(b"Lit.A\r\n")
        out, tag = r.until(b"c1")
        self.assertTrue(tag.startswith(b"c1 OK"), tag)
        # APPEND of a message larger than imap_append_limit: NO [TOOBIG]
        # before the client sends it.
        r.send(b"c2 APPEND INBOX {999999999999}\r\n")
        out, tag = r.until(b"c2")
        self.assertIn(b"c2 NO [TOOBIG]", tag)
        # MULTIAPPEND: both or none, and APPENDUID gives both UIDs.
        out, tag = r.cmd(b"c3", b"APPEND Lit.A {%d+}\r\n%s {%d+}\r\n%s" % (
            len(MSG1), MSG1, len(MSG1), MSG1))
        self.assertRegex(tag, rb"^c3 OK \[APPENDUID \d+ 1:2\]")
        out, tag = r.cmd(b"c4", b"APPEND NoSuchFolder {3+}\r\nabc")
        self.assertIn(b"c4 NO [TRYCREATE]", tag)
        # Garbage and unknown commands get BAD, and the session goes on.
        out, tag = r.cmd(b"c5", b"FROB")
        self.assertTrue(tag.startswith(b"c5 BAD"))
        out, tag = r.cmd(b"c6", b"FETCH 1 FLAGS")
        self.assertTrue(tag.startswith(b"c6 BAD"))
        out, tag = r.cmd(b"c7", b"NOOP")
        self.assertTrue(tag.startswith(b"c7 OK"))
        # A line longer than imap_max_line_length: BYE, and the process ends.
        r.send(b"c8 NOOP " + b"x" * 70000 + b"\r\n")
        self.assertTrue(r.line().startswith(b"* BYE"))
        self.assertEqual(r.p.wait(10), 0)

    def test_pipelined_commands(self):
        r = self.raw()
        r.send(b"".join(b"p%d NOOP\r\n" % i for i in range(1000)))
        for i in range(1000):
            out, tag = r.until(b"p%d" % i)
            self.assertTrue(tag.startswith(b"p%d OK" % i))

    def test_idle_woken_by_a_delivery(self):
        r = self.raw()
        r.cmd(b"i0", b"SELECT INBOX")
        r.send(b"i1 IDLE\r\n")
        self.assertTrue(r.line().startswith(b"+ "))
        subprocess.run([os.path.join(BUILD, "bin", "tern"), "-c", self.inst.dir, "mailbox",
                        "append", USER, "INBOX"], input=MSG1, check=True)
        t0 = time.monotonic()
        self.assertEqual(r.line(timeout=5), b"* 1 EXISTS")
        self.assertLess(time.monotonic() - t0, 5)
        r.send(b"DONE\r\n")
        out, tag = r.until(b"i1")
        self.assertTrue(tag.startswith(b"i1 OK"), tag)

    def test_compress_deflate(self):
        r = self.raw()
        out, tag = r.cmd(b"z1", b"COMPRESS DEFLATE")
        self.assertTrue(tag.startswith(b"z1 OK"))
        r.z_out = zlib.compressobj(6, zlib.DEFLATED, -15)
        r.z_in = zlib.decompressobj(-15)
        r.send(b"z2 APPEND INBOX {%d+}\r\n%s\r\n" % (len(MSG1), MSG1))
        out, tag = r.until(b"z2")
        self.assertTrue(tag.startswith(b"z2 OK [APPENDUID"), tag)
        out, tag = r.cmd(b"z3", b"SELECT INBOX")
        out, tag = r.cmd(b"z4", b"FETCH 1 BODY.PEEK[]")
        self.assertEqual(out[0], b"* 1 FETCH (BODY[] {%d}\r\n%s)" % (len(MSG1), MSG1))

    def test_large_message_streams(self):
        body = (b"0123456789abcdef" * 4 + b"\n") * (10 * 1024 * 1024 // 65)
        msg = b"Subject: big\n\n" + body
        r = self.raw()
        out, tag = r.cmd(b"l1", b"APPEND INBOX {%d+}\r\n%s" % (len(msg), msg))
        self.assertTrue(tag.startswith(b"l1 OK"), tag)
        r.cmd(b"l2", b"SELECT INBOX")
        r.cmd(b"l2b", b"FETCH 1 (RFC822.SIZE BODY.PEEK[]<0.100>)")
        before = self.rss(r.p.pid, "VmRSS")
        out, tag = r.cmd(b"l3", b"FETCH 1 (RFC822.SIZE BODY.PEEK[])")
        crlf = msg.replace(b"\n", b"\r\n")
        self.assertIn(b"RFC822.SIZE %d " % len(crlf), out[0])
        self.assertTrue(out[0].endswith(crlf + b")"))
        # The 10 MiB FETCH costs far less memory than the message.
        grown = self.rss(r.p.pid, "VmHWM") - before
        self.assertLess(grown, 3 * 1024, "peak RSS grew by %d KiB" % grown)

    @staticmethod
    def rss(pid, field):
        with open("/proc/%d/status" % pid) as f:
            return int(re.search(field + r":\s+(\d+)", f.read()).group(1))

    def test_quota_and_getquotaroot(self):
        self.inst.append_main_cf({"mailbox_quota_storage": "1048576"})
        m = self.imap()
        self.fill(m)
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(data[0], [b'INBOX "User quota"'])
        self.assertRegex(data[1][0], rb'^"User quota" \(STORAGE \d+ 1024\)$')

    def test_rev2_select_sends_list(self):
        """IMAP4rev2 SELECT/EXAMINE answer "* LIST" with the server's
        spelling of the name, and OLDNAME when the client wrote it
        otherwise (RFC 9051 6.3.2); IMAP4rev1 sessions get no LIST."""
        r = self.raw()
        out, tag = r.cmd(b"a", b"CREATE Caf&AOk-")
        self.assertTrue(tag.startswith(b"a OK"), tag)
        out, tag = r.cmd(b"b", b"SELECT inbox")
        self.assertTrue(tag.startswith(b"b OK"), tag)
        self.assertFalse([x for x in out if x.startswith(b"* LIST")], out)
        out, tag = r.cmd(b"c", b"ENABLE IMAP4rev2")
        self.assertIn(b"* ENABLED IMAP4REV2", out)
        out, tag = r.cmd(b"d", b"SELECT inbox")
        self.assertTrue(tag.startswith(b"d OK"), tag)
        self.assertIn(b'* LIST () "." INBOX (OLDNAME (inbox))', out)
        out, tag = r.cmd(b"e", b"EXAMINE INBOX")
        self.assertIn(b'* LIST () "." INBOX', out)
        out, tag = r.cmd(b"f", b'EXAMINE "Caf\xc3\xa9"')
        self.assertTrue(tag.startswith(b"f OK"), tag)
        self.assertIn(b'* LIST () "." "Caf\xc3\xa9"', out)

    def test_select_of_a_folder_that_cannot_be_opened(self):
        """A SELECT/EXAMINE whose folder cannot be opened answers a tagged
        NO and nothing of a selection before it (no untagged EXISTS, no
        OK then BYE); the mailbox selected before is deselected (RFC 9051
        6.3.2) and the session goes on.  A damaged index alone is no
        failure: it is rebuilt from the Maildir, with the same UIDs.
        The client's text is Dovecot's generic one (no path, no errno
        text), for APPEND, COPY and STATUS of such a folder too (not
        TRYCREATE or NONEXISTENT: it exists); the detail goes to the log
        with the user."""
        r = self.raw()
        for name in (b"Bad", b"Damaged", b"NoList"):
            out, tag = r.cmd(b"c", b"CREATE " + name)
            self.assertTrue(tag.startswith(b"c OK"), tag)
            out, tag = r.cmd(b"a", b"APPEND %s {%d+}\r\n%s" % (name, len(MSG1), MSG1))
            self.assertRegex(tag, rb"^a OK \[APPENDUID \d+ 1\]")
        out, tag = r.cmd(b"s", b"SELECT Damaged")  # writes the folder's index
        self.assertTrue(tag.startswith(b"s OK"), tag)
        out, tag = r.cmd(b"s", b"UID SEARCH ALL")
        self.assertIn(b"* SEARCH 1", out)
        r.close()
        md = self.inst.maildir(USER)
        # Bad: its cur/ is a file; NoList: dovecot-uidlist cannot be read
        # and the index is gone, so no UID can be given safely.
        bad = os.path.join(md, ".Bad", "cur")
        for n in os.listdir(bad):
            os.rename(os.path.join(bad, n), os.path.join(md, ".Bad", "new", n))
        os.rmdir(bad)
        with open(bad, "w") as f:
            f.write("not a folder\n")
        nolist = os.path.join(md, ".NoList")
        for n in os.listdir(nolist):
            if n.startswith("tern.index"):
                os.unlink(os.path.join(nolist, n))
        os.unlink(os.path.join(nolist, "dovecot-uidlist"))
        os.mkdir(os.path.join(nolist, "dovecot-uidlist"))
        damaged = os.path.join(md, ".Damaged")
        ix = [n for n in os.listdir(damaged) if n.startswith("tern.index")]
        self.assertIn("tern.index", ix)
        for n in ix:
            with open(os.path.join(damaged, n), "r+b") as f:
                f.write(b"\xde\xad" * 64)

        log_start = len(self.inst.log())
        r = self.raw()
        out, tag = r.cmd(b"s1", b"SELECT INBOX")
        self.assertTrue(tag.startswith(b"s1 OK [READ-WRITE]"), tag)
        generic = (rb"^s2 NO \[SERVERBUG\] Internal error occurred\. Refer to server log "
                   rb"for more information\. \[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]$")
        for cmd in (b"SELECT Bad", b"EXAMINE Bad", b"SELECT NoList", b"EXAMINE NoList"):
            out, tag = r.cmd(b"s2", cmd)
            self.assertRegex(tag, generic, cmd)
            for leak in (md.encode(), b"directory", b"open cur", b"uidlist", b"/"):
                self.assertNotIn(leak, tag.lower(), cmd)
            self.assertEqual(out, [], cmd)
            # Deselected: a command of the selected state is refused.
            out, tag = r.cmd(b"f", b"FETCH 1 FLAGS")
            self.assertTrue(tag.startswith(b"f BAD"), (cmd, tag))
        out, tag = r.cmd(b"s3", b"EXAMINE Damaged")
        self.assertTrue(tag.startswith(b"s3 OK [READ-ONLY]"), tag)
        self.assertIn(b"* 1 EXISTS", out)
        out, tag = r.cmd(b"f", b"UID FETCH 1 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        self.assertTrue(tag.startswith(b"f OK"), tag)
        self.assertIn(b"Message-ID: <1@example.com>", b"".join(out))
        out, tag = r.cmd(b"s4", b"SELECT INBOX")
        self.assertTrue(tag.startswith(b"s4 OK [READ-WRITE]"), tag)
        # APPEND and COPY into the broken folder: the same generic text
        # (not TRYCREATE: it exists); a folder that does not: TRYCREATE.
        out, tag = r.cmd(b"s2", b"APPEND Bad {%d+}\r\n%s" % (len(MSG1), MSG1))
        self.assertRegex(tag, generic)
        out, tag = r.cmd(b"s2", b"COPY 1 Bad")
        self.assertRegex(tag, generic)
        out, tag = r.cmd(b"s2", b"STATUS Bad (MESSAGES)")
        self.assertRegex(tag, generic)
        out, tag = r.cmd(b"t", b"STATUS Nowhere (MESSAGES)")
        self.assertTrue(tag.startswith(b"t NO [NONEXISTENT]"), tag)
        out, tag = r.cmd(b"a", b"APPEND Nowhere {%d+}\r\n%s" % (len(MSG1), MSG1))
        self.assertTrue(tag.startswith(b"a NO [TRYCREATE]"), tag)
        out, tag = r.cmd(b"c", b"COPY 1 Nowhere")
        self.assertTrue(tag.startswith(b"c NO [TRYCREATE]"), tag)
        self.assertEqual(r.p.poll(), None)
        # The detail is in the log, after this test's start, with the user.
        def detail():
            new = self.inst.log()[log_start:].splitlines()
            return [l for l in new if "imap(%s): Select failed (mailbox " % USER in l]
        lines = wait_until(lambda: len(detail()) >= 4, what="Select failures logged")
        lines = detail()
        self.assertEqual(len([l for l in lines if "(mailbox Bad): open cur: Not a directory"
                              in l]), 2, lines)
        self.assertEqual(len([l for l in lines if "(mailbox NoList): read dovecot-uidlist: "
                              "Is a directory" in l]), 2, lines)
        for what in ("Append", "Copy", "Status"):
            logged = [l for l in self.inst.log()[log_start:].splitlines()
                      if "imap(%s): %s failed (mailbox Bad): " % (USER, what) in l]
            self.assertTrue(logged and "Not a directory" in logged[0], (what, logged))

    def test_multiappend_all_or_none(self):
        """RFC 3502: a MULTIAPPEND whose messages each fit the quota but
        not together adds none of them (the quota is checked for their
        sum, at one commit), and leaves no file behind; one that fits
        gets consecutive UIDs."""
        self.inst.append_main_cf({"mailbox_quota_storage": "10000"})
        body = b"Subject: q\r\n\r\n" + b"x" * 3980 + b"\r\n"
        r = self.raw()
        out, tag = r.cmd(b"m1", b"APPEND INBOX {%d+}\r\n%s (\\Seen) {%d+}\r\n%s {%d+}\r\n%s" % (
            len(body), body, len(body), body, len(body), body))
        self.assertTrue(tag.startswith(b"m1 NO [OVERQUOTA]"), tag)
        out, tag = r.cmd(b"m2", b"STATUS INBOX (MESSAGES UIDNEXT)")
        self.assertIn(b"* STATUS INBOX (MESSAGES 0 UIDNEXT 1)", out)
        md = self.inst.maildir(USER)
        for sub in ("new", "cur", "tmp"):
            # (tmp/ holds the process's dot-lock template, mdlock.c)
            left = [n for n in os.listdir(os.path.join(md, sub)) if ".tern-lock." not in n]
            self.assertEqual(left, [], sub)
        # A bad second message (flags) drops the first one too.
        out, tag = r.cmd(b"m3", b"APPEND INBOX {%d+}\r\n%s (\\Bogus-flag {%d+}\r\n%s" % (
            len(body), body, len(body), body))
        self.assertTrue(tag.startswith(b"m3 BAD"), tag)
        # A last literal over APPENDLIMIT drops the ones before it, both
        # announced non-synchronising (the bytes come and are dropped)
        # and synchronising (refused before it is sent).
        self.inst.append_main_cf({"imap_append_limit": "5000"})
        big = b"Subject: big\r\n\r\n" + b"y" * 6000 + b"\r\n"
        r.close()
        r = self.raw()
        out, tag = r.cmd(b"m6", b"APPEND INBOX {%d+}\r\n%s {%d+}\r\n%s" % (
            len(body), body, len(big), big))
        self.assertTrue(tag.startswith(b"m6 NO [TOOBIG]"), tag)
        r.send(b"m7 APPEND INBOX {%d+}\r\n%s {%d}\r\n" % (len(body), body, len(big)))
        out, tag = r.until(b"m7")
        self.assertTrue(tag.startswith(b"m7 NO [TOOBIG]"), tag)
        out, tag = r.cmd(b"m8", b"STATUS INBOX (MESSAGES UIDNEXT)")
        self.assertIn(b"* STATUS INBOX (MESSAGES 0 UIDNEXT 1)", out)
        for sub in ("new", "cur"):
            self.assertEqual(os.listdir(os.path.join(md, sub)), [], sub)
        out, tag = r.cmd(b"m4", b"APPEND INBOX {%d+}\r\n%s {%d+}\r\n%s" % (
            len(body), body, len(body), body))
        self.assertRegex(tag, rb"^m4 OK \[APPENDUID \d+ 1:2\]")
        out, tag = r.cmd(b"m5", b"STATUS INBOX (MESSAGES)")
        self.assertIn(b"* STATUS INBOX (MESSAGES 2)", out)

    def test_idle_timeout_closes_the_session(self):
        self.inst.append_main_cf({"imap_idle_timeout": "1"})
        r = self.raw()
        t0 = time.monotonic()
        self.assertEqual(r.line(timeout=10), b"* BYE Disconnected for inactivity.")
        self.assertEqual(r.p.wait(10), 0)
        self.assertLess(time.monotonic() - t0, 8)

    def test_mbsync_through_a_tunnel(self):
        """isync's mbsync syncs the whole account both ways over the
        stand-alone mode, as with a Tunnel over ssh."""
        m = self.imap()
        self.fill(m)
        m.create("Work")
        m.append("Work", None, None, MSG1)
        local = os.path.join(self.inst.dir, "local")
        os.makedirs(local)
        rc = os.path.join(self.inst.dir, "mbsyncrc")
        with open(rc, "w") as f:
            f.write("""IMAPAccount tern
Tunnel "{imap} -c {dir} --user {user}"

IMAPStore remote
Account tern

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""".format(imap=IMAP, dir=self.inst.dir, user=USER, local=local))

        def sync():
            p = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)

        def files(path):
            return sorted(os.listdir(os.path.join(path, "cur")) +
                          os.listdir(os.path.join(path, "new")))
        sync()
        self.assertEqual(len(files(os.path.join(local, "INBOX"))), 2)
        self.assertEqual(len(files(os.path.join(local, "Work"))), 1)
        # A message filed locally reaches the server.
        with open(os.path.join(local, "Work", "new", "1.local"), "wb") as f:
            f.write(b"Subject: from mbsync\n\nlocal\n")
        sync()
        typ, data = m.status("Work", "(MESSAGES)")
        self.assertEqual(data, [b"Work (MESSAGES 2)"])


if __name__ == "__main__":
    unittest.main()
