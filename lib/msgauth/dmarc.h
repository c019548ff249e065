/*
 * dmarc.h - DMARC (RFC 7489, with DMARCbis's np=): the policy record
 * parser, the organisational domain, identifier alignment and the
 * verdict.
 *
 * dmarc_record_parse is a pure function over a TXT record (fuzzed:
 * tests/fuzz/fuzz_dmarc.c).  The organisational domain comes from the
 * Public Suffix List (Debian's publicsuffix package,
 * /usr/share/publicsuffix/public_suffix_list.dat, read once per process):
 * the public suffix of a name and one more label.  Without the list every
 * name is its own organisational domain (strict, never wrong in the
 * sender's favour).
 *
 * Not here: the DNS look-ups (cleanup asks for _dmarc.FROM, then
 * _dmarc.ORG, and for np= whether FROM exists), aggregate reports.
 */
#ifndef TERN_MSGAUTH_DMARC_H
#define TERN_MSGAUTH_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum dmarc_policy { DMARC_P_UNSET, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };

struct dmarc_record {
	enum dmarc_policy p, sp, np; /* sp, np: DMARC_P_UNSET when absent */
	bool adkim_strict, aspf_strict;
	int pct;      /* 0..100 */
	bool testing; /* DMARCbis t=y */
};

/* A TXT record: 0, -1 (not a DMARC record or a broken one; err says). */
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *out, struct buf *err);
const char *dmarc_policy_name(enum dmarc_policy p);

/* The organisational domain of name (lower case; free it). */
char *dmarc_org_domain(const char *name);
/* Loads the list from path (tests; NULL: the default path). */
void dmarc_psl_load(const char *path);

/* Do a and b align (relaxed: same organisational domain)? */
bool dmarc_aligned(const char *a, const char *b, bool strict);

enum dmarc_result { DMARC_NONE, DMARC_PASS, DMARC_FAIL, DMARC_TEMPERROR, DMARC_PERMERROR };
const char *dmarc_result_name(enum dmarc_result r);

#endif
