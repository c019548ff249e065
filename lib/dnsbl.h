/*
 * dnsbl.h - the pure parts of DNS block and allow lists (RFC 5782).
 *
 * A DNSBL lists an IPv4 address a.b.c.d as the name d.c.b.a.<zone>, an
 * IPv6 address as its 32 nibbles in reverse under <zone>; a listed name
 * has A records in 127.0.0.0/8 saying why.  Postfix's site syntax
 * "zone=filter" keeps only answers matching the filter, where each octet
 * of the filter is a number, or a set in brackets of numbers and ranges:
 * "127.0.0.[2..11]", "127.0.[0;1].[2;4..6]".
 *
 * No I/O here: smtpd's restrictions (reject_rbl_client) ask the resolver
 * and use these to build the name and judge the answers.
 */
#ifndef TERN_DNSBL_H
#define TERN_DNSBL_H

#include <stdbool.h>

#include "buf.h"

/* out = the name to look up for addr (numeric IPv4 or IPv6) under zone;
 * false when addr is not a numeric address. */
bool dnsbl_query_name(const char *addr, const char *zone, struct buf *out);

/* out = "domain.zone" for a right-hand-side list (RHSBL: reject_rhsbl_*);
 * false when domain is empty, an address literal, has an empty label or
 * the name would be longer than DNS allows. */
bool dnsbl_domain_query_name(const char *domain, const char *zone, struct buf *out);

/* Splits "zone=filter": *zone and *filter are new strings (*filter NULL
 * without "="); false when the zone is empty or the filter malformed. */
bool dnsbl_site_parse(const char *site, char **zone, char **filter);

/* postscreen_dnsbl_sites' "zone[=filter][*weight]": as dnsbl_site_parse,
 * with *weight the number after the last '*' (1 without; negative for an
 * allow list).  False also for a weight that is not a whole number. */
bool dnsbl_weighted_site_parse(const char *site, char **zone, char **filter, int *weight);

/* Whether an answer (a dotted IPv4 address) passes the filter (NULL: any). */
bool dnsbl_filter_match(const char *filter, const char *answer);

#endif
