/*
 * schedule.c - when deferred mail is tried again.
 *
 * A deferred message waits in deferred/ with its next retry time as the
 * file's mtime (so the time survives a restart and the operator can see
 * it).  In memory, the retry times sit in a binary min-heap of (due, qid)
 * and one event timer is armed for the earliest.  The heap may hold stale
 * items (a message rescheduled, flushed or removed since): the qset entry
 * is the truth, and a popped item that disagrees with it is dropped.
 *
 * The back-off follows Postfix: the wait before the next try equals the
 * message's age, clamped to [minimal_backoff_time, maximal_backoff_time],
 * so young mail is retried soon and old mail rarely.
 *
 * Not here: per-destination state (slow start, dead destinations:
 * deliver.c); a message's retry time does not depend on its destinations.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "qmgr.h"
#include "queue.h"
#include "util.h"

void sched_heap_init(struct sched_heap *h)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
}

void sched_heap_free(struct sched_heap *h)
{
	free(h->v);
	sched_heap_init(h);
}

static void sched_swap(struct sched_item *a, struct sched_item *b)
{
	struct sched_item t = *a;

	*a = *b;
	*b = t;
}

void sched_heap_push(struct sched_heap *h, long long due, const char *qid)
{
	size_t i, parent;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	i = h->n++;
	h->v[i].due = due;
	strlcpy(h->v[i].qid, qid, sizeof(h->v[i].qid));
	while (i > 0) {
		parent = (i - 1) / 2;
		if (h->v[parent].due <= h->v[i].due)
			break;
		sched_swap(&h->v[parent], &h->v[i]);
		i = parent;
	}
}

const struct sched_item *sched_heap_peek(const struct sched_heap *h)
{
	return h->n ? &h->v[0] : NULL;
}

bool sched_heap_pop(struct sched_heap *h, struct sched_item *out)
{
	size_t i = 0, l, r, m;

	if (h->n == 0)
		return false;
	*out = h->v[0];
	h->v[0] = h->v[--h->n];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < h->n && h->v[l].due < h->v[m].due)
			m = l;
		if (r < h->n && h->v[r].due < h->v[m].due)
			m = r;
		if (m == i)
			break;
		sched_swap(&h->v[i], &h->v[m]);
		i = m;
	}
	return true;
}

long long qmgr_backoff_next(long long now, long long arrival, long min_backoff, long max_backoff)
{
	long long wait = now - arrival;

	if (max_backoff < min_backoff)
		max_backoff = min_backoff;
	if (wait < min_backoff)
		wait = min_backoff;
	if (wait > max_backoff)
		wait = max_backoff;
	return now + wait;
}

/* Postfix semantics: a lifetime of 0 means one delivery attempt only. */
bool qmgr_expired(long long now, long long arrival, long lifetime)
{
	return now - arrival >= lifetime;
}

void qmgr_dsn_final(const char *dsn, char *out, size_t outlen)
{
	/* RFC 3463: class 4 is "persistent transient"; once we give up the
	 * same subject/detail becomes a permanent failure.  5.4.7 is
	 * "delivery time expired" for a result without a usable code. */
	if (dsn && dsn[0] == '4' && dsn[1] == '.' && strlen(dsn) < outlen)
		snprintf(out, outlen, "5%s", dsn + 1);
	else if (dsn && dsn[0] == '5' && dsn[1] == '.')
		strlcpy(out, dsn, outlen);
	else
		strlcpy(out, "5.4.7", outlen);
}

static void sched_fire(struct event_loop *loop, void *ctx);

/* Arms the timer for the earliest item, unless it is due already while
 * the active limit is reached (a finishing message kicks us then). */
static void sched_arm(struct qmgr *q, bool full)
{
	const struct sched_item *top = sched_heap_peek(&q->heap);
	long long now = time(NULL), ms;

	if (top == NULL || (full && top->due <= now))
		return;
	if (q->sched_timer && q->sched_armed <= top->due)
		return;
	if (q->sched_timer)
		event_timer_cancel(q->loop, q->sched_timer);
	ms = top->due > now ? (top->due - now) * 1000 : 0;
	q->sched_timer = event_timer_add(q->loop, (long)ms, sched_fire, q);
	q->sched_armed = top->due;
}

static void sched_fire(struct event_loop *loop, void *ctx)
{
	struct qmgr *q = ctx;

	(void)loop;
	q->sched_timer = NULL;
	sched_run(q);
}

void sched_add(struct qmgr *q, const char *qid, long long due)
{
	struct qset_entry *e = qset_add(&q->known, qid, NULL);

	e->state = QSET_SCHEDULED;
	e->due = due;
	e->msg = NULL;
	sched_heap_push(&q->heap, due, qid);
	sched_arm(q, false);
}

/* True when item still describes what the qset knows. */
static bool sched_current(struct qmgr *q, const struct sched_item *it)
{
	struct qset_entry *e = qset_get(&q->known, it->qid);

	return e && e->state == QSET_SCHEDULED && e->due == it->due;
}

void sched_run(struct qmgr *q)
{
	const struct sched_item *top;
	struct sched_item it;
	long long now = time(NULL);
	bool full = false;

	while ((top = sched_heap_peek(&q->heap)) && top->due <= now) {
		if (!sched_current(q, top)) {
			sched_heap_pop(&q->heap, &it);
			continue;
		}
		if (q->draining || q->active >= q->cf.active_limit) {
			full = true;
			break;
		}
		sched_heap_pop(&q->heap, &it);
		if (!msg_activate(q, it.qid, QUEUE_DEFERRED)) {
			/* recipient limit: it waits for a finishing message */
			sched_heap_push(&q->heap, it.due, it.qid);
			full = true;
			break;
		}
	}
	sched_arm(q, full);
}

static void qmgr_kick_fire(struct event_loop *loop, void *ctx)
{
	struct qmgr *q = ctx;

	(void)loop;
	q->kick_timer = NULL;
	if (q->backlog)
		scan_incoming(q);
	sched_run(q);
}

/* Runs from the loop rather than at once, so a message that finishes
 * inside another's activation cannot recurse into more activations. */
void qmgr_kick(struct qmgr *q)
{
	if (q->kick_timer == NULL)
		q->kick_timer = event_timer_add(q->loop, 0, qmgr_kick_fire, q);
}
