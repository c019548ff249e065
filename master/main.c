/*
 * main.c - master: the root supervisor of a tern instance.
 *
 *   master [-c config_dir] [-f] [-v]
 *
 * Without -f it detaches and the parent exits only once the listeners are
 * bound (so "tern start" returning 0 means the ports are open), or with
 * status 1 and the reason on stderr; warnings of the configuration report
 * (config_check.h) reach that terminal too.  With -f it stays in the
 * foreground and every process logs to stderr, and to maillog_file when
 * one is set.  pid/master.pid under queue_directory holds the pid and an
 * exclusive lock for the master's whole life: a second master for the
 * same queue refuses to start.  A master that finds processes a dead
 * master of the same instance left behind stops them before it binds
 * anything (instance_procs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "config_check.h"
#include "instance_procs.h"
#include "log.h"
#include "master.h"
#include "util.h"

#define STOP_GRACE_MS 10000
#define ORPHAN_GRACE_MS 10000

static struct master master;

static void master_usage(void)
{
	fprintf(stderr, "usage: master [-c config_dir] [-f] [-v]\n");
	exit(64);
}

static void master_open_log(void)
{
	const char *file = config_str("maillog_file");

	log_set_syslog_name(config_str("syslog_name"));
	if (master.foreground && *file) {
		log_open("master", LOG_DEST_FILE, file);
		log_also_stderr(LOG_DEBUG);
	} else if (master.foreground) {
		log_open("master", LOG_DEST_STDERR, NULL);
	} else if (*file) {
		log_open("master", LOG_DEST_FILE, file);
	} else {
		log_open("master", LOG_DEST_SYSLOG, NULL);
	}
}

/*
 * The configuration report, once per start and reload, into the log (and
 * at start, through the tee set in main(), its warnings onto the terminal
 * of "tern start").  Errors stop a start; at a reload they are logged and
 * the services keep running.
 */
static size_t master_report(void)
{
	struct check_report r;
	size_t errors;

	config_check(&r);
	check_report_log(&r);
	errors = r.errors;
	check_report_free(&r);
	return errors;
}

/* Processes a master of this instance left when it died (kill -9). */
static void master_stop_orphans(void)
{
	struct instance_proc *procs;
	size_t n = instance_procs_find(master.confdir, config_str("daemon_directory"), &procs);
	size_t left;

	if (n == 0)
		return;
	log_warn("stopping %zu processes a previous master left behind (%s pid %ld%s)", n,
	    procs[0].name, (long)procs[0].pid, n > 1 ? ", ..." : "");
	left = instance_procs_stop(procs, n, ORPHAN_GRACE_MS);
	if (left)
		log_warn("%zu processes of the previous master did not stop", left);
	free(procs);
}

static void master_load_config(void)
{
	struct buf err = BUF_INIT;

	if (config_load(master.confdir, false, &err) < 0)
		log_fatal("%s", buf_cstr(&err));
	buf_free(&err);
	master.confdir = config_dir();
}

/* Takes the lock before writing, so a running master's pid is never lost. */
static void master_pid_file(void)
{
	struct buf path = BUF_INIT;
	char text[32];
	int len;

	buf_printf(&path, "%s/pid/master.pid", config_str("queue_directory"));
	master.pid_fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (master.pid_fd < 0)
		log_fatal("open %s: %s", path.data, strerror(errno));
	if (flock(master.pid_fd, LOCK_EX | LOCK_NB) < 0)
		log_fatal("the tern mail system is already running (%s is locked)", path.data);
	len = snprintf(text, sizeof(text), "%10ld\n", (long)getpid());
	if (ftruncate(master.pid_fd, 0) < 0 || pwrite(master.pid_fd, text, (size_t)len, 0) != len)
		log_fatal("write %s: %s", path.data, strerror(errno));
	buf_free(&path);
}

static void master_remove_pid(void)
{
	struct buf path = BUF_INIT;

	buf_printf(&path, "%s/pid/master.pid", config_str("queue_directory"));
	unlink(path.data);
	buf_free(&path);
}

static void master_on_chld(struct event_loop *loop, int signo, void *ctx)
{
	(void)loop;
	(void)signo;
	(void)ctx;
	master_reap(&master);
	if (master.stopping && master_child_count(&master) == 0)
		event_loop_stop(master.loop);
}

static void master_stop_loop(struct event_loop *loop, void *ctx)
{
	(void)ctx;
	event_loop_stop(loop);
}

static void master_kill_stragglers(struct event_loop *loop, void *ctx)
{
	(void)ctx;
	if (master_child_count(&master) > 0) {
		log_warn(
		    "killing %d processes that did not stop in time", master_child_count(&master));
		master_signal_children(&master, NULL, SIGKILL);
	}
	event_timer_add(loop, 1000, master_stop_loop, NULL);
}

static void master_on_term(struct event_loop *loop, int signo, void *ctx)
{
	(void)ctx;
	if (master.stopping)
		return;
	log_info("terminating on signal %d", signo);
	master.stopping = true;
	master_services_unwatch(&master);
	for (struct mservice *s = master.services; s; s = s->next)
		master_service_close(s);
	master_signal_children(&master, NULL, SIGTERM);
	if (master_child_count(&master) == 0)
		event_loop_stop(loop);
	else
		event_timer_add(loop, STOP_GRACE_MS, master_kill_stragglers, NULL);
}

static void master_on_hup(struct event_loop *loop, int signo, void *ctx)
{
	(void)loop;
	(void)signo;
	(void)ctx;
	if (master.stopping)
		return;
	log_info("reload -- version %s, configuration %s", "0.1", master.confdir);
	master_load_config();
	master_open_log();
	if (master_report() > 0)
		log_error("the configuration has errors (see above); daemons that start now may "
			  "fail");
	if (master_services_load(&master, true) == 0)
		master_spawn_all(&master);
}

/*
 * Detaches from the terminal.  The parent waits on a pipe until the child
 * reports that it is running (one byte "0") or has died (EOF), so errors
 * such as a port already in use reach the operator's terminal.
 */
static int master_detach(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		log_fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		log_fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		close(p[1]);
		exit(read(p[0], &c, 1) == 1 && c == '0' ? 0 : 1);
	}
	close(p[0]);
	setsid();
	return p[1];
}

static void master_detach_done(int fd)
{
	int null = open("/dev/null", O_RDWR);

	if (write(fd, "0", 1) != 1)
		log_warn("cannot tell the parent that start-up is complete");
	close(fd);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
}

static void master_parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "c:fv")) != -1) {
		switch (c) {
		case 'c': master.confdir = optarg; break;
		case 'f': master.foreground = true; break;
		case 'v': master.verbose++; break;
		default: master_usage();
		}
	}
	if (optind != argc)
		master_usage();
}

int main(int argc, char **argv)
{
	int ready_fd = -1;
	sigset_t block;

	master_parse_args(argc, argv);
	log_open("master", LOG_DEST_STDERR, NULL);
	log_set_verbose(master.verbose);
	master_load_config();
	umask(022);
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() != 0)
		log_info("running as uid %ld, not root: every process runs as this user",
		    (long)geteuid());
	if (!master.foreground)
		ready_fd = master_detach();
	master_queue_setup();
	master_pid_file();
	log_on_fatal(master_remove_pid);
	/* SIGCHLD must be blocked before the first fork, or an early death is lost. */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, NULL);
	master.loop = event_loop_new();
	event_signal(master.loop, SIGCHLD, master_on_chld, NULL);
	event_signal(master.loop, SIGTERM, master_on_term, NULL);
	event_signal(master.loop, SIGINT, master_on_term, NULL);
	event_signal(master.loop, SIGHUP, master_on_hup, NULL);
	master_open_log();
	if (!master.foreground)
		log_also_stderr(LOG_WARNING); /* for the terminal of "tern start" */
	if (master_report() > 0)
		log_fatal("cannot start: the configuration has errors (\"tern check\" lists them)");
	master_stop_orphans();
	if (master_services_load(&master, false) < 0)
		log_fatal("cannot start: see the errors above");
	log_info("daemon started -- version %s, configuration %s", "0.1", master.confdir);
	if (ready_fd >= 0) {
		master_detach_done(ready_fd);
		log_also_stderr(LOG_TEE_OFF);
	}
	master_spawn_all(&master);
	event_loop_run(master.loop);
	master_remove_pid();
	log_info("stopped");
	return 0;
}
