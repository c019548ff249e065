/*
 * main.c - the showq daemon: the mail queue listing for users who may not
 * read the queue, as Postfix's showq(8) serves its mailq.
 *
 * The queue folders belong to mail_owner (mode 0700), so "mailq" and
 * "tern queue list" run by anyone else connect to public/showq instead
 * of reading them.  A client sends one line, "list" or "json"; showq
 * answers with exactly what "tern queue list" (--json) prints for root
 * (lib/queue_list.c) and closes.  master starts it on the first
 * connection (maxproc 1 is plenty: one listing at a time), as
 * mail_owner; nothing here changes the queue.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "queue_list.h"

#define SHOWQ_REQUEST_MAX 16
#define SHOWQ_READ_SECONDS 10

/* The request line, or "" when the client sent nothing usable in time. */
static void showq_request(int fd, char *out, size_t size)
{
	struct timeval tv = {SHOWQ_READ_SECONDS, 0};
	size_t len = 0;

	out[0] = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (len + 1 < size) {
		ssize_t n = read(fd, out + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = 0;
		if (memchr(out, '\n', len))
			break;
	}
	out[strcspn(out, "\r\n")] = 0;
}

static void showq_serve(int fd, void *ctx)
{
	char req[SHOWQ_REQUEST_MAX];
	char *list[] = {"showq", NULL}, *json[] = {"showq", "--json", NULL};
	int saved;

	(void)ctx;
	showq_request(fd, req, sizeof(req));
	if (strcmp(req, "list") != 0 && strcmp(req, "json") != 0) {
		log_warn("bad request \"%s\"", req);
		close(fd);
		return;
	}
	/* queue_list_main() prints to stdout: point it at the client. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		log_error("dup: %s", strerror(errno));
		if (saved >= 0)
			close(saved);
		close(fd);
		return;
	}
	queue_list_main(strcmp(req, "json") == 0 ? 2 : 1, strcmp(req, "json") == 0 ? json : list);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
}

int main(int argc, char **argv)
{
	struct daemon d;

	daemon_init(&d, argc, argv, "showq", 0);
	queue_list_direct_only = true;
	daemon_blocking_server(&d, showq_serve, NULL);
	return 0;
}
