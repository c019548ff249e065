/*
 * sieve/edit.c - editheader (RFC 5293): addheader and deleteheader
 * change the message's header section; later tests see the change and
 * the caller stores (and redirects) the message as the script left it.
 *
 * An added field is written "Name: value" with a value of non-ASCII text
 * encoded as RFC 2047 words (UTF-8, base64) and any line break in it
 * folded, so a script can never start a new field or end the header
 * section.  Received and Auto-Submitted fields are never deleted
 * (Pigeonhole's rule: the trace and the loop protection stay), adding
 * them is allowed.
 */
#include <string.h>
#include <strings.h>

#include "mime/rfc2047.h"
#include "sieve/sieve_int.h"

bool sv_field_name_ok(const char *name)
{
	if (*name == 0)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 33 || *p > 126 || *p == ':')
			return false;
	return true;
}

bool sv_field_protected(const char *name)
{
	return strcasecmp(name, "received") == 0 || strcasecmp(name, "auto-submitted") == 0;
}

/* value as header text: ASCII as it is (line breaks folded), else RFC
 * 2047 words of at most 45 bytes of UTF-8 each, cut between characters. */
static void sv_edit_value(const char *value, struct buf *out)
{
	size_t len = strlen(value);
	bool ascii = true;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)value[i] >= 0x80)
			ascii = false;
	if (ascii) {
		for (size_t i = 0; i < len; i++) {
			if (value[i] == '\r')
				continue;
			if (value[i] == '\n') {
				/* a fold; never a blank continuation line: line
				 * breaks and the blanks after them make one fold,
				 * trailing ones none */
				size_t j = i + 1;

				while (j < len && strchr("\r\n \t", value[j]))
					j++;
				if (j < len)
					buf_puts(out, "\n ");
				i = j - 1;
				continue;
			}
			buf_putc(out,
			    value[i] == '\t' || (unsigned char)value[i] >= 32 ? value[i] : ' ');
		}
		return;
	}
	mime_2047_encode(value, len, out);
}

size_t sv_msg_fields_len(const struct sv_msg *m)
{
	const char *d = m->data;
	size_t h = m->hdr_len;

	/* hdr_len ends with the empty line when there is one */
	if (h >= 1 && d[h - 1] == '\n') {
		if (h == 1 || d[h - 2] == '\n')
			return h - 1;
		if (d[h - 2] == '\r' && (h == 2 || d[h - 3] == '\n'))
			return h - 2;
	}
	return h;
}

void sv_edit_field(const char *name, const char *value, struct buf *out)
{
	buf_printf(out, "%s: ", name);
	sv_edit_value(value, out);
	buf_putc(out, '\n');
}
