"""Helpers for the outbound SMTP tests: a scriptable SMTP server (per
recipient replies, extensions, STARTTLS, AUTH), a DNS server on loopback
(Debian's dnsmasq, with the records a test needs) and a TCP proxy that
counts connections (in front of Postfix's smtp-sink), and an HTTPS server
for MTA-STS policies (PolicyServer)."""
import base64
import http.server
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

from tern_instance import Instance, LoopbackDns, free_port, wait_log, wait_until  # noqa: F401 (wait_log: for the tests)


def free_port_on(addrs):
    """A TCP port free on every address of addrs (127.0.0.x)."""
    for _ in range(50):
        port = free_port()
        ok = True
        for a in addrs:
            try:
                with socket.socket() as s:
                    s.bind((a, port))
            except OSError:
                ok = False
                break
        if ok:
            return port
    raise AssertionError("no common free port")


class Transaction:
    def __init__(self):
        self.mail_from = None
        self.mail_params = ""
        self.rcpts = []          # accepted
        self.rcpt_lines = []     # every RCPT line
        self.data = b""
        self.tls = False
        self.auth = None


class FakeSMTPServer:
    """A small threaded SMTP server for tests.

    replies: {rcpt address: "450 4.2.0 busy"}; others get 250.
    ext: EHLO keywords to announce (e.g. ["PIPELINING", "SIZE 1000"]).
    tls: (certfile, keyfile) to offer STARTTLS.  auth: (user, password)
    to require AUTH PLAIN/LOGIN before MAIL.
    """

    def __init__(self, host="127.0.0.1", port=None, replies=None, ext=None, tls=None,
                 auth=None, greeting="220 fake.test ESMTP", ehlo_ok=True, greeting_delay=0.0):
        self.host = host
        self.port = port or free_port()
        self.replies = replies or {}
        self.ext = ext if ext is not None else ["PIPELINING", "8BITMIME", "DSN"]
        self.tls = tls
        self.auth = auth
        self.greeting = greeting
        self.ehlo_ok = ehlo_ok
        self.greeting_delay = greeting_delay  # seconds before the banner
        self.transactions = []
        self.connections = 0
        self.commands = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, self.port))
        self.sock.listen(50)
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _tls_context(self):
        # One context for the server's life: its ticket keys let clients
        # resume sessions.
        with self.lock:
            if getattr(self, "_ctx", None) is None:
                self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                self._ctx.load_cert_chain(*self.tls)
            return self._ctx

    def stop(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._session, args=(c,), daemon=True).start()

    def _session(self, c):
        try:
            c.settimeout(30)
            self._converse(c)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def _converse(self, c):
        f = c.makefile("rb")
        tls = False
        authed = self.auth is None
        t = None

        def send(line):
            c.sendall(line.encode() + b"\r\n")

        if self.greeting_delay:
            time.sleep(self.greeting_delay)
        send(self.greeting)
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            with self.lock:
                self.commands.append(cmd)
            verb = cmd.split(" ")[0].upper()
            if verb == "EHLO":
                if not self.ehlo_ok:
                    send("502 5.5.1 no EHLO here")
                    continue
                kws = list(self.ext)
                if self.tls and not tls:
                    kws.append("STARTTLS")
                if self.auth:
                    kws.append("AUTH PLAIN LOGIN")
                lines = ["fake.test"] + kws
                for i, l in enumerate(lines):
                    send("250%s%s" % ("-" if i < len(lines) - 1 else " ", l))
            elif verb == "HELO":
                send("250 fake.test")
            elif verb == "STARTTLS" and self.tls:
                send("220 2.0.0 go ahead")
                c = self._tls_context().wrap_socket(c, server_side=True)
                f = c.makefile("rb")
                tls = True
            elif verb == "AUTH":
                parts = cmd.split(" ")
                if parts[1].upper() == "PLAIN":
                    blob = base64.b64decode(parts[2]).split(b"\0")
                    user, pw = blob[1].decode(), blob[2].decode()
                else:
                    send("334 VXNlcm5hbWU6")
                    user = base64.b64decode(f.readline().strip()).decode()
                    send("334 UGFzc3dvcmQ6")
                    pw = base64.b64decode(f.readline().strip()).decode()
                if (user, pw) == self.auth:
                    authed = True
                    self.last_auth = (parts[1].upper(), tls)
                    send("235 2.7.0 Authentication successful")
                else:
                    send("535 5.7.8 Error: authentication failed")
            elif verb == "MAIL":
                if not authed:
                    send("530 5.7.0 Authentication required")
                    continue
                t = Transaction()
                t.tls = tls
                addr = cmd[cmd.index("<") + 1:cmd.index(">")]
                t.mail_from = addr
                t.mail_params = cmd[cmd.index(">") + 1:].strip()
                send("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = cmd[cmd.index("<") + 1:cmd.index(">")]
                if t is None:
                    send("503 5.5.1 need MAIL")
                    continue
                t.rcpt_lines.append(cmd)
                r = self.replies.get(addr, "250 2.1.5 Ok")
                if r.startswith("250"):
                    t.rcpts.append(addr)
                send(r)
            elif verb == "DATA":
                if t is None or not t.rcpts:
                    send("554 5.5.1 Error: no valid recipients")
                    continue
                send("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while True:
                    l = f.readline()
                    if not l or l == b".\r\n":
                        break
                    if l.startswith(b"."):
                        l = l[1:]
                    data += l
                t.data = data
                with self.lock:
                    self.transactions.append(t)
                send("250 2.0.0 Ok: queued as FAKE%d" % len(self.transactions))
                t = None
            elif verb == "BDAT":
                n = int(cmd.split(" ")[1])
                data = f.read(n)
                if t is None or not t.rcpts:
                    send("554 5.5.1 Error: no valid recipients")
                    continue
                t.data += data
                if cmd.upper().endswith("LAST"):
                    with self.lock:
                        self.transactions.append(t)
                    send("250 2.0.0 Ok: queued as FAKE%d" % len(self.transactions))
                    t = None
                else:
                    send("250 2.0.0 chunk ok")
            elif verb == "RSET":
                t = None
                send("250 2.0.0 Ok")
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                return
            else:
                send("502 5.5.2 Error: command not recognized")


def sts_policy(mode, *mx, max_age=86400):
    """An MTA-STS policy text (RFC 8461 section 3.2)."""
    return "version: STSv1\r\nmode: %s\r\n%smax_age: %d\r\n" % (
        mode, "".join("mx: %s\r\n" % m for m in mx), max_age)


class PolicyServer:
    """HTTPS on loopback answering /.well-known/mta-sts.txt per Host:
    policies[host] = (status, content type, body, extra headers).  A POST
    (a TLS-RPT report) is kept in posts as (host, path, content type,
    body bytes) and answered 200."""

    def __init__(self, certfile, keyfile):
        self.policies = {}
        self.requests = []
        self.posts = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                host = (self.headers.get("Host") or "").split(":")[0]
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.posts.append((host, self.path, self.headers.get("Content-Type"), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0]
                outer.requests.append((host, self.path))
                status, ctype, body, extra = outer.policies.get(
                    host, (404, "text/plain", "not here\n", {}))
                if self.path != "/.well-known/mta-sts.txt":
                    status, body = 404, "not here\n"
                raw = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(raw)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.2}, daemon=True)
        self.thread.start()

    def serve(self, domain, text, status=200, ctype="text/plain", extra=None):
        self.policies["mta-sts." + domain] = (status, ctype, text, extra or {})

    def fetches(self, domain):
        return len([r for r in self.requests if r[0] == "mta-sts." + domain])

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Dnsmasq(LoopbackDns):
    """dnsmasq in the foreground on 127.0.0.1:<free port> with only the
    records given (no /etc/hosts, no upstream).  options: extra lines for
    its configuration file (mx-host=, host-record=, cname=, server=)."""

    name = "dnsmasq"

    def __init__(self, lines):
        super().__init__("tern-dns-")
        conf = os.path.join(self.dir, "dnsmasq.conf")
        with open(conf, "w") as f:
            f.write("port=%d\nlisten-address=127.0.0.1\nbind-interfaces\n"
                    "no-resolv\nno-hosts\nno-daemon\nno-poll\nlocal-ttl=60\n"
                    "pid-file=\n" % self.port)
            for l in lines:
                f.write(l + "\n")
        exe = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        user = ["--user=root"] if os.geteuid() == 0 else []
        self.run([exe, "--conf-file=" + conf, "--keep-in-foreground",
                  "--log-facility=" + os.path.join(self.dir, "log")] + user, 10)


class CountingProxy:
    """Forwards TCP connections from (host, port) to target, counting them."""

    def __init__(self, target, host="127.0.0.1"):
        self.target = target
        self.port = free_port()
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, self.port))
        self.sock.listen(50)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                u = socket.create_connection(self.target, timeout=10)
            except OSError:
                c.close()
                continue
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.sock.close()


def make_cert(directory, name, san=None):
    """A self-signed certificate for name: (certfile, keyfile); san: the
    subjectAltName (default DNS:name)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=%s" % name, "-addext", "subjectAltName=" + (san or "DNS:" + name),
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def log_lines(inst, needle):
    return [l for l in inst.log().splitlines() if needle in l]


class PostfixInstance:
    """A private Postfix (Debian's) in a temporary directory: its own
    config_directory, queue_directory and data_directory, smtpd on
    127.0.0.1:<free port>, no chroot, logging to a file.  Mail for domain
    goes into Maildirs under mail/ (virtual delivery as postfix's uid);
    main_cf: extra parameters.  postscreen: the port is postscreen's, in
    front of smtpd (with dnsblog and tlsproxy).  nameserver: an address
    whose port 53 answers DNS; Postfix then runs in a mount namespace of
    its own whose /etc/resolv.conf names only it (glibc's resolver, which
    dnsblog and smtpd use, knows no other port and no other setting)."""

    def __init__(self, domain, main_cf=None, postscreen=False, nameserver=None):
        import pwd
        self.dir = tempfile.mkdtemp(prefix="tern-postfix-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.domain = domain
        pw = pwd.getpwnam("postfix")
        etc = os.path.join(self.dir, "etc")
        os.makedirs(etc)
        mail = os.path.join(self.dir, "mail")
        os.makedirs(mail)
        os.chown(mail, pw.pw_uid, pw.pw_gid)
        os.makedirs(os.path.join(self.dir, "queue"))       # root-owned, as Postfix wants
        data = os.path.join(self.dir, "data")
        os.makedirs(data)
        os.chown(data, pw.pw_uid, pw.pw_gid)
        self.cert, self.key = make_cert(etc, "pf.%s" % domain)
        with open(os.path.join(etc, "vmailbox"), "w") as f:
            f.write("@%s catchall/\n" % domain)
        params = {
            "compatibility_level": "3.6",
            "queue_directory": os.path.join(self.dir, "queue"),
            "data_directory": os.path.join(self.dir, "data"),
            "maillog_file": os.path.join(self.dir, "maillog"),
            "maillog_file_prefixes": self.dir,
            "myhostname": "pf.%s" % domain,
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "", "alias_database": "",
            "virtual_mailbox_domains": domain,
            "virtual_mailbox_base": mail,
            "virtual_mailbox_maps": "texthash:" + os.path.join(etc, "vmailbox"),
            "virtual_uid_maps": "static:%d" % pw.pw_uid,
            "virtual_gid_maps": "static:%d" % pw.pw_gid,
            "smtpd_tls_cert_file": self.cert,
            "smtpd_tls_key_file": self.key,
            "smtpd_tls_security_level": "may",
            "smtpd_tls_loglevel": "1",
            "smtp_tls_loglevel": "1",
            "smtp_dns_support_level": "disabled",
            "shlib_directory": "/usr/lib/postfix",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "meta_directory": "/etc/postfix",
        }
        params.update(main_cf or {})
        with open(os.path.join(etc, "main.cf"), "w") as f:
            for k, v in params.items():
                f.write("%s = %s\n" % (k, v))
        with open("/usr/share/postfix/master.cf.dist") as src, \
                open(os.path.join(etc, "master.cf"), "w") as dst:
            for line in src:
                fields = line.split()
                if line[:1].isalnum() and len(fields) >= 8:
                    if fields[0] == "smtp" and fields[1] == "inet":
                        fields[0] = "127.0.0.1:%d" % self.port
                        if postscreen:
                            fields[6:] = ["1", "postscreen"]
                    fields[4] = "n"      # no chroot: the queue is not set up for it
                    line = " ".join(fields) + "\n"
                dst.write(line)
            if postscreen:
                dst.write("smtpd pass - - n - - smtpd\n"
                          "dnsblog unix - - n - 0 dnsblog\n"
                          "tlsproxy unix - - n - 0 tlsproxy\n")
        self.etc = etc
        self.resolv = None
        if nameserver:
            self.resolv = os.path.join(self.dir, "resolv.conf")
            with open(self.resolv, "w") as f:
                f.write("nameserver %s\noptions attempts:2 timeout:2\n" % nameserver)
        self.started = False

    def postfix(self, *args):
        return subprocess.run(["postfix", "-c", self.etc] + list(args), capture_output=True,
                              text=True, timeout=60)

    def start(self):
        if self.resolv:
            # The namespace lives as long as master and its children.
            r = subprocess.run(
                ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                 'mount --bind "$1" /etc/resolv.conf && exec postfix -c "$2" start',
                 "sh", self.resolv, self.etc],
                capture_output=True, text=True, timeout=60)
        else:
            r = self.postfix("start")
        if r.returncode != 0:
            raise AssertionError("postfix start failed: %s%s" % (r.stdout, r.stderr))
        self.started = True
        wait_until(self._up, 30, what="postfix smtpd on %d" % self.port)

    def _up(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def log(self):
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def messages(self):
        out = []
        d = os.path.join(self.dir, "mail", "catchall", "new")
        if os.path.isdir(d):
            for n in sorted(os.listdir(d)):
                with open(os.path.join(d, n), "rb") as f:
                    out.append(f.read())
        return out

    def cleanup(self):
        if self.started:
            self.postfix("stop")
            self.started = False
        if not os.environ.get("TERN_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


class FakeServerCase(unittest.TestCase):
    """Tests that start fake SMTP servers (server()) and tern instances
    (instance()) of their own: everything is stopped in tearDown, and
    self.tmp (readable by the smtp agent, which reads tables as
    mail_owner) is removed."""

    def setUp(self):
        self.servers = []
        self.insts = []
        self.tmp = tempfile.mkdtemp(prefix="tern-smtp-")
        os.chmod(self.tmp, 0o755)

    def tearDown(self):
        for s in self.servers:
            s.stop()
        for i in self.insts:
            i.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def server(self, **kw):
        s = FakeSMTPServer(**kw)
        self.servers.append(s)
        return s

    def instance(self, main_cf, start=True, **kw):
        """An instance with main_cf (and Instance's keywords), started
        unless start is false (to edit its files first)."""
        i = Instance(main_cf=main_cf, **kw)
        self.insts.append(i)
        if start:
            i.start()
        return i
