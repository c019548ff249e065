/*
 * dsn_log.c - the delivery log line every delivery attempt leaves.
 *
 * One format for qmgr's own decisions (expired, suspended destination,
 * unreachable agent) and for the agents' results, so an operator's grep
 * or log analyser (pflogsumm and friends) reads tern's log as Postfix's.
 * Text from the network (the reason) is made printable: a log line must
 * stay one line.
 */
#include "dsn.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp/esmtp.h"

/* Elapsed seconds from a to b, or 0 when either is unknown. */
static double dsn_log_leg(long long a, long long b)
{
	if (a <= 0 || b <= 0 || b < a)
		return 0;
	return (double)(b - a) / 1e6;
}

void dsn_log_seconds(struct buf *out, double s)
{
	if (s < 0.005)
		buf_puts(out, "0");
	else if (s < 1)
		buf_printf(out, "%.2f", s);
	else if (s < 10)
		buf_printf(out, "%.1f", s);
	else
		buf_printf(out, "%.0f", s);
}

static void dsn_log_safe(struct buf *out, const char *s)
{
	for (; s && *s; s++)
		buf_putc(out, (unsigned char)*s < 32 || *s == 127 ? '?' : *s);
}

bool dsn_log_orig_to(const char *rcpt, const char *orcpt, struct buf *out)
{
	const char *type, *addr;
	size_t type_len;

	if (orcpt == NULL || *orcpt == 0)
		return false;
	addr = esmtp_orcpt_split(orcpt, &type, &type_len);
	/* Postfix names the original only when it is another address. */
	if (*addr == 0 || (rcpt != NULL && strcasecmp(addr, rcpt) == 0))
		return false;
	buf_puts(out, addr);
	return true;
}

void dsn_log_format(struct buf *out, const struct dsn_log *l)
{
	long long act = l->activated > 0 ? l->activated : l->arrival;
	long long req = l->request > 0 ? l->request : act;
	long long con = l->connected > 0 ? l->connected : req;

	buf_puts(out, "to=<");
	dsn_log_safe(out, l->rcpt);
	buf_puts(out, ">, ");
	if (l->orcpt && *l->orcpt) {
		struct buf orig = BUF_INIT;

		if (dsn_log_orig_to(l->rcpt, l->orcpt, &orig)) {
			buf_puts(out, "orig_to=<");
			dsn_log_safe(out, buf_cstr(&orig));
			buf_puts(out, ">, ");
		}
		buf_free(&orig);
	}
	buf_puts(out, "relay=");
	dsn_log_safe(out, l->relay ? l->relay : "none");
	buf_puts(out, ", delay=");
	dsn_log_seconds(out, dsn_log_leg(l->arrival, l->done));
	buf_puts(out, ", delays=");
	dsn_log_seconds(out, dsn_log_leg(l->arrival, act));
	buf_putc(out, '/');
	dsn_log_seconds(out, dsn_log_leg(act, req));
	buf_putc(out, '/');
	dsn_log_seconds(out, dsn_log_leg(req, con));
	buf_putc(out, '/');
	dsn_log_seconds(out, dsn_log_leg(con, l->done));
	buf_puts(out, ", dsn=");
	dsn_log_safe(out, l->dsn ? l->dsn : "");
	buf_puts(out, ", status=");
	dsn_log_safe(out, l->status);
	buf_puts(out, " (");
	dsn_log_safe(out, l->reason ? l->reason : "");
	buf_putc(out, ')');
}
