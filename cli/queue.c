/*
 * queue.c - "tern queue": dispatch, the mailq listing, and "show".
 *
 * Queue files are read directly (they are self-describing and
 * checksummed; no daemon needs to run).  A file that vanishes while being
 * read was delivered or moved in the meantime and is skipped silently.
 *
 * The listing is Postfix's mailq layout, with the ID column widened to
 * tern's 16-character queue IDs: the ID followed by '*' (active) or '!'
 * (on hold), the size, the arrival time, the sender (MAILER-DAEMON for
 * <>), then one line per pending recipient, preceded by its last deferral
 * reason in parentheses; a blank line after each message, and the summary
 * "-- N Kbytes in N Requests." or "Mail queue is empty".  --json prints
 * one JSON object per message, in postqueue -j's format.
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
#include "queue_cli.h"
#include "tern.h"
#include "util.h"

const char *const queue_cli_queues[] = {
	QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, QUEUE_CORRUPT, NULL,
};

struct queue_totals {
	long long bytes;
	long count;
};

static int qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **queue_cli_ids(const char *name)
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

const char *queue_cli_find(const char *qid)
{
	struct buf path = BUF_INIT;
	int i;

	for (i = 0; queue_cli_queues[i]; i++) {
		queue_path(&path, queue_cli_queues[i], qid);
		if (access(path.data, F_OK) == 0) {
			buf_free(&path);
			return queue_cli_queues[i];
		}
	}
	buf_free(&path);
	return NULL;
}

bool queue_cli_load(const char *queue, const char *qid, struct qfile *qf, int *fdp)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	int fd;
	bool ok = false;

	queue_path(&path, queue, qid);
	fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			fprintf(stderr, "tern: %s: %s\n", path.data, strerror(errno));
	} else if (qfile_load(fd, qf, &err) != QF_LOAD_OK) {
		fprintf(stderr, "tern: %s: %s\n", path.data, buf_cstr(&err));
	} else {
		ok = true;
	}
	if (fd >= 0 && (!ok || fdp == NULL))
		close(fd);
	else if (fdp)
		*fdp = fd;
	buf_free(&path);
	buf_free(&err);
	return ok;
}

static char queue_mark(const char *name)
{
	if (strcmp(name, QUEUE_ACTIVE) == 0)
		return '*';
	if (strcmp(name, QUEUE_HOLD) == 0)
		return '!';
	return ' ';
}

static long long queue_msg_size(const struct qfile *qf)
{
	return (long long)(qf->header_len + 1 + qf->body_len);
}

static bool queue_rcpt_pending(const struct qfile_rcpt *r)
{
	return r->status == QF_PENDING || r->status == QF_DEFERRED;
}

static void queue_print_one(const char *name, const char *qid, const struct qfile *qf)
{
	char stamp[32];
	time_t when = (time_t)(qf->arrival_usec / 1000000);
	char idcol[QID_LEN + 2];
	size_t i;

	/* As Postfix: the first 20 characters of asctime(), so the
	 * sender (at the recipients' column) follows two spaces. */
	strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S ", localtime(&when));
	snprintf(idcol, sizeof(idcol), "%s%c", qid, queue_mark(name));
	printf("%-17s %8lld %-20.20s %s\n", idcol, queue_msg_size(qf), stamp,
	    *qf->sender ? qf->sender : "MAILER-DAEMON");
	for (i = 0; i < qf->nrcpt; i++) {
		const struct qfile_rcpt *r = &qf->rcpts[i];

		if (!queue_rcpt_pending(r))
			continue;
		if (r->status == QF_DEFERRED && r->reason && *r->reason)
			printf("%48s(%s)\n", "", r->reason);
		printf("%48s%s\n", "", r->addr);
	}
	printf("\n");
}

/* A JSON string: quotes, backslash and control characters escaped. */
static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void queue_print_json(const char *name, const char *qid, const struct qfile *qf)
{
	bool first = true;
	size_t i;

	printf("{\"queue_name\": ");
	json_str(name);
	printf(", \"queue_id\": ");
	json_str(qid);
	printf(", \"arrival_time\": %lld, \"message_size\": %lld, \"forced_expire\": false, "
	    "\"sender\": ", qf->arrival_usec / 1000000, queue_msg_size(qf));
	json_str(qf->sender);
	printf(", \"recipients\": [");
	for (i = 0; i < qf->nrcpt; i++) {
		const struct qfile_rcpt *r = &qf->rcpts[i];

		if (!queue_rcpt_pending(r))
			continue;
		printf("%s{\"address\": ", first ? "" : ", ");
		json_str(r->addr);
		if (r->status == QF_DEFERRED && r->reason && *r->reason) {
			printf(", \"delay_reason\": ");
			json_str(r->reason);
		}
		printf("}");
		first = false;
	}
	printf("]}\n");
}

static void queue_list_folder(const char *name, char **ids, struct queue_totals *t,
    bool json)
{
	for (char **id = ids; *id; id++) {
		struct qfile qf = { 0 };

		if (queue_cli_load(name, *id, &qf, NULL)) {
			if (json) {
				queue_print_json(name, *id, &qf);
			} else {
				if (t->count == 0)
					printf("%-17s %8s %20s %s\n", "-Queue ID-", "--Size--",
					    "----Arrival Time----", "-Sender/Recipient-------");
				queue_print_one(name, *id, &qf);
			}
			t->bytes += queue_msg_size(&qf);
			t->count++;
		}
		qfile_free(&qf);
	}
}

static int queue_list(bool json)
{
	static const char *const folders[] = {
		QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, NULL,
	};
	struct queue_totals t = { 0, 0 };

	for (int i = 0; folders[i]; i++) {
		char **ids = queue_cli_ids(folders[i]);

		if (ids == NULL && errno == ENOENT)
			continue;       /* never started: nothing queued */
		if (ids == NULL) {
			fprintf(stderr, "tern: cannot read the %s queue: %s%s\n", folders[i],
			    strerror(errno), errno == EACCES ?
			    " (run as root or as the mail_owner)" : "");
			return errno == EACCES ? EX_NOPERM : EX_OSFILE;
		}
		queue_list_folder(folders[i], ids, &t, json);
		strv_free(ids);
	}
	if (json)
		return 0;
	if (t.count == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %lld Kbytes in %ld Request%s.\n", (t.bytes + 1023) / 1024, t.count,
		    t.count == 1 ? "" : "s");
	return 0;
}

int queue_list_main(int argc, char **argv)
{
	bool json = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "-j") == 0) {
			json = true;
		} else {
			fprintf(stderr, "usage: %s [--json]\n", argv[0]);
			return EX_USAGE;
		}
	}
	return queue_list(json);
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

/* "tern queue show ID": envelope, then content, as postcat -q. */
static int queue_show(const char *qid)
{
	const char *queue;
	struct qfile qf = { 0 };
	char stamp[64];
	time_t when;
	size_t i;
	int fd = -1, rc = 0;

	if (!qid_valid(qid)) {
		fprintf(stderr, "tern: %s: not a queue ID\n", qid);
		return EX_USAGE;
	}
	queue = queue_cli_find(qid);
	if (queue == NULL || !queue_cli_load(queue, qid, &qf, &fd)) {
		if (queue == NULL)
			fprintf(stderr, "tern: %s: no such message in the queue\n", qid);
		qfile_free(&qf);
		return EX_NOINPUT;
	}
	when = (time_t)(qf.arrival_usec / 1000000);
	strftime(stamp, sizeof(stamp), "%a %b %e %H:%M:%S %Y", localtime(&when));
	printf("*** ENVELOPE RECORDS %s/%s ***\n", queue, qid);
	printf("message_size: %lld\nmessage_arrival_time: %s\nsender: %s\n",
	    queue_msg_size(&qf), stamp, qf.sender);
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
	fprintf(stderr,
	    "usage: tern queue list [--json]\n"
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
	if (strcmp(sub, "flush") == 0 || strcmp(sub, "delete") == 0 ||
	    strcmp(sub, "hold") == 0 || strcmp(sub, "release") == 0 ||
	    strcmp(sub, "requeue") == 0) {
		int rc = queue_admin(argc - 1, argv + 1);

		return rc < 0 ? queue_usage() : rc;
	}
	return queue_usage();
}
