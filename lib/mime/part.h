/*
 * mime/part.h - the part tree of a message and the data IMAP shows of it.
 *
 * A struct mime_part is one node of the tree mime/parser.c builds:
 *   - the message itself (MIME_PART_MESSAGE_ROOT), and the message inside
 *     a message/rfc822 part (its only child, also MIME_PART_MESSAGE_ROOT);
 *   - a multipart (MIME_PART_MULTIPART) whose children are its body parts;
 *   - a leaf (any other type).
 * Positions are counted twice: "physical" as the bytes are stored (Maildir
 * keeps LF line ends) and "virtual" as IMAP presents them (every bare LF
 * counted as CRLF), plus line counts (LF characters).  hdr covers the
 * header section with its empty line; body the rest of the part, without
 * the line end before a boundary (it belongs to the boundary, RFC 2046
 * 5.1.1).  A message/rfc822 part's body is its child's header and body.
 *
 * Strings are as the header said them (type and subtype keep their case);
 * the data a header lacks is NULL, except type/subtype, which get RFC 2045
 * defaults (text/plain, or message/rfc822 in multipart/digest).
 * mime_envelope holds the RFC 9051 ENVELOPE fields of a message root.
 *
 * mime/blob.h serialises a tree (with envelopes) for the index cache.
 */
#ifndef TERN_MIME_PART_H
#define TERN_MIME_PART_H

#include <stdbool.h>
#include <stdint.h>

#include "mime/address.h"
#include "mime/param.h"

struct mime_size {
	uint64_t physical;
	uint64_t virtual_size;
	uint64_t lines;
};

enum {
	MIME_PART_MULTIPART = 0x01,	 /* children are body parts */
	MIME_PART_MESSAGE_RFC822 = 0x02, /* the only child is a message */
	MIME_PART_MESSAGE_ROOT = 0x04,	 /* the top, or the child of a message/rfc822 */
	MIME_PART_TEXT = 0x08,		 /* Content-Type text/... */
	MIME_PART_HAS_NULS = 0x10,	 /* a NUL byte in the body */
	MIME_PART_8BIT = 0x20,		 /* a byte >= 0x80 in the body */
	MIME_PART_BROKEN = 0x40,	 /* a limit was hit or the structure was repaired */
	MIME_PART_HDR_TRUNCATED = 0x80,	 /* header longer than max_header: only its start parsed */
};

struct mime_envelope {
	char *date, *subject, *message_id, *in_reply_to; /* unfolded raw values (see below) */
	struct mime_addr *from, *sender, *reply_to, *to, *cc, *bcc;
};

struct mime_part {
	struct mime_part *parent, *children, *next;
	unsigned flags;
	uint64_t hdr_offset; /* physical offset of the header section */
	uint64_t hdr_voffset;
	struct mime_size hdr, body;

	char *type, *subtype; /* never NULL */
	struct mime_params params;
	char *id, *description, *encoding, *md5, *location;
	char *disposition; /* token, NULL when no Content-Disposition */
	struct mime_params disp_params;
	char **language;		/* NULL-terminated, NULL when absent */
	struct mime_envelope *envelope; /* MIME_PART_MESSAGE_ROOT parts only */
};

/* Physical offset of the body. */
uint64_t mime_part_body_offset(const struct mime_part *p);
/* Number of children. */
unsigned mime_part_count_children(const struct mime_part *p);
/* The part of an IMAP section number "1.2.3" (RFC 9051 6.4.5), applying
 * the rule that a message/rfc822 part's numbers are its message's;
 * NULL if there is none.  nums[n]; n == 0 gives root. */
const struct mime_part *mime_part_by_section(
    const struct mime_part *root, const unsigned *nums, unsigned n);
bool mime_part_is(const struct mime_part *p, const char *type, const char *subtype);

void mime_part_free(struct mime_part *root);
void mime_envelope_free(struct mime_envelope *env);
/* The envelope of a header section, as Dovecot 2.3 builds it: a repeated
 * string field (Date, Subject, Message-ID, In-Reply-To) counts by its last
 * occurrence, unfolded, leading white space removed, trailing kept; a
 * repeated address field adds its addresses.  Sender and Reply-To are NOT
 * defaulted to From here, the writer does that. */
struct mime_envelope *mime_envelope_parse(const char *hdr, size_t len);

#endif
