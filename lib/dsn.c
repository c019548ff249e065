/*
 * dsn.c - composing RFC 3464 delivery status notifications.
 *
 * The layout follows RFC 3462 (multipart/report) and RFC 3464 (the
 * message/delivery-status fields).  The boundary is derived from the
 * queue ID and the time, and checked against the original content so
 * that a line of the returned message can never close a part early.
 *
 * Safety: addresses, ENVID and remote replies come from other hosts.
 * Everything written into a header field or a delivery-status field goes
 * through dsn_safe(), which replaces control characters (CR, LF, NUL and
 * the rest) with '?' and clips the value: one field, one line.
 */
#include "dsn.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "smtp/esmtp.h"
#include "util.h"

#define DSN_FIELD_MAX 900 /* well under RFC 5322's 998 per line */

unsigned dsn_notify_parse(const char *notify)
{
	unsigned bits = 0;
	char **w, **words;

	if (notify == NULL || *notify == 0)
		return DSN_NOTIFY_DEFAULT;
	words = strv_split(notify, ", \t");
	for (w = words; *w; w++) {
		if (str_case_eq(*w, "NEVER"))
			bits |= DSN_NOTIFY_NEVER;
		else if (str_case_eq(*w, "SUCCESS"))
			bits |= DSN_NOTIFY_SUCCESS;
		else if (str_case_eq(*w, "FAILURE"))
			bits |= DSN_NOTIFY_FAILURE;
		else if (str_case_eq(*w, "DELAY"))
			bits |= DSN_NOTIFY_DELAY;
	}
	strv_free(words);
	/* NEVER excludes the others (RFC 3461 4.1); junk alone = default. */
	if (bits & DSN_NOTIFY_NEVER)
		return DSN_NOTIFY_NEVER;
	return bits ? bits : DSN_NOTIFY_DEFAULT;
}

size_t dsn_code_len(const char *s)
{
	size_t n = 0;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	n = 2;
	for (int part = 0; part < 2; part++) {
		size_t d = strspn(s + n, "0123456789");

		if (d == 0 || d > 3)
			return 0;
		n += d;
		if (part == 0 && s[n++] != '.')
			return 0;
	}
	return s[n] == ' ' || s[n] == '\0' || s[n] == '\r' || s[n] == '\n' ? n : 0;
}

bool dsn_ret_hdrs(const char *ret)
{
	return ret != NULL && str_case_eq(ret, "HDRS");
}

/* Appends s as one safe header-field value. */
static void dsn_safe(struct buf *out, const char *s)
{
	size_t i;

	for (i = 0; s && s[i] && i < DSN_FIELD_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		buf_putc(out, c < 32 || c == 127 ? '?' : c);
	}
}

static void dsn_date(struct buf *out, long long usec)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	char text[64];

	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	buf_puts(out, text);
}

/* True when some line of p starts with "--" boundary. */
static bool dsn_boundary_used(const char *p, size_t n, const char *boundary)
{
	size_t blen = strlen(boundary), i = 0;

	while (p && i < n) {
		if (n - i >= blen + 2 && p[i] == '-' && p[i + 1] == '-' &&
		    memcmp(p + i + 2, boundary, blen) == 0)
			return true;
		while (i < n && p[i] != '\n')
			i++;
		i++;
	}
	return false;
}

static void dsn_boundary(const struct dsn_report *r, char *out, size_t outlen)
{
	unsigned n;

	for (n = 0;; n++) {
		snprintf(
		    out, outlen, "%s.%lld.%u/%s", r->qid, r->now_usec / 1000000, n, r->hostname);
		if (!dsn_boundary_used(r->header, r->header_len, out) &&
		    !dsn_boundary_used(r->body, r->body ? r->body_len : 0, out))
			return;
	}
}

static const char *dsn_subject(const struct dsn_report *r)
{
	switch (r->kind) {
	case DSN_DELAY: return "Delayed Mail (still being retried)";
	case DSN_SUCCESS: return "Successful Mail Delivery Report";
	default:
		return r->postmaster_copy ? "Postmaster Copy: Undelivered Mail"
					  : "Undelivered Mail Returned to Sender";
	}
}

static const char *dsn_action(enum dsn_kind k)
{
	return k == DSN_DELAY ? "delayed" : k == DSN_SUCCESS ? "delivered" : "failed";
}

static void dsn_headers(const struct dsn_report *r, const char *boundary, struct buf *out)
{
	buf_puts(out, "From: MAILER-DAEMON@");
	dsn_safe(out, r->hostname);
	buf_puts(out, " (Mail Delivery System)\nTo: <");
	dsn_safe(out, r->to);
	buf_printf(out, ">\nSubject: %s\nDate: ", dsn_subject(r));
	dsn_date(out, r->now_usec);
	buf_printf(out, "\nMessage-ID: <%lld.%s.%s@", r->now_usec, r->qid,
	    r->kind == DSN_FAILURE ? "bounce"
	    : r->kind == DSN_DELAY ? "delay"
				   : "success");
	dsn_safe(out, r->hostname);
	buf_puts(out, ">\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
		      "Content-Type: multipart/report; report-type=delivery-status;\n"
		      "\tboundary=\"");
	buf_puts(out, boundary);
	buf_puts(out, "\"\nContent-Transfer-Encoding: 8bit\n\n"
		      "This is a MIME-encapsulated message.\n\n");
}

static void dsn_intro(const struct dsn_report *r, struct buf *out)
{
	buf_puts(out, "This is the mail system at host ");
	dsn_safe(out, r->hostname);
	buf_puts(out, ".\n\n");
	if (r->postmaster_copy) {
		buf_puts(out,
		    "A delivery status notification could not be delivered to\n"
		    "the sender of the original message; it is sent to the postmaster.\n\n");
	}
	switch (r->kind) {
	case DSN_DELAY:
		buf_puts(out, "Your message could not be delivered yet to the recipients\n"
			      "below.  It will be tried again; you need not send it again.\n\n");
		break;
	case DSN_SUCCESS:
		buf_puts(out, "Your message was delivered to the recipients below, as\n"
			      "you asked with a delivery status notification request.\n\n");
		break;
	default:
		buf_puts(out, "I'm sorry to have to inform you that your message could not\n"
			      "be delivered to one or more recipients.  It's attached below.\n\n");
	}
}

static void dsn_text_part(const struct dsn_report *r, struct buf *out)
{
	size_t i;

	buf_puts(out, "Content-Description: Notification\n"
		      "Content-Type: text/plain; charset=utf-8\n\n");
	dsn_intro(r, out);
	for (i = 0; i < r->nrcpt; i++) {
		buf_putc(out, '<');
		dsn_safe(out, r->rcpts[i].addr);
		buf_puts(out, ">: ");
		dsn_safe(out,
		    r->rcpts[i].diag && *r->rcpts[i].diag ? r->rcpts[i].diag : r->rcpts[i].status);
		buf_puts(out, "\n");
	}
}

/* "rfc822; addr" unless the value already names its type ("type;addr"). */
static void dsn_typed(struct buf *out, const char *orcpt)
{
	const char *type;
	size_t type_len;

	if (esmtp_orcpt_split(orcpt, &type, &type_len) == orcpt)
		buf_puts(out, "rfc822; ");
	dsn_safe(out, orcpt);
}

/* RFC 3464 2.3.6: "smtp;" for a reply from an SMTP server (three digits
 * first), otherwise our own diagnostic type. */
static void dsn_diag(struct buf *out, const char *diag)
{
	bool smtp = strlen(diag) >= 3 && diag[0] >= '2' && diag[0] <= '5' && diag[1] >= '0' &&
		    diag[1] <= '9' && diag[2] >= '0' && diag[2] <= '9';

	buf_puts(out, smtp ? "Diagnostic-Code: smtp; " : "Diagnostic-Code: X-tern; ");
	dsn_safe(out, diag);
	buf_putc(out, '\n');
}

static void dsn_status_part(const struct dsn_report *r, struct buf *out)
{
	const struct dsn_rcpt *rc;
	size_t i;

	buf_puts(out, "Content-Description: Delivery report\n"
		      "Content-Type: message/delivery-status\n\nReporting-MTA: dns; ");
	dsn_safe(out, r->hostname);
	buf_puts(out, "\nX-Tern-Queue-ID: ");
	dsn_safe(out, r->qid);
	buf_puts(out, "\nX-Tern-Sender: rfc822; ");
	dsn_safe(out, r->sender);
	if (r->envid && *r->envid) {
		buf_puts(out, "\nOriginal-Envelope-Id: ");
		dsn_safe(out, r->envid);
	}
	buf_puts(out, "\nArrival-Date: ");
	dsn_date(out, r->arrival_usec);
	buf_putc(out, '\n');
	for (i = 0; i < r->nrcpt; i++) {
		rc = &r->rcpts[i];
		buf_puts(out, "\nFinal-Recipient: rfc822; ");
		dsn_safe(out, rc->addr);
		if (rc->orcpt && *rc->orcpt) {
			buf_puts(out, "\nOriginal-Recipient: ");
			dsn_typed(out, rc->orcpt);
		}
		buf_printf(out, "\nAction: %s\nStatus: ",
		    r->kind == DSN_SUCCESS && rc->relayed ? "relayed" : dsn_action(r->kind));
		dsn_safe(out, rc->status);
		buf_putc(out, '\n');
		if (rc->diag && *rc->diag)
			dsn_diag(out, rc->diag);
	}
}

/* The original, whole or its header only; LF ends kept. */
static void dsn_original_part(const struct dsn_report *r, struct buf *out)
{
	bool full = r->body != NULL;

	buf_printf(out, "Content-Description: %s\nContent-Type: %s\n",
	    full ? "Undelivered Message" : "Undelivered Message Headers",
	    full ? "message/rfc822" : "text/rfc822-headers");
	if (full)
		buf_puts(out, "Content-Transfer-Encoding: 8bit\n");
	buf_putc(out, '\n');
	buf_append(out, r->header, r->header_len);
	if (r->header_len && r->header[r->header_len - 1] != '\n')
		buf_putc(out, '\n');
	if (full) {
		buf_putc(out, '\n');
		buf_append(out, r->body, r->body_len);
		if (r->body_len && r->body[r->body_len - 1] != '\n')
			buf_putc(out, '\n');
	}
}

void dsn_compose(const struct dsn_report *r, struct buf *out)
{
	char boundary[512];

	dsn_boundary(r, boundary, sizeof(boundary));
	dsn_headers(r, boundary, out);
	buf_printf(out, "--%s\n", boundary);
	dsn_text_part(r, out);
	buf_printf(out, "\n--%s\n", boundary);
	dsn_status_part(r, out);
	buf_printf(out, "\n--%s\n", boundary);
	dsn_original_part(r, out);
	buf_printf(out, "\n--%s--\n", boundary);
}
