/*
 * maps.c - lists of lookup tables: one cache per process, one failure policy.
 *
 * Two caches, both searched linearly (a process uses a handful of lists and
 * tables): opened tables by (spec, format), and lists by (what the caller
 * named, the list text it had).  A list holds pointers to its tables'
 * cache entries, so two lists naming one file share one loaded copy.  An
 * entry whose table could not be opened keeps a NULL table and is opened
 * again at its next use; its warning is logged once per failure.
 *
 * The per-look-up cost is what table.c costs (a hash probe; a stat() at
 * most once a second per file table) plus, in maps_open(), the parameter's
 * value from config.c and a comparison with each cached list.
 *
 * Not here: what the values mean (the callers), partial keys beyond
 * "@domain" (transport_maps' parent domains and access tables' address
 * forms stay with their callers), and building tables (tern postmap).
 */
#include "maps.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "table.h"
#include "util.h"

/* One opened table, shared by every list that names it. */
struct maps_table {
	char *spec;
	int flags;	 /* TABLE_ALIASES or 0 */
	struct table *t; /* NULL while it cannot be opened */
	bool warned;	 /* the open failure was logged */
};

struct maps {
	char *name; /* what maps_open() was given */
	char *text; /* the list it stood for then */
	bool param; /* name is a parameter's */
	struct maps_table **tabs;
	size_t n;
};

static struct maps_table **maps_tables;
static size_t maps_ntables;
static struct maps **maps_lists;
static size_t maps_nlists;

char **maps_split(const char *text)
{
	return strv_split_list(text);
}

/* A parameter name (in params.c) rather than list text? */
static bool maps_is_param(const char *s)
{
	if (*s == 0 || s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_")] != 0)
		return false;
	for (const struct param_def *d = param_table; d->name; d++)
		if (strcmp(d->name, s) == 0)
			return true;
	return false;
}

/* aliases(5) format for the tables that alias_maps lists. */
static int maps_format(const char *spec)
{
	char **aliases = maps_split(config_str("alias_maps"));
	int flags = 0;

	for (size_t i = 0; aliases[i] && flags == 0; i++)
		if (strcmp(aliases[i], spec) == 0)
			flags = TABLE_ALIASES;
	strv_free(aliases);
	return flags;
}

int maps_check(const char *spec, struct buf *err)
{
	return table_check(spec, maps_format(spec), err);
}

/* The cache entry of spec (not opened yet when new). */
static struct maps_table *maps_table_entry(const char *spec)
{
	int flags = maps_format(spec);
	struct maps_table *e;

	for (size_t i = 0; i < maps_ntables; i++)
		if (maps_tables[i]->flags == flags && strcmp(maps_tables[i]->spec, spec) == 0)
			return maps_tables[i];
	e = xcalloc(1, sizeof(*e));
	e->spec = xstrdup(spec);
	e->flags = flags;
	maps_tables = xreallocarray(maps_tables, maps_ntables + 1, sizeof(*maps_tables));
	maps_tables[maps_ntables++] = e;
	return e;
}

/* The table, opened now if it is not yet; NULL (logged once) when it fails. */
static struct table *maps_table_get(const struct maps *m, struct maps_table *e)
{
	struct buf err = BUF_INIT;

	if (e->t != NULL)
		return e->t;
	e->t = table_open(e->spec, e->flags, &err);
	if (e->t == NULL && !e->warned)
		log_warn("%s: %s", m->name, buf_cstr(&err));
	e->warned = e->t == NULL;
	buf_free(&err);
	return e->t;
}

static struct maps *maps_build(const char *name, bool param, const char *text)
{
	struct maps *m = xcalloc(1, sizeof(*m));
	char **specs = maps_split(text);

	m->name = xstrdup(name);
	m->param = param;
	m->text = xstrdup(text);
	m->tabs = xcalloc(strv_len(specs) + 1, sizeof(*m->tabs));
	for (; specs[m->n]; m->n++)
		m->tabs[m->n] = maps_table_entry(specs[m->n]);
	strv_free(specs);
	maps_lists = xreallocarray(maps_lists, maps_nlists + 1, sizeof(*maps_lists));
	maps_lists[maps_nlists++] = m;
	return m;
}

/* A parameter's list is rebuilt when its value changed (tests, -o). */
struct maps *maps_open(const char *param_or_list)
{
	const char *text = NULL;
	bool param;

	for (size_t i = 0; i < maps_nlists; i++) {
		struct maps *m = maps_lists[i];

		if (strcmp(m->name, param_or_list) != 0)
			continue;
		if (!m->param)
			return m;
		if (text == NULL)
			text = config_str(param_or_list);
		if (strcmp(m->text, text) == 0)
			return m;
	}
	param = maps_is_param(param_or_list);
	return maps_build(param_or_list, param, param ? config_str(param_or_list) : param_or_list);
}

/* One key in every table, in order; the first answer or failure ends it. */
static enum maps_status maps_find_key(struct maps *m, const char *key, const char **value)
{
	for (size_t i = 0; i < m->n; i++) {
		struct table *t = maps_table_get(m, m->tabs[i]);
		bool error = false;
		const char *v;

		if (t == NULL)
			return MAPS_TEMPFAIL;
		if ((v = table_lookup(t, key, &error)) != NULL) {
			*value = v;
			return MAPS_FOUND;
		}
		if (error)
			return MAPS_TEMPFAIL;
	}
	return MAPS_NOTFOUND;
}

enum maps_status maps_find(struct maps *m, const char *key, int flags, const char **value)
{
	const char *at = strrchr(key, '@');
	enum maps_status st = maps_find_key(m, key, value);
	const char *delims;
	size_t cut;

	if (st != MAPS_NOTFOUND || !(flags & MAPS_ADDR_DOMAIN) || at == NULL || at == key)
		return st;
	/* "user+ext@domain": then "user@domain" (the local part cut at the
	 * first recipient_delimiter character, as local_rcpt_split does). */
	delims = config_str("recipient_delimiter");
	cut = *delims ? strcspn(key, delims) : (size_t)(at - key);
	if (cut > 0 && key + cut < at) {
		char *bare = xasprintf("%.*s%s", (int)cut, key, at);

		st = maps_find_key(m, bare, value);
		free(bare);
		if (st != MAPS_NOTFOUND)
			return st;
	}
	return maps_find_key(m, at, value);
}

bool maps_empty(const struct maps *m)
{
	return m->n == 0;
}

const char *maps_title(const struct maps *m)
{
	return m->name;
}

void maps_reset(void)
{
	for (size_t i = 0; i < maps_nlists; i++) {
		free(maps_lists[i]->name);
		free(maps_lists[i]->text);
		free(maps_lists[i]->tabs);
		free(maps_lists[i]);
	}
	for (size_t i = 0; i < maps_ntables; i++) {
		table_close(maps_tables[i]->t);
		free(maps_tables[i]->spec);
		free(maps_tables[i]);
	}
	free(maps_lists);
	free(maps_tables);
	maps_lists = NULL;
	maps_tables = NULL;
	maps_nlists = maps_ntables = 0;
}
