"""The webmail (web/, built into build/web by make all) in a real browser:
headless Debian chromium driven by playwright-core (tests/e2e/webmail_browser.mjs)
against a tern instance made with `tern init --http`, two users, mail
delivered through smtpd. Alice logs in, reads a message, downloads its
attachment, replies (the reply reaches Bob's inbox and Alice's Sent), searches,
moves the message to a new folder, marks a hostile HTML message as spam and
logs out; Bob logs in and reads the reply. The hostile message (script,
event handlers, javascript: link, remote image, CSS url(), iframe, form)
must run nothing and load nothing: a loopback HTTP server counts hits (none
for it), the browser's network log has no request off the instance's origin,
and the flag its scripts would set stays unset. A message with a remote
picture loads nothing until "Show images" is clicked, and the picture after
it (the loopback server sees that one request); the mail's own inline style
applies in its frame. Screenshots of the main views are
kept in a temporary folder whose path the test prints."""
import glob
import gzip
import http.server
import json
import os
import re
import smtplib
import ssl
import subprocess
import tempfile
import threading
import unittest
import urllib.request
from email.message import EmailMessage

from tern_instance import BUILD, ROOT, Instance, wait_until

DRIVER = os.path.join(ROOT, "tests", "e2e", "webmail_browser.mjs")
CHROMIUM = "/usr/bin/chromium"

ALICE, ALICE_PASS = "alice@example.com", "alice-web-secret"
BOB, BOB_PASS = "bob@example.com", "bob-web-secret"
PLAIN_SUBJECT = "Quarterly numbers"
PLAIN_TEXT = "Hello Alice,\n\nthe quarterly numbers are in the attached file.\n\nBob\n"
ATTACHMENT = ("numbers.csv", "quarter,total\nQ1,17\nQ2,42\n")
EVIL_SUBJECT = "Weekly newsletter"
REPLY_TEXT = "Thanks Bob, got them. reply-token-7d41"
SELF_SUBJECT = "Note to self"
PICTURES_SUBJECT = "Pictures from the trip"
VACATION_SUBJECT = "Out of office this week"
PICTURE_PATH = "/consented-picture.gif"


class Hits(http.server.BaseHTTPRequestHandler):
    """Counts every request: the hostile message must cause none."""
    hits = []

    def do_GET(self):
        Hits.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    do_POST = do_GET

    def log_message(self, *args):
        pass


def evil_html(port):
    base = "http://127.0.0.1:%d" % port
    return """<html><head>
<script>window.ternPwned = 1; try { parent.ternPwned = 1; } catch (e) {}
new Image().src = "%(b)s/script";</script>
<style>body { background: url(%(b)s/css-background); }</style>
<link rel="stylesheet" href="%(b)s/link.css">
<meta http-equiv="refresh" content="0; url=%(b)s/refresh">
</head><body onload="window.ternPwned = 1; new Image().src='%(b)s/onload'">
<p>Evil newsletter: the visible part.</p>
<img src="%(b)s/remote-image.png" alt="tracker">
<img src="broken" onerror="window.ternPwned = 1; new Image().src='%(b)s/onerror'">
<p><a href="javascript:window.ternPwned=1;new Image().src='%(b)s/jslink'">Click me</a></p>
<div style="background-image: url('%(b)s/inline-style')">styled</div>
<iframe src="%(b)s/iframe"></iframe>
<form action="%(b)s/form" method="post"><input name="q" value="x"><button>Go</button></form>
<svg><script>window.ternPwned = 1;</script><image href="%(b)s/svg-image"/></svg>
<object data="%(b)s/object"></object>
</body></html>
""" % {"b": base}


class WebmailBrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hits = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hits)
        cls.hit_port = cls.hits.server_address[1]
        threading.Thread(target=cls.hits.serve_forever, daemon=True).start()
        cls.inst = Instance(http=True, main_cf={"auth_failure_exceptions": "127.0.0.0/8"})
        cls.inst.user_add(ALICE, ALICE_PASS)
        cls.inst.user_add(BOB, BOB_PASS)
        # Sending goes through sendmail and postdrop as the mailbox owner:
        # "tern check" makes the build's postdrop setgid, as an install does.
        r = cls.inst.tern("check", check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        cls.inst.start()
        wait_until(lambda: cls.inst._port_open(cls.inst.http_port), 30, what="http port")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.hits.shutdown()
        cls.hits.server_close()

    def deliver(self):
        plain = EmailMessage()
        plain["From"] = "Bob <%s>" % BOB
        plain["To"] = "Alice <%s>" % ALICE
        plain["Subject"] = PLAIN_SUBJECT
        plain["Message-ID"] = "<quarterly-1@example.com>"
        plain.set_content(PLAIN_TEXT)
        plain.add_attachment(ATTACHMENT[1].encode(), maintype="text", subtype="csv",
                             filename=ATTACHMENT[0])
        evil = EmailMessage()
        evil["From"] = "News <news@example.com>"
        evil["To"] = ALICE
        evil["Subject"] = EVIL_SUBJECT
        evil.set_content("Evil newsletter: the visible part (text version).")
        evil.add_alternative(evil_html(self.hit_port), subtype="html")
        pictures = EmailMessage()
        pictures["From"] = "Carol <carol@example.com>"
        pictures["To"] = ALICE
        pictures["Subject"] = PICTURES_SUBJECT
        pictures.set_content("The picture is in the HTML version.")
        pictures.add_alternative(
            '<p id="styled" style="color: rgb(0, 128, 0)">The lake at dawn:</p>'
            '<img id="picture" src="http://127.0.0.1:%d%s" alt="the lake">'
            % (self.hit_port, PICTURE_PATH), subtype="html")
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=30) as s:
            s.sendmail("news@example.com", [ALICE], evil.as_bytes())
            s.sendmail("carol@example.com", [ALICE], pictures.as_bytes())
            s.sendmail(BOB, [ALICE], plain.as_bytes())
        wait_until(lambda: len(self.inst.messages(ALICE)) == 3, 30, what="three deliveries to alice")

    def folder_messages(self, addr, folder):
        md = self.inst.maildir(addr)
        d = md if folder == "INBOX" else os.path.join(md, "." + folder)
        out = []
        for p in glob.glob(os.path.join(d, "new", "*")) + glob.glob(os.path.join(d, "cur", "*")):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def test_page_has_no_inline_code(self):
        """index.html names hashed bundles only (no inline script or style, so
        http's strict CSP holds), is served with that CSP, and the whole
        client stays within 300 KiB compressed."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen("https://127.0.0.1:%d/" % self.inst.http_port,
                                    context=ctx, timeout=30) as r:
            page = r.read().decode()
            csp = r.headers.get("Content-Security-Policy", "")
        self.assertIn("script-src 'self'", csp)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S)
        self.assertTrue(scripts)
        for attrs, body in scripts:
            self.assertRegex(attrs, r'src="/assets/main-[A-Z0-9]+\.js"')
            self.assertEqual(body.strip(), "")
        self.assertNotIn("<style", page)
        self.assertNotRegex(page, r"\son[a-z]+=")
        self.assertRegex(page, r'<link rel="stylesheet" href="/assets/style-[A-Z0-9]+\.css">')
        total = 0
        for p in glob.glob(os.path.join(BUILD, "web", "**", "*"), recursive=True):
            if os.path.isfile(p):
                with open(p, "rb") as f:
                    total += len(gzip.compress(f.read()))
        self.assertLess(total, 300 * 1024)

    def test_webmail_in_chromium(self):
        self.assertTrue(os.path.exists(os.path.join(BUILD, "web", "index.html")),
                        "make all builds the webmail into build/web")
        self.deliver()
        shots = tempfile.mkdtemp(prefix="tern-webmail-shots-")
        cfg = {
            "url": "https://127.0.0.1:%d/" % self.inst.http_port,
            "chromium": CHROMIUM,
            "a": {"user": ALICE, "pass": ALICE_PASS, "address": ALICE},
            "b": {"user": BOB, "pass": BOB_PASS, "address": BOB},
            "shots": shots,
            "plain": {"subject": PLAIN_SUBJECT, "text": "the quarterly numbers are in the attached file",
                      "attachment": {"name": ATTACHMENT[0], "content": ATTACHMENT[1]}},
            "evil": {"subject": EVIL_SUBJECT, "visibleText": "the visible part", "linkText": "Click me"},
            "pictures": {"subject": PICTURES_SUBJECT,
                         "url": "http://127.0.0.1:%d%s" % (self.hit_port, PICTURE_PATH)},
            "replyText": REPLY_TEXT,
            "folder": "Projects",
            "searchWord": "Quarterly",
            "selfSubject": SELF_SUBJECT,
            "vacationSubject": VACATION_SUBJECT,
        }
        cfg_path = os.path.join(shots, "config.json")
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        r = subprocess.run(["node", DRIVER, cfg_path], capture_output=True, text=True, timeout=400)
        print("\n(webmail screenshots in %s)" % shots)
        lines = r.stdout.splitlines()
        result = next((json.loads(l[7:]) for l in lines if l.startswith("RESULT ")), None)
        self.assertIsNotNone(result, "driver gave no result: %s\n%s" % (r.stdout[-3000:], r.stderr[-3000:]))
        self.assertTrue(result["ok"], "browser run failed at step %s: %s\nunanswered requests: %s\n"
                        "page: %s\n%s" % (result["steps"][-1] if result["steps"] else "-",
                                          result.get("error"), result.get("unanswered"),
                                          result.get("at"), r.stderr[-2000:]))
        self.assertEqual(r.returncode, 0)

        # The page listened for pushes.
        self.assertTrue([u for u in result["requests"] if "/jmap/eventsource/?types=*" in u])

        # Nothing of the hostile message ran or loaded; the one picture the
        # user asked for did, once (the driver checked: not before the click).
        self.assertEqual(Hits.hits, [PICTURE_PATH], "what reached the loopback server")
        picture_url = "http://127.0.0.1:%d%s" % (self.hit_port, PICTURE_PATH)
        self.assertEqual(result["foreign"], [picture_url], "requests off the instance's origin")
        self.assertEqual(result["pictureBeforeClick"], [])
        self.assertEqual(result["pictureStyle"], "rgb(0, 128, 0)")
        self.assertIsNone(result["flags"]["top"], "a script of the message ran in the page")
        self.assertIn(result["frameScript"], (None,), "a script of the message ran in its frame")
        self.assertEqual(result["dialogs"], [])

        # What the browser did is in the mailboxes.
        bob_inbox = self.folder_messages(BOB, "INBOX")
        self.assertEqual(len(bob_inbox), 1)
        self.assertIn(b"Subject: Re: " + PLAIN_SUBJECT.encode(), bob_inbox[0])
        self.assertIn(REPLY_TEXT.encode(), bob_inbox[0])
        self.assertIn(b"In-Reply-To: <quarterly-1@example.com>", bob_inbox[0])
        sent = self.folder_messages(ALICE, "Sent")
        self.assertEqual(len(sent), 2)
        self.assertTrue(any(REPLY_TEXT.encode() in m for m in sent))
        self.assertEqual(self.folder_messages(ALICE, "Drafts"), [])
        projects = self.folder_messages(ALICE, "Projects")
        self.assertEqual(len(projects), 1)
        self.assertIn(b"Subject: " + PLAIN_SUBJECT.encode(), projects[0])
        junk = self.folder_messages(ALICE, "Junk")
        self.assertEqual(len(junk), 1)
        self.assertIn(b"Subject: " + EVIL_SUBJECT.encode(), junk[0])
        inbox = self.folder_messages(ALICE, "INBOX")
        self.assertEqual(len(inbox), 2)
        self.assertEqual(sorted(b"Subject: " + SELF_SUBJECT.encode() in m for m in inbox),
                         [False, True])

        # The vacation saved in settings is the active Sieve script.
        home = self.inst.maildir(ALICE)
        with open(os.path.join(home, "sieve", "jmap-vacation.sieve")) as f:
            script = f.read()
        self.assertIn('vacation :subject "%s" "Back next week."' % VACATION_SUBJECT, script)
        self.assertEqual(os.readlink(os.path.join(home, ".dovecot.sieve")),
                         "sieve/jmap-vacation.sieve")

        for name in ("inbox", "reading", "compose", "search", "html-message", "pictures-blocked", "pictures-shown", "settings", "phone",
                     "other-inbox"):
            self.assertTrue(os.path.getsize(os.path.join(shots, name + ".png")) > 1000, name)


if __name__ == "__main__":
    unittest.main()
