/*
 * anvil.c - per-client connection count and rate, shared by every smtpd
 * process of the instance (smtpd_client_connection_count_limit,
 * smtpd_client_connection_rate_limit).
 *
 * Design: one small file, queue_directory/pid/smtpd.anvil, mapped shared
 * into every smtpd and locked with flock() around each update.  It is
 * opened while smtpd is still root (the pid folder is root's), so a
 * session cannot reach it other than through these functions.  This is
 * simpler than Postfix's anvil server (no extra daemon, no IPC round trip
 * per connection) and is enough for one machine.
 *
 * Counts are kept per (client address, smtpd pid): when an smtpd dies
 * without cleaning up, its slots are recognised as stale (the pid is gone,
 * or a fresh process with the same pid clears them at start) and ignored,
 * so a crash never locks a client out.  Rates are per address in fixed
 * windows of anvil_rate_time_unit.  If the file cannot be set up (a full
 * file system too: its blocks are allocated before it is mapped), the
 * limits are off and that is logged once: refusing all mail would be worse.
 */
#include "anvil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define ANVIL_SLOTS 4096
#define ANVIL_MAGIC 0x74616e76u /* "tanv" */
#define ANVIL_SEEN 16		/* distinct pids remembered per scan */

struct anvil_count {
	char addr[48];
	pid_t pid;
	int count;
};

struct anvil_rate {
	char addr[48];
	long long window; /* start of the window, seconds */
	int count;
};

struct anvil_table {
	unsigned magic;
	struct anvil_count counts[ANVIL_SLOTS];
	struct anvil_rate rates[ANVIL_SLOTS];
};

static struct {
	int fd;
	struct anvil_table *t;
} anvil = {-1, NULL};

static void anvil_lock(bool on)
{
	while (flock(anvil.fd, on ? LOCK_EX : LOCK_UN) < 0 && errno == EINTR)
		;
}

/* Our own pid's slots belong to a dead process that had it before. */
static void anvil_clear_own(void)
{
	pid_t me = getpid();

	anvil_lock(true);
	if (anvil.t->magic != ANVIL_MAGIC) {
		memset(anvil.t, 0, sizeof(*anvil.t));
		anvil.t->magic = ANVIL_MAGIC;
	}
	for (size_t i = 0; i < ANVIL_SLOTS; i++)
		if (anvil.t->counts[i].pid == me)
			memset(&anvil.t->counts[i], 0, sizeof(anvil.t->counts[i]));
	anvil_lock(false);
}

void anvil_init(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	void *p;
	int err = 0;

	/* The blocks are allocated now: a sparse file on a full file system
	 * would be a SIGBUS at the first touch of a page, killing smtpd. */
	if (fd < 0 || ftruncate(fd, sizeof(struct anvil_table)) < 0)
		err = errno;
	else
		err = posix_fallocate(fd, 0, sizeof(struct anvil_table));
	if (err) {
		log_warn("connection limits disabled: %s: %s", path, strerror(err));
		if (fd >= 0)
			close(fd);
		return;
	}
	p = mmap(NULL, sizeof(struct anvil_table), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		log_warn("connection limits disabled: mmap %s: %s", path, strerror(errno));
		close(fd);
		return;
	}
	anvil.fd = fd;
	anvil.t = p;
	anvil_clear_own();
}

static bool anvil_live(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/*
 * The liveness of the pids one scan meets.  The slots belong to a handful
 * of smtpd processes, so with thousands of clients connected a scan asks
 * the kernel once per process instead of once per slot (a kill() per slot
 * made every connection cost thousands of system calls).
 */
struct anvil_seen {
	pid_t pid[ANVIL_SEEN];
	bool live[ANVIL_SEEN];
	size_t n;
};

static bool anvil_seen_live(struct anvil_seen *seen, pid_t pid)
{
	bool live;

	for (size_t i = 0; i < seen->n; i++)
		if (seen->pid[i] == pid)
			return seen->live[i];
	live = anvil_live(pid);
	if (seen->n < ANVIL_SEEN) {
		seen->pid[seen->n] = pid;
		seen->live[seen->n++] = live;
	}
	return live;
}

/* Counts the address's live connections; frees slots of dead processes. */
static int anvil_total(const char *addr, struct anvil_count **mine, struct anvil_count **free_slot)
{
	struct anvil_seen seen = {.n = 0};
	pid_t me = getpid();
	int total = 0;

	for (size_t i = 0; i < ANVIL_SLOTS; i++) {
		struct anvil_count *c = &anvil.t->counts[i];

		if (c->pid != 0 && c->pid != me && !anvil_seen_live(&seen, c->pid))
			memset(c, 0, sizeof(*c));
		if (c->pid == 0) {
			if (*free_slot == NULL)
				*free_slot = c;
			continue;
		}
		if (strcmp(c->addr, addr) != 0)
			continue;
		total += c->count;
		if (c->pid == me)
			*mine = c;
	}
	return total;
}

static int anvil_rate_bump(const char *addr, long unit)
{
	long long now = (long long)time(NULL);
	struct anvil_rate *oldest = NULL;

	for (size_t i = 0; i < ANVIL_SLOTS; i++) {
		struct anvil_rate *r = &anvil.t->rates[i];

		if (r->addr[0] && strcmp(r->addr, addr) == 0) {
			if (now - r->window >= unit) {
				r->window = now;
				r->count = 0;
			}
			return ++r->count;
		}
		if (oldest == NULL || r->addr[0] == 0 ||
		    (oldest->addr[0] && r->window < oldest->window))
			oldest = r;
	}
	strlcpy(oldest->addr, addr, sizeof(oldest->addr));
	oldest->window = now;
	oldest->count = 1;
	return 1;
}

bool anvil_connect(const char *addr, long rate_unit, int *count, int *rate)
{
	struct anvil_count *mine = NULL, *slot = NULL;

	*count = *rate = 0;
	if (anvil.t == NULL)
		return false;
	anvil_lock(true);
	*count = anvil_total(addr, &mine, &slot) + 1;
	if (mine == NULL && (mine = slot) != NULL) {
		strlcpy(mine->addr, addr, sizeof(mine->addr));
		mine->pid = getpid();
		mine->count = 0;
	}
	if (mine)
		mine->count++;
	*rate = anvil_rate_bump(addr, rate_unit > 0 ? rate_unit : 60);
	anvil_lock(false);
	return mine != NULL;
}

void anvil_disconnect(const char *addr)
{
	pid_t me = getpid();

	if (anvil.t == NULL)
		return;
	anvil_lock(true);
	for (size_t i = 0; i < ANVIL_SLOTS; i++) {
		struct anvil_count *c = &anvil.t->counts[i];

		if (c->pid == me && strcmp(c->addr, addr) == 0) {
			if (--c->count <= 0)
				memset(c, 0, sizeof(*c));
			break;
		}
	}
	anvil_lock(false);
}
