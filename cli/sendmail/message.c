/*
 * message.c - reads the message sendmail is given on standard input and
 * streams it to postdrop.
 *
 * Lines: a CR before LF is dropped (local programs often write CRLF); a
 * last line without LF gets one.  Unless -i/-oi, a line holding a single
 * "." ends the input, as in Sendmail and Postfix.  Lines longer than the
 * read buffer are passed on in pieces, never gathered whole.
 *
 * -t: the header section is gathered (at most header_size_limit bytes;
 * what does not fit is body) to find the recipients: To:, Cc: and Bcc:,
 * or Resent-To:, Resent-Cc: and Resent-Bcc: when the message has Resent-
 * headers (RFC 5322 3.6.6: those name the recipients of this resending).
 * They are added to the argument recipients, Postfix's rule.  Bcc: and
 * Resent-Bcc: are removed, since every recipient sees the same copy.
 * Only then does postdrop start; without -t it starts at once.
 */
#include "sendmail.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "addrlist.h"
#include "config.h"
#include "util.h"

#define SM_LINE_MAX 65536

struct sm_reader {
	char buf[SM_LINE_MAX];
	size_t start, end;
	bool eof;
};

/*
 * The next piece of input: a whole line (with its LF) or, for a line
 * longer than the buffer or the unterminated end, a part of one.
 * Returns its length, 0 at the end of input.
 */
static size_t sm_read_piece(struct sm_reader *r, char **piece)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		ssize_t n;

		if (nl || r->end - r->start == SM_LINE_MAX || (r->eof && r->end > r->start)) {
			size_t len =
			    nl ? (size_t)(nl - (r->buf + r->start)) + 1 : r->end - r->start;

			*piece = r->buf + r->start;
			r->start += len;
			return len;
		}
		if (r->eof)
			return 0;
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
		n = read(0, r->buf + r->end, SM_LINE_MAX - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			sm_fatal(errno == EBADF ? EX_NOINPUT : EX_IOERR, "read standard input: %s",
			    strerror(errno));
		r->eof = n == 0;
		r->end += (size_t)n;
	}
}

struct sm_msg {
	struct sm_envelope *env;
	struct sm_submit sub;
	bool started;
	bool extract;
	bool in_header; /* -t: still gathering the header section */
	struct buf header;
	size_t header_limit;
};

/* Length of the header field starting at p (with its continuation lines). */
static size_t sm_field_len(const char *p, const char *end)
{
	const char *q = p;

	do {
		const char *nl = memchr(q, '\n', (size_t)(end - q));

		q = nl ? nl + 1 : end;
	} while (q < end && (*q == ' ' || *q == '\t'));
	return (size_t)(q - p);
}

static bool sm_field_is(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && p[n] == ':' && strncasecmp(p, name, n) == 0;
}

static bool sm_has_resent(const char *p, const char *end)
{
	for (; p < end; p += sm_field_len(p, end))
		if (sm_field_is(p, (size_t)(end - p), "Resent-To") ||
		    sm_field_is(p, (size_t)(end - p), "Resent-Cc") ||
		    sm_field_is(p, (size_t)(end - p), "Resent-Bcc"))
			return true;
	return false;
}

/* Recipients from the gathered header; copies it to out without Bcc. */
static void sm_extract(struct sm_msg *m, struct buf *out)
{
	const char *p = m->header.data, *end = p + m->header.len;
	bool resent = sm_has_resent(p, end);
	const char *names[] = {"To", "Cc", "Bcc"};
	const char *rnames[] = {"Resent-To", "Resent-Cc", "Resent-Bcc"};
	const char *const *want = resent ? rnames : names;

	for (size_t len; p < end; p += len) {
		bool bcc = sm_field_is(p, (size_t)(end - p), "Bcc") ||
			   sm_field_is(p, (size_t)(end - p), "Resent-Bcc");

		len = sm_field_len(p, end);
		for (size_t i = 0; i < 3; i++) {
			if (sm_field_is(p, len, want[i])) {
				size_t skip = strlen(want[i]) + 1;
				char **v = addrlist_parse(p + skip, len - skip);

				for (size_t j = 0; v[j]; j++)
					sm_env_add_rcpt(m->env, v[j]);
				strv_free(v);
			}
		}
		if (!bcc)
			buf_append(out, p, len);
	}
}

static void sm_start(struct sm_msg *m)
{
	if (m->env->nrcpt == 0)
		sm_fatal(EX_USAGE, m->extract ? "no recipient addresses found in message header"
					      : "no recipients specified");
	if (sm_submit_begin(&m->sub, m->env) < 0)
		sm_fatal(EX_TEMPFAIL, "cannot queue the message: postdrop cannot run");
	m->started = true;
}

/* The header section is complete (or cannot grow): recipients, then on. */
static void sm_header_end(struct sm_msg *m)
{
	struct buf out = BUF_INIT;

	m->in_header = false;
	sm_extract(m, &out);
	sm_start(m);
	sm_submit_data(&m->sub, out.data, out.len);
	buf_free(&out);
	buf_free(&m->header);
}

static bool sm_header_line(const char *p, size_t len, bool first)
{
	size_t i = 0;

	if (p[0] == ' ' || p[0] == '\t')
		return !first;
	while (i < len && (unsigned char)p[i] > 32 && (unsigned char)p[i] < 127 && p[i] != ':')
		i++;
	return i > 0 && i < len && p[i] == ':';
}

/* One line (or piece) of the message, line ends already made LF. */
static void sm_line(struct sm_msg *m, const char *p, size_t len, bool whole)
{
	if (m->in_header) {
		if (whole && sm_header_line(p, len, m->header.len == 0) &&
		    m->header.len + len <= m->header_limit) {
			buf_append(&m->header, p, len);
			return;
		}
		sm_header_end(m);
	}
	sm_submit_data(&m->sub, p, len);
}

int sm_message(struct sm_envelope *e, bool extract, bool ignore_dots)
{
	static struct sm_reader r;
	struct sm_msg m = {.env = e, .extract = extract, .in_header = extract};
	bool line_start = true;
	char *p;
	size_t len;

	m.header_limit = (size_t)config_size("header_size_limit");
	if (!extract)
		sm_start(&m);
	while ((len = sm_read_piece(&r, &p)) > 0) {
		bool whole;

		if (len >= 2 && p[len - 1] == '\n' && p[len - 2] == '\r')
			p[--len - 1] = '\n'; /* CRLF -> LF */
		whole = line_start && p[len - 1] == '\n';
		if (whole && !ignore_dots && len == 2 && p[0] == '.')
			break;
		sm_line(&m, p, len, whole);
		line_start = p[len - 1] == '\n';
	}
	if (m.in_header)
		sm_header_end(&m);
	if (!line_start)
		sm_submit_data(&m.sub, "\n", 1);
	return sm_submit_end(&m.sub);
}
