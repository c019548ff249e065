/*
 * spf_int.h - SPF's internals, shared by spf_record.c, spf_macro.c, spf.c
 * and spf_check.c, and by the unit tests and fuzz harnesses.  Programs
 * include spf.h only.
 */
#ifndef TERN_MSGAUTH_SPF_INT_H
#define TERN_MSGAUTH_SPF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "dns.h"
#include "msgauth/spf.h"

/* ------------------------------------------------------------ records */

enum spf_term_kind {
	SPF_T_ALL,
	SPF_T_INCLUDE,
	SPF_T_A,
	SPF_T_MX,
	SPF_T_PTR,
	SPF_T_IP4,
	SPF_T_IP6,
	SPF_T_EXISTS,
	SPF_T_REDIRECT,
	SPF_T_EXP,
	SPF_T_UNKNOWN_MOD, /* ignored (RFC 7208 6) */
};

struct spf_term {
	enum spf_term_kind kind;
	char qualifier;		/* '+', '-', '~', '?' (mechanisms) */
	char *spec;		/* domain-spec as written (macros unexpanded), or NULL */
	unsigned char addr[16]; /* ip4 (first 4 bytes) / ip6 network */
	int cidr4, cidr6;	/* prefix lengths: 32 / 128 when not given */
	char *text;		/* the term as written, for reports */
};

struct spf_record {
	struct spf_term *terms;
	size_t n;
	int redirect; /* index of redirect=, or -1 */
	int exp;      /* index of exp=, or -1 */
};

/* Does a TXT record (the concatenation of its strings) say "v=spf1"
 * followed by a space or its end (RFC 7208 4.5)? */
bool spf_record_is_spf(const char *txt, size_t len);

/*
 * Parses an SPF record (RFC 7208 4.6, 5, 6, 7.1 grammar; the whole record,
 * macros included, before anything is evaluated: 4.6 says any syntax error
 * is a permerror).  0 and *out (free it), or -1 and err filled.
 */
int spf_record_parse(const char *txt, size_t len, struct spf_record *out, struct buf *err);
void spf_record_free(struct spf_record *r);

/* ------------------------------------------------------------ macros */

/* What macros expand to (RFC 7208 7.3). */
struct spf_macro_env {
	const char *sender;	/* s: local@domain */
	const char *local;	/* l */
	const char *sender_dom; /* o */
	const char *domain;	/* d: the current domain */
	const char *helo;	/* h */
	const char *ptr_name;	/* p: validated name, NULL: "unknown" */
	const char *receiver;	/* r: NULL: "unknown" */
	int family;		/* AF_INET, AF_INET6 */
	unsigned char ip[16];
	long long now; /* t */
};

/* Is s (len bytes) a valid macro-string; exp: the explanation-only
 * letters c, r, t are allowed. */
bool spf_macro_valid(const char *s, size_t len, bool exp);
/* Is the last token of a valid macro-string an expansion ("%{d}")?
 * (A domain-spec must end in one or in a top label, 7.1.) */
bool spf_macro_ends_with_expand(const char *s, size_t len);
/* Does it use %{p}, which needs DNS look-ups first? */
bool spf_macro_uses_ptr(const char *s);
/* Appends the expansion of s to out; false on a syntax error. */
bool spf_macro_expand(const char *s, const struct spf_macro_env *env, bool exp, struct buf *out);

/* ------------------------------------------------------------ answers */

struct spf_ip {
	int family;
	unsigned char a[16];
};

/* One look-up's outcome, as the evaluator sees it. */
struct spf_rrset {
	enum dns_status st; /* DNS_OK, DNS_NOTFOUND, DNS_NODATA, DNS_RETRY, ... */
	char **strs;	    /* TXT (one string per record), MX, PTR names */
	size_t nstrs;
	struct spf_ip *ips; /* A, AAAA */
	size_t nips;
};

/* Raw answer bytes of a look-up of type -> *set (spf_rrset_clear it). */
void spf_rrset_from_answer(
    int type, enum dns_status st, const unsigned char *ans, int len, struct spf_rrset *set);
void spf_rrset_clear(struct spf_rrset *set);

/* The answer to name/type, or NULL when it has not been asked yet. */
typedef const struct spf_rrset *spf_lookup_fn(void *ctx, const char *name, int type);

/*
 * One evaluation over the answers lookup knows.  True and *out filled when
 * done; false when an answer is missing: *need_name (free it) and
 * *need_type say which, and the evaluation is to be run again once it is
 * there (evaluation is deterministic, so the run again takes the same way).
 */
bool spf_evaluate(const struct spf_query *q, long long now, spf_lookup_fn *lookup, void *ctx,
    struct spf_outcome *out, char **need_name, int *need_type);

#endif
