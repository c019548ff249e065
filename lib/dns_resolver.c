/*
 * dns_resolver.c - the one c-ares channel of a process, its name servers,
 * and blocking queries.
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
 * Both kinds of caller fill and read the answer cache (dns_cache.c).
 * Replies asked with the AD and DO bits (dns_query_dnssec) are kept under
 * their own key (type | DNS_CACHE_DNSSEC), with the AD bit they came
 * with.
 */
#include "dns_resolver.h"

#include <arpa/nameser.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "util.h"

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

/* Why a look-up failed, as Postfix says it. */
static void dns_query_why(
    const char *name, int type, enum dns_status st, int status, struct buf *why)
{
	if (st == DNS_NOTFOUND)
		buf_printf(why,
		    "Host or domain name not found. Name service error for name=%s type=%s: "
		    "Host not found",
		    name, dns_type_name(type));
	else if (st == DNS_RETRY)
		buf_printf(why,
		    "Host or domain name not found. Name service error for name=%s type=%s: "
		    "Host not found, try again (%s)",
		    name, dns_type_name(type), ares_strerror(status));
}

enum dns_status dns_query(
    const char *name, int type, unsigned char **ans, int *len, struct buf *why)
{
	const unsigned char *cached;
	ares_channel ch;
	struct dns_wait q = {0};
	enum dns_status st;

	if (dns_cache_get(name, type, &st, &cached, len)) {
		if (st == DNS_OK)
			*ans = (unsigned char *)xmemdup(cached, (size_t)*len);
		dns_query_why(name, type, st, ARES_ENOTFOUND, why);
		return st;
	}
	if ((ch = dns_channel(why)) == NULL)
		return DNS_FAIL;
	ares_query(ch, name, ns_c_in, type, dns_wait_done, &q);
	dns_wait(ch, &q);
	st = dns_status_of(q.status);
	dns_cache_put(name, type, st, q.ans, q.len);
	if (st == DNS_OK && q.ans != NULL) {
		*ans = q.ans;
		*len = q.len;
		return st;
	}
	free(q.ans);
	if (st == DNS_OK)
		st = DNS_FAIL;
	dns_query_why(name, type, st, q.status, why);
	return st;
}

enum dns_status dns_query_dnssec(
    const char *name, int type, unsigned char **ans, int *len, bool *secure, struct buf *why)
{
	ares_channel ch;
	struct dns_wait q = {0};
	unsigned char *qbuf = NULL;
	int qlen = 0, rcode, ancount;

	const unsigned char *cached;
	enum dns_status st;

	*secure = false;
	*ans = NULL;
	if (dns_cache_get(name, type | DNS_CACHE_DNSSEC, &st, &cached, len)) {
		/* kept with the AD bit it came with, denials too */
		*secure = (cached[3] & 0x20) != 0;
		if (st == DNS_OK)
			*ans = (unsigned char *)xmemdup(cached, (size_t)*len);
		return st;
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
	st = rcode == ns_r_noerror    ? (ancount > 0 ? DNS_OK : DNS_NODATA)
	     : rcode == ns_r_nxdomain ? DNS_NOTFOUND
				      : DNS_RETRY;
	/* Kept with its AD bit (the reply's own bytes), apart from the
	 * replies asked without it. */
	dns_cache_put(name, type | DNS_CACHE_DNSSEC, st, q.ans, q.len);
	if (st == DNS_OK) {
		*ans = q.ans;
		*len = q.len;
		return DNS_OK;
	}
	free(q.ans);
	if (st != DNS_RETRY)
		return st;
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
	dns_cache_reset();
	dns_res.try_ms = DNS_TRY_MS;
	dns_res.warned = false;
}
