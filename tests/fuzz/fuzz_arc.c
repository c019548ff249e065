/*
 * fuzz_arc.c - libFuzzer harness for lib/msgauth's ARC parsers.
 *
 * The first byte picks what the rest is: one ARC header field for
 * arc_field_instance (an instance is 1..50, or 0 for a field of another
 * name, or -1 with a reason), or a whole message for arc_verify with a
 * fixed RSA key record (any outcome, but none only without ARC fields, an
 * instance of at most 50 and 0 for none, a pass without a problem and
 * with the newest seal's domain, oldest-pass never above the instance).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msgauth/arc.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum dns_status fuzz_lookup(void *ctx, const char *name, char ***txt, size_t *n)
{
	(void)ctx;
	(void)name;
	*txt = xcalloc(2, sizeof(char *));
	(*txt)[0] = xstrdup("v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAL4Dfyz1lm4EiXGz6"
			    "gRnBSL3z1JC6rq7rB5PSm6Ufu4+NfV5IyRJ14EmRLSp2cGRhbGG6Rh4q6Fi1HjxEbMfQQ"
			    "kCAwEAAQ==");
	*n = 1;
	return DNS_OK;
}

static void fuzz_field(const char *s, size_t len)
{
	struct buf why = BUF_INIT;
	int n = arc_field_instance(s, len, &why);

	if (n > ARC_MAX_INSTANCE || n < -1 || (n == -1 && why.len == 0))
		abort();
	buf_free(&why);
}

static void fuzz_verify(const char *s, size_t len)
{
	struct arc_outcome o;

	arc_verify(s, len, 1765000000, fuzz_lookup, NULL, &o);
	if (o.instance < 0 || o.instance > ARC_MAX_INSTANCE || o.oldest_pass > o.instance)
		abort();
	if (o.result == ARC_PASS && (o.problem != NULL || o.seal_domain == NULL))
		abort();
	if (o.result == ARC_NONE && o.instance != 0)
		abort();
	arc_outcome_free(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 65536)
		return 0;
	s = xstrndup((const char *)data + 1, size - 1);
	if (data[0] & 1)
		fuzz_verify(s, strlen(s));
	else
		fuzz_field(s, strlen(s));
	free(s);
	return 0;
}
