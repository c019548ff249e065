/*
 * newaliases.c - "tern newaliases": checks the alias files local reads.
 *
 *   tern [-c DIR] newaliases [-v] [TABLE...]
 *
 * tern reads aliases(5) text files directly (no database to build), so
 * what Postfix's newaliases rebuilds is here a check: each table of
 * alias_database (or each TABLE given, "type:path" or a plain path) is
 * parsed as local parses it, and every target of every alias is checked
 * (an empty command, a relative :include:, an address with blanks).
 * Problems go to stderr, one line each.  local picks up an edited file
 * by itself; running newaliases first only tells the operator about
 * mistakes before mail meets them.
 *
 * Exit status (sysexits.h): 0 all fine, EX_NOINPUT a file is missing or
 * unreadable, EX_DATAERR a syntax error or bad target, EX_CONFIG a
 * table type that has no file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "alias_list.h"
#include "buf.h"
#include "config.h"
#include "table.h"
#include "tern.h"
#include "util.h"

struct na_check {
	const char *path;
	size_t aliases;
	size_t problems;
};

static void na_alias(const char *key, const char *value, void *ctx)
{
	struct na_check *c = ctx;
	char **targets = alias_targets(value);
	const char *why;

	c->aliases++;
	if (targets[0] == NULL) {
		fprintf(stderr, "newaliases: %s: alias \"%s\" has no targets\n", c->path, key);
		c->problems++;
	}
	for (char **t = targets; *t; t++) {
		if ((why = alias_target_check(*t)) != NULL) {
			fprintf(stderr, "newaliases: %s: alias \"%s\": \"%s\": %s\n", c->path, key,
			    *t, why);
			c->problems++;
		}
	}
	strv_free(targets);
}

/* The file of a table spec; NULL for types without one. */
static const char *na_path(const char *spec)
{
	static const char *const types[] = {"texthash:", "hash:", "btree:", "lmdb:", "cdb:"};

	if (*spec == '/')
		return spec;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strncmp(spec, types[i], strlen(types[i])) == 0)
			return spec + strlen(types[i]);
	return NULL;
}

static int na_one(const char *spec, bool verbose)
{
	const char *path = na_path(spec);
	char *full = *spec == '/' ? xasprintf("texthash:%s", spec) : xstrdup(spec);
	struct buf err = BUF_INIT;
	struct na_check c = {path, 0, 0};
	struct table *t = NULL;
	int rc = 0;

	if (path == NULL) {
		fprintf(
		    stderr, "newaliases: %s: not an alias file (use texthash: or hash:)\n", spec);
		rc = EX_CONFIG;
	} else if (access(path, R_OK) < 0) {
		fprintf(stderr, "newaliases: cannot read %s: %s\n", path, strerror(errno));
		rc = EX_NOINPUT;
	} else if (table_check(full, TABLE_ALIASES, &err) < 0 ||
		   (t = table_open(full, TABLE_ALIASES, &err)) == NULL) {
		fprintf(stderr, "newaliases: %s\n", buf_cstr(&err));
		rc = EX_DATAERR;
	} else {
		table_walk(t, na_alias, &c);
		if (c.problems)
			rc = EX_DATAERR;
		if (verbose || c.problems)
			printf("newaliases: %s: %zu aliases, %zu problems\n", path, c.aliases,
			    c.problems);
	}
	if (t)
		table_close(t);
	buf_free(&err);
	free(full);
	return rc;
}

int cmd_newaliases(const char *confdir, int argc, char **argv)
{
	bool verbose = false;
	char **specs;
	int c, rc = 0;

	while ((c = getopt(argc, argv, "v")) != -1) {
		if (c != 'v') {
			fprintf(stderr, "usage: tern newaliases [-v] [table...]\n");
			return EX_USAGE;
		}
		verbose = true;
	}
	cli_load_config(confdir);
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			int r = na_one(argv[i], verbose);

			rc = rc ? rc : r;
		}
		return rc;
	}
	specs = config_list("alias_database");
	for (char **p = specs; *p; p++) {
		int r = na_one(*p, verbose);

		rc = rc ? rc : r;
	}
	strv_free(specs);
	return rc;
}
