/*
 * imap/format_body.c - BODY and BODYSTRUCTURE (imap/format.h).
 *
 * body-type-1part: type subtype (params) id description encoding size
 *   [envelope body lines: message/rfc822] [lines: text/...]
 *   [extension: md5 (disposition (params)) language location]
 * body-type-mpart: (part)(part)... subtype
 *   [extension: (params) (disposition (params)) language location]
 */
#include "format.h"

#include <string.h>
#include <strings.h>

#include "write.h"

/* A text part's charset=us-ascii is the default: Dovecot drops it and
 * appends ("charset" "us-ascii") after the others, as for no charset. */
static bool is_default_charset(const struct mime_param *p, bool text)
{
	return text && strcasecmp(p->name, "charset") == 0 && strcasecmp(p->value, "us-ascii") == 0;
}

static void format_params(struct buf *out, const struct mime_params *ps, bool text, unsigned flags)
{
	bool add_charset = text && !mime_params_get(ps, "charset");
	size_t n = 0;

	for (size_t i = 0; i < ps->n; i++) {
		if (is_default_charset(&ps->v[i], text)) {
			add_charset = true;
			continue;
		}
		buf_puts(out, n++ ? " " : "(");
		imap_write_nstring(out, ps->v[i].name, flags | IMAP_WRITE_NOLF);
		buf_putc(out, ' ');
		imap_write_nstring(out, ps->v[i].value, flags | IMAP_WRITE_NOLF);
	}
	if (add_charset)
		buf_puts(out, n++ ? " \"charset\" \"us-ascii\"" : "(\"charset\" \"us-ascii\"");
	buf_puts(out, n ? ")" : "NIL");
}

static void format_disposition(struct buf *out, const struct mime_part *p, unsigned flags)
{
	if (p->disposition == NULL) {
		buf_puts(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	imap_write_nstring(out, p->disposition, flags | IMAP_WRITE_NOLF);
	buf_putc(out, ' ');
	format_params(out, &p->disp_params, false, flags);
	buf_putc(out, ')');
}

static void format_language(struct buf *out, char **lang, unsigned flags)
{
	/* Always a list, even of one (as Dovecot writes it). */
	if (lang == NULL || lang[0] == NULL) {
		buf_puts(out, "NIL");
	} else {
		buf_putc(out, '(');
		for (size_t i = 0; lang[i]; i++) {
			if (i)
				buf_putc(out, ' ');
			imap_write_nstring(out, lang[i], flags | IMAP_WRITE_NOLF);
		}
		buf_putc(out, ')');
	}
}

/* disposition language location, after md5 or params. */
static void format_ext_tail(struct buf *out, const struct mime_part *p, unsigned flags)
{
	buf_putc(out, ' ');
	format_disposition(out, p, flags);
	buf_putc(out, ' ');
	format_language(out, p->language, flags);
	buf_putc(out, ' ');
	imap_write_nstring(out, p->location, flags | IMAP_WRITE_NOLF);
}

static void format_part(struct buf *out, const struct mime_part *p, bool ext, unsigned flags);

/* What Dovecot shows where a part should be and none was parsed. */
static void format_empty_text(struct buf *out, bool ext)
{
	buf_printf(out, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0%s)",
	    ext ? " NIL NIL NIL NIL" : "");
}

static void format_multipart(struct buf *out, const struct mime_part *p, bool ext, unsigned flags)
{
	buf_putc(out, '(');
	for (const struct mime_part *c = p->children; c; c = c->next)
		format_part(out, c, ext, flags);
	if (p->children == NULL) /* no body part: show an empty text one */
		format_empty_text(out, ext);
	buf_putc(out, ' ');
	imap_write_nstring(out, p->subtype, flags | IMAP_WRITE_NOLF);
	if (ext) {
		buf_putc(out, ' ');
		format_params(out, &p->params, false, flags);
		format_ext_tail(out, p, flags);
	}
	buf_putc(out, ')');
}

static void format_leaf(struct buf *out, const struct mime_part *p, bool ext, unsigned flags)
{
	bool text = (p->flags & MIME_PART_TEXT) != 0;
	const struct mime_part *msg = (p->flags & MIME_PART_MESSAGE_RFC822) ? p->children : NULL;

	buf_putc(out, '(');
	imap_write_nstring(out, p->type, flags | IMAP_WRITE_NOLF);
	buf_putc(out, ' ');
	imap_write_nstring(out, p->subtype, flags | IMAP_WRITE_NOLF);
	buf_putc(out, ' ');
	format_params(out, &p->params, text, flags);
	buf_putc(out, ' ');
	imap_write_nstring(out, p->id, flags | IMAP_WRITE_NOLF);
	buf_putc(out, ' ');
	imap_write_nstring(out, p->description, flags | IMAP_WRITE_NOLF);
	buf_putc(out, ' ');
	imap_write_nstring(out, p->encoding ? p->encoding : "7bit", flags | IMAP_WRITE_NOLF);
	buf_printf(out, " %llu", (unsigned long long)p->body.virtual_size);
	if (mime_part_is(p, "message", "rfc822") || mime_part_is(p, "message", "global")) {
		buf_putc(out, ' ');
		imap_format_envelope(out, msg ? msg->envelope : NULL, flags);
		buf_putc(out, ' ');
		if (msg)
			format_part(out, msg, ext, flags);
		else
			format_empty_text(out, ext);
		buf_printf(out, " %llu", (unsigned long long)p->body.lines);
	} else if (text) {
		buf_printf(out, " %llu", (unsigned long long)p->body.lines);
	}
	if (ext) {
		buf_putc(out, ' ');
		imap_write_nstring(out, p->md5, flags | IMAP_WRITE_NOLF);
		format_ext_tail(out, p, flags);
	}
	buf_putc(out, ')');
}

static void format_part(struct buf *out, const struct mime_part *p, bool ext, unsigned flags)
{
	if (p->flags & MIME_PART_MULTIPART)
		format_multipart(out, p, ext, flags);
	else
		format_leaf(out, p, ext, flags);
}

void imap_format_body(struct buf *out, const struct mime_part *part, bool extended, unsigned flags)
{
	format_part(out, part, extended, flags);
}
