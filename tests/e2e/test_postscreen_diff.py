"""Differential: tern's screening before the greeting (smtpd_screening)
against Debian's Postfix with postscreen in front of smtpd, with the same
postscreen_* settings, both asking one DNS server on loopback (ZoneDns on
port 53 of a loopback address: Postfix's dnsblog uses glibc's resolver,
so Postfix runs with a resolv.conf naming only it).

The same clients, each from its own 127.0.0.N so that the DNSBL names
differ, talk to both: a pregreeting client, one listed under and one over
the threshold (weights summed across sites), one whose answer is outside
a site's =127.0.0.[2..11] filter, one listed in a filtered site, one
listed but also on a DNSWL (negative weight), one allowlisted by
postscreen_dnsbl_allowlist_threshold, a clean one, and a client in
mynetworks that talks first (postscreen_access_list permit_mynetworks: not
screened).  Twice: with the actions enforce (Postfix answers 550 at RCPT)
and drop (521 and the connection closed).

Per case the outcome class must be the same: the reply code of each step
(greeting, an answer to what was sent before the greeting, EHLO, MAIL,
RCPT, QUIT), whether the greeting had the 220- line, and where the
connection was closed.  Text differences are printed; tern's reject texts
are Postfix's, so those are asserted equal."""
import concurrent.futures
import shutil
import unittest

from dns_zone import ZoneDns
from smtp_util import PostfixInstance
from smtpd_util import Conn
from tern_instance import Instance

DOMAIN = "example.com"
ALICE = "alice@" + DOMAIN
MYNETWORKS = "127.0.0.1/32, 127.0.0.20/32"
SITES = "zen.test*2, bl.test*1, filt.test=127.0.0.[2..11]*2, wl.test*-2"

# name: (last octet of the client address, talks first, its DNS records)
CASES = {
    "clean": (10, False, {}),
    "pregreet": (11, True, {}),
    "under": (12, False, {"bl.test": "127.0.0.2"}),
    "over": (13, False, {"zen.test": "127.0.0.2", "bl.test": "127.0.0.2"}),
    "filtered-out": (14, False, {"filt.test": "127.0.0.100", "bl.test": "127.0.0.2"}),
    "filter-hit": (15, False, {"filt.test": "127.0.0.5"}),
    "listed-dnswl": (16, False, {"zen.test": "127.0.0.2", "wl.test": "127.0.0.3"}),
    "allowlisted": (17, False, {"wl.test": "127.0.0.3"}),
    "mynetworks-pregreet": (20, True, {}),
}


# Where tern differs on purpose (antispam.7, "Screening"): with
# postscreen_greet_action = enforce, Postfix's postscreen never finishes
# the greeting of a client that talked first, and answers what it sent
# (here its EHLO) right after the 220- line; tern discards what came
# before the greeting, sends the greeting's 220 line, and the client
# says EHLO again.  From there on both refuse every RCPT alike.
DIFFERENCES = {
    ("enforce", "pregreet"): [
        ("greeting", 220, "220- unfinished"), ("early EHLO", 250), ("NOOP", 250),
        ("EHLO", 250), ("MAIL", 250), ("RCPT", 550), ("QUIT", 221), ("closed",)],
}


def settings(action):
    return {
        "myhostname": "mx.example.com",
        "smtpd_banner": "$myhostname ESMTP",
        "mynetworks": MYNETWORKS,
        "postscreen_access_list": "permit_mynetworks",
        "postscreen_greet_wait": "3s",
        "postscreen_greet_action": action,
        "postscreen_dnsbl_sites": SITES,
        "postscreen_dnsbl_threshold": "2",
        "postscreen_dnsbl_allowlist_threshold": "-2",
        "postscreen_dnsbl_action": action,
    }


def zone():
    z = {}
    for octet, _, records in CASES.values():
        for site, answer in records.items():
            z["%d.0.0.127.%s" % (octet, site)] = [("A", answer)]
    return z


def start_dns():
    """ZoneDns on port 53 of a free 127.0.53.x."""
    for i in range(1, 250):
        try:
            return ZoneDns(zone(), host="127.0.53.%d" % i, port=53)
        except OSError:
            continue
    raise AssertionError("no free port 53 on 127.0.53.1-249")


def reply(c):
    """(code, last line's text, number of lines) of one reply."""
    lines = []
    while True:
        line = c.raw_line().rstrip(b"\r\n").decode("utf-8", "replace")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return int(line[:3]), line[4:], len(lines)


def drive(port, octet, pregreet):
    """One client's conversation: [(step, code, text)], ending with
    ("closed",) when the server closed the connection."""
    out = []
    c = Conn(port, timeout=60, source="127.0.0.%d" % octet)
    try:
        first = c.raw_line().decode("utf-8", "replace").rstrip("\r\n")
        if pregreet:
            c.send("EHLO early.example\r\n")
        if first[3:4] == "-":
            code, text, n = reply(c)
            if code == 220 or code >= 400:
                out.append(("greeting", code, text, "220- first"))
            else:  # Postfix's enforce: the early command answered instead
                out.append(("greeting", 220, first[4:], "220- unfinished"))
                out.append(("early EHLO", code, text))
        else:
            out.append(("greeting", int(first[:3]), first[4:], "one line"))
        if out[0][1] != 220:
            if c.closed(30):
                out.append(("closed",))
            return out
        if pregreet:
            # An answer to the early EHLO (several lines) comes before
            # the NOOP's (one line), if the server answers it at all.
            c.send("NOOP\r\n")
            code, text, n = reply(c)
            if n > 1 and out[-1][0] != "early EHLO":
                out.append(("early EHLO", code, text))
                code, text, n = reply(c)
            out.append(("NOOP", code, text))
        for step, line in (("EHLO", "EHLO client.example"),
                           ("MAIL", "MAIL FROM:<someone@example.org>"),
                           ("RCPT", "RCPT TO:<%s>" % ALICE), ("QUIT", "QUIT")):
            c.send(line + "\r\n")
            code, text, _ = reply(c)
            out.append((step, code, text))
            if code in (421, 521):
                break
        if c.closed(30):
            out.append(("closed",))
    except EOFError:
        out.append(("closed",))
    finally:
        c.close()
    return out


def outcome(steps):
    """The outcome class: codes and shape, without texts."""
    return [(s[0], s[1]) + tuple(s[3:]) if len(s) > 1 else s for s in steps]


@unittest.skipUnless(shutil.which("postfix"), "Debian's postfix is not installed")
class PostscreenDiffTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = start_dns()

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def run_all(self, port):
        with concurrent.futures.ThreadPoolExecutor(len(CASES)) as ex:
            futs = {name: ex.submit(drive, port, octet, pre)
                    for name, (octet, pre, _) in CASES.items()}
            return {name: f.result() for name, f in futs.items()}

    def pair(self, action):
        conf = settings(action)
        pf = PostfixInstance(DOMAIN, main_cf=conf, postscreen=True, nameserver=self.dns.host)
        self.addCleanup(pf.cleanup)
        pf.start()
        conf = dict(conf, smtpd_screening="yes", dns_servers="%s:53" % self.dns.host)
        tern = Instance(mailboxes=[ALICE], main_cf=conf)
        self.addCleanup(tern.cleanup)
        tern.start()
        got_pf = self.run_all(pf.port)
        got_tern = self.run_all(tern.smtp_port)
        for name in CASES:
            pf_text = {s[0]: s[2] for s in got_pf[name] if len(s) > 2}
            for s in got_tern[name]:
                if len(s) > 2 and s[0] in pf_text and s[2] != pf_text[s[0]]:
                    print("%s %s %s: tern %r, postfix %r" % (
                        action, name, s[0], s[2], pf_text[s[0]]))
        return got_tern, got_pf, pf, tern

    def check(self, action, expect):
        got_tern, got_pf, pf, tern = self.pair(action)
        for name in CASES:
            with self.subTest(action=action, case=name):
                if (action, name) in DIFFERENCES:
                    # antispam.7, "Screening": the one documented difference.
                    self.assertEqual(outcome(got_pf[name]), DIFFERENCES[(action, name)],
                                     "postfix %r" % got_pf[name])
                    self.assertEqual(outcome(got_tern[name]), [("greeting", 220, "220- first")]
                                     + DIFFERENCES[(action, name)][2:],
                                     "tern %r" % got_tern[name])
                    continue
                self.assertEqual(outcome(got_tern[name]), outcome(got_pf[name]),
                                 "tern %r\npostfix %r\npostfix log:\n%s\ntern log:\n%s" % (
                                     got_tern[name], got_pf[name], pf.log()[-3000:],
                                     tern.log()[-3000:]))
                # The expected class, so that both agreeing on nonsense fails.
                self.assertEqual([s[:2] for s in got_tern[name]], expect[name])
                # Reject texts are Postfix's word for word.
                pf_text = {s[0]: s[2] for s in got_pf[name] if len(s) > 2}
                for s in got_tern[name]:
                    if len(s) > 2 and s[1] >= 500:
                        self.assertEqual(s[2], pf_text[s[0]])

    @staticmethod
    def passed(pregreet_answered=False):
        steps = [("greeting", 220)]
        if pregreet_answered:
            steps += [("early EHLO", 250), ("NOOP", 250)]
        return steps + [("EHLO", 250), ("MAIL", 250), ("RCPT", 250), ("QUIT", 221), ("closed",)]

    def expected(self, action):
        passed = self.passed()
        if action == "enforce":
            refused = [("greeting", 220), ("EHLO", 250), ("MAIL", 250), ("RCPT", 550),
                       ("QUIT", 221), ("closed",)]
            pregreet = [("greeting", 220), ("NOOP", 250)] + refused[1:]
        else:
            refused = [("greeting", 521), ("closed",)]
            pregreet = refused
        return {
            "clean": passed, "pregreet": pregreet, "under": passed, "over": refused,
            "filtered-out": passed, "filter-hit": refused, "listed-dnswl": passed,
            "allowlisted": passed, "mynetworks-pregreet": self.passed(pregreet_answered=True),
        }

    def test_enforce(self):
        self.check("enforce", self.expected("enforce"))

    def test_drop(self):
        self.check("drop", self.expected("drop"))


if __name__ == "__main__":
    unittest.main()
