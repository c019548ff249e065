/*
 * instance_procs.c - the processes a dead master left (instance_procs.h).
 *
 * Identification is by program location and configuration directory, not
 * by parent pid: the orphans have been re-parented to init (or a
 * subreaper), and a pid file of the dead master says nothing about them.
 * Both paths are compared after realpath(), since master is given an
 * absolute configuration directory by "tern start".
 */
#include "instance_procs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define IP_CMDLINE_MAX 4096

/* The directory of /proc/PID/exe, or false. */
static bool ip_exe_dir(const char *pid, char *dir, size_t size)
{
	char link[300];
	ssize_t n;
	char *slash;

	snprintf(link, sizeof(link), "/proc/%.20s/exe", pid);
	if ((n = readlink(link, dir, size - 1)) <= 0)
		return false;
	dir[n] = 0;
	/* A program replaced since it started (a rebuild) still counts. */
	if (n > 10 && strcmp(dir + n - 10, " (deleted)") == 0)
		dir[n - 10] = 0;
	if ((slash = strrchr(dir, '/')) == NULL)
		return false;
	*slash = 0;
	return true;
}

/* True when the arguments hold "-c" followed by config_dir. */
static bool ip_has_config(const char *pid, const char *config_dir, char *name, size_t namesz)
{
	char path[300], buf[IP_CMDLINE_MAX];
	const char *base;
	char real[PATH_MAX];
	ssize_t n;
	int fd;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%.20s/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	base = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
	strlcpy(name, base, namesz);
	for (char *a = buf; a < buf + n && !found; a += strlen(a) + 1) {
		char *next = a + strlen(a) + 1;

		if (strcmp(a, "-c") != 0 || next >= buf + n)
			continue;
		found = strcmp(next, config_dir) == 0 ||
			(realpath(next, real) != NULL && strcmp(real, config_dir) == 0);
	}
	return found;
}

size_t instance_procs_find(
    const char *config_dir, const char *daemon_dir, struct instance_proc **out)
{
	char conf[PATH_MAX], daemons[PATH_MAX], dir[PATH_MAX];
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	*out = NULL;
	if (d == NULL)
		return 0;
	if (realpath(config_dir, conf) == NULL)
		snprintf(conf, sizeof(conf), "%s", config_dir);
	if (realpath(daemon_dir, daemons) == NULL)
		snprintf(daemons, sizeof(daemons), "%s", daemon_dir);
	while ((de = readdir(d)) != NULL) {
		char name[32];
		long pid;

		if (!parse_long(de->d_name, 1, INT_MAX, &pid) || pid == getpid() ||
		    pid == getppid())
			continue;
		if (!ip_exe_dir(de->d_name, dir, sizeof(dir)) || strcmp(dir, daemons) != 0)
			continue;
		if (!ip_has_config(de->d_name, conf, name, sizeof(name)))
			continue;
		*out = xreallocarray(*out, n + 1, sizeof(**out));
		(*out)[n].pid = (pid_t)pid;
		snprintf((*out)[n++].name, sizeof((*out)[0].name), "%s", name);
	}
	closedir(d);
	return n;
}

/* Gone, or a zombie whose parent (not us) will reap it. */
static bool ip_gone(pid_t pid)
{
	char path[64], buf[512];
	char *rp;
	int fd;
	ssize_t n;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = 0;
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] == 'Z';
}

static size_t ip_wait(const struct instance_proc *procs, size_t n, long ms)
{
	long long deadline = mono_msec() + ms;
	size_t left;

	for (;;) {
		left = 0;
		for (size_t i = 0; i < n; i++)
			left += !ip_gone(procs[i].pid);
		if (left == 0 || mono_msec() >= deadline)
			return left;
		usleep(20 * 1000);
	}
}

size_t instance_procs_stop(const struct instance_proc *procs, size_t n, long grace_ms)
{
	/* SIGCONT: a stopped process would keep SIGTERM pending forever. */
	for (size_t i = 0; i < n; i++) {
		kill(procs[i].pid, SIGTERM);
		kill(procs[i].pid, SIGCONT);
	}
	if (ip_wait(procs, n, grace_ms) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!ip_gone(procs[i].pid))
			kill(procs[i].pid, SIGKILL);
	return ip_wait(procs, n, 2000);
}
