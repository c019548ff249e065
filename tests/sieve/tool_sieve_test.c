/*
 * tool_sieve_test.c - runs a Sieve script on a message with lib/sieve,
 * the counterpart of Pigeonhole's sieve-test for tests/sieve/run_diff.py.
 *
 *   tool_sieve_test [-f sender] [-r recipient] [-a orig-recipient]
 *                   [-m existing-mailbox]... [-t tracked-id]...
 *                   script message
 *
 * Prints the compile errors and exits 1 when the script does not
 * compile; else prints the result, one action a line
 * (sieve_result_format), and "# vacation: ..." lines saying whether a
 * reply would be sent, and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "sieve/sieve.h"
#include "util.h"

static char *boxes[64], *tracked[64];
static int nboxes, ntracked;

static bool tool_mailbox_exists(void *ctx, const char *name)
{
	(void)ctx;
	for (int i = 0; i < nboxes; i++)
		if (strcmp(boxes[i], name) == 0)
			return true;
	return false;
}

static bool tool_track_check(void *ctx, const char *id)
{
	(void)ctx;
	for (int i = 0; i < ntracked; i++)
		if (strcmp(tracked[i], id) == 0)
			return true;
	return false;
}

static bool tool_read(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return false;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
	return true;
}

/* "dir/name.sieve" -> "name", as Pigeonhole names a script in errors. */
static char *tool_script_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *name = xstrdup(base ? base + 1 : path);
	char *dot = strrchr(name, '.');

	if (dot && strcmp(dot, ".sieve") == 0)
		*dot = 0;
	return name;
}

int main(int argc, char **argv)
{
	struct sieve_env env = {0};
	struct buf script = BUF_INIT, msg = BUF_INIT, errors = BUF_INIT, out = BUF_INIT;
	struct sieve_result res;
	struct sieve_script *s;
	char *name;
	int c;

	env.envelope_from = "sender@example.org";
	env.envelope_to = "recipient@example.net";
	env.mailbox_exists = tool_mailbox_exists;
	env.track_check = tool_track_check;
	while ((c = getopt(argc, argv, "f:r:a:m:t:")) != -1) {
		switch (c) {
		case 'f': env.envelope_from = optarg; break;
		case 'r': env.envelope_to = optarg; break;
		case 'a': env.orig_to = optarg; break;
		case 'm':
			if (nboxes < 64)
				boxes[nboxes++] = optarg;
			break;
		case 't':
			if (ntracked < 64)
				tracked[ntracked++] = optarg;
			break;
		default:
			fprintf(stderr,
			    "usage: %s [-f from] [-r to] [-a orig] [-m box] [-t id] script "
			    "message\n",
			    argv[0]);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: %s [options] script message\n", argv[0]);
		return 2;
	}
	if (!tool_read(argv[optind], &script) || !tool_read(argv[optind + 1], &msg)) {
		perror("read");
		return 2;
	}
	name = tool_script_name(argv[optind]);
	s = sieve_compile(script.data ? script.data : "", script.len, name, &errors);
	if (s == NULL) {
		fputs(buf_cstr(&errors), stdout);
		return 1;
	}
	sieve_execute(s, msg.data ? msg.data : "", msg.len, &env, &res);
	if (res.failed)
		fputs(buf_cstr(&res.errors), stdout);
	sieve_result_format(&res, &out);
	for (size_t i = 0; i < res.nactions; i++)
		if (res.actions[i].type == SIEVE_ACT_VACATION)
			buf_printf(&out, "# vacation: %s (id %s)\n",
			    res.actions[i].suppressed ? res.actions[i].suppressed : "reply",
			    res.actions[i].track_id);
	fputs(buf_cstr(&out), stdout);
	sieve_result_free(&res);
	sieve_script_free(s);
	free(name);
	buf_free(&script);
	buf_free(&msg);
	buf_free(&errors);
	buf_free(&out);
	return 0;
}
