"""ENVELOPE, BODY and BODYSTRUCTURE: tern's formatters (imap/format_*.c
over lib/mime's parser) against Debian's Dovecot 2.3 for the same bytes.

Every message of tests/imap/corpus/ is APPENDed to a private Dovecot on
loopback; its FETCH answers must equal, byte for byte, what
build/tests/imap/tool_format prints for the same file.  Known, explained
differences are listed in KNOWN (none may hide a regression: each entry
names the item and the exact Dovecot bytes it applies to)."""
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from local_util import Dovecot
from tern_instance import BUILD, ROOT

CORPUS = os.path.join(ROOT, "tests", "imap", "corpus")
TOOL = os.path.join(BUILD, "tests", "imap", "tool_format")
ITEMS = ["ENVELOPE", "BODY", "BODYSTRUCTURE"]


class RawImap:
    """Just enough of an IMAP client to see the server's bytes."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")
        self.n = 0
        self.f.readline()

    def response(self, tag):
        """The untagged lines (literals inlined) up to the tagged reply."""
        out, cur = [], b""
        while True:
            line = self.f.readline()
            if not line:
                raise AssertionError("connection closed")
            cur += line
            if line.endswith(b"}\r\n") and b"{" in line:
                size = int(line[line.rindex(b"{") + 1:-3])
                cur += self.f.read(size)
                continue
            if cur.startswith(tag + b" "):
                if not cur.startswith(tag + b" OK"):
                    raise AssertionError(cur)
                return out
            out.append(cur)
            cur = b""

    def cmd(self, text, literal=None):
        self.n += 1
        tag = b"t%d" % self.n
        if literal is None:
            self.s.sendall(tag + b" " + text + b"\r\n")
        else:
            self.s.sendall(tag + b" " + text + b" {%d+}\r\n" % len(literal) + literal + b"\r\n")
        return self.response(tag)


def tern_items(path):
    out = subprocess.run([TOOL, path], capture_output=True, check=True, timeout=60).stdout
    items, pos = [], 0
    for _ in ITEMS:
        nl = out.index(b"\n", pos)
        size = int(out[pos:nl])
        items.append(out[nl + 1:nl + 1 + size])
        pos = nl + 1 + size + 1
    return items


class TestImapFormat(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root (Dovecot runs as a mail user)")
        cls.home = tempfile.mkdtemp(prefix="tern-fmt-")
        os.chmod(cls.home, 0o755)
        shutil.chown(cls.home, "nobody", "nogroup")
        cls.dovecot = Dovecot("nobody", home=cls.home)
        cls.files = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))
        c = RawImap(cls.dovecot.port)
        c.cmd(b"LOGIN nobody " + cls.dovecot.password.encode())
        for name in cls.files:
            with open(os.path.join(CORPUS, name), "rb") as f:
                data = f.read().replace(b"\n", b"\r\n")
            c.cmd(b"APPEND INBOX", data)
        c.cmd(b"SELECT INBOX")
        cls.dovecot_items = {}
        for i, name in enumerate(cls.files, 1):
            got = []
            for item in ITEMS:
                lines = c.cmd(b"FETCH %d (%s)" % (i, item.encode()))
                prefix = b"* %d FETCH (%s " % (i, item.encode())
                line = [l for l in lines if l.startswith(prefix)][0]
                got.append(line[len(prefix):-3])
            cls.dovecot_items[name] = got
        c.cmd(b"LOGOUT")

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()
        shutil.rmtree(cls.home, ignore_errors=True)

    def test_crlf_copy_same(self):
        """The parser counts CRLF as IMAP shows it: the same message stored
        with CRLF line ends must give the same answers as with LF."""
        tmp = tempfile.mkdtemp(prefix="tern-fmt-crlf-")
        try:
            for name in self.files:
                with open(os.path.join(CORPUS, name), "rb") as f:
                    data = f.read()
                crlf = os.path.join(tmp, name)
                with open(crlf, "wb") as f:
                    f.write(data.replace(b"\n", b"\r\n"))
                self.assertEqual(tern_items(crlf), tern_items(os.path.join(CORPUS, name)), name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_corpus_same_as_dovecot(self):
        self.assertGreaterEqual(len(self.files), 20)
        diffs = []
        for name in self.files:
            ours = tern_items(os.path.join(CORPUS, name))
            for item, a, b in zip(ITEMS, ours, self.dovecot_items[name]):
                if a != b:
                    diffs.append("%s %s\n  tern:    %r\n  dovecot: %r" % (name, item, a, b))
        self.assertEqual(diffs, [], "\n" + "\n".join(diffs))


if __name__ == "__main__":
    unittest.main()
