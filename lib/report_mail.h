/*
 * report_mail.h - reports tern sends to other domains about what it saw
 * (DMARC aggregate reports, TLS-RPT reports): the log of one line per
 * event that a daemon appends to and a command takes over, and the mail
 * carrying one gzipped report.
 *
 *   report_log_append   one line appended with one write (crash-safe:
 *                       several processes append to the same file)
 *   report_log_take     LOG -> LOG.sending (a failed run's file first)
 *   report_log_read     a whole file as a string
 *   report_file_write   a report written to a folder (--output)
 *   report_mail_message the message: a text part and the gzip attached
 *   report_mail_send    the message handed to sendmail
 *
 * Not here: the lines' formats and the reports themselves
 * (msgauth/dmarc_report.h, tlsrpt_report.h).
 */
#ifndef TERN_REPORT_MAIL_H
#define TERN_REPORT_MAIL_H

#include <stdbool.h>

#include "buf.h"

/* Appends line (ending in '\n') to path with O_APPEND, created 0640;
 * false with errno set. */
bool report_log_append(const char *path, const struct buf *line);

/*
 * Renames log to sending, so that the daemons' next lines start a new
 * file (a line being written goes to the renamed one).  When sending is
 * still there (a run that failed), log is appended to it instead.  0, or
 * 1 with the error on stderr (prefixed by who).
 */
int report_log_take(const char *who, const char *log, const char *sending);

/* The whole of path as a string (free it), or NULL when absent. */
char *report_log_read(const char *path);

/* Writes data to DIR/name; true, or false with the error on stderr. */
bool report_file_write(const char *who, const char *dir, const char *name, const struct buf *data);

struct report_mail {
	const char *from, *to, *subject;
	const char *headers;   /* more header lines, each ending in "\n", or NULL */
	const char *type;      /* the top type, "multipart/mixed" or "multipart/report;
				  report-type=..." (the boundary is added) */
	const char *text;      /* the first part, plain text */
	const char *file_type; /* the attachment's type, "application/gzip" */
	const char *file_name;
	const struct buf *file;
};

/* Appends the message (LF line ends, the attachment in base64). */
void report_mail_message(const struct report_mail *m, struct buf *msg);

/* Hands msg to sendmail -f from for rcpt; true when it was queued, else
 * false with the error on stderr (prefixed by who). */
bool report_mail_send(const char *who, const char *from, const char *rcpt, const struct buf *msg);

#endif
