/*
 * tls.h - smtpd's side of TLS: STARTTLS (RFC 3207) and implicit TLS.
 *
 * tls_server_init() builds the one SSL_CTX of the process from main.cf and
 * must run while still root: the key file is readable by root only, and
 * it stays in memory after privileges are dropped.  Each session then gets
 * its own SSL object; every TLS call is non-blocking, and a call that
 * cannot progress says which event (EV_READ or EV_WRITE) it waits for, so
 * a slow or stalled handshake never holds up the event loop.
 *
 * Not here: when to start TLS, what to discard, what EHLO offers
 * (session.c and commands.c), nor certificate verification of clients
 * (a client certificate is only asked for, to log its fingerprint).
 */
#ifndef TERN_SMTPD_TLS_H
#define TERN_SMTPD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

enum tls_level {
	TLS_LEVEL_NONE,
	TLS_LEVEL_MAY,
	TLS_LEVEL_ENCRYPT,
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
 * Reads smtpd_tls_* and loads certificate and key.  A configuration error
 * is fatal when TLS is required (encrypt, wrappermode); with "may" it is
 * logged and STARTTLS is simply not offered.
 */
void tls_server_init(void);
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
