/*
 * command_run.c - fork, become the user, exec, collect bounded output,
 * kill at the time limit; and the exit status as a delivery result
 * (command_run.h).
 *
 * The parent only reads the child's output: the input is a descriptor
 * the child reads at its own pace (a memory file or the like), so no
 * dead-lock between writing its input and reading its output can occur.
 */
#include "command_run.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "dsn.h"
#include "proto.h"
#include "util.h"

/* In the child: the identity for good.  Root's effective ids may have
 * been lent to a mailbox owner: take them back first. */
static void cr_become(const struct command_spec *s)
{
	if (!s->set_ids || (geteuid() != 0 && getuid() != 0))
		return;
	if (seteuid(0) < 0)
		_exit(EX_OSERR);
	if ((s->user_name ? initgroups(s->user_name, s->gid) : setgroups(1, &s->gid)) < 0 ||
	    setresgid(s->gid, s->gid, s->gid) < 0 || setresuid(s->uid, s->uid, s->uid) < 0)
		_exit(EX_OSERR);
	if (s->uid != 0 && setuid(0) == 0)
		_exit(EX_OSERR);
}

static void cr_child(const struct command_spec *s, int out)
{
	sigset_t none;
	int in = s->stdin_fd >= 0 ? s->stdin_fd : open("/dev/null", O_RDONLY);

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(EX_OSERR);
	closefrom(3);
	cr_become(s);
	if (chdir(s->cwd && *s->cwd ? s->cwd : "/") < 0 && (s->cwd_strict || chdir("/") < 0))
		_exit(EX_TEMPFAIL);
	if (s->shell_command)
		execle("/bin/sh", "sh", "-c", s->shell_command, (char *)NULL, s->env);
	else
		execvpe(s->argv[0], s->argv, s->env);
	_exit(errno == ENOENT ? EX_UNAVAILABLE : EX_OSERR);
}

/* Reads the child's output (keeping the first max bytes) until EOF or the
 * deadline; false on time-out. */
static bool cr_collect(int fd, struct buf *out, size_t max, long long deadline)
{
	char tmp[4096];

	for (;;) {
		long long left = deadline - mono_msec();
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t got;
		int n;

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
		if (out->len < max)
			buf_append(
			    out, tmp, (size_t)got < max - out->len ? (size_t)got : max - out->len);
	}
}

/* Printable, one line: the output as it goes into a reason. */
static void cr_clean_output(struct buf *out)
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

int command_run(const struct command_spec *spec, struct command_outcome *out)
{
	int pfd[2];
	pid_t pid;
	bool done;

	memset(out, 0, sizeof(*out));
	buf_init(&out->output);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		int err = errno;

		close(pfd[0]);
		close(pfd[1]);
		errno = err;
		return -1;
	}
	if (pid == 0)
		cr_child(spec, pfd[1]);
	close(pfd[1]);
	done = cr_collect(pfd[0], &out->output, spec->output_max,
	    mono_msec() + (spec->time_limit > 0 ? spec->time_limit : 1) * 1000);
	close(pfd[0]);
	if (!done)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &out->status, 0) < 0 && errno == EINTR)
		;
	out->timed_out = !done;
	cr_clean_output(&out->output);
	return 0;
}

/* ------------------------------------------------------------ verdicts */

struct cr_exit {
	int code;
	const char *dsn;
	const char *text;
};

/* <sysexits.h> codes and their enhanced status codes, as Postfix maps them. */
static const struct cr_exit cr_exits[] = {
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

/* "X.Y.Z" at the start of the output, X the class we expect. */
static bool cr_output_dsn(const char *o, char cls, char dsn[8])
{
	size_t n = dsn_code_len(o);

	if (o[0] != cls || n == 0 || n >= 8)
		return false;
	memcpy(dsn, o, n);
	dsn[n] = 0;
	return true;
}

static void cr_set(struct command_verdict *v, const char *result, const char *dsn)
{
	v->result = result;
	strlcpy(v->dsn, dsn, sizeof(v->dsn));
}

void command_verdict(
    int status, bool timed_out, const char *output, const char *what, struct command_verdict *v)
{
	const char *text = NULL, *dsn = "5.3.0";
	char odsn[8], tbuf[64];
	int code;

	if (timed_out) {
		cr_set(v, RES_DEFERRED, "4.3.0");
		snprintf(v->reason, sizeof(v->reason), "%s time limit exceeded: %s", what, output);
		return;
	}
	if (WIFSIGNALED(status)) {
		cr_set(v, RES_DEFERRED, "4.3.0");
		snprintf(v->reason, sizeof(v->reason), "%s killed by signal %d: %s", what,
		    WTERMSIG(status), output);
		return;
	}
	code = WEXITSTATUS(status);
	if (code == 0) {
		cr_set(v, RES_SENT, "2.0.0");
		snprintf(v->reason, sizeof(v->reason), "delivered to %s", what);
		return;
	}
	for (size_t i = 0; i < sizeof(cr_exits) / sizeof(cr_exits[0]); i++)
		if (cr_exits[i].code == code) {
			text = cr_exits[i].text;
			dsn = cr_exits[i].dsn;
		}
	if (text == NULL) {
		snprintf(tbuf, sizeof(tbuf), "%s died with status %d", what, code);
		text = tbuf;
	}
	if (cr_output_dsn(output, dsn[0], odsn))
		dsn = odsn;
	cr_set(v, dsn[0] == '4' ? RES_DEFERRED : RES_BOUNCED, dsn);
	snprintf(v->reason, sizeof(v->reason), "%s exit %d (%s): %s", what, code, text, output);
}
