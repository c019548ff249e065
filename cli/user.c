/*
 * user.c - "tern user ...": the accounts of the users file (users(5)).
 *
 *   tern user add ADDRESS [--stdin] [--quota SIZE] [--scheme SCHEME]
 *   tern user del ADDRESS [--purge]
 *   tern user passwd ADDRESS [--stdin] [--scheme SCHEME]
 *   tern user list [--json]
 *   tern user show ADDRESS [--json]
 *   tern user quota ADDRESS [SIZE | none]
 *   tern user app-password add ADDRESS LABEL [--services LIST]
 *   tern user app-password list ADDRESS [--json]
 *   tern user app-password revoke ADDRESS LABEL
 *
 * "add" does everything an address needs, in an order that a failure
 * half-way can simply be retried: the Maildir (under virtual_mailbox_base,
 * owned by virtual_uid_maps' user), the virtual_mailbox_maps entry (so
 * smtpd accepts mail for it), then the users line with the password hash
 * (auth_password_scheme, default yescrypt), which is what makes the
 * account exist.  "del" removes the users line, the app passwords and the
 * virtual_mailbox entry, so logins stop at once and deliveries within a
 * second (smtpd checks its tables at most once a second); the mail
 * stays unless --purge.  auth and smtpd notice the changed files by
 * themselves: nothing needs a reload.
 *
 * Works on an instance ("tern -c DIR user ..." or "tern user -c DIR
 * ...") and on the system-wide configuration alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "account.h"
#include "auth/passwd_file.h"
#include "auth/pwscheme.h"
#include "auth/quota_rule.h"
#include "buf.h"
#include "config.h"
#include "maps.h"
#include "tern.h"
#include "util.h"

#define APP_SECRET_LEN 24 /* 5 bits each: 120 bits */

struct user_opts {
	const char *confdir;
	bool from_stdin, json, purge;
	const char *quota, *scheme, *services;
	const char *pos[4];
	int npos;
};

static int user_usage(void)
{
	fprintf(stderr,
	    "usage: tern user add ADDRESS [--stdin] [--quota SIZE] [--scheme SCHEME]\n"
	    "       tern user del ADDRESS [--purge]\n"
	    "       tern user passwd ADDRESS [--stdin] [--scheme SCHEME]\n"
	    "       tern user list [--json]\n"
	    "       tern user show ADDRESS [--json]\n"
	    "       tern user quota ADDRESS [SIZE|none]\n"
	    "       tern user app-password add ADDRESS LABEL [--services imap,smtp,...]\n"
	    "       tern user app-password list ADDRESS [--json]\n"
	    "       tern user app-password revoke ADDRESS LABEL\n");
	return EX_USAGE;
}

static int user_parse(int argc, char **argv, struct user_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-c") == 0 && i + 1 < argc)
			o->confdir = argv[++i];
		else if (strcmp(a, "--stdin") == 0)
			o->from_stdin = true;
		else if (strcmp(a, "--json") == 0)
			o->json = true;
		else if (strcmp(a, "--purge") == 0)
			o->purge = true;
		else if (strcmp(a, "--quota") == 0 && i + 1 < argc)
			o->quota = argv[++i];
		else if (strcmp(a, "--scheme") == 0 && i + 1 < argc)
			o->scheme = argv[++i];
		else if (strcmp(a, "--services") == 0 && i + 1 < argc)
			o->services = argv[++i];
		else if (a[0] == '-' || o->npos == 4)
			return -1;
		else
			o->pos[o->npos++] = a;
	}
	return 0;
}

/* ------------------------------------------------------------ the users file */

struct ufile {
	char *path;
	int lock;
	struct buf text; /* the file as read */
};

static int ufile_open(struct ufile *f, const char *param)
{
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(config_str(param));
	f->lock = account_file_lock(f->path);
	if (f->lock < 0)
		return -1;
	if (account_file_read(f->path, &f->text) < 0) {
		fprintf(stderr, "tern user: read %s: %s\n", f->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void ufile_close(struct ufile *f)
{
	account_file_unlock(f->lock);
	if (f->text.data)
		explicit_bzero(f->text.data, f->text.len);
	buf_free(&f->text);
	free(f->path);
}

/*
 * Walks the lines of a users file; for the line of user (if any) calls
 * edit, which appends its replacement (or nothing, to delete it) to out.
 * Every other line is copied.  Returns whether user's line was found.
 */
typedef void line_edit_fn(const struct pwf_entry *e, struct buf *out, void *ctx);

static bool ufile_rewrite(
    const struct buf *text, const char *user, line_edit_fn *edit, void *ctx, struct buf *out)
{
	const char *p = text->data ? text->data : "", *end = p + text->len;
	bool found = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = xmemdup(p, len);
		struct pwf_entry e;
		const char *why;

		if (!found && pwf_parse_line(line, &e, &why) > 0 && strcasecmp(e.user, user) == 0) {
			found = true;
			edit(&e, out, ctx);
		} else {
			buf_append(out, p, len);
			buf_putc(out, '\n');
		}
		explicit_bzero(line, len);
		free(line);
		p += len + (nl ? 1 : 0);
	}
	return found;
}

/* The entry of user, parsed from a copy the caller frees (*line). */
static bool ufile_find(const struct buf *text, const char *user, struct pwf_entry *e, char **line)
{
	const char *p = text->data ? text->data : "", *end = p + text->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *why;

		*line = xmemdup(p, len);
		if (pwf_parse_line(*line, e, &why) > 0 && strcasecmp(e->user, user) == 0)
			return true;
		free(*line);
		*line = NULL;
		p += len + (nl ? 1 : 0);
	}
	return false;
}

/* ------------------------------------------------------------ helpers */

static bool user_address_ok(const char *addr, char **local, char **domain)
{
	const char *at = strrchr(addr, '@');

	if (at == NULL || at == addr || at[1] == 0 || !pwf_user_valid(addr) || strchr(addr, '/') ||
	    addr[0] == '.' || strstr(addr, ".."))
		return false;
	*local = xstrndup(addr, (size_t)(at - addr));
	*domain = xstrdup(at + 1);
	str_lower(*domain);
	return true;
}

static bool user_domain_virtual(const char *domain)
{
	char **list = config_list("virtual_mailbox_domains");
	bool found = false;

	for (size_t i = 0; list[i] && !found; i++)
		found = strcasecmp(list[i], domain) == 0;
	strv_free(list);
	return found;
}

static char *user_hash(const struct user_opts *o)
{
	char pw[ACCOUNT_PASSWORD_MAX];
	struct buf err = BUF_INIT;
	const char *scheme = o->scheme ? o->scheme : config_str("auth_password_scheme");
	char *h;

	if (!pw_hash_scheme_ok(scheme)) {
		fprintf(stderr, "tern user: cannot make passwords of scheme %s\n", scheme);
		return NULL;
	}
	if (!account_read_password(o->from_stdin, pw, sizeof(pw))) {
		fprintf(stderr, "tern user: no password given\n");
		return NULL;
	}
	h = pw_hash(scheme, pw, &err);
	explicit_bzero(pw, sizeof(pw));
	if (h == NULL)
		fprintf(stderr, "tern user: %s\n", buf_cstr(&err));
	buf_free(&err);
	return h;
}

static char *user_quota_field(const char *size)
{
	if (quota_size_parse(size, 1) < 0) {
		fprintf(stderr, "tern user: bad quota size %s (e.g. 500M, 2G)\n", size);
		return NULL;
	}
	return xasprintf("userdb_quota_rule=*:storage=%s", size);
}

/* The user's virtual_mailbox_maps value, or NULL. */
static char *user_vmailbox(const char *addr)
{
	const char *v;

	if (*config_str("virtual_mailbox_maps") == 0 ||
	    maps_find(maps_open("virtual_mailbox_maps"), addr, 0, &v) != MAPS_FOUND)
		return NULL;
	return xstrdup(v);
}

static char *user_maildir_path(const char *rel)
{
	const char *base = config_str("virtual_mailbox_base");

	if (rel == NULL)
		return xstrdup("");
	return rel[0] == '/' || *base == 0 ? xstrdup(rel) : xasprintf("%s/%s", base, rel);
}

/* ------------------------------------------------------------ add */

static int user_add(const struct user_opts *o)
{
	const char *addr = o->pos[1];
	char *local = NULL, *domain = NULL, *rel = NULL, *vfile = NULL, *hash = NULL;
	char *quota = NULL, *home = NULL, uid_s[24] = "", gid_s[24] = "";
	struct ufile f = {0};
	struct pwf_entry e, old;
	char *oldline = NULL;
	struct buf text = BUF_INIT;
	long uid, gid;
	int r = EX_SOFTWARE;

	if (o->npos != 2 || !user_address_ok(addr, &local, &domain))
		return user_usage();
	if (!user_domain_virtual(domain)) {
		fprintf(stderr, "tern user: %s is not in virtual_mailbox_domains\n", domain);
		r = EX_DATAERR;
		goto out;
	}
	if (*config_str("virtual_mailbox_base") == 0 ||
	    (vfile = account_table_file("virtual_mailbox_maps")) == NULL) {
		fprintf(stderr, "tern user: virtual_mailbox_base and a file in "
				"virtual_mailbox_maps are needed (tern init sets them)\n");
		r = EX_CONFIG;
		goto out;
	}
	if (o->quota && (quota = user_quota_field(o->quota)) == NULL) {
		r = EX_USAGE;
		goto out;
	}
	if ((hash = user_hash(o)) == NULL) {
		r = EX_DATAERR;
		goto out;
	}
	if (ufile_open(&f, "auth_users_file") < 0) {
		r = EX_IOERR;
		goto out;
	}
	if (ufile_find(&f.text, addr, &old, &oldline)) {
		fprintf(stderr, "tern user: %s exists already\n", addr);
		r = EX_CANTCREAT;
		goto out;
	}
	uid = account_table_id("virtual_uid_maps", addr);
	gid = account_table_id("virtual_gid_maps", addr);
	if (uid >= 0)
		snprintf(uid_s, sizeof(uid_s), "%ld", uid);
	if (gid >= 0)
		snprintf(gid_s, sizeof(gid_s), "%ld", gid);
	/* An existing virtual_mailbox entry is kept; else domain/local/. */
	if ((rel = user_vmailbox(addr)) == NULL)
		rel = xasprintf("%s/%s/", domain, local);
	home = user_maildir_path(rel);
	if (home[strlen(home) - 1] == '/')
		home[strlen(home) - 1] = 0;
	if (account_maildir_create(
		config_str("virtual_mailbox_base"), rel, (uid_t)uid, (gid_t)gid) < 0 ||
	    account_table_edit(vfile, addr, rel) < 0) {
		r = EX_CANTCREAT;
		goto out;
	}
	memset(&e, 0, sizeof(e));
	e.user = addr;
	e.password = hash;
	e.uid = uid_s;
	e.gid = gid_s;
	e.home = home;
	if (quota)
		e.extra[e.nextra++] = quota;
	buf_append(&text, f.text.data ? f.text.data : "", f.text.len);
	if (text.len && text.data[text.len - 1] != '\n')
		buf_putc(&text, '\n');
	pwf_format_line(&text, &e);
	if (account_file_write(f.path, &text) < 0) {
		r = EX_IOERR;
		goto out;
	}
	printf("tern user: added %s (mail in %s)\n", addr, home);
	r = EX_OK;
out:
	if (f.path)
		ufile_close(&f);
	if (text.data)
		explicit_bzero(text.data, text.len);
	buf_free(&text);
	free(oldline);
	free(local);
	free(domain);
	free(rel);
	free(vfile);
	free(hash);
	free(quota);
	free(home);
	return r;
}

/* ------------------------------------------------------------ del, passwd, quota */

static void edit_delete(const struct pwf_entry *e, struct buf *out, void *ctx)
{
	(void)e;
	(void)out;
	(void)ctx;
}

/* Removes every app password line of user from the app password file. */
static int app_remove_all(const char *user, const char *only_label, bool *found)
{
	struct ufile f;
	struct buf out = BUF_INIT;
	const char *p, *end;
	int r = -1;

	*found = false;
	if (ufile_open(&f, "auth_app_password_file") < 0) {
		ufile_close(&f);
		return -1;
	}
	p = f.text.data ? f.text.data : "";
	end = p + f.text.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = xmemdup(p, len);
		struct pwf_app a;
		const char *why;

		if (pwf_app_parse_line(line, &a, &why) > 0 && strcasecmp(a.user, user) == 0 &&
		    (only_label == NULL || strcmp(a.label, only_label) == 0)) {
			*found = true;
		} else {
			buf_append(&out, p, len);
			buf_putc(&out, '\n');
		}
		free(line);
		p += len + (nl ? 1 : 0);
	}
	r = *found ? account_file_write(f.path, &out) : 0;
	buf_free(&out);
	ufile_close(&f);
	return r;
}

static int user_del(const struct user_opts *o)
{
	const char *addr = o->pos[1];
	struct ufile f = {0};
	struct buf out = BUF_INIT;
	char *vfile = account_table_file("virtual_mailbox_maps"), *rel = NULL, *md = NULL;
	const char *base = config_str("virtual_mailbox_base");
	bool apps;
	int r = EX_IOERR;

	if (o->npos != 2)
		return user_usage();
	rel = user_vmailbox(addr);
	if (ufile_open(&f, "auth_users_file") < 0)
		goto out;
	if (!ufile_rewrite(&f.text, addr, edit_delete, NULL, &out)) {
		fprintf(stderr, "tern user: no such user: %s\n", addr);
		r = EX_NOUSER;
		goto out;
	}
	if (account_file_write(f.path, &out) < 0 || app_remove_all(addr, NULL, &apps) < 0 ||
	    (vfile && rel && account_table_edit(vfile, addr, NULL) < 0))
		goto out;
	md = user_maildir_path(rel);
	if (o->purge && *md) {
		/* Only what lies under virtual_mailbox_base, never a path outside it. */
		if (*base == 0 || strncmp(md, base, strlen(base)) != 0 || md[strlen(base)] != '/' ||
		    strstr(md, "/../")) {
			fprintf(
			    stderr, "tern user: %s is outside virtual_mailbox_base: kept\n", md);
		} else if (account_remove_tree(md) < 0 && errno != ENOENT) {
			goto out;
		}
	}
	printf("tern user: deleted %s%s%s\n", addr,
	    *md ? (o->purge ? "; removed " : "; mail kept in ") : "", md);
	r = EX_OK;
out:
	if (f.path)
		ufile_close(&f);
	if (out.data)
		explicit_bzero(out.data, out.len);
	buf_free(&out);
	free(vfile);
	free(rel);
	free(md);
	return r;
}

struct set_ctx {
	const char *password; /* new hash, or NULL */
	const char *quota;    /* new quota field, "" to remove, NULL to keep */
};

static bool is_quota_field(const char *w)
{
	return strncmp(w, "quota_rule=", 11) == 0 || strncmp(w, "userdb_quota_rule=", 18) == 0;
}

static void edit_set(const struct pwf_entry *e, struct buf *out, void *ctx)
{
	const struct set_ctx *c = ctx;
	struct pwf_entry n = *e;

	if (c->password)
		n.password = c->password;
	if (c->quota) {
		n.nextra = 0;
		for (size_t i = 0; i < e->nextra; i++)
			if (!is_quota_field(e->extra[i]))
				n.extra[n.nextra++] = e->extra[i];
		if (*c->quota && n.nextra < PWF_MAX_EXTRA)
			n.extra[n.nextra++] = c->quota;
	}
	pwf_format_line(out, &n);
}

static int user_set(const char *addr, struct set_ctx *c)
{
	struct ufile f = {0};
	struct buf out = BUF_INIT;
	int r = EX_IOERR;

	if (ufile_open(&f, "auth_users_file") < 0)
		goto out;
	if (!ufile_rewrite(&f.text, addr, edit_set, c, &out)) {
		fprintf(stderr, "tern user: no such user: %s\n", addr);
		r = EX_NOUSER;
		goto out;
	}
	if (account_file_write(f.path, &out) == 0)
		r = EX_OK;
out:
	if (f.path)
		ufile_close(&f);
	if (out.data)
		explicit_bzero(out.data, out.len);
	buf_free(&out);
	return r;
}

static int user_passwd(const struct user_opts *o)
{
	struct set_ctx c = {NULL, NULL};
	char *hash;
	int r;

	if (o->npos != 2)
		return user_usage();
	if ((hash = user_hash(o)) == NULL)
		return EX_DATAERR;
	c.password = hash;
	r = user_set(o->pos[1], &c);
	if (r == EX_OK)
		printf("tern user: password of %s changed\n", o->pos[1]);
	explicit_bzero(hash, strlen(hash));
	free(hash);
	return r;
}

/* ------------------------------------------------------------ show, list, quota */

/* A uid or gid column: a number, a name, or null when empty. */
static json_t *user_json_id(const char *s)
{
	long v;

	if (*s == 0)
		return json_null();
	return parse_long(s, 0, 0x7fffffff, &v) ? json_integer(v) : json_string(s);
}

/* What tern knows of one account, as JSON. */
static json_t *user_json(const struct pwf_entry *e, bool usage)
{
	json_t *j = json_object();
	const char *q = pwf_extra(e, "quota_rule", true);
	char *vm = user_vmailbox(e->user);
	char *md = user_maildir_path(vm);
	char scheme[64];
	long long bytes = -1, msgs = -1;

	pw_scheme_name(e->password, scheme, sizeof(scheme));
	json_object_set_new(j, "user", json_string(e->user));
	json_object_set_new(j, "scheme", json_string(scheme));
	json_object_set_new(j, "uid", user_json_id(e->uid));
	json_object_set_new(j, "gid", user_json_id(e->gid));
	json_object_set_new(j, "home", json_string(e->home));
	json_object_set_new(j, "maildir", json_string(md));
	json_object_set_new(j, "quota_rule", q ? json_string(q) : json_null());
	if (q && quota_rule_parse(q, &bytes, &msgs) == 0 && bytes > 0)
		json_object_set_new(j, "quota_bytes", json_integer(bytes));
	json_object_set_new(j, "nologin", json_boolean(pwf_extra(e, "nologin", false) != NULL));
	if (usage) {
		struct account_usage u;

		account_maildir_usage(md, &u);
		json_object_set_new(j, "used_bytes", json_integer(u.bytes));
		json_object_set_new(j, "messages", json_integer(u.messages));
	}
	free(vm);
	free(md);
	return j;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	puts(s ? s : "null");
	free(s);
}

static int user_list(const struct user_opts *o)
{
	struct pwf pwf;
	struct buf text = BUF_INIT, errs = BUF_INIT;
	const char *path = config_str("auth_users_file");
	json_t *arr = json_array();

	if (o->npos != 1)
		return user_usage();
	if (account_file_read(path, &text) < 0) {
		fprintf(stderr, "tern user: read %s: %s\n", path, strerror(errno));
		return EX_IOERR;
	}
	pwf_parse(text.data ? text.data : "", text.len, path, &pwf, &errs);
	fputs(buf_cstr(&errs), stderr);
	for (size_t i = 0; i < pwf.n; i++) {
		const char *q = pwf_extra(&pwf.ents[i], "quota_rule", true);

		if (o->json)
			json_array_append_new(arr, user_json(&pwf.ents[i], false));
		else
			printf("%-40s %s%s\n", pwf.ents[i].user, q ? q : "-",
			    pwf_extra(&pwf.ents[i], "nologin", false) ? " nologin" : "");
	}
	if (o->json)
		print_json(arr);
	json_decref(arr);
	pwf_free(&pwf);
	explicit_bzero(text.data ? text.data : "", text.len);
	buf_free(&text);
	buf_free(&errs);
	return EX_OK;
}

static int user_show_entry(const char *addr, bool as_json, bool only_quota)
{
	struct buf text = BUF_INIT;
	struct pwf_entry e;
	char *line = NULL;
	json_t *j;
	int r = EX_OK;

	if (account_file_read(config_str("auth_users_file"), &text) < 0 ||
	    !ufile_find(&text, addr, &e, &line)) {
		fprintf(stderr, "tern user: no such user: %s\n", addr);
		buf_free(&text);
		return EX_NOUSER;
	}
	j = user_json(&e, true);
	if (as_json) {
		print_json(j);
	} else {
		const char *keys[] = {
		    "user", "scheme", "uid", "gid", "home", "maildir", "quota_rule", NULL};
		char used[32], limit[32] = "none";

		for (int i = 0; keys[i] && !only_quota; i++) {
			json_t *v = json_object_get(j, keys[i]);

			if (json_is_integer(v))
				printf("%-11s %lld\n", keys[i], (long long)json_integer_value(v));
			else
				printf("%-11s %s\n", keys[i],
				    json_is_string(v) ? json_string_value(v) : "-");
		}
		quota_size_format(
		    json_integer_value(json_object_get(j, "used_bytes")), used, sizeof(used));
		if (json_object_get(j, "quota_bytes"))
			quota_size_format(json_integer_value(json_object_get(j, "quota_bytes")),
			    limit, sizeof(limit));
		printf("%-11s %s of %s in %lld messages\n", "usage", used, limit,
		    (long long)json_integer_value(json_object_get(j, "messages")));
	}
	json_decref(j);
	free(line);
	explicit_bzero(text.data ? text.data : "", text.len);
	buf_free(&text);
	return r;
}

static int user_quota(const struct user_opts *o)
{
	struct set_ctx c = {NULL, NULL};
	char *field = NULL;
	int r;

	if (o->npos == 2)
		return user_show_entry(o->pos[1], o->json, true);
	if (o->npos != 3)
		return user_usage();
	if (strcasecmp(o->pos[2], "none") == 0)
		c.quota = "";
	else if ((field = user_quota_field(o->pos[2])) == NULL)
		return EX_USAGE;
	else
		c.quota = field;
	r = user_set(o->pos[1], &c);
	if (r == EX_OK)
		printf("tern user: quota of %s is %s\n", o->pos[1], field ? o->pos[2] : "none");
	free(field);
	return r;
}

/* ------------------------------------------------------------ app passwords */

static void app_secret(char out[APP_SECRET_LEN + 1])
{
	static const char abc[] = "abcdefghijkmnpqrstuvwxyz23456789"; /* 32, no 0/o/1/l */
	unsigned char r[APP_SECRET_LEN];

	if (RAND_bytes(r, sizeof(r)) != 1) {
		fprintf(stderr, "tern user: no random bytes\n");
		exit(EX_SOFTWARE);
	}
	for (int i = 0; i < APP_SECRET_LEN; i++)
		out[i] = abc[r[i] % 32];
	out[APP_SECRET_LEN] = 0;
	explicit_bzero(r, sizeof(r));
}

static bool app_services_ok(const char *list)
{
	char **v = strv_split(list, ",");
	bool ok = v[0] != NULL;

	for (size_t i = 0; v[i] && ok; i++)
		ok = pwf_word_valid(v[i]);
	strv_free(v);
	return ok;
}

static int app_add(const struct user_opts *o)
{
	const char *user = o->pos[2], *label = o->pos[3];
	struct buf text = BUF_INIT, err = BUF_INIT;
	struct pwf_entry e;
	char *line = NULL, *hash = NULL, secret[APP_SECRET_LEN + 1];
	struct ufile f = {0};
	int r = EX_IOERR;

	if (o->npos != 4 || !pwf_word_valid(label) ||
	    (o->services && !app_services_ok(o->services)))
		return user_usage();
	if (account_file_read(config_str("auth_users_file"), &text) < 0 ||
	    !ufile_find(&text, user, &e, &line)) {
		fprintf(stderr, "tern user: no such user: %s\n", user);
		r = EX_NOUSER;
		goto out;
	}
	if (ufile_open(&f, "auth_app_password_file") < 0)
		goto out;
	for (const char *p = f.text.data; p && *p;) {
		const char *nl = strchr(p, '\n');
		char *l = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
		struct pwf_app a;
		const char *why;
		bool dup = pwf_app_parse_line(l, &a, &why) > 0 && strcasecmp(a.user, e.user) == 0 &&
			   strcmp(a.label, label) == 0;

		free(l);
		if (dup) {
			fprintf(stderr, "tern user: %s has an app password labelled %s already\n",
			    user, label);
			r = EX_CANTCREAT;
			goto out;
		}
		p = nl ? nl + 1 : NULL;
	}
	app_secret(secret);
	if ((hash = pw_hash("SSHA256", secret, &err)) == NULL)
		goto out;
	if (f.text.len && f.text.data[f.text.len - 1] != '\n')
		buf_putc(&f.text, '\n');
	buf_printf(&f.text, "%s:%s:%s:%s:%lld\n", e.user, label, o->services ? o->services : "",
	    hash, (long long)time(NULL));
	if (account_file_write(f.path, &f.text) == 0) {
		printf("app password for %s (%s%s%s): %s\n", e.user, label, o->services ? ", " : "",
		    o->services ? o->services : "", secret);
		r = EX_OK;
	}
out:
	explicit_bzero(secret, sizeof(secret));
	if (f.path)
		ufile_close(&f);
	free(line);
	free(hash);
	buf_free(&text);
	buf_free(&err);
	return r;
}

static int app_list(const struct user_opts *o)
{
	struct buf text = BUF_INIT;
	json_t *arr = json_array();
	const char *p;

	if (o->npos != 3)
		return user_usage();
	if (account_file_read(config_str("auth_app_password_file"), &text) < 0)
		return EX_IOERR;
	for (p = text.data; p && *p;) {
		const char *nl = strchr(p, '\n');
		char *l = xstrndup(p, nl ? (size_t)(nl - p) : strlen(p));
		struct pwf_app a;
		const char *why;

		if (pwf_app_parse_line(l, &a, &why) > 0 && strcasecmp(a.user, o->pos[2]) == 0) {
			char when[32];
			time_t t = (time_t)a.created;

			strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&t));
			if (o->json) {
				json_t *j = json_object();

				json_object_set_new(j, "label", json_string(a.label));
				json_object_set_new(j, "services", json_string(a.services));
				json_object_set_new(j, "created", json_integer(a.created));
				json_array_append_new(arr, j);
			} else {
				printf("%-20s %-20s %s\n", a.label,
				    *a.services ? a.services : "all", when);
			}
		}
		free(l);
		p = nl ? nl + 1 : NULL;
	}
	if (o->json)
		print_json(arr);
	json_decref(arr);
	buf_free(&text);
	return EX_OK;
}

static int app_revoke(const struct user_opts *o)
{
	bool found;

	if (o->npos != 4)
		return user_usage();
	if (app_remove_all(o->pos[2], o->pos[3], &found) < 0)
		return EX_IOERR;
	if (!found) {
		fprintf(stderr, "tern user: %s has no app password labelled %s\n", o->pos[2],
		    o->pos[3]);
		return EX_NOUSER;
	}
	printf("tern user: app password %s of %s revoked\n", o->pos[3], o->pos[2]);
	return EX_OK;
}

/* ------------------------------------------------------------ dispatch */

int cmd_user(const char *confdir, int argc, char **argv)
{
	struct user_opts o;
	const char *sub;

	memset(&o, 0, sizeof(o));
	o.confdir = confdir;
	if (user_parse(argc - 1, argv + 1, &o) < 0 || o.npos < 1)
		return user_usage();
	cli_load_config(o.confdir);
	sub = o.pos[0];
	if (strcmp(sub, "add") == 0)
		return user_add(&o);
	if (strcmp(sub, "del") == 0)
		return user_del(&o);
	if (strcmp(sub, "passwd") == 0)
		return user_passwd(&o);
	if (strcmp(sub, "list") == 0)
		return user_list(&o);
	if (strcmp(sub, "show") == 0)
		return o.npos == 2 ? user_show_entry(o.pos[1], o.json, false) : user_usage();
	if (strcmp(sub, "quota") == 0)
		return user_quota(&o);
	if (strcmp(sub, "app-password") == 0 && o.npos >= 2) {
		if (strcmp(o.pos[1], "add") == 0)
			return app_add(&o);
		if (strcmp(o.pos[1], "list") == 0)
			return app_list(&o);
		if (strcmp(o.pos[1], "revoke") == 0)
			return app_revoke(&o);
	}
	return user_usage();
}
