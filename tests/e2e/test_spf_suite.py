"""The RFC 7208 SPF test suite (openspf.org, release 2014.04, as Debian's
python3-spf ships it in /usr/share/doc/python3-spf/rfc7208-tests.yml.gz;
the same file is in data/ for systems that leave /usr/share/doc out):
every case through `tern spf` against a DNS server on loopback
(dns_zone.py) loaded with the case's zone data, blocking and --async.  The
result must be the suite's (one of them where it allows several) and so
must the explanation where the suite gives one ("DEFAULT" being the
default explanation, as in the suite's own driver).  Zone data follows the
driver's conventions: SPF records are served as TXT too unless the name
has TXT records of its own; "TIMEOUT" fails the types not listed before it
(answered SERVFAIL, a temporary error like a time-out).  Prints the tally."""
import gzip
import os
import subprocess
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor

import yaml

from dns_zone import ZoneDns
from tern_instance import TERN

# Debian's copy, else the same file kept here (licence in data/).
SUITE = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"
if not os.path.exists(SUITE):
    SUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                         "rfc7208-tests.yml.gz")


def zone_of(data):
    """The suite's zonedata -> a dns_zone zone (the driver's getrdata)."""
    zone = {}
    for name, rrs in (data.get("zonedata") or {}).items():
        out, generated, has_txt = [], [], False
        for rr in rrs or []:
            if rr == "TIMEOUT":
                out.append("TIMEOUT")
                continue
            for rtype, value in rr.items():
                if rtype in ("TXT", "SPF") and isinstance(value, str):
                    value = [value]
                if rtype == "TXT":
                    has_txt = True
                elif rtype == "SPF":
                    generated.append(("TXT", value))
                if value != ["NONE"]:
                    out.append((rtype, value))
        if not has_txt:
            out += [g for g in generated if g[1] != ["NONE"]]
        zone[name] = out
    return zone


def run_case(conf, case, mode):
    args = [TERN, "-c", conf, "spf", "--default-exp", "DEFAULT"]
    if mode == "async":
        args.append("--async")
    args += [case["host"], case["mailfrom"], case["helo"]]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    fields = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition(": ")
        fields.setdefault(k, v)
    return r.returncode, fields, r.stderr


class SpfSuiteTest(unittest.TestCase):
    def test_rfc7208_suite(self):
        with gzip.open(SUITE, "rt", encoding="utf-8", errors="surrogateescape") as f:
            scenarios = list(yaml.safe_load_all(f))
        dns = ZoneDns()
        self.addCleanup(dns.stop)
        conf = tempfile.mkdtemp(prefix="tern-spf-")
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write("dns_servers = 127.0.0.1:%d\nsmtpd_dns_timeout = 4s\n" % dns.port)
        tally = {"blocking": [0, 0], "async": [0, 0]}
        failures, total = [], 0
        for sc in scenarios:
            dns.set_zone(zone_of(sc))
            cases = sorted(sc["tests"].items())
            total += len(cases)
            for mode in ("blocking", "async"):
                with ThreadPoolExecutor(max_workers=2) as pool:
                    outs = list(pool.map(lambda c: run_case(conf, c[1], mode), cases))
                for (name, case), (rc, fields, err) in zip(cases, outs):
                    want = case["result"]
                    want = want if isinstance(want, list) else [want]
                    got = fields.get("result")
                    ok = rc == 0 and got in want
                    exp = case.get("explanation")
                    if ok and exp is not None and got == "fail":
                        ok = fields.get("explanation") == exp
                    tally[mode][0 if ok else 1] += 1
                    if not ok:
                        failures.append("%s [%s] (%s): want %s%s, got %s%s %s" % (
                            name, mode, sc["description"], "/".join(want),
                            " exp=%r" % exp if exp else "", got,
                            " exp=%r" % fields.get("explanation")
                            if fields.get("explanation") else "",
                            fields.get("problem", "") + err.strip()))
        for mode, (ok, bad) in tally.items():
            print("\nRFC 7208 suite (%s): %d cases, %d passed, %d failed" % (
                mode, ok + bad, ok, bad))
        self.assertGreaterEqual(total, 200)
        self.assertEqual(failures, [], "\n" + "\n".join(failures))


if __name__ == "__main__":
    unittest.main()
