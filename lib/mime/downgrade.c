/*
 * mime/downgrade.c - header fields with UTF-8 made ASCII (mime/downgrade.h).
 */
#include "mime/downgrade.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mime/rfc2047.h"

bool mime_downgrade_needed(const char *hdr, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)hdr[i] >= 0x80)
			return true;
	return false;
}

static const char *const addr_fields[] = {"from", "sender", "reply-to", "to", "cc", "bcc",
    "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc", "return-path",
    "disposition-notification-to", NULL};

static bool is_addr_field(const char *name, size_t len)
{
	for (size_t i = 0; addr_fields[i]; i++)
		if (strlen(addr_fields[i]) == len && strncasecmp(addr_fields[i], name, len) == 0)
			return true;
	return false;
}

/* One field (with its continuation lines and line ends) to out. */
static void downgrade_field(const char *f, size_t len, struct buf *out)
{
	const char *colon = memchr(f, ':', len);
	struct buf body = BUF_INIT;
	size_t skip = 0;

	if (!mime_downgrade_needed(f, len)) {
		buf_append(out, f, len);
		return;
	}
	if (colon == NULL || colon == f || mime_downgrade_needed(f, (size_t)(colon - f))) {
		/* no field: no name to give its text, its 8-bit bytes become '?' */
		for (size_t i = 0; i < len; i++)
			buf_putc(out, (unsigned char)f[i] >= 0x80 ? '?' : f[i]);
		if (f[len - 1] != '\n')
			buf_putc(out, '\n');
		return;
	}
	for (const char *p = colon + 1; p < f + len; p++)
		if (*p != '\r' && *p != '\n')
			buf_putc(&body, *p);
	while (body.len && (body.data[body.len - 1] == ' ' || body.data[body.len - 1] == '\t'))
		body.len--;
	while (skip < body.len && (body.data[skip] == ' ' || body.data[skip] == '\t'))
		skip++;
	buf_append(out, f, (size_t)(colon - f));
	buf_puts(out, ": ");
	if (body.len > skip)
		mime_2047_encode(body.data + skip, body.len - skip, out);
	if (is_addr_field(f, (size_t)(colon - f)))
		buf_puts(out, " :;");
	buf_putc(out, '\n');
	buf_free(&body);
}

void mime_downgrade_header(const char *hdr, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len;) {
		size_t j = i;

		/* the field's lines: up to a line not starting with a blank */
		do {
			const char *nl = memchr(hdr + j, '\n', len - j);

			j = nl ? (size_t)(nl - hdr) + 1 : len;
		} while (j < len && (hdr[j] == ' ' || hdr[j] == '\t'));
		downgrade_field(hdr + i, j - i, out);
		i = j;
	}
}

bool mime_downgrade_fd(int fd, size_t max, struct buf *out)
{
	struct buf in = BUF_INIT;
	size_t end = 0, scan = 0; /* end: the fields end here, before the empty line */
	bool found = false, failed = false;

	while (!found && in.len < max) {
		char chunk[8192];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			failed = n < 0;
			break;
		}
		buf_append(&in, chunk, (size_t)n);
		/* an empty line: LF, or CR LF, at the start of a line */
		for (; scan < in.len && !found; scan++) {
			if (scan != 0 && in.data[scan - 1] != '\n')
				continue;
			if (in.data[scan] == '\r' && scan + 1 == in.len)
				break; /* CR at the end: look again with more */
			if (in.data[scan] == '\n' ||
			    (in.data[scan] == '\r' && in.data[scan + 1] == '\n')) {
				end = scan;
				found = true;
			}
		}
	}
	if (!found)
		end = in.len; /* a message without a body: all of it is header */
	if (failed || (found ? end > max : in.len >= max) || !mime_downgrade_needed(in.data, end)) {
		buf_free(&in);
		lseek(fd, 0, SEEK_SET);
		return false;
	}
	mime_downgrade_header(in.data, end, out);
	lseek(fd, (off_t)end, SEEK_SET);
	buf_free(&in);
	return true;
}
