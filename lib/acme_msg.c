/*
 * acme_msg.c - ACME's JSON answers read with jansson (acme_msg.h).
 */
#include "acme_msg.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ACME_ERR "urn:ietf:params:acme:error:"

bool acme_token_ok(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!(s[n] >= 'A' && s[n] <= 'Z') && !(s[n] >= 'a' && s[n] <= 'z') &&
		    !(s[n] >= '0' && s[n] <= '9') && s[n] != '-' && s[n] != '_')
			return false;
	return n > 0 && n <= ACME_TOKEN_MAX;
}

bool acme_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

static json_t *parse_object(const char *text, size_t len, struct buf *why)
{
	json_error_t e;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);

	if (j == NULL) {
		buf_printf(why, "not JSON: %s", e.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		buf_puts(why, "not a JSON object");
		json_decref(j);
		return NULL;
	}
	return j;
}

/* A string member (copied) or NULL; url: it must be https://... */
static char *member(json_t *o, const char *name, bool url)
{
	const char *s = json_string_value(json_object_get(o, name));

	if (s == NULL || *s == '\0' || strlen(s) > 2048)
		return NULL;
	if (url && strncmp(s, "https://", 8) != 0)
		return NULL;
	return xstrdup(s);
}

static bool need(char *v, const char *name, struct buf *why)
{
	if (v == NULL)
		buf_printf(why, "no valid \"%s\"", name);
	return v != NULL;
}

bool acme_directory_parse(const char *text, size_t len, struct acme_directory *d, struct buf *why)
{
	json_t *j = parse_object(text, len, why);
	json_t *meta;

	memset(d, 0, sizeof(*d));
	if (j == NULL)
		return false;
	d->new_nonce = member(j, "newNonce", true);
	d->new_account = member(j, "newAccount", true);
	d->new_order = member(j, "newOrder", true);
	meta = json_object_get(j, "meta");
	d->has_terms =
	    json_is_object(meta) && json_is_string(json_object_get(meta, "termsOfService"));
	json_decref(j);
	return need(d->new_nonce, "newNonce", why) && need(d->new_account, "newAccount", why) &&
	       need(d->new_order, "newOrder", why);
}

static void problem_of(json_t *p, struct buf *out)
{
	const char *type = json_string_value(json_object_get(p, "type"));
	const char *detail = json_string_value(json_object_get(p, "detail"));
	json_t *subs = json_object_get(p, "subproblems");
	size_t i;
	json_t *s;

	buf_printf(out, "%s: %s", type ? type : "(no type)", detail ? detail : "(no detail)");
	if (!json_is_array(subs))
		return;
	json_array_foreach(subs, i, s)
	{
		const char *sd = json_string_value(json_object_get(s, "detail"));
		const char *sv =
		    json_string_value(json_object_get(json_object_get(s, "identifier"), "value"));

		if (json_is_object(s) && i < 10)
			buf_printf(out, "; %s: %s", sv ? sv : "?", sd ? sd : "?");
	}
}

bool acme_order_parse(const char *text, size_t len, struct acme_order *o, struct buf *why)
{
	json_t *j = parse_object(text, len, why);
	json_t *az, *err, *a;
	size_t i, n = 0;

	memset(o, 0, sizeof(*o));
	if (j == NULL)
		return false;
	o->status = member(j, "status", false);
	o->finalize = member(j, "finalize", true);
	o->certificate = member(j, "certificate", true);
	az = json_object_get(j, "authorizations");
	o->authorizations =
	    xcalloc(json_is_array(az) ? json_array_size(az) + 1 : 1, sizeof(char *));
	if (json_is_array(az))
		json_array_foreach(az, i, a)
		{
			const char *s = json_string_value(a);

			if (s && strncmp(s, "https://", 8) == 0 && strlen(s) <= 2048)
				o->authorizations[n++] = xstrdup(s);
		}
	if ((err = json_object_get(j, "error")) != NULL && json_is_object(err)) {
		struct buf b = BUF_INIT;

		problem_of(err, &b);
		o->problem = xstrdup(buf_cstr(&b));
		buf_free(&b);
	}
	json_decref(j);
	return need(o->status, "status", why) && need(o->finalize, "finalize", why);
}

bool acme_authz_parse(
    const char *text, size_t len, const char *want, struct acme_authz *a, struct buf *why)
{
	json_t *j = parse_object(text, len, why);
	json_t *chals, *c;
	bool seen = false;
	size_t i;

	memset(a, 0, sizeof(*a));
	if (j == NULL)
		return false;
	a->status = member(j, "status", false);
	a->domain = member(json_object_get(j, "identifier"), "value", false);
	if (a->domain && !acme_name_ok(a->domain)) {
		free(a->domain);
		a->domain = NULL;
	}
	chals = json_object_get(j, "challenges");
	if (json_is_array(chals))
		json_array_foreach(chals, i, c)
		{
			const char *type = json_string_value(json_object_get(c, "type"));
			json_t *err = json_object_get(c, "error");

			if (seen || type == NULL || strcmp(type, want) != 0)
				continue;
			seen = true; /* the first of that type: a malformed one is no challenge */
			a->chal_url = member(c, "url", true);
			a->chal_token = member(c, "token", false);
			a->chal_status = member(c, "status", false);
			if (a->chal_token && !acme_token_ok(a->chal_token)) {
				free(a->chal_token);
				a->chal_token = NULL;
			}
			if (json_is_object(err)) {
				struct buf b = BUF_INIT;

				problem_of(err, &b);
				a->problem = xstrdup(buf_cstr(&b));
				buf_free(&b);
			}
		}
	json_decref(j);
	if (!need(a->status, "status", why) || !need(a->domain, "identifier", why))
		return false;
	/* A valid authorization needs no challenge; a pending one does. */
	if (strcmp(a->status, "pending") == 0 && (!need(a->chal_url, "challenge url", why) ||
						     !need(a->chal_token, "challenge token", why)))
		return false;
	return true;
}

bool acme_problem_text(const char *text, size_t len, struct buf *out)
{
	struct buf why = BUF_INIT;
	json_t *j = parse_object(text, len, &why);
	bool ok = j && json_is_string(json_object_get(j, "type"));

	if (ok)
		problem_of(j, out);
	json_decref(j);
	buf_free(&why);
	return ok;
}

bool acme_problem_is(const char *text, size_t len, const char *name)
{
	struct buf why = BUF_INIT;
	json_t *j = parse_object(text, len, &why);
	const char *type = j ? json_string_value(json_object_get(j, "type")) : NULL;
	bool is = type && strncmp(type, ACME_ERR, strlen(ACME_ERR)) == 0 &&
		  strcmp(type + strlen(ACME_ERR), name) == 0;

	json_decref(j);
	buf_free(&why);
	return is;
}

void acme_directory_free(struct acme_directory *d)
{
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	memset(d, 0, sizeof(*d));
}

void acme_order_free(struct acme_order *o)
{
	free(o->status);
	free(o->finalize);
	free(o->certificate);
	free(o->problem);
	strv_free(o->authorizations);
	memset(o, 0, sizeof(*o));
}

void acme_authz_free(struct acme_authz *a)
{
	free(a->status);
	free(a->domain);
	free(a->chal_url);
	free(a->chal_token);
	free(a->chal_status);
	free(a->problem);
	memset(a, 0, sizeof(*a));
}
