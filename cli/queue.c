/*
 * queue.c - "tern queue": dispatch and "show".
 *
 * The listing itself lives in lib/queue_list.c, so that a mailq command
 * can print it too; delete, hold, release, requeue and flush are in
 * queue_admin.c, summary in queue_summary.c.
 */
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
#include "queue_cli.h"
#include "queue_list.h"
#include "tern.h"
#include "util.h"

static long long queue_msg_size(const struct qfile *qf)
{
	return (long long)(qf->header_len + 1 + qf->body_len);
}

/* Copies len bytes at off of fd to stdout. */
static bool queue_copy(int fd, off_t off, off_t len)
{
	char block[65536];
	ssize_t n;

	while (len > 0) {
		n = pread(fd, block, len < (off_t)sizeof(block) ? (size_t)len : sizeof(block), off);
		if (n <= 0)
			return false;
		fwrite(block, 1, (size_t)n, stdout);
		off += n;
		len -= n;
	}
	return true;
}

/* Without the right to search the queue folders every ID would look
 * missing: say what is wrong instead. */
static bool queue_readable(void)
{
	struct buf path = BUF_INIT;
	bool ok;

	queue_path(&path, QUEUE_DEFERRED, NULL);
	ok = access(path.data, R_OK | X_OK) == 0 || errno != EACCES;
	if (!ok)
		fprintf(stderr,
		    "tern: cannot read the queue: %s (run as root or as the "
		    "mail_owner)\n",
		    strerror(EACCES));
	buf_free(&path);
	return ok;
}

/* "tern queue show ID": envelope, then content, as postcat -q. */
static int queue_show(const char *qid)
{
	const char *queue;
	struct qfile qf = {0};
	char stamp[64];
	time_t when;
	size_t i;
	int fd = -1, rc = 0;

	if (!qid_valid(qid)) {
		fprintf(stderr, "tern: %s: not a queue ID\n", qid);
		return EX_USAGE;
	}
	if (!queue_readable())
		return EX_NOPERM;
	queue = queue_list_find(qid);
	if (queue == NULL || !queue_list_load(queue, qid, &qf, &fd)) {
		if (queue == NULL)
			fprintf(stderr, "tern: %s: no such message in the queue\n", qid);
		qfile_free(&qf);
		return EX_NOINPUT;
	}
	when = (time_t)(qf.arrival_usec / 1000000);
	strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", localtime(&when));
	printf("*** ENVELOPE RECORDS %s/%s ***\n", queue, qid);
	printf("message_size: %lld\nmessage_arrival_time: %s\nsender: %s\n", queue_msg_size(&qf),
	    stamp, qf.sender);
	for (i = 0; i < qf.nattr; i++)
		printf("named_attribute: %s=%s\n", qf.attrs[i].name, qf.attrs[i].value);
	for (i = 0; i < qf.nrcpt; i++) {
		const struct qfile_rcpt *r = &qf.rcpts[i];

		if (r->orcpt)
			printf("original_recipient: %s\n", r->orcpt);
		if (r->notify)
			printf("notify_flags: %s\n", r->notify);
		printf("recipient: %s\n", r->addr);
		if (r->status != QF_PENDING)
			printf("status: %s %s (%s)\n", qf_status_name(r->status),
			    r->dsn ? r->dsn : "", r->reason ? r->reason : "");
	}
	printf("*** MESSAGE CONTENTS %s/%s ***\n", queue, qid);
	fflush(stdout);
	if (!queue_copy(fd, qf.header_off, qf.header_len))
		rc = EX_IOERR;
	putchar('\n');
	if (rc == 0 && !queue_copy(fd, qf.body_off, qf.body_len))
		rc = EX_IOERR;
	printf("*** MESSAGE FILE END %s/%s ***\n", queue, qid);
	if (rc)
		fprintf(stderr, "tern: %s: read error\n", qid);
	close(fd);
	qfile_free(&qf);
	return rc;
}

static int queue_usage(void)
{
	fprintf(stderr, "usage: tern queue list [--json]\n"
			"       tern queue show ID\n"
			"       tern queue flush [ID]\n"
			"       tern queue delete ID|ALL [--queue NAME]\n"
			"       tern queue hold ID|ALL\n"
			"       tern queue release ID|ALL\n"
			"       tern queue requeue ID|ALL\n"
			"       tern queue summary\n");
	return EX_USAGE;
}

int cmd_queue(const char *confdir, int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";

	if (argc < 2)
		return queue_usage();
	cli_load_config(confdir);
	if (strcmp(sub, "list") == 0)
		return queue_list_main(argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0)
		return argc == 3 ? queue_show(argv[2]) : queue_usage();
	if (strcmp(sub, "summary") == 0)
		return argc == 2 ? queue_summary(argc - 1, argv + 1) : queue_usage();
	if (strcmp(sub, "flush") == 0 || strcmp(sub, "delete") == 0 || strcmp(sub, "hold") == 0 ||
	    strcmp(sub, "release") == 0 || strcmp(sub, "requeue") == 0) {
		int rc = queue_admin(argc - 1, argv + 1);

		return rc < 0 ? queue_usage() : rc;
	}
	return queue_usage();
}
