"""MTA-STS published by tern (RFC 8461 3.2): http serves the domains'
policy from mta_sts_mode/mta_sts_mx/mta_sts_max_age at
https://mta-sts.DOMAIN/.well-known/mta-sts.txt, tern doctor names the TXT
record id that goes with it, and a second tern instance, following that
policy in enforce mode, delivers to the first over verified TLS.  The
certificate of the receiving instance (its smtpd and its http) comes from
a test CA and names mail.sts.test and mta-sts.sts.test; the DNS is the
test zone server."""
import hashlib
import os
import shutil
import smtplib
import subprocess
import tempfile
import unittest

from dns_zone import ZoneDns
from dnssec_util import make_chain
from tern_instance import TERN, Instance, wait_until

USER = "u@sts.test"
POLICY = ("version: STSv1\r\nmode: enforce\r\nmx: mail.sts.test\r\n"
          "mx: *.backup.sts.test\r\nmax_age: 86400\r\n")
POLICY_ID = hashlib.sha256(POLICY.encode()).hexdigest()[:20]


class MtaStsPublishTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tern-sts-pub-")
        os.chmod(cls.tmp, 0o755)
        chain, key, cls.ca, _ = make_chain(cls.tmp, ["mail.sts.test", "mta-sts.sts.test"])
        for f in os.listdir(cls.tmp):
            os.chmod(os.path.join(cls.tmp, f), 0o644)
        cls.dns = ZoneDns({
            "sts.test": [("MX", (10, "mail.sts.test"))],
            "mail.sts.test": [("A", "127.0.0.1")],
            "mta-sts.sts.test": [("A", "127.0.0.1")],
            "_mta-sts.sts.test": [("TXT", "v=STSv1; id=%s" % POLICY_ID)],
        }, ttl=1)
        cls.receiver = Instance(domains=("sts.test",), mailboxes=[USER], http=True,
                                name="tern-sts-rcv", main_cf={
                                    "smtpd_tls_cert_file": chain, "smtpd_tls_key_file": key,
                                    "mta_sts_mode": "enforce",
                                    "mta_sts_mx": "mail.sts.test, *.backup.sts.test",
                                    "mta_sts_max_age": "1d"})
        cls.receiver.start()
        wait_until(lambda: cls.receiver._port_open(cls.receiver.http_port), 30,
                   what="https port")
        tm = os.path.join(cls.tmp, "transport")
        with open(tm, "w") as f:
            f.write("sts.test smtp:sts.test:%d\n" % cls.receiver.smtp_port)
        cls.sender = Instance(name="tern-sts-snd", main_cf={
            "transport_maps": "texthash:" + tm, "dns_servers": "127.0.0.1:%d" % cls.dns.port,
            "inet_protocols": "ipv4", "smtp_tls_CAfile": cls.ca,
            "smtp_mta_sts_CAfile": cls.ca,
            "smtp_mta_sts_https_port": str(cls.receiver.http_port)})
        cls.sender.start()

    @classmethod
    def tearDownClass(cls):
        cls.sender.cleanup()
        cls.receiver.cleanup()
        cls.dns.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def fetch(self, host, verify=True):
        """(status, content type, body) of GET /.well-known/mta-sts.txt at
        host, verified against the test CA, as a sender fetches it."""
        r = subprocess.run(
            ["curl", "-sS", "--max-time", "20"] + (["--cacert", self.ca] if verify else ["-k"]) + [
             "--resolve", "%s:%d:127.0.0.1" % (host, self.receiver.http_port),
             "-o", "-", "-w", "\n%{http_code} %{content_type}",
             "https://%s:%d/.well-known/mta-sts.txt" % (host, self.receiver.http_port)],
            capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        body, _, tail = r.stdout.rpartition(b"\n")
        status, _, ctype = tail.decode().partition(" ")
        return int(status), ctype, body

    def test_policy_served_for_mta_sts_host(self):
        status, ctype, body = self.fetch("mta-sts.sts.test")
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        self.assertEqual(body.decode(), POLICY)

    def test_other_host_names_get_404(self):
        status, _, body = self.fetch("mail.sts.test")
        self.assertEqual(status, 404)
        self.assertNotIn(b"STSv1", body)
        # mta-sts. of a domain this server does not take mail for: no
        # policy (whatever certificate a client accepted).
        status, _, body = self.fetch("mta-sts.other.test", verify=False)
        self.assertEqual(status, 404)
        self.assertNotIn(b"STSv1", body)
        # the Host's case and a port do not matter
        status, _, body = self.fetch("MTA-STS.Sts.Test", verify=False)
        self.assertEqual(status, 200)

    def test_doctor_names_the_record_id(self):
        # The test zone has no _mta-sts record for other.test: doctor says
        # what to publish, with the id of the policy this configuration
        # serves.
        conf = os.path.join(self.tmp, "doctor-etc")
        os.makedirs(conf, exist_ok=True)
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write("dns_servers = 127.0.0.1:%d\nmyhostname = mail.sts.test\n"
                    "mydomain = sts.test\nsmtpd_dns_timeout = 2s\n"
                    "mta_sts_mode = enforce\nmta_sts_mx = mail.sts.test *.backup.sts.test\n"
                    "mta_sts_max_age = 86400s\n" % self.dns.port)
        r = subprocess.run([TERN, "-c", conf, "doctor", "other.test"],
                           capture_output=True, text=True, timeout=120)
        self.assertIn('publish: _mta-sts.other.test. IN TXT "v=STSv1; id=%s"' % POLICY_ID,
                      r.stdout, r.stdout + r.stderr)
        # mta_sts_mode = off: nothing is served, so doctor cannot know an id
        with open(os.path.join(conf, "main.cf"), "a") as f:
            f.write("mta_sts_mode = off\n")
        r = subprocess.run([TERN, "-c", conf, "doctor", "other.test"],
                           capture_output=True, text=True, timeout=120)
        self.assertIn('publish: _mta-sts.other.test. IN TXT "v=STSv1; id=YYYYMMDDhhmmss"',
                      r.stdout, r.stdout + r.stderr)

    def test_sender_enforces_the_published_policy(self):
        start = len(self.sender.log())
        with smtplib.SMTP("127.0.0.1", self.sender.smtp_port, timeout=30) as c:
            c.sendmail("from@example.com", [USER], b"Subject: published sts\r\n\r\nhello\r\n")
        wait_until(lambda: self.receiver.messages(USER), 60, what="delivery to the receiver")
        self.assertIn(b"Subject: published sts", self.receiver.messages(USER)[-1])
        log = self.sender.log()[start:]
        self.assertIn("MTA-STS policy of sts.test fetched: id %s, mode enforce" % POLICY_ID,
                      log)
        verified = [l for l in log.splitlines()
                    if "Verified TLS connection established to mail.sts.test" in l]
        self.assertTrue([l for l in verified if "MTA-STS policy enforce of sts.test" in l], log)


class MtaStsUnreadableTableTest(unittest.TestCase):
    """A domain table http cannot read from its confinement: the policy is
    served (as before tern looked its domains up), with a warning, rather
    than lost for every domain."""

    def test_policy_served_with_a_warning(self):
        tmp = tempfile.mkdtemp(prefix="tern-sts-tbl-")
        try:
            table = os.path.join(tmp, "alias_domains")
            with open(table, "w") as f:
                f.write("alias.test OK\n")
            os.chmod(table, 0o600)  # root only: http runs as the login user
            inst = Instance(domains=("sts.test",), http=True, name="tern-sts-tbl",
                            main_cf={"virtual_alias_domains": "texthash:" + table,
                                     "mta_sts_mode": "enforce"})
            try:
                inst.start()
                wait_until(lambda: inst._port_open(inst.http_port), 30, what="https port")
                r = subprocess.run(
                    ["curl", "-sS", "-k", "--max-time", "20",
                     "--resolve", "mta-sts.other.test:%d:127.0.0.1" % inst.http_port,
                     "-o", "-", "-w", "\n%{http_code}",
                     "https://mta-sts.other.test:%d/.well-known/mta-sts.txt" % inst.http_port],
                    capture_output=True, timeout=60)
                body, _, status = r.stdout.rpartition(b"\n")
                self.assertEqual(status, b"200", r.stderr)
                self.assertIn(b"mode: enforce", body)
                wait_until(lambda: "MTA-STS policy: cannot tell whether other.test is a "
                           "domain of this server" in inst.log(), 30, what="the warning")
            finally:
                inst.cleanup()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class MtaStsPublishConfigTest(unittest.TestCase):
    def test_bad_values_refused_at_start(self):
        inst = Instance(main_cf={"mta_sts_mode": "sometimes", "mta_sts_max_age": "400d"})
        self.addCleanup(inst.cleanup)
        c = inst.tern("check", check=False)
        self.assertEqual(c.returncode, 78, c.stderr)  # EX_CONFIG
        self.assertIn("mta_sts_mode = sometimes: not off, none, testing or enforce", c.stderr)
        self.assertIn("mta_sts_max_age = 400d: more than RFC 8461's limit of 31557600 seconds",
                      c.stderr)
        self.assertNotEqual(inst.tern("start", check=False).returncode, 0)


if __name__ == "__main__":
    unittest.main()
