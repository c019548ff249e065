/*
 * mstore.h - the mailbox store: the only code that touches mailboxes.
 * Used by local (delivery), imap, pop3, jmap and "tern mailbox".
 *
 * ON DISK a store is a Maildir++ directory exactly as Dovecot 2.3 keeps
 * it (mstore.5): INBOX is the root, folder "A.B" is the directory ".A.B"
 * (names modified UTF-7 on disk, hierarchy separator '.') with a
 * "maildirfolder" file; UIDs in dovecot-uidlist, keyword letters in
 * dovecot-keywords, flags in the file names, subscriptions, maildirsize.
 * Beside each folder tern keeps its own index (ix.h): never the only copy
 * of anything, rebuilt from the Maildir whenever it is missing or bad.
 * Dovecot and tern can serve the same Maildir, also at the same time.
 *
 * NAMES passed in and out are UTF-8, levels separated by '.', "INBOX"
 * (any case) for the root.  Levels may not be empty; names may not hold
 * '/', control characters or invalid UTF-8, and their on-disk form must
 * fit a file name (mstore_name_valid()).  The IMAP layer converts client
 * names with mutf7.h.
 *
 * PROCESSES.  Any number of processes (imap, pop3, jmap, local, tern)
 * may open the same store and folders.  Writers serialise on the folder's
 * tern.lock (flock) and, for UID assignment and keywords, on Dovecot's
 * dovecot-uidlist.lock; readers never block.  Each process sees the
 * others' changes through the folder's change log at the points it
 * syncs.  Not thread-safe: one thread per struct mstore.
 *
 * DURABILITY (DESIGN.md invariant 5).  When a call that changes a
 * mailbox returns success, the change is on disk: saved messages are
 * fsync'ed with their directory entries, flag changes and expunges have
 * their directories fsync'ed, a UID handed back (APPEND, COPY, MOVE) is
 * fsync'ed in dovecot-uidlist.  Delivery may defer the directory fsync to
 * its caller (mstore_save_opts.defer_dir_sync) to batch it.
 *
 * ERRORS.  Calls return 0 (or a pointer) on success, -1 (or NULL) on
 * failure with mstore_error()/mstore_strerror() telling why; nothing is
 * half-done: a failed save leaves no file, a failed store or expunge may
 * have changed some messages but never reports a change that did not
 * happen.
 *
 * VIEWS are what a session sees of one folder (IMAP SELECT, a POP3
 * session, a JMAP request).  A view numbers messages 1..count; new
 * messages and expunges by others (and by the view itself) reach it only
 * when it syncs (mstore_view_sync), so sequence numbers stay stable in
 * between, as IMAP requires; flags are always current.  Expunged
 * messages keep their sequence number and their metadata (flagged
 * "expunged") until the sync that reports them; their content can no
 * longer be opened.
 *
 * MODSEQS (RFC 7162) are per folder, grow with every change, and are
 * kept per message; they survive index rebuilds and reboots by jumping
 * ahead (ix.h).  A folder's HIGHESTMODSEQ with its UIDVALIDITY is also
 * the JMAP state string of its messages.
 *
 * TYPICAL USE, an IMAP session (as the mailbox owner):
 *   s = mstore_open(maildir, &opts, &err)       login (opts from main.cf)
 *   mstore_list(s, &folders, &n)                 LIST, LSUB
 *   mstore_view_open(s, "INBOX", 0, &v)          SELECT (READONLY: EXAMINE)
 *   mstore_view_msg(v, seq, &m)                  FETCH FLAGS, UID, MODSEQ
 *   mstore_view_sizes / _dates / _cache_get      RFC822.SIZE, INTERNALDATE,
 *                                                ENVELOPE (cached blobs)
 *   fd = mstore_view_open_msg(v, uid)            BODY[] (stream the file)
 *   mstore_view_store(v, uids, n, &req, ...)     STORE, UID STORE
 *   mstore_view_copy(v, uids, n, "Trash", ...)   COPY, MOVE (COPYUID)
 *   mstore_save_begin / _write / _commit         APPEND (APPENDUID)
 *   mstore_view_expunge(v, NULL, 0)              EXPUNGE, CLOSE
 *   mstore_view_sync(v, flags, &cb)              at the end of commands,
 *                                                NOOP, IDLE wake-ups
 *   mstore_notify_add(v), mstore_notify_fd(s)    IDLE
 *   mstore_view_close(v), mstore_close(s)        UNSELECT, LOGOUT
 * POP3 takes mstore_pop3_lock(), a view, mstore_view_pop3_uidl() and
 * mstore_view_expunge() at QUIT; local saves with defer_dir_sync and
 * lazy_uid.
 *
 * NOT HERE: parsing messages (lib/mime; its results go into the cache
 * below), protocol syntax, user look-ups and privileges (the caller runs
 * as the mailbox owner).
 */
#ifndef TERN_MSTORE_H
#define TERN_MSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

struct mstore;
struct mstore_view;
struct mstore_save;

enum mstore_error {
	MSTORE_OK = 0,
	MSTORE_ENOTFOUND, /* no such folder or message */
	MSTORE_EEXISTS,	  /* the folder exists already */
	MSTORE_EINVAL,	  /* bad name or argument */
	MSTORE_ETEMP,	  /* a lock was not had in time: try again later */
	MSTORE_EQUOTA,	  /* the change would pass the quota (or EDQUOT: the owner's disk quota) */
	MSTORE_ENOSPACE,  /* the file system is full (ENOSPC) */
	MSTORE_ELIMIT,	  /* a fixed limit (26 keywords per folder) */
	MSTORE_EEXPUNGED, /* the message was expunged meanwhile */
	MSTORE_EIO,	  /* any other system error; mstore_strerror() says */
};

enum mstore_error mstore_error(const struct mstore *s);
const char *mstore_strerror(const struct mstore *s);
/* The errno of a failure of the system (0 for the store's own refusals);
 * its mstore_strerror() text names files: for the log, not a client. */
int mstore_errno(const struct mstore *s);
/* True when the last failure was the system's (I/O, a full disk, a lock
 * timeout, a quota the file system enforced), whose text is for the log;
 * false for the store's own refusals, whose text names only what the
 * client gave (a folder, a UID, the quota) and may be shown to it. */
bool mstore_error_internal(const struct mstore *s);

/* ---- opening a user's store ---- */

/* Special-use roles (RFC 6154), as bits. */
#define MSTORE_SU_DRAFTS 0x01u
#define MSTORE_SU_SENT 0x02u
#define MSTORE_SU_TRASH 0x04u
#define MSTORE_SU_JUNK 0x08u
#define MSTORE_SU_ARCHIVE 0x10u
#define MSTORE_SU_ALL 0x20u
#define MSTORE_SU_FLAGGED 0x40u

struct mstore_opts {
	bool create;	    /* make the Maildir root when missing */
	bool autocreate;    /* make the special-use folders on open */
	bool autosubscribe; /* ... and subscribe them */
	/* "drafts=Drafts, sent=Sent, ...": role=folder pairs; NULL: those
	 * five with their English names (mailbox_special_use) */
	const char *special_use;
	/* Quota limits (0: none; then limits written in maildirsize by
	 * someone else apply). */
	uint64_t quota_bytes, quota_messages;
	/* Seconds after which dovecot-uidlist.lock and dovecot-keywords.lock
	 * are stale when nothing changed (0: Dovecot's 120, MDLOCK_UIDLIST_STALE);
	 * the wait for them is 2 s longer, as Dovecot's. */
	unsigned lock_stale_secs;
};

/* Defaults: no creation, no quota, the built-in special-use names. */
void mstore_opts_init(struct mstore_opts *o);
/* From main.cf: mailbox_autocreate, mailbox_autosubscribe,
 * mailbox_special_use, mailbox_quota_storage, mailbox_quota_messages. */
void mstore_opts_from_config(struct mstore_opts *o);

/* The account's quota_rule (auth/quota_rule.h, "*:storage=1G") over the
 * defaults: a limit it gives replaces the configured one.  Ignored when
 * empty or malformed. */
void mstore_opts_quota_rule(struct mstore_opts *o, const char *rule);

/* Opens the store at root.  NULL with a message in err (ENOENT: "no
 * such Maildir" unless o->create). */
struct mstore *mstore_open(const char *root, const struct mstore_opts *o, struct buf *err);
void mstore_close(struct mstore *s);
const char *mstore_root(const struct mstore *s);

/* ---- folders ---- */

#define MSTORE_SEP '.'

#define MSTORE_LF_SUBSCRIBED 0x01u
#define MSTORE_LF_NONEXISTENT 0x02u /* a level or subscription only */
#define MSTORE_LF_CHILDREN 0x04u
#define MSTORE_LF_NOCHILDREN 0x08u

struct mstore_folder_info {
	char *name;
	unsigned flags;	      /* MSTORE_LF_* */
	unsigned special_use; /* MSTORE_SU_* */
};

/* True when name may name a folder. */
bool mstore_name_valid(const char *name);
/* Every folder: INBOX first, then by name; levels that only exist above
 * a folder ("A" of "A.B") and subscribed names without a folder come
 * with MSTORE_LF_NONEXISTENT. */
int mstore_list(struct mstore *s, struct mstore_folder_info **out, size_t *n);
void mstore_list_free(struct mstore_folder_info *list, size_t n);
/* Creates a folder (with special_use: remembered in the folder).
 * MSTORE_EEXISTS when it exists. */
int mstore_folder_create(struct mstore *s, const char *name, unsigned special_use);
/* Deletes a folder and its messages (not its children). */
int mstore_folder_delete(struct mstore *s, const char *name);
/* Renames a folder and its children; INBOX cannot be renamed here. */
int mstore_folder_rename(struct mstore *s, const char *from, const char *to);
int mstore_subscribe(struct mstore *s, const char *name, bool on);
/* The folder holding a special-use role, or NULL. */
char *mstore_special_folder(struct mstore *s, unsigned role);

struct mstore_status {
	uint32_t messages, recent, unseen, deleted;
	uint32_t uidnext, uidvalidity;
	uint64_t highest_modseq;
	uint64_t size; /* sum of the RFC822.SIZEs (STATUS=SIZE) */
};
/* A folder's counters.  Cheap when the folder's index is current (no
 * readdir, no record loaded); size may read files once. */
int mstore_status(struct mstore *s, const char *name, struct mstore_status *st, bool want_size);

/* ---- views ---- */

#define MSTORE_VIEW_READONLY 0x01u /* EXAMINE: no \Recent taken, no changes */

int mstore_view_open(struct mstore *s, const char *name, unsigned flags, struct mstore_view **out);
void mstore_view_close(struct mstore_view *v);
const char *mstore_view_name(const struct mstore_view *v);

/* What the view shows (as of its last sync). */
uint32_t mstore_view_count(const struct mstore_view *v);
uint32_t mstore_view_recent(const struct mstore_view *v);
uint32_t mstore_view_uidvalidity(const struct mstore_view *v);
/* The folder's next UID (current, not the view's). */
uint32_t mstore_view_uidnext(const struct mstore_view *v);
uint64_t mstore_view_highest_modseq(const struct mstore_view *v);
/* Sequence number of the first message without \Seen, or 0. */
uint32_t mstore_view_first_unseen(const struct mstore_view *v);

/* IMAP system flags (RECENT is per view, read-only). */
#define MSTORE_F_SEEN 0x01u
#define MSTORE_F_ANSWERED 0x02u
#define MSTORE_F_FLAGGED 0x04u
#define MSTORE_F_DELETED 0x08u
#define MSTORE_F_DRAFT 0x10u
#define MSTORE_F_RECENT 0x20u

struct mstore_msg {
	uint32_t seq, uid;
	unsigned flags;	   /* MSTORE_F_* */
	uint32_t keywords; /* bit i: keyword i (mstore_view_keyword) */
	uint64_t modseq;
	bool expunged; /* gone, not yet reported by a sync */
};

/* Message by sequence number (1..count) or UID; -1 when not in the view. */
int mstore_view_msg(struct mstore_view *v, uint32_t seq, struct mstore_msg *m);
int mstore_view_msg_uid(struct mstore_view *v, uint32_t uid, struct mstore_msg *m);
/* Sequence number of uid, 0 when not in the view; UID of seq, 0. */
uint32_t mstore_view_seq(struct mstore_view *v, uint32_t uid);
uint32_t mstore_view_uid(struct mstore_view *v, uint32_t seq);
/* The folder's keyword names by index (NULL: unused) and index by name
 * (-1: not defined yet; any name may be stored, up to 26 per folder). */
const char *mstore_view_keyword(struct mstore_view *v, unsigned idx);
int mstore_view_keyword_index(struct mstore_view *v, const char *name);

/* RFC822.SIZE is vsize (line ends as CRLF); size is the file's.  May read
 * the file; the result is kept in the index for everyone. */
int mstore_view_sizes(struct mstore_view *v, uint32_t uid, uint64_t *size, uint64_t *vsize);
/* INTERNALDATE (the file's mtime, as Dovecot) and SAVEDATE. */
int mstore_view_dates(struct mstore_view *v, uint32_t uid, time_t *internal, time_t *saved);
/* The message GUID (Dovecot's: the uidlist G field or the base file name;
 * kept by copies and moves: a JMAP Email id), and the POP3 UIDL
 * (the uidlist P field, else Dovecot's default "%08Xu%08Xv": UID and
 * UIDVALIDITY). */
void mstore_view_guid(struct mstore_view *v, uint32_t uid, struct buf *out);
void mstore_view_pop3_uidl(struct mstore_view *v, uint32_t uid, struct buf *out);
/* Opens the message file for reading; -1 with MSTORE_EEXPUNGED when it is
 * gone. */
int mstore_view_open_msg(struct mstore_view *v, uint32_t uid);

/* Brings the view up to date.  Callbacks, in this order: each expunge
 * (sequence numbers descending, so each can be sent as it comes; skipped
 * with MSTORE_SYNC_NO_EXPUNGE, which IMAP needs during FETCH, STORE and
 * SEARCH), the new count (only when it changed), each message whose
 * flags others changed since the last sync.  A read-write view takes
 * \Recent for the messages no session has seen. */
#define MSTORE_SYNC_NO_EXPUNGE 0x01u
struct mstore_sync_cb {
	void *ctx;
	void (*expunge)(void *ctx, uint32_t seq, uint32_t uid);
	void (*exists)(void *ctx, uint32_t count, uint32_t recent);
	void (*flags)(void *ctx, const struct mstore_msg *m);
};
int mstore_view_sync(struct mstore_view *v, unsigned flags, const struct mstore_sync_cb *cb);
/* True when a sync may find something: a cheap check (a pread and a few
 * stat calls) for IDLE without inotify.  Within a second of a change it
 * may say true for nothing (directory mtimes are not trusted so soon). */
bool mstore_view_changed(struct mstore_view *v);

/* ---- changes ---- */

enum mstore_store_mode {
	MSTORE_STORE_SET,
	MSTORE_STORE_ADD,
	MSTORE_STORE_REMOVE,
};

struct mstore_store_req {
	enum mstore_store_mode mode;
	unsigned flags;		     /* MSTORE_F_* without RECENT */
	const char *const *keywords; /* NULL-terminated, or NULL */
	uint64_t unchangedsince;     /* CONDSTORE; 0: none */
};

/* Changes the flags of the messages with the given UIDs (ascending;
 * UIDs not in the view are skipped).  UIDs whose modseq is above
 * unchangedsince are not changed and are listed in *failed (caller
 * frees), as RFC 7162 MODIFIED wants.  Durable on return; the changed
 * messages' new flags and modseqs are visible through mstore_view_msg. */
int mstore_view_store(struct mstore_view *v, const uint32_t *uids, size_t n,
    const struct mstore_store_req *req, uint32_t **failed, size_t *nfailed);

/* Expunges the messages (UIDs ascending); uids NULL: every message with
 * \Deleted.  Durable on return; reported to v by its next sync. */
int mstore_view_expunge(struct mstore_view *v, const uint32_t *uids, size_t n);

/* Copies (move: and then expunges) messages into the folder dest.
 * dest_uids gets one new UID per copied UID (in order; 0 for a message
 * that was expunged meanwhile), *dest_uidvalidity the folder's (UIDPLUS).
 * Durable on return. */
int mstore_view_copy(struct mstore_view *v, const uint32_t *uids, size_t n, const char *dest,
    bool move, uint32_t *dest_uids, uint32_t *dest_uidvalidity);

/* ---- saving (APPEND, delivery) ---- */

struct mstore_save_opts {
	unsigned flags;		     /* MSTORE_F_* */
	const char *const *keywords; /* NULL-terminated, or NULL */
	time_t internal_date;	     /* 0: now */
	bool create_folder;	     /* make the folder when missing */
	bool check_quota;	     /* refuse with MSTORE_EQUOTA */
	/* Do not fsync the new/ or cur/ directory; the caller does it (with
	 * mstore_save_dir()) before it reports success to anyone. */
	bool defer_dir_sync;
	/* Give the UID only when the folder already has a tern index
	 * (someone reads it through tern); else the message is a plain
	 * Maildir delivery and its first reader gives it (the UID is then
	 * 0).  For delivery: a mailbox read by no tern server costs no
	 * locks. */
	bool lazy_uid;
};

/* Starts a message in the folder's tmp/. */
struct mstore_save *mstore_save_begin(
    struct mstore *s, const char *folder, const struct mstore_save_opts *o);
/* Writes message bytes (counts the virtual size on the way). */
int mstore_save_write(struct mstore_save *sv, const void *p, size_t len);
/* Or: the file to write to directly; then give the sizes. */
int mstore_save_fd(struct mstore_save *sv);
void mstore_save_set_sizes(struct mstore_save *sv, uint64_t size, uint64_t vsize);
/* Makes the message durable, gives it a UID (under the uidlist lock) and
 * records it; *uid and *uidvalidity may be NULL.  Frees sv either way. */
int mstore_save_commit(struct mstore_save *sv, uint32_t *uid, uint32_t *uidvalidity);
/* The same for n saves into one folder (MULTIAPPEND, RFC 3502): all of
 * them or none.  The quota is checked for their sum, the files placed
 * and given consecutive UIDs in one uidlist write and one log record;
 * when anything fails, the files already placed are taken back and no
 * UID is reported.  uids[n] may be NULL.  Frees every sv either way.
 * (A crash in the middle may leave some of them for the next rescan to
 * index: never acknowledged, never a UID without its file.) */
int mstore_save_commit_all(
    struct mstore_save **svs, size_t n, uint32_t *uids, uint32_t *uidvalidity);
void mstore_save_abort(struct mstore_save *sv);
/* The directory a deferred commit left to fsync (valid until the next
 * save on this store). */
const char *mstore_save_dir(const struct mstore *s);

/* ---- quota ---- */

struct mstore_quota {
	uint64_t bytes, messages;
	uint64_t limit_bytes, limit_messages; /* 0: none */
};
/* The usage and limits kept in maildirsize (a limit configured, or the
 * file there); all zero when no quota is kept: a store without one is
 * not summed, so asking costs one open() (a delivery asks each time). */
int mstore_quota_get(struct mstore *s, struct mstore_quota *q);
/* The same, but a store without quota has its usage summed from every
 * folder's file names (tern mailbox quota): O(messages). */
int mstore_quota_usage(struct mstore *s, struct mstore_quota *q);
/* Changes the limits of an open store (local: one store, the limits of
 * the recipient being delivered); maildirsize follows at the next check. */
void mstore_set_quota(struct mstore *s, uint64_t bytes, uint64_t messages);

/* ---- change notification ---- */

/* A descriptor that becomes readable when a watched folder changes (an
 * inotify instance), or -1 when none can be had (then poll
 * mstore_view_changed).  One for the whole process: every store that
 * asks gets the same, so an event loop waits on it once. */
int mstore_notify_fd(struct mstore *s);
/* Watches the view's folder. */
int mstore_notify_add(struct mstore_view *v);
/* Reads the process's pending events (noting them for every store) and
 * calls changed() once per view of s whose folder changed since the last
 * call for s: call it for each store when the descriptor is readable. */
void mstore_notify_read(
    struct mstore *s, void (*changed)(void *ctx, struct mstore_view *v), void *ctx);

/* ---- the cache: per-message blobs, filled by the protocol layers ---- */

/* The number of a named field ("envelope", "bodystructure",
 * "hdr.subject", "thread"...) in this folder's cache, registered on
 * first use; -1 on error.  type is the caller's tag for the blob's
 * format, stored with the field. */
int mstore_cache_field(struct mstore_view *v, const char *name, unsigned type);
/* The blob for (uid, field): true with *data (valid until the view next
 * syncs or puts) and *len. */
bool mstore_cache_get(
    struct mstore_view *v, uint32_t uid, int field, const void **data, size_t *len);
/* Adds a blob; written with the next sync or close (one lock for many),
 * or at once when a MiB is queued.  Pointers from mstore_cache_get are
 * invalid after it. */
int mstore_cache_put(struct mstore_view *v, uint32_t uid, int field, const void *data, size_t len);

/* ---- CONDSTORE, QRESYNC, JMAP ---- */

/* A per-message thread id for JMAP (the JMAP layer decides the ids, say
 * from References across folders; 0: none).  Set ones are written with
 * the next sync or close and seen by every process. */
uint32_t mstore_view_thread(struct mstore_view *v, uint32_t uid);
int mstore_view_set_thread(struct mstore_view *v, uint32_t uid, uint32_t thread);

/* Calls fn for each message in the view changed after modseq. */
void mstore_view_changed_since(struct mstore_view *v, uint64_t modseq,
    void (*fn)(void *ctx, const struct mstore_msg *m), void *ctx);
/* UIDs expunged after modseq (ascending, caller frees).  *exact is false
 * when the log no longer reaches back that far: then every UID below
 * UIDNEXT that no message has is listed (a superset, as RFC 7162 3.2.5.2
 * allows). */
int mstore_view_expunged_since(
    struct mstore_view *v, uint64_t modseq, uint32_t **uids, size_t *n, bool *exact);

/* ---- POP3 and maintenance ---- */

/* Takes the store's POP3 session lock (one POP3 session per mailbox);
 * MSTORE_ETEMP when another session has it.  Released at close. */
int mstore_pop3_lock(struct mstore *s);
/* Drops the folder's index and builds it again from the Maildir. */
int mstore_folder_rebuild(struct mstore *s, const char *name);

#endif
