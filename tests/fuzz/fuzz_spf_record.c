/*
 * fuzz_spf_record.c - libFuzzer harness for lib/msgauth's SPF parsers.
 *
 * The first byte picks what the rest is: an SPF record (spf_record_parse:
 * a parsed record's domain-specs must be valid macro-strings, and its
 * redirect/exp indexes must name such terms), a macro-string (validity
 * and expansion must agree; expansion of a valid string never fails), or
 * a DNS answer as the TXT/PTR/MX/A conversion for the evaluator reads it
 * (every string handed back terminated).
 */
#include <arpa/nameser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "msgauth/spf_int.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_record(const char *s, size_t len)
{
	struct spf_record r;
	struct buf err = BUF_INIT;

	if (spf_record_parse(s, len, &r, &err) == 0) {
		for (size_t i = 0; i < r.n; i++)
			if (r.terms[i].spec &&
			    !spf_macro_valid(r.terms[i].spec, strlen(r.terms[i].spec), false))
				abort();
		if (r.redirect >= 0 && r.terms[r.redirect].kind != SPF_T_REDIRECT)
			abort();
		if (r.exp >= 0 && r.terms[r.exp].kind != SPF_T_EXP)
			abort();
		spf_record_free(&r);
	} else if (err.len == 0) {
		abort();
	}
	buf_free(&err);
}

static void fuzz_macro(const char *s, size_t len, bool exp)
{
	struct spf_macro_env env = {.sender = "a-b@c.example",
	    .local = "a-b",
	    .sender_dom = "c.example",
	    .domain = "d.example",
	    .helo = "h.example",
	    .family = AF_INET6,
	    .ip = {0x20, 0x01, 0x0d, 0xb8, [15] = 1},
	    .now = 1};
	struct buf out = BUF_INIT;
	bool valid = spf_macro_valid(s, len, exp);

	if (memchr(s, 0, len) == NULL && spf_macro_expand(s, &env, exp, &out) != valid)
		abort();
	buf_free(&out);
}

static void fuzz_answer(const uint8_t *data, size_t size)
{
	static const int types[] = {ns_t_txt, ns_t_ptr, ns_t_mx, ns_t_a, ns_t_aaaa};
	int len = size > 65535 ? 65535 : (int)size;

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		struct spf_rrset s;
		spf_rrset_from_answer(types[t], DNS_OK, data, len, &s);
		for (size_t i = 0; i < s.nstrs; i++)
			if (strlen(s.strs[i]) > 65535)
				abort();
		spf_rrset_clear(&s);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = xmemdup(data + 1, size - 1);
	switch (data[0] % 4) {
	case 0: fuzz_record(s, size - 1); break;
	case 1: fuzz_macro(s, size - 1, false); break;
	case 2: fuzz_macro(s, size - 1, true); break;
	default: fuzz_answer(data + 1, size - 1); break;
	}
	free(s);
	return 0;
}
