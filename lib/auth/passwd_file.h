/*
 * auth/passwd_file.h - the account files: Dovecot's passwd-file format
 * (users(5)) and tern's app password file.
 *
 * A users line is
 *     user:password:uid:gid:gecos:home:shell:extra_fields
 * where every field after the password may be missing or empty, and
 * extra_fields (everything after the seventh colon, colons included, so
 * "quota_rule=*:storage=1G" survives) is a list of "key=value" or bare
 * "key" words separated by blanks.  Empty lines and lines whose first
 * character is '#' are skipped.  A password "hash[13]" or "hash[34]"
 * (libpam-pwdfile's notation) is the hash alone; "{SCHEME}data" names
 * its scheme (auth/pwscheme.h).  So a file written by Dovecot's tools,
 * or for Dovecot's passwd-file passdb/userdb, is read unchanged.
 *
 * An app password line is
 *     user:label:services:{SCHEME}hash:created
 * with services a comma-separated list ("" = every service) and created
 * the Unix time it was made.
 *
 * Everything here is a pure function over buffers (fuzzed:
 * tests/fuzz/fuzz_passwd_file.c); the auth daemon and "tern user" read
 * and write the files, and decide what the fields mean.
 */
#ifndef TERN_AUTH_PASSWD_FILE_H
#define TERN_AUTH_PASSWD_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define PWF_MAX_LINE 8192
#define PWF_MAX_EXTRA 64

/* One users line; strings point into the caller's (modified) line. */
struct pwf_entry {
	const char *user;
	const char *password; /* "" when absent */
	const char *uid;      /* "" when absent; a number or a user name */
	const char *gid;
	const char *home;
	const char *extra[PWF_MAX_EXTRA]; /* "key=value" or "key" */
	size_t nextra;
	unsigned lineno;
};

/*
 * Splits one line (without its newline) in place.  Returns 1 for an
 * entry, 0 for a comment or blank line, -1 with *why when malformed: an
 * empty or over-long user name, control characters, a user name with
 * blanks, more than PWF_MAX_EXTRA extra fields, a malformed extra field.
 */
int pwf_parse_line(char *line, struct pwf_entry *e, const char **why);

/* The value of extra field key ("" for a bare word), or NULL.  With
 * userdb, "userdb_key" is looked for first, then "key". */
const char *pwf_extra(const struct pwf_entry *e, const char *key, bool userdb);

/* Writes e as one line, newline included. */
void pwf_format_line(struct buf *out, const struct pwf_entry *e);

/* Whether name may be a user name in the file (no ':', blanks, controls). */
bool pwf_user_valid(const char *name);

/* A whole users file, parsed: entries sorted by user name, case folded. */
struct pwf {
	struct pwf_entry *ents;
	size_t n;
	char *text; /* the file's bytes, which the entries point into */
};

/*
 * Parses a whole file.  Malformed lines and later duplicates of a user
 * name are skipped; each is reported in errs as "NAME:LINE: why\n" (name
 * is the file name for messages).  Never fails otherwise.
 */
void pwf_parse(const char *text, size_t len, const char *name, struct pwf *out, struct buf *errs);
/* The entry of user (compared without case), or NULL. */
const struct pwf_entry *pwf_find(const struct pwf *f, const char *user);
void pwf_free(struct pwf *f);

/* One app password line, parsed in place. */
struct pwf_app {
	const char *user;
	const char *label;
	const char *services; /* "" = all */
	const char *hash;
	long long created;
};

/* 1 entry, 0 comment or blank, -1 malformed (*why). */
int pwf_app_parse_line(char *line, struct pwf_app *a, const char **why);
/* Whether service is in the comma-separated list ("" allows every one). */
bool pwf_app_allows(const char *services, const char *service);
/* Labels and service names: [A-Za-z0-9._-], 1 to 64 characters. */
bool pwf_word_valid(const char *word);

#endif
