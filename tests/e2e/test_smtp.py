"""Outbound delivery through the smtp agent: per-recipient results,
protocol extensions, routing (relayhost, transport_maps, error and
discard), TLS and AUTH against scriptable servers on loopback."""
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import time
import unittest

from smtp_util import CountingProxy, Dnsmasq, FakeServerCase, FakeSMTPServer, PostfixInstance, free_port_on, make_cert, log_lines, wait_log
from tern_instance import free_port
from tern_instance import TERN, Instance, wait_until


SECONDS = r"\d+(?:\.\d+)?"
# The Postfix-shaped delivery line every attempt leaves (lib/dsn_log.c).
DELIVERY_RE = re.compile(r"to=<[^>]*>, (?:orig_to=<[^>]*>, )?relay=\S+, delay=(%s), "
                         r"delays=(%s)/(%s)/(%s)/(%s), dsn=[245]\.\d{1,3}\.\d{1,3}, "
                         r"status=(sent|deferred|bounced) \(" % ((SECONDS,) * 5))


def delivery_fields(testcase, line):
    """Asserts line has the full shape; returns (delay, a, b, c, d, status)."""
    m = DELIVERY_RE.search(line)
    testcase.assertIsNotNone(m, line)
    return tuple(float(x) for x in m.groups()[:5]) + (m.group(6),)


def submit(inst, sender, rcpts, body=b"Subject: test\r\n\r\nhello\r\n", **kw):
    with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
        c.sendmail(sender, rcpts, body, **kw)


class SmtpClientTest(FakeServerCase):
    def wait_tx(self, srv, n, inst):
        wait_until(lambda: len(srv.transactions) >= n, 30,
                   what="%d transactions\nlog:\n%s" % (n, inst.log()[-4000:]))
        return srv.transactions

    def test_success_notice_relayed_or_left_to_a_dsn_next_hop(self):
        """RFC 3461 5.2.2/6.2, Postfix's smtp(8): a NOTIFY=SUCCESS
        recipient sent to a server without DSN gets a success notice with
        "Action: relayed" (not "delivered": that is final delivery's); a
        server that announced DSN got the NOTIFY and reports the success
        itself, so no notice of ours names that recipient."""
        plain = self.server(ext=["PIPELINING", "8BITMIME"])
        dsn = self.server()
        table = os.path.join(self.tmp, "transport")
        with open(table, "w") as f:
            f.write("nodsn.test smtp:[127.0.0.1]:%d\n" % plain.port)
            f.write("dsn.test smtp:[127.0.0.1]:%d\n" % dsn.port)
        inst = self.instance({"transport_maps": "texthash:" + table},
                             mailboxes=["from@example.com"])
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
            c.ehlo("client.example")
            c.sendmail("from@example.com", ["a@nodsn.test", "b@dsn.test"],
                       b"Subject: notify\r\n\r\nhello\r\n", rcpt_options=["NOTIFY=SUCCESS"])
        self.wait_tx(plain, 1, inst)
        self.wait_tx(dsn, 1, inst)
        self.assertTrue(dsn.transactions[0].rcpt_lines[0].startswith(
            "RCPT TO:<b@dsn.test> NOTIFY=SUCCESS"), dsn.transactions[0].rcpt_lines)
        wait_log(inst, "to=<b@dsn.test>")
        notices = wait_until(lambda: inst.messages("from@example.com"), 30,
                             what="the success notice\n" + inst.log()[-3000:])
        text = b"".join(notices).decode("utf-8", "replace")
        self.assertRegex(text, r"Final-Recipient: rfc822; a@nodsn\.test\r?\nAction: relayed")
        self.assertNotIn("Action: delivered", text)
        # The notice is one message, sent after both results were in.
        self.assertEqual(len(notices), 1)
        self.assertNotIn("b@dsn.test", text)

    def test_per_recipient_results(self):
        srv = self.server(replies={"soft@remote.test": "450 4.2.1 mailbox busy",
                                   "hard@remote.test": "550 5.1.1 <hard@remote.test>: no such user"})
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port})
        submit(inst, "from@example.com", ["ok@remote.test", "soft@remote.test",
                                          "hard@remote.test", "ok2@remote.test"])
        tx = self.wait_tx(srv, 1, inst)[0]
        self.assertEqual(tx.rcpts, ["ok@remote.test", "ok2@remote.test"])
        self.assertEqual(tx.mail_from, "from@example.com")
        self.assertIn(b"hello", tx.data)
        relay = "relay=127.0.0.1[127.0.0.1]:%d" % srv.port
        ok = wait_log(inst, "to=<ok@remote.test>, " + relay)[0]
        self.assertRegex(ok, r"dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok: queued as FAKE1\)")
        soft = wait_log(inst, "to=<soft@remote.test>")[0]
        self.assertIn("dsn=4.2.1, status=deferred (host %s said: 450 4.2.1 mailbox busy "
                      "(in reply to RCPT TO command))" % relay[6:], soft)
        hard = wait_log(inst, "to=<hard@remote.test>")[0]
        self.assertIn("dsn=5.1.1, status=bounced (host", hard)
        for line in (ok, soft, hard):
            delay, a, b, c, d, _ = delivery_fields(self, line)
            self.assertAlmostEqual(a + b + c + d, delay, delta=0.25, msg=line)
        self.assertIn("550 5.1.1 <hard@remote.test>: no such user (in reply to RCPT TO command)",
                      hard)
        # The deferred recipient keeps the message in the queue.
        self.assertTrue(inst.queue_files(("deferred", "active", "incoming")))

    def test_content_and_extensions(self):
        # No PIPELINING, CHUNKING: commands one at a time, BDAT LAST.
        srv = self.server(ext=["8BITMIME", "DSN", "CHUNKING", "SIZE 100000"])
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port})
        body = (b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\nend caf\xc3\xa9\r\n")
        submit(inst, "from@example.com", ["a@remote.test"], body)
        tx = self.wait_tx(srv, 1, inst)[0]
        self.assertIn(b"\r\n.leading dot\r\n..two\r\nend caf\xc3\xa9\r\n", tx.data)
        self.assertNotIn(b"\n\n", tx.data.replace(b"\r\n", b"#"))
        self.assertRegex(tx.mail_params, r"SIZE=\d+")
        self.assertIn("BODY=8BITMIME", tx.mail_params)
        bdat = [c for c in srv.commands if c.startswith("BDAT")]
        self.assertEqual(len(bdat), 1)
        self.assertTrue(bdat[0].endswith(" LAST"))
        self.assertEqual(int(bdat[0].split()[1]), len(tx.data))

    def test_dsn_parameters_relayed_as_xtext(self):
        """ENVID and ORCPT come in as xtext, are kept decoded in the queue
        and go out as xtext again: decoded once, encoded once."""
        srv = self.server(ext=["PIPELINING", "DSN"])
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port})
        submit(inst, "from@example.com", ["a@remote.test"],
               mail_options=["RET=HDRS", "ENVID=env+2B1+3D2"],
               rcpt_options=["NOTIFY=FAILURE", "ORCPT=rfc822;x+2By+3Dz+2B41@orig.test"])
        tx = self.wait_tx(srv, 1, inst)[0]
        self.assertIn("ENVID=env+2B1+3D2", tx.mail_params)
        self.assertEqual(tx.rcpt_lines[0], "RCPT TO:<a@remote.test> NOTIFY=FAILURE "
                         "ORCPT=rfc822;x+2By+3Dz+2B41@orig.test")
        line = wait_log(inst, "to=<a@remote.test>")[0]
        self.assertIn("orig_to=<x+y=z+41@orig.test>", line)

    def test_dot_stuffing_with_pipelining(self):
        srv = self.server(ext=["PIPELINING"])
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port})
        body = b"Subject: dots\r\n\r\n.\r\n.x\r\nlast line without newline"
        submit(inst, "from@example.com", ["a@remote.test", "b@remote.test"], body)
        tx = self.wait_tx(srv, 1, inst)[0]
        self.assertEqual(tx.rcpts, ["a@remote.test", "b@remote.test"])
        self.assertTrue(tx.data.endswith(b"\r\n.\r\n.x\r\nlast line without newline\r\n"), tx.data)
        self.assertEqual(tx.mail_params, "")      # nothing announced, nothing sent

    def test_size_limit_bounces(self):
        srv = self.server(ext=["PIPELINING", "SIZE 200"])
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port})
        submit(inst, "from@example.com", ["big@remote.test"],
               b"Subject: big\r\n\r\n" + b"x" * 500 + b"\r\n")
        line = wait_log(inst, "to=<big@remote.test>")[0]
        self.assertIn("dsn=5.3.4, status=bounced (message size", line)
        self.assertFalse([c for c in srv.commands if c.startswith("MAIL")])

    def test_eightbit_without_8bitmime_bounces(self):
        srv = self.server(ext=["PIPELINING", "DSN"])
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port})
        submit(inst, "from@example.com", ["a@remote.test", "b@remote.test"],
               b"Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n")
        reason = ("dsn=5.6.3, status=bounced (host 127.0.0.1[127.0.0.1]:%d does not support "
                  "8BITMIME and the message has 8-bit content)" % srv.port)
        for r in ("a@remote.test", "b@remote.test"):
            self.assertIn(reason, wait_log(inst, "to=<%s>" % r)[0])
        self.assertFalse([c for c in srv.commands if c.startswith("MAIL")])
        # 7-bit ASCII still goes to the same server, without BODY=.
        submit(inst, "from@example.com", ["c@remote.test"], b"Subject: ascii\r\n\r\nplain\r\n")
        tx = self.wait_tx(srv, 1, inst)[0]
        self.assertEqual(tx.rcpts, ["c@remote.test"])
        self.assertEqual(tx.mail_params, "")
        self.assertEqual(len(srv.transactions), 1)

    def test_helo_fallback(self):
        srv = self.server(ehlo_ok=False)
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port})
        submit(inst, "from@example.com", ["a@remote.test"])
        self.wait_tx(srv, 1, inst)
        self.assertTrue([c for c in srv.commands if c.startswith("HELO ")])

    def test_mail_from_rejected(self):
        srv = self.server(ext=["PIPELINING"])
        srv.replies = {}
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port})
        # The fake server refuses RCPT for everyone through replies:
        srv.replies["x@remote.test"] = "421 4.3.2 shutting down"
        submit(inst, "from@example.com", ["x@remote.test"])
        line = wait_log(inst, "to=<x@remote.test>")[0]
        self.assertIn("status=deferred", line)
        self.assertIn("421 4.3.2 shutting down (in reply to RCPT TO command)", line)

    def test_transport_maps(self):
        srv = self.server()
        tm = os.path.join(self.tmp, "transport")
        with open(tm, "w") as f:
            f.write("routed.test smtp:[127.0.0.1]:%d\n" % srv.port)
            f.write(".sub.test smtp:[127.0.0.1]:%d\n" % srv.port)
            f.write("gone.test error:5.1.2 this domain is gone\n")
            f.write("void.test discard:silently dropped\n")
        inst = self.instance({"transport_maps": "texthash:" + tm})
        submit(inst, "from@example.com", ["a@routed.test", "b@deep.sub.test"])
        submit(inst, "from@example.com", ["c@gone.test"])
        submit(inst, "from@example.com", ["d@void.test"])
        txs = self.wait_tx(srv, 1, inst)
        got = sorted(r for t in txs for r in t.rcpts)
        wait_until(lambda: len([r for t in srv.transactions for r in t.rcpts]) == 2, 20)
        got = sorted(r for t in srv.transactions for r in t.rcpts)
        self.assertEqual(got, ["a@routed.test", "b@deep.sub.test"])
        gone = wait_log(inst, "to=<c@gone.test>")[0]
        self.assertIn("relay=none", gone)
        self.assertIn("dsn=5.1.2, status=bounced (this domain is gone)", gone)
        void = wait_log(inst, "to=<d@void.test>")[0]
        self.assertIn("relay=discard", void)
        self.assertIn("status=sent (silently dropped)", void)
        for line in (gone, void):
            self.assertEqual(delivery_fields(self, line)[3], 0.0, line)  # no connection

    def test_connection_reuse(self):
        srv = self.server(ext=["PIPELINING"])
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port,
                              "smtp_connection_cache_time_limit": "10s"})
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
            for i in range(20):
                c.sendmail("from@example.com", ["r%d@remote.test" % i],
                           b"Subject: %d\r\n\r\nbody\r\n" % i)
        self.wait_tx(srv, 20, inst)
        self.assertLessEqual(srv.connections, 4)  # at most one per smtp process
        self.assertGreaterEqual(len([c for c in srv.commands if c == "RSET"]), 20 - srv.connections)

    def test_starttls_encrypt(self):
        cert = make_cert(self.tmp, "mx.remote.test")
        srv = self.server(tls=cert)
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port,
                              "smtp_tls_security_level": "encrypt"})
        submit(inst, "from@example.com", ["a@remote.test"])
        tx = self.wait_tx(srv, 1, inst)[0]
        self.assertTrue(tx.tls)
        wait_log(inst, "Untrusted TLS connection established to 127.0.0.1[127.0.0.1]")

    def test_tls_session_resumed(self):
        cert = make_cert(self.tmp, "mx.remote.test")
        srv = self.server(tls=cert)
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port,
                              "smtp_tls_security_level": "encrypt",
                              "smtp_connection_cache_on_demand": "no"}, start=False)
        # One smtp process, so both deliveries share its session cache.
        mcf = os.path.join(inst.etc, "master.cf")
        with open(mcf) as f:
            lines = [re.sub(r"^(smtp\s+unix\s+\S+\s+\S+\s+\S+\s+\S+\s+)4", r"\g<1>1", l)
                     for l in f]
        with open(mcf, "w") as f:
            f.writelines(lines)
        inst.start()
        submit(inst, "from@example.com", ["a@remote.test"])
        self.wait_tx(srv, 1, inst)
        submit(inst, "from@example.com", ["b@remote.test"])
        self.wait_tx(srv, 2, inst)
        self.assertEqual(srv.connections, 2)
        wait_log(inst, "Untrusted TLS connection established to 127.0.0.1")
        wait_log(inst, "Untrusted TLS connection reused to 127.0.0.1")

    def test_encrypt_without_starttls_defers(self):
        srv = self.server()
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port,
                              "smtp_tls_security_level": "encrypt"})
        submit(inst, "from@example.com", ["a@remote.test"])
        line = wait_log(inst, "to=<a@remote.test>")[0]
        self.assertIn("dsn=4.7.4, status=deferred (TLS is required, but was not offered", line)
        self.assertEqual(srv.transactions, [])

    def test_verify_checks_the_name(self):
        cert = make_cert(self.tmp, "localhost")
        srv = self.server(tls=cert)
        # The policy table asks for verify; the CA file trusts the cert.
        pol = os.path.join(self.tmp, "policy")
        with open(pol, "w") as f:
            f.write("[localhost]:%d verify\n[127.0.0.1]:%d verify\n" % (srv.port, srv.port))
        tm = os.path.join(self.tmp, "transport")
        with open(tm, "w") as f:
            f.write("good.test smtp:[localhost]:%d\nbad.test smtp:[127.0.0.1]:%d\n"
                    % (srv.port, srv.port))
        inst = self.instance({"transport_maps": "texthash:" + tm,
                              "smtp_tls_policy_maps": "texthash:" + pol,
                              "smtp_tls_CAfile": cert[0], "smtp_host_lookup": "native",
                              "inet_protocols": "ipv4"})
        submit(inst, "from@example.com", ["a@good.test"])
        tx = self.wait_tx(srv, 1, inst)[0]
        self.assertTrue(tx.tls)
        wait_log(inst, "Verified TLS connection established to localhost[127.0.0.1]")
        submit(inst, "from@example.com", ["b@bad.test"])
        line = wait_log(inst, "to=<b@bad.test>")[0]
        self.assertIn("status=deferred", line)
        self.assertIn("certificate verify failed", line)
        self.assertEqual(len(srv.transactions), 1)

    def test_auth_plain_over_tls(self):
        cert = make_cert(self.tmp, "smarthost.test")
        srv = self.server(tls=cert, auth=("joe", "s3cret"))
        pw = os.path.join(self.tmp, "sasl_passwd")
        with open(pw, "w") as f:
            f.write("[127.0.0.1]:%d joe:s3cret\n" % srv.port)
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port,
                              "smtp_sasl_auth_enable": "yes",
                              "smtp_sasl_password_maps": "texthash:" + pw})
        submit(inst, "from@example.com", ["a@remote.test"])
        tx = self.wait_tx(srv, 1, inst)[0]
        self.assertTrue(tx.tls)
        self.assertEqual(srv.last_auth, ("PLAIN", True))

    def test_auth_refused_in_clear_and_wrong_password(self):
        srv = self.server(auth=("joe", "s3cret"))
        pw = os.path.join(self.tmp, "sasl_passwd")
        with open(pw, "w") as f:
            f.write("[127.0.0.1]:%d joe:wrong\n" % srv.port)
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % srv.port,
                              "smtp_sasl_auth_enable": "yes",
                              "smtp_sasl_password_maps": "texthash:" + pw})
        submit(inst, "from@example.com", ["a@remote.test"])
        line = wait_log(inst, "to=<a@remote.test>")[0]
        self.assertIn("dsn=4.7.0, status=deferred (SASL authentication failed", line)
        self.assertIn("no mechanism is allowed without TLS", line)
        self.assertFalse([c for c in srv.commands if c.startswith("AUTH")])


@unittest.skipUnless(shutil.which("dnsmasq") or os.path.exists("/usr/sbin/dnsmasq"),
                     "dnsmasq is not installed")
class SmtpDnsTest(unittest.TestCase):
    """MX routing against dnsmasq on loopback.  Every listener uses the
    same port (smtp_tcp_port) on its own 127.0.0.x address."""

    ADDRS = ["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"]

    @classmethod
    def setUpClass(cls):
        cls.port = free_port_on(cls.ADDRS + ["127.0.0.2"])
        cls.dead = free_port()
        cls.dns = Dnsmasq([
            "local=/test/",
            "mx-host=mx.test,mx1.mx.test,10", "mx-host=mx.test,mx2.mx.test,20",
            "host-record=mx1.mx.test,127.0.0.2", "host-record=mx2.mx.test,127.0.0.3",
            "mx-host=pref.test,low.pref.test,10", "mx-host=pref.test,high.pref.test,20",
            "host-record=low.pref.test,127.0.0.4", "host-record=high.pref.test,127.0.0.5",
            "host-record=amx.test,127.0.0.6",
            "cname=cn.test,target.test", "host-record=target.test,127.0.0.7",
            "mx-host=nullmx.test,.,0",
            "server=/fail.test/127.0.0.1#%d" % cls.dead,
        ])
        cls.servers = {a: FakeSMTPServer(host=a, port=cls.port) for a in cls.ADDRS}
        cls.inst = Instance(main_cf={"smtp_dns_resolver": cls.dns.resolver,
                                     "smtp_tcp_port": str(cls.port),
                                     "smtp_dns_timeout": "2s",
                                     "inet_protocols": "ipv4"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        for s in cls.servers.values():
            s.stop()
        cls.dns.stop()

    def delivered_at(self, addr, rcpt):
        srv = self.servers[addr]
        return wait_until(lambda: [t for t in srv.transactions if rcpt in t.rcpts], 30,
                          what="%s at %s\nlog:\n%s" % (rcpt, addr, self.inst.log()[-3000:]))

    def test_falls_back_when_first_mx_refuses(self):
        submit(self.inst, "from@example.com", ["a@mx.test"])
        self.delivered_at("127.0.0.3", "a@mx.test")
        line = wait_log(self.inst, "to=<a@mx.test>")[0]
        self.assertIn("relay=mx2.mx.test[127.0.0.3]:%d" % self.port, line)
        self.assertEqual(delivery_fields(self, line)[5], "sent")

    def test_lowest_preference_first(self):
        submit(self.inst, "from@example.com", ["b@pref.test"])
        self.delivered_at("127.0.0.4", "b@pref.test")
        self.assertFalse(self.servers["127.0.0.5"].transactions)

    def test_implicit_mx_and_cname(self):
        submit(self.inst, "from@example.com", ["c@amx.test"])
        submit(self.inst, "from@example.com", ["d@cn.test"])
        self.delivered_at("127.0.0.6", "c@amx.test")
        self.delivered_at("127.0.0.7", "d@cn.test")

    def test_null_mx_bounces(self):
        submit(self.inst, "from@example.com", ["e@nullmx.test"])
        line = wait_log(self.inst, "to=<e@nullmx.test>")[0]
        self.assertIn("dsn=5.1.10, status=bounced (Domain nullmx.test does not accept mail "
                      "(nullMX))", line)

    def test_nxdomain_bounces(self):
        submit(self.inst, "from@example.com", ["f@nowhere.test"])
        line = wait_log(self.inst, "to=<f@nowhere.test>")[0]
        self.assertIn("dsn=5.4.4, status=bounced (Host or domain name not found", line)

    def test_servfail_defers(self):
        submit(self.inst, "from@example.com", ["g@fail.test"])
        line = wait_log(self.inst, "to=<g@fail.test>", timeout=60)[0]
        self.assertIn("dsn=4.4.3, status=deferred (Host or domain name not found", line)
        self.assertIn("try again", line)


@unittest.skipUnless(shutil.which("smtp-sink"), "Postfix's smtp-sink is not installed")
class SmtpSinkTest(FakeServerCase):
    """Against Postfix's smtp-sink: one sink per answer (250, 4xx for every
    RCPT, 5xx for every RCPT), chosen per recipient with transport_maps."""

    def setUp(self):
        super().setUp()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        super().tearDown()

    def sink(self, *opts):
        port = free_port()
        user = ["-u", "postfix"] if os.geteuid() == 0 else []
        p = subprocess.Popen([shutil.which("smtp-sink")] + user + list(opts) +
                             ["127.0.0.1:%d" % port, "100"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_until(lambda: Instance._port_open(port), 10, what="smtp-sink")
        return port

    def test_per_recipient_answers(self):
        ok = self.sink()
        soft = self.sink("-r", "RCPT", "-b", "450 4.2.0 try later")
        hard = self.sink("-f", "RCPT", "-B", "550 5.1.1 unknown user")
        tm = os.path.join(self.tmp, "transport")
        with open(tm, "w") as f:
            f.write("ok.test smtp:[127.0.0.1]:%d\nsoft.test smtp:[127.0.0.1]:%d\n"
                    "hard.test smtp:[127.0.0.1]:%d\n" % (ok, soft, hard))
        inst = self.instance({"transport_maps": "texthash:" + tm})
        submit(inst, "from@example.com", ["a@ok.test", "b@soft.test", "c@hard.test"])
        a = wait_log(inst, "to=<a@ok.test>")[0]
        self.assertIn("relay=127.0.0.1[127.0.0.1]:%d" % ok, a)
        self.assertRegex(a, r"dsn=2\.0\.0, status=sent \(250 2\.0\.0 Ok")
        b = wait_log(inst, "to=<b@soft.test>")[0]
        self.assertIn("dsn=4.2.0, status=deferred (host 127.0.0.1[127.0.0.1]:%d said: "
                      "450 4.2.0 try later (in reply to RCPT TO command))" % soft, b)
        c = wait_log(inst, "to=<c@hard.test>")[0]
        self.assertIn("dsn=5.1.1, status=bounced (host 127.0.0.1[127.0.0.1]:%d said: "
                      "550 5.1.1 unknown user (in reply to RCPT TO command))" % hard, c)

    def test_thousand_messages_reuse_connections(self):
        sink = self.sink()
        proxy = CountingProxy(("127.0.0.1", sink))
        inst = self.instance({"relayhost": "[127.0.0.1]:%d" % proxy.port})
        n = 1000
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=60) as c:
            for i in range(n):
                c.sendmail("from@example.com", ["r%d@remote.test" % i],
                           b"Subject: %d\r\n\r\nbody %d\r\n" % (i, i))
        wait_until(lambda: len(log_lines(inst, "status=sent")) >= n, 300,
                   what="%d deliveries\nlog:\n%s" % (n, inst.log()[-3000:]))
        self.assertFalse(log_lines(inst, "status=deferred"))
        # A new connection per message would be 1000.  Each smtp process
        # (4) keeps its session, and is replaced after max_use requests.
        print("\n    %d messages over %d connections" % (n, proxy.connections))
        self.assertLess(proxy.connections, n // 10)
        proxy.stop()


def offers(port, keyword):
    """True when the SMTP server on port announces keyword after EHLO."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        c.ehlo("probe.test")
        return c.has_extn(keyword)


class SmtpRelayTest(unittest.TestCase):
    """tern to tern, and tern to and from a real Postfix, on loopback."""

    def setUp(self):
        self.cleanups = []
        self.tmp = tempfile.mkdtemp(prefix="tern-relay-")
        os.chmod(self.tmp, 0o755)

    def tearDown(self):
        for c in reversed(self.cleanups):
            c()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tern(self, domains=("example.com",), main_cf=None, mailboxes=(), start=True):
        i = Instance(domains=domains, main_cf=main_cf, mailboxes=mailboxes)
        self.cleanups.append(i.cleanup)
        if start:
            i.start()
        return i

    def transport(self, lines):
        tm = os.path.join(self.tmp, "transport-%d" % len(self.cleanups))
        with open(tm, "w") as f:
            f.write("".join(l + "\n" for l in lines))
        return "texthash:" + tm

    def test_tern_to_tern(self):
        b = self.tern(domains=("b.test",), mailboxes=["bob@b.test"])
        self.assertTrue(offers(b.smtp_port, "starttls"))
        a = self.tern(main_cf={
            "transport_maps": self.transport(["b.test smtp:[127.0.0.1]:%d" % b.smtp_port]),
            "smtp_tls_security_level": "encrypt"})
        submit(a, "alice@example.com", ["bob@b.test"],
               b"Subject: across\r\n\r\nfrom a to b\r\n")
        msgs = wait_until(lambda: b.messages("bob@b.test"), 30,
                          what="relayed message\nA:\n%s\nB:\n%s" % (a.log()[-2000:], b.log()[-2000:]))
        self.assertIn(b"from a to b", msgs[0])
        self.assertRegex(msgs[0], rb"\(using TLSv1\.[23] with cipher ")
        self.assertIn(b"with ESMTPS id", msgs[0])
        line = wait_log(a, "to=<bob@b.test>")[0]
        self.assertIn("relay=127.0.0.1[127.0.0.1]:%d" % b.smtp_port, line)
        self.assertIn("status=sent (250", line)
        wait_log(a, "TLS connection established to 127.0.0.1[127.0.0.1]:%d" % b.smtp_port)
        wait_log(b, "TLS connection established from")

    def relay_via_submission(self, password):
        """A relays everything through B's submission service (TLS and
        AUTH required there, as tern init sets it up) as user joe."""
        b = self.tern(domains=("b.test",), mailboxes=["bob@b.test"],
                      main_cf={"smtpd_error_sleep_time": "0s"}, start=False)
        subprocess.run([TERN, "-c", b.dir, "passwd", "--stdin", "joe"],
                       input="joe's secret\n", text=True, check=True, timeout=30)
        b.start()
        pw = os.path.join(self.tmp, "smtp_sasl_passwd")
        with open(pw, "w") as f:
            f.write("[127.0.0.1]:%d joe:%s\n" % (b.submission_port, password))
        a = self.tern(main_cf={"relayhost": "[127.0.0.1]:%d" % b.submission_port,
                               "smtp_sasl_auth_enable": "yes",
                               "smtp_sasl_password_maps": "texthash:" + pw,
                               "smtp_tls_security_level": "encrypt"})
        submit(a, "alice@example.com", ["bob@b.test"],
               b"Subject: via smarthost\r\n\r\nrelayed with auth\r\n")
        return a, b

    def test_relayhost_with_auth_is_a_tern_submission_port(self):
        a, b = self.relay_via_submission("joe's secret")
        msgs = wait_until(lambda: b.messages("bob@b.test"), 30,
                          what="message at B\nA:\n%s\nB:\n%s" % (a.log()[-2000:], b.log()[-2000:]))
        self.assertIn(b"relayed with auth", msgs[0])
        self.assertIn(b"with ESMTPSA id", msgs[0])
        self.assertRegex(msgs[0], rb"\(using TLSv1\.[23] with cipher ")
        line = wait_log(a, "to=<bob@b.test>")[0]
        self.assertIn("relay=127.0.0.1[127.0.0.1]:%d" % b.submission_port, line)
        self.assertIn("status=sent (250", line)
        wait_log(b, "sasl_method=PLAIN, sasl_username=joe")

    def test_relayhost_auth_wrong_password_defers(self):
        a, b = self.relay_via_submission("not the password")
        line = wait_log(a, "to=<bob@b.test>")[0]
        self.assertIn("dsn=4.7.0, status=deferred (SASL authentication failed; cannot "
                      "authenticate to server 127.0.0.1[127.0.0.1]:%d: 535 5.7.8" % b.submission_port,
                      line)
        # The message waits in A's queue with that reason.
        out = wait_until(lambda: (lambda o: "535 5.7.8" in o and o)(a.tern("queue", "list").stdout),
                         30, what="queue list with the 535 reason")
        self.assertIn("bob@b.test", out)
        self.assertTrue(a.queue_files(("deferred",)))
        self.assertEqual(b.messages("bob@b.test"), [])
        # The relay's auth service logs the failure (auth(8)).
        wait_log(b, "sasl-table(joe,127.0.0.1,")

    @unittest.skipUnless(shutil.which("postfix"), "Debian's postfix is not installed")
    def test_tern_to_postfix_with_starttls(self):
        pf = PostfixInstance("pf.test", main_cf={"smtpd_tls_received_header": "yes"})
        self.cleanups.append(pf.cleanup)
        pf.start()
        a = self.tern(main_cf={
            "transport_maps": self.transport(["pf.test smtp:[127.0.0.1]:%d" % pf.port]),
            "smtp_tls_security_level": "encrypt"})
        submit(a, "alice@example.com", ["someone@pf.test"],
               b"Subject: to postfix\r\n\r\nhello postfix\r\n")
        msgs = wait_until(pf.messages, 30,
                          what="message at postfix\ntern:\n%s\npostfix:\n%s" % (a.log()[-2000:], pf.log()[-2000:]))
        self.assertIn(b"hello postfix", msgs[0])
        self.assertRegex(msgs[0], rb"\(using TLSv1\.[23] with cipher ")
        self.assertIn(b"with ESMTPS id", msgs[0])
        wait_log(a, "TLS connection established to 127.0.0.1[127.0.0.1]:%d" % pf.port)
        self.assertIn("TLS connection established from localhost[127.0.0.1]", pf.log())
        line = wait_log(a, "to=<someone@pf.test>")[0]
        self.assertRegex(line, r"status=sent \(250 2\.0\.0 Ok: (\d+ bytes )?queued as")

    @unittest.skipUnless(shutil.which("postfix"), "Debian's postfix is not installed")
    def test_postfix_to_tern(self):
        b = self.tern(domains=("tern.test",), mailboxes=["bob@tern.test"])
        self.assertTrue(offers(b.smtp_port, "starttls"))
        pf = PostfixInstance("pf.test", main_cf={
            "transport_maps": "inline:{tern.test=smtp:[127.0.0.1]:%d}" % b.smtp_port,
            "relay_domains": "tern.test",
            "smtp_tls_security_level": "encrypt"})
        self.cleanups.append(pf.cleanup)
        pf.start()
        with smtplib.SMTP("127.0.0.1", pf.port, timeout=30) as c:
            c.sendmail("x@example.org", ["bob@tern.test"], b"Subject: from postfix\r\n\r\nhi tern\r\n")
        msgs = wait_until(lambda: b.messages("bob@tern.test"), 60,
                          what="message from postfix\npostfix:\n%s" % pf.log()[-3000:])
        self.assertIn(b"hi tern", msgs[0])
        self.assertRegex(msgs[0], rb"\(using TLSv1\.[23] with cipher ")
        self.assertIn(b"with ESMTPS id", msgs[0])
        self.assertRegex(pf.log(), r"to=<bob@tern.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*"
                                   r"status=sent" % b.smtp_port)
        self.assertIn("TLS connection established to 127.0.0.1[127.0.0.1]:%d" % b.smtp_port,
                      pf.log())
        wait_log(b, "TLS connection established from")


def netstring(b):
    return b"%d:%s," % (len(b), b)


def agent_request(inst, service, attrs, content_header, content_body, timeout=60, arrival=None):
    """Sends one {op=deliver} straight to an agent's socket, as qmgr does,
    with a file holding the message attached; returns the reply records
    as lists of (name, value).  arrival: epoch seconds, default now."""
    import socket as so
    path = os.path.join(inst.queue, "tmp-agent-test-%d" % os.getpid())
    with open(path, "wb") as f:
        f.write(content_header + content_body)
    fd = os.open(path, os.O_RDONLY)
    os.unlink(path)
    attrs = [("op", "deliver"), ("queue_id", "0123456789ABCDEF"),
             ("arrival", str(int((arrival or time.time()) * 1e6))),
             ("header_off", "0"), ("header_len", str(len(content_header))),
             ("body_off", str(len(content_header))), ("body_len", str(len(content_body)))] + attrs
    rec = b"".join(netstring(n.encode()) + netstring(v.encode()) for n, v in attrs) + b"0:,"
    s = so.socket(so.AF_UNIX, so.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(os.path.join(inst.queue, "private", service))
    so.send_fds(s, [rec], [fd])
    os.close(fd)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    records, cur, i = [], [], 0
    while i < len(data):
        colon = data.index(b":", i)
        n = int(data[i:colon])
        val = data[colon + 1:colon + 1 + n]
        i = colon + 1 + n + 1
        if n == 0:
            records.append(cur)
            cur = []
            continue
        colon = data.index(b":", i)
        m = int(data[i:colon])
        cur.append((val.decode(), data[colon + 1:colon + 1 + m].decode()))
        i = colon + 1 + m + 1
    return records


class SmtpAgentProtocolTest(unittest.TestCase):
    """The agent's side of the qmgr conversation, driven directly: the
    nexthop attribute, DSN parameters, SMTPUTF8."""

    @classmethod
    def setUpClass(cls):
        cls.srv = FakeSMTPServer(ext=["PIPELINING", "DSN", "8BITMIME"])
        cls.inst = Instance()
        cls.inst.start()
        wait_until(lambda: os.path.exists(os.path.join(cls.inst.queue, "private", "smtp")), 10)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.srv.stop()

    def test_nexthop_and_dsn_parameters(self):
        recs = agent_request(self.inst, "smtp", [
            ("sender", "from@example.com"), ("nexthop", "[127.0.0.1]:%d" % self.srv.port),
            ("ret", "HDRS"), ("envid", "env+id 1"),
            ("rcpt", "a@nowhere.invalid"), ("index", "0"), ("class", "default"),
            ("orcpt", "rfc822;A+b=c@original.test"), ("notify", "SUCCESS,DELAY"),
            ("rcpt", "b@nowhere.invalid"), ("index", "1"), ("class", "default"),
            ("orcpt", "b@original.test")],
            b"Subject: direct\n", b"body\n")
        status = [dict(r) for r in recs if dict(r).get("op") == "status"]
        self.assertEqual([s["index"] for s in status], ["0", "1"])
        self.assertEqual({s["result"] for s in status}, {"sent"})
        self.assertEqual(dict(recs[-1])["op"], "done")
        tx = self.srv.transactions[-1]
        self.assertIn("RET=HDRS", tx.mail_params)
        self.assertIn("ENVID=env+2Bid+201", tx.mail_params)
        self.assertEqual(tx.rcpt_lines[0],
                         "RCPT TO:<a@nowhere.invalid> NOTIFY=SUCCESS,DELAY "
                         "ORCPT=rfc822;A+2Bb+3Dc@original.test")
        self.assertEqual(tx.rcpt_lines[1], "RCPT TO:<b@nowhere.invalid> ORCPT=rfc822;b@original.test")
        self.assertEqual(tx.data, b"Subject: direct\r\n\r\nbody\r\n")

    def test_log_line_delays_and_orig_to(self):
        """delays=a/b/c/d: a from arrival to qmgr's "activated", b from
        there to the request, c the session set-up (a 1.5 s banner here),
        d the transaction; orig_to= names a differing ORCPT."""
        slow = FakeSMTPServer(greeting_delay=1.5)
        try:
            now = time.time()
            recs = agent_request(self.inst, "smtp", [
                ("sender", "from@example.com"), ("nexthop", "[127.0.0.1]:%d" % slow.port),
                ("activated", str(int((now - 5) * 1e6))),
                ("rcpt", "legs@nowhere.invalid"), ("index", "0"), ("class", "default"),
                ("orcpt", "rfc822;list+x@original.test")],
                b"Subject: legs\n", b"body\n", arrival=now - 20)
        finally:
            slow.stop()
        self.assertEqual([dict(r).get("result") for r in recs if dict(r).get("op") == "status"],
                         ["sent"])
        line = wait_log(self.inst, "to=<legs@nowhere.invalid>")[0]
        self.assertIn("orig_to=<list+x@original.test>, relay=127.0.0.1[127.0.0.1]:%d, "
                      % slow.port, line)
        self.assertIn("dsn=2.0.0, status=sent", line)
        delay, a, b, c, d, _ = delivery_fields(self, line)
        self.assertAlmostEqual(a, 15, delta=1, msg=line)
        self.assertAlmostEqual(b, 5, delta=1, msg=line)
        self.assertGreaterEqual(c, 1.4, line)
        self.assertLess(c, 10, line)
        self.assertLess(d, c, line)
        self.assertAlmostEqual(a + b + c + d, delay, delta=1, msg=line)

    def test_smtputf8_needed_but_not_offered(self):
        recs = agent_request(self.inst, "smtp", [
            ("sender", "from@example.com"), ("nexthop", "[127.0.0.1]:%d" % self.srv.port),
            ("rcpt", "j\u00f6rg@nowhere.invalid"), ("index", "0"), ("class", "default"),
            ("rcpt", "plain@nowhere.invalid"), ("index", "1"), ("class", "default")],
            b"Subject: utf8\n", b"body\n")
        status = {dict(r)["index"]: dict(r) for r in recs if dict(r).get("op") == "status"}
        self.assertEqual(status["0"]["result"], "bounced")
        self.assertEqual(status["0"]["dsn"], "5.6.7")
        self.assertEqual(status["1"]["result"], "sent")

    def test_eightbit_header_without_8bitmime(self):
        srv = FakeSMTPServer(ext=["PIPELINING"])
        try:
            recs = agent_request(self.inst, "smtp", [
                ("sender", "from@example.com"), ("nexthop", "[127.0.0.1]:%d" % srv.port),
                ("rcpt", "a@nowhere.invalid"), ("index", "0"), ("class", "default"),
                ("rcpt", "b@nowhere.invalid"), ("index", "1"), ("class", "default")],
                b"Subject: J\xc3\xb6rg\n", b"ascii body\n")
            status = [dict(r) for r in recs if dict(r).get("op") == "status"]
            self.assertEqual([(s["index"], s["result"], s["dsn"]) for s in status],
                             [("0", "bounced", "5.6.3"), ("1", "bounced", "5.6.3")])
            self.assertIn("does not support 8BITMIME", status[0]["reason"])
            self.assertFalse([c for c in srv.commands if c.startswith("MAIL")])
        finally:
            srv.stop()

    def test_error_agent(self):
        recs = agent_request(self.inst, "error", [
            ("sender", "from@example.com"), ("nexthop", "4.3.2 come back later"),
            ("rcpt", "x@y.test"), ("index", "0"), ("class", "default")], b"S: x\n", b"b\n")
        st = dict(recs[0])
        self.assertEqual((st["result"], st["dsn"], st["reason"]),
                         ("deferred", "4.3.2", "come back later"))
