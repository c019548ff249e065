/*
 * header.c - where the header section ends, and header values.
 *
 * The splitter classifies one line at a time and never needs more than the
 * start of a line to reject it, so a body that does not look like headers
 * is recognised after a few bytes.  It only looks at bytes; it does not
 * check or change what headers say (cleanup does no canonicalisation).
 * Rescanning a partial line on the next call is fine: the limit bounds it.
 */
#include "header.h"

#include <string.h>
#include <strings.h>

#include "mime/header.h"
#include "util.h"

enum line_kind {
	LINE_MORE,   /* cannot tell yet */
	LINE_EMPTY,  /* the separator */
	LINE_HEADER, /* a header line or continuation: stays in the header */
	LINE_BODY,   /* anything else: the body starts here */
};

void hdr_split_init(struct hdr_split *s, size_t limit)
{
	memset(s, 0, sizeof(*s));
	s->limit = limit;
}

static bool hdr_name_char(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* What kind of line starts at data[pos]; pos < len. */
static enum line_kind hdr_line_kind(
    const struct hdr_split *s, const char *data, size_t len, size_t pos)
{
	size_t i = pos;

	if (data[pos] == '\n')
		return LINE_EMPTY;
	if (data[pos] == ' ' || data[pos] == '\t')
		return s->seen_header ? LINE_HEADER : LINE_BODY;
	while (i < len && hdr_name_char((unsigned char)data[i]))
		i++;
	if (i == len)
		return LINE_MORE;
	return data[i] == ':' && i > pos ? LINE_HEADER : LINE_BODY;
}

static bool hdr_split_at(struct hdr_split *s, size_t header_len, size_t body_off)
{
	s->done = true;
	s->header_len = header_len;
	s->body_off = body_off;
	return true;
}

bool hdr_split_scan(struct hdr_split *s, const char *data, size_t len)
{
	const char *nl = NULL;

	while (!s->done && s->pos < len) {
		switch (hdr_line_kind(s, data, len, s->pos)) {
		case LINE_EMPTY: return hdr_split_at(s, s->pos, s->pos + 1);
		case LINE_BODY: return hdr_split_at(s, s->pos, s->pos);
		case LINE_MORE: nl = NULL; break;
		case LINE_HEADER: nl = memchr(data + s->pos, '\n', len - s->pos); break;
		}
		/* A line that crosses the limit goes to the body, whole. */
		if ((nl && (size_t)(nl - data) + 1 > s->limit) || (!nl && len > s->limit))
			return hdr_split_at(s, s->pos, s->pos);
		if (!nl)
			return false;
		s->pos = (size_t)(nl - data) + 1;
		s->seen_header = true;
	}
	return s->done;
}

void hdr_split_finish(struct hdr_split *s, const char *data, size_t len)
{
	if (hdr_split_scan(s, data, len))
		return;
	if (s->pos == len) {
		hdr_split_at(s, len, len);
		return;
	}
	/* The last line has no LF; with its name complete it is a header. */
	if (hdr_line_kind(s, data, len, s->pos) == LINE_HEADER)
		hdr_split_at(s, len, len);
	else
		hdr_split_at(s, s->pos, s->pos);
}

/* The one header reader of the tree is lib/mime/header.c. */
bool hdr_value(const char *hdr, size_t len, const char *name, struct buf *out)
{
	return mime_hdr_find(hdr, len, name, out);
}
