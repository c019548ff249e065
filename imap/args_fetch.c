/*
 * imap/args_fetch.c - FETCH attributes (imap/args.h): RFC 9051 6.4.5 and
 * RFC 3501 6.4.5 "fetch-att", the macros ALL/FAST/FULL, BODY[section]
 * <partial>, BODY.PEEK, BINARY[.PEEK][section]<partial> and BINARY.SIZE
 * (RFC 3516), RFC822.*, MODSEQ and the CHANGEDSINCE / VANISHED modifiers
 * (RFC 7162).
 *
 * A section arrives from the parser as one atom ("BODY[1.HEADER.FIELDS
 * (A B)]<0.10>"), so it is parsed here from text.
 */
#include "args.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "util.h"

#define FETCH_MAX_PARTS 100   /* section numbers in one "1.2.3" */
#define FETCH_MAX_FIELDS 1000 /* names in HEADER.FIELDS */
#define FETCH_MAX_BODIES 1000

static bool fetch_number(const char **p, uint64_t *v, bool nz)
{
	const char *s = *p;

	*v = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		if (*v > (UINT64_MAX - 9) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*s++ - '0');
	}
	if (nz && *v == 0)
		return false;
	*p = s;
	return true;
}

static bool fetch_prefix(const char **s, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(*s, word, n) != 0)
		return false;
	*s += n;
	return true;
}

/* "(A B)" header field names, up to ']'. */
static bool fetch_fields(const char **p, struct imap_fetch_body *b)
{
	const char *s = *p;

	while (*s == ' ')
		s++;
	if (*s++ != '(')
		return false;
	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == ')')
			break;
		const char *start = s;
		char *name;

		if (*s == '"') {
			start = ++s;
			while (*s && *s != '"')
				s++;
			if (*s != '"')
				return false;
			name = xstrndup(start, (size_t)(s - start));
			s++;
		} else {
			while (*s > 32 && *s != 127 && *s != ')' && *s != '(' && *s != ']' &&
			       *s != '"')
				s++;
			if (s == start)
				return false;
			name = xstrndup(start, (size_t)(s - start));
		}
		if (b->nfields >= FETCH_MAX_FIELDS) {
			free(name);
			return false;
		}
		b->fields = xreallocarray(b->fields, b->nfields + 1, sizeof(char *));
		b->fields[b->nfields++] = name;
	}
	*p = s + 1;
	return b->nfields > 0;
}

/* The inside of "[...]" up to and including ']'. */
static bool fetch_section(const char **p, struct imap_fetch_body *b)
{
	const char *s = *p;

	while (isdigit((unsigned char)*s)) {
		uint64_t v;

		if (!fetch_number(&s, &v, true) || v > UINT32_MAX || b->nparts >= FETCH_MAX_PARTS)
			return false;
		b->part = xreallocarray(b->part, b->nparts + 1, sizeof(unsigned));
		b->part[b->nparts++] = (unsigned)v;
		if (*s != '.')
			break;
		s++;
		if (!isdigit((unsigned char)*s))
			break; /* "1.HEADER" */
	}
	if (*s == ']') {
		b->section = IMAP_SECTION_ALL;
	} else if (b->binary) {
		return false; /* BINARY takes part numbers only */
	} else if (fetch_prefix(&s, "HEADER.FIELDS.NOT")) {
		b->section = IMAP_SECTION_FIELDS_NOT;
		if (!fetch_fields(&s, b))
			return false;
	} else if (fetch_prefix(&s, "HEADER.FIELDS")) {
		b->section = IMAP_SECTION_FIELDS;
		if (!fetch_fields(&s, b))
			return false;
	} else if (fetch_prefix(&s, "HEADER")) {
		b->section = IMAP_SECTION_HEADER;
	} else if (fetch_prefix(&s, "TEXT")) {
		b->section = IMAP_SECTION_TEXT;
	} else if (fetch_prefix(&s, "MIME") && b->nparts > 0) {
		b->section = IMAP_SECTION_MIME;
	} else {
		return false;
	}
	if (*s != ']')
		return false;
	*p = s + 1;
	return true;
}

/* "<offset.count>" (count non-zero). */
static bool fetch_partial(const char **p, struct imap_fetch_body *b)
{
	const char *s = *p;

	if (*s != '<')
		return true;
	s++;
	if (!fetch_number(&s, &b->offset, false) || *s++ != '.' ||
	    !fetch_number(&s, &b->count, true) || *s++ != '>')
		return false;
	b->partial = true;
	*p = s;
	return true;
}

/* The response name: the item up to ']' with BODY.PEEK shown as BODY. */
static void fetch_body_name(struct imap_fetch_body *b, const char *item, const char *end)
{
	struct buf n = BUF_INIT;
	const char *bracket = strchr(item, '[');

	buf_puts(&n, b->binary_size ? "BINARY.SIZE" : b->binary ? "BINARY" : "BODY");
	buf_append(&n, bracket, (size_t)(end - bracket));
	for (size_t i = 0; i < n.len; i++)
		n.data[i] = (char)toupper((unsigned char)n.data[i]);
	b->name = xstrdup(buf_cstr(&n));
	buf_free(&n);
}

static void body_free(struct imap_fetch_body *b)
{
	free(b->name);
	free(b->part);
	for (size_t i = 0; i < b->nfields; i++)
		free(b->fields[i]);
	free(b->fields);
}

static struct imap_fetch_body *fetch_add_body(struct imap_fetch *f)
{
	f->bodies = xreallocarray(f->bodies, f->nbodies + 1, sizeof(*f->bodies));
	memset(&f->bodies[f->nbodies], 0, sizeof(f->bodies[0]));
	return &f->bodies[f->nbodies++];
}

/* BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...], BINARY.SIZE[...]. */
static bool fetch_body_item(struct imap_fetch *f, const char *item)
{
	struct imap_fetch_body b;
	const char *s = item;

	memset(&b, 0, sizeof(b));
	if (fetch_prefix(&s, "BODY.PEEK[")) {
		b.peek = true;
	} else if (fetch_prefix(&s, "BODY[")) {
	} else if (fetch_prefix(&s, "BINARY.PEEK[")) {
		b.peek = b.binary = true;
	} else if (fetch_prefix(&s, "BINARY.SIZE[")) {
		b.peek = b.binary = b.binary_size = true;
	} else if (fetch_prefix(&s, "BINARY[")) {
		b.binary = true;
	} else {
		return false;
	}
	if (!fetch_section(&s, &b))
		goto bad;
	const char *end = s;
	if (!b.binary_size && !fetch_partial(&s, &b))
		goto bad;
	if (*s != 0 || f->nbodies >= FETCH_MAX_BODIES)
		goto bad;
	fetch_body_name(&b, item, end);
	if (!b.peek)
		f->items |= IMAP_FETCH_SETS_SEEN;
	*fetch_add_body(f) = b;
	return true;
bad:
	body_free(&b);
	return false;
}

static bool fetch_rfc822(struct imap_fetch *f, const char *item)
{
	struct imap_fetch_body *b;

	if (strcasecmp(item, "RFC822") == 0) {
		f->items |= IMAP_FETCH_RFC822 | IMAP_FETCH_SETS_SEEN;
		b = fetch_add_body(f);
		b->name = xstrdup("RFC822");
	} else if (strcasecmp(item, "RFC822.HEADER") == 0) {
		f->items |= IMAP_FETCH_RFC822_HEADER;
		b = fetch_add_body(f);
		b->name = xstrdup("RFC822.HEADER");
		b->peek = true;
		b->section = IMAP_SECTION_HEADER;
	} else if (strcasecmp(item, "RFC822.TEXT") == 0) {
		f->items |= IMAP_FETCH_RFC822_TEXT | IMAP_FETCH_SETS_SEEN;
		b = fetch_add_body(f);
		b->name = xstrdup("RFC822.TEXT");
		b->section = IMAP_SECTION_TEXT;
	} else {
		return false;
	}
	return true;
}

static bool fetch_item(struct imap_fetch *f, const struct imap_arg *a)
{
	static const struct {
		const char *name;
		unsigned items;
	} simple[] = {
	    {"UID", IMAP_FETCH_UID},
	    {"FLAGS", IMAP_FETCH_FLAGS},
	    {"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
	    {"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
	    {"ENVELOPE", IMAP_FETCH_ENVELOPE},
	    {"BODY", IMAP_FETCH_BODY},
	    {"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
	    {"MODSEQ", IMAP_FETCH_MODSEQ},
	};

	if (a->type != IMAP_ARG_ATOM)
		return false;
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (strcasecmp(a->str, simple[i].name) == 0) {
			f->items |= simple[i].items;
			return true;
		}
	}
	return fetch_rfc822(f, a->str) || fetch_body_item(f, a->str);
}

/* (CHANGEDSINCE n [VANISHED]) */
static bool fetch_modifiers(struct imap_fetch *f, const struct imap_arg *list)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct imap_arg *a = &list->list[i];

		if (imap_arg_is_atom(a, "CHANGEDSINCE") && i + 1 < list->count &&
		    list->list[i + 1].type == IMAP_ARG_ATOM && !f->changedsince_set) {
			const char *s = list->list[i + 1].str;

			if (!fetch_number(&s, &f->changedsince, false) || *s)
				return false;
			f->changedsince_set = true;
			i++;
		} else if (imap_arg_is_atom(a, "VANISHED") && !f->vanished) {
			f->vanished = true;
		} else {
			return false;
		}
	}
	return !f->vanished || f->changedsince_set;
}

bool imap_fetch_parse(
    const struct imap_arg *args, size_t n, struct imap_fetch *out, const char **err)
{
	memset(out, 0, sizeof(*out));
	*err = "Invalid fetch attribute";
	if (n == 0 || n > 2)
		goto bad;
	if (args[0].type == IMAP_ARG_ATOM && strcasecmp(args[0].str, "ALL") == 0) {
		out->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE |
			     IMAP_FETCH_ENVELOPE;
	} else if (args[0].type == IMAP_ARG_ATOM && strcasecmp(args[0].str, "FAST") == 0) {
		out->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE;
	} else if (args[0].type == IMAP_ARG_ATOM && strcasecmp(args[0].str, "FULL") == 0) {
		out->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE |
			     IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY;
	} else if (args[0].type == IMAP_ARG_LIST) {
		if (args[0].count == 0)
			goto bad;
		for (size_t i = 0; i < args[0].count; i++)
			if (!fetch_item(out, &args[0].list[i]))
				goto bad;
	} else if (!fetch_item(out, &args[0])) {
		goto bad;
	}
	if (n == 2 && (args[1].type != IMAP_ARG_LIST || !fetch_modifiers(out, &args[1]))) {
		*err = "Invalid fetch modifier";
		goto bad;
	}
	return true;
bad:
	imap_fetch_free(out);
	return false;
}

void imap_fetch_free(struct imap_fetch *f)
{
	for (size_t i = 0; i < f->nbodies; i++)
		body_free(&f->bodies[i]);
	free(f->bodies);
	f->bodies = NULL;
	f->nbodies = 0;
}
