/*
 * test_dane.c - unit tests for lib/dane.c: which TLSA records are usable
 * (RFC 7672 3.1.3) and the TLSA answer parser, from hand-built DNS
 * messages (usable and unusable records, RRSIGs and CNAMEs skipped,
 * compressed names, NODATA, truncated and lying lengths).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "dane.h"

static void put16(struct buf *b, unsigned v)
{
	buf_putc(b, (int)(v >> 8) & 0xff);
	buf_putc(b, (int)v & 0xff);
}

/* A header with one question (_25._tcp.mx.example TLSA) and an answers. */
static void msg_begin(struct buf *b, unsigned an)
{
	static const unsigned char q[] = "\x03_25\x04_tcp\x02mx\x07"
					 "example";

	buf_reset(b);
	put16(b, 1);	  /* id */
	put16(b, 0x81a0); /* QR RD RA AD */
	put16(b, 1);
	put16(b, an);
	put16(b, 0);
	put16(b, 0);
	buf_append(b, q, sizeof(q)); /* with the root's 0 */
	put16(b, 52);
	put16(b, 1);
}

/* One record owned by the question's name (a compression pointer). */
static void msg_rr(struct buf *b, unsigned type, const unsigned char *rd, size_t len)
{
	put16(b, 0xc00c);
	put16(b, type);
	put16(b, 1);
	put16(b, 0);
	put16(b, 300);
	put16(b, (unsigned)len);
	buf_append(b, rd, len);
}

static void tlsa_rr(struct buf *b, int usage, int sel, int mtype, size_t dlen)
{
	unsigned char rd[3 + 100];

	rd[0] = (unsigned char)usage;
	rd[1] = (unsigned char)sel;
	rd[2] = (unsigned char)mtype;
	memset(rd + 3, 0xab, dlen);
	msg_rr(b, 52, rd, 3 + dlen);
}

static void test_usable(void **state)
{
	(void)state;
	assert_true(dane_tlsa_usable(3, 1, 1, 32));
	assert_true(dane_tlsa_usable(2, 0, 2, 64));
	assert_true(dane_tlsa_usable(3, 0, 0, 500));
	assert_false(dane_tlsa_usable(0, 0, 1, 32)); /* PKIX-TA: not for SMTP */
	assert_false(dane_tlsa_usable(1, 1, 1, 32)); /* PKIX-EE */
	assert_false(dane_tlsa_usable(4, 1, 1, 32));
	assert_false(dane_tlsa_usable(3, 2, 1, 32));
	assert_false(dane_tlsa_usable(3, 1, 3, 32));
	assert_false(dane_tlsa_usable(3, 1, 1, 31)); /* a digest of the wrong size */
	assert_false(dane_tlsa_usable(3, 1, 2, 32));
	assert_false(dane_tlsa_usable(3, 1, 0, 0));
}

static void test_parse(void **state)
{
	struct buf b = BUF_INIT;
	struct dane_tlsa_set set;
	static const unsigned char sig[] = {0, 52, 13, 5, 1, 2, 3, 4};

	(void)state;
	msg_begin(&b, 4);
	tlsa_rr(&b, 3, 1, 1, 32);
	msg_rr(&b, 46, sig, sizeof(sig)); /* an RRSIG: skipped */
	tlsa_rr(&b, 1, 1, 1, 32);	  /* unusable */
	tlsa_rr(&b, 2, 0, 2, 64);
	assert_int_equal(
	    dane_tlsa_from_answer((const unsigned char *)b.data, (int)b.len, &set), DNS_OK);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.unusable, 1);
	assert_int_equal(set.rr[0].usage, 3);
	assert_int_equal(set.rr[0].len, 32);
	assert_int_equal(set.rr[0].data[31], 0xab);
	assert_int_equal(set.rr[1].mtype, 2);
	assert_int_equal(set.rr[1].len, 64);
	dane_tlsa_free(&set);
	assert_null(set.rr);

	/* Only unusable records: OK, none to use (mandatory TLS). */
	msg_begin(&b, 1);
	tlsa_rr(&b, 0, 0, 1, 32);
	assert_int_equal(
	    dane_tlsa_from_answer((const unsigned char *)b.data, (int)b.len, &set), DNS_OK);
	assert_int_equal(set.n, 0);
	assert_int_equal(set.unusable, 1);
	dane_tlsa_free(&set);

	/* A CNAME alone is no TLSA. */
	msg_begin(&b, 1);
	msg_rr(&b, 5, (const unsigned char *)"\x01x\xc0\x0c", 4);
	assert_int_equal(
	    dane_tlsa_from_answer((const unsigned char *)b.data, (int)b.len, &set), DNS_NODATA);
	buf_free(&b);
}

static void test_malformed(void **state)
{
	struct buf b = BUF_INIT;
	struct dane_tlsa_set set;

	(void)state;
	assert_int_equal(dane_tlsa_from_answer((const unsigned char *)"\0\1", 2, &set), DNS_FAIL);
	msg_begin(&b, 1);
	tlsa_rr(&b, 3, 1, 1, 32);
	/* Cut short inside the record data. */
	assert_int_equal(
	    dane_tlsa_from_answer((const unsigned char *)b.data, (int)b.len - 5, &set), DNS_FAIL);
	/* An answer count larger than the message. */
	b.data[7] = 2;
	assert_int_equal(
	    dane_tlsa_from_answer((const unsigned char *)b.data, (int)b.len, &set), DNS_FAIL);
	assert_null(set.rr);
	/* A record shorter than its fixed fields. */
	msg_begin(&b, 1);
	msg_rr(&b, 52, (const unsigned char *)"\3\1", 2);
	assert_int_equal(
	    dane_tlsa_from_answer((const unsigned char *)b.data, (int)b.len, &set), DNS_OK);
	assert_int_equal(set.n, 0);
	assert_int_equal(set.unusable, 1);
	dane_tlsa_free(&set);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_usable),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
