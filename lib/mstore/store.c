/*
 * store.c - opening and closing a user's store, errors, options.
 *
 * A struct mstore is one Maildir root in one process.  It keeps the
 * folders opened through it (folder.c) so that views, saves and status
 * calls on the same folder share one state and one set of descriptors.
 */
#include "mstore/mstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/quota_rule.h"
#include "config.h"
#include "util.h"

int ms_fail(struct mstore *s, enum mstore_error e, const char *fmt, ...)
{
	va_list ap;

	s->err = e;
	s->err_errno = 0;
	va_start(ap, fmt);
	vsnprintf(s->errstr, sizeof(s->errstr), fmt, ap);
	va_end(ap);
	return -1;
}

int ms_fail_errno(struct mstore *s, const char *what, const char *path)
{
	int err = errno;
	enum mstore_error e = MSTORE_EIO;

	/* A full file system is the system's problem (4.3.1); the owner's
	 * own disk quota is a full mailbox (4.2.2), as the Maildir++ quota. */
	if (err == ENOSPC)
		e = MSTORE_ENOSPACE;
	else if (err == EDQUOT)
		e = MSTORE_EQUOTA;
	else if (err == EAGAIN)
		e = MSTORE_ETEMP;
	ms_fail(s, e, "%s %s: %s", what, path, strerror(err));
	s->err_errno = err;
	errno = err;
	return -1;
}

enum mstore_error mstore_error(const struct mstore *s)
{
	return s->err;
}

const char *mstore_strerror(const struct mstore *s)
{
	return s->err == MSTORE_OK ? "no error" : s->errstr;
}

int ms_lock_stale(const struct mstore *s)
{
	return s->opts.lock_stale_secs ? (int)s->opts.lock_stale_secs : MDLOCK_UIDLIST_STALE;
}

int mstore_errno(const struct mstore *s)
{
	return s->err == MSTORE_OK ? 0 : s->err_errno;
}

bool mstore_error_internal(const struct mstore *s)
{
	switch (s->err) {
	case MSTORE_OK: return false;
	case MSTORE_ENOTFOUND:
	case MSTORE_EEXISTS:
	case MSTORE_EINVAL:
	case MSTORE_ELIMIT:
	case MSTORE_EEXPUNGED:
	case MSTORE_EQUOTA: return s->err_errno != 0;
	default: return true;
	}
}

int64_t ms_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* /proc/sys/kernel/random/boot_id as 16 bytes (zeros when unreadable:
 * then every open looks like a new boot, which only costs modseq jumps). */
const uint8_t *ms_boot_id(struct mstore *s)
{
	char text[64];
	int fd, n = 0;

	if (s->boot_known)
		return s->boot_id;
	s->boot_known = true;
	memset(s->boot_id, 0, sizeof(s->boot_id));
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = (int)read(fd, text, sizeof(text) - 1);
		close(fd);
	}
	for (int i = 0, j = 0; i < n && j < 32; i++) {
		int v = hex_value((unsigned char)text[i]);

		if (v < 0)
			continue;
		s->boot_id[j / 2] |= (uint8_t)(j % 2 ? v : v << 4);
		j++;
	}
	return s->boot_id;
}

uint32_t ms_flags_to_upper(unsigned flags)
{
	uint32_t u = 0;

	if (flags & MSTORE_F_SEEN)
		u |= MDF_SEEN;
	if (flags & MSTORE_F_ANSWERED)
		u |= MDF_REPLIED;
	if (flags & MSTORE_F_FLAGGED)
		u |= MDF_FLAGGED;
	if (flags & MSTORE_F_DELETED)
		u |= MDF_TRASHED;
	if (flags & MSTORE_F_DRAFT)
		u |= MDF_DRAFT;
	return u;
}

unsigned ms_upper_to_flags(uint32_t upper)
{
	unsigned f = 0;

	if (upper & MDF_SEEN)
		f |= MSTORE_F_SEEN;
	if (upper & MDF_REPLIED)
		f |= MSTORE_F_ANSWERED;
	if (upper & MDF_FLAGGED)
		f |= MSTORE_F_FLAGGED;
	if (upper & MDF_TRASHED)
		f |= MSTORE_F_DELETED;
	if (upper & MDF_DRAFT)
		f |= MSTORE_F_DRAFT;
	return f;
}

void mstore_opts_init(struct mstore_opts *o)
{
	memset(o, 0, sizeof(*o));
}

void mstore_opts_from_config(struct mstore_opts *o)
{
	mstore_opts_init(o);
	o->autocreate = config_bool("mailbox_autocreate");
	o->autosubscribe = config_bool("mailbox_autosubscribe");
	o->special_use = config_str("mailbox_special_use");
	o->quota_bytes = (uint64_t)config_size("mailbox_quota_storage");
	o->quota_messages = (uint64_t)config_int("mailbox_quota_messages");
}

void mstore_opts_quota_rule(struct mstore_opts *o, const char *rule)
{
	long long bytes = -1, messages = -1;

	if (rule == NULL || *rule == 0 || quota_rule_parse(rule, &bytes, &messages) < 0)
		return;
	if (bytes > 0)
		o->quota_bytes = (uint64_t)bytes;
	if (messages > 0)
		o->quota_messages = (uint64_t)messages;
}

void mstore_set_quota(struct mstore *s, uint64_t bytes, uint64_t messages)
{
	s->opts.quota_bytes = bytes;
	s->opts.quota_messages = messages;
}

/* Creates the root as a Maildir (cur, new, tmp), parents included. */
static int ms_create_root(const char *root)
{
	char *p = xstrdup(root);
	int r = 0;

	for (char *q = p + 1; *q && r == 0; q++) {
		if (*q != '/')
			continue;
		*q = 0;
		if (mkdir(p, MF_DIR_MODE) < 0 && errno != EEXIST)
			r = -1;
		*q = '/';
	}
	free(p);
	if (r == 0 && mkdir(root, MF_DIR_MODE) < 0 && errno != EEXIST)
		r = -1;
	return r;
}

struct mstore *mstore_open(const char *root, const struct mstore_opts *o, struct buf *err)
{
	struct mstore *s;
	struct stat st;

	if (root == NULL || *root == 0) {
		buf_printf(err, "empty Maildir path");
		return NULL;
	}
	if (stat(root, &st) < 0) {
		if (errno != ENOENT || !o->create || ms_create_root(root) < 0) {
			int saved = errno;

			buf_printf(err, "Maildir %s: %s", root, strerror(saved));
			errno = saved;
			return NULL;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		buf_printf(err, "Maildir %s: not a directory", root);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->root = xstrdup(root);
	while (strlen(s->root) > 1 && s->root[strlen(s->root) - 1] == '/')
		s->root[strlen(s->root) - 1] = 0;
	s->opts = *o;
	s->special_use = o->special_use ? xstrdup(o->special_use) : NULL;
	s->opts.special_use = s->special_use;
	s->pop3_fd = -1;
	s->notify_fd = -1;
	if (ml_make_dirs(s, s->root, true) < 0) {
		buf_printf(err, "%s", s->errstr);
		mstore_close(s);
		return NULL;
	}
	if (o->autocreate && ml_autocreate(s) < 0) {
		buf_printf(err, "%s", s->errstr);
		mstore_close(s);
		return NULL;
	}
	return s;
}

void mstore_close(struct mstore *s)
{
	if (s == NULL)
		return;
	/* Views left open by the caller go with the store. */
	for (struct mstore_folder *f = s->folders; f; f = f->next)
		while (f->views)
			mstore_view_close(f->views);
	while (s->folders)
		mf_close(s->folders);
	if (s->pop3_fd >= 0)
		close(s->pop3_fd);
	if (s->notify_fd >= 0)
		mn_store_gone(s);
	free(s->root);
	free(s->special_use);
	free(s->save_dir);
	free(s);
}

const char *mstore_root(const struct mstore *s)
{
	return s->root;
}

int mstore_pop3_lock(struct mstore *s)
{
	char *path;

	if (s->pop3_fd >= 0)
		return 0;
	path = xasprintf("%s/tern.pop3.lock", s->root);
	s->pop3_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, MF_FILE_MODE);
	if (s->pop3_fd < 0) {
		ms_fail_errno(s, "open", path);
		free(path);
		return -1;
	}
	free(path);
	if (flock(s->pop3_fd, LOCK_EX | LOCK_NB) < 0) {
		close(s->pop3_fd);
		s->pop3_fd = -1;
		return ms_fail(s, MSTORE_ETEMP, "another POP3 session holds the mailbox");
	}
	return 0;
}
