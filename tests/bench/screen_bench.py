"""The SCREEN phase of make bench (BENCH_ONLY=SCREEN, issue 18): the cost
of screening new clients before the greeting.  Connections per second of
connect + screening (pregreet test and three DNSBLs) + EHLO + QUIT, tern's
smtpd (smtpd_screening = yes) against Debian's Postfix with postscreen in
front of smtpd (postscreen, smtpd pass, dnsblog, tlsproxy in master.cf),
on the same settings and the same DNS data.

DNS: tests/e2e/dns_zone.py's ZoneDns on port 53 of a loopback address
(glibc's resolver, which Postfix's dnsblog and smtpd use, knows no other
port; Postfix runs in a mount namespace whose /etc/resolv.conf names it;
tern gets it in dns_servers).  It lists nobody: every client is clean, so
each connection costs three DNSBL look-ups and the full greeting wait
(postscreen_greet_wait = 1s, Postfix's smallest), then smtpd's PTR
look-up.  No client is ever cached: every connection comes from an
address of its own (127.1.0.1, 127.1.0.2, ...; postscreen's and tern's
caches are per address), which the server's log (PASS NEW, one per
session) and the DNS server's query count (three DNSBL names per session)
confirm after each run; a run that shows fewer fails.

Before the timed window, WARMUP seconds of the same load from other
addresses (untimed): Postfix's master starts dnsblog and smtpd processes
on demand, and until enough run, postscreen's requests to dnsblog fail
(EAGAIN: "connect to private/dnsblog service") and such a client passes
without its DNSBL look-ups.

The client (a process of its own, outside the servers' cgroups, on the
same two cores: both servers pay for it alike) keeps CONC sessions open
at once for SECS seconds; the rate is the sessions completed over the
time until the last ended.  Each server: mynetworks = 127.0.0.1/32 (its
own probes are not screened), enforce actions, a fresh instance per run.
Postfix gets default_process_limit = 4 x CONC: at its default (100),
which is also the listen backlog of dnsblog's socket and postscreen's
queue limits, postscreen's connects to dnsblog fail with EAGAIN at this
load (the client passes without its look-ups) and waiting clients are
told 421.  A failed session is counted; more than 1 % fails the run.
"""
import asyncio
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time

CONC = int(os.environ.get("BENCH_SCREEN_CONC", "1000"))
SECS = 10.0
GREET_WAIT = "1s"
ZONES = ("bl1.test", "bl2.test", "bl3.test")
TARGET = 2.0
WARMUP = 3.0
WARMUP_BASE = 254 * 256 * 100          # warm-up clients from 127.101.0.1 on


def address(i):
    """The i-th client address: 127.1.0.1 onwards, no .0 or .255."""
    return "127.%d.%d.%d" % (1 + i // (254 * 256), (i // 254) % 256, 1 + i % 254)


async def _session(port, src):
    r, w = await asyncio.open_connection("127.0.0.1", port, local_addr=(src, 0))
    try:
        async def reply():
            while True:
                line = await r.readline()
                if not line:
                    raise EOFError("closed")
                if line[3:4] != b"-":
                    return int(line[:3])
        if await reply() != 220:
            raise RuntimeError("greeting")
        w.write(b"EHLO client.example\r\n")
        if await reply() != 250:
            raise RuntimeError("EHLO")
        w.write(b"QUIT\r\n")
        if await reply() != 221:
            raise RuntimeError("QUIT")
    finally:
        w.close()


async def _drive(port, conc, secs, base, q):
    counter = [0]
    done, failed, errors = [0], [0], {}
    t0 = time.monotonic()
    last = [t0]

    async def worker(k):
        # Arrivals spread over the first second, not one burst of conc.
        await asyncio.sleep(k / conc)
        while time.monotonic() - t0 < secs:
            i = base + counter[0]
            counter[0] += 1
            try:
                await asyncio.wait_for(_session(port, address(i)), 60)
                done[0] += 1
                last[0] = time.monotonic()
            except Exception as e:      # a failed session is counted, not fatal
                failed[0] += 1
                k = "%s: %s" % (type(e).__name__, e)
                errors[k] = errors.get(k, 0) + 1
    await asyncio.gather(*(worker(k) for k in range(conc)))
    q.put((done[0], failed[0], last[0] - t0, counter[0], errors))


def _client(port, conc, secs, base, q):
    asyncio.run(_drive(port, conc, secs, base, q))


def drive(port, conc=CONC, secs=SECS, base=0):
    """(sessions done, failed, seconds, addresses used, errors) from a
    client process of its own; base: the first address's index."""
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=_client, args=(port, conc, secs, base, q))
    p.start()
    try:
        return q.get(timeout=secs + 180)
    finally:
        p.join(30)
        if p.is_alive():
            p.kill()
            p.join(5)


def screen_settings():
    return {
        "mynetworks": "127.0.0.1/32",
        "postscreen_access_list": "permit_mynetworks",
        "postscreen_greet_wait": GREET_WAIT,
        "postscreen_greet_action": "enforce",
        "postscreen_dnsbl_sites": ", ".join(ZONES),
        "postscreen_dnsbl_threshold": "1",
        "postscreen_dnsbl_action": "enforce",
    }


def append(path, params):
    with open(path, "a") as f:
        f.write("\n# SCREEN\n")
        for k, v in params.items():
            f.write("%s = %s\n" % (k, v))


def prepare(mta, dns):
    """Screening on in a fresh bench instance (bench.Tern or bench.Postfix):
    returns (its log file, its start function)."""
    conf = screen_settings()
    if mta.name == "tern":
        conf.update(smtpd_screening="yes", dns_servers="%s:53" % dns.host)
        append(os.path.join(mta.dir, "etc", "main.cf"), conf)
        return os.path.join(mta.dir, "log", "tern.log"), mta.start
    # default_process_limit (100) is also the listen backlog of dnsblog's
    # socket (it must have process limit 0) and postscreen's queue limits:
    # at 100, postscreen's connects to dnsblog fail with EAGAIN under this
    # load (the client then passes unlooked-up) and waiting clients are
    # told 421.  Postfix's own advice for a busy postscreen: raise it.
    conf.update(default_process_limit=str(4 * CONC))
    append(os.path.join(mta.etc, "main.cf"), conf)
    master = os.path.join(mta.etc, "master.cf")
    with open(master) as f:
        lines = f.read().splitlines(True)
    with open(master, "w") as f:
        for line in lines:
            fields = line.split()
            if len(fields) >= 8 and fields[1] == "inet" and fields[0].endswith(":%d" % mta.port):
                line = " ".join(fields[:6] + ["1", "postscreen"]) + "\n"
            f.write(line)
        f.write("smtpd pass - - n - - smtpd\ndnsblog unix - - n - 0 dnsblog\n"
                "tlsproxy unix - - n - 0 tlsproxy\n")
    mta.resolv = os.path.join(mta.dir, "resolv.conf")
    with open(mta.resolv, "w") as f:
        f.write("nameserver %s\noptions attempts:2 timeout:2\n" % dns.host)
    return os.path.join(mta.dir, "maillog"), mta.start


def count_in(path, needle):
    try:
        with open(path, errors="replace") as f:
            return sum(1 for line in f if needle in line)
    except OSError:
        return 0


def start_dns(root):
    sys.path.insert(0, os.path.join(root, "tests", "e2e"))
    import dns_zone
    for i in range(1, 250):
        try:
            return dns_zone.ZoneDns({}, host="127.0.53.%d" % i, port=53)
        except OSError:
            continue
    raise RuntimeError("no free port 53 on 127.0.53.1-249")


def screen_once(mta_cls, tmpbase, user, dns, cpu_idle):
    """One run on a fresh instance; a result dict."""
    tmp = tempfile.mkdtemp(prefix="tern-bench-screen-", dir=tmpbase)
    os.chmod(tmp, 0o755)
    res = {"mta": mta_cls.name, "ok": False, "tmp": tmp}
    mta = None
    try:
        res["idle_cpu"] = cpu_idle()
        mta = mta_cls(tmp, 9, user)           # port 9: no relay mail in this phase
        log, start = prepare(mta, dns)
        start()
        time.sleep(1.0)
        # Warm-up, untimed, from other addresses: Postfix's master starts
        # its dnsblog and smtpd processes on demand, and until enough run
        # postscreen's requests to dnsblog fail (EAGAIN) and the client is
        # passed unlooked-up.
        drive(mta.port, secs=WARMUP, base=WARMUP_BASE)
        time.sleep(1.0)
        dns.queries.clear()
        pass0 = count_in(log, "PASS NEW [127.")
        cpu0 = mta.group.cpu_seconds()
        done, failed, secs, used, errors = drive(mta.port)
        res.update(cpu=mta.group.cpu_seconds() - cpu0, done=done, failed=failed, secs=secs,
                   used=used, errors=errors)
        time.sleep(1.0)                       # the last log lines
        passes = count_in(log, "PASS NEW [127.") - pass0
        asked = sum(1 for q in dns.queries if q[0].endswith(ZONES))
        res.update(passes=passes, asked=asked)
        why = []
        if done == 0:
            why.append("no session completed: %s" % errors)
        if passes < done:
            why.append("%d PASS NEW logged for %d sessions" % (passes, done))
        if asked < 3 * done:
            why.append("%d DNSBL queries for %d sessions" % (asked, done))
        if failed > done // 100:
            why.append("%d sessions failed: %s" % (failed, errors))
        if why:
            res["error"] = "; ".join(why)
        else:
            res["ok"] = True
    except Exception as e:                    # a failed run is reported, not fatal
        res["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if mta:
            mta.stop()
        if os.environ.get("BENCH_KEEP"):
            print("  (kept %s)" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return res


def screen_phase(mtas, tmpbase, user, reps, raw, cpu_idle, root):
    """Alternated runs of tern and Postfix; the list of result dicts."""
    dns = start_dns(root)
    out = []
    try:
        for rep in range(reps):
            for name in ("tern", "postfix"):
                r = screen_once(mtas[name], tmpbase, user, dns, cpu_idle)
                r["rep"] = rep
                out.append(r)
                if r.get("ok"):
                    raw("screen mta=%s rep=%d conc=%d sessions=%d failed=%d secs=%.3f "
                        "sessions_per_s=%.1f cpu_s=%.3f cpu_ms_per_session=%.3f passes=%d "
                        "dnsbl_queries=%d idle_cpu=%.2f" % (
                            name, rep, CONC, r["done"], r["failed"], r["secs"],
                            r["done"] / r["secs"], r["cpu"], r["cpu"] / r["done"] * 1000,
                            r["passes"], r["asked"], r["idle_cpu"]))
                else:
                    raw("screen mta=%s rep=%d FAILED %s" % (name, rep, r.get("error")))
    finally:
        dns.stop()
    return out


def summarize_screen(out):
    if not out:
        return
    print("SCREEN (connect + screening with %d DNSBLs on loopback DNS + EHLO + QUIT, clean "
          "clients, each from its own address; %d sessions at once, %.0f s; "
          "postscreen_greet_wait = %s):" % (len(ZONES), CONC, SECS, GREET_WAIT))
    rate = {}
    for name in ("tern", "postfix"):
        rs = [r for r in out if r["mta"] == name and r.get("ok")]
        if not rs:
            print("  %s: no successful run" % name)
            continue
        rates = [r["done"] / r["secs"] for r in rs]
        rate[name] = statistics.median(rates)
        print("  %-7s %7.1f sessions/s (spread %.0f%%), %.2f CPU ms/session, %d failed "
              "sessions (worst run)" % (
                  name, rate[name], 100 * (max(rates) - min(rates)) / rate[name],
                  statistics.median(r["cpu"] / r["done"] * 1000 for r in rs),
                  max(r["failed"] for r in rs)))
    if len(rate) == 2:
        ratio = rate["tern"] / rate["postfix"]
        print("  tern/Postfix %.2fx (target >= %.1fx: %s)" % (
            ratio, TARGET, "met" if ratio >= TARGET else "NOT met"))
    for r in out:
        if not r.get("ok"):
            print("  FAILED %s rep %d: %s" % (r["mta"], r.get("rep", -1), r.get("error")))
