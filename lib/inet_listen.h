/*
 * inet_listen.h - the addresses an inet service of master.cf listens on.
 *
 * As in Postfix: a service written with a host ("127.0.0.1:25",
 * "[::1]:2525", "mail.example:smtp") listens there; one written as a bare
 * port ("smtp", "25", "*:25") listens on every address of inet_interfaces,
 * for the IP versions of inet_protocols:
 *
 *   inet_interfaces = all            0.0.0.0 and/or [::] (IPv6 only where
 *                                    the kernel has it)
 *   inet_interfaces = loopback-only  127.0.0.1 and/or [::1]
 *   inet_interfaces = 192.0.2.1, [2001:db8::1], ::1, mail.example
 *                                    each address (names resolved now)
 *
 *   inet_protocols  = all | ipv4 | ipv6 | ipv4, ipv6
 *
 * The result is a list of "host:port" specs for sock_inet_listen().
 * Addresses implied by "all" or "loopback-only" for IPv6 are optional: a
 * machine without IPv6 on its loopback still starts, with a warning.
 */
#ifndef TERN_INET_LISTEN_H
#define TERN_INET_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct inet_listen_addr {
	char *spec;    /* "0.0.0.0:25", "[::1]:2525" */
	bool optional; /* may fail to bind with a warning only */
};

/*
 * The addresses service (the master.cf name column) listens on.  Returns
 * the count (at least 1) with *out allocated, or -1 with err set when
 * inet_interfaces or inet_protocols is malformed, a name does not
 * resolve, or the service's own spec is bad.
 */
int inet_listen_addrs(const char *service, struct inet_listen_addr **out, struct buf *err);
void inet_listen_free(struct inet_listen_addr *addrs, int n);

/* inet_protocols: which versions; false with err on an unknown word. */
bool inet_protocols_parse(const char *value, bool *v4, bool *v6, struct buf *err);

#endif
