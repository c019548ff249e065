/*
 * pipe_conf.c - pipe's master.cf attributes, as pipe(8) defines them:
 *
 *   flags=BDFORXhqu.>   see pipe.h; other letters are errors
 *   user=name[:group]   required; the command's identity
 *   argv=command ...    required and last: every following word is the
 *                       command's (so "-d" there is not a daemon option)
 *   size=N              messages over N bytes are bounced (5.2.3)
 *   eol=string          line end, with \r \n \t \\ escapes (default \n)
 *   directory=path      working directory (default queue_directory)
 *   null_sender=text    ${sender} of the null sender (default MAILER-DAEMON)
 *
 * Anything else stops the daemon with the word it did not understand:
 * a command run with half of its configuration could deliver wrongly.
 */
#include "pipe_conf.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static const struct {
	char letter;
	unsigned flag;
} pipe_flag_letters[] = {
    {'B', PIPE_FLAG_BLANK},
    {'D', PIPE_FLAG_DELIVERED},
    {'F', PIPE_FLAG_FROM_LINE},
    {'O', PIPE_FLAG_ORIG_TO},
    {'R', PIPE_FLAG_RETURN_PATH},
    {'X', PIPE_FLAG_FINAL},
    {'q', PIPE_FLAG_QUOTE},
    {'u', PIPE_FLAG_FOLD_USER},
    {'h', PIPE_FLAG_FOLD_HOST},
    {'.', PIPE_FLAG_DOT},
    {'>', PIPE_FLAG_FROM_ESCAPE},
};

static int pipe_flags(const char *v, unsigned *flags, struct buf *err)
{
	for (; *v; v++) {
		size_t i, n = sizeof(pipe_flag_letters) / sizeof(pipe_flag_letters[0]);

		for (i = 0; i < n && pipe_flag_letters[i].letter != *v; i++)
			;
		if (i == n) {
			buf_printf(err, "flags=: unknown flag '%c'", *v);
			return -1;
		}
		*flags |= pipe_flag_letters[i].flag;
	}
	return 0;
}

/* eol=: "\r\n" written with backslashes in master.cf. */
static char *pipe_eol(const char *v)
{
	struct buf b = BUF_INIT;
	char *s;

	for (; *v; v++) {
		if (*v != '\\' || v[1] == 0) {
			buf_putc(&b, *v);
			continue;
		}
		v++;
		buf_putc(&b, *v == 'r' ? '\r' : *v == 'n' ? '\n' : *v == 't' ? '\t' : *v);
	}
	s = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return s;
}

static int pipe_user(const char *v, struct pipe_conf *c, struct buf *err)
{
	const char *colon = strchr(v, ':');

	if (*v == 0 || colon == v) {
		buf_puts(err, "user=: empty user name");
		return -1;
	}
	c->user = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
	c->group = colon && colon[1] ? xstrdup(colon + 1) : NULL;
	return 0;
}

/* One name=value word before argv=. */
static int pipe_attr(const char *w, struct pipe_conf *c, struct buf *err)
{
	const char *eq = strchr(w, '=');
	size_t n = eq ? (size_t)(eq - w) : 0;
	const char *v = eq ? eq + 1 : "";
	long size;

	if (eq && n == 5 && strncmp(w, "flags", n) == 0)
		return pipe_flags(v, &c->flags, err);
	if (eq && n == 4 && strncmp(w, "user", n) == 0)
		return pipe_user(v, c, err);
	if (eq && n == 4 && strncmp(w, "size", n) == 0) {
		if (!parse_long(v, 0, 1L << 50, &size)) {
			buf_printf(err, "size=%s: not a number of bytes", v);
			return -1;
		}
		c->size_limit = size;
		return 0;
	}
	if (eq && n == 3 && strncmp(w, "eol", n) == 0) {
		free(c->eol);
		c->eol = pipe_eol(v);
		return 0;
	}
	if (eq && n == 9 && strncmp(w, "directory", n) == 0 && *v) {
		free(c->directory);
		c->directory = xstrdup(v);
		return 0;
	}
	if (eq && n == 11 && strncmp(w, "null_sender", n) == 0) {
		free(c->null_sender);
		c->null_sender = xstrdup(v);
		return 0;
	}
	buf_printf(err, "unknown or bad attribute \"%s\"", w);
	return -1;
}

int pipe_conf_parse(char *const *args, struct pipe_conf *c, struct buf *err)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	c->eol = xstrdup("\n");
	c->null_sender = xstrdup("MAILER-DAEMON");
	for (i = 0; args[i] && strncmp(args[i], "argv=", 5) != 0; i++)
		if (pipe_attr(args[i], c, err) < 0)
			return -1;
	if (args[i] == NULL || args[i][5] == 0) {
		buf_puts(err, "missing argv= attribute (the command)");
		return -1;
	}
	if (c->user == NULL) {
		buf_puts(err, "missing user= attribute");
		return -1;
	}
	strv_add(&c->argv, args[i] + 5);
	for (i++; args[i]; i++)
		strv_add(&c->argv, args[i]);
	return 0;
}

int pipe_conf_user(struct pipe_conf *c, struct buf *err)
{
	struct passwd *pw = getpwnam(c->user);
	struct passwd *owner;

	if (pw == NULL) {
		buf_printf(err, "user=%s: unknown user", c->user);
		return -1;
	}
	c->uid = pw->pw_uid;
	c->gid = pw->pw_gid;
	if (c->group) {
		struct group *gr = getgrnam(c->group);

		if (gr == NULL) {
			buf_printf(err, "user=%s:%s: unknown group", c->user, c->group);
			return -1;
		}
		c->gid = gr->gr_gid;
	}
	if (c->uid == 0 || c->gid == 0) {
		buf_printf(err, "user=%s: commands are never run with root privileges", c->user);
		return -1;
	}
	owner = getpwnam(config_str("mail_owner"));
	if (owner && owner->pw_uid == c->uid && getuid() == 0) {
		buf_printf(
		    err, "user=%s: commands are never run as the mail system owner", c->user);
		return -1;
	}
	return 0;
}

void pipe_conf_free(struct pipe_conf *c)
{
	free(c->user);
	free(c->group);
	strv_free(c->argv);
	free(c->eol);
	free(c->directory);
	free(c->null_sender);
	free(c->user_error);
	memset(c, 0, sizeof(*c));
}

int pipe_conf_first_attr(char *const *args)
{
	int i = 0;

	while (args[i] && args[i][0] == '-' && args[i][1]) {
		/* -c, -n, -t, -o take a value (daemon.c's "+c:n:t:o:v"). */
		bool value = strchr("cnto", args[i][1]) != NULL && args[i][2] == 0;

		if (value && args[i + 1] == NULL)
			break;
		i += value ? 2 : 1;
	}
	return i;
}
