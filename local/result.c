/*
 * result.c - filling in one recipient's delivery result.
 *
 * A full disk or quota is temporary from the sender's point of view
 * (RFC 3463 X.2.2 "mailbox full"); every other local failure is a
 * temporary system problem (X.3.0), so qmgr retries rather than bounces.
 * Only a mailbox over mailbox_size_limit (EFBIG) is permanent (5.2.2),
 * as in Postfix: it will not shrink by itself.
 */
#include "local.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "util.h"

void local_result_set(
    struct local_result *r, const char *result, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	r->result = result;
	strlcpy(r->dsn, dsn, sizeof(r->dsn));
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

void local_result_errno(struct local_result *r, int err, const char *what)
{
	/* RFC 3463: a full file system is the mail system's (X.3.1), a
	 * user's disk quota is the mailbox's (X.2.2). */
	if (err == ENOSPC)
		local_result_set(
		    r, RES_DEFERRED, "4.3.1", "cannot %s: insufficient system storage", what);
	else if (err == EDQUOT)
		local_result_set(r, RES_DEFERRED, "4.2.2", "mailbox full");
	else if (err == EFBIG)
		local_result_set(r, RES_BOUNCED, "5.2.2", "cannot %s: mailbox full", what);
	else
		local_result_set(r, RES_DEFERRED, "4.3.0", "cannot %s: %s", what, strerror(err));
}

void local_targets_add(struct local_targets *t, const char *addr, const struct local_result *r)
{
	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	t->v[t->n].addr = xstrdup(addr);
	t->v[t->n].r = *r;
	t->n++;
}

void local_targets_free(struct local_targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].addr);
	free(t->v);
	*t = (struct local_targets){0};
}
