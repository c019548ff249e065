/*
 * dane.c - the smtp client's DANE decisions (RFC 7672), one MX host at a
 * time: which TLS the policy levels "dane" and "dane-only" come to.
 *
 * The chain of trust is followed as RFC 7672 section 2.2 asks: the MX
 * answer (or, for "[host]", the configuration), the host's address
 * records and its TLSA records (_port._tcp.host) must all be
 * DNSSEC-validated, which tern learns from the AD bit of a validating
 * resolver and believes only with smtp_dns_support_level = dnssec.  Then:
 *   usable TLSA records    verify against them (tls_client.c), a
 *                          mismatch fails the handshake: defer
 *   only unusable records  encrypt (section 3.1.3: TLS, not authenticated)
 *   a failed look-up       defer this host (the answer may be bogus)
 *   anything insecure or   dane: may (opportunistic); dane-only: defer
 *   no records
 * CNAMEs (section 2.2.3): when the host's validated address answer went
 * through CNAMEs, the TLSA records are looked up at the fully expanded
 * name first and, only when that name securely has none, at the host
 * name itself; the name they are found at (the TLSA base domain) is also
 * accepted in the certificate for DANE-TA.  Answers come from the DNS
 * layer's cache while their TTL lasts (dns_query_dnssec).
 */
#include <arpa/nameser.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "dane.h"
#include "dns.h"
#include "log.h"
#include "smtp.h"
#include "util.h"

bool smtp_dane_enabled(void)
{
	static bool warned;

	if (str_case_eq(config_str("smtp_dns_support_level"), "dnssec"))
		return true;
	if (!warned)
		log_warn("DANE TLS security level requires smtp_dns_support_level = dnssec: "
			 "DNSSEC answers are not trusted");
	warned = true;
	return false;
}

/* Whether name/type was answered (or denied) with the AD bit; expanded
 * (when not NULL) gets the CNAME-expanded name of an answer that went
 * through CNAMEs, else "". */
static bool smtp_dane_secure(const char *name, int type, char *expanded, size_t size)
{
	unsigned char *ans = NULL;
	int len = 0;
	bool secure = false;
	struct buf why = BUF_INIT;

	if (dns_query_dnssec(name, type, &ans, &len, &secure, &why) == DNS_OK && expanded &&
	    !dns_cname_expand(ans, len, name, expanded, size))
		expanded[0] = 0;
	free(ans);
	buf_free(&why);
	return secure;
}

/* RFC 7672 2.2.3: the expanded name's TLSA records, else (securely none
 * there) the host's own. */
static enum dns_status smtp_dane_tlsa(const char *host, const char *expanded, int port,
    struct dane_tlsa_set *set, bool *secure, struct buf *why)
{
	enum dns_status st;

	if (*expanded == 0)
		return dane_tlsa_lookup(host, port, set, secure, why);
	st = dane_tlsa_lookup(expanded, port, set, secure, why);
	if (*secure && (st == DNS_NODATA || st == DNS_NOTFOUND))
		st = dane_tlsa_lookup(host, port, set, secure, why);
	return st;
}

bool smtp_dane_mx_secure(const char *domain)
{
	return smtp_dane_secure(domain, ns_t_mx, NULL, 0);
}

/* No usable DANE for this host: may for dane, a deferral for dane-only. */
static int smtp_dane_none(
    enum tls_level lvl, struct smtp_dane *d, struct smtp_fail *f, const char *fmt, const char *host)
{
	if (lvl == TLS_LEVEL_DANE) {
		d->level = TLS_LEVEL_MAY;
		return 0;
	}
	f->permanent = false;
	strlcpy(f->dsn, "4.7.5", sizeof(f->dsn));
	snprintf(f->reason, sizeof(f->reason), fmt, host);
	f->tlsrpt = "dane-required";
	return -1;
}

int smtp_dane_host(const char *host, int port, bool name_secure, enum tls_level lvl,
    struct smtp_dane *d, struct smtp_fail *f)
{
	struct buf why = BUF_INIT;
	bool secure = false;
	char expanded[256] = "";
	enum dns_status st;

	memset(d, 0, sizeof(*d));
	if (!smtp_dane_enabled())
		return smtp_dane_none(
		    lvl, d, f, "DANE for %s needs smtp_dns_support_level = dnssec", host);
	if (!name_secure)
		return smtp_dane_none(
		    lvl, d, f, "no DNSSEC-validated MX records for the host %s (dane-only)", host);
	if (!smtp_dane_secure(host, ns_t_a, expanded, sizeof(expanded)) &&
	    !smtp_dane_secure(host, ns_t_aaaa, expanded, sizeof(expanded)))
		return smtp_dane_none(
		    lvl, d, f, "no DNSSEC-validated address records for %s (dane-only)", host);
	st = smtp_dane_tlsa(host, expanded, port, &d->tlsa, &secure, &why);
	if (st == DNS_RETRY || st == DNS_FAIL) {
		f->permanent = false;
		strlcpy(f->dsn, "4.7.5", sizeof(f->dsn));
		snprintf(f->reason, sizeof(f->reason), "TLSA lookup error for %s:%d: %s", host,
		    port, buf_cstr(&why));
		f->tlsrpt = "dnssec-invalid";
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	if (!secure || st != DNS_OK) {
		dane_tlsa_free(&d->tlsa);
		return smtp_dane_none(
		    lvl, d, f, "no DNSSEC-validated TLSA records for %s (dane-only)", host);
	}
	d->level = d->tlsa.n ? TLS_LEVEL_VERIFY : TLS_LEVEL_ENCRYPT;
	return 0;
}
