/*
 * dns_event.c - DNS look-ups inside an event loop: callbacks and polling.
 *
 * c-ares says which sockets to watch (dns_event_sock_state); the loop
 * calls ares_process_fd() when they are ready, and a timer does when
 * c-ares's own time-out is due.  A finished request goes on a list that a
 * zero-delay timer empties, so callbacks never run inside c-ares (which is
 * not reentrant) nor inside dns_request_start() (whose caller may not be
 * ready for them).  A cancelled request stays until c-ares lets go of it,
 * then is freed without a call.
 *
 * The polling layer keeps each answer for a while (the run again must find
 * it) in a small table that forgets the entry expiring first when full, and
 * runs the wake function from its own zero-delay timer, once for all the
 * answers of a round.
 */
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>

#include "dns_resolver.h"
#include "event.h"
#include "log.h"
#include "util.h"

#define DNS_POLL_MAX 8192	    /* answers kept and asked: ~2,000 clients screened at once */
#define DNS_POLL_KEEP_MS 300000	    /* answers and "does not exist" */
#define DNS_POLL_KEEP_MIN_MS 30000  /* a shorter TTL is raised to this */
#define DNS_POLL_KEEP_FAIL_MS 30000 /* temporary failures */

struct dns_request {
	char *name;
	int type;
	dns_answer_fn *fn;
	void *ctx;
	bool asking;	/* c-ares still holds it */
	bool cancelled; /* free it without a call */
	enum dns_status st;
	unsigned char *ans;
	int len;
	struct dns_request *next; /* the finished list */
};

struct dns_poll_entry {
	char *name;
	int type;
	enum dns_status st; /* DNS_PENDING while req runs */
	unsigned char *ans;
	int len;
	long long expires; /* event_now() */
	struct dns_request *req;
};

static struct {
	struct event_loop *loop;
	struct event_timer *timeout;  /* c-ares's time-outs */
	struct event_timer *deliver;  /* finished requests to hand over */
	struct dns_request *finished; /* in order of completion, reversed */
	struct dns_poll_entry *polls[DNS_POLL_MAX];
	size_t npolls;
	void (*wake)(void *);
	void *wake_ctx;
	struct event_timer *wake_timer;
} dns_ev;

/* ------------------------------------------------------------ the loop */

static void dns_event_io(struct event_loop *loop, int fd, int events, void *ctx)
{
	ares_channel ch = dns_channel(NULL);

	(void)loop;
	(void)ctx;
	if (ch == NULL)
		return;
	ares_process_fd(ch, (events & (EV_READ | EV_ERROR)) ? fd : ARES_SOCKET_BAD,
	    (events & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_event_timer();
}

void dns_event_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	(void)data;
	if (dns_ev.loop == NULL)
		return;
	if (readable || writable)
		event_fd_set(dns_ev.loop, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0),
		    dns_event_io, NULL);
	else
		event_fd_del(dns_ev.loop, fd);
}

static void dns_event_timeout(struct event_loop *loop, void *ctx)
{
	ares_channel ch = dns_channel(NULL);

	(void)loop;
	(void)ctx;
	dns_ev.timeout = NULL;
	if (ch != NULL)
		ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_event_timer();
}

void dns_event_timer(void)
{
	ares_channel ch;
	struct timeval tv, *t;

	if (dns_ev.loop == NULL)
		return;
	if (dns_ev.timeout) {
		event_timer_cancel(dns_ev.loop, dns_ev.timeout);
		dns_ev.timeout = NULL;
	}
	if ((ch = dns_channel(NULL)) != NULL && (t = ares_timeout(ch, NULL, &tv)) != NULL)
		dns_ev.timeout = event_timer_add(
		    dns_ev.loop, t->tv_sec * 1000 + t->tv_usec / 1000 + 1, dns_event_timeout, NULL);
}

void dns_event_attach(struct event_loop *loop)
{
	dns_ev.loop = loop;
}

/* ------------------------------------------------------------ requests */

static void dns_request_free(struct dns_request *r)
{
	free(r->name);
	free(r->ans);
	free(r);
}

static void dns_request_deliver(struct event_loop *loop, void *ctx)
{
	struct dns_request *list = dns_ev.finished, *done = NULL, *next;

	(void)loop;
	(void)ctx;
	dns_ev.deliver = NULL;
	dns_ev.finished = NULL;
	for (; list; list = next) { /* back into completion order */
		next = list->next;
		list->next = done;
		done = list;
	}
	/* A callback may start or cancel requests: it only ever touches the
	 * new finished list, or sets a flag on one of these. */
	for (; done; done = next) {
		next = done->next;
		if (!done->cancelled)
			done->fn(done->ctx, done->st, done->ans, done->len);
		dns_request_free(done);
	}
}

static void dns_request_finish(struct dns_request *r, enum dns_status st)
{
	r->asking = false;
	r->st = st;
	r->next = dns_ev.finished;
	dns_ev.finished = r;
	if (dns_ev.deliver == NULL)
		dns_ev.deliver = event_timer_add(dns_ev.loop, 0, dns_request_deliver, NULL);
}

static void dns_request_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_request *r = arg;
	enum dns_status st = dns_status_of(status);

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || r->cancelled) {
		dns_request_free(r);
		return;
	}
	if (abuf && alen > 0)
		dns_cache_put(r->name, r->type, st, abuf, alen);
	if (st == DNS_OK && abuf && alen > 0) {
		r->ans = (unsigned char *)xmemdup(abuf, (size_t)alen);
		r->len = alen;
	}
	dns_request_finish(r, st == DNS_OK && r->ans == NULL ? DNS_FAIL : st);
}

struct dns_request *dns_request_start(const char *name, int type, dns_answer_fn *fn, void *ctx)
{
	struct dns_request *r = xcalloc(1, sizeof(*r));
	const unsigned char *cached;
	struct buf why = BUF_INIT;
	ares_channel ch;
	enum dns_status st;
	int len;

	if (dns_ev.loop == NULL)
		log_panic("dns_request_start: no event loop attached");
	r->name = xstrdup(name);
	r->type = type;
	r->fn = fn;
	r->ctx = ctx;
	if (dns_cache_get(name, type, &st, &cached, &len)) {
		if (st == DNS_OK) {
			r->ans = (unsigned char *)xmemdup(cached, (size_t)len);
			r->len = len;
		}
		dns_request_finish(r, st);
	} else if ((ch = dns_channel(&why)) == NULL) {
		log_warn("DNS look-up of %s: %s", name, buf_cstr(&why));
		dns_request_finish(r, DNS_FAIL);
	} else {
		r->asking = true;
		ares_query(ch, name, ns_c_in, type, dns_request_answer, r);
		dns_event_timer();
	}
	buf_free(&why);
	return r;
}

void dns_request_cancel(struct dns_request *r)
{
	r->cancelled = true;
}

/* ------------------------------------------------------------ polling */

void dns_poll_wake(void (*fn)(void *ctx), void *ctx)
{
	dns_ev.wake = fn;
	dns_ev.wake_ctx = ctx;
}

static void dns_poll_wake_now(struct event_loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	dns_ev.wake_timer = NULL;
	if (dns_ev.wake)
		dns_ev.wake(dns_ev.wake_ctx);
}

static long dns_poll_keep_ms(enum dns_status st, const unsigned char *ans, int len)
{
	long long ms;

	if (st == DNS_RETRY || st == DNS_FAIL)
		return DNS_POLL_KEEP_FAIL_MS;
	if (st != DNS_OK)
		return DNS_POLL_KEEP_MS;
	ms = (long long)dns_answer_ttl(ans, len) * 1000;
	return ms < DNS_POLL_KEEP_MIN_MS ? DNS_POLL_KEEP_MIN_MS
	       : ms > DNS_POLL_KEEP_MS	 ? DNS_POLL_KEEP_MS
					 : (long)ms;
}

/* The request of a poll entry finished: keep the result, wake the pollers. */
static void dns_poll_answer(void *ctx, enum dns_status st, const unsigned char *ans, int len)
{
	struct dns_poll_entry *e = ctx;

	e->req = NULL;
	e->st = st;
	if (st == DNS_OK) {
		e->ans = (unsigned char *)xmemdup(ans, (size_t)len);
		e->len = len;
	}
	e->expires = event_now(dns_ev.loop) + dns_poll_keep_ms(st, ans, len);
	if (dns_ev.wake_timer == NULL)
		dns_ev.wake_timer = event_timer_add(dns_ev.loop, 0, dns_poll_wake_now, NULL);
}

static void dns_poll_free(size_t i)
{
	struct dns_poll_entry *e = dns_ev.polls[i];

	if (e->req)
		dns_request_cancel(e->req);
	free(e->name);
	free(e->ans);
	free(e);
	dns_ev.polls[i] = dns_ev.polls[--dns_ev.npolls];
}

static struct dns_poll_entry *dns_poll_find(const char *name, int type)
{
	long long now = event_now(dns_ev.loop);

	for (size_t i = 0; i < dns_ev.npolls; i++) {
		struct dns_poll_entry *e = dns_ev.polls[i];

		if (e->type != type || !str_case_eq(e->name, name))
			continue;
		if (e->req == NULL && e->expires <= now) {
			dns_poll_free(i); /* stale: ask again */
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* A free slot: when full, the answer that expires first (never a pending
 * one); false when every slot waits for an answer. */
static bool dns_poll_room(void)
{
	size_t victim = DNS_POLL_MAX;

	if (dns_ev.npolls < DNS_POLL_MAX)
		return true;
	for (size_t i = 0; i < dns_ev.npolls; i++)
		if (dns_ev.polls[i]->req == NULL &&
		    (victim == DNS_POLL_MAX ||
			dns_ev.polls[i]->expires < dns_ev.polls[victim]->expires))
			victim = i;
	if (victim == DNS_POLL_MAX)
		return false;
	dns_poll_free(victim);
	return true;
}

enum dns_status dns_poll(const char *name, int type, const unsigned char **ans, int *len)
{
	struct dns_poll_entry *e = dns_poll_find(name, type);

	if (e == NULL) {
		if (!dns_poll_room())
			return DNS_RETRY;
		e = xcalloc(1, sizeof(*e));
		e->name = xstrdup(name);
		e->type = type;
		e->st = DNS_PENDING;
		dns_ev.polls[dns_ev.npolls++] = e;
		e->req = dns_request_start(name, type, dns_poll_answer, e);
	}
	*ans = e->ans;
	*len = e->len;
	return e->st;
}

/* An MX answer: does it name a host that takes mail? */
static enum dns_status dns_poll_mx(const unsigned char *ans, int len)
{
	struct dns_mx *mx = NULL;
	size_t n = 0;
	unsigned ttl;
	enum dns_status st = dns_mx_from_answer(ans, len, &mx, &n, &ttl);

	free(mx);
	return st == DNS_FAIL ? DNS_RETRY : st;
}

enum dns_status dns_poll_domain(const char *domain)
{
	static const int types[] = {ns_t_mx, ns_t_a, ns_t_aaaa};
	const unsigned char *ans;
	int len;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		enum dns_status st = dns_poll(domain, types[i], &ans, &len);

		if (st == DNS_OK && types[i] == ns_t_mx)
			st = dns_poll_mx(ans, len);
		if (st == DNS_FAIL)
			st = DNS_RETRY;
		if (st != DNS_NODATA)
			return st;
	}
	return DNS_NOTFOUND;
}

void dns_event_reset(void)
{
	struct dns_request *r, *next;

	while (dns_ev.npolls)
		dns_poll_free(dns_ev.npolls - 1);
	for (r = dns_ev.finished; r; r = next) {
		next = r->next;
		dns_request_free(r);
	}
	if (dns_ev.loop) {
		if (dns_ev.timeout)
			event_timer_cancel(dns_ev.loop, dns_ev.timeout);
		if (dns_ev.deliver)
			event_timer_cancel(dns_ev.loop, dns_ev.deliver);
		if (dns_ev.wake_timer)
			event_timer_cancel(dns_ev.loop, dns_ev.wake_timer);
	}
	dns_ev.timeout = dns_ev.deliver = dns_ev.wake_timer = NULL;
	dns_ev.finished = NULL;
	dns_ev.wake = NULL;
	dns_ev.wake_ctx = NULL;
}
