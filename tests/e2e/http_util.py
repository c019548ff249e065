"""Helpers for the web tests (test_http.py, test_jmap.py): an HTTP client
on urllib with a cookie jar, JMAP calls, and raw sockets."""
import base64
import http.cookiejar
import json
import socket
import urllib.error
import urllib.request

CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
SUBMISSION = "urn:ietf:params:jmap:submission"
USING = [CORE, MAIL, SUBMISSION]


class Web:
    """One browser-like client: cookies kept, the CSRF token remembered."""

    def __init__(self, base, context=None):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)
        self.csrf = None
        self.basic = None

    def request(self, method, path, body=None, headers=None, csrf=True):
        """(status, headers, body bytes); HTTP errors are answers too."""
        h = dict(headers or {})
        if csrf and self.csrf and "X-CSRF-Token" not in h:
            h["X-CSRF-Token"] = self.csrf
        if self.basic:
            h["Authorization"] = "Basic " + base64.b64encode(self.basic.encode()).decode()
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=h)
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def login(self, user, password):
        st, h, b = self.request("POST", "/api/login", {"username": user, "password": password})
        if st == 200:
            self.csrf = json.loads(b)["csrf"]
        return st, h, b

    def session(self):
        st, h, b = self.request("GET", "/.well-known/jmap")
        assert st == 200, (st, b)
        s = json.loads(b)
        self.account = s["primaryAccounts"][MAIL]
        return s

    def api(self, calls, using=USING):
        st, h, b = self.request("POST", "/jmap/api", {"using": using, "methodCalls": calls})
        assert st == 200, (st, b)
        return json.loads(b)["methodResponses"]

    def call(self, name, args):
        """One method call; returns its response arguments (asserts its name)."""
        args = dict(args)
        args.setdefault("accountId", self.account)
        r = self.api([[name, args, "c"]])
        assert r[0][0] == name, r
        return r[0][1]


def raw(port, data, timeout=10):
    """Sends data on a fresh connection, returns all the answer (until close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out
