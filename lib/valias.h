/*
 * valias.h - virtual_alias_maps: Postfix's virtual aliasing of recipient
 * addresses, and the duplicate filter of a message's recipient list.
 *
 * cleanup expands every recipient before the queue file is written, as
 * Postfix's cleanup does, so that qmgr and the delivery agents see only
 * final addresses; smtpd asks valias_known() at RCPT time (an address in
 * a virtual alias domain that no key matches is "550 5.1.1 User unknown
 * in virtual alias table"); resolve.c knows the virtual alias class
 * (virtual_alias_domains, default $virtual_alias_maps: the tables are
 * asked for the domain itself).
 *
 * Look-up order of one address (Postfix's virtual(5)), each key in every
 * table before the next key: "user+ext@domain", "user@domain" (the
 * extension, with recipient_delimiter, is then appended to each result's
 * local part: propagate_unmatched_extensions), "user+ext" and "user" when
 * the domain is local ($myorigin or mydestination), "@domain".  A result
 * is a list of addresses (commas, white space); "@otherdomain" keeps the
 * local part, an address without a domain gets @$myorigin.
 *
 * Expansion is recursive: each result is looked up again, to a depth of
 * virtual_alias_recursion_limit; one recipient may become at most
 * virtual_alias_expansion_limit addresses.  A result equal to the address
 * it came from is kept and not looked up again ("a@x  a@x, b@x").  A limit
 * or a table that cannot be read makes the whole message wait (4xx),
 * never lose a recipient.
 *
 * Duplicates: an address given twice with the same ORCPT and NOTIFY, by
 * the client or by expansion, is kept once (exact comparison, as
 * Postfix's cleanup); after duplicate_filter_limit distinct recipients
 * the filter stops remembering and lets everything through.
 *
 * An address that expansion changed keeps the one it came from as its
 * ORCPT ("rfc822;address") when the client gave none, as Postfix keeps
 * the original recipient: delivery logs it as orig_to=, a bounce as
 * Original-Recipient:, the smtp client passes it on.  Such an ORCPT does
 * not count in the duplicate comparison.
 */
#ifndef TERN_VALIAS_H
#define TERN_VALIAS_H

#include <stdbool.h>
#include <stddef.h>

#include "maps.h"

enum valias_status {
	VALIAS_OK,
	VALIAS_TEMPFAIL, /* a table could not be read */
	VALIAS_LIMIT,	 /* recursion or expansion limit exceeded */
};

struct valias_rcpt {
	char *addr;
	char *orcpt;	  /* NULL when none */
	char *notify;	  /* NULL when none */
	bool orcpt_added; /* orcpt names the address before expansion */
};

/* A message's recipient list, duplicates filtered. */
struct valias_list {
	struct valias_rcpt *v;
	size_t n;
	size_t dropped; /* duplicates left out */
};

/*
 * One look-up (no recursion) of addr in virtual_alias_maps: MAPS_FOUND
 * sets *targets (a NULL-terminated vector to free with strv_free) to the
 * rewritten result addresses.
 */
enum maps_status valias_lookup(const char *addr, char ***targets);

/* Is addr a key of virtual_alias_maps, in any form above? */
enum maps_status valias_known(const char *addr);

/*
 * Expands addr and adds the final addresses, each with orcpt (or addr,
 * when it was changed and orcpt is NULL) and notify, to list (duplicates
 * filtered).  On an error nothing is added and *why
 * says what went wrong, for the log (static text or NULL).
 */
enum valias_status valias_expand(struct valias_list *list, const char *addr, const char *orcpt,
    const char *notify, const char **why);

/* Adds one recipient as it is, unless it is a duplicate; true when added. */
bool valias_list_add(
    struct valias_list *list, const char *addr, const char *orcpt, const char *notify);

void valias_list_free(struct valias_list *list);

#endif
