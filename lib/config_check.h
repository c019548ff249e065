/*
 * config_check.h - everything tern can tell an operator about a
 * configuration, with the file and line of each finding.
 *
 * What config_load() and mastercf_load() accept may still be a
 * configuration tern cannot honour: a Postfix parameter it does not
 * implement, a restriction smtpd does not know, a master.cf entry for a
 * Postfix daemon, a transport no service serves, a "/file/name" that
 * cannot be read.  config_check() lists those findings in three levels:
 *
 *   error    tern cannot run like this: master refuses to start
 *            (malformed numbers, times and booleans, unreadable value
 *            files, bad inet_interfaces, an inet service nobody serves)
 *   warning  tern runs, but not as the configuration asks (unknown
 *            parameters, unsupported ones set, unknown restrictions,
 *            transports without a service)
 *   info     tern does the job another way (skipped Postfix services,
 *            parameters of enum param_compat's PARAM_DIFFERENT group)
 *
 * master logs the report at every start and reload (and a "tern start"
 * shows it on the terminal); "tern check" prints it.  No other program
 * reports configuration problems, so that sendmail and mailq print
 * nothing of the kind.
 *
 * The check reads the loaded main.cf (config.h) and config_dir()/master.cf.
 */
#ifndef TERN_CONFIG_CHECK_H
#define TERN_CONFIG_CHECK_H

#include <stddef.h>

enum check_level {
	CHECK_INFO,
	CHECK_WARN,
	CHECK_ERROR,
};

struct check_item {
	enum check_level level;
	char *where; /* "/etc/tern/main.cf:12", or NULL */
	char *text;
};

struct check_report {
	struct check_item *items;
	size_t count;
	size_t errors;
	size_t warnings;
};

void config_check(struct check_report *r);
void check_report_free(struct check_report *r);

/* Logs every item: log_info, log_warn or log_error. */
void check_report_log(const struct check_report *r);

/* "error", "warning", "info". */
const char *check_level_name(enum check_level level);

#endif
