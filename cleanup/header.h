/*
 * header.h - cleanup's pure functions over the message header section.
 *
 * hdr_split_*: finds where the header section of a message ends, over a
 * buffer that grows as data arrives (the caller keeps every byte from the
 * start of the message until the split is known).  RFC 5322 section 2.2:
 * a header line is "Name:" with Name printable ASCII 33..126 without ':',
 * continuation lines start with a space or a tab.  The section ends
 *   - at an empty line, which is consumed (it belongs to neither part),
 *   - at the first line that is neither a header nor a continuation (that
 *     line starts the body, as in Postfix), or
 *   - before the line that would make the section longer than the limit
 *     (header_size_limit): that line and the rest become the body, so a
 *     hostile client cannot make cleanup buffer an endless header.
 *
 * hdr_value: the unfolded value of the first header with a given name.
 * hdr_received_build / hdr_date_format: the Received: header cleanup
 * prepends (RFC 5321 section 4.4) and an RFC 5322 date-time.
 *
 * None of these do I/O or look at the configuration.
 */
#ifndef TERN_CLEANUP_HEADER_H
#define TERN_CLEANUP_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"

struct hdr_split {
	size_t limit;	  /* most bytes the header section may have */
	size_t pos;	  /* start of the first line not yet classified */
	bool seen_header; /* a header line was accepted: continuations ok */
	bool done;
	size_t header_len; /* when done: header section is data[0..header_len) */
	size_t body_off;   /* when done: the body starts at data[body_off] */
};

void hdr_split_init(struct hdr_split *s, size_t limit);
/*
 * Scans data[0..len), the message so far (len only grows between calls;
 * earlier bytes never change).  Returns true when the split is known
 * (then s->done, header_len and body_off are set), false when more data
 * is needed.
 */
bool hdr_split_scan(struct hdr_split *s, const char *data, size_t len);
/*
 * The message ended after data[0..len) without the split being known:
 * decides it.  A last header line without its LF stays in the header
 * section (data[header_len - 1] is then not '\n': the caller adds one).
 */
void hdr_split_finish(struct hdr_split *s, const char *data, size_t len);

/*
 * Finds the first header called name (any case) in a header section and
 * puts its value, unfolded and trimmed, in out.  False when absent.
 */
bool hdr_value(const char *hdr, size_t len, const char *name, struct buf *out);

struct received_info {
	const char *helo;	 /* may be NULL or empty */
	const char *client_name; /* may be NULL */
	const char *client_addr; /* may be NULL: a local submission */
	const char *protocol;	 /* may be NULL: "SMTP" */
	const char *uid;	 /* local submitter, may be NULL */
	const char *tls_proto;	 /* TLS protocol, cipher and key bits */
	const char *tls_cipher;	 /* when the client used TLS, else NULL */
	const char *tls_bits;
	const char *myhostname;
	const char *qid;
	const char *rcpt; /* the only recipient, or NULL */
	const char *date; /* from hdr_date_format() */
};

/* Appends the complete Received: header, LF-terminated, to out. */
void hdr_received_build(struct buf *out, const struct received_info *ri);

/*
 * Headers a message must have (RFC 5322 section 3.6) that cleanup adds
 * when they are missing (missing.c): Date: and Message-ID: when asked to
 * rewrite, From: for local submissions only (from_addr not NULL).
 */
struct missing_info {
	const char *date;      /* from hdr_date_format() */
	const char *msgid;     /* "<...@host>" */
	const char *from_addr; /* envelope sender, NULL: never add From: */
	const char *fullname;  /* sendmail -F, may be NULL or empty */
};

/* Appends the missing ones, LF-terminated, to out; hdr is the header
 * section as received (hdr_len bytes). */
void hdr_missing_build(
    struct buf *out, const char *hdr, size_t hdr_len, const struct missing_info *mi);

#define HDR_DATE_SIZE 64
/* "Sun, 22 Nov 2026 09:20:01 +0000 (UTC)" from a localtime_r() result. */
void hdr_date_format(char out[HDR_DATE_SIZE], const struct tm *tm);

#endif
