#!/usr/bin/python3
"""A test milter on Debian's python3-milter (libmilter underneath), run by
tests/e2e/test_milter.py as /usr/bin/python3 milter_py.py SOCKET LOGFILE.

What it does is chosen by the client and the message, so that one milter
serves every test:
  a client connecting from 127.0.0.2 -> reject at connect (554 5.7.1)
  a client connecting from 127.0.0.3 -> 421 at connect
  a client connecting from 127.0.0.4 -> 451 at connect (tempfail)
  HELO evil.example                 -> reject HELO
  MAIL FROM:<tempfail@...>          -> tempfail MAIL
  RCPT TO:<refused@...>             -> reject that recipient (550 5.7.1 custom)
  RCPT TO:<discard-rcpt@...>        -> discard (the whole message, at its end)
  Subject: reject                   -> 550 5.7.1 with its own text, at end of message
  Subject: tempfail                 -> 451 4.7.1 tempfail, at end of message
  Subject: discard                  -> discard
  Subject: change body              -> replaces the body
  Subject: add rcpt                 -> adds <carol@example.com>
  Subject: del rcpt                 -> deletes <bob@example.com>
  Subject: change from              -> sender becomes <changed@example.org>
  Subject: edit headers             -> changes Subject, deletes X-Drop, inserts X-First at top
  Subject: quarantine               -> quarantines
  Subject: die                      -> the milter process exits mid-message
Every accepted message gets "X-Py-Milter: seen by py" added.  Each callback
appends one JSON line to LOGFILE with the macros it saw.
"""
import json
import os
import sys

import Milter

LOG = sys.argv[2]


def note(**kw):
    with open(LOG, "a") as f:
        f.write(json.dumps(kw) + "\n")


class TestMilter(Milter.Base):
    def __init__(self):
        self.subject = ""
        self.headers = []
        self.content = b""

    def connect(self, hostname, family, hostaddr):
        note(ev="connect", host=hostname, addr=str(hostaddr[0]) if hostaddr else None,
             j=self.getsymval("j"), daemon=self.getsymval("{daemon_name}"),
             under=self.getsymval("_"))
        addr = str(hostaddr[0]) if hostaddr else ""
        if addr == "127.0.0.2":
            self.setreply("554", "5.7.1", "connection refused by py")
            return Milter.REJECT
        if addr == "127.0.0.3":
            self.setreply("421", "4.7.0", "closing by py")
            return Milter.TEMPFAIL
        if addr == "127.0.0.4":
            self.setreply("451", "4.7.1", "busy, says py")
            return Milter.TEMPFAIL
        return Milter.CONTINUE

    def hello(self, name):
        note(ev="helo", name=name)
        if name == "evil.example":
            self.setreply("550", "5.7.1", "evil HELO refused by py")
            return Milter.REJECT
        return Milter.CONTINUE

    def envfrom(self, mailfrom, *params):
        note(ev="mail", sender=mailfrom, params=list(params),
             mail_addr=self.getsymval("{mail_addr}"))
        self.subject = ""
        self.headers = []
        self.content = b""
        if mailfrom.startswith("<tempfail@"):
            return Milter.TEMPFAIL
        return Milter.CONTINUE

    def envrcpt(self, to, *params):
        note(ev="rcpt", rcpt=to, rcpt_addr=self.getsymval("{rcpt_addr}"))
        if to.startswith("<discard-rcpt@"):
            return Milter.DISCARD
        if to.startswith("<refused@"):
            self.setreply("550", "5.7.1", "recipient refused by py")
            return Milter.REJECT
        return Milter.CONTINUE

    def header(self, name, value):
        self.headers.append([name, value])
        if name.lower() == "subject":
            self.subject = value.strip()
        return Milter.CONTINUE

    def eoh(self):
        return Milter.CONTINUE

    def body(self, chunk):
        self.content += chunk
        return Milter.CONTINUE

    def eom(self):
        s = self.subject
        note(ev="eom", subject=s, headers=self.headers, body=self.content.decode("latin-1"))
        if s == "die":
            os._exit(3)
        if s == "reject":
            self.setreply("550", "5.7.1", "content refused by py")
            return Milter.REJECT
        if s == "tempfail":
            self.setreply("451", "4.7.1", "try again later, says py")
            return Milter.TEMPFAIL
        if s == "discard":
            return Milter.DISCARD
        if s == "change body":
            self.replacebody(b"The body was replaced.\r\nSecond line.\r\n")
        if s == "add rcpt":
            self.addrcpt("<carol@example.com>")
        if s == "del rcpt":
            self.delrcpt("<bob@example.com>")
        if s == "change from":
            self.chgfrom("<changed@example.org>")
        if s == "edit headers":
            self.chgheader("Subject", 1, "edited by py")
            self.chgheader("X-Drop", 1, "")
            self.addheader("X-First", "at the top", 0)
        if s == "quarantine":
            self.quarantine("held by py")
        self.addheader("X-Py-Milter", "seen by py")
        return Milter.ACCEPT

    def abort(self):
        note(ev="abort")
        return Milter.CONTINUE

    def close(self):
        return Milter.CONTINUE


def main():
    Milter.factory = TestMilter
    Milter.set_flags(Milter.ADDHDRS | Milter.CHGBODY | Milter.ADDRCPT | Milter.DELRCPT |
                     Milter.CHGHDRS | Milter.QUARANTINE | Milter.CHGFROM)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    Milter.runmilter("pytest", sys.argv[1], 60)


if __name__ == "__main__":
    main()
