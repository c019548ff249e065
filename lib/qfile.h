/*
 * qfile.h - the queue file: one message, its envelope, and its status journal.
 *
 * Layout (all lengths big-endian):
 *
 *   "TERNQF01"                       8-byte magic
 *   record*                          [type:1][len:4][payload:len]
 *   'E' record                       payload = CRC-32C (4 bytes) of every
 *                                    byte from offset 0 to the 'E' type byte
 *   journal record*                  [type 'J'][len:4][payload][crc:4], the
 *                                    crc covering type, len and payload
 *
 * Envelope records, in the order cleanup writes them:
 *   'T'  arrival time, decimal microseconds since the epoch
 *   'S'  sender address (empty for the null sender <>)
 *   'A'  attribute "name=value" (client_name, client_addr, helo_name,
 *        protocol, ...); the value may be empty.  cleanup may write
 *        more after 'B', when the header tells it (tls_required=no,
 *        lib/proto.h)
 *   'R'  recipient, payload an IPC record (ipc.h) with attributes
 *        "addr" (required), and optional "orcpt", "notify"
 *   'H'  the message header section: header lines, LF line ends, without
 *        the empty line that separates it from the body
 *   'B'  the body, LF line ends (the message is H + "\n" + B)
 *   H and B come in either order: cleanup writes B first and H after it,
 *   so what it learns from the body (DKIM results) can go into the header
 *   without holding the body; readers use the offsets.
 * cleanup writes the 'R' records after 'B' (a header or body check may
 * still redirect the message); readers accept them anywhere before 'E'.
 *
 * The 'E' record is the completion mark: a file without a valid one was not
 * finished (its writer died or is still writing) and is never delivered.
 * The journal is written only by qmgr, after the 'E' record: one record per
 * recipient result, payload an IPC record with "rcpt" (index into the
 * recipients, from 0), "status" ("sent", "bounced", "deferred"), "dsn"
 * (e.g. "4.4.1"), "reason" (text), "time" (microseconds).  The last
 * journal record of a recipient wins.  A record whose crc does not match
 * ends the journal (a torn tail): it and everything after it is ignored,
 * and the recipient is simply tried again.
 */
#ifndef TERN_QFILE_H
#define TERN_QFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define QF_MAGIC "TERNQF01"
#define QF_MAGIC_LEN 8
#define QF_REC_HDR 5		  /* type + length */
#define QF_MAX_SMALL_RECORD 65536 /* every record but H and B */
#define QF_MAX_RECIPIENTS 100000

enum qf_status {
	QF_PENDING = 0, /* no result yet */
	QF_DEFERRED,	/* tried, failed temporarily; still pending */
	QF_SENT,	/* done */
	QF_BOUNCED,	/* done (a bounce was queued) */
};

struct qfile_rcpt {
	char *addr;
	char *orcpt;  /* may be NULL */
	char *notify; /* may be NULL */
	enum qf_status status;
	char *dsn;    /* from the journal, may be NULL */
	char *reason; /* from the journal, may be NULL */
};

struct qfile_attr {
	char *name;
	char *value;
};

struct qfile {
	long long arrival_usec;
	char *sender;
	struct qfile_rcpt *rcpts;
	size_t nrcpt;
	struct qfile_attr *attrs;
	size_t nattr;
	off_t header_off, header_len; /* payload of 'H' */
	off_t body_off, body_len;     /* payload of 'B' */
	off_t end_off;		      /* first byte after the 'E' record */
	off_t journal_end;	      /* first byte after the last good 'J' */
	off_t file_size;
};

enum qf_load_result {
	QF_LOAD_CORRUPT = -1, /* bad magic, bad record, checksum mismatch */
	QF_LOAD_OK = 0,
	QF_LOAD_INCOMPLETE = 1, /* no 'E' record (yet) */
};

/*
 * Reads and checks a whole queue file from fd (from offset 0, with pread;
 * the file offset is not used) and applies its journal.  On error, err
 * says what is wrong and where.  qfile_free() is safe after any result.
 * A read error is reported as QF_LOAD_CORRUPT with errno set and err
 * starting "read error" (never INCOMPLETE: that would let the file be
 * cleaned up).  err may be NULL.
 */
enum qf_load_result qfile_load(int fd, struct qfile *qf, struct buf *err);
/* The same over a buffer: the pure parser, for tests and fuzzing. */
enum qf_load_result qfile_parse(const char *data, size_t len, struct qfile *qf, struct buf *err);
void qfile_free(struct qfile *qf);
const char *qfile_attr(const struct qfile *qf, const char *name);
/* Recipients that still need delivery (QF_PENDING or QF_DEFERRED). */
size_t qfile_pending(const struct qfile *qf);

/*
 * Appends one journal record at qf->journal_end (first truncating a torn
 * tail) and advances qf->journal_end; updates qf->rcpts[index] too.  The
 * caller fsyncs when the result must be durable.  Returns 0 or -1 (errno;
 * EINVAL for a bad index or for QF_PENDING).  dsn and reason may be NULL;
 * they are clipped to QF_JOURNAL_DSN_MAX / QF_JOURNAL_REASON_MAX bytes so
 * a record always fits QF_MAX_SMALL_RECORD.
 */
#define QF_JOURNAL_DSN_MAX 64
#define QF_JOURNAL_REASON_MAX 4000
int qfile_journal_append(int fd, struct qfile *qf, size_t index, enum qf_status status,
    const char *dsn, const char *reason);

const char *qf_status_name(enum qf_status s);

/*
 * The writer.  Records are gathered in a buffer and written in large
 * blocks; the first I/O error is kept and reported by qfw_finish().  The
 * body can be streamed in any number of pieces between qfw_body_begin() and
 * qfw_body_end() (its length is patched in afterwards).
 *
 * fd must be a new, empty file opened for writing WITHOUT O_APPEND (the
 * body length is patched in with pwrite()) at offset 0.  The writer refuses
 * (first error EMSGSIZE) a record the reader would reject: any record but
 * H and B over QF_MAX_SMALL_RECORD, an attribute name that is empty or has
 * '=', more than QF_MAX_RECIPIENTS recipients; EFBIG for H or B of 4 GiB
 * or more; EINVAL for a call out of order (a record inside the body).
 */
struct qfile_writer {
	int fd;
	uint32_t crc;
	off_t off;	    /* bytes written to fd so far */
	struct buf pending; /* not yet written */
	off_t body_len_off; /* where the 'B' length goes */
	uint64_t body_len;
	uint32_t body_crc; /* crc of the body bytes alone */
	size_t nrcpt;	   /* 'R' records so far */
	bool in_body;
	int error; /* first errno, 0 if none */
};

void qfw_init(struct qfile_writer *w, int fd);
void qfw_record(struct qfile_writer *w, int type, const void *data, size_t len);
void qfw_arrival(struct qfile_writer *w, long long usec);
void qfw_sender(struct qfile_writer *w, const char *sender);
void qfw_attr(struct qfile_writer *w, const char *name, const char *value);
void qfw_rcpt(struct qfile_writer *w, const char *addr, const char *orcpt, const char *notify);
void qfw_header(struct qfile_writer *w, const void *data, size_t len);
void qfw_body_begin(struct qfile_writer *w);
void qfw_body_write(struct qfile_writer *w, const void *data, size_t len);
void qfw_body_end(struct qfile_writer *w);
/* Writes the 'E' record, flushes and fdatasync()s.  Returns 0 or -1 with
 * errno set to the first error.  The writer's buffer is freed either way. */
int qfw_finish(struct qfile_writer *w);
void qfw_abort(struct qfile_writer *w);

#endif
