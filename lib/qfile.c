/*
 * qfile.c - the queue file: writer, checking reader, and status journal.
 *
 * The layout is specified in qfile.h.  Crash safety rests on three points:
 *  - the 'E' record is written last, after every other byte, and carries a
 *    CRC-32C of all of them; qfw_finish() then fdatasync()s.  A file with
 *    no valid 'E' record is INCOMPLETE (its writer died or is still
 *    writing) and is never delivered;
 *  - the reader trusts nothing: every length is checked against the bytes
 *    present, every record against its size limit, before anything is
 *    copied, so a damaged or hostile file gives CORRUPT, never a crash;
 *  - journal records carry their own crc; the first bad one ends the
 *    journal (a torn tail after a crash), and the next append truncates it
 *    away first, so a torn record can never be followed by good ones.
 *
 * The writer gathers small records in a buffer and writes in blocks of
 * about 64 KiB; body pieces larger than that go straight to the file.  The
 * body length is known only at the end, so the 'B' record header is
 * checksummed in qfw_body_end() and the separately kept body crc joined to
 * it with crc32c_combine().
 *
 * Not here: file names, directories, renames (queue.c), locking, fsync of
 * the journal (the caller decides when a result must be durable).
 */
#include "qfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "ipc.h"
#include "log.h"
#include "util.h"

#define QFW_BLOCK 65536 /* write in blocks of about this size */
#define QF_CRC_LEN 4
#define QF_TIME_DIGITS 18 /* microseconds: fits a long long */

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ------------------------------------------------------------------ */
/* Writer                                                               */

static void qfw_fail(struct qfile_writer *w, int err)
{
	if (w->error == 0)
		w->error = err;
	buf_reset(&w->pending);
}

static void qfw_write_all(struct qfile_writer *w, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0 && w->error == 0) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			qfw_fail(w, n < 0 ? errno : EIO);
			return;
		}
		p += n;
		len -= (size_t)n;
		w->off += n;
	}
}

static void qfw_flush(struct qfile_writer *w)
{
	if (w->error == 0 && w->pending.len > 0)
		qfw_write_all(w, w->pending.data, w->pending.len);
	buf_reset(&w->pending);
}

/* Buffers data, or writes it directly when it is large: no big copies. */
static void qfw_emit(struct qfile_writer *w, const void *data, size_t len)
{
	if (w->error)
		return;
	if (len > QFW_BLOCK) {
		qfw_flush(w);
		qfw_write_all(w, data, len);
		return;
	}
	buf_append(&w->pending, data, len);
	if (w->pending.len > QFW_BLOCK)
		qfw_flush(w);
}

static void qfw_rec_header(unsigned char hdr[QF_REC_HDR], int type, uint32_t len)
{
	hdr[0] = (unsigned char)type;
	put_be32(hdr + 1, len);
}

void qfw_init(struct qfile_writer *w, int fd)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	buf_init(&w->pending);
	w->body_len_off = -1;
	qfw_emit(w, QF_MAGIC, QF_MAGIC_LEN);
	w->crc = crc32c(0, QF_MAGIC, QF_MAGIC_LEN);
}

/* The reader's limits, checked here so we never write a file it rejects. */
static int qfw_check_record(struct qfile_writer *w, int type, size_t len)
{
	if (w->in_body || type == 0 || strchr("TSARHB", type) == NULL)
		return EINVAL;
	if (type == 'H' || type == 'B')
		return len > UINT32_MAX ? EFBIG : 0;
	if (len > QF_MAX_SMALL_RECORD)
		return EMSGSIZE;
	if (type == 'R' && w->nrcpt >= QF_MAX_RECIPIENTS)
		return EMSGSIZE;
	return 0;
}

void qfw_record(struct qfile_writer *w, int type, const void *data, size_t len)
{
	unsigned char hdr[QF_REC_HDR];
	int err;

	if (w->error)
		return;
	if ((err = qfw_check_record(w, type, len)) != 0) {
		qfw_fail(w, err);
		return;
	}
	if (type == 'R')
		w->nrcpt++;
	qfw_rec_header(hdr, type, (uint32_t)len);
	w->crc = crc32c(w->crc, hdr, sizeof(hdr));
	w->crc = crc32c(w->crc, data, len);
	qfw_emit(w, hdr, sizeof(hdr));
	qfw_emit(w, data, len);
}

void qfw_arrival(struct qfile_writer *w, long long usec)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%lld", usec);

	qfw_record(w, 'T', num, (size_t)n);
}

void qfw_sender(struct qfile_writer *w, const char *sender)
{
	if (sender == NULL)
		sender = "";
	qfw_record(w, 'S', sender, strlen(sender));
}

void qfw_attr(struct qfile_writer *w, const char *name, const char *value)
{
	struct buf rec = BUF_INIT;

	/* The reader splits at the first '=': the name must not hold one. */
	if (*name == 0 || strchr(name, '=') != NULL) {
		qfw_fail(w, EMSGSIZE);
		return;
	}
	buf_printf(&rec, "%s=%s", name, value ? value : "");
	qfw_record(w, 'A', rec.data, rec.len);
	buf_free(&rec);
}

void qfw_rcpt(struct qfile_writer *w, const char *addr, const char *orcpt, const char *notify)
{
	struct buf rec = BUF_INIT;

	ipc_put_str(&rec, "addr", addr);
	if (orcpt != NULL)
		ipc_put_str(&rec, "orcpt", orcpt);
	if (notify != NULL)
		ipc_put_str(&rec, "notify", notify);
	ipc_end(&rec);
	qfw_record(w, 'R', rec.data, rec.len);
	buf_free(&rec);
}

void qfw_header(struct qfile_writer *w, const void *data, size_t len)
{
	qfw_record(w, 'H', data, len);
}

/*
 * The 'B' header goes out with a zero length, and is left out of the crc
 * until qfw_body_end() knows the real length.
 */
void qfw_body_begin(struct qfile_writer *w)
{
	unsigned char hdr[QF_REC_HDR];
	off_t at;

	if (w->error)
		return;
	if (w->in_body) {
		qfw_fail(w, EINVAL);
		return;
	}
	at = w->off + (off_t)w->pending.len;
	qfw_rec_header(hdr, 'B', 0);
	qfw_emit(w, hdr, sizeof(hdr));
	w->body_len_off = at + 1;
	w->body_len = 0;
	w->body_crc = 0;
	w->in_body = true;
}

void qfw_body_write(struct qfile_writer *w, const void *data, size_t len)
{
	if (w->error)
		return;
	if (!w->in_body) {
		qfw_fail(w, EINVAL);
		return;
	}
	if (len > UINT32_MAX - w->body_len) {
		qfw_fail(w, EFBIG);
		return;
	}
	w->body_crc = crc32c(w->body_crc, data, len);
	w->body_len += len;
	qfw_emit(w, data, len);
}

static void qfw_pwrite_all(struct qfile_writer *w, const void *data, size_t len, off_t off)
{
	const char *p = data;

	while (len > 0 && w->error == 0) {
		ssize_t n = pwrite(w->fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			qfw_fail(w, n < 0 ? errno : EIO);
			return;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
}

/* Patches the length in, in the buffer if it is still there, else on disk. */
void qfw_body_end(struct qfile_writer *w)
{
	unsigned char hdr[QF_REC_HDR];

	if (w->error)
		return;
	if (!w->in_body) {
		qfw_fail(w, EINVAL);
		return;
	}
	w->in_body = false;
	qfw_rec_header(hdr, 'B', (uint32_t)w->body_len);
	w->crc = crc32c(w->crc, hdr, sizeof(hdr));
	w->crc = crc32c_combine(w->crc, w->body_crc, w->body_len);
	if (w->body_len_off >= w->off) {
		memcpy(w->pending.data + (w->body_len_off - w->off), hdr + 1, 4);
		return;
	}
	qfw_flush(w);
	qfw_pwrite_all(w, hdr + 1, 4, w->body_len_off);
}

int qfw_finish(struct qfile_writer *w)
{
	unsigned char end[QF_REC_HDR + QF_CRC_LEN];

	if (w->error == 0 && w->in_body)
		qfw_fail(w, EINVAL);
	qfw_rec_header(end, 'E', QF_CRC_LEN);
	put_be32(end + QF_REC_HDR, w->crc);
	qfw_emit(w, end, sizeof(end));
	qfw_flush(w);
	/* The caller acknowledges the mail after this: it must be on disk. */
	if (w->error == 0 && fdatasync(w->fd) < 0)
		qfw_fail(w, errno);
	buf_free(&w->pending);
	if (w->error) {
		errno = w->error;
		return -1;
	}
	return 0;
}

void qfw_abort(struct qfile_writer *w)
{
	buf_free(&w->pending);
	w->in_body = false;
}

/* ------------------------------------------------------------------ */
/* Reader                                                               */

struct qf_parser {
	const unsigned char *data;
	size_t len;
	struct qfile *qf;
	struct buf *err;
	size_t rcap, acap;
	int nt, ns, nh, nb;
};

__attribute__((format(printf, 4, 5))) static enum qf_load_result qf_fail(
    struct qf_parser *p, enum qf_load_result r, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->err == NULL)
		return r;
	buf_reset(p->err);
	buf_printf(
	    p->err, "%s at offset %zu: ", r == QF_LOAD_INCOMPLETE ? "incomplete" : "corrupt", off);
	va_start(ap, fmt);
	buf_vprintf(p->err, fmt, ap);
	va_end(ap);
	return r;
}

static enum qf_load_result qf_check_magic(struct qf_parser *p)
{
	size_t n = p->len < QF_MAGIC_LEN ? p->len : QF_MAGIC_LEN;

	if (n > 0 && memcmp(p->data, QF_MAGIC, n) != 0)
		return qf_fail(p, QF_LOAD_CORRUPT, 0, "not a queue file (bad magic)");
	if (n < QF_MAGIC_LEN)
		return qf_fail(p, QF_LOAD_INCOMPLETE, 0, "truncated magic");
	return QF_LOAD_OK;
}

/* Frames the record at pos: known type, within its limit, all present. */
static enum qf_load_result qf_next_record(struct qf_parser *p, size_t pos, int *type, size_t *rlen)
{
	size_t rem = p->len - pos;

	if (rem < QF_REC_HDR)
		return qf_fail(p, QF_LOAD_INCOMPLETE, pos, "truncated record header");
	*type = p->data[pos];
	*rlen = get_be32(p->data + pos + 1);
	if (*type == 0 || strchr("TSARHBE", *type) == NULL)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "unknown record type 0x%02x", *type);
	if (*type == 'E' && *rlen != QF_CRC_LEN)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "'E' record of length %zu", *rlen);
	if (*type != 'H' && *type != 'B' && *rlen > QF_MAX_SMALL_RECORD)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "'%c' record too long (%zu)", *type, *rlen);
	if (*rlen > rem - QF_REC_HDR)
		return qf_fail(p, QF_LOAD_INCOMPLETE, pos, "truncated '%c' record", *type);
	return QF_LOAD_OK;
}

static enum qf_load_result qf_rec_time(struct qf_parser *p, size_t pos, const char *s, size_t n)
{
	long long v = 0;

	if (p->nt++ > 0)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "second 'T' record");
	if (n == 0 || n > QF_TIME_DIGITS)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "bad arrival time");
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return qf_fail(p, QF_LOAD_CORRUPT, pos, "bad arrival time");
		v = v * 10 + (s[i] - '0');
	}
	p->qf->arrival_usec = v;
	return QF_LOAD_OK;
}

static enum qf_load_result qf_rec_sender(struct qf_parser *p, size_t pos, const char *s, size_t n)
{
	if (p->ns++ > 0)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "second 'S' record");
	if (memchr(s, 0, n) != NULL)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "NUL in sender");
	p->qf->sender = xmemdup(s, n);
	return QF_LOAD_OK;
}

static enum qf_load_result qf_rec_attr(struct qf_parser *p, size_t pos, const char *s, size_t n)
{
	struct qfile *qf = p->qf;
	const char *eq = memchr(s, '=', n);

	if (eq == NULL || eq == s)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "attribute without name=");
	if (memchr(s, 0, n) != NULL)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "NUL in attribute");
	if (qf->nattr == p->acap) {
		p->acap = p->acap ? p->acap * 2 : 8;
		qf->attrs = xreallocarray(qf->attrs, p->acap, sizeof(*qf->attrs));
	}
	qf->attrs[qf->nattr].name = xmemdup(s, (size_t)(eq - s));
	qf->attrs[qf->nattr].value = xmemdup(eq + 1, n - (size_t)(eq - s) - 1);
	qf->nattr++;
	return QF_LOAD_OK;
}

/* An optional string attribute: absent is fine, a NUL inside is not. */
static bool qf_ipc_opt(const struct ipc_msg *m, const char *name, const char **out)
{
	*out = ipc_get_str(m, name);
	return *out != NULL || ipc_get(m, name) == NULL;
}

/* Decodes exactly one whole IPC record filling the payload. */
static bool qf_ipc_whole(const char *s, size_t n, struct ipc_msg *m)
{
	size_t used = 0;

	return ipc_parse(s, n, QF_MAX_SMALL_RECORD, m, &used, NULL) == IPC_OK && used == n;
}

static void qf_add_rcpt(
    struct qf_parser *p, const char *addr, const char *orcpt, const char *notify)
{
	struct qfile *qf = p->qf;
	struct qfile_rcpt *r;

	if (qf->nrcpt == p->rcap) {
		p->rcap = p->rcap ? p->rcap * 2 : 8;
		qf->rcpts = xreallocarray(qf->rcpts, p->rcap, sizeof(*qf->rcpts));
	}
	r = &qf->rcpts[qf->nrcpt++];
	memset(r, 0, sizeof(*r));
	r->addr = xstrdup(addr);
	r->orcpt = orcpt ? xstrdup(orcpt) : NULL;
	r->notify = notify ? xstrdup(notify) : NULL;
	r->status = QF_PENDING;
}

static enum qf_load_result qf_rec_rcpt(struct qf_parser *p, size_t pos, const char *s, size_t n)
{
	struct ipc_msg m;
	const char *addr, *orcpt, *notify;
	enum qf_load_result r = QF_LOAD_OK;

	if (p->qf->nrcpt >= QF_MAX_RECIPIENTS)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "too many recipients");
	ipc_msg_init(&m);
	if (!qf_ipc_whole(s, n, &m))
		r = qf_fail(p, QF_LOAD_CORRUPT, pos, "malformed recipient record");
	else if ((addr = ipc_get_str(&m, "addr")) == NULL || *addr == 0)
		r = qf_fail(p, QF_LOAD_CORRUPT, pos, "recipient without addr");
	else if (!qf_ipc_opt(&m, "orcpt", &orcpt) || !qf_ipc_opt(&m, "notify", &notify))
		r = qf_fail(p, QF_LOAD_CORRUPT, pos, "NUL in recipient attribute");
	else
		qf_add_rcpt(p, addr, orcpt, notify);
	ipc_msg_free(&m);
	return r;
}

/* H and B stay in the file: only where they are is recorded. */
static enum qf_load_result qf_rec_blob(struct qf_parser *p, size_t pos, int type, size_t n)
{
	struct qfile *qf = p->qf;

	if (type == 'H') {
		if (p->nh++ > 0)
			return qf_fail(p, QF_LOAD_CORRUPT, pos, "extra 'H' record");
		qf->header_off = (off_t)(pos + QF_REC_HDR);
		qf->header_len = (off_t)n;
		return QF_LOAD_OK;
	}
	if (p->nb++ > 0)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "extra 'B' record");
	qf->body_off = (off_t)(pos + QF_REC_HDR);
	qf->body_len = (off_t)n;
	return QF_LOAD_OK;
}

static enum qf_load_result qf_envelope_record(struct qf_parser *p, size_t pos, int type, size_t n)
{
	const char *s = (const char *)p->data + pos + QF_REC_HDR;

	switch (type) {
	case 'T': return qf_rec_time(p, pos, s, n);
	case 'S': return qf_rec_sender(p, pos, s, n);
	case 'A': return qf_rec_attr(p, pos, s, n);
	case 'R': return qf_rec_rcpt(p, pos, s, n);
	default: return qf_rec_blob(p, pos, type, n);
	}
}

/* The 'E' record at pos: checksum first, then the required records. */
static enum qf_load_result qf_check_end(struct qf_parser *p, size_t pos)
{
	uint32_t stored = get_be32(p->data + pos + QF_REC_HDR);
	uint32_t computed = crc32c(0, p->data, pos);

	if (stored != computed)
		return qf_fail(p, QF_LOAD_CORRUPT, pos,
		    "checksum mismatch (stored %08x, computed %08x)", stored, computed);
	if (p->nt != 1)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "no 'T' record");
	if (p->ns != 1)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "no 'S' record");
	if (p->qf->nrcpt == 0)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "no 'R' record");
	if (p->nh != 1 || p->nb != 1)
		return qf_fail(p, QF_LOAD_CORRUPT, pos, "no 'H' or 'B' record");
	return QF_LOAD_OK;
}

static bool qf_status_parse(const char *s, enum qf_status *out)
{
	if (s == NULL)
		return false;
	if (strcmp(s, "sent") == 0)
		*out = QF_SENT;
	else if (strcmp(s, "bounced") == 0)
		*out = QF_BOUNCED;
	else if (strcmp(s, "deferred") == 0)
		*out = QF_DEFERRED;
	else
		return false;
	return true;
}

static void qf_set_result(
    struct qfile_rcpt *r, enum qf_status status, const char *dsn, const char *reason)
{
	free(r->dsn);
	free(r->reason);
	r->status = status;
	r->dsn = dsn ? xstrdup(dsn) : NULL;
	r->reason = reason ? xstrdup(reason) : NULL;
}

/* Checks one journal payload completely before applying any of it. */
static bool qf_journal_apply(struct qf_parser *p, const char *s, size_t n)
{
	struct ipc_msg m;
	long long idx, t;
	enum qf_status st;
	const char *dsn, *reason;
	bool ok;

	ipc_msg_init(&m);
	ok = qf_ipc_whole(s, n, &m) && ipc_get_int(&m, "rcpt", &idx) && idx >= 0 &&
	     (unsigned long long)idx < p->qf->nrcpt &&
	     qf_status_parse(ipc_get_str(&m, "status"), &st) && qf_ipc_opt(&m, "dsn", &dsn) &&
	     qf_ipc_opt(&m, "reason", &reason) &&
	     (ipc_get(&m, "time") == NULL || ipc_get_int(&m, "time", &t));
	if (ok)
		qf_set_result(&p->qf->rcpts[idx], st, dsn, reason);
	ipc_msg_free(&m);
	return ok;
}

/* Size of the good journal record at pos, or 0 where the journal ends. */
static size_t qf_journal_record(struct qf_parser *p, size_t pos)
{
	const unsigned char *r = p->data + pos;
	size_t rem = p->len - pos, n;

	if (rem < QF_REC_HDR + QF_CRC_LEN || r[0] != 'J')
		return 0;
	n = get_be32(r + 1);
	if (n > QF_MAX_SMALL_RECORD || n > rem - QF_REC_HDR - QF_CRC_LEN)
		return 0;
	if (crc32c(0, r, QF_REC_HDR + n) != get_be32(r + QF_REC_HDR + n))
		return 0;
	if (!qf_journal_apply(p, (const char *)r + QF_REC_HDR, n))
		return 0;
	return QF_REC_HDR + n + QF_CRC_LEN;
}

static void qf_journal(struct qf_parser *p, size_t pos)
{
	size_t n;

	while (pos < p->len && (n = qf_journal_record(p, pos)) > 0)
		pos += n;
	p->qf->journal_end = (off_t)pos;
}

enum qf_load_result qfile_parse(const char *data, size_t len, struct qfile *qf, struct buf *err)
{
	struct qf_parser p = {
	    .data = (const unsigned char *)data, .len = len, .qf = qf, .err = err};
	enum qf_load_result r;
	size_t pos = QF_MAGIC_LEN, rlen = 0;
	int type = 0;

	memset(qf, 0, sizeof(*qf));
	qf->file_size = (off_t)len;
	if (err != NULL)
		buf_reset(err);
	if ((r = qf_check_magic(&p)) != QF_LOAD_OK)
		return r;
	for (;;) {
		if ((r = qf_next_record(&p, pos, &type, &rlen)) != QF_LOAD_OK)
			return r;
		if (type == 'E')
			break;
		if ((r = qf_envelope_record(&p, pos, type, rlen)) != QF_LOAD_OK)
			return r;
		pos += QF_REC_HDR + rlen;
	}
	if ((r = qf_check_end(&p, pos)) != QF_LOAD_OK)
		return r;
	qf->end_off = (off_t)(pos + QF_REC_HDR + QF_CRC_LEN);
	qf_journal(&p, (size_t)qf->end_off);
	return QF_LOAD_OK;
}

/*
 * Reads to end of file rather than st_size bytes: a file still being
 * written may have grown since fstat(), and reading what is there then
 * gives INCOMPLETE, not a spurious CORRUPT.
 */
static int qf_read_all(int fd, char **out, size_t *outlen)
{
	struct stat st;
	size_t cap, len = 0;
	char *data;

	if (fstat(fd, &st) < 0)
		return -1;
	cap = (size_t)st.st_size + 4096;
	data = xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (len == cap)
			data = xrealloc(data, cap *= 2);
		n = pread(fd, data + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(data);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = data;
	*outlen = len;
	return 0;
}

enum qf_load_result qfile_load(int fd, struct qfile *qf, struct buf *err)
{
	enum qf_load_result r;
	char *data;
	size_t len;

	memset(qf, 0, sizeof(*qf));
	if (qf_read_all(fd, &data, &len) < 0) {
		int e = errno;

		if (err != NULL) {
			buf_reset(err);
			buf_printf(err, "read error: %s", strerror(e));
		}
		errno = e;
		return QF_LOAD_CORRUPT;
	}
	r = qfile_parse(data, len, qf, err);
	free(data);
	return r;
}

/* ------------------------------------------------------------------ */
/* Journal writer                                                       */

static void qf_journal_build(
    struct buf *rec, size_t index, enum qf_status status, const char *dsn, const char *reason)
{
	unsigned char crc[QF_CRC_LEN];

	buf_append(rec, "J\0\0\0\0", QF_REC_HDR);
	ipc_put_int(rec, "rcpt", (long long)index);
	ipc_put_str(rec, "status", qf_status_name(status));
	if (dsn != NULL)
		ipc_put_str(rec, "dsn", dsn);
	if (reason != NULL)
		ipc_put_str(rec, "reason", reason);
	ipc_put_int(rec, "time", now_usec());
	ipc_end(rec);
	put_be32((unsigned char *)rec->data + 1, (uint32_t)(rec->len - QF_REC_HDR));
	put_be32(crc, crc32c(0, rec->data, rec->len));
	buf_append(rec, crc, sizeof(crc));
}

static int qf_pwrite_all(int fd, const char *p, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static char *qf_clip(const char *s, size_t max)
{
	return s ? xstrndup(s, max) : NULL;
}

int qfile_journal_append(int fd, struct qfile *qf, size_t index, enum qf_status status,
    const char *dsn, const char *reason)
{
	struct buf rec = BUF_INIT;
	char *cdsn, *creason;
	int rc = -1, e;

	if (index >= qf->nrcpt || status == QF_PENDING || status > QF_BOUNCED) {
		errno = EINVAL;
		return -1;
	}
	cdsn = qf_clip(dsn, QF_JOURNAL_DSN_MAX);
	creason = qf_clip(reason, QF_JOURNAL_REASON_MAX);
	qf_journal_build(&rec, index, status, cdsn, creason);
	/* A torn record must go first: nothing good may follow a bad one. */
	if (qf->file_size > qf->journal_end && ftruncate(fd, qf->journal_end) < 0)
		goto out;
	qf->file_size = qf->journal_end;
	if (qf_pwrite_all(fd, rec.data, rec.len, qf->journal_end) < 0) {
		/* Maybe partly written: make the next append truncate it. */
		qf->file_size = qf->journal_end + (off_t)rec.len;
		goto out;
	}
	qf->journal_end += (off_t)rec.len;
	qf->file_size = qf->journal_end;
	qf_set_result(&qf->rcpts[index], status, cdsn, creason);
	rc = 0;
out:
	e = errno;
	buf_free(&rec);
	free(cdsn);
	free(creason);
	errno = e;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Accessors                                                            */

const char *qf_status_name(enum qf_status s)
{
	switch (s) {
	case QF_PENDING: return "pending";
	case QF_DEFERRED: return "deferred";
	case QF_SENT: return "sent";
	case QF_BOUNCED: return "bounced";
	}
	return "unknown";
}

const char *qfile_attr(const struct qfile *qf, const char *name)
{
	for (size_t i = 0; i < qf->nattr; i++)
		if (strcmp(qf->attrs[i].name, name) == 0)
			return qf->attrs[i].value;
	return NULL;
}

size_t qfile_pending(const struct qfile *qf)
{
	size_t n = 0;

	for (size_t i = 0; i < qf->nrcpt; i++)
		if (qf->rcpts[i].status == QF_PENDING || qf->rcpts[i].status == QF_DEFERRED)
			n++;
	return n;
}

void qfile_free(struct qfile *qf)
{
	for (size_t i = 0; i < qf->nrcpt; i++) {
		free(qf->rcpts[i].addr);
		free(qf->rcpts[i].orcpt);
		free(qf->rcpts[i].notify);
		free(qf->rcpts[i].dsn);
		free(qf->rcpts[i].reason);
	}
	for (size_t i = 0; i < qf->nattr; i++) {
		free(qf->attrs[i].name);
		free(qf->attrs[i].value);
	}
	free(qf->rcpts);
	free(qf->attrs);
	free(qf->sender);
	memset(qf, 0, sizeof(*qf));
}
