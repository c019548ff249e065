/*
 * bdat.c - CHUNKING (RFC 3030): "BDAT size [LAST]" and its octets.
 *
 * A chunk's octets are taken from the input exactly as counted: no dot-
 * stuffing, no end marker, so nothing in them can end the message early
 * or be mistaken for a command.  They are read in full even when the
 * transaction failed (the reply was given at the BDAT command, or is given
 * after the chunk), because the client sends them without waiting.
 *
 * Content goes to cleanup through message.c with CRLF turned into LF, as
 * proto.h wants; a CR at the end of one piece waits for the next to see
 * whether an LF follows.  Each chunk but the last is answered "250 2.0.0
 * Ok"; the LAST one ends the message like the final dot of DATA.
 */
#include <limits.h>
#include <string.h>

#include "config.h"
#include "milter.h"
#include "smtpd.h"
#include "util.h"

#define BDAT_MAX_CHUNK (1LL << 40) /* a size beyond reason is a syntax error */

/* Parses "size [LAST]" and enters the octet-reading state. */
bool bdat_command(struct smtpd_session *s, const char *arg, size_t len)
{
	char *a = xmemdup(arg, len), *end = NULL, *rest;
	long long n;
	bool last = false, ok;

	n = (a[0] >= '0' && a[0] <= '9') ? strtoll(a, &end, 10) : -1;
	rest = end ? end + strspn(end, " \t") : a;
	if (end && *rest && str_case_eq(rest, "LAST") && rest > end)
		last = true;
	ok = n >= 0 && n <= BDAT_MAX_CHUNK && end && (*rest == 0 || last);
	free(a);
	if (!ok) {
		smtpd_reply(s, "501 5.5.4 Syntax: BDAT count [LAST]");
		return false;
	}
	if (!config_bool("smtpd_chunking_enable")) {
		smtpd_reply(s, "502 5.5.1 Error: command not implemented");
		return false;
	}
	s->bdat_left = n;
	s->bdat_size = n;
	s->bdat_last = last;
	s->bdat_discard = false;
	s->state = SMTPD_BDAT;
	return true;
}

/* CRLF -> LF across pieces; bare CR and bare LF pass unchanged. */
static void bdat_decode(struct smtpd_session *s, const char *p, size_t n)
{
	buf_reset(&s->chunk);
	for (size_t i = 0; i < n; i++) {
		if (s->bdat_cr && p[i] != '\n')
			buf_putc(&s->chunk, '\r');
		s->bdat_cr = false;
		if (p[i] == '\r')
			s->bdat_cr = true;
		else
			buf_putc(&s->chunk, p[i]);
	}
}

/* The last octet of the chunk was read: answer it. */
static void bdat_chunk_done(struct smtpd_session *s)
{
	s->state = SMTPD_CMD;
	if (s->bdat_discard) {
		s->bdat_discard = false;
		return;
	}
	if (s->bdat_last) {
		if (s->bdat_cr) {
			message_content(s, "\r", 1, 0); /* counted as it came */
			s->bdat_cr = false;
		}
		message_end(s); /* DATA_WAIT, or the final reply at once */
		return;
	}
	if (s->too_big || s->data_error || (s->cleanup == NULL && !smtpd_milter_holding(s))) {
		char *reply = xstrdup(s->too_big      ? "552 5.3.4 Message size exceeds fixed limit"
				      : s->data_error ? s->data_error
						      : "451 4.3.0 Error: queue file write error");

		message_finish(s, reply, NULL);
		free(reply);
		return;
	}
	smtpd_reply(s, "250 2.0.0 Ok: %lld octets received", s->bdat_size);
}

/* Consumes octets of the current chunk from the input buffer. */
void bdat_input(struct smtpd_session *s)
{
	size_t n = s->in.len;

	if ((long long)n > s->bdat_left)
		n = (size_t)s->bdat_left;
	if (!s->bdat_discard) {
		bdat_decode(s, s->in.data, n);
		message_content(s, s->chunk.data, s->chunk.len, n); /* RFC 3030 octets */
	}
	buf_consume(&s->in, n);
	s->bdat_left -= (long long)n;
	if (s->bdat_left == 0)
		bdat_chunk_done(s);
}
