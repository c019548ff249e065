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
 *     whole file the first time): the mail counters, the delivery delay
 *     histogram and client sessions per protocol, which metrics_log.c
 *     reads from its lines.  A log rotated by renaming is followed again
 *     when http restarts; a truncated one is read from its start.
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
#include "metrics_log.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

static const char *const queues[] = {
    QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, NULL};
static int queue_fd[4] = {-1, -1, -1, -1};

/* Upper bounds of the request latency buckets, seconds (then +Inf). */
static const double req_bounds[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define REQ_BOUNDS (sizeof(req_bounds) / sizeof(req_bounds[0]))
static const char *const kinds[] = {"jmap", "web"};
static struct metrics_hist lat[2];

static struct {
	int fd;
	off_t off;
	struct metrics_log m;
} mlog = {.fd = -1};

/* The series of one histogram: label is `name="value"`. */
static void hist_write(struct buf *b, const char *name, const char *label,
    const struct metrics_hist *h, const double *bounds, size_t n)
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

	metrics_hist_observe(&lat[k], req_bounds, REQ_BOUNDS, s);
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
	metrics_log_init(&mlog.m);
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
		metrics_log_restart(&mlog.m);
	}
	while ((n = pread(mlog.fd, chunk, sizeof(chunk), mlog.off)) > 0) {
		mlog.off += n;
		metrics_log_feed(&mlog.m, chunk, (size_t)n);
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
	    mlog.m.received);
	for (int i = 0; i < MLOG_NSTATUS; i++)
		buf_printf(b, "tern_deliveries_total{status=\"%s\"} %lu\n", metrics_statuses[i],
		    mlog.m.status[i]);
	buf_puts(b, "# HELP tern_delivery_delay_seconds Delivery attempts by the time from the "
		    "message's arrival to the attempt's end (maillog delay=).\n"
		    "# TYPE tern_delivery_delay_seconds histogram\n");
	for (int i = 0; i < MLOG_NSTATUS; i++) {
		snprintf(label, sizeof(label), "status=\"%s\"", metrics_statuses[i]);
		hist_write(b, "tern_delivery_delay_seconds", label, &mlog.m.delay[i],
		    metrics_delay_bounds, metrics_delay_nbounds);
	}
}

/* One family's line per protocol: the log's (when read), then http's. */
static void per_protocol(struct buf *b, const char *name, const unsigned long *v, unsigned long h)
{
	if (mlog.fd >= 0)
		for (int i = 0; i < MLOG_NPROTO; i++)
			buf_printf(
			    b, "%s{protocol=\"%s\"} %lu\n", name, metrics_protocols[i], v[i]);
	buf_printf(b, "%s{protocol=\"http\"} %lu\n", name, h);
}

static void session_metrics(struct buf *b)
{
	buf_puts(b, "# HELP tern_sessions_total Client sessions started, by protocol (smtp, "
		    "submission: connections; others: logins).\n"
		    "# TYPE tern_sessions_total counter\n");
	per_protocol(b, "tern_sessions_total", mlog.m.started, http.logins);
	buf_puts(b, "# HELP tern_sessions Client sessions open now, by protocol (http: live "
		    "cookie sessions).\n"
		    "# TYPE tern_sessions gauge\n");
	per_protocol(b, "tern_sessions", mlog.m.open, http_sessions_live());
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
