/*
 * dkim_body.c - the DKIM body hash over a body that arrives in pieces.
 *
 * The same canonicalisations as dkim_canon_body (RFC 6376 3.4.3, 3.4.4),
 * as a state machine over bytes, so cleanup can hash a message while it
 * streams to the queue file without holding it: a LF (or CRLF) ends a
 * line, a CR not followed by LF is content; empty lines are only counted
 * and written out when a non-empty line follows (trailing empty lines
 * go); relaxed keeps a pending space for a run of blanks and writes it
 * only before further content (blanks at line ends go).  The canonical
 * bytes go into SHA-256, the first l= of them when l= is given; the
 * length of the whole canonical body is counted so a body that goes on
 * past l= can be told.
 *
 * tests/lib/msgauth/test_dkim.c checks it against dkim_canon_body over
 * many splits of many bodies.
 */
#include <string.h>

#include "log.h"
#include "msgauth/dkim.h"
#include "util.h"

void dkim_body_init(struct dkim_body *b, enum dkim_canon c, long long limit)
{
	memset(b, 0, sizeof(*b));
	b->canon = c;
	b->limit = limit;
	b->md = EVP_MD_CTX_new();
	if (b->md == NULL || EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1)
		log_fatal("dkim: cannot set up SHA-256");
}

void dkim_body_free(struct dkim_body *b)
{
	EVP_MD_CTX_free(b->md);
	b->md = NULL;
}

/* Canonical bytes out: counted, and hashed up to the limit. */
static void dkim_body_out(struct dkim_body *b, const char *p, size_t n)
{
	size_t take = n;

	if (b->limit >= 0) {
		unsigned long long room = b->total >= (unsigned long long)b->limit
					      ? 0
					      : (unsigned long long)b->limit - b->total;
		if (take > room)
			take = (size_t)room;
	}
	if (take > 0)
		EVP_DigestUpdate(b->md, p, take);
	b->total += n;
}

/* Content is coming on this line: the empty lines before it are real. */
static void dkim_body_content(struct dkim_body *b, char ch, char *out, size_t *k)
{
	if (!b->in_line) {
		for (; b->empty > 0; b->empty--) {
			dkim_body_out(b, out, *k);
			*k = 0;
			dkim_body_out(b, "\r\n", 2);
		}
		b->in_line = true;
	}
	if (b->space) {
		out[(*k)++] = ' ';
		b->space = false;
	}
	out[(*k)++] = ch;
}

#define DKIM_BODY_CHUNK 4096

void dkim_body_update(struct dkim_body *b, const char *p, size_t len)
{
	char out[DKIM_BODY_CHUNK + 8];
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = p[i];

		if (k >= DKIM_BODY_CHUNK) {
			dkim_body_out(b, out, k);
			k = 0;
		}
		if (ch == '\n') {
			b->cr = false;
			b->space = false;
			if (b->in_line) {
				out[k++] = '\r';
				out[k++] = '\n';
			} else {
				b->empty++;
			}
			b->in_line = false;
			continue;
		}
		if (b->cr) { /* the CR before was content */
			b->cr = false;
			dkim_body_content(b, '\r', out, &k);
		}
		if (ch == '\r') {
			b->cr = true;
		} else if (b->canon == DKIM_RELAXED && (ch == ' ' || ch == '\t')) {
			b->space = true;
		} else {
			dkim_body_content(b, ch, out, &k);
		}
	}
	dkim_body_out(b, out, k);
}

void dkim_body_final(struct dkim_body *b, unsigned char hash[32])
{
	unsigned int n = 32;

	/* A CR that ends the body ends its last line (as dkim_canon_body). */
	b->cr = false;
	if (b->in_line) /* a last line without its line end gets one */
		dkim_body_out(b, "\r\n", 2);
	else if (b->total == 0 && b->canon == DKIM_SIMPLE)
		dkim_body_out(b, "\r\n", 2);
	b->in_line = false;
	EVP_DigestFinal_ex(b->md, hash, &n);
}
