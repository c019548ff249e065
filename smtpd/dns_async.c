/*
 * dns_async.c - domain existence look-ups with c-ares in the event loop.
 *
 * c-ares tells us which sockets to watch (sock_state_cb); the event loop
 * calls ares_process_fd() when they are ready, and a timer does so when
 * c-ares' own time-out is due.  A domain is looked up as MX, then A, then
 * AAAA (RFC 5321 5.1: without MX, the address records are the implicit
 * MX).  Answers are cached for DNS_CACHE_TTL seconds (temporary failures
 * for less), in a small table that forgets its oldest entry when full.
 *
 * Completion never runs sessions from inside a c-ares callback: it arms a
 * zero-delay timer, and the sessions are woken from there.
 */
#include "dns_async.h"

#include <arpa/nameser.h>
#include <string.h>

#include <ares.h>

#include "config.h"
#include "log.h"
#include "smtpd.h"
#include "util.h"

#define DNS_CACHE_MAX 1024
#define DNS_CACHE_TTL 300
#define DNS_TEMP_TTL 30

struct dns_entry {
	char *domain;
	enum dns_state state;
	long long expires; /* event_now() ms */
	int step;	   /* 0 MX, 1 A, 2 AAAA */
};

static struct {
	struct event_loop *loop;
	ares_channel channel;
	bool ok;
	struct event_timer *timer; /* c-ares' time-outs */
	struct event_timer *wake;  /* sessions to run again */
	struct dns_entry cache[DNS_CACHE_MAX];
	size_t n;
} dns;

static void dns_arm_timer(void);

static void dns_io(struct event_loop *loop, int fd, int events, void *ctx)
{
	(void)loop;
	(void)ctx;
	ares_process_fd(dns.channel, (events & (EV_READ | EV_ERROR)) ? fd : ARES_SOCKET_BAD,
	    (events & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	dns_arm_timer();
}

static void dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	(void)data;
	if (readable || writable)
		event_fd_set(dns.loop, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0),
		    dns_io, NULL);
	else
		event_fd_del(dns.loop, fd);
}

static void dns_timeout(struct event_loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	dns.timer = NULL;
	ares_process_fd(dns.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	dns_arm_timer();
}

static void dns_arm_timer(void)
{
	struct timeval tv, *t;

	if (dns.timer) {
		event_timer_cancel(dns.loop, dns.timer);
		dns.timer = NULL;
	}
	if ((t = ares_timeout(dns.channel, NULL, &tv)) != NULL)
		dns.timer = event_timer_add(
		    dns.loop, t->tv_sec * 1000 + t->tv_usec / 1000 + 1, dns_timeout, NULL);
}

void dns_async_init(struct event_loop *loop)
{
	struct ares_options o;
	const char *servers = config_str("smtpd_dns_servers");
	long timeout = config_time("smtpd_dns_timeout");

	dns.loop = loop;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = dns_sock_state;
	o.timeout = (int)(timeout > 0 ? timeout * 1000 / 2 : 5000);
	o.tries = 2;
	if (ares_init_options(&dns.channel, &o,
		ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
		log_warn("cannot set up the DNS resolver: domain look-ups fail temporarily");
		return;
	}
	if (*servers && ares_set_servers_ports_csv(dns.channel, servers) != ARES_SUCCESS)
		log_warn("bad smtpd_dns_servers: %s", servers);
	dns.ok = true;
}

static struct dns_entry *dns_find(const char *domain)
{
	long long now = event_now(dns.loop);

	for (size_t i = 0; i < dns.n; i++) {
		struct dns_entry *e = &dns.cache[i];

		if (strcmp(e->domain, domain) != 0)
			continue;
		if (e->state != DNS_PENDING && e->expires <= now) {
			/* Stale: forget it, the caller asks again. */
			free(e->domain);
			*e = dns.cache[--dns.n];
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* A free slot: when full, the entry that expires first (not a pending one). */
static struct dns_entry *dns_slot(void)
{
	struct dns_entry *victim = NULL;

	if (dns.n < DNS_CACHE_MAX)
		return &dns.cache[dns.n++];
	for (size_t i = 0; i < dns.n; i++)
		if (dns.cache[i].state != DNS_PENDING &&
		    (victim == NULL || dns.cache[i].expires < victim->expires))
			victim = &dns.cache[i];
	if (victim)
		free(victim->domain);
	return victim;
}

static void dns_wake(struct event_loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	dns.wake = NULL;
	session_dns_wake();
}

static void dns_done(struct dns_entry *e, enum dns_state st)
{
	e->state = st;
	e->expires =
	    event_now(dns.loop) + 1000LL * (st == DNS_TEMPFAIL ? DNS_TEMP_TTL : DNS_CACHE_TTL);
	if (dns.wake == NULL)
		dns.wake = event_timer_add(dns.loop, 0, dns_wake, NULL);
}

static void dns_query(struct dns_entry *e);

/* A positive answer to the current step: does it hold a usable record? */
static enum dns_state dns_answer(int step, unsigned char *abuf, int alen)
{
	struct ares_mx_reply *mx = NULL;
	enum dns_state st = DNS_NONE;

	if (step > 0)
		return DNS_EXISTS; /* c-ares reports ENODATA when there is none */
	if (ares_parse_mx_reply(abuf, alen, &mx) != ARES_SUCCESS)
		return DNS_TEMPFAIL;
	for (struct ares_mx_reply *m = mx; m; m = m->next)
		if (m->host && *m->host) /* RFC 7505: "." is a null MX */
			st = DNS_EXISTS;
	ares_free_data(mx);
	return st;
}

static void dns_callback(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_entry *e = NULL;
	char *domain = arg;

	(void)timeouts;
	for (size_t i = 0; i < dns.n && e == NULL; i++)
		if (strcmp(dns.cache[i].domain, domain) == 0 && dns.cache[i].state == DNS_PENDING)
			e = &dns.cache[i];
	free(domain);
	if (e == NULL || status == ARES_EDESTRUCTION)
		return;
	if (status == ARES_SUCCESS)
		dns_done(e, dns_answer(e->step, abuf, alen));
	else if (status == ARES_ENODATA && e->step < 2) {
		e->step++;
		dns_query(e);
	} else if (status == ARES_ENOTFOUND || status == ARES_ENODATA)
		dns_done(e, DNS_NONE);
	else
		dns_done(e, DNS_TEMPFAIL);
}

static void dns_query(struct dns_entry *e)
{
	static const int types[] = {ns_t_mx, ns_t_a, ns_t_aaaa};

	ares_query(
	    dns.channel, e->domain, ns_c_in, types[e->step], dns_callback, xstrdup(e->domain));
	dns_arm_timer();
}

enum dns_state dns_domain_state(const char *domain)
{
	struct dns_entry *e;

	if (!dns.ok)
		return DNS_TEMPFAIL;
	if ((e = dns_find(domain)) != NULL)
		return e->state;
	if ((e = dns_slot()) == NULL)
		return DNS_TEMPFAIL; /* every slot is a pending look-up */
	e->domain = xstrdup(domain);
	e->state = DNS_PENDING;
	e->step = 0;
	dns_query(e);
	/* c-ares may have answered at once (an error): look again. */
	e = dns_find(domain);
	return e ? e->state : DNS_TEMPFAIL;
}
