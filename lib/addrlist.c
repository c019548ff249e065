/*
 * addrlist.c - splits an RFC 5322 address list (addrlist.h).
 *
 * One pass, one character at a time, with the state a reader of RFC 5322
 * section 3.4 needs: inside a quoted string, inside a comment (nested),
 * inside <angle brackets>.  Each element collects the text outside angle
 * brackets and the text inside them; the angle text wins when there is
 * one (the rest was a display name).
 */
#include "addrlist.h"

#include <string.h>

#include "buf.h"
#include "util.h"

struct al_state {
	struct buf plain, angle;
	bool has_angle, in_angle, in_quote, escaped;
	int comment; /* nesting depth */
	char **out;
	size_t n;
};

static void al_emit(struct al_state *s)
{
	struct buf *b = s->has_angle ? &s->angle : &s->plain;
	const char *addr = buf_cstr(b);

	/* A source route "@a,@b:user@c" (RFC 5322 4.4 obs-route) is dropped. */
	if (s->has_angle && addr[0] == '@' && strchr(addr, ':'))
		addr = strchr(addr, ':') + 1;
	if (*addr) {
		s->out = xreallocarray(s->out, s->n + 2, sizeof(char *));
		s->out[s->n++] = xstrdup(addr);
		s->out[s->n] = NULL;
	}
	buf_reset(&s->plain);
	buf_reset(&s->angle);
	s->has_angle = s->in_angle = false;
}

static void al_put(struct al_state *s, char c)
{
	buf_putc(s->in_angle ? &s->angle : &s->plain, c);
}

/* A character outside quotes and comments. */
static void al_structural(struct al_state *s, char c)
{
	if (c == '"') {
		s->in_quote = true;
		al_put(s, c);
	} else if (c == '(') {
		s->comment = 1;
	} else if (c == '<') {
		if (!s->in_angle)
			buf_reset(&s->angle);
		s->in_angle = s->has_angle = true;
	} else if (c == '>') {
		s->in_angle = false;
	} else if ((c == ',' && !s->in_angle) || c == ';') {
		al_emit(s);
	} else if (c == ':' && !s->in_angle && !s->has_angle) {
		buf_reset(&s->plain); /* "group name:" */
	} else if ((unsigned char)c > 32 && c != 127) {
		al_put(s, c);
	}
}

char **addrlist_parse(const char *text, size_t len)
{
	struct al_state s;

	memset(&s, 0, sizeof(s));
	s.out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (s.in_quote) {
			if ((unsigned char)c >= 32 && c != 127)
				al_put(&s, c);
			if (s.escaped)
				s.escaped = false;
			else if (c == '\\')
				s.escaped = true;
			else if (c == '"')
				s.in_quote = false;
		} else if (s.comment > 0) {
			if (s.escaped)
				s.escaped = false;
			else if (c == '\\')
				s.escaped = true;
			else if (c == '(' && s.comment < 100)
				s.comment++;
			else if (c == ')')
				s.comment--;
		} else {
			al_structural(&s, c);
		}
	}
	al_emit(&s);
	buf_free(&s.plain);
	buf_free(&s.angle);
	return s.out;
}
