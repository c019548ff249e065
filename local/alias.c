/*
 * alias.c - expanding a class "local" recipient: aliases, :include:
 * files, ~/.forward, and delivery to each resulting target.
 *
 * A recipient is, in Postfix's order: an alias in alias_maps (tried as
 * "user+ext", then "user"), else a system user, whose ~/.forward (the
 * first existing file of forward_path) replaces the mailbox, else that
 * user's mailbox (user.c).  A target list (alias value, .forward or
 * :include: file) is comma-separated, double quotes protect commas and
 * spaces, and each target is one of
 *   |command        run with /bin/sh -c (command.c)
 *   /path, /path/   appended mbox-style, or a Maildir
 *   :include:/path  another target list, read from that file
 *   \name           name's mailbox, with no alias or .forward look-up
 *   address         expanded again when it is local, else forwarded
 *                   through cleanup as a new message (forward.c); a bare
 *                   name gets the domain of the address being expanded
 * An address in its own expansion ("joe: joe, /archive") means joe's
 * mailbox, so lists can keep a copy without looping.
 *
 * Identities (user.c does the mailboxes): files and commands of aliases
 * run as default_privs; those of a .forward as its user (default_privs
 * for root); an :include: file owned by someone other than root makes
 * its targets run as that owner, and is read as the identity of the list
 * that names it.  allow_mail_to_commands and allow_mail_to_files say in
 * which of alias, forward and include those targets may appear.
 *
 * Loops: an address already in a Delivered-To: header, or one that comes
 * back inside its own expansion (a: b, b: a), is bounced (5.4.6); every
 * nesting step counts against local_alias_depth_limit; each target is
 * delivered at most once per recipient (two lists naming one user).  owner-NAME:
 * when the alias owner-NAME exists, the expansion of NAME uses
 * owner-NAME as envelope sender, so errors of forwarded copies go there.
 *
 * One result is reported for the recipient qmgr gave: the worst of its
 * targets (deferred over bounced over sent), so a temporary failure of
 * one target retries the recipient, which may deliver the others again.
 * The log has a line per target, as Postfix's: to=<the address delivered
 * to (for a file or command, the address whose list named it)> and
 * orig_to=<the recipient qmgr gave>.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "address.h"
#include "alias_list.h"
#include "buf.h"
#include "config.h"
#include "local_rcpt.h"
#include "log.h"
#include "privs.h"
#include "proto.h"
#include "resolve.h"
#include "maps.h"
#include "util.h"

#define XP_FILE_MAX (1024 * 1024) /* largest .forward or :include: file */

enum xp_origin { XP_QUEUE, XP_ALIAS, XP_FORWARD, XP_INCLUDE };

/* One recipient's expansion. */
struct xp {
	const char *orig;
	struct local_result *r;
	struct local_targets *t; /* each delivery, for the log */
	bool have;		 /* r holds a result */
	char **seen;
	size_t nseen;
};

/* Where a target list came from, and with which rights it runs. */
struct xp_ctx {
	const struct local_msg *msg; /* its sender may be owner-NAME */
	enum xp_origin origin;
	const char *addr; /* the address being expanded */
	const char *self; /* its name: a self-reference is its mailbox */
	const char *ext;
	const struct local_user *as;   /* identity for files, commands, includes */
	const struct local_user *envu; /* user for command environments */
	int depth;
	const struct xp_ctx *up; /* the expansion this one is part of */
};

static void xp_address(
    struct xp *x, const struct xp_ctx *parent, const char *addr, int depth, bool mailbox_only);

/* Worst wins: deferred, then bounced, then sent. */
static int xp_rank(const char *res)
{
	if (strcmp(res, RES_DEFERRED) == 0)
		return 2;
	return strcmp(res, RES_BOUNCED) == 0 ? 1 : 0;
}

/* Merges the result of one delivery to (or failure at) address to. */
static void xp_merge(struct xp *x, const char *to, const struct local_result *one)
{
	local_targets_add(x->t, to ? to : x->orig, one);
	if (!x->have || xp_rank(one->result) > xp_rank(x->r->result))
		*x->r = *one;
	x->have = true;
}

static void xp_fail(struct xp *x, const char *to, const char *res, const char *dsn, const char *fmt,
    const char *arg)
{
	struct local_result one;

	local_result_set(&one, res, dsn, fmt, arg);
	xp_merge(x, to, &one);
}

/* True the first time key is seen in this expansion. */
static bool xp_first(struct xp *x, const char *key)
{
	for (size_t i = 0; i < x->nseen; i++)
		if (strcmp(x->seen[i], key) == 0)
			return false;
	x->seen = xreallocarray(x->seen, x->nseen + 1, sizeof(*x->seen));
	x->seen[x->nseen++] = xstrdup(key);
	return true;
}

/* ------------------------------------------------------------ tables */

/* The alias value of name (a copy), NULL when none; *error on failure. */
static char *xp_alias(const char *name, bool *error)
{
	const char *v = NULL;
	enum maps_status st = maps_find(maps_open("alias_maps"), name, 0, &v);

	*error = st == MAPS_TEMPFAIL;
	return st == MAPS_FOUND ? xstrdup(v) : NULL;
}

/* ------------------------------------------------------------ files */

/*
 * Reads a .forward or :include: file with as's identity.  NULL when it
 * does not exist (*missing) or is unfit (*missing false, logged).  The
 * owner goes to *owner.  Group- or world-writable files and files owned
 * by someone other than want_owner (or root) are refused: anyone could
 * otherwise make local run commands as their owner.
 */
static char *xp_read_file(
    const char *path, const struct local_user *as, long want_owner, uid_t *owner, bool *missing)
{
	bool switched = geteuid() == 0 && as->uid != 0;
	struct stat st;
	char *text = NULL;
	ssize_t n;
	int fd;

	if (switched)
		priv_set_effective(as->uid, as->gid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	*missing = fd < 0 && (errno == ENOENT || errno == ENOTDIR);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    !(st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    (want_owner < 0 || st.st_uid == 0 || st.st_uid == (uid_t)want_owner) &&
	    st.st_size <= XP_FILE_MAX) {
		text = xmalloc((size_t)st.st_size + 1);
		n = read(fd, text, (size_t)st.st_size);
		text[n > 0 ? n : 0] = 0;
		*owner = st.st_uid;
	} else if (!*missing) {
		log_warn("ignoring %s: cannot read it, or not a regular file owned by its user or "
			 "root without group or world write permission",
		    path);
	}
	if (fd >= 0)
		close(fd);
	if (switched)
		priv_restore();
	return text;
}

/* ------------------------------------------------------------ targets */

/* Is a target kind ("allow_mail_to_commands") allowed from origin? */
static bool xp_allowed(const char *param, enum xp_origin origin)
{
	static const char *const names[] = {"", "alias", "forward", "include"};
	char **list = config_list(param);
	bool ok = false;

	for (char **p = list; *p; p++)
		ok = ok || strcmp(*p, names[origin]) == 0;
	strv_free(list);
	return ok;
}

static void xp_command(struct xp *x, const struct xp_ctx *c, const char *cmd)
{
	struct local_result one;
	struct local_cmd lc;

	if (!xp_allowed("allow_mail_to_commands", c->origin)) {
		xp_fail(x, c->addr, RES_BOUNCED, "5.7.1", "mail to command is restricted: %s", cmd);
		return;
	}
	lc.command = cmd;
	lc.uid = c->as->uid;
	lc.gid = c->as->gid;
	lc.user_name = c->as->name;
	lc.home = c->envu->home;
	lc.env = user_command_env(c->msg, c->addr, x->orig, c->ext, c->envu);
	command_deliver(c->msg, c->addr, &lc, &one);
	strv_free(lc.env);
	xp_merge(x, c->addr, &one);
}

static void xp_file(struct xp *x, const struct xp_ctx *c, const char *path)
{
	struct local_result one;
	bool switched = geteuid() == 0 && c->as->uid != 0;

	if (!xp_allowed("allow_mail_to_files", c->origin)) {
		xp_fail(x, c->addr, RES_BOUNCED, "5.7.1", "mail to file is restricted: %s", path);
		return;
	}
	if (switched)
		priv_set_effective(c->as->uid, c->as->gid);
	if (path[strlen(path) - 1] == '/')
		maildir_deliver(c->msg, c->addr, path, &one);
	else
		mbox_deliver(c->msg, c->addr, path, &one);
	if (switched)
		priv_restore();
	if (strcmp(one.result, RES_SENT) == 0)
		local_result_set(&one, RES_SENT, "2.0.0", "delivered to file: %s", path);
	xp_merge(x, c->addr, &one);
}

static void xp_list(struct xp *x, const struct xp_ctx *c, const char *text);

static void xp_include(struct xp *x, const struct xp_ctx *c, const char *path)
{
	struct local_user owner_user;
	const struct local_user *as = c->as;
	struct xp_ctx sub = *c;
	bool missing, have_owner = false;
	uid_t owner = 0;
	char *text = xp_read_file(path, c->as, -1, &owner, &missing);
	struct passwd *pw;

	if (text == NULL) {
		xp_fail(x, c->addr, RES_DEFERRED, "4.3.0", "cannot read include file %s", path);
		return;
	}
	if (owner != 0 && owner != c->as->uid && (pw = getpwuid(owner)) != NULL &&
	    local_user_lookup(pw->pw_name, &owner_user)) {
		as = &owner_user;
		have_owner = true;
	}
	sub.origin = XP_INCLUDE;
	sub.up = c;
	sub.as = as;
	sub.depth = c->depth + 1;
	xp_list(x, &sub, text);
	if (have_owner)
		local_user_free(&owner_user);
	free(text);
}

/* "name" gets the domain of the address being expanded. */
static char *xp_qualify(const struct xp_ctx *c, const char *t)
{
	const char *at = strrchr(c->addr, '@');

	if (strchr(t, '@') || at == NULL)
		return xstrdup(t);
	return xasprintf("%s%s", t, at);
}

/* The local part of addr, lower-cased. */
static char *xp_local(const char *addr)
{
	char *local, *domain;

	addr_split(addr, &local, &domain);
	free(domain);
	str_lower(local);
	return local;
}

static void xp_target(struct xp *x, const struct xp_ctx *c, char *t)
{
	bool mailbox_only = false;
	char *addr, *local;

	if (c->depth > config_int("local_alias_depth_limit")) {
		xp_fail(x, c->addr, RES_BOUNCED, "5.4.6",
		    "alias expansion depth limit exceeded at %s", t);
		return;
	}
	if (*t == '|') {
		xp_command(x, c, t + 1);
		return;
	}
	if (*t == '/') {
		xp_file(x, c, t);
		return;
	}
	if (strncasecmp(t, ":include:", 9) == 0) {
		xp_include(x, c, str_trim(t + 9));
		return;
	}
	if (*t == '\\') {
		mailbox_only = true;
		t++;
	}
	addr = xp_qualify(c, t);
	local = xp_local(addr);
	if (c->self && strcmp(local, c->self) == 0)
		mailbox_only = true;
	xp_address(x, c, addr, c->depth + 1, mailbox_only);
	free(local);
	free(addr);
}

static void xp_list(struct xp *x, const struct xp_ctx *c, const char *text)
{
	char **v = alias_targets(text);

	for (char **p = v; *p; p++)
		xp_target(x, c, *p);
	strv_free(v);
}

/* ------------------------------------------------------------ addresses */

/* owner-NAME@domain when that alias exists, else NULL. */
static char *xp_owner(const char *name, const char *domain)
{
	char *key = xasprintf("owner-%s", name), *v, *owner = NULL;
	bool error;

	if ((v = xp_alias(key, &error)) != NULL)
		owner = *domain ? xasprintf("%s@%s", key, domain) : xstrdup(key);
	free(v);
	free(key);
	return owner;
}

static bool xp_try_alias(struct xp *x, const struct xp_ctx *parent, const char *addr,
    const struct local_rcpt *lr, int depth)
{
	static const struct local_user alias_env = {"", 0, 0, "/", "/bin/sh"};
	const char *name = lr->local;
	struct local_user as, env = alias_env;
	struct local_msg m = *parent->msg;
	struct xp_ctx c;
	bool error;
	char *v = xp_alias(name, &error), *owner;

	if (v == NULL && !error && lr->ext)
		v = xp_alias(name = lr->user, &error);
	if (error) {
		xp_fail(x, addr, RES_DEFERRED, "4.3.0", "alias table lookup failed for %s", addr);
		return true;
	}
	if (v == NULL)
		return false;
	env.name = (char *)name;
	local_user_privs(&env, &as); /* uid 0: default_privs */
	as.name = NULL;
	owner = xp_owner(name, lr->domain);
	if (owner)
		m.sender = owner;
	c = (struct xp_ctx){&m, XP_ALIAS, addr, name, lr->ext, &as, &env, depth, parent};
	xp_list(x, &c, v);
	free(owner);
	free(v);
	return true;
}

/* Expands $home, ${user}, ... in one forward_path entry; NULL when it
 * names a variable that is empty (the entry is then skipped). */
static char *xp_forward_path(
    const char *entry, const struct local_user *u, const struct local_rcpt *lr, const char *addr)
{
	const char *names[] = {"home", "user", "extension", "recipient_delimiter", "domain",
	    "local", "recipient", "shell"};
	char delim[2] = {lr->delim ? lr->delim : config_str("recipient_delimiter")[0], 0};
	const char *values[] = {
	    u->home, u->name, lr->ext, delim, lr->domain, lr->local, addr, u->shell};
	struct buf out = BUF_INIT;

	for (const char *p = entry; *p;) {
		size_t k, n;
		bool brace = p[0] == '$' && p[1] == '{';

		if (*p != '$') {
			buf_putc(&out, *p++);
			continue;
		}
		p += brace ? 2 : 1;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
		for (k = 0; k < 8; k++)
			if (strlen(names[k]) == n && strncmp(p, names[k], n) == 0)
				break;
		if (k == 8 || values[k] == NULL || *values[k] == 0 || (brace && p[n] != '}')) {
			buf_free(&out);
			return NULL;
		}
		buf_puts(&out, values[k]);
		p += n + (brace ? 1 : 0);
	}
	return xstrdup(buf_cstr(&out));
}

/* The user's .forward, when there is a usable one: true once expanded. */
static bool xp_try_forward(struct xp *x, const struct xp_ctx *parent, const char *addr,
    const struct local_rcpt *lr, const struct local_user *u, int depth)
{
	/* Raw: $home and friends are ours to expand, not main.cf's. */
	const char *raw = config_raw("forward_path");
	char **list = strv_split(raw ? raw : "", ", \t\n");
	bool done = false, missing;
	struct local_user as;
	uid_t owner;

	local_user_privs(u, &as);
	for (char **p = list; *p && !done; p++) {
		char *path = xp_forward_path(*p, u, lr, addr), *text;

		if (path && (text = xp_read_file(path, &as, (long)u->uid, &owner, &missing))) {
			struct xp_ctx c = {
			    parent->msg, XP_FORWARD, addr, u->name, lr->ext, &as, u, depth, parent};

			xp_list(x, &c, text);
			free(text);
			done = true;
		}
		free(path);
	}
	strv_free(list);
	return done;
}

static void xp_mailbox(struct xp *x, const struct xp_ctx *c, const char *addr,
    const struct local_rcpt *lr, const struct local_user *u)
{
	struct local_result one;

	user_deliver_mailbox(c->msg, addr, x->orig, lr->ext, u, &one);
	xp_merge(x, addr, &one);
}

/* Non-local targets: a new message through cleanup. */
static void xp_forward(struct xp *x, const struct xp_ctx *c, const char *addr)
{
	struct local_result one;
	char *rcpts[1] = {(char *)addr};

	forward_submit(c->msg, c->msg->sender, c->addr, rcpts, 1, &one);
	xp_merge(x, addr, &one);
}

/* True when addr is being expanded further up: an alias or .forward loop. */
static bool xp_in_progress(const struct xp_ctx *c, const char *addr)
{
	for (; c; c = c->up)
		if (c->addr && strcasecmp(c->addr, addr) == 0)
			return true;
	return false;
}

static void xp_address(
    struct xp *x, const struct xp_ctx *parent, const char *addr, int depth, bool mailbox_only)
{
	struct local_rcpt lr;
	struct local_user u;
	struct resolved res;
	char *key = xasprintf("%d:%s", mailbox_only, addr);

	str_lower(key);
	if (!mailbox_only && xp_in_progress(parent, addr)) {
		xp_fail(x, addr, RES_BOUNCED, "5.4.6", "alias or .forward loop at %s", addr);
		free(key);
		return;
	}
	if (!xp_first(x, key)) {
		free(key);
		return;
	}
	free(key);
	if (depth > config_int("local_alias_depth_limit")) {
		xp_fail(x, addr, RES_BOUNCED, "5.4.6", "alias expansion depth limit exceeded at %s",
		    addr);
		return;
	}
	if (local_header_delivered_to(parent->msg, addr)) {
		xp_fail(x, addr, RES_BOUNCED, "5.4.6", "mail forwarding loop for %s", addr);
		return;
	}
	if (!resolve_addr(addr, &res)) {
		xp_fail(x, addr, RES_DEFERRED, "4.3.0", "address resolution failed for %s", addr);
		return;
	}
	if (res.cls != CLASS_LOCAL) {
		xp_forward(x, parent, addr);
		return;
	}
	local_rcpt_split(addr, &lr);
	if (!mailbox_only && xp_try_alias(x, parent, addr, &lr, depth)) {
		local_rcpt_free(&lr);
		return;
	}
	if (!local_user_lookup(lr.user, &u))
		xp_fail(x, addr, RES_BOUNCED, "5.1.1", "unknown user: \"%s\"", lr.user);
	else if (mailbox_only || !xp_try_forward(x, parent, addr, &lr, &u, depth + 1))
		xp_mailbox(x, parent, addr, &lr, &u);
	local_user_free(&u);
	local_rcpt_free(&lr);
}

void alias_deliver(
    const struct local_msg *m, const char *rcpt, struct local_result *r, struct local_targets *t)
{
	struct xp x = {rcpt, r, t, false, NULL, 0};
	struct xp_ctx top = {m, XP_QUEUE, NULL, NULL, NULL, NULL, NULL, 0, NULL};

	xp_address(&x, &top, rcpt, 0, false);
	if (!x.have)
		local_result_set(r, RES_BOUNCED, "5.3.5", "alias for %s expands to nothing", rcpt);
	for (size_t i = 0; i < x.nseen; i++)
		free(x.seen[i]);
	free(x.seen);
}
