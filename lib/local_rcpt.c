/*
 * local_rcpt.c - splitting local recipients and checking that they exist.
 *
 * The split is Postfix's: lower-case the local part, then cut it at the
 * first character that is one of recipient_delimiter's characters (a
 * name such as "owner-list" with '-' as delimiter is therefore looked up
 * whole first by every caller).  The extension keeps its case for
 * ${extension} and the EXTENSION environment variable.
 *
 * local_rcpt_known() asks local_recipient_maps through maps.h: a table
 * that cannot be read is an error, so the client is told to try later
 * rather than that the user does not exist.
 */
#include "local_rcpt.h"

#include <string.h>

#include "address.h"
#include "config.h"
#include "maps.h"
#include "util.h"

void local_rcpt_split(const char *addr, struct local_rcpt *out)
{
	const char *delims = config_str("recipient_delimiter");
	char *local, *domain;
	size_t cut;

	memset(out, 0, sizeof(*out));
	addr_split(addr, &local, &domain);
	out->domain = domain;
	cut = *delims ? strcspn(local, delims) : strlen(local);
	if (cut > 0 && local[cut] != 0) {
		out->delim = local[cut];
		out->ext = xstrdup(local + cut + 1);
		out->user = xstrndup(local, cut);
	} else {
		out->user = xstrdup(local);
	}
	str_lower(local);
	str_lower(out->user);
	out->local = local;
}

void local_rcpt_free(struct local_rcpt *r)
{
	free(r->local);
	free(r->domain);
	free(r->user);
	free(r->ext);
	memset(r, 0, sizeof(*r));
}

void local_rcpt_reset(void)
{
	maps_reset();
}

bool local_rcpt_known(const char *addr, bool *error)
{
	struct maps *m = maps_open("local_recipient_maps");
	struct local_rcpt lr;
	enum maps_status st;
	const char *v;

	*error = false;
	if (maps_empty(m))
		return true;
	local_rcpt_split(addr, &lr);
	/* "user+ext" in every table, then "user" (Postfix's order). */
	st = maps_find(m, lr.local, 0, &v);
	if (st == MAPS_NOTFOUND && lr.ext)
		st = maps_find(m, lr.user, 0, &v);
	local_rcpt_free(&lr);
	*error = st == MAPS_TEMPFAIL;
	return st == MAPS_FOUND;
}
