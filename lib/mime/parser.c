/*
 * mime/parser.c - the streaming MIME parser (mime/parser.h).
 *
 * The input is cut into lines by LF.  At each line start the parser may
 * need the first bytes of the line to know whether it is a boundary; it
 * keeps at most 2 + the longest active boundary + 2 of them (prefix).
 * In a header the line goes to the header buffer (up to max_header); in
 * a body it is counted and handed to the body callback, except for the
 * line end, which is held back until the next line proves not to be a
 * boundary.  Sizes come from three running counters (physical offset,
 * virtual offset, LFs seen) sampled where parts begin and end.
 */
#include "mime/parser.h"

#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime/internal.h"
#include "util.h"

struct pos {
	uint64_t phys, virt, lines;
};

struct boundary {
	char *text;
	size_t len;
	struct mime_part *part; /* the multipart */
};

/* A part not ended yet: the chain from the root to the current part. */
struct open_part {
	struct mime_part *part;
	struct pos hdr_start, body_start;
	bool in_header;
};

struct mime_parser {
	struct mime_parser_limits lim;
	struct mime_parser_callbacks cb;
	void *ctx;
	struct mime_part *root;
	struct open_part *open;
	size_t nopen;
	struct pos at;	  /* the next byte */
	struct pos eol;	  /* start of the last line end */
	bool last_cr;	  /* the byte before 'at' was CR */
	bool eol_in_body; /* eol ended a body line of the current part */
	unsigned nparts;
	bool no_more_parts;

	/* line state */
	bool line_start;		 /* no byte of the current line passed on yet */
	bool collecting;		 /* the line's first bytes are going to prefix */
	bool skip_line;			 /* in a boundary line: ignored up to its LF */
	struct mime_part *next_child_of; /* after the boundary line: a new part */
	struct pos line_pos;		 /* where the current line began */
	char prefix[MIME_BOUNDARY_MAX + 8];
	size_t nprefix;
	size_t header_line_len;
	char held[2]; /* a body line end (or its CR) not yet passed on */
	size_t nheld;

	struct buf hdr;
	struct boundary *stack;
	size_t nstack;
	size_t max_blen;
};

static const struct mime_parser_limits default_limits = {
    MIME_PARSER_DEFAULT_DEPTH, MIME_PARSER_DEFAULT_PARTS, MIME_PARSER_DEFAULT_HEADER};

static struct open_part *top(struct mime_parser *p)
{
	return &p->open[p->nopen - 1];
}

/* A new part starting at p->at, in its header. */
static void part_open(struct mime_parser *p, struct mime_part *parent, unsigned flags)
{
	struct mime_part *part = xcalloc(1, sizeof(*part));

	part->parent = parent;
	part->flags = flags;
	part->hdr_offset = p->at.phys;
	part->hdr_voffset = p->at.virt;
	if (parent) {
		struct mime_part **slot = &parent->children;

		while (*slot)
			slot = &(*slot)->next;
		*slot = part;
	} else {
		p->root = part;
	}
	p->nparts++;
	p->open = xreallocarray(p->open, p->nopen + 1, sizeof(*p->open));
	p->open[p->nopen].part = part;
	p->open[p->nopen].hdr_start = p->at;
	p->open[p->nopen].body_start = p->at;
	p->open[p->nopen].in_header = true;
	p->nopen++;
	buf_reset(&p->hdr);
	p->header_line_len = 0;
}

struct mime_parser *mime_parser_new(
    const struct mime_parser_limits *limits, const struct mime_parser_callbacks *cb, void *ctx)
{
	struct mime_parser *p = xcalloc(1, sizeof(*p));

	p->lim = limits ? *limits : default_limits;
	if (p->lim.max_depth < 1)
		p->lim.max_depth = 1;
	if (p->lim.max_parts < 1)
		p->lim.max_parts = 1;
	if (cb)
		p->cb = *cb;
	p->ctx = ctx;
	part_open(p, NULL, MIME_PART_MESSAGE_ROOT);
	p->line_start = true;
	return p;
}

/* ------------------------------------------------------------- header */

static void header_fields(struct mime_parser *p, struct mime_part *part)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field f;

	if (part->flags & MIME_PART_MESSAGE_ROOT)
		part->envelope = xcalloc(1, sizeof(*part->envelope));
	mime_hdr_iter_init(&it, p->hdr.data ? p->hdr.data : "", p->hdr.len);
	while (mime_hdr_iter_next(&it, &f)) {
		mime_part_field(part, &f);
		if (part->envelope)
			mime_envelope_field(part->envelope, &f);
		if (p->cb.header)
			p->cb.header(p->ctx, part, &f);
	}
}

static void part_defaults(struct mime_part *part)
{
	const struct mime_part *parent = part->parent;

	if (part->type == NULL || part->subtype == NULL) {
		bool digest = parent && (parent->flags & MIME_PART_MULTIPART) &&
			      mime_part_is(parent, "multipart", "digest");

		free(part->type);
		free(part->subtype);
		part->type = xstrdup(digest ? "message" : "text");
		part->subtype = xstrdup(digest ? "rfc822" : "plain");
	}
	if (strcasecmp(part->type, "text") == 0)
		part->flags |= MIME_PART_TEXT;
}

static void boundary_push(struct mime_parser *p, struct mime_part *part, const char *b)
{
	size_t len = strlen(b);

	p->stack = xreallocarray(p->stack, p->nstack + 1, sizeof(*p->stack));
	p->stack[p->nstack].text = xstrdup(b);
	p->stack[p->nstack].len = len;
	p->stack[p->nstack].part = part;
	p->nstack++;
	if (len > p->max_blen)
		p->max_blen = len;
}

static void boundary_pop_to(struct mime_parser *p, size_t n)
{
	while (p->nstack > n)
		free(p->stack[--p->nstack].text);
	p->max_blen = 0;
	for (size_t i = 0; i < p->nstack; i++)
		if (p->stack[i].len > p->max_blen)
			p->max_blen = p->stack[i].len;
}

/* May part have children?  Past a limit, no more parts are made at all. */
static bool can_nest(struct mime_parser *p, struct mime_part *part)
{
	if (p->no_more_parts)
		return false;
	if (p->nparts >= p->lim.max_parts || p->nopen + 1 > p->lim.max_depth) {
		part->flags |= MIME_PART_BROKEN;
		p->root->flags |= MIME_PART_BROKEN;
		return false;
	}
	return true;
}

/* After the header: a multipart's boundary, a message/rfc822's child. */
static void part_enter_body(struct mime_parser *p, struct mime_part *part)
{
	const char *b;

	if (strcasecmp(part->type, "multipart") == 0) {
		/* Without a usable boundary it has no parts (Dovecot shows one
		 * empty text/plain); its body is all preamble. */
		part->flags |= MIME_PART_MULTIPART;
		b = mime_params_get(&part->params, "boundary");
		if (b && *b && strlen(b) <= MIME_BOUNDARY_MAX && can_nest(p, part))
			boundary_push(p, part, b);
		return;
	}
	if (strcasecmp(part->type, "message") == 0 &&
	    (strcasecmp(part->subtype, "rfc822") == 0 ||
		strcasecmp(part->subtype, "global") == 0)) {
		/* Whatever its Content-Transfer-Encoding says: Dovecot 2.3 parses
		 * an encoded one too (as a message that is all header). */
		if (!can_nest(p, part))
			return;
		part->flags |= MIME_PART_MESSAGE_RFC822;
		part_open(p, part, MIME_PART_MESSAGE_ROOT);
	}
}

/* The header of the top part ends at end; its body begins there (and,
 * if enter, a multipart or message/rfc822 body is entered). */
static void header_end(struct mime_parser *p, struct pos end, bool enter)
{
	struct open_part *o = top(p);
	struct mime_part *part = o->part;

	part->hdr.physical = end.phys - o->hdr_start.phys;
	part->hdr.virtual_size = end.virt - o->hdr_start.virt;
	part->hdr.lines = end.lines - o->hdr_start.lines;
	o->in_header = false;
	o->body_start = end;
	header_fields(p, part);
	part_defaults(part);
	buf_reset(&p->hdr);
	p->header_line_len = 0;
	if (p->cb.header_end)
		p->cb.header_end(p->ctx, part);
	if (enter)
		part_enter_body(p, part);
}

/* Ends the top part at end and pops it. */
static void part_close(struct mime_parser *p, struct pos end)
{
	struct open_part *o = top(p);
	struct mime_part *part = o->part;

	if (o->in_header) {
		if (end.phys < o->hdr_start.phys)
			end = o->hdr_start;
		header_end(p, end, false);
	}
	if (end.phys < o->body_start.phys)
		end = o->body_start;
	part->body.physical = end.phys - o->body_start.phys;
	part->body.virtual_size = end.virt - o->body_start.virt;
	part->body.lines = end.lines - o->body_start.lines;
	p->nopen--;
}

/* --------------------------------------------------------------- body */

static void body_emit(struct mime_parser *p, const char *data, size_t len)
{
	struct mime_part *part = top(p)->part;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == 0)
			part->flags |= MIME_PART_HAS_NULS;
		else if (c >= 0x80)
			part->flags |= MIME_PART_8BIT;
	}
	if (p->cb.body && len)
		p->cb.body(p->ctx, part, data, len);
}

static void held_flush(struct mime_parser *p)
{
	if (p->nheld) {
		size_t n = p->nheld;

		p->nheld = 0;
		body_emit(p, p->held, n);
	}
}

static void hdr_append(struct mime_parser *p, const char *data, size_t len)
{
	size_t room = p->lim.max_header > p->hdr.len ? p->lim.max_header - p->hdr.len : 0;

	if (len > room) {
		top(p)->part->flags |= MIME_PART_HDR_TRUNCATED;
		len = room;
	}
	buf_append(&p->hdr, data, len);
}

/* Bytes of the current line (no LF), already counted. */
static void line_content(struct mime_parser *p, const char *data, size_t len)
{
	if (len == 0)
		return;
	if (top(p)->in_header) {
		p->header_line_len += len;
		hdr_append(p, data, len);
		return;
	}
	held_flush(p);
	if (data[len - 1] == '\r') { /* maybe the first half of a line end */
		body_emit(p, data, len - 1);
		p->held[0] = '\r';
		p->nheld = 1;
	} else {
		body_emit(p, data, len);
	}
}

static void count(struct mime_parser *p, const char *data, size_t len)
{
	if (len == 0)
		return;
	p->at.phys += len;
	p->at.virt += len;
	p->last_cr = data[len - 1] == '\r';
}

/* ---------------------------------------------------------- boundaries */

/* Which boundary (stack index) the line in prefix is: -1 none, -2 cannot
 * tell yet (complete: the whole line is in prefix). */
static long boundary_match(struct mime_parser *p, bool complete, bool *closing)
{
	*closing = false;
	if ((p->nprefix >= 1 && p->prefix[0] != '-') || (p->nprefix >= 2 && p->prefix[1] != '-'))
		return -1;
	if (!complete && p->nprefix < p->max_blen + 4)
		return -2;
	for (size_t i = p->nstack; i-- > 0;) {
		const struct boundary *b = &p->stack[i];

		if (p->nprefix >= 2 + b->len && memcmp(p->prefix + 2, b->text, b->len) == 0) {
			*closing = p->nprefix >= 4 + b->len && p->prefix[2 + b->len] == '-' &&
				   p->prefix[3 + b->len] == '-';
			return (long)i;
		}
	}
	return -1;
}

/* The current line is a boundary of stack[k]. */
static void boundary_found(struct mime_parser *p, size_t k, bool closing)
{
	struct mime_part *multi = p->stack[k].part;
	/* The line end before the boundary is the boundary's (RFC 2046), if
	 * it ended a body line; a header line or an earlier boundary line
	 * keeps its own (Dovecot counts sizes and lines so). */
	struct pos end = p->eol_in_body ? p->eol : p->line_pos;

	p->nheld = 0;
	while (top(p)->part != multi)
		part_close(p, end);
	boundary_pop_to(p, closing ? k : k + 1);
	p->skip_line = true;
	p->next_child_of = closing ? NULL : multi;
}

/* Decides what the collected line start is. */
static void prefix_decide(struct mime_parser *p, bool complete)
{
	bool closing;
	long k = boundary_match(p, complete, &closing);

	if (k == -2)
		return;
	p->collecting = false;
	if (k >= 0) {
		p->nprefix = 0;
		boundary_found(p, (size_t)k, closing);
		return;
	}
	line_content(p, p->prefix, p->nprefix);
	p->nprefix = 0;
}

/* After a boundary line: the next part of the multipart begins. */
static void child_start(struct mime_parser *p)
{
	struct mime_part *multi = p->next_child_of;

	p->next_child_of = NULL;
	if (multi == NULL)
		return;
	if (p->nparts >= p->lim.max_parts) {
		/* No more parts: the rest is the multipart's body. */
		p->no_more_parts = true;
		multi->flags |= MIME_PART_BROKEN;
		p->root->flags |= MIME_PART_BROKEN;
		boundary_pop_to(p, 0);
		return;
	}
	part_open(p, multi, 0);
}

/* The LF at 'at' (not yet counted) ends a line. */
static void line_end(struct mime_parser *p)
{
	bool was_header = top(p)->in_header;
	bool empty = p->header_line_len == 0 || (p->header_line_len == 1 && p->last_cr);

	p->eol = p->at;
	if (p->last_cr) {
		p->eol.phys--;
		p->eol.virt--;
	}
	p->at.phys++;
	p->at.virt += p->last_cr ? 1 : 2;
	p->at.lines++;
	p->last_cr = false;
	p->line_start = true;
	p->eol_in_body = !was_header && !p->skip_line;
	if (p->skip_line) {
		p->skip_line = false;
		child_start(p);
		return;
	}
	if (was_header) {
		if (empty) {
			header_end(p, p->at, true);
		} else {
			hdr_append(p, "\n", 1);
			p->header_line_len = 0;
		}
		return;
	}
	if (p->nheld == 1) { /* the held CR was half of this line end */
		p->held[1] = '\n';
		p->nheld = 2;
	} else {
		held_flush(p);
		p->held[0] = '\n';
		p->nheld = 1;
	}
}

void mime_parser_feed(struct mime_parser *p, const char *data, size_t len)
{
	while (len > 0) {
		const char *nl;
		size_t n;

		if (p->line_start) {
			p->line_start = false;
			p->line_pos = p->at;
			p->collecting = p->nstack > 0;
			p->nprefix = 0;
		}
		if (p->collecting) {
			size_t want = p->max_blen + 4 - p->nprefix;

			nl = memchr(data, '\n', len < want ? len : want);
			n = nl ? (size_t)(nl - data) : (len < want ? len : want);
			memcpy(p->prefix + p->nprefix, data, n);
			p->nprefix += n;
			count(p, data, n);
			data += n;
			len -= n;
			if (nl || p->nprefix >= p->max_blen + 4)
				prefix_decide(p, nl != NULL);
			if (!nl)
				continue;
		} else {
			nl = memchr(data, '\n', len);
			n = nl ? (size_t)(nl - data) : len;
			count(p, data, n);
			if (!p->skip_line)
				line_content(p, data, n);
			data += n;
			len -= n;
			if (!nl)
				continue;
		}
		/* data[0] is the LF */
		line_end(p);
		data++;
		len--;
	}
}

static void parser_free(struct mime_parser *p)
{
	boundary_pop_to(p, 0);
	free(p->stack);
	free(p->open);
	buf_free(&p->hdr);
	free(p);
}

struct mime_part *mime_parser_finish(struct mime_parser *p)
{
	struct mime_part *root = p->root;

	if (p->collecting)
		prefix_decide(p, true);
	if (p->skip_line) {
		p->skip_line = false;
		child_start(p);
	}
	held_flush(p);
	while (p->nopen > 0)
		part_close(p, p->at);
	parser_free(p);
	return root;
}

void mime_parser_abort(struct mime_parser *p)
{
	struct mime_part *root = p->root;

	parser_free(p);
	mime_part_free(root);
}

struct mime_part *mime_parse(const char *msg, size_t len)
{
	struct mime_parser *p = mime_parser_new(NULL, NULL, NULL);

	mime_parser_feed(p, msg, len);
	return mime_parser_finish(p);
}
