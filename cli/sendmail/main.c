/*
 * main.c - sendmail, mailq, newaliases: the Sendmail-compatible interface
 * every Unix program that sends mail calls.
 *
 *   sendmail [options] [recipient ...]  < message
 *   mailq        = sendmail -bp  (runs "tern queue list")
 *   newaliases   = sendmail -bi  (runs "tern newaliases")
 *
 * The options and their meanings are Postfix's sendmail(1); see
 * man/sendmail.1.  The message goes to postdrop, never to a daemon, so
 * sending works while the mail system is down.  Exit status follows
 * sysexits.h: 0 only when postdrop said the message is safely in maildrop/.
 *
 * The configuration directory is -C DIR (or a file in it), else
 * $TERN_CONFIG, else /etc/tern; an instance directory made by "tern init"
 * (DIR/etc/main.cf) works too.
 */
#include "sendmail.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "addrlist.h"
#include "config.h"
#include "maildrop.h"
#include "smtp/esmtp.h"
#include "util.h"

extern char **environ;

struct sm_opts sm_opts;

enum sm_mode {
	SM_DELIVER,    /* -bm: read a message (default) */
	SM_SMTP,       /* -bs */
	SM_MAILQ,      /* -bp */
	SM_NEWALIASES, /* -bi, -I */
	SM_FLUSH,      /* -q */
};

struct sm_args {
	enum sm_mode mode;
	bool extract, ignore_dots;
	const char *confdir, *sender, *fullname, *notify, *ret, *envid;
};

void sm_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("sendmail: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void sm_fatal(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("sendmail: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void sm_usage(void)
{
	fprintf(stderr,
	    "usage: sendmail [-t] [-i] [-f sender] [-F full_name] [-N dsn] [-R full|hdrs]\n"
	    "                [-V envid] [-B 8BITMIME|7BIT] [-C config_dir] [-bm|-bs|-bp|-bi]\n"
	    "                [-q] [-v] [recipient ...]\n"
	    "       mailq | newaliases\n");
	exit(EX_USAGE);
}

void sm_env_add_rcpt(struct sm_envelope *e, const char *addr)
{
	e->rcpts = xreallocarray(e->rcpts, e->nrcpt + 2, sizeof(char *));
	e->rcpts[e->nrcpt++] = xstrdup(addr);
	e->rcpts[e->nrcpt] = NULL;
}

void sm_env_free(struct sm_envelope *e)
{
	for (size_t i = 0; i < e->nrcpt; i++) {
		free(e->rcpts[i]);
		if (e->orcpts)
			free(e->orcpts[i]);
		if (e->notifies)
			free(e->notifies[i]);
	}
	free(e->rcpts);
	free(e->orcpts);
	free(e->notifies);
	free(e->sender);
	memset(e, 0, sizeof(*e));
}

/* -C names a directory, main.cf in it, or an instance made by tern init. */
static const char *sm_confdir(const char *given)
{
	struct stat st;

	if (given == NULL)
		given = getenv("TERN_CONFIG");
	if (given == NULL)
		return NULL;
	if (stat(given, &st) == 0 && S_ISREG(st.st_mode))
		return xstrdup(dirname(xstrdup(given)));
	return config_instance_dir(given);
}

static void sm_load_config(const char *given)
{
	struct buf err = BUF_INIT;

	sm_opts.confdir = sm_confdir(given);
	if (config_load(sm_opts.confdir, false, &err) < 0)
		sm_fatal(EX_CONFIG, "%s", buf_cstr(&err));
	buf_free(&err);
}

void sm_exec_tern(char *const args[])
{
	char *argv[16];
	int n = 0;

	argv[n++] = xasprintf("%s/tern", config_str("command_directory"));
	if (sm_opts.confdir) {
		argv[n++] = "-c";
		argv[n++] = (char *)sm_opts.confdir;
	}
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	execve(argv[0], argv, environ);
	sm_fatal(EX_UNAVAILABLE, "cannot run %s: %s", argv[0], strerror(errno));
}

/* -o: only the old Sendmail options Postfix accepts; all but -oi ignored. */
static void sm_option_o(struct sm_args *a, const char *v)
{
	if (strcmp(v, "i") == 0)
		a->ignore_dots = true;
	else if (v[0] == 'e' || v[0] == 'd' || strcmp(v, "m") == 0 || v[0] == 'A' || v[0] == 'Q' ||
		 v[0] == '7' || v[0] == '8')
		return;
	else
		sm_usage();
}

static void sm_option_b(struct sm_args *a, const char *v)
{
	if (strcmp(v, "m") == 0)
		a->mode = SM_DELIVER;
	else if (strcmp(v, "s") == 0)
		a->mode = SM_SMTP;
	else if (strcmp(v, "p") == 0)
		a->mode = SM_MAILQ;
	else if (strcmp(v, "i") == 0)
		a->mode = SM_NEWALIASES;
	else if (strcmp(v, "l") == 0 || strcmp(v, "d") == 0)
		sm_fatal(EX_USAGE,
		    "-b%s is not supported: start the mail system with \"tern start\"", v);
	else
		sm_usage();
}

/* -N: "never" or a list of success, failure, delay, as RCPT's NOTIFY. */
static const char *sm_check_notify(const char *v)
{
	char *notify = esmtp_notify_parse(v, strlen(v));

	if (notify == NULL)
		sm_fatal(EX_USAGE, "-N: bad DSN notification: %s", v);
	return notify;
}

static void sm_parse(int argc, char **argv, struct sm_args *a)
{
	int c;

	opterr = 0;
	while ((c = getopt(argc, argv, "A:B:C:F:GIL:N:O:R:UV:X:b:f:h:imno:q::r:tv")) != -1) {
		switch (c) {
		case 'B':
			if (strcasecmp(optarg, "8BITMIME") != 0 && strcasecmp(optarg, "7BIT") != 0)
				sm_fatal(EX_USAGE, "-B: unknown body type %s", optarg);
			break;
		case 'C': a->confdir = optarg; break;
		case 'F': a->fullname = optarg; break;
		case 'I': a->mode = SM_NEWALIASES; break;
		case 'N': a->notify = sm_check_notify(optarg); break;
		case 'R':
			if (strcasecmp(optarg, "full") != 0 && strcasecmp(optarg, "hdrs") != 0)
				sm_fatal(EX_USAGE, "-R: use full or hdrs");
			a->ret = strcasecmp(optarg, "full") == 0 ? "FULL" : "HDRS";
			break;
		case 'V': a->envid = optarg; break;
		case 'b': sm_option_b(a, optarg); break;
		case 'f':
		case 'r': a->sender = optarg; break;
		case 'i': a->ignore_dots = true; break;
		case 'o': sm_option_o(a, optarg); break;
		case 'q':
			/* -q flushes; -qInterval (a daemon option) is ignored. */
			if (optarg == NULL || optarg[0] == 'R' || optarg[0] == 'S')
				a->mode = SM_FLUSH;
			break;
		case 't': a->extract = true; break;
		case 'v': sm_opts.verbose = true; break;
		/* Accepted and ignored, as Postfix does. */
		case 'A':
		case 'G':
		case 'L':
		case 'O':
		case 'U':
		case 'X':
		case 'h':
		case 'm':
		case 'n': break;
		default: sm_usage();
		}
	}
}

/* The envelope sender: -f/-r, else the login name of the caller. */
static char *sm_sender(const char *given)
{
	struct passwd *pw;
	char **v;
	char *s;

	if (given == NULL) {
		pw = getpwuid(getuid());
		if (pw == NULL)
			sm_fatal(EX_OSERR, "uid %ld has no user name", (long)getuid());
		return xstrdup(pw->pw_name);
	}
	if (strcmp(given, "<>") == 0 || *given == 0)
		return xstrdup("");
	v = addrlist_parse(given, strlen(given));
	if (v[0] == NULL || v[1] != NULL)
		sm_fatal(EX_USAGE, "-f: bad sender address: %s", given);
	s = xstrdup(v[0]);
	strv_free(v);
	return s;
}

static int sm_deliver(const struct sm_args *a, int nargs, char **args)
{
	struct sm_envelope e = {0};
	const char *name = a->fullname ? a->fullname : getenv("NAME");
	int r;

	e.sender = sm_sender(a->sender);
	e.fullname = name && *name ? name : NULL;
	e.notify = a->notify;
	e.ret = a->ret;
	e.envid = a->envid;
	if (e.envid && (strlen(e.envid) > MD_MAX_ENVID || *e.envid == 0))
		sm_fatal(EX_USAGE, "-V: envelope ID must be 1 to %d characters", MD_MAX_ENVID);
	for (int i = 0; i < nargs; i++) {
		char **v = addrlist_parse(args[i], strlen(args[i]));

		for (size_t j = 0; v[j]; j++)
			sm_env_add_rcpt(&e, v[j]);
		strv_free(v);
	}
	if (e.nrcpt == 0 && !a->extract)
		sm_fatal(EX_USAGE, "no recipients specified");
	r = sm_message(&e, a->extract, a->ignore_dots);
	if (r != 0)
		sm_warn("the message was not queued (postdrop exit status %d)", r);
	else if (sm_opts.verbose)
		fprintf(stderr, "sendmail: message queued for %zu recipient(s)\n", e.nrcpt);
	sm_env_free(&e);
	return r;
}

int main(int argc, char **argv)
{
	struct sm_args a = {0};
	const char *self = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (strcmp(self, "mailq") == 0)
		a.mode = SM_MAILQ;
	else if (strcmp(self, "newaliases") == 0)
		a.mode = SM_NEWALIASES;
	sm_parse(argc, argv, &a);
	sm_load_config(a.confdir);
	switch (a.mode) {
	case SM_MAILQ: sm_exec_tern((char *[]){"queue", "list", NULL});
	case SM_NEWALIASES: sm_exec_tern((char *[]){"newaliases", NULL});
	case SM_FLUSH: sm_exec_tern((char *[]){"queue", "flush", NULL});
	case SM_SMTP: return sm_smtp();
	case SM_DELIVER: break;
	}
	return sm_deliver(&a, argc - optind, argv + optind);
}
