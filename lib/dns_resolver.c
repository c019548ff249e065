/*
 * dns_resolver.c - the one c-ares channel of a process, its name servers,
 * the answer cache, and blocking queries.
 *
 * The name servers come from one parameter, dns_servers.  tern had two
 * before, smtp_dns_resolver (smtp) and smtpd_dns_servers (smtpd); both are
 * still read for one release when dns_servers is not set, with a warning
 * once per process when the resolver is set up.  A list c-ares refuses is
 * a configuration error: look-ups fail (temporarily, with the reason)
 * rather than quietly asking /etc/resolv.conf's servers instead.
 *
 * The channel always carries the event loop's socket callback
 * (dns_event.c), which does nothing in a process without a loop, so one
 * channel serves the blocking and the asynchronous callers.  Queries are
 * absolute names (no search list, no HOSTALIASES): mail domains are
 * fully qualified.
 *
 * The cache keeps positive answers as raw bytes for the smallest TTL in
 * them (at most a day), in a small table that first drops expired entries
 * and then its oldest; both kinds of caller fill and read it.  Answers
 * asked with the AD and DO bits (dns_query_dnssec) are kept under their
 * own key (type | DNS_CACHE_DNSSEC), with the AD bit they came with.
 */
#include "dns_resolver.h"

#include <arpa/nameser.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define DNS_CACHE_MAX 1024
#define DNS_CACHE_DNSSEC 0x10000 /* type bit of answers asked with AD and DO */
#define DNS_CACHE_TTL_MAX 86400
#define DNS_TRY_MS 5000 /* wait for one answer when dns_init was not called */
#define DNS_TRIES 2

static struct {
	ares_channel channel;
	bool ready;
	long try_ms;
	bool warned; /* about deprecated names */
} dns_res = {.try_ms = DNS_TRY_MS};

/* ------------------------------------------------------------ name servers */

/* dns_servers, else a deprecated name that is set (warned once); *param
 * names the one used. */
static const char *dns_servers_setting(const char **param)
{
	static const char *const old[] = {"smtp_dns_resolver", "smtpd_dns_servers"};
	const char *use = config_is_set("dns_servers") ? config_str("dns_servers") : NULL;

	*param = "dns_servers";
	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		if (!config_is_set(old[i]))
			continue;
		if (use != NULL && strcmp(use, config_str(old[i])) != 0 && !dns_res.warned)
			log_warn("%s is deprecated and differs from the name servers in use "
				 "(\"%s\"): it is ignored",
			    old[i], use);
		else if (!dns_res.warned)
			log_warn("%s is deprecated: name it dns_servers (the old name is read "
				 "for one more release)",
			    old[i]);
		if (use == NULL) {
			use = config_str(old[i]);
			*param = old[i];
		}
	}
	dns_res.warned = true;
	return use ? use : "";
}

/* "a b, c" -> "a,b,c": c-ares wants commas only. */
static int dns_set_servers(const char *servers)
{
	char *csv = xstrdup(servers);
	int rc;

	for (char *p = csv; *p; p++)
		if (*p == ' ' || *p == '\t')
			*p = ',';
	rc = ares_set_servers_ports_csv(dns_res.channel, csv);
	free(csv);
	return rc;
}

/* ------------------------------------------------------------ the channel */

static bool dns_setup(struct buf *why)
{
	struct ares_options opt;
	const char *param, *servers = dns_servers_setting(&param);
	int rc;

	ares_library_init(ARES_LIB_INIT_ALL);
	memset(&opt, 0, sizeof(opt));
	opt.timeout = (int)dns_res.try_ms;
	opt.tries = DNS_TRIES;
	opt.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	opt.sock_state_cb = dns_event_sock_state;
	rc = ares_init_options(&dns_res.channel, &opt,
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_SOCK_STATE_CB);
	if (rc != ARES_SUCCESS) {
		buf_printf(why, "cannot initialise the resolver: %s", ares_strerror(rc));
		return false;
	}
	if (*servers && (rc = dns_set_servers(servers)) != ARES_SUCCESS) {
		ares_destroy(dns_res.channel);
		buf_printf(why, "bad %s \"%s\": %s", param, servers, ares_strerror(rc));
		return false;
	}
	dns_res.ready = true;
	return true;
}

bool dns_init(long try_ms, struct buf *why)
{
	dns_res.try_ms = try_ms > 0 ? try_ms : DNS_TRY_MS;
	if (dns_res.ready)
		return true;
	return dns_setup(why);
}

ares_channel dns_channel(struct buf *why)
{
	struct buf local = BUF_INIT;
	bool ok = dns_res.ready || dns_setup(why ? why : &local);

	buf_free(&local);
	return ok ? dns_res.channel : NULL;
}

enum dns_status dns_status_of(int status)
{
	switch (status) {
	case ARES_SUCCESS: return DNS_OK;
	case ARES_ENOTFOUND: return DNS_NOTFOUND;
	case ARES_ENODATA: return DNS_NODATA;
	default: return DNS_RETRY;
	}
}

/* ------------------------------------------------------------ cache */

struct dns_cache_entry {
	char *name;
	int type;
	unsigned char *ans;
	int len;
	long long expires; /* mono_msec() */
};

static struct dns_cache_entry dns_cache[DNS_CACHE_MAX];
static size_t dns_ncache;

static void dns_cache_free(struct dns_cache_entry *e)
{
	free(e->name);
	free(e->ans);
}

/* Drops expired entries and those for name/type, keeping the order. */
static void dns_cache_sweep(const char *name, int type, long long now)
{
	size_t kept = 0;

	for (size_t i = 0; i < dns_ncache; i++) {
		struct dns_cache_entry *e = &dns_cache[i];

		if (e->expires <= now || (e->type == type && str_case_eq(e->name, name)))
			dns_cache_free(e);
		else
			dns_cache[kept++] = *e;
	}
	dns_ncache = kept;
}

const unsigned char *dns_cache_get(const char *name, int type, int *len)
{
	long long now = mono_msec();

	for (size_t i = 0; i < dns_ncache; i++) {
		struct dns_cache_entry *e = &dns_cache[i];

		if (e->type == type && str_case_eq(e->name, name)) {
			*len = e->len;
			return e->expires > now ? e->ans : NULL;
		}
	}
	return NULL;
}

void dns_cache_put(const char *name, int type, const unsigned char *ans, int len)
{
	unsigned ttl = dns_answer_ttl(ans, len);
	long long now = mono_msec();

	if (ttl == 0 || ttl == 0xffffffffu)
		return;
	if (ttl > DNS_CACHE_TTL_MAX)
		ttl = DNS_CACHE_TTL_MAX;
	dns_cache_sweep(name, type, now);
	if (dns_ncache == DNS_CACHE_MAX) {
		/* Full of fresh answers: the oldest goes. */
		dns_cache_free(&dns_cache[0]);
		memmove(&dns_cache[0], &dns_cache[1], (--dns_ncache) * sizeof(dns_cache[0]));
	}
	dns_cache[dns_ncache].name = xstrdup(name);
	dns_cache[dns_ncache].type = type;
	dns_cache[dns_ncache].ans = (unsigned char *)xmemdup(ans, (size_t)len);
	dns_cache[dns_ncache].len = len;
	dns_cache[dns_ncache].expires = now + (long long)ttl * 1000;
	dns_ncache++;
}

/* ------------------------------------------------------------ blocking */

struct dns_wait {
	bool done;
	int status;
	unsigned char *ans;
	int len;
};

static void dns_wait_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_wait *q = arg;

	(void)timeouts;
	q->done = true;
	q->status = status;
	if (abuf && alen > 0) {
		q->ans = (unsigned char *)xmemdup(abuf, (size_t)alen);
		q->len = alen;
	}
}

/* Runs the channel until the query finishes; c-ares bounds the time. */
static void dns_wait(ares_channel ch, struct dns_wait *q)
{
	while (!q->done) {
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		struct pollfd p[ARES_GETSOCK_MAXNUM];
		int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
		int np = 0;
		struct timeval tv, *tvp = ares_timeout(ch, NULL, &tv);
		int ms = tvp ? (int)(tvp->tv_sec * 1000 + tvp->tv_usec / 1000) + 1 : 1000;

		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = 0;

			/* c-ares's own macros shift a signed 1 into the sign bit
			 * for the last socket; the same test, unsigned. */
			if ((unsigned)bits & (1u << i))
				ev |= POLLIN;
			if ((unsigned)bits & (1u << (i + ARES_GETSOCK_MAXNUM)))
				ev |= POLLOUT;
			if (ev) {
				p[np].fd = socks[i];
				p[np].events = ev;
				p[np++].revents = 0;
			}
		}
		if (poll(p, (nfds_t)np, ms) <= 0) {
			ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
			continue;
		}
		for (int i = 0; i < np; i++)
			ares_process_fd(ch,
			    p[i].revents & (POLLIN | POLLERR | POLLHUP) ? p[i].fd : ARES_SOCKET_BAD,
			    p[i].revents & POLLOUT ? p[i].fd : ARES_SOCKET_BAD);
	}
}

static const char *dns_type_name(int type)
{
	return type == ns_t_mx ? "MX" : type == ns_t_a ? "A" : type == ns_t_aaaa ? "AAAA" : "?";
}

enum dns_status dns_query(
    const char *name, int type, unsigned char **ans, int *len, struct buf *why)
{
	const unsigned char *cached = dns_cache_get(name, type, len);
	ares_channel ch;
	struct dns_wait q = {0};
	enum dns_status st;

	if (cached) {
		*ans = (unsigned char *)xmemdup(cached, (size_t)*len);
		return DNS_OK;
	}
	if ((ch = dns_channel(why)) == NULL)
		return DNS_FAIL;
	ares_query(ch, name, ns_c_in, type, dns_wait_done, &q);
	dns_wait(ch, &q);
	st = dns_status_of(q.status);
	if (st == DNS_OK) {
		dns_cache_put(name, type, q.ans, q.len);
		*ans = q.ans;
		*len = q.len;
		return st;
	}
	free(q.ans);
	if (st == DNS_NOTFOUND)
		buf_printf(why,
		    "Host or domain name not found. Name service error for name=%s type=%s: "
		    "Host not found",
		    name, dns_type_name(type));
	else if (st == DNS_RETRY)
		buf_printf(why,
		    "Host or domain name not found. Name service error for name=%s type=%s: "
		    "Host not found, try again (%s)",
		    name, dns_type_name(type), ares_strerror(q.status));
	return st;
}

enum dns_status dns_query_dnssec(
    const char *name, int type, unsigned char **ans, int *len, bool *secure, struct buf *why)
{
	ares_channel ch;
	struct dns_wait q = {0};
	unsigned char *qbuf = NULL;
	int qlen = 0, rcode, ancount;

	const unsigned char *cached = dns_cache_get(name, type | DNS_CACHE_DNSSEC, len);

	*secure = false;
	*ans = NULL;
	if (cached) {
		*ans = (unsigned char *)xmemdup(cached, (size_t)*len);
		*secure = ((*ans)[3] & 0x20) != 0;
		return DNS_OK;
	}
	*len = 0;
	if ((ch = dns_channel(why)) == NULL)
		return DNS_FAIL;
	/* With an EDNS OPT record (1232 bytes, the DNS flag day size). */
	if (ares_create_query(name, ns_c_in, type, 0, 1, &qbuf, &qlen, 1232) != ARES_SUCCESS ||
	    qlen < 12 + 11) {
		ares_free_string(qbuf);
		buf_printf(why, "cannot build a DNS query for %s", name);
		return DNS_FAIL;
	}
	qbuf[3] |= 0x20;	/* AD: tell us whether it validated (RFC 6840 5.7) */
	qbuf[qlen - 4] |= 0x80; /* DO in the OPT record's flags */
	ares_send(ch, qbuf, qlen, dns_wait_done, &q);
	ares_free_string(qbuf);
	dns_wait(ch, &q);
	if (q.status != ARES_SUCCESS || q.len < 12) {
		free(q.ans);
		buf_printf(why, "DNS lookup of %s failed: %s", name, ares_strerror(q.status));
		return DNS_RETRY;
	}
	*secure = (q.ans[3] & 0x20) != 0;
	rcode = q.ans[3] & 0x0f;
	ancount = q.ans[6] << 8 | q.ans[7];
	if (rcode == ns_r_noerror && ancount > 0) {
		/* Kept with its AD bit (the answer's own bytes), apart from
		 * the answers asked without it. */
		dns_cache_put(name, type | DNS_CACHE_DNSSEC, q.ans, q.len);
		*ans = q.ans;
		*len = q.len;
		return DNS_OK;
	}
	free(q.ans);
	if (rcode == ns_r_noerror)
		return DNS_NODATA;
	if (rcode == ns_r_nxdomain)
		return DNS_NOTFOUND;
	buf_printf(why, "DNS lookup of %s failed: rcode %d", name, rcode);
	return DNS_RETRY;
}

/* c-ares calls the callbacks of unfinished queries from ares_destroy()
 * (ARES_EDESTRUCTION), where cancelled requests free themselves, and
 * closes its sockets through the loop, which is let go of last. */
void dns_reset(void)
{
	dns_event_reset();
	if (dns_res.ready) {
		ares_destroy(dns_res.channel);
		ares_library_cleanup();
		dns_res.ready = false;
	}
	dns_event_attach(NULL);
	for (size_t i = 0; i < dns_ncache; i++)
		dns_cache_free(&dns_cache[i]);
	dns_ncache = 0;
	dns_res.try_ms = DNS_TRY_MS;
	dns_res.warned = false;
}
