/*
 * queue_list.c - the mail queue as Postfix's mailq shows it, for
 * "tern queue list" and for a mailq command; and the small queue-reading
 * helpers the operator tools share.
 *
 * Queue files are read directly (they are self-describing and
 * checksummed; no daemon needs to run); a user who may not read them gets
 * the same listing from the showq service.  A file that vanishes while being
 * read was delivered or moved in the meantime and is skipped silently.
 *
 * The listing is Postfix's mailq layout, with the ID column widened to
 * tern's 16-character queue IDs: the ID followed by '*' (active) or '!'
 * (on hold), the size, the arrival time, the sender (MAILER-DAEMON for
 * <>), then one line per pending recipient, preceded by its last deferral
 * reason in parentheses; a blank line after each message, and the summary
 * "-- N Kbytes in N Requests." or "Mail queue is empty".  --json (-j)
 * prints one JSON object per message, in postqueue -j's format.
 */
#include "queue_list.h"

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
#include "proto.h"
#include "qid.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

const char *const queue_list_shown[] = {
    QUEUE_INCOMING,
    QUEUE_ACTIVE,
    QUEUE_DEFERRED,
    QUEUE_HOLD,
    NULL,
};

const char *const queue_list_queues[] = {
    QUEUE_INCOMING,
    QUEUE_ACTIVE,
    QUEUE_DEFERRED,
    QUEUE_HOLD,
    QUEUE_CORRUPT,
    NULL,
};

struct queue_totals {
	long long bytes;
	long count;
};

static int qcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **queue_list_ids(const char *name)
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

const char *queue_list_find(const char *qid)
{
	struct buf path = BUF_INIT;
	int i;

	for (i = 0; queue_list_queues[i]; i++) {
		queue_path(&path, queue_list_queues[i], qid);
		if (access(path.data, F_OK) == 0) {
			buf_free(&path);
			return queue_list_queues[i];
		}
	}
	buf_free(&path);
	return NULL;
}

bool queue_list_load(const char *queue, const char *qid, struct qfile *qf, int *fdp)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	int fd;
	bool ok = false;

	queue_path(&path, queue, qid);
	fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			fprintf(stderr, "%s: %s: %s\n", getprogname(), path.data, strerror(errno));
	} else if (qfile_load(fd, qf, &err) != QF_LOAD_OK) {
		fprintf(stderr, "%s: %s: %s\n", getprogname(), path.data, buf_cstr(&err));
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
	       "\"sender\": ",
	    qf->arrival_usec / 1000000, queue_msg_size(qf));
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

static void queue_list_folder(const char *name, char **ids, struct queue_totals *t, bool json)
{
	for (char **id = ids; *id; id++) {
		struct qfile qf = {0};

		if (queue_list_load(name, *id, &qf, NULL)) {
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

/*
 * A user who may not read the queue asks the showq service (public/showq,
 * served as mail_owner), as Postfix's mailq does: its answer is this
 * listing.  0 when it answered, -1 when it is not there.
 */
bool queue_list_direct_only;

static int queue_list_showq(bool json)
{
	struct buf path = BUF_INIT;
	char block[8192];
	ssize_t n;
	int fd;

	if (queue_list_direct_only)
		return -1;
	buf_printf(&path, "%s/%s/%s", config_str("queue_directory"), QUEUE_PUBLIC, SERVICE_SHOWQ);
	fd = sock_unix_connect(buf_cstr(&path), false);
	buf_free(&path);
	if (fd < 0)
		return -1;
	if (write(fd, json ? "json\n" : "list\n", 5) != 5) {
		close(fd);
		return -1;
	}
	fflush(stdout);
	while ((n = read(fd, block, sizeof(block))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && fwrite(block, 1, (size_t)n, stdout) != (size_t)n)
			break;
	close(fd);
	fflush(stdout);
	return 0;
}

static int queue_list(bool json)
{
	const char *const *folders = queue_list_shown;
	struct queue_totals t = {0, 0};

	for (int i = 0; folders[i]; i++) {
		char **ids = queue_list_ids(folders[i]);

		if (ids == NULL && errno == ENOENT)
			continue; /* never started: nothing queued */
		if (ids == NULL && errno == EACCES && i == 0) {
			if (queue_list_showq(json) == 0)
				return 0;
			errno = EACCES;
		}
		if (ids == NULL) {
			fprintf(stderr, "%s: cannot read the %s queue: %s%s\n", getprogname(),
			    folders[i], strerror(errno),
			    errno == EACCES ? " (and the showq service does not answer: is the "
					      "mail system running?)"
					    : "");
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
