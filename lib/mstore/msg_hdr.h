/*
 * mstore/msg_hdr.h - chosen header fields of a message through the index
 * cache: what SEARCH FROM/TO/SUBJECT/HEADER, SENT*, FETCH
 * BODY[HEADER.FIELDS (...)], SORT and THREAD need, without opening the
 * message file once a field is cached.
 *
 * Which fields are cached (Dovecot's lib-index keeps a "caching decision"
 * per field, set when a client first asks for it): a field name becomes a
 * cache field of the folder ("hdr.<lowercase name>") the first time a
 * client asks for it through one of the commands above; from then on every
 * message of the folder gets it when first read (by any command that
 * wants it: one SEARCH FROM fills "hdr.from" for the whole folder), and
 * a message saved into the folder (delivery, APPEND, COPY, MOVE) gets them at
 * once, as Dovecot does for fields it decided to keep (msg_hdr_fill_new).
 * (Not dropped when unused for a while.)  Compaction keeps the registered
 * fields; a cache made anew after damage or loss starts with none.  At most MSG_HDR_FIELDS_MAX
 * cache fields are taken this way, so a client naming many headers cannot crowd out the folder's
 * other cached data; names past that are read from the file.
 *
 * The blob of a field (the cache form; pure functions below, fuzzed):
 * every occurrence of the field in the message's top header, in order, as
 *
 *   { uint32 ordinal, uint32 len, len bytes }
 *
 * where the bytes are the field exactly as in the file ("Name: value" with
 * its folds, without the final line end) and the ordinal its position
 * among the header's fields, so several fields put back together come out
 * in the message's order (Dovecot keeps line numbers for the same reason).
 * An empty blob says the message has no such field.  A blob is used only
 * when every record reads back as one field of the expected name; anything
 * else (a torn or stale cache) is treated as missing and the file is read.
 */
#ifndef TERN_MSTORE_MSG_HDR_H
#define TERN_MSTORE_MSG_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mstore/mstore.h"

#define MSG_HDR_FIELDS_MAX 40	       /* cache fields the header cache may register */
#define MSG_HDR_NAME_MAX 32	       /* longer header names are not cached */
#define MSG_HDR_BLOB_MAX 65536	       /* a field's blob; larger ones are not cached */
#define MSG_HDR_READ_MAX (256u * 1024) /* header bytes read (mime parser's limit) */

/* A set of header names, resolved to cache fields per view. */
struct mstore_hdrs;

struct mstore_hdrs *mstore_hdrs_new(const char *const *names, size_t n);
void mstore_hdrs_free(struct mstore_hdrs *h);
/* Does h hold exactly these names (any case, any order)? */
bool mstore_hdrs_same(const struct mstore_hdrs *h, const char *const *names, size_t n);

/* Appends to out the fields of h in the message's top header, in the
 * message's order, each as "Name: value" and a line end (header text for
 * mime_hdr_iter).  0 on success; -1 when the message cannot be read; 1
 * when its header is over MSG_HDR_READ_MAX (the caller reads the file). */
int mstore_msg_headers(struct mstore_view *v, struct mstore_hdrs *h, uint32_t uid, struct buf *out);

struct mstore_folder;

/* At a save (the folder lock held, the log header current, the new
 * messages committed): fills every registered hdr.* field of the
 * messages uids[i], files dirfds[i]/names[i], so that the first SEARCH
 * or FETCH after a delivery reads no file.  Only a cache. */
void msg_hdr_fill_new(struct mstore_folder *f, const uint32_t *uids, const int *dirfds,
    const char *const *names, size_t n);

/* ---- the blob (pure) ---- */

/* One field occurrence. */
struct msg_hdr_line {
	uint32_t ord;
	const char *p;
	uint32_t len;
};

struct msg_hdr_lines {
	struct msg_hdr_line *v;
	size_t n, cap;
};

/* Appends the blob of field name for the header text hdr[0..len) to
 * blob; false when it cannot be kept exactly (then nothing is cached). */
bool msg_hdr_blob_encode(const char *hdr, size_t len, const char *name, struct buf *blob);
/* Checks blob as the blob of field name and appends its lines to l
 * (pointing into blob); false (l unchanged) when it is not one. */
bool msg_hdr_blob_decode(const void *blob, size_t len, const char *name, struct msg_hdr_lines *l);
/* Appends the lines in header order as header text; false when two share
 * an ordinal (blobs that do not belong together). */
bool msg_hdr_lines_write(struct msg_hdr_lines *l, struct buf *out);
void msg_hdr_lines_free(struct msg_hdr_lines *l);

#endif
