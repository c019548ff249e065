/*
 * https_get.c - a bounded HTTPS GET through libcurl (https_get.h).
 *
 * What is refused and why: any scheme but https (CURLOPT_PROTOCOLS_STR,
 * also for redirects, which are not followed anyway: RFC 8461 section
 * 3.3 forbids following them for MTA-STS); TLS below 1.2; a body over
 * max_size (curl's own limit only applies when the server announces a
 * length, so the write callback counts too); a transfer over timeout_ms.
 */
#include "https_get.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "sock.h"
#include "util.h"

struct https_sink {
	struct buf *body;
	size_t max;
	bool too_big;
};

static size_t https_write(char *data, size_t size, size_t n, void *ctx)
{
	struct https_sink *s = ctx;
	size_t len = size * n;

	if (s->body->len + len > s->max) {
		s->too_big = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	buf_append(s->body, data, len);
	return len;
}

static size_t https_header_line(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *h = ctx;
	size_t len = size * n;

	if (h->len + len > 65536)
		return 0; /* a flood of headers: curl stops */
	buf_append(h, data, len);
	return len;
}

bool https_header(const struct https_get_res *res, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	bool found = false;
	const char *p = res->headers.data, *end = p + res->headers.len;

	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
			const char *v = p + nlen + 1;
			const char *ve = eol;
			size_t vl;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			vl = (size_t)(ve - v) < outlen ? (size_t)(ve - v) : outlen - 1;
			memcpy(out, v, vl);
			out[vl] = 0;
			found = true;
		}
		p = next;
	}
	return found;
}

static void https_global_init(void)
{
	static bool done;

	if (!done)
		curl_global_init(CURL_GLOBAL_DEFAULT);
	done = true;
}

static void https_setup(CURL *c, const struct https_get_req *req, struct curl_slist *resolve,
    struct https_sink *sink, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (req->cafile && *req->cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->cafile);
	if (req->capath && *req->capath)
		curl_easy_setopt(c, CURLOPT_CAPATH, req->capath);
	if (resolve)
		curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_size);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "tern");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, https_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	/* No proxy from the environment: the daemon's requests go direct. */
	curl_easy_setopt(c, CURLOPT_PROXY, "");
}

bool https_get(const struct https_get_req *req, struct https_get_res *res, struct buf *why)
{
	struct https_sink sink = {&res->body, req->max_size, false};
	struct curl_slist *resolve = NULL, *headers = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *ctype = NULL;
	CURLcode rc;
	CURL *c;

	res->status = 0;
	res->content_type[0] = 0;
	res->pki_failed = false;
	https_global_init();
	if ((c = curl_easy_init()) == NULL) {
		buf_printf(why, "cannot start an HTTPS request");
		return false;
	}
	if (req->resolve)
		resolve = curl_slist_append(NULL, req->resolve);
	https_setup(c, req, resolve, &sink, errbuf);
	if (req->post_body) {
		char *ct = xasprintf("Content-Type: %s", req->post_type);

		headers = curl_slist_append(NULL, ct);
		free(ct);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->post_body->data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->post_body->len);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	}
	if (req->want_headers) {
		buf_reset(&res->headers);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, https_header_line);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &res->headers);
	}
	rc = curl_easy_perform(c);
	res->pki_failed = rc == CURLE_PEER_FAILED_VERIFICATION;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
		if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype)
			strlcpy(res->content_type, ctype, sizeof(res->content_type));
	} else if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		buf_printf(why, "%s: more than %zu bytes", req->url, req->max_size);
	} else {
		buf_printf(why, "%s: %s", req->url, *errbuf ? errbuf : curl_easy_strerror(rc));
	}
	curl_easy_cleanup(c);
	curl_slist_free_all(resolve);
	curl_slist_free_all(headers);
	return rc == CURLE_OK;
}

bool https_resolve_entry(const char *host, int port, struct buf *entry, struct buf *why)
{
	struct dns_addr *a = NULL;
	size_t n = 0;
	enum dns_status st = dns_lookup_host(host, port, &a, &n, why);

	if (st != DNS_OK || n == 0) {
		if (why->len == 0)
			buf_puts(why, "no address");
		free(a);
		return false;
	}
	buf_printf(entry, "%s:%d:", host, port);
	for (size_t i = 0; i < n; i++) {
		char text[128];
		const struct sockaddr *sa = (const struct sockaddr *)&a[i].sa;

		sock_ntop(sa, text, sizeof(text), NULL);
		buf_printf(
		    entry, sa->sa_family == AF_INET6 ? "%s[%s]" : "%s%s", i ? "," : "", text);
	}
	free(a);
	return true;
}
