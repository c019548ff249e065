/*
 * mime/blob.h - compact binary forms of an envelope and of a part tree,
 * for the mailbox store's cache (the index keeps them as opaque blobs so
 * FETCH ENVELOPE / BODYSTRUCTURE / BODY[1.2] need not re-read the mail).
 *
 * Format (version 1), integers as LEB128 varints, strings as varint
 * (length + 1) then the bytes, 0 meaning NULL:
 *   envelope: 'E' 1, date subject message-id in-reply-to, then the six
 *             address lists from, sender, reply-to, to, cc, bcc, each a
 *             varint count (0 = NIL) of (flags name route mailbox host);
 *   tree:     'B' 1, then the parts in pre-order: flags, hdr_offset,
 *             hdr_voffset, hdr and body sizes (3 each), type, subtype,
 *             params, id, description, encoding, md5, location,
 *             disposition, disposition params, languages (varint
 *             count + 1, 0 = none), an envelope flag (0/1 + envelope
 *             without its magic), number of children.
 *
 * Decoders never trust their input: every length is checked against the
 * bytes left, the tree is at most MIME_PARSER_DEFAULT_DEPTH deep with at
 * most MIME_PARSER_DEFAULT_PARTS parts, trailing bytes are an error, and
 * any error gives NULL (the caller re-parses the message).
 */
#ifndef TERN_MIME_BLOB_H
#define TERN_MIME_BLOB_H

#include <stddef.h>

#include "buf.h"
#include "mime/part.h"

void mime_blob_envelope_encode(const struct mime_envelope *env, struct buf *out);
struct mime_envelope *mime_blob_envelope_decode(const void *data, size_t len);
void mime_blob_part_encode(const struct mime_part *root, struct buf *out);
struct mime_part *mime_blob_part_decode(const void *data, size_t len);

#endif
