/*
 * test_mime.c - lib/mime: header fields, addresses, dates, RFC 2047 and
 * RFC 2231, charsets, transfer decoders, casemap, blobs and HTML read
 * as text.  The parser
 * has its own file, test_mime_parser.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "mime/address.h"
#include "mime/casemap.h"
#include "mime/charset.h"
#include "mime/date.h"
#include "mime/decode.h"
#include "mime/downgrade.h"
#include "mime/header.h"
#include "mime/html_text.h"
#include "mime/param.h"
#include "mime/rfc2047.h"
#include "util.h"

static void test_header_find(void **state)
{
	const char *h =
	    "From: a@b\r\nSubject: one\r\n two\r\n\tthree  \r\nX-Bad line\nTo : c@d\n\nBody: no\n";
	struct buf v = BUF_INIT;
	struct mime_hdr_iter it;
	struct mime_hdr_field f;
	int n = 0;

	(void)state;
	assert_true(mime_hdr_find(h, strlen(h), "subject", &v));
	assert_string_equal(buf_cstr(&v), "one two\tthree");
	assert_true(mime_hdr_find(h, strlen(h), "TO", &v));
	assert_string_equal(buf_cstr(&v), "c@d");
	assert_false(mime_hdr_find(h, strlen(h), "Body", &v)); /* after the empty line */
	mime_hdr_iter_init(&it, h, strlen(h));
	while (mime_hdr_iter_next(&it, &f))
		n++;
	assert_int_equal(n, 3); /* the line without a colon is skipped */
	buf_free(&v);
}

/* The list as "name|route|mailbox|host;" entries ("-" for NULL). */
static void check_addr(const char *in, unsigned flags, const char *want)
{
	struct mime_addr *l = mime_addr_parse(in, strlen(in), flags, 0);
	struct buf b = BUF_INIT;

	for (struct mime_addr *a = l; a; a = a->next)
		buf_printf(&b, "%s|%s|%s|%s;", a->name ? a->name : "-", a->route ? a->route : "-",
		    a->mailbox ? a->mailbox : "-", a->host ? a->host : "-");
	assert_string_equal(buf_cstr(&b), want);
	mime_addr_free(l);
	buf_free(&b);
}

static void test_address(void **state)
{
	(void)state;
	check_addr("Fred Foobar <foobar@Blurdybloop.example>", 0,
	    "Fred Foobar|-|foobar|Blurdybloop.example;");
	check_addr("a@b (Comment Name), \"Doe, John\" <jd@x.org>", 0,
	    "Comment Name|-|a|b;Doe, John|-|jd|x.org;");
	check_addr(
	    "Team: x@y, <z@w>;, last@one", 0, "-|-|Team|-;-|-|x|y;-|-|z|w;-|-|-|-;-|-|last|one;");
	check_addr("<@r1,@r2:u@d>", 0, "-|@r1,@r2|u|d;");
	check_addr("nobody", MIME_ADDR_FILL_MISSING, "-|-|nobody|MISSING_DOMAIN;");
	check_addr("@nolocal", MIME_ADDR_FILL_MISSING, "-|-|MISSING_MAILBOX|nolocal;");
	check_addr("Open Group: a@b", MIME_ADDR_FILL_MISSING, "-|-|Open Group|-;-|-|a|b;-|-|-|-;");
	check_addr("\"q x\"@e", 0, "-|-|q x|e;");
	check_addr("", 0, "");
	check_addr(">>><<<", 0, "-|-||;");
}

static void test_address_limit(void **state)
{
	struct buf in = BUF_INIT;
	struct mime_addr *l;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 50; i++)
		buf_printf(&in, "u%d@h, ", i);
	l = mime_addr_parse(in.data, in.len, 0, 10);
	for (struct mime_addr *a = l; a; a = a->next)
		n++;
	assert_int_equal(n, 10);
	mime_addr_free(l);
	buf_free(&in);
}

static void check_date(const char *s, long long want, int want_tz)
{
	time_t t = 0;
	int tz = 99;

	assert_true(mime_date_parse(s, strlen(s), &t, &tz));
	assert_int_equal((long long)t, want);
	assert_int_equal(tz, want_tz);
}

static void test_date(void **state)
{
	time_t t;
	int tz;

	(void)state;
	check_date("Mon, 7 Feb 1994 21:52:25 -0800 (PST)", 760686745, -480);
	check_date("7 Feb 1994 21:52:25 -0800", 760686745, -480);
	check_date("Mon,  7 Feb 94 21:52 PST", 760686720, -480);
	check_date("1 Jan 2000 00:00:00 GMT", 946684800, 0);
	check_date("1 jan 2000 (c) 00:00 +0000", 946684800, 0);
	check_date("1 Jan 2000 00:00:00", 946684800, 0);
	check_date("1 Jan 100 00:00:00 Z", 946684800, 0); /* 3 digits: + 1900 */
	assert_false(mime_date_parse("yesterday", 9, &t, &tz));
	assert_false(mime_date_parse("32 Jan 2000 00:00", 17, &t, &tz));
	assert_false(mime_date_parse("1 Foo 2000 00:00", 16, &t, &tz));
	assert_false(mime_date_parse("", 0, &t, &tz));
}

static void check_2047(const char *in, const char *want)
{
	struct buf b = BUF_INIT;

	mime_2047_decode(in, strlen(in), &b);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void test_rfc2047(void **state)
{
	(void)state;
	check_2047("=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard");
	check_2047("=?UTF-8?B?TWljaGHFgg==?=", "Micha\xc5\x82");
	check_2047("=?utf-8?q?a?= =?utf-8?q?b?=", "ab");      /* space between words dropped */
	check_2047("=?utf-8?q?a?= x =?utf-8?q?b?=", "a x b"); /* kept next to text */
	check_2047("=?utf-8*en?q?caf=C3=A9_ok?=", "caf\xc3\xa9 ok");
	check_2047("=?bogus-charset?q?abc?=", "abc");
	check_2047("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	check_2047("plain \xff text", "plain \xef\xbf\xbd text");
	check_2047("=?utf-8?q?unterminated", "=?utf-8?q?unterminated");

	/* encoding: words of at most 45 bytes cut between characters, and
	 * decoding gives the text back */
	struct buf e = BUF_INIT, d = BUF_INIT;
	const char *t = "Gr\xc3\xbc\xc3\x9f"
			"e aus K\xc3\xb6ln, ein langer Betreff mit \xc3\xbc"
			"\xc3\xbc\xc3\xbc\xc3\xbc und mehr";

	mime_2047_encode("\xc3\xa9", 2, &e);
	assert_string_equal(buf_cstr(&e), "=?UTF-8?B?w6k=?=");
	buf_reset(&e);
	mime_2047_encode(t, strlen(t), &e);
	assert_non_null(strstr(buf_cstr(&e), "?=\n =?UTF-8?B?"));
	for (size_t i = 0; i < e.len; i++)
		assert_true((unsigned char)e.data[i] < 0x80);
	mime_2047_decode(e.data, e.len, &d);
	assert_string_equal(buf_cstr(&d), t);
	buf_free(&e);
	buf_free(&d);
}

static void test_downgrade(void **state)
{
	const char *hdr = "From: J\xc3\xb6rg <j@ex.org>\n"
			  "Subject: Gr\xc3\xbc\xc3\x9f"
			  "e\n  aus K\xc3\xb6ln\n"
			  "X-Plain: ascii\r\n"
			  "bad\xff line\n";
	const char *msg_ascii = "Subject: plain\n\nb\xc3\xb6"
				"dy\n";
	char path[] = "/tmp/test_mime_dgXXXXXX";
	struct buf out = BUF_INIT;
	char rest[64];
	int fd;

	(void)state;
	assert_true(mime_downgrade_needed(hdr, strlen(hdr)));
	assert_false(mime_downgrade_needed("To: a@b\n", 8));
	mime_downgrade_header(hdr, strlen(hdr), &out);
	/* the address field as an empty group's name, the others as words,
	 * ASCII fields and line ends as they were, a non-field made ASCII */
	assert_string_equal(buf_cstr(&out), "From: =?UTF-8?B?SsO2cmcgPGpAZXgub3JnPg==?= :;\n"
					    "Subject: =?UTF-8?B?R3LDvMOfZSAgYXVzIEvDtmxu?=\n"
					    "X-Plain: ascii\r\n"
					    "bad? line\n");

	/* from a file: the header downgraded, the file at the empty line */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd,
			     "Subject: \xc3\xa9\n\nb\xc3\xb6"
			     "dy\n",
			     19),
	    19);
	lseek(fd, 0, SEEK_SET);
	buf_reset(&out);
	assert_true(mime_downgrade_fd(fd, 1024, &out));
	assert_string_equal(buf_cstr(&out), "Subject: =?UTF-8?B?w6k=?=\n");
	assert_int_equal(read(fd, rest, sizeof(rest)), 7);
	assert_memory_equal(rest,
	    "\nb\xc3\xb6"
	    "dy\n",
	    7);
	/* over the limit, or nothing to change: false, the file at its start */
	lseek(fd, 0, SEEK_SET);
	buf_reset(&out);
	assert_false(mime_downgrade_fd(fd, 4, &out));
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(write(fd, msg_ascii, strlen(msg_ascii)), (ssize_t)strlen(msg_ascii));
	lseek(fd, 0, SEEK_SET);
	assert_false(mime_downgrade_fd(fd, 1024, &out));
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
	close(fd);
	buf_free(&out);
}

static void test_params(void **state)
{
	struct mime_params ps;
	char *type, *sub;
	struct buf b = BUF_INIT;

	(void)state;
	const char *ct = "Text/Plain; Charset=\"utf-8\"; name*0=\"a \"; name*1=b.txt;"
			 " title*=iso-8859-1'fr'caf%E9; junk";
	mime_content_type_parse(ct, strlen(ct), &type, &sub, &ps);
	assert_string_equal(type, "text");
	assert_string_equal(sub, "plain");
	assert_int_equal(ps.n, 3);
	assert_string_equal(ps.v[0].name, "Charset");
	assert_string_equal(mime_params_get(&ps, "charset"), "utf-8");
	assert_string_equal(mime_params_get(&ps, "name"), "a b.txt");
	assert_string_equal(mime_params_get(&ps, "title*"), "iso-8859-1'fr'caf%E9");
	assert_true(mime_param_utf8(&ps, "title", &b));
	assert_string_equal(buf_cstr(&b), "caf\xc3\xa9");
	mime_params_free(&ps);
	free(type);
	free(sub);

	const char *cd = "attachment; filename=\"=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=\"";
	mime_token_params_parse(cd, strlen(cd), &type, &ps);
	assert_string_equal(type, "attachment");
	assert_true(mime_param_utf8(&ps, "filename", &b));
	assert_string_equal(buf_cstr(&b), "r\xc3\xa9sum\xc3\xa9.pdf");
	mime_params_free(&ps);
	free(type);

	/* A gap in the sections: kept as they are. */
	const char *gap = "x/y; n*0=a; n*2=c";
	mime_content_type_parse(gap, strlen(gap), &type, &sub, &ps);
	assert_int_equal(ps.n, 2);
	assert_string_equal(mime_params_get(&ps, "n"), "a");
	assert_string_equal(mime_params_get(&ps, "n*2"), "c");
	mime_params_free(&ps);
	free(type);
	free(sub);
	buf_free(&b);
}

static void test_charset(void **state)
{
	struct buf b = BUF_INIT;
	struct mime_charset c;
	const char *utf = "\xc3\xa9t\xc3\xa9 \xe2\x82\xac";

	(void)state;
	assert_true(mime_charset_to_utf8("ISO-8859-1", "\xe9t\xe9", 3, &b));
	assert_string_equal(buf_cstr(&b), "\xc3\xa9t\xc3\xa9");
	assert_false(mime_charset_to_utf8("no-such-charset", "x", 1, &b));
	/* Fed one byte at a time, a split character is put back together. */
	buf_reset(&b);
	assert_true(mime_charset_open(&c, "utf-8"));
	for (size_t i = 0; i < strlen(utf); i++)
		mime_charset_feed(&c, utf + i, 1, &b);
	mime_charset_close(&c, &b);
	assert_string_equal(buf_cstr(&b), utf);
	assert_int_equal(c.invalid, 0);
	buf_reset(&b);
	assert_true(mime_charset_open(&c, "ISO-2022-JP"));
	const char *jis = "\x1b$B$3$s$K$A$O\x1b(B";
	for (size_t i = 0; i < strlen(jis); i++)
		mime_charset_feed(&c, jis + i, 1, &b);
	mime_charset_close(&c, &b);
	assert_string_equal(
	    buf_cstr(&b), "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf");
	buf_reset(&b);
	assert_true(mime_charset_to_utf8("utf-8", "a\xff\xc3", 3, &b));
	assert_string_equal(buf_cstr(&b), "a\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(mime_utf8_valid("\xc3\xa9", 2));
	assert_false(mime_utf8_valid("\xed\xa0\x80", 3)); /* a surrogate */
	buf_free(&b);
}

static void check_b64(const char *in, const char *want, bool valid)
{
	struct mime_b64 d;
	struct buf b = BUF_INIT;

	/* One byte at a time: the result must not depend on the chunks. */
	mime_b64_init(&d);
	for (size_t i = 0; i < strlen(in); i++)
		mime_b64_feed(&d, in + i, 1, &b);
	assert_int_equal(mime_b64_finish(&d, &b), valid);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data ? b.data : "", want, b.len);
	buf_free(&b);
}

static void check_qp(const char *in, const char *want, bool valid)
{
	struct mime_qp d;
	struct buf b = BUF_INIT;

	mime_qp_init(&d);
	for (size_t i = 0; i < strlen(in); i++)
		mime_qp_feed(&d, in + i, 1, &b);
	assert_int_equal(mime_qp_finish(&d, &b), valid);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void test_decoders(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	check_b64("aGVsbG8gd29ybGQ=", "hello world", true);
	check_b64("aGVs\r\nbG8=\r\n", "hello", true);
	check_b64("aGVsbG8", "hello", false); /* missing padding */
	check_b64("aGV*sbG8=", "hello", false);
	check_b64("", "", true);
	check_qp("caf=C3=A9 soft=\nbreak  \nnext", "caf\xc3\xa9 softbreak\nnext", true);
	check_qp("a=\r\nb\r\nc", "ab\r\nc", true);
	check_qp("bad =ZZ and =4", "bad =ZZ and =4", false);
	check_qp("pad=  \nx", "padx", true);
	mime_b64_encode("hello", 5, &b);
	assert_string_equal(buf_cstr(&b), "aGVsbG8=");
	assert_int_equal(mime_cte_from_name("Base64"), MIME_CTE_BASE64);
	assert_int_equal(mime_cte_from_name(NULL), MIME_CTE_7BIT);
	assert_int_equal(mime_cte_from_name("x-uuencode"), MIME_CTE_UNKNOWN);
	buf_free(&b);
}

static void test_casemap(void **state)
{
	struct buf b = BUF_INIT;

	const char *in = "HeLLo \xc3\x89T\xc3\x89 \xce\xa3\xcf\x82 \xc5\xbf";

	(void)state;
	mime_casemap(in, strlen(in), &b);
	assert_string_equal(buf_cstr(&b), "hello \xc3\xa9t\xc3\xa9 \xcf\x83\xcf\x83 s");
	assert_int_equal(mime_casemap_cmp("ABC", 3, "abc", 3), 0);
	assert_true(mime_casemap_cmp("a", 1, "B", 1) < 0);
	assert_true(mime_casemap_contains("hello", 5, "", 0));
	buf_reset(&b);
	mime_casemap("\xff", 1, &b);
	assert_string_equal(buf_cstr(&b), "\xef\xbf\xbd");
	buf_free(&b);
}

static void html_is(const char *html, const char *want)
{
	struct buf b = BUF_INIT;

	mime_html_text(html, strlen(html), &b);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void test_html_text(void **state)
{
	(void)state;
	/* what a reader does not see: head, style, script, title, comments */
	html_is("<html><head><title>T</title><style>p { color: red }</style></head>"
		"<body><p>Hello <b>there</b></p><!-- hidden --><script>x()</script>"
		"<div>Bye</div></body></html>",
	    "\nHello there\n\nBye\n");
	/* references: named, decimal, hex; unknown ones and a lone & stay */
	html_is("a &amp; b &lt;c&gt; &quot;d&quot; &#233;&#xE9; &nbsp;x &copy; AT&T",
	    "a & b <c> \"d\" \xc3\xa9\xc3\xa9  x &copy; AT&T");
	/* bad numeric references become U+FFFD; "a < b" is text */
	html_is("&#0;&#xD800;&#99999999;", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	html_is("1 < 2 and 3 <= 4", "1 < 2 and 3 <= 4");
	/* a '>' inside a quoted attribute does not end the tag; cells, breaks */
	html_is("<a title=\"x > y\" href='q>r'>link</a><br/><table><tr><td>1</td><td>2</td>"
		"</tr></table>",
	    "link\n\n\n 1  2 \n\n");
	/* unclosed constructs end with the input */
	html_is("text<style>never closed", "text");
	html_is("text<!-- never closed", "text");
	html_is("text<b", "text");
	html_is("<STYLE type=x>a{}</StYlE>shown", "shown");
	html_is("<style/>a{}</style>shown", "shown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_find),
	    cmocka_unit_test(test_address),
	    cmocka_unit_test(test_address_limit),
	    cmocka_unit_test(test_date),
	    cmocka_unit_test(test_rfc2047),
	    cmocka_unit_test(test_downgrade),
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_charset),
	    cmocka_unit_test(test_decoders),
	    cmocka_unit_test(test_casemap),
	    cmocka_unit_test(test_html_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
