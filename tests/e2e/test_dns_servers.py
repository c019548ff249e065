"""dns_servers, the one name-server parameter of every tern program, and
its deprecated predecessors smtpd_dns_servers and smtp_dns_resolver: smtpd's
reject_unknown_sender_domain asks the servers it names (a fake DNS server
on loopback), the old names still work for one release with a warning, and
a server list the resolver cannot use defers rather than falling back to
/etc/resolv.conf."""
import unittest

from dns_zone import FakeDns
from smtpd_util import Conn, wait_log
from tern_instance import Instance

USER = "alice@example.com"


def sender_reply(inst, sender):
    """The reply to RCPT after MAIL FROM:<sender> (smtpd_delay_reject)."""
    c = Conn(inst.smtp_port)
    assert c.reply()[0] == 220
    c.ehlo("client.example.org")
    code, lines = c.cmd("MAIL FROM:<%s>" % sender)
    assert code == 250, lines
    code, lines = c.cmd("RCPT TO:<%s>" % USER)
    c.close()
    return code, lines[0]


class DnsServersTest(unittest.TestCase):
    def instance(self, dns_param, value):
        inst = Instance(mailboxes=[USER], main_cf={
            dns_param: value,
            "unknown_address_reject_code": "550",
            "smtpd_sender_restrictions": "reject_unknown_sender_domain",
        })
        self.addCleanup(inst.cleanup)
        inst.start()
        return inst

    def setUp(self):
        self.dns = FakeDns(mx=["good.example"])
        self.addCleanup(self.dns.stop)

    def test_dns_servers(self):
        inst = self.instance("dns_servers", "127.0.0.1:%d" % self.dns.port)
        self.assertEqual(sender_reply(inst, "x@good.example")[0], 250)
        code, text = sender_reply(inst, "x@nonexistent.example")
        self.assertEqual(code, 550, text)
        self.assertIn(("nonexistent.example", 15), self.dns.queries)
        self.assertNotIn("deprecated", inst.log())

    def test_old_names_still_work_with_a_warning(self):
        for old in ("smtpd_dns_servers", "smtp_dns_resolver"):
            with self.subTest(old=old):
                inst = self.instance(old, "127.0.0.1:%d" % self.dns.port)
                self.assertEqual(sender_reply(inst, "x@good.example")[0], 250)
                self.assertEqual(sender_reply(inst, "x@nonexistent.example")[0], 550)
                wait_log(inst, "%s is deprecated: name it dns_servers" % old)

    def test_bad_server_list_defers(self):
        inst = self.instance("dns_servers", "not-an-address")
        code, text = sender_reply(inst, "x@good.example")
        self.assertEqual(code, 450, text)
        self.assertIn("temporary failure", text)
        wait_log(inst, 'bad dns_servers "not-an-address"')
        self.assertEqual(self.dns.queries, [])


if __name__ == "__main__":
    unittest.main()
