"""The auth service: a Dovecot passwd-file with every scheme logs in over
SMTP AUTH (PLAIN, LOGIN, SCRAM-SHA-256); wrong passwords, unknown users and
disabled accounts fail with the right reply and one log line that fail2ban's
stock filter matches; the login socket offers SASL only and hands out
one-time tokens that only the trusted socket redeems; look-ups; changes to
the users file apply at once; smtpd reconnects when auth restarts; system
users through PAM."""
import os
import pwd
import signal
import socket
import subprocess
import unittest

from auth_util import (AuthSocket, ScramClient, b64, connect_as, doveadm_hash,
                       fail2ban_matches, failure_lines, mkpasswd_hash, smtp_plain, smtp_scram,
                       submission, write_users)
from smtpd_util import wait_log
from tern_instance import Instance, wait_until

PW = "P\u00e4ssword 1!"


def users_lines():
    """(address, users line) for every scheme, hashes made by Dovecot itself."""
    out = []
    for name, scheme in (("blf", "BLF-CRYPT"), ("sha512", "SHA512-CRYPT"),
                         ("sha256", "SHA256-CRYPT"), ("crypt", "CRYPT"),
                         ("md5", "MD5-CRYPT"), ("scram", "SCRAM-SHA-256"),
                         ("plain", "PLAIN"), ("ssha", "SSHA256")):
        out.append(("%s@example.com" % name,
                    "%s@example.com:%s::::::" % (name, doveadm_hash(scheme, PW))))
    out.append(("yes@example.com", "yes@example.com:%s::::::" % mkpasswd_hash("yescrypt", PW)))
    out.append(("bcrypt@example.com",
                "bcrypt@example.com:%s[13]::::::" % mkpasswd_hash("bcrypt", PW)))
    return out


class AuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Penalties are test_auth_penalty.py's: here failures must not add up.
        cls.inst = Instance(main_cf={"auth_failure_delay": "0", "auth_failure_limit": "1000",
                                     "auth_mechanisms": "PLAIN LOGIN SCRAM-SHA-256",
                                     "auth_cache_ttl": "60s"})
        cls.users = users_lines()
        plain = "{PLAIN}" + PW
        lines = [l for _, l in cls.users] + [
            "gone@example.com:%s::::::nologin reason=moved_away" % plain,
            "nets@example.com:%s::::::allow_nets=10.0.0.0/8,192.0.2.0/24" % plain,
            "quota@example.com:%s:5000:5001::/srv/q::userdb_quota_rule=*:storage=1G "
            "userdb_mail=maildir:~/Maildir nice=10" % plain,
        ]
        write_users(cls.inst, lines)
        cls.inst.start()
        wait_until(lambda: os.path.exists(cls.inst.auth_socket(login=True)), 10,
                   what="login/auth")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_every_scheme_logs_in_over_smtp(self):
        for user, _ in self.users:
            code, text = smtp_plain(self.inst, user, PW)
            self.assertEqual(code, 235, "%s: %s" % (user, text))
        c = submission(self.inst)
        self.assertEqual(c.cmd("AUTH LOGIN " + b64("sha512@example.com"))[0], 334)
        self.assertEqual(c.cmd(b64(PW))[0], 235)
        c.close()
        wait_log(self.inst, "passwd-file(blf@example.com,127.0.0.1,")

    def test_failures_answered_and_logged_once(self):
        src = "127.0.0.3"
        code, text = smtp_plain(self.inst, "blf@example.com", "wrong", source=src)
        self.assertEqual(code, 535, text)
        self.assertTrue(text.startswith("5.7.8"), text)
        code, text = smtp_plain(self.inst, "nobody@example.com", PW, source=src)
        self.assertEqual(code, 535, text)
        # A disabled account fails only after the right password, and says why.
        code, text = smtp_plain(self.inst, "gone@example.com", PW, source=src)
        self.assertEqual(code, 535, text)
        self.assertIn("moved_away", text)
        code, text = smtp_plain(self.inst, "gone@example.com", "wrong", source=src)
        self.assertEqual(code, 535, text)
        self.assertNotIn("moved_away", text)
        wait_until(lambda: len(failure_lines(self.inst, src)) >= 3, 10, what="failure lines")
        lines = failure_lines(self.inst, src)
        self.assertEqual(len(lines), 3, lines)
        self.assertIn("passwd-file(blf@example.com,127.0.0.3,", lines[0])
        self.assertIn("): Password mismatch (service=smtp, method=PLAIN", lines[0])
        self.assertIn("passwd-file(nobody@example.com,127.0.0.3,", lines[1])
        self.assertIn("): unknown user (service=smtp", lines[1])
        # Exactly one line per failure mentions the client: smtpd adds none.
        log = self.inst.log()
        mentions = [l for l in log.splitlines() if "127.0.0.3" in l and
                    ("mismatch" in l or "unknown user" in l or "authentication failed" in l)]
        self.assertEqual(len(mentions), 3, mentions)
        self.assertIn("login refused: account disabled", log)
        # fail2ban's stock dovecot filter bans on exactly those lines.
        matched, out = fail2ban_matches("\n".join(l for l in log.splitlines() if src in l))
        self.assertEqual(matched, 3, out)

    def test_scram_sha_256(self):
        c = submission(self.inst)
        self.assertIn("AUTH PLAIN LOGIN SCRAM-SHA-256", c.exts)
        c.close()
        for user in ("scram@example.com", "plain@example.com"):
            code, verified = smtp_scram(self.inst, user, PW)
            self.assertEqual((code, verified), (235, True), user)
        # A crypt hash cannot do SCRAM; neither can a wrong password or nobody.
        for user, pw in (("yes@example.com", PW), ("scram@example.com", "wrong"),
                         ("nobody@example.com", PW)):
            code, _ = smtp_scram(self.inst, user, pw, source="127.0.0.4")
            self.assertEqual(code, 535, user)
        wait_log(self.inst, "stored scheme cannot do SCRAM-SHA-256")
        # Malformed SCRAM messages are 501, not a crash.
        c = submission(self.inst)
        self.assertEqual(c.cmd("AUTH SCRAM-SHA-256 " + b64("p=tls-unique,,n=x,r=abc"))[0], 501)
        c.close()

    def test_login_socket_and_tokens(self):
        denied = connect_as(self.inst.auth_socket(), "ternlogin")
        self.assertIsInstance(denied, OSError)  # private/ is not theirs
        a = connect_as(self.inst.auth_socket(login=True), "ternlogin")
        self.assertNotIsInstance(a, OSError)
        r = a.call("mechs", service="imap")
        self.assertEqual(r["mech"], ["PLAIN", "LOGIN", "SCRAM-SHA-256"])
        r = a.plain("sha256@example.com", PW, service="imap", client_addr="192.0.2.10")
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["user"], "sha256@example.com")
        self.assertNotIn("uid", r)  # the account is for the trusted side only
        token = r["token"]
        self.assertGreaterEqual(len(token), 22)
        r = a.call("lookup", user="sha256@example.com")
        self.assertEqual((r["status"], r["code"]), ("fail", "denied"))
        r = a.call("redeem", token=token, service="imap", client_addr="192.0.2.10")
        self.assertEqual((r["status"], r["code"]), ("fail", "denied"))
        a.close()
        t = AuthSocket(self.inst.auth_socket())
        r = t.call("redeem", token=token, service="imap", client_addr="192.0.2.10")
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["user"], "sha256@example.com")
        self.assertIn("maildir", r)
        r = t.call("redeem", token=token, service="imap", client_addr="192.0.2.10")
        self.assertEqual((r["status"], r["code"]), ("fail", "denied"))  # single use
        # A token is bound to its service and address, and spent by a wrong try.
        a = connect_as(self.inst.auth_socket(login=True), "ternlogin")
        token = a.plain("sha256@example.com", PW, service="pop3",
                        client_addr="192.0.2.11")["token"]
        a.close()
        r = t.call("redeem", token=token, service="imap", client_addr="192.0.2.11")
        self.assertEqual(r["status"], "fail")
        r = t.call("redeem", token=token, service="pop3", client_addr="192.0.2.11")
        self.assertEqual(r["status"], "fail")
        t.close()

    def test_sasl_steps_on_the_socket(self):
        t = AuthSocket(self.inst.auth_socket())
        rid = t.request("auth", service="imap", mech="LOGIN", client_addr="192.0.2.12")
        r = t.reply()
        self.assertEqual((r["status"], r["challenge"]), ("continue", b64("Username:")))
        r = t.cont(rid, b64("plain@example.com"))
        self.assertEqual(r["challenge"], b64("Password:"))
        r = t.cont(rid, b64(PW))
        self.assertEqual(r["status"], "ok")
        # The trusted socket gets the account; an empty uid is virtual_uid_maps'.
        self.assertEqual(r["uid"], str(pwd.getpwnam("ternmail").pw_uid))
        # SCRAM through the socket, the server's signature checked.
        s = ScramClient("scram@example.com", PW)
        rid = t.request("auth", service="imap", mech="SCRAM-SHA-256", resp=b64(s.first()),
                        client_addr="192.0.2.12")
        r = t.reply()
        import base64
        final = s.final(base64.b64decode(r["challenge"]).decode())
        r = t.cont(rid, b64(final))
        self.assertTrue(s.verify_server(base64.b64decode(r["challenge"]).decode()))
        self.assertEqual(t.cont(rid, "")["status"], "ok")
        # Cancel, an unknown id, bad base64, an unknown mechanism.
        rid = t.request("auth", service="imap", mech="PLAIN", client_addr="192.0.2.12")
        self.assertEqual(t.reply()["status"], "continue")
        t.send([("op", "cancel"), ("id", rid)])
        r = t.cont(rid, b64("x"))
        self.assertEqual((r["status"], r["code"]), ("fail", "malformed"))
        r = t.call("auth", service="imap", mech="PLAIN", resp="!!", client_addr="192.0.2.12")
        self.assertEqual(r["code"], "malformed")
        r = t.call("auth", service="imap", mech="CRAM-MD5", client_addr="192.0.2.12")
        self.assertEqual(r["code"], "mechanism")
        # A response while the password is being hashed: refused, and the
        # hashing's own answer never comes.
        rid = t.request("auth", service="imap", mech="PLAIN", client_addr="192.0.2.12",
                        resp=b64("\0yes@example.com\0" + PW))
        r = t.cont(rid, b64("x"))
        self.assertEqual((r["status"], r["code"]), ("fail", "malformed"))
        r = t.call("lookup", user="plain@example.com")
        self.assertEqual((r["status"], r["user"]), ("ok", "plain@example.com"))
        t.sock.settimeout(2)
        with self.assertRaises(socket.timeout):
            t.reply()
        t.close()

    def test_lookup_account(self):
        t = AuthSocket(self.inst.auth_socket())
        r = t.call("lookup", user="QUOTA@example.com")
        self.assertEqual(r["status"], "ok", r)
        self.assertEqual(r["user"], "quota@example.com")
        self.assertEqual((r["uid"], r["gid"], r["home"]), ("5000", "5001", "/srv/q"))
        self.assertEqual(r["maildir"], "/srv/q/Maildir")
        self.assertEqual(r["quota_rule"], "*:storage=1G")
        self.assertEqual(r["extra"], ["nice=10"])
        r = t.call("lookup", user="nobody@example.com")
        self.assertEqual((r["status"], r["code"]), ("fail", "nouser"))
        t.close()

    def test_verify_for_forms(self):
        a = connect_as(self.inst.auth_socket(login=True), "ternlogin")
        r = a.call("verify", service="http", user="ssha@example.com", secret=PW,
                   client_addr="192.0.2.13", tls=True)
        self.assertEqual(r["status"], "ok", r)
        self.assertIn("token", r)
        r = a.call("verify", service="http", user="ssha@example.com", secret="no",
                   client_addr="192.0.2.13")
        self.assertEqual((r["status"], r["code"]), ("fail", "credentials"))
        a.close()
        wait_log(self.inst, "passwd-file(ssha@example.com,192.0.2.13): authenticated (service=http")

    def test_allow_nets(self):
        code, text = smtp_plain(self.inst, "nets@example.com", PW)
        self.assertEqual(code, 535, text)
        wait_log(self.inst, "client address not in allow_nets")
        t = AuthSocket(self.inst.auth_socket())
        self.assertEqual(t.plain("nets@example.com", PW, client_addr="192.0.2.77")["status"],
                         "ok")
        t.close()

    def test_changes_apply_at_once(self):
        self.inst.user_add("chg@example.com", "first one")
        self.assertEqual(smtp_plain(self.inst, "chg@example.com", "first one")[0], 235)
        # The success is cached; a new password must still replace it at once.
        self.inst.tern("user", "passwd", "chg@example.com", "--stdin", input="second one\n")
        self.assertEqual(smtp_plain(self.inst, "chg@example.com", "first one")[0], 535)
        self.assertEqual(smtp_plain(self.inst, "chg@example.com", "second one")[0], 235)
        self.inst.tern("user", "del", "chg@example.com")
        self.assertEqual(smtp_plain(self.inst, "chg@example.com", "second one")[0], 535)

    def test_smtpd_reconnects_after_auth_restart(self):
        old = self.inst.pids_of("auth")
        self.assertEqual(len(old), 1)
        os.kill(old[0], signal.SIGKILL)
        wait_until(lambda: self.inst.pids_of("auth") not in ([], old), 30, what="auth restart")
        wait_until(lambda: smtp_plain(self.inst, "plain@example.com", PW)[0] == 235, 30,
                   what="AUTH after auth's restart")


class PamTest(unittest.TestCase):
    """System users (auth_system_users = yes): PAM in auth's root helper."""
    USER = "ternpamtest"

    @classmethod
    def setUpClass(cls):
        try:
            pwd.getpwnam(cls.USER)
        except KeyError:
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                            cls.USER], check=True)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (cls.USER, PW), text=True, check=True)
        cls.inst = Instance(main_cf={"auth_system_users": "yes", "auth_failure_delay": "0"})
        cls.inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        subprocess.run(["userdel", cls.USER], check=False)

    def test_system_user(self):
        self.assertEqual(smtp_plain(self.inst, self.USER, PW)[0], 235)
        self.assertEqual(smtp_plain(self.inst, self.USER, "wrong")[0], 535)
        wait_log(self.inst, "pam(%s,127.0.0.1," % self.USER)
        self.assertEqual(len(failure_lines(self.inst)), 1)
        # root may never log in, whatever its password.
        self.assertEqual(smtp_plain(self.inst, "root", "x")[0], 535)
        # auth runs as mail_owner; only its PAM helper (its child) stays root.
        auth = [(pid, u) for pid, p, u in self.inst.processes() if p == "auth"]
        self.assertEqual([u for _, u in auth], ["tern"])
        helpers = [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
                   if self.ppid(pid) == auth[0][0]]
        self.assertEqual(len(helpers), 1, helpers)
        self.assertEqual(os.stat("/proc/%d" % helpers[0]).st_uid, 0)

    @staticmethod
    def ppid(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                return int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None


if __name__ == "__main__":
    unittest.main()
