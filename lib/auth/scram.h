/*
 * auth/scram.h - SCRAM-SHA-256 (RFC 5802, RFC 7677): the messages and the
 * key arithmetic, for the server side in the auth daemon (and a client
 * side in the unit tests).
 *
 * The parsers are pure functions over one decoded message (fuzzed:
 * tests/fuzz/fuzz_scram.c).  What tern supports, and refuses:
 *   - no channel binding: the GS2 flag must be "n" or "y" ("p=" is
 *     refused, and the server offers no -PLUS mechanism);
 *   - the authzid, when given, must equal the user name;
 *   - user names are taken as UTF-8 bytes, "=2C" and "=3D" decoded, with
 *     no SASLprep normalisation (document: use ASCII or NFC names);
 *   - no extensions ("m=" is refused as RFC 5802 5.1 asks).
 *
 * Stored credentials are Dovecot's {SCRAM-SHA-256} text,
 * "iterations,salt,StoredKey,ServerKey" in base64, so a passwd-file made
 * by "doveadm pw -s SCRAM-SHA-256" works as it is.
 */
#ifndef TERN_AUTH_SCRAM_H
#define TERN_AUTH_SCRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define SCRAM_HASH_LEN 32
#define SCRAM_MAX_SALT 64
#define SCRAM_MAX_NAME 256 /* bytes of a decoded user name or authzid */
#define SCRAM_MAX_NONCE 256
#define SCRAM_DEFAULT_ITER 4096
#define SCRAM_MIN_ITER 4096 /* RFC 7677 4: at least 4096 */
#define SCRAM_MAX_ITER 10000000

struct scram_keys {
	unsigned iter;
	unsigned char salt[SCRAM_MAX_SALT];
	size_t salt_len;
	unsigned char stored_key[SCRAM_HASH_LEN];
	unsigned char server_key[SCRAM_HASH_LEN];
};

/* The keys for a password (PBKDF2-HMAC-SHA-256: slow, for a worker). */
void scram_keys_derive(const char *password, const unsigned char *salt, size_t salt_len,
    unsigned iter, struct scram_keys *k);
/* Dovecot's stored form; 0, or -1 when malformed. */
int scram_keys_parse(const char *text, struct scram_keys *k);
void scram_keys_format(const struct scram_keys *k, struct buf *out);

/* client-first-message: gs2-header client-first-message-bare. */
struct scram_client_first {
	char cbind;			  /* 'n' or 'y' */
	char authzid[SCRAM_MAX_NAME + 1]; /* "" when absent */
	char user[SCRAM_MAX_NAME + 1];
	char nonce[SCRAM_MAX_NONCE + 1];
	size_t gs2_len; /* bytes of the gs2 header ("n,,") */
};

/* 0, or -1 with *why. */
int scram_parse_client_first(
    const char *msg, size_t len, struct scram_client_first *out, const char **why);

/* client-final-message: channel binding, nonce, proof. */
struct scram_client_final {
	unsigned char cbind[64]; /* decoded c= */
	size_t cbind_len;
	char nonce[2 * SCRAM_MAX_NONCE + 1];
	unsigned char proof[SCRAM_HASH_LEN];
	size_t without_proof_len; /* bytes before ",p=" */
};

int scram_parse_client_final(
    const char *msg, size_t len, struct scram_client_final *out, const char **why);

/*
 * The server's side of one exchange, after the client-first message:
 * server_first is "r=<client nonce><server nonce>,s=<salt>,i=<iter>".
 */
void scram_server_first(const struct scram_client_first *cf, const char *server_nonce,
    const struct scram_keys *k, struct buf *out);

/*
 * Checks the client-final message against the keys: its nonce, its
 * channel binding (the gs2 header again) and its proof.  On success
 * appends "v=<ServerSignature>" to server_final and returns 0; -1 with
 * *why otherwise.  client_first and server_first are the messages as
 * sent (client_first with its gs2 header).
 */
int scram_server_final(const char *client_first, size_t cf_len, const struct scram_client_first *cf,
    const char *server_first, const char *client_final, size_t cfin_len, const struct scram_keys *k,
    struct buf *server_final, const char **why);

/* The client's proof, for tests and tools: appends the whole
 * client-final-message for this exchange. */
void scram_client_final(const char *password, const char *client_first_bare,
    const char *server_first, const char *gs2_header, struct buf *out);

#endif
