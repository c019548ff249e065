/*
 * mime/address.c - RFC 5322 section 3.4 address lists (mime/address.h).
 *
 * A mailbox and a group both begin with words, so the parser reads words
 * (atoms, quoted strings, dots) first and lets the next special decide
 * what they were: '<' a display name, ':' a group name, '@' a local part,
 * anything else a local part without a domain.  Anything it cannot place
 * is skipped one character at a time, so every input terminates in one
 * pass.
 */
#include "mime/address.h"

#include <string.h>

#include "buf.h"
#include "mime/lex.h"
#include "util.h"

struct addr_ctx {
	struct mime_lex lex;
	struct mime_addr *head, **tail;
	size_t count, max;
	unsigned flags;
	bool in_group;
	struct buf comment;
};

struct addr_words {
	struct buf phrase; /* words joined by single spaces */
	struct buf local;  /* words joined as written, for a local part */
	bool any;
};

static char *addr_strdup_buf(struct buf *b)
{
	return xmemdup(b->data ? b->data : "", b->len);
}

static struct mime_addr *addr_add(struct addr_ctx *c)
{
	struct mime_addr *a;

	if (c->count >= c->max)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	*c->tail = a;
	c->tail = &a->next;
	c->count++;
	return a;
}

/* Words up to the next special; false if there were none. */
static bool addr_read_words(struct addr_ctx *c, struct addr_words *w)
{
	struct buf word = BUF_INIT;

	buf_reset(&w->phrase);
	buf_reset(&w->local);
	w->any = false;
	for (;;) {
		bool dot = false;

		mime_lex_cfws(&c->lex);
		buf_reset(&word);
		if (mime_lex_peek(&c->lex) == '"')
			mime_lex_quoted(&c->lex, &word);
		else if (mime_lex_char(&c->lex, '.'))
			dot = true;
		else if (!mime_lex_atom(&c->lex, &word))
			break;
		if (dot) {
			buf_putc(&w->local, '.');
			buf_putc(&w->phrase, '.');
		} else {
			if (w->phrase.len && w->phrase.data[w->phrase.len - 1] != '.')
				buf_putc(&w->phrase, ' ');
			buf_append(&w->phrase, word.data ? word.data : "", word.len);
			buf_append(&w->local, word.data ? word.data : "", word.len);
		}
		w->any = true;
	}
	buf_free(&word);
	return w->any;
}

static void addr_domain(struct addr_ctx *c, struct buf *out)
{
	mime_lex_cfws(&c->lex);
	if (mime_lex_peek(&c->lex) == '[')
		mime_lex_domain_literal(&c->lex, out);
	else
		mime_lex_dot_atom(&c->lex, out);
}

static void addr_fill(struct addr_ctx *c, struct mime_addr *a)
{
	bool fill = (c->flags & MIME_ADDR_FILL_MISSING) != 0;

	if (a->mailbox == NULL || a->mailbox[0] == 0) {
		a->invalid = true;
		if (fill) {
			free(a->mailbox);
			a->mailbox = xstrdup("MISSING_MAILBOX");
		} else if (!a->mailbox) {
			a->mailbox = xstrdup("");
		}
	}
	if (a->host == NULL || a->host[0] == 0) {
		a->invalid = true;
		if (fill) {
			free(a->host);
			a->host = xstrdup("MISSING_DOMAIN");
		} else if (!a->host) {
			a->host = xstrdup("");
		}
	}
}

/* "<" [route ":"] local "@" domain ">" after a display name. */
static void addr_angle(struct addr_ctx *c, struct mime_addr *a)
{
	struct buf route = BUF_INIT, local = BUF_INIT, host = BUF_INIT;

	mime_lex_cfws(&c->lex);
	while (mime_lex_peek(&c->lex) == '@' || (route.len && mime_lex_peek(&c->lex) == ',')) {
		if (mime_lex_char(&c->lex, ','))
			buf_putc(&route, ',');
		else {
			mime_lex_char(&c->lex, '@');
			buf_putc(&route, '@');
			addr_domain(c, &route);
		}
		mime_lex_cfws(&c->lex);
	}
	if (route.len && !mime_lex_char(&c->lex, ':'))
		a->invalid = true;
	for (;;) {
		mime_lex_cfws(&c->lex);
		if (mime_lex_peek(&c->lex) == '"')
			mime_lex_quoted(&c->lex, &local);
		else if (mime_lex_char(&c->lex, '.'))
			buf_putc(&local, '.');
		else if (!mime_lex_atom(&c->lex, &local))
			break;
	}
	mime_lex_cfws(&c->lex);
	if (mime_lex_char(&c->lex, '@'))
		addr_domain(c, &host);
	mime_lex_cfws(&c->lex);
	/* Skip junk up to the closing bracket. */
	while (!mime_lex_eof(&c->lex) && mime_lex_peek(&c->lex) != '>' &&
	       mime_lex_peek(&c->lex) != ',' && mime_lex_peek(&c->lex) != ';') {
		a->invalid = true;
		c->lex.p++;
	}
	if (!mime_lex_char(&c->lex, '>'))
		a->invalid = true;
	if (route.len)
		a->route = addr_strdup_buf(&route);
	if (local.len || host.len || !(c->flags & MIME_ADDR_FILL_MISSING)) {
		a->mailbox = addr_strdup_buf(&local);
		a->host = addr_strdup_buf(&host);
	}
	buf_free(&route);
	buf_free(&local);
	buf_free(&host);
}

static void addr_group_end(struct addr_ctx *c)
{
	addr_add(c); /* all NULL: the end marker */
	c->in_group = false;
}

/* One element of the list: a mailbox, a group start or a group end. */
static void addr_element(struct addr_ctx *c, struct addr_words *w)
{
	struct mime_addr *a;
	int next;

	buf_reset(&c->comment);
	addr_read_words(c, w);
	next = mime_lex_peek(&c->lex);
	if (next == ':' && w->any && !c->in_group) {
		mime_lex_char(&c->lex, ':');
		if ((a = addr_add(c)) != NULL)
			a->mailbox = addr_strdup_buf(&w->phrase);
		c->in_group = true;
		return;
	}
	if (next == ';' && !w->any) {
		mime_lex_char(&c->lex, ';');
		if (c->in_group)
			addr_group_end(c);
		return;
	}
	if (next == '<') {
		mime_lex_char(&c->lex, '<');
		if ((a = addr_add(c)) == NULL)
			return;
		if (w->any && w->phrase.len)
			a->name = addr_strdup_buf(&w->phrase);
		addr_angle(c, a);
	} else if (w->any || next == '@') {
		if ((a = addr_add(c)) == NULL)
			return;
		a->mailbox = addr_strdup_buf(&w->local);
		if (mime_lex_char(&c->lex, '@')) {
			struct buf host = BUF_INIT;

			addr_domain(c, &host);
			a->host = addr_strdup_buf(&host);
			buf_free(&host);
		}
		mime_lex_cfws(&c->lex);
		if (c->comment.len)
			a->name = addr_strdup_buf(&c->comment);
	} else {
		/* A character that starts nothing: skip it. */
		if (next != ',' && next != -1)
			c->lex.p++;
		return;
	}
	addr_fill(c, a);
	mime_lex_cfws(&c->lex);
	if (mime_lex_peek(&c->lex) == ';' && c->in_group) {
		mime_lex_char(&c->lex, ';');
		addr_group_end(c);
	}
}

struct mime_addr *mime_addr_parse(const char *value, size_t len, unsigned flags, size_t max)
{
	struct addr_ctx c;
	struct addr_words w = {BUF_INIT, BUF_INIT, false};

	memset(&c, 0, sizeof(c));
	mime_lex_init(&c.lex, value, len);
	c.lex.comment = &c.comment;
	c.tail = &c.head;
	c.flags = flags;
	c.max = max ? max : MIME_ADDR_MAX_DEFAULT;
	bool need_elem = true; /* nothing since the start or the last comma */
	for (;;) {
		const unsigned char *before;

		mime_lex_cfws(&c.lex);
		if (mime_lex_eof(&c.lex))
			break;
		if (mime_lex_char(&c.lex, ',')) {
			/* An empty element before a comma (Dovecot fills it in). */
			struct mime_addr *a;

			if (need_elem && (flags & MIME_ADDR_FILL_MISSING) &&
			    (a = addr_add(&c)) != NULL)
				addr_fill(&c, a);
			need_elem = true;
			continue;
		}
		need_elem = false;
		before = c.lex.p;
		addr_element(&c, &w);
		if (c.lex.p == before)
			c.lex.p++; /* progress whatever happens */
	}
	if (c.in_group && (flags & MIME_ADDR_FILL_MISSING))
		addr_group_end(&c);
	buf_free(&w.phrase);
	buf_free(&w.local);
	buf_free(&c.comment);
	return c.head;
}

void mime_addr_free(struct mime_addr *list)
{
	while (list) {
		struct mime_addr *next = list->next;

		free(list->name);
		free(list->route);
		free(list->mailbox);
		free(list->host);
		free(list);
		list = next;
	}
}

bool mime_addr_is_group_start(const struct mime_addr *a)
{
	return a->mailbox != NULL && a->host == NULL;
}

bool mime_addr_is_group_end(const struct mime_addr *a)
{
	return a->mailbox == NULL && a->host == NULL;
}
