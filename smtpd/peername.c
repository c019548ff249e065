/*
 * peername.c - the client's host name, looked up at connect before the
 * "connect from" line (Postfix's smtpd_peername_lookup).
 *
 * Two names, as Postfix keeps them:
 * - reverse_name: the first PTR name of the client's address that is a
 *   valid host name (not a numeric address: a PTR record is written by
 *   whoever owns the address block, so it can claim anything);
 * - name: a PTR name whose A (IPv4) or AAAA (IPv6) records include the
 *   address again (forward-confirmed, FCrDNS).  Only this name is
 *   trusted: logs, Received:, check_client_access by name and
 *   reject_rhsbl_client use it.  The PTR names are tried in turn; the
 *   first that confirms is the name.
 * Each is "unknown" when not found, with a status as Postfix's: 2 found,
 * 4 a temporary DNS failure, 5 none (reject_unknown_client_hostname and
 * reject_unknown_reverse_client_hostname answer from these).
 *
 * The look-ups go through dns_poll (c-ares in smtpd's event loop): the
 * greeting waits, the other sessions do not.  smtpd_dns_timeout bounds
 * each of the (at most two rounds of) look-ups.  Not here: /etc/hosts
 * (Postfix asks the system resolver, which may read it; tern asks DNS).
 */
#include "peername.h"

#include <arpa/nameser.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "dns.h"
#include "dnsbl.h"
#include "log.h"
#include "smtpd.h"
#include "sock.h"
#include "util.h"

#define PEER_UNKNOWN "unknown"

static void peername_set(char **mem, const char **field, const char *value, int *status, int code)
{
	free(*mem);
	*mem = value ? xstrdup(value) : NULL;
	*field = *mem ? *mem : PEER_UNKNOWN;
	*status = code;
}

/* A PTR name usable as a host name: a valid domain, not an address. */
static bool peername_valid(const char *name)
{
	/* "192.0.2.1" is a valid domain syntactically; as a name it lies. */
	return addr_valid_domain(name, false) && strspn(name, "0123456789.") != strlen(name);
}

/* The PTR step: 0 pending, else the status (2, 4, 5); *names on 2. */
static int peername_ptr(const char *addr, char ***names, size_t *n)
{
	bool v6 = strchr(addr, ':') != NULL;
	struct buf rev = BUF_INIT;
	const unsigned char *ans;
	enum dns_status st = DNS_NOTFOUND;
	int len;

	if (dnsbl_query_name(addr, v6 ? "ip6.arpa" : "in-addr.arpa", &rev))
		st = dns_poll(buf_cstr(&rev), ns_t_ptr, &ans, &len);
	buf_free(&rev);
	switch (st) {
	case DNS_PENDING: return 0;
	case DNS_OK:
		if (dns_ptr_from_answer(ans, len, names, n) != DNS_OK)
			return 5;
		return 2;
	case DNS_RETRY:
	case DNS_FAIL: return 4;
	default: return 5;
	}
}

/* Whether name's address records of addr's family include addr: 0
 * pending, 2 yes, 4 temporary failure, 5 no. */
static int peername_forward(const char *name, const char *addr)
{
	bool v6 = strchr(addr, ':') != NULL;
	const unsigned char *ans;
	struct dns_addr *a = NULL;
	size_t na = 0;
	unsigned ttl;
	int len, r = 5;
	enum dns_status st = dns_poll(name, v6 ? ns_t_aaaa : ns_t_a, &ans, &len);

	if (st == DNS_PENDING)
		return 0;
	if (st == DNS_RETRY || st == DNS_FAIL)
		return 4;
	if (st == DNS_OK &&
	    dns_addrs_from_answer(ans, len, v6 ? AF_INET6 : AF_INET, 0, &a, &na, &ttl) == DNS_OK)
		for (size_t j = 0; j < na && r != 2; j++) {
			char text[64];

			sock_ntop((const struct sockaddr *)&a[j].sa, text, sizeof(text), NULL);
			if (strcasecmp(text, addr) == 0)
				r = 2;
		}
	free(a);
	return r;
}

bool peername_poll(struct smtpd_session *s)
{
	char **names = NULL;
	size_t n = 0;
	int st, fst, worst = 5;
	const char *first = NULL;

	if (!config_bool("smtpd_peername_lookup")) {
		peername_set(&s->name_mem, &s->name, NULL, &s->name_status, 5);
		peername_set(&s->reverse_mem, &s->reverse_name, NULL, &s->reverse_status, 5);
		return true;
	}
	st = peername_ptr(s->addr, &names, &n);
	if (st == 0)
		return false;
	for (size_t i = 0; i < n && first == NULL; i++)
		if (peername_valid(names[i]))
			first = names[i];
	if (st == 2 && first == NULL) {
		log_warn("%s: address has no valid PTR name (%s)", s->addr, n ? names[0] : "none");
		st = 5;
	}
	if (st != 2) {
		strv_free(names);
		peername_set(&s->name_mem, &s->name, NULL, &s->name_status, st);
		peername_set(&s->reverse_mem, &s->reverse_name, NULL, &s->reverse_status, st);
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (!peername_valid(names[i]))
			continue;
		fst = peername_forward(names[i], s->addr);
		if (fst == 0) {
			strv_free(names);
			return false;
		}
		if (fst == 2) {
			peername_set(&s->name_mem, &s->name, names[i], &s->name_status, 2);
			worst = 2;
			break;
		}
		if (fst == 4)
			worst = 4;
	}
	if (worst != 2) {
		/* Postfix's wording, which log watchers (fail2ban) know. */
		if (worst == 5)
			log_warn("hostname %s does not resolve to address %s", first, s->addr);
		else
			log_warn("hostname %s verification failed for address %s: temporary "
				 "failure in name resolution",
			    first, s->addr);
		peername_set(&s->name_mem, &s->name, NULL, &s->name_status, worst);
	}
	peername_set(&s->reverse_mem, &s->reverse_name, first, &s->reverse_status, 2);
	strv_free(names);
	return true;
}

void peername_init(struct smtpd_session *s)
{
	s->name = s->reverse_name = PEER_UNKNOWN;
	s->name_status = s->reverse_status = 5;
}

void peername_free(struct smtpd_session *s)
{
	free(s->name_mem);
	free(s->reverse_mem);
	s->name_mem = s->reverse_mem = NULL;
	peername_init(s);
}
