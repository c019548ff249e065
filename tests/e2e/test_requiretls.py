"""REQUIRETLS (RFC 8689): smtpd offers it only over TLS and keeps the
request with the message; the smtp client then delivers only over verified
TLS to a server that offers REQUIRETLS too, and bounces otherwise (5.7.10,
5.7.30), with a notice that itself requires TLS and returns only the
original's header (RFC 8689 section 5).  The header "TLS-Required: No"
turns recipient-side TLS policy into opportunistic TLS."""
import os
import smtplib
import ssl
import unittest

from smtp_util import FakeServerCase, make_cert
from tern_instance import wait_log, wait_until

SENDER = "alice@example.com"


def ehlo_keywords(c):
    c.ehlo()
    return set(k.upper() for k in c.esmtp_features)


class RequireTlsTest(FakeServerCase):
    def tls_instance(self, srv, policy="may", trust=None, routes=None):
        """A tern instance that sends remote.test to srv as "localhost"
        (the name in the test certificate), with policy as the TLS level;
        routes: {domain: server} more of the same."""
        tm = os.path.join(self.tmp, "transport")
        with open(tm, "w") as f:
            for dom, s in dict({"remote.test": srv}, **(routes or {})).items():
                f.write("%s smtp:[localhost]:%d\n" % (dom, s.port))
        conf = {"transport_maps": "texthash:" + tm, "smtp_tls_security_level": policy,
                "smtp_host_lookup": "native", "inet_protocols": "ipv4"}
        if trust:
            conf["smtp_tls_CAfile"] = trust
        return self.instance(conf, mailboxes=[SENDER])

    def send(self, inst, rcpt, requiretls=True, header=b"", sender=SENDER):
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
            c.starttls(context=ssl._create_unverified_context())
            self.assertIn("REQUIRETLS", ehlo_keywords(c))
            c.sendmail(sender, [rcpt], header + b"Subject: secret\r\n\r\nfor your eyes\r\n",
                       mail_options=["REQUIRETLS"] if requiretls else [])

    def bounce(self, inst):
        msgs = wait_until(lambda: inst.messages(SENDER), 30,
                          what="a bounce\n%s" % inst.log()[-3000:])
        return msgs[0]

    def test_offered_and_accepted_only_over_tls(self):
        srv = self.server()
        inst = self.tls_instance(srv)
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
            self.assertNotIn("REQUIRETLS", ehlo_keywords(c))
            code, msg = c.docmd("MAIL FROM:<%s> REQUIRETLS" % SENDER)
            self.assertEqual(code, 555, msg)
            c.starttls(context=ssl._create_unverified_context())
            self.assertIn("REQUIRETLS", ehlo_keywords(c))
            code, msg = c.docmd("MAIL FROM:<%s> REQUIRETLS=yes" % SENDER)
            self.assertEqual(code, 501, msg)
            code, msg = c.docmd("MAIL FROM:<%s> REQUIRETLS" % SENDER)
            self.assertEqual(code, 250, msg)

    def test_verified_tls_to_a_requiretls_server_delivers(self):
        cert = make_cert(self.tmp, "localhost")
        srv = self.server(tls=cert, ext=["REQUIRETLS"])
        inst = self.tls_instance(srv, trust=cert[0])
        self.send(inst, "bob@remote.test")
        line = wait_log(inst, "to=<bob@remote.test>")[0]
        self.assertIn("status=sent", line)
        tx = srv.transactions[0]
        self.assertTrue(tx.tls)
        self.assertIn("REQUIRETLS", tx.mail_params.split())
        wait_log(inst, "Verified TLS connection established to localhost[127.0.0.1]")

    def test_untrusted_certificate_bounces(self):
        cert = make_cert(self.tmp, "localhost")
        srv = self.server(tls=cert, ext=["REQUIRETLS"])
        inst = self.tls_instance(srv)  # policy may, certificate not trusted
        self.send(inst, "bob@remote.test")
        line = wait_log(inst, "to=<bob@remote.test>")[0]
        self.assertIn("dsn=5.7.10, status=bounced (REQUIRETLS: Cannot start TLS", line)
        self.assertIn("certificate verify failed", line)
        self.assertEqual(srv.transactions, [])
        dsn = self.bounce(inst)
        self.assertIn(b"Status: 5.7.10", dsn)

    def test_no_starttls_bounces(self):
        srv = self.server(ext=["REQUIRETLS"])
        inst = self.tls_instance(srv)
        self.send(inst, "bob@remote.test")
        line = wait_log(inst, "to=<bob@remote.test>")[0]
        self.assertIn("dsn=5.7.10, status=bounced (REQUIRETLS: TLS is required, but was not "
                      "offered", line)
        self.assertEqual(srv.transactions, [])
        self.assertIn(b"Status: 5.7.10", self.bounce(inst))

    def test_notice_requires_tls_and_returns_only_the_header(self):
        cert = make_cert(self.tmp, "localhost")
        srv = self.server(ext=["REQUIRETLS"])  # no STARTTLS: the message bounces
        home = self.server(tls=cert, ext=["REQUIRETLS"])  # the sender's domain
        inst = self.tls_instance(srv, trust=cert[0], routes={"home.test": home})
        self.send(inst, "bob@remote.test", sender="carol@home.test")
        line = wait_log(inst, "to=<bob@remote.test>")[0]
        self.assertIn("dsn=5.7.10, status=bounced", line)
        tx = wait_until(lambda: home.transactions, 30,
                        what="the notice\n%s" % inst.log()[-3000:])[0]
        self.assertEqual(tx.mail_from, "")
        self.assertEqual(tx.rcpts, ["carol@home.test"])
        self.assertIn("REQUIRETLS", tx.mail_params.split())
        self.assertTrue(tx.tls)
        self.assertIn(b"Status: 5.7.10", tx.data)
        self.assertIn(b"text/rfc822-headers", tx.data)
        self.assertIn(b"Subject: secret", tx.data)
        self.assertNotIn(b"for your eyes", tx.data)

    def test_server_without_requiretls_bounces(self):
        cert = make_cert(self.tmp, "localhost")
        srv = self.server(tls=cert)
        inst = self.tls_instance(srv, trust=cert[0])
        self.send(inst, "bob@remote.test")
        line = wait_log(inst, "to=<bob@remote.test>")[0]
        self.assertIn("dsn=5.7.30, status=bounced (REQUIRETLS support required", line)
        self.assertEqual(srv.transactions, [])
        self.assertIn(b"Status: 5.7.30", self.bounce(inst))

    def test_tls_required_no_relaxes_the_policy(self):
        cert = make_cert(self.tmp, "localhost")
        srv = self.server(tls=cert)
        inst = self.tls_instance(srv, policy="verify")  # the certificate is not trusted
        self.send(inst, "one@remote.test", requiretls=False)
        line = wait_log(inst, "to=<one@remote.test>")[0]
        self.assertIn("status=deferred", line)
        self.assertIn("certificate verify failed", line)
        self.send(inst, "two@remote.test", requiretls=False, header=b"TLS-Required: No\r\n")
        line = wait_log(inst, "to=<two@remote.test>")[0]
        self.assertIn("status=sent", line)
        tx = srv.transactions[0]
        self.assertEqual(tx.rcpts, ["two@remote.test"])
        self.assertTrue(tx.tls)
        self.assertNotIn("REQUIRETLS", tx.mail_params.split())


if __name__ == "__main__":
    unittest.main()
