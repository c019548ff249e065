/*
 * test_uidlist.c - dovecot-uidlist: the file Dovecot 2.3 wrote in our
 * interoperability run, appended records (next UID beyond N), version 1,
 * extension fields, unfinished last lines, and every corruption Dovecot
 * refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mstore/uidlist.h"
#include "util.h"

static const char dovecot_file[] = "3 V1796531734 N3 G7fff490a16e6146bf070000083ecc375\n"
				   "1 :1796531734.M170024P28912.vm,S=23,W=26\n"
				   "2 :1796531734.M176690P28912.vm,S=24,W=28\n"
				   "3 :1700000000.M1P1.plainhost\n"
				   "4 :1796531754.M863488P29464.vm,S=25,W=28\n";

static void test_dovecot_file(void **state)
{
	struct uidlist ul;
	const char *err = NULL, *b;
	size_t len;

	(void)state;
	uidlist_init(&ul);
	assert_int_equal(uidlist_parse(dovecot_file, strlen(dovecot_file), &ul, &err),
	    (long)strlen(dovecot_file));
	assert_int_equal(ul.version, 3);
	assert_int_equal(ul.uidvalidity, 1796531734u);
	assert_int_equal(ul.hdr_next_uid, 3);
	assert_int_equal(ul.next_uid, 5); /* appended records: beyond N */
	assert_string_equal(ul.guid, "7fff490a16e6146bf070000083ecc375");
	assert_int_equal(ul.n, 4);
	b = uidlist_base(&ul, 2, &len);
	assert_int_equal(ul.recs[2].uid, 3);
	assert_int_equal(len, strlen("1700000000.M1P1.plainhost"));
	assert_memory_equal(b, "1700000000.M1P1.plainhost", len);
	uidlist_free(&ul);
}

static void test_ext_and_more(void **state)
{
	static const char text[] = "3 V7 N10 Gaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa X1 Yfoo\n"
				   "10 S100 W105 G1234 :a:2,S\n"
				   "12 P0001abcd O5 :b\n"
				   "13 :c";
	struct uidlist ul;
	const char *err = NULL, *e, *v;
	size_t len, vlen;
	long used;

	(void)state;
	uidlist_init(&ul);
	used = uidlist_parse(text, strlen(text), &ul, &err);
	assert_int_equal(used, (long)(strlen(text) - strlen("13 :c")));
	assert_int_equal(ul.n, 2);
	assert_string_equal(buf_cstr(&ul.hdr_ext), "X1 Yfoo");
	e = uidlist_ext(&ul, 0, &len);
	assert_true(uidlist_ext_get(e, len, 'S', &v, &vlen));
	assert_int_equal(vlen, 3);
	assert_memory_equal(v, "100", 3);
	assert_true(uidlist_ext_get(e, len, 'G', &v, &vlen));
	assert_memory_equal(v, "1234", 4);
	assert_false(uidlist_ext_get(e, len, 'P', &v, &vlen));
	/* the base stops at ':' even when an old file kept the info */
	uidlist_base(&ul, 0, &len);
	assert_int_equal(len, 1);
	assert_int_equal(ul.next_uid, 13);
	/* the rest, once it is complete */
	assert_int_equal(uidlist_parse_more("13 :c\n", 6, &ul, &err), 6);
	assert_int_equal(ul.n, 3);
	assert_int_equal(ul.next_uid, 14);
	uidlist_free(&ul);
}

static void test_version1(void **state)
{
	static const char text[] = "1 1234 5\n1 a:2,S\n4 b\n";
	struct uidlist ul;
	const char *err;

	(void)state;
	uidlist_init(&ul);
	assert_int_equal(uidlist_parse(text, strlen(text), &ul, &err), (long)strlen(text));
	assert_int_equal(ul.version, 1);
	assert_int_equal(ul.uidvalidity, 1234);
	assert_int_equal(ul.next_uid, 5);
	assert_int_equal(ul.n, 2);
	uidlist_free(&ul);
}

static void bad(const char *text)
{
	struct uidlist ul;
	const char *err = NULL;

	uidlist_init(&ul);
	assert_int_equal(uidlist_parse(text, strlen(text), &ul, &err), -1);
	assert_non_null(err);
	uidlist_free(&ul);
}

static void test_corrupt(void **state)
{
	(void)state;
	bad("x V1 N1\n");
	bad("2 V1 N1\n");	      /* unsupported version */
	bad("3 V0 N1\n");	      /* zero UIDVALIDITY */
	bad("3 V1 N0\n");	      /* zero next UID */
	bad("3 V1 N1 Gxyz\n");	      /* bad GUID */
	bad("3 V99999999999 N1\n");   /* above 32 bits */
	bad("3 V1 N1\n5 :a\n5 :b\n"); /* not ascending */
	bad("3 V1 N1\n6 :a\n5 :b\n");
	bad("3 V1 N1\n0 :a\n");		 /* UID 0 */
	bad("3 V1 N1\n4294967295 :a\n"); /* UID too high */
	bad("3 V1 N1\n1 :\n");		 /* no name */
	bad("3 V1 N1\n1 :a/b\n");	 /* a path */
	bad("3 V1 N1\n1:a\n");		 /* no space after the UID */
	bad("3 V1 N1\nx :a\n");
	bad("3 V1 N1"); /* no complete header */
}

static void test_format(void **state)
{
	struct buf b = BUF_INIT;
	struct uidlist ul;
	const char *err;
	char guid[UIDLIST_GUID_HEX + 1];

	(void)state;
	uidlist_new_guid(guid);
	assert_int_equal(strlen(guid), 32);
	uidlist_format_header(&b, 42, 7, guid, "Xq");
	uidlist_format_rec(&b, 5, "S10 W12", 7, "base,S=10", 9);
	uidlist_format_rec(&b, 6, NULL, 0, "other", 5);
	assert_string_equal(strchr(buf_cstr(&b), '\n') + 1, "5 S10 W12 :base,S=10\n6 :other\n");
	uidlist_init(&ul);
	assert_int_equal(uidlist_parse(b.data, b.len, &ul, &err), (long)b.len);
	assert_int_equal(ul.uidvalidity, 42);
	assert_int_equal(ul.next_uid, 7);
	assert_string_equal(ul.guid, guid);
	assert_int_equal(ul.n, 2);
	uidlist_free(&ul);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dovecot_file),
	    cmocka_unit_test(test_ext_and_more),
	    cmocka_unit_test(test_version1),
	    cmocka_unit_test(test_corrupt),
	    cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
