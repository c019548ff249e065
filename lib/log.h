/*
 * log.h - the one way to report: syslog (facility mail), stderr, or a file.
 *
 * Lines look like Postfix's: "tern/smtpd[123]: warning: text".  Every line
 * about one message starts with its queue ID (log_qid), so an operator can
 * grep a message's whole life.  log_fatal() runs the registered clean-up
 * functions and exits 1; log_panic() is for states that cannot happen and
 * aborts so a core is left behind.
 */
#ifndef TERN_LOG_H
#define TERN_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_dest {
	LOG_DEST_SYSLOG,
	LOG_DEST_STDERR,
	LOG_DEST_FILE,
};

/*
 * Sets the program name ("smtpd" becomes "tern/smtpd") and destination.
 * path is used for LOG_DEST_FILE (opened O_APPEND; open it before dropping
 * privileges, the descriptor survives the switch).  Until log_open() is
 * called, lines go to stderr.
 */
void log_open(const char *progname, enum log_dest dest, const char *path);
/*
 * The open log file (LOG_DEST_FILE), or -1.  A parent hands it to a child
 * that runs as a user who may not open maillog_file (postlogin's users'
 * processes) as a descriptor named by TERN_LOG_FD in the environment;
 * log_open(LOG_DEST_FILE) then writes to that instead of opening path.
 */
int log_file_fd(void);
/* The mail log a daemon writes: maillog_file when not empty, else
 * syslog (a command that logs what it does to the queue, as Postfix's
 * postsuper does). */
void log_open_maillog(const char *progname, const char *maillog_file);
/* Renames the program in every later line ("lmtp": "tern/lmtp"), keeping
 * the destination: a program run as another service (smtp as lmtp,
 * local as virtual) logs under that name, as Postfix's do. */
void log_set_progname(const char *progname);
/* Prefix for the program name; default "tern" (main.cf syslog_name). */
void log_set_syslog_name(const char *name);
void log_set_verbose(int level);
int log_verbose(void);
/*
 * With LOG_DEST_FILE or _SYSLOG, also write lines of syslog priority max_prio or more
 * severe to stderr: LOG_DEBUG for all (a foreground master and its
 * daemons: the terminal and maillog_file), LOG_WARNING for warnings and
 * errors (a master starting up, for "tern start"), LOG_TEE_OFF for none.
 */
#define LOG_TEE_OFF (-1)
void log_also_stderr(int max_prio);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* An info line about one message: "QID: text". */
void log_qid(const char *qid, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_qid_warn(const char *qid, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Functions run by log_fatal() before it exits, last registered first. */
void log_on_fatal(void (*fn)(void));

#endif
