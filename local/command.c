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
 * The command runs through lib/command_run.c: for good as the user, in
 * its own process group, killed after command_time_limit.  It gets a
 * clean environment (PATH, the recipient's HOME, USER, LOGNAME, SHELL, and
 * the message context Postfix's local(8) exports, each value filtered by
 * command_expansion_filter so a hostile address cannot inject shell
 * syntax), and "/bin/sh -c command" runs in the recipient's home.
 *
 * Results follow <sysexits.h> as Postfix maps them (command_verdict()):
 * 0 delivered, 75 (EX_TEMPFAIL) and 71 (EX_OSERR) deferred, other
 * sysexits codes bounced with their enhanced status code, any other code
 * bounced as 5.3.0; death by a signal or timeout defers.  If the output
 * starts with an enhanced status code ("5.7.1 ..."), that code wins.
 */
#include "local.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "command_run.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#define CMD_OUTPUT_MAX 1024

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
	rc = local_copy_message(fd, m, rcpt, LOCAL_COPY_COMMAND);
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

void command_result(int status, bool timed_out, const char *output, struct local_result *r)
{
	struct command_verdict v;

	command_verdict(status, timed_out, output, "command", &v);
	local_result_set(r, v.result, v.dsn, "%s", v.reason);
}

int command_deliver(
    const struct local_msg *m, const char *rcpt, const struct local_cmd *c, struct local_result *r)
{
	struct command_spec spec = {
	    .shell_command = c->command,
	    .env = c->env,
	    .set_ids = true,
	    .uid = c->uid,
	    .gid = c->gid,
	    .user_name = c->user_name,
	    .cwd = c->home,
	    .stdin_fd = cmd_input(m, rcpt),
	    .time_limit = config_time("command_time_limit"),
	    .output_max = CMD_OUTPUT_MAX,
	};
	struct command_outcome out;
	int rc;

	if (spec.stdin_fd < 0) {
		local_result_errno(r, errno, "copy the message for the command");
		return -1;
	}
	rc = command_run(&spec, &out);
	close(spec.stdin_fd);
	if (rc < 0) {
		local_result_errno(r, errno, "start the command");
		return -1;
	}
	command_result(out.status, out.timed_out, buf_cstr(&out.output), r);
	buf_free(&out.output);
	return strcmp(r->result, RES_SENT) == 0 ? 0 : -1;
}
