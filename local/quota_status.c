/*
 * quota_status.c - local(8)'s quota-status mode: a Postfix policy server
 * (SMTPD_POLICY_README) that answers, for smtpd's
 * "check_policy_service unix:private/quota-status" at RCPT, whether the
 * recipient's mailbox can take the message, as Dovecot's quota-status
 * service answers Postfix.
 *
 * The recipient is found the way local delivers it: a virtual mailbox
 * through virtual_mailbox_maps, a system user (the local part without
 * its extension, getpwnam()) with a home_mailbox Maildir; its quota is
 * the one local_quota_begin() gives, and the use is read from the
 * Maildir (maildirsize) as the mailbox owner.  When the message (of the
 * "size" attribute, MAIL FROM's SIZE=, at least one byte) would not fit,
 * the answer is "452 4.2.2 Mailbox is full" (quota_full_tempfail = no:
 * "552 5.2.2"); otherwise, and for anything it cannot tell (an alias, a
 * forward, an mbox, a table that cannot be read), DUNNO (a Maildir
 * not made yet is empty): local checks again at delivery, so nothing is lost by
 * saying too little here.
 *
 * One connection at a time (a blocking server), many requests on it.
 */
#include "local.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "local_rcpt.h"
#include "log.h"
#include "mstore/mstore.h"
#include "policy_proto.h"
#include "privs.h"
#include "resolve.h"
#include "util.h"

/* The Maildir of rcpt and its owner; false when there is none to check. */
static bool qs_mailbox(
    const char *rcpt, bool virtual_only, char **dir, char **account, uid_t *uid, gid_t *gid)
{
	struct resolved res;
	struct local_result r = {0};

	if (!resolve_addr(rcpt, &res))
		return false;
	if (virtual_only || res.cls == CLASS_VIRTUAL) {
		struct vmailbox mb;

		if (virtual_lookup(rcpt, &mb, &r) < 0)
			return false;
		if (!mb.maildir) {
			free(mb.path);
			return false;
		}
		*dir = mb.path;
		*account = xstrdup(rcpt);
		*uid = mb.uid;
		*gid = mb.gid;
		return true;
	}
	if (res.cls == CLASS_LOCAL) {
		const char *hm = config_str("home_mailbox");
		struct local_rcpt lr;
		struct local_user u;
		bool ok;

		if (*hm == 0 || hm[strlen(hm) - 1] != '/' || !maildir_path_safe(hm) ||
		    *config_str("mailbox_command"))
			return false;
		local_rcpt_split(rcpt, &lr);
		ok = local_user_lookup(lr.user, &u);
		local_rcpt_free(&lr);
		if (!ok)
			return false;
		*dir = xasprintf("%s/%s", u.home, hm);
		*account = xstrdup(u.name);
		*uid = u.uid;
		*gid = u.gid;
		local_user_free(&u);
		return true;
	}
	return false;
}

/* The action for one recipient and message size. */
static const char *qs_check(const char *rcpt, unsigned long long size, bool virtual_only)
{
	char *dir = NULL, *account = NULL;
	uid_t uid;
	gid_t gid;
	struct mstore_quota q;
	int r;
	bool root = geteuid() == 0, over;

	if (!qs_mailbox(rcpt, virtual_only, &dir, &account, &uid, &gid))
		return "DUNNO";
	local_quota_begin(account);
	if (root)
		priv_set_effective(uid, gid);
	r = maildir_quota(dir, &q);
	if (root)
		priv_restore();
	if (r < 0 && errno == ENOENT) { /* no Maildir yet: empty */
		memset(&q, 0, sizeof(q));
		local_quota_limits(&q.limit_bytes, &q.limit_messages);
		r = 0;
	} else if (r < 0)
		log_warn("quota-status: to=<%s>: %s: %s", rcpt, dir, strerror(errno));
	local_quota_end(NULL, NULL);
	free(dir);
	free(account);
	if (r < 0)
		return "DUNNO";
	if (size == 0)
		size = 1;
	over = (q.limit_bytes > 0 && q.bytes + size > q.limit_bytes) ||
	       (q.limit_messages > 0 && q.messages + 1 > q.limit_messages);
	if (!over)
		return "DUNNO";
	log_info("quota-status: to=<%s>: over quota (%llu+%llu of %llu bytes, %llu of %llu "
		 "messages)",
	    rcpt, (unsigned long long)q.bytes, size, (unsigned long long)q.limit_bytes,
	    (unsigned long long)q.messages, (unsigned long long)q.limit_messages);
	return config_bool("quota_full_tempfail") ? "452 4.2.2 Mailbox is full"
						  : "552 5.2.2 Mailbox is full";
}

/* Writes all of out; -1 when the client went. */
static int qs_write(int fd, const struct buf *out)
{
	size_t off = 0;

	while (off < out->len) {
		ssize_t n = send(fd, out->data + off, out->len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

void quota_status_serve(int fd, void *ctx)
{
	static const char *const names[] = {"recipient", "size", NULL};
	bool virtual_only = *(const bool *)ctx;
	struct buf in = BUF_INIT, out = BUF_INIT;

	for (;;) {
		char *v[2];
		size_t used = 0;
		int r = policy_parse(
		    in.data ? in.data : "", in.len, POLICY_REQUEST_MAX, names, v, &used);

		if (r < 0) {
			log_warn("quota-status: malformed request");
			break;
		}
		if (r == 0) {
			ssize_t n;

			buf_reserve(&in, 4096);
			n = recv(fd, buf_tail(&in), 4096, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			buf_commit(&in, (size_t)n);
			continue;
		}
		buf_consume(&in, used);
		{
			unsigned long long size = v[1] ? strtoull(v[1], NULL, 10) : 0;
			const char *action =
			    v[0] && *v[0] ? qs_check(v[0], size, virtual_only) : "DUNNO";

			buf_reset(&out);
			policy_attr(&out, "action", action);
			buf_putc(&out, '\n');
		}
		free(v[0]);
		free(v[1]);
		if (qs_write(fd, &out) < 0)
			break;
	}
	buf_free(&in);
	buf_free(&out);
}
