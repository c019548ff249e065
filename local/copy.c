/*
 * copy.c - writing one message from the queue file into a mailbox file.
 *
 * The message is "Return-Path: <sender>", "Delivered-To: rcpt", the header
 * section, an empty line, the body, written by lib/deliver_copy (the one
 * copier of queued messages, pipe(8) uses it too).  For mbox the message
 * starts with its "From sender date" line, every line starting with
 * "From " gets a '>' (the mboxo convention, what readers split on), and
 * the message ends with an empty line, so the next "From " line starts a
 * new message.  A command reads the "From " line too, unescaped (as
 * Postfix's local(8) gives it).
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

#include "deliver_copy.h"
#include "util.h"

int local_copy_message_sizes(int fd, const struct local_msg *m, const char *rcpt,
    enum local_copy_form form, uint64_t *size, uint64_t *vsize)
{
	struct deliver_copy dc = {
	    .qfd = m->fd,
	    .header_off = m->header_off,
	    .header_len = m->header_len,
	    .body_off = m->body_off,
	    .body_len = m->body_len,
	    .from_sender = form == LOCAL_COPY_MAILDIR ? NULL : m->sender,
	    .return_path = m->sender,
	    .delivered_to = rcpt,
	    .from_escape = form == LOCAL_COPY_MBOX,
	    .blank_line = form == LOCAL_COPY_MBOX,
	    .header_mem = m->header_mem,
	    .header_mem_len = m->header_mem_len,
	};

	return deliver_copy_write(fd, &dc, size, vsize);
}

int local_copy_message(
    int fd, const struct local_msg *m, const char *rcpt, enum local_copy_form form)
{
	uint64_t size;

	return local_copy_message_sizes(fd, m, rcpt, form, &size, NULL);
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
