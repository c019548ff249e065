/*
 * submit.c - hands one message to postdrop.
 *
 * postdrop (command_directory/postdrop, setgid setgid_group) reads the
 * records of lib/maildrop.h on its standard input and exits 0 only once
 * the maildrop file is complete and fsync'ed: its exit status is the
 * answer, so sendmail never needs to read anything back.  Records are
 * buffered and written in large pieces; the message is never held whole.
 * If postdrop dies early, writes fail with EPIPE (SIGPIPE is ignored) and
 * its exit status tells why.
 */
#include "sendmail.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "ipc.h"
#include "proto.h"
#include "util.h"

extern char **environ;

#define SM_WRITE_CHUNK (256 * 1024)

static void sm_write_out(struct sm_submit *s, bool all)
{
	size_t off = 0;

	if (s->failed || (!all && s->out.len < SM_WRITE_CHUNK)) {
		if (s->failed)
			buf_reset(&s->out);
		return;
	}
	while (off < s->out.len) {
		ssize_t n = write(s->fd, s->out.data + off, s->out.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			s->failed = true;
			break;
		}
		off += (size_t)n;
	}
	buf_reset(&s->out);
}

static int sm_spawn(struct sm_submit *s)
{
	char *path = xasprintf("%s/postdrop", config_str("command_directory"));
	char *argv[5] = {path, NULL, NULL, NULL, NULL};
	posix_spawn_file_actions_t fa;
	int p[2], r;

	if (sm_opts.confdir) {
		argv[1] = "-c";
		argv[2] = (char *)sm_opts.confdir;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(path);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	r = posix_spawn(&s->pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (r != 0) {
		sm_warn("cannot run %s: %s", path, strerror(r));
		close(p[1]);
		free(path);
		return -1;
	}
	free(path);
	s->fd = p[1];
	return 0;
}

int sm_submit_begin(struct sm_submit *s, const struct sm_envelope *e)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	signal(SIGPIPE, SIG_IGN);
	if (sm_spawn(s) < 0)
		return -1;
	ipc_put_str(&s->out, A_OP, OP_BEGIN);
	ipc_put_str(&s->out, A_SENDER, e->sender);
	for (size_t i = 0; i < e->nrcpt; i++) {
		ipc_put_str(&s->out, A_RCPT, e->rcpts[i]);
		if (e->orcpts && e->orcpts[i])
			ipc_put_str(&s->out, A_ORCPT, e->orcpts[i]);
		if (e->notifies && e->notifies[i])
			ipc_put_str(&s->out, A_NOTIFY, e->notifies[i]);
		else if (e->notify)
			ipc_put_str(&s->out, A_NOTIFY, e->notify);
	}
	if (e->fullname && *e->fullname)
		ipc_put_str(&s->out, A_FULLNAME, e->fullname);
	if (e->ret)
		ipc_put_str(&s->out, A_RET, e->ret);
	if (e->envid)
		ipc_put_str(&s->out, A_ENVID, e->envid);
	ipc_end(&s->out);
	return 0;
}

void sm_submit_data(struct sm_submit *s, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		size_t n = len > CLEANUP_DATA_CHUNK ? CLEANUP_DATA_CHUNK : len;

		ipc_put_str(&s->out, A_OP, OP_DATA);
		ipc_put(&s->out, A_DATA, p, n);
		ipc_end(&s->out);
		sm_write_out(s, false);
		p += n;
		len -= n;
	}
}

static int sm_wait(struct sm_submit *s)
{
	int status;

	while (waitpid(s->pid, &status, 0) < 0)
		if (errno != EINTR)
			return EX_TEMPFAIL;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) == 127 ? EX_TEMPFAIL : WEXITSTATUS(status);
	sm_warn("postdrop was killed by signal %d", WTERMSIG(status));
	return EX_TEMPFAIL;
}

int sm_submit_end(struct sm_submit *s)
{
	ipc_put_str(&s->out, A_OP, OP_END);
	ipc_end(&s->out);
	sm_write_out(s, true);
	close(s->fd);
	buf_free(&s->out);
	return sm_wait(s);
}

void sm_submit_abort(struct sm_submit *s)
{
	buf_free(&s->out);
	close(s->fd);
	(void)sm_wait(s);
}
