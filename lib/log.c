/*
 * log.c - the one way to report.
 *
 * Lines are formatted once into a stack buffer and written with a single
 * write(2), so concurrent processes appending to one file (O_APPEND) never
 * interleave within a line.  Control characters from untrusted data are
 * replaced by '?' here, in one place, so no caller can forge log lines.
 *
 * maillog_file lines have syslog's shape, "Mon dd hh:mm:ss host
 * syslog_name/program[pid]: text", the host being the machine's name up
 * to its first dot as syslogd writes it: pflogsumm, fail2ban and the
 * operator's tools read them as they read /var/log/mail.log.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
#define FATAL_HOOKS 8

static char log_prog[64] = "tern";
static char log_host[64];
static char log_syslog_name[32] = "tern";
static char log_ident[100] = "tern";
static enum log_dest log_dest = LOG_DEST_STDERR;
static int log_fd = -1;
static int log_level;
static int log_tee = LOG_TEE_OFF;
static void (*fatal_hooks[FATAL_HOOKS])(void);
static int fatal_hook_count;
static int in_fatal;

static void log_make_ident(void)
{
	if (strcmp(log_prog, log_syslog_name) == 0)
		snprintf(log_ident, sizeof(log_ident), "%s", log_prog);
	else
		snprintf(log_ident, sizeof(log_ident), "%s/%s", log_syslog_name, log_prog);
}

void log_set_syslog_name(const char *name)
{
	snprintf(log_syslog_name, sizeof(log_syslog_name), "%s", name);
	log_make_ident();
	if (log_dest == LOG_DEST_SYSLOG) {
		closelog();
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
}

void log_open_maillog(const char *progname, const char *maillog_file)
{
	if (maillog_file && *maillog_file)
		log_open(progname, LOG_DEST_FILE, maillog_file);
	else
		log_open(progname, LOG_DEST_SYSLOG, NULL);
}

void log_set_progname(const char *progname)
{
	snprintf(log_prog, sizeof(log_prog), "%s", progname);
	log_make_ident();
	if (log_dest == LOG_DEST_SYSLOG) {
		closelog();
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	}
}

int log_file_fd(void)
{
	return log_dest == LOG_DEST_FILE ? log_fd : -1;
}

/* A copy of the log file a parent passed (TERN_LOG_FD), or -1. */
static int log_inherited(void)
{
	const char *env = getenv("TERN_LOG_FD");
	char *end;
	long fd;

	if (env == NULL)
		return -1;
	fd = strtol(env, &end, 10);
	if (*end != 0 || fd < 0 || fd > 65535)
		return -1;
	return fcntl((int)fd, F_DUPFD_CLOEXEC, 3);
}

void log_open(const char *progname, enum log_dest dest, const char *path)
{
	const char *slash = strrchr(progname, '/');

	snprintf(log_prog, sizeof(log_prog), "%s", slash ? slash + 1 : progname);
	log_make_ident();
	if (log_host[0] == 0) {
		if (gethostname(log_host, sizeof(log_host) - 1) < 0 || log_host[0] == 0)
			strcpy(log_host, "localhost");
		log_host[strcspn(log_host, ". \t\n")] = 0;
	}
	if (log_fd >= 0 && log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = -1;
	log_dest = dest;
	if (dest == LOG_DEST_SYSLOG) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	} else if (dest == LOG_DEST_FILE) {
		log_fd = log_inherited();
		if (log_fd < 0)
			log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (log_fd < 0) {
			log_dest = LOG_DEST_STDERR;
			log_warn("cannot open log file %s: %s; logging to stderr", path,
			    strerror(errno));
		}
	}
}

void log_also_stderr(int max_prio)
{
	log_tee = max_prio;
}

void log_set_verbose(int level)
{
	log_level = level;
}

int log_verbose(void)
{
	return log_level;
}

void log_on_fatal(void (*fn)(void))
{
	if (fatal_hook_count < FATAL_HOOKS)
		fatal_hooks[fatal_hook_count++] = fn;
}

static void log_emit(int prio, const char *label, const char *qid, const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX];
	char line[LOG_LINE_MAX + 200];
	int saved = errno;
	size_t off = 0;
	int n;

	if (label)
		off = (size_t)snprintf(text, sizeof(text), "%s: ", label);
	if (qid && off < sizeof(text))
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s: ", qid);
	if (off < sizeof(text))
		vsnprintf(text + off, sizeof(text) - off, fmt, ap);
	for (unsigned char *p = (unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';

	if (log_dest != LOG_DEST_STDERR && prio <= log_tee) {
		n = snprintf(line, sizeof(line), "%s[%ld]: %s\n", log_ident, (long)getpid(), text);
		if (n > (int)sizeof(line) - 1)
			n = (int)sizeof(line) - 1, line[n - 1] = '\n';
		if (write(STDERR_FILENO, line, (size_t)n) < 0) {
			/* The file gets it all the same. */
		}
	}
	if (log_dest == LOG_DEST_SYSLOG) {
		syslog(prio, "%s", text);
		errno = saved;
		return;
	}
	if (log_dest == LOG_DEST_FILE) {
		char stamp[32];
		time_t t = time(NULL);
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n", stamp, log_host, log_ident,
		    (long)getpid(), text);
	} else {
		n = snprintf(line, sizeof(line), "%s[%ld]: %s\n", log_ident, (long)getpid(), text);
	}
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1, line[n - 1] = '\n';
	if (write(log_fd >= 0 ? log_fd : STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere else to report it. */
	}
	errno = saved;
}

#define LOG_BODY(prio, label, qid)                                                                 \
	do {                                                                                       \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		log_emit(prio, label, qid, fmt, ap);                                               \
		va_end(ap);                                                                        \
	} while (0)

void log_debug(const char *fmt, ...)
{
	if (log_level > 0)
		LOG_BODY(LOG_DEBUG, NULL, NULL);
}

void log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, NULL, NULL);
}

void log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning", NULL);
}

void log_error(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, "error", NULL);
}

void log_qid(const char *qid, const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, NULL, qid);
}

void log_qid_warn(const char *qid, const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, "warning", qid);
}

void log_fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, "fatal", NULL);
	if (!in_fatal) {
		in_fatal = 1;
		while (fatal_hook_count > 0)
			fatal_hooks[--fatal_hook_count]();
	}
	exit(1);
}

void log_panic(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, "panic", NULL);
	abort();
}
