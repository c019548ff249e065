/*
 * xfer.c - one message over an open session.
 *
 * MAIL FROM with SIZE (RFC 1870), BODY=8BITMIME (RFC 6152), SMTPUTF8
 * (RFC 6531), RET/ENVID (RFC 3461) when offered; one RCPT TO per
 * recipient with NOTIFY/ORCPT when DSN is offered; then DATA (dot-
 * stuffed, CRLF) or, when CHUNKING is offered, one BDAT ... LAST
 * (RFC 3030).  With PIPELINING (RFC 2920) MAIL, every RCPT and DATA go out
 * in one write and the replies are read in order.
 *
 * Results: a 2xx for the content marks every accepted recipient sent; a
 * 4xx/5xx to MAIL or to the content applies to all of them; each RCPT
 * reply applies to its recipient.  4xx defers, 5xx bounces.  Reasons
 * read "host H[A]:P said: 550 5.1.1 text (in reply to RCPT TO command)".
 *
 * LMTP (RFC 2033 section 4.2): after the content the server replies once
 * for every recipient it accepted at RCPT, in RCPT order, and each reply
 * is that recipient's result.  A connection lost half-way leaves the
 * rest deferred (they may then arrive twice, never zero times).
 *
 * 8-bit content (any byte over 127 in the header or body) to a server that
 * does not announce 8BITMIME is not sent: RFC 6152 forbids it, and tern
 * does not convert to quoted-printable, so every recipient of that
 * transaction bounces with 5.6.3.  ASCII content goes to any server.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "proto.h"
#include "smtp.h"
#include "smtp/esmtp.h"
#include "smtp/xtext.h"
#include "util.h"

void smtp_rcpt_set(struct smtp_rcpt *r, const char *result, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	r->done = true;
	r->result = result;
	strlcpy(r->dsn, dsn, sizeof(r->dsn));
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

void smtp_content_encode(const char *p, size_t len, bool dot_stuff, struct buf *out)
{
	bool bol = true;

	buf_reserve(out, len + len / 16 + 8);
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (bol && dot_stuff && c == '.')
			buf_putc(out, '.');
		if (c == '\n') {
			buf_append(out, "\r\n", 2);
			bol = true;
			continue;
		}
		buf_putc(out, c);
		bol = false;
	}
	if (!bol)
		buf_append(out, "\r\n", 2);
	if (dot_stuff)
		buf_append(out, ".\r\n", 3);
}

int smtp_msg_load(struct smtp_msg *m)
{
	off_t parts[2][2] = {{m->header_off, m->header_len}, {m->body_off, m->body_len}};

	if (m->loaded)
		return 0;
	buf_reset(&m->content);
	for (int i = 0; i < 2; i++) {
		off_t off = parts[i][0], left = parts[i][1];

		if (i == 1)
			buf_putc(&m->content, '\n');
		while (left > 0) {
			size_t want = left > 65536 ? 65536 : (size_t)left;
			ssize_t n;

			buf_reserve(&m->content, want);
			n = pread(m->fd, buf_tail(&m->content), want, off);
			if (n <= 0)
				return -1;
			buf_commit(&m->content, (size_t)n);
			off += n;
			left -= n;
		}
	}
	for (size_t i = 0; i < m->content.len; i++)
		if ((unsigned char)m->content.data[i] >= 0x80)
			m->eightbit = true;
	m->loaded = true;
	return 0;
}

enum smtp_tls_want smtp_msg_tls_want(const struct smtp_msg *m)
{
	if (m->requiretls)
		return SMTP_TLS_REQUIRE;
	/* RFC 8689 section 5: the sender says security does not matter for
	 * this message, so recipient-side policies (verify, DANE) yield to
	 * opportunistic TLS.  cleanup found the header at ingest (the
	 * tls_required queue-file attribute, lib/proto.h). */
	return m->tls_optional ? SMTP_TLS_OPTIONAL : SMTP_TLS_POLICY;
}

struct xfer {
	struct smtp_session *s;
	struct smtp_msg *m;
	struct smtp_rcpt **rcpts;
	size_t n;
	char relay[400];
	size_t accepted;
	long long size; /* bytes of content on the wire */
};

/* Sets a result from a server reply. */
static void xfer_said(
    struct xfer *x, struct smtp_rcpt *r, const struct smtp_reply *rep, const char *cmd)
{
	struct buf line = BUF_INIT;

	smtp_reply_line(rep, &line);
	smtp_rcpt_set(r,
	    rep->code / 100 == 2   ? RES_SENT
	    : rep->code / 100 == 4 ? RES_DEFERRED
				   : RES_BOUNCED,
	    rep->dsn, rep->code / 100 == 2 ? "%s" : "host %s said: %s (in reply to %s)",
	    rep->code / 100 == 2 ? buf_cstr(&line) : x->relay, buf_cstr(&line), cmd);
	buf_free(&line);
	/*
	 * RFC 3461 5.2.2 and 6.2, as Postfix: a server that announced DSN got
	 * the NOTIFY and sends the success notice itself; one without DSN
	 * takes no such responsibility, so ours says "relayed".  "delivered"
	 * only for an LMTP server without DSN with lmtp_assume_final.
	 */
	r->notified = x->s->ext.dsn && r->notify && *r->notify;
	r->relayed = x->s->ext.dsn || !x->s->lmtp || !config_bool("lmtp_assume_final");
}

/* Everyone still open gets this (MAIL or content reply, lost connection). */
static void xfer_all(struct xfer *x, const char *result, const char *dsn, const char *reason)
{
	for (size_t i = 0; i < x->n; i++)
		if (!x->rcpts[i]->done)
			smtp_rcpt_set(x->rcpts[i], result, dsn, "%s", reason);
}

static void xfer_lost(struct xfer *x, const char *stage)
{
	char why[700];

	snprintf(why, sizeof(why), "%s with %s while %s", x->s->io.err, x->relay, stage);
	xfer_all(x, RES_DEFERRED, "4.4.2", why);
}

static void xfer_mail_cmd(struct xfer *x, bool utf8)
{
	struct buf *o = &x->s->io.out;
	const struct smtp_ext *e = &x->s->ext;

	buf_printf(o, "MAIL FROM:<%s>", x->m->sender);
	if (e->size)
		buf_printf(o, " SIZE=%lld", x->size);
	if (e->eightbit && x->m->eightbit)
		buf_puts(o, " BODY=8BITMIME");
	if (utf8)
		buf_puts(o, " SMTPUTF8");
	if (e->dsn && x->m->ret && *x->m->ret)
		buf_printf(o, " RET=%s", x->m->ret);
	if (e->dsn && x->m->envid && *x->m->envid) {
		buf_puts(o, " ENVID=");
		xtext_encode(x->m->envid, strlen(x->m->envid), o);
	}
	/* route.c made sure the server offers it (an LMTP server, the final
	 * hop, need not). */
	if (e->requiretls && x->m->requiretls)
		buf_puts(o, " REQUIRETLS");
	buf_puts(o, "\r\n");
}

static void xfer_rcpt_cmd(struct xfer *x, const struct smtp_rcpt *r)
{
	struct buf *o = &x->s->io.out;
	size_t type_len;

	buf_printf(o, "RCPT TO:<%s>", r->addr);
	if (x->s->ext.dsn && r->notify && *r->notify)
		buf_printf(o, " NOTIFY=%s", r->notify);
	if (x->s->ext.dsn && r->orcpt && *r->orcpt) {
		/* The queue keeps "type;address" decoded, or a bare address. */
		const char *type, *addr = esmtp_orcpt_split(r->orcpt, &type, &type_len);

		buf_printf(o, " ORCPT=%.*s;", (int)type_len, type);
		xtext_encode(addr, strlen(addr), o);
	}
	buf_puts(o, "\r\n");
}

/* Checks that do not need the server's replies; false: nothing to send. */
static bool xfer_precheck(struct xfer *x, bool *utf8)
{
	const struct smtp_ext *e = &x->s->ext;
	bool need = addr_is_utf8(x->m->sender);

	*utf8 = false;
	if (e->size && x->size > e->size) {
		char why[500];

		snprintf(why, sizeof(why), "message size %lld exceeds size limit %lld of server %s",
		    x->size, e->size, x->relay);
		xfer_all(x, RES_BOUNCED, "5.3.4", why);
		return false;
	}
	if (x->m->eightbit && !e->eightbit) {
		char why[500];

		snprintf(why, sizeof(why),
		    "host %s does not support 8BITMIME and the message has "
		    "8-bit content",
		    x->relay);
		xfer_all(x, RES_BOUNCED, "5.6.3", why);
		return false;
	}
	for (size_t i = 0; i < x->n; i++)
		need |= addr_is_utf8(x->rcpts[i]->addr);
	if (need && !e->smtputf8) {
		/* RFC 6531 section 3.2: do not send an internationalised
		 * envelope to a server that did not offer SMTPUTF8. */
		if (addr_is_utf8(x->m->sender)) {
			xfer_all(x, RES_BOUNCED, "5.6.7",
			    "SMTPUTF8 is required, but was not offered by host");
			return false;
		}
		for (size_t i = 0; i < x->n; i++)
			if (addr_is_utf8(x->rcpts[i]->addr))
				smtp_rcpt_set(x->rcpts[i], RES_BOUNCED, "5.6.7",
				    "SMTPUTF8 is required, but was not offered by host %s",
				    x->relay);
	}
	*utf8 = need && e->smtputf8;
	for (size_t i = 0; i < x->n; i++)
		if (!x->rcpts[i]->done)
			return true;
	return false;
}

/* Reads the RCPT replies for the recipients sent. */
static int xfer_rcpt_replies(struct xfer *x, struct smtp_reply *rep, bool *sent)
{
	long t = smtp_step_timeout("rcpt");

	for (size_t i = 0; i < x->n; i++) {
		if (!sent[i])
			continue;
		if (smtp_io_reply(&x->s->io, rep, t) < 0)
			return -1;
		if (rep->code / 100 == 2)
			x->accepted++;
		else
			xfer_said(x, x->rcpts[i], rep, "RCPT TO command");
	}
	return 0;
}

/* The content, by DATA or BDAT, and its reply; -1 on I/O error. */
static int xfer_content(struct xfer *x, struct smtp_reply *rep, bool data_sent)
{
	struct smtp_io *io = &x->s->io;
	const char *cmd = "end of DATA command";
	bool have_reply = false;

	if (x->s->ext.chunking) {
		buf_printf(&io->out, "BDAT %lld LAST\r\n", x->size);
		cmd = "end of BDAT command";
	} else {
		if (!data_sent) {
			buf_puts(&io->out, "DATA\r\n");
			if (smtp_io_flush(io, smtp_step_timeout("data_init")) < 0)
				return -1;
		}
		if (smtp_io_reply(io, rep, smtp_step_timeout("data_init")) < 0)
			return -1;
		if (rep->code != 354) {
			for (size_t i = 0; i < x->n; i++)
				if (!x->rcpts[i]->done)
					xfer_said(x, x->rcpts[i], rep, "DATA command");
			return 0;
		}
	}
	smtp_content_encode(x->m->content.data, x->m->content.len, !x->s->ext.chunking, &io->out);
	if (smtp_io_flush(io, smtp_step_timeout("data_xfer")) < 0)
		return -1;
	for (size_t i = 0; i < x->n; i++) {
		if (x->rcpts[i]->done)
			continue;
		/* SMTP: one reply for all; LMTP: one per accepted recipient. */
		if ((!have_reply || x->s->lmtp) &&
		    smtp_io_reply(io, rep, smtp_step_timeout("data_done")) < 0)
			return -1;
		have_reply = true;
		xfer_said(x, x->rcpts[i], rep, cmd);
	}
	return 0;
}

/* On-the-wire size: content with CRLF (SIZE counts the message, and
 * BDAT needs the exact count). */
static long long xfer_wire_size(const struct buf *c)
{
	long long n = (long long)c->len;

	for (size_t i = 0; i < c->len; i++)
		n += c->data[i] == '\n';
	if (c->len && c->data[c->len - 1] != '\n')
		n += 2;
	return n;
}

bool smtp_xfer(struct smtp_session *s, struct smtp_msg *m, struct smtp_rcpt **rcpts, size_t n)
{
	struct xfer x = {.s = s, .m = m, .rcpts = rcpts, .n = n};
	struct smtp_reply rep;
	bool utf8, pipe = s->ext.pipelining, *sent, ok = false, data_sent = false;
	long t = smtp_step_timeout("mail");

	smtp_session_relay(s, x.relay, sizeof(x.relay));
	if (smtp_msg_load(m) < 0) {
		xfer_all(&x, RES_DEFERRED, "4.3.0", "cannot read the queue file");
		return true;
	}
	x.size = xfer_wire_size(&m->content);
	if (!xfer_precheck(&x, &utf8))
		return true;
	sent = xcalloc(n + 1, sizeof(*sent));
	smtp_reply_init(&rep);
	xfer_mail_cmd(&x, utf8);
	if (!pipe && (smtp_io_flush(&s->io, t) < 0 || smtp_io_reply(&s->io, &rep, t) < 0))
		goto lost;
	for (size_t i = 0; i < n; i++) {
		if (rcpts[i]->done)
			continue;
		sent[i] = true;
		if (pipe)
			xfer_rcpt_cmd(&x, rcpts[i]);
	}
	/* DATA joins the pipeline; BDAT waits until a recipient is taken. */
	if (pipe && !s->ext.chunking) {
		buf_puts(&s->io.out, "DATA\r\n");
		data_sent = true;
	}
	if (pipe) {
		if (smtp_io_flush(&s->io, t) < 0 || smtp_io_reply(&s->io, &rep, t) < 0)
			goto lost;
	}
	if (rep.code / 100 != 2) {
		struct buf line = BUF_INIT;
		char why[700];

		smtp_reply_line(&rep, &line);
		snprintf(why, sizeof(why), "host %s said: %s (in reply to MAIL FROM command)",
		    x.relay, buf_cstr(&line));
		xfer_all(&x, rep.code / 100 == 4 ? RES_DEFERRED : RES_BOUNCED, rep.dsn, why);
		buf_free(&line);
		/* Pipelined RCPT and DATA replies are still to come: drain
		 * them so the session stays in step, then RSET on reuse. */
		if (pipe) {
			for (size_t i = 0; i < n + data_sent; i++)
				if ((i >= n || sent[i]) && smtp_io_reply(&s->io, &rep, t) < 0)
					goto lost;
		}
		ok = true;
		goto out;
	}
	if (!pipe) {
		for (size_t i = 0; i < n; i++) {
			if (!sent[i])
				continue;
			bool one[1] = {true};
			struct xfer y = x;

			y.rcpts = &rcpts[i];
			y.n = 1;
			y.accepted = 0;
			xfer_rcpt_cmd(&y, rcpts[i]);
			if (smtp_io_flush(&s->io, t) < 0 || xfer_rcpt_replies(&y, &rep, one) < 0)
				goto lost;
			x.accepted += y.accepted;
		}
	} else if (xfer_rcpt_replies(&x, &rep, sent) < 0)
		goto lost;
	if (x.accepted == 0) {
		/* Nobody taken: a pipelined DATA gets an error reply to drain. */
		if (data_sent && (smtp_io_reply(&s->io, &rep, t) < 0 || rep.code == 354))
			goto lost;
		ok = true;
		goto out;
	}
	if (xfer_content(&x, &rep, data_sent) < 0)
		goto lost;
	ok = true;
	goto out;
lost:
	xfer_lost(&x, "sending the message");
	s->io.broken = true;
out:
	smtp_reply_free(&rep);
	free(sent);
	s->reused++;
	return ok && !s->io.broken;
}
