/*
 * missing.c - the Date:, Message-ID: and From: headers a local submission
 * lacks.
 *
 * RFC 5322 section 3.6 requires Date: and From:, and Message-ID: is what
 * every mail client threads by; a script piping text into sendmail writes
 * none of them.  cleanup adds them for local submissions (pickup) and
 * whenever a client sends rewrite=yes, as Postfix does for
 * local_header_rewrite_clients.  From: is built only for local
 * submissions, from the envelope sender and the sendmail -F full name: a
 * remote client's identity is not ours to invent.
 *
 * Every interpolated string came from a user: control characters become
 * '?', so nothing can end the header early.  Pure: no I/O, no config.
 */
#include "header.h"

#include <string.h>

#include "util.h"

static void miss_put_safe(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		buf_putc(out, c < 32 || c == 127 ? '?' : c);
	}
}

/* RFC 5322 "specials": a display name with one of these must be quoted. */
static bool miss_needs_quotes(const char *s)
{
	return strpbrk(s, "()<>[]:;@\\,.\"") != NULL;
}

static void miss_put_phrase(struct buf *out, const char *name)
{
	if (!miss_needs_quotes(name)) {
		miss_put_safe(out, name);
		return;
	}
	buf_putc(out, '"');
	for (; *name; name++) {
		unsigned char c = (unsigned char)*name;

		if (c == '"' || c == '\\')
			buf_putc(out, '\\');
		buf_putc(out, c < 32 || c == 127 ? '?' : c);
	}
	buf_putc(out, '"');
}

static void miss_put_from(struct buf *out, const struct missing_info *mi)
{
	const char *addr = *mi->from_addr ? mi->from_addr : "MAILER-DAEMON";

	buf_puts(out, "From: ");
	if (mi->fullname && *mi->fullname) {
		miss_put_phrase(out, mi->fullname);
		buf_puts(out, " <");
		miss_put_safe(out, addr);
		buf_puts(out, ">\n");
	} else {
		miss_put_safe(out, addr);
		buf_putc(out, '\n');
	}
}

void hdr_missing_build(
    struct buf *out, const char *hdr, size_t hdr_len, const struct missing_info *mi)
{
	struct buf v = BUF_INIT;

	/* Resent-* headers do not stand in for these (RFC 5322 3.6.6). */
	if (mi->from_addr && !hdr_value(hdr, hdr_len, "From", &v))
		miss_put_from(out, mi);
	if (!hdr_value(hdr, hdr_len, "Date", &v)) {
		buf_puts(out, "Date: ");
		miss_put_safe(out, mi->date);
		buf_putc(out, '\n');
	}
	if (!hdr_value(hdr, hdr_len, "Message-ID", &v)) {
		buf_puts(out, "Message-ID: ");
		miss_put_safe(out, mi->msgid);
		buf_putc(out, '\n');
	}
	buf_free(&v);
}
