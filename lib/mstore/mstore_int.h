/*
 * mstore_int.h - what the mailbox store's files share; not for callers
 * (they use mstore.h).
 *
 *   store.c    mstore_open/close, errors, options, the open folders
 *   folder.c   one folder: directories, locks, the log (open, refresh,
 *              commit, rotate), the snapshot, the Maildir stamp
 *   rescan.c   reading new/ and cur/ into the index, UID assignment
 *   uidfile.c  dovecot-uidlist and dovecot-keywords on disk
 *   save.c     saving a message (APPEND, delivery), copy and move
 *   update.c   flag changes and expunges
 *   view.c     views: sequence numbers, syncing, metadata
 *   cache.c    the cache file
 *   list.c     folder names, listing, create/delete/rename, special use,
 *              subscriptions, UIDVALIDITY allocation
 *   quotafile.c  maildirsize usage and recalculation
 *   notify.c   inotify wake-ups
 */
#ifndef TERN_MSTORE_INT_H
#define TERN_MSTORE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"
#include "mstore/ix.h"
#include "mstore/keywords.h"
#include "mstore/mdlock.h"
#include "mstore/mstore.h"
#include "mstore/uidlist.h"

#define MF_LOG_ROTATE_SIZE (1u << 20) /* a new snapshot after 1 MiB of log */
/*
 * A directory mtime vouches for the listing only once the clock has moved
 * past it: another writer in the same clock tick leaves the same mtime.
 * The kernel stamps mtimes from a clock that ticks every jiffy (1-10 ms);
 * a file system that keeps whole seconds (the nanoseconds are 0) gets a
 * second.  Any look at the folder within the margin reads the directory
 * again, so after a change a 100,000-message cur/ is read for 50 ms, not
 * for a whole second.
 */
#define MF_STAMP_MARGIN_NS 50000000LL	    /* nanosecond mtimes */
#define MF_STAMP_MARGIN_SEC_NS 1000000000LL /* whole-second mtimes */
#define MF_FILE_MODE 0600
#define MF_DIR_MODE 0700
#define MF_KEEP_UNUSED 8 /* open folders kept without references */

struct mstore_cache;

struct mstore_folder {
	struct mstore *store;
	struct mstore_folder *next;
	int refs;
	char *name; /* "INBOX" or the UTF-8 name */
	char *path; /* the folder's directory */
	int dfd, new_fd, cur_fd, tmp_fd;
	/* tern.lock, flock()ed by writers; depth for nesting */
	int lock_fd, lock_depth;
	/* dovecot-uidlist.lock, made by linking a template kept in tmp/ */
	struct mdlock ulock;
	int ulock_depth;
	struct mdlock_template ulock_tmpl;
	/* the log */
	int log_fd;
	struct ix_log_hdr lh; /* as last read or written */
	uint64_t log_pos;     /* full: records applied up to here */
	bool boot_checked;    /* this process checked lh.boot_id */
	/* the whole state, once loaded */
	bool full;
	bool need_rescan; /* the state was started empty: rescan all */
	/* a rebuild: commits go to the state only, the snapshot that ends
	 * the rebuild holds them (mf_commit, mf_rebuild) */
	bool unlogged;
	struct ix_state st;
	/* dovecot-uidlist as last read (full reads only) */
	struct uidlist ul;
	bool ul_loaded;
	uint64_t ul_ino, ul_read; /* inode and bytes parsed */
	int64_t ul_mtime_ns;	  /* ... and its mtime then */
	uint64_t ul_synced;	  /* uidlist size this process fdatasync'ed */
	/* dovecot-keywords */
	struct keywords kw;
	bool kw_loaded;
	uint64_t kw_ino;
	int64_t kw_ns;
	/* the cache, opened on first use */
	struct mstore_cache *cache;
	/* pending FILL and CACHE items, written at the next flush */
	struct buf fills;
	size_t nfills;
	struct buf cache_items;
	size_t ncache_items;
	struct buf threads; /* IXR_THREAD items */
	size_t nthreads;
	/* views on this folder in this process */
	struct mstore_view *views;
	/* inotify watch descriptors (notify.c), -1 when none; an event
	 * for them was read and not yet reported */
	int wd[4];
	bool notify_hit;
};

struct mstore_view {
	struct mstore_folder *f;
	struct mstore_view *next;
	unsigned flags;
	uint32_t last_uid;     /* highest UID the client knows of */
	uint32_t count;	       /* EXISTS as last reported */
	uint64_t known_modseq; /* flag changes up to here were reported */
	/* expunged in the folder, not yet reported: still hold a sequence */
	struct ix_msg *pend;
	size_t npend, cappend;
	struct buf pend_names;
	/* UIDs \Recent for this view: [lo, hi] ranges */
	uint32_t (*recent)[2];
	size_t nrecent;
	uint32_t nrecent_msgs;
	bool notify;
	size_t hint; /* index in the state of the last message looked up by UID */
};

struct mstore {
	char *root;
	struct mstore_opts opts;
	char *special_use; /* opts.special_use copied */
	struct mstore_folder *folders;
	enum mstore_error err;
	int err_errno;
	char errstr[512];
	int pop3_fd;
	int notify_fd; /* the process's inotify instance, once used; -1 */
	uint8_t boot_id[16];
	bool boot_known;
	char *save_dir; /* the directory a deferred save left to fsync */
};

/* store.c */
int ms_fail(struct mstore *s, enum mstore_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* From errno: ENOSPC is MSTORE_ENOSPACE, EDQUOT MSTORE_EQUOTA, ENOENT MSTORE_ENOTFOUND
 * when not_found, others MSTORE_EIO. */
int ms_fail_errno(struct mstore *s, const char *what, const char *path);
/* The stale time of the uidlist and keywords dot-locks (opts.lock_stale_secs). */
int ms_lock_stale(const struct mstore *s);
const uint8_t *ms_boot_id(struct mstore *s);
int64_t ms_now_ns(void);

/* folder.c */
/* Opens (or finds open) the folder by name; light: the log header only.
 * NULL with the store's error set. */
struct mstore_folder *mf_get(struct mstore *s, const char *name, bool create);
void mf_put(struct mstore_folder *f);
/* Closes a folder whatever its references (store close, delete). */
void mf_close(struct mstore_folder *f);
int mf_lock(struct mstore_folder *f);
void mf_unlock(struct mstore_folder *f);
int mf_ulock(struct mstore_folder *f);
void mf_uunlock(struct mstore_folder *f);
/* Loads the whole state (snapshot + log) when not yet loaded, then
 * brings it up to date; rescans the Maildir when the stamp says so. */
int mf_load(struct mstore_folder *f);
/* Brings a loaded state up to date with the log (no lock). */
int mf_refresh(struct mstore_folder *f, bool rescan_if_needed);
/* Under the lock: reads the log header, repairs or creates the log. */
int mf_locked_header(struct mstore_folder *f);
/* Under the lock, with recs built by ix_rec_*: appends them, applies
 * them to the loaded state, sets the header's counters and writes it. */
int mf_commit(struct mstore_folder *f, struct buf *recs);
/* The next modseq (under the lock). */
uint64_t mf_next_modseq(struct mstore_folder *f);
/* Reads the current directory mtimes etc. into st. */
void mf_stamp_now(struct mstore_folder *f, struct ix_stamp *st);
/* True when the log header's stamp matches the Maildir and is sure. */
bool mf_stamp_current(
    struct mstore_folder *f, bool *new_ok, bool *cur_ok, bool *ul_ok, bool *kw_ok);
/* Writes FILL and CACHE items gathered by readers (takes the lock). */
int mf_flush(struct mstore_folder *f);
/* Rotates the log when it is big (under the lock, full state). */
int mf_maybe_rotate(struct mstore_folder *f, bool force);
/* Drops the index files and rebuilds (under the lock). */
int mf_rebuild(struct mstore_folder *f);
/* rescan.c: removes tmp/ files left by crashed writers (older than 36
 * hours, as Dovecot and qmail do). */
void mf_clean_tmp(struct mstore_folder *f);
/* A message's current file name (dir: 'n' new/ or 'c' cur/). */
void mf_msg_name(const struct mstore_folder *f, const struct ix_msg *m, struct buf *out);
int mf_msg_dirfd(const struct mstore_folder *f, const struct ix_msg *m);
/* Applies the expunge of m to this process's views. */
void mf_views_expunged(void *ctx, const struct ix_msg *m, const char *names);

/* rescan.c */
/* Under the lock, state loaded: reads the directories the stamp says
 * changed (or both when force) and commits what differs. */
int mf_rescan(struct mstore_folder *f, bool force);
/* With f->ul read: rewrites dovecot-uidlist from the index when it lacks
 * messages the index has or mostly names expunged files. */
int mf_check_uidlist(struct mstore_folder *f, bool listed);
/* The base names of the files now in new/ and cur/. */
struct mf_bases {
	void *impl;
};
int mf_bases_read(struct mstore_folder *f, struct mf_bases *out);
bool mf_bases_has(const struct mf_bases *b, const char *base, size_t len);
void mf_bases_free(struct mf_bases *b);

/* uidfile.c */
/* Reads dovecot-uidlist into f->ul (incrementally when only appended);
 * creates it (with a new UIDVALIDITY) when missing or broken and
 * create is set.  0, or -1 with the store's error set. */
int uf_read(struct mstore_folder *f, bool create);
/* Under the uidlist lock: appends records (uids ascending, above every
 * UID in the file), then fdatasync()s when sync. */
int uf_append(struct mstore_folder *f, const struct buf *lines, bool sync);
/* Under the uidlist lock: rewrites the file from itself and the index,
 * dropping only records of files that are gone. */
int uf_recreate(struct mstore_folder *f);
/* The next UID per the file (after uf_read). */
uint32_t uf_next_uid(const struct mstore_folder *f);
/* Under the uidlist lock, light mode: dovecot-uidlist opened for
 * appending, its UIDVALIDITY and next UID read from its first line and
 * its last record (not the whole file).  0; 1 when it is missing or
 * unreadable (the caller loads the folder, whose rescan repairs it); -1
 * on errors. */
struct uf_peek {
	int fd;
	uint32_t uidvalidity, next_uid;
	bool ends_nl;
	struct stat before, after;
};
int uf_peek(struct mstore_folder *f, struct uf_peek *p);
/* Appends records through the peeked descriptor; fdatasync when sync. */
int uf_peek_append(struct mstore_folder *f, struct uf_peek *p, const struct buf *lines, bool sync);
void uf_peek_close(struct uf_peek *p);
/* dovecot-keywords: (re)reads it when changed. */
int kf_read(struct mstore_folder *f);
/* Under the uidlist lock: letters for names, adding names as needed.
 * -1 with MSTORE_ELIMIT when all 26 are taken. */
int kf_letters(struct mstore_folder *f, const char *const *names, uint32_t *mask);

/* list.c */
/* The directory of a folder ("INBOX": the root). NULL for a bad name. */
char *ml_folder_path(struct mstore *s, const char *name);
/* A new UIDVALIDITY from dovecot-uidvalidity in the root. */
uint32_t ml_uidvalidity_next(struct mstore *s);
/* Creates the folder's directories (and maildirfolder) when missing. */
int ml_make_dirs(struct mstore *s, const char *path, bool is_inbox);
/* Canonical form of a name ("inbox" -> "INBOX"); NULL when invalid. */
char *ml_name_canon(const char *name);
/* Makes the configured special-use folders that are missing. */
int ml_autocreate(struct mstore *s);

/* view.c */
void mv_claim_recent(struct mstore_view *v);

/* notify.c: drops the folder's watches. */
void mn_unwatch(struct mstore_folder *f);
/* The store no longer uses the process's inotify instance. */
void mn_store_gone(struct mstore *s);

/* quotafile.c */
/* Adds a delta line when maildirsize exists or a limit is set. */
void mq_update(struct mstore *s, int64_t bytes, int64_t count);
/* MSTORE_EQUOTA when adding bytes/count messages would pass a limit;
 * *kept tells whether quota is kept at all (else mq_update has nothing
 * to do). */
int mq_check(struct mstore *s, uint64_t bytes, uint64_t count, bool *kept);

/* cache.c */
void mc_close(struct mstore_cache *c);

/* Flag conversion between IMAP flags (mstore.h) and Maildir letters. */
uint32_t ms_flags_to_upper(unsigned flags);
unsigned ms_upper_to_flags(uint32_t upper);

#endif
