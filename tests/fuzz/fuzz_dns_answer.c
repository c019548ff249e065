/*
 * fuzz_dns_answer.c - libFuzzer harness for lib/dns.c's answer handling.
 *
 * The input is a DNS message as a (possibly hostile or spoofed) resolver
 * could return it; it is read as an MX answer, as A and AAAA answers and as
 * a PTR answer (smtpd's client host names), and its CNAME chain is
 * followed from the question's name (DANE's TLSA base domain).
 * Every host name handed back must be a terminated string that fits, and
 * the MX list must come out in preference order.  dns_answer_ttl (what the
 * cache keeps an answer for) walks the same bytes: an MX answer that parses
 * has the TTL it reports.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_mx *mx = NULL;
	struct dns_addr *a = NULL;
	size_t n = 0;
	unsigned ttl = 0;
	int len = size > 65535 ? 65535 : (int)size;

	if (dns_mx_from_answer(data, len, &mx, &n, &ttl) == DNS_OK) {
		if (ttl != dns_answer_ttl(data, len))
			abort();
		for (size_t i = 0; i < n; i++) {
			if (memchr(mx[i].host, 0, sizeof(mx[i].host)) == NULL || mx[i].host[0] == 0)
				abort();
			if (i && mx[i].pref < mx[i - 1].pref)
				abort();
		}
		free(mx);
	}
	if (dns_addrs_from_answer(data, len, AF_INET, 25, &a, &n, &ttl) == DNS_OK) {
		if (n == 0 || a[0].sa.ss_family != AF_INET)
			abort();
		free(a);
	}
	if (dns_addrs_from_answer(data, len, AF_INET6, 25, &a, &n, &ttl) == DNS_OK) {
		if (n == 0 || a[0].sa.ss_family != AF_INET6)
			abort();
		free(a);
	}
	{
		char out[256];

		if (dns_cname_expand(data, len, "mx.example", out, sizeof(out)) &&
		    memchr(out, 0, sizeof(out)) == NULL)
			abort();
	}
	{
		char **names = NULL;

		if (dns_ptr_from_answer(data, len, &names, &n) == DNS_OK) {
			if (n == 0 || names[n] != NULL)
				abort();
			strv_free(names);
		}
	}
	return 0;
}
