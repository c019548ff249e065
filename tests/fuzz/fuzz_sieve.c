/*
 * fuzz_sieve.c - lib/sieve over hostile scripts: lexer, parser, checker,
 * and, for a script that compiles, a run against a fixed message with
 * every callback answering.
 *
 * Beyond "no crash, no leak, no hang" (the :matches matcher is linear,
 * nesting and includes are bounded), it checks the contracts: a script
 * that fails to compile says why with a line number, a run fills a
 * result whose formatted form is not empty (at least the implicit keep
 * or an action), a failed run keeps the message, and a header edited by
 * editheader never holds an empty line (a script cannot end the header
 * section nor start a field through a value).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sieve/sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char msg[] = "From: Alice <alice@example.org>\n"
			  "To: bob+box@example.net, \"C\" <c@d.example>\n"
			  "Subject: =?UTF-8?Q?caf=C3=A9?= report\n"
			  "Date: Mon, 7 Dec 2026 10:00:00 +0100\n"
			  "Received: from x by y; Mon, 7 Dec 2026 09:00:00 +0000\n"
			  "Message-ID: <id@example.org>\n"
			  "X-Spam-Score: 4.5 (of 10)\n"
			  "Content-Type: multipart/mixed; boundary=b\n"
			  "\n"
			  "--b\n"
			  "Content-Type: text/plain\n"
			  "\n"
			  "hello body\n"
			  "--b--\n";

static bool fz_exists(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "INBOX") == 0;
}

static bool fz_track(void *ctx, const char *id)
{
	(void)ctx;
	return id[0] < '8';
}

static bool fz_include(void *ctx, const char *name, bool global, struct buf *text)
{
	(void)ctx;
	(void)global;
	if (strcmp(name, "loop") == 0) {
		buf_puts(text, "require \"include\"; include \"loop\";");
		return true;
	}
	if (strcmp(name, "sub") == 0) {
		buf_puts(text, "require \"fileinto\"; fileinto \"sub\";");
		return true;
	}
	return false;
}

static const char *fz_setting(const char *name, void *ctx)
{
	(void)ctx;
	if (strcmp(name, "sieve_spamtest_status_header") == 0)
		return "X-Spam-Score: ^(-?[0-9.]+)";
	if (strcmp(name, "sieve_spamtest_max_value") == 0)
		return "10";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sieve_scoretest *spam;
	static bool loaded;
	struct buf errors = BUF_INIT, out = BUF_INIT;
	struct sieve_env env = {0};
	struct sieve_result res;
	struct sieve_script *s;

	if (size > 16384)
		return 0;
	s = sieve_compile((const char *)data, size, "fuzz", &errors);
	if (s == NULL) {
		if (strstr(buf_cstr(&errors), "fuzz: ") == NULL)
			abort();
		buf_free(&errors);
		return 0;
	}
	env.envelope_from = "alice@example.org";
	env.envelope_to = "bob@example.net";
	env.now = 1796601600;
	env.mailbox_exists = fz_exists;
	env.track_check = fz_track;
	env.include_load = fz_include;
	if (!loaded) {
		loaded = true;
		if (!sieve_scoretest_load(false, fz_setting, NULL, &spam, &errors))
			abort();
	}
	env.spamtest = spam;
	if (!sieve_execute(s, msg, sizeof(msg) - 1, &env, &res) &&
	    (!res.failed || !res.implicit_keep || res.nactions != 0))
		abort();
	if (res.header && (strlen(res.header) != res.header_len || strstr(res.header, "\n\n") ||
			      res.header[0] == '\n' || res.header[res.header_len - 1] != '\n'))
		abort();
	sieve_result_format(&res, &out);
	if (out.len == 0 && res.nactions == 0 && res.implicit_keep)
		abort();
	sieve_result_free(&res);
	sieve_script_free(s);
	buf_free(&errors);
	buf_free(&out);
	return 0;
}
