/*
 * passwd.c - "tern passwd [-c DIR] [--stdin] [-d] USER": the legacy SMTP
 * AUTH password table, and reading a password from the operator.
 *
 * Sets (or with -d removes) USER's line in the first file-based table of
 * smtpd_sasl_password_maps, "user  $y$...": a yescrypt hash made by
 * libxcrypt, never the password.  auth still reads that table for SMTP
 * (after the users file), so configurations made before "tern user"
 * keep working; new accounts belong in the users file ("tern user add").
 * The password is asked twice on the terminal (readpassphrase, no echo),
 * or read as one line from standard input with --stdin, for scripts.
 *
 * The file is replaced atomically and kept readable by its owner and
 * mail_owner's group only (account_file.c).
 */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>

#include "account.h"
#include "buf.h"
#include "config.h"
#include "tern.h"
#include "util.h"

static int passwd_usage(void)
{
	fprintf(stderr, "usage: tern passwd [-c DIR] [--stdin] [-d] USER\n");
	return EX_USAGE;
}

bool account_read_password(bool from_stdin, char *pw, size_t size)
{
	char again[ACCOUNT_PASSWORD_MAX];
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
		fprintf(stderr, "tern: the passwords are empty or differ\n");
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
	char pw[ACCOUNT_PASSWORD_MAX];
	char *path, *hash = NULL;
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
	if ((path = account_table_file("smtpd_sasl_password_maps")) == NULL) {
		fprintf(stderr, "tern passwd: smtpd_sasl_password_maps names no table file\n");
		return EX_CONFIG;
	}
	if (!remove) {
		if (!account_read_password(from_stdin, pw, sizeof(pw))) {
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
	if (account_table_edit(path, user, hash) < 0)
		r = EX_IOERR;
	free(hash);
	free(path);
	return r;
}
