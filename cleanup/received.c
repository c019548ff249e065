/*
 * received.c - the Received: header cleanup prepends, and RFC 5322 dates.
 *
 * Shape (RFC 5321 section 4.4, as Postfix writes it):
 *   Received: from HELO (CLIENT_NAME [CLIENT_ADDR])
 *   \tby MYHOSTNAME (tern) with PROTOCOL id QID
 *   \tfor <RCPT>; DATE
 * "for" only with exactly one recipient: every recipient gets the same
 * copy, so naming one of several would disclose it (a Bcc, say) to the
 * others; then the "by" line ends in ';' and the date has its own line.  An IPv6
 * address is written as an RFC 5321 address literal, "[IPv6:...]".
 *
 * Every interpolated string came from a client at some point: control
 * characters are replaced so that nothing can end the header early and
 * inject header lines of its own.  This file formats; it does not decide
 * whether a Received: header is due.
 */
#include "header.h"

#include <stdio.h>
#include <string.h>

#include "maildate.h"
#include "util.h"

/* Appends s with control characters and DEL replaced by '?'. */
static void rcv_put_safe(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		buf_putc(out, c < 32 || c == 127 ? '?' : c);
	}
}

static bool rcv_empty(const char *s)
{
	return s == NULL || *s == 0;
}

static void rcv_put_addr(struct buf *out, const char *addr)
{
	buf_putc(out, '[');
	if (strchr(addr, ':'))
		buf_puts(out, "IPv6:");
	rcv_put_safe(out, addr);
	buf_putc(out, ']');
}

/* "from HELO (NAME [ADDR])" or, without HELO, "from NAME ([ADDR])". */
static void rcv_put_from(struct buf *out, const struct received_info *ri)
{
	const char *name = rcv_empty(ri->client_name) ? "unknown" : ri->client_name;

	buf_puts(out, "from ");
	if (!rcv_empty(ri->helo)) {
		rcv_put_safe(out, ri->helo);
		buf_puts(out, " (");
		rcv_put_safe(out, name);
		buf_putc(out, ' ');
	} else {
		rcv_put_safe(out, name);
		buf_puts(out, " (");
	}
	rcv_put_addr(out, ri->client_addr);
	buf_puts(out, ")\n\t");
}

/* "(using TLSv1.3 with cipher X (256/256 bits))", as Postfix records it. */
static void rcv_put_tls(struct buf *out, const struct received_info *ri)
{
	buf_puts(out, "(using ");
	rcv_put_safe(out, ri->tls_proto);
	buf_puts(out, " with cipher ");
	rcv_put_safe(out, rcv_empty(ri->tls_cipher) ? "unknown" : ri->tls_cipher);
	if (!rcv_empty(ri->tls_bits)) {
		buf_puts(out, " (");
		rcv_put_safe(out, ri->tls_bits);
		buf_puts(out, " bits)");
	}
	buf_puts(out, ")\n\t");
}

void hdr_received_build(struct buf *out, const struct received_info *ri)
{
	buf_puts(out, "Received: ");
	if (!rcv_empty(ri->client_addr))
		rcv_put_from(out, ri);
	if (!rcv_empty(ri->tls_proto))
		rcv_put_tls(out, ri);
	buf_puts(out, "by ");
	rcv_put_safe(out, ri->myhostname);
	buf_puts(out, " (tern");
	if (!rcv_empty(ri->uid) && rcv_empty(ri->client_addr)) {
		buf_puts(out, ", from userid ");
		rcv_put_safe(out, ri->uid);
	}
	buf_puts(out, ") with ");
	rcv_put_safe(out, rcv_empty(ri->protocol) ? "SMTP" : ri->protocol);
	buf_puts(out, " id ");
	rcv_put_safe(out, ri->qid);
	if (ri->rcpt) {
		buf_puts(out, "\n\tfor <");
		rcv_put_safe(out, ri->rcpt);
		buf_puts(out, ">; ");
	} else {
		buf_puts(out, ";\n\t");
	}
	rcv_put_safe(out, ri->date);
	buf_putc(out, '\n');
}

/* True when a zone abbreviation can go in a comment as it is. */
static bool rcv_zone_ok(const char *z)
{
	if (rcv_empty(z) || strlen(z) > 16)
		return false;
	for (; *z; z++)
		if (!((*z >= 'A' && *z <= 'Z') || (*z >= 'a' && *z <= 'z') ||
			(*z >= '0' && *z <= '9') || *z == '+' || *z == '-'))
			return false;
	return true;
}

void hdr_date_format(char out[HDR_DATE_SIZE], const struct tm *tm)
{
	long off = tm->tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	int n;

	if (off < 0)
		off = -off;
	n = snprintf(out, HDR_DATE_SIZE, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    maildate_day(tm->tm_wday), tm->tm_mday, maildate_month(tm->tm_mon), tm->tm_year + 1900,
	    tm->tm_hour, tm->tm_min, tm->tm_sec, sign, off / 60 % 100, off % 60);
	if (n > 0 && n < HDR_DATE_SIZE && rcv_zone_ok(tm->tm_zone))
		snprintf(out + n, (size_t)(HDR_DATE_SIZE - n), " (%s)", tm->tm_zone);
}
