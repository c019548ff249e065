/*
 * login/login_int.h - the engine's own parts (login.h is the interface):
 * login_main.c (process), client.c (I/O), login_auth.c (SASL and the
 * hand-off), relay.c (relay after the hand-off, and the way back).
 */
#ifndef TERN_LOGIN_INT_H
#define TERN_LOGIN_INT_H

#include <stdbool.h>

#include "auth/client.h"
#include "buf.h"
#include "event.h"
#include "ipc.h"
#include "login/login.h"
#include "tls_server.h"

#define LOGIN_MAX_OUT (256 * 1024) /* pre-login output is small */
#define LOGIN_RELAY_BUF 65536	   /* bytes buffered each way while relaying */
#define LOGIN_CLOSE_GRACE_MS 2000  /* to get the last reply out */

enum login_phase {
	LOGIN_TLS_HANDSHAKE, /* implicit TLS or STARTTLS under way */
	LOGIN_PRE_AUTH,	     /* commands */
	LOGIN_STARTTLS,	     /* the go-ahead is being sent */
	LOGIN_AUTH,	     /* waiting for auth */
	LOGIN_HANDOFF,	     /* waiting for postlogin */
	LOGIN_RELAY,	     /* logged in over TLS (or keep_connection): relaying */
	LOGIN_CLOSING,	     /* last output, then free */
};

struct login_client {
	struct event_loop *loop;
	int fd;
	enum login_phase phase;
	struct tls_conn *tls;
	int tls_want, tls_rwant, tls_wwant;
	struct buf in, out;
	struct event_timer *timer;
	char rip[64], lip[64];
	int rport, lport;
	char session[20];
	long long started;
	bool secured, utf8, greeted;
	/* authentication */
	struct auth_call *call;
	char *mech, *user, *tag;
	unsigned failures;
	bool auth_tried;
	/* hand-off */
	struct ipc_conn ho;
	struct ipc_msg ho_msg;
	int relay_fd;	       /* LOGIN_RELAY: our end of the pair */
	struct buf relay_in;   /* user process -> client */
	bool relay_eof;	       /* the user process closed its end */
	bool giving_back;      /* it gives the client back (keep_connection) */
	struct buf relay_back; /* client bytes it did not use, given back */
	char *close_why;
	struct login_client *prev, *next;
	char state[]; /* the protocol's */
};

struct login_engine {
	const struct login_proto *proto;
	struct event_loop *loop;
	struct auth_client *auth;
	struct login_client *clients;
	unsigned nclients;
	long client_limit, idle_ms;
	unsigned failure_limit;
	bool stopping;
};

extern struct login_engine login_engine;

void login_client_accept(struct event_loop *loop, int fd);
void login_client_free(struct login_client *c);
/* Re-arms the events the client's phase waits for. */
void login_client_events(struct login_client *c);
/* (Re)starts the login_idle_timeout of the pre-login state. */
void login_client_idle(struct login_client *c);
/* Hands the client's input to the protocol while it may take it. */
void login_client_feed(struct login_client *c);
void login_client_bye(struct login_client *c, enum login_bye why, const char *log_why);
/* Logs "text: user=<...>, method=..., rip=..., lip=..., [mpid=N, ]TLS, session=<...>". */
void login_client_log(struct login_client *c, const char *text, long mpid);
/* Reads from / writes to the client (TLS or not); as read(2)/write(2). */
ssize_t login_client_recv(struct login_client *c, void *p, size_t n);
ssize_t login_client_send(struct login_client *c, const void *p, size_t n);

void login_handoff_start(struct login_client *c, const char *token);
void login_relay_start(struct login_client *c);
void login_relay_event(struct login_client *c, int fd, int events);

#endif
