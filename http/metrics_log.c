/*
 * metrics_log.c - the maillog lines /metrics counts (metrics.c reads
 * the file and writes the series):
 *   - "nrcpt=... (queue active)" lines: messages received;
 *   - delivery agents' "..., dsn=X.Y.Z, status=sent|deferred|bounced"
 *     lines: deliveries by result, and their delay= (the message's
 *     arrival to the attempt's end) into a histogram by result;
 *   - client sessions per protocol, started and open now: smtpd's
 *     "connect from" and "disconnect from" lines (submission being an
 *     smtpd whose syslog_name ends in /submission or /smtps, as Postfix's
 *     master.cf and tern init name them); for imap, pop3 and managesieve
 *     the login process's "Login: user=<U>" lines, ended by the user's
 *     process's "PROTO(U): Logged out" or "PROTO(U): Disconnected" line.
 *     An end counts only against a start of the same smtpd process or
 *     user (session_event); a session whose process died without its
 *     last line stays open.
 * Lines are cut at MLOG_LINE_MAX bytes whatever the chunks they come in.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_log.h"
#include "util.h"

const char *const metrics_protocols[] = {"smtp", "submission", "imap", "pop3", "managesieve"};
const char *const metrics_statuses[] = {"sent", "deferred", "bounced"};

/* Delivery delays: a second to a day (deferred mail waits long). */
const double metrics_delay_bounds[] = {
    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400};
const size_t metrics_delay_nbounds = sizeof(metrics_delay_bounds) / sizeof(double);

void metrics_hist_observe(struct metrics_hist *h, const double *bounds, size_t n, double v)
{
	size_t b;

	if (!(v >= 0)) /* negative, or not a number */
		v = 0;
	for (b = 0; b < n && v > bounds[b]; b++)
		;
	if (b < n)
		h->bucket[b]++;
	h->count++;
	h->sum += v;
}

/* "... tern/submission/smtpd[42]: connect from ...": the program, the
 * syslog_name's last part before it ("" when none), the pid and the text. */
static bool log_prog(
    const char *l, char *prog, size_t size, char *tag, size_t tsize, long *pid, const char **text)
{
	const char *br = strstr(l, "]: "), *p, *s, *t;

	if (br == NULL)
		return false;
	for (p = br; p > l && p[-1] != '[';)
		p--;
	if (p == l)
		return false;
	*pid = strtol(p, NULL, 10);
	p--; /* the '[' */
	for (s = p; s > l && s[-1] != '/' && s[-1] != ' ';)
		s--;
	if ((size_t)(p - s) >= size)
		return false;
	memcpy(prog, s, (size_t)(p - s));
	prog[p - s] = 0;
	*tag = 0;
	if (s > l && s[-1] == '/') {
		for (t = s - 1; t > l && t[-1] != '/' && t[-1] != ' ';)
			t--;
		if ((size_t)(s - 1 - t) < tsize) {
			memcpy(tag, t, (size_t)(s - 1 - t));
			tag[s - 1 - t] = 0;
		}
	}
	*text = br + 3;
	return true;
}

/*
 * A session of protocol i began (up) or ended for whom (an smtpd's pid,
 * a user).  An end counts only against a begin of the same whom: an
 * smtpd client gone while its name was looked up has a disconnect line
 * and no connect line, `imap --user` on a pipe a logout and no login.
 */
static void session_event(struct metrics_log *m, int i, const char *whom, size_t len, bool up)
{
	char *key = xasprintf("%s %.*s", metrics_protocols[i], (int)len, whom);
	json_t *n = json_object_get(m->who, key);
	json_int_t v = n ? json_integer_value(n) : 0;

	/* _nocheck: a user name need not be UTF-8, and a key jansson refused
	 * would leave a session open for ever */
	if (up) {
		m->started[i]++;
		m->open[i]++;
		json_object_set_new_nocheck(m->who, key, json_integer(v + 1));
	} else if (v > 0) {
		m->open[i]--;
		if (v == 1)
			json_object_del(m->who, key);
		else
			json_object_set_new_nocheck(m->who, key, json_integer(v - 1));
	}
	free(key);
}

static void session_line(struct metrics_log *m, const char *l)
{
	char prog[32], tag[32], pid[24];
	const char *text, *u, *e;
	size_t n;
	long p;

	if (!log_prog(l, prog, sizeof(prog), tag, sizeof(tag), &p, &text))
		return;
	if (strcmp(prog, "smtpd") == 0) {
		int i = strcmp(tag, "submission") == 0 || strcmp(tag, "smtps") == 0
			    ? MLOG_SUBMISSION
			    : MLOG_SMTP;

		snprintf(pid, sizeof(pid), "%ld", p);
		if (strncmp(text, "connect from ", 13) == 0)
			session_event(m, i, pid, strlen(pid), true);
		else if (strncmp(text, "disconnect from ", 16) == 0)
			session_event(m, i, pid, strlen(pid), false);
		return;
	}
	n = strlen(prog);
	for (int i = MLOG_IMAP; i < MLOG_NPROTO; i++) {
		size_t pl = strlen(metrics_protocols[i]);

		/* "Login: user=<alice@example.com>, method=..." */
		if (n == pl + 6 && strncmp(prog, metrics_protocols[i], pl) == 0 &&
		    strcmp(prog + pl, "-login") == 0 && strncmp(text, "Login: user=<", 13) == 0 &&
		    (e = strstr(text + 13, ">, ")) != NULL)
			session_event(m, i, text + 13, (size_t)(e - text - 13), true);
		/* "imap(alice@example.com): Logged out ..." or "...: Disconnected..." */
		else if (strcmp(prog, metrics_protocols[i]) == 0 && strncmp(text, prog, n) == 0 &&
			 text[n] == '(' && (e = strstr(u = text + n + 1, "): ")) != NULL &&
			 (strncmp(e + 3, "Logged out", 10) == 0 ||
			     strncmp(e + 3, "Disconnected", 12) == 0))
			session_event(m, i, u, (size_t)(e - u), false);
	}
}

/* A delivery's status line: its status and delay= into the counters. */
static void status_line(struct metrics_log *m, const char *l, const char *dsn, int st)
{
	/* delay= comes before the dsn= (lib/dsn_log.c) */
	const char *d = strstr(l, ", delay=");
	char *end;
	double v;

	m->status[st]++;
	if (d == NULL || d > dsn)
		return;
	v = strtod(d + 8, &end);
	/* no "inf" or "nan" from a look-alike: the sum stays a number */
	if (end != d + 8 && (*end == ',' || *end == 0) && isfinite(v))
		metrics_hist_observe(&m->delay[st], metrics_delay_bounds, metrics_delay_nbounds, v);
}

static void log_line(struct metrics_log *m, const char *l)
{
	/* "..., dsn=X.Y.Z, status=sent (...)": the status after the dsn,
	 * not a look-alike inside the address logged before it */
	const char *dsn = strstr(l, ", dsn=");
	const char *st = dsn ? strstr(dsn, ", status=") : NULL;
	size_t n = strlen(l);

	if (st)
		st++;
	if (n > 15 && strcmp(l + n - 15, " (queue active)") == 0 && strstr(l, ", nrcpt="))
		m->received++;
	else if (st && strncmp(st + 8, "sent ", 5) == 0)
		status_line(m, l, dsn, MLOG_SENT);
	else if (st && strncmp(st + 8, "deferred ", 9) == 0)
		status_line(m, l, dsn, MLOG_DEFERRED);
	else if (st && strncmp(st + 8, "bounced ", 8) == 0)
		status_line(m, l, dsn, MLOG_BOUNCED);
	else
		session_line(m, l);
}

void metrics_log_init(struct metrics_log *m)
{
	*m = (struct metrics_log){.partial = BUF_INIT, .who = json_object()};
}

void metrics_log_feed(struct metrics_log *m, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			if (m->partial.len < MLOG_LINE_MAX)
				buf_putc(&m->partial, data[i]);
			continue;
		}
		log_line(m, buf_cstr(&m->partial));
		m->partial.len = 0;
	}
}

void metrics_log_restart(struct metrics_log *m)
{
	buf_free(&m->partial);
	json_object_clear(m->who); /* the sessions are counted again */
	memset(m->open, 0, sizeof(m->open));
}

void metrics_log_free(struct metrics_log *m)
{
	buf_free(&m->partial);
	json_decref(m->who);
	m->who = NULL;
}
