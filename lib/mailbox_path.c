/*
 * mailbox_path.c - a user's Maildir from main.cf and the virtual tables
 * (see mailbox_path.h).  Tables through maps.h, so a daemon that asks
 * for many users opens each table once.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mailbox_path.h"
#include "maps.h"
#include "util.h"

static char *mbp_strip(char *path)
{
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		path[--len] = 0;
	return path;
}

static char *mbp_virtual(const char *addr, struct buf *err)
{
	const char *v = NULL, *base = config_str("virtual_mailbox_base");
	enum maps_status st;

	if (maps_empty(maps_open("virtual_mailbox_maps"))) {
		buf_printf(err, "no virtual_mailbox_maps for %s", addr);
		return NULL;
	}
	st = maps_find(maps_open("virtual_mailbox_maps"), addr, MAPS_ADDR_DOMAIN, &v);
	if (st == MAPS_TEMPFAIL) {
		buf_printf(err, "virtual_mailbox_maps cannot be read");
		return NULL;
	}
	if (st == MAPS_NOTFOUND) {
		buf_printf(err, "%s has no virtual mailbox", addr);
		return NULL;
	}
	if (*base == 0 || v[0] == '/' || strstr(v, "..")) {
		buf_printf(err, "virtual mailbox of %s refused: %s", addr, v);
		return NULL;
	}
	return mbp_strip(xasprintf("%s/%s", base, v));
}

char *mailbox_resolve(const char *who, struct buf *err)
{
	const char *hm = config_str("home_mailbox");
	struct passwd *pw;

	if (strchr(who, '/'))
		return mbp_strip(xstrdup(who));
	if (strchr(who, '@'))
		return mbp_virtual(who, err);
	if ((pw = getpwnam(who)) == NULL) {
		buf_printf(err, "no such user: %s", who);
		return NULL;
	}
	if (*hm == 0) {
		buf_printf(err, "home_mailbox is empty: %s has no Maildir", who);
		return NULL;
	}
	return mbp_strip(xasprintf("%s/%s", pw->pw_dir, hm));
}
