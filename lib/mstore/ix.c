/*
 * ix.c - the index's formats and its in-memory state: checking and
 * applying log records, building them, the snapshot image.  Pure: no
 * file is touched here (ixfile.c does that), so the fuzz harness runs
 * every byte a reader could meet through these functions.
 */
#include "mstore/ix.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "crc32c.h"
#include "util.h"

#define IX_REC_MAX (64u << 20)
#define IX_ALIGN(n) (((n) + 7u) & ~(size_t)7u)

void ix_state_init(struct ix_state *st)
{
	memset(st, 0, sizeof(*st));
	st->next_uid = 1;
	st->first_recent_uid = 1;
}

void ix_state_free(struct ix_state *st)
{
	if (st->map) {
		munmap(st->map, st->map_len);
	} else {
		free(st->msgs);
		buf_free(&st->names);
	}
	ix_state_init(st);
}

/* A state loaded in place gets its own copies before it grows. */
static void ix_state_own(struct ix_state *st)
{
	struct buf names = BUF_INIT;
	struct ix_msg *msgs;

	if (st->map == NULL)
		return;
	st->cap = st->n ? st->n : 1;
	msgs = xmalloc(st->cap * sizeof(*msgs));
	memcpy(msgs, st->msgs, st->n * sizeof(*msgs));
	buf_append(&names, st->names.data, st->names.len);
	munmap(st->map, st->map_len);
	st->map = NULL;
	st->map_len = 0;
	st->msgs = msgs;
	st->names = names;
}

size_t ix_state_lower(const struct ix_state *st, uint32_t uid)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

long ix_state_find(const struct ix_state *st, uint32_t uid)
{
	size_t lo;

	/* Appends come in UID order, so the last one is the common case. */
	if (st->n && st->msgs[st->n - 1].uid == uid)
		return (long)st->n - 1;
	lo = ix_state_lower(st, uid);
	return lo < st->n && st->msgs[lo].uid == uid ? (long)lo : -1;
}

const char *ix_msg_base(const struct ix_state *st, const struct ix_msg *m)
{
	return st->names.data + m->name_off;
}

const char *ix_msg_ext(const struct ix_state *st, const struct ix_msg *m)
{
	const char *base = ix_msg_base(st, m);

	return base + strlen(base) + 1;
}

const char *ix_msg_oddname(const struct ix_state *st, const struct ix_msg *m)
{
	const char *ext = ix_msg_ext(st, m);

	return (m->state & IXS_ODD) ? ext + strlen(ext) + 1 : NULL;
}

/* Adds (sign 1) or removes (-1) m from the counters. */
static void ix_count(struct ix_state *st, const struct ix_msg *m, int sign)
{
	if (!(m->upper & (1u << ('S' - 'A'))))
		st->unseen += (uint32_t)sign;
	if (m->upper & (1u << ('T' - 'A')))
		st->deleted += (uint32_t)sign;
	if (m->vsize == IX_NOSIZE)
		st->vsize_unknown += (uint32_t)sign;
	else
		st->vsize_sum += (uint64_t)(int64_t)sign * m->vsize;
}

static uint32_t ix_names_add(struct ix_state *st, const char *base, size_t blen, const char *ext,
    size_t elen, const char *odd, size_t olen)
{
	uint32_t off;

	ix_state_own(st);
	off = (uint32_t)st->names.len;
	buf_append(&st->names, base, blen);
	buf_putc(&st->names, 0);
	buf_append(&st->names, ext ? ext : "", ext ? elen : 0);
	buf_putc(&st->names, 0);
	if (odd) {
		buf_append(&st->names, odd, olen);
		buf_putc(&st->names, 0);
	}
	return off;
}

static size_t ix_names_len(const struct ix_state *st, const struct ix_msg *m)
{
	const char *p = ix_msg_base(st, m), *start = p;

	p += strlen(p) + 1;
	p += strlen(p) + 1;
	if (m->state & IXS_ODD)
		p += strlen(p) + 1;
	return (size_t)(p - start);
}

void ix_state_put(struct ix_state *st, const struct ix_msg *m, const char *base, size_t blen,
    const char *ext, size_t elen, const char *odd, size_t olen)
{
	long at = ix_state_find(st, m->uid);
	struct ix_msg copy = *m;

	if (odd)
		copy.state |= IXS_ODD;
	else
		copy.state &= ~IXS_ODD;
	copy.name_off = ix_names_add(st, base, blen, ext, elen, odd, olen);
	ix_count(st, &copy, 1);
	if (at >= 0) {
		st->dead_names += ix_names_len(st, &st->msgs[at]);
		ix_count(st, &st->msgs[at], -1);
		st->msgs[at] = copy;
		return;
	}
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 256;
		st->msgs = xreallocarray(st->msgs, st->cap, sizeof(*st->msgs));
	}
	size_t pos = st->n;

	if (st->n && st->msgs[st->n - 1].uid > m->uid) {
		size_t lo = 0, hi = st->n;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (st->msgs[mid].uid < m->uid)
				lo = mid + 1;
			else
				hi = mid;
		}
		pos = lo;
		memmove(&st->msgs[pos + 1], &st->msgs[pos], (st->n - pos) * sizeof(*st->msgs));
	}
	st->msgs[pos] = copy;
	st->n++;
	if (m->uid >= st->next_uid)
		st->next_uid = m->uid + 1;
}

static int ix_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void ix_state_remove(
    struct ix_state *st, const uint32_t *uids, size_t n, const struct ix_apply_cb *cb)
{
	uint32_t *sorted;
	size_t w = 0, j = 0;

	if (n == 0 || st->n == 0)
		return;
	sorted = (uint32_t *)(void *)xmemdup(uids, n * sizeof(*uids));
	qsort(sorted, n, sizeof(*sorted), ix_cmp_u32);
	for (size_t i = 0; i < st->n; i++) {
		struct ix_msg *m = &st->msgs[i];

		while (j < n && sorted[j] < m->uid)
			j++;
		if (j < n && sorted[j] == m->uid) {
			if (cb && cb->expunged)
				cb->expunged(cb->ctx, m, st->names.data);
			st->dead_names += ix_names_len(st, m);
			ix_count(st, m, -1);
			continue;
		}
		st->msgs[w++] = *m;
	}
	st->n = w;
	free(sorted);
}

/* ---- records ---- */

static const size_t ix_fixed_item[] = {
    [IXR_FLAGS] = sizeof(struct ix_flags),
    [IXR_EXPUNGE] = sizeof(uint32_t),
    [IXR_FILL] = sizeof(struct ix_fill),
    [IXR_CACHE] = sizeof(struct ix_cache),
    [IXR_RESET] = sizeof(uint32_t),
    [IXR_CACHE_GEN] = sizeof(uint32_t),
    [IXR_THREAD] = sizeof(struct ix_cache),
};

static bool ix_name_ok(const char *p, size_t len, bool allow_colon)
{
	if (len == 0 || memchr(p, 0, len) || memchr(p, '/', len))
		return false;
	return allow_colon || memchr(p, ':', len) == NULL;
}

/* Walks the variable items of an APPEND or NAME record; false if any
 * item does not fit or has a bad name. */
static bool ix_check_var_items(const char *p, size_t len, uint16_t type, uint32_t count)
{
	size_t off = 0;

	for (uint32_t i = 0; i < count; i++) {
		size_t need;

		if (type == IXR_APPEND) {
			struct ix_append a;

			if (len - off < sizeof(a))
				return false;
			memcpy(&a, p + off, sizeof(a));
			need = IX_ALIGN(sizeof(a) + a.name_len + a.ext_len);
			if (need > len - off || a.uid == 0 ||
			    !ix_name_ok(p + off + sizeof(a), a.name_len, false) ||
			    memchr(p + off + sizeof(a) + a.name_len, 0, a.ext_len))
				return false;
		} else {
			struct ix_name nm;

			if (len - off < sizeof(nm))
				return false;
			memcpy(&nm, p + off, sizeof(nm));
			need = IX_ALIGN(sizeof(nm) + nm.len);
			if (need > len - off || nm.uid == 0 ||
			    (nm.len && !ix_name_ok(p + off + sizeof(nm), nm.len, true)))
				return false;
		}
		off += need;
	}
	return true;
}

int ix_rec_check(const char *p, size_t len, uint32_t *size)
{
	struct ix_rec_hdr h;
	size_t payload;

	if (len < sizeof(h))
		return 0;
	memcpy(&h, p, sizeof(h));
	if (h.size < sizeof(h) || h.size % 8 || h.size > IX_REC_MAX)
		return -1;
	if (h.size > len)
		return 0;
	if (crc32c(0, p + 8, h.size - 8) != h.crc)
		return -1;
	payload = h.size - sizeof(h);
	switch (h.type) {
	case IXR_PAD: break;
	case IXR_APPEND:
	case IXR_NAME:
		if (!ix_check_var_items(p + sizeof(h), payload, h.type, h.count))
			return -1;
		break;
	case IXR_FLAGS:
	case IXR_EXPUNGE:
	case IXR_FILL:
	case IXR_CACHE:
	case IXR_THREAD:
	case IXR_RESET:
	case IXR_CACHE_GEN:
		if ((uint64_t)h.count * ix_fixed_item[h.type] > payload)
			return -1;
		if ((h.type == IXR_RESET || h.type == IXR_CACHE_GEN) && h.count != 1)
			return -1;
		break;
	default: return -1;
	}
	*size = h.size;
	return 1;
}

static void ix_apply_append(struct ix_state *st, const char *p, uint32_t count, uint64_t modseq)
{
	size_t names = 0;
	const char *q = p;

	/* Room for all of them at once (a rebuild appends a whole folder
	 * in one record): no copy of the arrays per doubling. */
	for (uint32_t i = 0; i < count; i++) {
		struct ix_append a;

		memcpy(&a, q, sizeof(a));
		names += (size_t)a.name_len + a.ext_len + 2;
		q += IX_ALIGN(sizeof(a) + a.name_len + a.ext_len);
	}
	ix_state_own(st);
	buf_reserve(&st->names, names);
	if (st->cap < st->n + count) {
		st->cap = st->n + count;
		st->msgs = xreallocarray(st->msgs, st->cap, sizeof(*st->msgs));
	}
	for (uint32_t i = 0; i < count; i++) {
		struct ix_append a;
		struct ix_msg m = {0};

		memcpy(&a, p, sizeof(a));
		m.uid = a.uid;
		m.upper = a.upper;
		m.kw = a.kw;
		m.state = a.state & ~IXS_ODD;
		m.size = a.size;
		m.vsize = a.vsize;
		m.idate = a.idate;
		m.sdate = a.sdate;
		m.modseq = modseq;
		ix_state_put(st, &m, p + sizeof(a), a.name_len, p + sizeof(a) + a.name_len,
		    a.ext_len, NULL, 0);
		p += IX_ALIGN(sizeof(a) + a.name_len + a.ext_len);
	}
}

static void ix_apply_name(struct ix_state *st, const char *p, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		struct ix_name nm;
		long at;

		memcpy(&nm, p, sizeof(nm));
		at = ix_state_find(st, nm.uid);
		if (at >= 0) {
			struct ix_msg m = st->msgs[at];
			char *base = xstrdup(ix_msg_base(st, &m)),
			     *ext = xstrdup(ix_msg_ext(st, &m));

			ix_state_put(st, &m, base, strlen(base), ext, strlen(ext),
			    nm.len ? p + sizeof(nm) : NULL, nm.len);
			free(base);
			free(ext);
		}
		p += IX_ALIGN(sizeof(nm) + nm.len);
	}
}

static void ix_apply_fixed(struct ix_state *st, uint16_t type, const char *p, uint32_t count,
    uint64_t modseq, const struct ix_apply_cb *cb)
{
	if (type == IXR_EXPUNGE) {
		uint32_t *uids = xmalloc((count ? count : 1) * sizeof(*uids));

		memcpy(uids, p, count * sizeof(*uids));
		ix_state_remove(st, uids, count, cb);
		free(uids);
		return;
	}
	if (type == IXR_CACHE_GEN) {
		for (size_t i = 0; i < st->n; i++)
			st->msgs[i].cache_off = 0;
		memcpy(&st->cache_seq, p, sizeof(st->cache_seq));
		return;
	}
	if (type == IXR_RESET) {
		uint32_t *uids = xmalloc((st->n ? st->n : 1) * sizeof(*uids));
		uint32_t uidv;

		for (size_t i = 0; i < st->n; i++)
			uids[i] = st->msgs[i].uid;
		ix_state_remove(st, uids, st->n, cb);
		free(uids);
		memcpy(&uidv, p, sizeof(uidv));
		st->uidvalidity = uidv;
		st->next_uid = 1;
		st->first_recent_uid = 1;
		return;
	}
	for (uint32_t i = 0; i < count; i++, p += ix_fixed_item[type]) {
		uint32_t uid;
		long at;

		memcpy(&uid, p, sizeof(uid));
		if ((at = ix_state_find(st, uid)) < 0)
			continue;
		struct ix_msg *m = &st->msgs[at];

		ix_count(st, m, -1);
		if (type == IXR_FLAGS) {
			struct ix_flags f;

			memcpy(&f, p, sizeof(f));
			m->upper = f.upper;
			m->kw = f.kw;
			m->state = (m->state & IXS_ODD) | (f.state & ~IXS_ODD);
			if (modseq) /* 0: a move from new/ to cur/, no change */
				m->modseq = modseq;
		} else if (type == IXR_FILL) {
			struct ix_fill fl;

			memcpy(&fl, p, sizeof(fl));
			if (fl.size != IX_NOSIZE)
				m->size = fl.size;
			if (fl.vsize != IX_NOSIZE)
				m->vsize = fl.vsize;
			if (fl.idate != IX_NODATE)
				m->idate = fl.idate;
			if (fl.sdate != IX_NODATE)
				m->sdate = fl.sdate;
		} else if (type == IXR_CACHE) {
			struct ix_cache c;

			memcpy(&c, p, sizeof(c));
			m->cache_off = c.off;
		} else if (type == IXR_THREAD) {
			struct ix_cache t;

			memcpy(&t, p, sizeof(t));
			m->thread_id = t.off;
		}
		ix_count(st, m, 1);
	}
}

void ix_rec_apply(struct ix_state *st, const char *p, const struct ix_apply_cb *cb)
{
	struct ix_rec_hdr h;

	memcpy(&h, p, sizeof(h));
	if (h.modseq > st->highest_modseq)
		st->highest_modseq = h.modseq;
	p += sizeof(h);
	switch (h.type) {
	case IXR_APPEND: ix_apply_append(st, p, h.count, h.modseq); break;
	case IXR_NAME: ix_apply_name(st, p, h.count); break;
	case IXR_PAD: break;
	default: ix_apply_fixed(st, h.type, p, h.count, h.modseq, cb); break;
	}
}

size_t ix_rec_begin(struct buf *out, enum ix_rec_type type, uint64_t modseq)
{
	struct ix_rec_hdr h = {0};
	size_t at = out->len;

	h.type = (uint16_t)type;
	h.modseq = modseq;
	buf_append(out, &h, sizeof(h));
	return at;
}

static void ix_rec_count(struct buf *out, size_t rec)
{
	struct ix_rec_hdr h;

	memcpy(&h, out->data + rec, sizeof(h));
	h.count++;
	memcpy(out->data + rec, &h, sizeof(h));
}

void ix_rec_set_count(struct buf *out, size_t rec, uint32_t count)
{
	struct ix_rec_hdr h;

	memcpy(&h, out->data + rec, sizeof(h));
	h.count = count;
	memcpy(out->data + rec, &h, sizeof(h));
}

static void ix_pad8(struct buf *out)
{
	static const char zero[8];

	buf_append(out, zero, IX_ALIGN(out->len) - out->len);
}

void ix_rec_item(struct buf *out, size_t rec, const void *item, size_t len)
{
	buf_append(out, item, len);
	ix_rec_count(out, rec);
}

void ix_rec_append_item(
    struct buf *out, size_t rec, const struct ix_append *a, const char *name, const char *ext)
{
	buf_append(out, a, sizeof(*a));
	buf_append(out, name, a->name_len);
	buf_append(out, ext, a->ext_len);
	ix_pad8(out);
	ix_rec_count(out, rec);
}

void ix_rec_name_item(struct buf *out, size_t rec, uint32_t uid, const char *name, size_t len)
{
	struct ix_name nm = {uid, (uint16_t)len, 0};

	buf_append(out, &nm, sizeof(nm));
	buf_append(out, name, len);
	ix_pad8(out);
	ix_rec_count(out, rec);
}

void ix_rec_end(struct buf *out, size_t rec)
{
	struct ix_rec_hdr h;

	ix_pad8(out);
	memcpy(&h, out->data + rec, sizeof(h));
	h.size = (uint32_t)(out->len - rec);
	memcpy(out->data + rec, &h, sizeof(h));
	h.crc = crc32c(0, out->data + rec + 8, h.size - 8);
	memcpy(out->data + rec, &h, sizeof(h));
}

void ix_log_hdr_seal(struct ix_log_hdr *h)
{
	h->crc = crc32c(0, h, offsetof(struct ix_log_hdr, crc));
}

bool ix_log_hdr_valid(const struct ix_log_hdr *h)
{
	return memcmp(h->magic, IX_LOG_MAGIC, 8) == 0 && h->hdr_size == IX_LOG_HDR_SIZE &&
	       h->crc == crc32c(0, h, offsetof(struct ix_log_hdr, crc)) &&
	       h->valid_end >= IX_LOG_HDR_SIZE && h->uidvalidity != 0;
}

/* ---- snapshot ---- */

static void ix_snap_hdr_init(
    struct ix_snap_hdr *h, const struct ix_state *st, uint32_t log_seq, uint64_t log_off)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, IX_SNAP_MAGIC, 8);
	h->hdr_size = sizeof(*h);
	h->rec_size = sizeof(struct ix_msg);
	h->log_seq = log_seq;
	h->log_off = log_off;
	h->count = (uint32_t)st->n;
	h->uidvalidity = st->uidvalidity;
	h->next_uid = st->next_uid;
	h->highest_modseq = st->highest_modseq;
	h->cache_seq = st->cache_seq;
}

void ix_snap_build(const struct ix_state *st, uint32_t log_seq, uint64_t log_off, struct buf *out)
{
	struct ix_snap_hdr h;
	struct buf names = BUF_INIT;
	size_t recs_at;

	ix_snap_hdr_init(&h, st, log_seq, log_off);
	buf_reserve(out, sizeof(h) + st->n * sizeof(struct ix_msg) + st->names.len);
	buf_reserve(&names, st->names.len);
	buf_append(out, &h, sizeof(h));
	recs_at = out->len;
	for (size_t i = 0; i < st->n; i++) {
		struct ix_msg m = st->msgs[i];
		size_t nl = ix_names_len(st, &m);

		buf_append(&names, ix_msg_base(st, &m), nl);
		m.name_off = (uint32_t)(names.len - nl);
		buf_append(out, &m, sizeof(m));
	}
	buf_append(out, names.data ? names.data : "", names.len);
	h.names_size = names.len;
	h.body_crc = crc32c(0, out->data + recs_at, out->len - recs_at);
	h.crc = crc32c(0, &h, offsetof(struct ix_snap_hdr, crc));
	memcpy(out->data + recs_at - sizeof(h), &h, sizeof(h));
	buf_free(&names);
}

/* True when the names are the messages' own, in their order, none dead
 * (a state just rebuilt): the image is then the state's arrays as
 * they are. */
static bool ix_names_compact(const struct ix_state *st)
{
	size_t off = 0;

	if (st->dead_names)
		return false;
	for (size_t i = 0; i < st->n; i++) {
		if (st->msgs[i].name_off != off)
			return false;
		off += ix_names_len(st, &st->msgs[i]);
	}
	return off == st->names.len;
}

bool ix_snap_parts(const struct ix_state *st, uint32_t log_seq, uint64_t log_off,
    struct ix_snap_hdr *h, struct iovec iov[3])
{
	size_t recs = st->n * sizeof(struct ix_msg);

	if (!ix_names_compact(st))
		return false;
	ix_snap_hdr_init(h, st, log_seq, log_off);
	h->names_size = st->names.len;
	h->body_crc = crc32c(crc32c(0, st->msgs, recs), st->names.data, st->names.len);
	h->crc = crc32c(0, h, offsetof(struct ix_snap_hdr, crc));
	iov[0] = (struct iovec){h, sizeof(*h)};
	iov[1] = (struct iovec){st->msgs, recs};
	iov[2] = (struct iovec){st->names.data, st->names.len};
	return true;
}

/* True when names[off..] holds base, ext (and odd) NUL-terminated strings
 * inside the area, with a valid base. */
static bool ix_snap_names_ok(const char *names, size_t size, const struct ix_msg *m)
{
	size_t off = m->name_off;
	int parts = (m->state & IXS_ODD) ? 3 : 2;

	for (int i = 0; i < parts; i++) {
		const char *nul;

		if (off >= size || (nul = memchr(names + off, 0, size - off)) == NULL)
			return false;
		if (i == 0 && !ix_name_ok(names + off, (size_t)(nul - (names + off)), false))
			return false;
		off = (size_t)(nul - names) + 1;
	}
	return true;
}

/* The snapshot's header, when data[0..len) is a whole valid image. */
static bool ix_snap_check(const char *data, size_t len, struct ix_snap_hdr *hp)
{
	struct ix_snap_hdr h;

	if (len < sizeof(h))
		return false;
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, IX_SNAP_MAGIC, 8) != 0 || h.hdr_size != sizeof(h) ||
	    h.rec_size != sizeof(struct ix_msg) ||
	    h.crc != crc32c(0, &h, offsetof(struct ix_snap_hdr, crc)))
		return false;
	if (h.count > (1u << 28) || h.names_size > ((uint64_t)1 << 32) ||
	    sizeof(h) + (size_t)h.count * sizeof(struct ix_msg) + h.names_size != len ||
	    crc32c(0, data + sizeof(h), len - sizeof(h)) != h.body_crc || h.uidvalidity == 0)
		return false;
	*hp = h;
	return true;
}

static bool ix_snap_finish(
    struct ix_state *st, const struct ix_snap_hdr *hp, uint32_t *log_seq, uint64_t *log_off);

bool ix_snap_load(
    const char *data, size_t len, struct ix_state *st, uint32_t *log_seq, uint64_t *log_off)
{
	struct ix_snap_hdr h;
	size_t recs;

	if (!ix_snap_check(data, len, &h))
		return false;
	recs = (size_t)h.count * sizeof(struct ix_msg);
	ix_state_init(st);
	st->msgs = xmalloc((h.count ? h.count : 1) * sizeof(struct ix_msg));
	memcpy(st->msgs, data + sizeof(h), recs);
	st->n = st->cap = h.count;
	if (st->cap == 0)
		st->cap = 1;
	buf_append(&st->names, data + sizeof(h) + recs, h.names_size);
	return ix_snap_finish(st, &h, log_seq, log_off);
}

bool ix_snap_adopt(void *map, size_t len, struct ix_state *st, uint32_t *log_seq, uint64_t *log_off)
{
	struct ix_snap_hdr h;
	char *data = map;

	if (!ix_snap_check(data, len, &h)) {
		munmap(map, len);
		return false;
	}
	ix_state_init(st);
	st->msgs = (struct ix_msg *)(void *)(data + sizeof(h));
	st->n = st->cap = h.count;
	st->names.data = data + sizeof(h) + (size_t)h.count * sizeof(struct ix_msg);
	st->names.len = st->names.cap = h.names_size;
	st->map = map;
	st->map_len = len;
	if (ix_snap_finish(st, &h, log_seq, log_off))
		return true;
	return false; /* ix_snap_finish freed the state, and so the mapping */
}

/* Checks the records of a state just loaded and sets it up; false (the
 * state freed) when they are not valid. */
static bool ix_snap_finish(
    struct ix_state *st, const struct ix_snap_hdr *hp, uint32_t *log_seq, uint64_t *log_off)
{
	struct ix_snap_hdr h = *hp;

	for (size_t i = 0; i < st->n; i++) {
		if ((i && st->msgs[i].uid <= st->msgs[i - 1].uid) || st->msgs[i].uid == 0 ||
		    !ix_snap_names_ok(st->names.data, h.names_size, &st->msgs[i])) {
			ix_state_free(st);
			return false;
		}
	}
	st->uidvalidity = h.uidvalidity;
	st->next_uid = h.next_uid;
	if (st->n && st->next_uid <= st->msgs[st->n - 1].uid)
		st->next_uid = st->msgs[st->n - 1].uid + 1;
	st->highest_modseq = h.highest_modseq;
	st->cache_seq = h.cache_seq;
	for (size_t i = 0; i < st->n; i++)
		ix_count(st, &st->msgs[i], 1);
	*log_seq = h.log_seq;
	*log_off = h.log_off;
	return true;
}
