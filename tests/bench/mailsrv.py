"""What the IMAP and POP3 phases of make bench share: a tern instance
(imap, pop3) and a private Debian Dovecot 2.3 (imap, pop3) on loopback
serving the very same Maildirs, each server in its own cgroup; the
message maker; a raw line client.

MailPair(...).start() runs "tern init" with IMAP and POP3 listeners,
adds the users (tern's yescrypt hash; its auth cache holds a login for
auth_cache_ttl, raised here to an hour so a run never re-hashes), makes
each user's Maildir (cur, new, tmp, owned by the mailbox owner), writes
a Dovecot configuration whose passdb is static (one password for all, no
hash: neither side pays a hash per login once tern's cache holds it) and
whose mail_location is tern's layout (mail/<domain>/<local part>), then
starts both.  stop() stops both and removes their folders.
"""
import os
import shutil
import socket
import subprocess
import time

WORDS = ("mail server index folder message client header body search fetch "
         "dovecot tern quick brown fox jumps over the lazy dog").split()

DOVECOT_CONF = """
protocols = imap pop3
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{mail}/%d/%n
mail_max_userip_connections = 0
passdb {{
  driver = static
  args = password={pw}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={mail}/%d/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


def make_messages(cur, n, uid, gid, rng, to, sizes=(1, 2, 2, 4, 4, 8, 16, 24), needle=None):
    """n message files in cur/, owned by uid:gid; message n/2 holds needle."""
    now = int(time.time()) - n
    for i in range(n):
        size = rng.choice(sizes) * 1024
        words = []
        total = 0
        while total < size:
            w = rng.choice(WORDS)
            words.append(w)
            total += len(w) + 1
        if needle and i == n // 2:
            words.append(needle)
        text = "\n".join(" ".join(words[k:k + 12]) for k in range(0, len(words), 12))
        hdr = ("From: Sender %d <sender%d@example.org>\nTo: %s\nSubject: message %d about %s\n"
               "Date: Sun, 6 Dec 2026 10:%02d:%02d +0000\nMessage-ID: <%d.bench@example.org>\n"
               % (i % 50, i % 50, to, i, rng.choice(WORDS), (i // 60) % 60, i % 60, i))
        if i % 10 == 0:
            body = ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=BB\n\n"
                    "--BB\nContent-Type: text/plain\n\n%s\n--BB\n"
                    "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64"
                    "\n\nAAECAwQFBgcICQoLDA0ODw==\n--BB--\n" % text)
        else:
            body = "\n" + text + "\n"
        data = (hdr + body).encode()
        flags = "S" if i % 3 == 0 else ""
        name = "%d.M%06dP1.bench,S=%d:2,%s" % (now + i, i, len(data), flags)
        path = os.path.join(cur, name)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (now + i, now + i))
        os.chown(path, uid, gid)


class Client:
    """A raw line client; answers are read as bytes up to the tagged line."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=300)
        self.buf = b""
        self.read_line()

    def read_line(self):
        while b"\r\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _more(self):
        chunk = self.s.recv(1 << 20)
        if not chunk:
            raise EOFError(self.buf[-200:])
        self.buf += chunk

    def until(self, marker, start=0):
        """Reads until marker (bytes) and the end of its line; returns the
        bytes before and the line."""
        while True:
            i = self.buf.find(marker, start)
            if i >= 0:
                j = self.buf.find(b"\r\n", i + len(marker))
                if j >= 0:
                    out, line = self.buf[:i], self.buf[i:j]
                    self.buf = self.buf[j + 2:]
                    return out, line
            start = max(0, len(self.buf) - len(marker) - 2)
            self._more()

    def imap(self, tag, text):
        """Sends a command; the untagged answers as bytes (after OK)."""
        self.s.sendall(b"%s %s\r\n" % (tag, text))
        self.buf = b"\r\n" + self.buf  # the tagged line may come first
        out, line = self.until(b"\r\n%s " % tag)
        line = line[2:]
        if not line.startswith(tag + b" OK"):
            raise RuntimeError("%r: %r" % (text, line[:200]))
        return out

    def pop3(self, cmd, multi=False):
        """Sends a POP3 command; the +OK line, and with multi the lines up
        to the final "." as bytes.  -ERR raises."""
        self.s.sendall(cmd + b"\r\n")
        line = self.read_line()
        if not line.startswith(b"+OK"):
            raise RuntimeError("pop3 %r: %r" % (cmd.split(b" ")[0], line[:200]))
        if not multi:
            return line
        while True:
            if self.buf.startswith(b".\r\n"):
                self.buf = self.buf[3:]
                return b""
            i = self.buf.find(b"\r\n.\r\n")
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + 5:]
                return out
            self._more()

    def wait_closed(self):
        """Reads until the server closes (after QUIT or LOGOUT)."""
        try:
            while self.s.recv(1 << 16):
                pass
        except OSError:
            pass

    def close(self):
        self.s.close()


class MailPair:
    """tern and a private Dovecot over the same Maildirs (see above)."""

    def __init__(self, name, tern_bin, tmp, group_cls, raw, run, free_port, users, pw,
                 main_cf=""):
        self.name, self.tern_bin, self.raw, self.run = name, tern_bin, raw, run
        self.users, self.pw, self.main_cf = users, pw, main_cf
        self.d = os.path.join(tmp, "tern-" + name)
        self.dd = os.path.join(tmp, "dovecot-" + name)
        ports = {k: free_port() for k in ("smtp", "sub", "imap", "pop3", "dimap", "dpop3")}
        self.ports = ports
        self.iport = {"tern": ports["imap"], "dovecot": ports["dimap"]}
        self.pport = {"tern": ports["pop3"], "dovecot": ports["dpop3"]}
        self.groups = {"tern": group_cls(name + "-tern"), "dovecot": group_cls(name + "-dovecot")}
        self.dproc = None
        self.owner = None

    def maildir(self, user):
        local, domain = user.split("@")
        return os.path.join(self.d, "mail", domain, local)

    def prepare(self):
        """tern init, the users and their empty Maildirs; False on failure."""
        p = self.ports
        r = self.run([self.tern_bin, "init", self.d, "--smtp", "127.0.0.1:%d" % p["smtp"],
                      "--submission", "127.0.0.1:%d" % p["sub"], "--imap",
                      "127.0.0.1:%d" % p["imap"], "--pop3", "127.0.0.1:%d" % p["pop3"],
                      "--domain", "bench.test"])
        if r.returncode != 0:
            self.raw("%s FAILED tern init: %s" % (self.name, r.stderr))
            return False
        with open(os.path.join(self.d, "etc", "main.cf"), "a") as f:
            f.write("\n# added by make bench (%s)\nimap_max_user_connections = 0\n"
                    "mailbox_autocreate = no\nauth_cache_ttl = 1h\n%s" % (self.name, self.main_cf))
        for user in self.users:
            r = self.run([self.tern_bin, "-c", self.d, "user", "add", user, "--stdin"],
                         input=self.pw + "\n")
            if r.returncode != 0:
                self.raw("%s FAILED tern user add: %s" % (self.name, r.stderr))
                return False
            md = self.maildir(user)
            st = os.stat(md)
            self.owner = (st.st_uid, st.st_gid)
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub), exist_ok=True)
                os.chown(os.path.join(md, sub), st.st_uid, st.st_gid)
        return True

    def start(self, wait_until, port_open):
        """Starts both servers; False on failure."""
        os.makedirs(os.path.join(self.dd, "state"))
        os.chmod(self.dd, 0o755)
        conf = os.path.join(self.dd, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(DOVECOT_CONF.format(d=self.dd, mail=os.path.join(self.d, "mail"), pw=self.pw,
                                        uid=self.owner[0], gid=self.owner[1],
                                        imap=self.ports["dimap"], pop3=self.ports["dpop3"]))
        r = self.run([self.tern_bin, "-c", self.d, "start"],
                     preexec_fn=self.groups["tern"].preexec)
        if r.returncode != 0 or not wait_until(lambda: port_open(self.ports["imap"]), 20):
            self.raw("%s FAILED tern start: %s%s" % (self.name, r.stdout, r.stderr))
            return False
        self.dproc = subprocess.Popen(["dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL,
                                      preexec_fn=self.groups["dovecot"].preexec)
        if not wait_until(lambda: port_open(self.ports["dimap"]), 20):
            self.raw("%s FAILED dovecot start" % self.name)
            return False
        return wait_until(lambda: port_open(self.ports["pop3"]) and
                          port_open(self.ports["dpop3"]), 20)

    def stop(self):
        self.run([self.tern_bin, "-c", self.d, "stop"], timeout=60)
        if self.dproc:
            self.dproc.terminate()
            try:
                self.dproc.wait(30)
            except subprocess.TimeoutExpired:
                self.dproc.kill()
        for g in self.groups.values():
            g.kill_rest()
        shutil.rmtree(self.d, ignore_errors=True)
        shutil.rmtree(self.dd, ignore_errors=True)
