/*
 * test_mime_parser.c - lib/mime/parser.c and lib/mime/blob.c: the part
 * tree with its physical and virtual sizes, chunk independence, the
 * limits, callbacks, section numbers and the cache blobs.  (Agreement
 * with Dovecot over a corpus is tests/e2e/test_imap_format.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "mime/blob.h"
#include "mime/parser.h"
#include "util.h"

static const char mixed[] = "From: a@b\n"
			    "Content-Type: multipart/mixed; boundary=XX\n"
			    "\n"
			    "preamble\n"
			    "--XX\n"
			    "Content-Type: text/plain\n"
			    "\n"
			    "one\n"
			    "two\n"
			    "--XX\n"
			    "\n"
			    "three\n"
			    "--XX--\n"
			    "epilogue\n";

static struct mime_part *parse_chunks(const char *msg, size_t len, size_t chunk)
{
	struct mime_parser *p = mime_parser_new(NULL, NULL, NULL);

	for (size_t i = 0; i < len; i += chunk)
		mime_parser_feed(p, msg + i, len - i < chunk ? len - i : chunk);
	return mime_parser_finish(p);
}

static void test_structure(void **state)
{
	struct mime_part *root = mime_parse(mixed, strlen(mixed));
	const struct mime_part *a, *b;

	(void)state;
	assert_true(root->flags & MIME_PART_MULTIPART);
	assert_true(root->flags & MIME_PART_MESSAGE_ROOT);
	assert_string_equal(root->type, "multipart");
	assert_int_equal(root->hdr.physical, 54);
	assert_int_equal(root->hdr.virtual_size, 57);
	assert_int_equal(root->hdr.lines, 3);
	assert_int_equal(root->body.physical, strlen(mixed) - 54);
	a = root->children;
	b = a->next;
	assert_non_null(b);
	assert_null(b->next);
	assert_string_equal(a->subtype, "plain");
	/* "one\ntwo": the LF before the boundary is the boundary's. */
	assert_int_equal(a->body.physical, 7);
	assert_int_equal(a->body.virtual_size, 8);
	assert_int_equal(a->body.lines, 1);
	assert_int_equal(a->hdr_offset, 54 + 9 + 5);
	assert_int_equal(mime_part_body_offset(a), 54 + 9 + 5 + 26);
	assert_string_equal(b->type, "text"); /* default */
	assert_int_equal(b->hdr.physical, 1);
	assert_int_equal(b->body.physical, 5);
	assert_string_equal(root->envelope->from->mailbox, "a");
	mime_part_free(root);
}

static void test_chunk_independent(void **state)
{
	const char *msgs[] = {mixed,
	    "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\nbody\r\n", "no header at all",
	    "A: b\n\n--x\n",
	    "Content-Type: multipart/a; boundary=\"b\"\n\n--b\r\n"
	    "X: y\r\n--b--\r\n"};

	(void)state;
	for (size_t m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++) {
		struct buf whole = BUF_INIT;
		struct mime_part *r = mime_parse(msgs[m], strlen(msgs[m]));

		mime_blob_part_encode(r, &whole);
		mime_part_free(r);
		for (size_t chunk = 1; chunk < 8; chunk++) {
			struct buf b = BUF_INIT;

			r = parse_chunks(msgs[m], strlen(msgs[m]), chunk);
			mime_blob_part_encode(r, &b);
			assert_int_equal(b.len, whole.len);
			assert_memory_equal(b.data, whole.data, b.len);
			mime_part_free(r);
			buf_free(&b);
		}
		buf_free(&whole);
	}
}

static void test_rfc822_and_sections(void **state)
{
	const char *msg = "Subject: outer\n"
			  "Content-Type: multipart/mixed; boundary=o\n\n"
			  "--o\n\nfirst\n"
			  "--o\nContent-Type: message/rfc822\n\n"
			  "Subject: inner\nContent-Type: multipart/alternative; boundary=i\n\n"
			  "--i\n\nplain\n--i\nContent-Type: text/html\n\n<p>\n--i--\n"
			  "--o--\n";
	struct mime_part *root = mime_parse(msg, strlen(msg));
	unsigned s2[] = {2}, s21[] = {2, 1}, s22[] = {2, 2}, s3[] = {3}, s11[] = {1, 1};
	const struct mime_part *p;

	(void)state;
	p = mime_part_by_section(root, s2, 1);
	assert_non_null(p);
	assert_true(p->flags & MIME_PART_MESSAGE_RFC822);
	assert_string_equal(p->children->envelope->subject, "inner");
	p = mime_part_by_section(root, s22, 2);
	assert_non_null(p);
	assert_string_equal(p->subtype, "html");
	p = mime_part_by_section(root, s21, 2);
	assert_string_equal(p->subtype, "plain");
	assert_null(mime_part_by_section(root, s3, 1));
	/* Part 1 is a leaf: 1.1 does not exist. */
	assert_null(mime_part_by_section(root, s11, 2));
	assert_ptr_equal(mime_part_by_section(root, NULL, 0), root);
	mime_part_free(root);
}

static void test_bogus_and_missing(void **state)
{
	const char *msg = "Content-Type: multipart/mixed; boundary=out\n\n"
			  "--out\nContent-Type: multipart/mixed; boundary=in\n\n"
			  "--in\n\ninner\n"
			  "--out\n\nsecond\n"; /* no closing boundaries at all */
	struct mime_part *root = mime_parse(msg, strlen(msg));

	(void)state;
	assert_int_equal(mime_part_count_children(root), 2);
	assert_int_equal(mime_part_count_children(root->children), 1);
	assert_int_equal(root->children->children->body.physical, 5);
	assert_int_equal(root->children->next->body.physical, 7); /* to the end */
	mime_part_free(root);
}

static void test_limits(void **state)
{
	struct buf msg = BUF_INIT;
	struct mime_parser_limits lim = {5, 20, 100};
	struct mime_parser *p;
	struct mime_part *root, *x;
	unsigned depth = 0;

	(void)state;
	/* 10 nested message/rfc822: only 5 levels become parts. */
	for (int i = 0; i < 10; i++)
		buf_puts(&msg, "Content-Type: message/rfc822\n\n");
	buf_puts(&msg, "body\n");
	p = mime_parser_new(&lim, NULL, NULL);
	mime_parser_feed(p, msg.data, msg.len);
	root = mime_parser_finish(p);
	for (x = root; x->children; x = x->children)
		depth++;
	assert_int_equal(depth, 4);
	assert_true(root->flags & MIME_PART_BROKEN);
	mime_part_free(root);

	/* 50 parts: 20 at most, the rest is body. */
	buf_reset(&msg);
	buf_puts(&msg, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (int i = 0; i < 50; i++)
		buf_puts(&msg, "--b\n\nx\n");
	p = mime_parser_new(&lim, NULL, NULL);
	mime_parser_feed(p, msg.data, msg.len);
	root = mime_parser_finish(p);
	assert_int_equal(mime_part_count_children(root), 19);
	assert_int_equal(root->body.physical, msg.len - 43);
	mime_part_free(root);

	/* A long header: only max_header bytes are kept for parsing. */
	buf_reset(&msg);
	buf_puts(&msg, "Subject: ");
	for (int i = 0; i < 500; i++)
		buf_putc(&msg, 'x');
	buf_puts(&msg, "\nContent-Type: text/html\n\nbody");
	p = mime_parser_new(&lim, NULL, NULL);
	mime_parser_feed(p, msg.data, msg.len);
	root = mime_parser_finish(p);
	assert_true(root->flags & MIME_PART_HDR_TRUNCATED);
	assert_string_equal(root->subtype, "plain"); /* its Content-Type was cut off */
	assert_int_equal(root->hdr.physical, msg.len - 4);
	mime_part_free(root);
	buf_free(&msg);
}

struct cb_log {
	struct buf body, fields;
};

static void cb_header(void *ctx, struct mime_part *part, const struct mime_hdr_field *f)
{
	struct cb_log *l = ctx;

	(void)part;
	buf_append(&l->fields, f->name, f->name_len);
	buf_putc(&l->fields, ';');
}

static void cb_body(void *ctx, struct mime_part *part, const char *data, size_t len)
{
	struct cb_log *l = ctx;

	if (!(part->flags & MIME_PART_MULTIPART))
		buf_append(&l->body, data, len);
}

static void test_callbacks(void **state)
{
	struct mime_parser_callbacks cb = {cb_header, NULL, cb_body};
	struct cb_log log = {BUF_INIT, BUF_INIT};
	struct mime_parser *p = mime_parser_new(NULL, &cb, &log);

	(void)state;
	for (size_t i = 0; i < strlen(mixed); i++)
		mime_parser_feed(p, mixed + i, 1);
	mime_part_free(mime_parser_finish(p));
	assert_string_equal(buf_cstr(&log.body), "one\ntwothree");
	assert_string_equal(buf_cstr(&log.fields), "From;Content-Type;Content-Type;");
	buf_free(&log.body);
	buf_free(&log.fields);
}

static void test_blob(void **state)
{
	struct mime_part *root = mime_parse(mixed, strlen(mixed)), *back;
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct mime_envelope *env;

	(void)state;
	mime_blob_part_encode(root, &a);
	back = mime_blob_part_decode(a.data, a.len);
	assert_non_null(back);
	mime_blob_part_encode(back, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_ptr_equal(back->children->parent, back);
	/* Every truncation and a trailing byte are refused. */
	for (size_t i = 0; i < a.len; i++)
		assert_null(mime_blob_part_decode(a.data, i));
	buf_putc(&a, 0);
	assert_null(mime_blob_part_decode(a.data, a.len));
	buf_reset(&a);
	mime_blob_envelope_encode(root->envelope, &a);
	env = mime_blob_envelope_decode(a.data, a.len);
	assert_non_null(env);
	assert_string_equal(env->from->host, "b");
	assert_null(mime_blob_envelope_decode(a.data, a.len - 1));
	assert_null(mime_blob_envelope_decode("B\1", 2));
	mime_envelope_free(env);
	mime_part_free(root);
	mime_part_free(back);
	buf_free(&a);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_chunk_independent),
	    cmocka_unit_test(test_rfc822_and_sections),
	    cmocka_unit_test(test_bogus_and_missing),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_callbacks),
	    cmocka_unit_test(test_blob),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
