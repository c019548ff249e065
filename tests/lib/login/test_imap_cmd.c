/*
 * test_imap_cmd.c - unit tests for lib/login/imap_cmd.c: tags and names,
 * atoms, quoted strings with escapes, literals (synchronizing and
 * LITERAL+) arriving in pieces, lists for ID, NIL, malformed lines
 * consumed whole, over-long input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "login/imap_cmd.h"

static struct imap_cmd cmd;

static enum imap_cmd_result parse(const char *s, size_t *used)
{
	return imap_cmd_parse(s, strlen(s), &cmd, used);
}

static void test_simple(void **state)
{
	size_t used = 0;

	(void)state;
	assert_int_equal(parse("a1 capability\r\n", &used), IMAP_CMD_OK);
	assert_string_equal(cmd.tag, "a1");
	assert_string_equal(cmd.name, "CAPABILITY");
	assert_int_equal(cmd.argc, 0);
	assert_int_equal(used, 15);
	assert_int_equal(parse("x LOGIN bob \"p a\\\"ss\"\nNOOP", &used), IMAP_CMD_OK);
	assert_int_equal(cmd.argc, 2);
	assert_int_equal(cmd.argv[0].type, IMAP_ARG_ATOM);
	assert_string_equal(cmd.argv[0].s, "bob");
	assert_int_equal(cmd.argv[1].type, IMAP_ARG_STRING);
	assert_string_equal(cmd.argv[1].s, "p a\"ss");
	assert_int_equal(used, 22);
	assert_int_equal(parse("t AUTHENTICATE PLAIN AGJvYgBwdw==\r\n", &used), IMAP_CMD_OK);
	assert_string_equal(cmd.argv[1].s, "AGJvYgBwdw==");
	assert_int_equal(parse("t ID (\"name\" \"mutt\" \"version\" NIL)\r\n", &used), IMAP_CMD_OK);
	assert_int_equal(cmd.argc, 1);
	assert_int_equal(cmd.argv[0].type, IMAP_ARG_LIST);
	assert_int_equal(parse("t ID NIL\r\n", &used), IMAP_CMD_OK);
	assert_int_equal(cmd.argv[0].type, IMAP_ARG_NIL);
}

static void test_literals(void **state)
{
	const char *full = "a LOGIN {3}\r\nbob {4+}\r\np\0ss\r\n";
	size_t len = 29, used = 0;

	(void)state;
	/* Up to the first literal's data: MORE, and a "+ OK" is due. */
	assert_int_equal(imap_cmd_parse(full, 13, &cmd, &used), IMAP_CMD_MORE);
	assert_int_equal(cmd.literal_at, 13);
	assert_int_equal(imap_cmd_parse(full, 15, &cmd, &used), IMAP_CMD_MORE);
	assert_int_equal(cmd.literal_at, 13);
	/* In the LITERAL+ one: no go-ahead needed. */
	assert_int_equal(imap_cmd_parse(full, 24, &cmd, &used), IMAP_CMD_MORE);
	assert_int_equal(cmd.literal_at, 0);
	assert_int_equal(imap_cmd_parse(full, len, &cmd, &used), IMAP_CMD_OK);
	assert_int_equal(used, len);
	assert_int_equal(cmd.argc, 2);
	assert_string_equal(cmd.argv[0].s, "bob");
	assert_int_equal(cmd.argv[1].len, 4);
	assert_memory_equal(cmd.argv[1].s, "p\0ss", 4);
	assert_int_equal(parse("a LOGIN {99999999}\r\n", &used), IMAP_CMD_TOO_LONG);
}

static void test_bad(void **state)
{
	size_t used = 0;
	char *big;

	(void)state;
	assert_int_equal(parse("a1 LOGIN \"unterminated", &used), IMAP_CMD_MORE);
	assert_int_equal(parse("a1 LOGIN \"bad\rquote\"\r\nNOOP\r\n", &used), IMAP_CMD_BAD);
	assert_string_equal(cmd.tag, "a1");
	assert_int_equal(used, 22);
	assert_int_equal(parse("\r\n", &used), IMAP_CMD_BAD);
	assert_int_equal(cmd.tag[0], 0);
	assert_int_equal(parse("a1\r\n", &used), IMAP_CMD_BAD);
	assert_int_equal(parse("a+ NOOP\r\n", &used), IMAP_CMD_BAD);
	assert_int_equal(parse("a NOOP)\r\n", &used), IMAP_CMD_BAD);
	assert_int_equal(parse("a LOGIN {x}\r\n", &used), IMAP_CMD_BAD);
	assert_int_equal(parse("a X 1 2 3 4 5 6 7 8 9\r\n", &used), IMAP_CMD_BAD);
	assert_int_equal(parse("a ID ((((((x))))))\r\n", &used), IMAP_CMD_BAD);
	assert_int_equal(parse("a NOOP", &used), IMAP_CMD_MORE);
	big = malloc(IMAP_LOGIN_MAX_INPUT + 1);
	memset(big, 'a', IMAP_LOGIN_MAX_INPUT + 1);
	assert_int_equal(
	    imap_cmd_parse(big, IMAP_LOGIN_MAX_INPUT + 1, &cmd, &used), IMAP_CMD_TOO_LONG);
	big[0] = ' ';
	assert_int_equal(
	    imap_cmd_parse(big, IMAP_LOGIN_MAX_INPUT + 1, &cmd, &used), IMAP_CMD_TOO_LONG);
	free(big);
}

static void test_line(void **state)
{
	const char *line;
	size_t n, used;

	(void)state;
	assert_int_equal(imap_cmd_line("AGJvYgBwdw==\r\nx", 15, &line, &n, &used), IMAP_CMD_OK);
	assert_int_equal(n, 12);
	assert_int_equal(used, 14);
	assert_int_equal(imap_cmd_line("abc", 3, &line, &n, &used), IMAP_CMD_MORE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
