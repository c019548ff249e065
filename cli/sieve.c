/*
 * sieve.c - "tern sieve": check a Sieve script, or run one on a message,
 * as Pigeonhole's sievec and sieve-test do, with lib/sieve.
 *
 *   tern sieve check SCRIPT...
 *       compiles each script; prints the errors ("NAME: line N: error:
 *       ...") and exits 1 when one does not compile.
 *   tern sieve test [-f SENDER] [-r RECIPIENT] [-a ORIG-RECIPIENT]
 *                   [-m EXISTING-FOLDER]... [-o NAME=VALUE]... SCRIPT MESSAGE
 *       runs SCRIPT on the message file and prints the actions, one a line
 *       (store FOLDER [flags=...], redirect ADDR, reject TEXT, discard,
 *       vacation ..., implicit-keep), then "# vacation: ..." lines saying
 *       whether a reply would be sent.  Nothing is delivered or sent.
 *       Exits 1 when the script does not compile.  -o sets one of the
 *       sieve_spamtest_* / sieve_virustest_* parameters (main.cf(5)) for
 *       the spamtest and virustest tests.
 *
 * Reads no configuration: it works on files, for users and for
 * tests/sieve/run_diff.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "sieve/sieve.h"
#include "tern.h"
#include "util.h"

#define SIEVE_CLI_BOXES 64

struct sieve_cli {
	const char *boxes[SIEVE_CLI_BOXES];
	int nboxes;
	char *opts[SIEVE_CLI_BOXES]; /* -o NAME=VALUE */
	int nopts;
};

static const char *sieve_cli_opt(const char *name, void *ctx)
{
	const struct sieve_cli *c = ctx;
	size_t n = strlen(name);

	for (int i = c->nopts - 1; i >= 0; i--)
		if (strncmp(c->opts[i], name, n) == 0 && c->opts[i][n] == '=')
			return c->opts[i] + n + 1;
	return NULL;
}

static bool sieve_cli_exists(void *ctx, const char *name)
{
	const struct sieve_cli *c = ctx;

	for (int i = 0; i < c->nboxes; i++)
		if (strcmp(c->boxes[i], name) == 0)
			return true;
	return false;
}

static bool sieve_cli_read(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (f == NULL) {
		perror(path);
		return false;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
	return true;
}

/* "dir/name.sieve" -> "name", as Pigeonhole names a script in errors. */
static char *sieve_cli_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *name = xstrdup(base ? base + 1 : path);
	char *dot = strrchr(name, '.');

	if (dot && strcmp(dot, ".sieve") == 0)
		*dot = 0;
	return name;
}

/* The compiled script of path, or NULL with the errors printed. */
static struct sieve_script *sieve_cli_compile(const char *path)
{
	struct buf text = BUF_INIT, errors = BUF_INIT;
	struct sieve_script *s = NULL;
	char *name = sieve_cli_name(path);

	if (sieve_cli_read(path, &text)) {
		s = sieve_compile(text.data ? text.data : "", text.len, name, &errors);
		fputs(buf_cstr(&errors), stdout);
	}
	buf_free(&text);
	buf_free(&errors);
	free(name);
	return s;
}

static int sieve_cli_check(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: tern sieve check SCRIPT...\n");
		return EX_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		struct sieve_script *s = sieve_cli_compile(argv[i]);

		if (s == NULL)
			rc = 1;
		sieve_script_free(s);
	}
	return rc;
}

static int sieve_cli_test(int argc, char **argv)
{
	struct sieve_cli cli = {.nboxes = 0};
	struct sieve_scoretest *spam = NULL, *virus = NULL;
	struct buf err = BUF_INIT;
	struct sieve_env env = {0};
	struct buf msg = BUF_INIT, out = BUF_INIT;
	struct sieve_result res;
	struct sieve_script *s;
	int c;

	env.envelope_from = "sender@example.org";
	env.envelope_to = "recipient@example.net";
	env.ctx = &cli;
	env.mailbox_exists = sieve_cli_exists;
	optind = 1;
	while ((c = getopt(argc, argv, "f:r:a:m:o:")) != -1) {
		switch (c) {
		case 'f': env.envelope_from = optarg; break;
		case 'r': env.envelope_to = optarg; break;
		case 'a': env.orig_to = optarg; break;
		case 'm':
			if (cli.nboxes < SIEVE_CLI_BOXES)
				cli.boxes[cli.nboxes++] = optarg;
			break;
		case 'o':
			if (cli.nopts < SIEVE_CLI_BOXES)
				cli.opts[cli.nopts++] = optarg;
			break;
		default: optind = argc + 1; break;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: tern sieve test [-f SENDER] [-r RECIPIENT] [-a ORIG] "
				"[-m FOLDER]... [-o NAME=VALUE]... SCRIPT MESSAGE\n");
		return EX_USAGE;
	}
	if (!sieve_scoretest_load(false, sieve_cli_opt, &cli, &spam, &err) ||
	    !sieve_scoretest_load(true, sieve_cli_opt, &cli, &virus, &err)) {
		fprintf(stderr, "tern sieve test: %s\n", buf_cstr(&err));
		sieve_scoretest_free(spam);
		buf_free(&err);
		return EX_USAGE;
	}
	env.spamtest = spam;
	env.virustest = virus;
	s = NULL;
	if (!sieve_cli_read(argv[optind + 1], &msg) ||
	    (s = sieve_cli_compile(argv[optind])) == NULL) {
		int rc = s == NULL && access(argv[optind + 1], R_OK) != 0 ? EX_NOINPUT : 1;

		sieve_scoretest_free(spam);
		sieve_scoretest_free(virus);
		buf_free(&msg);
		return rc;
	}
	sieve_execute(s, msg.data ? msg.data : "", msg.len, &env, &res);
	if (res.failed)
		fputs(buf_cstr(&res.errors), stdout);
	sieve_result_format(&res, &out);
	for (size_t i = 0; i < res.nactions; i++)
		if (res.actions[i].type == SIEVE_ACT_VACATION)
			buf_printf(&out, "# vacation: %s\n",
			    res.actions[i].suppressed ? res.actions[i].suppressed : "reply");
	fputs(buf_cstr(&out), stdout);
	sieve_result_free(&res);
	sieve_script_free(s);
	sieve_scoretest_free(spam);
	sieve_scoretest_free(virus);
	buf_free(&msg);
	buf_free(&out);
	return 0;
}

int cmd_sieve(const char *confdir, int argc, char **argv)
{
	(void)confdir;
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return sieve_cli_check(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return sieve_cli_test(argc - 1, argv + 1);
	fprintf(stderr, "usage: tern sieve check SCRIPT... | tern sieve test [options] SCRIPT "
			"MESSAGE\n");
	return EX_USAGE;
}
