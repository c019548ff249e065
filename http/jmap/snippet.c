/*
 * snippet.c - SearchSnippet/get (RFC 8621 section 5): where a message
 * matched the search, with the matched terms marked.
 *
 * The terms are the strings of the filter's "text", "subject" and "body"
 * conditions (not those under a NOT): "text" and "subject" ones are
 * marked in the subject, "text" and "body" ones in a window of the
 * first text/plain body part around the first match.  Matching is what
 * Email/query does (a case-insensitive substring).  The result is HTML:
 * the text escaped, each match between <mark> and </mark>; subject or
 * preview is null where no term matched.  The preview stays within 255
 * octets, as the RFC asks.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jmap_int.h"
#include "mstore/msg_mime.h"
#include "util.h"

#define SNIPPET_MAX 255
#define SNIPPET_BEFORE 40 /* bytes of context before the first match */
#define SNIPPET_WINDOW 160

struct terms {
	json_t *subject, *body; /* arrays of strings */
};

static void collect(json_t *f, struct terms *t, int depth)
{
	const char *op = json_string_value(json_object_get(f, "operator"));
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(f) || depth > 16)
		return;
	if (op) {
		if (strcmp(op, "NOT") == 0)
			return;
		json_array_foreach(json_object_get(f, "conditions"), i, v) collect(v, t, depth + 1);
		return;
	}
	json_object_foreach(f, key, v)
	{
		if (!json_is_string(v) || json_string_length(v) == 0)
			continue;
		if (strcmp(key, "text") == 0 || strcmp(key, "subject") == 0)
			json_array_append(t->subject, v);
		if (strcmp(key, "text") == 0 || strcmp(key, "body") == 0)
			json_array_append(t->body, v);
	}
}

/* Length of the longest term matching at s, 0: none. */
static size_t match_at(const char *s, size_t left, json_t *terms)
{
	size_t best = 0, i;
	json_t *t;

	json_array_foreach(terms, i, t)
	{
		size_t n = json_string_length(t);

		if (n <= left && n > best && strncasecmp(s, json_string_value(t), n) == 0)
			best = n;
	}
	return best;
}

/* The bytes of the UTF-8 character at s (1 for a stray byte). */
static size_t char_len(const char *s, size_t left)
{
	size_t n = 1;

	while (n < left && ((unsigned char)s[n] & 0xc0) == 0x80)
		n++;
	return n;
}

/* s[0..len) as HTML with the terms marked, stopping before max octets;
 * the number of matches. */
static size_t mark(const char *s, size_t len, json_t *terms, struct buf *out, size_t max)
{
	size_t hits = 0, i = 0;
	struct buf piece = BUF_INIT;

	while (i < len) {
		size_t m = match_at(s + i, len - i, terms), n = m ? m : char_len(s + i, len - i);

		buf_reset(&piece);
		if (m)
			buf_puts(&piece, "<mark>");
		buf_put_html(&piece, s + i, n);
		if (m)
			buf_puts(&piece, "</mark>");
		if (out->len + piece.len > max)
			break;
		buf_append(out, piece.data, piece.len);
		hits += m != 0;
		i += n;
	}
	buf_free(&piece);
	return hits;
}

/* The body text with runs of white space made one space. */
static void squeeze(const struct buf *in, struct buf *out)
{
	bool space = false;

	for (size_t i = 0; i < in->len; i++) {
		if (isspace((unsigned char)in->data[i])) {
			space = out->len > 0;
			continue;
		}
		if (space)
			buf_putc(out, ' ');
		space = false;
		buf_putc(out, in->data[i]);
	}
}

static json_t *preview(struct jmsg *j, const struct mime_part *root, json_t *terms)
{
	struct buf raw = BUF_INIT, text = BUF_INIT, out = BUF_INIT;
	size_t at, start, end;
	json_t *r = json_null();

	if (json_array_size(terms) == 0)
		return r;
	jmap_body_text(j, root, &raw, 1024 * 1024);
	squeeze(&raw, &text);
	for (at = 0; at < text.len && match_at(text.data + at, text.len - at, terms) == 0; at++)
		;
	if (at < text.len) {
		start = at > SNIPPET_BEFORE ? at - SNIPPET_BEFORE : 0;
		while (start > 0 && ((unsigned char)text.data[start] & 0xc0) == 0x80)
			start--; /* not inside a character */
		if (start > 0) { /* from a word's start when there is one near */
			size_t w = start;

			while (w < at && text.data[w - 1] != ' ')
				w++;
			if (w < at)
				start = w;
		}
		end = start + SNIPPET_WINDOW < text.len ? start + SNIPPET_WINDOW : text.len;
		if (at >= end)
			end = at + 1;
		while (end < text.len && ((unsigned char)text.data[end] & 0xc0) == 0x80)
			end++;
		if (mark(text.data + start, end - start, terms, &out, SNIPPET_MAX) > 0 &&
		    (r = json_stringn(out.data, out.len)) == NULL)
			r = json_null(); /* not UTF-8 after all */
	}
	buf_free(&raw);
	buf_free(&text);
	buf_free(&out);
	return r;
}

static json_t *subject(const struct mime_part *root, json_t *terms)
{
	struct buf subj = BUF_INIT, out = BUF_INIT;
	json_t *r = json_null();

	if (json_array_size(terms) && root->envelope) {
		jmap_decode_words(root->envelope->subject, &subj);
		if (mark(subj.data ? subj.data : "", subj.len, terms, &out, 4 * 1024) > 0 &&
		    (r = json_stringn(out.data, out.len)) == NULL)
			r = json_null();
	}
	buf_free(&subj);
	buf_free(&out);
	return r;
}

void jmap_snippet_get(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"filter", JA_OBJECT_OR_NULL, false}, {"emailIds", JA_IDS, true}, {NULL, 0, 0}};
	struct terms t = {json_array(), json_array()};
	json_t *ids, *list, *nf, *id;
	size_t i;

	if (!jmap_args(c, spec)) {
		json_decref(t.subject);
		json_decref(t.body);
		return;
	}
	ids = json_object_get(c->args, "emailIds");
	if (json_array_size(ids) > (size_t)jm.max_get) {
		json_decref(t.subject);
		json_decref(t.body);
		jmap_error(c, "requestTooLarge", NULL);
		return;
	}
	collect(json_object_get(c->args, "filter"), &t, 0);
	list = json_array();
	nf = json_array();
	json_array_foreach(ids, i, id)
	{
		struct jmsg j;
		struct mime_part *root;

		if (!jmap_locate(c, json_string_value(id), &j)) {
			json_array_append(nf, id);
			continue;
		}
		if ((root = mstore_msg_mime(j.v, j.uid)) == NULL) {
			json_array_append_new(list,
			    json_pack("{s:O, s:n, s:n}", "emailId", id, "subject", "preview"));
			continue;
		}
		json_array_append_new(
		    list, json_pack("{s:O, s:o, s:o}", "emailId", id, "subject",
			      subject(root, t.subject), "preview", preview(&j, root, t.body)));
		mime_part_free(root);
	}
	json_decref(t.subject);
	json_decref(t.body);
	jmap_reply(c, "SearchSnippet/get",
	    json_pack("{s:s, s:o, s:o}", "accountId", jm.account, "list", list, "notFound", nf));
}
