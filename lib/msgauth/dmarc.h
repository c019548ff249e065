/*
 * dmarc.h - DMARC (RFC 7489, with DMARCbis's np=): the policy record
 * parser, the organisational domain, identifier alignment and the
 * verdict.
 *
 * dmarc_record_parse is a pure function over a TXT record (fuzzed:
 * tests/fuzz/fuzz_dmarc.c).  The organisational domain comes from RFC
 * 9989's DNS tree walk (dmarc_walk below, lib/msgauth/dmarc_walk.c), or,
 * with dmarc_organizational_domain = public_suffix_list, from the Public
 * Suffix List (Debian's publicsuffix package,
 * /usr/share/publicsuffix/public_suffix_list.dat, read once per process):
 * the public suffix of a name and one more label.  Without the list every
 * name is its own organisational domain (strict, never wrong in the
 * sender's favour).
 *
 * Not here: the DNS look-ups (cleanup runs the walk and asks, for np=,
 * whether FROM exists), aggregate reports (dmarc_report.h).
 */
#ifndef TERN_MSGAUTH_DMARC_H
#define TERN_MSGAUTH_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define DMARC_RUA_MAX 512

enum dmarc_policy { DMARC_P_UNSET, DMARC_P_NONE, DMARC_P_QUARANTINE, DMARC_P_REJECT };

struct dmarc_record {
	enum dmarc_policy p, sp, np; /* sp, np: DMARC_P_UNSET when absent */
	bool adkim_strict, aspf_strict;
	int pct;					    /* 0..100 */
	bool testing;					    /* DMARCbis t=y */
	enum { DMARC_PSD_U, DMARC_PSD_Y, DMARC_PSD_N } psd; /* RFC 9989 psd= */
	char rua[DMARC_RUA_MAX]; /* rua= as written (trimmed), "" when absent or too long */
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

/*
 * The DNS tree walk of RFC 9989 4.10: from a name towards the root,
 * asking for _dmarc.NAME at each step (at most 8 names: a name of 8 or
 * more labels jumps to its last 7), stopping at a record with psd=n, at
 * one with psd=y (not at the first name), or past the last label.  It
 * gives both answers DMARC needs:
 * - the policy: the first valid record found (the name's own, else the
 *   nearest ancestor's; policy_at says where);
 * - the organisational domain: the name of a psd=n record; the name one
 *   label below a psd=y record; else the record found with the fewest
 *   labels; the name itself when there is none.
 * With psl set, the walk is RFC 7489's instead: the name, then its
 * organisational domain from the Public Suffix List (dmarc_org_domain).
 * Pure: the caller asks the DNS (blocking or not) for dmarc_walk_next's
 * name and hands the answer to dmarc_walk_answer until next is NULL.
 */
#define DMARC_WALK_MAX 8

struct dmarc_walk {
	char *name;		    /* the walk's start, lower case */
	char *next;		    /* the name to ask _dmarc.NEXT for; NULL: done */
	int asked;		    /* names asked so far */
	bool psl;		    /* RFC 7489's two steps */
	bool temperror;		    /* a look-up failed: the walk stopped there */
	bool have_policy;	    /* policy holds the first record found */
	struct dmarc_record policy; /* ... found at policy_at */
	char *policy_at;	    /* NULL when none */
	char *org;		    /* the organisational domain so far */
};

void dmarc_walk_init(struct dmarc_walk *w, const char *name, bool psl);
/* next's TXT answer: st as dns.h's, txt[0..n) the records on DNS_OK. */
void dmarc_walk_answer(struct dmarc_walk *w, int st, char *const *txt, size_t n);
void dmarc_walk_free(struct dmarc_walk *w);

/* Relaxed or strict alignment of an authenticated domain id with the
 * From: domain from, whose organisational domain is org (RFC 9989 4.4:
 * relaxed is the same organisational domain; an id at or under org is
 * taken to have it, without a walk of its own). */
bool dmarc_aligned_org(const char *id, const char *from, const char *org, bool strict);

enum dmarc_result { DMARC_NONE, DMARC_PASS, DMARC_FAIL, DMARC_TEMPERROR, DMARC_PERMERROR };
const char *dmarc_result_name(enum dmarc_result r);

#endif
