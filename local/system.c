/*
 * system.c - a class "local" recipient from qmgr: loop and size checks,
 * then the system user's mailbox.
 *
 * A message over message_size_limit is bounced (5.3.4) before anything
 * else; alias.c does the rest: the Delivered-To: loop check (5.4.6),
 * aliases, .forward, and the user, the local part lower-cased without
 * its extension, looked up with getpwnam(); a user that vanished since
 * smtpd accepted the address is bounced (5.1.1).
 */
#include "local.h"

#include <string.h>

#include "config.h"
#include "proto.h"

void local_deliver_system(
    const struct local_msg *m, const char *rcpt, struct local_result *r, struct local_targets *t)
{
	long long limit = config_size("message_size_limit");

	if (limit > 0 && m->header_len + m->body_len > limit)
		local_result_set(
		    r, RES_BOUNCED, "5.3.4", "message size exceeds message_size_limit");
	else
		alias_deliver(m, rcpt, r, t);
}
