/*
 * maildir.c - Maildir delivery, through the mailbox store (lib/mstore).
 *
 * DESIGN.md invariant 2: a recipient is reported delivered only once the
 * message is durable in new/.  The store writes it to tmp/<unique>,
 * fsyncs it, renames it into new/ as "<unique>,S=<size>,W=<vsize>",
 * gives it the next UID in dovecot-uidlist and an entry in tern's index
 * (so IMAP sees it at once, with its UID, and IDLE sessions wake up);
 * a crash before that leaves at most a tmp/ file and qmgr retries: at
 * worst a message then arrives twice, never zero times.
 *
 * UIDs at delivery: once a tern server reads the mailbox (its folder has
 * a tern index), delivery takes the uidlist lock and gives the UID at
 * once: a dozen system calls and no fsync (the store appends the UID
 * record without syncing it; readers sync dovecot-uidlist before they
 * show a new UID to anyone, see view.c), so IMAP sessions find the
 * message complete.  A mailbox no tern server reads (no index yet: new,
 * or read by another IMAP server) gets plain Maildir deliveries, as
 * Postfix's: its first reader gives the UIDs, as Dovecot does; no lock
 * and no index cost there.
 *
 * The fsync of new/ is shared: the store leaves it to us
 * (defer_dir_sync), maildir_sync_later() keeps new/ open (opened as the
 * mailbox owner) in a short list, once per directory, and the caller runs
 * maildir_sync_pending() before it reports any of the request's
 * recipients, so 20 recipients with one Maildir cost one directory
 * fsync, not 20.  The folders are made only when the store says one is
 * missing.
 *
 * Open stores are kept for the process's life (a few, most recent
 * first), so a second delivery to the same mailbox costs no directory
 * opens.
 *
 * Not here: which user we are (the caller switched to the mailbox owner);
 * quota limits come from main.cf (mailbox_quota_*), the account's
 * quota_rule (quota.c) or maildirsize; over quota defers or bounces as
 * quota_full_tempfail says.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "mstore/mstore.h"
#include "proto.h"
#include "util.h"

bool maildir_path_safe(const char *path)
{
	const char *p = path;

	if (*path == 0 || *path == '/')
		return false;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

/* ---- open stores, most recently used first ---- */

#define MAILDIR_STORES 8

struct maildir_store {
	char *path;
	uid_t uid; /* the owner it was opened as */
	struct mstore *s;
};

static struct maildir_store maildir_stores[MAILDIR_STORES];

static void maildir_store_drop(size_t i)
{
	mstore_close(maildir_stores[i].s);
	free(maildir_stores[i].path);
	memmove(&maildir_stores[i], &maildir_stores[i + 1],
	    (MAILDIR_STORES - i - 1) * sizeof(maildir_stores[0]));
	memset(&maildir_stores[MAILDIR_STORES - 1], 0, sizeof(maildir_stores[0]));
}

/* The open store of dir, opening (and creating) it when needed; NULL
 * with errno and *why set. */
static struct mstore *maildir_store_get(const char *dir, bool *made, const char **why)
{
	struct maildir_store e;
	struct mstore_opts o;
	struct buf err = BUF_INIT;
	uid_t me = geteuid();

	for (size_t i = 0; i < MAILDIR_STORES && maildir_stores[i].s; i++) {
		if (maildir_stores[i].uid == me && strcmp(maildir_stores[i].path, dir) == 0) {
			e = maildir_stores[i];
			memmove(&maildir_stores[1], &maildir_stores[0], i * sizeof(e));
			maildir_stores[0] = e;
			return e.s;
		}
	}
	mstore_opts_from_config(&o);
	o.autocreate = false; /* the special-use folders come with the first login */
	e.s = mstore_open(dir, &o, &err);
	if (e.s == NULL && errno == ENOENT) {
		/* Parents made durably, one fsync each (local_mkdirs). */
		*made = true;
		buf_reset(&err);
		if (local_mkdirs(dir) == 0)
			e.s = mstore_open(dir, &o, &err);
	}
	if (e.s == NULL) {
		int saved = errno ? errno : EIO;

		*why = "open maildir";
		buf_free(&err);
		errno = saved;
		return NULL;
	}
	buf_free(&err);
	if (maildir_stores[MAILDIR_STORES - 1].s)
		maildir_store_drop(MAILDIR_STORES - 1);
	memmove(&maildir_stores[1], &maildir_stores[0], (MAILDIR_STORES - 1) * sizeof(e));
	e.path = xstrdup(dir);
	e.uid = me;
	maildir_stores[0] = e;
	return e.s;
}

/* Forgets dir's store (after an error: the next delivery opens it anew). */
static void maildir_store_forget(const char *dir)
{
	for (size_t i = 0; i < MAILDIR_STORES && maildir_stores[i].s; i++) {
		if (strcmp(maildir_stores[i].path, dir) == 0) {
			maildir_store_drop(i);
			return;
		}
	}
}

/* ---- directory fsyncs shared by a request ---- */

/* new/ folders renamed into and not fsync'ed yet, each once. */
#define MAILDIR_PENDING_MAX 32

struct maildir_pending {
	int fd;
	dev_t dev;
	ino_t ino;
	char *dir; /* as given: the same path again needs no open */
};

static struct maildir_pending maildir_pend[MAILDIR_PENDING_MAX];
static size_t maildir_npend;
static unsigned long maildir_nadded;

static int maildir_sync_fd(int fd)
{
	int r = fsync(fd);

	if (close(fd) < 0 && r == 0)
		r = -1;
	return r;
}

/* Queues the directory dir for maildir_sync_pending(); syncs at once
 * when the list is full.  made: this delivery made folders, so a queued
 * entry for the same path may be a removed folder and the path is opened
 * again.  0, or -1 with errno set. */
static int maildir_sync_later(const char *dir, bool made)
{
	struct stat st;
	int fd;

	for (size_t i = 0; i < maildir_npend && !made; i++) {
		if (strcmp(maildir_pend[i].dir, dir) == 0) {
			maildir_nadded++;
			return 0;
		}
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	maildir_nadded++;
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	for (size_t i = 0; i < maildir_npend; i++) {
		if (maildir_pend[i].dev == st.st_dev && maildir_pend[i].ino == st.st_ino) {
			close(fd);
			return 0;
		}
	}
	if (maildir_npend == MAILDIR_PENDING_MAX)
		return maildir_sync_fd(fd);
	maildir_pend[maildir_npend].fd = fd;
	maildir_pend[maildir_npend].dev = st.st_dev;
	maildir_pend[maildir_npend].ino = st.st_ino;
	maildir_pend[maildir_npend].dir = xstrdup(dir);
	maildir_npend++;
	return 0;
}

unsigned long maildir_pending_added(void)
{
	return maildir_nadded;
}

int maildir_sync_pending(void)
{
	int r = 0, err = 0;

	for (size_t i = 0; i < maildir_npend; i++) {
		if (maildir_sync_fd(maildir_pend[i].fd) < 0 && r == 0) {
			r = -1;
			err = errno;
		}
		free(maildir_pend[i].dir);
	}
	maildir_npend = 0;
	errno = err;
	return r;
}

int maildir_quota(const char *dir, struct mstore_quota *q)
{
	struct mstore_opts o;
	struct buf err = BUF_INIT;
	struct mstore *s;
	int r, e;

	mstore_opts_from_config(&o);
	o.autocreate = false;
	if ((s = mstore_open(dir, &o, &err)) == NULL) {
		e = errno ? errno : EIO;
		buf_free(&err);
		errno = e;
		return -1;
	}
	buf_free(&err);
	local_quota_apply(s);
	r = mstore_quota_get(s, q);
	e = errno;
	mstore_close(s);
	errno = r < 0 ? (e ? e : EIO) : 0;
	return r;
}

/* ---- delivery ---- */

/* The store's error as a delivery result. */
static void maildir_result(struct mstore *s, struct local_result *r, const char *what)
{
	switch (mstore_error(s)) {
	case MSTORE_EQUOTA:
		/* Dovecot's quota_full_tempfail: defer (452 4.2.2) or bounce
		 * (552 5.2.2) */
		if (config_bool("quota_full_tempfail"))
			local_result_set(
			    r, RES_DEFERRED, "4.2.2", "mailbox full: %s", mstore_strerror(s));
		else
			local_result_set(r, RES_BOUNCED, "5.2.2",
			    "Quota exceeded (mailbox for user is full): %s", mstore_strerror(s));
		break;
	case MSTORE_ENOSPACE: local_result_errno(r, ENOSPC, what); break;
	case MSTORE_ETEMP:
		local_result_set(r, RES_DEFERRED, "4.2.0", "mailbox busy: %s", mstore_strerror(s));
		break;
	default: local_result_set(r, RES_DEFERRED, "4.3.0", "%s: %s", what, mstore_strerror(s));
	}
}

/* One attempt; 1 when a retry with the store opened anew may help. */
static int maildir_try(const struct local_msg *m, const char *rcpt, const char *dir,
    const struct maildir_target *t, bool *made, struct local_result *r)
{
	struct mstore_save_opts o = {0};
	const char *why = NULL;
	struct mstore_save *sv;
	struct mstore *s;
	uint64_t size = 0, vsize = 0;
	enum mstore_error e;

	errno = 0;
	if ((s = maildir_store_get(dir, made, &why)) == NULL) {
		local_result_errno(r, errno, why);
		return -1;
	}
	local_quota_apply(s);
	o.defer_dir_sync = true;
	o.check_quota = true;
	o.lazy_uid = true;
	o.flags = t->flags;
	o.keywords = (const char *const *)t->keywords;
	o.create_folder = t->create;
	if ((sv = mstore_save_begin(s, t->folder, &o)) == NULL) {
		maildir_result(s, r, "create maildir file");
		e = mstore_error(s);
		maildir_store_forget(dir);
		return e == MSTORE_EIO || e == MSTORE_ENOTFOUND ? 1 : -1;
	}
	if (local_copy_message_sizes(
		mstore_save_fd(sv), m, rcpt, LOCAL_COPY_MAILDIR, &size, &vsize) < 0) {
		local_result_errno(r, errno, "write maildir file");
		mstore_save_abort(sv);
		return -1;
	}
	mstore_save_set_sizes(sv, size, vsize);
	if (mstore_save_commit(sv, NULL, NULL) < 0) {
		maildir_result(s, r, "store maildir file");
		e = mstore_error(s);
		maildir_store_forget(dir);
		/* A folder removed under the open store: made again next. */
		return e == MSTORE_EIO || e == MSTORE_ENOTFOUND ? 1 : -1;
	}
	if (maildir_sync_later(mstore_save_dir(s), *made) < 0) {
		local_result_errno(r, errno, "fsync maildir new/");
		return -1;
	}
	if (*config_str("quota_warning_percent")) {
		struct mstore_quota q;

		if (mstore_quota_get(s, &q) == 0)
			local_quota_saved(&q, size);
	}
	local_result_set(r, RES_SENT, "2.0.0", "delivered to maildir");
	return 0;
}

int maildir_deliver_to(const struct local_msg *m, const char *rcpt, const char *dir,
    const struct maildir_target *t, struct local_result *r)
{
	bool made = false;
	int rc = maildir_try(m, rcpt, dir, t, &made, r);

	if (rc == 1) {
		made = true;
		rc = maildir_try(m, rcpt, dir, t, &made, r);
	}
	return rc == 0 ? 0 : -1;
}

int maildir_deliver(
    const struct local_msg *m, const char *rcpt, const char *dir, struct local_result *r)
{
	struct maildir_target t = {.folder = local_junk_folder(m)};
	int rc;

	t.create = strcasecmp(t.folder, "INBOX") != 0;
	rc = maildir_deliver_to(m, rcpt, dir, &t, r);
	if (rc == 0 && t.create)
		log_qid(m->qid, "marked as spam: stored into \"%s\"", t.folder);
	return rc;
}

bool maildir_folder_exists(const char *dir, const char *folder)
{
	struct mstore_status st;
	const char *why = NULL;
	bool made = false;
	struct mstore *s;

	if (strcasecmp(folder, "INBOX") == 0)
		return true;
	if (!mstore_name_valid(folder) || (s = maildir_store_get(dir, &made, &why)) == NULL)
		return false;
	return mstore_status(s, folder, &st, false) == 0;
}
