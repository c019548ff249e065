/*
 * dns_async.h - does a mail domain exist?  c-ares look-ups inside smtpd's
 * event loop, for reject_unknown_sender_domain and
 * reject_unknown_recipient_domain.
 *
 * Kept in smtpd/ on purpose: lib/dns*.c belongs to the SMTP client
 * (issue 7), which needs MX ordering and addresses, not this yes/no.
 *
 * A look-up never blocks.  dns_domain_state() answers from a small cache
 * or starts a query and says DNS_PENDING; when any query finishes, every
 * session that waited is run again (session_dns_wake()), and it asks again.
 */
#ifndef TERN_SMTPD_DNS_ASYNC_H
#define TERN_SMTPD_DNS_ASYNC_H

#include "event.h"

enum dns_state {
	DNS_EXISTS,   /* an MX (not a null MX), A or AAAA record */
	DNS_NONE,     /* NXDOMAIN, no usable records, or null MX */
	DNS_TEMPFAIL, /* time-out, SERVFAIL, no resolver */
	DNS_PENDING,  /* asked; the answer comes later */
};

/* Sets up the resolver (smtpd_dns_servers, else /etc/resolv.conf). */
void dns_async_init(struct event_loop *loop);
enum dns_state dns_domain_state(const char *domain);

#endif
