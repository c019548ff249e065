/*
 * fuzz_tlsa_answer.c - libFuzzer harness for lib/dane.c's TLSA answer
 * parser.
 *
 * The input is a DNS message as a (possibly hostile or spoofed) resolver
 * could return it.  Every record kept must be usable by dane_tlsa_usable's
 * rules, with its data inside bounds, and no more than DANE_TLSA_MAX.
 */
#include <stdint.h>
#include <stdlib.h>

#include "dane.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dane_tlsa_set set = {.rr = NULL, .n = 0, .unusable = 0};
	int len = size > 65535 ? 65535 : (int)size;
	enum dns_status st = dane_tlsa_from_answer(data, len, &set);

	if (st != DNS_OK && (set.n || set.rr))
		abort();
	if (set.n > DANE_TLSA_MAX)
		abort();
	for (size_t i = 0; i < set.n; i++) {
		const struct dane_tlsa *r = &set.rr[i];

		if (!dane_tlsa_usable(r->usage, r->selector, r->mtype, r->len))
			abort();
		/* The data was copied: reading all of it must be safe. */
		unsigned sum = 0;

		for (size_t k = 0; k < r->len; k++)
			sum += r->data[k];
		if (sum > 255u * r->len)
			abort();
	}
	dane_tlsa_free(&set);
	return 0;
}
