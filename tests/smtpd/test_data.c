/*
 * test_data.c - unit tests of the DATA-stream decoder (smtpd/data.c).
 *
 * Every expected output is written out by hand; the split tests then check
 * that feeding the same input in any pieces gives exactly that output and
 * consumes exactly the same number of bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../smtpd/data.h"
#include "buf.h"

struct result {
	struct buf out;
	size_t used;
	bool done;
};

/* Feeds in[0..len) in pieces of the given sizes (cycled), like reads. */
static void feed(const char *in, size_t len, const size_t *sizes, size_t nsizes, struct result *r)
{
	struct data_decoder d;
	size_t off = 0, k = 0;

	buf_init(&r->out);
	data_decoder_init(&d);
	while (off < len && !data_decoder_done(&d)) {
		size_t n = sizes[k++ % nsizes];
		size_t used;

		if (n > len - off)
			n = len - off;
		used = data_decode(&d, in + off, n, &r->out);
		assert_true(used <= n);
		if (used < n)
			assert_true(data_decoder_done(&d));
		off += used;
	}
	r->used = off;
	r->done = data_decoder_done(&d);
}

static void decode_all(const char *in, size_t len, struct result *r)
{
	size_t all = len ? len : 1;

	feed(in, len, &all, 1, r);
}

static void expect(
    const char *in, size_t inlen, const char *want, size_t wantlen, bool done, size_t used)
{
	struct result r;

	decode_all(in, inlen, &r);
	assert_int_equal(r.done, done);
	assert_int_equal(r.used, used);
	assert_int_equal(r.out.len, wantlen);
	assert_memory_equal(r.out.data ? r.out.data : "", want, wantlen);
	buf_free(&r.out);
}

#define EXPECT(in, want, done, used) expect(in, sizeof(in) - 1, want, sizeof(want) - 1, done, used)
/* The whole input is consumed. */
#define EXPECT_ALL(in, want, done) EXPECT(in, want, done, sizeof(in) - 1)

static void test_normal_message(void **state)
{
	(void)state;
	EXPECT_ALL("Subject: hi\r\n\r\nbody line\r\n.\r\n", "Subject: hi\n\nbody line\n", true);
}

static void test_empty_message(void **state)
{
	(void)state;
	EXPECT_ALL(".\r\n", "", true);
	EXPECT(".\r\nQUIT\r\n", "", true, 3);
}

static void test_dot_stuffing(void **state)
{
	(void)state;
	EXPECT_ALL("..\r\n.\r\n", ".\n", true);
	EXPECT_ALL("a\r\n..b\r\n...\r\n.x\r\n.\r\n", "a\n.b\n..\nx\n", true);
	/* Only the first dot of a line goes; dots inside a line stay. */
	EXPECT_ALL("a.b\r\n. .\r\n.\r\n", "a.b\n .\n", true);
}

static void test_rest_left_for_commands(void **state)
{
	struct result r;
	static const char in[] = "x\r\n.\r\nMAIL FROM:<a@b>\r\n";

	(void)state;
	decode_all(in, sizeof(in) - 1, &r);
	assert_true(r.done);
	assert_int_equal(r.used, 6);
	assert_string_equal(in + r.used, "MAIL FROM:<a@b>\r\n");
	assert_int_equal(r.out.len, 2);
	assert_memory_equal(r.out.data, "x\n", 2);
	buf_free(&r.out);
}

/* Line endings that other software might take for the end: none is. */
static void test_smuggling_variants(void **state)
{
	(void)state;
	EXPECT_ALL("a\n.\nb\r\n.\r\n", "a\n.\nb\n", true);
	EXPECT_ALL("a\n.\r\nb\r\n.\r\n", "a\n.\nb\n", true);
	EXPECT_ALL("a\r.\rb\r\n.\r\n", "a\r.\rb\n", true);
	EXPECT_ALL("a\r.\r\nb\r\n.\r\n", "a\r.\nb\n", true);
	EXPECT_ALL("a\r\n.\nb\r\n.\r\n", "a\n\nb\n", true);
	EXPECT_ALL("a\r\n.\rb\r\n.\r\n", "a\n\rb\n", true);
	EXPECT_ALL("a\r\n.\r\rb\r\n.\r\n", "a\n\r\rb\n", true);
	EXPECT_ALL("a\r\n .\r\nb\r\n.\r\n", "a\n .\nb\n", true);
	EXPECT_ALL("a\r\n.\r.\r\n", "a\n\r.\n", false);
	/* Without the final CRLF . CRLF the message has not ended. */
	EXPECT_ALL("a\n.\n", "a\n.\n", false);
	EXPECT_ALL("a\r\n.\n", "a\n\n", false);
	EXPECT_ALL("a\r.\r", "a\r.", false);
	EXPECT_ALL("\n.\r\n", "\n.\n", false);
	EXPECT_ALL("\r\n.\n\r\n", "\n\n\n", false);
}

static void test_bare_cr_lf_kept(void **state)
{
	(void)state;
	EXPECT_ALL("a\rb\nc\r\r\n\n\r\r.\r\n", "a\rb\nc\r\n\n\r\r.\n", false);
	EXPECT_ALL("a\rb\nc\r\r\n\n\r\r.\r\n.\r\n", "a\rb\nc\r\n\n\r\r.\n", true);
	EXPECT_ALL("\r\r\r\n.\r\n", "\r\r\n", true);
	EXPECT_ALL("\r", "", false);
	EXPECT_ALL("\rx", "\rx", false);
}

static void test_binary_bytes(void **state)
{
	static const char in[] = "\x80\xff\0a\r\n.\0\r\n\xc3\xa9\r\n.\r\n";
	static const char want[] = "\x80\xff\0a\n\0\n\xc3\xa9\n";

	(void)state;
	expect(in, sizeof(in) - 1, want, sizeof(want) - 1, true, sizeof(in) - 1);
}

static void test_done_consumes_nothing(void **state)
{
	struct data_decoder d;
	struct buf out = BUF_INIT;

	(void)state;
	data_decoder_init(&d);
	assert_int_equal(data_decode(&d, ".\r\n", 3, &out), 3);
	assert_true(data_decoder_done(&d));
	assert_int_equal(data_decode(&d, "abc", 3, &out), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(data_decode(&d, "", 0, &out), 0);
	buf_free(&out);
}

/* A tricky input, fed in every way: the result must never change. */
static const char tricky[] = ".\r\r\n..\r\n\r\n.\n\r.\r\n\r\r\n.x\n.\r\r\n.\r\r\n"
			     "\x80\0\r\n...\r\n\r\n.\r\nNOOP\r\n";

static void check_same(const struct result *ref, const struct result *r)
{
	assert_int_equal(r->done, ref->done);
	assert_int_equal(r->used, ref->used);
	assert_int_equal(r->out.len, ref->out.len);
	assert_memory_equal(r->out.data, ref->out.data, ref->out.len);
}

static void test_tricky_reference(void **state)
{
	static const char want[] = "\r\n.\n\n\n\r.\n\r\nx\n.\r\n\r\n\x80\0\n..\n\n";
	struct result r;

	(void)state;
	decode_all(tricky, sizeof(tricky) - 1, &r);
	assert_true(r.done);
	assert_int_equal(r.used, sizeof(tricky) - 1 - strlen("NOOP\r\n"));
	assert_int_equal(r.out.len, sizeof(want) - 1);
	assert_memory_equal(r.out.data, want, sizeof(want) - 1);
	buf_free(&r.out);
}

static void test_tricky_chunks(void **state)
{
	static const size_t pats[][3] = {
	    {1, 1, 1},
	    {2, 2, 2},
	    {3, 3, 3},
	    {1, 2, 3},
	    {3, 1, 2},
	    {2, 5, 1},
	    {7, 1, 4},
	};
	struct result ref, r;

	(void)state;
	decode_all(tricky, sizeof(tricky) - 1, &ref);
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		feed(tricky, sizeof(tricky) - 1, pats[i], 3, &r);
		check_same(&ref, &r);
		buf_free(&r.out);
	}
	buf_free(&ref.out);
}

/* Every pair of split points (three pieces, including empty ones). */
static void test_tricky_every_split(void **state)
{
	size_t len = sizeof(tricky) - 1;
	struct result ref;

	(void)state;
	decode_all(tricky, len, &ref);
	for (size_t a = 0; a <= len; a++) {
		for (size_t b = a; b <= len; b++) {
			struct data_decoder d;
			struct buf out = BUF_INIT;
			size_t used = 0, cut[3] = {a, b, len}, start = 0;

			data_decoder_init(&d);
			for (int k = 0; k < 3; k++) {
				size_t n = data_decode(&d, tricky + start, cut[k] - start, &out);

				used += n;
				if (data_decoder_done(&d))
					break;
				start = cut[k];
			}
			assert_true(data_decoder_done(&d));
			assert_int_equal(used, ref.used);
			assert_int_equal(out.len, ref.out.len);
			assert_memory_equal(out.data, ref.out.data, ref.out.len);
			buf_free(&out);
		}
	}
	buf_free(&ref.out);
}

/* The end marker split at its CR: "\r" ends one read, "\n.\r\n" starts the next. */
static void test_end_split_at_cr(void **state)
{
	struct data_decoder d;
	struct buf out = BUF_INIT;

	(void)state;
	data_decoder_init(&d);
	assert_int_equal(data_decode(&d, "hello\r", 6, &out), 6);
	assert_false(data_decoder_done(&d));
	assert_int_equal(out.len, 5);
	assert_int_equal(data_decode(&d, "\n.\r\nQUIT\r\n", 10, &out), 4);
	assert_true(data_decoder_done(&d));
	assert_int_equal(out.len, 6);
	assert_memory_equal(out.data, "hello\n", 6);
	buf_free(&out);
}

static void test_large_body(void **state)
{
	struct buf in = BUF_INIT;
	struct result r;
	size_t sizes[] = {4093, 1, 65536};

	(void)state;
	for (int i = 0; i < 20000; i++)
		buf_puts(&in, i % 7 == 0 ? ".dotted line\r\n" : "plain text line\r\n");
	buf_puts(&in, ".\r\n");
	feed(in.data, in.len, sizes, 3, &r);
	assert_true(r.done);
	assert_int_equal(r.used, in.len);
	/* Each line lost its CR, dotted lines also their dot. */
	assert_int_equal(r.out.len, in.len - 3 - 20000 - (20000 + 6) / 7);
	buf_free(&r.out);
	buf_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normal_message),
	    cmocka_unit_test(test_empty_message),
	    cmocka_unit_test(test_dot_stuffing),
	    cmocka_unit_test(test_rest_left_for_commands),
	    cmocka_unit_test(test_smuggling_variants),
	    cmocka_unit_test(test_bare_cr_lf_kept),
	    cmocka_unit_test(test_binary_bytes),
	    cmocka_unit_test(test_done_consumes_nothing),
	    cmocka_unit_test(test_tricky_reference),
	    cmocka_unit_test(test_tricky_chunks),
	    cmocka_unit_test(test_tricky_every_split),
	    cmocka_unit_test(test_end_split_at_cr),
	    cmocka_unit_test(test_large_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
