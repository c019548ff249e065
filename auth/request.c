/*
 * request.c - one request from its first record to its reply.
 *
 * auth and verify requests become an areq: the SASL exchange (PLAIN,
 * LOGIN, SCRAM-SHA-256, or a verify op's user and password) yields a
 * login name and a secret, and then every one of them takes the same
 * path:
 *
 *   refused?   the client address is past auth_failure_limit: fail at once
 *   account    passdb_lookup (memory; tempfail when a back-end failed)
 *   cache      a recent success with the same secret: no hashing
 *   job        a worker hashes (crypt, app passwords, PAM); for an
 *              unknown user it hashes a dummy of the default scheme, so
 *              the reply time does not tell whether the user exists
 *   verdict    success: nologin and allow_nets, then ok with a token
 *              (login socket) or the account (trusted socket);
 *              failure: counted (penalty.c), logged once in a form
 *              fail2ban matches, and answered after the penalty delay
 *
 * lookup and redeem are answered at once, without an areq.
 *
 * A request whose connection closes, or which the client cancels, while
 * a worker hashes or its reply is held back is marked dead and freed when
 * the job comes back or the timer fires; nothing is ever sent for it.
 *
 * Log lines (auth.8 documents them; tests/e2e/test_auth.py checks the
 * fail2ban regex against them):
 *   DB(USER,RIP,<SESSION>): Password mismatch (service=S, method=M, lip=L, failures=N, delay=Dms)
 *   DB(USER,RIP,<SESSION>): unknown user (...)
 *   DB(USER,RIP,<SESSION>): authenticated (service=S, method=M, lip=L)
 *   DB(USER,RIP,<SESSION>): login refused: REASON (...)
 *   penalty(USER,RIP,<SESSION>): refused: N failures from this address (...)
 * DB is passwd-file, sasl-table or pam.  USER is the name the client
 * gave, with blanks, controls, commas and parentheses made '?'.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth.h"
#include "auth/pwscheme.h"
#include "auth/sasl.h"
#include "auth/scram.h"
#include "config.h"
#include "log.h"
#include "sock.h"
#include "util.h"

#define REQ_IDLE_MS (300 * 1000) /* a client that never continues */
#define REQ_MAX_USER 255

enum scram_src {
	SCRAM_REAL,
	SCRAM_UNKNOWN,	 /* no such user: fake keys, fails at the proof */
	SCRAM_INCAPABLE, /* a hash SCRAM cannot use: likewise */
};

struct vjob {
	struct job job;
	struct areq *q;
	bool derive; /* SCRAM keys from a cleartext password, not a check */
	char *password;
	char *stored; /* NULL: unknown user, hash the dummy */
	char **apps;
	size_t napps;
	bool pam;
	char *user;
	char *rhost;
	unsigned char salt[16];
	/* results */
	int result; /* 1 match, 0 no, -1 unusable or error */
	int app;    /* which app password matched, -1 */
	char why[160];
	struct scram_keys keys;
};

struct areq {
	struct aconn *conn;
	unsigned long id;
	enum auth_op op;
	enum mech_kind mech;
	int step;
	char *service, *client_addr, *local_addr, *session;
	bool tls;
	bool trusted;
	char *user; /* the login name the client gave */
	char *password;
	struct acct *acct;
	bool busy; /* a worker job or a delayed reply is pending */
	bool dead; /* no reply any more: free when not busy */
	struct event_timer *timer;
	enum auth_code held_code; /* a delayed failure */
	const char *held_reason;
	/* SCRAM */
	struct buf cfirst;
	struct scram_client_first cf;
	struct buf sfirst;
	struct scram_keys keys;
	enum scram_src scram;
	struct areq *prev, *next;
};

static struct {
	struct areq *list;
	size_t n;
	char dummy[512];	    /* a hash of the default scheme, for unknown users */
	char dummy_scheme[64];	    /* that scheme, read at start (workers read no config) */
	unsigned char fake_key[32]; /* SCRAM salts of unknown users */
} reqs;

/*
 * The dummy is hashed by the first job of any kind, not at start: the
 * default scheme (yescrypt) takes 16 MiB while it hashes, which an
 * auth process that never sees a login (a relay-only host, most of the
 * time) should not pay.  Hashed by the first job whatever its user, so
 * the first reply's extra time tells nothing about the user either.
 */
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void request_make_dummy(void)
{
	char random_pw[33];
	unsigned char r[16];
	struct buf err = BUF_INIT;
	char *h;

	if (RAND_bytes(r, sizeof(r)) != 1) {
		log_error("cannot draw random bytes for the unknown-user hash");
		return;
	}
	hex_encode(r, sizeof(r), random_pw);
	h = pw_hash(reqs.dummy_scheme, random_pw, &err);
	if (h == NULL)
		log_error("auth_password_scheme: %s", buf_cstr(&err));
	else
		strlcpy(reqs.dummy, h, sizeof(reqs.dummy));
	free(h);
	buf_free(&err);
	explicit_bzero(random_pw, sizeof(random_pw));
}

size_t request_count(void)
{
	return reqs.n;
}

unsigned long request_id(const struct areq *q)
{
	return q->id;
}

/* ------------------------------------------------------------ log lines */

/* A client-supplied name, made safe for one log field. */
static void log_name(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; s && *s && o + 1 < size && o < 100; s++) {
		unsigned char c = (unsigned char)*s;

		out[o++] = c <= ' ' || c == 0x7f || c == ',' || c == '(' || c == ')' || c == '<' ||
				   c == '>'
			       ? '?'
			       : (char)c;
	}
	out[o] = 0;
}

/* "DB(user,rip,<session>): " */
static void log_prefix(const struct areq *q, const char *db, struct buf *b)
{
	char user[128], sess[128];

	log_name(q->user ? q->user : "", user, sizeof(user));
	log_name(q->session, sess, sizeof(sess));
	buf_printf(b, "%s(%s,%s", db, user, q->client_addr ? q->client_addr : "");
	if (*sess)
		buf_printf(b, ",<%s>", sess);
	buf_puts(b, "): ");
}

static void log_event(const struct areq *q, const char *db, const char *what, const char *more)
{
	struct buf b = BUF_INIT;

	log_prefix(q, db, &b);
	buf_printf(&b, "%s (service=%s, method=%s", what, q->service, mech_name(q->mech));
	if (q->local_addr)
		buf_printf(&b, ", lip=%s", q->local_addr);
	if (q->tls)
		buf_puts(&b, ", TLS");
	if (more)
		buf_printf(&b, ", %s", more);
	buf_putc(&b, ')');
	log_info("%s", buf_cstr(&b));
	buf_free(&b);
}

static const char *req_db(const struct areq *q)
{
	return q->acct ? acct_source_name(q->acct->src) : "passwd-file";
}

/* ------------------------------------------------------------ lifetime */

static void req_free(struct areq *q)
{
	if (q->timer)
		event_timer_cancel(server_loop(), q->timer);
	if (q->conn)
		server_request_done(q->conn, q);
	if (q->prev)
		q->prev->next = q->next;
	else
		reqs.list = q->next;
	if (q->next)
		q->next->prev = q->prev;
	reqs.n--;
	if (q->password)
		explicit_bzero(q->password, strlen(q->password));
	free(q->password);
	free(q->user);
	free(q->service);
	free(q->client_addr);
	free(q->local_addr);
	free(q->session);
	acct_free(q->acct);
	if (q->cfirst.data)
		explicit_bzero(q->cfirst.data, q->cfirst.len);
	buf_free(&q->cfirst);
	buf_free(&q->sfirst);
	explicit_bzero(&q->keys, sizeof(q->keys));
	free(q);
}

static void req_idle(struct event_loop *loop, void *ctx)
{
	struct areq *q = ctx;

	(void)loop;
	q->timer = NULL;
	log_info("request %lu on service %s abandoned by its client", q->id, q->service);
	req_free(q);
}

static void req_arm_idle(struct areq *q)
{
	if (q->timer)
		event_timer_cancel(server_loop(), q->timer);
	q->timer = event_timer_add(server_loop(), REQ_IDLE_MS, req_idle, q);
}

static struct areq *req_new(struct aconn *conn, const struct auth_request *r)
{
	struct areq *q = xcalloc(1, sizeof(*q));

	q->conn = conn;
	q->id = r->id;
	q->op = r->op;
	q->trusted = server_conn_trusted(conn);
	q->service = xstrdup(r->service);
	q->client_addr = r->client_addr ? xstrdup(r->client_addr) : NULL;
	q->local_addr = r->local_addr ? xstrdup(r->local_addr) : NULL;
	q->session = r->session ? xstrdup(r->session) : NULL;
	q->tls = r->tls;
	q->next = reqs.list;
	if (reqs.list)
		reqs.list->prev = q;
	reqs.list = q;
	reqs.n++;
	server_request_add(conn, q);
	return q;
}

void request_orphan(struct areq *q)
{
	q->conn = NULL;
	if (q->busy)
		q->dead = true;
	else
		req_free(q);
}

void request_cancel(struct areq *q)
{
	if (q->conn) {
		server_request_done(q->conn, q);
		q->conn = NULL;
	}
	request_orphan(q);
}

/* ------------------------------------------------------------ replies */

static void req_reply_fail(struct areq *q, enum auth_code code, const char *reason)
{
	if (q->conn)
		server_reply_fail(q->conn, q->id, code, reason);
	/* A job or a held reply still refers to q: it frees q when it ends. */
	if (q->busy) {
		request_cancel(q);
		return;
	}
	req_free(q);
}

static void req_continue(struct areq *q, const char *data, size_t len)
{
	struct auth_reply r;
	struct buf b64 = BUF_INIT;

	sasl_base64_encode(data, len, &b64);
	memset(&r, 0, sizeof(r));
	r.id = q->id;
	r.status = AUTH_CONTINUE;
	r.challenge = buf_cstr(&b64);
	server_reply(q->conn, &r);
	buf_free(&b64);
	req_arm_idle(q);
}

static void req_held_reply(struct event_loop *loop, void *ctx)
{
	struct areq *q = ctx;

	(void)loop;
	q->timer = NULL;
	q->busy = false;
	if (q->dead)
		req_free(q);
	else
		req_reply_fail(q, q->held_code, q->held_reason);
}

/* A wrong password or unknown user: counted, logged, answered late. */
static void req_fail_credentials(struct areq *q, const char *what, const char *note)
{
	unsigned failures;
	long delay = penalty_failure(q->client_addr, q->user, &failures);
	char more[200];

	snprintf(more, sizeof(more), "%s%sfailures=%u, delay=%ldms", note ? note : "",
	    note ? ", " : "", failures, delay);
	log_event(q, req_db(q), what, more);
	q->held_code = AUTH_CODE_CREDENTIALS;
	q->held_reason = "authentication failure";
	if (delay <= 0) {
		req_reply_fail(q, q->held_code, q->held_reason);
		return;
	}
	if (q->timer)
		event_timer_cancel(server_loop(), q->timer);
	q->busy = true;
	q->timer = event_timer_add(server_loop(), delay, req_held_reply, q);
}

/* Fills the ok reply: the account (trusted) or a token (login socket). */
static void req_succeed(struct areq *q, const char *note)
{
	struct auth_reply r;
	const char *token = NULL;

	penalty_success(q->client_addr, q->user);
	if (!q->conn) {
		req_free(q);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.id = q->id;
	r.status = AUTH_OK;
	r.user = q->acct->user;
	if (q->trusted) {
		r.has_account = true;
		acct_to_reply(q->acct, &r.account);
	} else if ((token = token_issue(q->acct->user, q->service, q->client_addr)) == NULL) {
		req_reply_fail(q, AUTH_CODE_TEMPFAIL, "too many logins in progress");
		return;
	}
	r.token = token;
	log_event(q, req_db(q), "authenticated", note);
	server_reply(q->conn, &r);
	req_free(q);
}

/* The password was right: may this account log in from there? */
static bool req_allowed(struct areq *q)
{
	const struct acct *a = q->acct;

	if (a->nologin) {
		log_event(q, req_db(q), "login refused: account disabled", a->nologin_reason);
		req_reply_fail(q, AUTH_CODE_DISABLED,
		    a->nologin_reason ? a->nologin_reason : "account disabled");
		return false;
	}
	if (a->allow_nets &&
	    (q->client_addr == NULL || !sock_addr_in_networks(q->client_addr, a->allow_nets))) {
		log_event(q, req_db(q), "login refused: client address not in allow_nets", NULL);
		req_reply_fail(q, AUTH_CODE_DISABLED, "not allowed from this address");
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ the worker job */

static void vjob_free(struct vjob *j)
{
	if (j->password)
		explicit_bzero(j->password, strlen(j->password));
	free(j->password);
	free(j->stored);
	for (size_t i = 0; i < j->napps; i++)
		free(j->apps[i]);
	free(j->apps);
	free(j->user);
	free(j->rhost);
	explicit_bzero(&j->keys, sizeof(j->keys));
	free(j);
}

/* In a worker thread. */
static void vjob_run(struct job *job, int worker)
{
	struct vjob *j = (struct vjob *)job;

	pthread_once(&dummy_once, request_make_dummy);
	j->app = -1;
	if (j->derive) {
		j->result = pw_scram_keys(j->stored, j->salt, sizeof(j->salt), &j->keys) == 0;
		return;
	}
	if (j->pam) {
		j->result = pam_helper_verify(
		    worker, j->user, j->password, j->rhost, j->why, sizeof(j->why));
		return;
	}
	for (size_t i = 0; i < j->napps; i++)
		if (pw_verify(j->apps[i], j->password) == 1) {
			j->app = (int)i;
			j->result = 1;
			return;
		}
	j->result = pw_verify(j->stored ? j->stored : reqs.dummy, j->password);
	if (j->stored == NULL)
		j->result = 0;
	else if (j->result < 0)
		pw_scheme_name(j->stored, j->why, sizeof(j->why));
}

static void scram_send_first(struct areq *q);

/* Back on the loop. */
static void vjob_done(struct job *job)
{
	struct vjob *j = (struct vjob *)job;
	struct areq *q = j->q;

	q->busy = false;
	if (q->dead) {
		req_free(q);
	} else if (j->derive) {
		if (j->result)
			q->keys = j->keys;
		else
			q->scram = SCRAM_INCAPABLE;
		scram_send_first(q);
	} else if (j->result > 0) {
		char note[100] = "";

		if (j->app < 0)
			cache_add(q->acct->user, q->service, q->password);
		else
			snprintf(
			    note, sizeof(note), "app password %s", q->acct->apps[j->app].label);
		if (req_allowed(q))
			req_succeed(q, *note ? note : NULL);
	} else if (j->result == 0) {
		req_fail_credentials(
		    q, q->acct ? "Password mismatch" : "unknown user", j->pam ? j->why : NULL);
	} else if (j->pam) {
		log_warn("PAM error for %s: %s", q->user, j->why);
		req_reply_fail(q, AUTH_CODE_TEMPFAIL, "temporary authentication failure");
	} else {
		log_error("%s: password of %s has an unusable scheme {%s}: fix its entry",
		    req_db(q), q->acct->user, j->why);
		req_fail_credentials(q, "Password mismatch", "unusable password scheme");
	}
	vjob_free(j);
}

static void vjob_submit(struct areq *q, struct vjob *j)
{
	j->q = q;
	j->job.run = vjob_run;
	j->job.done = vjob_done;
	if (worker_submit(&j->job) < 0) {
		log_warn("too many logins waiting for a worker: answering tempfail");
		vjob_free(j);
		req_reply_fail(q, AUTH_CODE_TEMPFAIL, "server busy");
		return;
	}
	q->busy = true;
	if (q->timer)
		event_timer_cancel(server_loop(), q->timer);
	q->timer = NULL;
}

/* ------------------------------------------------------------ verification */

/* Refused clients get no hashing at all. */
static bool req_refused(struct areq *q)
{
	unsigned n = penalty_refused(q->client_addr);
	char more[64];

	if (n == 0)
		return false;
	snprintf(more, sizeof(more), "failures=%u", n);
	log_event(q, "penalty", "refused: too many failures from this address", more);
	req_reply_fail(q, AUTH_CODE_REFUSED, "too many failed logins, try again later");
	return true;
}

/* The account of q->user; false when the request ended (tempfail). */
static bool req_lookup(struct areq *q)
{
	int r = passdb_lookup(q->user, q->service, &q->acct);

	if (r < 0) {
		log_event(q, "passdb", "lookup failed", NULL);
		req_reply_fail(q, AUTH_CODE_TEMPFAIL, "temporary authentication failure");
		return false;
	}
	return true;
}

/* q->user and q->password are set: check them. */
static void req_verify(struct areq *q)
{
	struct vjob *j;

	if (req_refused(q) || !req_lookup(q))
		return;
	if (q->acct && cache_check(q->acct->user, q->service, q->password)) {
		if (req_allowed(q))
			req_succeed(q, "cached");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->password = xstrdup(q->password);
	if (q->acct && q->acct->src == ACCT_SYSTEM) {
		j->pam = true;
		j->user = xstrdup(q->acct->user);
		j->rhost = q->client_addr ? xstrdup(q->client_addr) : NULL;
		if (!pam_helper_running()) {
			vjob_free(j);
			req_reply_fail(q, AUTH_CODE_TEMPFAIL, "temporary authentication failure");
			return;
		}
	} else if (q->acct) {
		j->stored = xstrdup(q->acct->password);
		j->apps = xcalloc(q->acct->napps + 1, sizeof(char *));
		for (size_t i = 0; i < q->acct->napps; i++)
			j->apps[j->napps++] = xstrdup(q->acct->apps[i].hash);
	}
	vjob_submit(q, j);
}

static bool req_set_user(struct areq *q, const char *user, size_t len)
{
	if (len == 0 || len > REQ_MAX_USER || memchr(user, 0, len)) {
		req_reply_fail(q, AUTH_CODE_MALFORMED, "malformed user name");
		return false;
	}
	free(q->user);
	q->user = xmemdup(user, len);
	return true;
}

static bool req_set_password(struct areq *q, const char *pw, size_t len)
{
	if (len == 0 || memchr(pw, 0, len)) {
		req_reply_fail(q, AUTH_CODE_MALFORMED, "malformed password");
		return false;
	}
	q->password = xmemdup(pw, len);
	return true;
}

/* Decodes a response; false (and the request failed) when it is not base64. */
static bool req_decode(struct areq *q, const char *resp, struct buf *out)
{
	if (sasl_base64_decode(resp, strlen(resp), out) == 0)
		return true;
	log_event(q, "sasl", "invalid base64 data", NULL);
	req_reply_fail(q, AUTH_CODE_MALFORMED, "invalid base64 data");
	return false;
}

/* ------------------------------------------------------------ PLAIN, LOGIN */

static void plain_step(struct areq *q, const struct buf *msg)
{
	struct sasl_plain p;

	if (sasl_plain_parse(msg->data ? msg->data : "", msg->len, &p) < 0) {
		log_event(q, "sasl", "malformed PLAIN message", NULL);
		req_reply_fail(q, AUTH_CODE_MALFORMED, "malformed PLAIN message");
		return;
	}
	if (!req_set_user(q, p.authcid, p.authcid_len))
		return;
	/* Acting as someone else (an authzid) is not supported. */
	if (p.authzid_len &&
	    (p.authzid_len != p.authcid_len || memcmp(p.authzid, p.authcid, p.authcid_len) != 0)) {
		log_event(q, "sasl", "login refused: authorization identity not allowed", NULL);
		req_reply_fail(q, AUTH_CODE_CREDENTIALS, "authorization identity not allowed");
		return;
	}
	if (req_set_password(q, p.passwd, p.passwd_len))
		req_verify(q);
}

static void login_step(struct areq *q, const struct buf *msg)
{
	if (q->step == 1) {
		if (req_set_user(q, msg->data ? msg->data : "", msg->len)) {
			q->step = 2;
			req_continue(q, "Password:", 9);
		}
		return;
	}
	if (req_set_password(q, msg->data ? msg->data : "", msg->len))
		req_verify(q);
}

/* ------------------------------------------------------------ SCRAM-SHA-256 */

static void scram_fake_keys(struct areq *q)
{
	unsigned char mac[32];
	unsigned len = sizeof(mac);

	/* The same salt for the same name every time, as a real account has. */
	HMAC(EVP_sha256(), reqs.fake_key, sizeof(reqs.fake_key), (unsigned char *)q->user,
	    strlen(q->user), mac, &len);
	memset(&q->keys, 0, sizeof(q->keys));
	q->keys.iter = SCRAM_DEFAULT_ITER;
	q->keys.salt_len = 16;
	memcpy(q->keys.salt, mac, 16);
	RAND_bytes(q->keys.stored_key, SCRAM_HASH_LEN);
	RAND_bytes(q->keys.server_key, SCRAM_HASH_LEN);
}

static void scram_send_first(struct areq *q)
{
	unsigned char r[18];
	struct buf nonce = BUF_INIT;

	if (q->scram != SCRAM_REAL)
		scram_fake_keys(q);
	RAND_bytes(r, sizeof(r));
	sasl_base64_encode((const char *)r, sizeof(r), &nonce);
	buf_reset(&q->sfirst);
	scram_server_first(&q->cf, buf_cstr(&nonce), &q->keys, &q->sfirst);
	buf_free(&nonce);
	q->step = 2;
	req_continue(q, q->sfirst.data, q->sfirst.len);
}

static void scram_first(struct areq *q, const struct buf *msg)
{
	const char *why;
	struct vjob *j;

	buf_append(&q->cfirst, msg->data ? msg->data : "", msg->len);
	if (scram_parse_client_first(
		q->cfirst.data ? q->cfirst.data : "", q->cfirst.len, &q->cf, &why) < 0) {
		log_event(q, "sasl", "malformed SCRAM message", why);
		req_reply_fail(q, AUTH_CODE_MALFORMED, "malformed SCRAM message");
		return;
	}
	if (!req_set_user(q, q->cf.user, strlen(q->cf.user)))
		return;
	if (*q->cf.authzid && strcmp(q->cf.authzid, q->cf.user) != 0) {
		log_event(q, "sasl", "login refused: authorization identity not allowed", NULL);
		req_reply_fail(q, AUTH_CODE_CREDENTIALS, "authorization identity not allowed");
		return;
	}
	if (req_refused(q) || !req_lookup(q))
		return;
	q->scram = SCRAM_REAL;
	if (q->acct == NULL || q->acct->password == NULL || !pw_scram_capable(q->acct->password)) {
		q->scram = q->acct ? SCRAM_INCAPABLE : SCRAM_UNKNOWN;
		scram_send_first(q);
		return;
	}
	if (pw_scram_keys(q->acct->password, NULL, 0, &q->keys) == 0) {
		scram_send_first(q);
		return;
	}
	/* A cleartext password: PBKDF2 on a worker. */
	j = xcalloc(1, sizeof(*j));
	j->derive = true;
	j->stored = xstrdup(q->acct->password);
	RAND_bytes(j->salt, sizeof(j->salt));
	vjob_submit(q, j);
}

static void scram_final(struct areq *q, const struct buf *msg)
{
	struct buf fin = BUF_INIT;
	const char *why;
	int r = scram_server_final(q->cfirst.data, q->cfirst.len, &q->cf, buf_cstr(&q->sfirst),
	    msg->data ? msg->data : "", msg->len, &q->keys, &fin, &why);

	if (r < 0 && strcmp(why, "wrong proof") != 0) {
		log_event(q, "sasl", "malformed SCRAM message", why);
		req_reply_fail(q, AUTH_CODE_MALFORMED, "malformed SCRAM message");
	} else if (r < 0 || q->scram != SCRAM_REAL) {
		req_fail_credentials(q,
		    q->scram == SCRAM_UNKNOWN ? "unknown user" : "Password mismatch",
		    q->scram == SCRAM_INCAPABLE ? "stored scheme cannot do SCRAM-SHA-256" : NULL);
	} else if (req_allowed(q)) {
		q->step = 3;
		req_continue(q, fin.data, fin.len);
	}
	buf_free(&fin);
}

/* ------------------------------------------------------------ dispatch */

static void req_step(struct areq *q, const char *resp)
{
	struct buf msg = BUF_INIT;

	if (!req_decode(q, resp, &msg)) {
		buf_free(&msg);
		return;
	}
	switch (q->mech) {
	case MECH_PLAIN: plain_step(q, &msg); break;
	case MECH_LOGIN: login_step(q, &msg); break;
	case MECH_SCRAM:
		if (q->step == 1)
			scram_first(q, &msg);
		else if (q->step == 2)
			scram_final(q, &msg);
		else if (req_allowed(q))
			req_succeed(q, NULL);
		break;
	case MECH_FORM: break;
	}
	if (msg.data)
		explicit_bzero(msg.data, msg.len);
	buf_free(&msg);
}

static void req_start_sasl(struct areq *q, const struct auth_request *r)
{
	q->step = 1;
	if (q->mech == MECH_LOGIN && r->resp && *r->resp) {
		/* "AUTH LOGIN <user>": the user name came first. */
		req_step(q, r->resp);
		return;
	}
	if (r->resp == NULL || (q->mech == MECH_LOGIN && *r->resp == 0)) {
		if (q->mech == MECH_LOGIN)
			req_continue(q, "Username:", 9);
		else
			req_continue(q, "", 0);
		return;
	}
	req_step(q, r->resp);
}

static void req_lookup_op(struct aconn *conn, const struct auth_request *r, const char *user)
{
	struct auth_reply rep;
	struct acct *a = NULL;
	int found = user ? passdb_lookup(user, r->service ? r->service : "", &a) : 0;

	memset(&rep, 0, sizeof(rep));
	rep.id = r->id;
	if (found > 0) {
		rep.status = AUTH_OK;
		rep.user = a->user;
		rep.has_account = true;
		acct_to_reply(a, &rep.account);
	} else {
		rep.status = AUTH_FAIL;
		rep.code = found < 0 ? AUTH_CODE_TEMPFAIL : AUTH_CODE_NOUSER;
		rep.reason = found < 0 ? "temporary lookup failure" : "no such user";
	}
	server_reply(conn, &rep);
	acct_free(a);
}

static void req_redeem_op(struct aconn *conn, const struct auth_request *r)
{
	char *user = token_redeem(r->token, r->service, r->client_addr);

	if (user == NULL) {
		server_reply_fail(conn, r->id, AUTH_CODE_DENIED, "invalid or expired token");
		return;
	}
	req_lookup_op(conn, r, user);
	free(user);
}

void request_start(struct aconn *conn, const struct auth_request *r)
{
	struct areq *q;
	enum mech_kind mech = MECH_FORM;

	if (r->op == AUTH_OP_LOOKUP) {
		req_lookup_op(conn, r, r->user);
		return;
	}
	if (r->op == AUTH_OP_REDEEM) {
		req_redeem_op(conn, r);
		return;
	}
	if (r->op == AUTH_OP_AUTH && !mech_lookup(r->mech, &mech)) {
		server_reply_fail(
		    conn, r->id, AUTH_CODE_MECHANISM, "unsupported authentication mechanism");
		return;
	}
	q = req_new(conn, r);
	q->mech = mech;
	if (r->op == AUTH_OP_AUTH) {
		req_start_sasl(q, r);
		return;
	}
	/* verify: a user name and password from a form. */
	if (req_set_user(q, r->user, strlen(r->user)) &&
	    req_set_password(q, r->secret, strlen(r->secret)))
		req_verify(q);
}

void request_continue(struct areq *q, const struct auth_request *r)
{
	if (q->busy || q->mech == MECH_FORM) {
		req_reply_fail(q, AUTH_CODE_MALFORMED, "unexpected response");
		return;
	}
	req_step(q, r->resp);
}

void request_init(void)
{
	const char *scheme = config_str("auth_password_scheme");

	if (RAND_bytes(reqs.fake_key, sizeof(reqs.fake_key)) != 1)
		log_fatal("cannot draw random bytes");
	if (!pw_hash_scheme_ok(scheme))
		log_fatal("auth_password_scheme: cannot make passwords of scheme %s", scheme);
	strlcpy(reqs.dummy_scheme, scheme, sizeof(reqs.dummy_scheme));
}
