/*
 * system.c - a class "local" recipient from qmgr: loop and size checks,
 * then the system user's mailbox.
 *
 * Order of checks, Postfix's: a recipient already named in a
 * Delivered-To: header is a mail loop (bounced 5.4.6, never delivered
 * again); a message over message_size_limit is bounced (5.3.4); the user
 * is the local part, lower-cased, without its extension, looked up with
 * getpwnam(); a user that vanished since smtpd accepted the address is
 * bounced (5.1.1).
 */
#include "local.h"

#include <string.h>

#include "config.h"
#include "local_rcpt.h"
#include "log.h"
#include "proto.h"
#include "util.h"

void local_deliver_system(const struct local_msg *m, const char *rcpt, struct local_result *r)
{
	long long limit = config_size("message_size_limit");
	struct local_rcpt lr;
	struct local_user u;

	if (local_header_delivered_to(m, rcpt)) {
		local_result_set(r, RES_BOUNCED, "5.4.6", "mail forwarding loop for %s", rcpt);
		return;
	}
	if (limit > 0 && m->header_len + m->body_len > limit) {
		local_result_set(r, RES_BOUNCED, "5.3.4", "message size exceeds message_size_limit");
		return;
	}
	local_rcpt_split(rcpt, &lr);
	if (!local_user_lookup(lr.user, &u))
		local_result_set(r, RES_BOUNCED, "5.1.1", "unknown user: \"%s\"", lr.user);
	else
		user_deliver_mailbox(m, rcpt, rcpt, lr.ext, &u, r);
	local_user_free(&u);
	local_rcpt_free(&lr);
}
