/*
 * mime/parser.h - the streaming MIME parser (RFC 2045-2049, RFC 5322).
 *
 * Fed a message in chunks of any size, it builds the part tree of
 * mime/part.h with header and body offsets and sizes (physical and
 * CRLF-virtual, line counts), the Content-* data of every part and the
 * envelope of every message root (the top and each message/rfc822).  It
 * can also hand each header field and each run of body bytes to
 * callbacks as they pass (SEARCH, Sieve's body test and JMAP's body
 * values read the message this way, in one pass).
 *
 * Multipart (RFC 2046 5.1): a line starting with "--" + a boundary of any
 * enclosing multipart (innermost first) delimits; "--boundary--" closes
 * that multipart and what follows is its epilogue.  A boundary of an
 * outer multipart also closes every inner part (bogus nesting), a missing
 * final boundary is closed by the end of the message, a multipart without
 * a boundary parameter has no parts.  message/rfc822 (and message/global)
 * is parsed as a message whatever its transfer encoding, as Dovecot 2.3
 * does, so BODYSTRUCTURE sizes agree.
 *
 * Memory is bounded by the limits, not the message size: one header
 * section (max_header bytes) is buffered at a time, a body line is looked
 * at only up to the boundary length, and the tree has at most max_parts
 * parts nested at most max_depth deep.  Past a limit the rest of the data
 * becomes body of the current part and MIME_PART_BROKEN is set; nothing
 * is dropped from the sizes.  Defaults (MIME_PARSER_DEFAULT_*): depth
 * 100, parts 10000, header 256 KiB, boundary 200 bytes.
 */
#ifndef TERN_MIME_PARSER_H
#define TERN_MIME_PARSER_H

#include <stddef.h>

#include "mime/header.h"
#include "mime/part.h"

#define MIME_PARSER_DEFAULT_DEPTH 100
#define MIME_PARSER_DEFAULT_PARTS 10000
#define MIME_PARSER_DEFAULT_HEADER (256 * 1024)
#define MIME_BOUNDARY_MAX 200

struct mime_parser_limits {
	unsigned max_depth;
	unsigned max_parts;
	size_t max_header;
};

struct mime_parser_callbacks {
	/* Each header field of part (the part's data is not complete yet). */
	void (*header)(void *ctx, struct mime_part *part, const struct mime_hdr_field *f);
	/* part's header is complete (its Content-* data and envelope too). */
	void (*header_end)(void *ctx, struct mime_part *part);
	/* Body bytes of part, in order, without the line end before a
	 * boundary; multiparts get their preamble and epilogue. */
	void (*body)(void *ctx, struct mime_part *part, const char *data, size_t len);
};

struct mime_parser;

/* limits and cb may be NULL. */
struct mime_parser *mime_parser_new(
    const struct mime_parser_limits *limits, const struct mime_parser_callbacks *cb, void *ctx);
void mime_parser_feed(struct mime_parser *p, const char *data, size_t len);
/* Ends the message: returns the tree (caller frees with mime_part_free)
 * and frees the parser. */
struct mime_part *mime_parser_finish(struct mime_parser *p);
/* Frees a parser without a result. */
void mime_parser_abort(struct mime_parser *p);

/* The whole message at once. */
struct mime_part *mime_parse(const char *msg, size_t len);

#endif
