/*
 * milter/chain.c - the milters of one session, one event at a time
 * (see chain.h).
 *
 * An event walks the entries in order: an entry not yet connected is
 * started first (connect and negotiate), then the event's packets are
 * built for it (its macro list may differ from the next one's) and run.
 * Building per entry also lets each milter of the message event see the
 * message as the milters before it left it, so a CHGHEADER index always
 * counts the fields that milter saw.
 */
#include "milter/chain.h"

#include <ctype.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "sock.h"
#include "util.h"

#define CHAIN_TEMPFAIL_REPLY "451 4.7.1 Service unavailable - try again later"
#define CHAIN_REJECT_REPLY "550 5.7.1 Command rejected"

/* What we let filters do and skip (everything protocol 6 has). */
#define CHAIN_ACTIONS SMFIF_ALL
#define CHAIN_STEPS SMFIP_ALL

enum chain_default { DEFAULT_ACCEPT, DEFAULT_TEMPFAIL, DEFAULT_REJECT, DEFAULT_QUARANTINE };

enum chain_event { EV_CONNECT, EV_HELO, EV_MAIL, EV_RCPT, EV_DATA, EV_MESSAGE };

struct chain_entry {
	struct milter_conn *conn;
	enum chain_default def;
	bool skip_conn; /* accepted the connection */
	bool skip_msg;	/* accepted this message */
	bool in_msg;	/* saw MAIL of the current transaction */
	bool failed;	/* its default action answers for it */
};

struct milter_chain {
	struct event_loop *loop;
	struct chain_entry *e;
	size_t n;
	milter_macro_fn *macro;
	void *ctx;

	/* The event under way. */
	enum chain_event ev;
	size_t cur;
	milter_chain_done_fn *fn;
	char *arg;   /* HELO name, or connect's host */
	char family; /* connect */
	int port;    /* connect */
	char *addr;  /* connect */
	char **args; /* MAIL, RCPT */
	size_t nargs;
	struct milter_msg *msg;
	struct milter_mod *env;
	size_t nenv;
	char *quarantine;
	char *reply;
	struct event_timer *defer;
	enum milter_verdict verdict;
};

static void chain_next(struct milter_chain *ch);

/* ------------------------------------------------------------------ */
/* The milter list                                                      */

/* One setting inside braces: "name=value" or "{ name = value }". */
static bool chain_setting(
    char *w, struct chain_entry *e, struct milter_timeouts *t, struct buf *err)
{
	char *name, *value;
	long sec;

	if (!str_nameval(w, &name, &value)) {
		buf_printf(err, "milter setting without '=': %s", w);
		return false;
	}
	if (strcmp(name, "default_action") == 0) {
		static const char *const names[] = {"accept", "tempfail", "reject", "quarantine"};

		for (int i = 0; i < 4; i++)
			if (strcmp(value, names[i]) == 0) {
				e->def = (enum chain_default)i;
				return true;
			}
	} else if (strcmp(name, "connect_timeout") == 0 && config_parse_time(value, 's', &sec)) {
		t->connect_ms = sec * 1000;
		return true;
	} else if (strcmp(name, "command_timeout") == 0 && config_parse_time(value, 's', &sec)) {
		t->command_ms = sec * 1000;
		return true;
	} else if (strcmp(name, "content_timeout") == 0 && config_parse_time(value, 's', &sec)) {
		t->content_ms = sec * 1000;
		return true;
	} else if (strcmp(name, "protocol") == 0 && parse_long(value, 2, MILTER_VERSION, &sec)) {
		t->version = (unsigned)sec;
		return true;
	}
	buf_printf(err, "bad milter setting: %s = %s", name, value);
	return false;
}

/* milter_protocol: the version we offer, 2 to 6 (checked at start). */
static unsigned chain_protocol(void)
{
	long v = config_int("milter_protocol");

	return v >= 2 && v <= MILTER_VERSION ? (unsigned)v : MILTER_VERSION;
}

static enum chain_default chain_default_action(void)
{
	const char *a = config_str("milter_default_action");

	if (strcmp(a, "accept") == 0)
		return DEFAULT_ACCEPT;
	if (strcmp(a, "reject") == 0)
		return DEFAULT_REJECT;
	if (strcmp(a, "quarantine") == 0)
		return DEFAULT_QUARANTINE;
	return DEFAULT_TEMPFAIL;
}

/* Parses one list entry into e (e->conn made only when loop is set). */
static bool chain_entry_parse(
    const char *tok, struct chain_entry *e, struct event_loop *loop, struct buf *err)
{
	struct milter_timeouts t = {config_time("milter_connect_timeout") * 1000,
	    config_time("milter_command_timeout") * 1000,
	    config_time("milter_content_timeout") * 1000, chain_protocol()};
	char *spec = NULL, *inner, **v;
	bool ok = true, unbalanced;

	/* a word of the list: an address, or "{ address, settings }" */
	inner = str_unbrace(tok, &unbalanced);
	if (unbalanced) {
		buf_puts(err, "milter list: '{' without '}'");
		return false;
	}
	v = strv_split_list(inner ? inner : tok);
	free(inner);
	e->def = chain_default_action();
	if (v[0] != NULL)
		spec = xstrdup(v[0]);
	for (size_t i = 1; ok && v[0] && v[i]; i++)
		ok = chain_setting(v[i], e, &t, err);
	strv_free(v);
	if (ok && (spec == NULL ||
		      (!str_prefix_case(spec, "unix:") && !str_prefix_case(spec, "inet:")))) {
		buf_printf(err, "bad milter address: %s (unix:/path or inet:host:port)",
		    spec ? spec : tok);
		ok = false;
	}
	if (ok && str_prefix_case(spec, "unix:") && spec[5] == '\0') {
		buf_printf(err, "bad milter address: %s (unix: needs a path)", spec);
		ok = false;
	}
	if (ok && str_prefix_case(spec, "inet:")) {
		/* What the client will connect to: the port must be there now,
		 * not a warning at the first message. */
		struct buf why = BUF_INIT;
		char *host, *port;

		if (sock_split_hostport(spec + 5, &host, &port, &why) < 0) {
			buf_printf(err, "bad milter address: %s (inet:host:port): %s", spec,
			    buf_cstr(&why));
			ok = false;
		}
		free(host);
		free(port);
		buf_free(&why);
	}
	if (ok && loop)
		e->conn = milter_conn_new(loop, spec, &t);
	free(spec);
	return ok;
}

bool milter_chain_syntax_ok(const char *list, struct buf *err)
{
	char **words;
	bool ok = true;
	long v = config_int("milter_protocol");
	const char *a = config_str("milter_default_action");

	if (v < 2 || v > MILTER_VERSION) {
		buf_printf(err, "milter_protocol = %ld: tern speaks versions 2 to 6", v);
		return false;
	}
	if (strcmp(a, "accept") != 0 && strcmp(a, "tempfail") != 0 && strcmp(a, "reject") != 0 &&
	    strcmp(a, "quarantine") != 0) {
		buf_printf(
		    err, "milter_default_action = %s: accept, tempfail, reject or quarantine", a);
		return false;
	}

	words = strv_split_list(list);
	for (size_t i = 0; ok && words[i]; i++) {
		struct chain_entry e = {0};

		ok = chain_entry_parse(words[i], &e, NULL, err);
	}
	strv_free(words);
	return ok;
}

void milter_chain_check_param(const char *param)
{
	struct buf err = BUF_INIT;

	if (!milter_chain_syntax_ok(config_str(param), &err))
		log_fatal("%s: %s", param, buf_cstr(&err));
	buf_free(&err);
}

const char *milter_macro_server(const char *name)
{
	if (strcmp(name, "j") == 0)
		return config_str("myhostname");
	if (strcmp(name, "{daemon_name}") == 0)
		return config_str("milter_macro_daemon_name");
	if (strcmp(name, "v") == 0)
		return config_str("milter_macro_v");
	return NULL;
}

struct milter_chain *milter_chain_new(
    struct event_loop *loop, const char *list, milter_macro_fn *macro, void *ctx, struct buf *err)
{
	struct milter_chain *ch;
	char **v;

	if (!milter_chain_syntax_ok(list, err))
		return NULL;
	v = strv_split_list(list);
	if (v[0] == NULL) {
		strv_free(v);
		return NULL;
	}
	ch = xcalloc(1, sizeof(*ch));
	ch->loop = loop;
	ch->macro = macro;
	ch->ctx = ctx;
	for (size_t i = 0; v[i]; i++) {
		ch->e = xreallocarray(ch->e, ch->n + 1, sizeof(*ch->e));
		memset(&ch->e[ch->n], 0, sizeof(*ch->e));
		(void)chain_entry_parse(v[i], &ch->e[ch->n], loop, err);
		ch->n++;
	}
	strv_free(v);
	return ch;
}

/* ------------------------------------------------------------------ */
/* Event state                                                          */

static void chain_clear_event(struct milter_chain *ch)
{
	free(ch->arg);
	free(ch->addr);
	for (size_t i = 0; i < ch->nargs; i++)
		free(ch->args[i]);
	free(ch->args);
	for (size_t i = 0; i < ch->nenv; i++) {
		free(ch->env[i].a);
		free(ch->env[i].b);
	}
	free(ch->env);
	free(ch->quarantine);
	free(ch->reply);
	ch->arg = ch->addr = ch->quarantine = ch->reply = NULL;
	ch->args = NULL;
	ch->nargs = 0;
	ch->env = NULL;
	ch->nenv = 0;
	ch->msg = NULL;
	ch->fn = NULL;
}

void milter_chain_free(struct milter_chain *ch)
{
	struct buf quit = BUF_INIT;

	if (ch == NULL)
		return;
	milter_put(&quit, SMFIC_QUIT, NULL, 0);
	for (size_t i = 0; i < ch->n; i++) {
		if (milter_conn_ready(ch->e[i].conn))
			milter_conn_tell(ch->e[i].conn, &quit);
		milter_conn_free(ch->e[i].conn);
	}
	buf_free(&quit);
	if (ch->defer)
		event_timer_cancel(ch->loop, ch->defer);
	chain_clear_event(ch);
	free(ch->e);
	free(ch);
}

/* Delivers the verdict; the owner may free the chain from its callback. */
static void chain_done(struct milter_chain *ch, enum milter_verdict v, const char *reply)
{
	struct milter_result r = {0};
	milter_chain_done_fn *fn = ch->fn;

	r.v = v == MILTER_ACCEPT ? MILTER_CONTINUE : v;
	if (v == MILTER_REJECT || v == MILTER_TEMPFAIL) {
		free(ch->reply);
		ch->reply = xstrdup(reply		 ? reply
				    : v == MILTER_REJECT ? CHAIN_REJECT_REPLY
							 : CHAIN_TEMPFAIL_REPLY);
		r.reply = ch->reply;
	}
	r.env = ch->env;
	r.nenv = ch->nenv;
	r.quarantine = ch->quarantine;
	ch->fn = NULL;
	fn(ch->ctx, &r);
}

static void chain_deferred(struct event_loop *loop, void *ctx)
{
	struct milter_chain *ch = ctx;

	(void)loop;
	ch->defer = NULL;
	chain_next(ch);
}

/* Starts an event: the first milter is asked from the event loop. */
static void chain_begin(struct milter_chain *ch, enum chain_event ev, milter_chain_done_fn *fn)
{
	if (ch->fn)
		log_panic("milter chain: an event is already under way");
	ch->ev = ev;
	ch->cur = 0;
	ch->fn = fn;
	ch->defer = event_timer_add(ch->loop, 0, chain_deferred, ch);
}

/* ------------------------------------------------------------------ */
/* Packets of an event, for one milter                                   */

static const char chain_stage_cmd[MILTER_NSTAGES] = {
    [MILTER_STAGE_CONNECT] = SMFIC_CONNECT,
    [MILTER_STAGE_HELO] = SMFIC_HELO,
    [MILTER_STAGE_MAIL] = SMFIC_MAIL,
    [MILTER_STAGE_RCPT] = SMFIC_RCPT,
    [MILTER_STAGE_DATA] = SMFIC_DATA,
    [MILTER_STAGE_EOM] = SMFIC_BODYEOB,
    [MILTER_STAGE_EOH] = SMFIC_EOH,
};

static const char *const chain_stage_param[MILTER_NSTAGES] = {
    [MILTER_STAGE_CONNECT] = "milter_connect_macros",
    [MILTER_STAGE_HELO] = "milter_helo_macros",
    [MILTER_STAGE_MAIL] = "milter_mail_macros",
    [MILTER_STAGE_RCPT] = "milter_rcpt_macros",
    [MILTER_STAGE_DATA] = "milter_data_macros",
    [MILTER_STAGE_EOM] = "milter_end_of_data_macros",
    [MILTER_STAGE_EOH] = "milter_end_of_header_macros",
};

/* The stage's macros this milter wants, with the values we know. */
static void chain_macros(
    struct milter_chain *ch, const struct milter_conn *c, enum milter_stage stage, struct buf *out)
{
	const char *list = milter_conn_symlist(c, stage);
	const char *names[64], *values[64];
	char *copy, *save = NULL;
	size_t n = 0;

	if (list == NULL)
		list = config_str(chain_stage_param[stage]);
	copy = xstrdup(list);
	for (char *w = strtok_r(copy, " \t,", &save); w && n < 64;
	     w = strtok_r(NULL, " \t,", &save)) {
		const char *v = ch->macro(ch->ctx, w);

		if (v) {
			names[n] = w;
			values[n++] = v;
		}
	}
	if (n > 0)
		milter_put_macros(out, chain_stage_cmd[stage], names, values, n);
	free(copy);
}

/* Body bytes as the protocol carries them: CRLF line ends, in chunks. */
static void chain_body(const struct buf *body, struct buf *out)
{
	struct buf chunk = BUF_INIT;

	for (size_t i = 0; i < body->len; i++) {
		if (body->data[i] == '\n' && (i == 0 || body->data[i - 1] != '\r'))
			buf_putc(&chunk, '\r');
		buf_putc(&chunk, body->data[i]);
		if (chunk.len >= MILTER_CHUNK_SIZE - 1) {
			milter_put(out, SMFIC_BODY, chunk.data, chunk.len);
			buf_reset(&chunk);
		}
	}
	if (chunk.len > 0)
		milter_put(out, SMFIC_BODY, chunk.data, chunk.len);
	buf_free(&chunk);
}

static void chain_message_packets(
    struct milter_chain *ch, const struct milter_conn *c, struct buf *out)
{
	bool leadspc = milter_conn_protocol(c) & SMFIP_HDR_LEADSPC;
	struct milter_msg *m = ch->msg;

	for (size_t i = 0; i < m->nhdr; i++)
		milter_put_header(out, m->hdr[i].name, milter_msg_value(&m->hdr[i], leadspc));
	chain_macros(ch, c, MILTER_STAGE_EOH, out);
	milter_put(out, SMFIC_EOH, NULL, 0);
	chain_body(&m->body, out);
	chain_macros(ch, c, MILTER_STAGE_EOM, out);
	milter_put(out, SMFIC_BODYEOB, NULL, 0);
}

static void chain_packets(struct milter_chain *ch, const struct milter_conn *c, struct buf *out)
{
	switch (ch->ev) {
	case EV_CONNECT:
		chain_macros(ch, c, MILTER_STAGE_CONNECT, out);
		milter_put_connect(out, ch->arg, ch->family, ch->port, ch->addr);
		break;
	case EV_HELO:
		chain_macros(ch, c, MILTER_STAGE_HELO, out);
		milter_put_string(out, SMFIC_HELO, ch->arg);
		break;
	case EV_MAIL:
		chain_macros(ch, c, MILTER_STAGE_MAIL, out);
		milter_put_args(out, SMFIC_MAIL, (const char *const *)ch->args, ch->nargs);
		break;
	case EV_RCPT:
		chain_macros(ch, c, MILTER_STAGE_RCPT, out);
		milter_put_args(out, SMFIC_RCPT, (const char *const *)ch->args, ch->nargs);
		break;
	case EV_DATA:
		chain_macros(ch, c, MILTER_STAGE_DATA, out);
		milter_put(out, SMFIC_DATA, NULL, 0);
		break;
	case EV_MESSAGE: chain_message_packets(ch, c, out); break;
	}
}

/* ------------------------------------------------------------------ */
/* Verdicts                                                             */

/* Header and body edits go into the message; envelope edits are kept. */
static void chain_apply_mods(struct milter_chain *ch, struct milter_conn *c)
{
	bool leadspc = milter_conn_protocol(c) & SMFIP_HDR_LEADSPC;
	const struct milter_mod *m;
	size_t n;
	bool ok;

	m = milter_conn_mods(c, &n);
	for (size_t i = 0; i < n; i++) {
		switch (m[i].cmd) {
		case SMFIR_ADDHEADER: ok = milter_msg_add(ch->msg, m[i].a, m[i].b, leadspc); break;
		case SMFIR_INSHEADER:
			ok = milter_msg_insert(ch->msg, m[i].index, m[i].a, m[i].b, leadspc);
			break;
		case SMFIR_CHGHEADER:
			ok = milter_msg_change(ch->msg, m[i].index, m[i].a, m[i].b, leadspc);
			break;
		case SMFIR_REPLBODY:
			milter_msg_body(ch->msg, m[i].b, m[i].blen);
			ok = true;
			break;
		case SMFIR_QUARANTINE:
			free(ch->quarantine);
			ch->quarantine = xstrdup(m[i].a);
			ok = true;
			break;
		default:
			ch->env = xreallocarray(ch->env, ch->nenv + 1, sizeof(*ch->env));
			ch->env[ch->nenv] = m[i];
			ch->env[ch->nenv].a = m[i].a ? xstrdup(m[i].a) : NULL;
			ch->env[ch->nenv].b =
			    m[i].b ? xmemdup(m[i].b, m[i].blen ? m[i].blen : strlen(m[i].b)) : NULL;
			ch->nenv++;
			ok = true;
			break;
		}
		if (!ok)
			log_warn("milter %s: ignored a malformed header edit (%c %s)",
			    milter_conn_spec(c), m[i].cmd, m[i].a ? m[i].a : "");
	}
	milter_msg_body_done(ch->msg);
	milter_conn_mods_clear(c);
}

/* The default action of a failed milter, as a verdict for this event. */
static enum milter_verdict chain_default_verdict(struct milter_chain *ch, struct chain_entry *e)
{
	switch (e->def) {
	case DEFAULT_ACCEPT: e->skip_conn = true; return MILTER_CONTINUE;
	case DEFAULT_REJECT: return MILTER_REJECT;
	case DEFAULT_TEMPFAIL: return MILTER_TEMPFAIL;
	case DEFAULT_QUARANTINE:
		if (ch->ev == EV_MESSAGE && ch->quarantine == NULL)
			ch->quarantine = xstrdup("milter failure");
		return MILTER_CONTINUE;
	}
	return MILTER_TEMPFAIL;
}

static void chain_verdict(void *ctx, enum milter_verdict v, const char *reply)
{
	struct milter_chain *ch = ctx;
	struct chain_entry *e = &ch->e[ch->cur];

	if (v == MILTER_FAILED) {
		e->failed = true;
		v = chain_default_verdict(ch, e);
		reply = NULL;
	}
	if (ch->ev == EV_MESSAGE && (v == MILTER_CONTINUE || v == MILTER_ACCEPT) &&
	    milter_conn_ready(e->conn))
		chain_apply_mods(ch, e->conn);
	if (v == MILTER_ACCEPT) {
		if (ch->ev <= EV_HELO)
			e->skip_conn = true;
		else
			e->skip_msg = true;
	}
	if (v == MILTER_REJECT || v == MILTER_TEMPFAIL || v == MILTER_DISCARD) {
		chain_done(ch, v, reply);
		return;
	}
	ch->cur++;
	chain_next(ch);
}

/* The milter was started: on to the event itself. */
static void chain_started(void *ctx, enum milter_verdict v, const char *reply)
{
	struct milter_chain *ch = ctx;
	struct chain_entry *e = &ch->e[ch->cur];
	struct buf out = BUF_INIT;

	if (v != MILTER_CONTINUE) {
		chain_verdict(ctx, MILTER_FAILED, reply);
		return;
	}
	chain_packets(ch, e->conn, &out);
	milter_conn_run(e->conn, &out, chain_verdict, ch);
	buf_free(&out);
}

/* Whether the entry takes part in the event. */
static bool chain_asks(const struct milter_chain *ch, const struct chain_entry *e)
{
	if (e->skip_conn)
		return false;
	if (ch->ev >= EV_MAIL && e->skip_msg)
		return false;
	return true;
}

/* Asks the next milter, or reports that all went well. */
static void chain_next(struct milter_chain *ch)
{
	while (ch->cur < ch->n) {
		struct chain_entry *e = &ch->e[ch->cur];

		if (!chain_asks(ch, e)) {
			ch->cur++;
			continue;
		}
		if (e->failed) {
			enum milter_verdict v = chain_default_verdict(ch, e);

			if (v != MILTER_CONTINUE) {
				chain_done(ch, v, NULL);
				return;
			}
			ch->cur++;
			continue;
		}
		if (ch->ev == EV_MAIL)
			e->in_msg = true;
		milter_conn_start(e->conn, CHAIN_ACTIONS, CHAIN_STEPS, chain_started, ch);
		return;
	}
	chain_done(ch, MILTER_CONTINUE, NULL);
}

/* ------------------------------------------------------------------ */
/* Events                                                               */

void milter_chain_connect(struct milter_chain *ch, const char *host, char family, int port,
    const char *addr, milter_chain_done_fn *fn)
{
	chain_clear_event(ch);
	ch->arg = xstrdup(host);
	ch->family = family;
	ch->port = port;
	ch->addr = xstrdup(addr);
	chain_begin(ch, EV_CONNECT, fn);
}

void milter_chain_helo(struct milter_chain *ch, const char *helo, milter_chain_done_fn *fn)
{
	chain_clear_event(ch);
	ch->arg = xstrdup(helo);
	chain_begin(ch, EV_HELO, fn);
}

static void chain_set_args(struct milter_chain *ch, const char *const *args, size_t n)
{
	ch->args = xcalloc(n, sizeof(*ch->args));
	for (size_t i = 0; i < n; i++)
		ch->args[i] = xstrdup(args[i]);
	ch->nargs = n;
}

void milter_chain_mail(
    struct milter_chain *ch, const char *const *args, size_t n, milter_chain_done_fn *fn)
{
	chain_clear_event(ch);
	chain_set_args(ch, args, n);
	chain_begin(ch, EV_MAIL, fn);
}

void milter_chain_rcpt(
    struct milter_chain *ch, const char *const *args, size_t n, milter_chain_done_fn *fn)
{
	chain_clear_event(ch);
	chain_set_args(ch, args, n);
	chain_begin(ch, EV_RCPT, fn);
}

void milter_chain_data(struct milter_chain *ch, milter_chain_done_fn *fn)
{
	chain_clear_event(ch);
	chain_begin(ch, EV_DATA, fn);
}

void milter_chain_message(struct milter_chain *ch, struct milter_msg *msg, milter_chain_done_fn *fn)
{
	chain_clear_event(ch);
	ch->msg = msg;
	chain_begin(ch, EV_MESSAGE, fn);
}

void milter_chain_abort(struct milter_chain *ch)
{
	struct buf abort = BUF_INIT;

	milter_put(&abort, SMFIC_ABORT, NULL, 0);
	for (size_t i = 0; i < ch->n; i++) {
		struct chain_entry *e = &ch->e[i];

		if (e->in_msg && !e->failed && milter_conn_ready(e->conn))
			milter_conn_tell(e->conn, &abort);
		e->in_msg = false;
		e->skip_msg = false;
	}
	buf_free(&abort);
}
