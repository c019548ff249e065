/*
 * checks.c - header and body checks (checks.h): the actions, and the MIME
 * walk that tells which table a line belongs to.
 *
 * The walk is line based and never holds more than one logical header
 * (bounded by header_size_limit) or one line (line_length_limit): a
 * longer line is inspected in pieces, as Postfix inspects its records.
 * Boundaries are kept on a stack (at most CHECKS_MAX_DEPTH, Postfix's
 * mime_nesting_limit default being 100); a boundary line of an outer
 * part closes the inner ones.  This is not a MIME validator: malformed
 * structure only changes which table sees a line, never what is stored,
 * apart from the actions' own edits.
 *
 * Log lines follow Postfix's: "QID: reject: header Subject: x from
 * host[addr]; from=<s> to=<r> proto=ESMTP helo=<h>: 5.7.1 text".
 */
#include "checks.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "maps.h"
#include "mime/param.h"
#include "util.h"

#define CHECKS_MAX_DEPTH 100
#define CHECKS_MAX_BOUNDARY 200 /* RFC 2046: at most 70, be lenient */

enum hdr_class {
	CLASS_PRIMARY, /* the message's own headers: header_checks */
	CLASS_PART,    /* a multipart part's headers: mime_header_checks */
	CLASS_NESTED,  /* an attached message's headers: nested_header_checks */
};

enum walk_state {
	WALK_BODY,   /* body lines: body_checks */
	WALK_HEADER, /* a header block of class hclass */
};

enum line_action { ACT_KEEP, ACT_DROP, ACT_REPLACE };

struct cleanup_checks {
	struct checks_origin o;
	enum checks_verdict verdict;
	char *reason;
	bool hold;
	char *redirect;
	/* The walk. */
	enum walk_state state;
	enum hdr_class hclass;
	struct buf line;      /* the current body line, or header block line */
	struct buf hdr;	      /* the logical header being collected */
	bool hdr_noeol;	      /* its last line had no LF (the message's end) */
	bool block_multipart; /* the header block said multipart/... */
	bool block_message;   /* ... or message/rfc822 */
	char *block_boundary; /* its boundary */
	char *bounds[CHECKS_MAX_DEPTH];
	size_t nbounds;
	long long part_bytes;	/* body bytes of this part seen so far */
	struct buf replacement; /* ACT_REPLACE's text */
};

bool checks_enabled(void)
{
	static const char *const names[] = {
	    "header_checks", "mime_header_checks", "nested_header_checks", "body_checks"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (*config_str(names[i]))
			return true;
	return false;
}

struct cleanup_checks *checks_new(const struct checks_origin *origin)
{
	struct cleanup_checks *c = xcalloc(1, sizeof(*c));

	c->o = *origin;
	return c;
}

void checks_free(struct cleanup_checks *c)
{
	if (c == NULL)
		return;
	free(c->reason);
	free(c->redirect);
	free(c->block_boundary);
	for (size_t i = 0; i < c->nbounds; i++)
		free(c->bounds[i]);
	buf_free(&c->line);
	buf_free(&c->hdr);
	buf_free(&c->replacement);
	free(c);
}

/* ---------------------------------------------------------------- actions */

static bool checks_done(const struct cleanup_checks *c)
{
	return c->verdict != CHECKS_PASS;
}

/* The matched text for a log line: at most 200 bytes, newlines as spaces. */
static char *checks_log_text(const char *s, size_t len)
{
	char *t = xstrndup(s, len > 200 ? 200 : len);

	for (char *p = t; *p; p++)
		if ((unsigned char)*p < 32 || *p == 127)
			*p = ' ';
	return t;
}

static void checks_log(const struct cleanup_checks *c, const char *action, const char *what,
    const char *line, size_t len, const char *text)
{
	char *t = checks_log_text(line, len);
	const char *o = c->o.client ? c->o.client : "local";

	struct buf extra = BUF_INIT;

	if (c->o.proto)
		buf_printf(&extra, " proto=%s", c->o.proto);
	if (c->o.helo)
		buf_printf(&extra, " helo=<%s>", c->o.helo);
	log_qid(c->o.qid, "%s: %s %s from %s; from=<%s> to=<%s>%s: %s", action, what, t, o,
	    c->o.sender ? c->o.sender : "", c->o.rcpt ? c->o.rcpt : "unknown", buf_cstr(&extra),
	    text);
	buf_free(&extra);
	free(t);
}

/* "5.7.1 text": the text's own x.y.z code when it starts with one of the
 * right class, else dflt_dsn prepended (Postfix's dsn_prepend). */
static char *checks_with_dsn(const char *text, const char *dflt_dsn, const char *dflt_text)
{
	const char *t = *text ? text : dflt_text;

	if (t[0] == dflt_dsn[0] && t[1] == '.' && isdigit((unsigned char)t[2])) {
		size_t n = strspn(t, "0123456789.");

		if (t[n] == ' ' || t[n] == 0)
			return xstrdup(t);
	}
	return xasprintf("%s %s", dflt_dsn, t);
}

static void checks_set_verdict(struct cleanup_checks *c, enum checks_verdict v, const char *reason)
{
	if (checks_done(c))
		return;
	c->verdict = v;
	c->reason = reason ? xstrdup(reason) : NULL;
}

/* "Name: value": what PREPEND and REPLACE may put among headers. */
static bool checks_is_header(const char *s)
{
	const char *p = s;

	while (*p > 32 && *p < 127 && *p != ':')
		p++;
	return p > s && *p == ':';
}

/* A table answer that needs text after the word gets it, or is ignored. */
static bool checks_need_text(const char *word, const char *text, const char *table)
{
	if (*text)
		return true;
	log_warn("missing text after %s in %s -- ignored", word, table);
	return false;
}

/*
 * Acts on a table's answer for one line.  PREPEND text goes to out at
 * once (before the line); ACT_REPLACE leaves the new line in
 * c->replacement.
 */
static enum line_action checks_act(struct cleanup_checks *c, const char *what, bool is_header,
    const char *line, size_t len, const char *value, const char *table, struct buf *out)
{
	size_t wlen = strcspn(value, " \t");
	const char *text = value + wlen;
	char word[16];
	char *r;

	while (*text == ' ' || *text == '\t')
		text++;
	snprintf(word, sizeof(word), "%.*s", (int)(wlen < 15 ? wlen : 15), value);
#define IS(w) (strcasecmp(word, w) == 0)
	if (IS("REJECT") || IS("DEFER")) {
		bool rej = IS("REJECT");

		r = rej ? checks_with_dsn(text, "5.7.1", "message content rejected")
			: checks_with_dsn(text, "4.7.1", "service unavailable");
		checks_log(c, rej ? "reject" : "defer", what, line, len, r);
		checks_set_verdict(c, rej ? CHECKS_REJECT : CHECKS_DEFER, r);
		free(r);
	} else if (IS("DISCARD")) {
		checks_log(c, "discard", what, line, len, *text ? text : "");
		checks_set_verdict(c, CHECKS_DISCARD, NULL);
	} else if (IS("HOLD")) {
		checks_log(c, "hold", what, line, len, *text ? text : "");
		c->hold = true;
	} else if (IS("WARN")) {
		checks_log(c, "warning", what, line, len, *text ? text : "");
	} else if (IS("INFO")) {
		checks_log(c, "info", what, line, len, *text ? text : "");
	} else if (IS("REDIRECT")) {
		if (checks_need_text(word, text, table)) {
			checks_log(c, "redirect", what, line, len, text);
			free(c->redirect);
			c->redirect = xstrdup(text);
		}
	} else if (IS("FILTER") || IS("BCC")) {
		log_error("%s in %s is not supported (no content filter / bcc in tern): message "
			  "deferred",
		    word, table);
		checks_set_verdict(c, CHECKS_DEFER, "4.3.5 Server configuration error");
	} else if (IS("IGNORE")) {
		return ACT_DROP;
	} else if (IS("STRIP")) {
		checks_log(c, "strip", what, line, len, *text ? text : "");
		return ACT_DROP;
	} else if (IS("PREPEND") || IS("REPLACE")) {
		bool prepend = IS("PREPEND");

		if (!checks_need_text(word, text, table))
			return ACT_KEEP;
		if (is_header && !checks_is_header(text)) {
			log_warn("bad %s header text \"%s\" in %s -- need \"headername: "
				 "headervalue\"",
			    word, text, table);
			return ACT_KEEP;
		}
		if (prepend) {
			buf_puts(out, text);
			buf_putc(out, '\n');
			return ACT_KEEP;
		}
		checks_log(c, "replace", what, line, len, text);
		buf_reset(&c->replacement);
		buf_puts(&c->replacement, text);
		return ACT_REPLACE;
	} else if (!IS("DUNNO") && !IS("OK")) {
		log_warn("unknown command in %s: %s", table, value);
	}
#undef IS
	return ACT_KEEP;
}

/*
 * Looks line[0..len) up in the table list named by param; the line is
 * written to out as the action says, LF-terminated when eol.
 */
static void checks_line(struct cleanup_checks *c, const char *param, const char *what,
    bool is_header, const char *line, size_t len, bool eol, struct buf *out)
{
	enum line_action act = ACT_KEEP;

	if (!checks_done(c) && *config_str(param)) {
		struct maps *m = maps_open(param);
		char *key = xstrndup(line, len);
		const char *value = NULL;
		enum maps_status st = maps_find(m, key, 0, &value);

		if (st == MAPS_FOUND) {
			char *v = xstrdup(value);

			act = checks_act(c, what, is_header, line, len, v, param, out);
			free(v);
		} else if (st == MAPS_TEMPFAIL) {
			log_qid_warn(
			    c->o.qid, "%s: table lookup failure -- message deferred", param);
			checks_set_verdict(c, CHECKS_DEFER,
			    "4.3.0 Error: header/body check lookup "
			    "failure");
		}
		free(key);
	}
	if (act == ACT_DROP)
		return;
	if (act == ACT_REPLACE)
		buf_append(out, c->replacement.data, c->replacement.len);
	else
		buf_append(out, line, len);
	if (eol)
		buf_putc(out, '\n');
}

/* ---------------------------------------------------------------- headers */

/* Postfix's MIME headers (HDR_OPT_MIME): mime_header_checks anywhere. */
static bool checks_is_mime_header(const char *h, size_t len)
{
	static const char *const names[] = {"Content-Description:", "Content-Disposition:",
	    "Content-ID:", "Content-Transfer-Encoding:", "Content-Type:", "MIME-Version:"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]) - 1;

		/* The name, then optional white space, then ':'. */
		if (len > n && strncasecmp(h, names[i], n) == 0) {
			size_t j = n;

			while (j < len && (h[j] == ' ' || h[j] == '\t'))
				j++;
			if (j < len && h[j] == ':')
				return true;
		}
	}
	return false;
}

/* Notes a Content-Type's multipart boundary or message/rfc822 for the walk. */
static void checks_note_content_type(struct cleanup_checks *c, const char *h, size_t len)
{
	const char *colon = memchr(h, ':', len);
	char *type = NULL, *subtype = NULL;
	struct mime_params params = {0};

	if (colon == NULL)
		return;
	mime_content_type_parse(colon + 1, len - (size_t)(colon + 1 - h), &type, &subtype, &params);
	c->block_multipart = c->block_message = false;
	free(c->block_boundary);
	c->block_boundary = NULL;
	if (type && strcmp(type, "multipart") == 0) {
		const char *b = mime_params_get(&params, "boundary");

		if (b && *b && strlen(b) <= CHECKS_MAX_BOUNDARY) {
			c->block_multipart = true;
			c->block_boundary = xstrdup(b);
		}
	} else if (type && strcmp(type, "message") == 0 && subtype &&
		   strcmp(subtype, "rfc822") == 0) {
		c->block_message = true;
	}
	free(type);
	free(subtype);
	mime_params_free(&params);
}

/* One logical header h[0..len) (no final LF) of the current block. */
static void checks_one_header(
    struct cleanup_checks *c, const char *h, size_t len, bool eol, struct buf *out)
{
	bool mime = checks_is_mime_header(h, len);
	const char *param = "header_checks";

	if (mime && len >= 13 && strncasecmp(h, "Content-Type", 12) == 0)
		checks_note_content_type(c, h, len);
	if (mime || c->hclass == CLASS_PART)
		param = "mime_header_checks";
	else if (c->hclass == CLASS_NESTED)
		param = "nested_header_checks";
	checks_line(c, param, "header", true, h, len, eol, out);
}

static void checks_block_begin(struct cleanup_checks *c, enum hdr_class cls)
{
	c->state = WALK_HEADER;
	c->hclass = cls;
	c->block_multipart = c->block_message = false;
	free(c->block_boundary);
	c->block_boundary = NULL;
	buf_reset(&c->hdr);
}

/* The collected logical header, if any, is complete. */
static void checks_flush_header(struct cleanup_checks *c, struct buf *out)
{
	if (c->hdr.len == 0)
		return;
	checks_one_header(c, c->hdr.data, c->hdr.len, !c->hdr_noeol, out);
	buf_reset(&c->hdr);
	c->hdr_noeol = false;
}

static void checks_push_boundary(struct cleanup_checks *c, char *b)
{
	if (c->nbounds == CHECKS_MAX_DEPTH) {
		free(b);
		return;
	}
	c->bounds[c->nbounds++] = b;
}

/* The header block ended (empty line): where the walk goes next. */
static void checks_block_end(struct cleanup_checks *c)
{
	c->state = WALK_BODY;
	c->part_bytes = 0;
	if (c->block_multipart) {
		checks_push_boundary(c, c->block_boundary);
		c->block_boundary = NULL;
	} else if (c->block_message) {
		checks_block_begin(c, CLASS_NESTED);
	}
}

void checks_header(struct cleanup_checks *c, const char *hdr, size_t len, struct buf *out)
{
	size_t pos = 0;

	checks_block_begin(c, CLASS_PRIMARY);
	while (pos < len) {
		const char *nl = memchr(hdr + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - hdr) : len;

		if ((hdr[pos] == ' ' || hdr[pos] == '\t') && c->hdr.len > 0)
			buf_putc(&c->hdr, '\n');
		else
			checks_flush_header(c, out);
		buf_append(&c->hdr, hdr + pos, end - pos);
		pos = end + 1;
	}
	checks_flush_header(c, out);
	checks_block_end(c);
}

/* ---------------------------------------------------------------- body */

/* Which boundary line[0..len) is: its stack index, or -1; *close for "--b--". */
static int checks_boundary(const struct cleanup_checks *c, const char *l, size_t len, bool *close)
{
	if (len < 3 || l[0] != '-' || l[1] != '-')
		return -1;
	while (len > 2 && (l[len - 1] == ' ' || l[len - 1] == '\t' || l[len - 1] == '\r'))
		len--;
	for (size_t i = c->nbounds; i-- > 0;) {
		size_t bl = strlen(c->bounds[i]);

		if (len >= 2 + bl && memcmp(l + 2, c->bounds[i], bl) == 0) {
			if (len == 2 + bl) {
				*close = false;
				return (int)i;
			}
			if (len == 4 + bl && l[2 + bl] == '-' && l[3 + bl] == '-') {
				*close = true;
				return (int)i;
			}
		}
	}
	return -1;
}

static void checks_pop_to(struct cleanup_checks *c, size_t n)
{
	while (c->nbounds > n)
		free(c->bounds[--c->nbounds]);
}

static void checks_body_line(
    struct cleanup_checks *c, const char *l, size_t len, bool eol, struct buf *out)
{
	long long limit = config_size("body_checks_size_limit");
	const char *param = c->part_bytes < limit ? "body_checks" : "";

	c->part_bytes += (long long)len + eol;
	if (*param)
		checks_line(c, param, "body", false, l, len, eol, out);
	else {
		buf_append(out, l, len);
		if (eol)
			buf_putc(out, '\n');
	}
}

/* A header-block line; false when it is not one (the block ends at it). */
static bool checks_header_line(
    struct cleanup_checks *c, const char *l, size_t len, bool eol, struct buf *out)
{
	bool cont = len > 0 && (l[0] == ' ' || l[0] == '\t');
	size_t i = 0;

	if (len == 0 || (len == 1 && l[0] == '\r')) {
		checks_flush_header(c, out);
		buf_append(out, l, len);
		if (eol)
			buf_putc(out, '\n');
		checks_block_end(c);
		return true;
	}
	if (cont && c->hdr.len > 0) {
		if (c->hdr.len + len + 1 > (size_t)config_size("header_size_limit"))
			return false;
		buf_putc(&c->hdr, '\n');
		buf_append(&c->hdr, l, len);
		c->hdr_noeol = !eol;
		return true;
	}
	while (i < len && l[i] > 32 && l[i] < 127 && l[i] != ':')
		i++;
	if (i == 0 || i == len || l[i] != ':')
		return false;
	checks_flush_header(c, out);
	buf_append(&c->hdr, l, len);
	c->hdr_noeol = !eol;
	return true;
}

/* One line of the body (or a piece of a long one) through the walk. */
static void checks_walk_line(
    struct cleanup_checks *c, const char *l, size_t len, bool eol, struct buf *out)
{
	bool close = false;
	int b;

	if (c->state == WALK_HEADER) {
		if (checks_header_line(c, l, len, eol, out))
			return;
		/* Not a header: the block ends without its empty line. */
		checks_flush_header(c, out);
		checks_block_end(c);
		if (c->state == WALK_HEADER) /* message/rfc822: its headers */
			c->state = WALK_BODY;
	}
	b = checks_boundary(c, l, len, &close);
	if (b >= 0) {
		checks_pop_to(c, (size_t)b + 1);
		checks_body_line(c, l, len, eol, out);
		if (close)
			checks_pop_to(c, (size_t)b);
		else
			checks_block_begin(c, CLASS_PART);
		c->part_bytes = 0;
		return;
	}
	checks_body_line(c, l, len, eol, out);
}

void checks_body(struct cleanup_checks *c, const char *p, size_t n, struct buf *out)
{
	size_t max = (size_t)config_int("line_length_limit");

	if (max < 80)
		max = 80;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;

		if (c->line.len + take > max) {
			/* A long line is inspected in pieces of line_length_limit. */
			size_t room = max - c->line.len;

			buf_append(&c->line, p, room);
			checks_walk_line(c, c->line.data, c->line.len, false, out);
			buf_reset(&c->line);
			p += room, n -= room;
			continue;
		}
		buf_append(&c->line, p, take);
		if (nl == NULL)
			return;
		checks_walk_line(c, buf_cstr(&c->line), c->line.len, true, out);
		buf_reset(&c->line);
		p += take + 1, n -= take + 1;
	}
}

void checks_body_end(struct cleanup_checks *c, struct buf *out)
{
	if (c->line.len > 0)
		checks_walk_line(c, c->line.data, c->line.len, false, out);
	buf_reset(&c->line);
	checks_flush_header(c, out);
}

/* ---------------------------------------------------------------- results */

enum checks_verdict checks_verdict(const struct cleanup_checks *c)
{
	return c->verdict;
}

const char *checks_reason(const struct cleanup_checks *c)
{
	return c->reason;
}

bool checks_hold(const struct cleanup_checks *c)
{
	return c->hold;
}

const char *checks_redirect(const struct cleanup_checks *c)
{
	return c->redirect;
}
