/*
 * test_tlsrpt.c - unit tests for lib/tlsrpt.c: RFC 8460's example records,
 * several URIs, white space and a final ';', extensions, unsupported
 * schemes, and the records to refuse (no or two rua=, wrong version, junk).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "tlsrpt.h"

static void test_good(void **state)
{
	struct tlsrpt_record r;
	struct buf why = BUF_INIT;

	(void)state;
	assert_true(tlsrpt_record_parse("v=TLSRPTv1; rua=mailto:reports@example.com", &r, &why));
	assert_int_equal(r.nrua, 1);
	assert_string_equal(r.rua[0], "mailto:reports@example.com");
	tlsrpt_record_free(&r);
	assert_true(tlsrpt_record_parse(
	    "v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt?a=b , mailto:x@y.example ;"
	    " ext_1=val ;",
	    &r, &why));
	assert_int_equal(r.nrua, 2);
	assert_string_equal(r.rua[0], "https://reporting.example.com/v1/tlsrpt?a=b");
	assert_string_equal(r.rua[1], "mailto:x@y.example");
	tlsrpt_record_free(&r);
	/* an unknown scheme is skipped when another URI is usable */
	assert_true(tlsrpt_record_parse("v=TLSRPTv1; rua=ftp://a.example,mailto:a@b", &r, &why));
	assert_int_equal(r.nrua, 1);
	assert_string_equal(r.rua[0], "mailto:a@b");
	tlsrpt_record_free(&r);
	assert_null(r.rua);
	buf_free(&why);
}

static void bad(const char *txt, const char *reason)
{
	struct tlsrpt_record r;
	struct buf why = BUF_INIT;

	assert_false(tlsrpt_record_parse(txt, &r, &why));
	assert_string_equal(buf_cstr(&why), reason);
	assert_null(r.rua);
	assert_int_equal(r.nrua, 0);
	buf_free(&why);
}

static void test_bad(void **state)
{
	(void)state;
	bad("v=TLSRPTv2; rua=mailto:a@b", "not a TLS-RPT record (v=TLSRPTv1 first)");
	bad("rua=mailto:a@b; v=TLSRPTv1", "not a TLS-RPT record (v=TLSRPTv1 first)");
	bad("v=TLSRPTv1x; rua=mailto:a@b", "not a TLS-RPT record (v=TLSRPTv1 first)");
	bad("v=TLSRPTv1", "no rua=");
	bad("v=TLSRPTv1; ext=1", "no rua=");
	bad("v=TLSRPTv1; rua=mailto:a@b; rua=mailto:c@d", "more than one rua=");
	bad("v=TLSRPTv1; rua=ftp://x", "rua= has no mailto: or https: URI");
	bad("v=TLSRPTv1; rua=mailto:", "rua= has no mailto: or https: URI");
	bad("v=TLSRPTv1; rua=", "an empty URI in rua=");
	bad("v=TLSRPTv1; rua=mailto:a@b,", "an empty URI in rua=");
	bad("v=TLSRPTv1; rua=mailto:a@b junk", "junk after the fields");
	bad("v=TLSRPTv1; rua=mailto:a@b; =x", "a field that is not name=value");
	bad("v=TLSRPTv1; rua=mailto:a@b; x=", "an empty field value");
	bad("v=TLSRPTv1; rua=mailto:a\x01@b", "a character not allowed in rua=");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
