/*
 * tlsrpt.c - TLS-RPT (RFC 8460) in the smtp client: with
 * smtp_tls_reports = yes, the outcome of each TLS session with a
 * domain's MX host under the policy that applied (MTA-STS, DANE TLSA, or
 * none found) becomes one line of smtp_tls_report_log
 * (lib/tlsrpt_report.h), for `tern tlsrpt report` to send.
 *
 * What is recorded (route.c decides when):
 *   success                 a TLS session was established as the policy
 *                           asked (also an opportunistic one)
 *   starttls-not-supported  STARTTLS not offered, or refused
 *   certificate-*, validation-failure, tlsa-invalid
 *                           the handshake failed (smtp_tlsrpt_handshake
 *                           reads OpenSSL's verification result)
 *   dane-required, dnssec-invalid
 *                           dane-only without validated TLSA records, or
 *                           a failed TLSA look-up (dane.c)
 *   validation-failure      an MX host an enforced MTA-STS policy does
 *                           not list
 *   sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid
 *                           the policy could not be had (sts.c)
 * A session taken from the connection cache is not a new one and is not
 * counted again.  Each line is one write() of an O_APPEND file
 * (report_log_append): the lines of concurrent smtp processes do not mix.
 */
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "report_mail.h"
#include "smtp.h"
#include "sock.h"
#include "tlsrpt_report.h"
#include "util.h"

void smtp_tlsrpt_none(struct smtp_tlsrpt *t, const char *domain)
{
	t->type = "no-policy-found";
	strlcpy(t->domain, domain, sizeof(t->domain));
	str_lower(t->domain);
	buf_reset(&t->policy);
	buf_reset(&t->mx);
}

void smtp_tlsrpt_sts(struct smtp_tlsrpt *t, const struct smtp_sts *sts)
{
	smtp_tlsrpt_none(t, sts->domain);
	t->type = "sts";
	buf_printf(&t->policy, "version: STSv1\nmode: %s\n", smtp_sts_mode_name(sts->policy.mode));
	for (size_t i = 0; i < sts->policy.nmx; i++) {
		buf_printf(&t->policy, "mx: %s\n", sts->policy.mx[i]);
		buf_printf(&t->mx, "%s%s", i ? "\n" : "", sts->policy.mx[i]);
	}
	buf_printf(&t->policy, "max_age: %ld", sts->policy.max_age);
}

void smtp_tlsrpt_tlsa(struct smtp_tlsrpt *t, const char *host, const struct dane_tlsa_set *set)
{
	smtp_tlsrpt_none(t, set && set->base[0] ? set->base : host);
	t->type = "tlsa";
	for (size_t i = 0; set && i < set->n; i++) {
		const struct dane_tlsa *r = &set->rr[i];

		buf_printf(
		    &t->policy, "%s%u %u %u ", i ? "\n" : "", r->usage, r->selector, r->mtype);
		buf_put_hex(&t->policy, r->data, r->len);
	}
}

void smtp_tlsrpt_free(struct smtp_tlsrpt *t)
{
	buf_free(&t->policy);
	buf_free(&t->mx);
}

const char *smtp_tlsrpt_handshake(SSL *ssl, const char **reason)
{
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	*reason = v == X509_V_OK ? "handshake failed" : X509_verify_cert_error_string(v);
	switch (v) {
	case X509_V_OK: return "validation-failure";
	case X509_V_ERR_HOSTNAME_MISMATCH: return "certificate-host-mismatch";
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID: return "certificate-expired";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED: return "certificate-not-trusted";
	case X509_V_ERR_DANE_NO_MATCH: return "tlsa-invalid";
	default: return "validation-failure";
	}
}

void smtp_tlsrpt_log(struct smtp_tlsrpt *t, const char *result, int fd, const char *mx,
    const char *addr, const char *reason)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char local[128] = "";
	int port;
	struct tlsrpt_row r = {
	    .time = (long long)time(NULL),
	    .policy_domain = t->domain,
	    .policy_type = t->type,
	    .policy_string = buf_cstr(&t->policy),
	    .mx_host = buf_cstr(&t->mx),
	    .result = result,
	    .sending_ip = local,
	    .mx_hostname = mx ? mx : "",
	    .receiving_ip = addr ? addr : "",
	    .reason = reason ? reason : "",
	};
	struct buf line = BUF_INIT;
	const char *path = config_str("smtp_tls_report_log");

	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		sock_ntop((const struct sockaddr *)&ss, local, sizeof(local), &port);
	tlsrpt_report_line(&r, &line);
	if (!report_log_append(path, &line))
		log_warn("TLS-RPT: %s: %m", path);
	buf_free(&line);
}
