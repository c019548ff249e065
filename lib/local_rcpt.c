/*
 * local_rcpt.c - splitting local recipients and checking that they exist.
 *
 * The split is Postfix's: lower-case the local part, then cut it at the
 * first character that is one of recipient_delimiter's characters (a
 * name such as "owner-list" with '-' as delimiter is therefore looked up
 * whole first by every caller).  The extension keeps its case for
 * ${extension} and the EXTENSION environment variable.
 *
 * local_rcpt_known() opens the tables of local_recipient_maps once per
 * process; a table that fails to open is retried on the next call and
 * reported as an error meanwhile, so the client is told to try later
 * rather than that the user does not exist.
 */
#include "local_rcpt.h"

#include <pwd.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "log.h"
#include "table.h"
#include "util.h"

#define LR_MAX_TABLES 32

struct lr_table {
	char *spec;
	struct table *table;
};

static struct lr_table lr_tables[LR_MAX_TABLES];
static int lr_ntables;

void local_rcpt_split(const char *addr, struct local_rcpt *out)
{
	const char *delims = config_str("recipient_delimiter");
	char *local, *domain;
	size_t cut;

	memset(out, 0, sizeof(*out));
	addr_split(addr, &local, &domain);
	out->domain = domain;
	cut = *delims ? strcspn(local, delims) : strlen(local);
	if (cut > 0 && local[cut] != 0) {
		out->delim = local[cut];
		out->ext = xstrdup(local + cut + 1);
		out->user = xstrndup(local, cut);
	} else {
		out->user = xstrdup(local);
	}
	str_lower(local);
	str_lower(out->user);
	out->local = local;
}

void local_rcpt_free(struct local_rcpt *r)
{
	free(r->local);
	free(r->domain);
	free(r->user);
	free(r->ext);
	memset(r, 0, sizeof(*r));
}

bool local_rcpt_is_passwd_spec(const char *spec)
{
	if (strncmp(spec, "proxy:", 6) == 0)
		spec += 6;
	return strcmp(spec, "unix:passwd.byname") == 0;
}

void local_rcpt_reset(void)
{
	for (int i = 0; i < lr_ntables; i++) {
		table_close(lr_tables[i].table);
		free(lr_tables[i].spec);
	}
	lr_ntables = 0;
}

/* True when spec is one of alias_maps' entries. */
static bool lr_is_alias_table(const char *spec)
{
	char **list = config_list("alias_maps");
	bool found = false;

	for (char **p = list; *p && !found; p++)
		found = strcmp(*p, spec) == 0;
	strv_free(list);
	return found;
}

/* The table for spec, opened once; NULL (logged) while it cannot be. */
static struct table *lr_table(const char *spec)
{
	struct buf err = BUF_INIT;
	struct table *t;

	for (int i = 0; i < lr_ntables; i++)
		if (strcmp(lr_tables[i].spec, spec) == 0)
			return lr_tables[i].table;
	t = table_open(spec, lr_is_alias_table(spec) ? TABLE_ALIASES : 0, &err);
	if (t == NULL) {
		log_warn("local_recipient_maps: %s", buf_cstr(&err));
	} else if (lr_ntables < LR_MAX_TABLES) {
		lr_tables[lr_ntables].spec = xstrdup(spec);
		lr_tables[lr_ntables++].table = t;
	} else {
		log_warn("local_recipient_maps: too many tables, %s ignored", spec);
		table_close(t);
		t = NULL;
	}
	buf_free(&err);
	return t;
}

/* One list entry: is name in it? */
static bool lr_entry_has(const char *spec, const char *name, bool *error)
{
	struct table *t;

	if (local_rcpt_is_passwd_spec(spec))
		return getpwnam(name) != NULL;
	if ((t = lr_table(spec)) == NULL) {
		*error = true;
		return false;
	}
	return table_lookup(t, name, error) != NULL;
}

bool local_rcpt_known(const char *addr, bool *error)
{
	char **list = config_list("local_recipient_maps");
	struct local_rcpt lr;
	bool found = false;

	*error = false;
	if (list[0] == NULL) {
		strv_free(list);
		return true;
	}
	local_rcpt_split(addr, &lr);
	for (char **p = list; *p && !found; p++) {
		found = lr_entry_has(*p, lr.local, error);
		if (!found && lr.ext)
			found = lr_entry_has(*p, lr.user, error);
	}
	local_rcpt_free(&lr);
	strv_free(list);
	if (found)
		*error = false;
	return found;
}
