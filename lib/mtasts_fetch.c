/*
 * mtasts_fetch.c - the HTTPS GET of an MTA-STS policy (see mtasts_fetch.h).
 *
 * CURLOPT_RESOLVE (through https_get's resolve entry) pins
 * mta-sts.DOMAIN:port to the addresses tern's own resolver found, so the
 * policy host is looked up where every other name is (and a test's
 * loopback name server is used).  A status other than 200 (a redirect
 * included: RFC 8461 3.3 says they MUST NOT be followed) or a media type
 * other than text/plain is a failure.
 */
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "https_get.h"
#include "mtasts.h"
#include "mtasts_fetch.h"
#include "sock.h"
#include "util.h"

/* "text/plain" with or without parameters (RFC 8461 3.2). */
static bool mtasts_text_plain(const char *ctype)
{
	return str_prefix_case(ctype, "text/plain") && strchr("; \t", ctype[10]) != NULL;
}

bool mtasts_fetch(
    const char *domain, const struct mtasts_fetch_opts *opts, struct buf *policy, struct buf *why)
{
	int port = opts->port > 0 ? opts->port : 443;
	char *host = xasprintf("mta-sts.%s", domain);
	char *url = port == 443 ? xasprintf("https://%s/.well-known/mta-sts.txt", host)
				: xasprintf("https://%s:%d/.well-known/mta-sts.txt", host, port);
	struct buf entry = BUF_INIT, rwhy = BUF_INIT;
	struct https_get_res res = {.body = BUF_INIT};
	bool ok = false;

	buf_reset(policy);
	if (!https_resolve_entry(host, port, &entry, &rwhy)) {
		buf_printf(why, "%s: %s", host, buf_cstr(&rwhy));
	} else {
		struct https_get_req req = {
		    .url = url,
		    .resolve = buf_cstr(&entry),
		    .cafile = opts->cafile,
		    .capath = opts->capath,
		    .timeout_ms = opts->timeout_ms,
		    .max_size = MTASTS_POLICY_MAX,
		};

		if (!https_get(&req, &res, why)) {
			if (opts->pki_failed)
				*opts->pki_failed = res.pki_failed;
		} else if (res.status != 200)
			buf_printf(
			    why, "%s: HTTP status %ld (only 200 is a policy)", url, res.status);
		else if (!mtasts_text_plain(res.content_type))
			buf_printf(why, "%s: media type \"%s\", not text/plain", url,
			    res.content_type[0] ? res.content_type : "(none)");
		else
			ok = true;
	}
	if (ok)
		buf_append(policy, res.body.data, res.body.len);
	buf_free(&res.body);
	buf_free(&entry);
	buf_free(&rwhy);
	free(url);
	free(host);
	return ok;
}
