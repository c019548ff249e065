/*
 * test_config.c - unit tests for lib/config.c and lib/params.c (main.cf).
 *
 * Warnings are checked by pointing the log at a temporary file and reading
 * it back; fatal errors and panics are checked in a forked child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

static char log_path[] = "/tmp/test_config_log.XXXXXX";

/* Everything logged since the last log_clear(); free it. */
static char *log_text(void)
{
	FILE *f = fopen(log_path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	buf_cstr(&b);
	return b.data;
}

static void log_clear(void)
{
	assert_int_equal(truncate(log_path, 0), 0);
}

static bool log_has(const char *needle)
{
	char *t = log_text();
	bool found = strstr(t, needle) != NULL;

	free(t);
	return found;
}

static int count_in(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static int setup(void **state)
{
	(void)state;
	config_reset();
	log_clear();
	unsetenv("TERN_CONFIG");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_reset();
	return 0;
}

static void load(const char *text)
{
	struct buf err = BUF_INIT;

	if (config_load_text(text, strlen(text), "main.cf", &err) != 0)
		fail_msg("unexpected error: %s", buf_cstr(&err));
	buf_free(&err);
}

/* A scratch directory with main.cf holding text (NULL: no main.cf). */
static char *make_dir(const char *text)
{
	char tmpl[] = "/tmp/test_config_dir.XXXXXX";
	char *dir = xstrdup(mkdtemp(tmpl));

	if (text) {
		char *path = xasprintf("%s/main.cf", dir);
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		free(path);
	}
	return dir;
}

static void remove_dir(char *dir)
{
	char *path = xasprintf("%s/main.cf", dir);

	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}

static void test_table_well_formed(void **state)
{
	(void)state;
	for (const struct param_def *d = param_table; d->name; d++) {
		assert_non_null(d->desc);
		assert_true(d->desc[0] != 0);
		if (d->def == NULL) {
			assert_true(
			    strcmp(d->name, "myhostname") == 0 || strcmp(d->name, "mydomain") == 0);
		}
		for (const struct param_def *e = d + 1; e->name; e++)
			assert_string_not_equal(d->name, e->name);
	}
}

static void test_defaults(void **state)
{
	(void)state;
	assert_string_equal(config_str("queue_directory"), "/var/spool/tern");
	assert_string_equal(config_str("config_directory"), "/etc/tern");
	assert_string_equal(config_str("mynetworks"), "127.0.0.0/8 [::1]/128");
	assert_string_equal(config_str("relay_domains"), "");
	assert_int_equal(config_int("line_length_limit"), 2048);
	assert_int_equal(config_int("smtpd_client_session_limit"), 10000);
	assert_int_equal(config_size("message_size_limit"), 10240000);
	assert_int_equal(config_time("smtpd_timeout"), 300);
	assert_int_equal(config_time("maximal_queue_lifetime"), 5 * 86400);
	assert_int_equal(config_time("delay_warning_time"), 0);
	assert_false(config_bool("soft_bounce"));
	assert_true(config_bool("smtputf8_enable"));
	assert_string_equal(config_raw("myorigin"), "$myhostname");
	assert_null(config_raw("no_such_name"));
	assert_false(config_is_set("mail_name"));
	assert_string_equal(config_dir(), TERN_DEFAULT_CONFIG_DIR);
}

static void test_hostname_defaults(void **state)
{
	char host[256], *want, *banner, *dot;

	(void)state;
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	want = strchr(host, '.') ? xstrdup(host) : xasprintf("%s.localdomain", host);
	assert_string_equal(config_str("myhostname"), want);
	assert_string_equal(config_raw("myhostname"), want);
	dot = strchr(want, '.');
	assert_string_equal(config_str("mydomain"), dot[1] ? dot + 1 : "localdomain");
	assert_string_equal(config_str("myorigin"), want);
	banner = xasprintf("%s ESMTP tern", want);
	assert_string_equal(config_str("smtpd_banner"), banner);
	free(banner);
	free(want);

	load("myhostname = mail.example.com\n");
	assert_string_equal(config_str("mydomain"), "example.com");
	assert_string_equal(config_raw("mydomain"), "example.com");
	assert_string_equal(
	    config_str("mydestination"), "mail.example.com, localhost.example.com, localhost");
	load("myhostname = box\n");
	assert_string_equal(config_str("mydomain"), "localdomain");
	load("myhostname = box.\n");
	assert_string_equal(config_str("mydomain"), "localdomain");
	load("myhostname = a.b.c.example\nmydomain = other.example\n");
	assert_string_equal(config_str("mydomain"), "other.example");
}

static void test_expansion_forms(void **state)
{
	char *s;

	(void)state;
	load("mail_name = X\n"
	     "smtpd_banner = a $mail_name b ${mail_name} c $(mail_name) d $$mail_name "
	     "e ${mail_name?yes} f ${mail_name:no} g ${relay_domains?yes}${relay_domains:empty} "
	     "h $nonexistent i ${nonexistent}.\n");
	assert_string_equal(
	    config_str("smtpd_banner"), "a X b X c X d $mail_name e yes f  g empty h  i .");

	s = config_expand("${mail_name?{ with spaces "
			  "}}|${mail_name?${mail_name}-$mail_name}|${relay_domains:${mail_name}}");
	assert_string_equal(s, "with spaces|X-X|X");
	free(s);
	s = config_expand("cost $ 5, $$, end $");
	assert_string_equal(s, "cost $ 5, $, end $");
	free(s);
	s = config_expand("$mail_name_suffix/$mail_name/x");
	assert_string_equal(s, "/X/x");
	free(s);

	log_clear();
	s = config_expand("open ${mail_name and more");
	assert_string_equal(s, "open ${mail_name and more");
	free(s);
	assert_true(log_has("unmatched"));
	s = config_expand("${bad name}");
	assert_string_equal(s, "${bad name}");
	free(s);
	assert_true(log_has("bad $name syntax"));
}

static void test_user_defined_names(void **state)
{
	(void)state;
	load("my_restrictions = permit_mynetworks, reject\n"
	     "smtpd_banner = [$my_restrictions]\n");
	assert_string_equal(config_str("smtpd_banner"), "[permit_mynetworks, reject]");
	assert_string_equal(config_raw("my_restrictions"), "permit_mynetworks, reject");
	assert_true(config_is_set("my_restrictions"));
	/* -o may refer to names defined only in main.cf (Postfix's mua_*). */
	assert_int_equal(config_override("relay_domains=$my_restrictions"), 0);
	assert_string_equal(config_str("relay_domains"), "permit_mynetworks, reject");
}

static void test_recursion_loop(void **state)
{
	struct buf text = BUF_INIT;
	char *s;

	(void)state;
	load("myorigin = $myorigin\n");
	assert_string_equal(config_str("myorigin"), "");
	assert_true(log_has("refers to itself"));

	log_clear();
	load("myorigin = a$mydomain\nmydomain = b${myorigin}c\n");
	/* Terminates, warns, and the looping reference becomes empty. */
	assert_string_equal(config_str("myorigin"), "abc");
	assert_true(log_has("refers to itself"));

	/* Nesting deeper than 100 levels is cut off, not followed. */
	log_clear();
	for (int i = 0; i < 150; i++)
		buf_puts(&text, "${mail_name?");
	buf_puts(&text, "deep");
	for (int i = 0; i < 150; i++)
		buf_puts(&text, "}");
	s = config_expand(buf_cstr(&text));
	assert_string_equal(s, "");
	free(s);
	assert_true(log_has("deeper than 100"));
	buf_free(&text);
}

static void test_expansion_bomb(void **state)
{
	struct buf text = BUF_INIT;

	(void)state;
	/* a0 = $a1$a1, a1 = $a2$a2 ... : 2^40 bytes if nothing stopped it. */
	for (int i = 0; i < 40; i++)
		buf_printf(&text, "a%d = $a%d$a%d\n", i, i + 1, i + 1);
	buf_puts(&text, "a40 = xxxxxxxxxxxxxxxx\nsmtpd_banner = $a0\n");
	load(buf_cstr(&text));
	assert_string_equal(config_str("smtpd_banner"), "");
	assert_true(log_has("longer than"));
	buf_free(&text);
}

static void test_continuation_and_comments(void **state)
{
	(void)state;
	load("# a comment\n"
	     "mydestination = a,\n"
	     "    b,\n"
	     "# a comment between continuation lines\n"
	     "\n"
	     "\tc\n"
	     "   # indented comment\n"
	     "smtpd_banner = hello # not a comment\n"
	     "mail_name = crlf\r\n"
	     "relay_domains =\n"
	     "   only.on.next.line\n"
	     "syslog_name=  spaced  ");
	assert_string_equal(config_str("mydestination"), "a, b, c");
	assert_string_equal(config_str("smtpd_banner"), "hello # not a comment");
	assert_string_equal(config_str("mail_name"), "crlf");
	assert_string_equal(config_str("relay_domains"), "only.on.next.line");
	assert_string_equal(config_str("syslog_name"), "spaced");
	/* The last assignment of a name wins. */
	load("mail_name = one\nmail_name = two\n");
	assert_string_equal(config_str("mail_name"), "two");
}

static void test_overrides_beat_maincf(void **state)
{
	(void)state;
	load("mail_name = file\n");
	assert_true(config_is_set("mail_name"));
	assert_int_equal(config_override("mail_name = over ride"), 0);
	assert_string_equal(config_str("mail_name"), "over ride");
	assert_string_equal(config_raw("mail_name"), "over ride");
	assert_int_equal(config_override("no equals sign"), -1);
	assert_int_equal(config_override("=value"), -1);
	assert_int_equal(config_override("bad-name=value"), -1);
	assert_string_equal(config_str("mail_name"), "over ride");
	config_set("mail_name", NULL);
	assert_string_equal(config_str("mail_name"), "file");
	config_set("syslog_name", "$mail_name-log");
	assert_true(config_is_set("syslog_name"));
	assert_string_equal(config_str("syslog_name"), "file-log");
	/* A later main.cf value does not beat the override; $mail_name
	 * follows the new main.cf, where it is no longer set. */
	load("syslog_name = fromfile\n");
	assert_string_equal(config_str("syslog_name"), "tern-log");
}

static void test_values_stay_valid(void **state)
{
	const char *banner, *raw;

	(void)state;
	load("mail_name = one\n");
	banner = config_str("smtpd_banner");
	raw = config_raw("mail_name");
	config_set("mail_name", "two");
	/* Under ASan a freed string here would be reported. */
	assert_non_null(strstr(banner, "ESMTP one"));
	assert_string_equal(raw, "one");
	assert_non_null(strstr(config_str("smtpd_banner"), "ESMTP two"));
	config_set("mail_name", "three");
	assert_non_null(strstr(banner, "ESMTP one"));
}

static void test_reload_keeps_overrides(void **state)
{
	char *dir = make_dir("mail_name = one\nsyslog_name = s1\nrelay_domains = r1\n");
	struct buf err = BUF_INIT;
	char *path = xasprintf("%s/main.cf", dir);
	FILE *f;

	(void)state;
	assert_int_equal(config_override("mail_name=over"), 0);
	assert_int_equal(config_load(dir, false, &err), 0);
	assert_string_equal(config_str("mail_name"), "over");
	assert_string_equal(config_str("syslog_name"), "s1");
	assert_string_equal(config_str("relay_domains"), "r1");
	assert_string_equal(config_dir(), dir);
	assert_string_equal(config_str("config_directory"), dir);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("syslog_name = s2\n", f);
	fclose(f);
	assert_int_equal(config_load(dir, false, &err), 0);
	assert_string_equal(config_str("mail_name"), "over");
	assert_string_equal(config_str("syslog_name"), "s2");
	assert_string_equal(config_str("relay_domains"), "");
	assert_string_equal(config_str("config_directory"), dir);

	/* A reload that fails changes nothing. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("syslog_name = s3\nbroken line\n", f);
	fclose(f);
	assert_int_equal(config_load(dir, false, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "main.cf:2: "));
	assert_string_equal(config_str("syslog_name"), "s2");

	free(path);
	buf_free(&err);
	remove_dir(dir);
}

static void test_load_missing(void **state)
{
	char *dir = make_dir(NULL);
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(config_load(dir, false, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "main.cf"));
	assert_non_null(strstr(buf_cstr(&err), "No such file"));
	assert_int_equal(config_load(dir, true, &err), 0);
	assert_string_equal(config_str("mail_name"), "tern");
	assert_string_equal(config_dir(), dir);

	setenv("TERN_CONFIG", dir, 1);
	config_reset();
	assert_int_equal(config_load(NULL, true, &err), 0);
	assert_string_equal(config_dir(), dir);
	assert_string_equal(config_str("config_directory"), dir);
	unsetenv("TERN_CONFIG");
	buf_free(&err);
	remove_dir(dir);
}

static void check_syntax_error(const char *text, size_t len, const char *want)
{
	struct buf err = BUF_INIT;

	config_reset();
	load("mail_name = good\n");
	assert_int_equal(config_load_text(text, len, "main.cf", &err), -1);
	if (strstr(buf_cstr(&err), want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", buf_cstr(&err), want);
	/* Nothing of a bad file is applied. */
	assert_string_equal(config_str("mail_name"), "good");
	buf_free(&err);
}

#define SYNTAX(text, want) check_syntax_error(text, sizeof(text) - 1, want)

static void test_syntax_errors(void **state)
{
	(void)state;
	SYNTAX("mail_name = x\nno equals here\n", "main.cf:2: missing '='");
	SYNTAX("  indented = x\n", "main.cf:1: continuation line");
	SYNTAX("# c\n\n = x\n", "main.cf:3: continuation line");
	SYNTAX("a = 1\n= x\n", "main.cf:2: empty parameter name");
	SYNTAX("a = 1\n\nbad-name = x\n", "main.cf:3: bad parameter name");
	SYNTAX("two words = x\n", "main.cf:1: bad parameter name");
	SYNTAX("a = 1\nb = x\0y\n", "main.cf:2: NUL byte");
	/* The error names the first line of a multi-line logical line. */
	SYNTAX("a = 1\nbroken\n  more\n", "main.cf:2: ");
}

/* Loading never warns: unknown names are config_check's (config_check.h),
 * so that sendmail and mailq print nothing of the kind. */
static void test_unknown_name_silent_at_load(void **state)
{
	const char *text = "foo_bar = 1\nmail_name = x\n\n# c\nfoo_bar = 2\n";
	struct config_setting *set;
	size_t n;
	char *log;

	(void)state;
	load(text);
	assert_string_equal(config_str("mail_name"), "x");
	log = log_text();
	assert_int_equal(count_in(log, "foo_bar"), 0);
	free(log);
	/* The settings, in line order, the last of a repeated name at its line. */
	n = config_file_settings(&set);
	assert_int_equal(n, 2);
	assert_string_equal(set[0].name, "mail_name");
	assert_int_equal(set[0].line, 2);
	assert_string_equal(set[1].name, "foo_bar");
	assert_string_equal(set[1].value, "2");
	assert_int_equal(set[1].line, 5);
	free(set);
	assert_string_equal(config_file_path(), "main.cf");
	assert_null(config_param_def("foo_bar"));
	assert_non_null(config_param_def("mail_name"));
}

/* Postfix 3's "${name?{value1}:{value2}}". */
static void test_expansion_choice(void **state)
{
	static const char *const want[][2] = {
	    {"$a", "one"}, {"$b", "two"}, {"$c", "two"}, {"$d", "x-1"}};

	(void)state;
	load("set = x\nempty =\n"
	     "a = ${set?{one}:{two}}\nb = ${empty?{one}:{two}}\nc = ${empty?{one}:two}\n"
	     "d = ${set?{ $set-1 }:{no}}\n");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *got = config_expand(want[i][0]);

		assert_string_equal(got, want[i][1]);
		free(got);
	}
}

static void test_refers_to(void **state)
{
	(void)state;
	assert_true(config_refers_to("a $foo b", "foo"));
	assert_true(config_refers_to("${foo}", "foo"));
	assert_true(config_refers_to("${foo?x}", "foo"));
	assert_true(config_refers_to("$(foo:y)", "foo"));
	assert_false(config_refers_to("$foobar", "foo"));
	assert_false(config_refers_to("foo", "foo"));
	assert_false(config_refers_to("$$foo", "xfoo"));
}

/* Writes text to a new temporary file; the path is the caller's. */
static char *temp_file(const char *text)
{
	char tmpl[] = "/tmp/test_config_file.XXXXXX";
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return xstrdup(tmpl);
}

/* Postfix's "/file/name" values: list entries and Debian's myorigin. */
static void test_file_values(void **state)
{
	char *names = temp_file("# domains\nexample.org, example.net\n\n  # more\n  example.com\n");
	char *mailname = temp_file("mail.example.org\nsecond line\n");
	char *empty = temp_file("\n");
	char *text = xasprintf("mydestination = localhost, %s, $mydomain\n"
			       "relay_domains = %s\nmyorigin = %s\nmydomain = d.example\n"
			       "myhostname = h.d.example\nmail_name = /not/a/list\n",
	    names, names, mailname);
	char *bad;

	(void)state;
	load(text);
	/* The file's entries in place of its name; the rest as written. */
	assert_string_equal(config_str("mydestination"),
	    "localhost, example.org example.net example.com, d.example");
	assert_string_equal(config_str("relay_domains"), "example.org example.net example.com");
	assert_string_equal(config_str("myorigin"), "mail.example.org");
	/* Only list and name parameters read files. */
	assert_string_equal(config_str("mail_name"), "/not/a/list");
	/* Without a file entry a list is left exactly as written; with one,
	 * a table beside it keeps its commas and blanks. */
	load("mynetworks = 10.0.0.0/8,  [::1]/128\n");
	assert_string_equal(config_str("mynetworks"), "10.0.0.0/8,  [::1]/128");
	free(text);
	text = xasprintf("relay_domains = inline:{ a.example=1, /b=2 },%s\n", names);
	load(text);
	assert_string_equal(config_str("relay_domains"),
	    "inline:{ a.example=1, /b=2 },example.org example.net example.com");
	free(text);

	/* Unreadable or empty: a warning, nothing from the file, and for
	 * myorigin its default. */
	text = xasprintf("myhostname = h.example\nmydestination = a, /nonexistent/x, b\n"
			 "myorigin = %s\n",
	    empty);
	log_clear();
	load(text);
	assert_string_equal(config_str("mydestination"), "a, , b");
	assert_string_equal(config_str("myorigin"), "h.example");
	assert_true(log_has("cannot read /nonexistent/x"));
	assert_true(log_has("is empty"));
	free(text);
	bad = xasprintf("myhostname = h.example\nmyorigin = /nonexistent/mailname\n");
	load(bad);
	assert_string_equal(config_str("myorigin"), "h.example");
	free(bad);
	unlink(names);
	unlink(mailname);
	unlink(empty);
	free(names);
	free(mailname);
	free(empty);
}

static void test_time_units(void **state)
{
	long s = -1;

	(void)state;
	assert_true(config_parse_time("10", 's', &s));
	assert_int_equal(s, 10);
	assert_true(config_parse_time("10s", 'd', &s));
	assert_int_equal(s, 10);
	assert_true(config_parse_time("2m", 's', &s));
	assert_int_equal(s, 120);
	assert_true(config_parse_time("3h", 's', &s));
	assert_int_equal(s, 3 * 3600);
	assert_true(config_parse_time("1d", 's', &s));
	assert_int_equal(s, 86400);
	assert_true(config_parse_time("2w", 's', &s));
	assert_int_equal(s, 14 * 86400);
	assert_true(config_parse_time("5", 'd', &s));
	assert_int_equal(s, 5 * 86400);
	assert_true(config_parse_time("0", 'h', &s));
	assert_int_equal(s, 0);
	s = 42;
	assert_false(config_parse_time("", 's', &s));
	assert_false(config_parse_time("x", 's', &s));
	assert_false(config_parse_time("10x", 's', &s));
	assert_false(config_parse_time("10ss", 's', &s));
	assert_false(config_parse_time("-5", 's', &s));
	assert_false(config_parse_time(" 5", 's', &s));
	assert_false(config_parse_time("99999999999999999999", 's', &s));
	assert_false(config_parse_time("999999999999999999w", 's', &s));
	assert_int_equal(s, 42);

	load("smtpd_timeout = 2m\nmaximal_queue_lifetime = 2\nmax_idle = 1h\n");
	assert_int_equal(config_time("smtpd_timeout"), 120);
	assert_int_equal(config_time("maximal_queue_lifetime"), 2 * 86400);
	assert_int_equal(config_time("max_idle"), 3600);
}

static void test_bool_words(void **state)
{
	static const char *const yes[] = {"yes", "YES", "true", "True", "on", "ON", "1"};
	static const char *const no[] = {"no", "No", "false", "FALSE", "off", "Off", "0"};
	static const char *const bad[] = {"", "maybe", "yess", "2", " yes", "y"};
	bool v;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = false;
		assert_true(config_parse_bool(yes[i], &v));
		assert_true(v);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = true;
		assert_true(config_parse_bool(no[i], &v));
		assert_false(v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(config_parse_bool(bad[i], &v));
	load("soft_bounce = On\nsmtputf8_enable = FALSE\n");
	assert_true(config_bool("soft_bounce"));
	assert_false(config_bool("smtputf8_enable"));
}

static void test_list_splitting(void **state)
{
	char **v;

	(void)state;
	load("myhostname = mail.example.com\nrelay_domains = a, b,,c\td ,e\n"
	     "   f\nmynetworks = ${relay_domains?  }\n");
	v = config_list("mydestination");
	assert_int_equal(strv_len(v), 3);
	assert_string_equal(v[0], "mail.example.com");
	assert_string_equal(v[1], "localhost.example.com");
	assert_string_equal(v[2], "localhost");
	strv_free(v);
	v = config_list("relay_domains");
	assert_int_equal(strv_len(v), 6);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[2], "c");
	assert_string_equal(v[3], "d");
	assert_string_equal(v[5], "f");
	strv_free(v);
	v = config_list("mynetworks");
	assert_int_equal(strv_len(v), 0);
	assert_null(v[0]);
	strv_free(v);
}

static void test_sizes(void **state)
{
	(void)state;
	load("message_size_limit = 0\nheader_size_limit = 5000000000\n");
	assert_int_equal(config_size("message_size_limit"), 0);
	assert_true(config_size("header_size_limit") == 5000000000LL);
}

/* Runs fn in a child; returns its wait status. */
static int in_child(void (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void child_int(const char *value)
{
	config_set("line_length_limit", value);
	(void)config_int("line_length_limit");
}

static void child_size(const char *value)
{
	config_set("message_size_limit", value);
	(void)config_size("message_size_limit");
}

static void child_time(const char *value)
{
	config_set("smtpd_timeout", value);
	(void)config_time("smtpd_timeout");
}

static void child_bool(const char *value)
{
	config_set("soft_bounce", value);
	(void)config_bool("soft_bounce");
}

static void child_unknown(const char *name)
{
	(void)config_str(name);
}

static void assert_exit1(int status)
{
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

static void test_bad_values_fatal(void **state)
{
	int status;

	(void)state;
	assert_exit1(in_child(child_int, "12x"));
	assert_true(log_has("line_length_limit"));
	assert_true(log_has("12x"));
	assert_exit1(in_child(child_int, ""));
	assert_exit1(in_child(child_size, "-1"));
	assert_exit1(in_child(child_size, "10k"));
	assert_exit1(in_child(child_time, "5y"));
	assert_exit1(in_child(child_bool, "maybe"));
	assert_true(log_has("soft_bounce"));
	/* A good value in the same harness exits 0: the check can fail. */
	status = in_child(child_int, "12");
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	status = in_child(child_unknown, "no_such_parameter");
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_true(log_has("unknown parameter no_such_parameter"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_table_well_formed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostname_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expansion_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_user_defined_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recursion_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expansion_bomb, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_continuation_and_comments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overrides_beat_maincf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_values_stay_valid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_overrides, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_name_silent_at_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refers_to, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expansion_choice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_units, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bool_words, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_splitting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_values_fatal, setup, teardown),
	};
	int fd = mkstemp(log_path);
	int rc;

	if (fd < 0)
		return 1;
	close(fd);
	log_open("test_config", LOG_DEST_FILE, log_path);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(log_path);
	return rc;
}
