/*
 * imap/search.h - SEARCH evaluation: a parsed search (imap/args.h) over
 * one message at a time, as a pure function of what the message accessor
 * tells (flags, keywords, dates, sizes, modseq) and of the message bytes
 * it reads (header and body keys: RFC 2047 words decoded, bodies decoded
 * from their transfer encoding and charset, i;unicode-casemap substring
 * as RFC 9051 6.4.4 asks).
 *
 * imap_search_prepare() once per command: converts the key strings from
 * the CHARSET to UTF-8 and to their casemap form, resolves "*" in
 * sequence sets, and takes the saved result for "$"; false with *err
 * "[BADCHARSET]" text for an unknown charset.  imap_search_match() per
 * message: the cheap keys are tried first, and the message is read only
 * when the answer depends on its content, in one streaming pass (memory:
 * a read buffer, one header section and the longest search string, never
 * the message).
 *
 * Dates: BEFORE/ON/SINCE compare the internal date's day in its own zone;
 * SENT* the Date: header's day in its zone, 1-Jan-1970 when the header is
 * missing or invalid (as Dovecot 2.3; see search.c).  The casemap form does not
 * decompose (see mime/casemap.h).
 */
#ifndef TERN_IMAP_SEARCH_H
#define TERN_IMAP_SEARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "args.h"
#include "buf.h"

struct imap_search_msg {
	uint32_t seq, uid;
	uint64_t modseq;
	time_t internaldate;
	int internal_tz; /* minutes east */
	uint64_t size;	 /* RFC822.SIZE */
	bool sent_set;	 /* the index knows the Date: header's value */
	time_t sent;
	int sent_tz;
	/* Is this flag ("\Seen", "\Recent", a keyword) set?  Any case. */
	bool (*has_flag)(void *ctx, const char *flag);
	/* Reads message bytes at offset; returns the count, 0 at the end,
	 * -1 on error (the message then does not match content keys). */
	ssize_t (*read)(void *ctx, uint64_t offset, char *buf, size_t n);
	/* Appends the named fields of the top header, in the message's
	 * order, as header text (mstore_msg_headers: from the index cache);
	 * nonzero when the message is to be read instead.  NULL: read. */
	int (*headers)(void *ctx, const char *const *names, size_t n, struct buf *out);
	void *ctx;
};

struct imap_search_env {
	uint32_t max_seq, max_uid;	 /* for "*" */
	time_t now;			 /* for OLDER/YOUNGER */
	const struct imap_seqset *saved; /* UIDs of the saved result, NULL if none */
};

bool imap_search_prepare(
    struct imap_search *s, const struct imap_search_env *env, const char **err);
bool imap_search_match(const struct imap_search *s, const struct imap_search_env *env,
    const struct imap_search_msg *m);

#endif
