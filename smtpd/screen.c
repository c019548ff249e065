/*
 * screen.c - screening before the greeting (Postfix's postscreen, inside
 * smtpd's event loop; on with smtpd_screening = yes).
 *
 * A new client that postscreen_access_list does not permit, and that is
 * not in the cache of clients that passed, waits postscreen_greet_wait
 * for its greeting.  Meanwhile:
 * - pregreet test: a client that sends anything before the greeting is
 *   not a real SMTP client (RFC 5321 4.3.1: the client waits for the
 *   220).  With postscreen_greet_banner the wait starts with the first
 *   line of a multi-line greeting ("220-text"), which catches bots that
 *   answer the first line they see;
 * - DNSBL/DNSWL test: every postscreen_dnsbl_sites entry
 *   "zone[=filter][*weight]" is asked in parallel; the weights of the
 *   sites that list the client add up.  A score of postscreen_dnsbl_
 *   threshold or more fails the test; a score at or below a negative
 *   postscreen_dnsbl_allowlist_threshold lets the client through at once.
 *   A site that has not answered within postscreen_dnsbl_timeout (or
 *   fails) counts as not listing the client.
 * Each failed test takes its action, postscreen_greet_action and
 * postscreen_dnsbl_action (and postscreen_denylist_action for a client
 * that postscreen_access_list rejects): ignore (log only), enforce (the session goes
 * on, every RCPT gets 550), drop (521 and the connection is closed).  A
 * client that passed both tests is cached for the shorter of
 * postscreen_greet_ttl and the DNSBL answers' TTL, kept between
 * postscreen_dnsbl_min_ttl and _max_ttl (dnsbl only when sites are set),
 * in postscreen_cache_map, an LMDB file shared by every
 * smtpd process and kept across restarts; a cached client is greeted at
 * once.  A cache that cannot be opened only costs the cache.
 *
 * Log lines are postscreen's ("PREGREET", "DNSBL rank", "PASS NEW",
 * "PASS OLD", "ALLOWLISTED", "DISCONNECT"), so log tools keep working.
 */
#include "screen.h"

#include <lmdb.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <arpa/nameser.h>

#include "config.h"
#include "dns.h"
#include "dnsbl.h"
#include "lmdb_open.h"
#include "log.h"
#include "maps.h"
#include "smtpd.h"
#include "sock.h"
#include "util.h"

enum screen_action { SCREEN_IGNORE, SCREEN_ENFORCE, SCREEN_DROP };

struct screen_site {
	char *zone, *filter;
	int weight;
};

/* A site's answer for one client, kept once it came: the shared poll
 * table (lib/dns_event.c) may forget it when many clients wait at once,
 * and asking again would only load the DNS server. */
struct screen_answer {
	bool done;
	bool listed;
	unsigned ttl;
};

struct smtpd_screen {
	struct event_timer *timer;
	long long start;		/* event_now() at connect */
	bool greet_done;		/* postscreen_greet_wait is over */
	bool pregreet;			/* the client talked first */
	size_t pregreet_n;		/* bytes it sent */
	struct screen_answer answers[]; /* one per screen.sites entry */
};

static struct {
	bool loaded;
	struct screen_site *sites;
	size_t nsites;
	MDB_env *env;
	MDB_dbi dbi;
	bool cache_failed;
} screen;

static int screen_action(const char *param)
{
	const char *v = config_str(param);

	if (strcasecmp(v, "ignore") == 0)
		return SCREEN_IGNORE;
	if (strcasecmp(v, "enforce") == 0)
		return SCREEN_ENFORCE;
	if (strcasecmp(v, "drop") == 0)
		return SCREEN_DROP;
	return -1;
}

/* The cache file: "lmdb:/path" or "btree:/path" (Postfix's default type;
 * the file is LMDB either way) or a plain path. */
static const char *screen_cache_path(void)
{
	const char *v = config_str("postscreen_cache_map");

	if (strncmp(v, "lmdb:", 5) == 0)
		return v + 5;
	if (strncmp(v, "btree:", 6) == 0)
		return v + 6;
	return v;
}

static void screen_sites_free(struct screen_site *sites, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(sites[i].zone);
		free(sites[i].filter);
	}
	free(sites);
}

/* Parses postscreen_dnsbl_sites; false, *bad the entry, when one is bad. */
static bool screen_sites_parse(struct screen_site **out, size_t *nout, char **bad)
{
	char **v = strv_split_list(config_str("postscreen_dnsbl_sites"));
	struct screen_site *sites = NULL;
	size_t n = 0;
	bool ok = true;

	for (size_t i = 0; v[i] && ok; i++) {
		struct screen_site st = {.zone = NULL};

		if (!dnsbl_weighted_site_parse(v[i], &st.zone, &st.filter, &st.weight)) {
			*bad = xstrdup(v[i]);
			ok = false;
			break;
		}
		sites = xreallocarray(sites, n + 1, sizeof(*sites));
		sites[n++] = st;
	}
	strv_free(v);
	if (!ok) {
		screen_sites_free(sites, n);
		return false;
	}
	*out = sites;
	*nout = n;
	return true;
}

static void screen_load(void)
{
	char *bad = NULL;

	if (screen.loaded)
		return;
	screen.loaded = true;
	if (!screen_sites_parse(&screen.sites, &screen.nsites, &bad)) {
		/* tern check reports it as an error; here it only costs the test. */
		log_warn("postscreen_dnsbl_sites: bad entry \"%s\": no DNSBL test", bad);
		free(bad);
	}
}

static bool screen_cache_open(void)
{
	int rc;

	if (screen.env)
		return true;
	if (screen.cache_failed)
		return false;
	rc = lmdb_open_file(screen_cache_path(), (size_t)64 << 20, &screen.env, &screen.dbi);
	if (rc != 0) {
		log_warn("postscreen cache off: cannot open %s: %s", screen_cache_path(),
		    mdb_strerror(rc));
		screen.env = NULL;
		screen.cache_failed = true;
		return false;
	}
	return true;
}

/* Whether the cache says addr passed and the entry is still good. */
static bool screen_cache_passed(const char *addr)
{
	MDB_txn *txn;
	MDB_val k = {strlen(addr), (void *)addr}, v;
	int64_t until = 0;

	if (!screen_cache_open() || mdb_txn_begin(screen.env, NULL, MDB_RDONLY, &txn) != 0)
		return false;
	if (mdb_get(txn, screen.dbi, &k, &v) == 0 && v.mv_size == sizeof(until))
		memcpy(&until, v.mv_data, sizeof(until));
	mdb_txn_abort(txn);
	return until > (int64_t)time(NULL);
}

static void screen_cache_put(const char *addr, long ttl)
{
	MDB_txn *txn;
	int64_t until = (int64_t)time(NULL) + ttl;
	MDB_val k = {strlen(addr), (void *)addr}, v = {sizeof(until), &until};
	int rc;

	if (ttl <= 0 || !screen_cache_open())
		return;
	rc = mdb_txn_begin(screen.env, NULL, 0, &txn);
	if (rc == 0) {
		rc = mdb_put(txn, screen.dbi, &k, &v, 0);
		if (rc == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	if (rc != 0)
		log_warn("postscreen cache %s: %s", screen_cache_path(), mdb_strerror(rc));
}

/* postscreen_access_list: permit_mynetworks, or tables whose value for
 * the client's address is permit, reject or dunno.  1 permit, -1 reject
 * (a DNSBL-style 550 for every RCPT), 0 neither. */
static int screen_access(const char *addr)
{
	char **v = strv_split_list(config_str("postscreen_access_list"));
	int r = 0;

	for (size_t i = 0; v[i] && r == 0; i++) {
		const char *value;

		if (strcasecmp(v[i], "permit_mynetworks") == 0) {
			if (sock_addr_in_networks(addr, config_str("mynetworks")))
				r = 1;
		} else if (maps_find(maps_open(v[i]), addr, 0, &value) == MAPS_FOUND) {
			if (strncasecmp(value, "permit", 6) == 0)
				r = 1;
			else if (strncasecmp(value, "reject", 6) == 0)
				r = -1;
		}
	}
	strv_free(v);
	return r;
}

/* Asks site i about the client; its answer goes into *known when it came
 * (a listing only when the answer passes the site's filter). */
static enum dns_status screen_ask(
    const struct smtpd_session *s, size_t i, struct screen_answer *known)
{
	struct buf name = BUF_INIT;
	const unsigned char *ans;
	struct dns_addr *a = NULL;
	size_t n = 0;
	unsigned ttl = 0;
	int len;
	bool listed = false;
	enum dns_status st = DNS_NOTFOUND;

	if (dnsbl_query_name(s->addr, screen.sites[i].zone, &name))
		st = dns_poll(buf_cstr(&name), ns_t_a, &ans, &len);
	buf_free(&name);
	if (st == DNS_PENDING)
		return st;
	if (st == DNS_OK && dns_addrs_from_answer(ans, len, AF_INET, 0, &a, &n, &ttl) == DNS_OK)
		for (size_t j = 0; j < n && !listed; j++) {
			char text[64];

			sock_ntop((const struct sockaddr *)&a[j].sa, text, sizeof(text), NULL);
			listed = dnsbl_filter_match(screen.sites[i].filter, text);
		}
	free(a);
	/* DNS_RETRY (a failure, or no room to ask) is asked again next time. */
	if (st != DNS_RETRY)
		*known = (struct screen_answer){.done = true, .listed = listed, .ttl = ttl};
	return st;
}

/*
 * The DNSBL score so far; *pending: sites without an answer yet; *top:
 * the listing site of the highest weight (for the reply); *min_ttl: the
 * smallest TTL of the answers that listed the client (0xffffffff: none).
 */
static int screen_score(
    const struct smtpd_session *s, size_t *pending, const char **top, unsigned *min_ttl)
{
	int score = 0, best = 0;

	*pending = 0;
	*top = NULL;
	*min_ttl = 0xffffffff;
	for (size_t i = 0; i < screen.nsites; i++) {
		struct screen_answer *known = &s->screen->answers[i];

		if (!known->done && screen_ask(s, i, known) == DNS_PENDING) {
			(*pending)++;
			continue;
		}
		if (known->done && known->listed) {
			if (known->ttl < *min_ttl)
				*min_ttl = known->ttl;
			score += screen.sites[i].weight;
			if (*top == NULL || screen.sites[i].weight > best) {
				*top = screen.sites[i].zone;
				best = screen.sites[i].weight;
			}
		}
	}
	return score;
}

/* postscreen_dnsbl_reply_map: the name a reply gives for a zone. */
static const char *screen_reply_name(const char *zone)
{
	const char *value;

	if (maps_find(maps_open("postscreen_dnsbl_reply_map"), zone, 0, &value) == MAPS_FOUND &&
	    *value)
		return value;
	return zone;
}

/* How long a passed DNSBL test holds (Postfix 3.1): the answers' TTL
 * between postscreen_dnsbl_min_ttl and _max_ttl. */
static long screen_dnsbl_ttl(unsigned min_ttl)
{
	long lo = config_time("postscreen_dnsbl_min_ttl");
	long hi = config_time("postscreen_dnsbl_max_ttl");
	long ttl = min_ttl == 0xffffffff || (long long)min_ttl > hi ? hi : (long)min_ttl;

	return ttl < lo ? (lo < hi ? lo : hi) : ttl;
}

/* A failed test: its action.  False when the client is dropped. */
static bool screen_fail(struct smtpd_session *s, int action, const char *reply550)
{
	if (action == SCREEN_DROP) {
		smtpd_reply(s, "521%s", reply550 + 3);
		log_info("DISCONNECT [%s]:%d", s->addr, s->port);
		s->closing = true;
		return false;
	}
	if (action == SCREEN_ENFORCE && s->screen_reject == NULL)
		s->screen_reject = xstrdup(reply550);
	return true;
}

/* Both tests are over (or the client is allowlisted by score): verdict. */
static void screen_finish(
    struct smtpd_session *s, int score, const char *top, unsigned min_ttl, bool allowlisted)
{
	long threshold = config_int("postscreen_dnsbl_threshold");
	bool passed = true;

	if (s->screen->timer)
		event_timer_cancel(s->loop, s->screen->timer);
	s->screen->timer = NULL;
	if (s->screen->pregreet) {
		passed = false;
		if (!screen_fail(
			s, screen_action("postscreen_greet_action"), "550 5.5.1 Protocol error"))
			goto out;
	}
	if (screen.nsites > 0 && !allowlisted && score >= threshold && top) {
		struct buf reply = BUF_INIT;

		passed = false;
		log_info("DNSBL rank %d for [%s]:%d", score, s->addr, s->port);
		buf_printf(&reply, "550 5.7.1 Service unavailable; client [%s] blocked using %s",
		    s->addr, screen_reply_name(top));
		if (!screen_fail(s, screen_action("postscreen_dnsbl_action"), buf_cstr(&reply))) {
			buf_free(&reply);
			goto out;
		}
		buf_free(&reply);
	}
	if (passed) {
		long ttl = config_time("postscreen_greet_ttl");

		if (screen.nsites > 0 && screen_dnsbl_ttl(min_ttl) < ttl)
			ttl = screen_dnsbl_ttl(min_ttl);
		log_info("PASS NEW [%s]:%d", s->addr, s->port);
		screen_cache_put(s->addr, ttl);
	}
out:
	free(s->screen);
	s->screen = NULL;
	if (!s->closing)
		session_greet(s);
}

/* Looks at what is known; finishes when it can. */
static void screen_check(struct smtpd_session *s)
{
	long allow = config_int("postscreen_dnsbl_allowlist_threshold");
	long long dnsbl_end = s->screen->start + config_time("postscreen_dnsbl_timeout") * 1000;
	size_t pending;
	const char *top;
	unsigned min_ttl;
	int score = screen_score(s, &pending, &top, &min_ttl);

	if (pending == 0 && allow < 0 && score <= allow && !s->screen->pregreet) {
		log_info("DNSBL allowlisted [%s]:%d (score %d)", s->addr, s->port, score);
		screen_finish(s, score, top, min_ttl, true);
		return;
	}
	if (!s->screen->greet_done)
		return;
	if (pending > 0 && event_now(s->loop) < dnsbl_end)
		return;
	screen_finish(s, score, top, min_ttl, false);
}

static void screen_timer(struct event_loop *loop, void *ctx)
{
	struct smtpd_session *s = ctx;
	long long dnsbl_end = s->screen->start + config_time("postscreen_dnsbl_timeout") * 1000;

	s->screen->timer = NULL;
	s->screen->greet_done = true;
	screen_check(s);
	if (s->screen && !s->screen->timer) {
		long long left = dnsbl_end - event_now(loop);

		s->screen->timer = event_timer_add(loop, left > 0 ? left : 1, screen_timer, s);
	}
	session_run(s);
}

bool screen_begin(struct smtpd_session *s)
{
	const char *banner = config_str("postscreen_greet_banner");
	long wait = config_time("postscreen_greet_wait") * 1000;
	int access;

	if (!config_bool("smtpd_screening"))
		return false;
	screen_load();
	access = screen_access(s->addr);
	if (access > 0) {
		log_info("ALLOWLISTED [%s]:%d", s->addr, s->port);
		return false;
	}
	if (access < 0) {
		int action = screen_action("postscreen_denylist_action");

		log_info("DENYLISTED [%s]:%d", s->addr, s->port);
		if (!screen_fail(s, action, "550 5.3.2 Service currently unavailable"))
			return true;
	}
	if (screen_cache_passed(s->addr)) {
		log_info("PASS OLD [%s]:%d", s->addr, s->port);
		return false;
	}
	s->screen = xcalloc(1, sizeof(*s->screen) + screen.nsites * sizeof(s->screen->answers[0]));
	s->screen->start = event_now(s->loop);
	if (*banner)
		smtpd_reply(s, "220-%s", banner);
	s->screen->timer = event_timer_add(s->loop, wait > 0 ? wait : 1, screen_timer, s);
	screen_check(s); /* starts the look-ups; cached answers may finish it */
	return true;
}

void screen_input(struct smtpd_session *s)
{
	if (!s->screen->pregreet) {
		size_t show = s->in.len < 100 ? s->in.len : 100;
		struct buf text = BUF_INIT;

		for (size_t i = 0; i < show; i++) {
			unsigned char c = (unsigned char)s->in.data[i];

			if (c == '\r')
				buf_puts(&text, "\\r");
			else if (c == '\n')
				buf_puts(&text, "\\n");
			else if (c < 32 || c > 126)
				buf_printf(&text, "\\%03o", c);
			else
				buf_putc(&text, (char)c);
		}
		log_info("PREGREET %zu after %.2f from [%s]:%d: %s", s->in.len,
		    (double)(event_now(s->loop) - s->screen->start) / 1000.0, s->addr, s->port,
		    buf_cstr(&text));
		buf_free(&text);
		s->screen->pregreet = true;
		if (screen_action("postscreen_greet_action") == SCREEN_DROP) {
			buf_reset(&s->in);
			screen_finish(s, 0, NULL, 0xffffffff, false);
			return;
		}
	}
	s->screen->pregreet_n += s->in.len;
	buf_reset(&s->in); /* never taken for commands */
}

void screen_dns(struct smtpd_session *s)
{
	screen_check(s);
}

void screen_free(struct smtpd_session *s)
{
	if (s->screen && s->screen->timer)
		event_timer_cancel(s->loop, s->screen->timer);
	free(s->screen);
	s->screen = NULL;
	free(s->screen_reject);
	s->screen_reject = NULL;
}
