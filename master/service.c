/*
 * service.c - master.cf entries, their listening sockets, and the queue
 * folders the sockets live in.
 *
 * Each entry that tern runs (mastercf_plan) becomes one service here, or
 * one per address when it is an inet entry without a host (inet_listen.h);
 * skipped and unserved entries are only reported (config_check.c, logged
 * by main.c).  maxproc is Postfix's: an upper bound, "-" for
 * default_process_limit, 0 for none.  A few processes run from the start
 * (prestart: one, or as many as there are processors when maxproc names a
 * number above one; none for a service mastercf_plan() starts on demand);
 * avail.c starts the rest on demand.
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
#include "inet_listen.h"
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
static char *service_fingerprint(const struct master_service *s, const char *spec)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s|%d|%d|%d|%d|%d|%d", s->name, s->type, s->private_, s->unpriv, s->chroot,
	    s->wakeup, s->maxproc);
	for (int i = 0; i < s->argc; i++)
		buf_printf(&b, "|%s", s->argv[i]);
	if (spec)
		buf_printf(&b, "|@%s", spec);
	return b.data;
}

static int service_listen(struct mservice *s)
{
	struct buf err = BUF_INIT;
	struct buf path = BUF_INIT;
	uid_t uid;
	gid_t gid;

	if (s->plan.type == SERVICE_INET) {
		s->listen_fd = sock_inet_listen(s->listen_spec, LISTEN_BACKLOG, &err);
	} else {
		queue_socket_path(&path, s->plan.private_, s->cf.name);
		s->sock_path = xstrdup(path.data);
		s->listen_fd = sock_unix_listen(
		    s->sock_path, s->plan.private_ ? 0600 : 0666, LISTEN_BACKLOG, &err);
		if (s->listen_fd >= 0 && geteuid() == 0 &&
		    priv_lookup_user(config_str("mail_owner"), &uid, &gid) &&
		    chown(s->sock_path, uid, gid) < 0)
			log_warn("chown %s: %s", s->sock_path, strerror(errno));
	}
	buf_free(&path);
	if (s->listen_fd < 0) {
		if (s->listen_optional)
			log_warn("service %s: %s; going on without it", s->cf.name, buf_cstr(&err));
		else
			log_error("service %s: %s", s->cf.name, buf_cstr(&err));
		buf_free(&err);
		return -1;
	}
	buf_free(&err);
	return 0;
}

static char *service_program(const struct master_service *cf, const struct service_plan *plan)
{
	const char *program = plan->program ? plan->program : cf->argv[0];

	if (strchr(program, '/'))
		return xstrdup(program);
	return xasprintf("%s/%s", config_str("daemon_directory"), program);
}

/* maxproc as Postfix reads it, and how many processes run up front. */
static void service_limits(struct mservice *s)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		cpus = 1;
	if (s->cf.maxproc < 0)
		s->limit = (int)config_int("default_process_limit");
	else
		s->limit = s->cf.maxproc;
	if (s->limit < 0)
		s->limit = 0;
	/* An explicit maxproc above one asks for parallel processes: give
	 * each processor one (event-driven daemons use more than one
	 * processor only that way); otherwise one, the rest on demand. */
	s->prestart = s->plan.on_demand ? 0 : 1;
	if (s->cf.maxproc > 1 && !s->plan.on_demand)
		s->prestart = s->cf.maxproc < cpus ? s->cf.maxproc : (int)cpus;
}

static struct mservice *service_new(struct master *m, const struct master_service *cf,
    const struct service_plan *plan, const char *key, const struct inet_listen_addr *addr)
{
	struct mservice *s = xcalloc(1, sizeof(*s));

	service_copy(&s->cf, cf);
	s->plan = *plan;
	s->key = xstrdup(key);
	s->listen_spec = addr ? xstrdup(addr->spec) : NULL;
	s->listen_optional = addr && addr->optional;
	s->path = service_program(cf, plan);
	s->listen_fd = -1;
	s->status_fd[0] = s->status_fd[1] = -1;
	service_limits(s);
	if (access(s->path, X_OK) < 0)
		log_warn("service %s: cannot execute %s: %s", cf->name, s->path, strerror(errno));
	if (service_listen(s) < 0) {
		free(s->listen_spec);
		free(s->sock_path);
		free(s->path);
		free(s->key);
		strv_free(s->cf.argv);
		free(s->cf.name);
		free(s);
		return NULL;
	}
	master_status_open(m, s);
	return s;
}

/* Callers stop watching the socket first (master_services_unwatch). */
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

static void service_unwatch(struct master *m, struct mservice *s);

static void service_free(struct master *m, struct mservice *s)
{
	service_unwatch(m, s);
	master_service_close(s);
	master_status_close(m, s);
	for (int i = 0; i < s->cf.argc; i++)
		free(s->cf.argv[i]);
	free(s->cf.argv);
	free(s->cf.name);
	free(s->key);
	free(s->path);
	free(s->listen_spec);
	free(s);
}

static struct mservice *service_find(struct master *m, const char *key)
{
	for (struct mservice *s = m->services; s; s = s->next)
		if (!s->retired && strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

static void service_unwatch(struct master *m, struct mservice *s)
{
	if (s->watching && s->listen_fd >= 0)
		event_fd_del(m->loop, s->listen_fd);
	s->watching = false;
}

static void service_retire(struct master *m, struct mservice *s)
{
	service_unwatch(m, s);
	s->retired = true;
	master_service_close(s);
	master_signal_children(m, s, SIGTERM);
}

/* Stops watching every socket before main.c closes them all. */
void master_services_unwatch(struct master *m)
{
	for (struct mservice *s = m->services; s; s = s->next)
		service_unwatch(m, s);
}

/* What one master.cf entry becomes: keys (and addresses) of its services. */
struct svc_want {
	const struct master_service *cf;
	struct service_plan plan;
	char *key;
	struct inet_listen_addr addr; /* inet only */
};

static void want_add(struct svc_want **w, size_t *n, const struct master_service *cf,
    const struct service_plan *plan, const struct inet_listen_addr *addr)
{
	*w = xreallocarray(*w, *n + 1, sizeof(**w));
	(*w)[*n].cf = cf;
	(*w)[*n].plan = *plan;
	(*w)[*n].key = service_fingerprint(cf, addr ? addr->spec : NULL);
	(*w)[*n].addr.spec = addr ? xstrdup(addr->spec) : NULL;
	(*w)[*n].addr.optional = addr && addr->optional;
	(*n)++;
}

/* The services master.cf asks for; -1 when an inet address is bad. */
static int services_wanted(const struct master_cf *cf, struct svc_want **w, size_t *n)
{
	int rc = 0;

	*w = NULL;
	*n = 0;
	for (size_t i = 0; i < cf->count; i++) {
		const struct master_service *e = &cf->services[i];
		struct service_plan plan;
		struct inet_listen_addr *addrs;
		struct buf err = BUF_INIT;
		int na;

		mastercf_plan(e, &plan);
		if (plan.action != SERVICE_RUN)
			continue; /* reported by config_check */
		if (e->line == 0) /* mastercf_add_implicit */
			log_info(
			    "service %s: not in master.cf; tern's %s service runs all the same",
			    e->name, e->name);
		if (plan.type != SERVICE_INET) {
			want_add(w, n, e, &plan, NULL);
			continue;
		}
		if ((na = inet_listen_addrs(e->name, &addrs, &err)) < 0) {
			log_error("master.cf:%d: service %s: %s", e->line, e->name, buf_cstr(&err));
			rc = -1;
		}
		for (int a = 0; a < na; a++)
			want_add(w, n, e, &plan, &addrs[a]);
		if (na > 0)
			inet_listen_free(addrs, na);
		buf_free(&err);
	}
	return rc;
}

static void wanted_free(struct svc_want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].key);
		free(w[i].addr.spec);
	}
	free(w);
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
	struct svc_want *want;
	size_t nwant;
	bool failed = false;

	buf_printf(&path, "%s/master.cf", config_dir());
	if (mastercf_load(path.data, &cf, &err) < 0) {
		log_error("%s", buf_cstr(&err));
		buf_free(&err);
		buf_free(&path);
		return -1;
	}
	if (services_wanted(&cf, &want, &nwant) < 0 && !reload)
		failed = true;
	for (struct mservice *s = m->services; s; s = s->next) {
		bool kept = false;

		for (size_t i = 0; i < nwant && !kept; i++)
			kept = strcmp(want[i].key, s->key) == 0;
		if (s->retired)
			continue;
		if (!kept)
			service_retire(m, s);
		else if (reload)
			master_signal_children(m, s, SIGHUP); /* re-read config when idle */
	}
	for (size_t i = 0; i < nwant && !failed; i++) {
		struct mservice *s;

		if (service_find(m, want[i].key) != NULL)
			continue;
		s = service_new(m, want[i].cf, &want[i].plan, want[i].key,
		    want[i].addr.spec ? &want[i].addr : NULL);
		if (s != NULL) {
			s->next = m->services;
			m->services = s;
		} else if (!reload && !want[i].addr.optional) {
			failed = true; /* at start, a service that cannot listen is fatal */
		}
	}
	wanted_free(want, nwant);
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
			if (s->healthy)
				event_timer_cancel(m->loop, s->healthy);
			service_free(m, s);
		} else {
			pp = &s->next;
		}
	}
}
