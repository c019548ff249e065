/*
 * retr.c - sending a message for RETR and TOP (RFC 1939 3, 7, 11).
 *
 * The Maildir file has LF line ends (or CRLF, as some writers leave it);
 * POP3 sends CRLF, a '.' doubled at the start of a line, and a final
 * ".\r\n" after a line end of its own.  The bytes sent for a message are
 * then exactly its RFC822.SIZE (mstore's vsize), which LIST announced
 * (longer when the header is downgraded for a client without UTF8).
 * The file is read in pieces and the session's output is filled only up
 * to POP3_OUT_HIGH, so a 50 MiB message costs no more memory than a
 * small one.  TOP sends the header, the empty line, and n body lines.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mime/downgrade.h"
#include "pop3.h"

#define POP3_READ_CHUNK 16384
/* header sections larger than this go out as stored (pop3(8)) */
#define POP3_DOWNGRADE_MAX (256 * 1024)

void pop3_retr_start(struct pop3_session *s, int fd, bool limit, uint32_t lines)
{
	struct buf hdr = s->retr.hdr;

	memset(&s->retr, 0, sizeof(s->retr));
	s->retr.hdr = hdr;
	buf_reset(&s->retr.hdr);
	s->retr.fd = fd;
	if (!s->utf8)
		mime_downgrade_fd(fd, POP3_DOWNGRADE_MAX, &s->retr.hdr);
	s->retr.bol = true;
	s->retr.limit = limit;
	s->retr.lines = lines;
}

void pop3_retr_abort(struct pop3_session *s)
{
	if (s->retr.fd >= 0)
		close(s->retr.fd);
	s->retr.fd = -1;
}

/* One byte of the message; false once TOP has sent enough lines. */
static bool retr_byte(struct pop3_session *s, char ch)
{
	struct pop3_retr *r = &s->retr;

	if (r->limit && r->body && r->bol && r->lines == 0)
		return false;
	if (r->bol && ch == '.')
		buf_putc(&s->out, '.');
	if (ch == '\n') {
		if (!r->last_cr)
			buf_putc(&s->out, '\r');
		buf_putc(&s->out, '\n');
		if (r->bol && !r->body)
			r->body = true; /* the empty line ends the header */
		else if (r->body && r->limit)
			r->lines--;
		r->bol = true;
		r->last_cr = false;
		return true;
	}
	if (ch == '\r') {
		r->last_cr = true;
		buf_putc(&s->out, '\r');
		return true; /* a CR alone does not start or end a line */
	}
	buf_putc(&s->out, ch);
	r->bol = false;
	r->last_cr = false;
	return true;
}

static void retr_finish(struct pop3_session *s)
{
	if (!s->retr.bol) {
		if (!s->retr.last_cr)
			buf_putc(&s->out, '\r');
		buf_putc(&s->out, '\n');
	}
	buf_puts(&s->out, ".\r\n");
	pop3_retr_abort(s);
}

bool pop3_retr_more(struct pop3_session *s)
{
	char chunk[POP3_READ_CHUNK];

	while (s->retr.fd >= 0 && s->out.len < POP3_OUT_HIGH) {
		if (s->retr.hdr_off < s->retr.hdr.len) {
			size_t n = s->retr.hdr.len - s->retr.hdr_off;

			if (n > POP3_READ_CHUNK)
				n = POP3_READ_CHUNK;
			for (size_t i = 0; i < n; i++)
				if (!retr_byte(s, s->retr.hdr.data[s->retr.hdr_off + i])) {
					retr_finish(s);
					return false;
				}
			s->retr.hdr_off += n;
			continue;
		}
		ssize_t n = read(s->retr.fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* A read error mid-message: end it; the client sees a short message. */
			retr_finish(s);
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			if (!retr_byte(s, chunk[i])) {
				retr_finish(s);
				return false;
			}
	}
	return s->retr.fd >= 0;
}
