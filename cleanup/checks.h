/*
 * checks.h - header_checks, mime_header_checks, nested_header_checks and
 * body_checks (Postfix's header_checks(5)), applied by cleanup while the
 * message streams into the queue file.
 *
 * The primary header section is filtered whole once it is known
 * (checks_header); the body goes through checks_body() chunk by chunk,
 * which follows the MIME structure (boundaries from Content-Type, part
 * headers, the headers of an attached message/rfc822) so that part
 * headers meet mime_header_checks (every header of a multipart part, and
 * the MIME headers anywhere) and the headers of an attached message meet
 * nested_header_checks; every other line meets body_checks, limited to
 * body_checks_size_limit bytes of each part.  Each logical header (with
 * its continuation lines, joined by "\n") and each body line (without its
 * LF, at most line_length_limit bytes) is looked up in the tables of the
 * one maps API (pcre:, regexp:, texthash:, ...).
 *
 * Actions (first word of the table's answer, any case): REJECT, DEFER,
 * DISCARD, HOLD, REDIRECT, WARN, INFO, IGNORE, STRIP, PREPEND, REPLACE,
 * DUNNO/OK.  FILTER and BCC are not supported (tern has no after-queue
 * content filter): they defer the message with a logged error rather than
 * deliver it without the filter.  An unknown action is logged and the
 * line kept, as Postfix does.  A table that cannot be read defers.
 *
 * The verdict (reject/defer/discard) is final once set: the caller stops
 * writing and answers smtpd, so a REJECT is the reply to the end of DATA,
 * never a bounce.
 */
#ifndef TERN_CLEANUP_CHECKS_H
#define TERN_CLEANUP_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum checks_verdict {
	CHECKS_PASS,
	CHECKS_REJECT,	/* reason: "5.7.1 text" */
	CHECKS_DEFER,	/* reason: "4.7.1 text" */
	CHECKS_DISCARD, /* accept, then throw away */
};

struct checks_origin {
	const char *qid;
	const char *sender;
	const char *rcpt;   /* the first recipient, may be NULL */
	const char *client; /* "name[addr]" or "local" */
	const char *proto;  /* may be NULL */
	const char *helo;   /* may be NULL */
};

struct cleanup_checks;

/* True when any of the four parameters names a table. */
bool checks_enabled(void);
/* For one message; origin's strings must outlive it. */
struct cleanup_checks *checks_new(const struct checks_origin *origin);
void checks_free(struct cleanup_checks *c);

/* Filters the primary header section hdr[0..len) (LF line ends) into out. */
void checks_header(struct cleanup_checks *c, const char *hdr, size_t len, struct buf *out);
/* Filters body bytes into out (a partial line waits for its end). */
void checks_body(struct cleanup_checks *c, const char *p, size_t n, struct buf *out);
/* The body ended: the last line without LF and pending headers go out. */
void checks_body_end(struct cleanup_checks *c, struct buf *out);

enum checks_verdict checks_verdict(const struct cleanup_checks *c);
/* The reply text of REJECT/DEFER ("5.7.1 ..."), NULL otherwise. */
const char *checks_reason(const struct cleanup_checks *c);
/* HOLD was matched. */
bool checks_hold(const struct cleanup_checks *c);
/* REDIRECT's address (replaces every recipient), NULL when none. */
const char *checks_redirect(const struct cleanup_checks *c);

#endif
