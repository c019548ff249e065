"""kill -9 of the imap process in the middle of APPENDs and STOREs
(DESIGN.md invariants 3 and 5): rounds of pipelined commands to a fresh
imap process, which is killed after a chosen number of tagged answers
have been read, while it still works on the rest.  Afterwards the
mailbox opens, every acknowledged APPEND is there under its UID with its
bytes, every acknowledged STORE's flags hold (or those of a later STORE
that was cut off), UIDs are unique, and the index agrees with a rebuild
from the Maildir.  The kill point is a count of answers, not a time."""
import os
import random
import re
import signal
import time
import unittest

from test_imap_server import USER, Raw
from test_mstore_dovecot import tern_mailbox
from tern_instance import Instance

ROUNDS = 25
BATCH = 10
FLAG_CHOICES = ["", "\\Seen", "\\Seen \\Flagged", "\\Answered", "\\Draft \\Flagged $Work"]


def fetch_all(maildir):
    """{uid: frozenset of flags and keywords} from tern mailbox fetch."""
    out = {}
    for line in tern_mailbox("fetch", maildir, "INBOX").splitlines():
        kv = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
        fl = {f for f in kv["flags"].split(",") if f and f != "\\Recent"}
        fl |= {k for k in kv["keywords"].split(",") if k}
        out[int(kv["uid"])] = frozenset(fl)
    return out


class ImapCrashTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance(mailboxes=[USER])
        self.md = self.inst.maildir(USER)
        os.makedirs(self.md, exist_ok=True)

    def tearDown(self):
        self.inst.cleanup()

    def test_kill_9_during_append_and_store(self):
        rng = random.Random(int(os.environ.get("TERN_SEED", time.time())))
        acked = {}      # uid -> the tag text in its body
        flags = {}      # uid -> flags of the last acknowledged APPEND/STORE
        maybe = {}      # uid -> flag sets of STOREs sent after it, unanswered
        killed_mid = 0  # rounds killed with commands still unanswered
        for rnd in range(ROUNDS):
            r = Raw(self.inst)
            out, tag = r.cmd(b"s", b"SELECT INBOX")
            self.assertTrue(tag.startswith(b"s OK"), (rnd, tag))
            cmds, meta = [], []
            for j in range(BATCH):
                t = b"c%d" % j
                if j % 2 == 0 or not acked:
                    text = "r%d-%d-%06d" % (rnd, j, rng.randrange(10 ** 6))
                    fl = rng.choice(FLAG_CHOICES)
                    body = ("Subject: %s\r\n\r\n" % text).encode() + \
                        (text.encode() + b"\r\n") * rng.randrange(1, 4000)
                    cmds.append(t + b" APPEND INBOX (%s) {%d+}\r\n%s\r\n" % (
                        fl.encode(), len(body), body))
                    meta.append(("append", text, frozenset(fl.split())))
                else:
                    uid = rng.choice(sorted(acked))
                    fl = rng.choice(FLAG_CHOICES)
                    cmds.append(t + b" UID STORE %d FLAGS.SILENT (%s)\r\n" % (uid, fl.encode()))
                    meta.append(("store", uid, frozenset(fl.split())))
            for m in meta:
                if m[0] == "store":
                    maybe.setdefault(m[1], []).append(m[2])
            r.send(b"".join(cmds))
            stop = rng.randrange(BATCH)  # answers read before the kill
            for j in range(stop):
                _, tag = r.until(b"c%d" % j, timeout=60)
                self.assertTrue(tag.startswith(b"c%d OK" % j), tag)
                kind, what, fl = meta[j]
                if kind == "append":
                    uid = int(re.search(rb"\[APPENDUID \d+ (\d+)\]", tag).group(1))
                    self.assertNotIn(uid, acked, "UID %d given twice" % uid)
                    acked[uid] = what
                    flags[uid] = fl
                else:
                    flags[what] = fl
                    # STOREs of one session apply in order: the ones
                    # before it are settled, this one is what holds.
                    sent = maybe.get(what, [])
                    del sent[:sent.index(fl) + 1]
            try:
                os.kill(r.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            r.p.wait(30)
            if r.buf.count(b"\r\n") < BATCH - stop:
                killed_mid += 1
        print("\n    rounds killed with commands unanswered: %d of %d; appends acknowledged: %d"
              % (killed_mid, ROUNDS, len(acked)))

        # The mailbox opens and serves every acknowledged change.
        r = Raw(self.inst)
        out, tag = r.cmd(b"s", b"SELECT INBOX")
        self.assertTrue(tag.startswith(b"s OK"), tag)
        have = fetch_all(self.md)
        for uid, text in acked.items():
            self.assertIn(uid, have, "acknowledged APPEND %d (%s) lost" % (uid, text))
            out, tag = r.cmd(b"f", b"UID FETCH %d (BODY.PEEK[HEADER.FIELDS (SUBJECT)])" % uid)
            self.assertTrue(tag.startswith(b"f OK"), tag)
            self.assertIn(("Subject: %s" % text).encode(), b"".join(out),
                          "UID %d holds another message" % uid)
            ok = {flags[uid]} | set(maybe.get(uid, []))
            self.assertIn(have[uid], ok, "flags of UID %d" % uid)
        r.close()
        uids = sorted(have)
        self.assertEqual(len(uids), len(set(uids)))
        # The index agrees with one rebuilt from the Maildir.
        tern_mailbox("rebuild", self.md, "INBOX")
        self.assertEqual(fetch_all(self.md), have)


if __name__ == "__main__":
    unittest.main()
