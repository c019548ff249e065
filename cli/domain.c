/*
 * domain.c - "tern domain": the virtual mailbox domains of a system.
 *
 *   tern domain list          one domain per line (virtual_mailbox_domains)
 *   tern domain add NAME      adds NAME, and a postmaster mailbox for it
 *   tern domain del NAME      removes NAME (mailboxes and mail stay)
 *
 * add and del edit virtual_mailbox_domains in main.cf in place (tern
 * conf -e), and add appends "postmaster@NAME NAME/postmaster/" to the
 * first table file of virtual_mailbox_maps (RFC 5321 4.5.1: every domain
 * has a postmaster).  A running system is then reloaded, and once its
 * new qmgr runs, deferred mail is retried at once: mail for NAME that
 * was accepted before the change (from a trusted client, as relay mail)
 * is delivered into the new mailbox instead of waiting for its next
 * retry.  Mail in transit while the system reloads is not lost: smtpd
 * and qmgr finish what they hold before their successors start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "address.h"
#include "buf.h"
#include "conf_edit.h"
#include "config.h"
#include "file_replace.h"
#include "queue_cli.h"
#include "tern.h"
#include "util.h"

#define DOM_PARAM "virtual_mailbox_domains"
#define DOM_SEPS " \t\r\n,"

static int domain_usage(void)
{
	fprintf(stderr, "usage: tern domain list\n"
			"       tern domain add NAME\n"
			"       tern domain del NAME\n");
	return EX_USAGE;
}

static bool domain_listed(const char *name)
{
	char **v = config_list(DOM_PARAM);
	bool found = false;

	for (char **p = v; *p && !found; p++)
		found = str_case_eq(*p, name);
	strv_free(v);
	return found;
}

/* The setting with name added or (add false) removed; NULL when name is
 * not written there literally (it comes from a $name or a file). */
static char *domain_new_value(const char *name, bool add)
{
	const char *raw = config_is_set(DOM_PARAM) ? config_raw(DOM_PARAM) : "";
	char **v = strv_split(raw, DOM_SEPS);
	struct buf b = BUF_INIT;
	bool found = false;

	for (char **p = v; *p; p++) {
		if (!add && str_case_eq(*p, name)) {
			found = true;
			continue;
		}
		buf_printf(&b, "%s%s", b.len ? ", " : "", *p);
	}
	strv_free(v);
	if (add)
		buf_printf(&b, "%s%s", b.len ? ", " : "", name);
	else if (!found) {
		buf_free(&b);
		return NULL;
	}
	return b.data ? b.data : xstrdup("");
}

/* The file of the first file-based table of virtual_mailbox_maps. */
static char *domain_table_file(void)
{
	static const char *const types[] = {"texthash:", "hash:", "btree:", NULL};
	char **v = config_list("virtual_mailbox_maps");
	char *path = NULL;

	for (char **p = v; *p && path == NULL; p++)
		for (int t = 0; types[t] && path == NULL; t++)
			if (strncmp(*p, types[t], strlen(types[t])) == 0)
				path = xstrdup(*p + strlen(types[t]));
	strv_free(v);
	return path;
}

/* Appends the postmaster mailbox unless the table has that key. */
static int domain_add_postmaster(const char *name)
{
	char *path = domain_table_file(), *key = xasprintf("postmaster@%s", name);
	struct buf text = BUF_INIT, err = BUF_INIT;
	char **lines;
	bool have = false;
	int rc = 0;

	if (path == NULL) {
		printf("tern domain: virtual_mailbox_maps has no table file; add a mailbox for "
		       "%s yourself\n",
		    key);
		free(key);
		return 0;
	}
	if (file_read_all(path, &text) < 0 && errno != ENOENT) {
		fprintf(stderr, "tern domain: cannot read %s: %s\n", path, strerror(errno));
		rc = EX_IOERR;
		goto out;
	}
	lines = strv_split(buf_cstr(&text), "\n");
	for (char **l = lines; *l && !have; l++) {
		size_t n = strcspn(*l, " \t:");

		have = n == strlen(key) && strncasecmp(*l, key, n) == 0;
	}
	strv_free(lines);
	if (!have) {
		if (text.len && text.data[text.len - 1] != '\n')
			buf_putc(&text, '\n');
		buf_printf(&text, "%s %s/postmaster/\n", key, name);
		if (file_replace(path, text.data, text.len, 0644, &err) < 0) {
			fprintf(stderr, "tern domain: %s\n", buf_cstr(&err));
			rc = EX_CANTCREAT;
		}
	}
out:
	buf_free(&text);
	buf_free(&err);
	free(path);
	free(key);
	return rc;
}

/* Reloads a running system, then retries deferred mail. */
static int domain_apply(void)
{
	char *flush[] = {"flush", NULL};
	int r = cli_reload_running();

	if (r == 1) {
		printf("tern domain: the mail system is not running; the change applies when it "
		       "starts\n");
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "tern domain: the mail system did not finish reloading; run "
				"\"tern reload\" and \"tern queue flush\"\n");
		return EX_TEMPFAIL;
	}
	return queue_admin(1, flush) == 0 ? 0 : EX_TEMPFAIL;
}

static int domain_change(const char *arg, bool add)
{
	char *name = xstrdup(arg), *value;
	struct conf_change ch;
	struct buf err = BUF_INIT;
	int rc = 0;

	str_lower(name);
	if (!addr_valid_domain(name, false) || name[0] == '[') {
		fprintf(stderr, "tern domain: bad domain name: %s\n", arg);
		free(name);
		return EX_DATAERR;
	}
	if (add == domain_listed(name)) {
		printf("tern domain: %s is %s a domain\n", name, add ? "already" : "not");
		free(name);
		return add ? 0 : EX_DATAERR;
	}
	if ((value = domain_new_value(name, add)) == NULL) {
		fprintf(stderr, "tern domain: %s comes from a $name or a file in %s; edit that\n",
		    name, DOM_PARAM);
		free(name);
		return EX_DATAERR;
	}
	ch.name = DOM_PARAM;
	ch.value = value;
	if (conf_edit_file(config_file_path(), &ch, 1, &err) < 0) {
		fprintf(stderr, "tern domain: %s\n", buf_cstr(&err));
		rc = EX_CANTCREAT;
	}
	if (rc == 0 && add)
		rc = domain_add_postmaster(name);
	if (rc == 0)
		rc = domain_apply();
	if (rc == 0)
		printf("tern domain: %s %s\n", add ? "added" : "removed", name);
	buf_free(&err);
	free(value);
	free(name);
	return rc;
}

int cmd_domain(const char *confdir, int argc, char **argv)
{
	if (argc < 2)
		return domain_usage();
	cli_load_config(confdir);
	if (strcmp(argv[1], "list") == 0 && argc == 2) {
		char **v = config_list(DOM_PARAM);

		for (char **p = v; *p; p++)
			printf("%s\n", *p);
		strv_free(v);
		return 0;
	}
	if ((strcmp(argv[1], "add") == 0 || strcmp(argv[1], "del") == 0) && argc == 3)
		return domain_change(argv[2], strcmp(argv[1], "add") == 0);
	return domain_usage();
}
