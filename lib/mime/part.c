/*
 * mime/part.c - part tree helpers, the per-part Content-* data and the
 * envelope of a header section (mime/part.h).
 */
#include "mime/part.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime/header.h"
#include "mime/internal.h"
#include "util.h"

uint64_t mime_part_body_offset(const struct mime_part *p)
{
	return p->hdr_offset + p->hdr.physical;
}

unsigned mime_part_count_children(const struct mime_part *p)
{
	unsigned n = 0;

	for (const struct mime_part *c = p->children; c; c = c->next)
		n++;
	return n;
}

bool mime_part_is(const struct mime_part *p, const char *type, const char *subtype)
{
	return strcasecmp(p->type, type) == 0 &&
	       (subtype == NULL || strcasecmp(p->subtype, subtype) == 0);
}

const struct mime_part *mime_part_by_section(
    const struct mime_part *root, const unsigned *nums, unsigned n)
{
	const struct mime_part *p = root;

	for (unsigned i = 0; i < n; i++) {
		unsigned k = nums[i];

		/* Inside a message, numbers address the message's body parts. */
		if (p->flags & MIME_PART_MESSAGE_RFC822)
			p = p->children;
		if (p == NULL || k == 0)
			return NULL;
		if (p->flags & MIME_PART_MULTIPART) {
			p = p->children;
			while (p && --k > 0)
				p = p->next;
		} else if (k != 1 || !(p->flags & MIME_PART_MESSAGE_ROOT)) {
			return NULL; /* only a non-multipart message has a part 1: itself */
		}
		if (p == NULL)
			return NULL;
	}
	return p;
}

void mime_envelope_free(struct mime_envelope *env)
{
	if (env == NULL)
		return;
	free(env->date);
	free(env->subject);
	free(env->message_id);
	free(env->in_reply_to);
	mime_addr_free(env->from);
	mime_addr_free(env->sender);
	mime_addr_free(env->reply_to);
	mime_addr_free(env->to);
	mime_addr_free(env->cc);
	mime_addr_free(env->bcc);
	free(env);
}

static void part_free_one(struct mime_part *p)
{
	free(p->type);
	free(p->subtype);
	mime_params_free(&p->params);
	free(p->id);
	free(p->description);
	free(p->encoding);
	free(p->md5);
	free(p->location);
	free(p->disposition);
	mime_params_free(&p->disp_params);
	if (p->language)
		strv_free(p->language);
	mime_envelope_free(p->envelope);
	free(p);
}

void mime_part_free(struct mime_part *root)
{
	/* Iterative, so a deep (hostile) tree cannot exhaust the stack. */
	struct mime_part *p = root;

	while (p) {
		if (p->children) {
			struct mime_part *c = p->children;

			p->children = NULL;
			/* Splice the children in front of p's siblings. */
			struct mime_part *last = c;
			while (last->next)
				last = last->next;
			last->next = p->next;
			p->next = c;
		}
		struct mime_part *next = p->next;
		part_free_one(p);
		p = next;
	}
}

static char *env_value(const struct mime_hdr_field *f)
{
	struct buf b = BUF_INIT;
	char *s;

	mime_hdr_unfold(f->value, f->value_len, &b);
	s = xmemdup(b.data ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

/* A repeated address field adds to the list (Dovecot does so). */
static void env_addr(struct mime_addr **slot, const struct mime_hdr_field *f)
{
	struct mime_addr *more = mime_addr_parse(f->value, f->value_len, MIME_ADDR_FILL_MISSING, 0);

	while (*slot)
		slot = &(*slot)->next;
	*slot = more;
}

/* A repeated string field replaces the earlier one (the last wins, as in
 * Dovecot); leading white space goes, trailing stays. */
static void env_str(char **slot, const struct mime_hdr_field *f)
{
	struct buf b = BUF_INIT;
	size_t i = 0;

	while (i < f->value_len && (f->value[i] == ' ' || f->value[i] == '\t'))
		i++;
	for (; i < f->value_len; i++)
		if (f->value[i] != '\r' && f->value[i] != '\n')
			buf_putc(&b, f->value[i]);
	free(*slot);
	*slot = xmemdup(b.data ? b.data : "", b.len);
	buf_free(&b);
}

struct mime_envelope *mime_envelope_parse(const char *hdr, size_t len)
{
	struct mime_envelope *e = xcalloc(1, sizeof(*e));
	struct mime_hdr_iter it;
	struct mime_hdr_field f;

	mime_hdr_iter_init(&it, hdr, len);
	while (mime_hdr_iter_next(&it, &f))
		mime_envelope_field(e, &f);
	return e;
}

void mime_envelope_field(struct mime_envelope *e, const struct mime_hdr_field *f)
{
	if (mime_hdr_name_is(f, "date"))
		env_str(&e->date, f);
	else if (mime_hdr_name_is(f, "subject"))
		env_str(&e->subject, f);
	else if (mime_hdr_name_is(f, "message-id"))
		env_str(&e->message_id, f);
	else if (mime_hdr_name_is(f, "in-reply-to"))
		env_str(&e->in_reply_to, f);
	else if (mime_hdr_name_is(f, "from"))
		env_addr(&e->from, f);
	else if (mime_hdr_name_is(f, "sender"))
		env_addr(&e->sender, f);
	else if (mime_hdr_name_is(f, "reply-to"))
		env_addr(&e->reply_to, f);
	else if (mime_hdr_name_is(f, "to"))
		env_addr(&e->to, f);
	else if (mime_hdr_name_is(f, "cc"))
		env_addr(&e->cc, f);
	else if (mime_hdr_name_is(f, "bcc"))
		env_addr(&e->bcc, f);
}

static char *field_token(const struct mime_hdr_field *f)
{
	struct buf b = BUF_INIT;
	char *s;
	size_t i = 0;

	mime_hdr_unfold(f->value, f->value_len, &b);
	/* The first token only ("base64 (comment)"). */
	while (i < b.len && b.data[i] != ' ' && b.data[i] != '\t' && b.data[i] != '(' &&
	       b.data[i] != ';')
		i++;
	s = xmemdup(b.data ? b.data : "", i);
	buf_free(&b);
	return s;
}

static char **field_language(const struct mime_hdr_field *f)
{
	char *v = env_value(f);
	char **langs = strv_split(v, " \t,");

	free(v);
	if (langs[0] == NULL) {
		strv_free(langs);
		return NULL;
	}
	return langs;
}

void mime_part_field(struct mime_part *p, const struct mime_hdr_field *f)
{
	if (f->name_len < 8 || strncasecmp(f->name, "content-", 8) != 0)
		return;
	if (mime_hdr_name_is(f, "content-type") && p->type == NULL) {
		mime_params_free(&p->params);
		mime_content_type_parse(f->value, f->value_len, &p->type, &p->subtype, &p->params);
		if (p->type == NULL) /* invalid: the default applies, params kept */
			p->flags |= MIME_PART_BROKEN;
	} else if (mime_hdr_name_is(f, "content-transfer-encoding") && !p->encoding) {
		p->encoding = field_token(f);
	} else if (mime_hdr_name_is(f, "content-disposition") && !p->disposition) {
		mime_params_free(&p->disp_params);
		mime_token_params_parse(f->value, f->value_len, &p->disposition, &p->disp_params);
	} else if (mime_hdr_name_is(f, "content-language") && !p->language) {
		p->language = field_language(f);
	} else if (mime_hdr_name_is(f, "content-location") && !p->location) {
		p->location = env_value(f);
	} else if (mime_hdr_name_is(f, "content-id") && !p->id) {
		p->id = env_value(f);
	} else if (mime_hdr_name_is(f, "content-description") && !p->description) {
		p->description = env_value(f);
	} else if (mime_hdr_name_is(f, "content-md5") && !p->md5) {
		p->md5 = env_value(f);
	}
}
