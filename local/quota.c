/*
 * quota.c - the quota a Maildir delivery is checked against (local(8)).
 *
 * The defaults are mailbox_quota_storage and mailbox_quota_messages; an
 * account of auth_users_file with a quota_rule ("tern user quota",
 * Dovecot's userdb_quota_rule) has its own, the same numbers auth gives
 * the imap process for QUOTA and APPEND.  The file is read as root (it
 * is not the mailbox owner's to read) before the delivery switches to
 * the owner, and kept until its inode, size or mtime change.  The store
 * checks every save, INBOX or a Sieve fileinto alike, against
 * maildirsize with these limits.
 */
#include "local.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "auth/passwd_file.h"
#include "config.h"
#include "file_replace.h"
#include "log.h"
#include "mstore/mstore.h"
#include "util.h"

static struct {
	struct pwf pwf;
	struct buf text; /* pwf points into it */
	struct stat st;
	bool loaded;
	/* the recipient being delivered */
	bool set;
	uint64_t bytes, messages;
} lq;

/* Reads auth_users_file again when it changed; false when there is none. */
static bool lq_load(void)
{
	const char *path = config_str("auth_users_file");
	struct buf errs = BUF_INIT;
	struct stat st;

	if (*path == 0 || stat(path, &st) < 0) {
		if (lq.loaded) {
			pwf_free(&lq.pwf);
			buf_free(&lq.text);
			lq.loaded = false;
		}
		return false;
	}
	if (lq.loaded && st.st_ino == lq.st.st_ino && st.st_dev == lq.st.st_dev &&
	    st.st_size == lq.st.st_size && st.st_mtim.tv_sec == lq.st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == lq.st.st_mtim.tv_nsec)
		return true;
	if (lq.loaded) {
		pwf_free(&lq.pwf);
		explicit_bzero(lq.text.data ? lq.text.data : "", lq.text.len);
		buf_free(&lq.text);
		lq.loaded = false;
	}
	if (file_read_all(path, &lq.text) < 0) {
		buf_free(&lq.text);
		return false;
	}
	pwf_parse(lq.text.data ? lq.text.data : "", lq.text.len, path, &lq.pwf, &errs);
	buf_free(&errs);
	lq.st = st;
	lq.loaded = true;
	return true;
}

void local_quota_begin(const char *rcpt)
{
	struct mstore_opts o;
	const struct pwf_entry *e;

	mstore_opts_from_config(&o);
	if (lq_load() && (e = pwf_find(&lq.pwf, rcpt)) != NULL)
		mstore_opts_quota_rule(&o, pwf_extra(e, "quota_rule", true));
	lq.bytes = o.quota_bytes;
	lq.messages = o.quota_messages;
	lq.set = true;
}

void local_quota_end(void)
{
	lq.set = false;
}

void local_quota_apply(struct mstore *s)
{
	if (lq.set)
		mstore_set_quota(s, lq.bytes, lq.messages);
	else
		mstore_set_quota(s, (uint64_t)config_size("mailbox_quota_storage"),
		    (uint64_t)config_int("mailbox_quota_messages"));
}
