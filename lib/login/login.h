/*
 * login/login.h - the engine of the login processes (imap-login,
 * pop3-login): everything before a client is authenticated that does not
 * depend on the protocol, after Dovecot's login-common.
 *
 * A login process runs as default_login_user, chrooted into
 * queue_directory/login/ (where auth's login socket and postlogin's
 * socket are, and nothing else), and serves up to login_client_limit
 * clients at once from one event loop.  For each client the engine does
 * the I/O (plaintext, STARTTLS, implicit TLS with
 * login_tls_wrappermode), the idle time-out, the SASL exchange with auth
 * (auth/client.h) and the hand-off to the user's process through
 * postlogin (login/handoff.h): a plaintext connection is passed whole;
 * a TLS one stays here, and the engine relays the bytes between the TLS
 * session and a socket pair whose other end the user's process got,
 * reading from a side only while the other has room (back-pressure).
 * It logs Dovecot's lines ("Login: user=<u>, method=PLAIN, rip=...,
 * lip=..., mpid=N, TLS, session=<...>" and "Disconnected (why): ...").
 *
 * A protocol (imap/login/, pop3/login/) gives a struct login_proto: it
 * parses commands from the bytes the engine received and answers them
 * with login_client_write/printf; it starts TLS and authentication
 * through the engine and writes the replies the engine's callbacks ask
 * for.  The success reply to the login command is the user process's
 * (postlogin.h), not the login process's.
 *
 * Not here: command syntax (pure parsers in login/imap_cmd.h and
 * pop3/cmd.h), anything about mail.
 */
#ifndef TERN_LOGIN_H
#define TERN_LOGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/codec.h"

struct login_client;

/* Why the engine ends a client; the protocol says goodbye its way. */
enum login_bye {
	LOGIN_BYE_TIMEOUT,   /* login_idle_timeout */
	LOGIN_BYE_LIMIT,     /* login_client_limit reached */
	LOGIN_BYE_TOO_LONG,  /* input buffer full without a command */
	LOGIN_BYE_FAILURES,  /* login_auth_failure_limit */
	LOGIN_BYE_SHUTDOWN,  /* the process is stopping */
	LOGIN_BYE_TLS_FAILED /* (nothing can be said) */
};

struct login_proto {
	const char *name;    /* "imap": service for auth and postlogin */
	const char *program; /* for log lines; NULL: name + "-login" */
	size_t max_input;    /* unconsumed bytes a client may send (<= 64 KiB) */
	size_t state_size;   /* bytes of per-client state (login_client_state) */
	/* The connection is ready (for implicit TLS: after the handshake). */
	void (*greet)(struct login_client *c);
	/*
	 * Client bytes: handle the complete commands at the front of
	 * data[0..len), return how many bytes they took (0: wait for more).
	 * Not called while the client waits for auth or the hand-off, nor
	 * after login_client_starttls() or login_client_bye().
	 */
	size_t (*input)(struct login_client *c, const char *data, size_t len);
	/* SASL challenge (base64) to relay; then login_auth_continue(). */
	void (*auth_challenge)(struct login_client *c, const char *challenge);
	/*
	 * Authentication or hand-off failed: answer the command (code says
	 * how, auth/codec.h; reason may be shown to the client).  The
	 * engine closes the client afterwards when it has failed too often.
	 */
	void (*auth_failed)(struct login_client *c, enum auth_code code, const char *reason);
	/* The line to send before the engine closes (may write nothing). */
	void (*bye)(struct login_client *c, enum login_bye why);
	/* A STARTTLS handshake is done (may be NULL): ManageSieve says its
	 * capabilities again (RFC 5804 2.2). */
	void (*tls_started)(struct login_client *c);
	/* Frees what the protocol's state holds (may be NULL). */
	void (*destroy)(struct login_client *c);
	/*
	 * Relay plaintext clients too after the login, so that the user
	 * process can give a client back (ManageSieve UNAUTHENTICATE): it
	 * writes its last reply, then one byte with a descriptor attached
	 * (SCM_RIGHTS; login_relay_give_back); the engine shuts the pair
	 * for writing, takes back the client bytes the process had not
	 * used (what it sends until it closes) and resumes the pre-login
	 * state, calling unauthenticated.
	 */
	bool keep_connection;
	void (*unauthenticated)(struct login_client *c);
};

/* A login process's main(): never returns but through exit. */
int login_main(int argc, char **argv, const struct login_proto *proto);

/* ---- for the protocol ---- */

void *login_client_state(struct login_client *c);
void login_client_write(struct login_client *c, const void *p, size_t n);
void login_client_printf(struct login_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ends the client once its output is out, logging "Disconnected (why)". */
void login_client_close(struct login_client *c, const char *why);

bool login_client_tls(const struct login_client *c);
/* TLS, or a plaintext connection from login_secured_networks. */
bool login_client_secured(const struct login_client *c);
/* Passwords may be sent: secured, or login_disable_plaintext_auth = no. */
bool login_client_plaintext_ok(const struct login_client *c);
/* STARTTLS/STLS can be offered: TLS configured and not active yet. */
bool login_client_tls_possible(const struct login_client *c);
/* TLS required (login_tls_security_level = encrypt) and not active yet. */
bool login_client_tls_required(const struct login_client *c);
/* After the "go ahead" reply: buffered input is dropped (RFC 3207's
 * injection attack), the handshake starts once the reply is out. */
void login_client_starttls(struct login_client *c);

/* The mechanisms auth offers ("PLAIN LOGIN ..."), or "" before it said. */
const char *login_mechanisms(void);
/* The greeting text (login_greeting). */
const char *login_greeting(void);

/*
 * Starts a SASL exchange with auth: mech as the client named it,
 * initial response base64 as sent (NULL: none; "" for an empty one).
 * tag: the IMAP command's tag for the user process (NULL for POP3);
 * user: the login name when the protocol knows it (for log lines).
 */
void login_auth_start(
    struct login_client *c, const char *mech, const char *resp, const char *tag, const char *user);
/* The client's response to a challenge (base64 as sent). */
void login_auth_continue(struct login_client *c, const char *resp);
/* The tag given to login_auth_start() (IMAP), or "*". */
const char *login_client_auth_tag(const struct login_client *c);
/* The client cancelled ("*"): no callback follows; answer it yourself. */
void login_auth_cancel(struct login_client *c);
/* POP3: the client announced UTF8 (RFC 6856) before logging in. */
void login_client_set_utf8(struct login_client *c);
bool login_client_utf8(const struct login_client *c);

#endif
