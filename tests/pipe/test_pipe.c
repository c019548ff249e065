/*
 * test_pipe.c - the pipe agent's pure parts: master.cf attributes
 * (flags=, user=, argv= taking every following word, size=, eol= escapes,
 * directory=, null_sender=, and the errors for anything else) and the
 * macro expansion (every macro, u/h/q folding and quoting, one word per
 * recipient, conditionals, "$$", unknown macros refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "../../pipe/pipe.h"
#include "buf.h"
#include "config.h"
#include "util.h"

static int parse(const char *const *words, struct pipe_conf *c, struct buf *err)
{
	buf_reset(err);
	return pipe_conf_parse((char *const *)words, c, err);
}

static void test_args(void **state)
{
	const char *debian[] = {"flags=DRXhu.>BFOq", "user=vmail:mail", "size=1000", "eol=\\r\\n",
	    "directory=/tmp", "null_sender=", "argv=/usr/bin/maildrop", "-d", "${recipient}", NULL};
	struct pipe_conf c;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(parse(debian, &c, &err), 0);
	assert_int_equal(c.flags, 0x7ff);
	assert_string_equal(c.user, "vmail");
	assert_string_equal(c.group, "mail");
	assert_int_equal(c.size_limit, 1000);
	assert_string_equal(c.eol, "\r\n");
	assert_string_equal(c.directory, "/tmp");
	assert_string_equal(c.null_sender, "");
	assert_int_equal(strv_len(c.argv), 3);
	assert_string_equal(c.argv[0], "/usr/bin/maildrop");
	assert_string_equal(c.argv[1], "-d");
	assert_string_equal(c.argv[2], "${recipient}");
	pipe_conf_free(&c);

	const char *plain[] = {"user=nobody", "argv=/bin/cat", NULL};
	assert_int_equal(parse(plain, &c, &err), 0);
	assert_int_equal(c.flags, 0);
	assert_string_equal(c.eol, "\n");
	assert_string_equal(c.null_sender, "MAILER-DAEMON");
	assert_null(c.group);
	assert_null(c.directory);
	pipe_conf_free(&c);

	const char *badflag[] = {"flags=DZ", "user=x", "argv=/bin/cat", NULL};
	assert_int_equal(parse(badflag, &c, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "'Z'"));
	pipe_conf_free(&c);
	const char *nouser[] = {"argv=/bin/cat", NULL};
	assert_int_equal(parse(nouser, &c, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "user="));
	pipe_conf_free(&c);
	const char *noargv[] = {"user=x", NULL};
	assert_int_equal(parse(noargv, &c, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "argv="));
	pipe_conf_free(&c);
	const char *unknown[] = {"user=x", "colour=red", "argv=/bin/cat", NULL};
	assert_int_equal(parse(unknown, &c, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "colour=red"));
	pipe_conf_free(&c);
	const char *badsize[] = {"user=x", "size=10k", "argv=/bin/cat", NULL};
	assert_int_equal(parse(badsize, &c, &err), -1);
	pipe_conf_free(&c);
	buf_free(&err);
}

static char **expand(const char *const *argv, const struct pipe_vars *v)
{
	struct buf err = BUF_INIT;
	char **out = pipe_expand_argv((char *const *)argv, v, &err);

	if (out == NULL)
		fail_msg("%s", buf_cstr(&err));
	buf_free(&err);
	return out;
}

static void assert_words(char **got, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_null(got[i]);
	strv_free(got);
}

static void test_expand(void **state)
{
	const char *rcpts[] = {"Joe+Lists@Example.COM", "ann@b.example"};
	const char *orcpts[] = {"rfc822;joe@old.example", NULL};
	struct pipe_vars v = {
	    "s@x.example", "Hop.Example", "QID1", 1234, rcpts, orcpts, 1, 0, "MAILER-DAEMON"};
	const char *all[] = {"-f", "${sender}", "$recipient", "$(user)", "${extension}",
	    "${mailbox}", "${domain}", "${nexthop}", "${size}", "${queue_id}",
	    "${original_recipient}", "x${client_address}y", "$$", NULL};

	(void)state;
	assert_int_equal(config_override("recipient_delimiter=+"), 0);
	assert_words(expand(all, &v), (const char *[]){"-f", "s@x.example", "Joe+Lists@Example.COM",
					  "Joe", "Lists", "Joe+Lists", "Example.COM", "Hop.Example",
					  "1234", "QID1", "joe@old.example", "xy", "$", NULL});
	/* u folds local parts, h domains and the next hop. */
	v.flags = PIPE_FLAG_FOLD_USER | PIPE_FLAG_FOLD_HOST;
	assert_words(
	    expand((const char *[]){"${recipient}", "${user}", "${extension}", "${nexthop}", NULL},
		&v),
	    (const char *[]){"joe+lists@example.com", "joe", "Lists", "hop.example", NULL});
	/* A word with a recipient macro is repeated per recipient. */
	v.nrcpt = 2;
	v.flags = 0;
	assert_words(expand((const char *[]){"-d", "to=${recipient}", "${sender}", NULL}, &v),
	    (const char *[]){
		"-d", "to=Joe+Lists@Example.COM", "to=ann@b.example", "s@x.example", NULL});
	assert_words(
	    expand((const char *[]){"${extension?+${extension}}", "${extension:none}", NULL}, &v),
	    (const char *[]){"+Lists", "", "", "none", NULL});
	/* The null sender, and q quoting a local part that needs it. */
	v.sender = "";
	v.nrcpt = 1;
	assert_words(expand((const char *[]){"${sender}", NULL}, &v),
	    (const char *[]){"MAILER-DAEMON", NULL});
	rcpts[0] = "a b@c.example";
	v.flags = PIPE_FLAG_QUOTE;
	assert_words(expand((const char *[]){"${recipient}", NULL}, &v),
	    (const char *[]){"\"a b\"@c.example", NULL});
	config_reset();
}

static void test_expand_refuses(void **state)
{
	const char *rcpts[] = {"a@b"};
	struct pipe_vars v = {"", "", "", 0, rcpts, NULL, 1, 0, ""};
	const char *bad[][2] = {{"${bogus}", NULL}, {"${recipient", NULL}, {"$(sender}", NULL},
	    {"${user?abc", NULL}, {"$", NULL}};
	struct buf err = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char **out = pipe_expand_argv((char *const *)bad[i], &v, &err);

		if (i == 4) { /* a lone '$' at the end is a '$' */
			assert_non_null(out);
			assert_string_equal(out[0], "$");
			strv_free(out);
			continue;
		}
		if (out != NULL)
			fail_msg("accepted %s", bad[i][0]);
		assert_true(err.len > 0);
		buf_reset(&err);
	}
	buf_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_expand),
	    cmocka_unit_test(test_expand_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
