/*
 * dmarc_walk.c - the DNS tree walk of RFC 9989 section 4.10 (see
 * dmarc.h), as a state machine the caller drives with DNS answers, and
 * alignment against its organisational domain.
 *
 * The steps, as the RFC numbers them: ask _dmarc.NAME; keep the answer's
 * records that begin "v=DMARC1" (several: all discarded, as none); a
 * psd=n record stops the walk.  Then the next target: with x labels, one
 * label less when x < 8, else the last 7; ask again, and stop at a psd=n
 * or psd=y record, or when no label is left.  So a walk asks at most 8
 * names (the first, then 7, 6, ..., 1 labels).
 *
 * A look-up that fails stops the walk (temperror): what was found before
 * it stands, and the caller decides (cleanup: no policy found yet is
 * dmarc=temperror).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "msgauth/dmarc.h"
#include "util.h"

static size_t walk_labels(const char *name)
{
	size_t n = 1;

	for (const char *p = name; *p; p++)
		n += *p == '.';
	return n;
}

/* name without its leftmost labels, keeping keep labels (a pointer into
 * name). */
static const char *walk_suffix(const char *name, size_t keep)
{
	size_t drop = walk_labels(name) - keep;
	const char *p = name;

	while (drop-- > 0 && (p = strchr(p, '.')) != NULL)
		p++;
	return p ? p : name;
}

void dmarc_walk_init(struct dmarc_walk *w, const char *name, bool psl)
{
	size_t len;

	memset(w, 0, sizeof(*w));
	w->name = xstrdup(name);
	str_lower(w->name);
	len = strlen(w->name);
	if (len > 0 && w->name[len - 1] == '.')
		w->name[len - 1] = 0;
	w->psl = psl;
	w->org = xstrdup(w->name);
	w->next = xstrdup(w->name);
}

/* The single DMARC record of an answer, or false (none, several, broken). */
static bool walk_record(char *const *txt, size_t n, struct dmarc_record *out)
{
	struct buf err = BUF_INIT;
	size_t found = 0;

	for (size_t i = 0; i < n; i++) {
		struct dmarc_record r;

		if (strncmp(txt[i], "v=DMARC1", 8) != 0 && strncmp(txt[i], "v = DMARC1", 10) != 0)
			continue;
		buf_reset(&err);
		if (dmarc_record_parse(txt[i], strlen(txt[i]), &r, &err) == 0 && found++ == 0)
			*out = r;
	}
	buf_free(&err);
	return found == 1;
}

static void walk_set(char **field, const char *value)
{
	free(*field);
	*field = value ? xstrdup(value) : NULL;
}

/* The RFC 7489 walk: the name, then (no record there) its organisational
 * domain by the Public Suffix List. */
static void walk_psl_step(struct dmarc_walk *w, const char *cur)
{
	char *org;

	if (w->asked != 1)
		return;
	org = dmarc_org_domain(w->name);
	walk_set(&w->org, org);
	if (!w->have_policy && strcmp(org, cur) != 0)
		w->next = org;
	else
		free(org);
}

void dmarc_walk_answer(struct dmarc_walk *w, int st, char *const *txt, size_t n)
{
	char *cur = w->next;
	struct dmarc_record r;
	bool have;
	size_t x;

	w->next = NULL;
	if (cur == NULL)
		return;
	w->asked++;
	if (st == DNS_RETRY || st == DNS_FAIL) {
		w->temperror = true;
		free(cur);
		return;
	}
	have = st == DNS_OK && walk_record(txt, n, &r);
	if (have && !w->have_policy) {
		w->have_policy = true;
		w->policy = r;
		walk_set(&w->policy_at, cur);
	}
	if (w->psl) {
		walk_psl_step(w, cur);
		free(cur);
		return;
	}
	if (have) {
		/* psd=y at the first name is no boundary below it (RFC 9989
		 * 4.10.2: a record "other than the one for the domain where the
		 * tree walk started") */
		bool first = strcmp(cur, w->name) == 0;
		if (r.psd == DMARC_PSD_Y && !first) {
			walk_set(&w->org, walk_suffix(w->name, walk_labels(cur) + 1));
			free(cur);
			return;
		}
		walk_set(&w->org, cur);
		if (r.psd == DMARC_PSD_N) {
			free(cur);
			return;
		}
	}
	x = walk_labels(cur);
	if (x > 1 && w->asked < DMARC_WALK_MAX)
		w->next = xstrdup(walk_suffix(cur, x < 8 ? x - 1 : 7));
	free(cur);
}

void dmarc_walk_free(struct dmarc_walk *w)
{
	free(w->name);
	free(w->next);
	free(w->policy_at);
	free(w->org);
	memset(w, 0, sizeof(*w));
}

/* name equals domain or is under it (any case, no final dots). */
static bool walk_at_or_under(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (n == d)
		return strcasecmp(name, domain) == 0;
	return n > d && name[n - d - 1] == '.' && strcasecmp(name + n - d, domain) == 0;
}

bool dmarc_aligned_org(const char *id, const char *from, const char *org, bool strict)
{
	if (id == NULL || from == NULL || *id == 0)
		return false;
	if (strcasecmp(id, from) == 0)
		return true;
	return !strict && org && walk_at_or_under(id, org);
}
