/*
 * resolve.h - recipient resolution: address class, transport, next hop.
 *
 * What Postfix's trivial-rewrite does, as library code:
 *   domain in virtual_mailbox_domains  -> class "virtual", transport local
 *   domain in mydestination (or empty) -> class "local",   transport local
 *   domain in virtual_alias_domains    -> class "alias",   error transport
 *   domain in relay_domains            -> class "relay",   transport relay
 *   anything else                      -> class "default", transport smtp
 * An address of the alias class that reaches qmgr is one virtual_alias_maps
 * does not know (cleanup expanded the rest, valias.h): it bounces with
 * Postfix's "5.1.1 User unknown in virtual alias table".
 * Domain lists take names and table specs (texthash:/path), as in Postfix.
 * relayhost then becomes the next hop of the relay and default classes
 * (unless their transport names one), and transport_maps ("user@domain",
 * "domain", ".parent" keys; "transport:nexthop" values such as
 * "smtp:[host]:port", "local:", "error:5.1.1 text", "discard:") may
 * override transport and next hop of any address.
 */
#ifndef TERN_RESOLVE_H
#define TERN_RESOLVE_H

#include <stdbool.h>

enum addr_class {
	CLASS_LOCAL,
	CLASS_VIRTUAL,
	CLASS_RELAY,
	CLASS_DEFAULT,
	CLASS_ALIAS, /* virtual_alias_domains: cleanup rewrote what it knew */
};

struct resolved {
	enum addr_class cls;
	char transport[32];
	char nexthop[256];
};

/* Resolves addr; false when a table could not be read (defer). */
bool resolve_addr(const char *addr, struct resolved *out);
const char *resolve_class_name(enum addr_class c);
bool resolve_class_from_name(const char *name, enum addr_class *out);

/* True when domain matches the list-valued parameter param (names, with
 * parent-domain matching only for ".example" entries, and tables). */
bool resolve_domain_in(const char *param, const char *domain, bool *error);

/* Drops the process's cached tables (maps_reset()): they are reopened on
 * the next call. */
void resolve_reset(void);

#endif
