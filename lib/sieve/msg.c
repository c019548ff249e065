/*
 * sieve/msg.c - the parts of a message Sieve tests look at, through
 * lib/mime.
 *
 * Header values are unfolded, trimmed and RFC 2047-decoded (RFC 5228
 * 2.7.2: tests see decoded text).  The body test (RFC 5173) gets, per
 * transform: :raw the undecoded body as one value; :content the parts of
 * the listed types ("text" is every text/ part, "text/plain" that type,
 * "" every part) transfer-decoded and converted to UTF-8; :text the text
 * parts the same way, text/html as mime_html_text reads it (tags,
 * styles and scripts removed, references decoded).  The MIME tree is
 * parsed only when a body test first needs it.
 */
#include <string.h>
#include <strings.h>

#include "mime/charset.h"
#include "mime/decode.h"
#include "mime/header.h"
#include "mime/html_text.h"
#include "mime/parser.h"
#include "mime/rfc2047.h"
#include "sieve/sieve_int.h"
#include "util.h"

void sv_msg_init(struct sv_msg *m, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	memset(m, 0, sizeof(*m));
	m->data = data;
	m->len = len;
	m->hdr_len = len;
	/* the header section ends at the first empty line */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (p[0] == '\n' || (p[0] == '\r' && p + 1 < end && p[1] == '\n')) {
			m->hdr_len = (size_t)(p - data) + (p[0] == '\r' ? 2 : 1);
			break;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	m->body_off = m->hdr_len;
}

void sv_msg_free(struct sv_msg *m)
{
	if (m->tree)
		mime_part_free(m->tree);
	m->tree = NULL;
}

static size_t sv_msg_fields(const struct sv_msg *m, const char *name, bool decode, char ***values)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field f;
	struct buf raw = BUF_INIT, dec = BUF_INIT;
	size_t n = 0;

	*values = NULL;
	mime_hdr_iter_init(&it, m->data, m->hdr_len);
	while (mime_hdr_iter_next(&it, &f)) {
		if (!mime_hdr_name_is(&f, name))
			continue;
		buf_reset(&raw);
		mime_hdr_unfold(f.value, f.value_len, &raw);
		*values = xreallocarray(*values, n + 1, sizeof(char *));
		if (decode) {
			buf_reset(&dec);
			mime_2047_decode(raw.data ? raw.data : "", raw.len, &dec);
			(*values)[n++] = xstrdup(buf_cstr(&dec));
		} else {
			(*values)[n++] = xstrdup(buf_cstr(&raw));
		}
	}
	buf_free(&raw);
	buf_free(&dec);
	return n;
}

size_t sv_msg_header(const struct sv_msg *m, const char *name, char ***values)
{
	return sv_msg_fields(m, name, true, values);
}

size_t sv_msg_header_raw(const struct sv_msg *m, const char *name, char ***values)
{
	return sv_msg_fields(m, name, false, values);
}

/* True when part p is of one of the :content types. */
static bool sv_part_wanted(const struct mime_part *p, char **types, size_t ntypes)
{
	for (size_t i = 0; i < ntypes; i++) {
		const char *t = types[i], *slash = strchr(t, '/');

		if (*t == 0)
			return true;
		if (slash == NULL) {
			if (strcasecmp(t, p->type) == 0)
				return true;
		} else if (strncasecmp(t, p->type, (size_t)(slash - t)) == 0 &&
			   p->type[slash - t] == 0 && strcasecmp(slash + 1, p->subtype) == 0) {
			return true;
		}
	}
	return false;
}

static char *sv_part_text(const struct sv_msg *m, const struct mime_part *p, bool html)
{
	uint64_t off = mime_part_body_offset(p), len = p->body.physical;
	struct mime_decoder d;
	struct buf dec = BUF_INIT, out = BUF_INIT;
	const char *charset = mime_params_get(&p->params, "charset");
	size_t bad = 0;
	char *s;

	if (off > m->len)
		off = m->len;
	if (len > m->len - off)
		len = m->len - off;
	mime_decoder_init(&d, mime_cte_from_name(p->encoding));
	mime_decoder_feed(&d, m->data + off, (size_t)len, &dec);
	mime_decoder_finish(&d, &dec);
	if (charset == NULL ||
	    !mime_charset_to_utf8(charset, dec.data ? dec.data : "", dec.len, &out))
		mime_utf8_append_valid(dec.data ? dec.data : "", dec.len, false, &out, &bad);
	if (html) {
		struct buf text = BUF_INIT;

		mime_html_text(out.data ? out.data : "", out.len, &text);
		s = xstrdup(buf_cstr(&text));
		buf_free(&text);
	} else {
		s = xstrdup(buf_cstr(&out));
	}
	buf_free(&dec);
	buf_free(&out);
	return s;
}

static void sv_body_walk(const struct sv_msg *m, const struct mime_part *p, int transform,
    char **types, size_t ntypes, char ***values, size_t *n)
{
	for (; p; p = p->next) {
		bool leaf = !(p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE_RFC822));
		bool take = false, html = false;

		if (transform == SV_TAG_TEXT) {
			take = leaf && strcasecmp(p->type, "text") == 0 &&
			       (strcasecmp(p->subtype, "plain") == 0 ||
				   strcasecmp(p->subtype, "html") == 0);
			html = take && strcasecmp(p->subtype, "html") == 0;
		} else {
			take = leaf && sv_part_wanted(p, types, ntypes);
		}
		if (take) {
			*values = xreallocarray(*values, *n + 1, sizeof(char *));
			(*values)[(*n)++] = sv_part_text(m, p, html);
		}
		sv_body_walk(m, p->children, transform, types, ntypes, values, n);
	}
}

size_t sv_msg_body(struct sv_msg *m, int transform, char **types, size_t ntypes, char ***values)
{
	size_t n = 0;

	*values = NULL;
	if (transform == SV_TAG_RAW) {
		*values = xcalloc(1, sizeof(char *));
		(*values)[0] = xmemdup(m->data + m->body_off, m->len - m->body_off);
		return 1;
	}
	if (m->tree == NULL)
		m->tree = mime_parse(m->data, m->len);
	sv_body_walk(m, m->tree, transform, types, ntypes, values, &n);
	return n;
}
