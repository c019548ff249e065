/*
 * command.c - delivery to a command: mailbox_command, "|command" targets
 * in aliases and .forward files.
 *
 * The message ("From sender date", Return-Path, Delivered-To, header,
 * body; no ">From" escaping and no final empty line, as Postfix hands
 * it to commands) is first copied into an anonymous memory file that
 * becomes the command's standard input: the child can then read at its
 * own pace while we only read its output, and no pipe dead-lock between
 * the two directions is possible.
 *
 * The child sets its real, effective and saved ids, and its supplementary
 * groups, for good before exec ("/bin/sh -c command"): a command must not
 * be able to return to root.  It gets a clean environment (PATH, the
 * recipient's HOME, USER, LOGNAME, SHELL, and the message context Postfix's
 * local(8) exports, each value filtered by command_expansion_filter so a
 * hostile address cannot inject shell syntax), runs in its own process
 * group so a timeout can kill everything it started, and is killed after
 * command_time_limit.
 *
 * Results follow <sysexits.h> as Postfix maps them: 0 delivered, 75
 * (EX_TEMPFAIL) and 71 (EX_OSERR) deferred, other sysexits codes bounced
 * with their enhanced status code, any other code bounced as 5.3.0; death
 * by a signal or timeout defers.  If the output starts with an enhanced
 * status code ("5.7.1 ..."), that code wins.  The first part of the
 * output goes into the reason either way.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#define CMD_OUTPUT_MAX 1024
#define CMD_PATH "/usr/bin:/bin:/usr/local/bin"

struct cmd_exit {
	int code;
	const char *dsn;
	const char *text;
};

/* <sysexits.h> codes and their enhanced status codes. */
static const struct cmd_exit cmd_exits[] = {
    {EX_USAGE, "5.3.0", "command line usage error"},
    {EX_DATAERR, "5.6.0", "data format error"},
    {EX_NOINPUT, "5.3.0", "cannot open input"},
    {EX_NOUSER, "5.1.1", "user unknown"},
    {EX_NOHOST, "5.1.2", "host name unknown"},
    {EX_UNAVAILABLE, "5.3.0", "service unavailable"},
    {EX_SOFTWARE, "5.3.0", "internal software error"},
    {EX_OSERR, "4.3.0", "system resource problem"},
    {EX_OSFILE, "5.3.0", "critical OS file missing"},
    {EX_CANTCREAT, "5.2.0", "cannot create output file"},
    {EX_IOERR, "5.3.0", "input/output error"},
    {EX_TEMPFAIL, "4.3.0", "temporary failure"},
    {EX_PROTOCOL, "5.5.0", "remote error in protocol"},
    {EX_NOPERM, "5.7.0", "permission denied"},
    {EX_CONFIG, "5.3.5", "local configuration error"},
};

void command_env_add(char ***env, size_t *n, const char *name, const char *value)
{
	const char *ok = config_str("command_expansion_filter");
	char *v = xasprintf("%s=%s", name, value ? value : "");

	for (char *p = v + strlen(name) + 1; *p; p++)
		if (strchr(ok, *p) == NULL)
			*p = '_';
	*env = xreallocarray(*env, *n + 2, sizeof(**env));
	(*env)[(*n)++] = v;
	(*env)[*n] = NULL;
}

/* The message as the command reads it, in a memory file at offset 0. */
static int cmd_input(const struct local_msg *m, const char *rcpt)
{
	int fd = memfd_create("tern-local", MFD_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = local_from_line(fd, m->sender);
	if (rc == 0)
		rc = local_copy_message(fd, m, rcpt, false);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = -1;
	if (rc < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* In the child: become the user for good, then exec the shell. */
static void cmd_child(const struct local_cmd *c, int in, int out)
{
	sigset_t none;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(EX_OSERR);
	closefrom(3);
	if (geteuid() == 0 || getuid() == 0) {
		/* Root's effective ids may be borrowed: take them back first. */
		if (seteuid(0) < 0)
			_exit(EX_OSERR);
		if ((c->user_name ? initgroups(c->user_name, c->gid) : setgroups(1, &c->gid)) < 0 ||
		    setresgid(c->gid, c->gid, c->gid) < 0 || setresuid(c->uid, c->uid, c->uid) < 0)
			_exit(EX_OSERR);
		if (c->uid != 0 && setuid(0) == 0)
			_exit(EX_OSERR);
	}
	if (chdir(c->home && *c->home ? c->home : "/") < 0 && chdir("/") < 0)
		_exit(EX_OSERR);
	execle("/bin/sh", "sh", "-c", c->command, (char *)NULL, c->env);
	_exit(EX_OSERR);
}

/* Reads the child's output (keeping the first part) until EOF or the
 * deadline; false on timeout. */
static bool cmd_collect(int fd, struct buf *out, long long deadline)
{
	char tmp[4096];

	for (;;) {
		long long left = deadline - mono_msec();
		struct pollfd p = {fd, POLLIN, 0};
		int n;
		ssize_t got;

		if (left <= 0)
			return false;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno != EINTR)
			return false;
		if (n <= 0)
			continue;
		got = read(fd, tmp, sizeof(tmp));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return true;
		if (out->len < CMD_OUTPUT_MAX)
			buf_append(out, tmp,
			    (size_t)got < CMD_OUTPUT_MAX - out->len ? (size_t)got
								    : CMD_OUTPUT_MAX - out->len);
	}
}

/* Printable, one line: the output as it goes into a reason. */
static void cmd_clean_output(struct buf *out)
{
	size_t len;

	for (size_t i = 0; i < out->len; i++)
		if ((unsigned char)out->data[i] < 0x20 || out->data[i] == 0x7f)
			out->data[i] = ' ';
	len = out->len;
	while (len > 0 && out->data[len - 1] == ' ')
		len--;
	buf_truncate(out, len);
	buf_cstr(out);
}

/* "X.Y.Z" at the start of the output, X the class we expect. */
static bool cmd_output_dsn(const char *o, char cls, char dsn[8])
{
	size_t n = 0;

	if (o[0] != cls || o[1] != '.')
		return false;
	n = 2 + strspn(o + 2, "0123456789");
	if (n == 2 || n > 5 || o[n] != '.')
		return false;
	n += 1 + strspn(o + n + 1, "0123456789");
	if (n >= 8 || (o[n] != ' ' && o[n] != 0) || o[n - 1] == '.')
		return false;
	memcpy(dsn, o, n);
	dsn[n] = 0;
	return true;
}

void command_result(int status, bool timed_out, const char *output, struct local_result *r)
{
	const char *what = NULL, *dsn = "5.3.0";
	char odsn[8], text[64];
	int code;

	if (timed_out) {
		local_result_set(
		    r, RES_DEFERRED, "4.3.0", "command time limit exceeded: %s", output);
		return;
	}
	if (WIFSIGNALED(status)) {
		local_result_set(r, RES_DEFERRED, "4.3.0", "command killed by signal %d: %s",
		    WTERMSIG(status), output);
		return;
	}
	code = WEXITSTATUS(status);
	if (code == 0) {
		local_result_set(r, RES_SENT, "2.0.0", "delivered to command");
		return;
	}
	for (size_t i = 0; i < sizeof(cmd_exits) / sizeof(cmd_exits[0]); i++)
		if (cmd_exits[i].code == code) {
			what = cmd_exits[i].text;
			dsn = cmd_exits[i].dsn;
		}
	if (what == NULL) {
		snprintf(text, sizeof(text), "command died with status %d", code);
		what = text;
	}
	if (cmd_output_dsn(output, dsn[0], odsn))
		dsn = odsn;
	local_result_set(r, dsn[0] == '4' ? RES_DEFERRED : RES_BOUNCED, dsn,
	    "command exit %d (%s): %s", code, what, output);
}

int command_deliver(
    const struct local_msg *m, const char *rcpt, const struct local_cmd *c, struct local_result *r)
{
	int in = cmd_input(m, rcpt), pfd[2];
	struct buf out = BUF_INIT;
	pid_t pid;
	int status = 0;
	bool done;

	if (in < 0) {
		local_result_errno(r, errno, "copy the message for the command");
		return -1;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		local_result_errno(r, errno, "start the command");
		close(in);
		return -1;
	}
	if (pid == 0)
		cmd_child(c, in, pfd[1]);
	close(in);
	close(pfd[1]);
	done = cmd_collect(pfd[0], &out, mono_msec() + config_time("command_time_limit") * 1000);
	close(pfd[0]);
	if (!done)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	cmd_clean_output(&out);
	command_result(status, !done, buf_cstr(&out), r);
	buf_free(&out);
	return strcmp(r->result, RES_SENT) == 0 ? 0 : -1;
}
