"""ACME (RFC 8555) against Debian's pebble on loopback: `tern cert acme`
obtains a certificate by http-01 (pebble asks tern's http on its plain
listener, resolving the test domains through the test zone server),
installs it where smtpd_tls_cert_file points and reloads; smtpd
(STARTTLS), imaps and https then serve it without a restart (same
master).  `tern cert renew` leaves a certificate that is not due alone
and renews it once acme_renew_days reaches past its expiry (pebble's
certificates live for years, so a renewal window longer than that is
how the certificate is made to look old, through the same comparison
the daily run makes).  tls-alpn-01 goes to http's HTTPS listener; an
instance without a certificate gets acme/NAME.crt set in main.cf.
Errors (a wrong server URL, a challenge pebble cannot validate) exit
nonzero with a clear message and leave the installed certificate in
place."""
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

from dns_zone import ZoneDns
from dnssec_util import make_chain
from tern_instance import TERN, Instance, free_port, stop_process, wait_until

DOMAINS = ("acme.test", "mail.acme.test")


def fingerprint_pem(path):
    with open(path) as f:
        pem = f.read()
    first = pem[:pem.index("-----END CERTIFICATE-----") + 25]
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(first)).hexdigest()


def insecure():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def served_tls(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with insecure().wrap_socket(s, server_hostname=DOMAINS[0]) as t:
            return hashlib.sha256(t.getpeercert(True)).hexdigest()


def smtp_reply(sock):
    """The last line of an SMTP reply, read a byte at a time (the socket
    changes to TLS after STARTTLS, so nothing may be read ahead)."""
    line = b""
    while True:
        c = sock.recv(1)
        if not c:
            return line
        line += c
        if line.endswith(b"\n"):
            if line[3:4] != b"-":
                return line
            line = b""


def starttls_session(port):
    """An SMTP session over STARTTLS (the TLS socket, still open)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    smtp_reply(s)
    s.sendall(b"EHLO client.test\r\n")
    smtp_reply(s)
    s.sendall(b"STARTTLS\r\n")
    assert smtp_reply(s).startswith(b"220")
    return insecure().wrap_socket(s, server_hostname=DOMAINS[0])


def served_starttls(port):
    with starttls_session(port) as t:
        return hashlib.sha256(t.getpeercert(True)).hexdigest()


class AcmeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-acme-")
        os.chmod(cls.tmp, 0o755)
        chain, key, cls.ca, _ = make_chain(cls.tmp, ["localhost"])
        cls.dns = ZoneDns({d: [("A", "127.0.0.1")] for d in DOMAINS}, ttl=1)
        cls.inst = Instance(domains=("acme.test",), imap=True, http=True, name="tern-acme")
        cls.inst.start()
        for port in (cls.inst.http_port, cls.inst.http_plain_port, cls.inst.imaps_port):
            wait_until(lambda: cls.inst._port_open(port), 30, what="port %d" % port)
        cls.chain, cls.key = chain, key
        cls.pebbles = []
        cls.acme_port = cls.start_pebble(cls.inst)
        cls.server = "https://localhost:%d/dir" % cls.acme_port

    @classmethod
    def start_pebble(cls, inst, nonce_reject=0):
        """A pebble validating against inst's http listeners: its port.
        nonce_reject: the percentage of good nonces it refuses (badNonce)."""
        port = free_port()
        conf = os.path.join(cls.tmp, "pebble-%d.json" % port)
        with open(conf, "w") as f:
            json.dump({"pebble": {
                "listenAddress": "127.0.0.1:%d" % port,
                "managementListenAddress": "127.0.0.1:%d" % free_port(),
                "certificate": cls.chain, "privateKey": cls.key,
                "httpPort": inst.http_plain_port, "tlsPort": inst.http_port,
                "ocspResponderURL": "", "externalAccountBindingRequired": False}}, f)
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT=str(nonce_reject),
                   PEBBLE_AUTHZREUSE="0")
        log = open(os.path.join(cls.tmp, "pebble-%d.log" % port), "w")
        cls.pebbles.append((subprocess.Popen(
            ["pebble", "-config", conf, "-dnsserver", "127.0.0.1:%d" % cls.dns.port],
            env=env, stdout=log, stderr=subprocess.STDOUT), log))
        wait_until(lambda: inst._port_open(port), 30, what="pebble")
        return port

    @classmethod
    def tearDownClass(cls):
        for proc, log in cls.pebbles:
            stop_process(proc)
            log.close()
        cls.inst.cleanup()
        cls.dns.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_tern(self, *args):
        return subprocess.run([TERN, "-c", self.inst.dir] + list(args), capture_output=True,
                              text=True, timeout=300)

    def acme(self, *domains, server=None, challenge="http-01"):
        args = ["cert", "acme", "--email", "admin@acme.test", "--ca-file", self.ca,
                "--server", server or self.server, "--challenge", challenge]
        for d in domains:
            args += ["--domain", d]
        return self.run_tern(*args)

    def cert_file(self):
        return self.inst.main_cf_value("smtpd_tls_cert_file")

    def assert_served(self, fp):
        """Every TLS service ends up serving fp (a reload replaces the
        processes as their sessions end: bounded wait)."""
        for name, probe, port in (("smtpd", served_starttls, self.inst.smtp_port),
                                  ("imaps", served_tls, self.inst.imaps_port),
                                  ("https", served_tls, self.inst.http_port)):
            wait_until(lambda: self.probe(probe, port) == fp, 60, interval=0.5,
                       what="%s serving the new certificate" % name)

    @staticmethod
    def probe(probe, port):
        try:
            return probe(port)
        except (OSError, AssertionError):
            return None

    def test_1_issue_and_serve(self):
        master = self.inst.master_pid()
        before = fingerprint_pem(self.cert_file())
        # Sessions open across the reload: they go on with the old
        # certificate, not dropped.
        smtp = starttls_session(self.inst.smtp_port)
        imap = insecure().wrap_socket(
            socket.create_connection(("127.0.0.1", self.inst.imaps_port), timeout=10))
        self.addCleanup(smtp.close)
        self.addCleanup(imap.close)
        self.assertTrue(imap.recv(4096).startswith(b"* OK"))
        r = self.acme(*DOMAINS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("issued", r.stdout)
        fp = fingerprint_pem(self.cert_file())
        self.assertNotEqual(fp, before)
        out = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName",
                              "-in", self.cert_file()], capture_output=True, text=True)
        for d in DOMAINS:
            self.assertIn("DNS:" + d, out.stdout)
        key = self.inst.main_cf_value("smtpd_tls_key_file")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        acct = os.path.join(self.inst.etc, "acme", "account.key")
        self.assertEqual(os.stat(acct).st_mode & 0o777, 0o600)
        with open(os.path.join(self.inst.etc, "acme", "acme.test.json")) as f:
            state = json.load(f)
        self.assertEqual(state["domains"], list(DOMAINS))
        self.assertEqual(state["server"], self.server)
        # The challenge files are gone once validated.
        self.assertEqual(os.listdir(os.path.join(self.inst.etc, "acme", "challenges")), [])
        self.assert_served(fp)
        self.assertEqual(self.inst.master_pid(), master)
        smtp.sendall(b"EHLO client.test\r\n")
        self.assertTrue(smtp_reply(smtp).startswith(b"250 "))
        self.assertEqual(hashlib.sha256(smtp.getpeercert(True)).hexdigest(), before)
        imap.sendall(b"a1 NOOP\r\n")
        got = b""
        while b"a1 " not in got:
            chunk = imap.recv(4096)
            self.assertTrue(chunk, "imaps session dropped")
            got += chunk
        self.assertIn(b"a1 OK", got)

    def test_2_renew(self):
        if not os.path.exists(os.path.join(self.inst.etc, "acme", "acme.test.json")):
            self.test_1_issue_and_serve()
        fp = fingerprint_pem(self.cert_file())
        r = self.run_tern("cert", "renew")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("not due", r.stdout)
        self.assertEqual(fingerprint_pem(self.cert_file()), fp)
        self.inst.tern("conf", "-e", "acme_renew_days=36500")
        try:
            r = self.run_tern("cert", "renew")
        finally:
            self.inst.tern("conf", "-e", "acme_renew_days=30")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("issued", r.stdout)
        new = fingerprint_pem(self.cert_file())
        self.assertNotEqual(new, fp)
        self.assert_served(new)

    def test_5_tls_alpn(self):
        """tls-alpn-01 (RFC 8737): pebble's TLS validation goes to http's
        HTTPS listener, which presents the validation certificate for
        the ALPN protocol acme-tls/1 and the instance's otherwise."""
        before = fingerprint_pem(self.cert_file())
        r = self.acme(*DOMAINS, challenge="tls-alpn-01")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("answering tls-alpn-01", r.stderr)
        fp = fingerprint_pem(self.cert_file())
        self.assertNotEqual(fp, before)
        with open(os.path.join(self.inst.etc, "acme", "acme.test.json")) as f:
            self.assertEqual(json.load(f)["challenge"], "tls-alpn-01")
        self.assertEqual([f for f in os.listdir(os.path.join(self.inst.etc, "acme", "challenges"))
                          if f.startswith("alpn-")], [])
        self.assert_served(fp)
        # Without a challenge waiting, acme-tls/1 gets no certificate at all.
        ctx = insecure()
        ctx.set_alpn_protocols(["acme-tls/1"])
        with socket.create_connection(("127.0.0.1", self.inst.http_port), timeout=10) as s:
            with self.assertRaises(ssl.SSLError):
                ctx.wrap_socket(s, server_hostname=DOMAINS[0])

    def test_6_no_certificate_yet(self):
        """An instance without smtpd_tls_cert_file gets acme/NAME.crt and
        .key, set in main.cf, and smtpd serves them after the reload."""
        inst = Instance(domains=("acme.test",), http=True, name="tern-acme-empty",
                        main_cf={"smtpd_tls_cert_file": "", "smtpd_tls_key_file": "",
                                 "http_tls_security_level": "none"})
        self.addCleanup(inst.cleanup)
        inst.start()
        wait_until(lambda: inst._port_open(inst.http_plain_port), 30, what="http port")
        port = self.start_pebble(inst)
        r = subprocess.run(
            [TERN, "-c", inst.dir, "cert", "acme", "--domain", "acme.test", "--ca-file",
             self.ca, "--server", "https://localhost:%d/dir" % port],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        crt = os.path.join(inst.etc, "acme", "acme.test.crt")
        self.assertEqual(inst.main_cf_value("smtpd_tls_cert_file"), crt)
        self.assertEqual(inst.main_cf_value("smtpd_tls_key_file"),
                         os.path.join(inst.etc, "acme", "acme.test.key"))
        fp = fingerprint_pem(crt)
        wait_until(lambda: self.probe(served_starttls, inst.smtp_port) == fp, 60,
                   interval=0.5, what="smtpd serving the new certificate")

    def test_7_bad_nonce_retried(self):
        """A CA that refuses a third of the nonces (badNonce, RFC 8555
        6.5): every such request is sent again with the nonce it gave,
        and the certificate is issued (about 20 requests: some refusal
        is all but certain, ten in a row on one request are not)."""
        port = self.start_pebble(self.inst, nonce_reject=30)
        before = fingerprint_pem(self.cert_file())
        r = self.acme(*DOMAINS, server="https://localhost:%d/dir" % port)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("badNonce, sending again", r.stderr)
        self.assertNotEqual(fingerprint_pem(self.cert_file()), before)

    def test_3_wrong_server(self):
        before = fingerprint_pem(self.cert_file())
        r = self.acme(*DOMAINS, server="https://localhost:%d/nothing" % self.acme_port)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("HTTP status 404", r.stderr)
        self.assertIn("the installed certificate is unchanged", r.stderr)
        r = self.acme(*DOMAINS, server="https://localhost:%d/dir" % free_port())
        self.assertEqual(r.returncode, 69, r.stderr)  # EX_UNAVAILABLE
        self.assertEqual(fingerprint_pem(self.cert_file()), before)

    def test_4_challenge_refused(self):
        before = fingerprint_pem(self.cert_file())
        # Not in the zone: pebble cannot reach it, the authorization fails.
        r = self.acme("acme.test", "gone.acme.test")
        self.assertEqual(r.returncode, 69, r.stdout + r.stderr)
        self.assertIn("gone.acme.test: authorization invalid: urn:ietf:params:acme:error:",
                      r.stderr)
        self.assertEqual(fingerprint_pem(self.cert_file()), before)
        # http answers challenges only for well-formed tokens.
        for token in ("..%2Fmain.cf", "a.b", "nothing"):
            out = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                 "http://127.0.0.1:%d/.well-known/acme-challenge/%s"
                 % (self.inst.http_plain_port, token)], capture_output=True, text=True)
            self.assertEqual(out.stdout, "404", token)


if __name__ == "__main__":
    unittest.main()
