/*
 * passwd.c - "tern passwd [-c DIR] [--stdin] [-d] USER": the AUTH password table.
 *
 * Sets (or with -d removes) USER's line in the first file-based table of
 * smtpd_sasl_password_maps, "user  $y$...": a yescrypt hash made by
 * libxcrypt, never the password.  The password is asked twice on the
 * terminal (readpassphrase, no echo), or read as one line from standard
 * input with --stdin, for scripts.
 *
 * The file is replaced atomically: the new contents go to a temporary
 * file in the same directory, which is fsync'ed and renamed over the old
 * one, so smtpd (which reloads the table when it changes) never sees half
 * a file.  It is readable by its owner and mail_owner's group only: the
 * hashes are not secret in the way passwords are, but they invite
 * offline guessing.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>

#include "buf.h"
#include "config.h"
#include "privs.h"
#include "tern.h"
#include "util.h"

#define PASSWD_MAX 1024

static int passwd_usage(void)
{
	fprintf(stderr, "usage: tern passwd [-c DIR] [--stdin] [-d] USER\n");
	return EX_USAGE;
}

/* The file behind the first "type:/path" table of the parameter. */
static char *passwd_table_path(void)
{
	char **specs = config_list("smtpd_sasl_password_maps");
	char *path = NULL;

	for (size_t i = 0; specs[i] && path == NULL; i++) {
		const char *colon = strchr(specs[i], ':');

		if (colon && colon[1] == '/' && strncmp(specs[i], "pcre:", 5) != 0)
			path = xstrdup(colon + 1);
	}
	strv_free(specs);
	return path;
}

static bool passwd_read(bool from_stdin, char *pw, size_t size)
{
	char again[PASSWD_MAX];
	bool ok;

	if (from_stdin) {
		if (fgets(pw, (int)size, stdin) == NULL)
			return false;
		pw[strcspn(pw, "\r\n")] = 0;
		return *pw != 0;
	}
	if (readpassphrase("Password: ", pw, size, RPP_REQUIRE_TTY) == NULL ||
	    readpassphrase("Again: ", again, sizeof(again), RPP_REQUIRE_TTY) == NULL)
		return false;
	ok = *pw != 0 && strcmp(pw, again) == 0;
	if (!ok)
		fprintf(stderr, "tern passwd: the passwords are empty or differ\n");
	explicit_bzero(again, sizeof(again));
	return ok;
}

static char *passwd_hash(const char *pw)
{
	char *setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	void *data = NULL;
	int size = 0;
	const char *h;
	char *out = NULL;

	if (setting == NULL)
		return NULL;
	h = crypt_ra(pw, setting, &data, &size);
	if (h && h[0] != '*')
		out = xstrdup(h);
	if (data)
		explicit_bzero(data, (size_t)size);
	free(data);
	free(setting);
	return out;
}

/* Whether a table line is the entry for user (keys are case-insensitive). */
static bool passwd_line_is(const char *line, size_t len, const char *user)
{
	size_t n = strlen(user);

	return len > n && strncasecmp(line, user, n) == 0 && (line[n] == ' ' || line[n] == '\t');
}

/* The old contents with user's line replaced, removed or appended. */
static void passwd_edit(const struct buf *old, const char *user, const char *hash, struct buf *out)
{
	const char *p = old->data ? old->data : "", *end = p + old->len;
	bool done = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (passwd_line_is(p, len, user)) {
			if (hash && !done)
				buf_printf(out, "%s %s\n", user, hash);
			done = true;
		} else {
			buf_append(out, p, len);
			buf_putc(out, '\n');
		}
		p += len + (nl ? 1 : 0);
	}
	if (hash && !done)
		buf_printf(out, "%s %s\n", user, hash);
}

static int passwd_slurp(const char *path, struct buf *out)
{
	char chunk[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(out, chunk, n);
	fclose(f);
	return 0;
}

static int passwd_write(const char *path, const struct buf *text)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	uid_t uid;
	gid_t gid;
	int r = -1;

	if (fd < 0) {
		fprintf(stderr, "tern passwd: create %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	/* smtpd runs as mail_owner and must read the table. */
	if (geteuid() == 0 && priv_lookup_user(config_str("mail_owner"), &uid, &gid) &&
	    fchown(fd, 0, gid) < 0)
		fprintf(stderr, "tern passwd: chown %s: %s\n", tmp, strerror(errno));
	if (write(fd, text->data ? text->data : "", text->len) == (ssize_t)text->len &&
	    fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		if (rename(tmp, path) == 0)
			r = 0;
	}
	if (r < 0) {
		fprintf(stderr, "tern passwd: write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(tmp);
	return r;
}

static bool passwd_user_ok(const char *user)
{
	if (*user == 0 || strlen(user) > 255)
		return false;
	for (const char *p = user; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '#' || *p == ':' || (unsigned char)*p == 0x7f)
			return false;
	return true;
}

int cmd_passwd(const char *confdir, int argc, char **argv)
{
	bool from_stdin = false, remove = false;
	const char *user = NULL;
	char pw[PASSWD_MAX];
	char *path, *hash = NULL;
	struct buf old = BUF_INIT, text = BUF_INIT;
	int r = EX_OK;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			confdir = argv[++i];
		else if (strcmp(argv[i], "--stdin") == 0)
			from_stdin = true;
		else if (strcmp(argv[i], "-d") == 0)
			remove = true;
		else if (argv[i][0] != '-' && user == NULL)
			user = argv[i];
		else
			return passwd_usage();
	}
	if (user == NULL || !passwd_user_ok(user))
		return passwd_usage();
	cli_load_config(confdir);
	if ((path = passwd_table_path()) == NULL) {
		fprintf(stderr, "tern passwd: smtpd_sasl_password_maps names no table file\n");
		return EX_CONFIG;
	}
	if (!remove) {
		if (!passwd_read(from_stdin, pw, sizeof(pw))) {
			fprintf(stderr, "tern passwd: no password given\n");
			free(path);
			return EX_DATAERR;
		}
		hash = passwd_hash(pw);
		explicit_bzero(pw, sizeof(pw));
		if (hash == NULL) {
			fprintf(stderr, "tern passwd: cannot hash the password\n");
			free(path);
			return EX_SOFTWARE;
		}
	}
	if (passwd_slurp(path, &old) < 0) {
		fprintf(stderr, "tern passwd: read %s: %s\n", path, strerror(errno));
		r = EX_IOERR;
	} else {
		passwd_edit(&old, user, hash, &text);
		if (passwd_write(path, &text) < 0)
			r = EX_IOERR;
	}
	buf_free(&old);
	buf_free(&text);
	free(hash);
	free(path);
	return r;
}
