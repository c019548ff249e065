/*
 * imap/write.c - IMAP string forms (imap/write.h).
 */
#include "write.h"

#include <string.h>
#include <strings.h>

#include "maildate.h"

bool imap_is_atom_char(unsigned char c)
{
	if (c <= 32 || c >= 127)
		return false;
	return strchr("(){%*\"\\]", c) == NULL;
}

void imap_write_literal(struct buf *out, const char *s, size_t len)
{
	buf_printf(out, "{%zu}\r\n", len);
	buf_append(out, s, len);
}

static bool needs_literal(const char *s, size_t len, unsigned flags)
{
	if (len > IMAP_QUOTED_MAX)
		return true;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0 || c == '\r' || c == '\n')
			return true;
		if (c >= 0x80 && !(flags & IMAP_WRITE_UTF8))
			return true;
	}
	return false;
}

void imap_write_string(struct buf *out, const char *s, size_t len, unsigned flags)
{
	struct buf tmp = BUF_INIT;

	if (flags & IMAP_WRITE_NOLF) {
		for (size_t i = 0; i < len; i++)
			if (s[i] != '\r' && s[i] != '\n')
				buf_putc(&tmp, s[i]);
		s = tmp.data ? tmp.data : "";
		len = tmp.len;
	}
	if (needs_literal(s, len, flags))
		imap_write_literal(out, s, len);
	else
		buf_put_quoted(out, s, len);
	buf_free(&tmp);
}

void imap_write_nstring(struct buf *out, const char *s, unsigned flags)
{
	if (s == NULL)
		buf_puts(out, "NIL");
	else
		imap_write_string(out, s, strlen(s), flags);
}

void imap_write_astring(struct buf *out, const char *s, size_t len, unsigned flags)
{
	bool atom = len > 0 && !(len == 3 && strncasecmp(s, "NIL", 3) == 0);

	for (size_t i = 0; atom && i < len; i++)
		atom = imap_is_atom_char((unsigned char)s[i]);
	if (atom)
		buf_append(out, s, len);
	else
		imap_write_string(out, s, len, flags);
}

void imap_write_datetime(struct buf *out, time_t t, int tz_min)
{
	struct tm tm;
	time_t local = t + tz_min * 60;
	int a = tz_min < 0 ? -tz_min : tz_min;

	gmtime_r(&local, &tm);
	buf_printf(out, "\"%02d-%s-%04d %02d:%02d:%02d %c%02d%02d\"", tm.tm_mday,
	    maildate_month(tm.tm_mon), tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    tz_min < 0 ? '-' : '+', a / 60, a % 60);
}

/* Dovecot's "for humans" form of display text (ENVELOPE subject and
 * address names): white space runs (CR, LF, TAB, SP) become one space,
 * leading and trailing ones go, NUL becomes 0x80.  Text that needed any
 * of that, or holds '"', '\\' or (without UTF8) 8-bit bytes, is sent as
 * a literal; other text is quoted as it is. */
void imap_write_human(struct buf *out, const char *s, size_t len, unsigned flags)
{
	bool modify = false, lwsp = true;
	struct buf t = BUF_INIT;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (lwsp || c != ' ')
				modify = true;
			if (!lwsp)
				buf_putc(&t, ' ');
			lwsp = true;
			continue;
		}
		if (c == 0 || c == '"' || c == '\\' || (c >= 0x80 && !(flags & IMAP_WRITE_UTF8)))
			modify = true;
		buf_putc(&t, c ? c : 0x80);
		lwsp = false;
	}
	if (lwsp && t.len) {
		modify = true;
		t.len--;
	}
	if (!modify)
		buf_put_quoted(out, s, len);
	else if (t.len == 0)
		buf_puts(out, "\"\"");
	else
		imap_write_literal(out, t.data, t.len);
	buf_free(&t);
}

void imap_write_nhuman(struct buf *out, const char *s, unsigned flags)
{
	if (s == NULL)
		buf_puts(out, "NIL");
	else
		imap_write_human(out, s, strlen(s), flags);
}
