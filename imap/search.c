/*
 * imap/search.c - SEARCH evaluation (imap/search.h).
 *
 * Three-valued first: with the content unknown a key may be "maybe"; only
 * then is the message read, once, with every header/body key checked in
 * the same pass (struct scan), and the tree evaluated again for real.
 */
#include "search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime/casemap.h"
#include "mime/charset.h"
#include "mime/date.h"
#include "mime/decode.h"
#include "mime/header.h"
#include "mime/parser.h"
#include "mime/rfc2047.h"
#include "util.h"

enum tri { NO, YES, MAYBE };

#define SEARCH_READ_CHUNK 65536
#define SEARCH_MAX_KEYS 256 /* content keys in one search */

static bool is_content(const struct imap_search_node *k)
{
	return k->key == IMAP_SK_HEADER || k->key == IMAP_SK_BODY || k->key == IMAP_SK_TEXT;
}

/* Converts str (in charset) to its casemap form, in place. */
static bool prepare_string(char **str, const char *charset)
{
	struct buf u = BUF_INIT, f = BUF_INIT;

	if (*str == NULL)
		return true;
	if (!mime_charset_to_utf8(charset, *str, strlen(*str), &u)) {
		buf_free(&u);
		return false;
	}
	mime_casemap(u.data ? u.data : "", u.len, &f);
	free(*str);
	*str = xmemdup(f.data ? f.data : "", f.len);
	buf_free(&u);
	buf_free(&f);
	return true;
}

static bool prepare_node(
    struct imap_search_node *n, const struct imap_search *s, const struct imap_search_env *env)
{
	for (; n; n = n->next) {
		if (n->key == IMAP_SK_SEQSET || n->key == IMAP_SK_UID) {
			if (!n->set.saved)
				imap_seqset_resolve(
				    &n->set, n->key == IMAP_SK_UID ? env->max_uid : env->max_seq);
		}
		if (n->key == IMAP_SK_HEADER && !prepare_string(&n->str2, s->charset))
			return false;
		if ((n->key == IMAP_SK_BODY || n->key == IMAP_SK_TEXT) &&
		    !prepare_string(&n->str, s->charset))
			return false;
		if (!prepare_node(n->child, s, env))
			return false;
	}
	return true;
}

bool imap_search_prepare(struct imap_search *s, const struct imap_search_env *env, const char **err)
{
	if (s->charset) {
		struct mime_charset c;

		if (!mime_charset_open(&c, s->charset)) {
			*err = "[BADCHARSET (US-ASCII UTF-8)] Unknown charset";
			return false;
		}
		mime_charset_close(&c, NULL);
	}
	*err = "[BADCHARSET (US-ASCII UTF-8)] Unknown charset";
	return prepare_node(s->root, s, env);
}

/* --------------------------------------------------------- the scan */

struct scan_key {
	const struct imap_search_node *node;
	bool matched;
	struct buf tail; /* the last bytes of body text, for matches across chunks */
};

struct scan {
	struct scan_key keys[SEARCH_MAX_KEYS];
	size_t nkeys;
	bool want_sent;
	bool sent_ok;
	time_t sent;
	int sent_tz;
	/* the text part being decoded */
	const struct mime_part *part;
	struct mime_decoder dec;
	struct mime_charset cs;
	bool cs_open;
	struct buf raw, utf8, folded;
};

static void collect_keys(struct scan *sc, const struct imap_search_node *n)
{
	for (; n; n = n->next) {
		if (is_content(n) && sc->nkeys < SEARCH_MAX_KEYS) {
			sc->keys[sc->nkeys].node = n;
			sc->nkeys++;
		}
		if (n->key == IMAP_SK_SENTBEFORE || n->key == IMAP_SK_SENTON ||
		    n->key == IMAP_SK_SENTSINCE)
			sc->want_sent = true;
		collect_keys(sc, n->child);
	}
}

static struct scan_key *scan_key_of(const struct scan *sc, const struct imap_search_node *n)
{
	for (size_t i = 0; i < sc->nkeys; i++)
		if (sc->keys[i].node == n)
			return (struct scan_key *)&sc->keys[i];
	return NULL;
}

/* A header field of the top message. */
static void scan_field(struct scan *sc, const struct mime_hdr_field *f)
{
	struct buf v = BUF_INIT, dec = BUF_INIT, fold = BUF_INIT;

	mime_hdr_unfold(f->value, f->value_len, &v);
	if (sc->want_sent && !sc->sent_ok && mime_hdr_name_is(f, "date"))
		sc->sent_ok = mime_date_parse(v.data ? v.data : "", v.len, &sc->sent, &sc->sent_tz);
	/* "Name: value", so that TEXT finds field names too. */
	buf_append(&dec, f->name, f->name_len);
	buf_puts(&dec, ": ");
	size_t vstart = dec.len;
	mime_2047_decode(v.data ? v.data : "", v.len, &dec);
	mime_casemap(dec.data, dec.len, &fold);
	size_t fstart = 0;
	/* The folded value starts after the folded "Name: " prefix. */
	struct buf pre = BUF_INIT;
	mime_casemap(dec.data, vstart, &pre);
	fstart = pre.len;
	buf_free(&pre);
	for (size_t i = 0; i < sc->nkeys; i++) {
		struct scan_key *k = &sc->keys[i];
		const struct imap_search_node *n = k->node;

		if (k->matched)
			continue;
		if (n->key == IMAP_SK_HEADER && mime_hdr_name_is(f, n->str))
			k->matched = mime_casemap_contains(
			    fold.data + fstart, fold.len - fstart, n->str2, strlen(n->str2));
		else if (n->key == IMAP_SK_TEXT)
			k->matched =
			    mime_casemap_contains(fold.data, fold.len, n->str, strlen(n->str));
	}
	buf_free(&v);
	buf_free(&dec);
	buf_free(&fold);
}

static void scan_header(void *ctx, struct mime_part *part, const struct mime_hdr_field *f)
{
	if (part->parent == NULL)
		scan_field(ctx, f);
}

/* Searches the casemapped text chunk for the body keys. */
static void scan_text(struct scan *sc, const char *text, size_t len)
{
	for (size_t i = 0; i < sc->nkeys; i++) {
		struct scan_key *k = &sc->keys[i];
		const char *needle = k->node->str;
		size_t nlen = strlen(needle);

		if (k->matched || (k->node->key != IMAP_SK_BODY && k->node->key != IMAP_SK_TEXT))
			continue;
		buf_append(&k->tail, text, len);
		k->matched = mime_casemap_contains(k->tail.data, k->tail.len, needle, nlen);
		/* Keep what a match crossing into the next chunk needs. */
		if (k->tail.len >= nlen)
			buf_consume(&k->tail, k->tail.len - (nlen ? nlen - 1 : 0));
	}
}

static void part_flush(struct scan *sc, bool final)
{
	if (sc->part == NULL)
		return;
	if (final)
		mime_decoder_finish(&sc->dec, &sc->raw);
	buf_reset(&sc->utf8);
	if (sc->cs_open)
		mime_charset_feed(
		    &sc->cs, sc->raw.data ? sc->raw.data : "", sc->raw.len, &sc->utf8);
	if (final && sc->cs_open)
		mime_charset_close(&sc->cs, &sc->utf8);
	buf_reset(&sc->raw);
	buf_reset(&sc->folded);
	mime_casemap(sc->utf8.data ? sc->utf8.data : "", sc->utf8.len, &sc->folded);
	scan_text(sc, sc->folded.data ? sc->folded.data : "", sc->folded.len);
	if (final) {
		sc->part = NULL;
		sc->cs_open = false;
		for (size_t i = 0; i < sc->nkeys; i++)
			buf_reset(&sc->keys[i].tail); /* no match across parts */
	}
}

static void scan_body(void *ctx, struct mime_part *part, const char *data, size_t len)
{
	struct scan *sc = ctx;

	if ((part->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE_RFC822)) ||
	    !(part->flags & MIME_PART_TEXT))
		return;
	if (part != sc->part) {
		const char *cs = mime_params_get(&part->params, "charset");

		part_flush(sc, true);
		sc->part = part;
		mime_decoder_init(&sc->dec, mime_cte_from_name(part->encoding));
		/* An unknown charset is searched as UTF-8 (Dovecot does so). */
		if (!mime_charset_open(&sc->cs, cs ? cs : "us-ascii"))
			mime_charset_open(&sc->cs, "utf-8");
		sc->cs_open = true;
	}
	mime_decoder_feed(&sc->dec, data, len, &sc->raw);
	part_flush(sc, false);
}

/* Reads the message once and records which content keys match. */
static bool scan_message(struct scan *sc, const struct imap_search_msg *m)
{
	struct mime_parser_callbacks cb = {scan_header, NULL, scan_body};
	struct mime_parser *p = mime_parser_new(NULL, &cb, sc);
	char *buf = xmalloc(SEARCH_READ_CHUNK);
	uint64_t off = 0;
	bool ok = true;

	for (;;) {
		ssize_t n = m->read ? m->read(m->ctx, off, buf, SEARCH_READ_CHUNK) : -1;

		if (n < 0)
			ok = false;
		if (n <= 0)
			break;
		mime_parser_feed(p, buf, (size_t)n);
		off += (uint64_t)n;
	}
	mime_part_free(mime_parser_finish(p));
	part_flush(sc, true);
	free(buf);
	return ok;
}

/* When only header fields are searched (HEADER keys, FROM, SUBJECT...,
 * SENT* dates): the fields from m->headers, which answers from the index
 * cache.  False when the message must be read instead. */
static bool scan_fields(struct scan *sc, const struct imap_search_msg *m)
{
	const char *names[SEARCH_MAX_KEYS + 1];
	size_t n = 0;
	struct buf hdr = BUF_INIT;
	struct mime_hdr_iter it;
	struct mime_hdr_field f;

	if (m->headers == NULL)
		return false;
	for (size_t i = 0; i < sc->nkeys; i++) {
		if (sc->keys[i].node->key != IMAP_SK_HEADER)
			return false;
		names[n++] = sc->keys[i].node->str;
	}
	if (sc->want_sent)
		names[n++] = "date";
	if (n == 0 || m->headers(m->ctx, names, n, &hdr) != 0) {
		buf_free(&hdr);
		return false;
	}
	mime_hdr_iter_init(&it, hdr.data ? hdr.data : "", hdr.len);
	while (mime_hdr_iter_next(&it, &f))
		scan_field(sc, &f);
	buf_free(&hdr);
	return true;
}

static void scan_free(struct scan *sc)
{
	for (size_t i = 0; i < sc->nkeys; i++)
		buf_free(&sc->keys[i].tail);
	if (sc->cs_open)
		mime_charset_close(&sc->cs, &sc->utf8);
	buf_free(&sc->raw);
	buf_free(&sc->utf8);
	buf_free(&sc->folded);
}

/* ---------------------------------------------------------- evaluate */

static long long day_of(time_t t, int tz)
{
	long long s = (long long)t + tz * 60LL;

	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

static enum tri tri_of(bool b)
{
	return b ? YES : NO;
}

static enum tri compare_day(enum imap_search_key k, long long day, long long want)
{
	switch (k) {
	case IMAP_SK_BEFORE:
	case IMAP_SK_SENTBEFORE: return tri_of(day < want);
	case IMAP_SK_ON:
	case IMAP_SK_SENTON: return tri_of(day == want);
	default: return tri_of(day >= want);
	}
}

struct eval {
	const struct imap_search_env *env;
	const struct imap_search_msg *m;
	const struct scan *sc; /* NULL: content unknown */
};

static enum tri eval_node(const struct eval *e, const struct imap_search_node *n);

static enum tri eval_and(const struct eval *e, const struct imap_search_node *c)
{
	enum tri r = YES;

	for (; c; c = c->next) {
		enum tri x = eval_node(e, c);

		if (x == NO)
			return NO;
		if (x == MAYBE)
			r = MAYBE;
	}
	return r;
}

static bool in_set(const struct eval *e, const struct imap_seqset *set, uint32_t v, bool by_uid)
{
	if (set->saved) {
		/* "$" holds UIDs (RFC 5182). */
		return e->env->saved && imap_seqset_contains(e->env->saved, by_uid ? v : e->m->uid);
	}
	return imap_seqset_contains(set, v);
}

/* Dovecot 2.3 keeps the sent date as 32 unsigned bits, 0 when the Date:
 * header is missing or invalid: such a message was sent on 1-Jan-1970,
 * and one dated before 1970 far in the future (tests/e2e/
 * test_imap_dovecot.py compares). */
static long long sent_day(time_t t, int tz, bool ok)
{
	if (!ok)
		return 0;
	if (t < 0)
		return day_of((time_t)(uint32_t)t, 0);
	return day_of(t, tz);
}

static enum tri eval_sent(const struct eval *e, const struct imap_search_node *n)
{
	const struct imap_search_msg *m = e->m;

	if (m->sent_set)
		return compare_day(n->key, sent_day(m->sent, m->sent_tz, true), n->day);
	if (e->sc == NULL)
		return MAYBE;
	return compare_day(n->key, sent_day(e->sc->sent, e->sc->sent_tz, e->sc->sent_ok), n->day);
}

static enum tri eval_node(const struct eval *e, const struct imap_search_node *n)
{
	const struct imap_search_msg *m = e->m;
	enum tri x;

	switch (n->key) {
	case IMAP_SK_ALL: return YES;
	case IMAP_SK_AND: return eval_and(e, n->child);
	case IMAP_SK_NOT: x = eval_node(e, n->child); return x == MAYBE ? MAYBE : tri_of(x == NO);
	case IMAP_SK_OR:
		x = eval_node(e, n->child);
		if (x == YES)
			return YES;
		enum tri y = eval_node(e, n->child->next);
		if (y == YES)
			return YES;
		return x == NO && y == NO ? NO : MAYBE;
	case IMAP_SK_SEQSET: return tri_of(in_set(e, &n->set, m->seq, false));
	case IMAP_SK_UID: return tri_of(in_set(e, &n->set, m->uid, true));
	case IMAP_SK_FLAG: return tri_of((m->has_flag && m->has_flag(m->ctx, n->str)) != n->negate);
	case IMAP_SK_NEW:
		return tri_of(m->has_flag && m->has_flag(m->ctx, "\\Recent") &&
			      !m->has_flag(m->ctx, "\\Seen"));
	case IMAP_SK_OLD: return tri_of(!(m->has_flag && m->has_flag(m->ctx, "\\Recent")));
	case IMAP_SK_BEFORE:
	case IMAP_SK_ON:
	case IMAP_SK_SINCE:
		return compare_day(n->key, day_of(m->internaldate, m->internal_tz), n->day);
	case IMAP_SK_SENTBEFORE:
	case IMAP_SK_SENTON:
	case IMAP_SK_SENTSINCE: return eval_sent(e, n);
	case IMAP_SK_LARGER: return tri_of(m->size > n->num);
	case IMAP_SK_SMALLER: return tri_of(m->size < n->num);
	case IMAP_SK_MODSEQ: return tri_of(m->modseq >= n->num);
	case IMAP_SK_OLDER:
		return tri_of(
		    (long long)m->internaldate <= (long long)e->env->now - (long long)n->num);
	case IMAP_SK_YOUNGER:
		return tri_of(
		    (long long)m->internaldate >= (long long)e->env->now - (long long)n->num);
	case IMAP_SK_HEADER:
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT: {
		const struct scan_key *k;

		if (e->sc == NULL)
			return MAYBE;
		k = scan_key_of(e->sc, n);
		return tri_of(k && k->matched);
	}
	}
	return NO;
}

bool imap_search_match(
    const struct imap_search *s, const struct imap_search_env *env, const struct imap_search_msg *m)
{
	struct eval e = {env, m, NULL};
	enum tri r = eval_node(&e, s->root);
	struct scan *sc;

	if (r != MAYBE)
		return r == YES;
	sc = xcalloc(1, sizeof(*sc));
	collect_keys(sc, s->root);
	if (!scan_fields(sc, m) && !scan_message(sc, m)) {
		/* Unreadable: no content key matches. */
		for (size_t i = 0; i < sc->nkeys; i++)
			sc->keys[i].matched = false;
	}
	e.sc = sc;
	r = eval_node(&e, s->root);
	scan_free(sc);
	free(sc);
	return r == YES;
}
