/*
 * ix.h - tern's own per-folder index, in the shape of Dovecot's
 * lib-index: a snapshot file of fixed-size records, an append-only change
 * log, and a cache of per-message blobs (cache.h).  Beside the Maildir
 * files of the folder:
 *
 *   tern.index        snapshot: header, records sorted by UID, names
 *   tern.index.log    change log: a header updated in place, records
 *   tern.index.cache  cache (cache.h)
 *   tern.lock         empty; flock()ed by every writer of the index
 *
 * Nothing here is the only copy of anything: flags, keywords and file
 * names are in the Maildir, UIDs in dovecot-uidlist; sizes and dates can
 * be read again from the files.  What only the index knows is how to get
 * there fast, the modification sequences (CONDSTORE/QRESYNC) and the
 * expunges since a modseq, and those degrade safely when the index is
 * lost: the rebuilt index starts its modseqs above any given out before
 * (below) and answers "expunged since" with a superset, as RFC 7162
 * allows.
 *
 * All integers are in the host's byte order (a file from another order
 * fails the magic check and is rebuilt).  The formats are described for
 * operators in mstore.5.
 *
 * The log.  Its header carries the committed length (valid_end) and the
 * folder's live counters; a writer (holding tern.lock) appends records
 * after valid_end with one write() and then rewrites the header: that
 * pwrite() is the commit.  Readers read the header, then records up to
 * its valid_end, so they never see a record that a crashed writer left
 * half-written or uncommitted; the next writer overwrites such a tail.
 * Every record has a CRC-32C too, so a damaged log is noticed and the
 * index rebuilt instead of applied.  When the log passes a size, the
 * writer writes a new snapshot (state up to the log's end), marks the old
 * log ROTATED and renames a fresh log over it whose header names the old
 * one (prev_seq, prev_end): a reader holding the old one reads it to the
 * end and continues in the new one; a reader that fell further behind
 * reloads the snapshot.  A rebuild from the Maildir logs nothing: its
 * state goes straight into a snapshot of the new log's start, and that
 * log names no old one (prev_seq 0), so every reader reloads.
 *
 * The stamp.  The log header also says which state of the Maildir the
 * committed records account for: the mtimes of new/ and cur/, the inode
 * and size of dovecot-uidlist and the inode and mtime of
 * dovecot-keywords.  When they all match, opening the folder needs no
 * readdir; when one differs (another program, or a tern process that
 * crashed between changing the Maildir and committing), the folder is
 * rescanned under the lock.  A directory mtime taken less than a second
 * after it changed may hide a second change in the same clock tick, so
 * such a stamp is trusted for nothing (Dovecot's rule).
 *
 * Modseqs.  The log is not fsync'ed (what it records is durable in the
 * Maildir, and a lost tail is found again by the rescan).  What a lost
 * tail could break is that modseqs only grow: a client may have seen one
 * that the crash took back.  So the log header records the boot it was
 * written in, and the first writer after a reboot, like a rebuild of a
 * lost index, starts again at max(highest, the clock in microseconds);
 * modseqs grow by one per change, far slower than a microsecond clock, so
 * that value is above any given out before (as long as the clock is not
 * set back by more than the changes since).
 */
#ifndef TERN_MSTORE_IX_H
#define TERN_MSTORE_IX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"

#define IX_SNAP_NAME "tern.index"
#define IX_LOG_NAME "tern.index.log"
#define IX_LOCK_NAME "tern.lock"

#define IX_LOG_MAGIC "TERNLOG1"
#define IX_SNAP_MAGIC "TERNIDX1"
#define IX_LOG_HDR_SIZE 256
#define IX_LOG_ROTATED 1u /* flags: a newer log replaced this one */

#define IX_NOSIZE UINT32_MAX /* size or vsize not known yet */
#define IX_NODATE INT64_MIN  /* date not known yet */

/* The Maildir state the committed records account for. */
struct ix_stamp {
	int64_t new_ns, cur_ns; /* mtimes of new/ and cur/ (0: unknown) */
	uint64_t ul_ino, ul_size;
	uint64_t kw_ino;
	int64_t kw_ns;
	int64_t taken_ns; /* wall clock when the directory mtimes were read */
};

struct ix_log_hdr {
	char magic[8];
	uint32_t hdr_size;
	uint32_t seq;
	uint32_t prev_seq;
	uint32_t flags;
	uint64_t prev_end;
	uint64_t valid_end;
	uint64_t first_modseq; /* highest_modseq when this log began */
	uint64_t highest_modseq;
	uint32_t uidvalidity;
	uint32_t next_uid;
	uint32_t first_recent_uid;
	uint32_t messages; /* counters after the committed records */
	uint32_t unseen;
	uint32_t deleted;
	uint32_t recent;      /* messages with uid >= first_recent_uid */
	uint64_t vsize_total; /* UINT64_MAX: some vsize unknown */
	struct ix_stamp stamp;
	uint8_t boot_id[16];
	uint32_t cache_seq;
	uint32_t pad;
	uint64_t ul_synced; /* dovecot-uidlist size known fdatasync'ed */
	uint32_t reserved[6];
	uint32_t crc; /* CRC-32C of the bytes before it */
};

/* A message as the index keeps it (snapshot records are these). */
struct ix_msg {
	uint32_t uid;
	uint32_t upper; /* uppercase Maildir flag letters (mdname.h) */
	uint32_t kw;	/* keyword letters */
	uint32_t state; /* IXS_* */
	uint64_t modseq;
	uint32_t size, vsize; /* IX_NOSIZE: not known yet */
	int64_t idate, sdate; /* internal and saved date, seconds; IX_NODATE */
	uint32_t name_off;    /* into the names: "base\0ext\0" [+ "oddname\0"] */
	uint32_t cache_off;   /* newest cache record, 0: none */
	uint32_t thread_id;   /* set by the protocol layers (JMAP); 0: none */
	uint32_t pad;
};

#define IXS_NEW 1u    /* the file is in new/ */
#define IXS_NOINFO 2u /* its name has no ":2," part */
#define IXS_ODD 4u    /* its name is not base+info: stored after the ext */

enum ix_rec_type {
	IXR_PAD = 1,
	IXR_APPEND = 2,	   /* items: struct ix_append + name + ext */
	IXR_FLAGS = 3,	   /* items: struct ix_flags */
	IXR_EXPUNGE = 4,   /* items: uint32_t uid */
	IXR_NAME = 5,	   /* items: struct ix_name + name (odd name; len 0 clears) */
	IXR_FILL = 6,	   /* items: struct ix_fill (no modseq) */
	IXR_CACHE = 7,	   /* items: struct ix_cache (no modseq) */
	IXR_RESET = 8,	   /* every message dropped (UIDVALIDITY changed) */
	IXR_CACHE_GEN = 9, /* a new, empty cache generation: offsets void */
	IXR_THREAD = 10,   /* items: struct ix_cache (uid, thread id) */
};

struct ix_rec_hdr {
	uint32_t size; /* whole record, a multiple of 8 */
	uint32_t crc;  /* CRC-32C of the record after this field */
	uint16_t type;
	uint16_t pad;
	uint32_t count;
	uint64_t modseq; /* of the change, or 0 */
};

struct ix_append {
	uint32_t uid, upper, kw, state;
	uint32_t size, vsize;
	int64_t idate, sdate;
	uint16_t name_len, ext_len;
	uint32_t pad;
};
struct ix_flags {
	uint32_t uid, upper, kw, state;
};
struct ix_name {
	uint32_t uid;
	uint16_t len, pad;
};
struct ix_fill {
	uint32_t uid, size, vsize, pad;
	int64_t idate, sdate;
};
struct ix_cache {
	uint32_t uid, off;
};

struct ix_snap_hdr {
	char magic[8];
	uint32_t hdr_size, rec_size;
	uint32_t log_seq, count;
	uint64_t log_off;
	uint64_t names_size;
	uint32_t uidvalidity, next_uid;
	uint64_t highest_modseq;
	uint32_t cache_seq;
	uint32_t body_crc; /* of records and names */
	uint32_t reserved[6];
	uint32_t crc; /* of the bytes before it */
};

/* ---- the in-memory state one process keeps of a folder ---- */

struct ix_state {
	struct ix_msg *msgs; /* sorted by UID */
	size_t n, cap;
	struct buf names;
	/* Loaded in place (ix_snap_adopt): msgs and names point into this
	 * private mapping of the snapshot until the state must grow. */
	void *map;
	size_t map_len;
	uint32_t uidvalidity, next_uid, first_recent_uid;
	uint64_t highest_modseq;
	uint32_t cache_seq;
	size_t dead_names; /* bytes of names no message uses */
	/* Counters kept as messages come and go. */
	uint32_t unseen, deleted, vsize_unknown;
	uint64_t vsize_sum;
};

/* What applying a record did, for the views (view.c). */
struct ix_apply_cb {
	void *ctx;
	/* A message is about to be removed (expunge or reset). */
	void (*expunged)(void *ctx, const struct ix_msg *m, const char *names);
};

void ix_state_init(struct ix_state *st);
void ix_state_free(struct ix_state *st);
/* Index of uid in st, or -1. */
long ix_state_find(const struct ix_state *st, uint32_t uid);
/* Index of the first message whose UID is at least uid (n: none). */
size_t ix_state_lower(const struct ix_state *st, uint32_t uid);
/* The base, ext and (IXS_ODD) full name of message m. */
const char *ix_msg_base(const struct ix_state *st, const struct ix_msg *m);
const char *ix_msg_ext(const struct ix_state *st, const struct ix_msg *m);
const char *ix_msg_oddname(const struct ix_state *st, const struct ix_msg *m);
/* Adds or replaces a message (name: base, ext: uidlist ext fields, odd:
 * full name or NULL). */
void ix_state_put(struct ix_state *st, const struct ix_msg *m, const char *base, size_t blen,
    const char *ext, size_t elen, const char *odd, size_t olen);
/* Removes the messages whose uids are listed (any order). */
void ix_state_remove(
    struct ix_state *st, const uint32_t *uids, size_t n, const struct ix_apply_cb *cb);

/*
 * Checks one record at p (len bytes available): 1 with *size set when it
 * is complete and valid, 0 when more bytes are needed, -1 when it is
 * corrupt (bad size, type, crc or items).
 */
int ix_rec_check(const char *p, size_t len, uint32_t *size);
/* Applies a checked record to st. */
void ix_rec_apply(struct ix_state *st, const char *p, const struct ix_apply_cb *cb);

/* Record builders: begin a record in out, add items, end it (pads, sets
 * size and crc). */
size_t ix_rec_begin(struct buf *out, enum ix_rec_type type, uint64_t modseq);
void ix_rec_item(struct buf *out, size_t rec, const void *item, size_t len);
void ix_rec_append_item(
    struct buf *out, size_t rec, const struct ix_append *a, const char *name, const char *ext);
void ix_rec_name_item(struct buf *out, size_t rec, uint32_t uid, const char *name, size_t len);
void ix_rec_end(struct buf *out, size_t rec);
/* Sets the item count of a record whose items the caller appended. */
void ix_rec_set_count(struct buf *out, size_t rec, uint32_t count);

/* Log header CRC: set and check. */
void ix_log_hdr_seal(struct ix_log_hdr *h);
bool ix_log_hdr_valid(const struct ix_log_hdr *h);

/* Snapshot: builds the file image of st (at log position seq/off) into
 * out; loads an image into a fresh st (false when it is not valid). */
void ix_snap_build(const struct ix_state *st, uint32_t log_seq, uint64_t log_off, struct buf *out);
/* The same image as three parts, h and st's own records and names, when
 * its names are compact (a state just rebuilt): nothing is copied, the
 * caller writes iov; false when they are not (ix_snap_build then). */
bool ix_snap_parts(const struct ix_state *st, uint32_t log_seq, uint64_t log_off,
    struct ix_snap_hdr *h, struct iovec iov[3]);
bool ix_snap_load(
    const char *data, size_t len, struct ix_state *st, uint32_t *log_seq, uint64_t *log_off);
/* The same, in place: on success st uses map[0..len) (a private,
 * writable mapping of the snapshot, which it unmaps when freed) instead of
 * a copy: a large folder opens without copying its records.  The mapping
 * is the state's (or unmapped at once when it is not a valid image). */
bool ix_snap_adopt(
    void *map, size_t len, struct ix_state *st, uint32_t *log_seq, uint64_t *log_off);

#endif
