/*
 * test_mtasts.c - unit tests for lib/mtasts.c: the _mta-sts TXT record,
 * the policy file (RFC 8461 section 3.2's example, CRLF, missing and bad
 * fields, unknown and repeated keys) and MX pattern matching (wildcards of
 * exactly one label, case, final dots), and lib/mtasts_cache.c: the
 * stored value's encoding, validity by max_age, and the LMDB file across
 * a close (a restart).
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

#include "buf.h"
#include "mtasts.h"
#include "mtasts_cache.h"

static void test_txt(void **state)
{
	char id[MTASTS_ID_MAX + 1];

	(void)state;
	assert_true(mtasts_txt_parse("v=STSv1; id=20160831085700Z;", id));
	assert_string_equal(id, "20160831085700Z");
	assert_true(mtasts_txt_parse("v=STSv1;id=abc", id));
	assert_string_equal(id, "abc");
	assert_true(mtasts_txt_parse("v=STSv1; ext=x; id=A1 ", id));
	assert_string_equal(id, "A1");
	assert_false(mtasts_txt_parse("v=STSv2; id=1", id));
	assert_false(mtasts_txt_parse("id=1; v=STSv1", id));
	assert_false(mtasts_txt_parse("v=STSv1;", id));
	assert_false(mtasts_txt_parse("v=STSv1; id=", id));
	assert_false(mtasts_txt_parse("v=STSv1; id=a-b", id));
	assert_false(mtasts_txt_parse("v=STSv1; id=123456789012345678901234567890123", id));
	assert_false(mtasts_txt_parse("v=STSv1 id=1", id));
	assert_false(mtasts_txt_parse("v=STSv1; junk", id));
}

static void test_policy(void **state)
{
	static const char rfc[] = "version: STSv1\n"
				  "mode: enforce\n"
				  "mx: mail.example.com\n"
				  "mx: *.example.net\n"
				  "mx: backupmx.example.com\n"
				  "max_age: 604800\n";
	struct mtasts_policy p;
	struct buf why = BUF_INIT;

	(void)state;
	assert_true(mtasts_policy_parse(rfc, strlen(rfc), &p, &why));
	assert_int_equal(p.mode, MTASTS_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.nmx, 3);
	assert_string_equal(p.mx[1], "*.example.net");
	assert_true(mtasts_mx_match(&p, "mail.example.com"));
	assert_true(mtasts_mx_match(&p, "MAIL.Example.COM."));
	assert_true(mtasts_mx_match(&p, "mx1.example.net"));
	assert_false(mtasts_mx_match(&p, "a.b.example.net")); /* one label only */
	assert_false(mtasts_mx_match(&p, "example.net"));
	assert_false(mtasts_mx_match(&p, ".example.net"));
	assert_false(mtasts_mx_match(&p, "mail.example.com.evil"));
	assert_false(mtasts_mx_match(&p, "xmail.example.com"));
	mtasts_policy_free(&p);

	/* CRLF, white space, unknown keys, a repeated mode keeps the first. */
	static const char crlf[] = "version: STSv1\r\nmode:testing \r\nfoo: bar\r\n"
				   "mode: enforce\r\nmx: MX.Example.ORG.\r\nmax_age:0";
	assert_true(mtasts_policy_parse(crlf, strlen(crlf), &p, &why));
	assert_int_equal(p.mode, MTASTS_TESTING);
	assert_int_equal(p.max_age, 0);
	assert_string_equal(p.mx[0], "mx.example.org");
	mtasts_policy_free(&p);

	/* mode none needs no mx. */
	static const char none[] = "version: STSv1\nmode: none\nmax_age: 86400\n";
	assert_true(mtasts_policy_parse(none, strlen(none), &p, &why));
	assert_int_equal(p.mode, MTASTS_NONE);
	mtasts_policy_free(&p);
	buf_free(&why);
}

static void policy_bad(const char *text, const char *want)
{
	struct mtasts_policy p;
	struct buf why = BUF_INIT;

	if (mtasts_policy_parse(text, strlen(text), &p, &why))
		fail_msg("accepted: %s", text);
	assert_string_equal(buf_cstr(&why), want);
	assert_null(p.mx);
	buf_free(&why);
}

static void test_policy_bad(void **state)
{
	(void)state;
	policy_bad(
	    "version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n", "unknown MTA-STS policy version");
	policy_bad("version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n", "bad MTA-STS policy mode");
	policy_bad(
	    "version: STSv1\nmode: enforce\nmx: a\nmax_age: -1\n", "bad MTA-STS policy max_age");
	policy_bad("version: STSv1\nmode: enforce\nmx: a\nmax_age: 31557601\n",
	    "bad MTA-STS policy max_age");
	policy_bad("version: STSv1\nmode: enforce\nmax_age: 1\n", "MTA-STS policy without mx");
	policy_bad("mode: enforce\nmx: a\nmax_age: 1\n",
	    "MTA-STS policy without version, mode or max_age");
	policy_bad("", "MTA-STS policy without version, mode or max_age");
}

static const char cache_policy[] = "version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\n"
				   "max_age: 600\r\n";

static void test_cache_value(void **state)
{
	struct buf v = BUF_INIT;
	struct mtasts_cached c;

	(void)state;
	mtasts_cache_encode("id1", 1000, cache_policy, strlen(cache_policy), &v);
	assert_true(mtasts_cache_decode(v.data, v.len, &c));
	assert_string_equal(c.id, "id1");
	assert_int_equal(c.fetched, 1000);
	assert_int_equal(c.policy.mode, MTASTS_ENFORCE);
	assert_int_equal(c.policy.max_age, 600);
	assert_true(mtasts_mx_match(&c.policy, "MX.example.com."));
	assert_true(mtasts_cached_valid(&c, 1599));
	assert_false(mtasts_cached_valid(&c, 1600));
	mtasts_policy_free(&c.policy);
	/* Cut short, another magic, a bad time, a policy that does not parse. */
	assert_false(mtasts_cache_decode(v.data, 12, &c));
#define DECODE(s) mtasts_cache_decode(s, strlen(s), &c)
	assert_false(DECODE("tern-sts2\nid\n1\nversion: STSv1\nmode: none\nmax_age: 1\n"));
	assert_false(DECODE("tern-sts1\nid\n1x\nversion: STSv1\nmode: none\nmax_age: 1\n"));
	assert_false(DECODE("tern-sts1\nid\n1\nversion: STSv1\n"));
	assert_false(DECODE("tern-sts1\n\n1\nversion: STSv1\nmode: none\nmax_age: 1\n"));
	assert_true(DECODE("tern-sts1\nid\n1\nversion: STSv1\nmode: none\nmax_age: 1\n"));
	mtasts_policy_free(&c.policy);
#undef DECODE
	buf_free(&v);
}

static void test_cache_file(void **state)
{
	char dir[] = "/tmp/test_mtasts.XXXXXX", path[64], lock[80];
	struct mtasts_cached c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sts.lmdb", dir);
	assert_false(mtasts_cache_get(path, "example.com", &c));
	mtasts_cache_put(path, "example.com", "A1", 5, cache_policy, strlen(cache_policy));
	mtasts_cache_put(path, "example.com", "A2", 7, cache_policy, strlen(cache_policy));
	mtasts_cache_close();
	assert_true(mtasts_cache_get(path, "example.com", &c));
	assert_string_equal(c.id, "A2");
	assert_int_equal(c.fetched, 7);
	mtasts_policy_free(&c.policy);
	assert_false(mtasts_cache_get(path, "example.net", &c));
	mtasts_cache_close();
	snprintf(lock, sizeof(lock), "%s-lock", path);
	unlink(lock);
	unlink(path);
	rmdir(dir);
}

/* The published text reads back as the same policy; its id is a valid
 * TXT id that changes with the text. */
static void test_publish(void **state)
{
	const char *mx[] = {"mail.example.com", "*.backup.example.net"};
	struct buf text = BUF_INIT, text2 = BUF_INIT, why = BUF_INIT;
	struct mtasts_policy p;
	char id[MTASTS_PUBLISH_ID_LEN + 1], id2[MTASTS_PUBLISH_ID_LEN + 1];
	char txt[80], parsed[MTASTS_ID_MAX + 1];

	(void)state;
	mtasts_policy_text(&text, MTASTS_ENFORCE, mx, 2, 604800);
	assert_string_equal(buf_cstr(&text), "version: STSv1\r\nmode: enforce\r\n"
					     "mx: mail.example.com\r\nmx: *.backup.example.net\r\n"
					     "max_age: 604800\r\n");
	assert_true(mtasts_policy_parse(text.data, text.len, &p, &why));
	assert_int_equal(p.mode, MTASTS_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.nmx, 2);
	assert_true(mtasts_mx_match(&p, "mx1.backup.example.net"));
	mtasts_policy_free(&p);

	mtasts_policy_id(text.data, text.len, id);
	assert_int_equal(strlen(id), MTASTS_PUBLISH_ID_LEN);
	snprintf(txt, sizeof(txt), "v=STSv1; id=%s", id);
	assert_true(mtasts_txt_parse(txt, parsed));
	assert_string_equal(parsed, id);
	mtasts_policy_id(text.data, text.len, id2);
	assert_string_equal(id, id2);
	mtasts_policy_text(&text2, MTASTS_TESTING, mx, 2, 604800);
	mtasts_policy_id(text2.data, text2.len, id2);
	assert_string_not_equal(id, id2);
	assert_string_equal(mtasts_mode_name(MTASTS_NONE), "none");
	buf_free(&text);
	buf_free(&text2);
	buf_free(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_txt),
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_policy_bad),
	    cmocka_unit_test(test_cache_value),
	    cmocka_unit_test(test_cache_file),
	    cmocka_unit_test(test_publish),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
