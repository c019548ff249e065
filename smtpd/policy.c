/*
 * policy.c - which recipients smtpd accepts: relay control in one place.
 *
 * policy_check_rcpt() is Postfix's smtpd_reject_unlisted_recipient, run
 * after the restriction lists (restrictions.c, which decide relaying):
 *   virtual mailbox domain -> accept only addresses in virtual_mailbox_maps
 *   local domain           -> accept only local_recipient_maps users
 *   anything else          -> accept (relaying was decided before)
 * A table that cannot be read gives a 4xx, never a 5xx: the client retries
 * instead of bouncing mail for a user who may well exist.
 *
 * Not here: relay control and the other restrictions (restrictions.c),
 * address syntax (address.c), the postmaster exception and the recipient
 * limit (commands.c), logging of rejects (session.c).
 */
#include <string.h>

#include "config.h"
#include "local_rcpt.h"
#include "log.h"
#include "resolve.h"
#include "smtpd.h"
#include "table.h"
#include "util.h"

/* virtual_mailbox_maps, opened once; a NULL entry failed to open. */
static struct table **policy_vmaps;
static char **policy_vspecs;
static size_t policy_nvmaps;
static bool policy_loaded;

/* Opens a table now if it failed before; NULL while it still fails. */
static struct table *policy_vmap(size_t i)
{
	struct buf err = BUF_INIT;

	if (policy_vmaps[i] == NULL) {
		policy_vmaps[i] = table_open(policy_vspecs[i], 0, &err);
		if (policy_vmaps[i] == NULL)
			log_warn("virtual_mailbox_maps: %s", buf_cstr(&err));
	}
	buf_free(&err);
	return policy_vmaps[i];
}

static void policy_load(void)
{
	if (policy_loaded)
		return;
	policy_vspecs = config_list("virtual_mailbox_maps");
	policy_nvmaps = strv_len(policy_vspecs);
	policy_vmaps = xcalloc(policy_nvmaps, sizeof(*policy_vmaps));
	policy_loaded = true;
}

/*
 * True when some table knows rcpt, by full address or, as Postfix's
 * catch-all, by "@domain".  *error when a table could not be read.
 */
static bool policy_virtual_known(const char *rcpt, bool *error)
{
	const char *at = strrchr(rcpt, '@');

	policy_load();
	for (size_t i = 0; i < policy_nvmaps; i++) {
		struct table *t = policy_vmap(i);
		bool err = false;

		if (t == NULL) {
			*error = true;
			continue;
		}
		if (table_lookup(t, rcpt, &err) || (at && table_lookup(t, at, &err)))
			return true;
		if (err)
			*error = true;
	}
	return false;
}

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

	if (!resolve_addr(rcpt, &r))
		return policy_defer(reply, rcpt);
	switch (r.cls) {
	case CLASS_VIRTUAL:
		if (policy_virtual_known(rcpt, &error))
			return POLICY_OK;
		if (error)
			return policy_defer(reply, rcpt);
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
