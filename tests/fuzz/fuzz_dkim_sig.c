/*
 * fuzz_dkim_sig.c - libFuzzer harness for lib/msgauth's DKIM parsers.
 *
 * The first byte picks what the rest is: a DKIM-Signature value
 * (dkim_sig_parse: a parsed signature has d=, s=, a From in h= and a
 * 32-byte body hash), a key record (dkim_key_parse), a header field and a
 * body for the canonicalisations (the value of a field in relaxed form never
 * holds a tab or two spaces in a row), or a whole message for dkim_verify with a fixed
 * Ed25519 key (any outcome, but one per DKIM-Signature field and never a
 * pass without a signature field's domain).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "msgauth/dkim.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum dns_status fuzz_lookup(void *ctx, const char *name, char ***txt, size_t *n)
{
	(void)ctx;
	(void)name;
	*txt = xcalloc(2, sizeof(char *));
	(*txt)[0] = xstrdup("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
	*n = 1;
	return DNS_OK;
}

static void fuzz_sig(const char *s, size_t len)
{
	struct dkim_sig sig;
	struct buf err = BUF_INIT;
	bool from = false;

	if (dkim_sig_parse(s, len, &sig, &err) == 0) {
		for (size_t i = 0; i < sig.nh; i++)
			from = from || strcasecmp(sig.h[i], "from") == 0;
		if (!from || sig.d == NULL || sig.s == NULL || sig.bh.len != 32)
			abort();
		dkim_sig_free(&sig);
	}
	buf_free(&err);
}

static void fuzz_key(const char *s, size_t len)
{
	struct dkim_key k;
	struct buf err = BUF_INIT;

	if (dkim_key_parse(s, len, &k, &err) == 0)
		dkim_key_free(&k);
	buf_free(&err);
}

static void fuzz_canon(const char *s, size_t len)
{
	struct buf out = BUF_INIT;

	dkim_canon_header(DKIM_RELAXED, s, len, &out);
	/* The value's part (a "field" without a colon passes unchanged). */
	const char *v = memchr(s, ':', len) ? memchr(out.data, ':', out.len) : NULL;
	size_t vlen = v ? out.len - (size_t)(v - out.data) : 0;
	if (v && (memchr(v, '\t', vlen) || memmem(v, vlen, "  ", 2)))
		abort();
	buf_reset(&out);
	dkim_canon_body(DKIM_RELAXED, s, len, &out);
	buf_reset(&out);
	dkim_canon_body(DKIM_SIMPLE, s, len, &out);
	if (out.len < 2 || memcmp(out.data + out.len - 2, "\r\n", 2) != 0)
		abort();
	buf_free(&out);
}

static void fuzz_verify(const char *s, size_t len)
{
	struct dkim_outcome *o;
	size_t n;

	dkim_verify(s, len, 0, fuzz_lookup, NULL, &o, &n);
	for (size_t i = 0; i < n; i++)
		if (o[i].result == DKIM_PASS && o[i].domain == NULL)
			abort();
	dkim_outcomes_free(o, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = xmemdup(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0: fuzz_sig(s, size - 1); break;
	case 1: fuzz_key(s, size - 1); break;
	case 2: fuzz_canon(s, size - 1); break;
	default: fuzz_verify(s, size - 1); break;
	}
	free(s);
	return 0;
}
