"""The mailbox store and Debian's Dovecot 2.3 on the same Maildir: a
Maildir written by Dovecot (over IMAP) is read by tern's store with the
same UIDVALIDITY, UIDs, flags, keywords, folders and subscriptions; a
Maildir written by tern's store (tern mailbox) is served by Dovecot with
the same; and both at once, each seeing the other's UIDs and flags
(they share dovecot-uidlist.lock).  Dovecot runs as a private instance on
loopback (local_util.Dovecot)."""
import base64
import imaplib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from local_util import Dovecot, Users, need_root
from tern_instance import TERN

SYSTEM = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"}


def mutf7_decode(s):
    """IMAP modified UTF-7 to str (RFC 3501 5.1.3), for comparing names."""
    out, i = [], 0
    while i < len(s):
        if s[i] != "&":
            out.append(s[i])
            i += 1
            continue
        j = s.index("-", i)
        if j == i + 1:
            out.append("&")
        else:
            b64 = s[i + 1:j].replace(",", "/")
            b64 += "=" * (-len(b64) % 4)
            out.append(base64.b64decode(b64).decode("utf-16-be"))
        i = j + 1
    return "".join(out)


def mutf7_encode(s):
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b.replace("/", ",") + "-")
            run.clear()
    for ch in s:
        if 0x20 <= ord(ch) <= 0x7e:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def tern_mailbox(*args, stdin=None):
    r = subprocess.run([TERN, "mailbox"] + list(args), input=stdin, capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise AssertionError("tern mailbox %s: %s" % (" ".join(args), r.stderr.decode()))
    return r.stdout.decode()


def tern_messages(maildir, folder):
    """{uid: set of flags and keywords} as tern's store reads them."""
    out = {}
    for line in tern_mailbox("fetch", maildir, folder).splitlines():
        kv = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        flags = {f for f in kv["flags"].split(",") if f and f != "\\Recent"}
        flags |= {k for k in kv["keywords"].split(",") if k}
        out[int(kv["uid"])] = flags
    return out


def tern_status(maildir, folder):
    line = tern_mailbox("status", maildir, folder).strip()
    return {k: v for k, v in (f.split("=", 1) for f in line.split(" "))}


def tern_list(maildir):
    """{name: (flags, special)} of tern mailbox list."""
    out = {}
    for line in tern_mailbox("list", maildir).splitlines():
        name, flags, special = line.split("\t")
        out[name] = (set(f for f in flags.split(",") if f), special)
    return out


def imap_messages(c, folder):
    """{uid: flags} and (UIDVALIDITY, UIDNEXT) as Dovecot serves them."""
    typ, data = c.status(mutf7_quote(folder), "(UIDVALIDITY UIDNEXT)")
    assert typ == "OK", data
    m = re.search(rb"UIDVALIDITY (\d+).*UIDNEXT (\d+)|UIDNEXT (\d+).*UIDVALIDITY (\d+)", data[0])
    uidv, uidn = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    typ, data = c.select(mutf7_quote(folder), readonly=True)
    assert typ == "OK", data
    out = {}
    typ, data = c.uid("FETCH", "1:*", "(FLAGS)")
    for item in data:
        if not item:
            continue
        text = item.decode() if isinstance(item, bytes) else item[0].decode()
        mu = re.search(r"UID (\d+)", text)
        mf = re.search(r"FLAGS \(([^)]*)\)", text)
        if mu and mf:
            out[int(mu.group(1))] = {f for f in mf.group(1).split() if f != "\\Recent"}
    c.close()
    return out, int(uidv), int(uidn)


def mutf7_quote(name):
    return '"%s"' % mutf7_encode(name)


def imap_folders(c):
    typ, data = c.list()
    names = set()
    for line in data:
        if line is None:
            continue
        m = re.match(rb'\((.*?)\) "." (.*)$', line)
        names.add(mutf7_decode(m.group(2).decode().strip('"')))
    typ, data = c.lsub()
    subs = set()
    for line in data:
        if line is None:
            continue
        m = re.match(rb'\((.*?)\) "." (.*)$', line)
        subs.add(mutf7_decode(m.group(2).decode().strip('"')))
    return names, subs


class MstoreDovecotTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need_root(cls)
        cls.users = Users()
        cls.user = cls.users.add()

    @classmethod
    def tearDownClass(cls):
        cls.users.remove_all()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tern-mstore-")
        os.chmod(self.tmp, 0o755)
        self.maildir = os.path.join(self.tmp, "Maildir")
        os.makedirs(self.maildir)
        shutil.chown(self.maildir, self.user, self.user)
        os.chmod(self.maildir, 0o700)
        self.dovecot = None

    def tearDown(self):
        if self.dovecot:
            self.dovecot.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_dovecot(self):
        self.dovecot = Dovecot(self.user, maildir=self.maildir)
        return self.dovecot.connect()

    def assert_same(self, c, folders):
        """Dovecot and tern agree on every folder's UIDs, flags, UIDVALIDITY
        and UIDNEXT, on the folder list and on the subscriptions."""
        for folder in folders:
            dov, uidv, uidn = imap_messages(c, folder)
            st = tern_status(self.maildir, folder)
            self.assertEqual(tern_messages(self.maildir, folder), dov, folder)
            self.assertEqual(int(st["uidvalidity"]), uidv, folder)
            self.assertEqual(int(st["uidnext"]), uidn, folder)
        names, subs = imap_folders(c)
        tl = tern_list(self.maildir)
        self.assertEqual({n for n, (f, _) in tl.items() if "nonexistent" not in f}, names)
        self.assertEqual({n for n, (f, _) in tl.items() if "subscribed" in f}, subs)

    def test_dovecot_writes_tern_reads(self):
        c = self.start_dovecot()
        date = imaplib.Time2Internaldate(1700000000)
        c.append("INBOX", r"(\Seen $Label1 Work)", date, b"Subject: one\r\n\r\nbody one\r\n")
        c.append("INBOX", None, None, b"Subject: two\r\n\r\nbare LF body\n\n")
        c.append("INBOX", r"(\Draft)", None, b"Subject: three\r\n\r\nx\r\n")
        for name in ("Archive", "Archive.2026", "Caf\u00e9", "\u65e5\u672c\u8a9e", "A&B"):
            typ, data = c.create(mutf7_quote(name))
            self.assertEqual(typ, "OK", data)
        c.subscribe(mutf7_quote("Archive.2026"))
        c.subscribe(mutf7_quote("Caf\u00e9"))
        c.select("INBOX")
        c.uid("STORE", "2", "+FLAGS", r"(\Flagged Other)")
        c.uid("STORE", "1", "-FLAGS", r"(Work)")
        c.uid("STORE", "3", "+FLAGS", r"(\Deleted)")
        c.expunge()
        c.uid("COPY", "1:2", mutf7_quote("Caf\u00e9"))
        c.append(mutf7_quote("Archive.2026"), r"(\Answered)", None, b"Subject: arch\r\n\r\nx\r\n")
        c.close()
        self.assert_same(c, ["INBOX", "Caf\u00e9", "Archive.2026", "Archive"])
        # the internal date, and the sizes IMAP reports
        lines = tern_mailbox("fetch", self.maildir, "INBOX").splitlines()
        self.assertIn("internaldate=1700000000", lines[0])
        c.select("INBOX", readonly=True)
        typ, data = c.uid("FETCH", "2", "(RFC822.SIZE)")
        size = int(re.search(rb"RFC822.SIZE (\d+)", data[0]).group(1))
        self.assertIn("vsize=%d" % size, lines[1])
        # tern keeps reading after more Dovecot changes (its index is warm)
        c.select("INBOX")
        c.uid("STORE", "1", "+FLAGS", r"(\Answered NewOne)")
        c.append("INBOX", None, None, b"Subject: four\r\n\r\nx\r\n")
        c.close()
        self.assert_same(c, ["INBOX"])
        c.logout()

    def test_tern_writes_dovecot_reads(self):
        md = self.maildir
        r = tern_mailbox("append", "-f", "\\Seen $Label1 Work", "-d", "1700000000", md, "INBOX",
                         stdin=b"Subject: one\n\nbody\n")
        self.assertIn("uid=1 ", r)
        tern_mailbox("append", md, "INBOX", stdin=b"Subject: two\n\nbody\n")
        tern_mailbox("append", "-f", "\\Flagged", md, "INBOX", stdin=b"Subject: three\n\nx\n")
        tern_mailbox("flags", md, "INBOX", "2", "+\\Answered Other")
        tern_mailbox("flags", md, "INBOX", "1", "-Work")
        tern_mailbox("expunge", md, "INBOX", "3")
        for name in ("Archive", "Archive.2026", "Caf\u00e9", "A&B"):
            tern_mailbox("create", md, name)
        tern_mailbox("subscribe", md, "Caf\u00e9")
        tern_mailbox("subscribe", md, "Archive.2026")
        tern_mailbox("append", "-f", "\\Answered", md, "Caf\u00e9", stdin=b"Subject: c\n\nx\n")
        tern_mailbox("rename", md, "Archive", "Old")
        self.assertEqual(sorted(os.listdir(os.path.join(md, "new"))), [])
        c = self.start_dovecot()
        self.assert_same(c, ["INBOX", "Caf\u00e9", "Old.2026", "Old"])
        # Dovecot serves tern's bytes (line ends as CRLF, as IMAP wants)
        # and dates
        c.select("INBOX", readonly=True)
        typ, data = c.uid("FETCH", "1", "(INTERNALDATE BODY.PEEK[])")
        self.assertEqual(data[0][1], b"Subject: one\r\n\r\nbody\r\n")
        self.assertIn(b"14-Nov-2023", data[0][0])
        c.close()
        c.logout()

    def test_both_at_once(self):
        """Dovecot keeps running while tern appends and changes flags:
        each takes the next UID from the other's, under the shared lock."""
        c = self.start_dovecot()
        c.append("INBOX", None, None, b"Subject: d1\r\n\r\nx\r\n")
        self.assertIn("uid=2 ", tern_mailbox("append", self.maildir, "INBOX",
                                             stdin=b"Subject: t2\n\nx\n"))
        c.append("INBOX", r"(\Seen)", None, b"Subject: d3\r\n\r\nx\r\n")
        self.assertIn("uid=4 ", tern_mailbox("append", "-f", "Label", self.maildir, "INBOX",
                                             stdin=b"Subject: t4\n\nx\n"))
        c.select("INBOX")
        c.uid("STORE", "2", "+FLAGS", r"(\Flagged)")
        tern_mailbox("flags", self.maildir, "INBOX", "1", "+\\Seen")
        c.noop()
        c.close()
        self.assert_same(c, ["INBOX"])
        dov, _, _ = imap_messages(c, "INBOX")
        self.assertEqual(dov, {1: {"\\Seen"}, 2: {"\\Flagged"}, 3: {"\\Seen"}, 4: {"Label"}})
        c.logout()


if __name__ == "__main__":
    unittest.main()
