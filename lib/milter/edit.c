/*
 * milter/edit.c - header fields and body of a message under milter edits
 * (see edit.h).
 *
 * The header section ends as cleanup ends it (cleanup/header.h): at an
 * empty line, or at the first line that is neither a field nor a
 * continuation, which then starts the body.  Written back, the message
 * always has the empty line, so the body can never be read as header.
 */
#include "milter/edit.h"

#include <string.h>

#include "util.h"

static bool milter_name_char(unsigned char c)
{
	return c > 32 && c < 127 && c != ':';
}

/* Length of "Name:" at p (up to the colon), or 0 when it is not a field. */
static size_t milter_field_name(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && milter_name_char((unsigned char)p[i]))
		i++;
	return i > 0 && i < n && p[i] == ':' ? i : 0;
}

void milter_msg_parse(struct milter_msg *m, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	memset(m, 0, sizeof(*m));
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *eol = lf ? lf : end;
		size_t nl;

		if (eol == p || (eol == p + 1 && *p == '\r')) {
			p = lf ? lf + 1 : end; /* the empty line: header ends */
			break;
		}
		if ((*p == ' ' || *p == '\t') && m->nhdr > 0) {
			struct milter_header *h = &m->hdr[m->nhdr - 1];
			char *v = xasprintf("%s\n%.*s", h->value, (int)(eol - p), p);

			free(h->value);
			h->value = v;
		} else if ((nl = milter_field_name(p, (size_t)(eol - p))) > 0) {
			m->hdr = xreallocarray(m->hdr, m->nhdr + 1, sizeof(*m->hdr));
			m->hdr[m->nhdr].name = xmemdup(p, nl);
			m->hdr[m->nhdr].value = xmemdup(p + nl + 1, (size_t)(eol - p) - nl - 1);
			m->nhdr++;
		} else {
			break; /* the body starts at this line */
		}
		p = lf ? lf + 1 : end;
	}
	buf_append(&m->body, p, (size_t)(end - p));
}

void milter_msg_free(struct milter_msg *m)
{
	for (size_t i = 0; i < m->nhdr; i++) {
		free(m->hdr[i].name);
		free(m->hdr[i].value);
	}
	free(m->hdr);
	buf_free(&m->body);
	memset(m, 0, sizeof(*m));
}

void milter_msg_write(const struct milter_msg *m, struct buf *out)
{
	for (size_t i = 0; i < m->nhdr; i++)
		buf_printf(out, "%s:%s\n", m->hdr[i].name, m->hdr[i].value);
	buf_putc(out, '\n');
	buf_append(out, m->body.data, m->body.len);
}

void milter_addr_unbracket(char *a)
{
	size_t n = strlen(a);

	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		memmove(a, a + 1, n - 2);
		a[n - 2] = '\0';
	}
}

const char *milter_msg_value(const struct milter_header *h, bool leadspc)
{
	const char *v = h->value;

	if (!leadspc)
		v += strspn(v, " \t");
	return v;
}

static bool milter_name_valid(const char *name)
{
	size_t i = 0;

	while (name[i] && milter_name_char((unsigned char)name[i]))
		i++;
	return i > 0 && name[i] == '\0';
}

/*
 * The value as stored: CRLF and bare LF both become LF, and each line break
 * must be followed by a space or tab (folding).  A bare CR is refused.
 * NULL when the value would start a new field or end the header.
 */
static char *milter_value_make(const char *value, bool leadspc)
{
	struct buf v = BUF_INIT;
	char *out;

	if (!leadspc)
		buf_putc(&v, ' ');
	for (const char *p = value; *p; p++) {
		if (*p == '\r' && p[1] == '\n')
			p++;
		if (*p == '\n' && p[1] != ' ' && p[1] != '\t') {
			buf_free(&v);
			return NULL;
		}
		if (*p == '\r') {
			buf_free(&v);
			return NULL;
		}
		buf_putc(&v, *p);
	}
	out = xstrdup(buf_cstr(&v));
	buf_free(&v);
	return out;
}

bool milter_msg_insert(
    struct milter_msg *m, uint32_t index, const char *name, const char *value, bool leadspc)
{
	char *v;

	if (!milter_name_valid(name) || (v = milter_value_make(value, leadspc)) == NULL)
		return false;
	if (index > m->nhdr)
		index = (uint32_t)m->nhdr;
	m->hdr = xreallocarray(m->hdr, m->nhdr + 1, sizeof(*m->hdr));
	memmove(&m->hdr[index + 1], &m->hdr[index], (m->nhdr - index) * sizeof(*m->hdr));
	m->hdr[index].name = xstrdup(name);
	m->hdr[index].value = v;
	m->nhdr++;
	return true;
}

bool milter_msg_add(struct milter_msg *m, const char *name, const char *value, bool leadspc)
{
	return milter_msg_insert(m, (uint32_t)m->nhdr, name, value, leadspc);
}

bool milter_msg_change(
    struct milter_msg *m, uint32_t index, const char *name, const char *value, bool leadspc)
{
	uint32_t seen = 0;
	char *v;

	if (!milter_name_valid(name))
		return false;
	for (size_t i = 0; i < m->nhdr; i++) {
		if (!str_case_eq(m->hdr[i].name, name) || ++seen < index)
			continue;
		if (*value == '\0') {
			free(m->hdr[i].name);
			free(m->hdr[i].value);
			memmove(&m->hdr[i], &m->hdr[i + 1], (m->nhdr - i - 1) * sizeof(*m->hdr));
			m->nhdr--;
			return true;
		}
		if ((v = milter_value_make(value, leadspc)) == NULL)
			return false;
		free(m->hdr[i].value);
		m->hdr[i].value = v;
		return true;
	}
	/* No such field: deleting it is done; changing it adds it. */
	return *value == '\0' || milter_msg_add(m, name, value, leadspc);
}

void milter_msg_body(struct milter_msg *m, const char *p, size_t n)
{
	if (!m->replaced) {
		buf_reset(&m->body);
		m->replaced = true;
	}
	/* A CR at the end of the last piece may be the half of a CRLF. */
	if (m->body.len > 0 && m->body.data[m->body.len - 1] == '\r' && n > 0 && p[0] == '\n')
		buf_truncate(&m->body, m->body.len - 1);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		buf_putc(&m->body, p[i]);
	}
}

void milter_msg_body_done(struct milter_msg *m)
{
	m->replaced = false;
}
