/*
 * metrics.c - /metrics in Prometheus text format (version 0.0.4), to
 * clients in http_metrics_networks only.
 *
 * What is served, and where it comes from:
 *   - this process's own counters (requests, logins, login failures,
 *     cookie sessions opened, open connections);
 *   - tern_http_request_duration_seconds, a histogram of its request
 *     latency (the request's first byte to the end of the answer, by
 *     kind: "jmap" for /jmap/ and /.well-known/jmap, "web" for the rest;
 *     EventSource streams are not requests that end, so not counted);
 *   - tern_queue_messages, the files in incoming, active, deferred and
 *     hold, counted through folder descriptors opened as root before the
 *     process confined itself (it can list those folders, not open a
 *     file in them);
 *   - from maillog_file, opened the same way and read as it grows (the
 *     whole file the first time): the mail counters (qmgr-bound
 *     "nrcpt=... (queue active)" lines, delivery agents' "status=" lines
 *     after their dsn=), tern_delivery_delay_seconds (the histogram of
 *     those lines' delay=, the message's arrival to the attempt's end, by
 *     status), and client sessions per protocol: started
 *     (tern_sessions_total) and open now (tern_sessions: an end counts
 *     against a start of the same smtpd process or user only, see
 *     session_event).  smtp and submission: smtpd's "connect from" and
 *     "disconnect from" lines, submission being an smtpd whose
 *     syslog_name ends in /submission or /smtps (as Postfix's master.cf
 *     and tern init name them); imap, pop3, managesieve: the login
 *     process's "Login: user=<U>" lines, ended by the user's process's
 *     "PROTO(U): Logged out" or "PROTO(U): Disconnected" line.  A
 *     session whose process died without its last line stays open.
 *     A log rotated by renaming is followed again when http restarts; a
 *     truncated one is read from its start.
 *   - http's own sessions: logins (counter) and live cookie sessions.
 */
#include <dirent.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

static const char *const queues[] = {
    QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, NULL};
static int queue_fd[4] = {-1, -1, -1, -1};

/* Sessions read from the log, as protocols[]; http's are this process's. */
enum { P_SMTP, P_SUBMISSION, P_IMAP, P_POP3, P_MANAGESIEVE, NPROTO };
static const char *const protocols[] = {"smtp", "submission", "imap", "pop3", "managesieve"};

/* A histogram: the counts per bucket (not cumulative) then the rest. */
#define HIST_MAX 16
struct hist {
	unsigned long bucket[HIST_MAX];
	unsigned long count;
	double sum;
};

/* Upper bounds of the request latency buckets, seconds (then +Inf). */
static const double req_bounds[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define REQ_BOUNDS (sizeof(req_bounds) / sizeof(req_bounds[0]))
static const char *const kinds[] = {"jmap", "web"};
static struct hist lat[2];

/* Delivery delays: a second to a day (deferred mail waits long). */
static const double delay_bounds[] = {
    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400};
#define DELAY_BOUNDS (sizeof(delay_bounds) / sizeof(delay_bounds[0]))
enum { S_SENT, S_DEFERRED, S_BOUNCED, NSTATUS };
static const char *const statuses[] = {"sent", "deferred", "bounced"};

static struct {
	int fd;
	off_t off;
	struct buf partial; /* a line not yet ended */
	unsigned long received, status[NSTATUS];
	struct hist delay[NSTATUS];
	unsigned long started[NPROTO], open[NPROTO];
	json_t *who; /* "PROTO pid" (smtpd) or "PROTO user" -> its open sessions */
} mlog = {.fd = -1};

static void hist_observe(struct hist *h, const double *bounds, size_t n, double v)
{
	size_t b;

	if (v < 0)
		v = 0;
	for (b = 0; b < n && v > bounds[b]; b++)
		;
	if (b < n)
		h->bucket[b]++;
	h->count++;
	h->sum += v;
}

/* The series of one histogram: label is `name="value"`. */
static void hist_write(struct buf *b, const char *name, const char *label, const struct hist *h,
    const double *bounds, size_t n)
{
	unsigned long cum = 0;

	for (size_t i = 0; i < n; i++) {
		cum += h->bucket[i];
		buf_printf(b, "%s_bucket{%s,le=\"%g\"} %lu\n", name, label, bounds[i], cum);
	}
	buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %lu\n%s_sum{%s} %.6f\n%s_count{%s} %lu\n", name,
	    label, h->count, name, label, h->sum, name, label, h->count);
}

void http_metrics_observe(const struct hreq *q)
{
	double s = (double)(mono_usec() - q->start_us) / 1e6;
	int k = q->url && (strncmp(q->url, "/jmap/", 6) == 0 ||
			      strcmp(q->url, "/.well-known/jmap") == 0)
		    ? 0
		    : 1;

	hist_observe(&lat[k], req_bounds, REQ_BOUNDS, s);
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
static void session_event(int i, const char *whom, size_t len, bool up)
{
	char *key = xasprintf("%s %.*s", protocols[i], (int)len, whom);
	json_t *n = json_object_get(mlog.who, key);
	json_int_t v = n ? json_integer_value(n) : 0;

	if (up) {
		mlog.started[i]++;
		mlog.open[i]++;
		json_object_set_new(mlog.who, key, json_integer(v + 1));
	} else if (v > 0) {
		mlog.open[i]--;
		if (v == 1)
			json_object_del(mlog.who, key);
		else
			json_object_set_new(mlog.who, key, json_integer(v - 1));
	}
	free(key);
}

static void session_line(const char *l)
{
	char prog[32], tag[32], pid[24];
	const char *text, *u, *e;
	size_t n;
	long p;

	if (!log_prog(l, prog, sizeof(prog), tag, sizeof(tag), &p, &text))
		return;
	if (strcmp(prog, "smtpd") == 0) {
		int i = strcmp(tag, "submission") == 0 || strcmp(tag, "smtps") == 0 ? P_SUBMISSION
										    : P_SMTP;

		snprintf(pid, sizeof(pid), "%ld", p);
		if (strncmp(text, "connect from ", 13) == 0)
			session_event(i, pid, strlen(pid), true);
		else if (strncmp(text, "disconnect from ", 16) == 0)
			session_event(i, pid, strlen(pid), false);
		return;
	}
	n = strlen(prog);
	for (int i = P_IMAP; i < NPROTO; i++) {
		size_t pl = strlen(protocols[i]);

		/* "Login: user=<alice@example.com>, method=..." */
		if (n == pl + 6 && strncmp(prog, protocols[i], pl) == 0 &&
		    strcmp(prog + pl, "-login") == 0 && strncmp(text, "Login: user=<", 13) == 0 &&
		    (e = strstr(text + 13, ">, ")) != NULL)
			session_event(i, text + 13, (size_t)(e - text - 13), true);
		/* "imap(alice@example.com): Logged out ..." or "...: Disconnected..." */
		else if (strcmp(prog, protocols[i]) == 0 && strncmp(text, prog, n) == 0 &&
			 text[n] == '(' && (e = strstr(u = text + n + 1, "): ")) != NULL &&
			 (strncmp(e + 3, "Logged out", 10) == 0 ||
			     strncmp(e + 3, "Disconnected", 12) == 0))
			session_event(i, u, (size_t)(e - u), false);
	}
}

void http_metrics_open(void)
{
	const char *qdir = config_str("queue_directory"), *lf = config_str("maillog_file");

	for (int i = 0; queues[i]; i++) {
		char *p = xasprintf("%s/%s", qdir, queues[i]);

		if ((queue_fd[i] = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			log_warn("metrics: %s: %s (no queue size)", p, strerror(errno));
		free(p);
	}
	mlog.who = json_object();
	if (*lf && (mlog.fd = open(lf, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		log_warn("metrics: %s: %s (no mail counters)", lf, strerror(errno));
}

/* Files in a queue folder, or -1. */
static long queue_count(int fd)
{
	int d = fd >= 0 ? dup(fd) : -1;
	DIR *dir;
	struct dirent *e;
	long n = 0;

	if (d < 0 || (dir = fdopendir(d)) == NULL) {
		if (d >= 0)
			close(d);
		return -1;
	}
	rewinddir(dir);
	while ((e = readdir(dir)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

/* A delivery's status line: its status and delay= into the counters. */
static void status_line(const char *l, const char *dsn, int st)
{
	/* delay= comes before the dsn= (lib/dsn_log.c) */
	const char *d = strstr(l, ", delay=");
	char *end;
	double v;

	mlog.status[st]++;
	if (d == NULL || d > dsn)
		return;
	v = strtod(d + 8, &end);
	if (end != d + 8 && (*end == ',' || *end == 0))
		hist_observe(&mlog.delay[st], delay_bounds, DELAY_BOUNDS, v);
}

static void mlog_line(const char *l)
{
	/* "..., dsn=X.Y.Z, status=sent (...)": the status after the dsn,
	 * not a look-alike inside the address logged before it */
	const char *dsn = strstr(l, ", dsn=");
	const char *st = dsn ? strstr(dsn, ", status=") : NULL;

	if (st)
		st++;
	size_t n = strlen(l);

	if (n > 15 && strcmp(l + n - 15, " (queue active)") == 0 && strstr(l, ", nrcpt="))
		mlog.received++;
	else if (st && strncmp(st + 8, "sent ", 5) == 0)
		status_line(l, dsn, S_SENT);
	else if (st && strncmp(st + 8, "deferred ", 9) == 0)
		status_line(l, dsn, S_DEFERRED);
	else if (st && strncmp(st + 8, "bounced ", 8) == 0)
		status_line(l, dsn, S_BOUNCED);
	else
		session_line(l);
}

/* Reads what the log gained since the last scrape. */
static void mlog_read(void)
{
	char chunk[65536];
	ssize_t n;
	off_t size;

	if (mlog.fd < 0)
		return;
	if ((size = lseek(mlog.fd, 0, SEEK_END)) < mlog.off) { /* truncated */
		mlog.off = 0;
		buf_free(&mlog.partial);
		json_object_clear(mlog.who); /* the sessions are counted again */
		memset(mlog.open, 0, sizeof(mlog.open));
	}
	while ((n = pread(mlog.fd, chunk, sizeof(chunk), mlog.off)) > 0) {
		mlog.off += n;
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] != '\n') {
				if (mlog.partial.len < 4096)
					buf_putc(&mlog.partial, chunk[i]);
				continue;
			}
			mlog_line(buf_cstr(&mlog.partial));
			mlog.partial.len = 0;
		}
	}
}

static void mail_metrics(struct buf *b)
{
	char label[64];

	mlog_read();
	buf_printf(b,
	    "# HELP tern_messages_received_total Messages queued by cleanup (maillog).\n"
	    "# TYPE tern_messages_received_total counter\n"
	    "tern_messages_received_total %lu\n"
	    "# HELP tern_deliveries_total Delivery attempts per recipient by result "
	    "(maillog).\n"
	    "# TYPE tern_deliveries_total counter\n",
	    mlog.received);
	for (int i = 0; i < NSTATUS; i++)
		buf_printf(
		    b, "tern_deliveries_total{status=\"%s\"} %lu\n", statuses[i], mlog.status[i]);
	buf_puts(b, "# HELP tern_delivery_delay_seconds Delivery attempts by the time from the "
		    "message's arrival to the attempt's end (maillog delay=).\n"
		    "# TYPE tern_delivery_delay_seconds histogram\n");
	for (int i = 0; i < NSTATUS; i++) {
		snprintf(label, sizeof(label), "status=\"%s\"", statuses[i]);
		hist_write(b, "tern_delivery_delay_seconds", label, &mlog.delay[i], delay_bounds,
		    DELAY_BOUNDS);
	}
}

/* One family's line per protocol: the log's (when read), then http's. */
static void per_protocol(struct buf *b, const char *name, const unsigned long *v, unsigned long h)
{
	if (mlog.fd >= 0)
		for (int i = 0; i < NPROTO; i++)
			buf_printf(b, "%s{protocol=\"%s\"} %lu\n", name, protocols[i], v[i]);
	buf_printf(b, "%s{protocol=\"http\"} %lu\n", name, h);
}

static void session_metrics(struct buf *b)
{
	buf_puts(b, "# HELP tern_sessions_total Client sessions started, by protocol (smtp, "
		    "submission: connections; others: logins).\n"
		    "# TYPE tern_sessions_total counter\n");
	per_protocol(b, "tern_sessions_total", mlog.started, http.logins);
	buf_puts(b, "# HELP tern_sessions Client sessions open now, by protocol (http: live "
		    "cookie sessions).\n"
		    "# TYPE tern_sessions gauge\n");
	per_protocol(b, "tern_sessions", mlog.open, http_sessions_live());
}

enum MHD_Result http_metrics(struct hreq *q)
{
	struct buf b = BUF_INIT;
	char rip[64];
	enum MHD_Result rc;

	http_client_addr(q->conn, rip, sizeof(rip), NULL);
	if (!sock_addr_in_networks(rip, config_str("http_metrics_networks")))
		return http_queue(
		    q, 403, http_error_json("metrics are not served to this address"));
	buf_printf(&b,
	    "# HELP tern_http_requests_total HTTP requests received by this http process.\n"
	    "# TYPE tern_http_requests_total counter\ntern_http_requests_total %lu\n"
	    "# HELP tern_http_logins_total Successful web and JMAP logins.\n"
	    "# TYPE tern_http_logins_total counter\ntern_http_logins_total %lu\n"
	    "# HELP tern_http_login_failures_total Failed web and JMAP logins.\n"
	    "# TYPE tern_http_login_failures_total counter\ntern_http_login_failures_total %lu\n"
	    "# HELP tern_http_sessions_opened_total Cookie sessions opened.\n"
	    "# TYPE tern_http_sessions_opened_total counter\n"
	    "tern_http_sessions_opened_total %lu\n"
	    "# HELP tern_http_connections Open HTTP connections.\n"
	    "# TYPE tern_http_connections gauge\ntern_http_connections %u\n",
	    http.requests, http.logins, http.login_failures, http.sessions_opened,
	    http_server_clients());
	buf_puts(&b, "# HELP tern_http_request_duration_seconds HTTP request latency, first byte "
		     "to the end of the answer.\n"
		     "# TYPE tern_http_request_duration_seconds histogram\n");
	for (int k = 0; k < 2; k++) {
		char label[32];

		snprintf(label, sizeof(label), "kind=\"%s\"", kinds[k]);
		hist_write(&b, "tern_http_request_duration_seconds", label, &lat[k], req_bounds,
		    REQ_BOUNDS);
	}
	buf_puts(&b, "# HELP tern_queue_messages Queue files in each queue folder.\n"
		     "# TYPE tern_queue_messages gauge\n");
	for (int i = 0; queues[i]; i++) {
		long n = queue_count(queue_fd[i]);

		if (n >= 0)
			buf_printf(&b, "tern_queue_messages{queue=\"%s\"} %ld\n", queues[i], n);
	}
	if (mlog.fd >= 0)
		mail_metrics(&b);
	session_metrics(&b);
	rc = http_queue(q, 200, http_text("text/plain; version=0.0.4", b.data, b.len));
	buf_free(&b);
	return rc;
}
