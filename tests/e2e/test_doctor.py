"""`tern doctor`: the host's addresses and their forward-confirmed PTR
names, then for each mail domain the MX, SPF (evaluated for this host's
addresses), every DKIM key of the key directory, DMARC, MTA-STS (the TXT
record and the policy fetched over HTTPS from a server on a loopback
address, port 443, trusted through smtp_tls_CAfile) and TLS-RPT, and the TLSA records of this host against its certificate,
checked
against a zone DNS server on loopback: a domain that publishes everything
is all "ok" (exit 0); one that publishes nothing or the wrong thing gets a
FAIL line and the record to publish for each (exit 1); missing MTA-STS
and TLS-RPT records are "warn" only (exit 0); a failing name server is
exit 75.  --json gives the same checks as one JSON object.

Needs root: the MTA-STS policy server listens on port 443 (RFC 8461 gives
no other port), on an address of 127/8 of its own."""
import hashlib
import http.server
import json
import os
import random
import re
import ssl
import subprocess
import tempfile
import threading
import unittest

from dnssec_util import make_chain
from dns_zone import ZoneDns
from tern_instance import TERN

HOST = "mail.good.example"
POLICIES = {
    "mta-sts.good.example": "version: STSv1\r\nmode: enforce\r\nmx: mail.good.example\r\n"
                            "max_age: 604800\r\n",
    "mta-sts.keyless.example": "version: STSv1\nmode: testing\nmx: *.elsewhere.example\n"
                               "max_age: 86400\n",
    "mta-sts.badpolicy.example": "version: STSv1\nmode: enforce\n",
}


class PolicyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        body = POLICIES.get(host)
        if self.path != "/.well-known/mta-sts.txt" or body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def policy_server(directory):
    """An HTTPS server on port 443 of a free 127/8 address: (server, address, cafile)."""
    chain, key, ca, _ = make_chain(directory, sorted(POLICIES))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    for _ in range(50):
        addr = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255),
                                  random.randint(1, 254))
        try:
            srv = http.server.ThreadingHTTPServer((addr, 443), PolicyHandler)
            break
        except OSError:
            continue
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, addr, ca


def spki_sha256(cert):
    """The SHA-256 of a certificate's SubjectPublicKeyInfo, hex (TLSA 3 1 1)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


class DoctorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-doctor-")
        cls.keys = os.path.join(cls.tmp, "keys")
        os.mkdir(cls.keys)
        cls.https, web, ca = policy_server(cls.tmp)
        free = web.rsplit(".", 1)[0] + ".255"  # nothing listens there
        zone = {
            "good.example": [("MX", (10, HOST)), ("TXT", "v=spf1 mx -all")],
            HOST: [("A", "127.0.0.1")],
            "1.0.0.127.in-addr.arpa": [("PTR", HOST)],
            "_dmarc.good.example": [("TXT", "v=DMARC1; p=reject")],
            "_mta-sts.good.example": [("TXT", "v=STSv1; id=20261207T1"),
                                      ("TXT", "unrelated text")],
            "mta-sts.good.example": [("A", web)],
            "_smtp._tls.good.example": [("TXT", "v=TLSRPTv1; rua=mailto:tls@good.example")],
            "bad.example": [("MX", (10, "mx.elsewhere.example")), ("TXT", "v=spf1 -all")],
            "_dmarc.bad.example": [("TXT", "v=DMARC1; p=bogus")],
            "_mta-sts.bad.example": [("TXT", "v=STSv1; id=1")],
            "mta-sts.bad.example": [("A", free)],
            "_smtp._tls.bad.example": [("TXT", "v=TLSRPTv1; rua=ftp://x.example")],
            "keyless.example": [("MX", (10, HOST)), ("TXT", "v=spf1 a:%s ~all" % HOST)],
            "_dmarc.keyless.example": [("TXT", "v=DMARC1; p=none")],
            "_mta-sts.keyless.example": [("TXT", "v=STSv1; id=2")],
            "mta-sts.keyless.example": [("A", web)],
            "badpolicy.example": [("MX", (10, HOST))],
            "_mta-sts.badpolicy.example": [("TXT", "v=STSv1; id=3")],
            "mta-sts.badpolicy.example": [("A", web)],
            "_smtp._tls.badpolicy.example": [("TXT", "v=TLSRPTv1; rua=mailto:a@b.example"),
                                             ("TXT", "v=TLSRPTv1; rua=mailto:c@b.example")],
            "plain.example": [("MX", (10, HOST)), ("TXT", "v=spf1 mx -all")],
            "_dmarc.plain.example": [("TXT", "v=DMARC1; p=quarantine")],
            "broken.example": ["TIMEOUT"],
            # hosts for the PTR checks
            "mail.noptr.example": [("A", "127.0.0.2")],
            "mail.fcrdns.example": [("A", "127.0.0.3")],
            "3.0.0.127.in-addr.arpa": [("PTR", "elsewhere.example")],
            "elsewhere.example": [("A", "127.0.0.9")],
            "mail.other.example": [("A", "127.0.0.4")],
            "4.0.0.127.in-addr.arpa": [("PTR", "gone.example"), ("PTR", "mx4.example")],
            "mx4.example": [("A", "127.0.0.4")],
            "mail.ptrfail.example": [("A", "127.0.0.5")],
            "5.0.0.127.in-addr.arpa": ["TIMEOUT"],
        }
        for domain, kind in (("good.example", "ed25519"), ("good.example", "rsa"),
                             ("plain.example", "ed25519")):
            r = subprocess.run([TERN, "dkim", "keygen", domain, "--" + kind,
                                "--dir", cls.keys], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            record = "".join(re.findall(r'"([^"]*)"', r.stdout))
            zone["%s._domainkey.%s" % (kind, domain)] = [("TXT", record)]
        # bad.example has a key, not published
        r = subprocess.run([TERN, "dkim", "keygen", "bad.example", "--dir", cls.keys],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        # TLSA: this host's certificate (from a CA of its own), a DANE-EE
        # record of its key, a DANE-TA record of its CA, a stale record.
        tlsa_dir = os.path.join(cls.tmp, "tlsa")
        os.mkdir(tlsa_dir)
        cls.tlsa_chain, _, tlsa_ca, leaf = make_chain(tlsa_dir, [HOST])
        cls.spki = spki_sha256(leaf)
        ca_der = subprocess.run(["openssl", "x509", "-in", tlsa_ca, "-outform", "DER"],
                                capture_output=True, check=True).stdout
        for host, addr, rec in (("mail.tlsa.example", "127.0.0.6", (3, 1, 1, cls.spki)),
                                ("mail.ta.example", "127.0.0.7",
                                 (2, 0, 1, hashlib.sha256(ca_der).hexdigest())),
                                ("mail.stale.example", "127.0.0.8", (3, 1, 1, "ab" * 32))):
            zone[host] = [("A", addr)]
            zone["_25._tcp." + host] = [("TLSA", rec)]
        cls.dns = ZoneDns(zone)
        cls.ca = ca
        cls.conf = cls.config(HOST)

    @classmethod
    def config(cls, host, cafile=None, name=None, cert=None):
        conf = os.path.join(cls.tmp, "etc-" + (name or host))
        os.mkdir(conf)
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write("dns_servers = 127.0.0.1:%d\nmyhostname = %s\nmydomain = good.example\n"
                    "dkim_key_directory = %s\nsmtpd_dns_timeout = 2s\n"
                    "smtp_tls_CAfile = %s\n" % (cls.dns.port, host, cls.keys, cafile or cls.ca))
            if cert:
                f.write("smtpd_tls_cert_file = %s\n" % cert)
        return conf

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        cls.https.shutdown()

    def doctor(self, *domains, conf=None):
        r = subprocess.run([TERN, "-c", conf or self.conf, "doctor"] + list(domains),
                           capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr

    def test_all_published(self):
        rc, out = self.doctor()  # mydomain
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)
        self.assertIn("ok    A/AAAA  %s: 127.0.0.1" % HOST, out)
        self.assertIn("ok    MX      good.example: %s" % HOST, out)
        self.assertIn("ok    SPF     good.example permits", out)
        for kind in ("ed25519", "rsa"):
            self.assertIn("ok    DKIM    %s._domainkey.good.example: ok, the published record"
                          " matches" % kind, out)
        self.assertIn("ok    DMARC   _dmarc.good.example: p=reject", out)
        self.assertIn("ok    PTR     127.0.0.1: %s (forward-confirmed)" % HOST, out)
        self.assertIn("ok    MTA-STS id=20261207T1; policy fetched from https://mta-sts.good"
                      ".example/.well-known/mta-sts.txt: mode enforce, max_age 604800, allows "
                      "%s" % HOST, out)
        self.assertIn("ok    TLS-RPT _smtp._tls.good.example: rua=mailto:tls@good.example", out)
        self.assertNotIn("warn", out)

    def test_optional_records_missing_warn_only(self):
        rc, out = self.doctor("plain.example")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("FAIL", out)
        self.assertIn("warn  MTA-STS _mta-sts.plain.example: no MTA-STS record", out)
        self.assertIn('publish: _mta-sts.plain.example. IN TXT "v=STSv1; id=', out)
        self.assertIn("warn  TLS-RPT _smtp._tls.plain.example: no TLS-RPT record", out)
        self.assertIn('publish: _smtp._tls.plain.example. IN TXT "v=TLSRPTv1; '
                      'rua=mailto:postmaster@plain.example"', out)

    def test_mta_sts_and_tls_rpt_wrong(self):
        rc, out = self.doctor("bad.example", "keyless.example", "badpolicy.example")
        self.assertEqual(rc, 1, out)
        # TXT record there, nothing serves the policy
        self.assertRegex(out, r"FAIL  MTA-STS id=1; the policy could not be fetched: "
                              r"https://mta-sts.bad.example(:\d+)?/\.well-known/mta-sts\.txt: .+")
        self.assertIn("serve https://mta-sts.bad.example/.well-known/mta-sts.txt (text/plain",
                      out)
        self.assertIn("FAIL  TLS-RPT _smtp._tls.bad.example: rua= has no mailto: or https: URI",
                      out)
        # the policy is served and valid but names other MX hosts
        self.assertIn("FAIL  MTA-STS id=2; policy fetched from https://mta-sts.keyless.example"
                      "/.well-known/mta-sts.txt does not allow %s as an MX" % HOST, out)
        self.assertIn("add to https://mta-sts.keyless.example/.well-known/mta-sts.txt: "
                      "mx: %s" % HOST, out)
        self.assertIn("warn  TLS-RPT _smtp._tls.keyless.example: no TLS-RPT record", out)
        # an invalid policy; two TLS-RPT records
        self.assertIn("FAIL  MTA-STS id=3; https://mta-sts.badpolicy.example/.well-known/"
                      "mta-sts.txt: MTA-STS policy without version, mode or max_age", out)
        self.assertIn("FAIL  TLS-RPT _smtp._tls.badpolicy.example: 2 records", out)

    def test_mta_sts_untrusted_certificate(self):
        # the system's trust anchors do not include the test CA
        conf = self.config(HOST, cafile="/etc/ssl/certs/ca-certificates.crt", name="untrusted")
        rc, out = self.doctor("good.example", conf=conf)
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"FAIL  MTA-STS id=20261207T1; the policy could not be fetched: "
                              r"https://mta-sts.good.example(:\d+)?/\.well-known/mta-sts\.txt: "
                              r".*(certificate|SSL)")

    def test_tlsa(self):
        def tlsa_lines(host):
            rc, out = self.doctor("plain.example",
                                  conf=self.config(host, cert=self.tlsa_chain, name="tlsa-" + host))
            return out
        # no record: optional, with the record to publish for this certificate
        out = tlsa_lines(HOST)
        self.assertIn("warn  TLSA    _25._tcp.%s: no TLSA record" % HOST, out)
        self.assertIn("publish: _25._tcp.%s. IN TLSA 3 1 1 %s" % (HOST, self.spki), out)
        # matching DANE-EE and DANE-TA records, but the test zone is not signed
        for host in ("mail.tlsa.example", "mail.ta.example"):
            self.assertIn("warn  TLSA    _25._tcp.%s: a record matches, but the answer is not "
                          "DNSSEC-validated" % host, tlsa_lines(host))
        # a record of another key: DANE senders would defer everything
        out = tlsa_lines("mail.stale.example")
        self.assertIn("FAIL  TLSA    _25._tcp.mail.stale.example: no record matches the "
                      "certificate of %s" % self.tlsa_chain, out)
        self.assertIn("publish: _25._tcp.mail.stale.example. IN TLSA 3 1 1 %s" % self.spki, out)
        # without a certificate (no STARTTLS) there is nothing to check
        self.assertNotIn("TLSA", self.doctor("plain.example")[1])

    def test_ptr(self):
        rc, out = self.doctor("good.example", conf=self.config("mail.noptr.example"))
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL  PTR     127.0.0.2 has no PTR record", out)
        self.assertIn("publish: 2.0.0.127.in-addr.arpa. IN PTR mail.noptr.example.", out)
        rc, out = self.doctor("good.example", conf=self.config("mail.fcrdns.example"))
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL  PTR     127.0.0.3: elsewhere.example does not have the address "
                      "(not forward-confirmed)", out)
        self.assertIn("publish: elsewhere.example. IN A 127.0.0.3, or point the PTR record at"
                      " mail.fcrdns.example", out)
        # the second PTR name confirms; it is not myhostname
        rc, out = self.doctor("good.example", conf=self.config("mail.other.example"))
        self.assertIn("ok    PTR     127.0.0.4: mx4.example (forward-confirmed, not "
                      "myhostname)", out)
        rc, out = self.doctor("good.example", conf=self.config("mail.ptrfail.example"))
        self.assertIn("FAIL  PTR     127.0.0.5: look-up failed", out)

    def test_json(self):
        r = subprocess.run([TERN, "-c", self.conf, "doctor", "--json", "good.example",
                            "bad.example"], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["host"], HOST)
        self.assertEqual(doc["addresses"], ["127.0.0.1"])
        self.assertEqual(doc["status"], "fail")
        by = {}
        for c in doc["checks"]:
            self.assertIn(c["status"], ("ok", "warn", "fail", "tempfail"), c)
            self.assertEqual("fix" in c, c["status"] != "ok", c)
            by.setdefault((c["domain"], c["check"]), []).append(c)
        self.assertEqual([c["status"] for c in by[(None, "A/AAAA")]], ["ok"])
        self.assertEqual(by[(None, "PTR")][0]["message"], "127.0.0.1: %s (forward-confirmed)"
                         % HOST)
        for check in ("MX", "SPF", "DMARC", "MTA-STS", "TLS-RPT"):
            self.assertEqual([c["status"] for c in by[("good.example", check)]], ["ok"], check)
        self.assertEqual([c["status"] for c in by[("good.example", "DKIM")]], ["ok", "ok"])
        self.assertEqual(by[("bad.example", "MX")][0]["fix"],
                         "publish: bad.example. IN MX 10 %s." % HOST)
        self.assertEqual(by[("bad.example", "TLS-RPT")][0]["status"], "fail")
        self.assertNotIn("ok    ", r.stdout)

    def test_nothing_right(self):
        rc, out = self.doctor("bad.example")
        self.assertEqual(rc, 1, out)
        self.assertIn("FAIL  MX      bad.example: the MX records do not name this host", out)
        self.assertIn("publish: bad.example. IN MX 10 %s." % HOST, out)
        self.assertIn("FAIL  SPF     bad.example does not permit 127.0.0.1: fail", out)
        self.assertIn('publish: bad.example. IN TXT "v=spf1 mx -all"', out)
        self.assertIn("FAIL  DKIM    ed25519._domainkey.bad.example: no record published", out)
        self.assertIn("._domainkey.bad.example. IN TXT", out)
        self.assertIn("FAIL  DMARC   _dmarc.bad.example: no valid DMARC record", out)
        self.assertIn('publish: _dmarc.bad.example. IN TXT "v=DMARC1; p=none"', out)

    def test_no_key_and_two_domains(self):
        rc, out = self.doctor("good.example", "keyless.example")
        self.assertEqual(rc, 1, out)
        self.assertIn("ok    SPF     keyless.example permits", out)
        self.assertIn("FAIL  DKIM    keyless.example: no key in %s" % self.keys, out)
        self.assertIn("run: tern dkim keygen keyless.example", out)
        self.assertEqual(out.count("ok    MX"), 2, out)

    def test_lookup_failure(self):
        rc, out = self.doctor("broken.example")
        self.assertIn("FAIL  MX      broken.example: look-up failed", out)
        self.assertIn(rc, (1, 75), out)  # DKIM: no key for it is a plain FAIL
        self.assertIn("FAIL  DKIM    broken.example: no key", out)


if __name__ == "__main__":
    unittest.main()
