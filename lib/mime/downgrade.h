/*
 * mime/downgrade.h - a header section with UTF-8 (RFC 6532) made ASCII
 * for a reader that did not ask for UTF-8 (RFC 6857's post-delivery
 * downgrade, simplified).
 *
 * Only fields with 8-bit bytes change; the others keep their bytes.  A
 * changed field keeps its name and gets its unfolded body as RFC 2047
 * words (UTF-8, base64; mime_2047_encode); for the address fields the
 * words are the display name of an empty group ("=?UTF-8?B?...?= :;",
 * RFC 6857 3.1's form for an address that cannot be ASCII), so a parser
 * still sees valid syntax and the reader still sees the text.  In a
 * line that is no field (no colon, or 8-bit bytes in the name) the 8-bit
 * bytes become '?': there is no name to give its text.  The result is
 * ASCII; changed fields end in LF.  Pure, but for mime_downgrade_fd,
 * which reads a stored message's header section from a file for the
 * servers that send it (POP3's RETR and TOP for clients without UTF8,
 * RFC 6856 3).
 */
#ifndef TERN_MIME_DOWNGRADE_H
#define TERN_MIME_DOWNGRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Has the header section 8-bit bytes? */
bool mime_downgrade_needed(const char *hdr, size_t len);
/* The header fields hdr[0..len) (without the empty line) to out. */
void mime_downgrade_header(const char *hdr, size_t len, struct buf *out);
/* When the header section of the message at fd (read from its start, at
 * most max bytes) has 8-bit bytes: its downgraded fields to out, fd at
 * the empty line after them, true.  Else (nothing to change, a header
 * over max bytes, a read error) false and fd back at the start. */
bool mime_downgrade_fd(int fd, size_t max, struct buf *out);

#endif
