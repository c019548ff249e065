/*
 * service.c - master.cf entries, their listening sockets, and the queue
 * folders the sockets live in.
 *
 * On reload a service keeps its socket when its entry is unchanged (no
 * connection is refused while daemons restart), gets a new one when its
 * entry changed, and is retired when it left master.cf: its socket is
 * closed at once and the service is freed when its last process is gone.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "log.h"
#include "master.h"
#include "privs.h"
#include "queue.h"
#include "sock.h"
#include "util.h"

#define LISTEN_BACKLOG 1024

/*
 * Creates missing queue folders (queue.h's table) and, as root, gives them
 * to mail_owner; maildrop/ to setgid_group (postdrop), pid/ stays root's:
 * it holds the master's own lock.
 */
void master_queue_setup(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid(), drop = (gid_t)-1;
	bool root = geteuid() == 0;
	struct buf err = BUF_INIT;

	if (root && !priv_lookup_user(config_str("mail_owner"), &uid, &gid))
		log_fatal("mail_owner %s: no such user", config_str("mail_owner"));
	if (root && !priv_lookup_group(config_str("setgid_group"), &drop))
		drop = (gid_t)-1;
	if (queue_dirs_create(config_str("queue_directory"), root, uid, gid, drop, &err) < 0)
		log_fatal("%s", buf_cstr(&err));
	buf_free(&err);
}

static void service_copy(struct master_service *dst, const struct master_service *src)
{
	*dst = *src;
	dst->name = xstrdup(src->name);
	dst->argv = xcalloc((size_t)src->argc + 1, sizeof(char *));
	for (int i = 0; i < src->argc; i++)
		dst->argv[i] = xstrdup(src->argv[i]);
}

/* Identity of an entry, all columns included: any change means a restart. */
static char *service_fingerprint(const struct master_service *s)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s|%d|%d|%d|%d|%d|%d", s->name, s->type, s->private_, s->unpriv, s->chroot,
	    s->wakeup, s->maxproc);
	for (int i = 0; i < s->argc; i++)
		buf_printf(&b, "|%s", s->argv[i]);
	return b.data;
}

static int service_listen(struct mservice *s)
{
	struct buf err = BUF_INIT;
	struct buf path = BUF_INIT;
	uid_t uid;
	gid_t gid;

	if (s->cf.type == SERVICE_INET) {
		s->listen_fd = sock_inet_listen(s->cf.name, LISTEN_BACKLOG, &err);
	} else {
		queue_socket_path(&path, s->cf.private_, s->cf.name);
		s->sock_path = xstrdup(path.data);
		s->listen_fd = sock_unix_listen(
		    s->sock_path, s->cf.private_ ? 0600 : 0666, LISTEN_BACKLOG, &err);
		if (s->listen_fd >= 0 && geteuid() == 0 &&
		    priv_lookup_user(config_str("mail_owner"), &uid, &gid) &&
		    chown(s->sock_path, uid, gid) < 0)
			log_warn("chown %s: %s", s->sock_path, strerror(errno));
	}
	buf_free(&path);
	if (s->listen_fd < 0) {
		log_error("service %s: %s", s->cf.name, buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	return 0;
}

static char *service_program(const struct master_service *s)
{
	if (strchr(s->argv[0], '/'))
		return xstrdup(s->argv[0]);
	return xasprintf("%s/%s", config_str("daemon_directory"), s->argv[0]);
}

static int service_wanted(const struct master_service *s)
{
	if (s->maxproc >= 0)
		return s->maxproc;
	return (int)config_int("default_process_limit");
}

static struct mservice *service_new(const struct master_service *cf, const char *key)
{
	struct mservice *s = xcalloc(1, sizeof(*s));

	service_copy(&s->cf, cf);
	s->key = xstrdup(key);
	s->path = service_program(cf);
	s->wanted = service_wanted(cf);
	s->listen_fd = -1;
	if (access(s->path, X_OK) < 0)
		log_warn("service %s: cannot execute %s: %s", cf->name, s->path, strerror(errno));
	if (service_listen(s) < 0) {
		master_service_close(s);
		free(s);
		return NULL;
	}
	return s;
}

void master_service_close(struct mservice *s)
{
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
	if (s->sock_path)
		unlink(s->sock_path);
	free(s->sock_path);
	s->sock_path = NULL;
}

static void service_free(struct mservice *s)
{
	master_service_close(s);
	for (int i = 0; i < s->cf.argc; i++)
		free(s->cf.argv[i]);
	free(s->cf.argv);
	free(s->cf.name);
	free(s->key);
	free(s->path);
	free(s);
}

static struct mservice *service_find(struct master *m, const char *key)
{
	for (struct mservice *s = m->services; s; s = s->next)
		if (!s->retired && strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

static void service_retire(struct master *m, struct mservice *s)
{
	s->retired = true;
	s->wanted = 0;
	master_service_close(s);
	master_signal_children(m, s, SIGTERM);
}

/*
 * Reads master.cf and brings the running services in line with it.
 * Services that left or changed are retired first, so that a changed
 * entry can bind its address again.  Returns -1 (nothing changed) when
 * master.cf cannot be parsed.
 */
int master_services_load(struct master *m, bool reload)
{
	struct master_cf cf = {0};
	struct buf err = BUF_INIT, path = BUF_INIT;
	char **keys;
	bool failed = false;

	buf_printf(&path, "%s/master.cf", config_dir());
	if (mastercf_load(path.data, &cf, &err) < 0) {
		log_error("%s", buf_cstr(&err));
		buf_free(&err);
		buf_free(&path);
		return -1;
	}
	keys = xcalloc(cf.count + 1, sizeof(char *));
	for (size_t i = 0; i < cf.count; i++)
		keys[i] = service_fingerprint(&cf.services[i]);
	for (struct mservice *s = m->services; s; s = s->next) {
		bool kept = false;

		for (size_t i = 0; i < cf.count && !kept; i++)
			kept = strcmp(keys[i], s->key) == 0;
		if (s->retired)
			continue;
		if (!kept)
			service_retire(m, s);
		else if (reload)
			master_signal_children(m, s, SIGHUP); /* re-read config when idle */
	}
	for (size_t i = 0; i < cf.count; i++) {
		struct mservice *s;

		if (service_find(m, keys[i]) != NULL)
			continue;
		if ((s = service_new(&cf.services[i], keys[i])) != NULL) {
			s->next = m->services;
			m->services = s;
		} else if (!reload) {
			failed = true; /* at start, a service that cannot listen is fatal */
		}
	}
	strv_free(keys);
	mastercf_free(&cf);
	buf_free(&err);
	buf_free(&path);
	return failed ? -1 : 0;
}

/* Frees retired services whose last process has gone. */
void master_services_prune(struct master *m)
{
	struct mservice **pp = &m->services;

	while (*pp) {
		struct mservice *s = *pp;

		if (s->retired && s->running == 0) {
			*pp = s->next;
			if (s->timer)
				event_timer_cancel(m->loop, s->timer);
			service_free(s);
		} else {
			pp = &s->next;
		}
	}
}
