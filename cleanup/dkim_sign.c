/*
 * dkim_sign.c - cleanup's DKIM signing of outgoing mail (RFC 6376, 8463).
 *
 * Which messages: local submissions and mail from clients smtpd trusts
 * (mynetworks, authenticated: trusted=yes), when dkim_signing = yes, whose
 * From: domain (the one DMARC aligns with) has keys.  The keys are the
 * files DOMAIN.SELECTOR.key (PEM, RSA or Ed25519, as `tern dkim keygen`
 * writes them) in dkim_key_directory (default: the configuration
 * directory's dkim/); dkim_signing_domains, when set, limits the domains.
 * Every key of the domain signs: a domain with an Ed25519 and an RSA key
 * is dual-signed (RFC 8463 3: verifiers that do not know Ed25519 still
 * find the RSA signature).  The directory is read once per process (at
 * the first message to sign): new keys take effect after `tern reload`.
 * ARC sealing (msgauth.c) takes its key from the same keys.
 *
 * How: relaxed/relaxed; the body hash is computed while the body streams
 * to the queue file; the header fields (those cleanup writes, with the
 * Date: and Message-ID: it added) are signed when the message has ended,
 * with lib/msgauth's list of header names, From/To/Subject/Date
 * over-signed.  The signatures go on top of the header.
 */
#include "dkim_sign.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "header.h"
#include "log.h"
#include "mime/address.h"
#include "msgauth/dkim.h"
#include "proto.h"
#include "util.h"

static struct dkim_keyfile *cs_keys;
static size_t cs_nkeys;
static bool cs_loaded;

struct cleanup_signer {
	char *domain;
	struct dkim_body body;
	bool active; /* body being hashed */
	char *qid;
};

/* Reads the key directory once (dkim_keydir.c). */
static void cs_load(void)
{
	char *dir = dkim_key_dir();

	cs_loaded = true;
	cs_nkeys = dkim_keyfiles_load(dir, &cs_keys);
	free(dir);
}

static bool cs_domain_allowed(const char *domain)
{
	char **list = config_list("dkim_signing_domains");
	bool ok = list[0] == NULL;

	for (size_t i = 0; list[i] && !ok; i++)
		ok = strcasecmp(list[i], domain) == 0;
	strv_free(list);
	return ok;
}

static bool cs_has_key(const char *domain)
{
	for (size_t i = 0; i < cs_nkeys; i++)
		if (strcasecmp(cs_keys[i].domain, domain) == 0)
			return true;
	return false;
}

const struct dkim_keyfile *cleanup_sign_rsa_key(const char *domain, const char *selector)
{
	if (!cs_loaded)
		cs_load();
	return dkim_keyfile_rsa(cs_keys, cs_nkeys, domain, selector);
}

struct cleanup_signer *cleanup_sign_begin(const struct ipc_msg *m, bool local, const char *qid)
{
	const char *trusted = ipc_get_str(m, A_TRUSTED);
	struct cleanup_signer *cs;

	if (!config_bool("dkim_signing") || !(local || (trusted && strcmp(trusted, "yes") == 0)))
		return NULL;
	cs = xcalloc(1, sizeof(*cs));
	cs->qid = xstrdup(qid);
	return cs;
}

/* The domain of the (first) From: address, or NULL. */
static char *cs_from_domain(const char *hdr, size_t len)
{
	struct buf v = BUF_INIT;
	struct mime_addr *a;
	char *d = NULL;

	if (hdr_value(hdr, len, "From", &v) &&
	    (a = mime_addr_parse(buf_cstr(&v), v.len, 0, 4)) != NULL) {
		if (a->host && *a->host)
			d = xstrdup(a->host);
		mime_addr_free(a);
	}
	buf_free(&v);
	return d;
}

void cleanup_sign_header(struct cleanup_signer *cs, const char *hdr, size_t len)
{
	if (!cs_loaded)
		cs_load();
	cs->domain = cs_from_domain(hdr, len);
	if (cs->domain == NULL || !cs_domain_allowed(cs->domain) || !cs_has_key(cs->domain))
		return;
	cs->active = true;
	dkim_body_init(&cs->body, DKIM_RELAXED, -1);
}

void cleanup_sign_body(struct cleanup_signer *cs, const char *p, size_t len)
{
	if (cs->active)
		dkim_body_update(&cs->body, p, len);
}

void cleanup_sign_result(struct cleanup_signer *cs, const char *hdr, size_t len, struct buf *out)
{
	unsigned char bh[32];
	long long now = (long long)time(NULL);

	if (!cs->active)
		return;
	dkim_body_final(&cs->body, bh);
	for (size_t i = 0; i < cs_nkeys; i++) {
		struct buf sig = BUF_INIT, err = BUF_INIT;
		const struct dkim_keyfile *k = &cs_keys[i];

		if (strcasecmp(k->domain, cs->domain) != 0)
			continue;
		if (dkim_sign_header(
			hdr, len, bh, k->domain, k->selector, k->pkey, now, &sig, &err) < 0) {
			log_qid_warn(cs->qid, "dkim: cannot sign for %s with %s: %s", k->domain,
			    k->selector, buf_cstr(&err));
		} else {
			/* The queue file has LF line ends. */
			for (size_t j = 0; j < sig.len; j++)
				if (!(sig.data[j] == '\r' && j + 1 < sig.len &&
					sig.data[j + 1] == '\n'))
					buf_putc(out, sig.data[j]);
			log_qid(cs->qid, "dkim: signed d=%s s=%s", k->domain, k->selector);
		}
		buf_free(&sig);
		buf_free(&err);
	}
}

void cleanup_sign_free(struct cleanup_signer *cs)
{
	if (cs == NULL)
		return;
	if (cs->active)
		dkim_body_free(&cs->body);
	free(cs->domain);
	free(cs->qid);
	free(cs);
}
