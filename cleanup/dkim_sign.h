/*
 * dkim_sign.h - cleanup's DKIM signing (dkim_sign.c).
 *
 * For one message: begin (NULL: not ours to sign), header with the header
 * section cleanup will write (finds the From: domain and its keys), body
 * with every body byte, result for the DKIM-Signature fields (LF line
 * ends) once the message has ended.
 */
#ifndef TERN_CLEANUP_DKIM_SIGN_H
#define TERN_CLEANUP_DKIM_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "ipc.h"
#include "msgauth/dkim.h"

struct cleanup_signer;

struct cleanup_signer *cleanup_sign_begin(const struct ipc_msg *m, bool local, const char *qid);
void cleanup_sign_header(struct cleanup_signer *cs, const char *hdr, size_t len);
void cleanup_sign_body(struct cleanup_signer *cs, const char *p, size_t len);
/* Appends the signatures (none when the domain has no key) to out. */
void cleanup_sign_result(struct cleanup_signer *cs, const char *hdr, size_t len, struct buf *out);
void cleanup_sign_free(struct cleanup_signer *cs);
/* The RSA key DOMAIN.SELECTOR of the key directory (selector empty or
 * NULL: the domain's first RSA key), or NULL; ARC seals with it. */
const struct dkim_keyfile *cleanup_sign_rsa_key(const char *domain, const char *selector);

#endif
