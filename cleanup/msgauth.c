/*
 * msgauth.c - cleanup's message authentication: DKIM verification of
 * inbound mail and the one Authentication-Results header (RFC 8601).
 *
 * Which messages: those smtpd hands over from a client it does not trust
 * (not in mynetworks, not authenticated: smtpd says trusted=yes for those),
 * when dkim_verify = yes.  Local submissions and trusted clients are not
 * checked (they are what we sign, step two).
 *
 * How: the verifier (lib/msgauth/dkim.h) gets the header section as it
 * was received, then every body byte as it streams to the queue file; at
 * the end of the message the key records of all signatures are asked for
 * at once, asynchronously on c-ares inside cleanup's event loop (cleanup
 * serves many conversations in one process: a blocking look-up would stall
 * them all).  When the last answer is in, the outcomes make the header:
 *
 *   Authentication-Results: <authserv_id>;
 *	spf=pass smtp.mailfrom=a@example.org;
 *	dkim=pass header.d=example.org header.s=sel header.a=rsa-sha256
 *	header.b=AbCdEfGh
 *
 * SPF's results come from smtpd in the begin record (spf=, spf_prop= for
 * the MAIL FROM identity, spf_helo=, spf_helo_prop= for the HELO one: two
 * spf= entries then); no spf= when smtpd did not check.  DMARC uses the
 * MAIL FROM identity's only.  Any Authentication-Results header of the
 * message that claims our authserv-id is removed first (RFC 8601 5: it can
 * only be a forgery, or a loop).
 *
 * DMARC: the From: domain's policy record and organisational domain by
 * RFC 9989's DNS tree walk (dmarc_organizational_domain =
 * public_suffix_list: RFC 7489's list instead), asked for while the body
 * streams; then alignment and the verdict with the header.
 *
 * With dmarc_aggregate_reports, each evaluation of a domain asking for
 * reports becomes a line of dmarc_aggregate_log (dmarc_report.h).
 *
 * ARC (arc_verify, RFC 8617, lib/msgauth/arc.h): the chain is verified
 * beside DKIM (its AMS body hashes stream with the body, its keys are
 * asked for with DKIM's) and its result is the arc= entry.  With
 * arc_sealing, the message then gets the next ARC set on top: an AAR
 * holding the Authentication-Results written here, an AMS over the header
 * as cleanup writes it and the body (hashed while it streams), and a seal
 * with cv=none or cv=pass, signed with arc_seal_domain's RSA key from
 * the DKIM key directory (dkim_sign.c holds the keys).  A failed chain is
 * not sealed.
 *
 * Not here: signing (dkim_sign.c), sending the reports (cli/dmarc.c).
 */
#include "msgauth.h"

#include <arpa/nameser.h>
#include <ctype.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dkim_sign.h"
#include "dns.h"
#include "header.h"
#include "log.h"
#include "mime/address.h"
#include "msgauth/arc.h"
#include "msgauth/dkim.h"
#include "msgauth/dmarc.h"
#include "msgauth/dmarc_report.h"
#include "report_mail.h"
#include "proto.h"
#include "util.h"

struct cm_lookup {
	struct cleanup_msgauth *ma;
	size_t index;
	bool arc; /* an ARC key (index: arc_verifier's), else a DKIM one */
	struct dns_request *req;
};

struct cleanup_msgauth {
	char *spf;			/* smtpd's result name, or NULL */
	char *spf_prop;			/* "smtp.mailfrom=..." */
	char *spf_helo, *spf_helo_prop; /* the HELO identity's, "smtp.helo=..." */
	struct dkim_verifier *dkim;
	struct arc_verifier *arc; /* arc_verify */
	struct arc_outcome arc_out;
	bool seal;		    /* arc_sealing: seal_body is being hashed */
	struct dkim_body seal_body; /* relaxed, for our AMS */
	struct buf *sigb;	    /* each signature's b=, 8 characters (RFC 6008) */
	size_t nsig;
	struct cm_lookup *lookups;
	size_t nlookups, pending;
	cleanup_msgauth_done_fn *done;
	void *ctx;
	char *qid;
	char *client_addr; /* for aggregate reports */
	bool ended;	   /* cleanup_msgauth_end ran: done may be called */
	/* DMARC: the From: domain, its record and organisational domain by
	 * the tree walk (lib/msgauth/dmarc.h), looked up while the body
	 * streams */
	char *from;
	struct dmarc_walk walk;
	struct dns_request *dmarc_req;
	bool dmarc_at_org;	     /* the record is an ancestor's (sp=, np=) */
	bool dmarc_have;	     /* rec holds the record */
	enum dmarc_result dmarc_err; /* DMARC_NONE, or temperror/permerror */
	struct dmarc_record rec;
	bool reject, quarantine; /* the verdict (dmarc_policy_enforce) */
	/* RFC 9091 np=: does the From: domain exist (A, AAAA or MX)?  Asked
	 * only when the org's record has np= */
	struct cm_exist {
		struct cleanup_msgauth *ma;
		struct dns_request *req;
	} exist[3];
	bool exists;
};

/* dmarc_organizational_domain: public_suffix_list, else the tree walk. */
static bool cm_use_psl(void)
{
	return str_case_eq(config_str("dmarc_organizational_domain"), "public_suffix_list");
}

bool cleanup_msgauth_init(struct buf *why)
{
	const char *org = config_str("dmarc_organizational_domain");

	if (!arc_sealing_check(why))
		return false;

	if (!cm_use_psl() && !str_case_eq(org, "dns_tree_walk")) {
		buf_printf(why,
		    "bad dmarc_organizational_domain: %s "
		    "(dns_tree_walk or public_suffix_list)",
		    org);
		return false;
	}
	if (!config_bool("dkim_verify"))
		return true;
	if (!dns_init(config_time("cleanup_dns_timeout") * 1000, why)) {
		buf_puts(why, " (dns)");
		return false;
	}
	return true;
}

/* A value smtpd sent: printable ASCII without the A-R specials, or none. */
static char *cm_safe(const char *v)
{
	if (v == NULL || *v == 0 || strlen(v) > 512)
		return NULL;
	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p >= 127 || strchr("();\"\\", *p))
			return NULL;
	return xstrdup(v);
}

struct cleanup_msgauth *cleanup_msgauth_begin(const struct ipc_msg *m, const char *qid)
{
	const char *trusted = ipc_get_str(m, A_TRUSTED);
	struct cleanup_msgauth *ma;

	if (!config_bool("dkim_verify") || ipc_get(m, A_CLIENT_ADDR) == NULL ||
	    (trusted && strcmp(trusted, "yes") == 0))
		return NULL;
	ma = xcalloc(1, sizeof(*ma));
	ma->spf = cm_safe(ipc_get_str(m, A_SPF));
	ma->spf_prop = cm_safe(ipc_get_str(m, A_SPF_PROP));
	ma->spf_helo = cm_safe(ipc_get_str(m, A_SPF_HELO));
	ma->spf_helo_prop = cm_safe(ipc_get_str(m, A_SPF_HELO_PROP));
	ma->qid = xstrdup(qid);
	ma->client_addr = cm_safe(ipc_get_str(m, A_CLIENT_ADDR));
	if ((ma->seal = config_bool("arc_sealing")))
		dkim_body_init(&ma->seal_body, DKIM_RELAXED, -1);
	return ma;
}

const char *cleanup_msgauth_id(void)
{
	const char *id = config_str("authserv_id");

	return *id ? id : config_str("myhostname");
}

/* Is this field (name:value, folded) an A-R header carrying our id? */
static bool cm_forged(const char *f, size_t len, const char *id)
{
	static const char name[] = "Authentication-Results";
	size_t n = sizeof(name) - 1, i, start;

	if (len <= n || strncasecmp(f, name, n) != 0)
		return false;
	for (i = n; i < len && (f[i] == ' ' || f[i] == '\t'); i++)
		;
	if (i == len || f[i] != ':')
		return false;
	/* The authserv-id: the first token, CFWS around it skipped (a
	 * comment in front is rare; treat one as not ours). */
	for (i++; i < len && isspace((unsigned char)f[i]); i++)
		;
	start = i;
	while (i < len && !isspace((unsigned char)f[i]) && f[i] != ';' && f[i] != '(')
		i++;
	return i - start == strlen(id) && strncasecmp(f + start, id, i - start) == 0;
}

size_t cleanup_msgauth_filter(const char *hdr, size_t len, struct buf *out)
{
	const char *id = cleanup_msgauth_id();
	size_t i = 0, removed = 0;

	while (i < len) {
		size_t start = i;

		do { /* one field: its line and its continuation lines */
			const char *nl = memchr(hdr + i, '\n', len - i);
			i = nl ? (size_t)(nl - hdr) + 1 : len;
		} while (i < len && (hdr[i] == ' ' || hdr[i] == '\t'));
		if (cm_forged(hdr + start, i - start, id))
			removed += i - start;
		else
			buf_append(out, hdr + start, i - start);
	}
	return removed;
}

void cleanup_msgauth_body(struct cleanup_msgauth *ma, const char *p, size_t len)
{
	if (ma->dkim)
		dkim_verifier_body(ma->dkim, p, len);
	if (ma->arc)
		arc_verifier_body(ma->arc, p, len);
	if (ma->seal)
		dkim_body_update(&ma->seal_body, p, len);
}

/* One look-up fewer; the last one after the end finishes. */
static void cm_settle(struct cleanup_msgauth *ma)
{
	if (--ma->pending == 0 && ma->ended)
		ma->done(ma->ctx);
}

/* One of the From: domain's A/AAAA/MX answers: anything but "no such name"
 * and "no such record" (a failure included: np= is not for a domain we
 * could not see) makes it exist. */
static void cm_exist_answer(void *ctx, enum dns_status st, const unsigned char *ans, int len)
{
	struct cm_exist *e = ctx;
	struct cleanup_msgauth *ma = e->ma;

	(void)ans;
	(void)len;
	e->req = NULL;
	if (st != DNS_NOTFOUND && st != DNS_NODATA)
		ma->exists = true;
	cm_settle(ma);
}

/* RFC 9091 3.2: asks whether the From: domain exists. */
static void cm_exist_start(struct cleanup_msgauth *ma)
{
	static const int types[3] = {ns_t_a, ns_t_aaaa, ns_t_mx};

	for (int i = 0; i < 3; i++) {
		ma->exist[i].ma = ma;
		ma->pending++;
		ma->exist[i].req =
		    dns_request_start(ma->from, types[i], cm_exist_answer, &ma->exist[i]);
	}
}

static void cm_dmarc_answer(void *ctx, enum dns_status st, const unsigned char *ans, int len);

static void cm_dmarc_start(struct cleanup_msgauth *ma)
{
	char *name = xasprintf("_dmarc.%s", ma->walk.next);

	ma->pending++;
	ma->dmarc_req = dns_request_start(name, ns_t_txt, cm_dmarc_answer, ma);
	free(name);
}

/* _dmarc.NAME's TXT records, for the walk's next step; when it is over,
 * the record found (exactly one DMARC record counts, RFC 9989 4.10) and,
 * for np=, whether the From: domain exists. */
static void cm_dmarc_answer(void *ctx, enum dns_status st, const unsigned char *ans, int len)
{
	struct cleanup_msgauth *ma = ctx;
	struct dmarc_walk *w = &ma->walk;
	char **txt = NULL;
	size_t n = 0;

	ma->dmarc_req = NULL;
	if (st == DNS_OK)
		st = dns_txt_from_answer(ans, len, &txt, &n);
	dmarc_walk_answer(w, st, txt, n);
	strv_free(txt);
	if (w->next) {
		cm_dmarc_start(ma);
	} else {
		ma->dmarc_have = w->have_policy;
		if (w->have_policy) {
			ma->rec = w->policy;
			ma->dmarc_at_org = strcmp(w->policy_at, w->name) != 0;
		} else if (w->temperror) {
			ma->dmarc_err = DMARC_TEMPERROR;
		}
		if (ma->dmarc_have && ma->dmarc_at_org && ma->rec.np != DMARC_P_UNSET)
			cm_exist_start(ma);
	}
	cm_settle(ma);
}

/* The From: domain (RFC 7489 6.6.1: one address; more, or none, leaves
 * DMARC out: permerror). */
static void cm_dmarc_begin(struct cleanup_msgauth *ma, const char *hdr, size_t len)
{
	struct buf v = BUF_INIT;
	struct mime_addr *a = NULL;

	if (!config_bool("dmarc_verify"))
		return;
	if (hdr_value(hdr, len, "From", &v))
		a = mime_addr_parse(buf_cstr(&v), v.len, 0, 4);
	if (a && a->next == NULL && a->host && *a->host && strchr(a->host, '.')) {
		ma->from = xstrdup(a->host);
		for (char *p = ma->from; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		dmarc_walk_init(&ma->walk, ma->from, cm_use_psl());
		cm_dmarc_start(ma);
	} else {
		ma->dmarc_err = DMARC_PERMERROR;
	}
	mime_addr_free(a);
	buf_free(&v);
}

static void cm_answer(void *ctx, enum dns_status st, const unsigned char *ans, int len)
{
	struct cm_lookup *l = ctx;
	struct cleanup_msgauth *ma = l->ma;
	char **txt = NULL;
	size_t n = 0;

	l->req = NULL;
	if (st == DNS_OK)
		st = dns_txt_from_answer(ans, len, &txt, &n);
	if (l->arc)
		arc_verifier_key(ma->arc, l->index, st, txt, n);
	else
		dkim_verifier_key(ma->dkim, l->index, st, txt, n);
	strv_free(txt);
	cm_settle(ma);
}

bool cleanup_msgauth_end(struct cleanup_msgauth *ma, cleanup_msgauth_done_fn *done, void *ctx)
{
	size_t n = ma->dkim ? dkim_verifier_count(ma->dkim) : 0;
	size_t na = ma->arc ? arc_verifier_nkeys(ma->arc) : 0;

	ma->done = done;
	ma->ctx = ctx;
	ma->ended = true;
	ma->lookups = xcalloc(n + na ? n + na : 1, sizeof(*ma->lookups));
	for (size_t i = 0; i < n + na; i++) {
		bool arc = i >= n;
		size_t k = arc ? i - n : i;
		const char *name =
		    arc ? arc_verifier_key_name(ma->arc, k) : dkim_verifier_key_name(ma->dkim, k);

		if (name == NULL)
			continue;
		ma->lookups[ma->nlookups] = (struct cm_lookup){ma, k, arc, NULL};
		ma->pending++;
		ma->nlookups++;
	}
	/* Answers never come from inside dns_request_start (dns.h). */
	for (size_t i = 0; i < ma->nlookups; i++) {
		struct cm_lookup *l = &ma->lookups[i];
		const char *name = l->arc ? arc_verifier_key_name(ma->arc, l->index)
					  : dkim_verifier_key_name(ma->dkim, l->index);
		l->req = dns_request_start(name, ns_t_txt, cm_answer, l);
	}
	return ma->pending > 0;
}

/* A d= or s= fit to be written unquoted. */
static bool cm_token_ok(const char *v)
{
	if (v == NULL || *v == 0)
		return false;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_", *p))
			return false;
	return true;
}

/* "dkim=pass header.d=... header.s=... header.a=... header.b=..." */
static void cm_dkim_result(const struct dkim_outcome *o, const char *sigb, struct buf *out)
{
	buf_printf(out, ";\n\tdkim=%s", dkim_result_name(o->result));
	if (o->result != DKIM_PASS && o->problem && *o->problem) {
		buf_puts(out, " (");
		for (const char *p = o->problem; *p; p++)
			buf_putc(out, *p < ' ' || *p >= 127 || strchr("()\\", *p) ? '?' : *p);
		buf_puts(out, ")");
	}
	if (cm_token_ok(o->domain) && cm_token_ok(o->selector))
		buf_printf(out, "\n\theader.d=%s header.s=%s", o->domain, o->selector);
	if (o->alg)
		buf_printf(out, " header.a=%s", o->alg);
	if (sigb && *sigb)
		buf_printf(out, " header.b=%s", sigb);
}

/* The first 8 characters of each signature's b= (RFC 6008), in order. */
static void cm_sig_b(struct buf *v, size_t n, const char *hdr, size_t len)
{
	size_t k = 0, i = 0;

	while (i < len && k < n) {
		size_t start = i;
		do {
			const char *nl = memchr(hdr + i, '\n', len - i);
			i = nl ? (size_t)(nl - hdr) + 1 : len;
		} while (i < len && (hdr[i] == ' ' || hdr[i] == '\t'));
		if (i - start < 15 || strncasecmp(hdr + start, "DKIM-Signature", 14) != 0)
			continue;
		/* b= is the tag "b" (not "bh"): after ';' or ':' and blanks. */
		for (size_t j = start; j + 1 < i; j++) {
			if (hdr[j] != ';' && hdr[j] != ':')
				continue;
			size_t t = j + 1;
			while (t < i && isspace((unsigned char)hdr[t]))
				t++;
			if (t + 1 < i && hdr[t] == 'b' &&
			    (hdr[t + 1] == '=' || isspace((unsigned char)hdr[t + 1]))) {
				while (t < i && hdr[t] != '=')
					t++;
				for (t++; t < i && v[k].len < 8; t++)
					if (isalnum((unsigned char)hdr[t]) || hdr[t] == '+' ||
					    hdr[t] == '/')
						buf_putc(&v[k], hdr[t]);
				break;
			}
		}
		k++;
	}
}

void cleanup_msgauth_header(struct cleanup_msgauth *ma, const char *hdr, size_t len)
{
	ma->dkim = dkim_verifier_new(hdr, len, (long long)time(NULL));
	ma->nsig = dkim_verifier_count(ma->dkim);
	ma->sigb = xcalloc(ma->nsig ? ma->nsig : 1, sizeof(*ma->sigb));
	cm_sig_b(ma->sigb, ma->nsig, hdr, len);
	if (config_bool("arc_verify"))
		ma->arc = arc_verifier_new(hdr, len, (long long)time(NULL));
	cm_dmarc_begin(ma, hdr, len);
}

/* The SPF-authenticated domain, when SPF passed. */
static const char *cm_spf_domain(const struct cleanup_msgauth *ma)
{
	const char *p = ma->spf_prop;

	if (ma->spf == NULL || strcmp(ma->spf, "pass") != 0 || p == NULL)
		return NULL;
	if (strncmp(p, "smtp.mailfrom=", 14) == 0)
		return strrchr(p, '@') ? strrchr(p, '@') + 1 : NULL;
	return strncmp(p, "smtp.helo=", 10) == 0 ? p + 10 : NULL;
}

/* The SPF identity's domain and result, whatever the result. */
static const char *cm_spf_identity(const struct cleanup_msgauth *ma)
{
	const char *p = ma->spf_prop;

	if (p == NULL)
		return "";
	if (strncmp(p, "smtp.mailfrom=", 14) == 0)
		return strrchr(p, '@') ? strrchr(p, '@') + 1 : "";
	return strncmp(p, "smtp.helo=", 10) == 0 ? p + 10 : "";
}

/* RFC 9990's envelope_from: the MAIL FROM domain SPF checked, "<>" for
 * the null reverse-path (SPF then checked the HELO name), "" unknown. */
static const char *cm_envelope_from(const struct cleanup_msgauth *ma)
{
	const char *p = ma->spf_prop;

	if (p && strncmp(p, "smtp.helo=", 10) == 0)
		return "<>";
	return cm_spf_identity(ma);
}

/* The verdict as a report line has it (reason: dmarc_report.h's, when a
 * failing message did not get its policy). */
struct cm_verdict {
	const char *disposition;
	bool dkim_ok, spf_ok;
	const char *reason;
	const char *override; /* the trusted ARC sealer, or NULL */
};

/*
 * dmarc_aggregate_reports: one line for `tern dmarc report` appended to
 * dmarc_aggregate_log, for a domain whose record asks for reports (rua=).
 * One write() of an O_APPEND file (report_log_append): lines of
 * concurrent cleanups do not mix.  RFC 9990 wants passing DKIM results
 * first when there are too many: those come first.
 */
static void cm_dmarc_report(
    struct cleanup_msgauth *ma, const struct dkim_outcome *o, size_t n, const struct cm_verdict *v)
{
	struct dmarc_report_row r = {
	    .time = (long long)time(NULL),
	    .policy_domain = ma->walk.policy_at,
	    .rua = ma->rec.rua,
	    .p = dmarc_policy_name(ma->rec.p),
	    .sp = ma->rec.sp == DMARC_P_UNSET ? "" : dmarc_policy_name(ma->rec.sp),
	    .np = ma->rec.np == DMARC_P_UNSET ? "" : dmarc_policy_name(ma->rec.np),
	    .testing = ma->rec.testing ? "y" : "n",
	    .discovery = cm_use_psl() ? "psl" : "treewalk",
	    .adkim_strict = ma->rec.adkim_strict,
	    .aspf_strict = ma->rec.aspf_strict,
	    .source_ip = ma->client_addr ? ma->client_addr : "",
	    .header_from = ma->from,
	    .envelope_from = cm_envelope_from(ma),
	    .disposition = v->disposition,
	    .dkim_pass = v->dkim_ok,
	    .spf_pass = v->spf_ok,
	    .spf_domain = cm_spf_identity(ma),
	    .spf_result = ma->spf ? ma->spf : "",
	    .reason = v->reason ? v->reason : "",
	    .arc_override = v->override ? v->override : "",
	};
	struct buf line = BUF_INIT;
	const char *path = config_str("dmarc_aggregate_log");

	if (!config_bool("dmarc_aggregate_reports") || !ma->dmarc_have || !ma->rec.rua[0])
		return;
	for (int pass = 1; pass >= 0; pass--)
		for (size_t i = 0; i < n && r.ndkim < DMARC_REPORT_DKIM_MAX; i++)
			if ((o[i].result == DKIM_PASS) == pass && cm_token_ok(o[i].domain) &&
			    cm_token_ok(o[i].selector))
				r.dkim[r.ndkim++] = (struct dmarc_report_dkim){
				    o[i].domain, o[i].selector, dkim_result_name(o[i].result)};
	dmarc_report_line(&r, &line);
	if (!report_log_append(path, &line))
		log_qid(ma->qid, "warning: dmarc report: %s: %m", path);
	buf_free(&line);
}

/* The newest sealer, when the chain passed and dmarc_arc_trusted_sealers
 * names it (RFC 8617 7.2: a local policy may accept mail that failed
 * DMARC on the word of a sealer it trusts), or NULL. */
static const char *cm_arc_trusted(const struct cleanup_msgauth *ma)
{
	const char *d = ma->arc_out.seal_domain;
	char **list;
	bool ok = false;

	if (ma->arc == NULL || ma->arc_out.result != ARC_PASS || !cm_token_ok(d))
		return NULL;
	list = config_list("dmarc_arc_trusted_sealers");
	for (size_t i = 0; list[i] && !ok; i++)
		ok = str_case_eq(list[i], d);
	strv_free(list);
	return ok ? d : NULL;
}

/* RFC 7489 6.6.2-6.6.4: aligned SPF or DKIM pass; the policy of the
 * record found (sp= for a subdomain's mail under its org's record). */
static void cm_dmarc_result(
    struct cleanup_msgauth *ma, const struct dkim_outcome *o, size_t n, struct buf *out)
{
	enum dmarc_result r;
	enum dmarc_policy pol = DMARC_P_NONE, dis = DMARC_P_NONE;
	bool spf_ok =
	    dmarc_aligned_org(cm_spf_domain(ma), ma->from, ma->walk.org, ma->rec.aspf_strict);
	bool dkim_ok = false, pass;
	const char *override = NULL;
	struct cm_verdict v = {0};

	if (ma->from == NULL && ma->dmarc_err == DMARC_NONE)
		return;
	for (size_t i = 0; i < n && !dkim_ok; i++)
		dkim_ok = o[i].result == DKIM_PASS && dmarc_aligned_org(o[i].domain, ma->from,
							  ma->walk.org, ma->rec.adkim_strict);
	pass = spf_ok || dkim_ok;
	if (!ma->dmarc_have)
		r = ma->dmarc_err;
	else
		r = pass ? DMARC_PASS : DMARC_FAIL;
	if (ma->dmarc_have) {
		pol = ma->rec.p;
		/* a subdomain under its org's record: np= when it does not
		 * exist (RFC 9091 4), else sp= when given */
		if (ma->dmarc_at_org && !ma->exists && ma->rec.np != DMARC_P_UNSET)
			pol = ma->rec.np;
		else if (ma->dmarc_at_org && ma->rec.sp != DMARC_P_UNSET)
			pol = ma->rec.sp;
		/* pct= samples which failing messages get the policy (6.6.4). */
		if (r == DMARC_FAIL && (ma->rec.pct >= 100 || rand() % 100 < ma->rec.pct))
			dis = pol;
		else if (r == DMARC_FAIL && pol != DMARC_P_NONE)
			v.reason = "sampled_out";
		if (ma->rec.testing && dis == DMARC_P_REJECT) {
			dis = DMARC_P_QUARANTINE;
			v.reason = "policy_test_mode";
		}
		if (dis != DMARC_P_NONE && (override = cm_arc_trusted(ma)) != NULL) {
			dis = DMARC_P_NONE;
			v.reason = "trusted_forwarder";
		}
	}
	buf_printf(out, ";\n\tdmarc=%s", dmarc_result_name(r));
	if (ma->dmarc_have)
		buf_printf(out, " (p=%s dis=%s%s%s)", dmarc_policy_name(pol),
		    dmarc_policy_name(dis), override ? " local_policy=arc sealer=" : "",
		    override ? override : "");
	if (ma->from && cm_token_ok(ma->from))
		buf_printf(out, " header.from=%s", ma->from);
	if (config_bool("dmarc_policy_enforce")) {
		ma->reject = dis == DMARC_P_REJECT;
		ma->quarantine = dis == DMARC_P_QUARANTINE;
	}
	log_qid(ma->qid, "dmarc=%s from=%s policy=%s disposition=%s%s%s", dmarc_result_name(r),
	    ma->from ? ma->from : "?", dmarc_policy_name(pol), dmarc_policy_name(dis),
	    override ? " arc_override=" : "", override ? override : "");
	v.disposition = r == DMARC_PASS && pol != DMARC_P_NONE ? "pass" : dmarc_policy_name(dis);
	v.dkim_ok = dkim_ok;
	v.spf_ok = spf_ok;
	v.override = override;
	cm_dmarc_report(ma, o, n, &v);
}

/* "arc=pass (i=2 d=...) smtp.remote-ip=... header.oldest-pass=0" */
static void cm_arc_result(struct cleanup_msgauth *ma, struct buf *out)
{
	const struct arc_outcome *a = &ma->arc_out;

	if (ma->arc == NULL)
		return;
	buf_printf(out, ";\n\tarc=%s", arc_result_name(a->result));
	if (a->result != ARC_NONE) {
		buf_printf(out, " (i=%d", a->instance);
		if (cm_token_ok(a->seal_domain))
			buf_printf(out, " d=%s", a->seal_domain);
		if (a->result != ARC_PASS && a->problem && *a->problem) {
			buf_puts(out, ": ");
			for (const char *p = a->problem; *p; p++)
				buf_putc(
				    out, *p < ' ' || *p >= 127 || strchr("()\\", *p) ? '?' : *p);
		}
		buf_puts(out, ")");
	}
	if (ma->client_addr)
		buf_printf(out, "\n\tsmtp.remote-ip=%s", ma->client_addr);
	if (a->result == ARC_PASS)
		buf_printf(out, " header.oldest-pass=%d", a->oldest_pass);
	log_qid(ma->qid, "arc=%s i=%d%s%s", arc_result_name(a->result), a->instance,
	    a->problem ? ": " : "", a->problem ? a->problem : "");
}

/* arc_sealing: the next ARC set for the header cleanup writes (hdr) and
 * our Authentication-Results field (ar), onto out with LF line ends. */
static void cm_arc_seal(
    struct cleanup_msgauth *ma, const char *hdr, size_t hlen, const struct buf *ar, struct buf *out)
{
	const char *d = config_str("arc_seal_domain");
	const struct dkim_keyfile *k = cleanup_sign_rsa_key(d, config_str("arc_seal_selector"));
	const char *colon = memchr(ar->data, ':', ar->len);
	struct buf set = BUF_INIT, err = BUF_INIT;
	unsigned char bh[32];

	dkim_body_final(&ma->seal_body, bh);
	if (ma->arc_out.result == ARC_FAIL) {
		log_qid(ma->qid, "arc: the chain failed: not sealed");
	} else if (k == NULL) {
		log_qid_warn(ma->qid, "arc: no RSA key for %s: not sealed", d);
	} else if (arc_seal(hdr, hlen, bh, colon + 1, ma->arc_out.result, k->domain, k->selector,
		       k->pkey, (long long)time(NULL), &set, &err) < 0) {
		log_qid_warn(ma->qid, "arc: cannot seal: %s", buf_cstr(&err));
	} else {
		for (size_t j = 0; j < set.len; j++) /* the queue file has LF line ends */
			if (!(set.data[j] == '\r' && j + 1 < set.len && set.data[j + 1] == '\n'))
				buf_putc(out, set.data[j]);
		log_qid(ma->qid, "arc: sealed i=%d d=%s s=%s", ma->arc_out.instance + 1, k->domain,
		    k->selector);
	}
	buf_free(&set);
	buf_free(&err);
}

void cleanup_msgauth_result(
    struct cleanup_msgauth *ma, const char *hdr, size_t hlen, struct buf *final)
{
	struct dkim_outcome *o = NULL;
	size_t n = 0;
	struct buf ar = BUF_INIT, *out = &ar;

	if (ma->dkim)
		dkim_verifier_finish(ma->dkim, &o, &n);
	if (ma->arc)
		arc_verifier_finish(ma->arc, &ma->arc_out);
	buf_printf(out, "Authentication-Results: %s", cleanup_msgauth_id());
	if (ma->spf)
		buf_printf(out, ";\n\tspf=%s%s%s", ma->spf, ma->spf_prop ? " " : "",
		    ma->spf_prop ? ma->spf_prop : "");
	if (ma->spf_helo)
		buf_printf(out, ";\n\tspf=%s%s%s", ma->spf_helo, ma->spf_helo_prop ? " " : "",
		    ma->spf_helo_prop ? ma->spf_helo_prop : "");
	if (n == 0)
		buf_puts(out, ";\n\tdkim=none");
	for (size_t i = 0; i < n; i++) {
		cm_dkim_result(&o[i], i < ma->nsig ? buf_cstr(&ma->sigb[i]) : NULL, out);
		log_qid(ma->qid, "dkim=%s d=%s s=%s%s%s", dkim_result_name(o[i].result),
		    o[i].domain ? o[i].domain : "?", o[i].selector ? o[i].selector : "?",
		    o[i].problem ? ": " : "", o[i].problem ? o[i].problem : "");
	}
	cm_arc_result(ma, out);
	cm_dmarc_result(ma, o, n, out);
	buf_putc(out, '\n');
	out = final;
	if (ma->seal)
		cm_arc_seal(ma, hdr, hlen, &ar, out);
	buf_append(out, ar.data, ar.len);
	if (ma->quarantine) /* for Junk filing (Sieve, antispam) */
		buf_puts(out, "X-Spam-Flag: YES\n");
	buf_free(&ar);
	dkim_outcomes_free(o, n);
}

bool cleanup_msgauth_reject(const struct cleanup_msgauth *ma, struct buf *reason)
{
	if (!ma->reject)
		return false;
	buf_printf(reason, "5.7.1 Message rejected by the DMARC policy of %s", ma->from);
	return true;
}

void cleanup_msgauth_free(struct cleanup_msgauth *ma)
{
	if (ma == NULL)
		return;
	for (size_t i = 0; i < ma->nlookups; i++)
		if (ma->lookups[i].req)
			dns_request_cancel(ma->lookups[i].req);
	free(ma->lookups);
	if (ma->dmarc_req)
		dns_request_cancel(ma->dmarc_req);
	for (int i = 0; i < 3; i++)
		if (ma->exist[i].req)
			dns_request_cancel(ma->exist[i].req);
	free(ma->from);
	dmarc_walk_free(&ma->walk);
	dkim_verifier_free(ma->dkim);
	arc_verifier_free(ma->arc);
	arc_outcome_free(&ma->arc_out);
	if (ma->seal)
		dkim_body_free(&ma->seal_body);
	for (size_t i = 0; i < ma->nsig; i++)
		buf_free(&ma->sigb[i]);
	free(ma->sigb);
	free(ma->spf);
	free(ma->spf_prop);
	free(ma->spf_helo);
	free(ma->spf_helo_prop);
	free(ma->qid);
	free(ma->client_addr);
	free(ma);
}
