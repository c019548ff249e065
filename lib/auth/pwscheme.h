/*
 * auth/pwscheme.h - stored passwords: "{SCHEME}data" as Dovecot writes
 * them, checked and made.
 *
 * Checking (pw_verify), by scheme:
 *   CRYPT, BLF-CRYPT, SHA512-CRYPT, SHA256-CRYPT, MD5-CRYPT, DES-CRYPT, MD5
 *       crypt(3) from libxcrypt, whatever the hash's own prefix says:
 *       yescrypt "$y$", bcrypt "$2y$"/"$2b$"/"$2a$", "$6$", "$5$", "$1$",
 *       DES.  A hash without "{SCHEME}" is CRYPT (Dovecot's default).
 *   SCRAM-SHA-256          Dovecot's "iter,salt,StoredKey,ServerKey"
 *   PLAIN, CLEARTEXT, CLEAR   the password itself
 *   SHA, SHA1, SHA256, SHA512, SSHA, SSHA256, SSHA512
 *       base64 of the digest (the S forms: digest of password + salt,
 *       then the salt), as Dovecot's own
 * Anything else is "unusable": the password never matches and the daemon
 * says why in the log.
 *
 * Which SASL mechanisms a stored password allows: PLAIN and LOGIN (and a
 * form login) work with every scheme; SCRAM-SHA-256 only with
 * SCRAM-SHA-256 and the cleartext schemes (pw_scram_capable).
 *
 * Making (pw_hash): CRYPT (tern: yescrypt, "{CRYPT}$y$..."), BLF-CRYPT,
 * SHA512-CRYPT, SHA256-CRYPT, SCRAM-SHA-256 (4096 iterations), SSHA256,
 * SSHA512.  SSHA256 is for app passwords only: they are long random
 * strings, so a fast salted hash is safe for them and keeps a login with
 * several app passwords cheap.
 */
#ifndef TERN_AUTH_PWSCHEME_H
#define TERN_AUTH_PWSCHEME_H

#include <stdbool.h>

#include "auth/scram.h"
#include "buf.h"

/* 1 the password matches, 0 it does not, -1 the stored value is unusable
 * (unknown scheme, malformed hash): a mismatch the operator must hear of. */
int pw_verify(const char *stored, const char *password);

/* Whether SCRAM-SHA-256 can work with this stored password. */
bool pw_scram_capable(const char *stored);
/*
 * The SCRAM keys of a stored password: parsed for {SCRAM-SHA-256} (fast),
 * or derived from a cleartext one with salt (slow: PBKDF2; with no salt,
 * -1, so a caller on an event loop can try the fast case first).  0, or -1.
 */
int pw_scram_keys(
    const char *stored, const unsigned char *salt, size_t salt_len, struct scram_keys *k);

/* The scheme name of a stored password ("CRYPT" when none is given);
 * copied into out (at most size bytes with the NUL). */
void pw_scheme_name(const char *stored, char *out, size_t size);

/* Whether pw_hash can make this scheme (case-insensitive). */
bool pw_hash_scheme_ok(const char *scheme);
/* "{SCHEME}hash" (allocated), or NULL with err filled. */
char *pw_hash(const char *scheme, const char *password, struct buf *err);

#endif
