/*
 * config.c - main.cf: reading, overrides, $name expansion, typed access.
 *
 * Every name ever seen (main.cf, -o, config_set, or asked for) has one
 * struct cf_var.  Its raw value is chosen in Postfix's order: an override
 * (-o or config_set) beats the value the loader itself sets (the config
 * directory actually used), which beats main.cf, which beats the default
 * from params.c.  Names in main.cf that params.c does not know are kept,
 * so that "$my_own_name" works as in Postfix; config_check.c reports them.
 *
 * Expanded values are cached per name.  A change (override) retires the
 * cached strings instead of freeing them, because callers may still hold
 * them; retired strings are freed at the next load or reset, as config.h
 * promises.  Because each name is expanded at most once per change, and an
 * expanded value is capped at CF_VALUE_MAX bytes, a hostile main.cf of the
 * "a = $b$b, b = $c$c, ..." kind cannot blow up time or memory.
 *
 * The only meaning this file gives values is Postfix's "/file/name" form
 * of list and name parameters (config.h), applied after expansion.
 * Otherwise it does not know what any parameter means; params.c lists
 * them and their users interpret them.  It does not parse master.cf
 * (mastercf.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lline.h"
#include "file_replace.h"
#include "log.h"
#include "util.h"

#define CF_MAX_DEPTH 100   /* config.h: deeper nesting is a loop */
#define CF_VALUE_MAX 65536 /* longest expanded value we build */
#define CF_LIST_SEPS " \t\r\n,"
#define CF_FILE_MAX (1024 * 1024) /* largest "/file/name" value file read */

struct cf_var {
	char *name;
	char *over;		     /* -o or config_set */
	char *implicit;		     /* set by config_load itself */
	char *file;		     /* from main.cf */
	char *computed;		     /* computed default (myhostname, mydomain) */
	char *cache;		     /* expanded value */
	bool busy;		     /* being expanded: meeting it again is a loop */
	int line;		     /* main.cf line of file */
	const struct param_def *def; /* NULL: not in params.c */
};

static struct cf_var *cf_vars;
static size_t cf_count;
static char **cf_retired; /* strings callers may hold; freed on load */
static size_t cf_nretired;
static char *cf_dir;
static char *cf_path; /* main.cf read last */

static void cf_expand_text(struct buf *out, const char *s, size_t len, int depth);

/* ------------------------------------------------------------ the store */

static const struct param_def *cf_def_find(const char *name, size_t len)
{
	for (const struct param_def *d = param_table; d->name; d++)
		if (strncmp(d->name, name, len) == 0 && d->name[len] == 0)
			return d;
	return NULL;
}

static struct cf_var *cf_var_find(const char *name, size_t len)
{
	for (size_t i = 0; i < cf_count; i++)
		if (strncmp(cf_vars[i].name, name, len) == 0 && cf_vars[i].name[len] == 0)
			return &cf_vars[i];
	return NULL;
}

/* Finds or creates the entry of a name.  Pointers into cf_vars move. */
static struct cf_var *cf_var_get(const char *name, size_t len)
{
	struct cf_var *v = cf_var_find(name, len);

	if (v)
		return v;
	cf_vars = xreallocarray(cf_vars, cf_count + 1, sizeof(*cf_vars));
	v = &cf_vars[cf_count++];
	memset(v, 0, sizeof(*v));
	v->name = xstrndup(name, len);
	v->def = cf_def_find(name, len);
	return v;
}

static void cf_retire(char *s)
{
	if (s == NULL)
		return;
	cf_retired = xreallocarray(cf_retired, cf_nretired + 1, sizeof(*cf_retired));
	cf_retired[cf_nretired++] = s;
}

static void cf_free_retired(void)
{
	for (size_t i = 0; i < cf_nretired; i++)
		free(cf_retired[i]);
	free(cf_retired);
	cf_retired = NULL;
	cf_nretired = 0;
}

/* After any change every cached expansion may be stale ($names). */
static void cf_forget_expansions(void)
{
	for (size_t i = 0; i < cf_count; i++) {
		cf_retire(cf_vars[i].cache);
		cf_retire(cf_vars[i].computed);
		cf_vars[i].cache = NULL;
		cf_vars[i].computed = NULL;
	}
}

static bool cf_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool cf_name_ok(const char *s)
{
	if (*s == 0)
		return false;
	for (; *s; s++)
		if (!cf_name_char((unsigned char)*s))
			return false;
	return true;
}

static bool cf_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

void config_reset(void)
{
	for (size_t i = 0; i < cf_count; i++) {
		free(cf_vars[i].name);
		free(cf_vars[i].over);
		free(cf_vars[i].implicit);
		free(cf_vars[i].file);
		free(cf_vars[i].computed);
		free(cf_vars[i].cache);
	}
	free(cf_vars);
	cf_vars = NULL;
	cf_count = 0;
	cf_free_retired();
	free(cf_dir);
	cf_dir = NULL;
	free(cf_path);
	cf_path = NULL;
}

/* ------------------------------------------------------------ defaults */

/* gethostname(), made fully qualified the way Postfix does it. */
static char *cf_default_hostname(void)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0 || host[0] == 0)
		strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = 0;
	if (strchr(host, '.') == NULL)
		return xasprintf("%s.localdomain", host);
	return xstrdup(host);
}

static const char *cf_value(struct cf_var *v, int depth);

/* myhostname minus its first label; "localdomain" when nothing is left. */
static char *cf_default_domain(int depth)
{
	const char *host = cf_value(cf_var_get("myhostname", 10), depth + 1);
	const char *dot = strchr(host, '.');

	if (dot == NULL || dot[1] == 0)
		return xstrdup("localdomain");
	return xstrdup(dot + 1);
}

/*
 * The two defaults that depend on the machine.  The result is literal
 * text, not expanded again: a host name is data, not configuration.
 */
static const char *cf_computed_default(const char *name, int depth)
{
	struct cf_var *v;
	char *s;

	if (strcmp(name, "myhostname") == 0)
		s = cf_default_hostname();
	else if (strcmp(name, "mydomain") == 0)
		s = cf_default_domain(depth);
	else
		log_panic("parameter %s has no default", name);
	v = cf_var_get(name, strlen(name));
	cf_retire(v->computed);
	v->computed = s;
	return s;
}

/* The raw setting in order of precedence, or NULL when none is set. */
static const char *cf_setting(const struct cf_var *v)
{
	if (v->over)
		return v->over;
	if (v->implicit)
		return v->implicit;
	return v->file;
}

/* ------------------------------------------------------------ file values */

/* A value file, whole; false (warned) when it cannot be read. */
static bool cf_value_file(const char *param, const char *path, struct buf *out)
{
	if (file_read_all(path, out) < 0) {
		log_warn("parameter %s: cannot read %s: %s", param, path, strerror(errno));
		return false;
	}
	if (out->len > CF_FILE_MAX || memchr(out->data, 0, out->len)) {
		log_warn("parameter %s: %s is not a text file of at most %d bytes", param, path,
		    CF_FILE_MAX);
		return false;
	}
	return true;
}

/* The entries of a list file: '#' lines are comments. */
static void cf_list_file(const char *param, const char *path, struct buf *out)
{
	struct buf text = BUF_INIT;
	char **lines;

	if (cf_value_file(param, path, &text)) {
		lines = strv_split(buf_cstr(&text), "\n");
		for (char **l = lines; *l; l++) {
			const char *t = *l + strspn(*l, " \t\r");

			char **w;

			if (*t == 0 || *t == '#')
				continue;
			w = strv_split(t, CF_LIST_SEPS);
			for (char **e = w; *e; e++)
				buf_printf(out, "%s%s", out->len ? " " : "", *e);
			strv_free(w);
		}
		strv_free(lines);
	}
	buf_free(&text);
}

/*
 * Postfix's "/file/name" list entries, replaced by the file's entries.
 * Everything else, separators included, is kept byte for byte, so that a
 * table spec such as "inline:{ a=b, c=d }" beside a file means the same.
 */
static void cf_apply_list_files(const char *param, struct buf *value)
{
	const char *s = buf_cstr(value);
	struct buf out = BUF_INIT;
	bool any = false;
	size_t i = 0;
	int depth = 0; /* inside "{ }": a table's text, not list entries */

	while (s[i]) {
		size_t seps = strspn(s + i, CF_LIST_SEPS), len;

		buf_append(&out, s + i, seps);
		i += seps;
		len = strcspn(s + i, CF_LIST_SEPS);
		if (len > 0 && s[i] == '/' && depth == 0) {
			char *path = xstrndup(s + i, len);
			struct buf entries = BUF_INIT;

			cf_list_file(param, path, &entries);
			buf_append(&out, entries.data ? entries.data : "", entries.len);
			buf_free(&entries);
			free(path);
			any = true;
		} else {
			buf_append(&out, s + i, len);
			for (size_t k = i; k < i + len; k++)
				depth += s[k] == '{' ? 1 : s[k] == '}' && depth > 0 ? -1 : 0;
		}
		i += len;
	}
	if (any) {
		buf_free(value);
		*value = out;
	} else {
		buf_free(&out);
	}
}

/* "/file/name" as a name: its first line, trimmed; false when unusable. */
static bool cf_apply_name_file(const char *param, struct buf *value)
{
	struct buf text = BUF_INIT;
	char *first;
	bool ok = false;

	if (buf_cstr(value)[0] != '/')
		return true;
	if (cf_value_file(param, buf_cstr(value), &text)) {
		first = xstrndup(buf_cstr(&text), strcspn(buf_cstr(&text), "\n"));
		if (*str_trim(first)) {
			buf_reset(value);
			buf_puts(value, str_trim(first));
			ok = true;
		} else {
			log_warn("parameter %s: %s is empty", param, buf_cstr(value));
		}
		free(first);
	}
	buf_free(&text);
	return ok;
}

/* ------------------------------------------------------------ expansion */

/*
 * The expanded value of one name, cached.  Meeting a name that is already
 * being expanded is a loop ("a = $b", "b = $a"): warn and use "".
 */
static const char *cf_value(struct cf_var *v, int depth)
{
	struct buf b = BUF_INIT;
	const struct param_def *def;
	const char *raw;
	char *name;

	if (v->cache)
		return v->cache;
	if (v->busy) {
		log_warn("parameter %s refers to itself through $names; using \"\"", v->name);
		return "";
	}
	v->busy = true;
	name = xstrdup(v->name); /* v may move while we recurse */
	raw = cf_setting(v);
	def = v->def;
	if (raw)
		cf_expand_text(&b, raw, strlen(raw), depth);
	else if (def && def->def)
		cf_expand_text(&b, def->def, strlen(def->def), depth);
	else if (def)
		buf_puts(&b, cf_computed_default(name, depth));
	if (def && def->type == PARAM_LIST)
		cf_apply_list_files(name, &b);
	if (def && def->type == PARAM_NAME && !cf_apply_name_file(name, &b)) {
		buf_reset(&b);
		if (raw && def->def)
			cf_expand_text(&b, def->def, strlen(def->def), depth);
	}
	v = cf_var_find(name, strlen(name));
	if (b.len > CF_VALUE_MAX) {
		log_warn(
		    "value of parameter %s is longer than %d bytes after expansion; using \"\"",
		    name, CF_VALUE_MAX);
		buf_reset(&b);
	}
	free(name);
	v->busy = false;
	v->cache = b.data ? b.data : xstrdup("");
	return v->cache;
}

/* Expands one reference; unknown names expand to "" (config.h). */
static const char *cf_lookup(const char *name, size_t len, int depth)
{
	struct cf_var *v = cf_var_find(name, len);

	if (v == NULL && cf_def_find(name, len) == NULL)
		return "";
	if (v == NULL)
		v = cf_var_get(name, len);
	return cf_value(v, depth + 1);
}

/* Offset of the bracket closing the one at s[0], or 0 if unmatched. */
static size_t cf_match_bracket(const char *s, size_t len)
{
	char open = s[0], close = open == '{' ? '}' : ')';
	int level = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == open)
			level++;
		else if (s[i] == close && --level == 0)
			return i;
	}
	return 0;
}

/* Expands text, without the braces around it when it is "{ text }". */
static void cf_expand_unbraced(struct buf *out, const char *text, size_t tlen, int depth)
{
	if (tlen >= 2 && text[0] == '{' && cf_match_bracket(text, tlen) == tlen - 1) {
		text++, tlen -= 2;
		while (tlen > 0 && cf_space((unsigned char)text[0]))
			text++, tlen--;
		while (tlen > 0 && cf_space((unsigned char)text[tlen - 1]))
			tlen--;
	}
	cf_expand_text(out, text, tlen, depth + 1);
}

/*
 * The inside of ${...} or $(...): "name", "name?text" or "name:text".
 * Postfix 3 also lets the text be wrapped in braces, "${name?{text}}",
 * and chooses between two, "${name?{when set}:{when empty}}" (the braces
 * around the second are optional).
 */
static bool cf_expand_braced(struct buf *out, const char *s, size_t len, int depth)
{
	size_t n = 0, close;
	const char *val, *text;
	size_t tlen;

	while (n < len && cf_name_char((unsigned char)s[n]))
		n++;
	if (n == 0 || (n < len && s[n] != '?' && s[n] != ':'))
		return false;
	val = cf_lookup(s, n, depth);
	if (n == len) {
		buf_puts(out, val);
		return true;
	}
	text = s + n + 1;
	tlen = len - n - 1;
	if (s[n] == '?' && tlen >= 2 && text[0] == '{' &&
	    (close = cf_match_bracket(text, tlen)) > 0 && close + 1 < tlen &&
	    text[close + 1] == ':') {
		if (*val)
			cf_expand_unbraced(out, text, close + 1, depth);
		else
			cf_expand_unbraced(out, text + close + 2, tlen - close - 2, depth);
		return true;
	}
	if ((s[n] == '?') != (*val != 0))
		return true;
	cf_expand_unbraced(out, text, tlen, depth);
	return true;
}

/* One "$..." at s[0]; returns how many bytes it took. */
static size_t cf_expand_dollar(struct buf *out, const char *s, size_t len, int depth)
{
	size_t n = 1, close;

	if (len >= 2 && s[1] == '$') {
		buf_putc(out, '$');
		return 2;
	}
	if (len >= 2 && (s[1] == '{' || s[1] == '(')) {
		close = cf_match_bracket(s + 1, len - 1);
		if (close == 0) {
			log_warn("unmatched '%c' in \"%.*s\"; kept as is", s[1],
			    (int)(len > 100 ? 100 : len), s);
			buf_append(out, s, len);
			return len;
		}
		if (!cf_expand_braced(out, s + 2, close - 1, depth)) {
			log_warn("bad $name syntax: \"%.*s\"; kept as is",
			    (int)(close > 100 ? 100 : close + 2), s);
			buf_append(out, s, close + 2);
		}
		return close + 2;
	}
	while (n < len && cf_name_char((unsigned char)s[n]))
		n++;
	if (n == 1)
		buf_putc(out, '$'); /* a lone '$' stays literal */
	else
		buf_puts(out, cf_lookup(s + 1, n - 1, depth));
	return n;
}

static void cf_expand_text(struct buf *out, const char *s, size_t len, int depth)
{
	size_t i = 0, run;

	if (depth > CF_MAX_DEPTH) {
		log_warn(
		    "$name expansion nested deeper than %d: a loop?; using \"\"", CF_MAX_DEPTH);
		return;
	}
	while (i < len && out->len <= CF_VALUE_MAX) {
		const char *dollar = memchr(s + i, '$', len - i);

		run = dollar ? (size_t)(dollar - (s + i)) : len - i;
		buf_append(out, s + i, run);
		i += run;
		if (i < len)
			i += cf_expand_dollar(out, s + i, len - i, depth);
	}
}

char *config_expand(const char *text)
{
	struct buf b = BUF_INIT;

	cf_expand_text(&b, text, strlen(text), 0);
	if (b.len > CF_VALUE_MAX) {
		log_warn("text is longer than %d bytes after expansion; using \"\"", CF_VALUE_MAX);
		buf_reset(&b);
	}
	return b.data ? b.data : xstrdup("");
}

/* ------------------------------------------------------------ main.cf */

struct cf_entry {
	char *name;
	char *value;
	int line;
};

struct cf_parse {
	const char *filename;
	struct cf_entry *entries;
	size_t count;
	struct buf *err;
};

static int cf_error(struct cf_parse *p, int line, const char *what)
{
	if (p->err)
		buf_printf(p->err, "%s:%d: %s", p->filename, line, what);
	return -1;
}

/* Splits a logical line (lline.h) into name and value. */
static int cf_finish(struct cf_parse *p, char *line, int start)
{
	char *eq = strchr(line, '=');
	char *name, *value;

	if (eq == NULL)
		return cf_error(p, start, "missing '=' after parameter name");
	*eq = 0;
	name = str_trim(line);
	value = str_trim(eq + 1);
	if (*name == 0)
		return cf_error(p, start, "empty parameter name");
	if (!cf_name_ok(name))
		return cf_error(p, start, "bad parameter name: only A-Z a-z 0-9 _ allowed");
	p->entries = xreallocarray(p->entries, p->count + 1, sizeof(*p->entries));
	p->entries[p->count].name = xstrdup(name);
	p->entries[p->count].value = xstrdup(value);
	p->entries[p->count++].line = start;
	return 0;
}

static int cf_parse_text(struct cf_parse *p, const char *text, size_t len)
{
	struct lline r;
	int rc, err = 0;

	lline_init(&r, text, len);
	while (err == 0 && (rc = lline_next(&r)) != LLINE_END) {
		if (rc == LLINE_NUL)
			err = cf_error(p, r.start, "NUL byte in line");
		else if (rc == LLINE_ORPHAN)
			err = cf_error(p, r.start, "continuation line before any parameter");
		else
			err = cf_finish(p, r.line.data, r.start);
	}
	lline_free(&r);
	return err;
}

static void cf_parse_free(struct cf_parse *p)
{
	for (size_t i = 0; i < p->count; i++) {
		free(p->entries[i].name);
		free(p->entries[i].value);
	}
	free(p->entries);
}

/* Replaces every main.cf value with the parsed ones; overrides stay. */
static void cf_commit(struct cf_parse *p)
{
	for (size_t i = 0; i < cf_count; i++) {
		free(cf_vars[i].file);
		free(cf_vars[i].cache);
		free(cf_vars[i].computed);
		cf_vars[i].file = cf_vars[i].cache = cf_vars[i].computed = NULL;
		cf_vars[i].line = 0;
	}
	cf_free_retired();
	for (size_t i = 0; i < p->count; i++) {
		struct cf_entry *e = &p->entries[i];
		struct cf_var *v = cf_var_get(e->name, strlen(e->name));

		free(v->file);
		v->file = e->value;
		v->line = e->line;
		e->value = NULL;
	}
	free(cf_path);
	cf_path = xstrdup(p->filename);
}

int config_load_text(const char *text, size_t len, const char *filename, struct buf *err)
{
	struct cf_parse p = {.filename = filename ? filename : "main.cf", .err = err};
	int rc = cf_parse_text(&p, text, len);

	if (rc == 0)
		cf_commit(&p);
	cf_parse_free(&p);
	return rc;
}

static void cf_set_implicit(const char *name, const char *value)
{
	struct cf_var *v = cf_var_get(name, strlen(name));

	cf_retire(v->implicit);
	v->implicit = xstrdup(value);
	cf_forget_expansions();
}

int config_load(const char *dir, bool allow_missing, struct buf *err)
{
	struct buf text = BUF_INIT;
	char *path;
	int rc;

	if (dir == NULL || *dir == 0)
		dir = getenv("TERN_CONFIG");
	if (dir == NULL || *dir == 0)
		dir = TERN_DEFAULT_CONFIG_DIR;
	path = xasprintf("%s/main.cf", dir);
	if (file_read_all(path, &text) < 0 && !(errno == ENOENT && allow_missing)) {
		if (err)
			buf_printf(err, "cannot read %s: %s", path, strerror(errno));
		rc = -1;
	} else {
		rc = config_load_text(buf_cstr(&text), text.len, path, err);
	}
	if (rc == 0) {
		/* Absolute, so that $config_directory/... means the same file
		 * to every program, whatever its working directory. */
		char *copy = realpath(dir, NULL); /* dir may be cf_dir itself */

		if (copy == NULL)
			copy = xstrdup(dir);
		free(cf_dir);
		cf_dir = copy;
		cf_set_implicit("config_directory", cf_dir);
	}
	free(path);
	buf_free(&text);
	return rc;
}

char *config_instance_dir(const char *dir)
{
	char real[PATH_MAX], *inst;
	struct stat st;

	if (dir == NULL)
		return NULL;
	if (realpath(dir, real) != NULL)
		dir = real;
	inst = xasprintf("%s/etc/main.cf", dir);
	if (stat(inst, &st) == 0) {
		free(inst);
		return xasprintf("%s/etc", dir);
	}
	free(inst);
	return xstrdup(dir);
}

int config_load_instance(const char *dir, bool allow_missing, struct buf *err)
{
	char *d = config_instance_dir(dir);
	int r = config_load(d, allow_missing, err);

	free(d);
	return r;
}

const char *config_dir(void)
{
	return cf_dir ? cf_dir : TERN_DEFAULT_CONFIG_DIR;
}

/* ------------------------------------------------------------ overrides */

void config_set(const char *name, const char *value)
{
	struct cf_var *v = cf_var_get(name, strlen(name));

	cf_retire(v->over);
	v->over = value ? xstrdup(value) : NULL;
	cf_forget_expansions();
}

int config_override(const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	char *name, *value, *copy;
	int rc = -1;

	if (eq == NULL)
		return -1;
	copy = xstrdup(assignment);
	copy[eq - assignment] = 0;
	name = str_trim(copy);
	value = str_trim(copy + (eq - assignment) + 1);
	if (cf_name_ok(name)) {
		config_set(name, value);
		rc = 0;
	}
	free(copy);
	return rc;
}

/* ------------------------------------------------------------ access */

const struct param_def *config_param_def(const char *name)
{
	return cf_def_find(name, strlen(name));
}

const char *config_file_path(void)
{
	return cf_path;
}

static int cf_setting_cmp(const void *a, const void *b)
{
	const struct config_setting *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

size_t config_file_settings(struct config_setting **out)
{
	size_t n = 0;

	*out = xcalloc(cf_count + 1, sizeof(**out));
	for (size_t i = 0; i < cf_count; i++) {
		if (cf_vars[i].file == NULL)
			continue;
		(*out)[n].name = cf_vars[i].name;
		(*out)[n].value = cf_vars[i].file;
		(*out)[n++].line = cf_vars[i].line;
	}
	qsort(*out, n, sizeof(**out), cf_setting_cmp);
	return n;
}

bool config_refers_to(const char *value, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = strchr(value, '$'); p; p = strchr(p + 1, '$')) {
		const char *n = p + 1;

		if (*n == '{' || *n == '(')
			n++;
		if (strncmp(n, name, len) == 0 && !cf_name_char((unsigned char)n[len]))
			return true;
	}
	return false;
}

const char *config_raw(const char *name)
{
	struct cf_var *v = cf_var_find(name, strlen(name));
	const struct param_def *def = cf_def_find(name, strlen(name));

	if (v && cf_setting(v))
		return cf_setting(v);
	if (def == NULL)
		return NULL;
	if (def->def)
		return def->def;
	return cf_computed_default(name, 0);
}

const char *config_default(const char *name)
{
	const struct param_def *def = cf_def_find(name, strlen(name));

	if (def == NULL)
		return NULL;
	return def->def ? def->def : cf_computed_default(name, 0);
}

bool config_is_set(const char *name)
{
	struct cf_var *v = cf_var_find(name, strlen(name));

	return v && (v->over || v->file);
}

const char *config_str(const char *name)
{
	size_t len = strlen(name);

	if (cf_def_find(name, len) == NULL)
		log_panic("unknown parameter %s", name);
	return cf_value(cf_var_get(name, len), 0);
}

long config_int(const char *name)
{
	const char *s = config_str(name);
	long v;

	if (!parse_long(s, LONG_MIN, LONG_MAX, &v))
		log_fatal("bad numerical value for parameter %s: \"%s\"", name, s);
	return v;
}

long long config_size(const char *name)
{
	const char *s = config_str(name);
	char *end;
	long long v;

	errno = 0;
	v = (*s >= '0' && *s <= '9') ? strtoll(s, &end, 10) : -1;
	if (v < 0 || errno != 0 || *end != 0)
		log_fatal("bad size value for parameter %s: \"%s\"", name, s);
	return v;
}

long config_time(const char *name)
{
	const struct param_def *def = cf_def_find(name, strlen(name));
	const char *s = config_str(name);
	long secs;

	if (!config_parse_time(s, def->unit ? def->unit : 's', &secs))
		log_fatal("bad time value for parameter %s: \"%s\"", name, s);
	return secs;
}

bool config_bool(const char *name)
{
	const char *s = config_str(name);
	bool v;

	if (!config_parse_bool(s, &v))
		log_fatal("bad boolean value for parameter %s: \"%s\" (use yes or no)", name, s);
	return v;
}

char **config_list(const char *name)
{
	return strv_split_list(config_str(name));
}

static long cf_unit_seconds(char unit)
{
	switch (unit) {
	case 's':
	case 'S': return 1;
	case 'm':
	case 'M': return 60;
	case 'h':
	case 'H': return 3600;
	case 'd':
	case 'D': return 86400;
	case 'w':
	case 'W': return 7 * 86400;
	default: return 0;
	}
}

bool config_parse_time(const char *value, char unit, long *seconds)
{
	char *end;
	long n, mult;

	if (*value < '0' || *value > '9')
		return false;
	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0)
		return false;
	if (*end != 0) {
		if (end[1] != 0)
			return false;
		unit = *end;
	}
	mult = cf_unit_seconds(unit ? unit : 's');
	if (mult == 0 || n > LONG_MAX / mult)
		return false;
	*seconds = n * mult;
	return true;
}

bool config_parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1", NULL};
	static const char *const no[] = {"no", "false", "off", "0", NULL};

	for (int i = 0; yes[i]; i++) {
		if (str_case_eq(value, yes[i])) {
			*out = true;
			return true;
		}
		if (str_case_eq(value, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}
