/*
 * mtasts_fetch.c - the HTTPS GET of an MTA-STS policy (see mtasts_fetch.h).
 *
 * Why each libcurl option:
 * - CURLOPT_RESOLVE pins mta-sts.DOMAIN:443 to the addresses tern's own
 *   resolver found, so the policy host is looked up where every other
 *   name is (and a test's loopback name server is used);
 * - CURLOPT_PROTOCOLS_STR "https": no http://, no other scheme;
 * - no CURLOPT_FOLLOWLOCATION: RFC 8461 3.3 says redirects MUST NOT be
 *   followed, so a 3xx is a failure like any status but 200;
 * - the write callback stops the transfer past MTASTS_POLICY_MAX bytes,
 *   so a hostile server cannot make us hold more;
 * - CURLOPT_NOSIGNAL: the time-out without SIGALRM (we may be threaded
 *   by no one, but c-ares or a caller may use signals).
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "mtasts_fetch.h"
#include "sock.h"
#include "util.h"

struct mtasts_body {
	struct buf *out;
	bool too_big;
};

static size_t mtasts_write(char *p, size_t size, size_t n, void *ctx)
{
	struct mtasts_body *b = ctx;

	if (n != 0 && size > MTASTS_POLICY_MAX / n) {
		b->too_big = true;
		return 0;
	}
	if (b->out->len + size * n > MTASTS_POLICY_MAX) {
		b->too_big = true;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	buf_append(b->out, p, size * n);
	return size * n;
}

/* "mta-sts.D:443:a,[b]" for CURLOPT_RESOLVE; false (why) when no address. */
static bool mtasts_resolve_entry(const char *host, struct buf *entry, struct buf *why)
{
	struct dns_addr *a = NULL;
	size_t n = 0;
	enum dns_status st = dns_lookup_host(host, 443, &a, &n, why);

	if (st != DNS_OK || n == 0) {
		if (why->len == 0)
			buf_puts(why, "no address");
		free(a);
		return false;
	}
	buf_printf(entry, "%s:443:", host);
	for (size_t i = 0; i < n; i++) {
		char text[64];
		const struct sockaddr *sa = (const struct sockaddr *)&a[i].sa;

		sock_ntop(sa, text, sizeof(text), NULL);
		buf_printf(
		    entry, sa->sa_family == AF_INET6 ? "%s[%s]" : "%s%s", i ? "," : "", text);
	}
	free(a);
	return true;
}

static bool mtasts_transfer(CURL *c, const char *host, struct mtasts_body *body, struct buf *why)
{
	char err[CURL_ERROR_SIZE] = "";
	CURLcode rc;
	long status = 0;
	char *type = NULL;

	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		buf_printf(why, "%s: %s", host,
		    body->too_big ? "the policy is larger than 64 KiB"
				  : (err[0] ? err : curl_easy_strerror(rc)));
		return false;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
	if (status != 200) {
		buf_printf(why, "%s: HTTP status %ld (only 200 is a policy)", host, status);
		return false;
	}
	if (type == NULL || strncasecmp(type, "text/plain", 10) != 0 ||
	    (type[10] != 0 && type[10] != ';' && type[10] != ' ')) {
		buf_printf(why, "%s: media type %s, not text/plain", host, type ? type : "(none)");
		return false;
	}
	return true;
}

bool mtasts_fetch(
    const char *domain, const struct mtasts_fetch_opts *opts, struct buf *policy, struct buf *why)
{
	char *host = xasprintf("mta-sts.%s", domain);
	char *url = xasprintf("https://%s/.well-known/mta-sts.txt", host);
	struct buf entry = BUF_INIT, rwhy = BUF_INIT;
	struct curl_slist *resolve = NULL;
	struct mtasts_body body = {.out = policy, .too_big = false};
	CURL *c = NULL;
	bool ok = false;

	buf_reset(policy);
	if (!mtasts_resolve_entry(host, &entry, &rwhy)) {
		buf_printf(why, "%s: %s", host, buf_cstr(&rwhy));
		goto out;
	}
	if ((c = curl_easy_init()) == NULL) {
		buf_puts(why, "libcurl: cannot start a transfer");
		goto out;
	}
	resolve = curl_slist_append(NULL, buf_cstr(&entry));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opts->timeout_ms);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (opts->cafile && *opts->cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, opts->cafile);
	if (opts->capath && *opts->capath)
		curl_easy_setopt(c, CURLOPT_CAPATH, opts->capath);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tern (MTA-STS)");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, mtasts_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	ok = mtasts_transfer(c, host, &body, why);
out:
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(resolve);
	buf_free(&entry);
	buf_free(&rwhy);
	free(url);
	free(host);
	return ok;
}
