/*
 * mstore/msg_hdr.c - chosen header fields through the index cache
 * (msg_hdr.h).
 */
#include "mstore/msg_hdr.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mime/header.h"
#include "mstore/cache.h"
#include "mstore/mstore_int.h"
#include "util.h"

#define MSG_HDR_CHUNK 16384

/* ---- the blob ---- */

/* The line end that makes field bytes p[0..len) read back as they are:
 * a value ending in CR keeps it only before a CRLF. */
static const char *line_end(const char *p, size_t len)
{
	return len && p[len - 1] == '\r' ? "\r\n" : "\n";
}

/* Does p[0..len) read back as exactly one field called name? */
static bool field_exact(const char *p, size_t len, const char *name)
{
	struct buf t = BUF_INIT;
	struct mime_hdr_iter it;
	struct mime_hdr_field f, g;
	bool ok;

	buf_append(&t, p, len);
	buf_puts(&t, line_end(p, len));
	mime_hdr_iter_init(&it, t.data, t.len);
	ok = mime_hdr_iter_next(&it, &f) && f.name == t.data && mime_hdr_name_is(&f, name) &&
	     f.value + f.value_len == t.data + len && !mime_hdr_iter_next(&it, &g) &&
	     it.p == t.data + t.len;
	buf_free(&t);
	return ok;
}

bool msg_hdr_blob_encode(const char *hdr, size_t len, const char *name, struct buf *blob)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field f;
	size_t start = blob->len;
	uint32_t ord = 0;

	mime_hdr_iter_init(&it, hdr, len);
	for (; mime_hdr_iter_next(&it, &f); ord++) {
		uint32_t n = (uint32_t)(f.value + f.value_len - f.name);

		if (!mime_hdr_name_is(&f, name))
			continue;
		if (blob->len - start + 8 + n > MSG_HDR_BLOB_MAX || !field_exact(f.name, n, name)) {
			buf_truncate(blob, start);
			return false;
		}
		buf_append(blob, &ord, 4);
		buf_append(blob, &n, 4);
		buf_append(blob, f.name, n);
	}
	return true;
}

bool msg_hdr_blob_decode(const void *blob, size_t len, const char *name, struct msg_hdr_lines *l)
{
	const char *p = blob, *end = p + len;
	size_t n0 = l->n;
	uint32_t last = 0;

	while (p < end) {
		uint32_t ord, n;

		if ((size_t)(end - p) < 8)
			goto bad;
		memcpy(&ord, p, 4);
		memcpy(&n, p + 4, 4);
		p += 8;
		if (n == 0 || n > (size_t)(end - p) || (l->n > n0 && ord <= last) ||
		    !field_exact(p, n, name))
			goto bad;
		if (l->n == l->cap)
			l->v = xreallocarray(l->v, l->cap = l->cap ? l->cap * 2 : 8, sizeof(*l->v));
		l->v[l->n++] = (struct msg_hdr_line){ord, p, n};
		last = ord;
		p += n;
	}
	return true;
bad:
	l->n = n0;
	return false;
}

static int line_cmp(const void *a, const void *b)
{
	const struct msg_hdr_line *x = a, *y = b;

	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

bool msg_hdr_lines_write(struct msg_hdr_lines *l, struct buf *out)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), line_cmp);
	for (size_t i = 1; i < l->n; i++)
		if (l->v[i].ord == l->v[i - 1].ord)
			return false;
	for (size_t i = 0; i < l->n; i++) {
		buf_append(out, l->v[i].p, l->v[i].len);
		buf_puts(out, line_end(l->v[i].p, l->v[i].len));
	}
	return true;
}

void msg_hdr_lines_free(struct msg_hdr_lines *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- the set of names ---- */

struct mstore_hdrs {
	size_t n;
	char **names; /* lower case */
	int *ids;     /* cache fields, -1: not cached */
	const struct mstore_folder *f;
	uint32_t gen;
	bool resolved;
};

/* Names kept in the cache: header name characters, not too long. */
static bool name_cacheable(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MSG_HDR_NAME_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 33 || (unsigned char)*s > 126 || *s == ':')
			return false;
	return true;
}

struct mstore_hdrs *mstore_hdrs_new(const char *const *names, size_t n)
{
	struct mstore_hdrs *h = xcalloc(1, sizeof(*h));

	h->names = xcalloc(n + 1, sizeof(*h->names));
	h->ids = xcalloc(n + 1, sizeof(*h->ids));
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		for (size_t j = 0; j < h->n && !dup; j++)
			dup = str_case_eq(h->names[j], names[i]);
		if (dup)
			continue;
		h->names[h->n] = xstrdup(names[i]);
		str_lower(h->names[h->n]);
		h->ids[h->n++] = -1;
	}
	return h;
}

void mstore_hdrs_free(struct mstore_hdrs *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		free(h->names[i]);
	free(h->names);
	free(h->ids);
	free(h);
}

bool mstore_hdrs_same(const struct mstore_hdrs *h, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t j = 0; j < h->n && !found; j++)
			found = str_case_eq(h->names[j], names[i]);
		if (!found)
			return false;
	}
	for (size_t j = 0; j < h->n; j++) {
		bool found = false;

		for (size_t i = 0; i < n && !found; i++)
			found = str_case_eq(h->names[j], names[i]);
		if (!found)
			return false;
	}
	return true;
}

/* The cache fields of h in v's folder (registered on first use, while
 * the folder has room), again whenever the cache generation changed
 * (field numbers belong to a generation). */
static void hdrs_resolve(struct mstore_view *v, struct mstore_hdrs *h)
{
	struct mstore_folder *f = v->f;

	if (h->resolved && h->f == f && h->gen == f->st.cache_seq)
		return;
	for (size_t i = 0; i < h->n; i++) {
		char key[MC_FIELD_NAME_MAX];

		h->ids[i] = -1;
		if (!name_cacheable(h->names[i]))
			continue;
		snprintf(key, sizeof(key), "hdr.%s", h->names[i]);
		if (mc_nfields(f) < MSG_HDR_FIELDS_MAX)
			h->ids[i] = mc_field(f, key, 1);
	}
	h->f = f;
	h->gen = f->st.cache_seq;
	h->resolved = true;
}

/* ---- reading ---- */

/* Reads the header section (up to its empty line) of the message file
 * fd into b, and closes fd: 0, -1 when unreadable, 1 when it is longer
 * than MSG_HDR_READ_MAX. */
static int read_header_fd(int fd, struct buf *b)
{
	size_t line = 0; /* start of the first line not yet looked at */
	int r = 1;

	if (fd < 0)
		return -1;
	while (b->len < MSG_HDR_READ_MAX) {
		size_t want = MSG_HDR_READ_MAX - b->len < MSG_HDR_CHUNK ? MSG_HDR_READ_MAX - b->len
									: MSG_HDR_CHUNK;
		ssize_t n;
		const char *nl;

		buf_reserve(b, want);
		n = pread(fd, buf_tail(b), want, (off_t)b->len);
		if (n < 0) {
			r = -1;
			break;
		}
		if (n == 0) {
			r = 0; /* the whole file is header */
			break;
		}
		buf_commit(b, (size_t)n);
		while ((nl = memchr(b->data + line, '\n', b->len - line)) != NULL) {
			size_t ll = (size_t)(nl - (b->data + line));

			if (ll == 0 || (ll == 1 && b->data[line] == '\r')) {
				buf_truncate(b, line);
				r = 0;
				break;
			}
			line = (size_t)(nl - b->data) + 1;
		}
		if (r == 0)
			break;
	}
	close(fd);
	return r;
}

static int read_header(struct mstore_view *v, uint32_t uid, struct buf *b)
{
	return read_header_fd(mstore_view_open_msg(v, uid), b);
}

void msg_hdr_fill_new(struct mstore_folder *f, const uint32_t *uids, const int *dirfds,
    const char *const *names, size_t n)
{
	struct buf hdr = BUF_INIT, blob = BUF_INIT;
	int fields[MSG_HDR_FIELDS_MAX];
	size_t nf = 0;
	const char *name;

	if (n == 0 || !mc_current(f))
		return;
	for (unsigned i = 0; (name = mc_field_name(f, i)) != NULL && nf < MSG_HDR_FIELDS_MAX; i++)
		if (strncmp(name, "hdr.", 4) == 0 && name_cacheable(name + 4))
			fields[nf++] = (int)i;
	for (size_t i = 0; i < n && nf; i++) {
		buf_reset(&hdr);
		if (read_header_fd(openat(dirfds[i], names[i], O_RDONLY | O_CLOEXEC), &hdr) != 0)
			continue;
		for (size_t j = 0; j < nf; j++) {
			buf_reset(&blob);
			if (msg_hdr_blob_encode(hdr.data ? hdr.data : "", hdr.len,
				mc_field_name(f, (unsigned)fields[j]) + 4, &blob))
				mc_put(f, uids[i], fields[j], blob.data ? blob.data : "", blob.len);
		}
	}
	if (nf && mc_commit_fresh(f->cache) == 0)
		mf_flush(f);
	buf_free(&hdr);
	buf_free(&blob);
}

int mstore_msg_headers(struct mstore_view *v, struct mstore_hdrs *h, uint32_t uid, struct buf *out)
{
	struct msg_hdr_lines l = {0};
	struct buf hdr = BUF_INIT, blob = BUF_INIT;
	struct mime_hdr_iter it;
	struct mime_hdr_field f;
	bool cached = true;
	int r;

	hdrs_resolve(v, h);
	for (size_t i = 0; i < h->n && cached; i++) {
		const void *data;
		size_t len;

		cached = h->ids[i] >= 0 && mstore_cache_get(v, uid, h->ids[i], &data, &len) &&
			 msg_hdr_blob_decode(data, len, h->names[i], &l);
	}
	if (cached && msg_hdr_lines_write(&l, out)) {
		msg_hdr_lines_free(&l);
		return 0;
	}
	msg_hdr_lines_free(&l);
	/* Not (all) cached, or the cache disagrees with itself: the file. */
	if ((r = read_header(v, uid, &hdr)) != 0) {
		buf_free(&hdr);
		return r;
	}
	for (size_t i = 0; i < h->n; i++) {
		buf_reset(&blob);
		if (h->ids[i] >= 0 &&
		    msg_hdr_blob_encode(hdr.data ? hdr.data : "", hdr.len, h->names[i], &blob))
			mstore_cache_put(v, uid, h->ids[i], blob.data ? blob.data : "", blob.len);
	}
	mime_hdr_iter_init(&it, hdr.data ? hdr.data : "", hdr.len);
	while (mime_hdr_iter_next(&it, &f)) {
		size_t n = (size_t)(f.value + f.value_len - f.name);
		bool wanted = false;

		for (size_t i = 0; i < h->n && !wanted; i++)
			wanted = mime_hdr_name_is(&f, h->names[i]);
		if (wanted) {
			buf_append(out, f.name, n);
			buf_puts(out, line_end(f.name, n));
		}
	}
	buf_free(&hdr);
	buf_free(&blob);
	return 0;
}
