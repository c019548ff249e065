/*
 * login/login_auth.c - a client's SASL exchange with auth and, on
 * success, its hand-off to postlogin (login/handoff.h).
 *
 * auth answers a success on the login socket with a one-time token, not
 * with the account: this process is not trusted to say who logged in.
 * The token, the client's connection (plaintext: the socket itself;
 * TLS: one end of a socket pair, the other relayed here) and the bytes
 * the client sent after its login command go to postlogin in one
 * record.  The success reply is the user process's to write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "login/handoff.h"
#include "login/login_int.h"
#include "sock.h"
#include "util.h"

#define LOGIN_HANDOFF_SEND_MS 2000

static void auth_fail(struct login_client *c, enum auth_code code, const char *reason)
{
	c->phase = LOGIN_PRE_AUTH;
	c->failures++;
	login_engine.proto->auth_failed(c, code, reason);
	if (login_engine.failure_limit > 0 && c->failures >= login_engine.failure_limit)
		login_client_bye(c, LOGIN_BYE_FAILURES, "Too many invalid commands");
}

static void auth_reply(struct auth_call *call, const struct auth_reply *r, void *ctx)
{
	struct login_client *c = ctx;

	(void)call;
	if (r->status == AUTH_CONTINUE) {
		/* The client's response is a line the protocol reads: input
		 * flows again until login_auth_continue(). */
		c->phase = LOGIN_PRE_AUTH;
		login_engine.proto->auth_challenge(c, r->challenge ? r->challenge : "");
		login_client_feed(c);
		login_client_events(c);
		return;
	}
	c->call = NULL;
	if (r->user && *r->user) {
		free(c->user);
		c->user = xstrdup(r->user);
	}
	if (r->status == AUTH_OK && r->token)
		login_handoff_start(c, r->token);
	else if (r->status == AUTH_OK)
		auth_fail(c, AUTH_CODE_TEMPFAIL, "no login token from auth");
	else
		auth_fail(c, r->code, r->reason);
	if (c->phase == LOGIN_PRE_AUTH)
		login_client_feed(c);
	login_client_events(c);
}

void login_auth_start(
    struct login_client *c, const char *mech, const char *resp, const char *tag, const char *user)
{
	struct auth_request req = {.op = AUTH_OP_AUTH};

	free(c->mech);
	free(c->tag);
	c->mech = xstrdup(mech);
	for (char *m = c->mech; *m; m++)
		if (*m >= 'a' && *m <= 'z')
			*m = (char)(*m - 'a' + 'A');
	c->tag = tag ? xstrdup(tag) : NULL;
	if (user) {
		free(c->user);
		c->user = xstrdup(user);
	}
	c->auth_tried = true;
	c->phase = LOGIN_AUTH;
	req.service = login_engine.proto->name;
	req.mech = c->mech;
	req.resp = resp;
	req.client_addr = c->rip;
	req.client_port = c->rport;
	req.local_addr = c->lip;
	req.local_port = c->lport;
	req.tls = c->tls != NULL;
	req.session = c->session;
	c->call = auth_client_call(login_engine.auth, &req, auth_reply, c);
}

const char *login_client_auth_tag(const struct login_client *c)
{
	return c->tag ? c->tag : "*";
}

void login_auth_continue(struct login_client *c, const char *resp)
{
	if (c->call == NULL)
		return;
	c->phase = LOGIN_AUTH;
	auth_call_continue(c->call, resp);
}

void login_auth_cancel(struct login_client *c)
{
	if (c->call) {
		auth_call_abort(c->call);
		c->call = NULL;
	}
	c->phase = LOGIN_PRE_AUTH; /* not a failure: nothing was tried */
}

/* ---------------------------------------------------------------- hand-off */

static void handoff_failed(struct login_client *c, const char *log_why, bool temporary)
{
	log_warn("hand-off of %s (user %s) failed: %s", c->rip, c->user ? c->user : "", log_why);
	if (c->ho.fd >= 0)
		event_fd_del(c->loop, c->ho.fd);
	ipc_conn_close(&c->ho);
	ipc_conn_init(&c->ho, -1);
	if (c->relay_fd >= 0) {
		close(c->relay_fd);
		c->relay_fd = -1;
	}
	auth_fail(c, temporary ? AUTH_CODE_TEMPFAIL : AUTH_CODE_DENIED, NULL);
}

static void handoff_reply(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct login_client *c = ctx;
	struct handoff_reply r;
	enum ipc_result res = IPC_MORE;
	const char *why = "connection closed";
	ssize_t n;

	(void)loop;
	(void)fd;
	(void)events;
	while ((n = ipc_conn_fill(&c->ho)) > 0)
		if ((res = ipc_conn_next(&c->ho, &c->ho_msg, &why)) != IPC_MORE)
			break;
	if (res == IPC_MORE && n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (res != IPC_OK || handoff_reply_decode(&c->ho_msg, &r, &why) < 0) {
		handoff_failed(c, why, true);
		login_client_feed(c);
		login_client_events(c);
		return;
	}
	if (!r.ok) {
		handoff_failed(c, r.reason, r.temporary);
		login_client_feed(c);
		login_client_events(c);
		return;
	}
	login_client_log(c, "Login", r.pid);
	event_fd_del(c->loop, c->ho.fd);
	ipc_conn_close(&c->ho);
	ipc_conn_init(&c->ho, -1);
	if (c->relay_fd >= 0)
		login_relay_start(c);
	else
		login_client_free(c); /* the connection is the user process's now */
}

static void handoff_info(struct login_client *c, struct handoff *h, const char *token)
{
	struct postlogin_info *i = &h->info;

	memset(h, 0, sizeof(*h));
	h->op = HANDOFF_LOGIN;
	h->token = token;
	i->service = login_engine.proto->name;
	i->user = i->home = i->maildir = i->quota_rule = "";
	i->uid = i->gid = -1;
	i->mech = c->mech ? c->mech : "";
	i->client_addr = c->rip;
	i->client_port = c->rport;
	i->local_addr = c->lip;
	i->local_port = c->lport;
	i->tls = c->tls != NULL;
	i->secured = login_client_secured(c);
	i->session = c->session;
	i->tag = c->tag;
	i->utf8 = c->utf8;
	h->pending = c->in.data;
	h->pending_len = c->in.len > HANDOFF_MAX_PENDING ? HANDOFF_MAX_PENDING : c->in.len;
}

void login_handoff_start(struct login_client *c, const char *token)
{
	struct handoff h;
	int fd, pass_fd, sv[2];

	c->phase = LOGIN_HANDOFF;
	if ((fd = sock_unix_connect(HANDOFF_SOCKET_NAME, false)) < 0) {
		handoff_failed(c, strerror(errno), true);
		return;
	}
	ipc_conn_init(&c->ho, fd);
	c->ho.max_record = HANDOFF_MAX_RECORD;
	pass_fd = c->fd;
	if (c->tls || login_engine.proto->keep_connection) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			handoff_failed(c, strerror(errno), true);
			return;
		}
		c->relay_fd = sv[0];
		pass_fd = sv[1];
	}
	handoff_info(c, &h, token);
	handoff_encode(&c->ho.out, &h);
	buf_reset(&c->in);
	if (ipc_conn_send_fd(&c->ho, pass_fd, LOGIN_HANDOFF_SEND_MS) < 0) {
		if (pass_fd != c->fd)
			close(pass_fd);
		handoff_failed(c, strerror(errno), true);
		return;
	}
	if (pass_fd != c->fd)
		close(pass_fd);
	sock_nonblock(fd, true);
	event_fd_set(c->loop, fd, EV_READ, handoff_reply, c);
}
