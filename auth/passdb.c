/*
 * passdb.c - where accounts come from, in this order:
 *
 *   1. the users file (auth_users_file, Dovecot's passwd-file format,
 *      users(5)), with its app passwords (auth_app_password_file);
 *   2. for SMTP only, smtpd_sasl_password_maps: the "user  hash" table
 *      that "tern passwd" writes, kept working for configurations made
 *      before the users file existed;
 *   3. with auth_system_users = yes, the machine's accounts: getpwnam()
 *      for the account, PAM (through the root helper) for the password.
 *
 * Both files are read again when they change (a stat() per look-up
 * compares device, inode, size and modification time; "tern user"
 * replaces them by rename, so a change is seen by the next login), and
 * the verification cache is emptied then, so a removed account or a
 * revoked app password stops working at once.  A line that cannot be
 * parsed is logged with its file and line number and skipped.
 *
 * An account's Maildir: the "userdb_mail=maildir:PATH" extra field ("~"
 * is the home), else the user's virtual_mailbox_maps entry under
 * virtual_mailbox_base (what "tern user add" makes), else, for system
 * users, home_mailbox under the home; else none ("").
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "auth/passwd_file.h"
#include "config.h"
#include "log.h"
#include "maps.h"
#include "util.h"

#define PASSDB_MAX_FILE (64 << 20)

struct watched_file {
	const char *param;
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool seen;    /* stat() succeeded once */
	bool missing; /* reported missing */
	struct buf text;
};

static struct {
	struct watched_file users, apps;
	struct pwf pwf;
	char *app_text;
	struct pwf_app *app;
	size_t napp;
	unsigned generation;
	char **legacy_specs;
} db;

const char *acct_source_name(enum acct_source src)
{
	switch (src) {
	case ACCT_USERS: return "passwd-file";
	case ACCT_LEGACY: return "sasl-table";
	case ACCT_SYSTEM: return "pam";
	}
	return "?";
}

unsigned passdb_generation(void)
{
	return db.generation;
}

/* ------------------------------------------------------------ files */

/* Reads the file when it changed; true when new text is in f->text. */
static bool file_changed(struct watched_file *f)
{
	struct stat st;
	int fd;

	if (stat(f->path, &st) < 0) {
		if (errno == ENOENT && !f->missing) {
			log_info("%s: %s does not exist (yet): nothing to read", f->param, f->path);
			f->missing = true;
		} else if (errno != ENOENT) {
			log_warn("%s: stat %s: %s", f->param, f->path, strerror(errno));
		}
		if (errno != ENOENT || !f->seen)
			return false;
		f->seen = false;
		buf_reset(&f->text);
		return true;
	}
	if (f->seen && st.st_dev == f->dev && st.st_ino == f->ino && st.st_size == f->size &&
	    st.st_mtim.tv_sec == f->mtime.tv_sec && st.st_mtim.tv_nsec == f->mtime.tv_nsec)
		return false;
	if (st.st_size > PASSDB_MAX_FILE || (fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warn("%s: cannot read %s: %s", f->param, f->path,
		    st.st_size > PASSDB_MAX_FILE ? "too big" : strerror(errno));
		return false;
	}
	buf_reset(&f->text);
	for (;;) {
		ssize_t n;

		buf_reserve(&f->text, 65536);
		n = read(fd, buf_tail(&f->text), 65536);
		if (n <= 0)
			break;
		buf_commit(&f->text, (size_t)n);
	}
	close(fd);
	f->missing = false;
	f->seen = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	return true;
}

static void log_errors(struct buf *errs)
{
	char *p = errs->data, *nl;

	while (p && *p && (nl = strchr(p, '\n')) != NULL) {
		*nl = 0;
		log_warn("%s", p);
		p = nl + 1;
	}
	buf_reset(errs);
}

static void users_reload(void)
{
	struct buf errs = BUF_INIT;

	pwf_free(&db.pwf);
	pwf_parse(db.users.text.data ? db.users.text.data : "", db.users.text.len, db.users.path,
	    &db.pwf, &errs);
	log_errors(&errs);
	buf_free(&errs);
	explicit_bzero(db.users.text.data ? db.users.text.data : "", db.users.text.len);
	log_info("%s: %zu accounts", db.users.path, db.pwf.n);
}

static void apps_reload(void)
{
	char *p, *end;
	unsigned lineno = 0;
	size_t cap = 0;

	free(db.app_text);
	free(db.app);
	db.app = NULL;
	db.napp = 0;
	db.app_text = xmemdup(db.apps.text.data ? db.apps.text.data : "", db.apps.text.len);
	p = db.app_text;
	end = p + db.apps.text.len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		struct pwf_app a;
		const char *why;
		int r;

		if (nl)
			*nl = 0;
		lineno++;
		why = "NUL byte";
		r = memchr(p, 0, (size_t)((nl ? nl : end) - p)) ? -1
								: pwf_app_parse_line(p, &a, &why);
		if (r < 0)
			log_warn("%s:%u: %s: line ignored", db.apps.path, lineno, why);
		if (r > 0) {
			if (db.napp == cap) {
				cap = cap ? cap * 2 : 16;
				db.app = xreallocarray(db.app, cap, sizeof(*db.app));
			}
			db.app[db.napp++] = a;
		}
		p = nl ? nl + 1 : end;
	}
}

/* Brings both files up to date; empties the cache when either changed. */
static void passdb_refresh(void)
{
	bool changed = false;

	if (file_changed(&db.users)) {
		users_reload();
		changed = true;
	}
	if (file_changed(&db.apps)) {
		apps_reload();
		changed = true;
	}
	if (changed) {
		db.generation++;
		cache_flush();
	}
}

/* ------------------------------------------------------------ tables */

/* A "type:/path" table whose file is missing is no table (not an error):
 * the default smtpd_sasl_password_maps names a file few systems have. */
static bool legacy_spec_present(const char *spec)
{
	const char *colon = strchr(spec, ':');

	return colon == NULL || colon[1] != '/' || access(colon + 1, F_OK) == 0;
}

/* 1 found (*hash set), 0 not found, -1 a table could not be used. */
static int legacy_lookup(const char *user, char **hash)
{
	struct buf list = BUF_INIT;
	const char *v;
	char *key;
	int r = 0;

	for (size_t i = 0; db.legacy_specs[i]; i++) {
		if (!legacy_spec_present(db.legacy_specs[i]))
			continue;
		if (list.len)
			buf_puts(&list, ", ");
		buf_puts(&list, db.legacy_specs[i]);
	}
	if (list.len == 0) {
		buf_free(&list);
		return 0;
	}
	key = xstrdup(user);
	str_lower(key);
	switch (maps_find(maps_open(buf_cstr(&list)), key, 0, &v)) {
	case MAPS_FOUND:
		*hash = xstrdup(v);
		str_trim(*hash);
		r = 1;
		break;
	case MAPS_NOTFOUND: break;
	case MAPS_TEMPFAIL: r = -1; break;
	}
	free(key);
	buf_free(&list);
	return r;
}

/* The value of the *_maps parameter PARAM for KEY, or NULL. */
static const char *param_lookup(const char *param, const char *key)
{
	const char *v;

	if (*config_str(param) == 0 || maps_find(maps_open(param), key, 0, &v) != MAPS_FOUND)
		return NULL;
	return v;
}

static long lookup_id(const char *param, const char *user)
{
	const char *v = param_lookup(param, user);
	long id;

	if (v == NULL || !parse_long(v, 0, 0x7fffffff, &id))
		return -1;
	return id;
}

/* ------------------------------------------------------------ accounts */

void acct_free(struct acct *a)
{
	if (a == NULL)
		return;
	if (a->password)
		explicit_bzero(a->password, strlen(a->password));
	free(a->password);
	free(a->user);
	free(a->home);
	free(a->maildir);
	free(a->quota_rule);
	for (size_t i = 0; i < a->nextra; i++)
		free(a->extra[i]);
	free(a->extra);
	free(a->nologin_reason);
	free(a->allow_nets);
	for (size_t i = 0; i < a->napps; i++) {
		free(a->apps[i].label);
		free(a->apps[i].hash);
	}
	free(a->apps);
	free(a);
}

static long id_of(const char *s, bool group)
{
	long v;

	if (*s == 0)
		return -1;
	if (parse_long(s, 0, 0x7fffffff, &v))
		return v;
	if (group) {
		struct group *g = getgrnam(s);

		return g ? (long)g->gr_gid : -1;
	}
	struct passwd *pw = getpwnam(s);

	return pw ? (long)pw->pw_uid : -1;
}

/* "maildir:PATH[:options]" with "~" for the home; NULL if not a Maildir. */
static char *maildir_from_location(const char *loc, const char *home)
{
	const char *p;
	size_t n;

	if (strncasecmp(loc, "maildir:", 8) != 0)
		return NULL;
	p = loc + 8;
	n = strcspn(p, ":");
	if (p[0] == '~' && (p[1] == '/' || n == 1))
		return xasprintf("%s%.*s", home, (int)n - 1, p + 1);
	return xstrndup(p, n);
}

static char *maildir_from_vmaps(const char *user)
{
	const char *v, *base = config_str("virtual_mailbox_base");
	size_t n;

	if ((v = param_lookup("virtual_mailbox_maps", user)) == NULL)
		return NULL;
	n = strlen(v);
	if (n == 0 || v[n - 1] != '/')
		return NULL; /* an mbox file */
	if (v[0] == '/' || *base == 0)
		return xstrdup(v);
	return xasprintf("%s/%s", base, v);
}

static bool extra_interpreted(const char *w)
{
	static const char *const known[] = {"nologin", "reason", "allow_nets", "quota_rule",
	    "userdb_quota_rule", "mail", "userdb_mail", NULL};
	size_t n = strcspn(w, "=");

	for (int i = 0; known[i]; i++)
		if (strlen(known[i]) == n && strncmp(w, known[i], n) == 0)
			return true;
	return false;
}

static void acct_apps(struct acct *a, const char *service)
{
	for (size_t i = 0; i < db.napp; i++) {
		const struct pwf_app *x = &db.app[i];

		if (strcasecmp(x->user, a->user) != 0 || !pwf_app_allows(x->services, service))
			continue;
		a->apps = xreallocarray(a->apps, a->napps + 1, sizeof(*a->apps));
		a->apps[a->napps].label = xstrdup(x->label);
		a->apps[a->napps].hash = xstrdup(x->hash);
		a->napps++;
	}
}

static struct acct *acct_from_users(const struct pwf_entry *e, const char *service)
{
	struct acct *a = xcalloc(1, sizeof(*a));
	const char *v;
	char *md;

	a->src = ACCT_USERS;
	a->user = xstrdup(e->user);
	a->password = xstrdup(e->password);
	a->uid = *e->uid ? id_of(e->uid, false) : lookup_id("virtual_uid_maps", e->user);
	a->gid = *e->gid ? id_of(e->gid, true) : lookup_id("virtual_gid_maps", e->user);
	a->home = xstrdup(e->home);
	v = pwf_extra(e, "mail", true);
	md = v ? maildir_from_location(v, e->home) : NULL;
	a->maildir = md ? md : maildir_from_vmaps(e->user);
	if (a->maildir == NULL)
		a->maildir = xstrdup("");
	if ((v = pwf_extra(e, "quota_rule", true)) != NULL)
		a->quota_rule = xstrdup(v);
	a->nologin = pwf_extra(e, "nologin", false) != NULL;
	if ((v = pwf_extra(e, "reason", false)) != NULL)
		a->nologin_reason = xstrdup(v);
	if ((v = pwf_extra(e, "allow_nets", false)) != NULL)
		a->allow_nets = xstrdup(v);
	a->extra = xcalloc(e->nextra + 1, sizeof(char *));
	for (size_t i = 0; i < e->nextra; i++)
		if (!extra_interpreted(e->extra[i]))
			a->extra[a->nextra++] = strchr(e->extra[i], '=')
						    ? xstrdup(e->extra[i])
						    : xasprintf("%s=", e->extra[i]);
	acct_apps(a, service);
	return a;
}

static struct acct *acct_from_system(const struct passwd *pw)
{
	struct acct *a = xcalloc(1, sizeof(*a));
	const char *hm = config_str("home_mailbox");
	size_t n = strlen(hm);

	a->src = ACCT_SYSTEM;
	a->user = xstrdup(pw->pw_name);
	a->uid = (long)pw->pw_uid;
	a->gid = (long)pw->pw_gid;
	a->home = xstrdup(pw->pw_dir);
	a->maildir = n && hm[n - 1] == '/' ? xasprintf("%s/%s", pw->pw_dir, hm) : xstrdup("");
	a->extra = xcalloc(1, sizeof(char *));
	if (pw->pw_uid == 0) {
		a->nologin = true;
		a->nologin_reason = xstrdup("the superuser may not log in");
	}
	return a;
}

int passdb_lookup(const char *user, const char *service, struct acct **out)
{
	const struct pwf_entry *e;
	char *hash = NULL;
	int r;

	*out = NULL;
	passdb_refresh();
	if ((e = pwf_find(&db.pwf, user)) != NULL) {
		*out = acct_from_users(e, service);
		return 1;
	}
	if (strcmp(service, "smtp") == 0 && (r = legacy_lookup(user, &hash)) != 0) {
		if (r < 0)
			return -1;
		*out = xcalloc(1, sizeof(**out));
		(*out)->src = ACCT_LEGACY;
		(*out)->user = xstrdup(user);
		str_lower((*out)->user);
		(*out)->password = hash;
		(*out)->uid = (*out)->gid = -1;
		(*out)->home = xstrdup("");
		(*out)->maildir = xstrdup("");
		return 1;
	}
	if (config_bool("auth_system_users") && strchr(user, '@') == NULL) {
		struct passwd *pw;

		errno = 0;
		if ((pw = getpwnam(user)) != NULL) {
			*out = acct_from_system(pw);
			return 1;
		}
		if (errno != 0 && errno != ENOENT && errno != ESRCH) {
			log_warn("getpwnam %s: %s", user, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void acct_to_reply(const struct acct *a, struct auth_account *out)
{
	memset(out, 0, sizeof(*out));
	out->user = a->user;
	out->uid = a->uid;
	out->gid = a->gid;
	out->home = a->home;
	out->maildir = a->maildir;
	out->quota_rule = a->quota_rule;
	for (size_t i = 0; i < a->nextra && i < AUTH_MAX_EXTRA; i++)
		out->extra[out->nextra++] = a->extra[i];
}

void passdb_init(void)
{
	db.users.param = "auth_users_file";
	db.users.path = xstrdup(config_str("auth_users_file"));
	db.apps.param = "auth_app_password_file";
	db.apps.path = xstrdup(config_str("auth_app_password_file"));
	db.legacy_specs = config_list("smtpd_sasl_password_maps");
	passdb_refresh();
}
