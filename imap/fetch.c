/*
 * fetch.c - FETCH and UID FETCH (RFC 9051 6.4.5, BINARY of RFC 3516,
 * CHANGEDSINCE and VANISHED of RFC 7162).
 *
 * Per message: flags, UID and modseq come from the view; sizes and the
 * internal date from the index; ENVELOPE, BODY and BODYSTRUCTURE from
 * the message's MIME tree, which the cache keeps (field "imap.mime", a
 * mime/blob.h tree) so that a message is parsed once, by its first
 * reader.  Body sections are byte ranges of the file: they are streamed
 * with bare LFs turned into CRLF (what RFC822.SIZE counts), partials cut
 * on the way, BINARY decoded on the way (its size, which the literal
 * needs first, by one decoding pass that only counts).  HEADER.FIELDS
 * reads the header section into memory (bounded by
 * FETCH_MAX_HEADER).
 *
 * The command is resumable: when the output buffer is over
 * IMAP_OUT_HIGH it returns, and client.c calls fetch_cont() again when
 * the buffer drained; so a 50 MiB BODY[] costs one read chunk and the
 * output buffer, whatever the message or folder size.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "imap.h"
#include "log.h"
#include "mime/blob.h"
#include "mstore/msg_hdr.h"
#include "mstore/msg_mime.h"
#include "mime/decode.h"
#include "mime/header.h"
#include "mime/parser.h"
#include "util.h"
#include "write.h"

#define CHUNK 65536
#define FETCH_MAX_HEADER (8 * 1024 * 1024)

/* A byte range of the file as the client sees it. */
struct body_stream {
	int fd;
	uint64_t pos, end; /* physical */
	uint64_t skip;	   /* virtual bytes to drop (partial offset) */
	uint64_t left;	   /* bytes still to send */
	bool prev_cr;
	bool binary;
	struct mime_decoder dec;
	bool dec_done;
	bool counting; /* only the size is wanted: no padding */
};

struct fetch_ctx {
	struct imap_fetch f;
	bool uidcmd;
	uint32_t *uids;
	size_t n, i;
	uint32_t *seen_set; /* UIDs this FETCH set \Seen on (ascending) */
	size_t nseen;
	size_t item;	/* 0: start of a message, 1..nbodies: body item-1, then close */
	bool streaming; /* bs is being sent */
	struct body_stream bs;
	int fd;
	struct mime_part *tree;
	struct mstore_msg m;
	bool expunged_seen;
	struct mstore_hdrs **hdrs; /* per body item: HEADER.FIELDS from the cache */
};

uint32_t *imap_set_uids(struct imap_client *c, struct imap_seqset *set, bool uid, size_t *n)
{
	uint32_t count = mstore_view_count(c->view), *out = NULL;
	size_t k = 0, cap = 0;

	*n = 0;
	if (set->saved) {
		if (!c->saved_valid)
			return NULL;
		set = &c->saved;
		uid = true;
	} else {
		uint32_t max = count;

		if (uid)
			max = count ? mstore_view_uid(c->view, count) : 0;
		imap_seqset_resolve(set, max);
	}
	if (uid) {
		/* One pass over the view (its UIDs ascend), a binary search each. */
		for (uint32_t s = 1; s <= count; s++) {
			uint32_t u = mstore_view_uid(c->view, s);

			if (!imap_seqset_contains(set, u))
				continue;
			if (k == cap)
				out = xreallocarray(out, cap = cap ? cap * 2 : 64, sizeof(*out));
			out[k++] = u;
		}
		*n = k;
		return out;
	}
	for (size_t r = 0; r < set->n; r++) {
		uint32_t lo = set->v[r].lo, hi = set->v[r].hi;

		for (uint32_t s = lo; s <= hi && s <= count && s != 0; s++) {
			if (k == cap)
				out = xreallocarray(out, cap = cap ? cap * 2 : 64, sizeof(*out));
			out[k++] = mstore_view_uid(c->view, s);
		}
	}
	*n = k;
	return out;
}

/* ---- the MIME tree of a message ---- */

struct mime_part *imap_msg_mime(struct imap_client *c, uint32_t uid)
{
	return mstore_msg_mime(c->view, uid);
}

/* ---- streaming a range ---- */

/* One chunk more of the range in client form into out; 0 at the end. */
static size_t stream_step(struct body_stream *bs, struct buf *out)
{
	char *chunk;
	ssize_t r = 0;
	size_t before = out->len;
	struct buf conv = BUF_INIT, dec = BUF_INIT, *src = &conv;

	if (bs->pos < bs->end) {
		size_t want = bs->end - bs->pos < CHUNK ? (size_t)(bs->end - bs->pos) : CHUNK;

		chunk = xmalloc(want);
		r = pread(bs->fd, chunk, want, (off_t)bs->pos);
		if (r > 0) {
			bs->pos += (uint64_t)r;
			for (ssize_t i = 0; i < r; i++) {
				if (chunk[i] == '\n' && !bs->prev_cr)
					buf_putc(&conv, '\r');
				buf_putc(&conv, chunk[i]);
				bs->prev_cr = chunk[i] == '\r';
			}
		} else {
			bs->pos = bs->end; /* the file is shorter than the index said */
		}
		free(chunk);
	}
	if (bs->binary) {
		mime_decoder_feed(&bs->dec, conv.data ? conv.data : "", conv.len, &dec);
		if (bs->pos >= bs->end && !bs->dec_done) {
			mime_decoder_finish(&bs->dec, &dec);
			bs->dec_done = true;
		}
		src = &dec;
	}
	size_t off = 0;
	if (bs->skip) {
		off = src->len < bs->skip ? src->len : (size_t)bs->skip;
		bs->skip -= off;
	}
	size_t n = src->len - off;
	if (n > bs->left)
		n = (size_t)bs->left;
	buf_append(out, src->data ? src->data + off : "", n);
	bs->left -= n;
	buf_free(&conv);
	buf_free(&dec);
	if (!bs->counting && bs->pos >= bs->end && bs->left > 0 && (!bs->binary || bs->dec_done)) {
		/* The announced size must be kept: pad what the file lacks. */
		while (bs->left > 0) {
			buf_putc(out, ' ');
			bs->left--;
		}
	}
	return out->len - before;
}

static void stream_init(struct body_stream *bs, int fd, uint64_t start, uint64_t plen, bool binary,
    const struct mime_part *part)
{
	memset(bs, 0, sizeof(*bs));
	bs->fd = fd;
	bs->pos = start;
	bs->end = start + plen;
	bs->binary = binary;
	if (binary)
		mime_decoder_init(&bs->dec, mime_cte_from_name(part ? part->encoding : NULL));
}

/* The decoded size of a range (BINARY needs it before the data). */
static uint64_t stream_count(int fd, uint64_t start, uint64_t plen, const struct mime_part *part)
{
	struct body_stream bs;
	struct buf sink = BUF_INIT;
	uint64_t total = 0;

	stream_init(&bs, fd, start, plen, true, part);
	bs.left = UINT64_MAX;
	bs.counting = true;
	while (bs.pos < bs.end || !bs.dec_done) {
		stream_step(&bs, &sink);
		total += sink.len;
		buf_reset(&sink);
	}
	buf_free(&sink);
	return total;
}

/* ---- one body item ---- */

/* The part a section number names.  RFC 9051 6.4.5: part 1 of a
 * message that is not multipart is its body, whatever its type; so for a
 * message/rfc822 at the top, "1" is the message itself (its body is the
 * enclosed message) and "1.1" the enclosed message's first part. */
static const struct mime_part *section_part(
    const struct mime_part *root, const unsigned *nums, unsigned n)
{
	if (n > 0 && !(root->flags & MIME_PART_MULTIPART) &&
	    (root->flags & MIME_PART_MESSAGE_RFC822))
		return nums[0] == 1 ? mime_part_by_section(root, nums + 1, n - 1) : NULL;
	return mime_part_by_section(root, nums, n);
}

/* The message root whose HEADER/TEXT a section names, or NULL. */
static const struct mime_part *section_message(const struct mime_part *p, unsigned nparts)
{
	if (nparts == 0)
		return p;
	if (p->flags & MIME_PART_MESSAGE_RFC822)
		return p->children;
	return NULL;
}

/* HEADER.FIELDS (NOT): the chosen fields of header text hdr[0..len)
 * and the empty line.  With exact set (the section read from the file:
 * .NOT, or a part's fields) the answer keeps the source's shape as
 * Dovecot's header filter does: a line without a newline at the end of
 * the data gets none, and the empty line only comes when the header had
 * one.  Otherwise (a message's own HEADER.FIELDS, as from Dovecot's cache)
 * every line ends in CRLF and the empty line always follows. */
static void fields_format(
    const char *hdr, size_t len, const struct imap_fetch_body *b, bool exact, struct buf *out)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field fl;

	mime_hdr_iter_init(&it, hdr, len);
	while (mime_hdr_iter_next(&it, &fl)) {
		bool listed = false;
		const char *end = fl.value + fl.value_len;

		for (size_t i = 0; i < b->nfields && !listed; i++)
			listed = mime_hdr_name_is(&fl, b->fields[i]);
		if (listed != (b->section == IMAP_SECTION_FIELDS))
			continue;
		for (const char *p = fl.name; p < end; p++) {
			if (*p == '\n' && (p == fl.name || p[-1] != '\r'))
				buf_putc(out, '\r');
			buf_putc(out, *p);
		}
		if (!exact || end < it.p)
			buf_puts(out, "\r\n");
	}
	if (!exact || it.p < it.end)
		buf_puts(out, "\r\n");
}

/* HEADER.FIELDS (NOT) of a message or part, from the file, in memory. */
static void fields_build(int fd, const struct mime_part *msg, const struct imap_fetch_body *b,
    bool exact, struct buf *out)
{
	uint64_t len = msg->hdr.physical < FETCH_MAX_HEADER ? msg->hdr.physical : FETCH_MAX_HEADER;
	char *hdr = xmalloc(len + 1);
	ssize_t r = pread(fd, hdr, len, (off_t)msg->hdr_offset);

	/* A header cut at FETCH_MAX_HEADER had its empty line further on. */
	fields_format(hdr, r > 0 ? (size_t)r : 0, b, exact && len == msg->hdr.physical, out);
	free(hdr);
}

/* Answered from the index cache (mstore_msg_headers): HEADER.FIELDS of
 * the message itself. */
static bool fields_cacheable(const struct imap_fetch_body *b)
{
	return b->section == IMAP_SECTION_FIELDS && b->nparts == 0 && !b->binary;
}

/* Writes the literal of a HEADER.FIELDS (NOT) answer fb, cut to the
 * partial range. */
static void write_literal_head(struct buf *o, bool literal8, uint64_t n);

static void fields_write(struct buf *o, const struct imap_fetch_body *b, const struct buf *fb)
{
	uint64_t off = b->partial ? b->offset : 0, n;

	n = off < fb->len ? fb->len - off : 0;
	if (b->partial && n > b->count)
		n = b->count;
	write_literal_head(o, false, n);
	buf_append(o, fb->data ? fb->data + (off < fb->len ? off : 0) : "", (size_t)n);
}

static void write_literal_head(struct buf *o, bool literal8, uint64_t n)
{
	buf_printf(o, "%s{%llu}\r\n", literal8 ? "~" : "", (unsigned long long)n);
}

static bool fetch_need_tree(const struct imap_fetch *f)
{
	if (f->items & (IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY | IMAP_FETCH_BODYSTRUCTURE))
		return true;
	for (size_t i = 0; i < f->nbodies; i++)
		if ((f->bodies[i].nparts || f->bodies[i].section != IMAP_SECTION_ALL ||
			f->bodies[i].binary) &&
		    !fields_cacheable(&f->bodies[i]))
			return true;
	return false;
}

static bool fetch_need_file(const struct imap_fetch *f)
{
	for (size_t i = 0; i < f->nbodies; i++)
		if (!fields_cacheable(&f->bodies[i]))
			return true;
	return false;
}

/* Opens the message file (and its tree when all or the items need it). */
static void fetch_open(struct imap_client *c, struct fetch_ctx *x, bool all)
{
	uint32_t uid = x->m.uid;

	if (x->fd < 0 && (all || fetch_need_file(&x->f)))
		x->fd = mstore_view_open_msg(c->view, uid);
	if (x->tree == NULL && (all || fetch_need_tree(&x->f)))
		x->tree = imap_msg_mime(c, uid);
}

/* Starts body item b: writes its name and literal head, and either the
 * whole (small) content or sets up the stream. */
static void fetch_body(struct imap_client *c, struct fetch_ctx *x, const struct imap_fetch_body *b)
{
	struct buf *o = &c->out;
	const struct mime_part *p = NULL, *msg;
	uint64_t start = 0, plen = 0, vlen = 0;
	bool ok = x->fd >= 0;

	buf_printf(o, " %s", b->name);
	if (b->partial)
		buf_printf(o, "<%llu>", (unsigned long long)b->offset);
	buf_putc(o, ' ');
	if (fields_cacheable(b)) {
		size_t i = (size_t)(b - x->f.bodies);
		struct buf t = BUF_INIT, fb = BUF_INIT;

		if (x->hdrs == NULL)
			x->hdrs = xcalloc(x->f.nbodies, sizeof(*x->hdrs));
		if (x->hdrs[i] == NULL)
			x->hdrs[i] = mstore_hdrs_new((const char *const *)b->fields, b->nfields);
		if (mstore_msg_headers(c->view, x->hdrs[i], x->m.uid, &t) == 0) {
			fields_format(t.data ? t.data : "", t.len, b, false, &fb);
			fields_write(o, b, &fb);
			buf_free(&t);
			buf_free(&fb);
			return;
		}
		buf_free(&t);
		/* Not readable that way (a huge header): from the file. */
		fetch_open(c, x, true);
		ok = x->fd >= 0;
	}
	if (ok && (b->nparts || b->section != IMAP_SECTION_ALL || b->binary)) {
		ok = x->tree != NULL;
		if (ok && (p = section_part(x->tree, b->part, b->nparts)) == NULL) {
			/* A part the message does not have is empty (as Dovecot). */
			buf_puts(o, "{0}\r\n");
			return;
		}
	}
	if (ok && b->section == IMAP_SECTION_ALL && b->nparts == 0 && !b->binary) {
		uint64_t size = 0;

		ok = mstore_view_sizes(c->view, x->m.uid, &size, &vlen) == 0;
		plen = size;
	} else if (ok && b->section == IMAP_SECTION_ALL) {
		start = mime_part_body_offset(p);
		plen = p->body.physical;
		vlen = p->body.virtual_size;
		if (b->nparts == 0)
			start = 0, plen = p->hdr.physical + p->body.physical,
			vlen = p->hdr.virtual_size + p->body.virtual_size;
	} else if (ok && b->section == IMAP_SECTION_MIME) {
		start = p->hdr_offset;
		plen = p->hdr.physical;
		vlen = p->hdr.virtual_size;
	} else if (ok && (msg = section_message(p, b->nparts)) != NULL) {
		if (b->section == IMAP_SECTION_HEADER) {
			start = msg->hdr_offset;
			plen = msg->hdr.physical;
			vlen = msg->hdr.virtual_size;
		} else if (b->section == IMAP_SECTION_TEXT) {
			start = mime_part_body_offset(msg);
			plen = msg->body.physical;
			vlen = msg->body.virtual_size;
		} else {
			struct buf fb = BUF_INIT;

			fields_build(x->fd, msg, b, !fields_cacheable(b), &fb);
			fields_write(o, b, &fb);
			buf_free(&fb);
			return;
		}
	} else if (ok) {
		/* HEADER/TEXT of a part that is not a message: empty, as a
		 * literal (as Dovecot answers a part it does not find). */
		buf_puts(o, "{0}\r\n");
		return;
	}
	if (!ok) {
		buf_puts(o, "NIL");
		return;
	}
	if (b->binary)
		vlen = stream_count(x->fd, start, plen, p);
	if (b->binary_size) {
		buf_printf(o, "%llu", (unsigned long long)vlen);
		return;
	}
	stream_init(&x->bs, x->fd, start, plen, b->binary, p);
	x->bs.skip = b->partial ? b->offset : 0;
	x->bs.left = x->bs.skip < vlen ? vlen - x->bs.skip : 0;
	if (b->partial && x->bs.left > b->count)
		x->bs.left = b->count;
	write_literal_head(o, b->binary && p && (p->flags & MIME_PART_HAS_NULS), x->bs.left);
	x->streaming = x->bs.left > 0;
}

/* The items that come from the index and the tree. */
static void fetch_fixed(struct imap_client *c, struct fetch_ctx *x)
{
	struct buf *o = &c->out;
	unsigned items = x->f.items, wf = imap_write_flags_mode(c);
	const char *sep = "";

	buf_puts(o, "* ");
	buf_put_uint(o, x->m.seq);
	buf_puts(o, " FETCH (");
	if (items & IMAP_FETCH_UID) {
		buf_puts(o, "UID ");
		buf_put_uint(o, x->m.uid);
		sep = " ";
	}
	if (items & IMAP_FETCH_FLAGS) {
		buf_puts(o, sep);
		buf_puts(o, "FLAGS ");
		imap_write_flags(c, o, &x->m);
		sep = " ";
	}
	if (items & IMAP_FETCH_INTERNALDATE) {
		time_t t = 0, saved;

		mstore_view_dates(c->view, x->m.uid, &t, &saved);
		buf_printf(o, "%sINTERNALDATE ", sep);
		imap_write_datetime(o, t, 0);
		sep = " ";
	}
	if (items & IMAP_FETCH_RFC822_SIZE) {
		uint64_t size = 0, vsize = 0;

		mstore_view_sizes(c->view, x->m.uid, &size, &vsize);
		buf_printf(o, "%sRFC822.SIZE %llu", sep, (unsigned long long)vsize);
		sep = " ";
	}
	if ((items & IMAP_FETCH_ENVELOPE) && x->tree) {
		buf_printf(o, "%sENVELOPE ", sep);
		imap_format_envelope(o, x->tree->envelope, wf);
		sep = " ";
	}
	if ((items & IMAP_FETCH_BODY) && x->tree) {
		buf_printf(o, "%sBODY ", sep);
		imap_format_body(o, x->tree, false, wf);
		sep = " ";
	}
	if ((items & IMAP_FETCH_BODYSTRUCTURE) && x->tree) {
		buf_printf(o, "%sBODYSTRUCTURE ", sep);
		imap_format_body(o, x->tree, true, wf);
		sep = " ";
	}
	if (items & IMAP_FETCH_MODSEQ) {
		buf_printf(o, "%sMODSEQ (%llu)", sep, (unsigned long long)x->m.modseq);
		sep = " ";
	}
}

static void fetch_msg_end(struct fetch_ctx *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	if (x->tree)
		mime_part_free(x->tree);
	x->tree = NULL;
	x->item = 0;
	x->i++;
}

/* Starts message x->i; false when it is skipped. */
static bool fetch_msg_start(struct imap_client *c, struct fetch_ctx *x)
{
	uint32_t uid = x->uids[x->i];

	if (mstore_view_msg_uid(c->view, uid, &x->m) < 0)
		return false;
	if (x->f.changedsince_set && x->m.modseq <= x->f.changedsince)
		return false;
	if (x->m.expunged && x->f.nbodies) {
		x->expunged_seen = true;
		return false;
	}
	fetch_open(c, x, false);
	fetch_fixed(c, x);
	if (x->nseen && imap_uid_in(x->seen_set, x->nseen, uid) &&
	    !(x->f.items & IMAP_FETCH_FLAGS)) {
		buf_puts(&c->out, c->out.data[c->out.len - 1] == '(' ? "FLAGS " : " FLAGS ");
		imap_write_flags(c, &c->out, &x->m);
	}
	return true;
}

static bool fetch_cont(struct imap_client *c)
{
	struct fetch_ctx *x = c->cont_ctx;

	while (c->out.len < IMAP_OUT_HIGH) {
		if (x->streaming) {
			stream_step(&x->bs, &c->out);
			if (x->bs.left == 0)
				x->streaming = false;
			continue;
		}
		if (x->i >= x->n)
			break;
		if (x->item == 0) {
			if (!fetch_msg_start(c, x)) {
				fetch_msg_end(x);
				continue;
			}
			x->item = 1;
			continue;
		}
		if (x->item <= x->f.nbodies) {
			size_t before = c->out.len;

			fetch_body(c, x, &x->f.bodies[x->item - 1]);
			/* No space after "(" for the first item. */
			if (before > 0 && c->out.data[before - 1] == '(' &&
			    c->out.data[before] == ' ')
				memmove(c->out.data + before, c->out.data + before + 1,
				    c->out.len-- - before - 1);
			x->item++;
			continue;
		}
		buf_puts(&c->out, ")\r\n");
		fetch_msg_end(x);
	}
	if (x->streaming || x->i < x->n)
		return false;
	if (x->expunged_seen)
		imap_reply(c, c->tag, "NO", "[EXPUNGEISSUED] Some messages were expunged.");
	else
		imap_reply(c, c->tag, "OK", "Fetch completed.");
	return true;
}

static void fetch_free(void *ctx)
{
	struct fetch_ctx *x = ctx;

	if (x->fd >= 0)
		close(x->fd);
	if (x->tree)
		mime_part_free(x->tree);
	for (size_t i = 0; x->hdrs && i < x->f.nbodies; i++)
		mstore_hdrs_free(x->hdrs[i]);
	free(x->hdrs);
	imap_fetch_free(&x->f);
	free(x->uids);
	free(x->seen_set);
	free(x);
}

/* Non-PEEK sections set \Seen first, in one durable change. */
static void fetch_set_seen(struct imap_client *c, struct fetch_ctx *x)
{
	struct mstore_store_req req = {MSTORE_STORE_ADD, MSTORE_F_SEEN, NULL, 0};
	uint32_t *failed = NULL;
	size_t nfailed = 0;

	x->seen_set = xcalloc(x->n + 1, sizeof(uint32_t));
	for (size_t i = 0; i < x->n; i++) {
		struct mstore_msg m;

		if (mstore_view_msg_uid(c->view, x->uids[i], &m) == 0 && !m.expunged &&
		    !(m.flags & MSTORE_F_SEEN))
			x->seen_set[x->nseen++] = x->uids[i];
	}
	if (x->nseen &&
	    mstore_view_store(c->view, x->seen_set, x->nseen, &req, &failed, &nfailed) < 0)
		log_warn("imap(%s): setting \\Seen failed: %s", c->user, mstore_strerror(c->store));
	/* The FETCH responses carry the new flags. */
	free(c->own);
	c->own = (uint32_t *)(void *)xmemdup(x->seen_set, x->nseen * sizeof(uint32_t));
	c->nown = x->nseen;
	free(failed);
}

/* VANISHED (EARLIER) of UID FETCH ... (CHANGEDSINCE m VANISHED). */
static void fetch_vanished(struct imap_client *c, struct fetch_ctx *x, struct imap_seqset *set)
{
	uint32_t *uids = NULL;
	size_t n = 0, k = 0;
	bool exact;

	if (mstore_view_expunged_since(c->view, x->f.changedsince, &uids, &n, &exact) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (imap_seqset_contains(set, uids[i]))
			uids[k++] = uids[i];
	if (k) {
		buf_puts(&c->out, "* VANISHED (EARLIER) ");
		imap_write_uidset(&c->out, uids, k);
		buf_puts(&c->out, "\r\n");
	}
	free(uids);
}

void imap_cmd_fetch(struct imap_client *c, const struct imap_command *cmd)
{
	struct fetch_ctx *x = xcalloc(1, sizeof(*x));
	struct imap_seqset set;
	const char *err;

	x->fd = -1;
	x->uidcmd = strcmp(cmd->name, "UID FETCH") == 0;
	if (cmd->count < 2 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    !imap_seqset_parse(cmd->args[0].str, true, &set, &err)) {
		imap_reply(c, cmd->tag, "BAD", "Invalid sequence set.");
		free(x);
		return;
	}
	if (!imap_fetch_parse(cmd->args + 1, cmd->count - 1, &x->f, &err)) {
		imap_reply(c, cmd->tag, "BAD", "%s", err);
		imap_seqset_free(&set);
		free(x);
		return;
	}
	if (x->f.vanished &&
	    (!x->uidcmd || !(c->enabled & IMAP_EN_QRESYNC) || !x->f.changedsince_set)) {
		imap_reply(
		    c, cmd->tag, "BAD", "VANISHED needs UID FETCH, QRESYNC and CHANGEDSINCE.");
		imap_seqset_free(&set);
		fetch_free(x);
		return;
	}
	if (x->uidcmd)
		x->f.items |= IMAP_FETCH_UID;
	if (x->f.changedsince_set) {
		x->f.items |= IMAP_FETCH_MODSEQ;
		c->condstore_seen = true;
	}
	if (x->f.items & IMAP_FETCH_MODSEQ)
		c->condstore_seen = true;
	x->uids = imap_set_uids(c, &set, x->uidcmd, &x->n);
	if (x->f.vanished)
		fetch_vanished(c, x, &set);
	imap_seqset_free(&set);
	if ((x->f.items & IMAP_FETCH_SETS_SEEN) && !c->readonly)
		fetch_set_seen(c, x);
	c->cont = fetch_cont;
	c->cont_ctx = x;
	c->cont_free = fetch_free;
}
