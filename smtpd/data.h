/*
 * data.h - the incremental decoder of the SMTP DATA stream.
 *
 * A pure function over buffers: it finds the end of the message and undoes
 * dot-stuffing (RFC 5321 4.5.2), whatever way the client's bytes were split
 * across reads.  It does no I/O, keeps no copy of the input, and does not
 * limit sizes; the caller counts the output and applies message_size_limit.
 *
 * Rules (chosen to defeat SMTP smuggling, where a receiver and a relay
 * disagree about where a message ends):
 *   - only "<CR><LF>.<CR><LF>" ends the data (the first line may be ".\r\n");
 *     a "." line after a bare LF, "\r.\r", "\n.\n" or "\r\n.\n" never does;
 *   - a line that follows a CRLF (or is the first line) and starts with '.'
 *     loses that first dot; after a bare LF the dot is kept;
 *   - CRLF becomes LF, bare LF stays LF, bare CR stays CR; every other byte,
 *     8-bit or NUL, passes unchanged.
 */
#ifndef TERN_SMTPD_DATA_H
#define TERN_SMTPD_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum data_state {
	DATA_LINE_START, /* at the start of a line that followed CRLF */
	DATA_DOT,	 /* saw "." at such a line start */
	DATA_DOT_CR,	 /* saw ".\r" at such a line start */
	DATA_MID,	 /* inside a line (or after a bare LF) */
	DATA_CR,	 /* inside a line, saw "\r" not yet output */
	DATA_END,	 /* saw the end marker */
};

struct data_decoder {
	enum data_state state;
};

void data_decoder_init(struct data_decoder *d);

/*
 * Decodes in[0..len), appending the message content to out.  Returns the
 * number of input bytes consumed: all of them, or fewer when the end marker
 * was found (the bytes after it belong to the next command).  Once the end
 * was seen, data_decoder_done() is true and further calls consume nothing.
 */
size_t data_decode(struct data_decoder *d, const char *in, size_t len, struct buf *out);

bool data_decoder_done(const struct data_decoder *d);

#endif
