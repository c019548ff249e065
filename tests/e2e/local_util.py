"""Helpers for the local delivery tests: throw-away system users, a tern
instance that delivers "localhost" to them, mbox and Maildir readers
(bsd-mailx, Dovecot) and small waits on the log."""
import grp
import mailbox
import os
import pwd
import random
import re
import shutil
import smtplib
import string
import subprocess
import tempfile
import time

from tern_instance import Instance, free_port, stop_process, wait_until

# A duration in a delivery log line (delay=, each of delays=a/b/c/d).
SECONDS = r"\d+(?:\.\d+)?"


def need_root(testcase):
    if os.geteuid() != 0:
        raise testcase.skipTest("needs root (system users)")


class Users:
    """System users with throw-away names "tt<random>", removed with
    userdel -r at the end."""

    def __init__(self):
        self.names = []

    def add(self, shell="/bin/sh"):
        name = "tt" + "".join(random.choice(string.ascii_lowercase) for _ in range(6))
        subprocess.run(["useradd", "-m", "-s", shell, name], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.names.append(name)
        return name

    def remove_all(self):
        for n in self.names:
            subprocess.run(["userdel", "-r", n], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.names = []


def home(user):
    return pwd.getpwnam(user).pw_dir


def uid(user):
    return pwd.getpwnam(user).pw_uid


class LocalInstance(Instance):
    """An instance whose "localhost" is a mydestination domain (tern init
    makes it virtual; main.cf is overridden), with its own mail spool
    directory (root:mail 2775, as Debian's /var/mail) and alias file."""

    def __init__(self, extra=None, spool=None):
        self._tmp = tempfile.mkdtemp(prefix="tern-local-")
        os.chmod(self._tmp, 0o755)
        self.spool = spool or os.path.join(self._tmp, "spool")
        os.makedirs(self.spool, exist_ok=True)
        os.chown(self.spool, 0, grp.getgrnam("mail").gr_gid)
        os.chmod(self.spool, 0o2775)
        self.aliases = os.path.join(self._tmp, "aliases")
        with open(self.aliases, "w") as f:
            f.write("# test aliases\n")
        cf = {
            "mydestination": "localhost",
            "virtual_mailbox_domains": "example.com",
            "alias_maps": "texthash:" + self.aliases,
            "alias_database": "texthash:" + self.aliases,
            "mail_spool_directory": self.spool,
            "recipient_delimiter": "+",
        }
        cf.update(extra or {})
        super().__init__(domains=("example.com",), main_cf=cf, name="tern-local")

    def cleanup(self):
        super().cleanup()
        if not os.environ.get("TERN_KEEP"):
            shutil.rmtree(self._tmp, ignore_errors=True)

    def send(self, rcpts, subject="test", body="hello\n", sender="sender@example.org",
             extra_headers=""):
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\n%s\r\n%s" %
               (sender, ", ".join(rcpts), subject, extra_headers,
                body.replace("\n", "\r\n")))
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            refused = c.sendmail(sender, rcpts, msg.encode())
        return refused

    def log_statuses(self, rcpt, since=0):
        """[(status, text)] of local's log lines for rcpt: its own, or those
        of the addresses it was expanded to (orig_to=<rcpt>); only in the
        log after offset since (a test's own deliveries)."""
        r = re.escape(rcpt)
        pat = re.compile(r"to=<(?:%s>, (?:orig_to=<[^>]*>, )?|[^>]*>, orig_to=<%s>, )"
                         r"relay=local, delay=%s, "
                         r"delays=%s/%s/%s/%s, dsn=[245]\.\d{1,3}\.\d{1,3}, "
                         r"status=(\w+) \((.*)\)$" % ((r, r) + (SECONDS,) * 5))
        out = []
        for line in self.log()[since:].splitlines():
            m = pat.search(line)
            if m:
                out.append((m.group(1), m.group(2)))
        return out

    def wait_status(self, rcpt, n=1, timeout=30, since=0):
        return wait_until(lambda: len(self.log_statuses(rcpt, since)) >= n
                          and self.log_statuses(rcpt, since),
                          timeout, what="%d log lines for %s\n%s" % (n, rcpt, self.log()[-3000:]))

    def spool_mbox(self, user):
        return os.path.join(self.spool, user)


def mbox_messages(path):
    """The messages of an mbox file, as Python's mailbox module splits them."""
    if not os.path.exists(path):
        return []
    box = mailbox.mbox(path, create=False)
    try:
        return [m for m in box]
    finally:
        box.close()


def wait_mbox(path, n, timeout=30):
    return wait_until(lambda: len(mbox_messages(path)) >= n and mbox_messages(path),
                      timeout, what="%d messages in %s" % (n, path))


def mailx_headers(path):
    """bsd-mailx's header summary of an mbox file: one line per message
    ("status number sender date lines/bytes subject"); "x" leaves the file
    untouched."""
    r = subprocess.run(["bsd-mailx", "-n", "-f", path], input="x\n", capture_output=True,
                       text=True, timeout=30, env={"HOME": "/nonexistent",
                                                   "PATH": os.environ["PATH"]})
    return [l for l in r.stdout.splitlines() if re.match(r"^.[A-Z ]\s+\d+ ", l)]


class Dovecot:
    """A Dovecot IMAP server on a loopback port, serving one user's
    ~/Maildir (or the Maildir at maildir) with a static password; run in
    the foreground, stopped by pid."""

    def __init__(self, user, home=None, maildir=None):
        """home: serve HOME/Maildir instead of the user's own home;
        maildir: serve that Maildir."""
        self.user = user
        self.dir = tempfile.mkdtemp(prefix="tern-dovecot-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.password = "pw" + "".join(random.choice(string.ascii_letters) for _ in range(12))
        pw = pwd.getpwnam(user)
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("""
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{maildir}
passdb {{
  driver = static
  args = password={pw}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={home}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""".format(d=self.dir, pw=self.password, uid=pw.pw_uid, gid=pw.pw_gid, home=home or pw.pw_dir,
           port=self.port, maildir=maildir or "~/Maildir"))
        os.makedirs(os.path.join(self.dir, "state"))
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: Instance._port_open(self.port) or self.proc.poll() is not None, 20,
                   what="dovecot port")
        if self.proc.poll() is not None:
            raise AssertionError("dovecot did not start:\n" + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log")) as f:
                return f.read()
        except OSError:
            return ""

    def connect(self):
        """A logged-in imaplib client."""
        import imaplib
        c = imaplib.IMAP4("127.0.0.1", self.port)
        c.login(self.user, self.password)
        return c

    def subjects(self):
        import imaplib
        c = imaplib.IMAP4("127.0.0.1", self.port)
        try:
            c.login(self.user, self.password)
            typ, data = c.select("INBOX", readonly=True)
            assert typ == "OK", data
            typ, data = c.search(None, "ALL")
            out = []
            for num in data[0].split():
                typ, d = c.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                out.append(d[0][1].decode().strip().replace("Subject: ", ""))
            return out
        finally:
            c.logout()

    def stop(self):
        stop_process(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
