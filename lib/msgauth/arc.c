/*
 * arc.c - verifying and sealing ARC chains (RFC 8617), with DKIM's code.
 *
 * The sets: every ARC-Seal (AS), ARC-Message-Signature (AMS) and
 * ARC-Authentication-Results (AAR) field is read for its instance (the
 * AS and AMS through DKIM's tag parser as their kind, the AAR's leading
 * "i=N;"); an unusable one, two of a kind for one instance, or a missing
 * one below the highest instance fails the chain (5.1.1).  The seals' cv=
 * must be none on i=1 and pass above it.
 *
 * The AMSs are DKIM signatures read as ARC's kind (no v=, i= the
 * instance, relaxed/relaxed by default): the DKIM verifier streams their
 * body hashes and checks them (dkim_verify.c).  A seal signs, relaxed,
 * each set from i=1 up to its own in the order AAR, AMS, AS, its own AS
 * with b= empty and without its CRLF (RFC 8617 5.1.1): that is built here
 * and checked with DKIM's key and signature code.
 *
 * The result: none without an ARC field, pass when the structure holds,
 * the newest AMS and every seal verify, else fail (a failed key look-up
 * too: ARC has no temperror).  oldest-pass (5.2 step 5): going down from
 * the newest, the instance above the first AMS that does not verify; 0
 * when all do.
 */
#include <string.h>
#include <strings.h>

#include "msgauth/arc.h"
#include "msgauth/dkim.h"
#include "msgauth/dkim_int.h"
#include "util.h"

static const char *arc_names[] = {"none", "pass", "fail"};

const char *arc_result_name(enum arc_result r)
{
	return (size_t)r < sizeof(arc_names) / sizeof(arc_names[0]) ? arc_names[r] : "unknown";
}

void arc_outcome_free(struct arc_outcome *o)
{
	free(o->seal_domain);
	free(o->problem);
	memset(o, 0, sizeof(*o));
}

enum arc_kind { ARC_K_NONE, ARC_K_AAR, ARC_K_AMS, ARC_K_AS };

static enum arc_kind arc_kind_of(const struct dkim_field *f)
{
	if (dkim_field_is(f, "ARC-Seal"))
		return ARC_K_AS;
	if (dkim_field_is(f, "ARC-Message-Signature"))
		return ARC_K_AMS;
	if (dkim_field_is(f, "ARC-Authentication-Results"))
		return ARC_K_AAR;
	return ARC_K_NONE;
}

static bool arc_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The "i=N;" an AAR value starts with (RFC 8617 4.1.1); 0 when bad. */
static int arc_aar_instance(const char *v, size_t len)
{
	size_t i = 0;
	int n = 0;

	while (i < len && arc_blank(v[i]))
		i++;
	if (i == len || (v[i] != 'i' && v[i] != 'I'))
		return 0;
	for (i++; i < len && arc_blank(v[i]); i++)
		;
	if (i == len || v[i++] != '=')
		return 0;
	while (i < len && arc_blank(v[i]))
		i++;
	if (i == len || v[i] < '1' || v[i] > '9')
		return 0;
	for (; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
		n = n * 10 + (v[i] - '0');
		if (n > ARC_MAX_INSTANCE)
			return 0;
	}
	while (i < len && arc_blank(v[i]))
		i++;
	return i < len && v[i] == ';' ? n : 0;
}

int arc_field_instance(const char *field, size_t len, struct buf *why)
{
	struct dkim_field f = {field, len};
	enum arc_kind k = arc_kind_of(&f);
	const char *colon = memchr(field, ':', len);
	size_t vlen;
	int n;

	if (k == ARC_K_NONE || colon == NULL)
		return 0;
	colon++;
	vlen = len - (size_t)(colon - field);
	if (k == ARC_K_AAR) {
		if ((n = arc_aar_instance(colon, vlen)) == 0) {
			buf_puts(why, "ARC-Authentication-Results without a usable i=");
			return -1;
		}
		return n;
	}
	struct dkim_sig s;
	struct buf err = BUF_INIT;

	if (dkim_sig_parse_kind(
		colon, vlen, k == ARC_K_AS ? DKIM_KIND_SEAL : DKIM_KIND_AMS, &s, &err) < 0) {
		buf_printf(why, "unusable %s: %s",
		    k == ARC_K_AS ? "ARC-Seal" : "ARC-Message-Signature", buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	n = s.instance;
	dkim_sig_free(&s);
	return n;
}

/* The fields of each set, by instance. */
struct arc_sets {
	const struct dkim_field *f[ARC_MAX_INSTANCE + 1][3]; /* AAR, AMS, AS */
	int n;						     /* highest instance */
	bool any;					     /* an ARC field seen */
};

/* Collects the sets of fields; -1 (why) when the structure is broken. */
static int arc_collect(const struct dkim_field *f, size_t nf, struct arc_sets *s, struct buf *why)
{
	static const char *const kind[3] = {
	    "ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal"};

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < nf; i++) {
		enum arc_kind k = arc_kind_of(&f[i]);
		int inst;

		if (k == ARC_K_NONE)
			continue;
		s->any = true;
		if ((inst = arc_field_instance(f[i].p, f[i].len, why)) < 0)
			return -1;
		if (s->f[inst][k - 1] != NULL) {
			buf_printf(why, "two %s fields for i=%d", kind[k - 1], inst);
			return -1;
		}
		s->f[inst][k - 1] = &f[i];
		if (inst > s->n)
			s->n = inst;
	}
	for (int i = 1; i <= s->n; i++)
		for (int k = 0; k < 3; k++)
			if (s->f[i][k] == NULL) {
				buf_printf(why, "no %s for i=%d", kind[k], i);
				return -1;
			}
	return 0;
}

/* Sets 1..upto-1 whole, and upto's AAR and AMS: what a seal covers before
 * itself, canonicalised (relaxed) onto out. */
static void arc_seal_prefix(const struct arc_sets *s, int upto, struct buf *out)
{
	for (int i = 1; i <= upto; i++)
		for (int k = 0; k < (i < upto ? 3 : 2); k++)
			dkim_canon_header(DKIM_RELAXED, s->f[i][k]->p, s->f[i][k]->len, out);
}

struct arc_vseal {
	struct dkim_sig s;
	char *key_name;
	bool key_in;
	enum dkim_result key_result;
	struct dkim_key key;
	struct buf why;
};

struct arc_verifier {
	struct buf hdr;
	struct dkim_field *fields;
	size_t nf;
	struct arc_sets sets;
	bool bad;
	struct buf why;
	struct arc_vseal seal[ARC_MAX_INSTANCE + 1];
	struct dkim_verifier *ams;
	size_t nams;
};

/* The seals: parsed, cv= as 5.1.1 wants it. */
static bool arc_open_seals(struct arc_verifier *v)
{
	for (int i = 1; i <= v->sets.n; i++) {
		struct arc_vseal *as = &v->seal[i];
		const struct dkim_field *f = v->sets.f[i][2];
		const char *colon = memchr(f->p, ':', f->len);

		if (dkim_sig_parse_kind(colon + 1, f->len - (size_t)(colon + 1 - f->p),
			DKIM_KIND_SEAL, &as->s, &v->why) < 0)
			return false;
		as->s.hcanon = DKIM_RELAXED;
		as->key_name = xasprintf("%s._domainkey.%s", as->s.s, as->s.d);
	}
	for (int i = v->sets.n; i >= 1; i--) {
		enum arc_cv cv = v->seal[i].s.cv;

		if (cv == ARC_CV_FAIL) {
			buf_printf(&v->why, "ARC-Seal i=%d says cv=fail", i);
			return false;
		}
		if ((i == 1) != (cv == ARC_CV_NONE)) {
			buf_printf(&v->why, "ARC-Seal i=%d has cv=%s", i,
			    cv == ARC_CV_NONE ? "none" : "pass");
			return false;
		}
	}
	return true;
}

struct arc_verifier *arc_verifier_new(const char *hdr, size_t len, long long now)
{
	struct arc_verifier *v = xcalloc(1, sizeof(*v));

	dkim_crlf(hdr, len, &v->hdr);
	(void)dkim_fields(&v->hdr, &v->fields, &v->nf);
	if (arc_collect(v->fields, v->nf, &v->sets, &v->why) < 0 || !arc_open_seals(v)) {
		v->bad = true;
		return v;
	}
	if (v->sets.n == 0)
		return v;
	v->ams = dkim_verifier_new_kind(buf_cstr(&v->hdr), v->hdr.len, now, "ARC-Message-Signature",
	    DKIM_KIND_AMS, ARC_MAX_INSTANCE);
	v->nams = dkim_verifier_count(v->ams);
	return v;
}

void arc_verifier_body(struct arc_verifier *v, const char *p, size_t len)
{
	if (v->ams)
		dkim_verifier_body(v->ams, p, len);
}

size_t arc_verifier_nkeys(const struct arc_verifier *v)
{
	return v->ams ? v->nams + (size_t)v->sets.n : 0;
}

const char *arc_verifier_key_name(const struct arc_verifier *v, size_t i)
{
	if (i >= arc_verifier_nkeys(v))
		return NULL;
	if (i < v->nams)
		return dkim_verifier_key_name(v->ams, i);
	return v->seal[i - v->nams + 1].key_name;
}

void arc_verifier_key(struct arc_verifier *v, size_t i, enum dns_status st, char **txt, size_t n)
{
	struct arc_vseal *as;

	if (i >= arc_verifier_nkeys(v))
		return;
	if (i < v->nams) {
		dkim_verifier_key(v->ams, i, st, txt, n);
		return;
	}
	as = &v->seal[i - v->nams + 1];
	if (as->key_in)
		return;
	as->key_in = true;
	as->key_result = dkim_key_answer(as->key_name, st, txt, n, &as->key, &as->why);
}

/* Does seal i verify?  (why says why not) */
static bool arc_check_seal(struct arc_verifier *v, int i)
{
	struct arc_vseal *as = &v->seal[i];
	struct buf data = BUF_INIT;
	EVP_PKEY *pk;
	bool ok = false;

	if (!as->key_in) {
		buf_printf(&as->why, "key look-up of %s failed", as->key_name);
		return false;
	}
	if (as->key_result != DKIM_PASS || (pk = dkim_key_for(&as->key, &as->s, &as->why)) == NULL)
		return false;
	arc_seal_prefix(&v->sets, i, &data);
	dkim_header_data(&as->s, NULL, 0, v->sets.f[i][2], &data);
	ok = dkim_check_sig(&as->s, pk, &data);
	if (!ok)
		buf_puts(&as->why, "signature does not verify");
	EVP_PKEY_free(pk);
	buf_free(&data);
	return ok;
}

void arc_verifier_finish(struct arc_verifier *v, struct arc_outcome *out)
{
	enum dkim_result ams[ARC_MAX_INSTANCE + 1];
	struct dkim_outcome *o = NULL;
	size_t no = 0;
	int n = v->sets.n;

	memset(out, 0, sizeof(*out));
	if (!v->sets.any)
		return;
	out->result = ARC_FAIL;
	out->instance = n;
	if (n > 0 && v->seal[n].s.d)
		out->seal_domain = xstrdup(v->seal[n].s.d);
	if (v->bad || v->ams == NULL) {
		out->problem = xstrdup(v->bad ? buf_cstr(&v->why) : "no ARC set");
		return;
	}
	for (int i = 0; i <= n; i++)
		ams[i] = DKIM_PERMERROR;
	dkim_verifier_finish(v->ams, &o, &no);
	for (size_t k = 0; k < no; k++) {
		int inst = dkim_verifier_instance(v->ams, k);
		if (inst >= 1 && inst <= n)
			ams[inst] = o[k].result;
		if (inst == n && o[k].result != DKIM_PASS)
			out->problem = xasprintf("ARC-Message-Signature i=%d: %s", n,
			    o[k].problem ? o[k].problem : dkim_result_name(o[k].result));
	}
	dkim_outcomes_free(o, no);
	if (ams[n] != DKIM_PASS) {
		if (out->problem == NULL)
			out->problem = xasprintf("ARC-Message-Signature i=%d does not verify", n);
		return;
	}
	for (int i = n - 1; i >= 1 && out->oldest_pass == 0; i--)
		if (ams[i] != DKIM_PASS)
			out->oldest_pass = i + 1;
	for (int i = n; i >= 1; i--) {
		if (!arc_check_seal(v, i)) {
			out->problem = xasprintf("ARC-Seal i=%d: %s", i, buf_cstr(&v->seal[i].why));
			return;
		}
	}
	out->result = ARC_PASS;
}

void arc_verifier_free(struct arc_verifier *v)
{
	if (v == NULL)
		return;
	for (int i = 1; i <= ARC_MAX_INSTANCE; i++) {
		dkim_sig_free(&v->seal[i].s);
		dkim_key_free(&v->seal[i].key);
		free(v->seal[i].key_name);
		buf_free(&v->seal[i].why);
	}
	dkim_verifier_free(v->ams);
	free(v->fields);
	buf_free(&v->hdr);
	buf_free(&v->why);
	free(v);
}

void arc_verify(const char *msg, size_t len, long long now, dkim_key_lookup_fn *lookup, void *ctx,
    struct arc_outcome *out)
{
	struct buf m = BUF_INIT;
	struct dkim_field *fields;
	size_t n, body_off;
	struct arc_verifier *v;

	dkim_crlf(msg, len, &m);
	body_off = dkim_fields(&m, &fields, &n);
	free(fields);
	v = arc_verifier_new(buf_cstr(&m), body_off, now);
	arc_verifier_body(v, buf_cstr(&m) + body_off, m.len - body_off);
	for (size_t i = 0; i < arc_verifier_nkeys(v); i++) {
		const char *name = arc_verifier_key_name(v, i);
		char **txt = NULL;
		size_t nt = 0;

		if (name == NULL)
			continue;
		enum dns_status st = lookup(ctx, name, &txt, &nt);
		arc_verifier_key(v, i, st, txt, nt);
		strv_free(txt);
	}
	arc_verifier_finish(v, out);
	arc_verifier_free(v);
	buf_free(&m);
}

int arc_seal(const char *hdr, size_t hlen, const unsigned char bh[32], const char *ar,
    enum arc_result cv, const char *domain, const char *selector, EVP_PKEY *key, long long now,
    struct buf *out, struct buf *err)
{
	struct buf m = BUF_INIT, h = BUF_INIT, aar = BUF_INIT, ams = BUF_INIT, as = BUF_INIT;
	struct buf prefix = BUF_INIT;
	struct dkim_field *f = NULL;
	struct arc_sets sets;
	size_t n;
	int rc = -1, inst;
	char *tags;

	dkim_crlf(hdr, hlen, &m);
	(void)dkim_fields(&m, &f, &n);
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		buf_puts(err, "ARC seals with RSA keys only (RFC 8617: rsa-sha256)");
		goto done;
	}
	if (cv == ARC_FAIL) {
		buf_puts(err, "the chain failed: not sealed");
		goto done;
	}
	if (arc_collect(f, n, &sets, err) < 0)
		goto done;
	if ((cv == ARC_NONE) != (sets.n == 0)) {
		buf_puts(err, "the chain's result does not fit its sets");
		goto done;
	}
	if ((inst = sets.n + 1) > ARC_MAX_INSTANCE) {
		buf_printf(err, "the chain has %d sets already", ARC_MAX_INSTANCE);
		goto done;
	}
	/* AAR: i=N; and our Authentication-Results */
	buf_printf(&aar, "ARC-Authentication-Results: i=%d; ", inst);
	dkim_crlf(ar, strlen(ar), &aar);
	while (aar.len > 0 && (aar.data[aar.len - 1] == '\n' || aar.data[aar.len - 1] == '\r'))
		aar.len--;
	/* AMS: DKIM's header list over the message */
	dkim_sign_hlist(f, n, &h);
	tags = xasprintf("i=%d; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=%s; t=%lld;", inst, domain,
	    selector, now);
	rc = dkim_sign_field(
	    "ARC-Message-Signature", tags, buf_cstr(&h), bh, f, n, NULL, key, &ams, err);
	free(tags);
	if (rc < 0)
		goto done;
	/* AS: the sets before, then ours */
	for (int i = 1; i <= sets.n; i++)
		for (int k = 0; k < 3; k++)
			dkim_canon_header(
			    DKIM_RELAXED, sets.f[i][k]->p, sets.f[i][k]->len, &prefix);
	dkim_canon_header(DKIM_RELAXED, aar.data, aar.len, &prefix);
	dkim_canon_header(DKIM_RELAXED, ams.data, ams.len - 2, &prefix);
	tags = xasprintf("i=%d; cv=%s; a=rsa-sha256; d=%s; s=%s; t=%lld;", inst,
	    cv == ARC_PASS ? "pass" : "none", domain, selector, now);
	rc = dkim_sign_field("ARC-Seal", tags, NULL, NULL, NULL, 0, &prefix, key, &as, err);
	free(tags);
	if (rc < 0)
		goto done;
	buf_append(out, as.data, as.len);
	buf_append(out, ams.data, ams.len);
	buf_append(out, aar.data, aar.len);
	buf_puts(out, "\r\n");
done:
	free(f);
	buf_free(&m);
	buf_free(&h);
	buf_free(&aar);
	buf_free(&ams);
	buf_free(&as);
	buf_free(&prefix);
	return rc;
}
