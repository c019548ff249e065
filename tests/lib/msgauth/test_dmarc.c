/*
 * test_dmarc.c - unit tests for lib/msgauth's DMARC: the record parser
 * (v= first, p/sp/np, pct, adkim/aspf, unknown tags, broken records), the
 * organisational domain over a small Public Suffix List (plain, wildcard
 * and exception rules) and alignment; the RFC 9989 DNS tree walk over a
 * zone in a table (which names it asks, in order; psd=n, psd=y, the
 * fewest-labels rule, the jump to 7 labels, several records as none, a
 * failed look-up) and its Public Suffix List variant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns.h"
#include "msgauth/dmarc.h"
#include "util.h"

static int parse(const char *txt, struct dmarc_record *r)
{
	struct buf err = BUF_INIT;
	int rc = dmarc_record_parse(txt, strlen(txt), r, &err);

	buf_free(&err);
	return rc;
}

static void test_record(void **state)
{
	struct dmarc_record r;

	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject", &r), 0);
	assert_int_equal(r.p, DMARC_P_REJECT);
	assert_int_equal(r.sp, DMARC_P_UNSET);
	assert_int_equal(r.pct, 100);
	assert_false(r.adkim_strict);
	assert_int_equal(parse(" v = DMARC1 ;p=quarantine; sp=none;np=reject; pct=20; adkim=s; "
			       "aspf=r; rua=mailto:x@y.example; fo=1;",
			     &r),
	    0);
	assert_int_equal(r.p, DMARC_P_QUARANTINE);
	assert_int_equal(r.sp, DMARC_P_NONE);
	assert_int_equal(r.np, DMARC_P_REJECT);
	assert_int_equal(r.pct, 20);
	assert_true(r.adkim_strict);
	assert_false(r.aspf_strict);
	assert_int_equal(parse("v=DMARC1", &r), 0); /* no p=: none (DMARCbis) */
	assert_int_equal(r.p, DMARC_P_NONE);
	assert_int_equal(parse("v=DMARC1; p=none; sp=bogus", &r), 0);
	assert_int_equal(r.sp, DMARC_P_UNSET);
	assert_int_equal(parse("v=DMARC1; p=reject; t=y", &r), 0);
	assert_true(r.testing);
	/* broken or not DMARC */
	assert_int_equal(parse("", &r), -1);
	assert_int_equal(parse("v=spf1 -all", &r), -1);
	assert_int_equal(parse("p=reject; v=DMARC1", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=deny", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=reject; pct=101", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=reject; pct=x", &r), -1);
	assert_int_equal(parse("v=DMARC1; p=reject; adkim=x", &r), -1);
	assert_int_equal(parse("v=DMARC1; reject", &r), -1);
	assert_int_equal(parse("v=dmarc1; p=reject", &r), -1);
}

static void org(const char *name, const char *want)
{
	char *got = dmarc_org_domain(name);

	assert_string_equal(got, want);
	free(got);
}

static void test_org_domain(void **state)
{
	char path[] = "/tmp/test_dmarc_pslXXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	fputs("// comment\ncom\nuk\nco.uk\n*.ck\n!www.ck\n", f);
	fclose(f);
	dmarc_psl_load(path);
	unlink(path);
	org("example.com", "example.com");
	org("mail.sub.Example.COM", "example.com");
	org("a.b.example.co.uk", "example.co.uk");
	org("co.uk", "co.uk");
	org("x.y.foo.ck", "y.foo.ck"); /* *.ck: foo.ck is a suffix */
	org("a.www.ck", "www.ck");     /* !www.ck: the suffix is ck */
	org("host.example.unknowntld", "example.unknowntld");
	org("example.com.", "example.com");
	assert_true(dmarc_aligned("mail.example.com", "example.com", false));
	assert_false(dmarc_aligned("mail.example.com", "example.com", true));
	assert_true(dmarc_aligned("Example.com", "example.COM", true));
	assert_false(dmarc_aligned("a.co.uk", "b.co.uk", false));
	assert_false(dmarc_aligned("example.net", "example.com", false));
}

/* name -> TXT records ("FAIL": the look-up fails); NULL ends. */
static const char *const zone[][3] = {
    {"_dmarc.example.com", "v=DMARC1; p=reject", NULL},
    {"_dmarc.sub.example.com", "v=spf1 -all", "v=DMARC1; p=quarantine"},
    {"_dmarc.gov", "v=DMARC1; p=reject; psd=y", NULL},
    {"_dmarc.agency.gov", "v=DMARC1; p=none", NULL},
    {"_dmarc.dept.uni.edu", "v=DMARC1; p=none; psd=n", NULL},
    {"_dmarc.uni.edu", "v=DMARC1; p=reject", NULL},
    {"_dmarc.two.net", "v=DMARC1; p=none", "v=DMARC1; p=reject"},
    {"_dmarc.c.d.e.f.g.h.deep.org", "v=DMARC1; p=quarantine", NULL},
    {"_dmarc.fails.example.com", "FAIL", NULL},
    {"_dmarc.psd.example", "v=DMARC1; p=reject; psd=y", NULL},
    {NULL, NULL, NULL},
};

/* Runs a walk from name over zone; asked gets the names asked, ' '-separated. */
static void walk(struct dmarc_walk *w, const char *name, bool psl, struct buf *asked)
{
	dmarc_walk_init(w, name, psl);
	while (w->next) {
		char *q = xasprintf("_dmarc.%s", w->next);
		char *txt[3] = {NULL, NULL, NULL};
		size_t n = 0;
		int st = DNS_NOTFOUND;

		buf_printf(asked, "%s%s", asked->len ? " " : "", w->next);
		for (size_t i = 0; zone[i][0]; i++) {
			if (strcmp(zone[i][0], q) != 0)
				continue;
			st = strcmp(zone[i][1], "FAIL") == 0 ? DNS_RETRY : DNS_OK;
			for (size_t k = 1; k < 3 && zone[i][k] && st == DNS_OK; k++)
				txt[n++] = (char *)zone[i][k];
		}
		dmarc_walk_answer(w, st, txt, n);
		free(q);
	}
}

static void walk_case(const char *name, bool psl, const char *asked, const char *org,
    const char *policy_at, enum dmarc_policy p, bool temperror)
{
	struct dmarc_walk w;
	struct buf got = BUF_INIT;

	walk(&w, name, psl, &got);
	assert_string_equal(buf_cstr(&got), asked);
	assert_string_equal(w.org, org);
	if (policy_at) {
		assert_true(w.have_policy);
		assert_string_equal(w.policy_at, policy_at);
		assert_int_equal(w.policy.p, p);
	} else {
		assert_false(w.have_policy);
		assert_null(w.policy_at);
	}
	assert_int_equal(w.temperror, temperror);
	dmarc_walk_free(&w);
	buf_free(&got);
}

static void test_tree_walk(void **state)
{
	(void)state;
	/* the name's own record; the walk goes on for the org domain */
	walk_case("example.com", false, "example.com com", "example.com", "example.com",
	    DMARC_P_REJECT, false);
	/* a record among other TXT records; the org is the fewest labels' */
	walk_case("Sub.Example.com.", false, "sub.example.com example.com com", "example.com",
	    "sub.example.com", DMARC_P_QUARANTINE, false);
	/* no record of its own: the nearest ancestor's policy */
	walk_case("a.b.example.com", false, "a.b.example.com b.example.com example.com com",
	    "example.com", "example.com", DMARC_P_REJECT, false);
	/* psd=y: the org is one label below it; the policy the nearest */
	walk_case("www.agency.gov", false, "www.agency.gov agency.gov gov", "agency.gov",
	    "agency.gov", DMARC_P_NONE, false);
	walk_case("x.other.gov", false, "x.other.gov other.gov gov", "other.gov", "gov",
	    DMARC_P_REJECT, false);
	/* psd=y where the walk starts is no boundary */
	walk_case("gov", false, "gov", "gov", "gov", DMARC_P_REJECT, false);
	/* psd=n stops the walk: uni.edu's record is never asked for */
	walk_case("dept.uni.edu", false, "dept.uni.edu", "dept.uni.edu", "dept.uni.edu",
	    DMARC_P_NONE, false);
	walk_case("a.dept.uni.edu", false, "a.dept.uni.edu dept.uni.edu", "dept.uni.edu",
	    "dept.uni.edu", DMARC_P_NONE, false);
	/* two DMARC records count as none */
	walk_case("two.net", false, "two.net net", "two.net", NULL, DMARC_P_UNSET, false);
	/* 10 labels: the first name, then 7 labels and down: 8 names at most,
	 * so c.d.e.f.g.h.deep.org (8 labels) is never asked for */
	walk_case("a.b.c.d.e.f.g.h.deep.org", false,
	    "a.b.c.d.e.f.g.h.deep.org d.e.f.g.h.deep.org e.f.g.h.deep.org f.g.h.deep.org "
	    "g.h.deep.org "
	    "h.deep.org deep.org org",
	    "a.b.c.d.e.f.g.h.deep.org", NULL, DMARC_P_UNSET, false);
	walk_case("b.c.d.e.f.g.h.deep.org", false,
	    "b.c.d.e.f.g.h.deep.org d.e.f.g.h.deep.org e.f.g.h.deep.org f.g.h.deep.org "
	    "g.h.deep.org "
	    "h.deep.org deep.org org",
	    "b.c.d.e.f.g.h.deep.org", NULL, DMARC_P_UNSET, false);
	walk_case("c.d.e.f.g.h.deep.org", false,
	    "c.d.e.f.g.h.deep.org d.e.f.g.h.deep.org e.f.g.h.deep.org f.g.h.deep.org "
	    "g.h.deep.org h.deep.org deep.org org",
	    "c.d.e.f.g.h.deep.org", "c.d.e.f.g.h.deep.org", DMARC_P_QUARANTINE, false);
	/* a failed look-up stops the walk */
	walk_case("fails.example.com", false, "fails.example.com", "fails.example.com", NULL,
	    DMARC_P_UNSET, true);
	/* nothing anywhere: the name is its own org domain */
	walk_case(
	    "nowhere.test", false, "nowhere.test test", "nowhere.test", NULL, DMARC_P_UNSET, false);
}

static void test_psl_walk(void **state)
{
	(void)state;
	/* RFC 7489: the name, then its PSL organisational domain, no further;
	 * psd= means nothing to it (the list loaded by test_org_domain) */
	walk_case("example.com", true, "example.com", "example.com", "example.com", DMARC_P_REJECT,
	    false);
	walk_case("a.b.example.com", true, "a.b.example.com example.com", "example.com",
	    "example.com", DMARC_P_REJECT, false);
	walk_case(
	    "dept.uni.edu", true, "dept.uni.edu", "uni.edu", "dept.uni.edu", DMARC_P_NONE, false);
}

static void test_aligned_org(void **state)
{
	(void)state;
	assert_true(dmarc_aligned_org("example.com", "Example.COM", "example.com", true));
	assert_true(dmarc_aligned_org("mail.example.com", "example.com", "example.com", false));
	assert_false(dmarc_aligned_org("mail.example.com", "example.com", "example.com", true));
	assert_true(dmarc_aligned_org("example.com", "www.example.com", "example.com", false));
	assert_false(dmarc_aligned_org("badexample.com", "example.com", "example.com", false));
	assert_false(dmarc_aligned_org("other.gov", "agency.gov", "agency.gov", false));
	assert_false(dmarc_aligned_org("uni.edu", "dept.uni.edu", "dept.uni.edu", false));
	assert_false(dmarc_aligned_org(NULL, "example.com", "example.com", false));
	assert_false(dmarc_aligned_org("example.com", "example.com.x", NULL, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record),
	    cmocka_unit_test(test_org_domain),
	    cmocka_unit_test(test_tree_walk),
	    cmocka_unit_test(test_psl_walk),
	    cmocka_unit_test(test_aligned_org),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
