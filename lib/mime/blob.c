/*
 * mime/blob.c - envelope and part tree blobs (mime/blob.h).
 */
#include "mime/blob.h"

#include <string.h>

#include "mime/parser.h"
#include "util.h"

#define BLOB_VERSION 1

/* ------------------------------------------------------------- encode */

static void put_varint(struct buf *out, uint64_t v)
{
	do {
		unsigned char c = v & 0x7f;

		v >>= 7;
		buf_putc(out, c | (v ? 0x80 : 0));
	} while (v);
}

static void put_str(struct buf *out, const char *s)
{
	if (s == NULL) {
		put_varint(out, 0);
		return;
	}
	size_t n = strlen(s);
	put_varint(out, (uint64_t)n + 1);
	buf_append(out, s, n);
}

static void put_addrs(struct buf *out, const struct mime_addr *a)
{
	uint64_t n = 0;

	for (const struct mime_addr *x = a; x; x = x->next)
		n++;
	put_varint(out, n);
	for (; a; a = a->next) {
		put_varint(out, a->invalid ? 1 : 0);
		put_str(out, a->name);
		put_str(out, a->route);
		put_str(out, a->mailbox);
		put_str(out, a->host);
	}
}

static void put_envelope(struct buf *out, const struct mime_envelope *e)
{
	put_str(out, e->date);
	put_str(out, e->subject);
	put_str(out, e->message_id);
	put_str(out, e->in_reply_to);
	put_addrs(out, e->from);
	put_addrs(out, e->sender);
	put_addrs(out, e->reply_to);
	put_addrs(out, e->to);
	put_addrs(out, e->cc);
	put_addrs(out, e->bcc);
}

void mime_blob_envelope_encode(const struct mime_envelope *env, struct buf *out)
{
	static const struct mime_envelope empty;

	buf_putc(out, 'E');
	buf_putc(out, BLOB_VERSION);
	put_envelope(out, env ? env : &empty);
}

static void put_params(struct buf *out, const struct mime_params *ps)
{
	put_varint(out, ps->n);
	for (size_t i = 0; i < ps->n; i++) {
		put_str(out, ps->v[i].name);
		put_str(out, ps->v[i].value);
	}
}

static void put_size(struct buf *out, const struct mime_size *s)
{
	put_varint(out, s->physical);
	put_varint(out, s->virtual_size);
	put_varint(out, s->lines);
}

static void put_part(struct buf *out, const struct mime_part *p)
{
	put_varint(out, p->flags);
	put_varint(out, p->hdr_offset);
	put_varint(out, p->hdr_voffset);
	put_size(out, &p->hdr);
	put_size(out, &p->body);
	put_str(out, p->type);
	put_str(out, p->subtype);
	put_params(out, &p->params);
	put_str(out, p->id);
	put_str(out, p->description);
	put_str(out, p->encoding);
	put_str(out, p->md5);
	put_str(out, p->location);
	put_str(out, p->disposition);
	put_params(out, &p->disp_params);
	if (p->language == NULL) {
		put_varint(out, 0);
	} else {
		put_varint(out, strv_len(p->language) + 1);
		for (size_t i = 0; p->language[i]; i++)
			put_str(out, p->language[i]);
	}
	put_varint(out, p->envelope != NULL);
	if (p->envelope)
		put_envelope(out, p->envelope);
	put_varint(out, mime_part_count_children(p));
}

void mime_blob_part_encode(const struct mime_part *root, struct buf *out)
{
	const struct mime_part *p = root;

	buf_putc(out, 'B');
	buf_putc(out, BLOB_VERSION);
	/* Pre-order walk without recursion. */
	while (p) {
		put_part(out, p);
		if (p->children) {
			p = p->children;
			continue;
		}
		while (p && p != root && p->next == NULL)
			p = p->parent;
		p = (p && p != root) ? p->next : NULL;
	}
}

/* ------------------------------------------------------------- decode */

struct rd {
	const unsigned char *p, *end;
	bool bad;
	unsigned parts;
};

static uint64_t get_varint(struct rd *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end) {
			r->bad = true;
			return 0;
		}
		unsigned char c = *r->p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	r->bad = true;
	return 0;
}

static char *get_str(struct rd *r)
{
	uint64_t n = get_varint(r);

	if (r->bad || n == 0)
		return NULL;
	n--;
	if (n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		return NULL;
	}
	char *s = xmemdup(r->p, (size_t)n);
	r->p += n;
	return s;
}

/* A count that cannot exceed what the remaining bytes could hold. */
static size_t get_count(struct rd *r, size_t min_each)
{
	uint64_t n = get_varint(r);

	if (r->bad || n > (uint64_t)(r->end - r->p) / min_each) {
		r->bad = true;
		return 0;
	}
	return (size_t)n;
}

static struct mime_addr *get_addrs(struct rd *r)
{
	size_t n = get_count(r, 5);
	struct mime_addr *head = NULL, **tail = &head;

	for (size_t i = 0; i < n && !r->bad; i++) {
		struct mime_addr *a = xcalloc(1, sizeof(*a));

		a->invalid = get_varint(r) != 0;
		a->name = get_str(r);
		a->route = get_str(r);
		a->mailbox = get_str(r);
		a->host = get_str(r);
		*tail = a;
		tail = &a->next;
	}
	return head;
}

static struct mime_envelope *get_envelope(struct rd *r)
{
	struct mime_envelope *e = xcalloc(1, sizeof(*e));

	e->date = get_str(r);
	e->subject = get_str(r);
	e->message_id = get_str(r);
	e->in_reply_to = get_str(r);
	e->from = get_addrs(r);
	e->sender = get_addrs(r);
	e->reply_to = get_addrs(r);
	e->to = get_addrs(r);
	e->cc = get_addrs(r);
	e->bcc = get_addrs(r);
	return e;
}

static bool get_magic(struct rd *r, char magic)
{
	if (r->end - r->p < 2 || r->p[0] != (unsigned char)magic || r->p[1] != BLOB_VERSION)
		return false;
	r->p += 2;
	return true;
}

struct mime_envelope *mime_blob_envelope_decode(const void *data, size_t len)
{
	struct rd r = {data, (const unsigned char *)data + len, false, 0};
	struct mime_envelope *e;

	if (!get_magic(&r, 'E'))
		return NULL;
	e = get_envelope(&r);
	if (r.bad || r.p != r.end) {
		mime_envelope_free(e);
		return NULL;
	}
	return e;
}

static void get_params(struct rd *r, struct mime_params *ps)
{
	size_t n = get_count(r, 2);

	ps->v = n ? xcalloc(n, sizeof(*ps->v)) : NULL;
	ps->n = n;
	for (size_t i = 0; i < n; i++) {
		ps->v[i].name = get_str(r);
		ps->v[i].value = get_str(r);
		if (!ps->v[i].name || !ps->v[i].value)
			r->bad = true;
	}
}

static void get_size(struct rd *r, struct mime_size *s)
{
	s->physical = get_varint(r);
	s->virtual_size = get_varint(r);
	s->lines = get_varint(r);
}

/* One part (not its children); returns its number of children. */
static size_t get_part(struct rd *r, struct mime_part *p)
{
	size_t nlang;

	p->flags = (unsigned)get_varint(r);
	p->hdr_offset = get_varint(r);
	p->hdr_voffset = get_varint(r);
	get_size(r, &p->hdr);
	get_size(r, &p->body);
	p->type = get_str(r);
	p->subtype = get_str(r);
	get_params(r, &p->params);
	p->id = get_str(r);
	p->description = get_str(r);
	p->encoding = get_str(r);
	p->md5 = get_str(r);
	p->location = get_str(r);
	p->disposition = get_str(r);
	get_params(r, &p->disp_params);
	nlang = get_count(r, 1);
	if (nlang > 0) {
		p->language = xcalloc(nlang, sizeof(char *));
		for (size_t i = 0; i + 1 < nlang; i++)
			if ((p->language[i] = get_str(r)) == NULL)
				r->bad = true;
	}
	if (get_varint(r) != 0)
		p->envelope = get_envelope(r);
	if (p->type == NULL || p->subtype == NULL)
		r->bad = true;
	return get_count(r, 1);
}

static struct mime_part *get_tree(struct rd *r, struct mime_part *parent, unsigned depth)
{
	struct mime_part *p = xcalloc(1, sizeof(*p));
	size_t n;

	p->parent = parent;
	r->parts++;
	n = get_part(r, p);
	if (r->parts > MIME_PARSER_DEFAULT_PARTS ||
	    (n > 0 && depth + 1 >= MIME_PARSER_DEFAULT_DEPTH))
		r->bad = true;
	struct mime_part **tail = &p->children;
	for (size_t i = 0; i < n && !r->bad; i++) {
		*tail = get_tree(r, p, depth + 1);
		tail = &(*tail)->next;
	}
	return p;
}

struct mime_part *mime_blob_part_decode(const void *data, size_t len)
{
	struct rd r = {data, (const unsigned char *)data + len, false, 0};
	struct mime_part *root;

	if (!get_magic(&r, 'B'))
		return NULL;
	root = get_tree(&r, NULL, 0);
	if (r.bad || r.p != r.end) {
		mime_part_free(root);
		return NULL;
	}
	return root;
}
