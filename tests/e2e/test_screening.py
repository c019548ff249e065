"""Screening before the greeting (smtpd_screening = yes, Postfix's
postscreen inside smtpd) against a DNS server on loopback: a client that
talks before the greeting is dropped (or, with enforce, refused at RCPT);
DNSBL weights summed across sites give the verdict at the threshold and an
allow list lowers the score; a client that passed is cached in the LMDB
file and greeted at once afterwards, also after a restart."""
import asyncio
import collections
import os
import time
import unittest

import test_milter  # its PyMilter (the module, so its tests are not run here)
from dns_zone import ZoneDns
from smtpd_util import Conn, wait_log
from tern_instance import Instance

ALICE = "alice@example.com"
CLIENT = "1.0.0.127"  # 127.0.0.1 reversed, as DNSBLs list it


def greeting(c):
    """The whole greeting: (lines before the last, code of the last)."""
    code, lines = c.reply()
    return lines, code


class ScreeningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = ZoneDns({
            CLIENT + ".a.example": [("A", "127.0.0.2")],
            CLIENT + ".b.example": [("A", "127.0.0.2")],
            CLIENT + ".c.example": [("A", "127.0.0.10")],
            CLIENT + ".w.example": [("A", "127.0.0.3")],
            CLIENT + ".down.example": ["TIMEOUT"],
        })

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def instance(self, **settings):
        main_cf = {
            "mynetworks": "192.0.2.0/24",  # the test client is not trusted
            "dns_servers": "127.0.0.1:%d" % self.dns.port,
            "smtpd_screening": "yes",
            "postscreen_greet_wait": "1s",
            "postscreen_greet_banner": "screening",
        }
        main_cf.update(settings)
        inst = Instance(mailboxes=[ALICE], main_cf=main_cf)
        inst.start()
        self.addCleanup(inst.cleanup)
        return inst

    def conversation(self, inst):
        """A patient client: (greeting lines, RCPT code, RCPT text)."""
        c = Conn(inst.smtp_port, timeout=30)
        try:
            lines, code = greeting(c)
            self.assertEqual(code, 220)
            self.assertEqual(c.ehlo()[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<someone@example.org>")[0], 250)
            rcode, rtext = c.cmd("RCPT TO:<%s>" % ALICE)
            c.cmd("QUIT")
            return lines, rcode, " ".join(rtext)
        finally:
            c.close()

    def test_pregreet_dropped_then_patient_client_passes_and_is_cached(self):
        inst = self.instance(postscreen_greet_action="drop")
        c = Conn(inst.smtp_port, timeout=30)
        self.assertEqual(c.raw_line(), b"220-screening\r\n")
        c.send("EHLO impatient.example\r\n")
        self.assertEqual(c.reply(), (521, ["5.5.1 Protocol error"]))
        self.assertTrue(c.closed())
        c.close()
        wait_log(inst, "PREGREET 24 after")
        wait_log(inst, "DISCONNECT [127.0.0.1]")
        self.assertIn("EHLO impatient.example\\r\\n", inst.log())
        # A client that waits hears the multi-line greeting and is let through.
        lines, code, text = self.conversation(inst)
        self.assertEqual(lines[0], "screening")
        self.assertEqual(len(lines), 2)
        self.assertEqual(code, 250, text)
        wait_log(inst, "PASS NEW [127.0.0.1]")
        # Now cached: greeted at once, no 220- line, also after a restart.
        inst.stop()
        inst.start()
        lines, code, text = self.conversation(inst)
        self.assertEqual(len(lines), 1)
        self.assertEqual(code, 250, text)
        wait_log(inst, "PASS OLD [127.0.0.1]")

    def test_pregreet_enforce_refuses_recipients(self):
        inst = self.instance(postscreen_greet_action="enforce")
        c = Conn(inst.smtp_port, timeout=30)
        self.assertEqual(c.raw_line(), b"220-screening\r\n")
        c.send("NOOP\r\n")  # talks first; discarded, never run
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.ehlo()[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<someone@example.org>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<%s>" % ALICE), (550, ["5.5.1 Protocol error"]))
        c.cmd("QUIT")
        c.close()
        wait_log(inst, "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 550 5.5.1 Protocol error")
        # A failed client is not cached: screened again next time.
        lines, code, _ = self.conversation(inst)
        self.assertEqual(lines[0], "screening")
        self.assertEqual(code, 250)

    def test_weights_reach_threshold_drop(self):
        # a (2) + b (1) = 3: at the threshold; c's answer is outside its filter.
        inst = self.instance(postscreen_dnsbl_sites="a.example*2, b.example*1, "
                             "c.example=127.0.0.[2..9]*5, down.example*9",
                             postscreen_dnsbl_threshold="3", postscreen_dnsbl_action="drop")
        c = Conn(inst.smtp_port, timeout=30)
        self.assertEqual(c.raw_line(), b"220-screening\r\n")
        self.assertEqual(c.reply(), (521, ["5.7.1 Service unavailable; client [127.0.0.1] "
                                           "blocked using a.example"]))
        self.assertTrue(c.closed())
        c.close()
        wait_log(inst, "DNSBL rank 3 for [127.0.0.1]")
        asked = [q[0] for q in self.dns.queries]
        for zone in ("a", "b", "c", "down"):
            self.assertIn("%s.%s.example" % (CLIENT, zone), asked)

    def test_below_threshold_or_allowlisted_passes(self):
        for sites in ("a.example*2, c.example=127.0.0.[2..9]*5",  # 2 < 3
                      "a.example*2, b.example*1, w.example*-1"):  # 3 - 1
            with self.subTest(sites=sites):
                inst = self.instance(postscreen_dnsbl_sites=sites,
                                     postscreen_dnsbl_threshold="3",
                                     postscreen_dnsbl_action="drop")
                lines, code, text = self.conversation(inst)
                self.assertEqual(lines[0], "screening")
                self.assertEqual(code, 250, text)
                wait_log(inst, "PASS NEW [127.0.0.1]")
                self.assertNotIn("DNSBL rank", inst.log())

    def test_dnsbl_enforce_refuses_recipients(self):
        inst = self.instance(postscreen_dnsbl_sites="a.example*1, b.example*3",
                             postscreen_dnsbl_threshold="2", postscreen_dnsbl_action="enforce")
        _, code, text = self.conversation(inst)
        self.assertEqual((code, text), (550, "5.7.1 Service unavailable; client [127.0.0.1] "
                                             "blocked using b.example"))
        wait_log(inst, "DNSBL rank 4 for [127.0.0.1]")

    def test_dnsbl_reply_map_names_the_zone(self):
        inst = self.instance(postscreen_dnsbl_sites="b.example*3",
                             postscreen_dnsbl_threshold="2", postscreen_dnsbl_action="enforce")
        table = os.path.join(inst.etc, "dnsbl_reply")
        with open(table, "w") as f:
            f.write("b.example public-name.example\n")
        inst.stop()
        inst.append_main_cf({"postscreen_dnsbl_reply_map": "texthash:" + table})
        inst.start()
        _, code, text = self.conversation(inst)
        self.assertEqual((code, text), (550, "5.7.1 Service unavailable; client [127.0.0.1] "
                                             "blocked using public-name.example"))

    def test_dnsbl_pass_cached_for_the_answer_ttl(self):
        # A DNSWL answer with a TTL of 2 s: the pass is remembered that long
        # (postscreen_dnsbl_min_ttl lowered to 1 s), then the client is
        # screened again; with the default minimum of 60 s it would not be.
        dns = ZoneDns({CLIENT + ".w.example": [("A", "127.0.0.3")]}, ttl=2)
        self.addCleanup(dns.stop)
        inst = self.instance(dns_servers="127.0.0.1:%d" % dns.port,
                             postscreen_dnsbl_sites="w.example*-1",
                             postscreen_dnsbl_min_ttl="1s")
        self.assertEqual(len(self.conversation(inst)[0]), 2)  # screened: 220- and 220
        wait_log(inst, "PASS NEW [127.0.0.1]")
        passes = lambda: inst.log().count("PASS NEW [127.0.0.1]")
        deadline = time.monotonic() + 30  # well below the default 60 s
        while passes() < 2 and time.monotonic() < deadline:
            self.conversation(inst)
            time.sleep(0.5)
        self.assertEqual(passes(), 2)

    def test_allowlist_threshold_skips_the_wait(self):
        # The greeting wait is longer than the client's patience: only the
        # allow list's score lets it in before that.
        inst = self.instance(postscreen_dnsbl_sites="w.example*-5, a.example*2",
                             postscreen_dnsbl_allowlist_threshold="-2",
                             postscreen_greet_wait="300s", postscreen_greet_action="drop")
        c = Conn(inst.smtp_port, timeout=60)
        lines, code = greeting(c)
        self.assertEqual((lines[0], code), ("screening", 220))
        self.assertEqual(c.ehlo()[0], 250)
        c.cmd("QUIT")
        c.close()
        wait_log(inst, "DNSBL allowlisted [127.0.0.1]")

    def test_mynetworks_not_screened(self):
        inst = self.instance(mynetworks="127.0.0.0/8", postscreen_greet_action="drop")
        c = Conn(inst.smtp_port, timeout=30)
        c.send("EHLO early.example\r\n")  # would be a pregreet
        lines, code = greeting(c)
        self.assertEqual((len(lines), code), (1, 220))
        self.assertEqual(c.reply()[0], 250)
        c.close()
        wait_log(inst, "ALLOWLISTED [127.0.0.1]")

    def test_milter_connect_reject_holds_the_greeting(self):
        # Screening passes, then the milters hear of the connection before
        # the greeting ends: the milter's rejection is the greeting (554).
        inst = Instance(mailboxes=[ALICE])
        self.addCleanup(inst.cleanup)
        milter = test_milter.PyMilter(inst.dir)
        self.addCleanup(milter.stop)
        inst.append_main_cf({
            "mynetworks": "192.0.2.0/24", "dns_servers": "127.0.0.1:%d" % self.dns.port,
            "smtpd_screening": "yes", "postscreen_greet_wait": "1s",
            "postscreen_greet_banner": "screening",
            "smtpd_milters": "inet:127.0.0.1:%d" % milter.port})
        inst.start()
        c = Conn(inst.smtp_port, timeout=30, source="127.0.0.2")
        try:
            lines, code = greeting(c)
            self.assertEqual(lines[0], "screening")
            self.assertEqual(code, 554)
            self.assertIn("ESMTP not accepting connections", lines[-1])
        finally:
            c.close()
        wait_log(inst, "PASS NEW [127.0.0.2]")
        self.assertEqual([e["addr"] for e in milter.events("connect")], ["127.0.0.2"])

    def test_many_clients_at_once_each_name_asked_once(self):
        # 800 clients screened at once (more DNSBL answers than smtpd's
        # poll table holds): each client's answers are kept with it, so a
        # name is asked again only when the table forgot it before the
        # client saw it (or c-ares retried), not at every wake-up of the
        # waiting sessions (before: up to 59 times a name, 13 on average).
        dns = ZoneDns({})
        self.addCleanup(dns.stop)
        inst = self.instance(dns_servers="127.0.0.1:%d" % dns.port,
                             postscreen_dnsbl_sites="a.example, b.example, c.example")
        n = 800
        addrs = ["127.3.%d.%d" % (i // 250, 1 + i % 250) for i in range(n)]

        async def client(i, addr):
            await asyncio.sleep(i / n)  # over a second: a burst would overflow the
            # DNS server's socket buffer, and dropped queries are never seen
            r, w = await asyncio.open_connection("127.0.0.1", inst.smtp_port,
                                                 local_addr=(addr, 0))
            try:
                line = b"220-"
                while line[3:4] == b"-":
                    line = await asyncio.wait_for(r.readline(), 120)
                w.write(b"QUIT\r\n")
                return line[:3]
            finally:
                w.close()

        async def main():
            return await asyncio.gather(*(client(i, a) for i, a in enumerate(addrs)))

        self.assertEqual(asyncio.run(main()), [b"220"] * n)
        asked = collections.Counter(q[0] for q in dns.queries if q[0].endswith(".example"))
        self.assertEqual(len(asked), 3 * n)
        self.assertLessEqual(sum(asked.values()), 2 * 3 * n, asked.most_common(3))
        self.assertLessEqual(max(asked.values()), 5, asked.most_common(3))

    def test_bad_configuration_is_an_error(self):
        inst = Instance(mailboxes=[ALICE], main_cf={
            "postscreen_dnsbl_sites": "a.example*x", "postscreen_greet_action": "refuse"})
        self.addCleanup(inst.cleanup)
        r = inst.tern("check", check=False)
        self.assertNotEqual(r.returncode, 0)
        out = r.stdout + r.stderr
        self.assertIn('"a.example*x" is not zone[=filter][*weight]', out)
        self.assertIn("postscreen_greet_action = refuse: not ignore, enforce or drop", out)


if __name__ == "__main__":
    unittest.main()
