/*
 * valias.c - virtual alias expansion and the recipient duplicate filter
 * (valias.h).
 *
 * The expansion keeps a work list of (address, depth) pairs: an address
 * no table knows is final, one a table knows is replaced by its targets
 * one level deeper.  The work list is bounded by the expansion limit, the
 * depth by the recursion limit, so a loop "a -> b -> a" ends with
 * VALIAS_LIMIT instead of spinning; both limits default to Postfix's 1000.
 */
#include "valias.h"

#include <string.h>

#include "address.h"
#include "config.h"
#include "local_rcpt.h"
#include "resolve.h"
#include "util.h"

#define VALIAS_MAPS "virtual_alias_maps"

struct valias_work {
	char *addr;
	long depth;
};

/* Is domain the machine's own, so that a bare "user" key applies? */
static bool valias_local_domain(const char *domain, bool *error)
{
	if (*domain == 0 || str_case_eq(domain, config_str("myorigin")))
		return true;
	return resolve_domain_in("mydestination", domain, error);
}

/* The rewritten target: "@other" keeps the local part, "user" is qualified. */
static char *valias_target(const char *t, const char *ext, char delim, const char *from_local)
{
	const char *at = strrchr(t, '@');

	if (t[0] == '@')
		return xasprintf("%s%s", from_local, t);
	if (at == NULL)
		return ext ? xasprintf("%s%c%s@%s", t, delim, ext, config_str("myorigin"))
			   : xasprintf("%s@%s", t, config_str("myorigin"));
	if (ext)
		return xasprintf("%.*s%c%s%s", (int)(at - t), t, delim, ext, at);
	return xstrdup(t);
}

/* The keys of addr in Postfix's order; *stripped[i] says the extension
 * was removed for key i (it is then propagated). */
static char **valias_keys(
    const struct local_rcpt *r, const char *addr, bool **stripped, bool *error)
{
	char **keys = xcalloc(6, sizeof(*keys));
	bool *st = xcalloc(6, sizeof(*st));
	size_t n = 0;

	keys[n++] = xstrdup(addr);
	if (r->ext && *r->domain) {
		st[n] = true;
		keys[n++] = xasprintf("%s@%s", r->user, r->domain);
	}
	if (valias_local_domain(r->domain, error)) {
		if (*r->domain)
			keys[n++] = xstrdup(r->local);
		if (r->ext) {
			st[n] = true;
			keys[n++] = xstrdup(r->user);
		}
	}
	if (*r->domain)
		keys[n++] = xasprintf("@%s", r->domain);
	*stripped = st;
	return keys;
}

enum maps_status valias_lookup(const char *addr, char ***targets)
{
	struct maps *m = maps_open(VALIAS_MAPS);
	struct local_rcpt r;
	enum maps_status st = MAPS_NOTFOUND;
	const char *val = NULL;
	bool error = false, *stripped = NULL;
	char **keys, *local, *domain;
	size_t i;

	*targets = NULL;
	if (maps_empty(m))
		return MAPS_NOTFOUND;
	local_rcpt_split(addr, &r);
	keys = valias_keys(&r, addr, &stripped, &error);
	for (i = 0; keys[i] && st == MAPS_NOTFOUND && !error; i++)
		st = maps_find(m, keys[i], 0, &val);
	if (error)
		st = MAPS_TEMPFAIL;
	if (st == MAPS_FOUND) {
		char **t = strv_split_list(val);
		bool ext = stripped[i - 1];

		addr_split(addr, &local, &domain);
		for (size_t j = 0; t[j]; j++) {
			char *nt = valias_target(t[j], ext ? r.ext : NULL, r.delim, local);

			free(t[j]);
			t[j] = nt;
		}
		free(local);
		free(domain);
		*targets = t;
	}
	strv_free(keys);
	free(stripped);
	local_rcpt_free(&r);
	return st;
}

enum maps_status valias_known(const char *addr)
{
	char **t = NULL;
	enum maps_status st = valias_lookup(addr, &t);

	strv_free(t);
	return st;
}

static bool valias_same(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Adds a recipient unless it is a duplicate; orig (or NULL) is the
 * address it was expanded from, kept as ORCPT when there is none. */
static bool valias_add(struct valias_list *list, const char *addr, const char *orcpt,
    const char *notify, const char *orig)
{
	long limit = config_int("duplicate_filter_limit");
	size_t seen = limit > 0 && (size_t)limit < list->n ? (size_t)limit : list->n;
	struct valias_rcpt *nr;

	/* Only the first duplicate_filter_limit recipients are remembered. */
	for (size_t i = 0; i < seen; i++) {
		const struct valias_rcpt *r = &list->v[i];

		if (strcmp(r->addr, addr) == 0 &&
		    valias_same(r->orcpt_added ? NULL : r->orcpt, orcpt) &&
		    valias_same(r->notify, notify)) {
			list->dropped++;
			return false;
		}
	}
	list->v = xreallocarray(list->v, list->n + 1, sizeof(*list->v));
	nr = &list->v[list->n++];
	*nr = (struct valias_rcpt){
	    xstrdup(addr), orcpt ? xstrdup(orcpt) : NULL, notify ? xstrdup(notify) : NULL, false};
	if (orcpt == NULL && orig != NULL && !str_case_eq(orig, addr)) {
		nr->orcpt = xasprintf("rfc822;%s", orig);
		nr->orcpt_added = true;
	}
	return true;
}

bool valias_list_add(
    struct valias_list *list, const char *addr, const char *orcpt, const char *notify)
{
	return valias_add(list, addr, orcpt, notify, NULL);
}

static void valias_work_free(struct valias_work *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].addr);
	free(w);
}

enum valias_status valias_expand(struct valias_list *list, const char *addr, const char *orcpt,
    const char *notify, const char **why)
{
	long depth_max = config_int("virtual_alias_recursion_limit");
	long count_max = config_int("virtual_alias_expansion_limit");
	struct valias_work *w = xcalloc(1, sizeof(*w));
	size_t n = 1, head = 0, nfinal = 0, produced = 0;
	char **final = NULL;
	enum valias_status rc = VALIAS_OK;

	w[0] = (struct valias_work){xstrdup(addr), 0};
	*why = NULL;
	while (head < n && rc == VALIAS_OK) {
		struct valias_work cur = w[head++];
		char **t = NULL;
		enum maps_status st = valias_lookup(cur.addr, &t);

		if (st == MAPS_TEMPFAIL) {
			rc = VALIAS_TEMPFAIL;
			*why = "virtual_alias_maps lookup failure";
		} else if (st == MAPS_NOTFOUND) {
			final = xreallocarray(final, nfinal + 1, sizeof(*final));
			final[nfinal++] = xstrdup(cur.addr);
		} else if (cur.depth + 1 > depth_max) {
			rc = VALIAS_LIMIT;
			*why = "unreasonable virtual_alias_maps map nesting";
		}
		for (size_t i = 0; st == MAPS_FOUND && rc == VALIAS_OK && t[i]; i++) {
			if (++produced > (size_t)(count_max > 0 ? count_max : 1)) {
				rc = VALIAS_LIMIT;
				*why = "unreasonable virtual_alias_maps map expansion size";
			} else if (str_case_eq(t[i], cur.addr)) {
				final = xreallocarray(final, nfinal + 1, sizeof(*final));
				final[nfinal++] = xstrdup(t[i]);
			} else {
				w = xreallocarray(w, n + 1, sizeof(*w));
				w[n++] = (struct valias_work){xstrdup(t[i]), cur.depth + 1};
			}
		}
		strv_free(t);
	}
	for (size_t i = 0; i < nfinal; i++) {
		if (rc == VALIAS_OK)
			valias_add(list, final[i], orcpt, notify, addr);
		free(final[i]);
	}
	free(final);
	valias_work_free(w, n);
	return rc;
}

void valias_list_free(struct valias_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->v[i].addr);
		free(list->v[i].orcpt);
		free(list->v[i].notify);
	}
	free(list->v);
	memset(list, 0, sizeof(*list));
}
