/*
 * mastercf.c - master.cf: one service per logical line, Postfix's columns.
 *
 *   service type private unpriv chroot wakeup maxproc command [args...]
 *
 * A logical line is a line starting with a non-blank character plus every
 * following line that starts with white space; '#' lines and blank lines
 * are skipped without ending it (as in main.cf).  The seven columns are
 * plain words.  Arguments after the command may group text with spaces in
 * "{ ... }", as Postfix 3 allows ("-o { name = value, more }"): the braces
 * and the white space just inside them are removed, and an "-o" argument
 * becomes "name=value" without blanks around '='.
 *
 * The parse is all or nothing: on any error the result is empty and err
 * says file:line and why.  This file checks syntax only; it does not bind
 * sockets, look up ports, or apply -o settings (master and daemon.c do).
 */
#include "mastercf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lline.h"
#include "file_replace.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#define MC_BLANKS " \t\r\f\v"

struct mc_parse {
	const char *filename;
	char *logical; /* the current logical line (lline.h) */
	int start;     /* its first line number */
	struct master_cf *cf;
	struct buf *err;
};

static int mc_error(struct mc_parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int mc_error(struct mc_parse *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (p->err == NULL)
		return -1;
	buf_printf(p->err, "%s:%d: ", p->filename, line);
	va_start(ap, fmt);
	buf_vprintf(p->err, fmt, ap);
	va_end(ap);
	return -1;
}

static bool mc_blank(int c)
{
	return c != 0 && strchr(MC_BLANKS, c) != NULL;
}

/* The next white-space separated word, in place; NULL at the end. */
static char *mc_word(char **sp)
{
	char *s = *sp + strspn(*sp, MC_BLANKS);
	char *end;

	if (*s == 0)
		return NULL;
	end = s + strcspn(s, MC_BLANKS);
	*sp = *end ? end + 1 : end;
	*end = 0;
	return s;
}

/*
 * The next argument: a word in which white space inside balanced braces
 * does not split.  Returns NULL at the end, or sets *why on bad braces.
 */
static char *mc_arg_word(char **sp, const char **why)
{
	char *s = *sp + strspn(*sp, MC_BLANKS), *e = s;
	int level = 0;

	if (*s == 0)
		return NULL;
	for (; *e && (level > 0 || !mc_blank((unsigned char)*e)); e++) {
		if (*e == '{')
			level++;
		else if (*e == '}' && --level < 0)
			return *why = "unexpected '}'", NULL;
	}
	if (level > 0)
		return *why = "missing '}'", NULL;
	*sp = *e ? e + 1 : e;
	*e = 0;
	return s;
}

/* "{ text }" -> "text"; other words are kept.  NULL if text follows '}'. */
static char *mc_unbrace(char *w)
{
	size_t len = strlen(w);
	int level = 0;

	if (w[0] != '{')
		return w;
	for (size_t i = 0; i < len; i++) {
		if (w[i] == '{')
			level++;
		else if (w[i] == '}' && --level == 0 && i != len - 1)
			return NULL;
	}
	w[len - 1] = 0;
	return str_trim(w + 1);
}

/* "name = value" -> "name=value", for -o arguments given in braces. */
static char *mc_assignment(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *name, *value, *out;

	if (eq == NULL)
		return xstrdup(arg);
	name = xstrndup(arg, (size_t)(eq - arg));
	value = xstrdup(eq + 1);
	out = xasprintf("%s=%s", str_trim(name), str_trim(value));
	free(name);
	free(value);
	return out;
}

static void mc_push_arg(struct master_service *svc, char *arg)
{
	svc->argv = xreallocarray(svc->argv, (size_t)svc->argc + 2, sizeof(*svc->argv));
	svc->argv[svc->argc++] = arg;
	svc->argv[svc->argc] = NULL;
}

/* Command and arguments: everything after the seventh column. */
static int mc_args(struct mc_parse *p, struct master_service *svc, char *rest)
{
	const char *why = NULL;
	char *w;

	while ((w = mc_arg_word(&rest, &why)) != NULL) {
		char *arg = mc_unbrace(w);

		if (arg == NULL)
			return mc_error(p, p->start, "text after '}' in \"%s\"", w);
		if (svc->argc > 1 && strcmp(svc->argv[svc->argc - 1], "-o") == 0)
			mc_push_arg(svc, mc_assignment(arg));
		else
			mc_push_arg(svc, xstrdup(arg));
	}
	if (why)
		return mc_error(p, p->start, "%s in command arguments", why);
	if (svc->argc == 0 || svc->argv[0][0] == 0)
		return mc_error(p, p->start, "missing command");
	return 0;
}

static int mc_yes_no(struct mc_parse *p, const char *col, const char *w, bool def, bool *out)
{
	if (strcmp(w, "-") == 0)
		*out = def;
	else if (strcmp(w, "y") == 0)
		*out = true;
	else if (strcmp(w, "n") == 0)
		*out = false;
	else
		return mc_error(p, p->start, "bad %s column \"%s\": use y, n or -", col, w);
	return 0;
}

/* wakeup: seconds, "-" for none; Postfix's trailing '?' is accepted. */
static int mc_wakeup(struct mc_parse *p, char *w, int *out)
{
	size_t len = strlen(w);
	long v;

	if (strcmp(w, "-") == 0) {
		*out = 0;
		return 0;
	}
	if (len > 1 && w[len - 1] == '?')
		w[len - 1] = 0;
	if (!parse_long(w, 0, INT_MAX, &v))
		return mc_error(p, p->start, "bad wakeup column \"%s\"", w);
	*out = (int)v;
	return 0;
}

static int mc_maxproc(struct mc_parse *p, const char *w, int *out)
{
	long v;

	if (strcmp(w, "-") == 0) {
		*out = -1;
		return 0;
	}
	if (!parse_long(w, 0, INT_MAX, &v))
		return mc_error(p, p->start, "bad maxproc column \"%s\": use a number or -", w);
	*out = (int)v;
	return 0;
}

static const char *const mc_type_names[] = {
    [SERVICE_INET] = "inet",
    [SERVICE_UNIX] = "unix",
    [SERVICE_UNIX_DGRAM] = "unix-dgram",
    [SERVICE_FIFO] = "fifo",
    [SERVICE_PASS] = "pass",
};

const char *mastercf_type_name(enum service_type type)
{
	if ((size_t)type < sizeof(mc_type_names) / sizeof(mc_type_names[0]))
		return mc_type_names[type];
	return "?";
}

static int mc_type(struct mc_parse *p, struct master_service *svc, const char *w)
{
	size_t i, n = sizeof(mc_type_names) / sizeof(mc_type_names[0]);

	for (i = 0; i < n && strcmp(w, mc_type_names[i]) != 0; i++)
		;
	if (i == n)
		return mc_error(p, p->start, "unsupported service type \"%s\"", w);
	svc->type = (enum service_type)i;
	/* Every type but inet names a file in a queue folder: it must stay there. */
	if (svc->type != SERVICE_INET && strchr(svc->name, '/'))
		return mc_error(p, p->start, "bad %s service name \"%s\"", w, svc->name);
	return 0;
}

/* Columns 2-7; col[0] is the service name. */
static int mc_columns(struct mc_parse *p, struct master_service *svc, char **col)
{
	if (mc_type(p, svc, col[1]) < 0 ||
	    mc_yes_no(p, "private", col[2], true, &svc->private_) < 0 ||
	    mc_yes_no(p, "unpriv", col[3], true, &svc->unpriv) < 0 ||
	    mc_yes_no(p, "chroot", col[4], false, &svc->chroot) < 0 ||
	    mc_wakeup(p, col[5], &svc->wakeup) < 0 || mc_maxproc(p, col[6], &svc->maxproc) < 0)
		return -1;
	return 0;
}

static int mc_check_duplicate(struct mc_parse *p, const struct master_service *svc)
{
	for (size_t i = 0; i < p->cf->count; i++) {
		const struct master_service *old = &p->cf->services[i];

		if (old->type == svc->type && strcmp(old->name, svc->name) == 0)
			return mc_error(p, p->start,
			    "duplicate service \"%s\" %s (first at line %d)", svc->name,
			    mastercf_type_name(svc->type), old->line);
	}
	return 0;
}

static void mc_service_free(struct master_service *svc)
{
	free(svc->name);
	strv_free(svc->argv);
}

/* Parses one complete logical line into a new service. */
static int mc_finish(struct mc_parse *p)
{
	static const char *const names[] = {
	    "service", "type", "private", "unpriv", "chroot", "wakeup", "maxproc"};
	struct master_service svc = {.line = p->start};
	char *rest = p->logical, *col[7];

	for (int i = 0; i < 7; i++)
		if ((col[i] = mc_word(&rest)) == NULL)
			return mc_error(p, p->start, "missing %s column", names[i]);
	svc.name = xstrdup(col[0]);
	if (mc_columns(p, &svc, col) < 0 || mc_args(p, &svc, rest) < 0 ||
	    mc_check_duplicate(p, &svc) < 0) {
		mc_service_free(&svc);
		return -1;
	}
	p->cf->services =
	    xreallocarray(p->cf->services, p->cf->count + 1, sizeof(*p->cf->services));
	p->cf->services[p->cf->count++] = svc;
	return 0;
}

int mastercf_parse_text(
    const char *text, size_t len, const char *filename, struct master_cf *out, struct buf *err)
{
	struct mc_parse p = {.filename = filename ? filename : "master.cf", .cf = out, .err = err};
	struct lline r;
	int lr, rc = 0;

	out->services = NULL;
	out->count = 0;
	lline_init(&r, text, len);
	while (rc == 0 && (lr = lline_next(&r)) != LLINE_END) {
		p.logical = r.line.data;
		p.start = r.start;
		if (lr == LLINE_NUL)
			rc = mc_error(&p, r.start, "NUL byte in line");
		else if (lr == LLINE_ORPHAN)
			rc = mc_error(&p, r.start, "continuation line before any service");
		else
			rc = mc_finish(&p);
	}
	lline_free(&r);
	if (rc < 0)
		mastercf_free(out);
	return rc;
}

int mastercf_load(const char *path, struct master_cf *out, struct buf *err)
{
	struct buf text = BUF_INIT;
	int rc;

	out->services = NULL;
	out->count = 0;
	if (file_read_all(path, &text) < 0) {
		if (err)
			buf_printf(err, "cannot read %s: %s", path, strerror(errno));
		buf_free(&text);
		return -1;
	}
	rc = mastercf_parse_text(buf_cstr(&text), text.len, path, out, err);
	buf_free(&text);
	if (rc == 0)
		mastercf_add_implicit(out);
	return rc;
}

/*
 * tern's auth service is what smtpd's SASL (and IMAP, POP3, JMAP logins)
 * ask; a Postfix master.cf has no line for it (Postfix asks Dovecot), so
 * a master.cf without one gets it all the same, as "tern init" writes it:
 * "auth unix - n n - 1 auth".  Its line number is 0.
 */
void mastercf_add_implicit(struct master_cf *cf)
{
	struct master_service svc = {0};

	for (size_t i = 0; i < cf->count; i++)
		if (strcmp(cf->services[i].name, SERVICE_AUTH) == 0 ||
		    strcmp(cf->services[i].argv[0], SERVICE_AUTH) == 0)
			return;
	svc.name = xstrdup(SERVICE_AUTH);
	svc.type = SERVICE_UNIX;
	svc.private_ = true;
	svc.unpriv = false;
	svc.maxproc = 1;
	svc.argc = 1;
	svc.argv = xcalloc(2, sizeof(*svc.argv));
	svc.argv[0] = xstrdup(SERVICE_AUTH);
	cf->services = xreallocarray(cf->services, cf->count + 1, sizeof(*cf->services));
	cf->services[cf->count++] = svc;
}

void mastercf_free(struct master_cf *cf)
{
	for (size_t i = 0; i < cf->count; i++)
		mc_service_free(&cf->services[i]);
	free(cf->services);
	cf->services = NULL;
	cf->count = 0;
}
