/*
 * test_write.c - imap/write.c and imap/format_*.c: string forms, the
 * "for humans" form, INTERNALDATE, and ENVELOPE/BODYSTRUCTURE of small
 * messages (the Dovecot comparison over a corpus is
 * tests/e2e/test_imap_format.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imap/format.h"
#include "../../imap/write.h"
#include "buf.h"
#include "mime/parser.h"

static void test_strings(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	imap_write_astring(&b, "INBOX", 5, 0);
	buf_putc(&b, ' ');
	imap_write_astring(&b, "nil", 3, 0);
	buf_putc(&b, ' ');
	imap_write_astring(&b, "a b", 3, 0);
	buf_putc(&b, ' ');
	imap_write_astring(&b, "", 0, 0);
	buf_putc(&b, ' ');
	imap_write_string(&b, "q\"\\", 3, 0);
	buf_putc(&b, ' ');
	imap_write_string(&b, "a\r\nb", 4, 0);
	buf_putc(&b, ' ');
	imap_write_string(&b, "a\r\nb", 4, IMAP_WRITE_NOLF);
	buf_putc(&b, ' ');
	imap_write_string(&b, "\xc3\xa9", 2, 0);
	buf_putc(&b, ' ');
	imap_write_string(&b, "\xc3\xa9", 2, IMAP_WRITE_UTF8);
	buf_putc(&b, ' ');
	imap_write_nstring(&b, NULL, 0);
	assert_string_equal(buf_cstr(&b),
	    "INBOX \"nil\" \"a b\" \"\" \"q\\\"\\\\\" {4}\r\na\r\nb \"ab\" "
	    "{2}\r\n\xc3\xa9 \"\xc3\xa9\" NIL");
	buf_reset(&b);
	imap_write_human(&b, "plain text", 10, 0);
	buf_putc(&b, ' ');
	imap_write_human(&b, " a\t\tb\r\n c ", 10, 0);
	buf_putc(&b, ' ');
	imap_write_human(&b, "say \"hi\"", 8, 0);
	buf_putc(&b, ' ');
	imap_write_human(&b, "  ", 2, 0);
	assert_string_equal(buf_cstr(&b), "\"plain text\" {5}\r\na b c {8}\r\nsay \"hi\" \"\"");
	buf_reset(&b);
	imap_write_datetime(&b, 760686745, -480);
	assert_string_equal(buf_cstr(&b), "\"07-Feb-1994 21:52:25 -0800\"");
	buf_free(&b);
}

static void test_format(void **state)
{
	const char *msg =
	    "Date: Mon, 7 Feb 1994 21:52:25 -0800\n"
	    "From: Fred <fred@example.com>\n"
	    "To: team: a@b;\n"
	    "Subject: hi\n"
	    "Content-Type: multipart/mixed; boundary=z\n\n"
	    "--z\nContent-Type: text/plain; charset=UTF-8\nContent-Language: en\n\nhello\n"
	    "--z\nContent-Type: message/rfc822\n\nSubject: in\n\nx\n--z--\n";
	struct mime_part *root = mime_parse(msg, strlen(msg));
	struct buf b = BUF_INIT;

	(void)state;
	imap_format_envelope(&b, root->envelope, 0);
	assert_string_equal(buf_cstr(&b),
	    "(\"Mon, 7 Feb 1994 21:52:25 -0800\" \"hi\" ((\"Fred\" NIL \"fred\" \"example.com\")) "
	    "((\"Fred\" NIL \"fred\" \"example.com\")) ((\"Fred\" NIL \"fred\" \"example.com\")) "
	    "((NIL NIL \"team\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL)) NIL NIL NIL NIL)");
	buf_reset(&b);
	imap_format_body(&b, root, true, 0);
	assert_string_equal(buf_cstr(&b),
	    "((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 5 0 NIL NIL (\"en\") "
	    "NIL)"
	    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 16 (NIL \"in\" NIL NIL NIL NIL NIL NIL "
	    "NIL NIL) "
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) "
	    "2 NIL NIL NIL NIL) "
	    "\"mixed\" (\"boundary\" \"z\") NIL NIL NIL)");
	buf_reset(&b);
	imap_format_body(&b, root, false, 0);
	assert_string_equal(buf_cstr(&b),
	    "((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 5 0)"
	    "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 16 (NIL \"in\" NIL NIL NIL NIL NIL NIL "
	    "NIL NIL) "
	    "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0) 2) \"mixed\")");
	buf_free(&b);
	mime_part_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
