/*
 * control.c - tern start, stop, status, reload.
 *
 * The running master is found through queue_directory/pid/master.pid: the
 * file holds its pid, and the master holds an exclusive lock on it for as
 * long as it runs, so a stale file left by a crash is never mistaken for a
 * running system.
 *
 * When master died (kill -9, a crash), its daemons exit by themselves, but
 * one busy with a client finishes it first.  "tern status" says that the
 * master died and what is left; "tern stop" stops what is left; "tern
 * start" needs nothing of the operator, the new master stops what is left
 * before it binds (instance_procs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "instance_procs.h"
#include "log.h"
#include "tern.h"
#include "util.h"

#define STOP_WAIT_MS 30000
#define RELOAD_WAIT_MS 30000

char *cli_self_dir(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n <= 0)
		return xstrdup(".");
	path[n] = 0;
	slash = strrchr(path, '/');
	if (slash)
		*slash = 0;
	return xstrdup(path);
}

void cli_load_config(const char *dir)
{
	struct buf err = BUF_INIT;

	if (config_load_instance(dir, false, &err) < 0) {
		fprintf(stderr, "tern: %s\n", buf_cstr(&err));
		exit(EX_CONFIG);
	}
	buf_free(&err);
}

/*
 * The running master's pid, or 0 when none runs; then *dead is the pid a
 * master that died left in the file (0: none, or it stopped cleanly).
 */
static pid_t master_pid_dead(pid_t *dead)
{
	struct buf path = BUF_INIT;
	char text[32] = "";
	long pid = 0;
	bool locked;
	int fd;

	*dead = 0;
	buf_printf(&path, "%s/pid/master.pid", config_str("queue_directory"));
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	buf_free(&path);
	if (fd < 0)
		return 0;
	locked = flock(fd, LOCK_SH | LOCK_NB) < 0; /* held: running */
	if (read(fd, text, sizeof(text) - 1) < 0)
		text[0] = 0;
	close(fd);
	pid = strtol(text, NULL, 10);
	if (pid <= 0)
		return 0;
	if (!locked) {
		*dead = (pid_t)pid;
		return 0;
	}
	return (pid_t)pid;
}

static pid_t master_pid(void)
{
	pid_t dead;

	return master_pid_dead(&dead);
}

/* The processes a master that died left behind. */
static size_t control_orphans(struct instance_proc **procs)
{
	return instance_procs_find(config_dir(), config_str("daemon_directory"), procs);
}

static void control_remove_pid_file(void)
{
	char *path = xasprintf("%s/pid/master.pid", config_str("queue_directory"));

	unlink(path);
	free(path);
}

/* "tern stop" without a master: what a dead one left is stopped. */
static int control_stop_orphans(pid_t dead)
{
	struct instance_proc *procs;
	size_t n = control_orphans(&procs), left;

	if (dead)
		control_remove_pid_file();
	if (n == 0) {
		free(procs);
		if (dead) {
			printf("tern: the mail system is not running: its master, pid %ld, had "
			       "died, and nothing of it is left\n",
			    (long)dead);
			return 0;
		}
		fprintf(stderr, "tern: the mail system is not running\n");
		return EX_UNAVAILABLE;
	}
	left = instance_procs_stop(procs, n, STOP_WAIT_MS);
	free(procs);
	if (left) {
		fprintf(stderr, "tern: %zu of the %zu processes a dead master left did not stop\n",
		    left, n);
		return EX_TEMPFAIL;
	}
	printf("tern: the master had died; stopped the %zu processes it left: the mail system "
	       "is stopped\n",
	    n);
	return 0;
}

int cmd_start(const char *confdir, int argc, char **argv)
{
	bool foreground = argc > 1 && strcmp(argv[1], "-f") == 0;
	char confabs[PATH_MAX];
	char *master;
	pid_t pid;

	if (argc > 2 || (argc == 2 && !foreground)) {
		fprintf(stderr, "usage: tern start [-f]\n");
		return EX_USAGE;
	}
	cli_load_config(confdir);
	if ((pid = master_pid()) > 0) {
		fprintf(stderr, "tern: the mail system is already running (pid %ld)\n", (long)pid);
		return EX_UNAVAILABLE;
	}
	master = xasprintf("%s/master", config_str("daemon_directory"));
	/* master and its daemons get an absolute path: they change directory. */
	if (realpath(config_dir(), confabs) == NULL)
		strlcpy(confabs, config_dir(), sizeof(confabs));
	if (foreground)
		execl(master, "master", "-c", confabs, "-f", (char *)NULL);
	else
		execl(master, "master", "-c", confabs, (char *)NULL);
	fprintf(stderr, "tern: cannot execute %s: %s\n", master, strerror(errno));
	return EX_OSFILE;
}

static int control_signal(const char *confdir, int signo, const char *what)
{
	pid_t pid;

	cli_load_config(confdir);
	if ((pid = master_pid()) == 0) {
		fprintf(stderr, "tern: the mail system is not running\n");
		return EX_UNAVAILABLE;
	}
	if (kill(pid, signo) < 0) {
		fprintf(stderr, "tern: cannot %s pid %ld: %s\n", what, (long)pid, strerror(errno));
		return errno == EPERM ? EX_NOPERM : EX_SOFTWARE;
	}
	return 0;
}

int cmd_stop(const char *confdir, int argc, char **argv)
{
	long long deadline = mono_msec() + STOP_WAIT_MS;
	pid_t dead;
	int r;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: tern stop\n");
		return EX_USAGE;
	}
	cli_load_config(confdir);
	if (master_pid_dead(&dead) == 0)
		return control_stop_orphans(dead);
	if ((r = control_signal(confdir, SIGTERM, "stop")) != 0)
		return r;
	while (master_pid() > 0) {
		if (mono_msec() > deadline) {
			fprintf(stderr, "tern: the mail system did not stop within %d s\n",
			    STOP_WAIT_MS / 1000);
			return EX_TEMPFAIL;
		}
		usleep(50 * 1000);
	}
	printf("tern: the mail system is stopped\n");
	return 0;
}

int cmd_reload(const char *confdir, int argc, char **argv)
{
	int r;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: tern reload\n");
		return EX_USAGE;
	}
	if ((r = control_signal(confdir, SIGHUP, "reload")) == 0)
		printf("tern: refreshing the mail system\n");
	return r;
}

/* Exit status 0 when running, 3 when not (as LSB status actions do). */
int cmd_status(const char *confdir, int argc, char **argv)
{
	struct instance_proc *procs;
	pid_t pid, dead;
	size_t n;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: tern status\n");
		return EX_USAGE;
	}
	cli_load_config(confdir);
	if ((pid = master_pid_dead(&dead)) > 0) {
		printf("tern: the mail system is running: PID: %ld\n", (long)pid);
		return 0;
	}
	n = control_orphans(&procs);
	if (n)
		printf("tern: the mail system is not running: its master%s died; %zu of its "
		       "processes are still running (%s, pid %ld%s); \"tern stop\" stops them, "
		       "\"tern start\" replaces them\n",
		    dead ? "" : " has", n, procs[0].name, (long)procs[0].pid, n > 1 ? ", ..." : "");
	else if (dead)
		printf("tern: the mail system is not running: its master, pid %ld, died\n",
		    (long)dead);
	else
		printf("tern: the mail system is not running\n");
	free(procs);
	return 3;
}

/* The pids of this instance's running qmgr processes. */
static size_t control_qmgr_pids(pid_t *out, size_t max)
{
	struct instance_proc *procs;
	size_t n = control_orphans(&procs), k = 0;

	for (size_t i = 0; i < n && k < max; i++)
		if (strcmp(procs[i].name, "qmgr") == 0)
			out[k++] = procs[i].pid;
	free(procs);
	return k;
}

/*
 * After a change of the configuration: a running system reloads, and
 * this returns once a qmgr of the new configuration runs (the old one
 * finishes its work first), so that what the caller does next meets the
 * new configuration.  1 when the system is not running, 0 when reloaded,
 * -1 when it did not finish within RELOAD_WAIT_MS.
 */
int cli_reload_running(void)
{
	pid_t pid = master_pid(), old[16], now[16];
	size_t nold = control_qmgr_pids(old, 16), nnow;
	long long deadline = mono_msec() + RELOAD_WAIT_MS;

	if (pid == 0)
		return 1;
	if (kill(pid, SIGHUP) < 0)
		return -1;
	while (mono_msec() < deadline) {
		bool stale = false;

		nnow = control_qmgr_pids(now, 16);
		for (size_t i = 0; i < nnow; i++)
			for (size_t j = 0; j < nold; j++)
				stale |= now[i] == old[j];
		if (nnow > 0 && !stale)
			return 0;
		usleep(50 * 1000);
	}
	return -1;
}
