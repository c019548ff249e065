"""check_policy_service: Postfix's SMTPD access policy delegation against a
policy server written here (every attribute Postfix sends arrives; the
actions OK, DUNNO, REJECT text, DEFER text, DEFER_IF_PERMIT text, 4xx/5xx
text; one connection reused for many requests; a server that stalls or is
down gives smtpd_policy_service_default_action; other sessions are served
while one waits), and Debian's postgrey as the server: a first attempt is
greylisted (450), a retry after the (shortened) delay is accepted."""
import os
import shutil
import socket
import subprocess
import threading
import time
import unittest

from smtpd_util import Conn
from tern_instance import Instance, free_port, wait_until

ALICE = "alice@example.com"

ATTRS = ("request", "protocol_state", "protocol_name", "helo_name", "queue_id", "sender",
         "recipient", "recipient_count", "client_address", "client_name",
         "reverse_client_name", "instance", "sasl_method", "sasl_username", "sasl_sender",
         "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint",
         "ccert_pubkey_fingerprint", "encryption_protocol", "encryption_cipher",
         "encryption_keysize", "etrn_domain", "stress", "client_port", "policy_context",
         "server_address", "server_port")


class PolicyServer:
    """A policy server on loopback: the action for a request is chosen by
    the recipient's local part (act-<word>...), stall@ never answers."""

    ACTIONS = {
        "ok": "OK", "dunno": "DUNNO", "reject": "REJECT no thanks",
        "defer": "DEFER come back later", "dip": "DEFER_IF_PERMIT greylisted",
        "code": "521 5.7.9 custom code", "tempcode": "421 4.7.0 custom temp",
        "bare": "REJECT",
    }

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.connections = 0
        self.stop_flag = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop_flag:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        f = conn.makefile("rb")
        try:
            while True:
                attrs = {}
                while True:
                    line = f.readline()
                    if not line:
                        return
                    line = line.rstrip(b"\n").decode()
                    if line == "":
                        break
                    k, v = line.split("=", 1)
                    attrs[k] = v
                self.requests.append(attrs)
                local = attrs.get("recipient", "").split("@")[0]
                if local == "stall":
                    time.sleep(5)
                    return
                word = local[4:] if local.startswith("act-") else "dunno"
                action = self.ACTIONS.get(word, "DUNNO")
                conn.sendall(("action=%s\nextra=ignored\n\n" % action).encode())
        finally:
            conn.close()

    def stop(self):
        self.stop_flag = True
        self.sock.close()


def rcpt(port, rcpt_to, helo="client.example.org"):
    c = Conn(port)
    try:
        assert c.reply()[0] == 220
        assert c.cmd("EHLO " + helo)[0] == 250
        assert c.cmd("MAIL FROM:<someone@example.org> SIZE=1234")[0] == 250
        code, text = c.cmd("RCPT TO:<%s>" % rcpt_to)
        c.cmd("QUIT")
        return code, " ".join(text)
    finally:
        c.close()


class PolicyServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = PolicyServer()
        dead = free_port()
        mailboxes = [ALICE, "stall@example.com", "other@example.com"]
        mailboxes += ["act-%s@example.com" % a for a in PolicyServer.ACTIONS]
        cls.inst = Instance(mailboxes=mailboxes, main_cf={
            "mynetworks": "192.0.2.0/24",
            "smtpd_recipient_restrictions":
                "check_policy_service inet:127.0.0.1:%d, permit" % cls.server.port,
            "smtpd_policy_service_timeout": "2s",
            "smtpd_policy_service_policy_context": "test-context",
        })
        cls.check = cls.inst.tern("check", check=False)
        cls.inst.start()
        # A second instance whose policy server is down.
        cls.down = Instance(mailboxes=[ALICE], main_cf={
            "mynetworks": "192.0.2.0/24",
            "smtpd_recipient_restrictions":
                "check_policy_service inet:127.0.0.1:%d, permit" % dead,
            "smtpd_policy_service_default_action": "DEFER_IF_PERMIT policy down",
        })
        cls.down.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.down.cleanup()
        cls.server.stop()

    def test_check_accepts(self):
        self.assertEqual(self.check.returncode, 0, self.check.stdout + self.check.stderr)

    def test_every_attribute_is_sent(self):
        self.assertEqual(rcpt(self.inst.smtp_port, ALICE)[0], 250)
        req = [r for r in self.server.requests if r.get("recipient") == ALICE][-1]
        for a in ATTRS:
            self.assertIn(a, req)
        self.assertEqual(req["request"], "smtpd_access_policy")
        self.assertEqual(req["protocol_state"], "RCPT")
        self.assertEqual(req["protocol_name"], "ESMTP")
        self.assertEqual(req["helo_name"], "client.example.org")
        self.assertEqual(req["sender"], "someone@example.org")
        self.assertEqual(req["client_address"], "127.0.0.1")
        self.assertEqual(req["size"], "1234")
        self.assertEqual(req["recipient_count"], "0")
        self.assertEqual(req["policy_context"], "test-context")
        self.assertEqual(req["server_address"], "127.0.0.1")
        self.assertEqual(req["server_port"], str(self.inst.smtp_port))
        self.assertTrue(req["instance"])

    def test_actions(self):
        want = {
            "ok": (250, None), "dunno": (250, None),
            "reject": (554, "5.7.1 <act-reject@example.com>: Recipient address rejected: "
                            "no thanks"),
            "bare": (554, "5.7.1 <act-bare@example.com>: Recipient address rejected: "
                          "Access denied"),
            "defer": (450, "4.7.1 <act-defer@example.com>: Recipient address rejected: "
                           "come back later"),
            "dip": (450, "4.7.1 <act-dip@example.com>: Recipient address rejected: "
                         "greylisted"),
            "code": (521, "5.7.9 <act-code@example.com>: Recipient address rejected: "
                          "custom code"),
        }
        for word, (code, text) in want.items():
            got = rcpt(self.inst.smtp_port, "act-%s@example.com" % word)
            self.assertEqual(got[0], code, (word, got))
            if text:
                self.assertEqual(got[1], text, word)

    def test_connection_reused(self):
        before = self.server.connections
        for _ in range(5):
            self.assertEqual(rcpt(self.inst.smtp_port, "other@example.com")[0], 250)
        self.assertLessEqual(self.server.connections - before, 1)

    def test_stalled_server_gives_default_action_and_others_go_on(self):
        result = {}

        def stalled():
            result["r"] = rcpt(self.inst.smtp_port, "stall@example.com")

        t = threading.Thread(target=stalled)
        t.start()
        wait_until(lambda: any(r.get("recipient") == "stall@example.com"
                               for r in self.server.requests), 10, what="stalled request")
        # The smtpd is not blocked: a new session greets and gets HELO.
        c = Conn(self.inst.smtp_port)
        try:
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.cmd("HELO x.example")[0], 250)
            c.cmd("QUIT")
        finally:
            c.close()
        t.join(30)
        self.assertEqual(result["r"][0], 451)
        self.assertEqual(result["r"][1], "4.3.5 <stall@example.com>: Recipient address "
                                         "rejected: Server configuration problem")
        self.assertIn("timeout waiting for the reply", self.inst.log())

    def test_server_down_default_action(self):
        code, text = rcpt(self.down.smtp_port, ALICE)
        self.assertEqual(code, 450)
        self.assertIn("policy down", text)


POSTGREY = shutil.which("postgrey") or "/usr/sbin/postgrey"


class PostgreyTest(unittest.TestCase):
    def setUp(self):
        self.dbdir = os.path.join(os.environ.get("TMPDIR", "/tmp"), "postgrey-%d" % os.getpid())
        os.makedirs(self.dbdir, exist_ok=True)
        self.addCleanup(shutil.rmtree, self.dbdir, True)
        self.port = free_port()
        args = [POSTGREY, "--inet=127.0.0.1:%d" % self.port, "--dbdir=" + self.dbdir,
                "--delay=2", "--max-age=1", "--pidfile=" + os.path.join(self.dbdir, "pid")]
        if os.geteuid() == 0:
            args.append("--user=root")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.addCleanup(self.stop_postgrey)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                return False
        wait_until(up, 30, what="postgrey listening")
        self.inst = Instance(mailboxes=[ALICE], main_cf={
            "mynetworks": "192.0.2.0/24",
            "smtpd_recipient_restrictions":
                "permit_mynetworks, reject_unauth_destination, "
                "check_policy_service inet:127.0.0.1:%d, permit" % self.port,
        })
        self.inst.start()
        self.addCleanup(self.inst.cleanup)

    def stop_postgrey(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def test_greylisted_then_accepted(self):
        code, text = rcpt(self.inst.smtp_port, ALICE)
        self.assertEqual(code, 450, text)
        self.assertIn("Greylisted", text)
        # postgrey's delay is 2 s; retry until it lets the triplet through.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(1)
            code, text = rcpt(self.inst.smtp_port, ALICE)
            if code == 250:
                break
            self.assertEqual(code, 450, text)
        self.assertEqual(code, 250, text)


class PolicyBracesTest(unittest.TestCase):
    """Postfix 3.x's per-service form: check_policy_service { endpoint,
    name=value ... } overrides the main.cf settings for that server."""

    def test_overrides_and_try_limit(self):
        server = PolicyServer()
        self.addCleanup(server.stop)
        dead = free_port()
        inst = Instance(mailboxes=[ALICE, "act-reject@example.com"], main_cf={
            "mynetworks": "192.0.2.0/24",
            "smtpd_recipient_restrictions":
                "check_policy_service { inet:127.0.0.1:%d, try_limit=3, timeout=5s, "
                "default_action=DUNNO }, "
                "check_policy_service { inet:127.0.0.1:%d, "
                "{ policy_context = from braces } }, permit" % (dead, server.port),
        })
        self.addCleanup(inst.cleanup)
        check = inst.tern("check", check=False)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        inst.start()
        # The dead server: tried three times, then DUNNO (main.cf's default
        # action would be a 451); the live one answers next.
        self.assertEqual(rcpt(inst.smtp_port, ALICE)[0], 250)
        self.assertEqual(rcpt(inst.smtp_port, "act-reject@example.com")[0], 554)
        log = inst.log()
        # Two requests (one per RCPT), each tried three times.
        self.assertEqual(log.count("inet:127.0.0.1:%d: " % dead), 6, log)
        self.assertEqual(log.count("-- trying again"), 4)
        self.assertIn('using default action "DUNNO"', log)
        req = [r for r in server.requests if r.get("recipient") == ALICE][-1]
        self.assertEqual(req["policy_context"], "from braces")

    def test_unknown_setting_is_a_check_error(self):
        inst = Instance(mailboxes=[ALICE], main_cf={
            "smtpd_recipient_restrictions":
                "check_policy_service { inet:127.0.0.1:9, retries=3 }, permit"})
        self.addCleanup(inst.cleanup)
        check = inst.tern("check", check=False)
        self.assertNotEqual(check.returncode, 0)
        self.assertIn('check_policy_service: unknown setting "retries"', check.stderr)


if __name__ == "__main__":
    unittest.main()
