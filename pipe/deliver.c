/*
 * deliver.c - one request of the pipe agent: every recipient of it goes
 * into one run of the command, and the command's exit status is every
 * recipient's result (pipe.h).
 *
 * The message is first written into an anonymous memory file with the
 * envelope lines and line rules of flags= and eol= (lib/deliver_copy.c),
 * which becomes the command's standard input (lib/command_run.c): the
 * command reads at its own pace, we only read its output.
 *
 * As in Postfix: a message larger than size= bounces (5.2.3); flags D and
 * O name one recipient, so a request with several defers (4.3.5) with a
 * warning to set <service>_destination_recipient_limit = 1; the time
 * limit is <service>_time_limit, else transport_time_limit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "command_run.h"
#include "config.h"
#include "deliver_copy.h"
#include "log.h"
#include "pipe.h"
#include "proto.h"
#include "util.h"

#define PIPE_OUTPUT_MAX 1024
#define PIPE_PATH "/usr/bin:/bin:/usr/local/bin"

struct pipe_result {
	const char *result;
	char dsn[8];
	char reason[512];
};

static void pd_set(struct pipe_result *r, const char *result, const char *dsn, const char *reason)
{
	r->result = result;
	strlcpy(r->dsn, dsn, sizeof(r->dsn));
	strlcpy(r->reason, reason, sizeof(r->reason));
}

/* <service>_time_limit, else transport_time_limit. */
static long pd_time_limit(void)
{
	char *name = xasprintf("%s_time_limit", config_str("service_name"));
	const char *raw = config_raw(name);
	long limit = config_time("transport_time_limit");

	if (raw) {
		char *v = config_expand(raw);

		if (!config_parse_time(v, 's', &limit)) {
			log_warn("%s = %s: not a time, using transport_time_limit", name, v);
			limit = config_time("transport_time_limit");
		}
		free(v);
	}
	free(name);
	return limit;
}

/* The message as the command reads it, in a memory file at offset 0. */
static int pd_input(const struct deliver_job *job, const struct pipe_conf *c)
{
	const struct deliver_rcpt *r0 = &job->dr.rcpts[0];
	const char *orig = r0->orcpt ? strchr(r0->orcpt, ';') : NULL;
	struct deliver_copy dc = {
	    .qfd = job->fd,
	    .header_off = job->dr.header_off,
	    .header_len = job->dr.header_len,
	    .body_off = job->dr.body_off,
	    .body_len = job->dr.body_len,
	    .from_sender = c->flags & PIPE_FLAG_FROM_LINE ? job->dr.sender : NULL,
	    .return_path = c->flags & PIPE_FLAG_RETURN_PATH ? job->dr.sender : NULL,
	    .delivered_to = c->flags & PIPE_FLAG_DELIVERED ? r0->addr : NULL,
	    .original_to = c->flags & PIPE_FLAG_ORIG_TO ? (orig ? orig + 1 : r0->addr) : NULL,
	    .from_escape = c->flags & PIPE_FLAG_FROM_ESCAPE,
	    .dot_stuff = c->flags & PIPE_FLAG_DOT,
	    .blank_line = c->flags & PIPE_FLAG_BLANK,
	    .eol = c->eol,
	};
	int fd = memfd_create("tern-pipe", MFD_CLOEXEC);
	uint64_t written;

	if (fd < 0)
		return -1;
	if (deliver_copy_write(fd, &dc, &written, NULL) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* The command's words for this request, or NULL with r set. */
static char **pd_argv(
    const struct deliver_job *job, const struct pipe_conf *c, struct pipe_result *r)
{
	size_t n = job->dr.nrcpt;
	const char **rcpts = xcalloc(n, sizeof(*rcpts)), **orcpts = xcalloc(n, sizeof(*orcpts));
	struct pipe_vars v = {job->dr.sender, job->dr.nexthop, job->dr.qid,
	    (long long)(job->dr.header_len + 1 + job->dr.body_len), rcpts, orcpts, n, c->flags,
	    c->null_sender};
	struct buf err = BUF_INIT;
	char **argv;

	for (size_t i = 0; i < n; i++) {
		rcpts[i] = job->dr.rcpts[i].addr;
		orcpts[i] = job->dr.rcpts[i].orcpt;
	}
	argv = pipe_expand_argv(c->argv, &v, &err);
	if (argv == NULL) {
		log_qid_warn(job->dr.qid, "%s", buf_cstr(&err));
		pd_set(r, RES_DEFERRED, "4.3.5", "mail system configuration error");
	}
	buf_free(&err);
	free(rcpts);
	free(orcpts);
	return argv;
}

static void pd_run(
    const struct deliver_job *job, const struct pipe_conf *c, char **argv, struct pipe_result *r)
{
	char *env[] = {"PATH=" PIPE_PATH, NULL};
	struct command_spec spec = {
	    .argv = argv,
	    .env = env,
	    .set_ids = getuid() == 0,
	    .uid = c->uid,
	    .gid = c->gid,
	    .user_name = c->group ? NULL : c->user,
	    .cwd = c->directory ? c->directory : config_str("queue_directory"),
	    .cwd_strict = true,
	    .stdin_fd = pd_input(job, c),
	    .time_limit = pd_time_limit(),
	    .output_max = PIPE_OUTPUT_MAX,
	};
	struct command_outcome out;
	struct command_verdict v;
	char reason[64];

	if (spec.stdin_fd < 0) {
		snprintf(reason, sizeof(reason), "cannot copy the message: %s", strerror(errno));
		pd_set(r, RES_DEFERRED, "4.3.0", reason);
		return;
	}
	if (command_run(&spec, &out) < 0) {
		snprintf(reason, sizeof(reason), "cannot start the command: %s", strerror(errno));
		pd_set(r, RES_DEFERRED, "4.3.0", reason);
		close(spec.stdin_fd);
		return;
	}
	close(spec.stdin_fd);
	command_verdict(out.status, out.timed_out, buf_cstr(&out.output), "command", &v);
	pd_set(r, v.result, v.dsn, v.reason);
	if (strcmp(v.result, RES_SENT) == 0)
		snprintf(r->reason, sizeof(r->reason), "delivered via %s service",
		    config_str("service_name"));
	buf_free(&out.output);
}

int pipe_deliver(struct deliver_job *job, void *ctx)
{
	const struct pipe_conf *c = ctx;
	struct pipe_result r;
	char **argv = NULL;
	int rc = 0;

	if (c->user_error) {
		log_qid_warn(
		    job->dr.qid, "service %s: %s", config_str("service_name"), c->user_error);
		pd_set(&r, RES_DEFERRED, "4.3.5", "mail system configuration error");
	} else if (c->size_limit > 0 && job->dr.header_len + 1 + job->dr.body_len > c->size_limit) {
		pd_set(&r, RES_BOUNCED, "5.2.3", "message too large");
	} else if ((c->flags & (PIPE_FLAG_DELIVERED | PIPE_FLAG_ORIG_TO)) && job->dr.nrcpt > 1) {
		log_qid_warn(job->dr.qid, "flags D and O need %s_destination_recipient_limit = 1",
		    config_str("service_name"));
		pd_set(&r, RES_DEFERRED, "4.3.5", "mail system configuration error");
	} else if ((argv = pd_argv(job, c, &r)) != NULL) {
		pd_run(job, c, argv, &r);
	}
	strv_free(argv);
	for (size_t i = 0; i < job->dr.nrcpt && rc == 0; i++) {
		/* Postfix's pipe: a success is "relayed" unless flag X says
		 * the command is the final delivery. */
		struct deliver_outcome o = {.result = r.result,
		    .dsn = r.dsn,
		    .reason = r.reason,
		    .relay = config_str("service_name"),
		    .connected = job->received,
		    .relayed = !(c->flags & PIPE_FLAG_FINAL)};

		rc = deliver_job_report(job, &job->dr.rcpts[i], &o);
	}
	return rc;
}
