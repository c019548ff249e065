/*
 * imap/thread.c - THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256
 * sections 2.2 and 3), over the keys of imap/sort.h.
 *
 * Threads are containers in one array (messages first, then the dummies
 * that stand for referenced but absent messages) linked by indexes.
 * Every walk is iterative (reply chains of a large mailbox can be tens
 * of thousands deep), and loops are refused when links are made.
 */
#include "sort.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct cont {
	int msg; /* index in msgs, -1 for a dummy */
	int parent, child, next;
	const char *id;
};

struct threads {
	const struct imap_sort_msg *msgs;
	struct cont *c;
	size_t n, cap;
	int *table; /* id hash: container indexes, -1 empty */
	size_t tcap;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int cont_new(struct threads *t, int msg, const char *id)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->c = xreallocarray(t->c, t->cap, sizeof(*t->c));
	}
	t->c[t->n] = (struct cont){msg, -1, -1, -1, id};
	return (int)t->n++;
}

/* The container of id, made (as a dummy) if it does not exist. */
static int cont_of(struct threads *t, const char *id, bool *found)
{
	size_t i = hash_str(id) & (t->tcap - 1);

	while (t->table[i] >= 0) {
		if (strcmp(t->c[t->table[i]].id, id) == 0) {
			*found = true;
			return t->table[i];
		}
		i = (i + 1) & (t->tcap - 1);
	}
	*found = false;
	t->table[i] = cont_new(t, -1, id);
	return t->table[i];
}

/* Is a an ancestor of b (or b itself)? */
static bool is_ancestor(const struct threads *t, int a, int b)
{
	for (; b >= 0; b = t->c[b].parent)
		if (b == a)
			return true;
	return false;
}

static void unlink_cont(struct threads *t, int x)
{
	int p = t->c[x].parent;

	if (p < 0)
		return;
	int *slot = &t->c[p].child;
	while (*slot >= 0 && *slot != x)
		slot = &t->c[*slot].next;
	if (*slot == x)
		*slot = t->c[x].next;
	t->c[x].parent = t->c[x].next = -1;
}

static void link_cont(struct threads *t, int parent, int x)
{
	int *slot = &t->c[parent].child;

	unlink_cont(t, x);
	while (*slot >= 0)
		slot = &t->c[*slot].next;
	*slot = x;
	t->c[x].parent = parent;
	t->c[x].next = -1;
}

/* -------------------------------------------------- REFERENCES step 1 */

static void thread_link_refs(struct threads *t, size_t i)
{
	const struct imap_sort_msg *m = &t->msgs[i];
	bool found;
	int self, prev = -1;

	if (m->message_id && (self = cont_of(t, m->message_id, &found), t->c[self].msg < 0))
		t->c[self].msg = (int)i;
	else
		self = cont_new(t, (int)i, NULL); /* no or duplicate Message-ID */
	for (size_t k = 0; m->references[k]; k++) {
		int r = cont_of(t, m->references[k], &found);

		if (prev >= 0 && r != prev && t->c[r].parent < 0 && !is_ancestor(t, r, prev))
			link_cont(t, prev, r);
		prev = r;
	}
	if (prev >= 0 && prev != self && !is_ancestor(t, self, prev))
		link_cont(t, prev, self);
}

/* ---------------------------------------------- prune, sort, subjects */

/* Containers in breadth-first order from the roots (a list of all). */
static int *thread_order(const struct threads *t, int *roots, size_t nroots, size_t *count)
{
	int *q = xcalloc(t->n + 1, sizeof(int));
	size_t head = 0, tail = 0;

	for (size_t i = 0; i < nroots; i++)
		q[tail++] = roots[i];
	while (head < tail)
		for (int c = t->c[q[head++]].child; c >= 0; c = t->c[c].next)
			q[tail++] = c;
	*count = tail;
	return q;
}

static size_t count_children(const struct threads *t, int x)
{
	size_t n = 0;

	for (int c = t->c[x].child; c >= 0; c = t->c[c].next)
		n++;
	return n;
}

/* RFC 5256 3 step 3: dummies go, their children move up (not into the
 * root set unless alone). Returns the new roots. */
static int *thread_prune(struct threads *t, int *roots, size_t *nroots)
{
	size_t count, nr = 0;
	int *order = thread_order(t, roots, *nroots, &count);
	int *out = xcalloc(t->n + 1, sizeof(int));

	/* Deepest first, so a dummy's children are pruned already. */
	for (size_t k = count; k-- > 0;) {
		int x = order[k], p = t->c[x].parent;

		if (t->c[x].msg >= 0 || p < 0)
			continue;
		while (t->c[x].child >= 0)
			link_cont(t, p, t->c[x].child);
		unlink_cont(t, x);
	}
	for (size_t i = 0; i < *nroots; i++) {
		int x = roots[i];

		if (t->c[x].msg >= 0 || count_children(t, x) > 1) {
			out[nr++] = x;
		} else if (t->c[x].child >= 0) {
			int c = t->c[x].child;

			unlink_cont(t, c);
			out[nr++] = c;
		}
	}
	free(order);
	free(roots);
	*nroots = nr;
	return out;
}

static const struct imap_sort_msg *first_msg(const struct threads *t, int x)
{
	while (t->c[x].msg < 0 && t->c[x].child >= 0)
		x = t->c[x].child;
	return t->c[x].msg >= 0 ? &t->msgs[t->c[x].msg] : NULL;
}

static int date_cmp(const void *a, const void *b, void *arg)
{
	const struct threads *t = arg;
	const struct imap_sort_msg *x = first_msg(t, *(const int *)a);
	const struct imap_sort_msg *y = first_msg(t, *(const int *)b);

	if (!x || !y)
		return !x - !y;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts every sibling list by date, children before parents. */
static void thread_sort_children(struct threads *t, int *roots, size_t nroots)
{
	size_t count;
	int *order = thread_order(t, roots, nroots, &count);
	int *kids = xcalloc(t->n + 1, sizeof(int));

	for (size_t k = count; k-- > 0;) {
		int x = order[k];
		size_t nk = 0;

		for (int c = t->c[x].child; c >= 0; c = t->c[c].next)
			kids[nk++] = c;
		if (nk < 2)
			continue;
		qsort_r(kids, nk, sizeof(int), date_cmp, t);
		t->c[x].child = kids[0];
		for (size_t i = 0; i < nk; i++)
			t->c[kids[i]].next = i + 1 < nk ? kids[i + 1] : -1;
	}
	free(order);
	free(kids);
}

/* RFC 5256 3 step 5: roots with the same base subject are merged. */
static int *thread_group_subjects(struct threads *t, int *roots, size_t *nroots)
{
	size_t nr = *nroots;
	int *subj = xcalloc(nr + 1, sizeof(int)); /* per root: the table entry (root index) */
	int *out = xcalloc(t->n + nr + 1, sizeof(int));
	size_t no = 0;

	for (size_t i = 0; i < nr; i++) {
		const struct imap_sort_msg *m = first_msg(t, roots[i]);

		subj[i] = (int)i;
		if (m == NULL || m->base_subject[0] == 0)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct imap_sort_msg *o = first_msg(t, roots[j]);

			if (subj[j] != (int)j || o == NULL ||
			    strcmp(o->base_subject, m->base_subject) != 0)
				continue;
			/* Prefer a dummy, then a non-reply, as the thread head. */
			bool i_dummy = t->c[roots[i]].msg < 0, j_dummy = t->c[roots[j]].msg < 0;
			bool better =
			    (i_dummy && !j_dummy) ||
			    (!i_dummy && !j_dummy && o->subject_is_reply && !m->subject_is_reply);
			if (better) {
				subj[j] = (int)i;
				for (size_t k = 0; k < j; k++)
					if (subj[k] == (int)j)
						subj[k] = (int)i;
			} else {
				subj[i] = (int)j;
			}
			break;
		}
	}
	for (size_t i = 0; i < nr; i++) {
		int head = roots[subj[i]], x = roots[i];

		if (subj[i] == (int)i) {
			out[no++] = x;
			continue;
		}
		const struct imap_sort_msg *hm = first_msg(t, head), *xm = first_msg(t, x);
		bool hd = t->c[head].msg < 0, xd = t->c[x].msg < 0;

		if (hd && xd) {
			while (t->c[x].child >= 0)
				link_cont(t, head, t->c[x].child);
		} else if (hd) {
			link_cont(t, head, x);
		} else if (xm && hm && xm->subject_is_reply && !hm->subject_is_reply) {
			link_cont(t, head, x);
		} else {
			/* A new dummy holds both; it takes head's place. */
			int d = cont_new(t, -1, NULL);

			for (size_t k = 0; k < no; k++)
				if (out[k] == head)
					out[k] = d;
			for (size_t k = i + 1; k < nr; k++)
				if (roots[subj[k]] == head)
					roots[subj[k]] = d;
			roots[subj[i]] = d;
			link_cont(t, d, head);
			link_cont(t, d, x);
		}
	}
	free(subj);
	free(roots);
	*nroots = no;
	return out;
}

/* ------------------------------------------------------------- output */

struct frame {
	int node;
	int cursor;
	bool started;
};

static void write_thread(const struct threads *t, int root, struct buf *out)
{
	struct frame *st = xcalloc(t->n + 1, sizeof(*st));
	size_t sp = 0;

	buf_putc(out, '(');
	st[sp++] = (struct frame){root, -1, false};
	while (sp > 0) {
		struct frame *f = &st[sp - 1];
		const struct cont *c = &t->c[f->node];

		if (!f->started) {
			f->started = true;
			if (c->msg >= 0) {
				if (out->data[out->len - 1] != '(')
					buf_putc(out, ' ');
				buf_printf(out, "%u", t->msgs[c->msg].id);
			}
			size_t nk = count_children(t, f->node);
			if (nk == 0) {
				sp--;
				buf_putc(out, ')');
			} else if (nk == 1 && c->msg >= 0) {
				f->node = c->child; /* a chain: same parentheses */
				f->started = false;
			} else {
				f->cursor = c->child;
			}
			continue;
		}
		if (f->cursor < 0) {
			sp--;
			buf_putc(out, ')');
			continue;
		}
		int child = f->cursor;
		f->cursor = t->c[child].next;
		if (out->data[out->len - 1] != '(' && out->data[out->len - 1] != ')')
			buf_putc(out, ' ');
		buf_putc(out, '(');
		st[sp++] = (struct frame){child, -1, false};
	}
	free(st);
}

/* -------------------------------------------------------------- entry */

static int subject_date_cmp(const void *a, const void *b, void *arg)
{
	const struct imap_sort_msg *msgs = arg;
	const struct imap_sort_msg *x = &msgs[*(const int *)a], *y = &msgs[*(const int *)b];
	int r = strcmp(x->base_subject, y->base_subject);

	if (r)
		return r;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int *thread_orderedsubject(struct threads *t, size_t *nroots)
{
	size_t n = t->n;
	int *idx = xcalloc(n + 1, sizeof(int)), *roots = xcalloc(n + 1, sizeof(int));
	size_t nr = 0;

	for (size_t i = 0; i < n; i++)
		idx[i] = (int)i;
	qsort_r(idx, n, sizeof(int), subject_date_cmp, (void *)t->msgs);
	for (size_t i = 0; i < n; i++) {
		if (nr > 0 && strcmp(t->msgs[idx[i]].base_subject,
				  t->msgs[t->c[roots[nr - 1]].msg].base_subject) == 0)
			link_cont(t, roots[nr - 1], idx[i]);
		else
			roots[nr++] = idx[i];
	}
	free(idx);
	*nroots = nr;
	return roots;
}

void imap_thread(
    const struct imap_sort_msg *msgs, size_t n, enum imap_thread_alg alg, struct buf *out)
{
	struct threads t;
	int *roots;
	size_t nroots = 0, refs = 0;

	memset(&t, 0, sizeof(t));
	t.msgs = msgs;
	if (alg == IMAP_THREAD_ORDEREDSUBJECT) {
		/* Container i is message i. */
		for (size_t i = 0; i < n; i++)
			cont_new(&t, (int)i, NULL);
		roots = thread_orderedsubject(&t, &nroots);
	} else {
		for (size_t i = 0; i < n; i++)
			refs += strv_len(msgs[i].references) + 1;
		t.tcap = 16;
		while (t.tcap < 2 * refs)
			t.tcap *= 2;
		t.table = xcalloc(t.tcap, sizeof(int));
		memset(t.table, 0xff, t.tcap * sizeof(int));
		for (size_t i = 0; i < n; i++)
			thread_link_refs(&t, i);
		roots = xcalloc(t.n + 1, sizeof(int));
		for (size_t i = 0; i < t.n; i++)
			if (t.c[i].parent < 0)
				roots[nroots++] = (int)i;
		roots = thread_prune(&t, roots, &nroots);
		thread_sort_children(&t, roots, nroots);
		roots = thread_group_subjects(&t, roots, &nroots);
	}
	thread_sort_children(&t, roots, nroots);
	qsort_r(roots, nroots, sizeof(int), date_cmp, &t);
	for (size_t i = 0; i < nroots; i++)
		write_thread(&t, roots[i], out);
	free(roots);
	free(t.c);
	free(t.table);
}
