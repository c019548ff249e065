/*
 * fuzz_cleanup_checks.c - cleanup's header and body checks (the MIME walk
 * and the actions) over hostile messages.
 *
 * The first input byte chooses the chunk size the body is fed in; the
 * rest is a message (header section up to the first empty line).  The
 * tables' rules that edit or decide only match lines with a '~'.  Beyond
 * "no crash, no leak", it checks the contract: a message without '~'
 * (only WARN, INFO, DUNNO match) comes out exactly as it went in,
 * whatever the chunking and the MIME structure.
 */
/* FUZZ_LINK: cleanup/checks.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cleanup/checks.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rules that edit or decide match only lines with a '~'. */
static const char *const tables[] = {
    "/^Subject:/ WARN s\n/^X-D~/ IGNORE\n/^X-P~(.*)/ PREPEND X-Q: $1\n"
    "/^Subject: ~(.*)/ REPLACE Subject: [x] $1\n/^X-R~/ REPLACE bad text\n",
    "/^Content-/ INFO c\n/^Content-Type: a~/ REJECT r\n/^X-~/ STRIP\n",
    "/^Subject:/ WARN nested\n/^From: ~/ REDIRECT a@b\n/^Subject: ~/ DISCARD\n",
    "/^--/ WARN boundary\n/^$/ DUNNO\n/~x/ IGNORE\n/~y/ REPLACE z\n/~p/ PREPEND p\n"
    "/~h/ HOLD\n/~d/ DEFER\n/~f/ FILTER x:y\n",
};
static const char *const params[] = {
    "header_checks", "mime_header_checks", "nested_header_checks", "body_checks"};

/* Once: config_set per run would make every run look like a leak. */
static void fuzz_init(void)
{
	static int done;

	if (done++)
		return;
	log_open("fuzz", LOG_DEST_FILE, "/dev/null");
	for (int i = 0; i < 4; i++) {
		char path[64], spec[80];
		FILE *f;

		snprintf(path, sizeof(path), "/tmp/fuzz-checks-%d-%d.pcre", (int)getpid(), i);
		f = fopen(path, "w");
		if (f == NULL)
			abort();
		fputs(tables[i], f);
		fclose(f);
		snprintf(spec, sizeof(spec), "pcre:%s", path);
		config_set(params[i], spec);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct checks_origin o = {"QID", "s", "r", NULL, NULL, NULL};
	struct buf out = BUF_INIT, in = BUF_INIT;
	struct cleanup_checks *c;
	const char *msg = (const char *)data + 1, *sep;
	size_t len, hlen, boff, step;

	if (size < 1)
		return 0;
	fuzz_init();
	len = size - 1;
	step = (size_t)data[0] + 1;
	/* The header section, then the body after the empty line (which
	 * cleanup consumes: it is in neither). */
	sep = len && msg[0] == '\n' ? msg - 1 : memmem(msg, len, "\n\n", 2);
	hlen = sep ? (size_t)(sep - msg) + 1 : 0;
	boff = sep ? hlen + 1 : 0;
	c = checks_new(&o);
	checks_header(c, msg, hlen, &out);
	for (size_t i = boff; i < len; i += step)
		checks_body(c, msg + i, len - i < step ? len - i : step, &out);
	checks_body_end(c, &out);
	if (memchr(msg, '~', len) == NULL) {
		buf_append(&in, msg, hlen);
		buf_append(&in, msg + boff, len - boff);
		if (checks_verdict(c) != CHECKS_PASS || out.len != in.len ||
		    (out.len && memcmp(out.data, in.data, out.len) != 0))
			abort();
	}
	checks_free(c);
	buf_free(&out);
	buf_free(&in);
	return 0;
}
