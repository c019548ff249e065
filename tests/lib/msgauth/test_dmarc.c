/*
 * test_dmarc.c - unit tests for lib/msgauth's DMARC: the record parser
 * (v= first, p/sp/np, pct, adkim/aspf, unknown tags, broken records), the
 * organisational domain over a small Public Suffix List (plain, wildcard
 * and exception rules) and alignment.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record),
	    cmocka_unit_test(test_org_domain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
