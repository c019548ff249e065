/*
 * main.c - imap: the IMAP server of one user after login.
 *
 *   imap -c CONFIG_DIR --user NAME [-v]
 *
 * Stand-alone ("pre-authenticated") mode, as Dovecot's imap binary run
 * by hand or through "doveadm exec imap": speaks IMAP on stdin and
 * stdout for the user NAME (an address with a virtual mailbox, a system
 * user, or a Maildir path; mailbox_path.h), starting with
 * "* PREAUTH".  For tests, and for clients that reach a mailbox over a
 * tunnel (mbsync's Tunnel, mutt's tunnel).  Run as root it becomes the
 * Maildir's owner first.  Logs go to maillog_file, else syslog.
 *
 * After a login through imap-login, postlogin starts imap as the user
 * (login/postlogin.h), and the same session engine is started with
 * imap_client_new() on each connection passed to it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "event.h"
#include "imap.h"
#include "log.h"
#include "login/postlogin.h"
#include "mailbox_path.h"
#include "privs.h"
#include "util.h"

static void usage(void)
{
	fprintf(stderr, "usage: imap -c CONFIG_DIR --user NAME [-v]\n");
	exit(EX_USAGE);
}

static void stop_loop(void *ctx)
{
	event_loop_stop(ctx);
}

static void open_log(void)
{
	const char *file = config_str("maillog_file");

	log_set_syslog_name(config_str("syslog_name"));
	if (*file)
		log_open("imap", LOG_DEST_FILE, file);
	else
		log_open("imap", LOG_DEST_SYSLOG, NULL);
}

/*
 * Sessions per client address (imap_max_user_connections, Dovecot's
 * mail_max_userip_connections): this process serves the user's sessions
 * (all of them below imap_client_limit), so it counts them.
 */
struct rip_count {
	char *rip;
	unsigned n;
	struct rip_count *next;
};

static struct rip_count *rip_counts;

static struct rip_count *rip_get(const char *rip)
{
	struct rip_count *r;

	for (r = rip_counts; r; r = r->next)
		if (strcmp(r->rip, rip) == 0)
			return r;
	r = xcalloc(1, sizeof(*r));
	r->rip = xstrdup(rip);
	r->next = rip_counts;
	rip_counts = r;
	return r;
}

static void rip_put(struct rip_count *r)
{
	if (--r->n > 0)
		return;
	for (struct rip_count **pp = &rip_counts; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r->rip);
	free(r);
}

static void postlogin_session_end(void *ctx)
{
	rip_put(ctx);
	postlogin_client_done();
}

/* The login over the limit: told so on its login command, then closed.
 * The socket is new and empty: the short lines are written at once. */
static void postlogin_refuse(int fd, const struct postlogin_info *info, long limit)
{
	struct buf b = BUF_INIT;
	const char *text = "Maximum number of connections from user+IP exceeded";

	buf_printf(&b, "* BYE [LIMIT] %s (imap_max_user_connections=%ld)\r\n", text, limit);
	if (info->tag)
		buf_printf(&b, "%s NO [LIMIT] %s (imap_max_user_connections=%ld)\r\n", info->tag,
		    text, limit);
	if (write(fd, b.data, b.len) != (ssize_t)b.len)
		log_warn("imap(%s): cannot write the refusal", info->user);
	log_info("imap(%s): Disconnected: %s (imap_max_user_connections=%ld) rip=%s", info->user,
	    text, limit, info->client_addr);
	buf_free(&b);
	close(fd);
}

/*
 * A session handed over by postlogin: the login command's tagged OK
 * with the post-login capabilities is ours to send, as Dovecot's imap
 * does, once the session engine has opened the mailbox (a failure is a
 * tagged NO, never OK then BYE); the engine takes the connection and
 * the bytes the login process read ahead.
 */
static void postlogin_session(struct event_loop *loop, int fd, const struct postlogin_info *info,
    const char *pending, size_t len, void *ctx)
{
	struct imap_login_info li = {.user = info->user,
	    .maildir = info->maildir,
	    .rip = info->client_addr,
	    .lip = info->local_addr,
	    .tag = info->tag,
	    .quota_rule = info->quota_rule};
	struct imap_client *cl;
	long limit = config_int("imap_max_user_connections");
	struct rip_count *r = rip_get(info->client_addr);

	(void)ctx;
	if (limit > 0 && r->n >= (unsigned long)limit) {
		postlogin_refuse(fd, info, limit);
		r->n++;
		rip_put(r);
		postlogin_client_done();
		return;
	}
	r->n++;
	if ((cl = imap_client_new(loop, fd, &li, pending, len)) == NULL) {
		rip_put(r);
		postlogin_client_done(); /* it said BYE and closes by itself */
		return;
	}
	imap_client_on_close(cl, postlogin_session_end, r);
}

/* Started by postlogin as the user (login/postlogin.h). */
static int postlogin_main(int argc, char **argv)
{
	struct daemon d;

	daemon_init(&d, argc, argv, "imap", DAEMON_NO_LISTEN | DAEMON_KEEP_ROOT);
	return postlogin_run(event_loop_new(), postlogin_session, NULL);
}

int main(int argc, char **argv)
{
	if (postlogin_started())
		return postlogin_main(argc, argv);

	static const struct option opts[] = {
	    {"user", required_argument, NULL, 'u'}, {NULL, 0, NULL, 0}};
	const char *confdir = NULL, *user = NULL;
	struct buf err = BUF_INIT;
	struct imap_login_info li;
	struct event_loop *loop;
	struct stat st;
	char *maildir;
	int c, verbose = 0;

	log_open("imap", LOG_DEST_STDERR, NULL);
	while ((c = getopt_long(argc, argv, "c:u:v", opts, NULL)) != -1) {
		switch (c) {
		case 'c': confdir = optarg; break;
		case 'u': user = optarg; break;
		case 'v': verbose++; break;
		default: usage();
		}
	}
	if (user == NULL || optind != argc)
		usage();
	/* An instance's folder (as "tern -c") names its etc/. */
	if (config_load_instance(confdir, confdir == NULL, &err) < 0) {
		fprintf(stderr, "imap: %s\n", buf_cstr(&err));
		return EX_CONFIG;
	}
	open_log();
	log_set_verbose(verbose);
	if ((maildir = mailbox_resolve(user, &err)) == NULL) {
		printf("* BYE No mailbox for %s\r\n", user);
		log_warn("imap(%s): %s", user, buf_cstr(&err));
		return EX_NOUSER;
	}
	/* Never root's files in a user's Maildir. */
	if (geteuid() == 0 && stat(maildir, &st) == 0 && st.st_uid != 0)
		priv_drop_ids(st.st_uid, st.st_gid, NULL);
	memset(&li, 0, sizeof(li));
	li.user = user;
	li.maildir = maildir;
	loop = event_loop_new();
	if (write(1, "* PREAUTH [CAPABILITY ", 22) < 0 ||
	    write(1, imap_capabilities(), strlen(imap_capabilities())) < 0 ||
	    write(1, "] Logged in as ", 15) < 0 || write(1, user, strlen(user)) < 0 ||
	    write(1, "\r\n", 2) < 0)
		return EX_IOERR;
	struct imap_client *cl = imap_client_new_fds(loop, 0, 1, &li, NULL, 0);
	if (cl != NULL) {
		imap_client_on_close(cl, stop_loop, loop);
		event_loop_run(loop);
	}
	event_loop_free(loop);
	free(maildir);
	buf_free(&err);
	return 0;
}
