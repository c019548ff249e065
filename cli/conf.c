/*
 * conf.c - "tern conf": Postfix's postconf for tern's configuration.
 *
 *   tern conf [-n | -d] [-h] [-x] [NAME...]   print parameters
 *   tern conf -e NAME=VALUE...                set them in main.cf
 *   tern conf -X NAME...                      remove them from main.cf
 *   tern conf -M [-h] [SERVICE[/TYPE]...]     print master.cf services
 *
 * Without options every parameter tern knows is printed with its
 * effective value as written ("name = value", sorted by name); -n prints
 * only what main.cf sets (unknown names included), -d the defaults, -x
 * expands $names (and reads "/file/name" values), -h prints values only.
 * NAME... restricts the output; a name tern does not know is a warning,
 * as with postconf.  -e and -X change main.cf in place, keeping its
 * comments and layout, and replace it atomically (conf_edit.h); a
 * running system picks the change up on "tern reload".  -M prints each
 * master.cf service on one line, its columns normalised.
 *
 * "tern check" reports what the values mean for tern; this command only
 * shows and edits them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "conf_edit.h"
#include "config.h"
#include "mastercf.h"
#include "tern.h"
#include "util.h"

enum conf_mode { CONF_ALL, CONF_SET, CONF_DEFAULTS, CONF_EDIT, CONF_REMOVE, CONF_MASTER };

struct conf_opts {
	enum conf_mode mode;
	bool values_only; /* -h */
	bool expand;	  /* -x */
	char **names;	  /* operands */
	int nnames;
};

static int conf_usage(void)
{
	fprintf(stderr, "usage: tern conf [-n | -d] [-h] [-x] [NAME...]\n"
			"       tern conf -e NAME=VALUE...\n"
			"       tern conf -X NAME...\n"
			"       tern conf -M [-h] [SERVICE[/TYPE]...]\n");
	return EX_USAGE;
}

static int conf_set_mode(struct conf_opts *o, enum conf_mode m)
{
	if (o->mode != CONF_ALL && o->mode != m)
		return -1;
	o->mode = m;
	return 0;
}

/* Options may be grouped ("-nh") and come anywhere; "--" ends them. */
static int conf_parse(int argc, char **argv, struct conf_opts *o)
{
	bool opts = true;

	memset(o, 0, sizeof(*o));
	o->names = xcalloc((size_t)argc + 1, sizeof(char *));
	for (int i = 1; i < argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0) {
			opts = false;
			continue;
		}
		if (!opts || argv[i][0] != '-' || argv[i][1] == 0) {
			o->names[o->nnames++] = argv[i];
			continue;
		}
		for (const char *f = argv[i] + 1; *f; f++) {
			int r = 0;

			switch (*f) {
			case 'n': r = conf_set_mode(o, CONF_SET); break;
			case 'd': r = conf_set_mode(o, CONF_DEFAULTS); break;
			case 'e': r = conf_set_mode(o, CONF_EDIT); break;
			case 'X': r = conf_set_mode(o, CONF_REMOVE); break;
			case 'M': r = conf_set_mode(o, CONF_MASTER); break;
			case 'h': o->values_only = true; break;
			case 'x': o->expand = true; break;
			default: return -1;
			}
			if (r < 0)
				return -1;
		}
	}
	if ((o->mode == CONF_EDIT || o->mode == CONF_REMOVE) && o->nnames == 0)
		return -1;
	return 0;
}

static void conf_print(const struct conf_opts *o, const char *name, const char *raw)
{
	char *val = o->expand ? config_expand(raw) : xstrdup(raw);

	if (o->values_only)
		printf("%s\n", val);
	else if (*val)
		printf("%s = %s\n", name, val);
	else
		printf("%s =\n", name);
	free(val);
}

/* The effective value, expanded with -x through config_str() so that
 * "/file/name" values are read as the daemons read them. */
static void conf_print_effective(const struct conf_opts *o, const char *name)
{
	if (o->expand && config_param_def(name)) {
		struct conf_opts raw = *o;

		raw.expand = false;
		conf_print(&raw, name, config_str(name));
		return;
	}
	conf_print(o, name, config_raw(name));
}

static int conf_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every known name, or what main.cf sets (-n), sorted. */
static char **conf_names(const struct conf_opts *o, size_t *n)
{
	struct config_setting *set;
	char **v;

	*n = 0;
	if (o->mode == CONF_SET) {
		size_t count = config_file_settings(&set);

		v = xcalloc(count + 1, sizeof(char *));
		for (size_t i = 0; i < count; i++)
			v[(*n)++] = (char *)set[i].name;
		free(set);
	} else {
		size_t count = 0;

		for (const struct param_def *d = param_table; d->name; d++)
			count++;
		v = xcalloc(count + 1, sizeof(char *));
		for (const struct param_def *d = param_table; d->name; d++)
			v[(*n)++] = (char *)d->name;
	}
	qsort(v, *n, sizeof(char *), conf_cmp);
	return v;
}

static void conf_print_one(const struct conf_opts *o, const char *name)
{
	if (o->mode == CONF_DEFAULTS)
		conf_print(o, name, config_default(name));
	else
		conf_print_effective(o, name);
}

static int conf_show(const struct conf_opts *o)
{
	size_t n;
	char **v;
	int rc = 0;

	if (o->nnames == 0) {
		v = conf_names(o, &n);
		for (size_t i = 0; i < n; i++)
			conf_print_one(o, v[i]);
		free(v);
		return 0;
	}
	for (int i = 0; i < o->nnames; i++) {
		const char *name = o->names[i];
		bool known = config_param_def(name) != NULL;

		if (o->mode == CONF_SET && !config_is_set(name))
			continue;
		if (!known && (o->mode == CONF_DEFAULTS || config_raw(name) == NULL)) {
			fprintf(stderr, "tern conf: warning: %s: unknown parameter\n", name);
			continue;
		}
		conf_print_one(o, name);
	}
	return rc;
}

static int conf_edit(const struct conf_opts *o)
{
	struct conf_change *ch = xcalloc((size_t)o->nnames, sizeof(*ch));
	char **store = xcalloc((size_t)o->nnames + 1, sizeof(char *));
	struct buf err = BUF_INIT;
	int rc = 0;

	for (int i = 0; i < o->nnames && rc == 0; i++) {
		if (o->mode == CONF_EDIT &&
		    !conf_parse_assignment(o->names[i], &ch[i], &store[i])) {
			fprintf(stderr,
			    "tern conf: bad assignment \"%s\": need NAME=VALUE on one line\n",
			    o->names[i]);
			rc = EX_USAGE;
		} else if (o->mode == CONF_REMOVE) {
			ch[i].name = o->names[i];
			if (!conf_name_ok(ch[i].name)) {
				fprintf(
				    stderr, "tern conf: bad parameter name \"%s\"\n", ch[i].name);
				rc = EX_USAGE;
			}
		}
	}
	if (rc == 0 && conf_edit_file(config_file_path(), ch, (size_t)o->nnames, &err) < 0) {
		fprintf(stderr, "tern conf: %s\n", buf_cstr(&err));
		rc = EX_CANTCREAT;
	}
	strv_free(store);
	free(ch);
	buf_free(&err);
	return rc;
}

/* "name" or "name/type" selects a service. */
static bool conf_service_wanted(const struct conf_opts *o, const struct master_service *s)
{
	if (o->nnames == 0)
		return true;
	for (int i = 0; i < o->nnames; i++) {
		const char *slash = strchr(o->names[i], '/');
		size_t len = slash ? (size_t)(slash - o->names[i]) : strlen(o->names[i]);

		if (strlen(s->name) == len && strncmp(s->name, o->names[i], len) == 0 &&
		    (slash == NULL || strcmp(slash + 1, mastercf_type_name(s->type)) == 0))
			return true;
	}
	return false;
}

static void conf_print_service(const struct master_service *s)
{
	char wakeup[16], maxproc[16];

	snprintf(wakeup, sizeof(wakeup), "%d", s->wakeup);
	snprintf(maxproc, sizeof(maxproc), "%d", s->maxproc);
	printf("%-10s %-5s %-7s %-7s %-7s %-7s %-7s", s->name, mastercf_type_name(s->type),
	    s->private_ ? "y" : "n", s->unpriv ? "y" : "n", s->chroot ? "y" : "n",
	    s->wakeup ? wakeup : "-", s->maxproc < 0 ? "-" : maxproc);
	for (int i = 0; i < s->argc; i++)
		printf(strchr(s->argv[i], ' ') ? " { %s }" : " %s", s->argv[i]);
	printf("\n");
}

static int conf_master(const struct conf_opts *o)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct master_cf cf;
	int rc = 0;

	buf_printf(&path, "%s/master.cf", config_dir());
	if (mastercf_load(path.data, &cf, &err) < 0) {
		fprintf(stderr, "tern conf: %s\n", buf_cstr(&err));
		rc = EX_CONFIG;
	} else {
		for (size_t i = 0; i < cf.count; i++)
			if (conf_service_wanted(o, &cf.services[i]))
				conf_print_service(&cf.services[i]);
		mastercf_free(&cf);
	}
	buf_free(&path);
	buf_free(&err);
	return rc;
}

int cmd_conf(const char *confdir, int argc, char **argv)
{
	struct conf_opts o;

	int rc;

	if (conf_parse(argc, argv, &o) < 0) {
		free(o.names);
		return conf_usage();
	}
	cli_load_config(confdir);
	switch (o.mode) {
	case CONF_EDIT:
	case CONF_REMOVE: rc = conf_edit(&o); break;
	case CONF_MASTER: rc = conf_master(&o); break;
	default: rc = conf_show(&o); break;
	}
	free(o.names);
	return rc;
}
