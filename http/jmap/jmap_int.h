/*
 * jmap_int.h - what the method files of jmap(8) share about messages.
 */
#ifndef TERN_JMAP_INT_H
#define TERN_JMAP_INT_H

#include <time.h>

#include "jmap.h"
#include "mime/address.h"
#include "mime/date.h"
#include "mime/part.h"

/* One message found by its Email id. */
struct jmsg {
	struct jfolder *f;
	struct mstore_view *v; /* jmap_view's: do not close */
	uint32_t uid;
	struct mstore_msg m;
	char id[JMAP_EID_LEN];
	/* Email/parse: the blob's bytes and tree instead of a stored
	 * message (then f, v, uid and m are unset, id is the blob id) */
	const struct buf *raw;
	struct mime_part *tree;
};

/* Email changes since a state (query.c): ids created, updated and
 * destroyed; 0, or -1 after an error reply. */
struct jmap_changes {
	json_t *created, *updated, *destroyed;
};
int jmap_changes_since(struct jcall *c, const char *since, struct jmap_changes *ch);
void jmap_changes_free(struct jmap_changes *ch);

/* A folder's messages by (receivedAt, UID) ascending, kept up to date
 * between requests (bydate.c); v must be jmap_view's, just synced. */
struct jmap_dated {
	time_t received;
	uint32_t uid;
};
const struct jmap_dated *jmap_bydate(struct mstore_view *v, size_t *n);

/* Thread ids (never 0) to numbers (tmap.c), for at most the count given
 * to init: add is false when the id is there already (or 0, or full). */
struct jmap_tmap {
	uint32_t *key;
	size_t *val;
	size_t mask, n;
};
void jmap_tmap_init(struct jmap_tmap *t, size_t most);
void jmap_tmap_free(struct jmap_tmap *t);
bool jmap_tmap_add(struct jmap_tmap *t, uint32_t id, size_t val);
bool jmap_tmap_get(const struct jmap_tmap *t, uint32_t id, size_t *val);

/* false when the id names no message. */
bool jmap_locate(struct jcall *c, const char *id, struct jmsg *out);
/* RFC 3339 "2024-01-02T03:04:05Z" / with the message's offset. */
json_t *jmap_utc_date(time_t t);
json_t *jmap_local_date(time_t t, int tz_min);
bool jmap_date_parse(const char *s, time_t *t);
void jmap_decode_words(const char *raw, struct buf *out);
json_t *jmap_addresses(const struct mime_addr *a);
/* The decoded UTF-8 text of a leaf (max bytes when max > 0). */
void jmap_part_text(struct jmsg *j, const struct mime_part *p, struct buf *out, size_t max);
/* The text a reader sees first: the first text/plain or text/html part
 * of the body, HTML read as text (max bytes). */
void jmap_body_text(struct jmsg *j, const struct mime_part *root, struct buf *out, size_t max);
/* Keyword name ("$seen") to IMAP system flag, 0 when it is a keyword. */
unsigned jmap_keyword_flag(const char *kw);

#endif
