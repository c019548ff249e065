/*
 * policy_service.c - the policy server client (policy_service.h).
 *
 * Connections are kept per endpoint in a short list (a configuration
 * names few servers).  Each has a queue of requests; the head is the one
 * in flight once its bytes are sent.  Answers are kept in a list for
 * POLICY_ANSWER_MS so that the command that asked, when run again, finds
 * its answer; the request text (which includes the transaction's
 * "instance" and the recipient) is the key.  Waking is done from a timer,
 * never from inside policy_service_query(), so a session is never run
 * again from inside its own command.
 */
#include "policy_service.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "policy_proto.h"
#include "policy_spec.h"
#include "smtpd.h"
#include "sock.h"
#include "util.h"

#define POLICY_ANSWER_MS 30000

struct pol_req {
	struct pol_req *next;
	char *request;
	long tries; /* failed attempts so far */
};

struct pol_conn {
	struct pol_conn *next;
	struct event_loop *loop;
	char *endpoint; /* the restriction's argument: the key */
	struct policy_spec spec;
	int fd;		 /* -1: not connected */
	bool connecting; /* waiting for the connect to complete */
	bool in_flight;	 /* the head request was sent */
	struct buf out, in;
	struct pol_req *head, *tail;
	struct event_timer *timer; /* reply time-out, or idle time-out */
	long requests;		   /* sent on this connection */
};

struct pol_answer {
	struct pol_answer *next;
	char *endpoint, *request, *action;
	long long expires;
};

static struct pol_conn *conns;
static struct pol_answer *answers;
static struct event_timer *wake_timer;

/* ---------------------------------------------------------------- request */

void policy_request_build(const struct smtpd_session *s, const char *state, const char *rcpt,
    const char *context, struct buf *out)
{
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	char laddr[64] = "", num[32];
	int lport = 0;
	bool tls = s->tls_phase == SMTPD_TLS_ACTIVE;

	if (getsockname(s->fd, (struct sockaddr *)&ss, &slen) == 0)
		sock_ntop((struct sockaddr *)&ss, laddr, sizeof(laddr), &lport);
	policy_attr(out, "request", "smtpd_access_policy");
	policy_attr(out, "protocol_state", state);
	policy_attr(out, "protocol_name", s->esmtp ? "ESMTP" : "SMTP");
	policy_attr(out, "helo_name", s->helo);
	policy_attr(out, "queue_id", "");
	policy_attr(out, "sender", s->sender);
	policy_attr(out, "recipient", rcpt);
	snprintf(num, sizeof(num), "%zu", s->nrcpt);
	policy_attr(out, "recipient_count", num);
	policy_attr(out, "client_address", s->addr);
	policy_attr(out, "client_name", s->name);
	policy_attr(out, "reverse_client_name", s->reverse_name);
	/* Unique per transaction, as Postfix's (greylisting servers use it). */
	snprintf(num, sizeof(num), "%x.%x.%x.%x", (unsigned)getpid(), (unsigned)s->fd,
	    (unsigned)s->port, s->count_all[SMTP_MAIL]);
	policy_attr(out, "instance", num);
	policy_attr(out, "sasl_method", s->sasl_user ? s->sasl_method : "");
	policy_attr(out, "sasl_username", s->sasl_user);
	policy_attr(out, "sasl_sender", "");
	snprintf(num, sizeof(num), "%lld", s->size_decl > 0 ? s->size_decl : 0);
	policy_attr(out, "size", num);
	policy_attr(out, "ccert_subject", "");
	policy_attr(out, "ccert_issuer", "");
	policy_attr(out, "ccert_fingerprint", tls ? s->tls_info.fingerprint : "");
	policy_attr(out, "ccert_pubkey_fingerprint", "");
	policy_attr(out, "encryption_protocol", tls ? s->tls_info.protocol : "");
	policy_attr(out, "encryption_cipher", tls ? s->tls_info.cipher : "");
	snprintf(num, sizeof(num), "%d", tls ? s->tls_info.bits : 0);
	policy_attr(out, "encryption_keysize", num);
	policy_attr(out, "etrn_domain", "");
	policy_attr(out, "stress", "");
	snprintf(num, sizeof(num), "%d", s->port);
	policy_attr(out, "client_port", num);
	policy_attr(out, "policy_context", context);
	policy_attr(out, "server_address", laddr);
	snprintf(num, sizeof(num), "%d", lport);
	policy_attr(out, "server_port", num);
	policy_attr(out, "compatibility_level", "3.6");
	policy_attr(out, "mail_version", "tern");
	buf_putc(out, '\n');
}

/* ---------------------------------------------------------------- answers */

static void pol_wake(struct event_loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	wake_timer = NULL;
	session_dns_wake();
}

static void pol_answer(struct pol_conn *c, const char *request, const char *action)
{
	struct pol_answer *a = xcalloc(1, sizeof(*a));

	a->endpoint = xstrdup(c->endpoint);
	a->request = xstrdup(request);
	a->action = xstrdup(action);
	a->expires = event_now(c->loop) + POLICY_ANSWER_MS;
	a->next = answers;
	answers = a;
	if (wake_timer == NULL)
		wake_timer = event_timer_add(c->loop, 0, pol_wake, NULL);
}

static void pol_answer_free(struct pol_answer *a)
{
	free(a->endpoint);
	free(a->request);
	free(a->action);
	free(a);
}

/* Drops old answers; returns the one for endpoint+request, or NULL. */
static struct pol_answer *pol_answer_find(
    struct event_loop *loop, const char *endpoint, const char *request)
{
	struct pol_answer **pp = &answers, *found = NULL;
	long long now = event_now(loop);

	while (*pp) {
		struct pol_answer *a = *pp;

		if (a->expires <= now) {
			*pp = a->next;
			pol_answer_free(a);
			continue;
		}
		if (!found && strcmp(a->endpoint, endpoint) == 0 &&
		    strcmp(a->request, request) == 0)
			found = a;
		pp = &a->next;
	}
	return found;
}

/* ---------------------------------------------------------------- connection */

static void pol_io(struct event_loop *loop, int fd, int events, void *ctx);

static void pol_req_pop(struct pol_conn *c)
{
	struct pol_req *r = c->head;

	c->head = r->next;
	if (c->head == NULL)
		c->tail = NULL;
	free(r->request);
	free(r);
	c->in_flight = false;
}

static void pol_close(struct pol_conn *c)
{
	if (c->timer)
		event_timer_cancel(c->loop, c->timer);
	c->timer = NULL;
	if (c->fd >= 0) {
		event_fd_del(c->loop, c->fd);
		close(c->fd);
	}
	c->fd = -1;
	c->connecting = c->in_flight = false;
	buf_reset(&c->out);
	buf_reset(&c->in);
	c->requests = 0;
}

static void pol_kick(struct pol_conn *c);

/*
 * The server failed: the request under way is tried again on a new
 * connection until try_limit attempts failed (Postfix's
 * smtpd_policy_service_try_limit); then it, and every request queued
 * behind it, gets the default action.
 */
static void pol_fail(struct pol_conn *c, const char *why)
{
	const char *dflt = c->spec.default_action;

	pol_close(c);
	if (c->head && ++c->head->tries < c->spec.try_limit) {
		log_warn("policy service %s: %s -- trying again", c->spec.endpoint, why);
		pol_kick(c);
		return;
	}
	log_warn(
	    "policy service %s: %s -- using default action \"%s\"", c->spec.endpoint, why, dflt);
	while (c->head) {
		pol_answer(c, c->head->request, dflt);
		pol_req_pop(c);
	}
}

static void pol_timeout(struct event_loop *loop, void *ctx)
{
	struct pol_conn *c = ctx;

	(void)loop;
	c->timer = NULL;
	if (c->head)
		pol_fail(c, "timeout waiting for the reply");
	else
		pol_close(c); /* idle for smtpd_policy_service_max_idle */
}

static void pol_arm(struct pol_conn *c, long seconds)
{
	if (c->timer)
		event_timer_cancel(c->loop, c->timer);
	c->timer = event_timer_add(c->loop, seconds * 1000, pol_timeout, c);
}

static bool pol_connect(struct pol_conn *c)
{
	struct buf err = BUF_INIT;
	char *host = NULL, *port = NULL;

	const char *ep = c->spec.endpoint;

	if (str_prefix_case(ep, "unix:")) {
		c->fd = sock_unix_connect(ep + 5, true);
		if (c->fd < 0)
			buf_printf(&err, "connect to %s: %s", ep + 5, strerror(errno));
	} else if (str_prefix_case(ep, "inet:") &&
		   sock_split_hostport(ep + 5, &host, &port, &err) == 0) {
		c->fd = sock_inet_connect_start(host, port, &err);
	} else if (err.len == 0) {
		buf_puts(&err, "unsupported address (inet:host:port or unix:/path)");
	}
	free(host);
	free(port);
	if (c->fd < 0) {
		pol_fail(c, buf_cstr(&err));
		buf_free(&err);
		return false;
	}
	buf_free(&err);
	c->connecting = true;
	event_fd_set(c->loop, c->fd, EV_WRITE, pol_io, c);
	pol_arm(c, c->spec.timeout);
	return true;
}

/* Sends the head request when the connection is free for it. */
static void pol_kick(struct pol_conn *c)
{
	if (c->head == NULL || c->in_flight)
		return;
	if (c->fd < 0) {
		pol_connect(c);
		return;
	}
	if (c->connecting)
		return;
	buf_puts(&c->out, c->head->request);
	c->in_flight = true;
	c->requests++;
	pol_arm(c, c->spec.timeout);
	event_fd_events(c->loop, c->fd, EV_READ | EV_WRITE);
}

static void pol_read(struct pol_conn *c)
{
	char tmp[1024], *action = NULL;
	ssize_t n = read(c->fd, tmp, sizeof(tmp));
	size_t used = 0;
	int r;
	long limit = c->spec.request_limit;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		pol_fail(c, n == 0 ? "connection closed by the server" : strerror(errno));
		return;
	}
	if (!c->in_flight) {
		pol_fail(c, "reply without a request");
		return;
	}
	buf_append(&c->in, tmp, (size_t)n);
	r = policy_reply_parse(c->in.data, c->in.len, &action, &used);
	if (r == 0)
		return;
	if (r < 0) {
		pol_fail(c, "malformed reply");
		return;
	}
	buf_consume(&c->in, used);
	pol_answer(c, c->head->request, action);
	free(action);
	pol_req_pop(c);
	if (c->in.len > 0) {
		pol_fail(c, "more reply than asked for");
		return;
	}
	if (limit > 0 && c->requests >= limit)
		pol_close(c);
	if (c->head)
		pol_kick(c);
	else if (c->fd >= 0)
		pol_arm(c, c->spec.max_idle);
}

static void pol_io(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct pol_conn *c = ctx;

	(void)loop;
	if (c->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err != 0) {
			pol_fail(c, strerror(err));
			return;
		}
		c->connecting = false;
		event_fd_events(c->loop, fd, EV_READ);
		pol_kick(c);
		return;
	}
	if (events & (EV_READ | EV_ERROR)) {
		pol_read(c);
		if (c->fd < 0)
			return;
	}
	if (c->out.len > 0) {
		ssize_t n = write(c->fd, c->out.data, c->out.len);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			pol_fail(c, strerror(errno));
			return;
		}
		if (n > 0)
			buf_consume(&c->out, (size_t)n);
	}
	event_fd_events(c->loop, c->fd, c->out.len > 0 ? EV_READ | EV_WRITE : EV_READ);
}

static struct pol_conn *pol_conn_get(struct event_loop *loop, const char *endpoint)
{
	struct pol_conn *c;

	for (c = conns; c; c = c->next)
		if (strcmp(c->endpoint, endpoint) == 0)
			return c;
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->endpoint = xstrdup(endpoint);
	{
		char *why = NULL;

		/* restrictions.c parsed it already; a failure here cannot be. */
		if (!policy_spec_parse(endpoint, &c->spec, &why))
			log_warn("%s", why);
		free(why);
	}
	c->fd = -1;
	c->next = conns;
	conns = c;
	return c;
}

int policy_service_query(
    struct event_loop *loop, const char *endpoint, const char *request, char **action)
{
	struct pol_answer *a = pol_answer_find(loop, endpoint, request);
	struct pol_conn *c;
	struct pol_req *r;

	if (a) {
		*action = xstrdup(a->action);
		return 1;
	}
	c = pol_conn_get(loop, endpoint);
	for (r = c->head; r; r = r->next)
		if (strcmp(r->request, request) == 0)
			return 0;
	r = xcalloc(1, sizeof(*r));
	r->request = xstrdup(request);
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	pol_kick(c);
	return 0;
}
