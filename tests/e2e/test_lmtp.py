"""The lmtp transport (RFC 2033) of the smtp agent: Postfix's next hops
lmtp:unix:/path, lmtp:inet:host[:port] (lmtp_tcp_port by default) and
lmtp:[host]:port, LHLO with lmtp_lhlo_name, and one reply per recipient
after the content.  Against Dovecot's LMTP server delivering into
Maildirs (bytes compared, a recipient over quota bounced while the others
of the same message are delivered), and against a scripted server for
every per-recipient outcome (sent, deferred, bounced after DATA, refused
at RCPT)."""
import base64
import email
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from tern_instance import Instance, free_port, stop_process, wait_until

SENDER = "sender@example.com"
VMAIL = 65534  # nobody: Dovecot's mail user in these tests


class DovecotLmtp:
    """Dovecot's LMTP server on a unix socket and a loopback port,
    delivering to MAIL/<domain>/<user>/ Maildirs; users listed in a
    passwd-file with an optional quota; tls: (certfile, keyfile) turns on
    STARTTLS."""

    def __init__(self, users, quota=None, tls=None):
        self.dir = tempfile.mkdtemp(prefix="tern-lmtp-dovecot-")
        os.chmod(self.dir, 0o755)
        self.mail = os.path.join(self.dir, "mail")
        os.mkdir(self.mail)
        os.chmod(self.mail, 0o777)
        self.socket = os.path.join(self.dir, "lmtp")
        self.port = free_port()
        quota = quota or {}
        with open(os.path.join(self.dir, "users"), "w") as f:
            for u in users:
                local, domain = u.split("@")
                extra = "userdb_quota_rule=*:storage=%s" % quota[u] if u in quota else ""
                f.write("%s::%d:%d::%s/%s/%s::%s\n" % (u, VMAIL, VMAIL, self.mail, domain,
                                                      local, extra))
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("""
protocols = lmtp
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
{ssl}
mail_location = maildir:~/
mail_plugins = quota
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
plugin {{
  quota = maildir:User quota
}}
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {d}/users
}}
service lmtp {{
  unix_listener {sock} {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
""".format(d=self.dir, sock=self.socket, port=self.port,
           ssl="ssl = yes\nssl_cert = <%s\nssl_key = <%s" % tls if tls else "ssl = no"))
        os.makedirs(os.path.join(self.dir, "state"))
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: (os.path.exists(self.socket) and Instance._port_open(self.port))
                   or self.proc.poll() is not None, 20, what="dovecot lmtp")
        if self.proc.poll() is not None:
            raise AssertionError("dovecot did not start:\n" + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log")) as f:
                return f.read()
        except OSError:
            return ""

    def messages(self, addr):
        local, domain = addr.split("@")
        new = os.path.join(self.mail, domain, local, "new")
        out = []
        if os.path.isdir(new):
            for n in sorted(os.listdir(new)):
                with open(os.path.join(new, n), "rb") as f:
                    out.append(f.read())
        return out

    def stop(self):
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class ScriptedLmtp(threading.Thread):
    """An LMTP server on a unix socket that answers each recipient by its
    local part: rcptfail is refused at RCPT, later gets 451 and never 550
    after DATA, anything else 250.  Records the LHLO argument.  With
    tls=(certfile, keyfile) it offers STARTTLS; with auth=(user, password)
    it offers AUTH PLAIN LOGIN, refuses MAIL before a successful AUTH and
    records each AUTH as (mechanism, user, password, under TLS)."""

    def __init__(self, path, tls=None, auth=None):
        super().__init__(daemon=True)
        self.path = path
        self.lhlo = []
        self.auths = []
        self.tls = tls
        self.auth = auth
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.listen(5)
        self.sock.settimeout(0.5)
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        f = conn.makefile("rb")
        conn.settimeout(30)

        def say(line):
            conn.sendall(line.encode() + b"\r\n")
        tls_on = False
        authed = self.auth is None
        try:
            say("220 scripted LMTP")
            rcpts = []
            while True:
                line = f.readline()
                if not line:
                    return
                cmd = line.decode().strip()
                verb = cmd.split(" ")[0].upper()
                if verb == "LHLO":
                    self.lhlo.append(cmd[5:])
                    say("250-scripted")
                    if self.tls and not tls_on:
                        say("250-STARTTLS")
                    if self.auth:
                        say("250-AUTH PLAIN LOGIN")
                    say("250 ENHANCEDSTATUSCODES")
                elif verb == "STARTTLS" and self.tls and not tls_on:
                    say("220 2.0.0 go ahead")
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ctx.load_cert_chain(*self.tls)
                    conn = ctx.wrap_socket(conn, server_side=True)
                    f = conn.makefile("rb")
                    tls_on = True
                elif verb == "AUTH" and self.auth:
                    words = cmd.split(" ")
                    if words[1].upper() == "PLAIN":
                        _, user, pw = base64.b64decode(words[2]).decode().split("\0")
                    else:
                        say("334 VXNlcm5hbWU6")
                        user = base64.b64decode(f.readline().strip()).decode()
                        say("334 UGFzc3dvcmQ6")
                        pw = base64.b64decode(f.readline().strip()).decode()
                    self.auths.append((words[1].upper(), user, pw, tls_on))
                    if (user, pw) == self.auth:
                        authed = True
                        say("235 2.7.0 Authentication successful")
                    else:
                        say("535 5.7.8 Authentication credentials invalid")
                elif verb == "MAIL" and not authed:
                    say("530 5.7.0 Authentication required")
                elif verb == "MAIL":
                    rcpts = []
                    say("250 2.1.0 ok")
                elif verb == "RCPT":
                    addr = cmd[cmd.index("<") + 1:cmd.index(">")]
                    if addr.startswith("rcptfail@"):
                        say("550 5.1.1 <%s> no such user" % addr)
                    else:
                        rcpts.append(addr)
                        say("250 2.1.5 ok")
                elif verb == "DATA":
                    say("354 go ahead")
                    while f.readline() not in (b".\r\n", b""):
                        pass
                    if any(a.startswith("slow@") for a in rcpts):
                        time.sleep(5)  # past lmtp_data_done_timeout
                    for a in rcpts:
                        if a.startswith("later@"):
                            say("451 4.2.0 <%s> try later" % a)
                        elif a.startswith("never@"):
                            say("550 5.2.1 <%s> mailbox disabled" % a)
                        else:
                            say("250 2.0.0 <%s> saved" % a)
                elif verb == "RSET":
                    rcpts = []
                    say("250 2.0.0 ok")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("500 5.5.2 what")
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopping = True
        self.sock.close()


def lmtp_instance(main_cf):
    """A started instance with Postfix's lmtp master.cf line, SENDER's
    mailbox, quick retries and main_cf's settings."""
    inst = Instance(mailboxes=[SENDER], main_cf=dict({
        "queue_run_delay": "1s",
        "minimal_backoff_time": "1s",
        "maximal_backoff_time": "2s",
    }, **main_cf))
    with open(inst.master_cf_path, "a") as f:
        f.write("lmtp      unix  -       -       n       -       -       lmtp\n")
    inst.start()
    return inst


def status_line(inst, rcpt, status, timeout=20):
    """The first log line of rcpt with status= status (waits for it)."""
    def find():
        for line in inst.log().splitlines():
            if "to=<%s>" % rcpt in line and "status=%s" % status in line:
                return line
        return None
    return wait_until(find, timeout, what="%s %s in the log" % (rcpt, status))


def send(port, rcpts, subject, body="line one\n.dot line\nlast line\n"):
    msg = "From: %s\nTo: you\nSubject: %s\n\n%s" % (SENDER, subject, body)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.sendmail(SENDER, rcpts, msg.replace("\n", "\r\n").encode())


class LmtpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("Dovecot's LMTP delivery as another user needs root")
        cls.dovecot = DovecotLmtp(["a@lmtp.test", "b@lmtp.test", "full@lmtp.test",
                                   "c@inet.test", "d@port.test"],
                                  quota={"full@lmtp.test": "1"})
        cls.tmp = tempfile.mkdtemp(prefix="tern-lmtp-")
        os.chmod(cls.tmp, 0o755)
        cls.scripted_path = os.path.join(cls.tmp, "scripted")
        cls.scripted = ScriptedLmtp(cls.scripted_path)
        cls.scripted.start()
        table = os.path.join(cls.tmp, "transport")
        with open(table, "w") as f:
            f.write("lmtp.test lmtp:unix:%s\n" % cls.dovecot.socket)
            f.write("inet.test lmtp:inet:127.0.0.1\n")
            f.write("port.test lmtp:[127.0.0.1]:%d\n" % cls.dovecot.port)
            f.write("scripted.test lmtp:unix:%s\n" % cls.scripted_path)
        cls.inst = lmtp_instance({
            "transport_maps": "texthash:" + table,
            "lmtp_tcp_port": str(cls.dovecot.port),
            "lmtp_lhlo_name": "lhlo.example",
            "lmtp_data_done_timeout": "2s",
        })

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.scripted.stop()
        cls.dovecot.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def log_for(self, rcpt, status, timeout=20):
        return status_line(self.inst, rcpt, status, timeout)

    def test_dovecot_unix_socket_delivers_the_bytes(self):
        body = "line one\n.dot line\nFrom here\n" + "x" * 3000 + "\nlast line\n"
        send(self.inst.smtp_port, ["a@lmtp.test", "b@lmtp.test"], "to dovecot", body)
        for rcpt in ("a@lmtp.test", "b@lmtp.test"):
            wait_until(lambda: self.dovecot.messages(rcpt), 20, what="delivery to " + rcpt)
            (raw,) = self.dovecot.messages(rcpt)
            head, _, got_body = raw.partition(b"\n\n")
            self.assertEqual(got_body.decode(), body)
            msg = email.message_from_bytes(raw)
            self.assertEqual(msg["Subject"], "to dovecot")
            self.assertEqual(msg["Return-Path"], "<%s>" % SENDER)
            self.assertIn("by ", msg["Received"])
            line = self.log_for(rcpt, "sent")
            self.assertIn("relay=%s[%s]" % (self.inst.main_cf_value("myhostname"),
                                            self.dovecot.socket), line)
            self.assertRegex(line, r"status=sent \(250 2\.0\.0 <%s> .*Saved" % rcpt)
            # Under the service's name, as Postfix's lmtp(8) logs.
            self.assertIn(" tern/lmtp[", line)

    def test_inet_with_default_port_and_bracketed_host(self):
        send(self.inst.smtp_port, ["c@inet.test"], "inet default port")
        send(self.inst.smtp_port, ["d@port.test"], "bracketed")
        wait_until(lambda: self.dovecot.messages("c@inet.test"), 20, what="c@inet.test")
        wait_until(lambda: self.dovecot.messages("d@port.test"), 20, what="d@port.test")
        self.assertIn("relay=127.0.0.1[127.0.0.1]:%d" % self.dovecot.port,
                      self.log_for("c@inet.test", "sent"))
        self.assertIn(b"Subject: bracketed", self.dovecot.messages("d@port.test")[0])

    def test_over_quota_recipient_bounces_alone(self):
        send(self.inst.smtp_port, ["full@lmtp.test", "b@lmtp.test"], "quota " + "q" * 10,
             body="y" * 5000 + "\n")
        line = self.log_for("full@lmtp.test", "bounced")
        self.assertIn("dsn=5.2.2", line)
        # Dovecot offers CHUNKING, so the content went as BDAT.
        self.assertRegex(line, r"552 5\.2\.2 <full@lmtp\.test> Quota exceeded .*"
                               r"\(in reply to end of (DATA|BDAT) command\)")
        wait_until(lambda: any(b"quota qqq" in m for m in self.dovecot.messages("b@lmtp.test")),
                   20, what="b@ delivered")
        self.assertEqual(self.dovecot.messages("full@lmtp.test"), [])
        wait_until(lambda: self.inst.messages(SENDER), 20, what="the bounce")
        report = b"".join(self.inst.messages(SENDER))
        self.assertIn(b"Final-Recipient: rfc822; full@lmtp.test", report)
        self.assertNotIn(b"Final-Recipient: rfc822; b@lmtp.test", report)

    def test_scripted_per_recipient_replies(self):
        send(self.inst.smtp_port, ["ok@scripted.test", "later@scripted.test",
                                   "never@scripted.test", "rcptfail@scripted.test",
                                   "ok2@scripted.test"], "scripted")
        self.assertIn("(250 2.0.0 <ok@scripted.test> saved)", self.log_for("ok@scripted.test",
                                                                           "sent"))
        self.log_for("ok2@scripted.test", "sent")
        line = self.log_for("later@scripted.test", "deferred")
        self.assertIn("dsn=4.2.0", line)
        self.assertIn("451 4.2.0 <later@scripted.test> try later (in reply to end of DATA "
                      "command)", line)
        line = self.log_for("never@scripted.test", "bounced")
        self.assertIn("dsn=5.2.1", line)
        self.assertIn("(in reply to end of DATA command)", line)
        line = self.log_for("rcptfail@scripted.test", "bounced")
        self.assertIn("(in reply to RCPT TO command)", line)
        self.assertIn("lhlo.example", self.scripted.lhlo)
        self.assertEqual(set(self.scripted.lhlo), {"lhlo.example"})

    def test_lmtp_timeouts_are_their_own(self):
        """lmtp_data_done_timeout (2s here), not smtp_data_done_timeout
        (600s), bounds the wait for the replies after the dot."""
        send(self.inst.smtp_port, ["slow@scripted.test"], "slow")
        line = self.log_for("slow@scripted.test", "deferred", timeout=30)
        self.assertRegex(line, r"relay=[^,]+, .*status=deferred \(.*(timed out|timeout)", line)


class LmtpSuccessNoticeTest(unittest.TestCase):
    """NOTIFY=SUCCESS through an LMTP server without DSN: as Postfix's
    lmtp(8), the notice says "Action: relayed" unless lmtp_assume_final
    (here set for one master.cf service with -o) makes it final delivery,
    "Action: delivered" (RFC 3464 2.3.3).  That service also logs as
    Debian's master.cf has Postfix's relay service log, with
    -o syslog_name=.../$service_name."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tern-lmtp-dsn-")
        os.chmod(self.tmp, 0o755)
        path = os.path.join(self.tmp, "scripted")
        self.scripted = ScriptedLmtp(path)
        self.scripted.start()
        table = os.path.join(self.tmp, "transport")
        with open(table, "w") as f:
            f.write("relay.test lmtp:unix:%s\n" % path)
            f.write("final.test lmtpfinal:unix:%s\n" % path)
        self.inst = Instance(mailboxes=[SENDER], main_cf={"transport_maps": "texthash:" + table})
        with open(self.inst.master_cf_path, "a") as f:
            f.write("lmtp      unix  -       -       n       -       -       lmtp\n")
            f.write("lmtpfinal unix  -       -       n       -       -       lmtp\n"
                    "  -o lmtp_assume_final=yes -o syslog_name=tern/$service_name\n")
        self.inst.start()

    def tearDown(self):
        self.inst.cleanup()
        self.scripted.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def action_for(self, rcpt):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.sendmail(SENDER, [rcpt], b"Subject: notify\r\n\r\nhello\r\n",
                       rcpt_options=["NOTIFY=SUCCESS"])
        self.sent = status_line(self.inst, rcpt, "sent")

        def notice():
            for m in self.inst.messages(SENDER):
                text = m.decode("utf-8", "replace").replace("\r\n", "\n")
                if "Final-Recipient: rfc822; %s\n" % rcpt in text:
                    return text
            return None
        text = wait_until(notice, 30, what="the success notice for " + rcpt)
        return text.split("Final-Recipient: rfc822; %s\n" % rcpt)[1].split("\n")[0]

    def test_relayed_by_default_delivered_when_final(self):
        self.assertEqual(self.action_for("a@relay.test"), "Action: relayed")
        self.assertIn(" tern/lmtp[", self.sent)
        self.assertEqual(self.action_for("b@final.test"), "Action: delivered")
        # Postfix's master.cf idiom: the service name in the syslog name.
        self.assertIn(" tern/lmtpfinal/lmtp[", self.sent)


if __name__ == "__main__":
    unittest.main()
