/*
 * quota.c - the quota a Maildir delivery is checked against (local(8)).
 *
 * The defaults are mailbox_quota_storage and mailbox_quota_messages; an
 * account of auth_users_file with a quota_rule ("tern user quota",
 * Dovecot's userdb_quota_rule) has its own, the same numbers auth gives
 * the imap process for QUOTA and APPEND.  An address with an extension
 * (recipient_delimiter, "dave+lists@example.com") is its account's; a
 * system user's line is the one of its login name, as auth finds it
 * first (else mailbox_quota_* apply to it too).  The file is read as root (it
 * is not the mailbox owner's to read) before the delivery switches to
 * the owner, and kept until its inode, size or mtime change.  The store
 * checks every save, INBOX or a Sieve fileinto alike, against
 * maildirsize with these limits.
 *
 * Quota warnings (Dovecot's quota_warning): when a save takes the use
 * (the larger of the storage and message percentages) across one of
 * quota_warning_percent, the user gets one message saying so, from the
 * null sender with Auto-Submitted: auto-generated, through cleanup once
 * the delivery is over (as root); the highest threshold crossed is the
 * one named.  It comes again only after the use fell below and rose
 * again.
 */
#include "local.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth/passwd_file.h"
#include "config.h"
#include "file_replace.h"
#include "local_rcpt.h"
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
	/* a warning due after this delivery: percent reached, 0: none */
	unsigned warn;
	struct mstore_quota warn_q;
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

/* The account of rcpt: the address as it is, else without its extension. */
static const struct pwf_entry *lq_find(const char *rcpt)
{
	const struct pwf_entry *e = pwf_find(&lq.pwf, rcpt);
	struct local_rcpt lr;

	if (e)
		return e;
	local_rcpt_split(rcpt, &lr);
	if (lr.ext) {
		char *plain =
		    *lr.domain ? xasprintf("%s@%s", lr.user, lr.domain) : xstrdup(lr.user);

		e = pwf_find(&lq.pwf, plain);
		free(plain);
	}
	local_rcpt_free(&lr);
	return e;
}

void local_quota_begin(const char *rcpt)
{
	struct mstore_opts o;
	const struct pwf_entry *e;

	mstore_opts_from_config(&o);
	if (lq_load() && (e = lq_find(rcpt)) != NULL)
		mstore_opts_quota_rule(&o, pwf_extra(e, "quota_rule", true));
	lq.bytes = o.quota_bytes;
	lq.messages = o.quota_messages;
	lq.set = true;
}

/* The use of q in percent of its limits (the larger), 0 without limits. */
static unsigned lq_percent(uint64_t bytes, uint64_t messages, const struct mstore_quota *q)
{
	unsigned long long p = 0, m = 0;

	if (q->limit_bytes)
		p = bytes * 100ULL / q->limit_bytes;
	if (q->limit_messages)
		m = messages * 100ULL / q->limit_messages;
	if (m > p)
		p = m;
	return p > 1000 ? 1000 : (unsigned)p;
}

void local_quota_saved(const struct mstore_quota *q, uint64_t size)
{
	const char *list = config_str("quota_warning_percent");
	unsigned before, after;
	char **v;

	if (!q->limit_bytes && !q->limit_messages)
		return;
	after = lq_percent(q->bytes, q->messages, q);
	before = lq_percent(
	    q->bytes > size ? q->bytes - size : 0, q->messages > 0 ? q->messages - 1 : 0, q);
	v = strv_split_list(list);
	for (size_t i = 0; v[i]; i++) {
		long p;

		if (*v[i] && parse_long(v[i], 1, 100, &p) && before < (unsigned)p &&
		    after >= (unsigned)p && (unsigned)p > lq.warn) {
			lq.warn = (unsigned)p;
			lq.warn_q = *q;
		}
	}
	strv_free(v);
}

/* The warning text for rcpt. */
static void lq_warning_text(const char *rcpt, struct buf *t)
{
	const struct mstore_quota *q = &lq.warn_q;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(t, "From: Mail Delivery System <MAILER-DAEMON@%s>\n", config_str("myhostname"));
	buf_printf(t, "To: <%s>\n", rcpt);
	buf_printf(t, "Subject: Mailbox quota warning: %u%% full\n", lq.warn);
	buf_printf(t, "Date: %s\n", date);
	buf_puts(t, "Auto-Submitted: auto-generated (quota warning)\nPrecedence: bulk\n"
		    "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n");
	buf_printf(t, "Your mailbox is now %u%% full:", lq_percent(q->bytes, q->messages, q));
	if (q->limit_bytes)
		buf_printf(t, " %llu of %llu KiB", (unsigned long long)(q->bytes + 1023) / 1024,
		    (unsigned long long)q->limit_bytes / 1024);
	if (q->limit_messages)
		buf_printf(t, "%s %llu of %llu messages", q->limit_bytes ? "," : "",
		    (unsigned long long)q->messages, (unsigned long long)q->limit_messages);
	buf_puts(t, ".\n\nWhen it is full, new mail waits and is finally returned to its\n"
		    "senders.  Please delete messages you no longer need, and empty the\n"
		    "Trash and Junk folders.\n");
}

void local_quota_end(const char *qid, const char *rcpt)
{
	lq.set = false;
	if (lq.warn && rcpt) {
		struct buf text = BUF_INIT;
		struct local_result r = {0};
		char *to[1] = {(char *)rcpt};

		lq_warning_text(rcpt, &text);
		if (forward_submit_text(qid, "", to, 1, buf_cstr(&text), &r) == 0)
			log_qid(qid, "to=<%s>: quota warning sent (%u%%)", rcpt, lq.warn);
		else
			log_qid_warn(qid, "to=<%s>: quota warning not sent: %s", rcpt, r.reason);
		buf_free(&text);
	}
	lq.warn = 0;
}

void local_quota_limits(uint64_t *bytes, uint64_t *messages)
{
	*bytes = lq.set ? lq.bytes : (uint64_t)config_size("mailbox_quota_storage");
	*messages = lq.set ? lq.messages : (uint64_t)config_int("mailbox_quota_messages");
}

void local_quota_apply(struct mstore *s)
{
	uint64_t bytes, messages;

	local_quota_limits(&bytes, &messages);
	mstore_set_quota(s, bytes, messages);
}
