/*
 * fuzz_acme_msg.c - libFuzzer harness for lib/acme_msg.c: the input is
 * read as each answer an ACME server gives (directory, order,
 * authorization, problem document), as a hostile CA could send it.  What
 * a parse accepts must hold its promises: https URLs, base64url tokens,
 * a pending authorization with its challenge.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void https_or_abort(const char *url)
{
	if (url && strncmp(url, "https://", 8) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct acme_directory d = {.new_nonce = NULL};
	struct acme_order o = {.status = NULL};
	struct acme_authz a = {.status = NULL};
	struct buf why = BUF_INIT, prob = BUF_INIT;

	if (acme_directory_parse(text, size, &d, &why)) {
		https_or_abort(d.new_nonce);
		https_or_abort(d.new_account);
		https_or_abort(d.new_order);
	}
	acme_directory_free(&d);
	if (acme_order_parse(text, size, &o, &why)) {
		if (o.status == NULL || o.finalize == NULL || o.authorizations == NULL)
			abort();
		https_or_abort(o.finalize);
		https_or_abort(o.certificate);
		for (size_t i = 0; o.authorizations[i]; i++)
			https_or_abort(o.authorizations[i]);
	}
	acme_order_free(&o);
	if (acme_authz_parse(text, size, size % 2 ? "tls-alpn-01" : "http-01", &a, &why)) {
		if (a.status == NULL || a.domain == NULL || !acme_name_ok(a.domain))
			abort();
		if (strcmp(a.status, "pending") == 0 &&
		    (a.chal_url == NULL || a.chal_token == NULL))
			abort();
		if (a.chal_token && !acme_token_ok(a.chal_token))
			abort();
		https_or_abort(a.chal_url);
	}
	acme_authz_free(&a);
	acme_problem_text(text, size, &prob);
	acme_problem_is(text, size, "badNonce");
	buf_free(&why);
	buf_free(&prob);
	return 0;
}
