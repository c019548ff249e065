/*
 * imap/format.h - ENVELOPE, BODY and BODYSTRUCTURE (RFC 9051 7.5.2) from
 * lib/mime's part tree, byte for byte as Dovecot 2.3 prints them for the
 * same message where the RFC leaves a choice (tests/e2e/test_imap_format.py
 * compares the two over a corpus).
 *
 * Dovecot's choices kept: Sender and Reply-To default to From; a missing
 * local part or domain is "MISSING_MAILBOX"/"MISSING_DOMAIN"; text parts
 * without a charset get ("charset" "us-ascii"); the encoding defaults to
 * "7bit"; a message/rfc822 part left without a parsed message shows an
 * empty envelope and an empty text/plain body.  flags: IMAP_WRITE_UTF8
 * when the client may receive 8-bit strings.
 */
#ifndef TERN_IMAP_FORMAT_H
#define TERN_IMAP_FORMAT_H

#include <stdbool.h>

#include "buf.h"
#include "mime/part.h"

void imap_format_envelope(struct buf *out, const struct mime_envelope *env, unsigned flags);
/* extended: BODYSTRUCTURE (with extension data), else BODY. */
void imap_format_body(struct buf *out, const struct mime_part *part, bool extended, unsigned flags);

#endif
