/*
 * mime/header.c - header field iteration and unfolding (mime/header.h).
 */
#include "mime/header.h"

#include <string.h>
#include <strings.h>

static bool mime_hdr_name_char(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static const char *mime_hdr_eol(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

void mime_hdr_iter_init(struct mime_hdr_iter *it, const char *hdr, size_t len)
{
	it->p = hdr;
	it->end = hdr + len;
}

/* Length of a line without its LF or CRLF. */
static size_t mime_hdr_line_len(const char *p, const char *eol)
{
	size_t n = (size_t)(eol - p);

	if (n && p[n - 1] == '\n')
		n--;
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

bool mime_hdr_iter_next(struct mime_hdr_iter *it, struct mime_hdr_field *f)
{
	while (it->p < it->end) {
		const char *p = it->p, *eol = mime_hdr_eol(p, it->end), *q = p;

		if (mime_hdr_line_len(p, eol) == 0)
			return false; /* the empty line ends the section */
		it->p = eol;
		while (q < eol && mime_hdr_name_char((unsigned char)*q))
			q++;
		/* Obsolete syntax (RFC 5322 4.5) allows white space before ':'. */
		f->name_len = (size_t)(q - p);
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (f->name_len == 0 || q == eol || *q != ':')
			continue;
		f->name = p;
		f->value = q + 1;
		/* Continuation lines belong to this field. */
		while (it->p < it->end && (*it->p == ' ' || *it->p == '\t'))
			it->p = mime_hdr_eol(it->p, it->end);
		f->value_len = (size_t)(it->p - f->value);
		if (f->value_len && f->value[f->value_len - 1] == '\n')
			f->value_len--;
		if (f->value_len && f->value[f->value_len - 1] == '\r')
			f->value_len--;
		return true;
	}
	return false;
}

bool mime_hdr_name_is(const struct mime_hdr_field *f, const char *name)
{
	size_t n = strlen(name);

	return n == f->name_len && strncasecmp(f->name, name, n) == 0;
}

void mime_hdr_unfold(const char *value, size_t len, struct buf *out)
{
	size_t start = out->len, skip = 0, n;

	for (size_t i = 0; i < len; i++)
		if (value[i] != '\r' && value[i] != '\n')
			buf_putc(out, value[i]);
	n = out->len;
	while (
	    start + skip < n && (out->data[start + skip] == ' ' || out->data[start + skip] == '\t'))
		skip++;
	while (n > start + skip && (out->data[n - 1] == ' ' || out->data[n - 1] == '\t'))
		n--;
	if (out->data == NULL)
		return; /* empty value into an empty buffer: nothing to move */
	memmove(out->data + start, out->data + start + skip, n - start - skip);
	buf_truncate(out, n - skip);
}

bool mime_hdr_find(const char *hdr, size_t len, const char *name, struct buf *out)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field f;

	buf_reset(out);
	mime_hdr_iter_init(&it, hdr, len);
	while (mime_hdr_iter_next(&it, &f)) {
		if (mime_hdr_name_is(&f, name)) {
			mime_hdr_unfold(f.value, f.value_len, out);
			return true;
		}
	}
	return false;
}
