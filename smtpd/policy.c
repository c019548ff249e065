/*
 * policy.c - which recipients smtpd accepts: relay control in one place.
 *
 * policy_check_rcpt() is Postfix's smtpd_reject_unlisted_recipient, run
 * after the restriction lists (restrictions.c, which decide relaying):
 *   a key of virtual_alias_maps -> accept, whatever the domain
 *   virtual alias domain        -> reject (550 5.1.1)
 *   virtual mailbox domain      -> accept only addresses in virtual_mailbox_maps
 *   local domain                -> accept only local_recipient_maps users
 *   anything else               -> accept (relaying was decided before)
 * A table that cannot be read gives a 4xx, never a 5xx: the client retries
 * instead of bouncing mail for a user who may well exist.
 *
 * Not here: relay control and the other restrictions (restrictions.c),
 * address syntax (address.c), the postmaster exception and the recipient
 * limit (commands.c), logging of rejects (session.c).
 */
#include "local_rcpt.h"
#include "maps.h"
#include "resolve.h"
#include "smtpd.h"
#include "valias.h"

static enum policy_result policy_defer(struct buf *reply, const char *rcpt)
{
	buf_printf(reply, "451 4.3.0 <%s>: Temporary lookup failure", rcpt);
	return POLICY_DEFER;
}

enum policy_result policy_check_rcpt(
    const struct smtpd_session *s, const char *rcpt, struct buf *reply)
{
	(void)s;
	struct resolved r;
	bool error = false;
	const char *v;

	if (!resolve_addr(rcpt, &r))
		return policy_defer(reply, rcpt);
	/* Postfix: an address virtual_alias_maps knows is valid in any class. */
	switch (valias_known(rcpt)) {
	case MAPS_FOUND: return POLICY_OK;
	case MAPS_TEMPFAIL: return policy_defer(reply, rcpt);
	case MAPS_NOTFOUND: break;
	}
	switch (r.cls) {
	case CLASS_ALIAS:
		buf_printf(reply,
		    "550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown in virtual alias table",
		    rcpt);
		return POLICY_REJECT;
	case CLASS_VIRTUAL:
		/* The address, then the "@domain" catch-all, as local does. */
		switch (maps_find(maps_open("virtual_mailbox_maps"), rcpt, MAPS_ADDR_DOMAIN, &v)) {
		case MAPS_FOUND: return POLICY_OK;
		case MAPS_TEMPFAIL: return policy_defer(reply, rcpt);
		case MAPS_NOTFOUND: break;
		}
		buf_printf(reply,
		    "550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown in virtual mailbox table",
		    rcpt);
		return POLICY_REJECT;
	case CLASS_LOCAL:
		if (local_rcpt_known(rcpt, &error))
			return POLICY_OK;
		if (error)
			return policy_defer(reply, rcpt);
		buf_printf(reply,
		    "550 5.1.1 <%s>: Recipient address rejected: "
		    "User unknown in local recipient table",
		    rcpt);
		return POLICY_REJECT;
	case CLASS_RELAY:
	case CLASS_DEFAULT: break;
	}
	return POLICY_OK;
}
