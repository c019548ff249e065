/*
 * email.c - Email/get, Thread/get, Thread/changes (RFC 8621 sections 3,
 * 4.2).
 *
 * The header fields come from the message's envelope in its MIME tree,
 * which the index cache keeps (mstore/msg_mime.h, shared with imap);
 * receivedAt is the INTERNALDATE, size the RFC822.SIZE, keywords the
 * IMAP flags and keywords.  bodyStructure, textBody, htmlBody and
 * attachments follow RFC 8621 section 4.1.4's algorithm over the tree;
 * body values and the preview read the part from the file and decode
 * its transfer encoding and charset (lib/mime).  The preview is the
 * first text a reader sees (text/plain, else text/html read as text by
 * mime_html_text), kept in the index cache (field "jmap.preview2").
 *
 * Threads: a message's thread is the CRC-32C of the first Message-ID of
 * its References (else In-Reply-To, else its own Message-ID, else its
 * GUID, which moves keep), kept in
 * the index (mstore_view_set_thread); a reply that quotes its thread's
 * root joins it whatever folder either is in.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "jmap.h"
#include "jmap_int.h"
#include "mime/charset.h"
#include "mime/decode.h"
#include "mime/header.h"
#include "mime/html_text.h"
#include "mime/parser.h"
#include "mime/rfc2047.h"
#include "mstore/msg_mime.h"
#include "util.h"

#define PREVIEW_CHARS 256

bool jmap_locate(struct jcall *c, const char *id, struct jmsg *out)
{
	struct jloc l;

	memset(out, 0, sizeof(*out));
	if (jmap_ids_find(c->folders, id, &l, 1) == 0)
		return false;
	out->f = l.f;
	out->v = l.v;
	out->uid = l.uid;
	out->m = l.m;
	snprintf(out->id, sizeof(out->id), "%s", id);
	return true;
}

/* ------------------------------------------------------- header values */

void jmap_decode_words(const char *raw, struct buf *out)
{
	struct buf tmp = BUF_INIT;

	if (raw == NULL)
		return;
	mime_2047_decode(raw, strlen(raw), &tmp);
	mime_utf8_append_valid(tmp.data ? tmp.data : "", tmp.len, false, out, NULL);
	buf_free(&tmp);
}

json_t *jmap_addresses(const struct mime_addr *a)
{
	json_t *list;

	if (a == NULL)
		return json_null();
	list = json_array();
	for (; a; a = a->next) {
		struct buf name = BUF_INIT;
		char *email;

		if (mime_addr_is_group_start(a) || mime_addr_is_group_end(a))
			continue;
		jmap_decode_words(a->name, &name);
		email = a->host ? xasprintf("%s@%s", a->mailbox ? a->mailbox : "", a->host)
				: xstrdup(a->mailbox ? a->mailbox : "");
		json_array_append_new(list,
		    json_pack("{s:o, s:s}", "name",
			a->name ? json_string(buf_cstr(&name)) : json_null(), "email", email));
		free(email);
		buf_free(&name);
	}
	return list;
}

/* "<a@b> <c@d>" -> ["a@b", "c@d"], or null. */
static json_t *msgids(const char *raw)
{
	json_t *list;
	const char *p = raw;

	if (raw == NULL)
		return json_null();
	list = json_array();
	while ((p = strchr(p, '<')) != NULL) {
		const char *e = strchr(p, '>');

		if (e == NULL)
			break;
		json_array_append_new(list, json_stringn(p + 1, (size_t)(e - p - 1)));
		p = e + 1;
	}
	if (json_array_size(list) == 0) {
		json_decref(list);
		return json_null();
	}
	return list;
}

/* The header section of the message (the first hdr.physical bytes). */
/* Appends up to len bytes of the message from off: the stored file or
 * the parsed blob; false when it cannot be read. */
static bool msg_read(struct jmsg *j, uint64_t off, size_t len, struct buf *out)
{
	ssize_t n;
	int fd;

	buf_reserve(out, len + 1);
	if (j->raw) {
		size_t have = off < j->raw->len ? j->raw->len - (size_t)off : 0;

		if (len > have)
			len = have;
		if (len)
			memcpy(buf_tail(out), j->raw->data + off, len);
		buf_commit(out, len);
		return true;
	}
	if ((fd = mstore_view_open_msg(j->v, j->uid)) < 0)
		return false;
	n = pread(fd, buf_tail(out), len, (off_t)off);
	close(fd);
	if (n < 0)
		return false;
	buf_commit(out, (size_t)n);
	return true;
}

static bool read_header(struct jmsg *j, const struct mime_part *root, struct buf *out)
{
	size_t len = (size_t)root->hdr.physical;

	return msg_read(j, root->hdr_offset, len > 1024 * 1024 ? 1024 * 1024 : len, out);
}

static uint32_t jmap_thread_of_index(struct mstore_view *v, uint32_t uid);

/* The index forgets an expunged message, Thread/changes still needs its
 * thread: ids.c remembers it (a bounded number). */
uint32_t jmap_thread_of(struct mstore_view *v, uint32_t uid)
{
	uint32_t t = jmap_thread_of_index(v, uid);

	if (t)
		jmap_ids_set_thread(mstore_view_uidvalidity(v), uid, t);
	return t;
}

static uint32_t jmap_thread_of_index(struct mstore_view *v, uint32_t uid)
{
	uint32_t t = mstore_view_thread(v, uid);
	struct mime_part *root;
	struct buf hdr = BUF_INIT, val = BUF_INIT;
	struct jmsg j = {.v = v, .uid = uid};
	const char *src = NULL;
	json_t *ids;

	if (t != 0 || (root = mstore_msg_mime(v, uid)) == NULL)
		return t;
	if (read_header(&j, root, &hdr) && mime_hdr_find(hdr.data, hdr.len, "References", &val))
		src = buf_cstr(&val);
	if (src == NULL && root->envelope)
		src = root->envelope->in_reply_to ? root->envelope->in_reply_to
						  : root->envelope->message_id;
	ids = msgids(src);
	if (json_array_size(ids) > 0) {
		const char *first = json_string_value(json_array_get(ids, 0));

		t = crc32c(0, first, strlen(first));
	} else { /* the message GUID: the same in every folder */
		struct buf g = BUF_INIT;

		mstore_view_guid(v, uid, &g);
		t = crc32c(0, g.data ? g.data : "", g.len);
		buf_free(&g);
	}
	if (t == 0)
		t = 1;
	json_decref(ids);
	mstore_view_set_thread(v, uid, t);
	mime_part_free(root);
	buf_free(&hdr);
	buf_free(&val);
	return t;
}

/* -------------------------------------------------------------- bodies */

/* The decoded, UTF-8 text of a leaf part. */
void jmap_part_text(struct jmsg *j, const struct mime_part *p, struct buf *out, size_t max)
{
	size_t len = (size_t)p->body.physical;
	struct buf raw = BUF_INIT, dec = BUF_INIT;
	struct mime_decoder d;
	const char *cs = mime_params_get(&p->params, "charset");

	if (len > 16 * 1024 * 1024)
		len = 16 * 1024 * 1024;
	if (!msg_read(j, mime_part_body_offset(p), len, &raw)) {
		buf_free(&raw);
		return;
	}
	mime_decoder_init(&d, mime_cte_from_name(p->encoding));
	mime_decoder_feed(&d, raw.data ? raw.data : "", raw.len, &dec);
	mime_decoder_finish(&d, &dec);
	if (cs == NULL || !mime_charset_to_utf8(cs, dec.data ? dec.data : "", dec.len, out))
		mime_utf8_append_valid(dec.data ? dec.data : "", dec.len, false, out, NULL);
	if (max && out->len > max) { /* cut at a character boundary */
		size_t k = max;

		while (k > 0 && ((unsigned char)out->data[k] & 0xc0) == 0x80)
			k--;
		buf_truncate(out, k);
	}
	buf_free(&raw);
	buf_free(&dec);
}

static void section_of(const struct mime_part *p, const struct mime_part *root, struct buf *out)
{
	unsigned nums[64];
	int n = 0;

	/* a message root inside a message/rfc822 part shares its number */
	for (const struct mime_part *q = p; q && q != root && n < 64; q = q->parent) {
		const struct mime_part *par = q->parent;
		unsigned k = 1;

		if (par == NULL)
			break;
		if (par->flags & MIME_PART_MESSAGE_RFC822)
			continue;
		for (const struct mime_part *s = par->children; s && s != q; s = s->next)
			k++;
		nums[n++] = k;
	}
	if (n == 0) {
		buf_puts(out, "1");
		return;
	}
	for (int i = n - 1; i >= 0; i--)
		buf_printf(out, "%s%u", i == n - 1 ? "" : ".", nums[i]);
}

static char *part_name(const struct mime_part *p)
{
	struct buf b = BUF_INIT;

	if (mime_param_utf8(&p->disp_params, "filename", &b) ||
	    mime_param_utf8(&p->params, "name", &b)) {
		char *s = xstrdup(buf_cstr(&b));

		buf_free(&b);
		return s;
	}
	buf_free(&b);
	return NULL;
}

static json_t *part_json(
    struct jmsg *j, const struct mime_part *p, const struct mime_part *root, bool tree)
{
	struct buf sec = BUF_INIT, blob = BUF_INIT;
	char *type = xasprintf("%s/%s", p->type, p->subtype), *name = part_name(p);
	const char *cs = mime_params_get(&p->params, "charset");
	json_t *o;

	str_lower(type);
	section_of(p, root, &sec);
	if (j->raw == NULL) {
		buf_printf(&blob, "P%s-", j->id + 1);
		for (const char *s = buf_cstr(&sec); *s; s++)
			buf_putc(&blob, *s == '.' ? '_' : *s);
	}
	o = json_pack("{s:s, s:o, s:I, s:s, s:o, s:o, s:o, s:o, s:o}", "partId", buf_cstr(&sec),
	    "blobId",
	    (p->flags & MIME_PART_MULTIPART) || j->raw ? json_null() : json_string(buf_cstr(&blob)),
	    "size", (json_int_t)p->body.physical, "type", type, "name",
	    name ? json_string(name) : json_null(), "charset",
	    cs ? json_string(cs)
	       : ((p->flags & MIME_PART_TEXT) ? json_string("us-ascii") : json_null()),
	    "disposition", p->disposition ? json_string(p->disposition) : json_null(), "cid",
	    p->id ? json_string(p->id) : json_null(), "location",
	    p->location ? json_string(p->location) : json_null());
	if (p->flags & MIME_PART_MULTIPART) {
		json_object_set_new(o, "partId", json_null());
		if (tree) {
			json_t *subs = json_array();

			for (const struct mime_part *s = p->children; s; s = s->next)
				json_array_append_new(subs, part_json(j, s, root, true));
			json_object_set_new(o, "subParts", subs);
		}
	}
	free(type);
	free(name);
	buf_free(&sec);
	buf_free(&blob);
	return o;
}

/* The leaf under a message root (single-part), or a multipart: its body. */
static const struct mime_part *body_of(const struct mime_part *root)
{
	return root->children && (root->flags & MIME_PART_MESSAGE_ROOT) &&
		       !(root->flags & MIME_PART_MULTIPART) &&
		       !(root->flags & MIME_PART_MESSAGE_RFC822)
		   ? root->children
		   : root;
}

static bool is_inline_media(const struct mime_part *p)
{
	return strcasecmp(p->type, "image") == 0 || strcasecmp(p->type, "audio") == 0 ||
	       strcasecmp(p->type, "video") == 0;
}

/* RFC 8621 section 4.1.4, parseStructure. */
static void parse_structure(const struct mime_part **parts, size_t n, const char *multi_type,
    bool in_alternative, struct mime_part const ***text, size_t *ntext,
    struct mime_part const ***html, size_t *nhtml, struct mime_part const ***att, size_t *natt)
{
	size_t text_len = *ntext, html_len = *nhtml;

	for (size_t i = 0; i < n; i++) {
		const struct mime_part *p = parts[i];
		bool is_multi = (p->flags & MIME_PART_MULTIPART) != 0;
		bool is_inline =
		    (p->disposition == NULL || strcasecmp(p->disposition, "attachment") != 0) &&
		    (mime_part_is(p, "text", "plain") || mime_part_is(p, "text", "html") ||
			is_inline_media(p)) &&
		    (i == 0 || (strcmp(multi_type, "related") != 0 &&
				   (is_inline_media(p) || part_name(p) == NULL)));

		if (is_multi) {
			const struct mime_part *kids[256];
			size_t k = 0;

			for (const struct mime_part *s = p->children; s && k < 256; s = s->next)
				kids[k++] = s;
			parse_structure(kids, k, p->subtype,
			    in_alternative || strcasecmp(p->subtype, "alternative") == 0, text,
			    ntext, html, nhtml, att, natt);
		} else if (is_inline) {
			if (strcmp(multi_type, "alternative") == 0) {
				if (mime_part_is(p, "text", "plain"))
					(*text)[(*ntext)++] = p;
				else if (mime_part_is(p, "text", "html"))
					(*html)[(*nhtml)++] = p;
				else
					(*att)[(*natt)++] = p;
				continue;
			} else if (in_alternative) {
				if (mime_part_is(p, "text", "plain"))
					(*html)[(*nhtml)++] = p; /* no html alternative */
				if (mime_part_is(p, "text", "html"))
					(*text)[(*ntext)++] = p;
			} else {
				(*text)[(*ntext)++] = p;
				(*html)[(*nhtml)++] = p;
			}
			if (is_inline_media(p))
				(*att)[(*natt)++] = p;
		} else {
			(*att)[(*natt)++] = p;
		}
		if (*ntext >= 254 || *nhtml >= 254 || *natt >= 254)
			break;
	}
	if (strcmp(multi_type, "alternative") == 0) {
		if (*ntext == text_len && *nhtml > html_len)
			for (size_t i = html_len; i < *nhtml && *ntext < 254; i++)
				(*text)[(*ntext)++] = (*html)[i];
		if (*nhtml == html_len && *ntext > text_len)
			for (size_t i = text_len; i < *ntext && *nhtml < 254; i++)
				(*html)[(*nhtml)++] = (*text)[i];
	}
}

struct body_lists {
	const struct mime_part *text[256], *html[256], *att[256];
	size_t ntext, nhtml, natt;
};

static void body_lists(const struct mime_part *root, struct body_lists *b)
{
	const struct mime_part *top = body_of(root);
	const struct mime_part **t = b->text, **h = b->html, **a = b->att;

	b->ntext = b->nhtml = b->natt = 0;
	parse_structure(&top, 1, "mixed", false, &t, &b->ntext, &h, &b->nhtml, &a, &b->natt);
}

/* The text a reader sees first: the first text/plain or text/html part
 * of textBody (else of htmlBody), HTML read as text (mime_html_text). */
static void reader_text(struct jmsg *j, const struct body_lists *b, struct buf *out, size_t max)
{
	const struct mime_part *p = NULL;

	for (size_t i = 0; i < b->ntext && !p; i++)
		if (mime_part_is(b->text[i], "text", "plain") ||
		    mime_part_is(b->text[i], "text", "html"))
			p = b->text[i];
	for (size_t i = 0; i < b->nhtml && !p; i++)
		if (mime_part_is(b->html[i], "text", "html"))
			p = b->html[i];
	if (p == NULL) {
		return;
	} else if (mime_part_is(p, "text", "plain")) {
		jmap_part_text(j, p, out, max);
	} else {
		struct buf html = BUF_INIT;

		/* markup takes room: read more of it than the text wanted */
		jmap_part_text(j, p, &html, max ? max * 4 : 0);
		mime_html_text(html.data ? html.data : "", html.len, out);
		if (max && out->len > max) { /* between characters */
			size_t cut = max;

			while (cut > 0 && ((unsigned char)out->data[cut] & 0xc0) == 0x80)
				cut--;
			buf_truncate(out, cut);
		}
		buf_free(&html);
	}
}

/* The preview (RFC 8621 4.1.4): the reader's text, white space folded,
 * PREVIEW_CHARS characters; kept in the index cache.  The field was
 * "jmap.preview" when only text/plain parts were read: HTML-only
 * messages had empty previews kept there. */
static void preview_of(struct jmsg *j, const struct body_lists *b, struct buf *out)
{
	int field = j->raw ? -1 : mstore_cache_field(j->v, "jmap.preview2", 1);
	const void *data;
	size_t len;
	struct buf text = BUF_INIT;
	bool space = false;

	if (field >= 0 && mstore_cache_get(j->v, j->uid, field, &data, &len)) {
		buf_append(out, data, len);
		return;
	}
	reader_text(j, b, &text, 4096);
	for (size_t i = 0, chars = 0; i < text.len && chars < PREVIEW_CHARS; i++) {
		unsigned char ch = (unsigned char)text.data[i];

		if (isspace(ch)) {
			space = out->len > 0;
			continue;
		}
		if (space)
			buf_putc(out, ' ');
		space = false;
		buf_putc(out, (char)ch);
		if ((ch & 0xc0) != 0x80)
			chars++;
	}
	while (out->len && ((unsigned char)out->data[out->len - 1] & 0xc0) == 0x80)
		buf_truncate(out, out->len - 1);
	if (field >= 0)
		mstore_cache_put(j->v, j->uid, field, out->data ? out->data : "", out->len);
	buf_free(&text);
}

void jmap_body_text(struct jmsg *j, const struct mime_part *root, struct buf *out, size_t max)
{
	struct body_lists *b = xcalloc(1, sizeof(*b));

	body_lists(root, b);
	reader_text(j, b, out, max);
	free(b);
}

static json_t *part_list(
    struct jmsg *j, const struct mime_part *root, const struct mime_part **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, part_json(j, v[i], root, false));
	return a;
}

static void body_value(struct jmsg *j, json_t *values, const struct mime_part *p,
    const struct mime_part *root, size_t max)
{
	struct buf sec = BUF_INIT, text = BUF_INIT;
	size_t full;

	section_of(p, root, &sec);
	if (!json_object_get(values, buf_cstr(&sec))) {
		jmap_part_text(j, p, &text, 0);
		full = text.len;
		if (max && text.len > max)
			jmap_part_text(j, p, (buf_reset(&text), &text), max);
		json_object_set_new(values, buf_cstr(&sec),
		    json_pack("{s:s%, s:b, s:b}", "value", text.data ? text.data : "", text.len,
			"isEncodingProblem", 0, "isTruncated", text.len < full));
	}
	buf_free(&sec);
	buf_free(&text);
}

static const char *const default_props[] = {"id", "blobId", "threadId", "mailboxIds", "keywords",
    "size", "receivedAt", "messageId", "inReplyTo", "references", "sender", "from", "to", "cc",
    "bcc", "replyTo", "subject", "sentAt", "hasAttachment", "preview", "bodyValues", "textBody",
    "htmlBody", "attachments", NULL};

static bool want(json_t *props, const char *name)
{
	size_t i;
	json_t *p;

	if (props == NULL) {
		for (int k = 0; default_props[k]; k++)
			if (strcmp(default_props[k], name) == 0)
				return true;
		return false;
	}
	json_array_foreach(props, i, p) if (strcmp(json_string_value(p), name) == 0) return true;
	return false;
}

static json_t *email_json(struct jcall *c, struct jmsg *j, json_t *props)
{
	json_t *o = j->raw ? json_object() : json_pack("{s:s}", "id", j->id);
	struct mime_part *root = NULL;
	const struct mime_envelope *env = NULL;
	struct body_lists *b = NULL;
	bool need_tree = false;
	static const char *const tree_props[] = {"messageId", "inReplyTo", "references", "sender",
	    "from", "to", "cc", "bcc", "replyTo", "subject", "sentAt", "hasAttachment", "preview",
	    "bodyValues", "textBody", "htmlBody", "attachments", "bodyStructure", NULL};
	char buf[64];

	for (int k = 0; tree_props[k]; k++)
		need_tree |= want(props, tree_props[k]);
	if (need_tree && (root = j->raw ? j->tree : mstore_msg_mime(j->v, j->uid)) != NULL) {
		env = root->envelope;
		b = xcalloc(1, sizeof(*b));
		body_lists(root, b);
	}
	if (j->raw) { /* Email/parse: what only a stored message has is null */
		static const char *const stored[] = {
		    "id", "threadId", "mailboxIds", "keywords", "receivedAt", NULL};

		for (int k = 0; stored[k]; k++)
			if (want(props, stored[k]))
				json_object_set_new(o, stored[k], json_null());
		if (want(props, "blobId"))
			json_object_set_new(o, "blobId", json_string(j->id));
		if (want(props, "size"))
			json_object_set_new(o, "size", json_integer((json_int_t)j->raw->len));
	} else if (want(props, "blobId")) {
		snprintf(buf, sizeof(buf), "M%.24s", j->id + 1);
		json_object_set_new(o, "blobId", json_string(buf));
	}
	if (j->raw) {
		/* nothing of the store */
	} else if (want(props, "threadId")) {
		snprintf(buf, sizeof(buf), "t%08x", jmap_thread_of(j->v, j->uid));
		json_object_set_new(o, "threadId", json_string(buf));
	}
	if (!j->raw && want(props, "mailboxIds")) {
		struct jloc at[64];
		size_t n = jmap_ids_find(c->folders, j->id, at, 64);
		json_t *mb = json_object();

		for (size_t k = 0; k < n; k++)
			json_object_set_new(mb, at[k].f->id, json_true());
		if (n == 0)
			json_object_set_new(mb, j->f->id, json_true());
		json_object_set_new(o, "mailboxIds", mb);
	}
	if (!j->raw && want(props, "keywords"))
		json_object_set_new(o, "keywords", jmap_keywords(j->v, &j->m));
	if (!j->raw && want(props, "size")) {
		uint64_t size = 0, vsize = 0;

		mstore_view_sizes(j->v, j->uid, &size, &vsize);
		json_object_set_new(o, "size", json_integer((json_int_t)vsize));
	}
	if (!j->raw && want(props, "receivedAt")) {
		time_t internal = 0, saved;

		mstore_view_dates(j->v, j->uid, &internal, &saved);
		json_object_set_new(o, "receivedAt", jmap_utc_date(internal));
	}
	if (root) {
		struct buf s = BUF_INIT;

		if (want(props, "subject")) {
			jmap_decode_words(env ? env->subject : NULL, &s);
			json_object_set_new(o, "subject",
			    env && env->subject ? json_string(buf_cstr(&s)) : json_null());
		}
		if (want(props, "from"))
			json_object_set_new(o, "from", jmap_addresses(env ? env->from : NULL));
		if (want(props, "to"))
			json_object_set_new(o, "to", jmap_addresses(env ? env->to : NULL));
		if (want(props, "cc"))
			json_object_set_new(o, "cc", jmap_addresses(env ? env->cc : NULL));
		if (want(props, "bcc"))
			json_object_set_new(o, "bcc", jmap_addresses(env ? env->bcc : NULL));
		if (want(props, "replyTo"))
			json_object_set_new(
			    o, "replyTo", jmap_addresses(env ? env->reply_to : NULL));
		if (want(props, "sender"))
			json_object_set_new(o, "sender", jmap_addresses(env ? env->sender : NULL));
		if (want(props, "messageId"))
			json_object_set_new(o, "messageId", msgids(env ? env->message_id : NULL));
		if (want(props, "inReplyTo"))
			json_object_set_new(o, "inReplyTo", msgids(env ? env->in_reply_to : NULL));
		if (want(props, "references")) {
			struct buf hdr = BUF_INIT, val = BUF_INIT;

			json_object_set_new(o, "references",
			    read_header(j, root, &hdr) &&
				    mime_hdr_find(hdr.data, hdr.len, "References", &val)
				? msgids(buf_cstr(&val))
				: json_null());
			buf_free(&hdr);
			buf_free(&val);
		}
		if (want(props, "sentAt")) {
			time_t t;
			int tz;

			json_object_set_new(o, "sentAt",
			    env && env->date &&
				    mime_date_parse(env->date, strlen(env->date), &t, &tz)
				? jmap_local_date(t, tz)
				: json_null());
		}
		if (want(props, "hasAttachment"))
			json_object_set_new(o, "hasAttachment", json_boolean(b->natt > 0));
		if (want(props, "preview")) {
			buf_reset(&s);
			preview_of(j, b, &s);
			json_object_set_new(
			    o, "preview", json_stringn(s.data ? s.data : "", s.len));
		}
		if (want(props, "bodyStructure"))
			json_object_set_new(
			    o, "bodyStructure", part_json(j, body_of(root), root, true));
		if (want(props, "textBody"))
			json_object_set_new(o, "textBody", part_list(j, root, b->text, b->ntext));
		if (want(props, "htmlBody"))
			json_object_set_new(o, "htmlBody", part_list(j, root, b->html, b->nhtml));
		if (want(props, "attachments"))
			json_object_set_new(o, "attachments", part_list(j, root, b->att, b->natt));
		if (want(props, "bodyValues")) {
			json_t *values = json_object();
			json_t *mx = json_object_get(c->args, "maxBodyValueBytes");
			size_t max = json_is_integer(mx) ? (size_t)json_integer_value(mx) : 0;
			bool all = json_is_true(json_object_get(c->args, "fetchAllBodyValues"));

			if (all || json_is_true(json_object_get(c->args, "fetchTextBodyValues")))
				for (size_t i = 0; i < b->ntext; i++)
					if (b->text[i]->flags & MIME_PART_TEXT)
						body_value(j, values, b->text[i], root, max);
			if (all || json_is_true(json_object_get(c->args, "fetchHTMLBodyValues")))
				for (size_t i = 0; i < b->nhtml; i++)
					if (b->html[i]->flags & MIME_PART_TEXT)
						body_value(j, values, b->html[i], root, max);
			json_object_set_new(o, "bodyValues", values);
		}
		buf_free(&s);
	}
	free(b);
	if (!j->raw)
		mime_part_free(root);
	return o;
}

/* Email/parse (RFC 8621 section 4.9): blobs (an upload, a message, an
 * attached message) read as messages, with Email/get's properties; what
 * only a stored message has (id, threadId, mailboxIds, keywords,
 * receivedAt) is null, and so are the parts' blobIds. */
void jmap_email_parse(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"blobIds", JA_IDS, true}, {"properties", JA_ARRAY_OR_NULL, false},
	    {"bodyProperties", JA_ARRAY_OR_NULL, false}, {"fetchTextBodyValues", JA_BOOL, false},
	    {"fetchHTMLBodyValues", JA_BOOL, false}, {"fetchAllBodyValues", JA_BOOL, false},
	    {"maxBodyValueBytes", JA_UINT, false}, {NULL, 0, 0}};
	static const char *const parse_props[] = {"messageId", "inReplyTo", "references", "sender",
	    "from", "to", "cc", "bcc", "replyTo", "subject", "sentAt", "hasAttachment", "preview",
	    "bodyValues", "textBody", "htmlBody", "attachments", NULL};
	json_t *ids, *id, *props, *parsed, *nf, *np;
	size_t i;

	if (!jmap_args(c, spec))
		return;
	ids = json_object_get(c->args, "blobIds");
	if (json_array_size(ids) > (size_t)jm.max_get) {
		jmap_error(c, "requestTooLarge", NULL);
		return;
	}
	props = json_object_get(c->args, "properties");
	if (!json_is_array(props)) {
		props = json_array();
		for (int k = 0; parse_props[k]; k++)
			json_array_append_new(props, json_string(parse_props[k]));
	} else {
		json_incref(props);
	}
	parsed = json_object();
	nf = json_array();
	np = json_array();
	json_array_foreach(ids, i, id)
	{
		struct buf data = BUF_INIT, type = BUF_INIT;
		struct jmsg j = {.raw = &data};
		struct mime_parser *p;

		if (!jmap_blob_read(json_string_value(id), &data, &type)) {
			json_array_append(nf, id);
		} else {
			p = mime_parser_new(NULL, NULL, NULL);
			mime_parser_feed(p, data.data ? data.data : "", data.len);
			j.tree = mime_parser_finish(p);
			if (j.tree == NULL || j.tree->hdr.physical == 0 ||
			    memchr(data.data, ':', (size_t)j.tree->hdr.physical) == NULL) {
				json_array_append(np, id);
			} else {
				snprintf(j.id, sizeof(j.id), "%s", json_string_value(id));
				json_object_set_new(
				    parsed, json_string_value(id), email_json(c, &j, props));
			}
			mime_part_free(j.tree);
		}
		buf_free(&data);
		buf_free(&type);
	}
	json_decref(props);
	jmap_reply(c, "Email/parse",
	    json_pack("{s:s, s:o, s:o, s:o}", "accountId", jm.account, "parsed", parsed, "notFound",
		nf, "notParsable", np));
}

void jmap_email_get(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ids", JA_IDS_OR_NULL, false}, {"properties", JA_ARRAY_OR_NULL, false},
	    {"bodyProperties", JA_ARRAY_OR_NULL, false}, {"fetchTextBodyValues", JA_BOOL, false},
	    {"fetchHTMLBodyValues", JA_BOOL, false}, {"fetchAllBodyValues", JA_BOOL, false},
	    {"maxBodyValueBytes", JA_UINT, false}, {NULL, 0, 0}};
	json_t *ids, *props, *list, *nf, *id;
	size_t i;

	if (!jmap_args(c, spec))
		return;
	ids = json_object_get(c->args, "ids");
	props = json_object_get(c->args, "properties");
	if (json_is_null(props))
		props = NULL;
	json_array_foreach(props, i, id) if (!json_is_string(id))
	{
		jmap_error(c, "invalidArguments", "properties");
		return;
	}
	if (ids == NULL || json_is_null(ids)) {
		jmap_error(c, "requestTooLarge", "ids is required (too many emails)");
		return;
	}
	if (json_array_size(ids) > (size_t)jm.max_get) {
		jmap_error(c, "requestTooLarge", NULL);
		return;
	}
	list = json_array();
	nf = json_array();
	json_array_foreach(ids, i, id)
	{
		struct jmsg j;

		if (jmap_locate(c, jmap_created_id(c, json_string_value(id)), &j))
			json_array_append_new(list, email_json(c, &j, props));
		else
			json_array_append(nf, id);
	}
	jmap_reply_get(c, "Email/get", NULL, list, nf);
}

/* ------------------------------------------------------------- threads */

struct tmember {
	char id[JMAP_EID_LEN];
	time_t received;
};

static int by_received(const void *a, const void *b)
{
	const struct tmember *x = a, *y = b;

	return x->received < y->received ? -1 : x->received > y->received;
}

/* The thread a Thread id names (0: none) */
static uint32_t thread_id_parse(const char *s)
{
	unsigned long t;
	char *e;

	if (s == NULL || s[0] != 't' || strlen(s) != 9)
		return 0;
	t = strtoul(s + 1, &e, 16);
	return *e == 0 && t <= UINT32_MAX ? (uint32_t)t : 0;
}

struct tmembers {
	struct tmember *m;
	size_t n, cap;
};

/* One pass over every message: the members of each wanted thread
 * (want maps a thread to its slot in mem), oldest first. */
static void thread_members(
    struct jcall *c, const struct jmap_tmap *want, struct tmembers *mem, size_t nmem)
{
	for (size_t f = 0; f < c->folders->n; f++) {
		struct mstore_view *v = jmap_view(c->folders->v[f].name);
		uint32_t count = v ? mstore_view_count(v) : 0;

		for (uint32_t seq = 1; seq <= count; seq++) {
			uint32_t uid = mstore_view_uid(v, seq);
			struct tmembers *t;
			time_t saved;
			size_t k;

			if (!jmap_tmap_get(want, jmap_thread_of(v, uid), &k))
				continue;
			t = &mem[k];
			if (t->n == t->cap)
				t->m = xreallocarray(
				    t->m, t->cap = t->cap ? t->cap * 2 : 8, sizeof(*t->m));
			jmap_email_id(t->m[t->n].id, v, uid);
			mstore_view_dates(v, uid, &t->m[t->n].received, &saved);
			t->n++;
		}
	}
	for (size_t k = 0; k < nmem; k++)
		if (mem[k].n > 1)
			qsort(mem[k].m, mem[k].n, sizeof(*mem[k].m), by_received);
}

/* Every message is visited once for all the ids asked, not once each. */
void jmap_thread_get(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ids", JA_IDS_OR_NULL, false}, {"properties", JA_ARRAY_OR_NULL, false}, {NULL, 0, 0}};
	json_t *ids, *list, *nf, *id;
	struct jmap_tmap want;
	struct tmembers *mem;
	size_t i, nids;

	if (!jmap_args(c, spec))
		return;
	ids = json_object_get(c->args, "ids");
	if (!json_is_array(ids) || json_array_size(ids) > (size_t)jm.max_get) {
		jmap_error(c, "requestTooLarge", "ids is required");
		return;
	}
	nids = json_array_size(ids);
	jmap_tmap_init(&want, nids);
	mem = xcalloc(nids ? nids : 1, sizeof(*mem));
	json_array_foreach(ids, i, id) /* an id asked twice: its first slot */
	    jmap_tmap_add(&want, thread_id_parse(json_string_value(id)), i);
	if (want.n > 0)
		thread_members(c, &want, mem, nids);
	list = json_array();
	nf = json_array();
	json_array_foreach(ids, i, id)
	{
		size_t k;
		json_t *eids, *seen;

		if (!jmap_tmap_get(&want, thread_id_parse(json_string_value(id)), &k) ||
		    mem[k].n == 0) {
			json_array_append(nf, id);
			continue;
		}
		eids = json_array();
		seen = json_object();
		for (size_t m = 0; m < mem[k].n; m++) /* copies: one Email */
			if (json_object_get(seen, mem[k].m[m].id) == NULL) {
				json_object_set_new(seen, mem[k].m[m].id, json_true());
				json_array_append_new(eids, json_string(mem[k].m[m].id));
			}
		json_decref(seen);
		json_array_append_new(
		    list, json_pack("{s:s, s:o}", "id", json_string_value(id), "emailIds", eids));
	}
	for (size_t k = 0; k < nids; k++)
		free(mem[k].m);
	free(mem);
	jmap_tmap_free(&want);
	jmap_reply_get(c, "Thread/get", NULL, list, nf);
}

/* The thread of an Email id: computed for a message that exists, as
 * this process saw it for one expunged (0 when it never saw it). */
static uint32_t thread_of_id(struct jcall *c, const char *id, bool gone)
{
	struct jmsg j;

	if (!gone && jmap_locate(c, id, &j))
		return jmap_thread_of(j.v, j.uid);
	return jmap_ids_thread(id);
}

/* Thread/changes from Email/changes: the threads of created and updated
 * Emails, and of destroyed ones as this process saw their
 * thread (else cannotCalculateChanges: the jmap process restarted since
 * it last saw that message); then one pass over the messages
 * tells which of those threads still have members (else destroyed) and
 * which have only new ones and lost none (created). */
void jmap_thread_changes(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"sinceState", JA_STRING, true}, {"maxChanges", JA_UINT_OR_NULL, false}, {NULL, 0, 0}};
	struct jmap_changes ch;
	/* thread id -> [members now, all new, lost one] */
	json_t *touched = json_object(), *fresh = json_object(), *id, *t;
	json_t *cr = json_array(), *up = json_array(), *de = json_array(), *max;
	const char *key;
	size_t i;
	char tid[16];
	char *state;

	if (!jmap_args(c, spec) ||
	    jmap_changes_since(c, json_string_value(json_object_get(c->args, "sinceState")), &ch) <
		0)
		goto out;
	json_array_foreach(ch.created, i, id)
	    json_object_set_new(fresh, json_string_value(id), json_true());
	for (int which = 0; which < 3; which++) {
		json_t *list = which == 0 ? ch.created : which == 1 ? ch.updated : ch.destroyed;

		json_array_foreach(list, i, id)
		{
			uint32_t th = thread_of_id(c, json_string_value(id), which == 2);

			if (th == 0) {
				jmap_changes_free(&ch);
				jmap_error(c, "cannotCalculateChanges",
				    "the thread of a removed message is no longer known");
				goto out;
			}
			snprintf(tid, sizeof(tid), "t%08x", th);
			if ((t = json_object_get(touched, tid)) == NULL)
				json_object_set_new(
				    touched, tid, t = json_pack("[i, b, b]", 0, 1, 0));
			if (which == 2)
				json_array_set_new(t, 2, json_true());
		}
	}
	jmap_changes_free(&ch);
	if (json_object_size(touched))
		for (size_t f = 0; f < c->folders->n; f++) {
			struct mstore_view *v = jmap_view(c->folders->v[f].name);
			uint32_t count = v ? mstore_view_count(v) : 0;

			for (uint32_t seq = 1; seq <= count; seq++) {
				uint32_t uid = mstore_view_uid(v, seq);
				char eid[JMAP_EID_LEN];

				snprintf(tid, sizeof(tid), "t%08x", jmap_thread_of(v, uid));
				if ((t = json_object_get(touched, tid)) == NULL)
					continue;
				json_array_set_new(t, 0,
				    json_integer(json_integer_value(json_array_get(t, 0)) + 1));
				jmap_email_id(eid, v, uid);
				if (json_object_get(fresh, eid) == NULL)
					json_array_set_new(t, 1, json_false());
			}
		}
	json_object_foreach(touched, key, t)
	{
		if (json_integer_value(json_array_get(t, 0)) == 0)
			json_array_append_new(de, json_string(key));
		else if (json_is_true(json_array_get(t, 1)) && !json_is_true(json_array_get(t, 2)))
			json_array_append_new(cr, json_string(key));
		else
			json_array_append_new(up, json_string(key));
	}
	max = json_object_get(c->args, "maxChanges");
	if (json_is_integer(max) && json_integer_value(max) > 0 &&
	    json_object_size(touched) > (size_t)json_integer_value(max)) {
		jmap_error(c, "cannotCalculateChanges", "more changes than maxChanges");
		goto out;
	}
	state = jmap_state(c->folders);
	jmap_reply(c, "Thread/changes",
	    json_pack("{s:s, s:O, s:s, s:b, s:O, s:O, s:O}", "accountId", jm.account, "oldState",
		json_object_get(c->args, "sinceState"), "newState", state, "hasMoreChanges", 0,
		"created", cr, "updated", up, "destroyed", de));
	free(state);
out:
	json_decref(touched);
	json_decref(fresh);
	json_decref(cr);
	json_decref(up);
	json_decref(de);
}
