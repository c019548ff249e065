/*
 * doctor.c - "tern doctor [DOMAIN...]": the DNS records this instance
 * should publish for each mail domain, checked against what DNS says.
 *
 *   tern [-c DIR] doctor [DOMAIN...]
 *
 * Domains: those named, else mydomain.  For each, one line per check,
 * "ok" or "FAIL" first, and for a failing check the record to publish:
 * - MX: the domain's MX includes myhostname;
 * - A/AAAA: myhostname has an address;
 * - SPF: exactly one v=spf1 record, and it passes (lib/msgauth/spf.h)
 *   for every address of myhostname, as postmaster@DOMAIN;
 * - DKIM: each key of the key directory for the domain is published
 *   (cli/dkim.c's check; none: `tern dkim keygen DOMAIN`);
 * - DMARC: exactly one valid record at _dmarc.DOMAIN.
 * Exit 0 when every check passes, 1 otherwise, 75 when a look-up failed
 * and nothing else did.
 *
 * Not yet: PTR (forward-confirmed reverse DNS), MTA-STS and TLS-RPT
 * records, --json.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "config.h"
#include "dns.h"
#include "msgauth/dkim.h"
#include "msgauth/dmarc.h"
#include "msgauth/spf.h"
#include "tern.h"
#include "util.h"

struct doctor {
	const char *host;
	char **addrs; /* myhostname's addresses, text */
	int rc;
};

/* Worst status wins: 1 over EX_TEMPFAIL over 0. */
static void doctor_status(struct doctor *d, int rc)
{
	if (rc == 1 || (rc != 0 && d->rc == 0))
		d->rc = rc;
}

/* One TXT look-up: DNS_OK with *txt, else the status (why says). */
static enum dns_status doctor_txt(const char *name, char ***txt, size_t *n, struct buf *why)
{
	unsigned char *ans = NULL;
	int len = 0;
	enum dns_status st = dns_query(name, ns_t_txt, &ans, &len, why);

	*txt = NULL;
	*n = 0;
	if (st == DNS_OK)
		st = dns_txt_from_answer(ans, len, txt, n);
	free(ans);
	return st;
}

static bool doctor_failed(enum dns_status st)
{
	return st == DNS_RETRY || st == DNS_FAIL;
}

static void doctor_addrs(struct doctor *d)
{
	static const int types[2] = {ns_t_a, ns_t_aaaa};
	size_t na = 0;

	d->addrs = xcalloc(1, sizeof(char *));
	for (int t = 0; t < 2; t++) {
		struct buf why = BUF_INIT;
		unsigned char *ans = NULL;
		int len = 0;
		struct dns_addr *a = NULL;
		size_t n = 0;
		unsigned ttl;
		enum dns_status st = dns_query(d->host, types[t], &ans, &len, &why);

		if (st == DNS_OK)
			st = dns_addrs_from_answer(
			    ans, len, t == 0 ? AF_INET : AF_INET6, 25, &a, &n, &ttl);
		for (size_t i = 0; st == DNS_OK && i < n; i++) {
			char text[INET6_ADDRSTRLEN];
			const struct sockaddr *sa = (const struct sockaddr *)&a[i].sa;
			const void *p =
			    sa->sa_family == AF_INET
				? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
				: (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
			if (inet_ntop(sa->sa_family, p, text, sizeof(text)) == NULL)
				continue;
			d->addrs = xreallocarray(d->addrs, na + 2, sizeof(char *));
			d->addrs[na++] = xstrdup(text);
			d->addrs[na] = NULL;
		}
		if (doctor_failed(st))
			printf("FAIL  A/AAAA  %s: look-up failed: %s\n", d->host, buf_cstr(&why));
		free(a);
		free(ans);
		buf_free(&why);
	}
	if (na > 0) {
		printf("ok    A/AAAA  %s:", d->host);
		for (size_t i = 0; i < na; i++)
			printf(" %s", d->addrs[i]);
		printf("\n");
	} else {
		printf("FAIL  A/AAAA  %s has no address\n"
		       "      publish: %s. IN A <this server's address>\n",
		    d->host, d->host);
		doctor_status(d, 1);
	}
}

static void doctor_mx(struct doctor *d, const char *domain)
{
	struct buf why = BUF_INIT;
	struct dns_mx *mx = NULL;
	size_t n = 0;
	bool found = false;
	enum dns_status st = dns_lookup_mx(domain, &mx, &n, &why);

	for (size_t i = 0; st == DNS_OK && i < n; i++)
		found |= strcasecmp(mx[i].host, d->host) == 0;
	if (found) {
		printf("ok    MX      %s: %s\n", domain, d->host);
	} else if (doctor_failed(st)) {
		printf("FAIL  MX      %s: look-up failed: %s\n", domain, buf_cstr(&why));
		doctor_status(d, EX_TEMPFAIL);
	} else {
		printf("FAIL  MX      %s: %s\n      publish: %s. IN MX 10 %s.\n", domain,
		    st == DNS_OK ? "the MX records do not name this host" : "no MX record", domain,
		    d->host);
		doctor_status(d, 1);
	}
	free(mx);
	buf_free(&why);
}

static void doctor_spf(struct doctor *d, const char *domain)
{
	struct buf why = BUF_INIT;
	char **txt;
	size_t n, nspf = 0;
	enum dns_status st = doctor_txt(domain, &txt, &n, &why);
	bool ok = true;

	for (size_t i = 0; i < n; i++)
		nspf +=
		    strncasecmp(txt[i], "v=spf1", 6) == 0 && (txt[i][6] == 0 || txt[i][6] == ' ');
	if (doctor_failed(st)) {
		printf("FAIL  SPF     %s: look-up failed: %s\n", domain, buf_cstr(&why));
		doctor_status(d, EX_TEMPFAIL);
		ok = false;
	} else if (nspf != 1) {
		printf("FAIL  SPF     %s: %s\n", domain,
		    nspf == 0 ? "no SPF record" : "more than one SPF record (a permerror)");
		ok = false;
		doctor_status(d, 1);
	}
	for (size_t i = 0; ok && d->addrs[i]; i++) {
		char *sender = xasprintf("postmaster@%s", domain);
		struct spf_query q = {
		    .ip = d->addrs[i],
		    .sender = sender,
		    .helo = d->host,
		    .receiver = d->host,
		};
		struct spf_outcome o;

		spf_check_blocking(&q, &o);
		if (o.result != SPF_PASS) {
			struct buf line = BUF_INIT;
			spf_outcome_describe(&o, &line);
			printf("FAIL  SPF     %s does not permit %s: %s\n", domain, d->addrs[i],
			    buf_cstr(&line));
			buf_free(&line);
			ok = false;
			doctor_status(d, o.result == SPF_TEMPERROR ? EX_TEMPFAIL : 1);
		}
		spf_outcome_free(&o);
		free(sender);
	}
	if (ok)
		printf("ok    SPF     %s permits this host's addresses\n", domain);
	else if (!doctor_failed(st))
		printf("      publish: %s. IN TXT \"v=spf1 mx -all\"\n", domain);
	strv_free(txt);
	buf_free(&why);
}

static void doctor_dkim(struct doctor *d, const char *domain)
{
	char *dir = dkim_key_dir();
	struct dkim_keyfile *keys = NULL;
	size_t nk = dkim_keyfiles_load(dir, &keys), mine = 0;

	for (size_t i = 0; i < nk; i++) {
		if (strcasecmp(keys[i].domain, domain) != 0)
			continue;
		mine++;
		doctor_status(d, dkim_check_key(&keys[i], "DKIM    "));
	}
	if (mine == 0) {
		printf("FAIL  DKIM    %s: no key in %s\n      run: tern dkim keygen %s\n", domain,
		    dir, domain);
		doctor_status(d, 1);
	}
	dkim_keyfiles_free(keys, nk);
	free(dir);
}

static void doctor_dmarc(struct doctor *d, const char *domain)
{
	struct buf why = BUF_INIT;
	char *name = xasprintf("_dmarc.%s", domain);
	char **txt;
	size_t n, found = 0;
	struct dmarc_record r = {0};
	enum dns_status st = doctor_txt(name, &txt, &n, &why);

	for (size_t i = 0; i < n; i++) {
		struct dmarc_record one;
		buf_reset(&why);
		if (strncmp(txt[i], "v=DMARC1", 8) == 0 &&
		    dmarc_record_parse(txt[i], strlen(txt[i]), &one, &why) == 0 && found++ == 0)
			r = one;
	}
	if (found == 1) {
		printf("ok    DMARC   %s: p=%s\n", name, dmarc_policy_name(r.p));
	} else if (doctor_failed(st)) {
		printf("FAIL  DMARC   %s: look-up failed\n", name);
		doctor_status(d, EX_TEMPFAIL);
	} else {
		printf("FAIL  DMARC   %s: %s\n      publish: %s. IN TXT \"v=DMARC1; p=none\"\n",
		    name, found ? "more than one DMARC record" : "no valid DMARC record", name);
		doctor_status(d, 1);
	}
	strv_free(txt);
	free(name);
	buf_free(&why);
}

int cmd_doctor(const char *confdir, int argc, char **argv)
{
	struct doctor d = {.rc = 0};
	struct buf why = BUF_INIT;
	const char *def[2] = {NULL, NULL};
	char *const *domains;

	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' || strchr(argv[i], '/') || !strchr(argv[i], '.')) {
			fprintf(stderr, "usage: tern doctor [DOMAIN...]\n");
			return EX_USAGE;
		}
	cli_load_config(confdir);
	if (!dns_init(config_time("smtpd_dns_timeout") * 1000 / 2, &why)) {
		fprintf(stderr, "tern doctor: %s\n", buf_cstr(&why));
		buf_free(&why);
		return EX_CONFIG;
	}
	d.host = config_str("myhostname");
	def[0] = config_str("mydomain");
	domains = argc > 1 ? argv + 1 : (char *const *)def;
	doctor_addrs(&d);
	for (size_t i = 0; domains[i]; i++) {
		printf("%s:\n", domains[i]);
		doctor_mx(&d, domains[i]);
		doctor_spf(&d, domains[i]);
		doctor_dkim(&d, domains[i]);
		doctor_dmarc(&d, domains[i]);
	}
	strv_free(d.addrs);
	buf_free(&why);
	return d.rc;
}
