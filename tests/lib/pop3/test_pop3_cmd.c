/*
 * test_pop3_cmd.c - unit tests for lib/pop3/cmd.c: keywords in any case,
 * arguments, PASS with spaces, CRLF and bare LF, incomplete and
 * over-long lines, control characters, message numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pop3/cmd.h"

static struct pop3_cmd cmd;

static enum pop3_parse parse(const char *s, size_t *used)
{
	return pop3_cmd_parse(s, strlen(s), &cmd, used);
}

static void test_keywords(void **state)
{
	size_t used;

	(void)state;
	assert_int_equal(parse("stat\r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_STAT);
	assert_string_equal(cmd.name, "STAT");
	assert_int_equal(used, 6);
	assert_int_equal(parse("Uidl 3\nNOOP\r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_UIDL);
	assert_int_equal(cmd.argc, 1);
	assert_string_equal(cmd.argv[0], "3");
	assert_int_equal(used, 7);
	assert_int_equal(parse("XTND foo\r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_UNKNOWN);
	assert_int_equal(parse("STATX\r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_UNKNOWN);
}

static void test_arguments(void **state)
{
	size_t used;

	(void)state;
	assert_int_equal(parse("TOP 1  10\r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_TOP);
	assert_int_equal(cmd.argc, 2);
	assert_string_equal(cmd.argv[0], "1");
	assert_string_equal(cmd.argv[1], "10");
	assert_false(cmd.extra_args);
	assert_int_equal(parse("TOP 1 2 3\r\n", &used), POP3_PARSE_OK);
	assert_true(cmd.extra_args);
	assert_int_equal(parse("PASS my secret  pass \r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_PASS);
	assert_int_equal(cmd.argc, 1);
	assert_string_equal(cmd.argv[0], "my secret  pass ");
	assert_int_equal(parse("AUTH PLAIN =\r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.argc, 2);
	assert_string_equal(cmd.argv[1], "=");
	assert_int_equal(parse("LIST \r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.argc, 0);
}

static void test_bad_lines(void **state)
{
	size_t used;
	char *big;

	(void)state;
	assert_int_equal(parse("STAT", &used), POP3_PARSE_MORE);
	assert_int_equal(parse("", &used), POP3_PARSE_MORE);
	assert_int_equal(parse("\r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_BAD);
	assert_int_equal(parse(" STAT\r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_BAD);
	assert_int_equal(parse("ST\tAT\r\n", &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_BAD);
	assert_int_equal(pop3_cmd_parse("STAT\0x\r\n", 8, &cmd, &used), POP3_PARSE_OK);
	assert_int_equal(cmd.id, POP3_CMD_BAD);
	assert_int_equal(used, 8);
	big = malloc(POP3_MAX_LINE + 10);
	memset(big, 'A', POP3_MAX_LINE + 10);
	assert_int_equal(pop3_cmd_parse(big, POP3_MAX_LINE - 1, &cmd, &used), POP3_PARSE_MORE);
	assert_int_equal(pop3_cmd_parse(big, POP3_MAX_LINE, &cmd, &used), POP3_PARSE_TOO_LONG);
	big[POP3_MAX_LINE - 1] = '\n';
	assert_int_equal(pop3_cmd_parse(big, POP3_MAX_LINE + 10, &cmd, &used), POP3_PARSE_OK);
	assert_int_equal(used, POP3_MAX_LINE);
	free(big);
}

static void test_line(void **state)
{
	const char *line;
	size_t n, used;

	(void)state;
	assert_int_equal(pop3_line("AGJvYgBzZWNyZXQ=\r\nX", 19, &line, &n, &used), POP3_PARSE_OK);
	assert_int_equal(n, 16);
	assert_int_equal(used, 18);
	assert_int_equal(pop3_line("*\n", 2, &line, &n, &used), POP3_PARSE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(pop3_line("abc", 3, &line, &n, &used), POP3_PARSE_MORE);
}

static void test_numbers(void **state)
{
	uint32_t v;

	(void)state;
	assert_true(pop3_number("1", &v));
	assert_int_equal(v, 1);
	assert_true(pop3_number("4294967295", &v));
	assert_int_equal(v, 4294967295u);
	assert_false(pop3_number("4294967296", &v));
	assert_false(pop3_number("0", &v));
	assert_false(pop3_number("-1", &v));
	assert_false(pop3_number("1a", &v));
	assert_false(pop3_number("", &v));
	assert_false(pop3_number(NULL, &v));
	assert_false(pop3_number("00000000001", &v));
	assert_true(pop3_count("0", &v));
	assert_int_equal(v, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keywords),
	    cmocka_unit_test(test_arguments),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_line),
	    cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
