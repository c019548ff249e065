/*
 * tls_server.h - the server side of TLS for tern's event-driven servers
 * (smtpd, imap-login, pop3-login): STARTTLS and implicit TLS.
 *
 * tls_server_init() builds the one SSL_CTX of the process from main.cf
 * (the parameters a server names in its struct tls_server_params, e.g.
 * smtpd_tls_cert_file or login_tls_cert_file) and must run while still
 * root: the key file is readable by root only, and
 * it stays in memory after privileges are dropped.  Each session then gets
 * its own SSL object; every TLS call is non-blocking, and a call that
 * cannot progress says which event (EV_READ or EV_WRITE) it waits for, so
 * a slow or stalled handshake never holds up the event loop.
 *
 * Not here: when to start TLS, what to discard, what a server offers
 * (the protocol's code), nor certificate verification of clients (a
 * client certificate is only asked for, to log its fingerprint).  The
 * levels are tls_client.h's; a server knows none, may and encrypt.
 */
#ifndef TERN_TLS_SERVER_H
#define TERN_TLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "tls_client.h"

/* The main.cf parameter names a server's TLS is configured by. */
struct tls_server_params {
	const char *cert_file, *key_file;	     /* PEM chain and key */
	const char *protocols, *mandatory_protocols; /* Postfix's protocol lists */
	const char *ask_ccert;			     /* bool: ask for a client certificate */
	const char *security_level;		     /* none, may, encrypt */
	const char *wrappermode;		     /* bool: implicit TLS */
};

struct tls_conn;

/* What one connection negotiated, for the log and the Received: header. */
struct tls_info {
	const char *protocol; /* "TLSv1.3" */
	const char *cipher;   /* "TLS_AES_256_GCM_SHA384" */
	int bits, alg_bits;
	char fingerprint[100]; /* client certificate SHA-256, or "" */
};

/*
 * Reads the parameters p names and loads certificate and key.  A configuration error
 * is fatal when TLS is required (encrypt, wrappermode); with "may" it is
 * logged and STARTTLS is simply not offered.
 */
void tls_server_init(const struct tls_server_params *p);
/*
 * ACME's tls-alpn-01 (RFC 8737) for http: a ClientHello offering only
 * the ALPN protocol "acme-tls/1" gets, instead of the service's
 * certificate, the validation certificate (and key, PEM) that "tern cert
 * acme" wrote to alpn-NAME.pem in the folder dir_fd, NAME being the SNI
 * host name; such a session carries no data (tls_conn_acme_alpn).
 * Without the file the handshake fails.
 */
void tls_server_acme_alpn(int dir_fd);
bool tls_conn_acme_alpn(const struct tls_conn *t);

/* The effective level: NONE when TLS could not be set up. */
enum tls_level tls_server_level(void);
bool tls_server_wrappermode(void);

/*
 * Parses a Postfix protocol list (">=TLSv1.2", "<=TLSv1.3",
 * "!SSLv3, !TLSv1", "TLSv1.2 TLSv1.3") into OpenSSL's minimum and maximum
 * version (0: no bound).  Returns -1 on an unknown name.
 */
int tls_protocols_parse(const char *spec, int *min, int *max);

/* A server-side connection on fd, ready for tls_conn_handshake(). */
struct tls_conn *tls_conn_new(int fd);
void tls_conn_free(struct tls_conn *t);

/*
 * Advances the handshake.  1: done; 0: not yet, *want holds EV_READ or
 * EV_WRITE; -1: failed, err holds why.
 */
int tls_conn_handshake(struct tls_conn *t, int *want, struct buf *err);

/*
 * Like read(2)/write(2): >0 bytes, 0 on end of stream (read), -1 with
 * errno EAGAIN (and *want set) when the call must be retried after that
 * event, any other errno on failure.
 */
ssize_t tls_conn_read(struct tls_conn *t, void *p, size_t n, int *want);
ssize_t tls_conn_write(struct tls_conn *t, const void *p, size_t n, int *want);
/* Decrypted bytes buffered inside OpenSSL: no epoll event will announce them. */
bool tls_conn_pending(const struct tls_conn *t);

void tls_conn_info(const struct tls_conn *t, struct tls_info *info);

#endif
