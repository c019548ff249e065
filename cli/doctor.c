/*
 * doctor.c - "tern doctor [--json] [DOMAIN...]": the DNS records this
 * instance should publish for each mail domain, checked against what DNS
 * (and, for MTA-STS, the policy's web server) says.
 *
 *   tern [-c DIR] doctor [--json] [DOMAIN...]
 *
 * For myhostname, once:
 * - A/AAAA: myhostname has an address;
 * - PTR: each address has a PTR name that has the address again
 *   (forward-confirmed reverse DNS, what receivers check);
 * - TLSA: _25._tcp.myhostname's records match smtpd_tls_cert_file's
 *   certificate (optional: none is "warn", with the 3 1 1 record to add);
 * then for each domain (those named, else mydomain):
 * - MX: the domain's MX includes myhostname;
 * - SPF: exactly one v=spf1 record, and it passes (lib/msgauth/spf.h)
 *   for every address of myhostname, as postmaster@DOMAIN;
 * - DKIM: each key of the key directory for the domain is published
 *   (cli/dkim.c's check; none: `tern dkim keygen DOMAIN`);
 * - DMARC: exactly one valid record at _dmarc.DOMAIN;
 * - MTA-STS (RFC 8461): the _mta-sts TXT record, then the policy fetched
 *   over HTTPS (lib/mtasts_fetch.h, always: libcurl is linked), valid and
 *   allowing myhostname as an MX;
 * - TLS-RPT (RFC 8460): one valid record at _smtp._tls.DOMAIN.
 * MTA-STS and TLS-RPT are optional: a domain without them gets "warn",
 * which does not change the exit status; a broken one is a FAIL.
 *
 * Output: one line per check, "ok", "warn" or "FAIL" first, and for a
 * check that is not ok the record to publish (or command to run) on the
 * next line; --json: one JSON object (host, addresses, checks with
 * domain, check, status, message and fix, status).  Exit 0 when every
 * check passes, 1 otherwise, 75 when a look-up failed and nothing else did.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "config.h"
#include "dane.h"
#include "dns.h"
#include "dnsbl.h"
#include "msgauth/dkim.h"
#include "msgauth/dmarc.h"
#include "msgauth/spf.h"
#include "mtasts.h"
#include "mtasts_fetch.h"
#include "mtasts_publish.h"
#include "tern.h"
#include "tlsrpt.h"
#include "util.h"

#define DOCTOR_FETCH_MS 15000 /* the MTA-STS policy fetch, all included */

enum doctor_verdict { DOC_OK, DOC_WARN, DOC_FAIL, DOC_TEMPFAIL };

struct doctor {
	const char *host;
	char **addrs;	    /* myhostname's addresses, text */
	const char *domain; /* the domain being checked, NULL for the host */
	json_t *checks;	    /* --json: the checks so far; NULL: text */
	int rc;
};

/*
 * One check's outcome: printed at once as text, or kept for the JSON
 * object.  fix (may be NULL) is what to publish or run.  The exit status:
 * FAIL is 1, a failed look-up EX_TEMPFAIL unless something else failed.
 */
__attribute__((format(printf, 5, 6))) static void doctor_report(struct doctor *d,
    enum doctor_verdict v, const char *check, const char *fix, const char *fmt, ...)
{
	static const char *const text[] = {"ok", "warn", "FAIL", "FAIL"};
	static const char *const json[] = {"ok", "warn", "fail", "tempfail"};
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (v == DOC_FAIL)
		d->rc = 1;
	else if (v == DOC_TEMPFAIL && d->rc == 0)
		d->rc = EX_TEMPFAIL;
	if (d->checks) {
		json_t *o = json_pack("{s:s?, s:s, s:s, s:s}", "domain", d->domain, "check", check,
		    "status", json[v], "message", msg);
		if (fix)
			json_object_set_new(o, "fix", json_string(fix));
		json_array_append_new(d->checks, o);
	} else {
		printf("%-6s%-8s%s\n", text[v], check, msg);
		if (fix)
			printf("      %s\n", fix);
	}
	free(msg);
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

/* The certificates of a PEM chain file, the server's first; 0 if none. */
static size_t doctor_chain(const char *path, X509 ***out)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	size_t n = 0;

	*out = NULL;
	if (f == NULL)
		return 0;
	while (n < 16 && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		*out = xrealloc(*out, (n + 1) * sizeof(**out));
		(*out)[n++] = x;
	}
	ERR_clear_error();
	fclose(f);
	return n;
}

/*
 * TLSA (RFC 7672): _25._tcp.myhostname against the certificate smtpd
 * offers.  No records: optional (they need a DNSSEC-signed zone).
 * Records none of which matches: senders that use DANE defer all mail,
 * the worst case (a certificate renewed without a new record).  Records
 * the resolver did not validate: senders ignore them.
 */
static void doctor_tlsa(struct doctor *d)
{
	const char *file = config_str("smtpd_tls_cert_file");
	struct dane_tlsa_set set = {0};
	struct buf why = BUF_INIT, hex = BUF_INIT;
	unsigned char md[DANE_TLSA_DATA_MAX];
	size_t len = 0, n;
	bool secure = false;
	X509 **chain;
	char *name, *fix;
	enum dns_status st;

	if (*file == 0)
		return; /* no STARTTLS: nothing to pin */
	n = doctor_chain(file, &chain);
	name = xasprintf("_25._tcp.%s", d->host);
	if (n == 0 || !dane_tlsa_digest(chain[0], 1, 1, md, &len)) {
		doctor_report(d, DOC_FAIL, "TLSA", NULL, "%s: no certificate can be read", file);
		goto out;
	}
	buf_put_hex(&hex, md, len);
	fix = xasprintf("publish: %s. IN TLSA 3 1 1 %s", name, buf_cstr(&hex));
	st = dane_tlsa_lookup(d->host, 25, &set, &secure, &why);
	if (doctor_failed(st))
		doctor_report(d, DOC_TEMPFAIL, "TLSA", NULL, "%s: %s", name, buf_cstr(&why));
	else if (st != DNS_OK)
		doctor_report(d, DOC_WARN, "TLSA", fix,
		    "%s: no TLSA record (optional: needs a DNSSEC-signed zone; DANE senders then "
		    "verify this host)",
		    name);
	else if (!dane_tlsa_matches(&set, chain, n))
		doctor_report(d, DOC_FAIL, "TLSA", fix,
		    "%s: no record matches the certificate of %s: senders that use DANE defer "
		    "every message",
		    name, file);
	else if (!secure)
		doctor_report(d, DOC_WARN, "TLSA", NULL,
		    "%s: a record matches, but the answer is not DNSSEC-validated (senders ignore "
		    "it)",
		    name);
	else
		doctor_report(
		    d, DOC_OK, "TLSA", NULL, "%s: matches the certificate (DNSSEC)", name);
	free(fix);
out:
	dane_tlsa_free(&set);
	for (size_t i = 0; i < n; i++)
		X509_free(chain[i]);
	free(chain);
	free(name);
	buf_free(&hex);
	buf_free(&why);
}

/* The addresses of name of one family (AF_INET, AF_INET6), as text, added
 * to *out; the look-up's status. */
static enum dns_status doctor_lookup_addrs(const char *name, int family, char ***out)
{
	struct buf why = BUF_INIT;
	unsigned char *ans = NULL;
	int len = 0;
	struct dns_addr *a = NULL;
	size_t n = 0;
	unsigned ttl;
	enum dns_status st =
	    dns_query(name, family == AF_INET ? ns_t_a : ns_t_aaaa, &ans, &len, &why);

	if (st == DNS_OK)
		st = dns_addrs_from_answer(ans, len, family, 25, &a, &n, &ttl);
	for (size_t i = 0; st == DNS_OK && i < n; i++) {
		char text[INET6_ADDRSTRLEN];
		const struct sockaddr *sa = (const struct sockaddr *)&a[i].sa;
		const void *p = sa->sa_family == AF_INET
				    ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
				    : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (inet_ntop(sa->sa_family, p, text, sizeof(text)) != NULL)
			strv_add(out, text);
	}
	free(a);
	free(ans);
	buf_free(&why);
	return st;
}

static void doctor_addrs(struct doctor *d)
{
	struct buf list = BUF_INIT;
	bool failed = false;

	d->addrs = xcalloc(1, sizeof(char *));
	failed |= doctor_failed(doctor_lookup_addrs(d->host, AF_INET, &d->addrs));
	failed |= doctor_failed(doctor_lookup_addrs(d->host, AF_INET6, &d->addrs));
	for (size_t i = 0; d->addrs[i]; i++)
		buf_printf(&list, " %s", d->addrs[i]);
	if (d->addrs[0]) {
		doctor_report(d, DOC_OK, "A/AAAA", NULL, "%s:%s", d->host, buf_cstr(&list));
	} else if (failed) {
		doctor_report(d, DOC_TEMPFAIL, "A/AAAA", NULL, "%s: look-up failed", d->host);
	} else {
		char *fix = xasprintf("publish: %s. IN A <this server's address>", d->host);
		doctor_report(d, DOC_FAIL, "A/AAAA", fix, "%s has no address", d->host);
		free(fix);
	}
	buf_free(&list);
}

/*
 * Forward-confirmed reverse DNS of one address: its PTR names, and the
 * first of them whose A/AAAA records hold the address again.
 */
static void doctor_ptr_one(struct doctor *d, const char *addr)
{
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	struct buf rev = BUF_INIT, why = BUF_INIT;
	unsigned char *ans = NULL;
	int len = 0;
	char **names = NULL, *fix;
	size_t n = 0;
	enum dns_status st = DNS_FAIL;
	bool retry = false;

	if (dnsbl_query_name(addr, family == AF_INET6 ? "ip6.arpa" : "in-addr.arpa", &rev))
		st = dns_query(buf_cstr(&rev), ns_t_ptr, &ans, &len, &why);
	if (st == DNS_OK)
		st = dns_ptr_from_answer(ans, len, &names, &n);
	if (doctor_failed(st)) {
		doctor_report(
		    d, DOC_TEMPFAIL, "PTR", NULL, "%s: look-up failed: %s", addr, buf_cstr(&why));
		goto out;
	}
	fix = xasprintf("publish: %s. IN PTR %s. (where the address is delegated, often "
			"the hosting provider)",
	    buf_cstr(&rev), d->host);
	if (st != DNS_OK) {
		doctor_report(d, DOC_FAIL, "PTR", fix, "%s has no PTR record", addr);
		free(fix);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char **back = NULL;
		bool found = false;

		retry |= doctor_failed(doctor_lookup_addrs(names[i], family, &back));
		for (size_t j = 0; back && back[j]; j++)
			found |= strcasecmp(back[j], addr) == 0;
		strv_free(back);
		if (found) {
			doctor_report(d, DOC_OK, "PTR", NULL, "%s: %s (forward-confirmed%s)", addr,
			    names[i], strcasecmp(names[i], d->host) == 0 ? "" : ", not myhostname");
			free(fix);
			goto out;
		}
	}
	if (retry) {
		doctor_report(d, DOC_TEMPFAIL, "PTR", NULL, "%s: %s: the forward look-up failed",
		    addr, names[0]);
	} else {
		char *fwd = xasprintf("publish: %s. IN %s %s, or point the PTR record at %s",
		    names[0], family == AF_INET6 ? "AAAA" : "A", addr, d->host);
		doctor_report(d, DOC_FAIL, "PTR", fwd,
		    "%s: %s does not have the address (not forward-confirmed)", addr, names[0]);
		free(fwd);
	}
	free(fix);
out:
	strv_free(names);
	free(ans);
	buf_free(&rev);
	buf_free(&why);
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
		doctor_report(d, DOC_OK, "MX", NULL, "%s: %s", domain, d->host);
	} else if (doctor_failed(st)) {
		doctor_report(
		    d, DOC_TEMPFAIL, "MX", NULL, "%s: look-up failed: %s", domain, buf_cstr(&why));
	} else {
		char *fix = xasprintf("publish: %s. IN MX 10 %s.", domain, d->host);
		doctor_report(d, DOC_FAIL, "MX", fix, "%s: %s", domain,
		    st == DNS_OK ? "the MX records do not name this host" : "no MX record");
		free(fix);
	}
	free(mx);
	buf_free(&why);
}

/* SPF for each of this host's addresses; false when one is not a pass. */
static bool doctor_spf_addrs(struct doctor *d, const char *domain)
{
	char *sender = xasprintf("postmaster@%s", domain);
	char *fix = xasprintf("publish: %s. IN TXT \"v=spf1 mx -all\"", domain);
	bool ok = true;

	for (size_t i = 0; d->addrs[i]; i++) {
		struct spf_query q = {
		    .ip = d->addrs[i],
		    .sender = sender,
		    .helo = d->host,
		    .receiver = d->host,
		};
		struct spf_outcome o;
		struct buf line = BUF_INIT;

		spf_check_blocking(&q, &o);
		if (o.result != SPF_PASS) {
			spf_outcome_describe(&o, &line);
			doctor_report(d, o.result == SPF_TEMPERROR ? DOC_TEMPFAIL : DOC_FAIL, "SPF",
			    o.result == SPF_TEMPERROR ? NULL : fix, "%s does not permit %s: %s",
			    domain, d->addrs[i], buf_cstr(&line));
			ok = false;
		}
		buf_free(&line);
		spf_outcome_free(&o);
	}
	free(fix);
	free(sender);
	return ok;
}

static void doctor_spf(struct doctor *d, const char *domain)
{
	struct buf why = BUF_INIT;
	char **txt;
	size_t n, nspf = 0;
	enum dns_status st = doctor_txt(domain, &txt, &n, &why);
	char *fix = xasprintf("publish: %s. IN TXT \"v=spf1 mx -all\"", domain);

	for (size_t i = 0; i < n; i++)
		nspf +=
		    strncasecmp(txt[i], "v=spf1", 6) == 0 && (txt[i][6] == 0 || txt[i][6] == ' ');
	if (doctor_failed(st))
		doctor_report(
		    d, DOC_TEMPFAIL, "SPF", NULL, "%s: look-up failed: %s", domain, buf_cstr(&why));
	else if (nspf != 1)
		doctor_report(d, DOC_FAIL, "SPF", fix, "%s: %s", domain,
		    nspf == 0 ? "no SPF record" : "more than one SPF record (a permerror)");
	else if (doctor_spf_addrs(d, domain))
		doctor_report(d, DOC_OK, "SPF", NULL, "%s permits this host's addresses", domain);
	free(fix);
	strv_free(txt);
	buf_free(&why);
}

static void doctor_dkim(struct doctor *d, const char *domain)
{
	char *dir = dkim_key_dir();
	struct dkim_keyfile *keys = NULL;
	size_t nk = dkim_keyfiles_load(dir, &keys), mine = 0;

	for (size_t i = 0; i < nk; i++) {
		struct buf msg = BUF_INIT, fix = BUF_INIT;
		int rc;

		if (strcasecmp(keys[i].domain, domain) != 0)
			continue;
		mine++;
		buf_puts(&fix, "publish: ");
		rc = dkim_check_key(&keys[i], &msg, &fix);
		doctor_report(d,
		    rc == 0		? DOC_OK
		    : rc == EX_TEMPFAIL ? DOC_TEMPFAIL
					: DOC_FAIL,
		    "DKIM", rc == 1 ? buf_cstr(&fix) : NULL, "%s", buf_cstr(&msg));
		buf_free(&msg);
		buf_free(&fix);
	}
	if (mine == 0) {
		char *fix = xasprintf("run: tern dkim keygen %s", domain);
		doctor_report(d, DOC_FAIL, "DKIM", fix, "%s: no key in %s", domain, dir);
		free(fix);
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
		doctor_report(d, DOC_OK, "DMARC", NULL, "%s: p=%s", name, dmarc_policy_name(r.p));
	} else if (doctor_failed(st)) {
		doctor_report(d, DOC_TEMPFAIL, "DMARC", NULL, "%s: look-up failed", name);
	} else {
		char *fix = xasprintf("publish: %s. IN TXT \"v=DMARC1; p=none\"", name);
		doctor_report(d, DOC_FAIL, "DMARC", fix, "%s: %s", name,
		    found ? "more than one DMARC record" : "no valid DMARC record");
		free(fix);
	}
	strv_free(txt);
	free(name);
	buf_free(&why);
}

/*
 * The records at name that begin with prefix (RFC 8461 3.1 and RFC 8460 3:
 * the others are discarded): *one gets the only one; the count, or -1 when
 * the look-up failed (reported).
 */
static int doctor_txt_prefixed(
    struct doctor *d, const char *check, const char *name, const char *prefix, char **one)
{
	struct buf why = BUF_INIT;
	char **txt;
	size_t n;
	int found = 0;
	enum dns_status st = doctor_txt(name, &txt, &n, &why);

	*one = NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(txt[i], prefix, strlen(prefix)) == 0 && found++ == 0)
			*one = xstrdup(txt[i]);
	if (doctor_failed(st)) {
		doctor_report(
		    d, DOC_TEMPFAIL, check, NULL, "%s: look-up failed: %s", name, buf_cstr(&why));
		found = -1;
	} else if (found > 1) {
		doctor_report(d, DOC_FAIL, check, "publish: one record only", "%s: %d records (%s)",
		    name, found, "senders then use none");
	}
	strv_free(txt);
	buf_free(&why);
	return found;
}

/* The MTA-STS policy of domain, whose TXT record says id. */
static void doctor_mtasts_policy(struct doctor *d, const char *domain, const char *id)
{
	struct mtasts_fetch_opts opts = {
	    .cafile = config_str("smtp_tls_CAfile"),
	    .capath = config_str("smtp_tls_CApath"),
	    .timeout_ms = DOCTOR_FETCH_MS,
	};
	struct buf text = BUF_INIT, why = BUF_INIT;
	struct mtasts_policy p = {.mode = MTASTS_NONE};
	char *url = xasprintf("https://mta-sts.%s/.well-known/mta-sts.txt", domain);
	char *fix = NULL;

	if (!mtasts_fetch(domain, &opts, &text, &why)) {
		fix = xasprintf(
		    "serve %s (text/plain, with a certificate valid for mta-sts.%s)", url, domain);
		doctor_report(d, DOC_FAIL, "MTA-STS", fix,
		    "id=%s; the policy could not be fetched: %s", id, buf_cstr(&why));
	} else if (!mtasts_policy_parse(text.data, text.len, &p, &why)) {
		fix = xasprintf("serve at %s: version: STSv1, mode: enforce, mx: %s, max_age: "
				"604800 (one per line)",
		    url, d->host);
		doctor_report(
		    d, DOC_FAIL, "MTA-STS", fix, "id=%s; %s: %s", id, url, buf_cstr(&why));
	} else if (p.mode == MTASTS_NONE) {
		doctor_report(d, DOC_WARN, "MTA-STS", NULL,
		    "id=%s; policy fetched from %s: mode none (switched off)", id, url);
	} else if (!mtasts_mx_match(&p, d->host)) {
		fix = xasprintf("add to %s: mx: %s", url, d->host);
		doctor_report(d, DOC_FAIL, "MTA-STS", fix,
		    "id=%s; policy fetched from %s does not allow %s as an MX", id, url, d->host);
	} else {
		doctor_report(d, DOC_OK, "MTA-STS", NULL,
		    "id=%s; policy fetched from %s: mode %s, max_age %ld, allows %s", id, url,
		    p.mode == MTASTS_ENFORCE ? "enforce" : "testing", p.max_age, d->host);
	}
	mtasts_policy_free(&p);
	free(fix);
	free(url);
	buf_free(&text);
	buf_free(&why);
}

static void doctor_mtasts(struct doctor *d, const char *domain)
{
	char *name = xasprintf("_mta-sts.%s", domain), *txt, id[MTASTS_ID_MAX + 1];
	int n = doctor_txt_prefixed(d, "MTA-STS", name, "v=STSv1", &txt);

	struct buf policy = BUF_INIT;
	char pid[MTASTS_PUBLISH_ID_LEN + 1];
	/* tern's http serves this instance's policy: its id is known. */
	const char *want = mtasts_published(&policy, pid) ? pid : "YYYYMMDDhhmmss";

	if (n == 0) {
		char *fix = xasprintf("publish: %s. IN TXT \"v=STSv1; id=%s\" and serve "
				      "https://mta-sts.%s/.well-known/mta-sts.txt%s",
		    name, want, domain, want == pid ? " (tern's http serves it)" : "");
		doctor_report(d, DOC_WARN, "MTA-STS", fix,
		    "%s: no MTA-STS record (optional: senders may then deliver without TLS)", name);
		free(fix);
	} else if (n == 1 && !mtasts_txt_parse(txt, id)) {
		char *fix = xasprintf("publish: %s. IN TXT \"v=STSv1; id=%s\"", name, want);
		doctor_report(d, DOC_FAIL, "MTA-STS", fix, "%s: not a valid record: %s", name, txt);
		free(fix);
	} else if (n == 1) {
		doctor_mtasts_policy(d, domain, id);
	}
	buf_free(&policy);
	free(txt);
	free(name);
}

static void doctor_tlsrpt(struct doctor *d, const char *domain)
{
	char *name = xasprintf("_smtp._tls.%s", domain), *txt;
	char *fix =
	    xasprintf("publish: %s. IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@%s\"", name, domain);
	int n = doctor_txt_prefixed(d, "TLS-RPT", name, "v=TLSRPTv1", &txt);
	struct tlsrpt_record r;
	struct buf why = BUF_INIT;

	if (n == 0) {
		doctor_report(d, DOC_WARN, "TLS-RPT", fix,
		    "%s: no TLS-RPT record (optional: no reports of senders' TLS failures)", name);
	} else if (n == 1 && !tlsrpt_record_parse(txt, &r, &why)) {
		doctor_report(d, DOC_FAIL, "TLS-RPT", fix, "%s: %s", name, buf_cstr(&why));
	} else if (n == 1) {
		struct buf list = BUF_INIT;
		for (size_t i = 0; i < r.nrua; i++)
			buf_printf(&list, "%s%s", i ? "," : "", r.rua[i]);
		doctor_report(d, DOC_OK, "TLS-RPT", NULL, "%s: rua=%s", name, buf_cstr(&list));
		buf_free(&list);
		tlsrpt_record_free(&r);
	}
	buf_free(&why);
	free(txt);
	free(fix);
	free(name);
}

static void doctor_json_print(struct doctor *d)
{
	static const char *const status[] = {"ok", "fail"};
	json_t *addrs = json_array();
	json_t *root;

	for (size_t i = 0; d->addrs[i]; i++)
		json_array_append_new(addrs, json_string(d->addrs[i]));
	root = json_pack("{s:s, s:o, s:O, s:s}", "host", d->host, "addresses", addrs, "checks",
	    d->checks, "status", d->rc == EX_TEMPFAIL ? "tempfail" : status[d->rc != 0]);
	json_dumpf(root, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(root);
}

static int doctor_usage(void)
{
	fprintf(stderr, "usage: tern doctor [--json] [DOMAIN...]\n");
	return EX_USAGE;
}

int cmd_doctor(const char *confdir, int argc, char **argv)
{
	struct doctor d = {.rc = 0};
	struct buf why = BUF_INIT;
	char **domains = NULL;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (argv[i][0] == '-' || strchr(argv[i], '/') || !strchr(argv[i], '.')) {
			strv_free(domains);
			return doctor_usage();
		} else {
			strv_add(&domains, argv[i]);
		}
	}
	if (json)
		d.checks = json_array();
	cli_load_config(confdir);
	if (!dns_init(config_time("smtpd_dns_timeout") * 1000 / 2, &why)) {
		fprintf(stderr, "tern doctor: %s\n", buf_cstr(&why));
		buf_free(&why);
		strv_free(domains);
		json_decref(d.checks);
		return EX_CONFIG;
	}
	d.host = config_str("myhostname");
	if (domains == NULL)
		strv_add(&domains, config_str("mydomain"));
	doctor_addrs(&d);
	for (size_t i = 0; d.addrs[i]; i++)
		doctor_ptr_one(&d, d.addrs[i]);
	doctor_tlsa(&d);
	for (size_t i = 0; domains[i]; i++) {
		d.domain = domains[i];
		if (d.checks == NULL)
			printf("%s:\n", domains[i]);
		doctor_mx(&d, domains[i]);
		doctor_spf(&d, domains[i]);
		doctor_dkim(&d, domains[i]);
		doctor_dmarc(&d, domains[i]);
		doctor_mtasts(&d, domains[i]);
		doctor_tlsrpt(&d, domains[i]);
	}
	if (d.checks)
		doctor_json_print(&d);
	json_decref(d.checks);
	strv_free(domains);
	strv_free(d.addrs);
	buf_free(&why);
	return d.rc;
}
