/*
 * test_msv_cmd.c - unit tests for lib/managesieve/cmd.c: keywords in any
 * case, quoted strings with escapes, literals {n+} and {n}, numbers,
 * each command's grammar, incomplete input, over-long lines, literals
 * past the limit, SASL response lines, the server's string form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "managesieve/cmd.h"

static struct msv_cmd cmd;

static enum msv_parse parse(const char *s, size_t *used)
{
	msv_cmd_free(&cmd);
	return msv_cmd_parse(s, strlen(s), 1000, &cmd, used);
}

static void test_keywords(void **state)
{
	size_t used;

	(void)state;
	assert_int_equal(parse("logout\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_LOGOUT);
	assert_string_equal(cmd.name, "LOGOUT");
	assert_int_equal(used, 8);
	assert_int_equal(parse("ListScripts\nNOOP\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_LISTSCRIPTS);
	assert_int_equal(used, 12);
	assert_int_equal(parse("XFROB \"a\" {3+}\r\na\nb \"c\"\r\nNOOP\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_UNKNOWN);
	assert_int_equal(cmd.argc, 0);
	assert_int_equal(used, strlen("XFROB \"a\" {3+}\r\na\nb \"c\"\r\n"));
	assert_int_equal(parse("\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_BAD);
	assert_int_equal(used, 2);
}

static void test_strings(void **state)
{
	size_t used;

	(void)state;
	assert_int_equal(
	    parse("PUTSCRIPT \"a \\\"b\\\" \\\\c\" {6+}\r\nkeep;\n\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_PUTSCRIPT);
	assert_int_equal(cmd.argc, 2);
	assert_string_equal(cmd.argv[0].s, "a \"b\" \\c");
	assert_int_equal(cmd.argv[1].len, 6);
	assert_memory_equal(cmd.argv[1].s, "keep;\n", 6);
	/* {n} is taken like {n+}; a literal may hold NULs */
	msv_cmd_free(&cmd);
	assert_int_equal(
	    msv_cmd_parse("CHECKSCRIPT {3}\r\na\0b\r\n", 22, 1000, &cmd, &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_CHECKSCRIPT);
	assert_int_equal(cmd.argv[0].len, 3);
	assert_int_equal(cmd.argv[0].s[1], 0);
	assert_int_equal(used, 22);
	assert_int_equal(parse("HAVESPACE \"x\" 4294967295\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_HAVESPACE);
	assert_true(cmd.argv[1].number);
	assert_int_equal(cmd.argv[1].value, 4294967295u);
	assert_int_equal(parse("HAVESPACE \"x\" 4294967296\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_BAD);
	assert_int_equal(parse("SETACTIVE \"\"\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_SETACTIVE);
	assert_int_equal(cmd.argv[0].len, 0);
	assert_string_equal(cmd.argv[0].s, "");
}

static void test_grammar(void **state)
{
	static const char *const bad[] = {
	    "HAVESPACE \"x\" \"1\"\r\n",	  /* a string for the number */
	    "HAVESPACE \"x\"\r\n",		  /* missing */
	    "PUTSCRIPT \"x\"\r\n",		  /* missing */
	    "GETSCRIPT x\r\n",			  /* an atom for a string */
	    "GETSCRIPT 12\r\n",			  /* a number for a string */
	    "LOGOUT \"x\"\r\n",			  /* too many */
	    "RENAMESCRIPT \"a\" \"b\" \"c\"\r\n", /* too many */
	    "GETSCRIPT  \"x\"\r\n",		  /* two spaces */
	    "GETSCRIPT \"x\\n\"\r\n",		  /* bad escape */
	    "GETSCRIPT \"x\r\n",		  /* unterminated on its line */
	    "GETSCRIPT {x}\r\n",		  /* bad literal */
	    "GETSCRIPT {2+}x\r\n",		  /* literal without CRLF */
	    "GETSCRIPT \"x\"\rY\r\n",		  /* bare CR */
	};
	size_t used;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &used), MSV_PARSE_OK);
		assert_int_equal(cmd.id, MSV_CMD_BAD);
		assert_non_null(cmd.error);
		assert_int_equal(cmd.argc, 0);
		assert_true(used > 0 && used <= strlen(bad[i]));
	}
	assert_int_equal(parse("NOOP \"tag\"\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_NOOP);
	assert_int_equal(cmd.argc, 1);
	assert_int_equal(parse("AUTHENTICATE \"PLAIN\" \"AGJvYgBwdw==\"\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_AUTHENTICATE);
	assert_string_equal(cmd.argv[1].s, "AGJvYgBwdw==");
}

static void test_incomplete(void **state)
{
	static const char *const part[] = {
	    "",
	    "NOOP",
	    "NOOP \"ab",
	    "PUTSCRIPT \"x\" {10+}\r\nkeep;",
	    "PUTSCRIPT \"x\" {10",
	    "GETSCRIPT \"x\"\r",
	    "HAVESPACE \"x\" 12",
	};
	size_t used;

	(void)state;
	for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++) {
		assert_int_equal(parse(part[i], &used), MSV_PARSE_MORE);
		assert_int_equal(cmd.argc, 0);
	}
}

static void test_limits(void **state)
{
	char *line = malloc(MSV_MAX_LINE + 10);
	size_t used;

	(void)state;
	memset(line, 'A', MSV_MAX_LINE + 5);
	line[MSV_MAX_LINE + 5] = 0;
	assert_int_equal(parse(line, &used), MSV_PARSE_TOO_LONG);
	free(line);
	/* a literal past the limit is not waited for */
	assert_int_equal(parse("PUTSCRIPT \"x\" {5000+}\r\nkeep;", &used), MSV_PARSE_TOO_BIG);
	assert_int_equal(cmd.id, MSV_CMD_PUTSCRIPT);
	assert_int_equal(cmd.skip, 5000);
	assert_int_equal(used, strlen("PUTSCRIPT \"x\" {5000+}\r\n"));
	assert_int_equal(cmd.argc, 0);
	assert_int_equal(parse("PUTSCRIPT \"x\" {99999999999+}\r\n", &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_BAD);
	assert_int_equal(msv_skip_line("tail\r\nNOOP\r\n", 12), 6);
	assert_int_equal(msv_skip_line("tail", 4), 0);
}

static void test_response(void **state)
{
	size_t used;

	(void)state;
	msv_cmd_free(&cmd);
	assert_int_equal(
	    msv_response_parse("\"AGJvYg==\"\r\n", 12, 100, &cmd, &used), MSV_PARSE_OK);
	assert_int_equal(cmd.argc, 1);
	assert_string_equal(cmd.argv[0].s, "AGJvYg==");
	msv_cmd_free(&cmd);
	assert_int_equal(
	    msv_response_parse("{4+}\r\nQUJD\r\n", 12, 100, &cmd, &used), MSV_PARSE_OK);
	assert_string_equal(cmd.argv[0].s, "QUJD");
	msv_cmd_free(&cmd);
	assert_int_equal(msv_response_parse("QUJD\r\n", 6, 100, &cmd, &used), MSV_PARSE_OK);
	assert_string_equal(cmd.argv[0].s, "QUJD");
	msv_cmd_free(&cmd);
	assert_int_equal(msv_response_parse("\"a\" \"b\"\r\n", 9, 100, &cmd, &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_BAD);
	assert_int_equal(msv_response_parse("\r\n", 2, 100, &cmd, &used), MSV_PARSE_OK);
	assert_int_equal(cmd.id, MSV_CMD_BAD);
	msv_cmd_free(&cmd);
}

static void test_put_string(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	msv_put_string(&b, "a \"q\" \\", 7);
	assert_string_equal(buf_cstr(&b), "\"a \\\"q\\\" \\\\\"");
	buf_reset(&b);
	msv_put_string(&b, "two\r\nlines", 10);
	assert_string_equal(buf_cstr(&b), "{10}\r\ntwo\r\nlines");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keywords),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_grammar),
	    cmocka_unit_test(test_incomplete),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_response),
	    cmocka_unit_test(test_put_string),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	msv_cmd_free(&cmd);
	return r;
}
