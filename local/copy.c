/*
 * copy.c - writing one message from the queue file into a mailbox file.
 *
 * The message is "Return-Path: <sender>", "Delivered-To: rcpt", the header
 * section, an empty line, the body.  Bytes move in blocks of COPY_BLOCK
 * with pread(), never read(): the queue file descriptor shares its offset
 * with qmgr, which passed it to us.  For mbox, every line starting with
 * "From " gets a '>' (the mboxo convention, what readers split on), and
 * the message ends with an empty line, so the next "From " line starts a
 * new message.
 *
 * Also here: creating missing mailbox directories durably, and the
 * Delivered-To: loop check on the queued header.  Not here:
 * file creation, locking, fsync and rename (maildir.c, mbox.c).
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

#define COPY_BLOCK (128 * 1024)

static const char copy_from[] = "From ";
#define COPY_FROM_LEN 5

struct copy_sink {
	int fd;
	bool mbox;
	int match; /* chars of "From " matched at line start, -1 mid-line */
	char last; /* last byte of the message so far */
	struct buf out;
	uint64_t size, bare_lf; /* bytes written, LFs without CR before them */
	char out_last;		/* last byte written */
};

static int copy_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int copy_flush(struct copy_sink *s)
{
	int r = copy_write_all(s->fd, s->out.data, s->out.len);
	char prev = s->size ? s->out_last : '\n';

	/* The virtual size (every line end as CRLF) that IMAP reports. */
	for (size_t i = 0; i < s->out.len; i++) {
		if (s->out.data[i] == '\n' && prev != '\r')
			s->bare_lf++;
		prev = s->out.data[i];
	}
	s->size += s->out.len;
	s->out_last = prev;
	buf_reset(&s->out);
	return r;
}

/* Escapes "From " at line starts, across block boundaries. */
static void copy_escape(struct copy_sink *s, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (s->match >= 0 && c == copy_from[s->match]) {
			if (++s->match == COPY_FROM_LEN) {
				buf_putc(&s->out, '>');
				buf_append(&s->out, copy_from, COPY_FROM_LEN);
				s->match = -1;
			}
			continue;
		}
		if (s->match > 0)
			buf_append(&s->out, copy_from, (size_t)s->match);
		buf_putc(&s->out, c);
		s->match = c == '\n' ? 0 : -1;
	}
}

static int copy_put(struct copy_sink *s, const char *p, size_t len)
{
	if (len == 0)
		return 0;
	s->last = p[len - 1];
	if (s->mbox)
		copy_escape(s, p, len);
	else
		buf_append(&s->out, p, len);
	return s->out.len >= COPY_BLOCK ? copy_flush(s) : 0;
}

/* Copies len bytes at off of the queue file. */
static int copy_range(struct copy_sink *s, int qfd, off_t off, off_t len)
{
	char *block = xmalloc(COPY_BLOCK);
	int r = 0;

	while (len > 0 && r == 0) {
		size_t want = len > COPY_BLOCK ? COPY_BLOCK : (size_t)len;
		ssize_t n = pread(qfd, block, want, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the queue file is shorter than qmgr said */
			r = -1;
			break;
		}
		r = copy_put(s, block, (size_t)n);
		off += n;
		len -= n;
	}
	free(block);
	return r;
}

static int copy_envelope_lines(struct copy_sink *s, const struct local_msg *m, const char *rcpt)
{
	struct buf b = BUF_INIT;
	int r;

	buf_printf(&b, "Return-Path: <%s>\nDelivered-To: %s\n", m->sender, rcpt);
	r = copy_put(s, b.data, b.len);
	buf_free(&b);
	return r;
}

static int copy_tail(struct copy_sink *s)
{
	if (s->mbox && s->match > 0)
		buf_append(&s->out, copy_from, (size_t)s->match);
	/* mbox: the message ends with its own LF and then an empty line. */
	if (s->mbox && s->last != '\n')
		buf_putc(&s->out, '\n');
	if (s->mbox)
		buf_putc(&s->out, '\n');
	return copy_flush(s);
}

int local_copy_message(int fd, const struct local_msg *m, const char *rcpt, bool mbox)
{
	uint64_t size, vsize;

	return local_copy_message_sizes(fd, m, rcpt, mbox, &size, &vsize);
}

int local_copy_message_sizes(
    int fd, const struct local_msg *m, const char *rcpt, bool mbox, uint64_t *size, uint64_t *vsize)
{
	struct copy_sink s = {.fd = fd, .mbox = mbox, .match = 0, .last = '\n', .out = BUF_INIT};
	int r;

	r = copy_envelope_lines(&s, m, rcpt);
	if (r == 0)
		r = copy_range(&s, m->fd, m->header_off, m->header_len);
	if (r == 0)
		r = copy_put(&s, "\n", 1);
	if (r == 0)
		r = copy_range(&s, m->fd, m->body_off, m->body_len);
	if (r == 0)
		r = copy_tail(&s);
	buf_free(&s.out);
	*size = s.size;
	*vsize = s.size + s.bare_lf;
	return r;
}

/* fsyncs the directory holding path, so a new entry in it is durable. */
static int copy_sync_parent(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd, r;

	if (slash == dir)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		strlcpy(dir, ".", 2);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fd < 0 ? -1 : fsync(fd);
	if (fd >= 0)
		close(fd);
	free(dir);
	return r;
}

static int copy_mkdir_one(const char *dir)
{
	if (mkdir(dir, 0700) == 0)
		return copy_sync_parent(dir);
	return errno == EEXIST ? 0 : -1;
}

int local_mkdirs(const char *dir)
{
	char *p = xstrdup(dir);
	int r = 0;

	for (char *s = p + 1; *s && r == 0; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		r = copy_mkdir_one(p);
		*s = '/';
	}
	if (r == 0)
		r = copy_mkdir_one(p);
	free(p);
	return r;
}

#define COPY_HEADER_SCAN_MAX (1024 * 1024)

/* One header line: is it "Delivered-To: addr"? */
static bool copy_is_delivered_to(const char *line, size_t len, const char *addr)
{
	static const char name[] = "delivered-to:";
	size_t nl = sizeof(name) - 1, al = strlen(addr);

	if (len < nl || strncasecmp(line, name, nl) != 0)
		return false;
	line += nl;
	len -= nl;
	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	return len == al && strncasecmp(line, addr, al) == 0;
}

bool local_header_delivered_to(const struct local_msg *m, const char *addr)
{
	size_t len =
	    m->header_len > COPY_HEADER_SCAN_MAX ? COPY_HEADER_SCAN_MAX : (size_t)m->header_len;
	char *h = xmalloc(len + 1);
	ssize_t n = pread(m->fd, h, len, m->header_off);
	bool found = false;

	for (size_t i = 0; n > 0 && i < (size_t)n && !found;) {
		const char *e = memchr(h + i, '\n', (size_t)n - i);
		size_t ll = e ? (size_t)(e - (h + i)) : (size_t)n - i;

		found = copy_is_delivered_to(h + i, ll, addr);
		i += ll + 1;
	}
	free(h);
	return found;
}
