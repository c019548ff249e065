/*
 * milter/client.c - one milter conversation in the event loop (client.h).
 *
 * States: NEW, then CONNECTING (waiting for a TCP connect), NEGOTIATING
 * (OPTNEG sent), READY (idle between jobs), BUSY (a job runs), and DEAD
 * once anything went wrong; a dead conn stays dead (Postfix does the same
 * for the rest of an SMTP session: a filter that failed once is not asked
 * again halfway through a conversation it has lost track of).
 *
 * A job walks its packet buffer with milter_parse(), the same decoder the
 * filter's replies go through; for each packet it decides from the
 * negotiated SMFIP_ flags whether to send it and whether to wait.  The
 * done callback is deferred to a zero timer when a job ends inside a call
 * from the owner (nothing to send, say), so it never runs re-entrantly.
 */
#include "milter/client.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "sock.h"
#include "util.h"

enum milter_state { M_NEW, M_CONNECTING, M_NEGOTIATING, M_READY, M_BUSY, M_DEAD };

struct milter_conn {
	struct event_loop *loop;
	char *spec;
	struct milter_timeouts t;
	enum milter_state state;
	int fd;
	struct buf in, out;
	struct event_timer *timer;
	struct event_timer *defer; /* a done callback waiting to run */

	uint32_t offer_actions, offer_protocol;
	uint32_t version, actions, protocol; /* negotiated */
	char *symlist[MILTER_NSTAGES];

	struct buf job; /* packets of the current job */
	size_t pos;	/* next packet to send */
	char waiting;	/* command whose reply we wait for, 0 when none */
	milter_done_fn *fn;
	void *ctx;
	enum milter_verdict verdict; /* for a deferred done */
	char *reply;

	struct milter_mod *mods;
	size_t nmods;
};

static void milter_io(struct event_loop *loop, int fd, int events, void *ctx);
static bool milter_step(struct milter_conn *c);

struct milter_conn *milter_conn_new(
    struct event_loop *loop, const char *spec, const struct milter_timeouts *t)
{
	struct milter_conn *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->spec = xstrdup(spec);
	c->t = *t;
	c->fd = -1;
	return c;
}

void milter_conn_mods_clear(struct milter_conn *c)
{
	for (size_t i = 0; i < c->nmods; i++) {
		free(c->mods[i].a);
		free(c->mods[i].b);
	}
	free(c->mods);
	c->mods = NULL;
	c->nmods = 0;
}

static void milter_close(struct milter_conn *c)
{
	if (c->fd >= 0) {
		event_fd_del(c->loop, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	if (c->timer) {
		event_timer_cancel(c->loop, c->timer);
		c->timer = NULL;
	}
}

void milter_conn_free(struct milter_conn *c)
{
	if (c == NULL)
		return;
	milter_close(c);
	if (c->defer)
		event_timer_cancel(c->loop, c->defer);
	milter_conn_mods_clear(c);
	for (int i = 0; i < MILTER_NSTAGES; i++)
		free(c->symlist[i]);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->job);
	free(c->reply);
	free(c->spec);
	free(c);
}

bool milter_conn_ready(const struct milter_conn *c)
{
	return c->state == M_READY || c->state == M_BUSY;
}

const char *milter_conn_spec(const struct milter_conn *c)
{
	return c->spec;
}

uint32_t milter_conn_protocol(const struct milter_conn *c)
{
	return c->protocol;
}

uint32_t milter_conn_actions(const struct milter_conn *c)
{
	return c->actions;
}

const char *milter_conn_symlist(const struct milter_conn *c, enum milter_stage stage)
{
	return c->symlist[stage];
}

const struct milter_mod *milter_conn_mods(const struct milter_conn *c, size_t *n)
{
	*n = c->nmods;
	return c->mods;
}

/* Ends the job (or the start): the owner hears the verdict, last. */
static void milter_finish(struct milter_conn *c, enum milter_verdict v, const char *reply)
{
	milter_done_fn *fn = c->fn;
	void *ctx = c->ctx;
	char *text = reply ? xstrdup(reply) : NULL;

	if (c->timer) {
		event_timer_cancel(c->loop, c->timer);
		c->timer = NULL;
	}
	c->waiting = 0;
	buf_reset(&c->job);
	c->pos = 0;
	if (v == MILTER_FAILED) {
		log_warn("milter %s: %s", c->spec, text ? text : "failed");
		milter_close(c);
		c->state = M_DEAD;
	} else if (c->state == M_BUSY || c->state == M_NEGOTIATING) {
		c->state = M_READY;
	}
	c->fn = NULL;
	if (fn)
		fn(ctx, v, text);
	free(text);
}

static void milter_deferred(struct event_loop *loop, void *ctx)
{
	struct milter_conn *c = ctx;
	char *reply = c->reply;

	(void)loop;
	c->defer = NULL;
	c->reply = NULL;
	milter_finish(c, c->verdict, reply);
	free(reply);
}

/* Finishes from the event loop, not from inside the owner's call. */
static void milter_finish_later(struct milter_conn *c, enum milter_verdict v, const char *reply)
{
	c->verdict = v;
	free(c->reply);
	c->reply = reply ? xstrdup(reply) : NULL;
	if (c->defer == NULL)
		c->defer = event_timer_add(c->loop, 0, milter_deferred, c);
}

static void milter_timeout(struct event_loop *loop, void *ctx)
{
	struct milter_conn *c = ctx;

	(void)loop;
	c->timer = NULL;
	milter_finish(c, MILTER_FAILED,
	    c->state == M_CONNECTING || c->state == M_NEGOTIATING ? "timeout while connecting"
								  : "timeout waiting for a reply");
}

static void milter_arm(struct milter_conn *c, long ms)
{
	if (c->timer)
		event_timer_cancel(c->loop, c->timer);
	c->timer = event_timer_add(c->loop, ms > 0 ? ms : 1, milter_timeout, c);
}

static void milter_watch(struct milter_conn *c)
{
	if (c->fd >= 0)
		event_fd_events(c->loop, c->fd, EV_READ | (c->out.len > 0 ? EV_WRITE : 0));
}

/* Writes what the socket takes; false when the write failed and the job
 * was ended (c may be gone). */
static bool milter_flush(struct milter_conn *c)
{
	if (sock_write_some(c->fd, &c->out, 0, NULL) < 0) {
		milter_finish(c, MILTER_FAILED, strerror(errno));
		return false;
	}
	milter_watch(c);
	return true;
}

static void milter_negotiate(struct milter_conn *c)
{
	c->state = M_NEGOTIATING;
	milter_put_optneg(&c->out, c->t.version, c->offer_actions, c->offer_protocol);
	milter_arm(c, c->t.connect_ms);
	event_fd_set(c->loop, c->fd, EV_READ | EV_WRITE, milter_io, c);
}

void milter_conn_start(
    struct milter_conn *c, uint32_t actions, uint32_t protocol, milter_done_fn *fn, void *ctx)
{
	struct buf err = BUF_INIT;
	char *host = NULL, *port = NULL;

	c->fn = fn;
	c->ctx = ctx;
	c->offer_actions = actions;
	c->offer_protocol = protocol;
	if (c->state != M_NEW) {
		milter_finish_later(c, c->state == M_DEAD ? MILTER_FAILED : MILTER_CONTINUE, NULL);
		return;
	}
	if (str_prefix_case(c->spec, "unix:")) {
		c->fd = sock_unix_connect(c->spec + 5, true);
		if (c->fd < 0)
			buf_printf(&err, "connect to %s: %s", c->spec + 5, strerror(errno));
	} else if (str_prefix_case(c->spec, "inet:") &&
		   sock_split_hostport(c->spec + 5, &host, &port, &err) == 0) {
		c->fd = sock_inet_connect_start(host, port, &err);
	} else if (err.len == 0) {
		buf_puts(&err, "unsupported milter address (unix:/path or inet:host:port)");
	}
	free(host);
	free(port);
	if (c->fd < 0) {
		c->state = M_DEAD;
		log_warn("milter %s: %s", c->spec, buf_cstr(&err));
		milter_finish_later(c, MILTER_FAILED, NULL);
	} else {
		c->state = M_CONNECTING;
		milter_arm(c, c->t.connect_ms);
		event_fd_set(c->loop, c->fd, EV_WRITE, milter_io, c);
	}
	buf_free(&err);
}

/* The filter's OPTNEG answer: what it will do, and what it wants sent. */
static void milter_optneg_reply(struct milter_conn *c, const struct milter_packet *p)
{
	const char *sym;
	size_t symlen;
	uint32_t stage;
	const char *list;
	bool bad = false;

	if (!milter_parse_optneg(p, &c->version, &c->actions, &c->protocol, &sym, &symlen)) {
		milter_finish(c, MILTER_FAILED, "bad negotiation reply");
		return;
	}
	if (c->version < 2 || c->version > MILTER_VERSION) {
		milter_finish(c, MILTER_FAILED, "unsupported protocol version");
		return;
	}
	/* A filter may not take actions or skip steps we did not offer. */
	if ((c->actions & ~c->offer_actions) || (c->protocol & ~c->offer_protocol)) {
		milter_finish(c, MILTER_FAILED, "filter asks for what we did not offer");
		return;
	}
	while (milter_next_symlist(&sym, &symlen, &stage, &list, &bad))
		if (stage < MILTER_NSTAGES && (c->actions & SMFIF_SETSYMLIST)) {
			free(c->symlist[stage]);
			c->symlist[stage] = xstrdup(list);
		}
	if (bad) {
		milter_finish(c, MILTER_FAILED, "bad macro list in negotiation reply");
		return;
	}
	milter_finish(c, MILTER_CONTINUE, NULL);
}

/* Whether the filter sees a command at all (the SMFIP_NO* steps). */
static bool milter_wants(const struct milter_conn *c, char cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT: return !(c->protocol & SMFIP_NOCONNECT);
	case SMFIC_HELO: return !(c->protocol & SMFIP_NOHELO);
	case SMFIC_MAIL: return !(c->protocol & SMFIP_NOMAIL);
	case SMFIC_RCPT: return !(c->protocol & SMFIP_NORCPT);
	case SMFIC_HEADER: return !(c->protocol & SMFIP_NOHDRS);
	case SMFIC_EOH: return !(c->protocol & SMFIP_NOEOH);
	case SMFIC_BODY: return !(c->protocol & SMFIP_NOBODY);
	case SMFIC_DATA: return c->version >= 4 && !(c->protocol & SMFIP_NODATA);
	case SMFIC_UNKNOWN: return c->version >= 3 && !(c->protocol & SMFIP_NOUNKNOWN);
	default: return true;
	}
}

/* Whether the filter answers a command (the SMFIP_NR_* steps). */
static bool milter_answers(const struct milter_conn *c, char cmd)
{
	switch (cmd) {
	case SMFIC_MACRO:
	case SMFIC_ABORT:
	case SMFIC_QUIT:
	case SMFIC_QUIT_NC: return false;
	case SMFIC_CONNECT: return !(c->protocol & SMFIP_NR_CONN);
	case SMFIC_HELO: return !(c->protocol & SMFIP_NR_HELO);
	case SMFIC_MAIL: return !(c->protocol & SMFIP_NR_MAIL);
	case SMFIC_RCPT: return !(c->protocol & SMFIP_NR_RCPT);
	case SMFIC_DATA: return !(c->protocol & SMFIP_NR_DATA);
	case SMFIC_HEADER: return !(c->protocol & SMFIP_NR_HDR);
	case SMFIC_EOH: return !(c->protocol & SMFIP_NR_EOH);
	case SMFIC_BODY: return !(c->protocol & SMFIP_NR_BODY);
	case SMFIC_UNKNOWN: return !(c->protocol & SMFIP_NR_UNKN);
	default: return true;
	}
}

static bool milter_is_content(char cmd)
{
	return cmd == SMFIC_HEADER || cmd == SMFIC_EOH || cmd == SMFIC_BODY || cmd == SMFIC_BODYEOB;
}

/* Sends packets up to the next one that wants a reply; ends the job
 * after the last.  False when the job ended (c may be gone). */
static bool milter_step(struct milter_conn *c)
{
	struct milter_packet p;
	size_t used;

	while (c->waiting == 0 && c->pos < c->job.len) {
		if (milter_parse(c->job.data + c->pos, c->job.len - c->pos, SIZE_MAX, &p, &used) !=
		    MILTER_PARSE_OK)
			log_panic("milter: malformed job");
		/* A macro packet goes with the command it names. */
		if (milter_wants(c, p.cmd == SMFIC_MACRO && p.len > 0 ? p.data[0] : p.cmd))
			buf_append(&c->out, c->job.data + c->pos, used);
		else
			p.cmd = SMFIC_MACRO; /* skipped: nothing to wait for */
		c->pos += used;
		if (milter_answers(c, p.cmd)) {
			c->waiting = p.cmd;
			milter_arm(c, milter_is_content(p.cmd) ? c->t.content_ms : c->t.command_ms);
		}
	}
	if (!milter_flush(c))
		return false;
	if (c->waiting == 0) {
		milter_finish(c, MILTER_CONTINUE, NULL);
		return false;
	}
	return true;
}

void milter_conn_run(
    struct milter_conn *c, const struct buf *packets, milter_done_fn *fn, void *ctx)
{
	if (c->state != M_READY)
		log_panic("milter_conn_run: not ready");
	c->fn = fn;
	c->ctx = ctx;
	c->state = M_BUSY;
	buf_reset(&c->job);
	buf_append(&c->job, packets->data, packets->len);
	c->pos = 0;
	c->waiting = 0;
	milter_conn_mods_clear(c);
	/* The first packets go out at once; replies come through the loop. */
	if (c->job.len == 0) {
		milter_finish_later(c, MILTER_CONTINUE, NULL);
		return;
	}
	c->verdict = MILTER_CONTINUE;
	milter_arm(c, c->t.command_ms);
	event_fd_set(c->loop, c->fd, EV_READ | EV_WRITE, milter_io, c);
}

void milter_conn_tell(struct milter_conn *c, const struct buf *packets)
{
	if (c->state != M_READY)
		return;
	buf_append(&c->out, packets->data, packets->len);
	(void)milter_flush(c);
}

/* A modification reply, allowed only at end of message, if negotiated. */
static bool milter_mod(struct milter_conn *c, const struct milter_packet *p)
{
	static const struct {
		char cmd;
		uint32_t action;
		int min, max; /* strings */
	} kinds[] = {
	    {SMFIR_ADDHEADER, SMFIF_ADDHDRS, 2, 2},
	    {SMFIR_INSHEADER, SMFIF_ADDHDRS, 0, 0},
	    {SMFIR_CHGHEADER, SMFIF_CHGHDRS, 0, 0},
	    {SMFIR_ADDRCPT, SMFIF_ADDRCPT, 1, 1},
	    {SMFIR_ADDRCPT_PAR, SMFIF_ADDRCPT_PAR, 1, 2},
	    {SMFIR_DELRCPT, SMFIF_DELRCPT, 1, 1},
	    {SMFIR_CHGFROM, SMFIF_CHGFROM, 1, 2},
	    {SMFIR_QUARANTINE, SMFIF_QUARANTINE, 1, 1},
	    {SMFIR_REPLBODY, SMFIF_CHGBODY, 0, 0},
	};
	struct milter_mod m = {.cmd = p->cmd};
	const char *str[2] = {NULL, NULL};
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && kinds[k].cmd != p->cmd; k++)
		;
	if (k == sizeof(kinds) / sizeof(kinds[0]) || c->waiting != SMFIC_BODYEOB ||
	    !(c->actions & kinds[k].action))
		return false;
	if (p->cmd == SMFIR_REPLBODY) {
		m.b = xmemdup(p->data, p->len);
		m.blen = p->len;
	} else if (p->cmd == SMFIR_INSHEADER || p->cmd == SMFIR_CHGHEADER) {
		if (!milter_parse_indexed_header(p, &m.index, &str[0], &str[1]))
			return false;
	} else if (milter_parse_strings(p, str, kinds[k].min, kinds[k].max) < 0) {
		return false;
	}
	m.a = str[0] ? xstrdup(str[0]) : NULL;
	if (str[1])
		m.b = xstrdup(str[1]);
	c->mods = xreallocarray(c->mods, c->nmods + 1, sizeof(*c->mods));
	c->mods[c->nmods++] = m;
	return true;
}

/* A REPLYCODE: its text decides between reject and tempfail. */
static void milter_replycode(struct milter_conn *c, const struct milter_packet *p)
{
	const char *str[1];

	if (milter_parse_strings(p, str, 1, 1) != 1 || !milter_reply_valid(str[0])) {
		milter_finish(c, MILTER_FAILED, "malformed reply code");
		return;
	}
	milter_finish(c, str[0][0] == '4' ? MILTER_TEMPFAIL : MILTER_REJECT, str[0]);
}

/* SKIP: no more body chunks; the end of message is still sent. */
static bool milter_skip(struct milter_conn *c)
{
	struct milter_packet p;
	size_t used;

	c->waiting = 0;
	while (c->pos < c->job.len &&
	       milter_parse(c->job.data + c->pos, c->job.len - c->pos, SIZE_MAX, &p, &used) ==
		   MILTER_PARSE_OK &&
	       p.cmd == SMFIC_BODY)
		c->pos += used;
	return milter_step(c);
}

/* One reply while a job runs.  False when the job is over (c may be
 * gone). */
static bool milter_reply(struct milter_conn *c, const struct milter_packet *p)
{
	if (c->waiting == 0) {
		milter_finish(c, MILTER_FAILED, "reply nobody asked for");
		return false;
	}
	switch (p->cmd) {
	case SMFIR_CONTINUE: c->waiting = 0; return milter_step(c);
	case SMFIR_ACCEPT: milter_finish(c, MILTER_ACCEPT, NULL); return false;
	case SMFIR_REJECT: milter_finish(c, MILTER_REJECT, NULL); return false;
	case SMFIR_TEMPFAIL: milter_finish(c, MILTER_TEMPFAIL, NULL); return false;
	case SMFIR_DISCARD: milter_finish(c, MILTER_DISCARD, NULL); return false;
	case SMFIR_REPLYCODE: milter_replycode(c, p); return false;
	case SMFIR_SHUTDOWN:
		/* Postfix's reading: the session is to end (421). */
		milter_finish(c, MILTER_TEMPFAIL, "421 4.7.0 Server closing connection");
		return false;
	case SMFIR_PROGRESS: milter_arm(c, c->t.content_ms); return true;
	case SMFIR_SKIP:
		if (c->waiting != SMFIC_BODY) {
			milter_finish(c, MILTER_FAILED, "skip outside the body");
			return false;
		}
		return milter_skip(c);
	default:
		if (milter_mod(c, p))
			return true;
		milter_finish(c, MILTER_FAILED, "unexpected reply");
		return false;
	}
}

/* Handles one packet; false when the job or the start ended. */
static bool milter_packet_in(struct milter_conn *c, const struct milter_packet *p)
{
	if (c->state == M_NEGOTIATING) {
		milter_optneg_reply(c, p);
		return false;
	}
	if (c->state == M_BUSY)
		return milter_reply(c, p);
	milter_finish(c, MILTER_FAILED, "reply nobody asked for");
	return false;
}

/*
 * Reads and handles every whole reply.  Each packet is taken out of the
 * input before it is handled, because handling may end the job and the
 * owner may then free the conn.  False when that happened.
 */
static bool milter_read(struct milter_conn *c)
{
	struct milter_packet p;
	struct buf pkt = BUF_INIT;
	size_t used;
	ssize_t n;
	enum milter_parse_result r = MILTER_PARSE_MORE;
	bool alive = true;

	buf_reserve(&c->in, 16384);
	do
		n = read(c->fd, buf_tail(&c->in), 16384);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		milter_finish(c, MILTER_FAILED, n == 0 ? "connection closed" : strerror(errno));
		return false;
	}
	if (n > 0)
		buf_commit(&c->in, (size_t)n);
	while (alive && (r = milter_parse(c->in.data, c->in.len, MILTER_MAX_PACKET, &p, &used)) ==
			    MILTER_PARSE_OK) {
		buf_reset(&pkt);
		buf_append(&pkt, c->in.data, used);
		buf_consume(&c->in, used);
		(void)milter_parse(pkt.data, pkt.len, MILTER_MAX_PACKET, &p, &used);
		alive = milter_packet_in(c, &p);
	}
	buf_free(&pkt);
	if (alive && r == MILTER_PARSE_ERROR) {
		milter_finish(c, MILTER_FAILED, "malformed packet");
		return false;
	}
	return alive;
}

static void milter_connected(struct milter_conn *c)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		milter_finish(c, MILTER_FAILED, strerror(soerr));
		return;
	}
	milter_negotiate(c);
}

static void milter_io(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct milter_conn *c = ctx;

	(void)loop;
	(void)fd;
	if (c->state == M_CONNECTING) {
		milter_connected(c);
		return;
	}
	if (c->state == M_BUSY && c->pos == 0 && c->waiting == 0) {
		(void)milter_step(c); /* a job's first packets */
		return;
	}
	if ((events & (EV_READ | EV_ERROR)) && !milter_read(c))
		return;
	if (c->out.len > 0)
		(void)milter_flush(c);
	else
		milter_watch(c);
}
