/*
 * test_sieve.c - lib/sieve: the parser's errors and their lines, the
 * checker, match types and comparators, variables, flags, the action
 * rules, vacation's RFC 3834 rules and tracking, duplicate, include and
 * the limits.  tests/sieve/run_diff.py compares whole runs with
 * Pigeonhole; these pin down what Pigeonhole cannot show (the decisions
 * local acts on).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "sieve/sieve.h"
#include "sieve/sieve_int.h"
#include "util.h"

static const char *msg_plain = "From: Alice <alice@example.org>\n"
			       "To: bob+box@example.net\n"
			       "Subject: Hello there\n"
			       "Message-ID: <m1@example.org>\n"
			       "\n"
			       "Body text.\n";

static const char *msg_list = "From: robot@lists.example.com\n"
			      "To: bob@example.net\n"
			      "List-Id: <dev.lists.example.com>\n"
			      "Subject: digest\n"
			      "\n"
			      "x\n";

static const char *tracked_id;
static const char *include_text;

static bool test_track(void *ctx, const char *id)
{
	(void)ctx;
	return tracked_id && strcmp(id, tracked_id) == 0;
}

static bool include_cb(void *ctx, const char *name, bool global, struct buf *text)
{
	(void)ctx;
	(void)global;
	if (include_text == NULL || strcmp(name, "sub") != 0)
		return false;
	buf_puts(text, include_text);
	return true;
}

static const struct sieve_scoretest *g_spam, *g_virus;

static struct sieve_env env_default(void)
{
	struct sieve_env env = {0};

	env.spamtest = g_spam;
	env.virustest = g_virus;

	env.envelope_from = "alice@example.org";
	env.envelope_to = "bob@example.net";
	env.host = "mx1.example.net";
	env.track_check = test_track;
	env.include_load = include_cb;
	return env;
}

/* Compiles and runs script on msg; the formatted result in *out. */
static bool run(const char *script, const char *msg, struct buf *out)
{
	struct buf errors = BUF_INIT;
	struct sieve_script *s = sieve_compile(script, strlen(script), "t", &errors);
	struct sieve_env env = env_default();
	struct sieve_result res;
	bool ok;

	buf_reset(out);
	if (s == NULL) {
		buf_puts(out, buf_cstr(&errors));
		buf_free(&errors);
		return false;
	}
	ok = sieve_execute(s, msg, strlen(msg), &env, &res);
	sieve_result_format(&res, out);
	sieve_result_free(&res);
	sieve_script_free(s);
	buf_free(&errors);
	return ok;
}

static void assert_compile_error(const char *script, const char *line_prefix)
{
	struct buf errors = BUF_INIT;
	struct sieve_script *s = sieve_compile(script, strlen(script), "t", &errors);

	assert_null(s);
	assert_non_null(strstr(buf_cstr(&errors), line_prefix));
	buf_free(&errors);
}

static void test_environment(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_true(run("require [\"environment\",\"fileinto\",\"variables\"];\n"
			"if environment :is \"domain\" \"example.net\" { fileinto \"d\"; }\n"
			"if environment :matches \"host\" \"mx*\" { fileinto \"h${1}\"; }\n"
			"if environment \"location\" \"MDA\" { fileinto \"l\"; }\n"
			"if environment \"phase\" \"during\" { fileinto \"p\"; }\n"
			"if environment \"name\" \"TERN\" { fileinto \"n\"; }\n"
			"if environment :matches \"remote-ip\" \"*\" { fileinto \"r\"; }\n"
			"if environment :matches \"no-such-item\" \"*\" { fileinto \"x\"; }\n",
	    msg_plain, &out));
	assert_string_equal(
	    buf_cstr(&out), "store d\nstore h1.example.net\nstore l\nstore p\nstore n\n");
	assert_compile_error("if environment \"host\" \"x\" { keep; }", "line 1");
	assert_non_null(strstr(sieve_extensions(), "environment"));
	buf_free(&out);
}

/* name=value pairs, NULL-terminated, for sieve_scoretest_load */
static const char *score_get(const char *name, void *ctx)
{
	const char *const *kv = ctx;

	for (; kv[0]; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static struct sieve_scoretest *score_load(bool virus, const char *const *kv)
{
	struct sieve_scoretest *t = NULL;
	struct buf err = BUF_INIT;

	assert_true(sieve_scoretest_load(virus, score_get, (void *)kv, &t, &err));
	buf_free(&err);
	return t;
}

static void score_bad(bool virus, const char *const *kv, const char *want)
{
	struct sieve_scoretest *t = NULL;
	struct buf err = BUF_INIT;

	assert_false(sieve_scoretest_load(virus, score_get, (void *)kv, &t, &err));
	assert_null(t);
	assert_non_null(strstr(buf_cstr(&err), want));
	buf_free(&err);
}

#define SCORE_SCRIPT                                                                               \
	"require [\"spamtestplus\",\"virustest\",\"fileinto\",\"variables\"];\n"                   \
	"if spamtest :matches \"*\" { set \"s\" \"${1}\"; }\n"                                     \
	"if spamtest :percent :matches \"*\" { set \"p\" \"${1}\"; }\n"                            \
	"if virustest :matches \"*\" { fileinto \"${s}/${p}/${1}\"; }\n"

static void score_expect(const char *msg, const char *want)
{
	struct buf out = BUF_INIT;

	assert_true(run(SCORE_SCRIPT, msg, &out));
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void test_spamtest(void **state)
{
	static const char *const scored[] = {"sieve_spamtest_status_header",
	    "X-Spam-Score: ^(-?[0-9.,]+)", "sieve_spamtest_max_value", "10", NULL};
	static const char *const stars[] = {"sieve_spamtest_status_type", "strlen",
	    "sieve_spamtest_status_header", "X-Spam-Level", "sieve_spamtest_max_header",
	    "X-Spam-Max", NULL};
	static const char *const texts[] = {"sieve_virustest_status_type", "text",
	    "sieve_virustest_status_header", "X-Virus: (.*)", "sieve_virustest_text_values",
	    "0 = not scanned, 1=clean , 5=infected", NULL};
	struct sieve_scoretest *spam, *virus;

	(void)state;
	/* not configured: "0" for all */
	score_expect("Subject: x\n\nbody\n", "store 0/0/0\n");
	spam = score_load(false, scored);
	virus = score_load(true, texts);
	g_spam = spam;
	g_virus = virus;
	score_expect("X-Spam-Score: 5.0 (medium)\nX-Virus: clean\n\nb\n", "store 5/50/1\n");
	score_expect("X-Spam-Score: 2,5\nX-Virus: infected\n\nb\n", "store 3/25/5\n");
	score_expect("X-Spam-Score: -3\nX-Virus: not scanned\n\nb\n", "store 1/0/1\n");
	score_expect("X-Spam-Score: 99\nX-Virus: unknown text\n\nb\n", "store 10/100/0\n");
	/* unparsable or absent: not tested */
	score_expect("X-Spam-Score: lots\n\nb\n", "store 0/0/0\n");
	score_expect("X-Spam-Score: 1234567\n\nb\n", "store 0/0/0\n");
	sieve_scoretest_free(spam);
	g_spam = spam = score_load(false, stars);
	score_expect("X-Spam-Level: ****\nX-Spam-Max: 8\n\nb\n", "store 5/50/0\n");
	score_expect("X-Spam-Level: **-*\nX-Spam-Max: 8\n\nb\n", "store 0/0/0\n");
	score_expect("X-Spam-Level: ****\n\nb\n", "store 0/0/0\n");
	score_expect("X-Spam-Level: ****\nX-Spam-Max: 0\n\nb\n", "store 0/0/0\n");
	g_spam = g_virus = NULL;
	sieve_scoretest_free(spam);
	sieve_scoretest_free(virus);

	/* unset status header: not configured, no error */
	{
		static const char *const none[] = {"sieve_spamtest_max_value", "5", NULL};

		assert_null(score_load(false, none));
	}
	{
		static const char *const both[] = {"sieve_spamtest_status_header", "X-S",
		    "sieve_spamtest_max_value", "5", "sieve_spamtest_max_header", "X-M", NULL};
		static const char *const neither[] = {"sieve_spamtest_status_header", "X-S", NULL};
		static const char *const type[] = {"sieve_spamtest_status_header", "X-S",
		    "sieve_spamtest_status_type", "stars", NULL};
		static const char *const rx[] = {"sieve_virustest_status_header", "X-V: (",
		    "sieve_virustest_max_value", "5", NULL};
		static const char *const tv[] = {"sieve_virustest_status_type", "text",
		    "sieve_virustest_status_header", "X-V", "sieve_virustest_text_values", "6=x",
		    NULL};

		score_bad(false, both, "exactly one of");
		score_bad(false, neither, "exactly one of");
		score_bad(false, type, "not score, strlen or text");
		score_bad(true, rx, "invalid regular expression");
		score_bad(true, tv, "N from 0 to 5");
	}
	assert_compile_error(
	    "require \"spamtest\";\nif spamtest :percent \"1\" { keep; }", "line 2");
	assert_compile_error("require \"virustest\";\nif spamtest \"1\" { keep; }", "line 2");
}

/* editheader: the header the result carries */
static char *edit_header(const char *script, const char *msg)
{
	struct buf errors = BUF_INIT;
	struct sieve_script *s = sieve_compile(script, strlen(script), "t", &errors);
	struct sieve_env env = env_default();
	struct sieve_result res;
	char *h;

	assert_non_null(s);
	assert_true(sieve_execute(s, msg, strlen(msg), &env, &res));
	h = res.header ? strdup(res.header) : NULL;
	if (h)
		assert_int_equal(strlen(h), res.header_len);
	sieve_result_free(&res);
	sieve_script_free(s);
	buf_free(&errors);
	return h;
}

static void test_editheader(void **state)
{
	char *h;

	(void)state;
	h = edit_header("require \"editheader\";\naddheader \"X-A\" \"1\";\n"
			"addheader :last \"X-B\" \"2\";\n",
	    "Received: r1\r\nSubject: s\r\n\r\nbody\r\n");
	assert_string_equal(h, "X-A: 1\nReceived: r1\nSubject: s\nX-B: 2\n");
	free(h);
	/* a line break in a value folds: no new field, no end of header */
	h = edit_header(
	    "require \"editheader\";\naddheader \"X-A\" text:\nline one\nBcc: x@y\n\n.\n;\n",
	    "Subject: s\n\nbody\n");
	assert_string_equal(h, "X-A: line one\n Bcc: x@y\nSubject: s\n");
	free(h);
	/* non-ASCII: RFC 2047 */
	h = edit_header(
	    "require \"editheader\";\naddheader \"X-A\" \"caf\xc3\xa9\";\n", "S: 1\n\nb\n");
	assert_string_equal(h, "X-A: =?UTF-8?B?Y2Fmw6k=?=\nS: 1\n");
	free(h);
	/* deleteheader: all, by index, by value; Received and Auto-Submitted stay */
	h = edit_header("require \"editheader\";\ndeleteheader \"x-a\";\ndeleteheader "
			"\"received\";\ndeleteheader \"Auto-Submitted\";\n",
	    "X-A: 1\nReceived: r\nx-a: 2\nAuto-Submitted: auto-replied\nX-B: 3\n\nb\n");
	assert_string_equal(h, "Received: r\nAuto-Submitted: auto-replied\nX-B: 3\n");
	free(h);
	h = edit_header("require \"editheader\";\ndeleteheader :index 2 :last \"x-a\";\n",
	    "X-A: 1\nX-A: 2\n  folded\nX-A: 3\n\nb\n");
	assert_string_equal(h, "X-A: 1\nX-A: 3\n");
	free(h);
	h = edit_header("require \"editheader\";\ndeleteheader :contains \"x-a\" [\"2\", \"9\"];\n",
	    "X-A: 1\nX-A: 2\n\nb\n");
	assert_string_equal(h, "X-A: 1\n");
	free(h);
	/* nothing matched: no edit */
	assert_null(
	    edit_header("require \"editheader\";\ndeleteheader \"x-none\";\n", "X: 1\n\nb\n"));
	/* a name made from a variable is checked at run time */
	{
		struct buf out = BUF_INIT;

		assert_false(run("require [\"editheader\",\"variables\"];\nset \"n\" \"a b\";\n"
				 "addheader \"${n}\" \"x\";\n",
		    "S: 1\n\nb\n", &out));
		buf_free(&out);
	}
	assert_compile_error("require \"editheader\";\naddheader \"X:A\" \"1\";", "line 2");
	assert_compile_error("require \"editheader\";\ndeleteheader :index 0 \"X\";", "line 2");
	assert_compile_error(
	    "require \"editheader\";\nif header :index 1 \"X\" \"1\" { keep; }", "line 2");
}

static void test_parse_errors(void **state)
{
	(void)state;
	assert_compile_error("keep\ndiscard;", "t: line 2: error:");
	assert_compile_error("if true {\nkeep;\n", "t: line 3: error:");
	assert_compile_error("fileinto \"x\";", "t: line 1: error: unknown command 'fileinto'");
	assert_compile_error("require \"nope\";", "unknown Sieve capability 'nope'");
	assert_compile_error("keep;\nrequire \"fileinto\";", "t: line 2:");
	assert_compile_error(
	    "if header :is :contains \"a\" \"b\" { keep; }", "multiple match type");
	assert_compile_error("require \"regex\";\n\nif header :regex \"a\" \"(\" {}", "t: line 3:");
	assert_compile_error("redirect \"nobody\";", "redirect address");
	assert_compile_error("if size 10 { keep; }", "line 1");
	assert_compile_error("else { keep; }", "must follow");
	assert_compile_error("keep; /* open", "line 1");
	assert_compile_error("keep;\n/* open\n", "line 3");
	assert_compile_error("if size :over 99999999999999999999 {}", "too large");
	/* all errors are reported, not only the first */
	struct buf errors = BUF_INIT;

	assert_null(sieve_compile("foo;\nbar;\n", 10, "t", &errors));
	assert_non_null(strstr(buf_cstr(&errors), "line 1"));
	assert_non_null(strstr(buf_cstr(&errors), "line 2"));
	buf_free(&errors);
}

static void test_nesting_limit(void **state)
{
	struct buf s = BUF_INIT;

	(void)state;
	for (int i = 0; i < SIEVE_MAX_NESTING + 5; i++)
		buf_puts(&s, "if true {");
	for (int i = 0; i < SIEVE_MAX_NESTING + 5; i++)
		buf_puts(&s, "}");
	assert_compile_error(buf_cstr(&s), "nesting too deep");
	buf_reset(&s);
	buf_puts(&s, "if ");
	for (int i = 0; i < 1000; i++)
		buf_puts(&s, "not ");
	buf_puts(&s, "true {}");
	assert_compile_error(buf_cstr(&s), "nesting too deep");
	buf_free(&s);
}

static void test_glob(void **state)
{
	struct sv_captures c = {0};

	(void)state;
	assert_true(sv_glob("*@*", 3, "a@b@c", 5, false, &c));
	assert_string_equal(c.v[1], "a");
	assert_string_equal(c.v[2], "b@c");
	assert_true(sv_glob("?*", 2, "\xc3\xa9t\xc3\xa9", 5, false, &c));
	assert_string_equal(c.v[1], "\xc3\xa9");
	assert_true(sv_glob("A\\*", 3, "a*", 2, true, NULL));
	assert_false(sv_glob("A\\*", 3, "ab", 2, true, NULL));
	assert_false(sv_glob("abc", 3, "ABC", 3, false, NULL));
	assert_true(sv_glob("", 0, "", 0, false, NULL));
	assert_false(sv_glob("?", 1, "", 0, false, NULL));
	/* linear: a pathological pattern on a long value finishes at once */
	char *big = xmalloc(20001);

	memset(big, 'a', 20000);
	big[20000] = 0;
	assert_false(sv_glob("*a*a*a*a*a*a*b", 14, big, 20000, false, NULL));
	free(big);
	sv_captures_clear(&c);
}

static void test_numeric(void **state)
{
	(void)state;
	assert_int_equal(sv_numeric_cmp("012", 3, "12", 2), 0);
	assert_int_equal(sv_numeric_cmp("9", 1, "10", 2), -1);
	assert_int_equal(sv_numeric_cmp("abc", 3, "99999999999999999999999", 23), 1);
	assert_int_equal(sv_numeric_cmp("x", 1, "y", 1), 0);
	assert_int_equal(sv_numeric_cmp("5x", 2, "5", 1), 0);
}

static void test_actions(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_true(run("keep;", msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "store INBOX\n");
	assert_true(run("", msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "implicit-keep\n");
	assert_true(
	    run("require \"fileinto\"; fileinto \"A\"; fileinto \"A\"; keep;", msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "store A\nstore INBOX\n");
	assert_true(run("require [\"fileinto\",\"copy\"]; fileinto :copy \"A\";", msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "store A copy\nimplicit-keep\n");
	/* reject after fileinto: run-time error, everything cancelled, keep */
	assert_false(run(
	    "require [\"fileinto\",\"reject\"]; fileinto \"A\"; reject \"no\";", msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "error\nimplicit-keep\n");
	assert_true(run("stop; discard;", msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "implicit-keep\n");
	buf_free(&out);
}

static void test_enotify(void **state)
{
	struct buf out = BUF_INIT;
	struct sieve_mailto m;
	const char *en = "require [\"enotify\", \"variables\", \"fileinto\"];\n";
	char script[1024];

	(void)state;
	/* the URI: recipients from the to-part and to/cc fields, each once,
	 * %-decoded values, reserved fields dropped */
	assert_true(
	    sieve_mailto_parse("mailto:a@x.org%2Cb@x.org?cc=c@x.org,a@x.org&subject=Hi%20there"
			       "&body=line&from=evil@x.org&X-Tag=v&bcc=d@x.org",
		&m, NULL));
	assert_int_equal(m.nrcpts, 3);
	assert_string_equal(m.rcpts[2], "c@x.org");
	assert_true(m.cc[2]);
	assert_false(m.cc[0]);
	assert_string_equal(m.subject, "Hi there");
	assert_string_equal(m.body, "line");
	assert_int_equal(m.nheaders, 1);
	assert_string_equal(m.hnames[0], "X-Tag");
	sieve_mailto_free(&m);
	assert_false(sieve_mailto_parse("mailto:a@x.org?subject=a%0D%0ABcc:%20x", &m, NULL));
	assert_false(sieve_mailto_parse("mailto:a%0A@x.org", &m, NULL));
	assert_false(sieve_mailto_parse("mailto:a b@x.org", &m, NULL));
	assert_false(sieve_mailto_parse("mailto:a@x.org?subject=%00", &m, NULL));
	assert_false(sieve_mailto_parse("mailto:a@x.org?subject=%4", &m, NULL));
	assert_false(sieve_mailto_parse("xmpp:a@x.org", &m, NULL));

	/* the action, its fields, the implicit keep it leaves */
	snprintf(script, sizeof(script),
	    "%snotify :importance \"3\" :from \"me@x.org\" :message \"m\" "
	    "\"mailto:a@x.org?cc=b@x.org\";",
	    en);
	assert_true(run(script, msg_plain, &out));
	assert_string_equal(buf_cstr(&out),
	    "notify importance=3 subject=m from=me@x.org to=a@x.org "
	    "cc=b@x.org\nimplicit-keep\n");
	/* a second notify to the same recipients is one action */
	snprintf(
	    script, sizeof(script), "%snotify \"mailto:a@x.org\"; notify \"mailto:a@x.org\";", en);
	assert_true(run(script, msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "notify importance=2 to=a@x.org\nimplicit-keep\n");
	/* never about an auto-submitted message (RFC 5436 2.7) */
	assert_true(run(script, "Auto-Submitted: auto-notified\nSubject: n\n\nx\n", &out));
	assert_non_null(strstr(buf_cstr(&out), "suppressed=message is auto-submitted"));
	/* an invalid URI made of variables: a run-time error */
	snprintf(script, sizeof(script), "%sset \"u\" \"a b\"; notify \"mailto:${u}@x.org\";", en);
	assert_false(run(script, msg_plain, &out));
	/* the tests and :encodeurl */
	snprintf(script, sizeof(script),
	    "%sif valid_notify_method [\"mailto:a@x.org\", \"mailto:b@x.org\"] { fileinto \"V\"; "
	    "}\n"
	    "if valid_notify_method \"xmpp:a@x.org\" { fileinto \"X\"; }\n"
	    "if notify_method_capability \"mailto:a@x.org\" \"Online\" \"maybe\" "
	    "{ fileinto \"C\"; }\n"
	    "set :encodeurl \"e\" \"a b&\xc3\xa9~\"; fileinto \"${e}\";",
	    en);
	assert_true(run(script, msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "store V\nstore C\nstore a%20b%26%C3%A9~\n");
	/* compile-time checks of constants, as Pigeonhole */
	assert_compile_error("require \"enotify\";\nnotify \"xmpp:a@b\";", "t: line 2: error:");
	assert_compile_error(
	    "require \"enotify\";\nnotify :importance \"4\" \"mailto:a@b\";", "t: line 2: error:");
	assert_compile_error(
	    "require \"enotify\";\nnotify :options [\"x\"] \"mailto:a@b\";", "t: line 2: error:");
	assert_compile_error(
	    "require \"enotify\";\nnotify :from \"nobody\" \"mailto:a@b\";", "t: line 2: error:");
	assert_compile_error("notify \"mailto:a@b\";", "t: line 1: error: unknown command");
	buf_free(&out);
}

static void test_redirect_limit(void **state)
{
	struct buf out = BUF_INIT, s = BUF_INIT;

	(void)state;
	for (int i = 0; i <= SIEVE_MAX_REDIRECTS; i++)
		buf_printf(&s, "redirect \"r%d@example.com\";\n", i);
	assert_false(run(buf_cstr(&s), msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "error\nimplicit-keep\n");
	buf_free(&out);
	buf_free(&s);
}

static void test_variables_and_flags(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_true(run("require [\"fileinto\",\"variables\"];\n"
			"if header :matches \"subject\" \"* *\" { set :upper \"w\" \"${2}\"; }\n"
			"fileinto \"x-${w}-${unknown}-${1}\";",
	    msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "store x-THERE--Hello\n");
	assert_true(run("require [\"imap4flags\"]; addflag \"\\\\Seen a\"; addflag \"A b\"; "
			"removeflag \"b\";",
	    msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "implicit-keep flags=\\Seen a\n");
	assert_true(run("require [\"encoded-character\",\"fileinto\"]; "
			"fileinto \"${hex:41 42}${unicode:e9}${hex:zz}\";",
	    msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "store AB\xc3\xa9${hex:zz}\n");
	buf_free(&out);
}

static void test_subaddress(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_true(run("require [\"fileinto\",\"subaddress\",\"variables\"];\n"
			"if address :detail :matches \"to\" \"*\" { fileinto \"d-${1}\"; }",
	    msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "store d-box\n");
	assert_true(run("require [\"fileinto\",\"subaddress\"];\n"
			"if address :detail :matches \"from\" \"*\" { fileinto \"no\"; }",
	    msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "implicit-keep\n");
	buf_free(&out);
}

/* The vacation action of a run, its suppression reason in *why. */
static bool vacation_run(const char *msg, const char *from, const char **why, char **id)
{
	const char *script = "require \"vacation\"; vacation :days 2 \"away\";";
	struct sieve_script *s = sieve_compile(script, strlen(script), "v", NULL);
	struct sieve_env env = env_default();
	struct sieve_result res;
	bool found = false;

	env.envelope_from = from;
	sieve_execute(s, msg, strlen(msg), &env, &res);
	for (size_t i = 0; i < res.nactions; i++) {
		if (res.actions[i].type != SIEVE_ACT_VACATION)
			continue;
		found = true;
		*why = res.actions[i].suppressed;
		assert_int_equal(res.actions[i].seconds, 2 * 86400);
		if (id)
			*id = xstrdup(res.actions[i].track_id);
	}
	assert_true(res.implicit_keep);
	sieve_result_free(&res);
	sieve_script_free(s);
	return found;
}

static void test_vacation_rules(void **state)
{
	const char *why = "unset";
	char *id = NULL;
	char *auto_msg = xasprintf("Auto-Submitted: auto-replied\n%s", msg_plain);
	char *bulk_msg = xasprintf("Precedence: bulk\n%s", msg_plain);
	char *notme =
	    xasprintf("To: someone@else.example\n%s", msg_plain + strlen("From: Alice "
									 "<alice@example."
									 "org>\nTo: "
									 "bob+box@example."
									 "net\n"));
	const char *to_me = "From: a@example.org\nTo: Bob <BOB@EXAMPLE.NET>\nSubject: x\n\nx\n";

	(void)state;
	assert_true(vacation_run(to_me, "a@example.org", &why, &id));
	assert_null(why);
	assert_true(vacation_run(msg_list, "robot@lists.example.com", &why, NULL));
	assert_string_equal(why, "message is from a mailing list");
	assert_true(vacation_run(to_me, "", &why, NULL));
	assert_string_equal(why, "null envelope sender");
	assert_true(vacation_run(to_me, "MAILER-DAEMON@example.org", &why, NULL));
	assert_non_null(why);
	assert_true(vacation_run(to_me, "dev-request@example.org", &why, NULL));
	assert_non_null(why);
	assert_true(vacation_run(auto_msg, "a@example.org", &why, NULL));
	assert_string_equal(why, "message is auto-submitted");
	assert_true(vacation_run(bulk_msg, "a@example.org", &why, NULL));
	assert_string_equal(why, "message has bulk precedence");
	assert_true(vacation_run(notme, "a@example.org", &why, NULL));
	assert_string_equal(why, "message is not addressed to the recipient");
	/* once answered (the caller recorded the id), not again in the period */
	tracked_id = id;
	assert_true(vacation_run(to_me, "a@example.org", &why, NULL));
	assert_string_equal(why, "already replied to this sender in the period");
	/* another sender has another id */
	assert_true(vacation_run(to_me, "b@example.org", &why, NULL));
	assert_null(why);
	tracked_id = NULL;
	assert_true(sieve_vacation_suppressed(msg_list, strlen(msg_list), "x@y"));
	assert_false(sieve_vacation_suppressed(to_me, strlen(to_me), "x@y"));
	free(id);
	free(auto_msg);
	free(bulk_msg);
	free(notme);
}

static void test_duplicate(void **state)
{
	const char *script = "require [\"duplicate\",\"fileinto\"];\n"
			     "if duplicate { discard; } else { fileinto \"first\"; }";
	struct sieve_script *s = sieve_compile(script, strlen(script), "d", NULL);
	struct sieve_env env = env_default();
	struct sieve_result res;
	char *id;

	(void)state;
	assert_non_null(s);
	sieve_execute(s, msg_plain, strlen(msg_plain), &env, &res);
	assert_int_equal(res.nactions, 1);
	assert_int_equal(res.actions[0].type, SIEVE_ACT_FILEINTO);
	assert_int_equal(res.ntrack, 1);
	id = xstrdup(res.track_ids[0]);
	sieve_result_free(&res);
	tracked_id = id;
	sieve_execute(s, msg_plain, strlen(msg_plain), &env, &res);
	assert_int_equal(res.nactions, 1);
	assert_int_equal(res.actions[0].type, SIEVE_ACT_DISCARD);
	sieve_result_free(&res);
	tracked_id = NULL;
	free(id);
	sieve_script_free(s);
}

static void test_include(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	include_text =
	    "require [\"fileinto\",\"include\"]; fileinto \"from-sub\"; return; discard;";
	assert_true(run("require [\"include\",\"fileinto\"]; include \"sub\"; fileinto \"after\";",
	    msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "store from-sub\nstore after\n");
	assert_false(run("require \"include\"; include \"missing\";", msg_plain, &out));
	assert_true(run("require \"include\"; include :optional \"missing\";", msg_plain, &out));
	assert_string_equal(buf_cstr(&out), "implicit-keep\n");
	/* a script including itself stops at the nesting limit */
	include_text = "require \"include\"; include \"sub\";";
	assert_false(run("require \"include\"; include \"sub\";", msg_plain, &out));
	include_text = NULL;
	buf_free(&out);
}

static void test_body_and_date(void **state)
{
	const char *mp = "From: a@b.c\nTo: bob@example.net\nDate: Mon, 7 Dec 2026 10:00:00 +0100\n"
			 "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
			 "Content-Type: text/plain; charset=iso-8859-1\n"
			 "Content-Transfer-Encoding: quoted-printable\n\nR=E9sum=E9\n--b\n"
			 "Content-Type: application/octet-stream\nContent-Transfer-Encoding: "
			 "base64\n\naGlkZGVu\n--b--\n";
	struct buf out = BUF_INIT;

	(void)state;
	assert_true(
	    run("require [\"body\",\"fileinto\"]; if body :contains \"R\xc3\xa9sum\xc3\xa9\" "
		"{ fileinto \"yes\"; }",
		mp, &out));
	assert_string_equal(buf_cstr(&out), "store yes\n");
	assert_true(run(
	    "require [\"body\",\"fileinto\"]; if body :contains \"hidden\" { fileinto \"no\"; }",
	    mp, &out));
	assert_string_equal(buf_cstr(&out), "implicit-keep\n");
	assert_true(run("require [\"body\",\"fileinto\"]; if body :content \"application\" "
			":contains \"hidden\" { fileinto \"app\"; }",
	    mp, &out));
	assert_string_equal(buf_cstr(&out), "store app\n");
	assert_true(run("require [\"date\",\"fileinto\",\"variables\"]; if date :originalzone "
			":matches \"date\" \"iso8601\" \"*\" { fileinto \"${1}\"; }",
	    mp, &out));
	assert_string_equal(buf_cstr(&out), "store 2026-12-07T10:00:00+01:00\n");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_spamtest),
	    cmocka_unit_test(test_editheader),
	    cmocka_unit_test(test_nesting_limit),
	    cmocka_unit_test(test_glob),
	    cmocka_unit_test(test_numeric),
	    cmocka_unit_test(test_actions),
	    cmocka_unit_test(test_redirect_limit),
	    cmocka_unit_test(test_enotify),
	    cmocka_unit_test(test_variables_and_flags),
	    cmocka_unit_test(test_subaddress),
	    cmocka_unit_test(test_vacation_rules),
	    cmocka_unit_test(test_duplicate),
	    cmocka_unit_test(test_environment),
	    cmocka_unit_test(test_include),
	    cmocka_unit_test(test_body_and_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
