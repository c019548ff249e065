/*
 * resolve.c - which transport delivers an address, and to which next hop.
 *
 * The decision follows Postfix's address classes, checked in this order
 * (a domain listed twice goes to the first class that names it):
 *   virtual_mailbox_domains -> virtual alias/mailbox class, virtual_transport
 *   mydestination           -> local class, local_transport
 *   virtual_alias_domains   -> alias class, error:5.1.1 User unknown ...
 *   relay_domains           -> relay class, relay_transport
 *   anything else           -> default class, default_transport
 * An address without a domain is local (the caller qualifies "postmaster").
 * Then relayhost replaces the next hop of remote classes, and
 * transport_maps may override transport and next hop for any address.
 * Domain lists mix names and tables (maps.h: opened once per process, a
 * table that cannot be read is an error, never "not listed").
 */
#include "resolve.h"

#include <stdio.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "maps.h"
#include "util.h"

static const char *const class_names[] = {"local", "virtual", "relay", "default", "alias"};
#define CLASS_COUNT (sizeof(class_names) / sizeof(class_names[0]))

const char *resolve_class_name(enum addr_class c)
{
	return class_names[c];
}

bool resolve_class_from_name(const char *name, enum addr_class *out)
{
	for (size_t i = 0; i < CLASS_COUNT; i++) {
		if (strcmp(name, class_names[i]) == 0) {
			*out = (enum addr_class)i;
			return true;
		}
	}
	return false;
}

void resolve_reset(void)
{
	maps_reset();
}

/*
 * One list entry against a domain.  A ".example" entry matches subdomains;
 * a plain name matches itself, and its subdomains too when parent is set
 * (Postfix's parent_domain_matches_subdomains, which covers relay_domains).
 */
static bool resolve_entry_match(const char *entry, const char *domain, bool parent, bool *error)
{
	size_t el, dl = strlen(domain);

	if (strchr(entry, ':') != NULL && entry[0] != '[') {
		const char *v;
		enum maps_status st = maps_find(maps_open(entry), domain, 0, &v);

		if (st == MAPS_TEMPFAIL)
			*error = true;
		return st == MAPS_FOUND;
	}
	if (entry[0] == '.') {
		el = strlen(entry);
		return dl > el && str_case_eq(domain + dl - el, entry);
	}
	if (str_case_eq(entry, domain))
		return true;
	el = strlen(entry);
	return parent && dl > el && domain[dl - el - 1] == '.' &&
	       str_case_eq(domain + dl - el, entry);
}

bool resolve_domain_in(const char *param, const char *domain, bool *error)
{
	char **list = maps_split(config_str(param));
	bool parent = strcmp(param, "relay_domains") == 0;
	bool found = false;

	for (char **p = list; *p && !found; p++)
		found = resolve_entry_match(*p, domain, parent, error);
	strv_free(list);
	return found;
}

static void resolve_set(
    struct resolved *out, enum addr_class cls, const char *transport_param, const char *domain)
{
	const char *value = config_str(transport_param);
	const char *colon = strchr(value, ':');
	size_t tlen = colon ? (size_t)(colon - value) : strlen(value);

	/* "transport:nexthop", as Postfix writes e.g. local_transport. */
	out->cls = cls;
	if (tlen >= sizeof(out->transport))
		tlen = sizeof(out->transport) - 1;
	memcpy(out->transport, value, tlen);
	out->transport[tlen] = 0;
	if (colon && colon[1])
		strlcpy(out->nexthop, colon + 1, sizeof(out->nexthop));
	else if ((cls == CLASS_DEFAULT || cls == CLASS_RELAY) && *config_str("relayhost"))
		/* relayhost replaces the recipient domain for remote mail,
		 * unless the transport names its own next hop (Postfix). */
		strlcpy(out->nexthop, config_str("relayhost"), sizeof(out->nexthop));
	else
		strlcpy(out->nexthop, domain, sizeof(out->nexthop));
}

/*
 * transport_maps: the full address, then the domain, then each parent
 * domain as ".parent" (Postfix's order), each key in every table before
 * the next key.  The value "transport:nexthop" overrides what it names: an
 * empty transport keeps the class's, an empty next hop keeps the domain
 * (or relayhost); "error:text" and "discard:text" carry text rather than a
 * host.  Returns false on a table error.
 */
static bool resolve_transport_maps(const char *addr, const char *domain, struct resolved *out)
{
	struct maps *m = maps_open("transport_maps");
	const char *v = NULL, *colon, *d;
	enum maps_status st;
	size_t tlen;

	st = maps_find(m, addr, 0, &v);
	if (st == MAPS_NOTFOUND && *domain)
		st = maps_find(m, domain, 0, &v);
	for (d = strchr(domain, '.'); st == MAPS_NOTFOUND && d; d = strchr(d + 1, '.'))
		st = maps_find(m, d, 0, &v);
	if (st != MAPS_FOUND)
		return st == MAPS_NOTFOUND;
	colon = strchr(v, ':');
	tlen = colon ? (size_t)(colon - v) : strlen(v);
	if (tlen > 0 && tlen < sizeof(out->transport)) {
		memcpy(out->transport, v, tlen);
		out->transport[tlen] = 0;
	}
	if (colon && colon[1])
		strlcpy(out->nexthop, colon + 1, sizeof(out->nexthop));
	else if (tlen > 0 && *domain)
		/* "smtp:" alone: deliver to the recipient domain. */
		strlcpy(out->nexthop, domain, sizeof(out->nexthop));
	return true;
}

bool resolve_addr(const char *addr, struct resolved *out)
{
	char *local, *domain;
	bool error = false;

	addr_split(addr, &local, &domain);
	memset(out, 0, sizeof(*out));
	if (*domain == 0)
		resolve_set(out, CLASS_LOCAL, "local_transport", config_str("myhostname"));
	else if (resolve_domain_in("virtual_mailbox_domains", domain, &error))
		resolve_set(out, CLASS_VIRTUAL, "virtual_transport", domain);
	else if (!error && resolve_domain_in("mydestination", domain, &error))
		resolve_set(out, CLASS_LOCAL, "local_transport", domain);
	else if (!error && resolve_domain_in("virtual_alias_domains", domain, &error)) {
		/* Postfix's error:User unknown in virtual alias table. */
		out->cls = CLASS_ALIAS;
		strlcpy(out->transport, "error", sizeof(out->transport));
		strlcpy(out->nexthop, "5.1.1 User unknown in virtual alias table",
		    sizeof(out->nexthop));
	} else if (!error && resolve_domain_in("relay_domains", domain, &error))
		resolve_set(out, CLASS_RELAY, "relay_transport", domain);
	else if (!error)
		resolve_set(out, CLASS_DEFAULT, "default_transport", domain);
	if (!error && !resolve_transport_maps(addr, domain, out))
		error = true;
	free(local);
	free(domain);
	return !error;
}
