"""http(8) end to end: the webmail's static files (gzip, caching, path
traversal), security headers, cookie sessions with CSRF, Basic auth,
HTTPS, autoconfig, autodiscover, metrics, and robustness (oversized
headers and bodies, malformed requests, slow clients); after all of it
the same http process still answers."""
import gzip
import json
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from http_util import Web, raw
from login_util import tls_context
from tern_instance import Instance, wait_until
import imaplib

USER = "alice@example.com"
PASS = "web-secret-1"
INDEX = b"<!doctype html><title>tern</title>" + b"<p>webmail</p>\n" * 200
APP_JS = b"console.log('tern');\n" * 300


# ---- a strict reader of Prometheus' text format (version 0.0.4)
PROM_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
PROM_LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
PROM_VALUE = (r"[+-]?(?:Inf|NaN|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
PROM_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_prometheus(text):
    """{family: {"type", "help", "samples": {(name, ((label, value), ...)): float}}}.
    Raises ValueError on anything the format does not allow: a line that is
    not a comment or a sample, a sample without a TYPE before it, a family
    split in two, a TYPE or HELP given twice or after samples, a sample
    given twice, and histograms whose buckets are not cumulative, not in
    ascending le order ending in +Inf equal to _count, or lack _sum."""
    if not text.endswith("\n"):
        raise ValueError("no final newline")
    fams, cur, done = {}, None, set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d: %r" % (n, line)
        m = re.fullmatch(r"# (HELP|TYPE) (%s) (.*)" % PROM_NAME, line)
        if m:
            kind, name, rest = m.groups()
            if name in done:
                raise ValueError("family given twice, " + where)
            f = fams.setdefault(name, {"type": None, "help": None, "samples": {}})
            if cur is not None and cur != name:
                done.add(cur)
            cur = name
            if f["samples"] or f[kind.lower()] is not None:
                raise ValueError("%s repeated or after samples, %s" % (kind, where))
            if kind == "TYPE" and rest not in PROM_TYPES:
                raise ValueError("unknown type, " + where)
            f[kind.lower()] = rest
            continue
        if line.startswith("#") or not line:
            raise ValueError("not a sample, " + where)
        m = re.fullmatch(r"(%s)(?:\{(.*)\})? (%s)(?: -?[0-9]+)?" % (PROM_NAME, PROM_VALUE), line)
        if not m:
            raise ValueError("not a sample, " + where)
        name, inside, value = m.groups()
        labels, pos = [], 0
        while inside and pos < len(inside):
            lm = re.compile(PROM_LABEL).match(inside, pos)
            if not lm:
                raise ValueError("bad labels, " + where)
            labels.append(lm.groups())
            pos = lm.end()
            if pos < len(inside):
                if inside[pos] != ",":
                    raise ValueError("bad labels, " + where)
                pos += 1
        if len({k for k, v in labels}) != len(labels):
            raise ValueError("label given twice, " + where)
        fam = name
        for suffix in ("_bucket", "_sum", "_count"):
            base = name[:-len(suffix)]
            if name.endswith(suffix) and fams.get(base, {}).get("type") == "histogram":
                fam = base
        if fam != cur or fams[fam]["type"] is None:
            raise ValueError("sample outside its family's block, " + where)
        key = (name, tuple(sorted(labels)))
        if key in fams[fam]["samples"]:
            raise ValueError("sample given twice, " + where)
        fams[fam]["samples"][key] = float(value.replace("Inf", "inf"))
    for fam, f in fams.items():
        if f["type"] != "histogram":
            continue
        series = {}
        for (name, labels), v in f["samples"].items():
            rest = tuple(l for l in labels if l[0] != "le")
            series.setdefault(rest, {"buckets": [], "sum": None, "count": None})
            if name == fam + "_bucket":
                le = [l[1] for l in labels if l[0] == "le"]
                if len(le) != 1:
                    raise ValueError("%s bucket without le" % fam)
                series[rest]["buckets"].append((float(le[0].replace("Inf", "inf")), v))
            else:
                series[rest][name[len(fam) + 1:]] = v
        for rest, s in series.items():
            les = [le for le, v in s["buckets"]]
            counts = [v for le, v in s["buckets"]]
            if (not les or les != sorted(les) or les[-1] != float("inf") or
                    counts != sorted(counts) or s["sum"] is None or counts[-1] != s["count"]):
                raise ValueError("%s%s is not a histogram: %s" % (fam, rest, s))
    return fams


def sample(fams, fam, name=None, **labels):
    return fams[fam]["samples"].get(((name or fam), tuple(sorted(labels.items()))))


class HttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.static = tempfile.mkdtemp(prefix="tern-web-static-")
        os.chmod(cls.static, 0o755)
        os.mkdir(os.path.join(cls.static, "assets"))
        with open(os.path.join(cls.static, "index.html"), "wb") as f:
            f.write(INDEX)
        with open(os.path.join(cls.static, "assets", "app-1234.js"), "wb") as f:
            f.write(APP_JS)
        cls.secret = os.path.join(os.path.dirname(cls.static), "tern-web-secret-%d" % os.getpid())
        with open(cls.secret, "w") as f:
            f.write("TOPSECRET\n")
        os.symlink(cls.secret, os.path.join(cls.static, "link.txt"))
        for p in (cls.static, os.path.join(cls.static, "assets")):
            for n in os.listdir(p):
                if not os.path.islink(os.path.join(p, n)):
                    os.chmod(os.path.join(p, n), 0o755 if os.path.isdir(os.path.join(p, n)) else 0o644)
        cls.inst = Instance(http=True, imap=True, main_cf={
            "auth_failure_exceptions": "127.0.0.0/8",
            "http_static_directory": cls.static,
            "http_max_request_size": "1048576",
            "http_max_header_size": "16384",
            "http_idle_timeout": "3",
            "http_autoconfig_imap": "mail.example.com:993",
            "http_autoconfig_submission": "mail.example.com:587",
        })
        cls.inst.user_add(USER, PASS)
        cls.inst.start()
        wait_until(lambda: cls.inst._port_open(cls.inst.http_plain_port), 30, what="http port")
        wait_until(lambda: cls.inst._port_open(cls.inst.http_port), 30, what="https port")
        cls.base = "http://127.0.0.1:%d" % cls.inst.http_plain_port
        wait_until(lambda: len(cls.inst.pids_of("http")) == 2, 10, what="two http processes")
        cls.http_pids = sorted(cls.inst.pids_of("http"))

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("TERN_KEEP"):
            print(cls.inst.log())
        cls.inst.cleanup()
        os.unlink(cls.secret)
        shutil.rmtree(cls.static)

    def web(self):
        return Web(self.base)

    def assertSecurityHeaders(self, h, tls=False):
        csp = h["Content-Security-Policy"]
        self.assertIn("default-src 'self'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertEqual(h["X-Content-Type-Options"], "nosniff")
        self.assertEqual(h["Referrer-Policy"], "no-referrer")
        self.assertEqual(h.get("Strict-Transport-Security") is not None, tls)

    # ---- static files

    def test_index_and_assets(self):
        w = self.web()
        st, h, b = w.request("GET", "/")
        self.assertEqual((st, b), (200, INDEX))
        self.assertTrue(h["Content-Type"].startswith("text/html"))
        self.assertEqual(h["Cache-Control"], "no-cache")
        self.assertSecurityHeaders(h)
        st, h, b = w.request("GET", "/assets/app-1234.js")
        self.assertEqual((st, b), (200, APP_JS))
        self.assertIn("immutable", h["Cache-Control"])
        st, h2, b = w.request("GET", "/assets/app-1234.js", headers={"If-None-Match": h["ETag"]})
        self.assertEqual((st, b), (304, b""))

    def test_gzip(self):
        st, h, b = self.web().request("GET", "/index.html", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(st, 200)
        self.assertEqual(h["Content-Encoding"], "gzip")
        self.assertLess(len(b), len(INDEX) // 4)
        self.assertEqual(gzip.decompress(b), INDEX)

    def test_not_found_and_method(self):
        w = self.web()
        self.assertEqual(w.request("GET", "/nothing-here")[0], 404)
        self.assertEqual(w.request("GET", "/assets")[0], 404)   # a folder
        self.assertEqual(w.request("POST", "/index.html", b"x")[0], 405)

    def test_path_traversal(self):
        name = os.path.basename(self.secret)
        for path in ("/../" + name, "/%2e%2e/" + name, "/assets/../../" + name,
                     "/assets/%2e%2e/%2e%2e/" + name, "/..%2f" + name, "/link.txt",
                     "/%2fetc%2fpasswd", "//etc/passwd", "/assets/..\\..\\" + name,
                     "/index.html%00.js"):
            ans = raw(self.inst.http_plain_port, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                            % path).encode())
            self.assertNotIn(b"TOPSECRET", ans, path)
            self.assertNotIn(b"root:", ans, path)
            self.assertRegex(ans, rb"^HTTP/1\.1 (400|404) ", path)

    def test_keep_alive(self):
        with socket.create_connection(("127.0.0.1", self.inst.http_plain_port), timeout=10) as s:
            req = b"GET /assets/app-1234.js HTTP/1.1\r\nHost: x\r\n\r\n"
            s.sendall(req + req)
            data = b""
            while data.count(b"console.log") < 600:
                chunk = s.recv(65536)
                self.assertTrue(chunk, "the connection closed between requests")
                data += chunk
            self.assertEqual(data.count(b"HTTP/1.1 200 OK"), 2)

    # ---- sessions

    def test_login_session_csrf_logout(self):
        w = self.web()
        st, h, b = w.login(USER, "wrong")
        self.assertEqual(st, 401)
        self.assertIn("error", json.loads(b))
        st, h, b = w.login(USER, PASS)
        self.assertEqual(st, 200)
        body = json.loads(b)
        self.assertEqual(body["username"], USER)
        self.assertRegex(body["csrf"], r"^[0-9a-f]{64}$")
        cookie = h["Set-Cookie"]
        self.assertRegex(cookie, r"^tern_session=[0-9a-f]{64};")
        for flag in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(flag, cookie)
        self.assertNotIn("Secure", cookie)          # plain HTTP on loopback
        st, h, b = w.request("GET", "/api/session")
        self.assertEqual((st, json.loads(b)), (200, body))
        # cookie-authenticated changes need the token
        st, h, b = w.request("POST", "/jmap/api", {"using": [], "methodCalls": []}, csrf=False)
        self.assertEqual(st, 403)
        st, h, b = w.request("POST", "/jmap/api", {"using": [], "methodCalls": []},
                             headers={"X-CSRF-Token": "0" * 64})
        self.assertEqual(st, 403)
        st, h, b = w.request("POST", "/jmap/api", {"using": [], "methodCalls": []})
        self.assertEqual((st, json.loads(b)["methodResponses"]), (200, []))
        self.assertEqual(w.request("POST", "/api/logout", b"", csrf=False)[0], 403)
        saved = [c for c in w.jar]
        self.assertEqual(w.request("POST", "/api/logout", b"")[0], 204)
        # the old cookie replayed: the session is dead on the server
        w2 = self.web()
        for c in saved:
            w2.jar.set_cookie(c)
        w2.csrf = body["csrf"]
        self.assertEqual(w2.request("GET", "/api/session")[0], 401)
        self.assertEqual(w2.request("GET", "/.well-known/jmap")[0], 401)
        self.assertEqual(w2.request("POST", "/jmap/api", {"using": [], "methodCalls": []})[0], 401)
        self.assertEqual(w2.request("POST", "/api/logout", b"")[0], 401)

    def test_message_view(self):
        """POST /api/view keeps a sanitised body for its session; GET
        /view/TOKEN serves it under its own CSP (no script, sandboxed,
        framed by the webmail only, images from data: until the user
        allows remote ones); other sessions, no session, a wrong token and
        a missing CSRF token get nothing."""
        html = b"<!doctype html><p style='color: red'>hello <img src='https://example.net/x.png'></p>"
        w = self.web()
        self.assertEqual(w.request("POST", "/api/view", html)[0], 401)
        self.assertEqual(w.login(USER, PASS)[0], 200)
        self.assertEqual(w.request("POST", "/api/view", html, csrf=False)[0], 403)
        self.assertEqual(w.request("PUT", "/api/view", html)[0], 405)
        st, h, b = w.request("POST", "/api/view", html)
        self.assertEqual(st, 200)
        url = json.loads(b)["url"]
        self.assertRegex(url, r"^/view/[0-9a-f]{64}$")
        st, h, b = w.request("GET", url)
        self.assertEqual((st, b), (200, html))
        self.assertTrue(h["Content-Type"].startswith("text/html"))
        csp = h["Content-Security-Policy"]
        self.assertIn("default-src 'none'", csp)
        self.assertNotIn("script-src", csp)
        self.assertIn("frame-ancestors 'self'", csp)
        self.assertRegex(csp, r"sandbox allow-popups allow-popups-to-escape-sandbox;")
        self.assertTrue(csp.endswith("img-src data:"), csp)
        self.assertEqual(h["X-Frame-Options"], "SAMEORIGIN")
        self.assertEqual(h["Cache-Control"], "no-store")
        self.assertEqual(h["X-Content-Type-Options"], "nosniff")
        st, h, b = w.request("POST", "/api/view?images=1", html)
        shown = json.loads(b)["url"]
        self.assertTrue(w.request("GET", shown)[1]["Content-Security-Policy"]
                        .endswith("img-src data: http: https:"))
        # the first view is still there (a few are kept per session)
        self.assertEqual(w.request("GET", url)[0], 200)
        self.assertEqual(w.request("GET", "/view/" + "0" * 64)[0], 404)
        self.assertEqual(w.request("GET", "/view/../index.html")[0], 404)
        self.assertEqual(w.request("POST", url, b"")[0], 405)
        other = self.web()
        self.assertEqual(other.request("GET", url)[0], 401)
        self.assertEqual(other.login(USER, PASS)[0], 200)
        self.assertEqual(other.request("GET", url)[0], 404)
        self.assertEqual(w.request("POST", "/api/logout", b"")[0], 204)
        self.assertEqual(w.request("GET", url)[0], 401)

    def test_login_malformed(self):
        w = self.web()
        for body in (b"not json", b"{}", b'{"username": "a"}', b'{"username": 1, "password": 2}',
                     b'[]'):
            self.assertEqual(w.request("POST", "/api/login", body)[0], 400, body)
        self.assertEqual(w.request("GET", "/api/login")[0], 405)
        self.assertEqual(w.request("GET", "/api/nothing")[0], 404)

    def test_basic_auth(self):
        w = self.web()
        self.assertEqual(w.request("GET", "/.well-known/jmap")[0], 401)
        w.basic = USER + ":wrong"
        self.assertEqual(w.request("GET", "/.well-known/jmap")[0], 401)
        w.basic = USER + ":" + PASS
        st, h, b = w.request("GET", "/.well-known/jmap")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(b)["username"], USER)
        # no CSRF token needed without a cookie
        st, h, b = w.request("POST", "/jmap/api", {"using": [], "methodCalls": []}, csrf=False)
        self.assertEqual(st, 200)
        w.basic = None
        self.assertEqual(w.request("GET", "/.well-known/jmap",
                                   headers={"Authorization": "Basic !!!"})[0], 401)

    def test_https(self):
        ctx = tls_context(self.inst)
        w = Web("https://127.0.0.1:%d" % self.inst.http_port, context=ctx)
        st, h, b = w.request("GET", "/")
        self.assertEqual((st, b), (200, INDEX))
        self.assertSecurityHeaders(h, tls=True)
        st, h, b = w.login(USER, PASS)
        self.assertEqual(st, 200)
        self.assertIn("Secure", h["Set-Cookie"])
        st, h, b = w.request("GET", "/.well-known/jmap")
        self.assertEqual(st, 200)
        # not TLS at all on the HTTPS port: the handshake fails, nothing is served
        ans = raw(self.inst.http_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
        self.assertNotIn(b"webmail", ans)

    # ---- the small documents

    def test_autoconfig_autodiscover(self):
        w = self.web()
        for path in ("/mail/config-v1.1.xml", "/.well-known/autoconfig/mail/config-v1.1.xml"):
            st, h, b = w.request("GET", path)
            self.assertEqual(st, 200)
            self.assertIn(b"<hostname>mail.example.com</hostname>", b)
            self.assertIn(b"<port>993</port>", b)
            self.assertIn(b"<socketType>SSL</socketType>", b)
            self.assertIn(b"<port>587</port>", b)
            self.assertIn(b"<socketType>STARTTLS</socketType>", b)
        req = (b'<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/'
               b'autodiscover/outlook/requestschema/2006"><Request><EMailAddress>'
               b'alice@example.com</EMailAddress></Request></Autodiscover>')
        st, h, b = w.request("POST", "/autodiscover/autodiscover.xml", req,
                             headers={"Content-Type": "text/xml"})
        self.assertEqual(st, 200)
        self.assertIn(b"<LoginName>alice@example.com</LoginName>", b)
        self.assertIn(b"<Type>IMAP</Type>", b)
        self.assertIn(b"<Type>SMTP</Type>", b)

    def test_metrics(self):
        w = self.web()
        w.request("GET", "/")
        st, h, b = w.request("GET", "/metrics")
        self.assertEqual(st, 200)
        m = re.search(rb"^tern_http_requests_total (\d+)$", b, re.M)
        self.assertTrue(m, b)
        self.assertGreaterEqual(int(m.group(1)), 2)
        self.assertRegex(b, rb"(?m)^tern_http_connections \d+$")

    def test_metrics_latency_and_sessions(self):
        """The request latency histogram (Prometheus text, scraped with
        curl on one keep-alive connection, so from one http process) counts
        the requests answered before the scrape, cumulative buckets ending
        in +Inf = count; sessions per protocol count an SMTP connection."""
        def parse(text):
            return {m.group(1): float(m.group(2)) for m in re.finditer(
                r"(?m)^(tern_[a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$", text)}

        url = self.base + "/metrics"
        r = subprocess.run(["curl", "-sS", url, "-o", "/dev/null", self.base + "/", "-o",
                            "/dev/null", self.base + "/nonexistent", "-o", "/dev/null",
                            self.base + "/", "-o", "/dev/null", url],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("# TYPE tern_http_request_duration_seconds histogram", r.stdout)
        m = parse(r.stdout)
        web = 'tern_http_request_duration_seconds_%s{kind="web"}'
        count = m[web % "count"]
        # this connection's first scrape and three requests at least
        self.assertGreaterEqual(count, 4)
        buckets = [(k, v) for k, v in m.items()
                   if k.startswith('tern_http_request_duration_seconds_bucket{kind="web"')]
        values = [v for k, v in buckets]
        self.assertEqual(values, sorted(values))                      # cumulative
        self.assertEqual(buckets[-1][0],
                         'tern_http_request_duration_seconds_bucket{kind="web",le="+Inf"}')
        self.assertEqual(buckets[-1][1], count)
        self.assertGreater(m[web % "sum"], 0)
        self.assertIn('tern_http_request_duration_seconds_count{kind="jmap"}', m)

        def smtp_sessions():
            out = subprocess.run(["curl", "-sS", url], capture_output=True, text=True,
                                 timeout=60).stdout
            return parse(out).get('tern_sessions_total{protocol="smtp"}')

        before = smtp_sessions()
        self.assertIsNotNone(before)
        self.assertIn('tern_sessions_total{protocol="http"}',
                      parse(subprocess.run(["curl", "-sS", url], capture_output=True,
                                           text=True, timeout=60).stdout))
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as c:
            c.noop()
        wait_until(lambda: smtp_sessions() == before + 1, 30, what="an smtp session counted")

    def test_metrics_strict_histograms_and_session_gauges(self):
        """The whole /metrics text passes a strict reader of the format;
        the delivery delay histogram counts a delivery; the session gauges
        of smtp, submission and imap go up while a client is connected
        (logged in, for imap) and back down when it has left."""
        def scrape():
            st, h, b = self.web().request("GET", "/metrics")
            self.assertEqual(st, 200)
            self.assertTrue(h["Content-Type"].startswith("text/plain; version=0.0.4"))
            return parse_prometheus(b.decode())

        def gauge(proto):
            return sample(scrape(), "tern_sessions", protocol=proto)

        def delays():
            return sample(scrape(), "tern_delivery_delay_seconds",
                          "tern_delivery_delay_seconds_count", status="sent")

        before = scrape()
        self.assertEqual(before["tern_delivery_delay_seconds"]["type"], "histogram")
        self.assertEqual(before["tern_sessions"]["type"], "gauge")
        self.assertEqual(before["tern_http_request_duration_seconds"]["type"], "histogram")
        for proto in ("smtp", "submission", "imap", "pop3", "managesieve", "http"):
            self.assertIsNotNone(sample(before, "tern_sessions", protocol=proto), proto)
            self.assertIsNotNone(sample(before, "tern_sessions_total", protocol=proto), proto)
        sent = delays()
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as m:
            m.sendmail("carol@example.net", [USER],
                       b"Subject: timed\r\nFrom: carol@example.net\r\n\r\nhello\r\n")
        wait_until(lambda: delays() == sent + 1, 30, what="a delivery's delay counted")
        inf = sample(scrape(), "tern_delivery_delay_seconds", "tern_delivery_delay_seconds_bucket",
                     status="sent", le="+Inf")
        self.assertEqual(inf, sent + 1)

        # (the sessions of the other tests have ended: their last lines
        # may still be on their way to the log)
        for proto, port in (("smtp", self.inst.smtp_port),
                            ("submission", self.inst.submission_port)):
            wait_until(lambda: gauge(proto) == 0, 30, what="no %s session" % proto)
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
                c.noop()
                wait_until(lambda: gauge(proto) == 1, 30, what="an open %s session" % proto)
            wait_until(lambda: gauge(proto) == 0, 30, what="the %s session ended" % proto)

        wait_until(lambda: gauge("imap") == 0, 30, what="no imap session")
        c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        c.login(USER, PASS)
        wait_until(lambda: gauge("imap") == 1, 30, what="an open imap session")
        c.logout()
        wait_until(lambda: gauge("imap") == 0, 30, what="the imap session ended")

    def test_prometheus_reader_is_strict(self):
        """The reader above refuses what the format does not allow."""
        good = ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                "h_sum 3.5\nh_count 2\n# TYPE g gauge\ng{a=\"x\\\"y\"} 1\n")
        self.assertEqual(sample(parse_prometheus(good), "g", a='x\\"y'), 1)
        for bad in (good.replace("h_count 2", "h_count 3"),           # +Inf != count
                    good.replace('le="1"} 1', 'le="1"} 3'),             # not cumulative
                    good.replace("h_sum 3.5\n", ""),                    # no sum
                    good + "g{a=\"z\"} 1\n# TYPE g gauge\n",           # TYPE after samples
                    good + "h_count 2\n",                               # family split
                    good + "x 1\n",                                     # no TYPE
                    good.replace("g{a=", "g{1a="),                      # bad label name
                    good.replace("} 1\n", "} one\n"),                  # bad value
                    good[:-1]):                                         # no final newline
            with self.assertRaises(ValueError, msg=bad):
                parse_prometheus(bad)

    def test_metrics_queue_and_mail(self):
        """Queue sizes and mail counters, though http is confined to
        queue_directory/login/: a message received and delivered through
        the whole path is counted; a file in hold is seen."""
        def scrape():
            st, h, b = self.web().request("GET", "/metrics")
            self.assertEqual(st, 200)
            return {m.group(1).decode(): int(m.group(2))
                    for m in re.finditer(rb"(?m)^(tern_[a-z_]+(?:\{[^}]*\})?) (\d+)$", b)}

        before = scrape()
        for q in ("incoming", "active", "deferred", "hold"):
            self.assertIn('tern_queue_messages{queue="%s"}' % q, before)
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as m:
            m.sendmail("carol@example.net", [USER],
                       b"Subject: counted\r\nFrom: carol@example.net\r\n\r\nhello\r\n")
        wait_until(lambda: scrape().get('tern_deliveries_total{status="sent"}', 0) >
                   before.get('tern_deliveries_total{status="sent"}', 0), 30,
                   what="a delivery counted")
        after = scrape()
        self.assertEqual(after["tern_messages_received_total"],
                         before["tern_messages_received_total"] + 1)
        self.assertEqual(after['tern_deliveries_total{status="sent"}'],
                         before['tern_deliveries_total{status="sent"}'] + 1)
        self.assertEqual(after['tern_deliveries_total{status="bounced"}'],
                         before['tern_deliveries_total{status="bounced"}'])
        held = os.path.join(self.inst.queue, "hold", "METRICSTEST")
        with open(held, "w") as f:
            f.write("x")
        try:
            self.assertEqual(scrape()['tern_queue_messages{queue="hold"}'],
                             before['tern_queue_messages{queue="hold"}'] + 1)
        finally:
            os.unlink(held)

    # ---- robustness

    def test_oversized_header(self):
        big = b"X-Big: " + b"a" * 40000 + b"\r\n"
        ans = raw(self.inst.http_plain_port, b"GET / HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n")
        self.assertRegex(ans, rb"^HTTP/1\.1 (413|431) ")
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(3000))
        ans = raw(self.inst.http_plain_port, b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        self.assertRegex(ans, rb"^HTTP/1\.1 (413|431) ")

    def test_oversized_body(self):
        # a body over http_max_request_size: 413 (the server may stop
        # reading once it has answered)
        with socket.create_connection(("127.0.0.1", self.inst.http_plain_port), timeout=10) as s:
            s.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                      % (2 * 1024 * 1024))
            try:
                s.sendall(b"x" * (2 * 1024 * 1024))
            except OSError:
                pass
            self.assertRegex(s.recv(4096), rb"^HTTP/1\.1 413 ")
        # announced too large: refused before the body is sent
        ans = raw(self.inst.http_plain_port, b"POST /api/login HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 99999999\r\n\r\n")
        self.assertRegex(ans, rb"^HTTP/1\.1 413 ")
        # chunked, growing past the limit
        with socket.create_connection(("127.0.0.1", self.inst.http_plain_port), timeout=10) as s:
            s.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"100000\r\n" + b"y" * 0x100000 + b"\r\n"
            try:
                for _ in range(3):
                    s.sendall(chunk)
                s.sendall(b"0\r\n\r\n")
            except OSError:
                pass
            ans = s.recv(4096)
            self.assertRegex(ans, rb"^HTTP/1\.1 413 ")

    def test_malformed_requests(self):
        for req in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
                    b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n",
                    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                    b"\x00\x01\x02\xff\r\n\r\n", b"GET / HTTP/1.1\r\n" + b"\r\n",
                    b"POST /jmap/api HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"):
            ans = raw(self.inst.http_plain_port, req)
            self.assertRegex(ans, rb"^HTTP/1\.[01] (400|401|403|404|405|411|413|505) |^$", req)
        st, h, b = self.web().request("GET", "/")
        self.assertEqual(st, 200)

    def test_slow_client(self):
        slow = socket.create_connection(("127.0.0.1", self.inst.http_plain_port), timeout=20)
        slow.sendall(b"GET / HTTP/1.1\r\nHo")
        # others are served meanwhile
        st, h, b = self.web().request("GET", "/")
        self.assertEqual(st, 200)
        # the silent client is dropped after http_idle_timeout (3 s)
        deadline = time.monotonic() + 15
        closed = False
        while time.monotonic() < deadline:
            try:
                if slow.recv(4096) == b"":
                    closed = True
                    break
            except socket.timeout:
                break
            except OSError:
                closed = True
                break
        slow.close()
        self.assertTrue(closed)

    def test_zz_same_process(self):
        # after everything above, the http processes are the ones that started
        self.assertEqual(sorted(self.inst.pids_of("http")), self.http_pids)
        self.assertNotRegex(self.inst.log(), r"http\[\d+\]: .*(fatal|panic)|killed by signal")


if __name__ == "__main__":
    unittest.main()
