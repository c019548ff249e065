/*
 * data.c - the incremental decoder of the SMTP DATA stream (see data.h).
 *
 * The decoder is a small state machine whose state fully describes the
 * bytes it has seen but not yet output (a withheld CR, or a line-start dot
 * that may be stuffing or the start of the end marker), so no input is
 * buffered and any split of the stream gives the same output.  It does not
 * enforce line lengths or the message size: that is the caller's policy.
 */
#include "data.h"

#include <string.h>

void data_decoder_init(struct data_decoder *d)
{
	/* The first line counts as following a CRLF: ".\r\n" at once is an
	 * empty message (RFC 5321 4.1.1.4: the DATA line ended with CRLF). */
	d->state = DATA_LINE_START;
}

bool data_decoder_done(const struct data_decoder *d)
{
	return d->state == DATA_END;
}

/*
 * Handles one byte.  Returns false when the byte was not used and must be
 * handled again in the new state.
 */
static bool data_step(struct data_decoder *d, char c, struct buf *out)
{
	switch (d->state) {
	case DATA_LINE_START:
		if (c == '.') {
			d->state = DATA_DOT;
			return true;
		}
		d->state = DATA_MID;
		return false;
	case DATA_DOT:
		if (c == '\r') {
			d->state = DATA_DOT_CR;
			return true;
		}
		d->state = DATA_MID; /* the stuffed dot is dropped */
		return false;
	case DATA_DOT_CR:
		if (c == '\n') {
			d->state = DATA_END;
			return true;
		}
		d->state = DATA_CR; /* a bare CR after the dropped dot */
		return false;
	case DATA_CR:
		if (c == '\n') {
			buf_putc(out, '\n');
			d->state = DATA_LINE_START;
			return true;
		}
		buf_putc(out, '\r'); /* bare CR: kept as it is */
		d->state = DATA_MID;
		return false;
	case DATA_MID:
		if (c == '\r')
			d->state = DATA_CR;
		else
			buf_putc(out, c); /* a bare LF keeps us mid-line */
		return true;
	case DATA_END: break;
	}
	return true;
}

size_t data_decode(struct data_decoder *d, const char *in, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len && d->state != DATA_END) {
		if (d->state == DATA_MID) {
			/* Fast path: copy everything up to the next CR at once.
			 * A bare LF needs no state change, so it is copied too. */
			const char *cr = memchr(in + i, '\r', len - i);
			size_t n = cr ? (size_t)(cr - (in + i)) : len - i;

			if (n > 0) {
				buf_append(out, in + i, n);
				i += n;
				continue;
			}
		}
		if (data_step(d, in[i], out))
			i++;
	}
	return i;
}
