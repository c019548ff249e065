/*
 * queue.c - "tern queue list": the queue as Postfix's mailq shows it.
 *
 * Queue files are read directly (they are self-describing and checksummed;
 * no daemon needs to run).  A file that vanishes while being listed was
 * delivered in the meantime and is skipped silently.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "qfile.h"
#include "qid.h"
#include "queue.h"
#include "tern.h"
#include "util.h"

struct queue_totals {
	long long bytes;
	long count;
};

static int qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted queue IDs in one folder; NULL (errno) when it cannot be read. */
static char **queue_ids(const char *name)
{
	struct buf path = BUF_INIT;
	char **ids = xcalloc(1, sizeof(char *));
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	queue_path(&path, name, NULL);
	d = opendir(path.data);
	buf_free(&path);
	if (d == NULL) {
		free(ids);
		return NULL;
	}
	while ((e = readdir(d)) != NULL) {
		if (!qid_valid(e->d_name))
			continue;
		ids = xreallocarray(ids, n + 2, sizeof(char *));
		ids[n++] = xstrdup(e->d_name);
		ids[n] = NULL;
	}
	closedir(d);
	qsort(ids, n, sizeof(char *), qcmp);
	return ids;
}

static char queue_mark(const char *name)
{
	if (strcmp(name, QUEUE_ACTIVE) == 0)
		return '*';
	if (strcmp(name, QUEUE_HOLD) == 0)
		return '!';
	return ' ';
}

static void queue_print_one(const char *name, const char *qid, const struct qfile *qf,
    struct queue_totals *t)
{
	char stamp[32];
	time_t when = (time_t)(qf->arrival_usec / 1000000);
	long long size = (long long)(qf->header_len + 1 + qf->body_len);
	char idcol[QID_LEN + 2];

	strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S", localtime(&when));
	snprintf(idcol, sizeof(idcol), "%s%c", qid, queue_mark(name));
	printf("%-17s %8lld %-20s  %s\n", idcol, size, stamp, *qf->sender ? qf->sender : "MAILER-DAEMON");
	for (size_t i = 0; i < qf->nrcpt; i++) {
		const struct qfile_rcpt *r = &qf->rcpts[i];

		if (r->status == QF_SENT || r->status == QF_BOUNCED)
			continue;
		if (r->status == QF_DEFERRED && r->reason)
			printf("%48s(%s)\n", "", r->reason);
		printf("%48s%s\n", "", r->addr);
	}
	printf("\n");
	t->bytes += size;
	t->count++;
}

static void queue_list_folder(const char *name, char **ids, struct queue_totals *t)
{
	for (char **id = ids; *id; id++) {
		struct buf path = BUF_INIT, err = BUF_INIT;
		struct qfile qf = { 0 };
		int fd;

		queue_path(&path, name, *id);
		fd = open(path.data, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && qfile_load(fd, &qf, &err) == QF_LOAD_OK) {
			if (t->count == 0)
				printf("%-17s %8s %-20s  %s\n", "-Queue ID-", "--Size--",
				    "----Arrival Time----", "-Sender/Recipient-------");
			queue_print_one(name, *id, &qf, t);
		} else if (fd >= 0) {
			fprintf(stderr, "tern: %s: %s\n", path.data, buf_cstr(&err));
		}
		if (fd >= 0)
			close(fd);
		qfile_free(&qf);
		buf_free(&path);
		buf_free(&err);
	}
}

static int queue_list(void)
{
	static const char *const folders[] = {
		QUEUE_ACTIVE, QUEUE_INCOMING, QUEUE_DEFERRED, QUEUE_HOLD, NULL,
	};
	struct queue_totals t = { 0, 0 };

	for (int i = 0; folders[i]; i++) {
		char **ids = queue_ids(folders[i]);

		if (ids == NULL) {
			fprintf(stderr, "tern: cannot read the %s queue: %s%s\n", folders[i],
			    strerror(errno), errno == EACCES ?
			    " (run as root or as the mail_owner)" : "");
			return errno == EACCES ? EX_NOPERM : EX_OSFILE;
		}
		queue_list_folder(folders[i], ids, &t);
		strv_free(ids);
	}
	if (t.count == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %lld Kbytes in %ld Request%s.\n", (t.bytes + 1023) / 1024, t.count,
		    t.count == 1 ? "" : "s");
	return 0;
}

int cmd_queue(const char *confdir, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "list") != 0 || argc > 2) {
		fprintf(stderr, "usage: tern queue list\n");
		return EX_USAGE;
	}
	cli_load_config(confdir);
	return queue_list();
}
