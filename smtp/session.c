/*
 * session.c - reusing SMTP sessions across messages (connection cache).
 *
 * qmgr opens a new connection to the agent for every request, so the
 * reuse lives here, per agent process: after a message, a healthy session
 * is kept idle under its next hop for smtp_connection_cache_time_limit;
 * the next request for the same next hop takes it, sends RSET (RFC 5321
 * section 4.1.1.5) and carries on without a new TCP, TLS and EHLO round.
 * A session the server closed, that answers RSET with anything but 250,
 * or that reached smtp_connection_reuse_count_limit is closed instead.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "smtp.h"
#include "util.h"

#define SMTP_CACHE_MAX 8

static struct smtp_session *cache[SMTP_CACHE_MAX];
static size_t ncache;

void smtp_session_relay(const struct smtp_session *s, char *out, size_t size)
{
	if (s->port == 0) /* an LMTP unix socket */
		snprintf(out, size, "%s[%s]", s->host, s->addr);
	else
		snprintf(out, size, "%s[%s]:%d", s->host, s->addr, s->port);
}

void smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	smtp_io_close(&s->io);
	free(s);
}

void smtp_session_quit(struct smtp_session *s)
{
	if (s == NULL)
		return;
	if (!s->io.broken) {
		struct smtp_reply r;
		long t = smtp_step_timeout("quit");

		smtp_reply_init(&r);
		buf_puts(&s->io.out, "QUIT\r\n");
		/* Polite, not required: a server that is slow to say 221 is not
		 * waited for long. */
		if (smtp_io_flush(&s->io, t) == 0)
			smtp_io_reply(&s->io, &r, t < 5 ? t : 5);
		smtp_reply_free(&r);
	}
	smtp_session_free(s);
}

bool smtp_session_rset(struct smtp_session *s)
{
	struct smtp_reply r;
	long t = smtp_step_timeout("rset");
	bool ok;

	smtp_reply_init(&r);
	buf_puts(&s->io.out, "RSET\r\n");
	ok = smtp_io_flush(&s->io, t) == 0 && smtp_io_reply(&s->io, &r, t) == 0 && r.code == 250;
	smtp_reply_free(&r);
	return ok;
}

static void cache_drop(size_t i, bool quit)
{
	struct smtp_session *s = cache[i];

	cache[i] = cache[--ncache];
	if (quit)
		smtp_session_quit(s);
}

struct smtp_session *smtp_cache_get(const char *dest)
{
	smtp_cache_expire();
	for (size_t i = 0; i < ncache; i++) {
		struct smtp_session *s = cache[i];

		if (strcmp(s->dest, dest) != 0)
			continue;
		cache_drop(i, false);
		if (smtp_io_dead(&s->io) || !smtp_session_rset(s)) {
			s->io.broken = true;
			smtp_session_quit(s);
			i--;
			continue;
		}
		return s;
	}
	return NULL;
}

void smtp_cache_put(struct smtp_session *s)
{
	long limit = config_int("smtp_connection_reuse_count_limit");

	if (!config_bool("smtp_connection_cache_on_demand") || s->io.broken ||
	    (limit > 0 && s->reused >= limit)) {
		smtp_session_quit(s);
		return;
	}
	if (ncache == SMTP_CACHE_MAX)
		cache_drop(0, true);
	s->idle_since = mono_msec();
	cache[ncache++] = s;
}

long smtp_cache_expire(void)
{
	long long limit = config_time("smtp_connection_cache_time_limit") * 1000;
	long long now = mono_msec(), next = -1;

	for (size_t i = 0; i < ncache; i++) {
		long long left = cache[i]->idle_since + limit - now;

		if (left <= 0 || smtp_io_dead(&cache[i]->io)) {
			cache_drop(i--, true);
			continue;
		}
		if (next < 0 || left < next)
			next = left;
	}
	return (long)next;
}

void smtp_cache_flush(void)
{
	while (ncache)
		cache_drop(0, true);
}

/* Which family of parameters the agent reads: lmtp_* for the lmtp
 * transport, smtp_* otherwise (set once at start by main.c). */
static bool smtp_lmtp_params;

void smtp_params_lmtp(bool lmtp)
{
	smtp_lmtp_params = lmtp;
	tls_client_prefix(lmtp ? "lmtp" : "smtp");
}

const char *smtp_pname(const char *suffix)
{
	static char names[4][64];
	static unsigned next;
	char *n = names[next++ % 4];

	strlcpy(n, smtp_lmtp_params ? "lmtp" : "smtp", sizeof(names[0]));
	strlcat(n, "_", sizeof(names[0]));
	strlcat(n, suffix, sizeof(names[0]));
	return n;
}

long smtp_step_timeout(const char *step)
{
	char name[64];

	if (smtp_lmtp_params && strcmp(step, "helo") == 0)
		step = "lhlo";
	snprintf(name, sizeof(name), "%s_timeout", step);
	return config_time(smtp_pname(name));
}
