/*
 * control.c - tern start, stop, status, reload.
 *
 * The running master is found through queue_directory/pid/master.pid: the
 * file holds its pid, and the master holds an exclusive lock on it for as
 * long as it runs, so a stale file left by a crash is never mistaken for a
 * running system.
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
#include "log.h"
#include "tern.h"
#include "util.h"

#define STOP_WAIT_MS 30000

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
	char *inst = NULL;
	struct stat st;

	if (dir) {
		inst = xasprintf("%s/etc/main.cf", dir);
		if (stat(inst, &st) == 0) {
			free(inst);
			inst = xasprintf("%s/etc", dir);
			dir = inst;
		}
	}
	if (config_load(dir, false, &err) < 0) {
		fprintf(stderr, "tern: %s\n", buf_cstr(&err));
		exit(EX_CONFIG);
	}
	free(inst);
	buf_free(&err);
}

/* The running master's pid, or 0 when none runs. */
static pid_t master_pid(void)
{
	struct buf path = BUF_INIT;
	char text[32] = "";
	long pid = 0;
	int fd;

	buf_printf(&path, "%s/pid/master.pid", config_str("queue_directory"));
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	buf_free(&path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		close(fd); /* nobody holds it: not running */
		return 0;
	}
	if (read(fd, text, sizeof(text) - 1) < 0)
		text[0] = 0;
	close(fd);
	pid = strtol(text, NULL, 10);
	return pid > 0 ? (pid_t)pid : 0;
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
	int r;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: tern stop\n");
		return EX_USAGE;
	}
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
	pid_t pid;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: tern status\n");
		return EX_USAGE;
	}
	cli_load_config(confdir);
	if ((pid = master_pid()) > 0) {
		printf("tern: the mail system is running: PID: %ld\n", (long)pid);
		return 0;
	}
	printf("tern: the mail system is not running\n");
	return 3;
}
