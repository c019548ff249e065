/*
 * report_mail.c - the report log and the report mail (see report_mail.h).
 */
#include "report_mail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "command_run.h"
#include "config.h"
#include "util.h"

bool report_log_append(const char *path, const struct buf *line)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, line->data, line->len) == (ssize_t)line->len;
	if (close(fd) < 0)
		ok = false;
	return ok;
}

int report_log_take(const char *who, const char *log, const char *sending)
{
	int rc = 0;

	if (access(sending, F_OK) == 0) { /* a failed run's: this run sends it */
		char *more = xasprintf("%s.%ld", sending, (long)time(NULL));

		if (rename(log, more) == 0) {
			FILE *in = fopen(more, "r"), *out = fopen(sending, "a");
			char chunk[8192];
			size_t got;

			while (in && out && (got = fread(chunk, 1, sizeof(chunk), in)) > 0)
				fwrite(chunk, 1, got, out);
			if (in)
				fclose(in);
			if (out == NULL || fclose(out) != 0) {
				fprintf(stderr, "%s: %s: %s\n", who, sending, strerror(errno));
				rc = 1;
			} else {
				unlink(more);
			}
		}
		free(more);
	} else if (rename(log, sending) < 0 && errno != ENOENT) {
		fprintf(stderr, "%s: %s: %s\n", who, log, strerror(errno));
		rc = 1;
	}
	return rc;
}

char *report_log_read(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf all = BUF_INIT;
	char chunk[8192], *text;
	size_t got;

	if (f == NULL)
		return NULL;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&all, chunk, got);
	fclose(f);
	text = xstrdup(buf_cstr(&all));
	buf_free(&all);
	return text;
}

bool report_file_write(const char *who, const char *dir, const char *name, const struct buf *data)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	bool ok = f && fwrite(data->data, 1, data->len, f) == data->len;

	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "%s: %s: %s\n", who, path, strerror(errno));
	free(path);
	return ok;
}

void report_mail_message(const struct report_mail *m, struct buf *msg)
{
	struct buf b64 = BUF_INIT;
	char boundary[64];

	snprintf(boundary, sizeof(boundary), "=_tern_report_%ld_%d", (long)time(NULL), getpid());
	buf_printf(msg, "From: %s\nTo: %s\nSubject: %s\n%s", m->from, m->to, m->subject,
	    m->headers ? m->headers : "");
	buf_printf(
	    msg, "MIME-Version: 1.0\nContent-Type: %s; boundary=\"%s\"\n\n", m->type, boundary);
	buf_printf(msg,
	    "This is a multipart message in MIME format.\n\n"
	    "--%s\nContent-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: 7bit\n\n%s\n\n",
	    boundary, m->text);
	buf_printf(msg,
	    "--%s\nContent-Type: %s; name=\"%s\"\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment; filename=\"%s\"\n\n",
	    boundary, m->file_type, m->file_name, m->file_name);
	base64_encode(m->file->data, m->file->len, &b64);
	for (size_t i = 0; i < b64.len; i += 76)
		buf_printf(msg, "%.*s\n", (int)(b64.len - i < 76 ? b64.len - i : 76), b64.data + i);
	buf_printf(msg, "\n--%s--\n", boundary);
	buf_free(&b64);
}

bool report_mail_send(const char *who, const char *from, const char *rcpt, const struct buf *msg)
{
	char *path = xasprintf("%s/sendmail", config_str("command_directory"));
	char *argv[] = {
	    path, "-C", (char *)config_dir(), "-i", "-f", (char *)from, "--", (char *)rcpt, NULL};
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	int fd = memfd_create("report", MFD_CLOEXEC);
	struct command_spec spec = {
	    .argv = argv, .env = env, .stdin_fd = fd, .time_limit = 120, .output_max = 512};
	struct command_outcome out = {.status = -1};
	bool ok = false;

	if (fd >= 0 && write(fd, msg->data, msg->len) == (ssize_t)msg->len &&
	    lseek(fd, 0, SEEK_SET) == 0 && command_run(&spec, &out) == 0) {
		ok = WIFEXITED(out.status) && WEXITSTATUS(out.status) == 0;
		if (!ok)
			fprintf(stderr, "%s: sendmail for <%s> failed: %s\n", who, rcpt,
			    buf_cstr(&out.output));
		buf_free(&out.output);
	} else {
		fprintf(stderr, "%s: cannot run %s: %s\n", who, path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	free(path);
	return ok;
}
