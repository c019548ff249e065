/*
 * test_config_check.c - unit tests for lib/config_check.c, the report of
 * every configuration problem with its file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_check.h"
#include "log.h"
#include "util.h"

static char *dir;

static void write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* Loads main.cf and master.cf and returns the report; master.cf gets
 * tern's auth line at its end unless with_auth is false. */
static void check_cf(
    const char *main_cf, const char *master_cf, bool with_auth, struct check_report *r)
{
	struct buf err = BUF_INIT;
	char *text = xasprintf("%s\ndaemon_directory = %s/libexec\n", main_cf, dir);

	write_file("main.cf", text);
	free(text);
	text = xasprintf("%s%s", master_cf, with_auth ? "auth unix - n n - 1 auth\n" : "");
	write_file("master.cf", text);
	free(text);
	config_reset();
	if (config_load(dir, false, &err) < 0)
		fail_msg("%s", buf_cstr(&err));
	buf_free(&err);
	config_check(r);
}

static void check(const char *main_cf, const char *master_cf, struct check_report *r)
{
	check_cf(main_cf, master_cf, true, r);
}

/* The one item whose text contains want; its level and line are checked. */
static void expect(const struct check_report *r, enum check_level level, const char *file, int line,
    const char *want)
{
	const struct check_item *found = NULL;
	char *where = line ? xasprintf("%s/%s:%d", dir, file, line) : NULL;

	for (size_t i = 0; i < r->count; i++) {
		if (strstr(r->items[i].text, want) == NULL)
			continue;
		if (found)
			fail_msg("\"%s\" reported twice", want);
		found = &r->items[i];
	}
	if (found == NULL) {
		for (size_t i = 0; i < r->count; i++)
			fprintf(stderr, "  have: %s\n", r->items[i].text);
		fail_msg("\"%s\" not reported", want);
	}
	assert_int_equal(found->level, level);
	if (where)
		assert_string_equal(found->where, where);
	free(where);
}

static void absent(const struct check_report *r, const char *text)
{
	for (size_t i = 0; i < r->count; i++)
		if (strstr(r->items[i].text, text))
			fail_msg("reported: %s", r->items[i].text);
}

#define MASTER_OK                                                                                  \
	"cleanup unix - - n - 1 cleanup\nqmgr unix - - n - 1 qmgr\nlocal unix - n n - 1 local\n"   \
	"smtp unix - - n - 1 smtp\nrelay unix - - n - 1 smtp\n"

static void test_clean(void **state)
{
	struct check_report r;

	(void)state;
	check("mail_name = x\n", MASTER_OK, &r);
	for (size_t i = 0; i < r.count; i++)
		fail_msg("unexpected: %s", r.items[i].text);
	check_report_free(&r);
}

static void test_parameters(void **state)
{
	struct check_report r;

	(void)state;
	check("# c\nfoo_bar = 1\nmine = a.example\nrelay_domains = $mine\n"
	      "biff = no\ncompatibility_level = 3.6\nappend_dot_mydomain = no\n"
	      "append_dot_mydomain = yes\nvirtual_alias_maps =\ncanonical_maps = texthash:/x\n"
	      "disable_vrfy_command = yes\nrelay_destination_concurrency_limit = 2\n"
	      "lmtp_destination_recipient_limit = 1\nline_length_limit = 2k\n"
	      "soft_bounce = perhaps\nsmtpd_timeout = 5y\nmessage_size_limit = 10MB\n"
	      "dmarc_organizational_domain = psl\nsmtpd_spf_policy = Mark\n"
	      "smtpd_spf_helo_policy = strict\nauth_password_scheme = MD5\n",
	    MASTER_OK, &r);
	expect(&r, CHECK_WARN, "main.cf", 2, "unknown parameter foo_bar");
	expect(&r, CHECK_WARN, "main.cf", 8, "append_dot_mydomain = yes is not supported");
	expect(&r, CHECK_WARN, "main.cf", 10, "canonical_maps = texthash:/x is not supported");
	expect(&r, CHECK_INFO, "main.cf", 11, "disable_vrfy_command: VRFY");
	/* No lmtp service: its per-transport name is unknown. */
	expect(&r, CHECK_WARN, "main.cf", 13, "unknown parameter lmtp_destination_recipient_limit");
	expect(&r, CHECK_ERROR, "main.cf", 14, "line_length_limit = 2k: not a valid number");
	expect(&r, CHECK_ERROR, "main.cf", 15, "soft_bounce = perhaps: not a valid boolean");
	expect(&r, CHECK_ERROR, "main.cf", 16, "smtpd_timeout = 5y: not a valid time");
	expect(&r, CHECK_ERROR, "main.cf", 17, "message_size_limit = 10MB: not a valid size");
	expect(&r, CHECK_ERROR, "main.cf", 18,
	    "dmarc_organizational_domain = psl: not dns_tree_walk or public_suffix_list");
	expect(&r, CHECK_ERROR, "main.cf", 20,
	    "smtpd_spf_helo_policy = strict: not none, mark or reject");
	expect(&r, CHECK_ERROR, "main.cf", 21,
	    "auth_password_scheme = MD5: not a scheme tern can make");
	absent(&r, "smtpd_spf_policy");
	absent(&r, "mine");
	absent(&r, "biff");
	absent(&r, "compatibility_level");
	absent(&r, "virtual_alias_maps");
	absent(&r, "relay_destination");
	assert_int_equal(r.errors, 7);
	assert_int_equal(r.warnings, 4);
	check_report_free(&r);
}

static void test_files_and_restrictions(void **state)
{
	struct check_report r;

	(void)state;
	check("mydestination = localhost, /nonexistent/list\nmyorigin = /nonexistent/name\n"
	      "mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 cidr:/x 300.1.2.3\n"
	      "smtpd_relay_restrictions = permit_mynetworks defer_unauth_destination\n"
	      "smtpd_recipient_restrictions = permit_dnswl_client zen.example, permit\n"
	      "smtpd_sender_restrictions = check_sender_access inline:{ { a@b = REJECT } },\n"
	      "  texthash:/etc/x reject_non_fqdn_hostname reject_nonsense\n"
	      "smtpd_helo_restrictions = reject_unknown_hostname check_helo_access\n"
	      "virtual_alias_maps = inline:{ a@b=c@d }, texthash:/nonexistent/virtual\n",
	    MASTER_OK, &r);
	expect(&r, CHECK_ERROR, "main.cf", 1, "mydestination: cannot read /nonexistent/list");
	expect(&r, CHECK_ERROR, "main.cf", 2, "myorigin: cannot read /nonexistent/name");
	expect(&r, CHECK_WARN, "main.cf", 3, "\"cidr:/x\" is not a network");
	expect(&r, CHECK_WARN, "main.cf", 3, "\"300.1.2.3\" is not a network");
	absent(&r, "defer_unauth_destination");
	expect(&r, CHECK_ERROR, "main.cf", 5,
	    "smtpd_recipient_restrictions: restriction permit_dnswl_client is not implemented");
	absent(&r, "zen.example");
	expect(&r, CHECK_ERROR, "main.cf", 6, "unknown restriction reject_nonsense");
	absent(&r, "inline");
	/* A bare table in a restriction list is a table, opened as one. */
	expect(
	    &r, CHECK_WARN, "main.cf", 6, "smtpd_sender_restrictions: cannot read texthash:/etc/x");
	absent(&r, "reject_non_fqdn_hostname");
	expect(&r, CHECK_ERROR, "main.cf", 8, "restriction check_helo_access needs an argument");
	absent(&r, "reject_unknown_hostname");
	expect(&r, CHECK_WARN, "main.cf", 9,
	    "virtual_alias_maps: cannot read texthash:/nonexistent/virtual");
	check_report_free(&r);
}

/* Tables of *_maps, *_checks and restriction lists are opened as the
 * daemons will: what they would refuse (every look-up a 4xx) is an error. */
static void test_tables(void **state)
{
	struct check_report r;
	char *main_cf;

	(void)state;
	write_file("access.pcre", "/^ok@/ OK\n/^bad(/ REJECT\n");
	write_file("hdr.regexp", "/^Subject: x/ REJECT\n");
	main_cf = xasprintf("smtpd_recipient_restrictions = check_recipient_access "
			    "pcre:%s/access.pcre, permit\n"
			    "header_checks = regexp:%s/hdr.regexp\n"
			    "transport_maps = inline:{ a.test = smtp: }\n"
			    "smtp_tls_policy_maps = cidr:/etc/x\n"
			    "lmtp_sasl_password_maps = texthash:/nonexistent/pw\n"
			    "body_checks = inline:{ { a = b c } }\n"
			    "relay_domains = plain.example, texthash:/nonexistent/relay\n",
	    dir, dir);
	check(main_cf, MASTER_OK "x unix - - n - 1 smtp\n  -o smtp_tls_policy_maps=pcre:/x.pcre\n",
	    &r);
	expect(&r, CHECK_ERROR, "main.cf", 1, "access.pcre:2: bad regex at offset 5");
	absent(&r, "hdr.regexp");
	expect(&r, CHECK_ERROR, "main.cf", 3, "transport_maps: inline:{ a.test = smtp: }: ");
	expect(&r, CHECK_ERROR, "main.cf", 4, "unsupported table type \"cidr\"");
	expect(&r, CHECK_WARN, "main.cf", 5,
	    "lmtp_sasl_password_maps: cannot read texthash:/nonexistent/pw (cannot open table "
	    "/nonexistent/pw: No such file or directory); its look-ups are deferred");
	absent(&r, "body_checks");
	/* A domain list's tables are opened too (resolve looks them up). */
	expect(
	    &r, CHECK_WARN, "main.cf", 7, "relay_domains: cannot read texthash:/nonexistent/relay");
	absent(&r, "plain.example");
	expect(&r, CHECK_WARN, "master.cf", 6, "smtp_tls_policy_maps: cannot read pcre:/x.pcre");
	check_report_free(&r);
	free(main_cf);
}

/* A milter address the client could never connect to is refused now,
 * not at the first message. */
static void test_milter_addresses(void **state)
{
	struct check_report r;

	(void)state;
	check("smtpd_milters = inet:127.0.0.1\n"
	      "non_smtpd_milters = unix:\n",
	    MASTER_OK, &r);
	expect(&r, CHECK_ERROR, "main.cf", 1, "inet:127.0.0.1 (inet:host:port)");
	expect(&r, CHECK_ERROR, "main.cf", 2, "unix: needs a path");
	assert_int_equal(r.errors, 2);
	check_report_free(&r);
	check("smtpd_milters = inet:127.0.0.1:8891, { unix:/run/m.sock, default_action=accept }, "
	      "inet:[::1]:11332\n"
	      /* Postfix's attribute form: "{ name = value }" inside the braces */
	      "non_smtpd_milters = { inet:127.0.0.1:9, { default_action = accept },\n"
	      "  {command_timeout=5s}, content_timeout = 9s }\n",
	    MASTER_OK, &r);
	expect(&r, CHECK_ERROR, "main.cf", 2, "milter setting without '=': content_timeout");
	assert_int_equal(r.errors, 1);
	check_report_free(&r);
	check("smtpd_milters = { inet:127.0.0.1:9, { default_action = accept }, protocol=6 }\n"
	      "non_smtpd_milters = { inet:127.0.0.1:9, { command_timeout = 5 s } }\n",
	    MASTER_OK, &r);
	expect(&r, CHECK_ERROR, "main.cf", 2, "bad milter setting: command_timeout = 5 s");
	assert_int_equal(r.errors, 1);
	check_report_free(&r);
}

/* A Postfix master.cf has no auth line: tern's runs all the same (an
 * info line, line 0); one that names it is left alone. */
static void test_implicit_auth(void **state)
{
	struct check_report r;

	(void)state;
	check_cf("", MASTER_OK, false, &r);
	expect(&r, CHECK_INFO, "master.cf", 0,
	    "service auth: not in master.cf; tern's auth service runs all the same");
	assert_int_equal(r.errors + r.warnings, 0);
	check_report_free(&r);
	check("", MASTER_OK, &r);
	absent(&r, "service auth");
	check_report_free(&r);
}

/* Access table results smtpd does not act on (it would ignore them with
 * a warning at RCPT): an error, one a table; those it does pass. */
static void test_access_results(void **state)
{
	struct check_report r;
	char *cf;

	(void)state;
	write_file("good_access", "a@example.com OK\nb@example.com REJECT go away\n"
				  "c.example 554 no\nd.example DUNNO\ne.example DEFER_IF_PERMIT x\n"
				  "f.example 250 fine\n");
	write_file("bad_access", "a@example.com HOLD\nb@example.com DISCARD\n");
	write_file("subst.pcre", "/^(ok|reject)@/ $1 by rule\n/^x@/ permit_mynetworks\n");
	cf = xasprintf(
	    "smtpd_sender_restrictions = check_sender_access texthash:%s/good_access\n"
	    "smtpd_recipient_restrictions = check_recipient_access texthash:%s/bad_access,"
	    " permit_mynetworks, reject_unauth_destination\n"
	    "smtpd_client_restrictions = pcre:%s/subst.pcre\n",
	    dir, dir, dir);
	check(cf, MASTER_OK, &r);
	expect(&r, CHECK_ERROR, "main.cf", 2, "/bad_access: result \"");
	expect(&r, CHECK_ERROR, "main.cf", 3, "tern does not implement permit_mynetworks");
	assert_int_equal(r.errors, 2);
	check_report_free(&r);
	free(cf);
}

static void test_master_cf(void **state)
{
	struct check_report r;

	(void)state;
	check("default_transport = nosuch\n",
	    MASTER_OK "tlsmgr unix - - y 1000? 1 tlsmgr\npostlog unix-dgram n - n - 1 postlogd\n"
		      "policy unix - n n - 0 spawn\n2525 inet n - n - 1 postscreen\n"
		      "x unix - - n - 1 smtp\n  -o unknown_thing=1\n  -o smtp_helo_timeout=9zz\n"
		      "y unix - - n - 1 smtp -o bad\n",
	    &r);
	expect(&r, CHECK_INFO, "master.cf", 6, "service tlsmgr (unix, tlsmgr): skipped");
	expect(&r, CHECK_INFO, "master.cf", 7, "service postlog (unix-dgram, postlogd): skipped");
	expect(&r, CHECK_WARN, "master.cf", 8, "service policy (unix, spawn): not served");
	/* A port nobody would serve: an error, start is refused. */
	expect(&r, CHECK_ERROR, "master.cf", 9, "service 2525 (inet, postscreen): not served");
	expect(&r, CHECK_WARN, "master.cf", 10, "unknown parameter unknown_thing");
	expect(&r, CHECK_ERROR, "master.cf", 10, "smtp_helo_timeout = 9zz");
	expect(&r, CHECK_ERROR, "master.cf", 13, "bad -o argument \"bad\"");
	expect(&r, CHECK_WARN, "main.cf", 1, "no master.cf service runs transport nosuch");
	check_report_free(&r);
	/* A transport left at its default is named as such. */
	check("", "cleanup unix - - n - 1 cleanup\n", &r);
	expect(&r, CHECK_WARN, NULL, 0, "default_transport = smtp (the default)");
	check_report_free(&r);
	check("", "a inet - - - - - x y\nb fifo2 - - - - - x\n", &r);
	expect(&r, CHECK_ERROR, NULL, 0, "master.cf:2: unsupported service type");
	check_report_free(&r);
}

/* pipe(8) services: what the daemon would refuse is an error now. */
static void test_pipe_attributes(void **state)
{
	struct check_report r;

	(void)state;
	check("",
	    MASTER_OK "p1 unix - n n - - pipe flags=DRZ user=nobody argv=/bin/cat\n"
		      "p2 unix - n n - - pipe flags=DRhu user=nobody\n"
		      "p3 unix - n n - - pipe flags=R argv=/bin/cat\n"
		      "p4 unix - n n - - pipe user=root argv=/bin/cat\n"
		      "p5 unix - n n - - pipe user=no-such-user-here argv=/bin/cat\n"
		      "p6 unix - n n - - pipe -v -o max_idle=9 flags=Rq. user=nobody\n"
		      "  argv=/bin/cat -d ${recipient}\n"
		      "p7 unix - n n - - pipe bogus=1 user=nobody argv=/bin/cat\n"
		      "p8 unix - n n - - pipe size=12k user=nobody argv=/bin/cat\n",
	    &r);
	expect(&r, CHECK_ERROR, "master.cf", 6, "service p1 (pipe): flags=: unknown flag 'Z'");
	expect(&r, CHECK_ERROR, "master.cf", 7, "service p2 (pipe): missing argv=");
	expect(&r, CHECK_ERROR, "master.cf", 8, "service p3 (pipe): missing user=");
	expect(&r, CHECK_ERROR, "master.cf", 9, "service p4 (pipe): user=root: commands are never");
	/* An unknown user defers its mail (Debian's stock maildrop line): info. */
	expect(&r, CHECK_INFO, "master.cf", 10, "service p5 (pipe): user=no-such-user-here");
	absent(&r, "service p6");
	expect(&r, CHECK_ERROR, "master.cf", 13, "service p7 (pipe): unknown or bad attribute");
	expect(&r, CHECK_ERROR, "master.cf", 14, "service p8 (pipe): size=12k: not a number");
	check_report_free(&r);
	/* Mail routed to it by a *_transport parameter: the unknown user is an error. */
	check("local_transport = p5\n",
	    MASTER_OK "p5 unix - n n - - pipe user=no-such-user-here argv=/bin/cat\n", &r);
	expect(&r, CHECK_ERROR, "master.cf", 6,
	    "service p5 (pipe): user=no-such-user-here: unknown user (local_transport routes");
	check_report_free(&r);
	/* ... or a result of transport_maps (a key/value, pcre: or inline: table). */
	write_file("transport", "lists.example.org p5:\nother.example smtp:[relay]\n");
	write_file("transport.pcre", "/^owner-/ p6:x\n/^(.+)@/ p5:$1\n");
	static const char *const routes[] = {
	    "transport_maps = texthash:%s/transport\n",
	    "transport_maps = pcre:%s/transport.pcre\n",
	    "transport_maps = inline:{ a.example=smtp:, b.example=p5 }\n",
	    "transport_maps = static:p5\n",
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		char *cf = xasprintf(routes[i], dir);

		check(cf, MASTER_OK "p5 unix - n n - - pipe user=no-such-user-here argv=/bin/cat\n",
		    &r);
		expect(&r, CHECK_ERROR, "master.cf", 6,
		    "service p5 (pipe): user=no-such-user-here: unknown user (transport_maps "
		    "routes");
		check_report_free(&r);
		free(cf);
	}
	/* a table that routes elsewhere leaves it an info line */
	write_file("transport", "other.example p55:\nx.example smtp:[p5]\n");
	{
		char *cf = xasprintf("transport_maps = texthash:%s/transport\n", dir);

		check(cf, MASTER_OK "p5 unix - n n - - pipe user=no-such-user-here argv=/bin/cat\n",
		    &r);
		expect(&r, CHECK_INFO, "master.cf", 6, "service p5 (pipe): user=no-such-user-here");
		check_report_free(&r);
		free(cf);
	}
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/test_config_check.XXXXXX";

	(void)state;
	static const char *const programs[] = {
	    "cleanup", "qmgr", "local", "smtp", "pipe", "auth", NULL};

	char *libexec;

	dir = xstrdup(mkdtemp(tmpl));
	/* The programs master would run, as daemon_directory holds them. */
	libexec = xasprintf("%s/libexec", dir);
	assert_int_equal(mkdir(libexec, 0755), 0);
	for (int i = 0; programs[i]; i++) {
		char *name = xasprintf("libexec/%s", programs[i]);
		char *path = xasprintf("%s/%s", dir, name);

		write_file(name, "#!/bin/sh\n");
		assert_int_equal(chmod(path, 0755), 0);
		free(name);
		free(path);
	}
	free(libexec);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	(void)state;
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(dir);
	config_reset();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_parameters),
	    cmocka_unit_test(test_files_and_restrictions),
	    cmocka_unit_test(test_master_cf),
	    cmocka_unit_test(test_milter_addresses),
	    cmocka_unit_test(test_implicit_auth),
	    cmocka_unit_test(test_access_results),
	    cmocka_unit_test(test_pipe_attributes),
	    cmocka_unit_test(test_tables),
	};

	log_open("test_config_check", LOG_DEST_FILE, "/dev/null");
	return cmocka_run_group_tests(tests, setup, teardown);
}
