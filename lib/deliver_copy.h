/*
 * deliver_copy.h - a queued message written out for a delivery agent,
 * with the envelope lines and line conventions the consumer wants
 * (Postfix's mail_copy() flags, as pipe(8) names them):
 *
 *   F  "From sender date" first (the mbox envelope line)
 *   R  "Return-Path: <sender>"
 *   D  "Delivered-To: recipient"
 *   O  "X-Original-To: original recipient"
 *   >  a '>' before every line that starts with "From "
 *   .  a '.' before every line that starts with '.'
 *   B  an empty line at the end (the message's last line ended first)
 *   eol  each line ends in this string instead of LF ("\r\n" for CRLF)
 *
 * The queue file holds the header section and the body with LF line
 * ends (cleanup's form); it is read with pread() only, because its
 * descriptor shares the file offset with qmgr.  Lines are transformed
 * as a stream, across block boundaries, in bounded memory.
 */
#ifndef TERN_DELIVER_COPY_H
#define TERN_DELIVER_COPY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct deliver_copy {
	int qfd; /* queue file */
	off_t header_off, header_len, body_off, body_len;
	const char *from_sender;  /* F: the sender for the "From " line, NULL: none */
	const char *return_path;  /* R: NULL: none */
	const char *delivered_to; /* D: NULL: none */
	const char *original_to;  /* O: NULL: none */
	bool from_escape;	  /* > */
	bool dot_stuff;		  /* . */
	bool blank_line;	  /* B */
	const char *eol;	  /* NULL: "\n" */
	/* when not NULL: the header section (LF line ends, without the
	 * empty line) comes from here instead of the queue file (a Sieve
	 * script's editheader) */
	const char *header_mem;
	size_t header_mem_len;
};

/* Writes the message to fd.  0, or -1 with errno set (EIO when the queue
 * file is shorter than the offsets say).  *written: the bytes written;
 * *vsize (if vsize is not NULL): the same with every LF not preceded by CR
 * counted as two bytes (the virtual size IMAP reports as RFC822.SIZE). */
int deliver_copy_write(int fd, const struct deliver_copy *c, uint64_t *written, uint64_t *vsize);

#endif
