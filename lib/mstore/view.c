/*
 * view.c - what one session sees of a folder (mstore.h "VIEWS").
 *
 * The views of a folder in one process share the folder's state (one
 * copy of the records however many sessions look).  A view adds only
 * what makes its numbering stable: the highest UID it has announced
 * (newer messages stay invisible until it syncs) and the messages
 * expunged since its last sync (kept, with their metadata, so they still
 * hold their sequence numbers).  Sequence number k is the k-th smallest
 * UID of (state messages up to last_uid) + (pending expunged).
 *
 * \Recent goes, as in Dovecot, to the first read-write view that syncs a
 * message: the log header's first_recent_uid moves past it; that view
 * also moves the messages from new/ to cur/ (no modseq: not a change).
 * Before a sync shows new UIDs, dovecot-uidlist is fdatasync'ed: a
 * delivery appends its UID record without a sync of its own, and a UID a
 * client has seen must survive a crash.
 */
#include "mstore/mstore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mstore/cache.h"
#include "util.h"

#define MV_FILLS_MAX 1000
#define MV_CACHE_QUEUE_MAX (1024 * 1024) /* cache bytes queued before a write */

/* Number of state messages with uid <= u. */
static size_t mv_rank(const struct ix_state *st, uint32_t u)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->msgs[mid].uid <= u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t mv_count_now(const struct mstore_view *v)
{
	return (uint32_t)(mv_rank(&v->f->st, v->last_uid) + v->npend);
}

void mf_views_expunged(void *ctx, const struct ix_msg *m, const char *names)
{
	struct mstore_folder *f = ctx;

	for (struct mstore_view *v = f->views; v; v = v->next) {
		size_t at;

		if (m->uid > v->last_uid)
			continue;
		if (v->npend == v->cappend) {
			v->cappend = v->cappend ? v->cappend * 2 : 16;
			v->pend = xreallocarray(v->pend, v->cappend, sizeof(*v->pend));
		}
		/* keep pend sorted by uid */
		for (at = v->npend; at > 0 && v->pend[at - 1].uid > m->uid; at--)
			;
		memmove(&v->pend[at + 1], &v->pend[at], (v->npend - at) * sizeof(*v->pend));
		v->pend[at] = *m;
		v->pend[at].name_off = (uint32_t)v->pend_names.len;
		v->pend[at].state &= ~IXS_ODD;
		buf_puts(&v->pend_names, names + m->name_off); /* base */
		buf_putc(&v->pend_names, 0);
		const char *ext = names + m->name_off + strlen(names + m->name_off) + 1;

		buf_puts(&v->pend_names, ext);
		buf_putc(&v->pend_names, 0);
		v->npend++;
	}
}

static bool mv_recent(const struct mstore_view *v, uint32_t uid)
{
	for (size_t i = 0; i < v->nrecent; i++)
		if (uid >= v->recent[i][0] && uid <= v->recent[i][1])
			return true;
	return false;
}

static void mv_fill_msg(const struct mstore_view *v, const struct ix_msg *m, uint32_t seq,
    bool gone, struct mstore_msg *out)
{
	out->seq = seq;
	out->uid = m->uid;
	out->flags = ms_upper_to_flags(m->upper);
	if (mv_recent(v, m->uid))
		out->flags |= MSTORE_F_RECENT;
	out->keywords = m->kw;
	out->modseq = m->modseq;
	out->expunged = gone;
}

/* Finds the view's message at seq: the state entry or a pending one. */
static const struct ix_msg *mv_at(struct mstore_view *v, uint32_t seq, bool *gone)
{
	const struct ix_state *st = &v->f->st;

	*gone = false;
	if (seq == 0 || seq > v->count)
		return NULL;
	for (size_t j = 0; j < v->npend; j++) {
		size_t pos = mv_rank(st, v->pend[j].uid) + j + 1;

		if (pos == seq) {
			*gone = true;
			return &v->pend[j];
		}
		if (pos > seq)
			return &st->msgs[seq - j - 1];
	}
	size_t idx = seq - v->npend - 1;

	return idx < st->n && st->msgs[idx].uid <= v->last_uid ? &st->msgs[idx] : NULL;
}

static long mv_pend_find(const struct mstore_view *v, uint32_t uid)
{
	for (size_t j = 0; j < v->npend; j++)
		if (v->pend[j].uid == uid)
			return (long)j;
	return -1;
}

/* The index of uid in the state, or -1.  Commands walk a folder in UID
 * order (FETCH 1:*, SEARCH, STORE over a range): the message after the
 * last one found is tried before a binary search. */
static long mv_find(struct mstore_view *v, uint32_t uid)
{
	const struct ix_state *st = &v->f->st;
	long at;

	for (size_t h = v->hint; h < v->hint + 2 && h < st->n; h++)
		if (st->msgs[h].uid == uid)
			return (long)(v->hint = h);
	at = ix_state_find(st, uid);
	if (at >= 0)
		v->hint = (size_t)at;
	return at;
}

/* The message with uid in the view, and its sequence number. */
static const struct ix_msg *mv_by_uid(
    struct mstore_view *v, uint32_t uid, uint32_t *seq, bool *gone)
{
	const struct ix_state *st = &v->f->st;
	long at, j;

	*gone = false;
	if (uid == 0 || uid > v->last_uid)
		return NULL;
	at = mv_find(v, uid);
	if (at >= 0) {
		size_t before = 0;

		while (before < v->npend && v->pend[before].uid < uid)
			before++;
		*seq = (uint32_t)(at + 1 + (long)before);
		return &st->msgs[at];
	}
	j = mv_pend_find(v, uid);
	if (j < 0)
		return NULL;
	*gone = true;
	*seq = (uint32_t)(mv_rank(st, uid) + (size_t)j + 1);
	return &v->pend[j];
}

/* ---- opening ---- */

/* Takes \Recent for the messages no session took yet, and moves them
 * from new/ to cur/ (lock held, state current). */
static int mv_claim_locked(struct mstore_view *v)
{
	struct mstore_folder *f = v->f;
	struct buf recs = BUF_INIT, items = BUF_INIT, from = BUF_INIT, to = BUF_INIT;
	uint32_t first = f->lh.first_recent_uid, last = v->last_uid;
	size_t nitems = 0;
	int r = 0;

	if (first > last)
		return 0;
	v->recent = xreallocarray(v->recent, v->nrecent + 1, sizeof(*v->recent));
	v->recent[v->nrecent][0] = first;
	v->recent[v->nrecent][1] = last;
	v->nrecent++;
	for (size_t i = mv_rank(&f->st, first - 1); i < f->st.n && f->st.msgs[i].uid <= last; i++) {
		struct ix_msg *m = &f->st.msgs[i];
		const char *base;

		v->nrecent_msgs++;
		if (!(m->state & IXS_NEW))
			continue;
		buf_reset(&from);
		buf_reset(&to);
		mf_msg_name(f, m, &from);
		base = ix_msg_base(&f->st, m);
		mdname_build(&to, base, strlen(base), true, m->upper, m->kw);
		if (renameat(f->new_fd, buf_cstr(&from), f->cur_fd, buf_cstr(&to)) == 0) {
			struct ix_flags fl = {m->uid, m->upper, m->kw, 0};

			buf_append(&items, &fl, sizeof(fl));
			nitems++;
		}
	}
	if (nitems) {
		size_t rec = ix_rec_begin(&recs, IXR_FLAGS, 0);

		buf_append(&recs, items.data, items.len);
		ix_rec_set_count(&recs, rec, (uint32_t)nitems);
		ix_rec_end(&recs, rec);
	}
	f->lh.first_recent_uid = last + 1;
	r = mf_commit(f, &recs);
	buf_free(&recs);
	buf_free(&items);
	buf_free(&from);
	buf_free(&to);
	return r;
}

void mv_claim_recent(struct mstore_view *v)
{
	struct mstore_folder *f = v->f;

	if ((v->flags & MSTORE_VIEW_READONLY) || f->lh.first_recent_uid > v->last_uid)
		return;
	if (mf_lock(f) < 0)
		return;
	if (mf_locked_header(f) == 0)
		mv_claim_locked(v);
	mf_unlock(f);
}

/* A UID about to be shown must be durable in dovecot-uidlist. */
static void mv_sync_uidlist(struct mstore_folder *f)
{
	struct stat st;
	int fd;

	if (f->lh.stamp.ul_size <= f->lh.ul_synced || f->lh.stamp.ul_size <= f->ul_synced)
		return; /* the writer synced it, or we did */
	fd = openat(f->dfd, UIDLIST_NAME, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && fdatasync(fd) == 0)
			f->ul_synced = (uint64_t)st.st_size;
		close(fd);
	}
}

int mstore_view_open(struct mstore *s, const char *name, unsigned flags, struct mstore_view **out)
{
	struct mstore_folder *f = mf_get(s, name, false);
	struct mstore_view *v;

	*out = NULL;
	if (f == NULL)
		return -1;
	if (mf_load(f) < 0) {
		mf_put(f);
		return -1;
	}
	v = xcalloc(1, sizeof(*v));
	v->f = f;
	v->flags = flags;
	v->last_uid = f->st.n ? f->st.msgs[f->st.n - 1].uid : 0;
	v->count = (uint32_t)f->st.n;
	v->known_modseq = f->st.highest_modseq;
	v->next = f->views;
	f->views = v;
	if (f->st.n)
		mv_sync_uidlist(f);
	mv_claim_recent(v);
	*out = v;
	return 0;
}

void mstore_view_close(struct mstore_view *v)
{
	struct mstore_view **pp;
	struct mstore_folder *f;

	if (v == NULL)
		return;
	f = v->f;
	mf_flush(f);
	for (pp = &f->views; *pp; pp = &(*pp)->next) {
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	}
	if (v->notify && f->views == NULL)
		mn_unwatch(f);
	free(v->pend);
	buf_free(&v->pend_names);
	free(v->recent);
	free(v);
	mf_put(f);
}

const char *mstore_view_name(const struct mstore_view *v)
{
	return v->f->name;
}

uint32_t mstore_view_count(const struct mstore_view *v)
{
	return v->count;
}

uint32_t mstore_view_recent(const struct mstore_view *v)
{
	return v->nrecent_msgs;
}

uint32_t mstore_view_uidvalidity(const struct mstore_view *v)
{
	return v->f->st.uidvalidity;
}

uint32_t mstore_view_uidnext(const struct mstore_view *v)
{
	uint32_t n = v->f->st.next_uid;

	return v->f->lh.next_uid > n ? v->f->lh.next_uid : n;
}

uint64_t mstore_view_highest_modseq(const struct mstore_view *v)
{
	return v->f->st.highest_modseq;
}

uint32_t mstore_view_first_unseen(const struct mstore_view *v)
{
	for (uint32_t seq = 1; seq <= v->count; seq++) {
		bool gone;
		const struct ix_msg *m = mv_at((struct mstore_view *)v, seq, &gone);

		if (m && !(m->upper & MDF_SEEN))
			return seq;
	}
	return 0;
}

/* ---- messages ---- */

int mstore_view_msg(struct mstore_view *v, uint32_t seq, struct mstore_msg *m)
{
	bool gone;
	const struct ix_msg *x = mv_at(v, seq, &gone);

	if (x == NULL)
		return -1;
	mv_fill_msg(v, x, seq, gone, m);
	return 0;
}

int mstore_view_msg_uid(struct mstore_view *v, uint32_t uid, struct mstore_msg *m)
{
	uint32_t seq = 0;
	bool gone;
	const struct ix_msg *x = mv_by_uid(v, uid, &seq, &gone);

	if (x == NULL)
		return -1;
	mv_fill_msg(v, x, seq, gone, m);
	return 0;
}

uint32_t mstore_view_seq(struct mstore_view *v, uint32_t uid)
{
	uint32_t seq = 0;
	bool gone;

	return mv_by_uid(v, uid, &seq, &gone) ? seq : 0;
}

uint32_t mstore_view_uid(struct mstore_view *v, uint32_t seq)
{
	bool gone;
	const struct ix_msg *x = mv_at(v, seq, &gone);

	return x ? x->uid : 0;
}

const char *mstore_view_keyword(struct mstore_view *v, unsigned idx)
{
	if (idx >= MD_KEYWORDS_MAX || kf_read(v->f) < 0)
		return NULL;
	return v->f->kw.name[idx];
}

int mstore_view_keyword_index(struct mstore_view *v, const char *name)
{
	if (kf_read(v->f) < 0)
		return -1;
	return keywords_find(&v->f->kw, name);
}

/* Queues a FILL for uid (flushed with the next lock taken). */
static void mv_fill(struct mstore_folder *f, const struct ix_fill *fl)
{
	buf_append(&f->fills, fl, sizeof(*fl));
	if (++f->nfills >= MV_FILLS_MAX)
		mf_flush(f);
}

/* Opens the file of m, rescanning once when it moved. */
static int mv_open_file(struct mstore_view *v, uint32_t uid, struct stat *st)
{
	struct mstore_folder *f = v->f;
	struct buf name = BUF_INIT;
	int fd = -1;

	for (int tries = 0; tries < 2 && fd < 0; tries++) {
		long at = ix_state_find(&f->st, uid);

		if (at < 0)
			break;
		buf_reset(&name);
		mf_msg_name(f, &f->st.msgs[at], &name);
		fd =
		    openat(mf_msg_dirfd(f, &f->st.msgs[at]), buf_cstr(&name), O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT) {
			ms_fail_errno(f->store, "open", buf_cstr(&name));
			buf_free(&name);
			return -2;
		}
		if (fd < 0 && tries == 0) {
			/* renamed by someone (new flags) or gone: look again */
			if (mf_lock(f) < 0)
				break;
			if (mf_locked_header(f) == 0)
				mf_rescan(f, true);
			mf_unlock(f);
		}
	}
	buf_free(&name);
	if (fd >= 0 && st && fstat(fd, st) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		ms_fail(f->store, MSTORE_EEXPUNGED, "message %u is expunged", uid);
	return fd;
}

int mstore_view_open_msg(struct mstore_view *v, uint32_t uid)
{
	uint32_t seq;
	bool gone;

	if (mv_by_uid(v, uid, &seq, &gone) == NULL || gone)
		return ms_fail(v->f->store, MSTORE_EEXPUNGED, "message %u is expunged", uid);
	int fd = mv_open_file(v, uid, NULL);

	return fd < 0 ? -1 : fd;
}

int mstore_view_sizes(struct mstore_view *v, uint32_t uid, uint64_t *size, uint64_t *vsize)
{
	struct ix_fill fl = {uid, IX_NOSIZE, IX_NOSIZE, 0, IX_NODATE, IX_NODATE};
	uint32_t seq;
	bool gone;
	const struct ix_msg *m = mv_by_uid(v, uid, &seq, &gone);
	uint64_t s, vs;
	int fd;

	if (m == NULL)
		return ms_fail(v->f->store, MSTORE_ENOTFOUND, "no message %u", uid);
	if (m->size != IX_NOSIZE && m->vsize != IX_NOSIZE) {
		*size = m->size;
		*vsize = m->vsize;
		return 0;
	}
	if (gone || (fd = mv_open_file(v, uid, NULL)) < 0)
		return ms_fail(v->f->store, MSTORE_EEXPUNGED, "message %u is expunged", uid);
	char block[65536], last = '\n';
	off_t off = 0;
	ssize_t n;

	vs = 0;
	while ((n = pread(fd, block, sizeof(block), off)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (block[i] == '\n' && last != '\r')
				vs++;
			last = block[i];
		}
		off += n;
	}
	close(fd);
	s = (uint64_t)off;
	vs += s;
	*size = s;
	*vsize = vs;
	if (s < IX_NOSIZE && vs < IX_NOSIZE) {
		long at = mv_find(v, uid);

		fl.size = (uint32_t)s;
		fl.vsize = (uint32_t)vs;
		if (at >= 0) {
			/* counters stay right: vsize becomes known */
			v->f->st.vsize_unknown -= v->f->st.msgs[at].vsize == IX_NOSIZE;
			v->f->st.vsize_sum += vs;
			v->f->st.msgs[at].size = fl.size;
			v->f->st.msgs[at].vsize = fl.vsize;
		}
		mv_fill(v->f, &fl);
	}
	return 0;
}

int mstore_view_dates(struct mstore_view *v, uint32_t uid, time_t *internal, time_t *saved)
{
	struct ix_fill fl = {uid, IX_NOSIZE, IX_NOSIZE, 0, IX_NODATE, IX_NODATE};
	uint32_t seq;
	bool gone;
	const struct ix_msg *m = mv_by_uid(v, uid, &seq, &gone);
	struct stat st;
	int fd;

	if (m == NULL)
		return ms_fail(v->f->store, MSTORE_ENOTFOUND, "no message %u", uid);
	if (m->idate != IX_NODATE && m->sdate != IX_NODATE) {
		*internal = (time_t)m->idate;
		*saved = (time_t)m->sdate;
		return 0;
	}
	if (gone || (fd = mv_open_file(v, uid, &st)) < 0)
		return ms_fail(v->f->store, MSTORE_EEXPUNGED, "message %u is expunged", uid);
	close(fd);
	fl.idate = m->idate != IX_NODATE ? m->idate : st.st_mtim.tv_sec;
	fl.sdate = m->sdate != IX_NODATE ? m->sdate : st.st_ctim.tv_sec;
	*internal = (time_t)fl.idate;
	*saved = (time_t)fl.sdate;
	long at = mv_find(v, uid);

	if (at >= 0) {
		v->f->st.msgs[at].idate = fl.idate;
		v->f->st.msgs[at].sdate = fl.sdate;
	}
	mv_fill(v->f, &fl);
	return 0;
}

static const char *mv_names(const struct mstore_view *v, const struct ix_msg *m, bool gone)
{
	return gone ? v->pend_names.data + m->name_off : ix_msg_base(&v->f->st, m);
}

void mstore_view_guid(struct mstore_view *v, uint32_t uid, struct buf *out)
{
	uint32_t seq;
	bool gone;
	const struct ix_msg *m = mv_by_uid(v, uid, &seq, &gone);
	const char *base, *ext, *val;
	size_t vlen;

	if (m == NULL)
		return;
	base = mv_names(v, m, gone);
	ext = base + strlen(base) + 1;
	if (uidlist_ext_get(ext, strlen(ext), 'G', &val, &vlen))
		buf_append(out, val, vlen);
	else
		buf_puts(out, base);
}

void mstore_view_pop3_uidl(struct mstore_view *v, uint32_t uid, struct buf *out)
{
	uint32_t seq;
	bool gone;
	const struct ix_msg *m = mv_by_uid(v, uid, &seq, &gone);
	const char *base, *ext, *val;
	size_t vlen;

	if (m == NULL)
		return;
	base = mv_names(v, m, gone);
	ext = base + strlen(base) + 1;
	if (uidlist_ext_get(ext, strlen(ext), 'P', &val, &vlen))
		buf_append(out, val, vlen);
	else /* pop3_uidl_format = %08Xu%08Xv: Dovecot's X is lower-case hex */
		buf_printf(out, "%08x%08x", uid, v->f->st.uidvalidity);
}

/* ---- syncing ---- */

int mstore_view_sync(struct mstore_view *v, unsigned flags, const struct mstore_sync_cb *cb)
{
	struct mstore_folder *f = v->f;
	uint32_t old_last = v->last_uid, old_count = v->count;
	uint64_t known = v->known_modseq;

	mf_flush(f);
	if (mf_refresh(f, true) < 0)
		return -1;
	if (!(flags & MSTORE_SYNC_NO_EXPUNGE) && v->npend) {
		for (size_t j = v->npend; j-- > 0;) {
			uint32_t seq = (uint32_t)(mv_rank(&f->st, v->pend[j].uid) + j + 1);

			if (cb && cb->expunge)
				cb->expunge(cb->ctx, seq, v->pend[j].uid);
			v->npend--;
		}
		buf_reset(&v->pend_names);
	}
	if (f->st.n && f->st.msgs[f->st.n - 1].uid > v->last_uid) {
		mv_sync_uidlist(f);
		v->last_uid = f->st.msgs[f->st.n - 1].uid;
		mv_claim_recent(v);
	}
	v->count = mv_count_now(v);
	if (cb && cb->exists && (v->count != old_count || v->last_uid != old_last))
		cb->exists(cb->ctx, v->count, v->nrecent_msgs);
	if (f->st.highest_modseq > known) {
		size_t end = mv_rank(&f->st, old_last);

		for (size_t i = 0; i < end && cb && cb->flags; i++) {
			const struct ix_msg *m = &f->st.msgs[i];

			if (m->modseq > known) {
				struct mstore_msg mm;
				uint32_t seq = 0;
				bool gone;

				mv_by_uid(v, m->uid, &seq, &gone);
				mv_fill_msg(v, m, seq, false, &mm);
				cb->flags(cb->ctx, &mm);
			}
		}
		v->known_modseq = f->st.highest_modseq;
	}
	return 0;
}

bool mstore_view_changed(struct mstore_view *v)
{
	struct mstore_folder *f = v->f;
	struct ix_log_hdr h;
	bool a, b, c, d;

	if (v->npend || (f->st.n && f->st.msgs[f->st.n - 1].uid > v->last_uid))
		return true;
	if (pread(f->log_fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || !ix_log_hdr_valid(&h) ||
	    h.valid_end != f->lh.valid_end || h.seq != f->lh.seq || (h.flags & IX_LOG_ROTATED))
		return true;
	return !mf_stamp_current(f, &a, &b, &c, &d);
}

/* ---- CONDSTORE / QRESYNC ---- */

void mstore_view_changed_since(struct mstore_view *v, uint64_t modseq,
    void (*fn)(void *ctx, const struct mstore_msg *m), void *ctx)
{
	const struct ix_state *st = &v->f->st;
	size_t end = mv_rank(st, v->last_uid);

	for (size_t i = 0; i < end; i++) {
		if (st->msgs[i].modseq > modseq) {
			struct mstore_msg mm;
			uint32_t seq = 0;
			bool gone;

			mv_by_uid(v, st->msgs[i].uid, &seq, &gone);
			mv_fill_msg(v, &st->msgs[i], seq, false, &mm);
			fn(ctx, &mm);
		}
	}
}

static int mv_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int mstore_view_expunged_since(
    struct mstore_view *v, uint64_t modseq, uint32_t **uids, size_t *n, bool *exact)
{
	struct mstore_folder *f = v->f;
	uint32_t *out = NULL;
	size_t cnt = 0, cap = 0;

	*exact = modseq >= f->lh.first_modseq;
	if (*exact) {
		size_t len = (size_t)(f->lh.valid_end - IX_LOG_HDR_SIZE), off = 0;
		char *data = xmalloc(len ? len : 1);

		if (pread(f->log_fd, data, len, IX_LOG_HDR_SIZE) != (ssize_t)len) {
			free(data);
			*exact = false;
		} else {
			while (off < len) {
				struct ix_rec_hdr h;
				uint32_t size;

				if (ix_rec_check(data + off, len - off, &size) != 1)
					break;
				memcpy(&h, data + off, sizeof(h));
				if (h.type == IXR_EXPUNGE && h.modseq > modseq) {
					for (uint32_t i = 0; i < h.count; i++) {
						if (cnt == cap) {
							cap = cap ? cap * 2 : 64;
							out = xreallocarray(out, cap, sizeof(*out));
						}
						memcpy(
						    &out[cnt++], data + off + sizeof(h) + i * 4, 4);
					}
				}
				off += size;
			}
			free(data);
		}
	}
	if (!*exact) {
		/* Every UID below UIDNEXT that no message has: a superset. */
		uint32_t next = mstore_view_uidnext(v);
		size_t j = 0;

		cnt = 0;
		for (uint32_t u = 1; u < next; u++) {
			while (j < f->st.n && f->st.msgs[j].uid < u)
				j++;
			if (j < f->st.n && f->st.msgs[j].uid == u)
				continue;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 64;
				out = xreallocarray(out, cap, sizeof(*out));
			}
			out[cnt++] = u;
		}
	}
	if (cnt)
		qsort(out, cnt, sizeof(*out), mv_cmp_u32);
	*uids = out;
	*n = cnt;
	return 0;
}

/* ---- thread ids ---- */

uint32_t mstore_view_thread(struct mstore_view *v, uint32_t uid)
{
	uint32_t seq;
	bool gone;
	const struct ix_msg *m = mv_by_uid(v, uid, &seq, &gone);

	return m ? m->thread_id : 0;
}

int mstore_view_set_thread(struct mstore_view *v, uint32_t uid, uint32_t thread)
{
	long at = mv_find(v, uid);
	struct ix_cache t = {uid, thread};

	if (at < 0)
		return ms_fail(v->f->store, MSTORE_EEXPUNGED, "message %u is expunged", uid);
	v->f->st.msgs[at].thread_id = thread;
	buf_append(&v->f->threads, &t, sizeof(t));
	if (++v->f->nthreads >= MV_FILLS_MAX)
		mf_flush(v->f);
	return 0;
}

/* ---- the cache ---- */

int mstore_cache_field(struct mstore_view *v, const char *name, unsigned type)
{
	return mc_field(v->f, name, type);
}

bool mstore_cache_get(
    struct mstore_view *v, uint32_t uid, int field, const void **data, size_t *len)
{
	long at = mv_find(v, uid);

	return at >= 0 && mc_get(v->f, &v->f->st.msgs[at], field, data, len);
}

int mstore_cache_put(struct mstore_view *v, uint32_t uid, int field, const void *data, size_t len)
{
	if (mv_find(v, uid) < 0)
		return ms_fail(v->f->store, MSTORE_EEXPUNGED, "message %u is expunged", uid);
	mc_put(v->f, uid, field, data, len);
	/* A command filling the cache for a whole folder (SEARCH FROM,
	 * FETCH ENVELOPE 1:*) writes as it goes: memory stays bounded. */
	if (mc_queued_bytes(v->f->cache) >= MV_CACHE_QUEUE_MAX)
		mf_flush(v->f);
	return 0;
}
