/*
 * tern.h - the operator command's subcommands.
 */
#ifndef TERN_CLI_H
#define TERN_CLI_H

#include <stdbool.h>

/* Exit codes from sysexits.h are used throughout. */

int cmd_init(int argc, char **argv);
int cmd_start(const char *confdir, int argc, char **argv);
int cmd_stop(const char *confdir, int argc, char **argv);
int cmd_status(const char *confdir, int argc, char **argv);
int cmd_reload(const char *confdir, int argc, char **argv);
int cmd_queue(const char *confdir, int argc, char **argv);
int cmd_check(const char *confdir, int argc, char **argv);
int cmd_newaliases(const char *confdir, int argc, char **argv);
int cmd_passwd(const char *confdir, int argc, char **argv);
int cmd_conf(const char *confdir, int argc, char **argv);
int cmd_domain(const char *confdir, int argc, char **argv);
int cmd_user(const char *confdir, int argc, char **argv);
int cmd_mailbox(const char *confdir, int argc, char **argv);
int cmd_sieve(const char *confdir, int argc, char **argv);
int cmd_spf(const char *confdir, int argc, char **argv);
int cmd_dkim(const char *confdir, int argc, char **argv);
int cmd_doctor(const char *confdir, int argc, char **argv);
int cmd_dmarc(const char *confdir, int argc, char **argv);
int cmd_tlsrpt(const char *confdir, int argc, char **argv);
int cmd_cert(const char *confdir, int argc, char **argv);
struct dkim_keyfile;
struct buf;
/* One key against DNS (cli/dkim.c): msg gets one line, fix the record to
 * publish when it does not match; 0 ok, 1, EX_TEMPFAIL. */
int dkim_check_key(const struct dkim_keyfile *k, struct buf *msg, struct buf *fix);

/* cert.c: a self-signed certificate and key for a fresh instance. */
int cert_make_self_signed(const char *cert_path, const char *key_path, const char *cn,
    char **dns_names, char *errbuf, size_t errlen);

/* Loads main.cf for a command; exits EX_CONFIG with a message on failure.
 * dir may be an instance directory (DIR/etc is used then). */
void cli_load_config(const char *dir);

/* Reloads a running system and waits until its new qmgr runs: 0 done,
 * 1 not running, -1 not within 30 s (control.c). */
int cli_reload_running(void);

/* Directory of the running executable (for build-tree instances). */
char *cli_self_dir(void);

#endif
