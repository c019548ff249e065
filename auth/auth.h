/*
 * auth.h - the auth daemon's parts and how they call each other.
 *
 *   main.c     start: root-only set-up (login/ socket, data_directory,
 *              PAM helper), privilege drop, the event loop
 *   server.c   client connections on private/auth and login/auth,
 *              decoding requests, writing replies
 *   request.c  one request from start to reply: the SASL exchange,
 *              penalties, the cache, the worker job, the log lines
 *   mech.c     PLAIN, LOGIN and SCRAM-SHA-256 as steps over decoded bytes
 *   passdb.c   where accounts come from: the users file, app passwords,
 *              smtpd_sasl_password_maps, system users
 *   worker.c   the thread pool that hashes
 *   penalty.c  failure counters per client address and account (LMDB)
 *   token.c    one-time login tokens
 *   cache.c    recently verified passwords
 *   pam.c      the root helper that talks to PAM
 *
 * Threads: only worker.c's threads run outside the event loop, and they
 * touch nothing but their job (and, for PAM, their own socket to the
 * helper).  Everything else runs on the loop and never blocks on crypt.
 */
#ifndef TERN_AUTH_DAEMON_H
#define TERN_AUTH_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/codec.h"
#include "auth/scram.h"
#include "buf.h"
#include "event.h"

struct aconn;

/* ------------------------------------------------------------ passdb.c */

enum acct_source {
	ACCT_USERS,  /* the users file */
	ACCT_LEGACY, /* smtpd_sasl_password_maps (SMTP only) */
	ACCT_SYSTEM, /* getpwnam + PAM */
};

struct app_pw {
	char *label;
	char *hash;
};

/* One account, copied out of its back-end for one request. */
struct acct {
	enum acct_source src;
	char *user;	/* canonical name */
	char *password; /* stored form; NULL for system users (PAM) */
	long uid, gid;
	char *home, *maildir, *quota_rule;
	char **extra; /* "name=value" not interpreted here */
	size_t nextra;
	bool nologin;
	char *nologin_reason;
	char *allow_nets;
	struct app_pw *apps; /* app passwords allowed for the service */
	size_t napps;
};

void passdb_init(void);
/* 1 found (*out allocated), 0 unknown, -1 a back-end failed (tempfail). */
int passdb_lookup(const char *user, const char *service, struct acct **out);
void acct_free(struct acct *a);
/* The name of the back-end for log lines: "passwd-file", "sasl-table", "pam". */
const char *acct_source_name(enum acct_source src);
/* Changes of the users or app password files since the last call. */
unsigned passdb_generation(void);
/* Fills the codec's view of an account (pointers into a). */
void acct_to_reply(const struct acct *a, struct auth_account *out);

/* ------------------------------------------------------------ worker.c */

struct job {
	void (*run)(struct job *job, int worker); /* in a worker thread */
	void (*done)(struct job *job);		  /* back on the loop */
	struct job *next;
};

void worker_init(struct event_loop *loop, int n);
/* 0, or -1 when the queue is full (the caller answers tempfail). */
int worker_submit(struct job *job);
int worker_count(void);

/* ------------------------------------------------------------ pam.c */

/* As root, before dropping privileges: forks the helper, one channel
 * per worker. */
void pam_helper_start(int nworkers);
bool pam_helper_running(void);
/* From worker thread w: 1 ok, 0 wrong, -1 error (reason in why). */
int pam_helper_verify(
    int w, const char *user, const char *password, const char *rhost, char *why, size_t whylen);

/* ------------------------------------------------------------ penalty.c */

void penalty_init(const char *path);
void penalty_close(void);
bool penalty_exempt(const char *addr);
/* Failures counted for this address now (0 when exempt or unknown). */
unsigned penalty_refused(const char *addr);
/* Counts a failure; returns the delay (ms) before the reply. */
long penalty_failure(const char *addr, const char *account, unsigned *failures);
void penalty_success(const char *addr, const char *account);

/* ------------------------------------------------------------ token.c */

void token_init(struct event_loop *loop);
/* A new token (static buffer), or NULL when too many are outstanding. */
const char *token_issue(const char *user, const char *service, const char *addr);
/* The user (allocated) when token is valid for service and addr, else NULL;
 * either way the token is spent. */
char *token_redeem(const char *token, const char *service, const char *addr);

/* ------------------------------------------------------------ cache.c */

void cache_init(void);
bool cache_check(const char *user, const char *service, const char *password);
void cache_add(const char *user, const char *service, const char *password);
void cache_flush(void);

/* ------------------------------------------------------------ mech.c */

enum mech_kind {
	MECH_PLAIN,
	MECH_LOGIN,
	MECH_SCRAM,
	MECH_FORM, /* the verify op */
};

/* The mechanism of a name (any case), if auth_mechanisms offers it. */
bool mech_lookup(const char *name, enum mech_kind *kind);
/* auth_mechanisms, checked at start (fatal when unknown). */
void mech_init(void);
const char *mech_name(enum mech_kind kind);
/* The offered mechanisms in order. */
size_t mech_list(const char **out, size_t max);

/* ------------------------------------------------------------ request.c */

struct areq;
void request_start(struct aconn *conn, const struct auth_request *r);
void request_continue(struct areq *q, const struct auth_request *r);
void request_cancel(struct areq *q);
/* The connection closes: the request forgets it (a job may still run). */
void request_orphan(struct areq *q);
unsigned long request_id(const struct areq *q);
void request_init(void);
/* Requests alive, for the idle check. */
size_t request_count(void);

/* ------------------------------------------------------------ server.c */

/* Watches the login listener; the trusted one is daemon.c's, which
 * calls server_accept_trusted for each connection. */
void server_init(struct event_loop *loop, int login_fd);
void server_accept_trusted(struct event_loop *loop, int fd, void *ctx);
bool server_conn_trusted(const struct aconn *conn);
/* Writes a reply; conn is the request's connection (not NULL). */
void server_reply(struct aconn *conn, const struct auth_reply *r);
void server_reply_fail(struct aconn *conn, unsigned long id, enum auth_code code, const char *why);
/* A request started on conn / ended (replied or cancelled). */
void server_request_add(struct aconn *conn, struct areq *q);
void server_request_done(struct aconn *conn, struct areq *q);
bool server_idle(void *ctx);
struct event_loop *server_loop(void);

#endif
