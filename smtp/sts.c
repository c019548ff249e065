/*
 * sts.c - the smtp client's MTA-STS (RFC 8461): which policy holds for a
 * next-hop domain, and what it asks of each MX host.
 *
 * Finding the policy (section 5):
 *   1. the cached policy, if it has not outlived its max_age;
 *   2. the TXT record _mta-sts.DOMAIN: exactly one "v=STSv1" record
 *      with an id, else no live policy;
 *   3. a live id that differs from the cached one (or no cached policy)
 *      fetches https://mta-sts.DOMAIN/.well-known/mta-sts.txt
 *      (lib/mtasts_fetch: system CAs, no redirects, smtp_mta_sts_timeout,
 *      64 KB), which must answer 200 with text/plain and a policy that
 *      parses; it is cached with the id and the time;
 *   4. when there is no live policy, or the fetch fails, a valid cached
 *      policy still holds; without one the domain has no policy.
 * The policy host's addresses come from tern's resolver (dns_servers),
 * handed to curl.
 *
 * Where it runs: in the smtp process, blocking like its DNS look-ups and
 * bounded by smtp_mta_sts_timeout.  The smtp agent serves one qmgr
 * request (one next hop) at a time and master runs smtp_process_limit of
 * them (smtp.h): a fetch holds up only the recipients that need its
 * answer, never deliveries to other destinations, which other smtp
 * processes carry on with.  The LMDB cache is shared by those processes.
 *
 * What the policy asks (section 4): mode enforce: only MX hosts matching
 * its mx patterns, with a certificate verified for the MX name (level
 * verify at least); testing: the same checks, logged, not enforced; none:
 * nothing.  The caller skips MTA-STS where DANE applies (section 2).  A
 * session kept in the connection cache (at most a few seconds) carries
 * the next message to its domain without a new look-up.
 */
#include <arpa/nameser.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "dns.h"
#include "log.h"
#include "mtasts_cache.h"
#include "mtasts_fetch.h"
#include "smtp.h"
#include "util.h"

static const char *const sts_mode_names[] = {"none", "testing", "enforce"};

const char *smtp_sts_mode_name(enum mtasts_mode m)
{
	return sts_mode_names[m];
}

/* The id of the domain's one STSv1 TXT record; false when there is no
 * such record, or more than one (section 3.1). */
static bool sts_txt_id(const char *domain, char *id)
{
	char name[300], **txt = NULL;
	unsigned char *ans = NULL;
	int len = 0;
	size_t n = 0, found = 0;
	struct buf why = BUF_INIT;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	if (dns_query(name, ns_t_txt, &ans, &len, &why) == DNS_OK &&
	    dns_txt_from_answer(ans, len, &txt, &n) == DNS_OK) {
		for (size_t i = 0; i < n; i++) {
			if (strncmp(txt[i], "v=STSv1", 7) != 0)
				continue;
			if (found++ == 0 && !mtasts_txt_parse(txt[i], id))
				found = 2; /* an invalid record: no policy */
		}
		strv_free(txt);
	}
	free(ans);
	buf_free(&why);
	return found == 1;
}

/* Fetches, checks and caches the policy; NULL, or the TLS-RPT result
 * type of the failure with why filled. */
static const char *sts_fetch(
    const char *domain, const char *id, long long now, struct mtasts_policy *p, struct buf *why)
{
	bool pki_failed = false;
	struct mtasts_fetch_opts opts = {
	    .cafile = config_str("smtp_mta_sts_CAfile"),
	    .timeout_ms = config_time("smtp_mta_sts_timeout") * 1000L,
	    .port = (int)config_int("smtp_mta_sts_https_port"),
	    .pki_failed = &pki_failed,
	};
	struct buf text = BUF_INIT;
	const char *fail = NULL;

	if (!mtasts_fetch(domain, &opts, &text, why))
		fail = pki_failed ? "sts-webpki-invalid" : "sts-policy-fetch-error";
	else if (!mtasts_policy_parse(text.data, text.len, p, why))
		fail = "sts-policy-invalid";
	if (fail == NULL)
		mtasts_cache_put(config_str("smtp_mta_sts_cache_database"), domain, id, now,
		    text.data, text.len);
	buf_free(&text);
	return fail;
}

void smtp_sts_find(const char *domain, struct smtp_sts *sts)
{
	char id[MTASTS_ID_MAX + 1];
	struct mtasts_cached c;
	long long now = (long long)time(NULL);
	bool cached;

	memset(sts, 0, sizeof(*sts));
	strlcpy(sts->domain, domain, sizeof(sts->domain));
	str_lower(sts->domain);
	if (sts->domain[0] && sts->domain[strlen(sts->domain) - 1] == '.')
		sts->domain[strlen(sts->domain) - 1] = 0;
	cached = mtasts_cache_get(config_str("smtp_mta_sts_cache_database"), sts->domain, &c);
	if (cached && !mtasts_cached_valid(&c, now)) {
		mtasts_policy_free(&c.policy);
		cached = false;
	}
	if (sts_txt_id(sts->domain, id) && !(cached && strcmp(c.id, id) == 0)) {
		struct buf why = BUF_INIT;

		const char *fail = sts_fetch(sts->domain, id, now, &sts->policy, &why);
		bool fetched = fail == NULL;

		if (fetched) {
			log_info("MTA-STS policy of %s fetched: id %s, mode %s, max_age %ld",
			    sts->domain, id, smtp_sts_mode_name(sts->policy.mode),
			    sts->policy.max_age);
			if (cached)
				mtasts_policy_free(&c.policy);
			sts->on = sts->policy.mode != MTASTS_NONE;
		} else {
			log_warn("MTA-STS policy of %s not fetched: %s%s", sts->domain,
			    buf_cstr(&why), cached ? " (the cached policy holds)" : "");
			if (!cached) {
				sts->fail = fail;
				strlcpy(sts->fail_reason, buf_cstr(&why), sizeof(sts->fail_reason));
			}
		}
		buf_free(&why);
		if (fetched)
			return;
	}
	if (cached) {
		sts->policy = c.policy;
		sts->on = sts->policy.mode != MTASTS_NONE;
	}
}

void smtp_sts_free(struct smtp_sts *sts)
{
	mtasts_policy_free(&sts->policy);
	sts->on = false;
}

int smtp_sts_host(
    const struct smtp_sts *sts, const char *host, enum tls_level *lvl, struct smtp_fail *f)
{
	if (!sts->on)
		return 0;
	if (!mtasts_mx_match(&sts->policy, host)) {
		if (sts->policy.mode == MTASTS_TESTING) {
			log_info("MTA-STS policy of %s (testing): MX host %s is not listed in the "
				 "policy; delivering anyway",
			    sts->domain, host);
			return 0;
		}
		f->permanent = false;
		strlcpy(f->dsn, "4.7.5", sizeof(f->dsn));
		snprintf(f->reason, sizeof(f->reason),
		    "MTA-STS policy of %s (enforce): MX host %s is not listed in the policy",
		    sts->domain, host);
		f->tlsrpt = "validation-failure";
		return -1;
	}
	if (sts->policy.mode == MTASTS_ENFORCE && *lvl < TLS_LEVEL_VERIFY)
		*lvl = TLS_LEVEL_VERIFY;
	return 0;
}
