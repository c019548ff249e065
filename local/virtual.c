/*
 * virtual.c - virtual mailbox look-ups: where a recipient's mail goes and
 * as which user.
 *
 * Postfix semantics: virtual_mailbox_maps maps "user@domain" (then the
 * "@domain" catch-all) to a path relative to virtual_mailbox_base, a
 * trailing '/' meaning Maildir; virtual_uid_maps and virtual_gid_maps give
 * the owner, which must be at least virtual_minimum_uid so that a table
 * typo cannot make local write as root or a system account.  Every list
 * is searched for the full address first, then for "@domain", the first
 * table with an answer winning.
 *
 * A table value is configuration, not user input, but it becomes a path
 * written by root's delegate: values that could leave the base ("..",
 * absolute) are refused with a warning.  Tables come from maps.h (opened
 * once per process; one that cannot be read defers the delivery).
 */
#include "local.h"

#include <string.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "maps.h"
#include "proto.h"
#include "util.h"

enum { VT_MAILBOX, VT_UID, VT_GID };

static const char *const vt_params[] = {
    "virtual_mailbox_maps", "virtual_uid_maps", "virtual_gid_maps"};

/* The address, then "@domain"; the value copied (tables own theirs). */
static char *vt_find(int which, const char *addr, bool *error)
{
	const char *v = NULL;
	enum maps_status st = maps_find(maps_open(vt_params[which]), addr, MAPS_ADDR_DOMAIN, &v);

	*error = st == MAPS_TEMPFAIL;
	return st == MAPS_FOUND ? xstrdup(v) : NULL;
}

/* A uid or gid from a map: a plain decimal number. */
static int vt_id(const char *rcpt, int which, long min, long *out, struct local_result *r)
{
	const char *param = vt_params[which];
	bool error;
	char *v = vt_find(which, rcpt, &error);
	bool ok = v && parse_long(str_trim(v), min, 0x7fffffffL, out);

	if (!ok) {
		log_warn("%s: %s for %s: %s", param, v ? "bad or too small id" : "no result", rcpt,
		    v ? v : (error ? "table error" : "not found"));
		local_result_set(r, RES_DEFERRED, "4.3.5", "mail system configuration error");
	}
	free(v);
	return ok ? 0 : -1;
}

static int vt_path(const char *rcpt, struct vmailbox *mb, struct local_result *r)
{
	const char *base = config_str("virtual_mailbox_base");
	bool error;
	char *v = vt_find(VT_MAILBOX, rcpt, &error);
	int rc = -1;

	if (v == NULL && error)
		local_result_set(r, RES_DEFERRED, "4.3.0", "virtual mailbox table lookup failed");
	else if (v == NULL)
		local_result_set(r, RES_BOUNCED, "5.1.1", "user unknown");
	else if (!maildir_path_safe(v) || *base == 0) {
		log_warn("virtual_mailbox_maps: unsafe mailbox path \"%s\" for %s (base \"%s\")", v,
		    rcpt, base);
		local_result_set(r, RES_DEFERRED, "4.3.5", "mailbox path is unsafe");
	} else {
		mb->maildir = v[strlen(v) - 1] == '/';
		mb->path = xasprintf("%s/%s", base, v);
		rc = 0;
	}
	free(v);
	return rc;
}

int virtual_lookup(const char *rcpt, struct vmailbox *mb, struct local_result *r)
{
	long uid, gid;

	memset(mb, 0, sizeof(*mb));
	if (vt_path(rcpt, mb, r) < 0)
		return -1;
	if (vt_id(rcpt, VT_UID, config_int("virtual_minimum_uid"), &uid, r) < 0 ||
	    vt_id(rcpt, VT_GID, 0, &gid, r) < 0) {
		free(mb->path);
		mb->path = NULL;
		return -1;
	}
	mb->uid = (uid_t)uid;
	mb->gid = (gid_t)gid;
	return 0;
}
