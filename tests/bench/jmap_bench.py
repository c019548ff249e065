"""JMAP Email/query speed (issue 19's target: Email/query sorted by date,
first 50, + Email/get of the list properties on a 100,000-message mailbox
in at most 30 ms per request, warm).

Run by hand: python3 tests/bench/jmap_bench.py [N] (default 100000).  One
account's INBOX of N small messages written straight into cur/, a tern
instance with http on loopback, one warm-up request (the index and the
jmap process's id table are built), then REPS timed requests, each
[Email/query {inMailbox, sort receivedAt desc, limit 50},
 Email/get #ids {the webmail's list properties}] in one POST; the
median and the spread are printed.  The machine's load is not
controlled: on a shared machine the numbers are noisy."""
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)

from http_util import Web  # noqa: E402
import imap_bench  # noqa: E402
from imap_bench import make_messages  # noqa: E402
from tern_instance import Instance, wait_until  # noqa: E402

USER, PW = "bench@example.com", "a-bench-password"
REPS = int(os.environ.get("JMAP_BENCH_REPS", "20"))
# the webmail's list (web/src/main.js LIST_PROPS)
LIST_PROPS = ["id", "threadId", "mailboxIds", "keywords", "from", "to", "subject", "receivedAt",
              "preview", "hasAttachment", "size"]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    imap_bench.USER = USER
    inst = Instance(http=True, main_cf={"auth_failure_exceptions": "127.0.0.0/8"})
    try:
        inst.user_add(USER, PW)
        md = inst.maildir(USER)
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, d), exist_ok=True)
        st = os.stat(md)
        for d in ("", "cur", "new", "tmp"):
            os.chown(os.path.join(md, d), st.st_uid, st.st_gid)
        t = time.monotonic()
        make_messages(os.path.join(md, "cur"), n, st.st_uid, st.st_gid, random.Random(19),
                      sizes=(1, 1, 2))
        print("wrote %d messages in %.1f s" % (n, time.monotonic() - t))
        inst.start()
        wait_until(lambda: inst._port_open(inst.http_plain_port), 60, what="http port")
        w = Web("http://127.0.0.1:%d" % inst.http_plain_port)
        st, h, b = w.login(USER, PW)
        assert st == 200, (st, b)
        w.session()
        inbox = [m["id"] for m in w.call("Mailbox/get", {})["list"] if m["role"] == "inbox"][0]
        calls = [["Email/query", {"accountId": w.account, "filter": {"inMailbox": inbox},
                                  "sort": [{"property": "receivedAt", "isAscending": False}],
                                  "limit": 50, "calculateTotal": True}, "q"],
                 ["Email/get", {"accountId": w.account, "properties": LIST_PROPS,
                                "#ids": {"resultOf": "q", "name": "Email/query",
                                         "path": "/ids"}}, "g"]]
        t = time.monotonic()
        r = w.api(calls)
        print("first request (cold: index, caches, id table): %.0f ms" %
              ((time.monotonic() - t) * 1000))
        assert r[0][1]["total"] == n, r[0][1].get("total")
        assert len(r[1][1]["list"]) == 50
        times = []
        for _ in range(REPS):
            t = time.monotonic()
            w.api(calls)
            times.append((time.monotonic() - t) * 1000)
        med = statistics.median(times)
        print("warm Email/query+Email/get, %d messages: median %.1f ms, min %.1f, max %.1f "
              "(%d requests)" % (n, med, min(times), max(times), REPS))
    finally:
        inst.cleanup()


if __name__ == "__main__":
    main()
