/*
 * test_parser.c - imap/parser.c: commands fed in any chunks, literals
 * (sync, LITERAL+, literal8, streamed), the limits and their replies,
 * error recovery and pipelining.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imap/parser.h"
#include "buf.h"
#include "util.h"

/* Renders the argument tree compactly: atoms bare, strings "..",
 * literals {n}text, lists (..), NIL, streamed <n>. */
static void render(struct buf *b, const struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ' ');
		switch (a[i].type) {
		case IMAP_ARG_NIL: buf_puts(b, "NIL"); break;
		case IMAP_ARG_ATOM: buf_puts(b, a[i].str); break;
		case IMAP_ARG_STRING: buf_printf(b, "\"%s\"", a[i].str); break;
		case IMAP_ARG_LITERAL:
			buf_printf(b, "%s{%zu}", a[i].literal8 ? "~" : "", a[i].len);
			buf_append(b, a[i].str, a[i].len);
			break;
		case IMAP_ARG_LITERAL_STREAM:
			buf_printf(b, "<%llu>", (unsigned long long)a[i].size);
			break;
		case IMAP_ARG_LIST:
			buf_putc(b, '(');
			render(b, a[i].list, a[i].count);
			buf_putc(b, ')');
			break;
		}
	}
}

/* Feeds text in chunks of chunk bytes, accepting every literal; returns
 * "TAG NAME args" of the first command, or "BAD:text"/"FATAL:text". */
static char *run(const char *text, size_t chunk, const struct imap_parser_limits *lim)
{
	struct imap_parser *p = imap_parser_new(lim);
	size_t len = strlen(text), pos = 0, end = 0;
	struct buf out = BUF_INIT;

	while (pos < len || end > pos) {
		size_t used;
		enum imap_parse_result r;

		if (end < pos + chunk && end < len)
			end = pos + chunk < len ? pos + chunk : len;
		r = imap_parser_feed(p, text + pos, end - pos, &used);
		pos += used;
		if (r == IMAP_PARSE_COMMAND) {
			const struct imap_command *c = imap_parser_command(p);

			buf_printf(&out, "%s %s", c->tag, c->name);
			if (c->count) {
				buf_putc(&out, ' ');
				render(&out, c->args, c->count);
			}
			break;
		}
		if (r == IMAP_PARSE_LITERAL) {
			imap_parser_literal_accept(p);
			continue;
		}
		if (r == IMAP_PARSE_BAD || r == IMAP_PARSE_FATAL) {
			buf_printf(&out, "%s:%s", r == IMAP_PARSE_BAD ? "BAD" : "FATAL",
			    imap_parser_error(p));
			break;
		}
		if (pos == len)
			break;
	}
	imap_parser_free(p);
	char *s = xstrdup(buf_cstr(&out));
	buf_free(&out);
	return s;
}

static void check(const char *text, const char *want)
{
	for (size_t chunk = 1; chunk <= strlen(text) + 1; chunk += chunk < 4 ? 1 : 7) {
		char *got = run(text, chunk, NULL);

		assert_string_equal(got, want);
		free(got);
	}
}

static void test_commands(void **state)
{
	(void)state;
	check("a1 NOOP\r\n", "a1 NOOP");
	check("a2 login user \"p\\\"w\\\\\"\r\n", "a2 LOGIN user \"p\"w\\\"");
	check("a3 uid fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\n",
	    "a3 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)");
	check("a4 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211))\r\n",
	    "a4 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211))");
	check("a5 LIST \"\" %\r\n", "a5 LIST \"\" %");
	check("a6 STORE 1 +FLAGS (\\Seen $Junk)\r\n", "a6 STORE 1 +FLAGS (\\Seen $Junk)");
	check("a7 ID nil\r\n", "a7 ID NIL");
	check("a8 x \"caf\xc3\xa9\"\r\n", "a8 X \"caf\xc3\xa9\"");
	check("\r\n\r\na9 NOOP\r\n", "a9 NOOP");
	check("a10 x () ((a) b)\r\n", "a10 X () ((a) b)");
}

static void test_literals(void **state)
{
	(void)state;
	check("b1 LOGIN {4}\r\nuser {2+}\r\npw\r\n", "b1 LOGIN {4}user {2}pw");
	check("b2 APPEND box ~{3}\r\nabc\r\n", "b2 APPEND box ~{3}abc");
	check("b3 x {0}\r\n\r\n", "b3 X {0}");
	check("b4 x (a {1}\r\n) b)\r\n", "b4 X (a {1}) b)");
	check("b6 x {1a}\r\n", "BAD:" IMAP_ERR_LITERAL_SIZE);
	check("b7 x {1}x\r\n", "BAD:" IMAP_ERR_LITERAL_CRLF);
}

/* literal8 may hold NULs (RFC 3516); a literal may not. */
static void test_literal8_nul(void **state)
{
	static const char text[] = "g1 APPEND box ~{3}\r\na\0b\r\n";
	struct imap_parser *p = imap_parser_new(NULL);
	size_t used, pos = 0, len = sizeof(text) - 1;

	(void)state;
	assert_int_equal(imap_parser_feed(p, text, len, &used), IMAP_PARSE_LITERAL);
	assert_true(imap_parser_literal(p)->literal8);
	assert_true(imap_parser_literal_accept(p));
	pos = used;
	assert_int_equal(imap_parser_feed(p, text + pos, len - pos, &used), IMAP_PARSE_COMMAND);
	const struct imap_command *c = imap_parser_command(p);
	assert_int_equal(c->args[1].len, 3);
	assert_memory_equal(c->args[1].str, "a\0b", 3);
	pos += used;
	static const char bad[] = "g2 x {1}\r\n\0\r\n";
	assert_int_equal(imap_parser_feed(p, bad, sizeof(bad) - 1, &used), IMAP_PARSE_LITERAL);
	assert_true(imap_parser_literal_accept(p));
	pos = used;
	assert_int_equal(
	    imap_parser_feed(p, bad + pos, sizeof(bad) - 1 - pos, &used), IMAP_PARSE_BAD);
	assert_string_equal(imap_parser_error(p), IMAP_ERR_NUL);
	imap_parser_free(p);
}

static void test_errors(void **state)
{
	struct imap_parser_limits lim = {100, 10, 3, 5};
	char *s;

	(void)state;
	check("c1 x )\r\n", "BAD:" IMAP_ERR_UNEXPECTED_PAREN);
	check("c2 x (a\r\n", "BAD:" IMAP_ERR_MISSING_PAREN);
	check("c3 x \"abc\r\n", "BAD:" IMAP_ERR_EOL_STRING);
	check("c4 x a\rb\r\n", "BAD:" IMAP_ERR_CR);
	check("+ x\r\n", "BAD:" IMAP_ERR_TAG);
	check("c5 \r\n", "BAD:" IMAP_ERR_NAME);
	s = run("d1 x ((((a))))\r\n", 5, &lim);
	assert_string_equal(s, "BAD:" IMAP_ERR_LIST_DEEP);
	free(s);
	s = run("d2 x a b c d e f\r\n", 5, &lim);
	assert_string_equal(s, "BAD:" IMAP_ERR_TOO_MANY_ARGS);
	free(s);
	s = run("d3 x "
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaa\r\n",
	    7, &lim);
	assert_string_equal(s, "FATAL:" IMAP_ERR_LINE_TOO_LONG);
	free(s);
}

/* After a BAD the parser skips the rest of the line, including the data
 * of a LITERAL+ at its end, and then parses the next command. */
static void test_recovery_and_pipelining(void **state)
{
	const char *text = "e1 x ) junk {5+}\r\n12345 more\r\ne2 NOOP\r\ne3 CHECK\r\n";
	struct imap_parser *p = imap_parser_new(NULL);
	size_t pos = 0, len = strlen(text), used;
	enum imap_parse_result r;

	(void)state;
	r = imap_parser_feed(p, text, len, &used);
	assert_int_equal(r, IMAP_PARSE_BAD);
	assert_string_equal(imap_parser_error_tag(p), "e1");
	pos += used;
	r = imap_parser_feed(p, text + pos, len - pos, &used);
	assert_int_equal(r, IMAP_PARSE_COMMAND);
	assert_string_equal(imap_parser_command(p)->tag, "e2");
	pos += used;
	r = imap_parser_feed(p, text + pos, len - pos, &used);
	assert_int_equal(r, IMAP_PARSE_COMMAND);
	assert_string_equal(imap_parser_command(p)->name, "CHECK");
	pos += used;
	assert_int_equal(pos, len);
	imap_parser_free(p);
}

/* APPEND's message literal: announced, then streamed by the caller. */
static void test_stream_and_reject(void **state)
{
	const char *text = "f1 APPEND INBOX (\\Seen) {11}\r\n";
	struct imap_parser_limits lim = {64, 0, 0, 0};
	struct imap_parser *p = imap_parser_new(&lim);
	size_t used;
	const struct imap_literal_info *li;
	const struct imap_command *c;

	(void)state;
	assert_int_equal(imap_parser_feed(p, text, strlen(text), &used), IMAP_PARSE_LITERAL);
	assert_int_equal(used, strlen(text));
	li = imap_parser_literal(p);
	assert_int_equal(li->size, 11);
	assert_true(li->sync);
	assert_int_equal(li->argc, 2);
	c = imap_parser_partial(p);
	assert_string_equal(c->name, "APPEND");
	assert_int_equal(c->count, 2);
	/* Feeding before deciding consumes nothing. */
	assert_int_equal(imap_parser_feed(p, "x", 1, &used), IMAP_PARSE_LITERAL);
	assert_int_equal(used, 0);
	imap_parser_literal_stream(p);
	/* ... the caller reads 11 bytes to a file ... */
	imap_parser_literal_streamed(p);
	assert_int_equal(imap_parser_feed(p, "\r\n", 2, &used), IMAP_PARSE_COMMAND);
	c = imap_parser_command(p);
	assert_int_equal(c->count, 3);
	assert_int_equal(c->args[2].type, IMAP_ARG_LITERAL_STREAM);
	assert_int_equal(c->args[2].size, 11);

	/* Too big for memory: BAD, and a non-sync literal's data is skipped. */
	const char *big = "f2 x {100+}\r\n";
	assert_int_equal(imap_parser_feed(p, big, strlen(big), &used), IMAP_PARSE_LITERAL);
	assert_false(imap_parser_literal_accept(p));
	assert_string_equal(imap_parser_error(p), IMAP_ERR_LITERAL_TOO_BIG);
	char data[100];
	memset(data, '(', sizeof(data));
	assert_int_equal(imap_parser_feed(p, data, sizeof(data), &used), IMAP_PARSE_MORE);
	assert_int_equal(used, 100);
	assert_int_equal(imap_parser_feed(p, "\r\nf3 NOOP\r\n", 11, &used), IMAP_PARSE_COMMAND);
	assert_string_equal(imap_parser_command(p)->tag, "f3");
	imap_parser_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_literal8_nul),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_recovery_and_pipelining),
	    cmocka_unit_test(test_stream_and_reject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
