/*
 * route.c - from a next hop to a ready SMTP session.
 *
 * A next hop is "domain" or "domain:port" (MX look-up, RFC 5321 section
 * 5.1: hosts in preference order, the domain itself when it has no MX),
 * or "[host]" / "[host]:port" (no MX look-up, as Postfix's brackets).
 * Each host's addresses are tried in turn, at most smtp_mx_address_limit
 * of them: a refused or timed-out connection, a greeting that is not 2xx,
 * a failed EHLO/HELO, required TLS that fails or a failed AUTH all move on
 * to the next address.  When every address failed, the last reason is
 * the deferral reason.  Permanent outcomes are only the DNS ones: the
 * domain does not exist (5.4.4) or publishes a null MX (5.1.10).
 *
 * LMTP (RFC 2033, the lmtp transport) differs only in the set-up: the next
 * hop is "unix:/path" (relative to queue_directory, as Postfix's
 * "unix:private/dovecot-lmtp"), "inet:host[:port]" or "host[:port]"
 * (lmtp_tcp_port by default), never looked up as MX; the greeting is
 * followed by LHLO (lmtp_lhlo_name), with no HELO fallback.  STARTTLS and
 * AUTH work as for SMTP, with the lmtp_tls_* and lmtp_sasl_* parameters
 * (lmtp_tls_security_level is empty, i.e. none, by default, as in
 * Postfix); over a unix socket the certificate name checked at verify is
 * myhostname.  No DANE and no REQUIRETLS for LMTP.  The log shows a unix
 * socket as "myhostname[path]", as Postfix does.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "log.h"
#include "sock.h"
#include "smtp.h"
#include "tls_client.h"
#include "util.h"

struct route_hop {
	char name[256];
	int port;
	bool mx;	/* look up MX records */
	char dest[300]; /* the next hop as written: cache and policy key */
	bool lmtp;
	bool unix_socket; /* LMTP "unix:": name is the path */
	enum smtp_tls_want want;
	char sts_note[300];	 /* ", MTA-STS policy ... of D" for the host tried, or "" */
	bool sts_testing;	 /* the host tried is under a policy in mode testing */
	bool sts_unlisted;	 /* ... which does not list it */
	struct smtp_tlsrpt *rpt; /* the TLS-RPT policy of the host tried, or NULL */
};

static void route_failf(struct smtp_fail *f, bool permanent, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void route_failf(struct smtp_fail *f, bool permanent, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	f->permanent = permanent;
	strlcpy(f->dsn, dsn, sizeof(f->dsn));
	va_start(ap, fmt);
	vsnprintf(f->reason, sizeof(f->reason), fmt, ap);
	va_end(ap);
}

/* An LMTP next hop's "unix:" or "inet:" prefix; false: handled (unix). */
static bool route_lmtp_prefix(const char **p, struct route_hop *h)
{
	if (str_prefix_case(*p, "unix:")) {
		h->unix_socket = true;
		return strlcpy(h->name, *p + 5, sizeof(h->name)) < sizeof(h->name) && h->name[0];
	}
	if (str_prefix_case(*p, "inet:"))
		*p += 5;
	return true;
}

/* Splits a next hop; false on bad syntax. */
static bool route_parse(const char *nexthop, bool lmtp, struct route_hop *h)
{
	const char *p = nexthop, *colon;
	size_t n;
	long port = config_int(lmtp ? "lmtp_tcp_port" : "smtp_tcp_port");

	memset(h, 0, sizeof(*h));
	strlcpy(h->dest, nexthop, sizeof(h->dest));
	h->lmtp = lmtp;
	if (lmtp && !route_lmtp_prefix(&p, h))
		return false;
	if (h->unix_socket)
		return true;
	if (*p == '[') {
		const char *end = strchr(p, ']');

		if (end == NULL)
			return false;
		n = (size_t)(end - p - 1);
		if (n == 0 || n >= sizeof(h->name))
			return false;
		memcpy(h->name, p + 1, n);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] && !colon)
			return false;
	} else {
		h->mx = !lmtp;
		colon = strrchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		if (n == 0 || n >= sizeof(h->name))
			return false;
		memcpy(h->name, p, n);
	}
	if (colon && !parse_long(colon + 1, 1, 65535, &port))
		return false;
	h->port = (int)port;
	if (str_prefix_case(h->name, "ipv6:"))
		memmove(h->name, h->name + 5, strlen(h->name + 5) + 1);
	return true;
}

/* Non-blocking connect bounded by smtp_connect_timeout (lmtp_...); fd or -1. */
static int route_tcp(const struct dns_addr *a, char *err, size_t errsize)
{
	int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct pollfd p;
	long limit;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (fd < 0) {
		snprintf(err, errsize, "%s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		snprintf(err, errsize, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	p.fd = fd;
	p.events = POLLOUT;
	/* 0 (lmtp_connect_timeout's default): the system's own limit. */
	limit = smtp_step_timeout("connect");
	if (poll(&p, 1, limit > 0 ? (int)limit * 1000 : -1) <= 0) {
		snprintf(err, errsize, "Connection timed out");
		close(fd);
		return -1;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr) {
		snprintf(err, errsize, "%s", strerror(soerr));
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends a command and reads its reply. */
static int route_cmd(struct smtp_session *s, struct smtp_reply *r, long timeout, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int route_cmd(
    struct smtp_session *s, struct smtp_reply *r, long timeout, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->io.out, fmt, ap);
	va_end(ap);
	buf_puts(&s->io.out, "\r\n");
	if (smtp_io_flush(&s->io, timeout) < 0)
		return -1;
	return smtp_io_reply(&s->io, r, timeout);
}

static void route_said(
    struct smtp_session *s, struct smtp_fail *f, const struct smtp_reply *r, const char *what)
{
	struct buf line = BUF_INIT;
	char relay[400];

	smtp_reply_line(r, &line);
	smtp_session_relay(s, relay, sizeof(relay));
	route_failf(f, false, r->code / 100 == 5 ? "5.0.0" : "4.0.0", "host %s %s: %s", relay, what,
	    buf_cstr(&line));
	buf_free(&line);
}

static void route_io_fail(struct smtp_session *s, struct smtp_fail *f, const char *stage)
{
	char relay[400];

	smtp_session_relay(s, relay, sizeof(relay));
	route_failf(f, false, "4.4.2", "%s with %s while %s", s->io.err, relay, stage);
}

/* EHLO, falling back to HELO when EHLO is refused; LHLO for LMTP. */
static int route_hello(struct smtp_session *s, struct smtp_fail *f)
{
	struct smtp_reply r;
	long t = smtp_step_timeout("helo");
	const char *name = config_str(s->lmtp ? "lmtp_lhlo_name" : "smtp_helo_name");
	const char *verb = s->lmtp ? "LHLO" : "EHLO";
	int rc = -1;

	smtp_reply_init(&r);
	if (route_cmd(s, &r, t, "%s %s", verb, name) < 0)
		route_io_fail(s, f,
		    s->lmtp ? "performing the LHLO handshake" : "performing the EHLO handshake");
	else if (r.code / 100 == 2) {
		smtp_ext_parse(&r, &s->ext);
		rc = 0;
	} else if (s->lmtp)
		route_said(s, f, &r, "refused to talk to me");
	else if (route_cmd(s, &r, t, "HELO %s", name) < 0)
		route_io_fail(s, f, "performing the HELO handshake");
	else if (r.code / 100 != 2)
		route_said(s, f, &r, "refused to talk to me");
	else {
		memset(&s->ext, 0, sizeof(s->ext));
		rc = 0;
	}
	smtp_reply_free(&r);
	return rc;
}

/*
 * RFC 8689 4.2.1: a message that requires TLS is not sent to a server
 * without (verified) TLS, and is returned to its sender rather than
 * retried in the hope the server changes: the failure becomes permanent,
 * with the status code 5.7.10 ("Encryption needed").
 */
static void route_requiretls_fail(const struct route_hop *h, struct smtp_fail *f)
{
	static const char tag[] = "REQUIRETLS: ";
	size_t n = strlen(f->reason);

	if (h->want != SMTP_TLS_REQUIRE)
		return;
	if (n > sizeof(f->reason) - sizeof(tag))
		n = sizeof(f->reason) - sizeof(tag);
	memmove(f->reason + sizeof(tag) - 1, f->reason, n);
	f->reason[n + sizeof(tag) - 1] = 0;
	memcpy(f->reason, tag, sizeof(tag) - 1);
	strlcpy(f->dsn, "5.7.10", sizeof(f->dsn));
	f->permanent = true;
}

/*
 * An MTA-STS policy in mode testing (RFC 8461 section 5): what enforce
 * would have refused, an unlisted MX host or a certificate not verified
 * for its name, is logged and reported (TLS-RPT) as a failure, and the
 * message goes on over the session as it is.
 */
static void route_sts_testing(struct smtp_session *s, const struct route_hop *h, SSL *ssl)
{
	const char *type = NULL, *why = NULL;

	if (h->sts_unlisted) {
		type = "validation-failure";
		why = "MX host not listed in the policy";
	} else if (SSL_get_verify_result(ssl) != X509_V_OK) {
		type = smtp_tlsrpt_handshake(ssl, &why);
		log_info(
		    "MTA-STS policy of %s (testing): the certificate of %s is not verified: %s; "
		    "delivering anyway",
		    h->name, s->host, why);
	}
	if (h->rpt)
		smtp_tlsrpt_log(h->rpt, type ? type : "success", s->io.fd, s->host, s->addr, why);
}

/* STARTTLS as the policy says; 0 go on, -1 this host failed (f), 1 retry
 * the address without TLS (level may, handshake failed). */
static int route_tls(struct smtp_session *s, const struct route_hop *h, enum tls_level lvl,
    const struct dane_tlsa_set *tlsa, struct smtp_fail *f)
{
	struct smtp_reply r;
	struct buf err = BUF_INIT, info = BUF_INIT;
	char relay[400], key[400];
	SSL *ssl;
	int rc = -1;

	smtp_session_relay(s, relay, sizeof(relay));
	if (lvl != TLS_LEVEL_NONE && !s->ext.starttls && h->rpt)
		smtp_tlsrpt_log(h->rpt, "starttls-not-supported", s->io.fd, s->host, s->addr,
		    "STARTTLS not offered");
	if (lvl == TLS_LEVEL_NONE || (lvl == TLS_LEVEL_MAY && !s->ext.starttls))
		return 0;
	if (!s->ext.starttls) {
		route_failf(
		    f, false, "4.7.4", "TLS is required, but was not offered by host %s", relay);
		route_requiretls_fail(h, f);
		return -1;
	}
	smtp_reply_init(&r);
	if (route_cmd(s, &r, config_time(smtp_pname("starttls_timeout")), "STARTTLS") < 0) {
		route_io_fail(s, f, "sending STARTTLS");
		goto out;
	}
	if (r.code != 220) {
		if (h->rpt)
			smtp_tlsrpt_log(h->rpt, "starttls-not-supported", s->io.fd, s->host,
			    s->addr, "STARTTLS refused");
		if (lvl == TLS_LEVEL_MAY) {
			rc = 0;
			goto out;
		}
		route_said(s, f, &r, "refused to start TLS");
		strlcpy(f->dsn, "4.7.4", sizeof(f->dsn));
		f->permanent = false;
		route_requiretls_fail(h, f);
		goto out;
	}
	/* The level is part of the key: a session made without checks must
	 * not be resumed where the certificate has to be verified. */
	snprintf(key, sizeof(key), "%s[%s]:%d/%d%s", s->host, s->addr, s->port, (int)lvl,
	    tlsa && tlsa->n ? "/dane" : "");
	ssl = tls_client_new(lvl, s->host, h->name, key, tlsa, &err);
	if (ssl == NULL) {
		route_failf(f, false, "4.7.5", "%s", buf_cstr(&err));
		goto out;
	}
	if (h->sts_testing && lvl < TLS_LEVEL_VERIFY)
		tls_client_check_name(ssl, s->host);
	if (smtp_io_starttls(&s->io, ssl, config_time(smtp_pname("starttls_timeout"))) < 0) {
		if (h->rpt) {
			const char *why, *type = smtp_tlsrpt_handshake(s->io.ssl, &why);

			smtp_tlsrpt_log(h->rpt, type, s->io.fd, s->host, s->addr, why);
		}
		route_failf(f, false, "4.7.5", "Cannot start TLS: %s with %s", s->io.err, relay);
		route_requiretls_fail(h, f);
		rc = lvl == TLS_LEVEL_MAY ? 1 : -1;
		goto out;
	}
	s->tls = true;
	s->verified = lvl >= TLS_LEVEL_VERIFY;
	if (h->sts_testing)
		route_sts_testing(s, h, ssl);
	else if (h->rpt)
		smtp_tlsrpt_log(h->rpt, "success", s->io.fd, s->host, s->addr, NULL);
	tls_client_describe(ssl, &info);
	if (tlsa && tlsa->n) {
		buf_puts(&info, ", DANE ");
		tls_client_dane_describe(ssl, &info);
		if (!str_case_eq(tlsa->base, s->host))
			buf_printf(&info, " at %s", tlsa->base);
	}
	buf_puts(&info, h->sts_note);
	log_info("%s TLS connection %s to %s: %s",
	    lvl >= TLS_LEVEL_VERIFY ? "Verified" : "Untrusted",
	    tls_client_resumed(ssl) ? "reused" : "established", relay, buf_cstr(&info));
	/* RFC 3207: forget what was learned before TLS, ask again. */
	rc = route_hello(s, f);
	if (rc == 0 && h->want == SMTP_TLS_REQUIRE && !s->ext.requiretls) {
		/* RFC 8689 4.2.1 and its status code 5.7.30. */
		route_failf(f, true, "5.7.30",
		    "REQUIRETLS support required, but not offered by host %s", relay);
		rc = -1;
	}
out:
	smtp_reply_free(&r);
	buf_free(&err);
	buf_free(&info);
	return rc;
}

/* An LMTP server's unix socket; fd or -1 with err set. */
static int route_unix(const char *path, char *err, size_t errsize)
{
	int fd = sock_unix_connect(path, false);

	if (fd < 0)
		snprintf(err, errsize, "%s", strerror(errno));
	return fd;
}

/* One address (a NULL: h's unix socket): connect, greeting, EHLO (LHLO),
 * TLS, AUTH.  NULL with f set. */
static struct smtp_session *route_try(const struct route_hop *h, const char *host,
    const struct dns_addr *a, enum tls_level lvl, const struct dane_tlsa_set *tlsa,
    struct smtp_fail *f)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	struct smtp_reply r;
	char err[200], relay[400];
	int fd, rc;

	strlcpy(s->dest, h->dest, sizeof(s->dest));
	strlcpy(s->host, host, sizeof(s->host));
	s->want = h->want;
	s->lmtp = h->lmtp;
	if (a)
		sock_ntop((const struct sockaddr *)&a->sa, s->addr, sizeof(s->addr), &s->port);
	else
		strlcpy(s->addr, h->name, sizeof(s->addr));
	smtp_session_relay(s, relay, sizeof(relay));
	fd = a ? route_tcp(a, err, sizeof(err)) : route_unix(h->name, err, sizeof(err));
	if (fd < 0) {
		route_failf(f, false, "4.4.1", "connect to %s: %s", relay, err);
		free(s);
		return NULL;
	}
	smtp_io_init(&s->io, fd);
	smtp_reply_init(&r);
	rc = smtp_io_reply(&s->io, &r, smtp_step_timeout("helo"));
	if (rc < 0)
		route_io_fail(s, f, "receiving the initial server greeting");
	else if (r.code / 100 != 2) {
		route_said(s, f, &r, "refused to talk to me");
		rc = -1;
	}
	smtp_reply_free(&r);
	if (rc == 0)
		rc = route_hello(s, f);
	if (rc == 0 && (rc = route_tls(s, h, lvl, tlsa, f)) == 1) {
		smtp_session_free(s);
		return route_try(h, host, a, TLS_LEVEL_NONE, NULL, f);
	}
	if (rc == 0)
		rc = smtp_sasl_auth(s, h->dest, f);
	if (rc < 0) {
		smtp_session_quit(s);
		return NULL;
	}
	return s;
}

/* The MX hosts of the hop (or the hop itself).  false with f set. */
static bool route_hosts(
    const struct route_hop *h, struct dns_mx **mx, size_t *n, struct smtp_fail *f)
{
	struct buf why = BUF_INIT;
	enum dns_status st = DNS_NODATA;
	bool ok = false;

	if (h->mx)
		st = dns_lookup_mx(h->name, mx, n, &why);
	if (st == DNS_OK)
		ok = true;
	else if (st == DNS_NODATA) {
		/* Implicit MX: the domain's own addresses. */
		*mx = xcalloc(1, sizeof(**mx));
		strlcpy((*mx)[0].host, h->name, sizeof((*mx)[0].host));
		*n = 1;
		ok = true;
	} else if (st == DNS_NULLMX)
		route_failf(f, true, "5.1.10", "%s", buf_cstr(&why));
	else if (st == DNS_NOTFOUND)
		route_failf(f, true, "5.4.4", "%s", buf_cstr(&why));
	else
		route_failf(f, false, "4.4.3", "%s", buf_cstr(&why));
	buf_free(&why);
	return ok;
}

/*
 * Whether MTA-STS is consulted for a host: a next hop looked up as MX (the
 * policy is the recipient domain's, RFC 8461 section 4), TLS not turned
 * off by the policy level or by "TLS-Required: No" (RFC 8689 section 5
 * sets recipient policies aside), and no DANE for the host: where DNSSEC
 * validated TLSA records exist, DANE wins (RFC 8461 section 2).
 */
static bool route_sts_wanted(
    const struct route_hop *h, enum tls_level lvl, const struct smtp_dane *d)
{
	if (!h->mx || h->lmtp || lvl == TLS_LEVEL_NONE || h->want == SMTP_TLS_OPTIONAL)
		return false;
	if (!config_bool("smtp_mta_sts_enable"))
		return false;
	return lvl < TLS_LEVEL_DANE || (d->tlsa.n == 0 && d->level == TLS_LEVEL_MAY);
}

/* The policy's word on one MX host; -1 (f filled) when enforce refuses it. */
static int route_sts_host(struct route_hop *h, const struct smtp_sts *sts, const char *host,
    struct smtp_dane *d, struct smtp_fail *f)
{
	h->sts_note[0] = 0;
	h->sts_testing = sts->on && sts->policy.mode == MTASTS_TESTING;
	h->sts_unlisted = h->sts_testing && !mtasts_mx_match(&sts->policy, host);
	if (smtp_sts_host(sts, host, &d->level, f) < 0)
		return -1;
	if (sts->on)
		snprintf(h->sts_note, sizeof(h->sts_note), ", MTA-STS policy %s of %s",
		    smtp_sts_mode_name(sts->policy.mode), sts->domain);
	return 0;
}

struct smtp_session *smtp_route_connect(
    const char *nexthop, bool lmtp, enum smtp_tls_want want, struct smtp_fail *f)
{
	struct route_hop h;
	struct dns_mx *mx = NULL;
	size_t nmx = 0, tried = 0;
	long limit = config_int("smtp_mx_address_limit");
	enum tls_level lvl;
	struct smtp_session *s = NULL;
	bool any_addr = false, lookup_temp = false, names_secure = false, sts_looked = false;
	struct smtp_sts sts = {.on = false};
	struct smtp_tlsrpt rpt = {.policy = BUF_INIT, .mx = BUF_INIT};
	bool rpt_on;

	memset(f, 0, sizeof(*f));
	if (!route_parse(nexthop, lmtp, &h)) {
		route_failf(f, false, "4.3.5",
		    "mail system configuration error: bad next hop \"%s\"", nexthop);
		return NULL;
	}
	if (!tls_client_policy(h.dest, h.unix_socket ? NULL : h.name, &lvl)) {
		route_failf(f, false, "4.3.5", "mail system configuration error: %s",
		    smtp_pname("tls_policy_maps"));
		return NULL;
	}
	/* DANE needs DNS, which an LMTP next hop does not use. */
	if (lmtp && lvl >= TLS_LEVEL_DANE)
		lvl = TLS_LEVEL_VERIFY;
	if (h.unix_socket)
		return route_try(&h, config_str("myhostname"), NULL, lvl, NULL, f);
	h.want = lmtp ? SMTP_TLS_POLICY : want;
	if (h.want == SMTP_TLS_REQUIRE && lvl < TLS_LEVEL_VERIFY)
		lvl = TLS_LEVEL_VERIFY;
	else if (h.want == SMTP_TLS_OPTIONAL && lvl > TLS_LEVEL_MAY)
		lvl = TLS_LEVEL_MAY;
	if (!route_hosts(&h, &mx, &nmx, f))
		return NULL;
	/* TLS-RPT: sessions with a domain's MX hosts, where TLS is tried
	 * under the recipient domain's policies (not set aside by
	 * "TLS-Required: No"). */
	rpt_on = config_bool("smtp_tls_reports") && h.mx && lvl != TLS_LEVEL_NONE &&
		 h.want != SMTP_TLS_OPTIONAL;
	/* RFC 7672 2.2.1: MX host names are trusted only from a validated
	 * answer; a "[host]" next hop is configuration, trusted as such. */
	if (lvl >= TLS_LEVEL_DANE && smtp_dane_enabled())
		names_secure = !h.mx || smtp_dane_mx_secure(h.name);
	for (size_t i = 0; i < nmx && s == NULL && (limit <= 0 || (long)tried < limit); i++) {
		struct dns_addr *addrs = NULL;
		size_t na = 0;
		struct buf why = BUF_INIT;
		struct smtp_dane d = {.level = lvl};
		enum dns_status st;

		f->tlsrpt = NULL;
		h.rpt = NULL;
		if (lvl >= TLS_LEVEL_DANE &&
		    smtp_dane_host(mx[i].host, h.port, names_secure, lvl, &d, f) < 0) {
			any_addr = true; /* a host was there, and refused: defer */
			if (rpt_on && f->tlsrpt) {
				smtp_tlsrpt_tlsa(&rpt, mx[i].host, NULL);
				smtp_tlsrpt_log(&rpt, f->tlsrpt, -1, mx[i].host, NULL, f->reason);
			}
			continue;
		}
		h.sts_note[0] = 0;
		h.sts_testing = h.sts_unlisted = false;
		if (route_sts_wanted(&h, lvl, &d)) {
			if (!sts_looked) {
				smtp_sts_find(h.name, &sts);
				if (rpt_on && sts.fail) { /* once per delivery attempt */
					smtp_tlsrpt_none(&rpt, sts.domain);
					rpt.type = "sts";
					smtp_tlsrpt_log(
					    &rpt, sts.fail, -1, NULL, NULL, sts.fail_reason);
				}
			}
			sts_looked = true;
			if (route_sts_host(&h, &sts, mx[i].host, &d, f) < 0) {
				any_addr = true;
				if (rpt_on) {
					smtp_tlsrpt_sts(&rpt, &sts);
					smtp_tlsrpt_log(&rpt, f->tlsrpt, -1, mx[i].host, NULL,
					    "MX host not listed in the policy");
				}
				continue;
			}
		}
		if (rpt_on) {
			if (d.tlsa.n)
				smtp_tlsrpt_tlsa(&rpt, mx[i].host, &d.tlsa);
			else if (sts_looked && sts.on)
				smtp_tlsrpt_sts(&rpt, &sts);
			else
				smtp_tlsrpt_none(&rpt, h.name);
			h.rpt = &rpt;
		}
		/* REQUIRETLS: a host without DANE still needs a verified name. */
		if (h.want == SMTP_TLS_REQUIRE && d.level < TLS_LEVEL_VERIFY)
			d.level = TLS_LEVEL_VERIFY;
		st = dns_lookup_host(mx[i].host, h.port, &addrs, &na, &why);

		if (st != DNS_OK) {
			if (st != DNS_NOTFOUND)
				lookup_temp = true;
			if (!any_addr)
				route_failf(f, false, st == DNS_NOTFOUND ? "5.4.4" : "4.4.3", "%s",
				    buf_cstr(&why));
		}
		any_addr |= na > 0;
		for (size_t j = 0; j < na && s == NULL && (limit <= 0 || (long)tried < limit);
		     j++, tried++)
			s = route_try(&h, mx[i].host, &addrs[j], d.level, &d.tlsa, f);
		free(addrs);
		buf_free(&why);
		dane_tlsa_free(&d.tlsa);
	}
	free(mx);
	smtp_sts_free(&sts);
	smtp_tlsrpt_free(&rpt);
	/* No host had an address: permanent only when every look-up said
	 * the name does not exist (Postfix bounces then, too). */
	if (s == NULL && !any_addr)
		f->permanent = !lookup_temp && f->dsn[0] == '5';
	/* A server was reached: only a REQUIRETLS failure is permanent then
	 * (route_requiretls_fail); everything else is worth another try. */
	if (s == NULL && any_addr)
		f->permanent = f->permanent && h.want == SMTP_TLS_REQUIRE;
	if (s == NULL && !f->permanent && f->dsn[0] == '5')
		f->dsn[0] = '4';
	return s;
}
