/*
 * acme_jws.h - the keys and signatures of an ACME client (RFC 8555 6.2):
 * EC P-256 keys, their JWK (RFC 7517) and thumbprint (RFC 7638), JWS
 * (RFC 7515) in the flattened JSON form signed with ES256, and the CSR
 * that finalizes an order.  All with OpenSSL.
 *
 *   acme_key_load     a PEM private key from a file, made (P-256, mode
 *                     0600, written atomically) when missing
 *   acme_jwk          {"crv":"P-256","kty":"EC","x":...,"y":...}, the
 *                     members in RFC 7638's order (so also its input)
 *   acme_thumbprint   base64url(SHA-256(JWK)): the key authorization of a
 *                     challenge is TOKEN "." thumbprint (RFC 8555 8.1)
 *   acme_jws          a signed request body: protected header with alg,
 *                     nonce, url and either the account's kid or its jwk;
 *                     payload NULL is POST-as-GET's empty payload
 *   acme_csr          a DER CSR for the names (subjectAltName DNS:...,
 *                     the first also as CN), base64url, signed by key
 *   acme_alpn_cert    tls-alpn-01's validation certificate (RFC 8737 3):
 *                     self-signed, a new key, subjectAltName the name,
 *                     the critical acmeIdentifier extension holding
 *                     SHA-256(key authorization); key and certificate PEM
 */
#ifndef TERN_ACME_JWS_H
#define TERN_ACME_JWS_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "buf.h"

EVP_PKEY *acme_key_load(const char *path, bool make, struct buf *err);
/* The key as PEM (PKCS#8), for installing a certificate's key. */
bool acme_key_pem(EVP_PKEY *key, struct buf *out);
bool acme_jwk(EVP_PKEY *key, struct buf *out);
bool acme_thumbprint(EVP_PKEY *key, struct buf *out);
bool acme_jws(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
    const char *payload, struct buf *out);
bool acme_csr(EVP_PKEY *key, char *const *names, struct buf *out);
bool acme_alpn_cert(const char *name, const char *keyauth, struct buf *pem);

#endif
