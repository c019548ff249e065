/*
 * bydate.c - each folder's messages in receivedAt order, kept between
 * requests, for Email/query's usual page (RFC 8621 section 4.4: the
 * newest 50 of a mailbox).
 *
 * Without it every query reads the dates of every message of the folder
 * and sorts them: on a 100,000-message INBOX that is most of a request.
 * Here the first query of a folder sorts (receivedAt, UID) once; later
 * ones bring the list up to date from what changed since: the UIDs the
 * folder's change log lists as expunged after the list's HIGHESTMODSEQ
 * leave it, the messages above its highest UID join it (sorted, merged),
 * and flag changes need nothing (a message's INTERNALDATE never
 * changes).  Whenever that cannot be exact (the result does not have
 * the view's count) the list is built again, so a query never sees a
 * stale list.  A folder's list is kept by UIDVALIDITY (a folder made
 * again under the same name is another list) until the process exits.
 *
 * Not here: filters (a query with a condition other than inMailbox
 * tests every message, query.c) and the size sort.
 */
#include <stdlib.h>
#include <string.h>

#include "jmap_int.h"
#include "util.h"

struct bydate {
	uint32_t uv;
	uint64_t modseq;   /* the folder's HIGHESTMODSEQ the list is of */
	uint32_t count;	   /* the view's count then */
	uint32_t last_uid; /* the highest UID in the view then */
	struct jmap_dated *e;
	size_t n, cap;
	struct bydate *next;
};

static struct bydate *lists;

static int dated_cmp(const void *a, const void *b)
{
	const struct jmap_dated *x = a, *y = b;

	if (x->received != y->received)
		return x->received < y->received ? -1 : 1;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static void add(struct bydate *b, struct mstore_view *v, uint32_t seq)
{
	struct mstore_msg m;
	time_t received, saved;

	if (mstore_view_msg(v, seq, &m) < 0 || m.expunged)
		return;
	if (mstore_view_dates(v, m.uid, &received, &saved) < 0)
		received = 0; /* as query.c's filter loop sees it */
	if (b->n == b->cap)
		b->e = xreallocarray(b->e, b->cap = b->cap ? b->cap * 2 : 256, sizeof(*b->e));
	b->e[b->n++] = (struct jmap_dated){.received = received, .uid = m.uid};
}

/* The first sequence number whose UID is above uid (count + 1: none);
 * a view's UIDs ascend with its sequence numbers. */
static uint32_t seq_above(struct mstore_view *v, uint32_t count, uint32_t uid)
{
	uint32_t lo = 1, hi = count + 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mstore_view_uid(v, mid) > uid)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void build(struct bydate *b, struct mstore_view *v)
{
	uint32_t count = mstore_view_count(v);

	b->n = 0;
	for (uint32_t seq = 1; seq <= count; seq++)
		add(b, v, seq);
	if (b->n > 1)
		qsort(b->e, b->n, sizeof(*b->e), dated_cmp);
}

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Drops the expunged UIDs; false when the log cannot say.  When it no
 * longer reaches back, the UIDs are every one without a message: still
 * right to drop. */
static bool drop_expunged(struct bydate *b, struct mstore_view *v)
{
	uint32_t *gone;
	size_t ngone, k = 0;
	bool exact;

	if (mstore_view_expunged_since(v, b->modseq, &gone, &ngone, &exact) < 0)
		return false;
	if (ngone > 0) {
		for (size_t i = 0; i < b->n; i++)
			if (!bsearch(&b->e[i].uid, gone, ngone, sizeof(*gone), uid_cmp))
				b->e[k++] = b->e[i];
		b->n = k;
	}
	free(gone);
	return true;
}

/* Adds the messages above last_uid: sorted among themselves, then
 * merged from the end (new mail is mostly the newest: no move at all). */
static void add_new(struct bydate *b, struct mstore_view *v, uint32_t count)
{
	size_t old = b->n, i, j, k;
	struct jmap_dated *fresh;
	size_t nfresh;

	for (uint32_t seq = seq_above(v, count, b->last_uid); seq <= count; seq++)
		add(b, v, seq);
	nfresh = b->n - old;
	if (nfresh == 0)
		return;
	qsort(b->e + old, nfresh, sizeof(*b->e), dated_cmp);
	if (old == 0 || dated_cmp(&b->e[old - 1], &b->e[old]) < 0)
		return;
	fresh = xcalloc(nfresh, sizeof(*fresh));
	memcpy(fresh, b->e + old, nfresh * sizeof(*fresh));
	i = old;
	j = nfresh;
	k = b->n;
	while (j > 0) {
		if (i > 0 && dated_cmp(&b->e[i - 1], &fresh[j - 1]) > 0)
			b->e[--k] = b->e[--i];
		else
			b->e[--k] = fresh[--j];
	}
	free(fresh);
}

const struct jmap_dated *jmap_bydate(struct mstore_view *v, size_t *n)
{
	uint32_t uv = mstore_view_uidvalidity(v), count = mstore_view_count(v);
	uint32_t last = count ? mstore_view_uid(v, count) : 0;
	uint64_t modseq = mstore_view_highest_modseq(v);
	struct bydate *b;

	for (b = lists; b && b->uv != uv; b = b->next)
		;
	if (b == NULL) {
		b = xcalloc(1, sizeof(*b));
		b->uv = uv;
		b->next = lists;
		lists = b;
		build(b, v);
	} else if (b->modseq != modseq || b->count != count || b->last_uid != last) {
		bool ok = drop_expunged(b, v);

		if (ok)
			add_new(b, v, count);
		if (!ok || b->n != count) /* say, unreported expunges in the view */
			build(b, v);
	}
	b->modseq = modseq;
	b->count = count;
	b->last_uid = last;
	*n = b->n;
	return b->e;
}
