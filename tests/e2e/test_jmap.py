"""JMAP (RFC 8620, 8621) through http(8) and jmap(8) against a real
instance, with Python's urllib: the session resource, Core/echo, the
error types, result references, every Mail method tern implements,
changes after SMTP deliveries and after IMAP flag changes and expunges
(the same mailbox seen through both protocols), upload and download,
EmailSubmission arriving in a second account, and push by EventSource
within a bounded wait."""
import base64
import imaplib
import json
import os
import re
import smtplib
import socket
import time
import unittest
import urllib.parse

from http_util import CORE, MAIL, SUBMISSION, Web
from tern_instance import Instance, wait_until

ALICE = "alice@example.com"
BOB = "bob@example.com"
PASS = "jmap-secret-1"


def message(subject, body="Hello there.\n", frm="carol@example.net", to=ALICE, extra=""):
    return ("From: Carol <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.net>\r\n%s"
            "\r\n%s" % (frm, to, subject, subject.replace(" ", "-").replace("=", "")[:40] +
                        str(time.monotonic_ns()), extra, body))


MULTIPART = (
    "From: Dave <dave@example.net>\r\nTo: alice@example.com\r\n"
    "Subject: =?UTF-8?B?w4ltaWxlIGF0dGFjaGVz?=\r\nMessage-ID: <multi-1@example.net>\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "Voil\u00e0 the report.\r\n"
    "--b1\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    + base64.encodebytes(b"%PDF-1.4 fake report bytes\n" * 20).decode().replace("\n", "\r\n") +
    "--b1--\r\n")


class JmapTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(http=True, imap=True,
                            main_cf={"auth_failure_exceptions": "127.0.0.0/8"})
        cls.inst.user_add(ALICE, PASS)
        cls.inst.user_add(BOB, PASS)
        # jmap submits through sendmail and postdrop as the mailbox owner:
        # "tern check" makes the build's postdrop setgid, as an install does
        r = cls.inst.tern("check", check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        cls.inst.start()
        wait_until(lambda: cls.inst._port_open(cls.inst.http_plain_port), 30, what="http port")
        wait_until(lambda: cls.inst._port_open(cls.inst.imap_port), 30, what="imap port")
        cls.base = "http://127.0.0.1:%d" % cls.inst.http_plain_port
        cls.w = Web(cls.base)
        st, h, b = cls.w.login(ALICE, PASS)
        assert st == 200, (st, b)
        cls.w.session()
        cls.boxes = {m["role"]: m["id"] for m in cls.w.call("Mailbox/get", {})["list"]}

    @classmethod
    def tearDownClass(cls):
        if os.environ.get("TERN_KEEP"):
            print(cls.inst.log())
        cls.inst.cleanup()

    # ---- helpers

    def deliver(self, data, rcpt=ALICE):
        """Sends through smtpd and waits until jmap sees the message."""
        before = self.count(self.boxes["inbox"]) if rcpt == ALICE else None
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail("carol@example.net", [rcpt], data.encode())
        if rcpt == ALICE:
            wait_until(lambda: self.count(self.boxes["inbox"]) > before, 30, what="delivery")

    def count(self, box):
        return self.w.call("Email/query", {"filter": {"inMailbox": box},
                                           "calculateTotal": True})["total"]

    def query(self, flt, **kw):
        args = {"filter": flt}
        args.update(kw)
        return self.w.call("Email/query", args)["ids"]

    def get(self, ids, props=None, **kw):
        args = {"ids": ids}
        if props is not None:
            args["properties"] = props
        args.update(kw)
        return self.w.call("Email/get", args)["list"]

    def find(self, subject):
        ids = self.query({"subject": subject})
        self.assertEqual(len(ids), 1, subject)
        return ids[0]

    def imap(self):
        c = imaplib.IMAP4("127.0.0.1", self.inst.imap_port)
        c.login(ALICE, PASS)
        return c

    # ---- Core

    def test_session_resource(self):
        s = self.w.session()
        for cap in (CORE, MAIL, SUBMISSION, "urn:ietf:params:jmap:vacationresponse"):
            self.assertIn(cap, s["capabilities"])
        self.assertEqual(s["apiUrl"], "/jmap/api")
        self.assertEqual(s["downloadUrl"], "/jmap/download/{accountId}/{blobId}/{name}?type={type}")
        self.assertEqual(s["uploadUrl"], "/jmap/upload/{accountId}/")
        self.assertTrue(s["eventSourceUrl"].startswith("/jmap/eventsource/?types={types}"))
        acc = s["primaryAccounts"][MAIL]
        self.assertRegex(acc, r"^[A-Za-z0-9_-]+$")
        self.assertEqual(s["accounts"][acc]["name"], ALICE)
        self.assertEqual(s["username"], ALICE)
        # the same account id every time (a second session)
        w2 = Web(self.base)
        w2.login(ALICE, PASS)
        self.assertEqual(w2.session()["primaryAccounts"][MAIL], acc)

    def test_echo_and_errors(self):
        r = self.w.api([["Core/echo", {"hello": [1, 2, {"x": None}]}, "e1"],
                        ["Nope/get", {}, "e2"],
                        ["Mailbox/get", {"accountId": self.w.account, "ids": "notalist"}, "e3"],
                        ["Mailbox/get", {"accountId": "nobody"}, "e4"],
                        ["Mailbox/get", {"accountId": self.w.account, "bogus": 1}, "e5"]])
        self.assertEqual(r[0], ["Core/echo", {"hello": [1, 2, {"x": None}]}, "e1"])
        self.assertEqual(r[1][0], "error")
        self.assertEqual((r[1][1]["type"], r[1][2]), ("unknownMethod", "e2"))
        self.assertEqual(r[2][1]["type"], "invalidArguments")
        self.assertEqual(r[3][1]["type"], "accountNotFound")
        self.assertEqual(r[4][1]["type"], "invalidArguments")
        # a capability the request does not use
        r = self.w.api([["Mailbox/get", {"accountId": self.w.account}, "m"]], using=[CORE])
        self.assertEqual(r[0][1]["type"], "unknownMethod")

    def test_request_level_problems(self):
        for body, typ in ((b"{not json", "notJSON"), (b"[1,2]", "notRequest"),
                          (b'{"using": [], "methodCalls": [["x"]]}', "notRequest"),
                          (b'{"using": "x", "methodCalls": []}', "notRequest"),
                          (b'{"using": ["urn:x:unknown"], "methodCalls": []}', "unknownCapability"),
                          (b"[" * 100000, "notJSON")):
            st, h, b = self.w.request("POST", "/jmap/api", body,
                                      headers={"Content-Type": "application/json"})
            self.assertEqual(st, 400, body[:40])
            p = json.loads(b)
            self.assertEqual(p["type"], "urn:ietf:params:jmap:error:" + typ)
            self.assertEqual(p["status"], 400)
        calls = [["Core/echo", {}, str(i)] for i in range(65)]
        st, h, b = self.w.request("POST", "/jmap/api", {"using": [CORE], "methodCalls": calls})
        self.assertEqual((st, json.loads(b)["type"]), (400, "urn:ietf:params:jmap:error:limit"))

    def test_result_references(self):
        self.deliver(message("refs one"))
        acc = self.w.account
        r = self.w.api([
            ["Email/query", {"accountId": acc, "filter": {"subject": "refs one"}}, "q"],
            ["Email/get", {"accountId": acc, "#ids": {"resultOf": "q", "name": "Email/query",
                                                     "path": "/ids"}, "properties": ["subject",
                                                                                      "threadId"]},
             "g"],
            ["Thread/get", {"accountId": acc, "#ids": {"resultOf": "g", "name": "Email/get",
                                                      "path": "/list/*/threadId"}}, "t"],
            ["Email/get", {"accountId": acc, "#ids": {"resultOf": "q", "name": "Email/query",
                                                     "path": "/nothing"}}, "bad1"],
            ["Email/get", {"accountId": acc, "#ids": {"resultOf": "zz", "name": "Email/query",
                                                     "path": "/ids"}}, "bad2"],
            ["Email/get", {"accountId": acc, "ids": [], "#ids": {"resultOf": "q",
                                                                  "name": "Email/query",
                                                                  "path": "/ids"}}, "bad3"]])
        self.assertEqual(r[1][1]["list"][0]["subject"], "refs one")
        self.assertEqual(r[2][0], "Thread/get")
        self.assertIn(r[0][1]["ids"][0], r[2][1]["list"][0]["emailIds"])
        for k in (3, 4, 5):
            self.assertEqual((r[k][0], r[k][1]["type"]), ("error", "invalidResultReference"))

    # ---- Mailbox

    def test_mailboxes(self):
        got = self.w.call("Mailbox/get", {})
        roles = {m["role"] for m in got["list"]}
        self.assertTrue({"inbox", "drafts", "sent", "trash", "junk", "archive"} <= roles)
        inbox = [m for m in got["list"] if m["role"] == "inbox"][0]
        self.assertEqual((inbox["name"], inbox["parentId"]), ("Inbox", None))
        state = got["state"]
        r = self.w.call("Mailbox/set", {"create": {"n1": {"name": "Projects", "parentId": None},
                                                   "n2": {"name": "Tern", "parentId": "#n1"},
                                                   "bad": {"name": ""}}})
        self.assertIn("bad", r["notCreated"])
        pid, cid = r["created"]["n1"]["id"], r["created"]["n2"]["id"]
        child = self.w.call("Mailbox/get", {"ids": [cid]})["list"][0]
        self.assertEqual((child["name"], child["parentId"]), ("Tern", pid))
        ch = self.w.call("Mailbox/changes", {"sinceState": state})
        self.assertEqual(set(ch["created"]), {pid, cid})
        q = self.w.call("Mailbox/query", {"filter": {"role": "junk"}})
        self.assertEqual(q["ids"], [self.boxes["junk"]])
        # IMAP sees the folders
        c = self.imap()
        typ, lst = c.list()
        names = b"\n".join(lst)
        self.assertIn(b"Projects.Tern", names)
        c.logout()
        r = self.w.call("Mailbox/set", {"update": {cid: {"name": "Tern2"}}})
        self.assertIn(cid, r["updated"])
        r = self.w.call("Mailbox/set", {"destroy": [cid, pid, self.boxes["inbox"]]})
        self.assertIn(cid, r["destroyed"])
        self.assertIn(self.boxes["inbox"], r["notDestroyed"])

    # ---- Email: query and get

    def test_query_get_and_bodies(self):
        self.deliver(message("first of order"))
        time.sleep(1.1)   # receivedAt has seconds
        self.deliver(MULTIPART)
        ids = self.query({"inMailbox": self.boxes["inbox"]},
                         sort=[{"property": "receivedAt", "isAscending": False}])
        newest = self.get(ids[:1], ["subject"])[0]
        self.assertEqual(newest["subject"], "\u00c9mile attaches")
        e = self.get(ids[:1], fetchTextBodyValues=True)[0]
        self.assertEqual(e["from"], [{"name": "Dave", "email": "dave@example.net"}])
        self.assertEqual(e["to"], [{"name": None, "email": ALICE}])
        self.assertEqual(e["mailboxIds"], {self.boxes["inbox"]: True})
        self.assertEqual(e["keywords"], {})
        self.assertEqual(e["messageId"], ["multi-1@example.net"])
        self.assertTrue(e["hasAttachment"])
        self.assertEqual(e["preview"], "Voil\u00e0 the report.")
        self.assertRegex(e["receivedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertGreater(e["size"], 500)
        self.assertEqual(len(e["textBody"]), 1)
        part = e["textBody"][0]["partId"]
        # the line end before a boundary belongs to the boundary (RFC 2046 5.1.1)
        self.assertEqual(e["bodyValues"][part]["value"], "Voil\u00e0 the report.")
        att = e["attachments"]
        self.assertEqual((len(att), att[0]["name"], att[0]["type"]), (1, "report.pdf",
                                                                         "application/pdf"))
        # download the attachment: the decoded bytes, as an attachment, sandboxed
        url = "/jmap/download/%s/%s/%s?type=%s" % (self.w.account, att[0]["blobId"],
                                                   "report.pdf", "application/pdf")
        st, h, b = self.w.request("GET", url)
        self.assertEqual((st, b), (200, b"%PDF-1.4 fake report bytes\n" * 20))
        self.assertTrue(h["Content-Disposition"].startswith("attachment"))
        self.assertEqual(h["Content-Security-Policy"], "sandbox")
        self.assertEqual(h["X-Content-Type-Options"], "nosniff")
        # the whole message
        st, h, b = self.w.request("GET", "/jmap/download/%s/%s/m.eml?type=message/rfc822"
                                  % (self.w.account, e["blobId"]))
        self.assertEqual(st, 200)
        self.assertIn(b"Subject: =?UTF-8?B?w4ltaWxlIGF0dGFjaGVz?=", b)
        self.assertEqual(self.w.request("GET", "/jmap/download/%s/Mffff-1/x" % self.w.account)[0],
                         404)
        self.assertEqual(self.w.request("GET", "/jmap/download/other/%s/x" % e["blobId"])[0], 404)
        # bodyStructure
        bs = self.get(ids[:1], ["bodyStructure"])[0]["bodyStructure"]
        self.assertEqual(bs["type"], "multipart/mixed")
        self.assertEqual([p["type"] for p in bs["subParts"]], ["text/plain", "application/pdf"])
        # filters
        self.assertEqual(len(self.query({"from": "dave@example.net"})), 1)
        self.assertEqual(len(self.query({"text": "the report"})), 1)
        self.assertEqual(len(self.query({"subject": "first of order"})), 1)
        self.assertEqual(self.query({"operator": "NOT", "conditions": [
            {"from": "dave"}]}).count(ids[0]), 0)
        self.assertEqual(self.query({"after": "2000-01-01T00:00:00Z", "before":
                                     "2000-01-02T00:00:00Z"}), [])
        st = self.w.api([["Email/query", {"accountId": self.w.account,
                                          "filter": {"nonsense": 1}}, "x"]])
        self.assertEqual(st[0][1]["type"], "unsupportedFilter")
        self.assertEqual(self.get(["e1-1", "nonsense"], ["id"]), [])
        # pages (only the page's hits are sorted) agree with the whole list
        for sort in ([{"property": "receivedAt", "isAscending": False}],
                     [{"property": "size", "isAscending": True}]):
            whole = self.w.call("Email/query", {"sort": sort, "calculateTotal": True})
            self.assertEqual(whole["total"], len(whole["ids"]))
            self.assertGreaterEqual(whole["total"], 3)
            for pos, lim in ((0, 2), (1, 2), (whole["total"] - 1, 5), (whole["total"] + 3, 2)):
                page = self.w.call("Email/query", {"sort": sort, "position": pos, "limit": lim,
                                                   "calculateTotal": True})
                self.assertEqual(page["ids"], whole["ids"][pos:pos + lim], (sort, pos, lim))
                self.assertEqual(page["total"], whole["total"])

    def test_date_order_kept_between_queries(self):
        """The usual page (inMailbox only, by date, from the start) comes
        from a list kept in date order between requests: after APPENDs with
        old and new INTERNALDATEs, IMAP expunges and JMAP moves it gives what
        the same query with a filter that tests every message gives."""
        inbox = self.boxes["inbox"]

        def check(what):
            for asc in (False, True):
                sort = [{"property": "receivedAt", "isAscending": asc}]
                for lim in (3, 50):
                    fast = self.w.call("Email/query", {"filter": {"inMailbox": inbox},
                                                       "sort": sort, "limit": lim,
                                                       "calculateTotal": True})
                    slow = self.w.call("Email/query", {
                        "filter": {"operator": "AND", "conditions": [{"inMailbox": inbox}]},
                        "sort": sort, "limit": lim, "calculateTotal": True})
                    self.assertEqual((fast["ids"], fast["total"]), (slow["ids"], slow["total"]),
                                     (what, asc, lim))
            return fast["total"]

        c = self.imap()
        total = check("start")
        now = time.time()
        for k, age in enumerate((0, 400 * 86400, 30 * 86400, -86400, 400 * 86400)):
            c.append("INBOX", None, imaplib.Time2Internaldate(now - age),
                     message("dated %d" % k).encode())
            self.assertEqual(check("append %d" % k), total + k + 1)
        old = self.query({"subject": "dated 1"})
        fast = self.w.call("Email/query", {"filter": {"inMailbox": inbox}, "sort": [
            {"property": "receivedAt", "isAscending": True}], "limit": 2})["ids"]
        self.assertIn(old[0], fast)       # a year old: among the oldest two
        c.select("INBOX")
        typ, data = c.search(None, "SUBJECT", '"dated 2"')
        c.store(data[0], "+FLAGS", "\\Deleted")
        c.expunge()
        self.assertEqual(check("expunge"), total + 4)
        c.store(b"1", "+FLAGS", "\\Flagged")
        self.assertEqual(check("flag"), total + 4)
        c.logout()
        moved = self.find("dated 3")
        self.w.call("Email/set", {"update": {moved: {"mailboxIds": {self.boxes["archive"]:
                                                                      True}}}})
        self.assertEqual(check("move"), total + 3)
        self.deliver(message("dated smtp"))
        self.assertEqual(check("delivery"), total + 4)

    def test_walked_pages_match_the_full_scan(self):
        """The webmail's pages of one folder by date with a keyword filter,
        collapseThreads or a text condition walk the folder's date list and
        remember their total: each page and total is what the same query
        wrapped in an AND (which tests every message and sorts) gives, also
        after a flag change, a delivery into a thread and a move out."""
        inbox = self.boxes["inbox"]
        first = message("walk root")
        root = re.search(r"Message-ID: (<[^>]+>)", first).group(1)
        self.deliver(first)
        for k in range(3):
            self.deliver(message("walk reply %d" % k, body="walkword %d\n" % k,
                                 extra="In-Reply-To: %s\r\nReferences: %s\r\n" % (root, root)))
        self.deliver(message("walk alone"))
        seen = self.find("walk reply 1")
        self.w.call("Email/set", {"update": {seen: {"keywords/$seen": True}}})

        def check(what):
            shapes = [({}, True), ({"notKeyword": "$seen"}, False),
                      ({"hasKeyword": "$seen"}, True), ({"notKeyword": "$seen"}, True),
                      ({"text": "walkword"}, False), ({"text": "walkword"}, True)]
            for cond, threads in shapes:
                for asc in (False, True):
                    for pos, lim in ((0, 50), (0, 2), (1, 2), (3, 1)):
                        args = {"sort": [{"property": "receivedAt", "isAscending": asc}],
                                "position": pos, "limit": lim, "calculateTotal": True,
                                "collapseThreads": threads}
                        fast = self.w.call("Email/query", dict(
                            args, filter=dict(cond, inMailbox=inbox)))
                        slow = self.w.call("Email/query", dict(args, filter={
                            "operator": "AND", "conditions": [{"inMailbox": inbox}, cond]}))
                        self.assertEqual((fast["ids"], fast["total"]),
                                         (slow["ids"], slow["total"]),
                                         (what, cond, threads, asc, pos, lim))
            return self.w.call("Email/query", {
                "filter": {"inMailbox": inbox, "text": "walkword"}, "collapseThreads": True,
                "calculateTotal": True})

        r = check("start")
        self.assertEqual(r["total"], 1)          # the three replies: one thread
        self.assertEqual(r["ids"], [self.find("walk reply 2")])
        self.w.call("Email/set", {"update": {seen: {"keywords/$seen": None}}})
        r = check("unseen again")
        self.deliver(message("walk reply 3", body="walkword 3\n",
                             extra="In-Reply-To: %s\r\nReferences: %s\r\n" % (root, root)))
        r = check("a new reply")
        self.assertEqual(r["ids"], [self.find("walk reply 3")])
        gone = self.find("walk reply 0")
        self.w.call("Email/set", {"update": {gone: {"mailboxIds": {self.boxes["archive"]: True}}}})
        check("a reply moved out")

    def test_preview_of_html_only_mail(self):
        """The preview is the first text a reader sees: an HTML-only message
        gives its text (no CSS, no script, no tags, references decoded), a
        text/plain part wins over the HTML one, and an HTML part listed
        first in a mixed body is the one read, not a later text/plain one."""
        html = ("<html><head><title>Ignored</title><style>p{color:red}</style></head><body>"
                "<p>Caf&eacute;&#233; &amp; <b>cr&#xE8;me</b></p><script>alert(1)</script>"
                "<div>second&nbsp;line</div></body></html>")
        self.deliver(message("html only", body=html + "\r\n",
                             extra="MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"))
        alt = ("--a1\r\nContent-Type: text/plain\r\n\r\nPlain wins.\r\n"
               "--a1\r\nContent-Type: text/html\r\n\r\n<p>HTML loses.</p>\r\n--a1--\r\n")
        self.deliver(message("html alternative", body=alt, extra="MIME-Version: 1.0\r\n"
                             "Content-Type: multipart/alternative; boundary=\"a1\"\r\n"))
        mixed = ("--m1\r\nContent-Type: text/html\r\n\r\n<p>First <i>seen</i>.</p>\r\n"
                 "--m1\r\nContent-Type: text/plain\r\n\r\nSecond.\r\n--m1--\r\n")
        self.deliver(message("html mixed", body=mixed, extra="MIME-Version: 1.0\r\n"
                             "Content-Type: multipart/mixed; boundary=\"m1\"\r\n"))
        for subject, want in (("html only", "Caf&eacute;\u00e9 & cr\u00e8me second line"),
                              ("html alternative", "Plain wins."),
                              ("html mixed", "First seen.")):
            got = self.get([self.find(subject)], ["preview"])[0]["preview"]
            self.assertEqual(got, want, subject)

    def test_set_too_large(self):
        """Every /set (Email, Mailbox, EmailSubmission, VacationResponse)
        and Email/import refuse more than maxObjectsInSet objects with
        requestTooLarge (RFC 8620 5.3) and change nothing."""
        limit = self.w.session()["capabilities"]["urn:ietf:params:jmap:core"]["maxObjectsInSet"]
        ids = ["m%08x" % k for k in range(limit + 1)]
        before = self.w.call("Mailbox/get", {"ids": None})["list"]
        for method in ("Mailbox/set", "Email/set"):
            r = self.w.api([[method, {"accountId": self.w.account, "destroy": ids}, "c"]])[0]
            self.assertEqual(r[0], "error", r)
            self.assertEqual(r[1]["type"], "requestTooLarge")
        self.assertEqual(len(self.w.call("Mailbox/get", {"ids": None})["list"]), len(before))
        # at the limit: answered, each id refused on its own
        r = self.w.call("Mailbox/set", {"destroy": ids[:limit]})
        self.assertEqual(r["destroyed"], [])
        self.assertEqual(len(r["notDestroyed"]), limit)
        # EmailSubmission/set and VacationResponse/set count create, update
        # and destroy together; Email/import counts its emails
        using = [CORE, MAIL, SUBMISSION, "urn:ietf:params:jmap:vacationresponse"]

        def one(method, args):
            args["accountId"] = self.w.account
            return self.w.api([[method, args, "c"]], using=using)[0]

        def imports(n):
            return {"emails": {"c%d" % k: {"blobId": "Bnone", "mailboxIds": {
                self.boxes["inbox"]: True}} for k in range(n)}}

        vac = one("VacationResponse/get", {"ids": None})
        half = {"k%d" % k: {} for k in range(limit // 2 + 1)}
        for method, args in (
                ("EmailSubmission/set", {"destroy": ids[:limit // 2], "update": dict(half)}),
                ("VacationResponse/set", {"update": dict(half), "destroy": ids[:limit // 2]}),
                ("Email/import", imports(limit + 1))):
            r = one(method, args)
            self.assertEqual((r[0], r[1]["type"]), ("error", "requestTooLarge"), method)
        self.assertEqual(one("VacationResponse/get", {"ids": None}), vac)
        for method, args, key in (("EmailSubmission/set", {"destroy": ids[:limit]}, "notDestroyed"),
                                  ("VacationResponse/set", {"destroy": ids[:limit]},
                                   "notDestroyed"),
                                  ("Email/import", imports(limit), "notCreated")):
            r = one(method, args)
            self.assertEqual((r[0], len(r[1][key])), (method, limit))

    def test_search_snippets(self):
        """SearchSnippet/get: the matched terms between <mark> and </mark>
        in the subject and in a window of the body, everything else
        HTML-escaped; null where nothing matched; NOT terms unmarked."""
        body = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
                "tempor incididunt ut labore. The <b>Quarterly</b> numbers & more: "
                "quarterly results follow.\r\n" + "Filler text. " * 40 + "\r\n")
        self.deliver(message("Tom & Jerry <quarterly> snippet", body=body))
        eid = self.find("snippet")
        r = self.w.call("SearchSnippet/get", {"filter": {"text": "quarterly"},
                                              "emailIds": [eid, "e" + "0" * 24]})
        self.assertEqual(r["notFound"], ["e" + "0" * 24])
        sn = r["list"][0]
        self.assertEqual(sn["emailId"], eid)
        self.assertEqual(sn["subject"],
                         "Tom &amp; Jerry &lt;<mark>quarterly</mark>&gt; snippet")
        p = sn["preview"]
        self.assertIn("The &lt;b&gt;<mark>Quarterly</mark>&lt;/b&gt; numbers &amp; more: "
                      "<mark>quarterly</mark> results", p)
        self.assertNotIn("Lorem", p)   # a window around the match
        self.assertLessEqual(len(p.encode()), 255)
        self.assertNotIn("<b>", p)
        # subject only: no preview; body only: no subject; no match: nulls
        r = self.w.call("SearchSnippet/get", {"filter": {"operator": "AND", "conditions": [
            {"subject": "jerry"}, {"operator": "NOT", "conditions": [{"text": "tom"}]}]},
            "emailIds": [eid]})
        self.assertEqual((r["list"][0]["subject"], r["list"][0]["preview"]),
                         ("Tom &amp; <mark>Jerry</mark> &lt;quarterly&gt; snippet", None))
        r = self.w.call("SearchSnippet/get", {"filter": {"body": "results"}, "emailIds": [eid]})
        self.assertIsNone(r["list"][0]["subject"])
        self.assertIn("<mark>results</mark> follow.", r["list"][0]["preview"])
        r = self.w.call("SearchSnippet/get", {"filter": {"text": "absent-term"},
                                              "emailIds": [eid]})
        self.assertEqual((r["list"][0]["subject"], r["list"][0]["preview"]), (None, None))

    # ---- changes through SMTP and IMAP

    def test_changes_smtp_and_imap(self):
        self.deliver(message("changes base"))
        base = self.w.call("Email/get", {"ids": []})["state"]
        qstate = self.w.call("Email/query", {"filter": {"inMailbox": self.boxes["inbox"]}})[
            "queryState"]
        self.deliver(message("changes new"))
        new_id = self.find("changes new")
        ch = self.w.call("Email/changes", {"sinceState": base})
        self.assertEqual((ch["created"], ch["updated"], ch["destroyed"]), ([new_id], [], []))
        qc = self.w.call("Email/queryChanges", {"filter": {"inMailbox": self.boxes["inbox"]},
                                                "sinceQueryState": qstate})
        self.assertIn(new_id, [a["id"] for a in qc["added"]])
        # IMAP: \Seen on one, expunge the other
        old_id = self.find("changes base")
        s1 = ch["newState"]
        c = self.imap()
        c.select("INBOX")
        typ, data = c.search(None, "SUBJECT", '"changes base"')
        c.store(data[0], "+FLAGS", "\\Seen")
        ch = self.w.call("Email/changes", {"sinceState": s1})
        self.assertEqual((ch["created"], ch["updated"], ch["destroyed"]), ([], [old_id], []))
        self.assertEqual(self.get([old_id], ["keywords"])[0]["keywords"], {"$seen": True})
        s2 = ch["newState"]
        typ, data = c.search(None, "SUBJECT", '"changes new"')
        c.store(data[0], "+FLAGS", "\\Deleted")
        c.expunge()
        c.logout()
        ch = self.w.call("Email/changes", {"sinceState": s2})
        self.assertIn(new_id, ch["destroyed"])
        self.assertEqual(ch["created"], [])
        self.assertEqual(self.get([new_id], ["id"]), [])
        self.assertEqual(self.w.api([["Email/changes", {"accountId": self.w.account,
                                                        "sinceState": "garbage"}, "x"]])[0][1][
            "type"], "cannotCalculateChanges")

    # ---- Email/set

    def test_set_keywords_move_destroy(self):
        self.deliver(message("set me"))
        eid = self.find("set me")
        r = self.w.call("Email/set", {"update": {eid: {"keywords/$flagged": True,
                                                       "keywords/$seen": True}}})
        self.assertIn(eid, r["updated"])
        c = self.imap()
        c.select("INBOX")
        typ, data = c.search(None, "SUBJECT", '"set me"')
        typ, fl = c.fetch(data[0], "(FLAGS)")
        self.assertIn(b"\\Flagged", fl[0])
        self.assertIn(b"\\Seen", fl[0])
        r = self.w.call("Email/set", {"update": {eid: {"keywords": {"$answered": True}}}})
        c.noop()
        typ, fl = c.fetch(data[0], "(FLAGS)")
        self.assertIn(b"\\Answered", fl[0])
        self.assertNotIn(b"\\Flagged", fl[0])
        # move to Archive: IMAP sees it there and no longer in INBOX
        r = self.w.call("Email/set", {"update": {eid: {"mailboxIds": {self.boxes["archive"]:
                                                                        True}}}})
        self.assertIn(eid, r["updated"])
        c.noop()
        typ, data = c.search(None, "SUBJECT", '"set me"')
        self.assertEqual(data, [b""])
        c.select("Archive")
        typ, data = c.search(None, "SUBJECT", '"set me"')
        self.assertNotEqual(data, [b""])
        c.logout()
        moved = self.find("set me")
        self.assertEqual(self.get([moved], ["mailboxIds"])[0]["mailboxIds"],
                         {self.boxes["archive"]: True})
        r = self.w.call("Email/set", {"update": {moved: {"mailboxIds": {}}},
                                      "destroy": ["e1-ffff"]})
        self.assertIn(moved, r["notUpdated"])
        self.assertEqual(r["notDestroyed"]["e1-ffff"]["type"], "notFound")
        r = self.w.call("Email/set", {"destroy": [moved]})
        self.assertEqual(r["destroyed"], [moved])
        self.assertEqual(self.query({"subject": "set me"}), [])

    def test_ids_kept_by_moves(self):
        """RFC 8621: an Email id never changes. Moved by Email/set and by
        IMAP MOVE, the message keeps its id, blob id and thread; Email/changes
        reports the move as an update; a copy is the same Email in two
        Mailboxes, listed once; destroy removes every copy."""
        self.deliver(message("move me"))
        eid = self.find("move me")
        props = ["threadId", "blobId", "mailboxIds"]
        first = self.get([eid], props)[0]
        self.assertRegex(eid, r"^e[0-9a-f]{24}$")
        s0 = self.w.call("Email/get", {"ids": []})["state"]
        r = self.w.call("Email/set", {"update": {eid: {
            "mailboxIds": {self.boxes["archive"]: True}}}})
        self.assertIn(eid, r["updated"])
        self.assertEqual(self.find("move me"), eid)
        e = self.get([eid], props)[0]
        self.assertEqual(e["mailboxIds"], {self.boxes["archive"]: True})
        self.assertEqual((e["threadId"], e["blobId"]), (first["threadId"], first["blobId"]))
        ch = self.w.call("Email/changes", {"sinceState": s0})
        self.assertEqual((ch["created"], ch["updated"], ch["destroyed"]), ([], [eid], []))
        st, h, b = self.w.request("GET", "/jmap/download/%s/%s/m.eml" % (self.w.account,
                                                                         e["blobId"]))
        self.assertEqual(st, 200)
        self.assertIn(b"Subject: move me", b)

        # IMAP MOVE back to INBOX (another process, another protocol)
        s1 = ch["newState"]
        c = self.imap()
        c.select("Archive")
        typ, data = c.uid("SEARCH", None, "SUBJECT", '"move me"')
        self.assertEqual(len(data[0].split()), 1)
        typ, resp = c.uid("MOVE", data[0], "INBOX")
        self.assertEqual(typ, "OK", resp)
        c.logout()
        e = self.get([eid], props)[0]
        self.assertEqual(e["mailboxIds"], {self.boxes["inbox"]: True})
        self.assertEqual((e["threadId"], e["blobId"]), (first["threadId"], first["blobId"]))
        ch = self.w.call("Email/changes", {"sinceState": s1})
        self.assertEqual((ch["created"], ch["updated"], ch["destroyed"]), ([], [eid], []))
        th = self.w.call("Thread/get", {"ids": [first["threadId"]]})["list"]
        self.assertEqual(th[0]["emailIds"], [eid])

        # a copy (mailboxIds/…: true) is the same Email in both Mailboxes
        s2 = ch["newState"]
        r = self.w.call("Email/set", {"update": {eid: {
            "mailboxIds/" + self.boxes["archive"]: True}}})
        self.assertIn(eid, r["updated"])
        self.assertEqual(self.get([eid], ["mailboxIds"])[0]["mailboxIds"],
                         {self.boxes["inbox"]: True, self.boxes["archive"]: True})
        self.assertEqual(self.query({"subject": "move me"}), [eid])
        ch = self.w.call("Email/changes", {"sinceState": s2})
        self.assertEqual((ch["created"], ch["updated"], ch["destroyed"]), ([], [eid], []))
        c = self.imap()
        for box in ("INBOX", "Archive"):
            c.select(box)
            typ, data = c.search(None, "SUBJECT", '"move me"')
            self.assertEqual(len(data[0].split()), 1, box)
        # one place dropped: an update; destroy: every copy, then destroyed
        r = self.w.call("Email/set", {"update": {eid: {
            "mailboxIds/" + self.boxes["inbox"]: None}}})
        self.assertIn(eid, r["updated"])
        self.assertEqual(self.get([eid], ["mailboxIds"])[0]["mailboxIds"],
                         {self.boxes["archive"]: True})
        r = self.w.call("Email/set", {"update": {eid: {
            "mailboxIds/" + self.boxes["inbox"]: True}}})
        s3 = self.w.call("Email/get", {"ids": []})["state"]
        r = self.w.call("Email/set", {"destroy": [eid]})
        self.assertEqual(r["destroyed"], [eid])
        ch = self.w.call("Email/changes", {"sinceState": s3})
        self.assertEqual((ch["created"], ch["updated"], ch["destroyed"]), ([], [], [eid]))
        for box in ("INBOX", "Archive"):
            c.select(box)
            typ, data = c.search(None, "SUBJECT", '"move me"')
            self.assertEqual(data, [b""], box)
        c.logout()
        self.assertEqual(self.get([eid], ["id"]), [])

    def test_upload_import(self):
        raw = message("imported one").encode()
        st, h, b = self.w.request("POST", "/jmap/upload/%s/" % self.w.account, raw,
                                  headers={"Content-Type": "message/rfc822"})
        self.assertEqual(st, 201)
        up = json.loads(b)
        self.assertEqual((up["size"], up["type"]), (len(raw), "message/rfc822"))
        st, h, b = self.w.request("GET", "/jmap/download/%s/%s/x.eml" % (self.w.account,
                                                                          up["blobId"]))
        self.assertEqual((st, b), (200, raw))
        r = self.w.call("Email/import", {"emails": {"i1": {
            "blobId": up["blobId"], "mailboxIds": {self.boxes["archive"]: True},
            "keywords": {"$seen": True}, "receivedAt": "2020-05-06T07:08:09Z"},
            "i2": {"blobId": "Unope", "mailboxIds": {self.boxes["archive"]: True}}}})
        self.assertEqual(r["notCreated"]["i2"]["type"], "blobNotFound")
        # A stale ifInState imports nothing (RFC 8620 5.3, as /set).
        stale = self.w.api([["Email/import", {"accountId": self.w.account, "ifInState": "stale",
                                          "emails": {"i3": {"blobId": up["blobId"],
                                                            "mailboxIds": {self.boxes["archive"]:
                                                                           True}}}}, "i"]],
                       using=[CORE, MAIL])
        self.assertEqual(stale[0], ["error", {"type": "stateMismatch"}, "i"])
        e = self.get([r["created"]["i1"]["id"]], ["subject", "receivedAt", "keywords"])[0]
        self.assertEqual((e["subject"], e["receivedAt"], e["keywords"]),
                         ("imported one", "2020-05-06T07:08:09Z", {"$seen": True}))

    def test_store_failure_text(self):
        """A failure of the system under the store (here a folder whose tmp/
        its owner may not write: the jmap process keeps the directory
        open, so it must be its mode) is no path or errno text in the
        SetError: Dovecot's generic text goes to the client, the detail to
        the log with the user."""
        r = self.w.call("Mailbox/set", {"create": {"b": {"name": "Broken"}}})
        box = r["created"]["b"]["id"]
        tmp = os.path.join(self.inst.maildir(ALICE), ".Broken", "tmp")
        os.chmod(tmp, 0o500)
        log_start = len(self.inst.log())
        try:
            raw = message("into a broken folder").encode()
            st, h, b = self.w.request("POST", "/jmap/upload/%s/" % self.w.account, raw,
                                      headers={"Content-Type": "message/rfc822"})
            self.assertEqual(st, 201)
            r = self.w.call("Email/import", {"emails": {"x": {
                "blobId": json.loads(b)["blobId"], "mailboxIds": {box: True}}}})
            err = r["notCreated"]["x"]
            self.assertEqual(err["type"], "serverFail", err)
            self.assertIn("Internal error occurred. Refer to server log", err["description"])
            self.assertNotIn("tmp", err["description"])
            self.assertNotIn("Permission denied", err["description"])
            wait_until(lambda: "Permission denied" in self.inst.log()[log_start:], 10,
                       what="the detail in the log")
            self.assertIn("jmap(%s): saving a message failed" % ALICE, self.inst.log()[log_start:])
        finally:
            os.chmod(tmp, 0o700)

    def test_email_parse(self):
        def upload(data, ctype):
            st, h, b = self.w.request("POST", "/jmap/upload/%s/" % self.w.account, data,
                                      headers={"Content-Type": ctype})
            self.assertEqual(st, 201)
            return json.loads(b)["blobId"]

        mail = upload(MULTIPART.encode(), "message/rfc822")
        junk = upload(b"\x00\x01\x02 no header here", "application/octet-stream")
        r = self.w.call("Email/parse", {"blobIds": [mail, junk, "Unope"],
                                        "fetchTextBodyValues": True})
        self.assertEqual(r["notFound"], ["Unope"])
        self.assertEqual(r["notParsable"], [junk])
        e = r["parsed"][mail]
        self.assertEqual(e["subject"], "\u00c9mile attaches")
        self.assertEqual(e["from"], [{"name": "Dave", "email": "dave@example.net"}])
        self.assertEqual(e["messageId"], ["multi-1@example.net"])
        self.assertTrue(e["hasAttachment"])
        self.assertEqual([a["name"] for a in e["attachments"]], ["report.pdf"])
        self.assertIsNone(e["attachments"][0]["blobId"])
        text = e["textBody"][0]["partId"]
        self.assertEqual(e["bodyValues"][text]["value"], "Voil\u00e0 the report.")
        self.assertNotIn("id", e)
        # chosen properties; a stored message's blob parses the same way
        raw = message("parsed from the store").encode()
        r = self.w.call("Email/import", {"emails": {"p": {
            "blobId": upload(raw, "message/rfc822"),
            "mailboxIds": {self.boxes["archive"]: True}}}})
        stored = self.get([r["created"]["p"]["id"]], ["blobId"])[0]["blobId"]
        r = self.w.call("Email/parse", {"blobIds": [stored],
                                        "properties": ["id", "subject", "size", "mailboxIds"]})
        e = r["parsed"][stored]
        self.assertEqual(e, {"id": None, "subject": "parsed from the store",
                             "size": len(raw), "mailboxIds": None})

    def test_draft_submission_to_bob(self):
        att = b"\x89PNG fake image bytes" * 10
        st, h, b = self.w.request("POST", "/jmap/upload/%s/" % self.w.account, att,
                                  headers={"Content-Type": "image/png"})
        blob = json.loads(b)["blobId"]
        acc = self.w.account
        ident = self.w.call("Identity/get", {})["list"]
        self.assertEqual(ident[0]["email"], ALICE)
        draft = {"mailboxIds": {self.boxes["drafts"]: True}, "keywords": {"$draft": True},
                 "from": [{"name": "Alice", "email": ALICE}], "to": [{"email": BOB}],
                 "subject": "Lunch \u2615", "textBody": [{"partId": "t", "type": "text/plain"}],
                 "bodyValues": {"t": {"value": "See you at noon.\n"}},
                 "attachments": [{"blobId": blob, "type": "image/png", "name": "map.png"}]}
        r = self.w.api([
            ["Email/set", {"accountId": acc, "create": {"d1": draft}}, "0"],
            ["EmailSubmission/set", {"accountId": acc, "create": {"s1": {
                "emailId": "#d1", "identityId": ident[0]["id"]}},
                "onSuccessUpdateEmail": {"#s1": {
                    "mailboxIds/" + self.boxes["drafts"]: None,
                    "mailboxIds/" + self.boxes["sent"]: True, "keywords/$draft": None}}}, "1"]])
        self.assertIn("d1", r[0][1]["created"], r)
        self.assertIn("s1", r[1][1]["created"], r[1])
        self.assertEqual(r[2][0], "Email/set")
        # the sent copy is in Sent without $draft, nothing left in Drafts
        self.assertEqual(self.count(self.boxes["drafts"]), 0)
        sent = self.query({"inMailbox": self.boxes["sent"], "subject": "Lunch"})
        self.assertEqual(len(sent), 1)
        self.assertEqual(self.get(sent, ["keywords"])[0]["keywords"], {})
        # bob got it, attachment included
        wait_until(lambda: self.inst.messages(BOB), 60, what="delivery to bob")
        msg = self.inst.messages(BOB)[-1]
        self.assertIn(b"From: Alice <alice@example.com>", msg)
        self.assertIn(b"Subject: =?UTF-8?B?", msg)
        self.assertIn(base64.b64encode(att)[:40], msg.replace(b"\n", b""))
        bob = Web(self.base)
        bob.login(BOB, PASS)
        bob.session()
        ids = bob.call("Email/query", {"filter": {"subject": "Lunch"}})["ids"]
        e = bob.call("Email/get", {"ids": ids, "properties": ["subject", "from", "attachments"]})[
            "list"][0]
        self.assertEqual(e["subject"], "Lunch \u2615")
        self.assertEqual(e["attachments"][0]["name"], "map.png")
        # From must be the identity's address
        forged = dict(draft, **{"from": [{"email": "mallory@example.com"}], "subject": "forged"})
        forged.pop("attachments")
        r = self.w.api([
            ["Email/set", {"accountId": acc, "create": {"d2": forged}}, "0"],
            ["EmailSubmission/set", {"accountId": acc, "create": {"s2": {
                "emailId": "#d2", "identityId": ident[0]["id"]}}}, "1"]])
        self.assertEqual(r[1][1]["notCreated"]["s2"]["type"], "forbiddenFrom")

    def test_threads(self):
        self.deliver(message("thread root", extra=""))
        root = self.find("thread root")
        mid = self.get([root], ["messageId"])[0]["messageId"][0]
        self.deliver(message("Re: thread root", extra="In-Reply-To: <%s>\r\nReferences: <%s>\r\n"
                             % (mid, mid)))
        reply = self.find("Re: thread root")
        t = self.get([root, reply], ["threadId"])
        self.assertEqual(t[0]["threadId"], t[1]["threadId"])
        th = self.w.call("Thread/get", {"ids": [t[0]["threadId"], "t00000000"]})
        self.assertEqual(th["list"][0]["emailIds"], [root, reply])
        self.assertEqual(th["notFound"], ["t00000000"])
        tid = t[0]["threadId"]

        # Thread/changes: a reply updates the thread, a new message creates
        # one, destroying its only message destroys it
        state0 = th["state"]
        self.deliver(message("Re: Re: thread root", extra="In-Reply-To: <%s>\r\nReferences: <%s>\r\n"
                             % (mid, mid)))
        ch = self.w.call("Thread/changes", {"sinceState": state0})
        self.assertEqual((ch["created"], ch["updated"], ch["destroyed"]), ([], [tid], []))
        self.deliver(message("a lonely message"))
        lonely = self.find("a lonely message")
        lonely_t = self.get([lonely], ["threadId"])[0]["threadId"]
        ch = self.w.call("Thread/changes", {"sinceState": ch["newState"]})
        self.assertEqual((ch["created"], ch["updated"], ch["destroyed"]), ([lonely_t], [], []))
        state1 = ch["newState"]

        # collapseThreads: one Email per thread, the newest (receivedAt desc)
        inbox = {"inMailbox": self.boxes["inbox"]}
        all_ids = self.query(inbox)
        threads = {e["id"]: e["threadId"] for e in self.get(all_ids, ["threadId"])}
        q = self.w.call("Email/query", {"filter": inbox, "collapseThreads": True})
        self.assertEqual(len(q["ids"]), len(set(threads.values())))
        self.assertEqual(len({threads[i] for i in q["ids"]}), len(q["ids"]))
        self.assertEqual(q["ids"], [i for i in all_ids if i in q["ids"]])  # the sort kept
        firsts = {}
        for i in all_ids:
            firsts.setdefault(threads[i], i)
        self.assertEqual(set(q["ids"]), set(firsts.values()))
        self.assertFalse(q["canCalculateChanges"])
        r = self.w.api([["Email/queryChanges", {"accountId": self.w.account, "filter": inbox,
                                                "collapseThreads": True,
                                                "sinceQueryState": q["queryState"]}, "c"]])
        self.assertEqual(r[0], ["error", {"type": "cannotCalculateChanges",
                                          "description": "collapseThreads"}, "c"])

        s = self.w.call("Email/set", {"destroy": [lonely]})
        self.assertEqual(s["destroyed"], [lonely])
        ch = self.w.call("Thread/changes", {"sinceState": state1})
        self.assertEqual((ch["created"], ch["updated"], ch["destroyed"]), ([], [], [lonely_t]))

    def test_vacation(self):
        r = self.w.api([["VacationResponse/get", {"accountId": self.w.account}, "v"]],
                       using=[CORE, "urn:ietf:params:jmap:vacationresponse"])
        self.assertEqual(r[0][1]["list"][0]["id"], "singleton")
        self.assertFalse(r[0][1]["list"][0]["isEnabled"])

    def test_push_eventsource(self):
        cookie = "; ".join("%s=%s" % (c.name, c.value) for c in self.w.jar)
        s = socket.create_connection(("127.0.0.1", self.inst.http_plain_port), timeout=30)
        s.sendall(("GET /jmap/eventsource/?types=*&closeafter=no&ping=0 HTTP/1.1\r\nHost: x\r\n"
                   "Cookie: %s\r\nAccept: text/event-stream\r\n\r\n" % cookie).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        self.assertRegex(data, rb"^HTTP/1\.1 200 ")
        self.assertIn(b"text/event-stream", data)
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as m:
            m.sendmail("carol@example.net", [ALICE], message("push me").encode())
        deadline = time.monotonic() + 30
        while b"event: state" not in data and time.monotonic() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        self.assertIn(b"event: state", data)
        line = [l for l in data.split(b"\n") if l.startswith(b"data: {")][0]
        change = json.loads(line[6:])
        self.assertEqual(change["@type"], "StateChange")
        self.assertIn("Email", change["changed"][self.w.account])


class RememberedExpungesTest(unittest.TestCase):
    """The expunged messages jmap remembers for Email/changes and
    Thread/changes are bounded (jmap_remembered_expunges, here 4): past
    the bound the older half is forgotten, and a /changes that would need
    a forgotten one answers cannotCalculateChanges; a recent state still
    gets its exact changes."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(http=True, main_cf={"auth_failure_exceptions": "127.0.0.0/8",
                                                "jmap_remembered_expunges": "4"})
        cls.inst.user_add(ALICE, PASS)
        cls.inst.start()
        wait_until(lambda: cls.inst._port_open(cls.inst.http_plain_port), 30, what="http port")
        cls.w = Web("http://127.0.0.1:%d" % cls.inst.http_plain_port)
        st, h, b = cls.w.login(ALICE, PASS)
        assert st == 200, (st, b)
        cls.w.session()
        cls.inbox = [m["id"] for m in cls.w.call("Mailbox/get", {})["list"]
                     if m["role"] == "inbox"][0]

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def add(self, subject):
        st, h, b = self.w.request("POST", "/jmap/upload/%s/" % self.w.account,
                                  message(subject).encode(),
                                  headers={"Content-Type": "message/rfc822"})
        self.assertEqual(st, 201, b)
        r = self.w.call("Email/import", {"emails": {"i": {
            "blobId": json.loads(b)["blobId"], "mailboxIds": {self.inbox: True}}}})
        return r["created"]["i"]["id"]

    def changes(self, method, since):
        return self.w.api([[method, {"accountId": self.w.account, "sinceState": since},
                            "c"]])[0]

    def test_bound(self):
        ids = [self.add("forget %d" % k) for k in range(6)]
        threads = [e["threadId"] for e in
                   self.w.call("Email/get", {"ids": ids, "properties": ["threadId"]})["list"]]
        s0 = self.w.call("Email/get", {"ids": []})["state"]
        r = self.w.call("Email/set", {"destroy": ids})
        self.assertEqual(sorted(r["destroyed"]), sorted(ids))
        for method in ("Email/changes", "Thread/changes"):
            r = self.changes(method, s0)
            self.assertEqual(r[0], "error", r)
            self.assertEqual(r[1]["type"], "cannotCalculateChanges")
        # a state after which fewer than the bound went: exact
        keep = self.add("forget me not")
        kt = self.w.call("Email/get", {"ids": [keep], "properties": ["threadId"]})[
            "list"][0]["threadId"]
        s1 = self.w.call("Email/get", {"ids": []})["state"]
        self.w.call("Email/set", {"destroy": [keep]})
        r = self.changes("Email/changes", s1)
        self.assertEqual(r[0], "Email/changes", r)
        self.assertEqual((r[1]["created"], r[1]["updated"], r[1]["destroyed"]), ([], [], [keep]))
        r = self.changes("Thread/changes", s1)
        self.assertEqual(r[0], "Thread/changes", r)
        self.assertEqual(r[1]["destroyed"], [kt])
        self.assertNotIn(kt, threads)


class VacationTest(unittest.TestCase):
    """VacationResponse on the user's Sieve scripts: the user's filters,
    put and activated over ManageSieve, keep running while the vacation
    set over JMAP is on (the vacation script includes them) and are the
    active script again when it is off; ManageSieve sees the vacation
    script; a message from Bob gets the vacation reply and is still filed
    by the filter. Also RFC 9425 quotas, from the account's quota_rule."""

    FILTER = (b'require ["fileinto", "mailbox"];\r\n'
              b'if header :contains "subject" "report" {\r\n  fileinto :create "Work";\r\n}\r\n')

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance(http=True, managesieve=True,
                            main_cf={"auth_failure_exceptions": "127.0.0.0/8"})
        cls.inst.user_add(ALICE, PASS, "--quota", "1M")
        cls.inst.user_add(BOB, PASS)
        # the vacation reply goes through sendmail and postdrop
        r = cls.inst.tern("check", check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        cls.inst.start()
        wait_until(lambda: cls.inst._port_open(cls.inst.http_plain_port), 30, what="http port")
        wait_until(lambda: cls.inst._port_open(cls.inst.managesieve_port), 30,
                   what="managesieve port")
        cls.w = Web("http://127.0.0.1:%d" % cls.inst.http_plain_port)
        st, h, b = cls.w.login(ALICE, PASS)
        assert st == 200, (st, b)
        cls.w.session()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def sieve(self):
        from test_managesieve import Msv, literal
        c = Msv(self.inst.managesieve_port)
        self.assertEqual(c.response()[0], "OK")
        auth = base64.b64encode(b"\0" + ALICE.encode() + b"\0" + PASS.encode()).decode()
        self.assertEqual(c.do('AUTHENTICATE "PLAIN" "%s"' % auth)[0], "OK")
        c.literal = literal
        return c

    def scripts(self, c):
        st, _, _, lines = c.do("LISTSCRIPTS")
        self.assertEqual(st, "OK")
        return sorted(l.decode().strip() for l in lines)

    def vac(self, **kw):
        r = self.w.api([["VacationResponse/%s" % ("set" if kw else "get"),
                         dict(kw, accountId=self.w.account), "v"]],
                       using=[CORE, "urn:ietf:params:jmap:vacationresponse"])
        self.assertEqual(r[0][0], "VacationResponse/%s" % ("set" if kw else "get"), r)
        return r[0][1]

    def test_quota(self):
        """RFC 9425 from the account's quota_rule (users file: 1M), the
        numbers local enforces; Quota/changes after a delivery."""
        s = self.w.session()
        self.assertIn("urn:ietf:params:jmap:quota", s["capabilities"])
        self.assertEqual(s["primaryAccounts"]["urn:ietf:params:jmap:quota"], self.w.account)
        using = [CORE, "urn:ietf:params:jmap:quota"]
        r = self.w.api([["Quota/get", {"accountId": self.w.account, "ids": None}, "q"],
                        ["Quota/query", {"accountId": self.w.account}, "l"]], using=using)
        g = r[0][1]
        self.assertEqual(len(g["list"]), 1, g)
        q = g["list"][0]
        self.assertEqual((q["id"], q["resourceType"], q["hardLimit"], q["scope"], q["types"]),
                         ("storage", "octets", 1024 * 1024, "account", ["Email"]))
        self.assertEqual(r[1][1]["ids"], ["storage"])
        before = q["used"]
        body = "x" * 5000 + "\n"
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as m:
            m.sendmail(BOB, [ALICE], message("quota filler", body=body, frm=BOB).encode())

        def used():
            r = self.w.api([["Quota/get", {"accountId": self.w.account,
                                           "ids": ["storage", "count"],
                                           "properties": ["used"]}, "q"]], using=using)
            return r[0][1]
        wait_until(lambda: used()["list"][0]["used"] > before + 5000, 30, what="quota used grows")
        now = used()
        self.assertEqual(now["notFound"], ["count"])
        self.assertEqual(set(now["list"][0]), {"id", "used"})
        r = self.w.api([["Quota/changes", {"accountId": self.w.account,
                                           "sinceState": g["state"]}, "c"],
                        ["Quota/changes", {"accountId": self.w.account,
                                           "sinceState": now["state"]}, "d"],
                        ["Quota/get", {"accountId": self.w.account}, "e"]], using=using)
        self.assertEqual((r[0][1]["updated"], r[0][1]["created"], r[0][1]["newState"]),
                         (["storage"], [], now["state"]))
        self.assertEqual(r[1][1]["updated"], [])
        # without the capability in "using", the method is unknown
        r = self.w.api([["Quota/get", {"accountId": self.w.account}, "q"]], using=[CORE])
        self.assertEqual(r[0][1]["type"], "unknownMethod")

    def test_zz_ids_survive_a_restart(self):
        """Email, thread and blob ids, and the state, are the same after
        the whole instance (jmap process included) restarted."""
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as m:
            m.sendmail(BOB, [ALICE], message("kept ids", frm=BOB).encode())
        wait_until(lambda: self.w.call("Email/query", {"filter": {"subject": "kept ids"}})["ids"],
                   30, what="delivery")
        props = ["threadId", "blobId", "mailboxIds", "subject"]
        q = self.w.call("Email/query", {})
        before = self.w.call("Email/get", {"ids": q["ids"], "properties": props})
        self.inst.stop()
        self.inst.start()
        wait_until(lambda: self.inst._port_open(self.inst.http_plain_port), 30, what="http port")
        w = Web("http://127.0.0.1:%d" % self.inst.http_plain_port)
        st, h, b = w.login(ALICE, PASS)
        self.assertEqual(st, 200, b)
        w.session()
        self.assertEqual(w.account, self.w.account)
        q2 = w.call("Email/query", {})
        self.assertEqual(q2["ids"], q["ids"])
        self.assertEqual(q2["queryState"], q["queryState"])
        after = w.call("Email/get", {"ids": q["ids"], "properties": props})
        self.assertEqual(after["list"], before["list"])
        self.assertEqual(after["state"], before["state"])
        self.__class__.w = w

    def test_vacation_on_sieve(self):
        c = self.sieve()
        self.assertEqual(c.do(b'PUTSCRIPT "filters" ' + c.literal(self.FILTER))[0], "OK")
        self.assertEqual(c.do('SETACTIVE "filters"')[0], "OK")
        g = self.vac()
        self.assertEqual(g["list"][0]["id"], "singleton")
        self.assertFalse(g["list"][0]["isEnabled"])
        self.assertEqual(g["notFound"], [])
        state = g["state"]

        # errors: singleton create/destroy, bad values, a stale state
        s = self.vac(create={"x": {"isEnabled": True}}, destroy=["singleton"],
                     update={"singleton": {"fromDate": "yesterday"}})
        self.assertEqual(s["notCreated"]["x"]["type"], "singleton")
        self.assertEqual(s["notDestroyed"]["singleton"]["type"], "singleton")
        self.assertEqual(s["notUpdated"]["singleton"]["type"], "invalidProperties")
        self.assertEqual(s["notUpdated"]["singleton"]["properties"], ["fromDate"])
        s = self.vac(update={"singleton": {"color": "red"}})
        self.assertEqual(s["notUpdated"]["singleton"]["properties"], ["color"])
        r = self.w.api([["VacationResponse/set", {"accountId": self.w.account,
                                                  "ifInState": "not-" + state,
                                                  "update": {"singleton": {"isEnabled": True}}},
                         "v"]], using=[CORE, "urn:ietf:params:jmap:vacationresponse"])
        self.assertEqual(r[0], ["error", {"type": "stateMismatch"}, "v"])
        self.assertFalse(self.vac()["list"][0]["isEnabled"])

        now = time.time()
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        s = self.vac(ifInState=state, update={"singleton": {
            "isEnabled": True, "subject": "Away \"until\" Monday",
            "textBody": "Back on Monday.\nAlice", "fromDate": iso(now - 86400),
            "toDate": iso(now + 86400)}})
        self.assertEqual(s["updated"], {"singleton": None}, s)
        self.assertEqual(s["oldState"], state)
        self.assertNotEqual(s["newState"], state)
        v = self.vac()["list"][0]
        self.assertTrue(v["isEnabled"])
        self.assertEqual((v["subject"], v["textBody"], v["htmlBody"]),
                         ('Away "until" Monday', "Back on Monday.\nAlice", None))
        self.assertEqual(v["toDate"], iso(now + 86400))

        # ManageSieve sees it; the filters are kept and included
        self.assertEqual(self.scripts(c), ['"filters"', '"jmap-vacation" ACTIVE'])
        st, _, _, lines = c.do('GETSCRIPT "jmap-vacation"')
        self.assertEqual(st, "OK")
        text = b"".join(lines)
        self.assertIn(b'include :personal :optional "filters";', text)
        self.assertIn(b"vacation :subject", text)

        # mail from Bob: the vacation answers him, the filter files it
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as m:
            m.sendmail(BOB, [ALICE], message("the quarterly report", frm=BOB).encode())
        # (the folder is made before its new/: wait for new/ itself)
        wait_until(lambda: os.path.isdir(os.path.join(self.inst.maildir(ALICE), ".Work", "new"))
                   and os.listdir(os.path.join(self.inst.maildir(ALICE), ".Work", "new")), 30,
                   what="the filter files the message")
        wait_until(lambda: self.inst.messages(BOB), 30, what="the vacation reply")
        reply = self.inst.messages(BOB)[0]
        self.assertIn(b'Subject: Away "until" Monday', reply)
        self.assertIn(b"Back on Monday.", reply)
        self.assertIn(b"Auto-Submitted: auto-replied", reply)

        # off: the filters are the active script again, the text is kept
        s = self.vac(update={"singleton": {"isEnabled": False}})
        self.assertEqual(s["updated"], {"singleton": None}, s)
        self.assertEqual(self.scripts(c), ['"filters" ACTIVE', '"jmap-vacation"'])
        v = self.vac()["list"][0]
        self.assertFalse(v["isEnabled"])
        self.assertEqual(v["subject"], 'Away "until" Monday')
        # activated over ManageSieve while switched off: still off (the
        # script then only runs the filters)
        self.assertEqual(c.do('SETACTIVE "jmap-vacation"')[0], "OK")
        self.assertFalse(self.vac()["list"][0]["isEnabled"])
        self.assertEqual(c.do('SETACTIVE "filters"')[0], "OK")
        c.do("LOGOUT")



if __name__ == "__main__":
    unittest.main()
