/*
 * uidlist.h - Dovecot's dovecot-uidlist file, version 3 (reading also
 * version 1): the IMAP UIDs of a Maildir folder.
 *
 *   3 V<uidvalidity> N<nextuid> G<guid> [other header fields]\n
 *   <uid> [<key><value> ...] :<base>\n
 *   ...
 *
 * The header holds the folder's UIDVALIDITY, the next UID to assign when
 * the file was last rewritten and the folder's GUID (32 hex digits);
 * other fields are kept as they are.  Each record gives a message's UID,
 * extension fields (one uppercase letter and a value: S physical size, W
 * virtual size, G message GUID, P POP3 UIDL, O POP3 order) and its file
 * name up to the first ':'.  UIDs strictly ascend.  Writers append
 * records under the dovecot-uidlist.lock dot-lock without touching the
 * header, so the real next UID is the larger of N and the last UID + 1;
 * the file is rewritten (to dovecot-uidlist.tmp, renamed over) when many
 * records name expunged files.  Version 1 has "1 <uidvalidity> <nextuid>"
 * and records "<uid> <name>".
 *
 * Pure functions over buffers.  A last line without its '\n' is not
 * read (a writer may be appending it): the parser says how many bytes it
 * used, and a later call continues from there.  Records naming the same
 * base twice are both returned, in file order (Dovecot lets the later
 * one win; so does mstore).
 */
#ifndef TERN_MSTORE_UIDLIST_H
#define TERN_MSTORE_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define UIDLIST_NAME "dovecot-uidlist"
#define UIDLIST_GUID_HEX 32

struct uidlist_rec {
	uint32_t uid;
	uint32_t ext_off, ext_len;   /* extension fields ("S12 W14"), in strs */
	uint32_t base_off, base_len; /* file name base, in strs */
};

struct uidlist {
	unsigned version;		 /* 1 or 3 */
	uint32_t uidvalidity;		 /* V */
	uint32_t hdr_next_uid;		 /* N as written */
	uint32_t next_uid;		 /* max(N, last uid + 1) */
	char guid[UIDLIST_GUID_HEX + 1]; /* "" when absent */
	struct buf hdr_ext;		 /* other header fields, space separated */
	struct uidlist_rec *recs;
	size_t n, cap;
	struct buf strs; /* the records' strings */
	size_t lines;	 /* lines read, for error messages */
};

void uidlist_init(struct uidlist *ul);
void uidlist_free(struct uidlist *ul);
/* Empties the records, keeps the header. */
void uidlist_clear_recs(struct uidlist *ul);

/*
 * Parses data[0..len) from the start of the file (header and records)
 * into ul, which must be freshly initialised.  Returns the bytes used
 * (whole lines), or -1 with *err set when the file is corrupt (bad
 * header, UIDs not ascending, a broken record).
 */
long uidlist_parse(const char *data, size_t len, struct uidlist *ul, const char **err);

/* Parses more records (data starts at a line boundary after what ul
 * holds).  As uidlist_parse. */
long uidlist_parse_more(const char *data, size_t len, struct uidlist *ul, const char **err);

/* The strings of record i. */
const char *uidlist_base(const struct uidlist *ul, size_t i, size_t *len);
const char *uidlist_ext(const struct uidlist *ul, size_t i, size_t *len);

/* Finds the value of extension key in ext[0..len) ("S12 W14"): true with
 * *val and *vlen set. */
bool uidlist_ext_get(const char *ext, size_t len, char key, const char **val, size_t *vlen);

/* Appends the version 3 header line (with '\n'); hdr_ext may be NULL. */
void uidlist_format_header(struct buf *out, uint32_t uidvalidity, uint32_t next_uid,
    const char *guid, const char *hdr_ext);
/* Appends one record line (with '\n'); ext may be NULL or "". */
void uidlist_format_rec(
    struct buf *out, uint32_t uid, const char *ext, size_t ext_len, const char *base, size_t len);

/* Appends 32 random hex digits (a new folder GUID). */
void uidlist_new_guid(char out[UIDLIST_GUID_HEX + 1]);

#endif
