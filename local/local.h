/*
 * local.h - the local delivery agent's parts.
 *
 *   copy.c     writes a message (Return-Path, Delivered-To, header, body)
 *              from the queue file to a mailbox file, optionally with mbox
 *              "From " escaping
 *   maildir.c  Maildir delivery, unique names, mailbox path safety
 *   mbox.c     mbox delivery with fcntl locking and truncation on failure
 *   virtual.c  virtual mailbox look-ups (path, uid, gid)
 *   dotlock.c  "mailbox.lock" files with stale-lock removal
 *   command.c  delivery to a command (mailbox_command, |command targets)
 *   user.c     system users (class "local"): passwd, mailbox choice,
 *              privileges
 *   alias.c    aliases, :include:, .forward and their targets
 *   forward.c  re-submitting mail for non-local targets through cleanup
 *   sieve.c    Sieve filtering (lib/sieve) of Maildir deliveries
 *   system.c   a class "local" recipient from qmgr
 *   result.c   one recipient's result (status, enhanced code, reason)
 *   deliver.c  the conversation with qmgr (proto.h) and per-recipient logs
 *
 * The delivery functions do no privilege switching themselves: the caller
 * switches to the mailbox owner around them, so they can be tested as the
 * current user.
 */
#ifndef TERN_LOCAL_H
#define TERN_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* The reply op for one recipient's result; proto.h names no macro for it. */

/* The message in the queue file, as qmgr described it. */
struct local_msg {
	int fd; /* queue file, read-only, read with pread only */
	const char *qid;
	const char *sender; /* "" for the null sender */
	off_t header_off, header_len;
	off_t body_off, body_len;
	/* a header section edited by Sieve (editheader), stored instead of
	 * the queue file's (NUL-terminated); NULL: none */
	const char *header_mem;
	size_t header_mem_len;
};

/* One recipient's outcome, as reported to qmgr. */
struct local_result {
	const char *result; /* RES_SENT, RES_DEFERRED or RES_BOUNCED */
	char dsn[8];	    /* "2.0.0" */
	char reason[256];
};

/*
 * One delivery of an expanded recipient (alias, .forward, :include:):
 * logged as to=<addr> with the recipient qmgr gave as orig_to=, one line
 * per address as Postfix's local logs them.
 */
struct local_target {
	char *addr;
	struct local_result r;
};

struct local_targets {
	struct local_target *v;
	size_t n;
};

void local_targets_add(struct local_targets *t, const char *addr, const struct local_result *r);
void local_targets_free(struct local_targets *t);

void local_result_set(struct local_result *r, const char *result, const char *dsn, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
/* deferred 4.3.1 for ENOSPC (file system full), 4.2.2 "mailbox full" for
 * EDQUOT, bounced 5.2.2 for EFBIG, else deferred 4.3.0 "what: strerror". */
void local_result_errno(struct local_result *r, int err, const char *what);

/* copy.c: writes the whole message to fd in the form of its consumer:
 * a Maildir file, an mbox append ("From " line, '>From ' escapes, an
 * empty line at the end) or a command's input ("From " line only).
 * 0, or -1 with errno set. */
enum local_copy_form { LOCAL_COPY_MAILDIR, LOCAL_COPY_MBOX, LOCAL_COPY_COMMAND };
int local_copy_message(
    int fd, const struct local_msg *m, const char *rcpt, enum local_copy_form form);
/* The same, telling the bytes written and the virtual size (line ends
 * counted as CRLF, what IMAP's RFC822.SIZE is; vsize may be NULL). */
int local_copy_message_sizes(int fd, const struct local_msg *m, const char *rcpt,
    enum local_copy_form form, uint64_t *size, uint64_t *vsize);
/* Creates dir and its missing parents (mode 0700), syncing each new entry.
 * 0, or -1 with errno set. */
int local_mkdirs(const char *dir);

/* maildir.c */
/* True for a mailbox path relative to virtual_mailbox_base that cannot
 * leave it: not empty, not absolute, no ".." component. */
bool maildir_path_safe(const char *path);
/* Delivers into the Maildir dir (created if missing) through the mailbox
 * store: the message gets its UID (dovecot-uidlist) and index entry at
 * once.  0 when it is in dir/new, fsync'ed, with the fsync of new/ itself
 * queued for maildir_sync_pending(); else -1.  r says which either way. */
/* quota.c: the quota of the recipient being delivered (virtual
 * mailboxes: its quota_rule in auth_users_file; call as root), applied to
 * the store before each save. */
struct mstore;
void local_quota_begin(const char *rcpt);
/* After the delivery, as root: sends the quota warning a save made due
 * (rcpt NULL: none); ends what local_quota_begin started. */
void local_quota_end(const char *qid, const char *rcpt);
/* After a save of size bytes left the use at q: notes a warning due. */
struct mstore_quota;
void local_quota_saved(const struct mstore_quota *q, uint64_t size);
void local_quota_apply(struct mstore *s);
/* The limits local_quota_apply sets (0: none). */
void local_quota_limits(uint64_t *bytes, uint64_t *messages);

int maildir_deliver(
    const struct local_msg *m, const char *rcpt, const char *dir, struct local_result *r);
/* Where in a Maildir, with which flags (Sieve's fileinto and keep). */
struct maildir_target {
	const char *folder; /* "INBOX" or a folder name of the store */
	unsigned flags;	    /* MSTORE_F_* */
	char **keywords;    /* NULL-terminated or NULL */
	bool create;	    /* make the folder when missing */
};
int maildir_deliver_to(const struct local_msg *m, const char *rcpt, const char *dir,
    const struct maildir_target *t, struct local_result *r);
/* junk.c: junk_mail_folder when a junk_mail_headers mark is on m, else
 * "INBOX" (the folder of a delivery without Sieve). */
const char *local_junk_folder(const struct local_msg *m);
/* True when the Maildir dir has the folder (INBOX always). */
bool maildir_folder_exists(const char *dir, const char *folder);
/* How many deliveries have queued a new/ fsync so far (a counter: a
 * caller compares it before and after one recipient). */
unsigned long maildir_pending_added(void);
/* fsyncs and closes every queued new/.  0, or -1 with errno set when any
 * failed: the deliveries that queued since the last call are not durable. */
int maildir_sync_pending(void);
/* The use and limits (local_quota_apply) of the Maildir dir, opened
 * anew, never made; 0, or -1 with errno (ENOENT: no Maildir yet). */
int maildir_quota(const char *dir, struct mstore_quota *q);

/* mbox.c: appends to the mbox file path (created if missing), or leaves it
 * exactly as it was.  0 or -1; r says which either way. */
int mbox_deliver(
    const struct local_msg *m, const char *rcpt, const char *path, struct local_result *r);
/* True when the header holds "Delivered-To: addr" (copy.c); a loop. */
bool local_header_delivered_to(const struct local_msg *m, const char *addr);

/* dotlock.c: "path.lock"; returns the lock's name (pass it to release)
 * or NULL with errno set (EAGAIN: still locked after every attempt). */
char *dotlock_acquire(const char *path);
void dotlock_release(char *lock);

/* command.c */
struct local_cmd {
	const char *command; /* run with /bin/sh -c */
	uid_t uid;
	gid_t gid;
	const char *user_name; /* for the supplementary groups; NULL: gid only */
	const char *home;      /* working directory; "/" when NULL or missing */
	char **env;	       /* "NAME=value", NULL-terminated */
};
/* Appends NAME=value, value filtered by command_expansion_filter. */
void command_env_add(char ***env, size_t *n, const char *name, const char *value);
/* Runs the command with the message on stdin; must be called with root's
 * effective ids when local runs as root.  0 when delivered; r says. */
int command_deliver(
    const struct local_msg *m, const char *rcpt, const struct local_cmd *c, struct local_result *r);
/* Maps a wait() status and the command output to a result (sysexits). */
void command_result(int status, bool timed_out, const char *output, struct local_result *r);

/* user.c */
struct local_user {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;
	char *shell;
};
/* getpwnam(name); false when there is no such user. */
bool local_user_lookup(const char *name, struct local_user *u);
void local_user_free(struct local_user *u);
/* The identity for a delivery: the user's, or default_privs for root
 * (Postfix delivers nothing to commands or files as root); then the name
 * is NULL, so only the primary group of default_privs is used. */
void local_user_privs(const struct local_user *u, struct local_user *as);
/* Delivers to the user's mailbox: mailbox_command, home_mailbox (Maildir
 * or mbox) or the spool mbox.  addr is the recipient as written into
 * Delivered-To, orig the one qmgr asked for, ext the extension or NULL. */
void user_deliver_mailbox(const struct local_msg *m, const char *addr, const char *orig,
    const char *ext, const struct local_user *u, struct local_result *r);
/* The environment of a command delivered for addr (free with strv_free). */
char **user_command_env(const struct local_msg *m, const char *addr, const char *orig,
    const char *ext, const struct local_user *u);
/* Delivers a class "local" recipient from qmgr (aliases, .forward, user). */
void local_deliver_system(
    const struct local_msg *m, const char *rcpt, struct local_result *r, struct local_targets *t);

/* alias.c: expands and delivers one class "local" recipient. */

void alias_deliver(
    const struct local_msg *m, const char *rcpt, struct local_result *r, struct local_targets *t);

/* forward.c: a new message for rcpts through cleanup, with the given
 * envelope sender and a "Delivered-To: delivered_to" header on top.
 * 0 when cleanup has it on disk; r says either way. */
int forward_submit(const struct local_msg *m, const char *sender, const char *delivered_to,
    char *const *rcpts, size_t n, struct local_result *r);

/* sieve.c: runs the recipient's Sieve scripts (sieve_before, the user's
 * active script, sieve_after) and performs their actions on the Maildir
 * dir; home is where "~" of the script paths points.  0 when there is no
 * script to run (the caller delivers as usual), 1 when Sieve decided
 * (r says how it went; a script error keeps the message in INBOX). */
int local_sieve_deliver(const struct local_msg *m, const char *rcpt, const char *dir,
    const char *home, struct local_result *r);

/* forward.c: a new message (text: header, empty line, body) from sender
 * ("" for the null sender) to rcpts[0..n) through cleanup; qid names the
 * message it answers in the log.  0 when cleanup has it on disk. */
int forward_submit_text(const char *qid, const char *sender, char *const *rcpts, size_t n,
    const char *text, struct local_result *r);

/* virtual.c */
struct vmailbox {
	char *path;   /* full path below virtual_mailbox_base */
	bool maildir; /* the table value ended in '/' */
	uid_t uid;
	gid_t gid;
};
/* Looks rcpt up in virtual_mailbox_maps, virtual_uid_maps,
 * virtual_gid_maps.  0 with mb filled (free mb->path), or -1 with r set. */
int virtual_lookup(const char *rcpt, struct vmailbox *mb, struct local_result *r);

/* deliver.c: daemon_serve_fn; ctx points to a bool, true for the
 * virtual(8) mode (every recipient a virtual mailbox). */
void local_serve(int fd, void *ctx);
/* quota_status.c: daemon_serve_fn of the quota-status mode (same ctx). */
void quota_status_serve(int fd, void *ctx);

#endif
