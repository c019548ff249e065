/*
 * misc.c - the small documents http serves itself:
 *
 *   /mail/config-v1.1.xml, /.well-known/autoconfig/mail/config-v1.1.xml
 *       Thunderbird's autoconfiguration: IMAP and submission servers from
 *       http_autoconfig_imap and http_autoconfig_submission (HOST:PORT;
 *       ports 993 and 465 mean implicit TLS, others STARTTLS).
 *   /autodiscover/autodiscover.xml (POST, also GET)
 *       Microsoft's POX autodiscover (Outlook, many phones): the same
 *       servers; the address the client names is echoed as login name.
 *   /.well-known/mta-sts.txt
 *       The domains' MTA-STS policy (RFC 8461 3.2) from mta_sts_mode,
 *       mta_sts_mx and mta_sts_max_age (mtasts_publish.h), to requests
 *       whose Host is "mta-sts." followed by a domain; 404 otherwise and
 *       when mta_sts_mode is off.  Senders fetch it only over HTTPS with a
 *       certificate valid for that host name.
 *   /metrics
 *       Prometheus text format, to clients in http_metrics_networks only:
 *       this process's own counters (requests, logins, login failures,
 *       sessions opened, open connections) and its request latency
 *       histogram (seconds from the request's first byte to the end of
 *       the answer, by kind: "jmap" for /jmap/ and /.well-known/jmap,
 *       "web" for the rest; EventSource streams are not requests that
 *       end, so not counted); the queue's sizes (files in
 *       incoming, active, deferred, hold), counted through folder
 *       descriptors opened as root before the process confined itself
 *       (it can list those folders, not open a file in them); and the
 *       mail counters (received, delivered, deferred, bounced) read from
 *       maillog_file, opened the same way, as it grows: qmgr-bound
 *       "nrcpt=... (queue active)" lines and delivery agents' "status="
 *       lines of the whole file, and the sessions per protocol: smtpd's
 *       "connect from" lines (smtp), the login processes' "Login:" lines
 *       (imap, pop3, managesieve); http's are its own logins.  A log rotated by renaming is
 * followed again when http restarts; a truncated one is read from its start.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "mtasts_publish.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

static const char *const queues[] = {
    QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, NULL};
static int queue_fd[4] = {-1, -1, -1, -1};

static struct {
	int fd;
	off_t off;
	struct buf partial; /* a line not yet ended */
	unsigned long received, sent, deferred, bounced;
	unsigned long sessions[4]; /* as protocols[] */
} mlog = {.fd = -1};

static const char *const protocols[] = {"smtp", "imap", "pop3", "managesieve", NULL};

/* Upper bounds of the latency buckets, seconds (then +Inf). */
static const double bounds[] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))
static const char *const kinds[] = {"jmap", "web"};
static struct {
	unsigned long bucket[NBOUNDS]; /* not cumulative */
	unsigned long count;
	double sum;
} lat[2];

void http_metrics_observe(const struct hreq *q)
{
	double s = (double)(mono_usec() - q->start_us) / 1e6;
	int k = q->url && (strncmp(q->url, "/jmap/", 6) == 0 ||
			      strcmp(q->url, "/.well-known/jmap") == 0)
		    ? 0
		    : 1;
	size_t b;

	if (s < 0)
		s = 0;
	for (b = 0; b < NBOUNDS && s > bounds[b]; b++)
		;
	if (b < NBOUNDS)
		lat[k].bucket[b]++;
	lat[k].count++;
	lat[k].sum += s;
}

static void latency(struct buf *b)
{
	buf_puts(b, "# HELP tern_http_request_duration_seconds HTTP request latency, first byte "
		    "to the end of the answer.\n"
		    "# TYPE tern_http_request_duration_seconds histogram\n");
	for (int k = 0; k < 2; k++) {
		unsigned long cum = 0;

		for (size_t i = 0; i < NBOUNDS; i++) {
			cum += lat[k].bucket[i];
			buf_printf(b,
			    "tern_http_request_duration_seconds_bucket{kind=\"%s\",le=\"%g\"} "
			    "%lu\n",
			    kinds[k], bounds[i], cum);
		}
		buf_printf(b,
		    "tern_http_request_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %lu\n"
		    "tern_http_request_duration_seconds_sum{kind=\"%s\"} %.6f\n"
		    "tern_http_request_duration_seconds_count{kind=\"%s\"} %lu\n",
		    kinds[k], lat[k].count, kinds[k], lat[k].sum, kinds[k], lat[k].count);
	}
}

/* "... tern/imap-login[42]: Login: user=<...": the program and the text. */
static bool log_prog(const char *l, char *prog, size_t size, const char **text)
{
	const char *br = strstr(l, "]: "), *p;

	if (br == NULL)
		return false;
	for (p = br; p > l && p[-1] != '[';)
		p--;
	if (p == l)
		return false;
	p--; /* the '[' */
	{
		const char *s = p;

		while (s > l && s[-1] != '/' && s[-1] != ' ')
			s--;
		if ((size_t)(p - s) >= size)
			return false;
		memcpy(prog, s, (size_t)(p - s));
		prog[p - s] = 0;
	}
	*text = br + 3;
	return true;
}

static void session_line(const char *l)
{
	char prog[32];
	const char *text;
	size_t n;

	if (!log_prog(l, prog, sizeof(prog), &text))
		return;
	if (strcmp(prog, "smtpd") == 0 && strncmp(text, "connect from ", 13) == 0) {
		mlog.sessions[0]++;
		return;
	}
	n = strlen(prog);
	if (n > 6 && strcmp(prog + n - 6, "-login") == 0 && strncmp(text, "Login: ", 7) == 0)
		for (int i = 1; protocols[i]; i++)
			if (strlen(protocols[i]) == n - 6 &&
			    strncmp(prog, protocols[i], n - 6) == 0)
				mlog.sessions[i]++;
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
		mlog.sent++;
	else if (st && strncmp(st + 8, "deferred ", 9) == 0)
		mlog.deferred++;
	else if (st && strncmp(st + 8, "bounced ", 8) == 0)
		mlog.bounced++;
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

static void server_of(const char *param, char **host, long *port)
{
	char *h = NULL, *p = NULL;
	struct buf err = BUF_INIT;

	*port = 0;
	if (sock_split_hostport(config_str(param), &h, &p, &err) < 0 || p == NULL ||
	    !parse_long(p, 1, 65535, port)) {
		free(h);
		h = xstrdup(config_str("myhostname"));
	}
	*host = h;
	free(p);
	buf_free(&err);
}

static void xml_text(struct buf *b, const char *s)
{
	buf_put_html(b, s, strlen(s));
}

static enum MHD_Result autoconfig(struct hreq *q)
{
	struct buf b = BUF_INIT;
	char *ih, *sh;
	long ip, sp;
	enum MHD_Result rc;

	server_of("http_autoconfig_imap", &ih, &ip);
	server_of("http_autoconfig_submission", &sh, &sp);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<clientConfig version=\"1.1\">\n  <emailProvider id=\"");
	xml_text(&b, config_str("mydomain"));
	buf_puts(&b, "\">\n    <domain>");
	xml_text(&b, config_str("mydomain"));
	buf_puts(&b, "</domain>\n    <displayName>");
	xml_text(&b, config_str("mydomain"));
	buf_puts(&b, "</displayName>\n    <incomingServer type=\"imap\">\n      <hostname>");
	xml_text(&b, ih);
	buf_printf(&b,
	    "</hostname>\n      <port>%ld</port>\n      <socketType>%s</socketType>\n"
	    "      <authentication>password-cleartext</authentication>\n"
	    "      <username>%%EMAILADDRESS%%</username>\n    </incomingServer>\n"
	    "    <outgoingServer type=\"smtp\">\n      <hostname>",
	    ip, ip == 993 ? "SSL" : "STARTTLS");
	xml_text(&b, sh);
	buf_printf(&b,
	    "</hostname>\n      <port>%ld</port>\n      <socketType>%s</socketType>\n"
	    "      <authentication>password-cleartext</authentication>\n"
	    "      <username>%%EMAILADDRESS%%</username>\n    </outgoingServer>\n"
	    "  </emailProvider>\n</clientConfig>\n",
	    sp, sp == 465 ? "SSL" : "STARTTLS");
	rc = http_queue(q, 200, http_text("application/xml; charset=utf-8", b.data, b.len));
	buf_free(&b);
	free(ih);
	free(sh);
	return rc;
}

/* The <EMailAddress> of the request, or "". */
static char *pox_address(const struct buf *body)
{
	const char *s = body->data ? memmem(body->data, body->len, "<EMailAddress>", 14) : NULL;
	const char *e;

	if (s == NULL)
		return xstrdup("");
	s += 14;
	e = memmem(s, body->len - (size_t)(s - body->data), "</EMailAddress>", 15);
	if (e == NULL || e - s > 320)
		return xstrdup("");
	return xstrndup(s, (size_t)(e - s));
}

static enum MHD_Result autodiscover(struct hreq *q)
{
	struct buf b = BUF_INIT;
	char *addr = pox_address(&q->body);
	enum MHD_Result rc;
	char *h;
	long p;

	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		     "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
		     "responseschema/2006\">\n  <Response xmlns=\"http://schemas.microsoft.com/"
		     "exchange/autodiscover/outlook/responseschema/2006a\">\n    <Account>\n"
		     "      <AccountType>email</AccountType>\n      <Action>settings</Action>\n");
	for (int i = 0; i < 2; i++) {
		const char *param = i ? "http_autoconfig_submission" : "http_autoconfig_imap";

		server_of(param, &h, &p);
		buf_printf(&b, "      <Protocol>\n        <Type>%s</Type>\n        <Server>",
		    i ? "SMTP" : "IMAP");
		xml_text(&b, h);
		buf_printf(&b, "</Server>\n        <Port>%ld</Port>\n        <LoginName>", p);
		xml_text(&b, addr);
		buf_printf(&b,
		    "</LoginName>\n        <SPA>off</SPA>\n        <SSL>on</SSL>\n"
		    "        <Encryption>%s</Encryption>\n        <AuthRequired>on</AuthRequired>\n"
		    "      </Protocol>\n",
		    (p == 993 || p == 465) ? "SSL" : "TLS");
		free(h);
	}
	buf_puts(&b, "    </Account>\n  </Response>\n</Autodiscover>\n");
	rc = http_queue(q, 200, http_text("application/xml; charset=utf-8", b.data, b.len));
	buf_free(&b);
	free(addr);
	return rc;
}

static enum MHD_Result metrics(struct hreq *q)
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
	latency(&b);
	buf_puts(&b, "# HELP tern_queue_messages Queue files in each queue folder.\n"
		     "# TYPE tern_queue_messages gauge\n");
	for (int i = 0; queues[i]; i++) {
		long n = queue_count(queue_fd[i]);

		if (n >= 0)
			buf_printf(&b, "tern_queue_messages{queue=\"%s\"} %ld\n", queues[i], n);
	}
	if (mlog.fd >= 0) {
		mlog_read();
		buf_printf(&b,
		    "# HELP tern_messages_received_total Messages queued by cleanup (maillog).\n"
		    "# TYPE tern_messages_received_total counter\n"
		    "tern_messages_received_total %lu\n"
		    "# HELP tern_deliveries_total Delivery attempts per recipient by result "
		    "(maillog).\n"
		    "# TYPE tern_deliveries_total counter\n"
		    "tern_deliveries_total{status=\"sent\"} %lu\n"
		    "tern_deliveries_total{status=\"deferred\"} %lu\n"
		    "tern_deliveries_total{status=\"bounced\"} %lu\n",
		    mlog.received, mlog.sent, mlog.deferred, mlog.bounced);
	}
	buf_puts(&b, "# HELP tern_sessions_total Client sessions by protocol (smtp: connections; "
		     "others: logins).\n"
		     "# TYPE tern_sessions_total counter\n");
	if (mlog.fd >= 0)
		for (int i = 0; protocols[i]; i++)
			buf_printf(&b, "tern_sessions_total{protocol=\"%s\"} %lu\n", protocols[i],
			    mlog.sessions[i]);
	buf_printf(&b, "tern_sessions_total{protocol=\"http\"} %lu\n", http.logins);
	rc = http_queue(q, 200, http_text("text/plain; version=0.0.4", b.data, b.len));
	buf_free(&b);
	return rc;
}

static enum MHD_Result mta_sts(struct hreq *q)
{
	const char *host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Host");
	struct buf b = BUF_INIT;
	char id[MTASTS_PUBLISH_ID_LEN + 1];
	enum MHD_Result rc;

	if (host == NULL || !str_prefix_case(host, "mta-sts.") || host[8] == '\0' ||
	    !mtasts_published(&b, id)) {
		buf_free(&b);
		return http_queue(
		    q, 404, http_text("text/plain; charset=utf-8", "Not found\n", 10));
	}
	rc = http_queue(q, 200, http_text("text/plain; charset=utf-8", b.data, b.len));
	buf_free(&b);
	return rc;
}

enum MHD_Result http_misc(struct hreq *q, const char *url, bool *handled)
{
	*handled = true;
	if (strcmp(url, "/mail/config-v1.1.xml") == 0 ||
	    strcmp(url, "/.well-known/autoconfig/mail/config-v1.1.xml") == 0)
		return autoconfig(q);
	if (strcasecmp(url, "/autodiscover/autodiscover.xml") == 0)
		return autodiscover(q);
	if (strcmp(url, "/metrics") == 0)
		return metrics(q);
	if (strcmp(url, "/.well-known/mta-sts.txt") == 0)
		return mta_sts(q);
	*handled = false;
	return MHD_NO;
}
