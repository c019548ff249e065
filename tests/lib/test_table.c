/*
 * test_table.c - unit tests for lib/table.c: every table type, key folding,
 * continuation lines, aliases(5) format, duplicates, reload of a changed
 * file, pcre: captures and flags, and bad specs and sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "table.h"
#include "util.h"

static char tmpdir[] = "/tmp/test_table.XXXXXX";

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void sleep_msec(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static struct table *text_table(const char *text, int flags)
{
	struct buf err = BUF_INIT;
	struct table *t = table_from_text(text, strlen(text), flags, &err);

	if (t == NULL)
		fail_msg("table rejected: %s", buf_cstr(&err));
	buf_free(&err);
	return t;
}

/* Checks that text is refused with an error containing want. */
static void text_bad(const char *text, int flags, const char *want)
{
	struct buf err = BUF_INIT;
	struct table *t = table_from_text(text, strlen(text), flags, &err);

	if (t != NULL)
		fail_msg("table accepted: %s", text);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("error '%s' lacks '%s'", buf_cstr(&err), want);
	buf_free(&err);
}

static void expect(struct table *t, const char *key, const char *want)
{
	bool error = true;
	const char *v = table_lookup(t, key, &error);

	assert_false(error);
	if (want == NULL)
		assert_null(v);
	else if (v == NULL)
		fail_msg("'%s' not found, want '%s'", key, want);
	else
		assert_string_equal(v, want);
}

static struct table *open_ok(const char *spec, int flags)
{
	struct buf err = BUF_INIT;
	struct table *t = table_open(spec, flags, &err);

	if (t == NULL)
		fail_msg("%s: %s", spec, buf_cstr(&err));
	buf_free(&err);
	return t;
}

/* table_open refuses spec with want in its error; table_check says rc. */
static void open_bad_rc(const char *spec, const char *want, int rc)
{
	struct buf err = BUF_INIT;
	struct table *t = table_open(spec, 0, &err);

	if (t != NULL)
		fail_msg("%s accepted", spec);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("error '%s' lacks '%s'", buf_cstr(&err), want);
	assert_int_equal(table_check(spec, 0, &err), rc);
	buf_free(&err);
}

static void open_bad(const char *spec, const char *want)
{
	open_bad_rc(spec, want, -1);
}

static void test_texthash_basic(void **state)
{
	struct table *t;

	(void)state;
	t = text_table("Foo bar  baz \n# comment\n   # indented comment\n\n"
		       "key2\tvalue2\r\nUser@Example.COM ok\n",
	    0);
	expect(t, "foo", "bar  baz");
	expect(t, "FOO", "bar  baz");
	expect(t, "key2", "value2");
	expect(t, "user@example.com", "ok");
	expect(t, "USER@example.com", "ok");
	expect(t, "bar", NULL);
	expect(t, "", NULL);
	expect(t, "#", NULL);
	table_close(t);

	t = text_table("", 0);
	expect(t, "x", NULL);
	table_close(t);
}

static void test_texthash_continuation(void **state)
{
	struct table *t;

	(void)state;
	t = text_table("k v1\n  v2\n# between\n\tv3   \nk2 x\nk3\n  late value\n", 0);
	expect(t, "k", "v1 v2 v3");
	expect(t, "k2", "x");
	expect(t, "k3", "late value");
	table_close(t);
	text_bad("  orphan\nk v\n", 0, "(text):1: continuation");
	text_bad("k v\nlonely\n", 0, "(text):2:");
	{
		struct buf err = BUF_INIT;

		assert_null(table_from_text("a b\0c d\n", 8, 0, &err));
		assert_non_null(strstr(buf_cstr(&err), "NUL"));
		buf_free(&err);
	}
}

static void test_texthash_duplicates(void **state)
{
	struct table *t;

	(void)state;
	t = text_table("a first\nA second\nb x\na third\n", 0);
	expect(t, "a", "first");
	expect(t, "b", "x");
	table_close(t);
}

static void test_many_keys(void **state)
{
	struct buf text = BUF_INIT;
	struct table *t;
	char key[32], val[32];

	(void)state;
	for (int i = 0; i < 5000; i++)
		buf_printf(&text, "Key%d value%d\n", i, i);
	t = table_from_text(text.data, text.len, 0, NULL);
	assert_non_null(t);
	for (int i = 0; i < 5000; i += 7) {
		snprintf(key, sizeof(key), "KEY%d", i);
		snprintf(val, sizeof(val), "value%d", i);
		expect(t, key, val);
	}
	expect(t, "key5000", NULL);
	table_close(t);
	buf_free(&text);
}

static void test_aliases(void **state)
{
	struct table *t;

	(void)state;
	t = text_table("postmaster: root\n"
		       "Foo :  a, b\n"
		       "  c\n"
		       "\"Quoted Name\": x\n"
		       "\"a:b\" : y\n"
		       "list: :include:/etc/list\n"
		       "# comment\n",
	    TABLE_ALIASES);
	expect(t, "postmaster", "root");
	expect(t, "foo", "a, b c");
	expect(t, "quoted name", "x");
	expect(t, "a:b", "y");
	expect(t, "list", ":include:/etc/list");
	expect(t, "\"quoted name\"", NULL);
	table_close(t);
	text_bad("no colon here\n", TABLE_ALIASES, "(text):1:");
	text_bad("ok: x\nempty:\n", TABLE_ALIASES, "(text):2: alias has no value");
	text_bad(": x\n", TABLE_ALIASES, "empty alias name");
	text_bad("\"open: x\n", TABLE_ALIASES, "unterminated");
	text_bad("\"a\" x: y\n", TABLE_ALIASES, "expected ':'");
}

static void test_file_types(void **state)
{
	static const char *const types[] = {"texthash", "hash", "btree", "lmdb", "cdb"};
	char *path = tmp_path("map");

	(void)state;
	write_file(path, "Alpha one\nbeta two\n");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char *spec = xasprintf("%s:%s", types[i], path);
		struct table *t = open_ok(spec, 0);
		struct buf err = BUF_INIT;

		expect(t, "ALPHA", "one");
		expect(t, "beta", "two");
		expect(t, "gamma", NULL);
		assert_int_equal(table_check(spec, 0, &err), 0);
		table_close(t);
		buf_free(&err);
		free(spec);
	}
	free(path);
}

static void test_file_errors(void **state)
{
	char *path = tmp_path("broken"), *spec, *missing;

	(void)state;
	missing = xasprintf("texthash:%s/nonexistent", tmpdir);
	/* An unreadable file is told apart (tern check: a warning only). */
	open_bad_rc(missing, "nonexistent", TABLE_UNREADABLE);
	free(missing);
	write_file(path, "good line\nbad\n");
	spec = xasprintf("texthash:%s", path);
	open_bad(spec, ":2:");
	free(spec);
	free(path);
}

static void test_reload(void **state)
{
	char *path = tmp_path("reload"), *spec;
	struct table *t;
	bool error = false;

	(void)state;
	write_file(path, "k old\n");
	spec = xasprintf("texthash:%s", path);
	t = open_ok(spec, 0);
	expect(t, "k", "old");

	write_file(path, "k new value\nk2 added\n");
	sleep_msec(1100);
	expect(t, "k", "new value");
	expect(t, "k2", "added");

	/* A broken edit keeps the previous contents. */
	write_file(path, "k newer\n  \n broken continuation only\nbad\n");
	sleep_msec(1100);
	expect(t, "k", "new value");

	/* A file that disappears makes look-ups fail with an error. */
	assert_int_equal(unlink(path), 0);
	sleep_msec(1100);
	assert_null(table_lookup(t, "k", &error));
	assert_true(error);

	write_file(path, "k back\n");
	sleep_msec(1100);
	expect(t, "k", "back");
	table_close(t);
	free(spec);
	free(path);
}

static void test_pcre(void **state)
{
	char *path = tmp_path("re"), *spec;
	struct table *t;

	(void)state;
	write_file(path, "# comment\n"
			 "/^(.*)@example\\.com$/ local:$1\n"
			 "/^FOO([0-9]+)/ num=${1}$$\n"
			 "/^Exact$/i case-sensitive\n"
			 "/x y/x spaced\n"
			 "/^(a)$|^(b)$/ [$1][$2]\n"
			 "/a\\/b/ slash\n"
			 "%^pct(.)% pct=$1\n"
			 "/^first/ one\n"
			 "/^fir/ two\n"
			 "/^multi$/m\n"
			 "  continued result\n"
			 "/^dot.all$/ dotall\n"
			 "/^nodot.x$/s nodotall\n"
			 "/^nodot/ nodot-fallback\n"
			 "/^greedy(a+)/U lazy=$1\n"
			 "/end$/E endonly\n"
			 "/b$/ dollar-before-newline\n");
	spec = xasprintf("pcre:%s", path);
	t = open_ok(spec, 0);
	/* Postfix's default: case-insensitive; "i" makes a pattern sensitive. */
	expect(t, "Bob@example.com", "local:Bob");
	expect(t, "BOB@EXAMPLE.COM", "local:BOB");
	expect(t, "foo42", "num=42$");
	expect(t, "FOO7x", "num=7$");
	expect(t, "Exact", "case-sensitive");
	expect(t, "EXACT", NULL);
	expect(t, "xy", "spaced");
	expect(t, "x y", NULL);
	expect(t, "b", "[][b]");
	expect(t, "a", "[a][]");
	expect(t, "a/b", "slash");
	expect(t, "pctQ", "pct=Q");
	expect(t, "first", "one");
	expect(t, "fir", "two");
	expect(t, "line\nmulti", "continued result");
	/* "s" is on by default: . matches a newline; the flag turns it off. */
	expect(t, "dot\nall", "dotall");
	expect(t, "nodot\nx", "nodot-fallback");
	expect(t, "nodotzx", "nodotall");
	expect(t, "greedyaaa", "lazy=a");
	expect(t, "the end\n", NULL);
	expect(t, "ab\n", "dollar-before-newline");
	expect(t, "nothing", NULL);
	table_close(t);
	free(spec);
	free(path);
}

/* "!" negation, if/endif blocks (nested, negated) and any delimiter. */
static void test_pcre_blocks(void **state)
{
	char *path = tmp_path("blocks"), *spec;
	struct table *t;

	(void)state;
	write_file(path, "if /@example\\.com$/\n"
			 "!/^postmaster@/ not-postmaster\n"
			 "if !/^a/\n"
			 "/^b/ b-user\n"
			 "endif\n"
			 "/^a/ a-user\n"
			 "endif\n"
			 "IF |^x|\n"
			 "|^x(.)| x=$1\n"
			 "ENDIF\n"
			 "!/@/ no-at\n");
	spec = xasprintf("pcre:%s", path);
	t = open_ok(spec, 0);
	expect(t, "alice@example.com", "not-postmaster");
	expect(t, "postmaster@example.com", NULL);
	expect(t, "Postmaster@Example.COM", NULL);
	expect(t, "xy", "x=y");
	expect(t, "x@other", "x=@");
	expect(t, "plain", "no-at");
	table_close(t);
	write_file(path, "if /example/\n"
			 "!/^post/ other\n"
			 "if /^b/\n"
			 "/^bo/ bo\n"
			 "endif\n"
			 "endif\n"
			 "/^b/ outside\n");
	sleep_msec(1100);
	t = open_ok(spec, 0);
	expect(t, "bob@other", "outside");
	expect(t, "postmaster@example", NULL);
	expect(t, "bob@example", "other");
	table_close(t);
	free(spec);
	free(path);
}

/* regexp: tables: POSIX patterns, case-insensitive and extended by default. */
static void test_regexp(void **state)
{
	char *path = tmp_path("regexp"), *spec;
	struct table *t;

	(void)state;
	write_file(path, "/^(.*)@example\\.com$/ local:$1\n"
			 "/^Exact$/i case-sensitive\n"
			 "/^a+b{2}$/ extended\n"
			 "/^c\\(d\\)$/x basic:$1\n"
			 "!/@/ no-at\n"
			 "if /^z/\n"
			 "/^zz/ double-z\n"
			 "endif\n");
	spec = xasprintf("regexp:%s", path);
	t = open_ok(spec, 0);
	expect(t, "Bob@EXAMPLE.com", "local:Bob");
	expect(t, "Exact@x", NULL);
	expect(t, "aaBB", "extended");
	expect(t, "cd@", NULL);
	expect(t, "EXACT", "no-at");
	expect(t, "Exact", "case-sensitive");
	expect(t, "zz@x", "double-z");
	expect(t, "z@x", NULL);
	table_close(t);
	write_file(path, "/^c\\(d\\)$/x basic:$1\n");
	sleep_msec(1100);
	t = open_ok(spec, 0);
	expect(t, "cd", "basic:d");
	table_close(t);
	free(spec);
	free(path);
}

/* Writes text to a pcre: file and checks the open fails with want. */
static void pcre_bad(const char *text, const char *want)
{
	char *path = tmp_path("bad.re"), *spec = xasprintf("pcre:%s", path);

	write_file(path, text);
	open_bad(spec, want);
	free(spec);
	free(path);
}

static void test_pcre_errors(void **state)
{
	char *path = tmp_path("bad.rx"), *spec = xasprintf("regexp:%s", path);

	(void)state;
	pcre_bad("/a/q result\n", "unknown regex flag");
	pcre_bad("if /a/\n/b/ c\n", ":1: if without endif");
	pcre_bad("/a/ ok\nendif\n", ":2: endif without if");
	pcre_bad("if /a/ x\nendif\n", ":1: unexpected text after if");
	pcre_bad("/a/\n", "missing result");
	pcre_bad("/(/ r\n", "bad regex");
	pcre_bad("/(a)/ $2\n", "capture group");
	pcre_bad("!/(a)/ $1\n", "negated");
	pcre_bad("/a/ $x\n", "bad '$'");
	pcre_bad("/a/ trailing $\n", "bad '$'");
	pcre_bad("/abc result\n", "missing closing delimiter");
	pcre_bad("abc result\n", "expected");
	pcre_bad("!abc/ result\n", "expected");
	write_file(path, "/a/s result\n");
	open_bad(spec, "unknown regexp flag");
	write_file(path, "/(/ result\n");
	open_bad(spec, "bad regexp");
	free(spec);
	free(path);
}

/* table_from_text_as: rule tables from text (fuzz_table), and patterns
 * that glibc's regcomp would blow up (found by fuzz_table). */
static void test_rules_from_text(void **state)
{
	static const char rx[] = "if /example[.]com$/\n/^([^@+]+)[+][^@]*@(.*)$/ $1@$2\nendif\n";
	static const char pc[] = "if !/^x/\n/^(\\w+)@/ OK ${1}\nendif\n";
	static const char *const bad[] = {
	    "/e+++++/ x\n", "/a*?/ x\n", "/a{2}{3}/ x\n", "/(a{100}){101}/ x\n", "/a{20000}/ x\n"};
	struct buf err = BUF_INIT;
	struct table *t;

	(void)state;
	t = table_from_text_as("regexp", rx, strlen(rx), 0, &err);
	assert_non_null(t);
	expect(t, "joe+list@example.com", "joe@example.com");
	expect(t, "joe+list@example.org", NULL);
	table_close(t);
	t = table_from_text_as("pcre", pc, strlen(pc), 0, &err);
	assert_non_null(t);
	expect(t, "joe@x", "OK joe");
	expect(t, "xavier@x", NULL);
	table_close(t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		assert_null(table_from_text_as("regexp", bad[i], strlen(bad[i]), 0, &err));
		assert_non_null(strstr(buf_cstr(&err), "bad regexp"));
	}
	/* Bracket expressions and escapes are not operators; intervals within
	 * the limit are fine. */
	t = table_from_text_as("regexp", "/[*+]+\\++ ([[:digit:]]{1,3}[.]){3}/ ok\n", 39, 0, &err);
	if (t == NULL)
		fail_msg("refused: %s", buf_cstr(&err));
	table_close(t);
	buf_reset(&err);
	assert_null(table_from_text_as("cdb", "a b\n", 4, 0, &err));
	buf_free(&err);
}

static void test_static(void **state)
{
	struct table *t;

	(void)state;
	t = open_ok("static:OK", 0);
	expect(t, "anything", "OK");
	expect(t, "", "OK");
	table_close(t);
	t = open_ok("static:{ text with spaces }", 0);
	expect(t, "x", "text with spaces");
	table_close(t);
}

static void test_inline(void **state)
{
	struct table *t;

	(void)state;
	t = open_ok("inline:{ a=1, B=2,c=3 { d = three four } e=x=y }", 0);
	expect(t, "a", "1");
	expect(t, "b", "2");
	expect(t, "C", "3");
	expect(t, "d", "three four");
	expect(t, "e", "x=y");
	expect(t, "f", NULL);
	table_close(t);
	t = open_ok("inline:{}", 0);
	expect(t, "a", NULL);
	table_close(t);
	open_bad("inline:a=1", "enclosed in { }");
	open_bad("inline:{ a=1", "enclosed in { }");
	open_bad("inline:{ a }", "expected key=value");
	open_bad("inline:{ =1 }", "empty key");
	open_bad("inline:{ { a=1 }", "enclosed in { }");
	open_bad("inline:{ a=1 } }", "enclosed in { }");
}

static void test_passwd(void **state)
{
	static const char *const specs[] = {"unix:passwd.byname", "proxy:unix:passwd.byname"};
	bool error = true;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct table *t = open_ok(specs[i], 0);
		const char *v = table_lookup(t, "root", &error);

		assert_false(error);
		assert_non_null(v);
		assert_true(strncmp(v, "root:", 5) == 0);
		assert_non_null(strstr(v, ":0:0:"));
		expect(t, "ttnosuchuser", NULL);
		table_close(t);
	}
	table_close(open_ok("proxy:texthash:/dev/null", 0));
	open_bad("unix:group.bygid", "passwd.byname");
	open_bad("proxy:foo:x", "\"foo\"");
}

static void test_bad_specs(void **state)
{
	(void)state;
	open_bad("foo:bar", "\"foo\"");
	open_bad("nocolon", "type:name");
	open_bad(":x", "type:name");
	open_bad("texthash:", "missing file name");
	open_bad("pcre:", "missing file name");
	open_bad("sqlite:/etc/x", "\"sqlite\"");
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);

	(void)state;
	free(cmd);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_texthash_basic),
	    cmocka_unit_test(test_texthash_continuation),
	    cmocka_unit_test(test_texthash_duplicates),
	    cmocka_unit_test(test_many_keys),
	    cmocka_unit_test(test_aliases),
	    cmocka_unit_test(test_file_types),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_reload),
	    cmocka_unit_test(test_pcre),
	    cmocka_unit_test(test_pcre_blocks),
	    cmocka_unit_test(test_regexp),
	    cmocka_unit_test(test_rules_from_text),
	    cmocka_unit_test(test_pcre_errors),
	    cmocka_unit_test(test_static),
	    cmocka_unit_test(test_inline),
	    cmocka_unit_test(test_passwd),
	    cmocka_unit_test(test_bad_specs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
