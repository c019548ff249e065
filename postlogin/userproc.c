/*
 * userproc.c - the users' processes: one per user and service (imap,
 * pop3) while that user has sessions, each serving up to
 * imap_client_limit (imap) or postlogin_client_limit (pop3) of them.
 *
 * A process is started as the account's uid and gid (never root), in the
 * account's home, as daemon_directory/<service> with its channel on
 * descriptor 3 (TERN_POSTLOGIN_FD; login/postlogin.h is the other end).
 * Each session goes down the channel with its connection; each ended one
 * comes back as {op=done}.  When a process's count of sessions falls to
 * zero it is forgotten and its channel closed, which tells it to exit:
 * counting here the sessions sent and the dones read, no session can be
 * on its way to a process that is about to end.  The next login of that
 * user starts a new process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "dispatch.h"
#include "ipc.h"
#include "log.h"
#include "privs.h"
#include "sock.h"
#include "util.h"

#define USERPROC_SEND_MS 2000

struct userproc {
	char *service, *user;
	pid_t pid;
	struct ipc_conn conn;
	struct ipc_msg msg;
	unsigned clients;
	struct userproc *next;
};

static struct {
	struct event_loop *loop;
	struct userproc *list;
	unsigned count;
} up;

void userproc_init(struct event_loop *loop)
{
	up.loop = loop;
}

unsigned userproc_count(void)
{
	return up.count;
}

/* Forgets p and closes its channel: the process ends once its sessions have. */
static void userproc_forget(struct userproc *p)
{
	for (struct userproc **pp = &up.list; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	event_fd_del(up.loop, p->conn.fd);
	ipc_conn_close(&p->conn);
	ipc_msg_free(&p->msg);
	free(p->service);
	free(p->user);
	free(p);
	up.count--;
}

static void userproc_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct userproc *p = ctx;
	struct handoff h;
	const char *why = "closed";
	enum ipc_result r;
	ssize_t n;

	(void)loop;
	(void)fd;
	(void)events;
	while ((n = ipc_conn_fill(&p->conn)) > 0) {
		while ((r = ipc_conn_next(&p->conn, &p->msg, &why)) == IPC_OK) {
			if (handoff_decode(&p->msg, &h, &why) < 0 || h.op != HANDOFF_DONE ||
			    p->clients == 0) {
				log_warn("%s(%s) pid %ld: bad record from the process", p->service,
				    p->user, (long)p->pid);
				userproc_forget(p);
				return;
			}
			if (--p->clients == 0) {
				userproc_forget(p);
				return;
			}
		}
		if (r == IPC_ERROR)
			break;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* The process closed its end: it is ending (or crashed; reap says). */
	userproc_forget(p);
}

const char *userproc_program(const char *service)
{
	return strcmp(service, "sieve") == 0 ? "managesieve" : service;
}

/* In the child: become the user and run the service's program. */
static void userproc_exec(const struct handoff *h, int chan, pid_t parent)
    __attribute__((noreturn));
static void userproc_exec(const struct handoff *h, int chan, pid_t parent)
{
	const struct postlogin_info *i = &h->info;
	char *prog =
	    xasprintf("%s/%s", config_str("daemon_directory"), userproc_program(i->service));
	char *argv[] = {
	    prog, "-c", (char *)config_dir(), "-n", (char *)userproc_program(i->service), NULL};
	sigset_t all;
	int lfd = log_file_fd() >= 0 ? fcntl(log_file_fd(), F_DUPFD, 10) : -1;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (geteuid() == 0)
		priv_drop_ids((uid_t)i->uid, (gid_t)i->gid, i->user);
	/* Sessions end with the service: "tern stop" leaves no process of a
	 * user behind (set after the uid change, which clears it). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(1);
	/* The channel on 3, the log file (maillog_file is root's) on 4. */
	if (dup2(chan, 3) < 0 || (lfd >= 0 && dup2(lfd, 4) < 0))
		_exit(1);
	closefrom(lfd >= 0 ? 5 : 4);
	if ((*i->home && chdir(i->home) == 0) || (*i->maildir && chdir(i->maildir) == 0) ||
	    chdir("/") == 0) {
		setenv("TERN_POSTLOGIN_FD", "3", 1);
		if (lfd >= 0)
			setenv("TERN_LOG_FD", "4", 1);
		unsetenv("TERN_STATUS_FD");
		execv(prog, argv);
	}
	log_error("cannot run %s for %s: %s", prog, i->user, strerror(errno));
	_exit(1);
}

static struct userproc *userproc_start(const struct handoff *h, const char **why)
{
	struct userproc *p;
	char *prog;
	int sv[2];
	pid_t pid, parent = getpid();

	*why = "the account has no usable uid";
	if (geteuid() == 0 && (h->info.uid <= 0 || h->info.gid < 0))
		return NULL;
	*why = "no program for the service in daemon_directory";
	prog =
	    xasprintf("%s/%s", config_str("daemon_directory"), userproc_program(h->info.service));
	if (access(prog, X_OK) < 0) {
		log_warn("%s: %s", prog, strerror(errno));
		free(prog);
		return NULL;
	}
	free(prog);
	*why = "cannot start the user's process";
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("socketpair: %s", strerror(errno));
		return NULL;
	}
	if ((pid = fork()) < 0) {
		log_warn("fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0)
		userproc_exec(h, sv[1], parent);
	close(sv[1]);
	p = xcalloc(1, sizeof(*p));
	p->service = xstrdup(h->info.service);
	p->user = xstrdup(h->info.user);
	p->pid = pid;
	ipc_conn_init(&p->conn, sv[0]);
	ipc_msg_init(&p->msg);
	sock_nonblock(sv[0], true);
	p->next = up.list;
	up.list = p;
	up.count++;
	event_fd_set(up.loop, sv[0], EV_READ, userproc_event, p);
	log_debug("%s(%s): started pid %ld", p->service, p->user, (long)pid);
	return p;
}

static struct userproc *userproc_find(const struct handoff *h)
{
	bool imap = strcmp(h->info.service, "imap") == 0;
	long limit = imap ? config_int("imap_client_limit") : config_int("postlogin_client_limit");

	for (struct userproc *p = up.list; p; p = p->next)
		if (strcmp(p->service, h->info.service) == 0 &&
		    strcmp(p->user, h->info.user) == 0 && (limit <= 0 || p->clients < limit))
			return p;
	return NULL;
}

long userproc_give(const struct handoff *h, int fd, const char **why)
{
	struct userproc *p = userproc_find(h);
	long pid = -1;

	if (p == NULL && (p = userproc_start(h, why)) == NULL) {
		close(fd);
		return -1;
	}
	handoff_encode(&p->conn.out, h);
	if (ipc_conn_send_fd(&p->conn, fd, USERPROC_SEND_MS) < 0) {
		log_warn("%s(%s) pid %ld: cannot pass the session: %s", p->service, p->user,
		    (long)p->pid, strerror(errno));
		*why = "the user's process does not answer";
		buf_reset(&p->conn.out);
		if (p->clients == 0)
			userproc_forget(p);
	} else {
		p->clients++;
		pid = p->pid;
	}
	close(fd);
	return pid;
}

void userproc_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (WIFSIGNALED(status))
			log_warn(
			    "user process %ld killed by signal %d", (long)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			log_warn("user process %ld exited with status %d", (long)pid,
			    WEXITSTATUS(status));
		for (struct userproc *p = up.list; p; p = p->next)
			if (p->pid == pid) {
				userproc_forget(p);
				break;
			}
	}
}
