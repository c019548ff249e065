/*
 * main.c - jmap(8): a user's JMAP process.
 *
 * postlogin starts it as the mailbox owner (login/postlogin.h) and
 * gives it each channel http opened for the user: a socket speaking
 * http/jframe.h, one request frame at a time answered in order.  The
 * process serves every channel of its user from one event loop and ends
 * when postlogin lets go and the last channel has closed.
 *
 * Push: every folder is watched through the store's inotify descriptor;
 * when something changed (a delivery, IMAP, this process itself), the
 * account's state is computed again and, when it differs from the last
 * one sent, a StateChange (RFC 8620 section 7.1) goes to every channel
 * as an event frame, which http fans out to the EventSource streams.
 */
#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "http/jframe.h"
#include "jmap.h"
#include "log.h"
#include "login/postlogin.h"
#include "sock.h"
#include "util.h"

#define PUSH_DELAY_MS 100

struct jmap_state jm;

struct jchan {
	struct ipc_conn conn;
	struct ipc_msg msg;
	struct jchan *next;
};

static struct jchan *chans;
static struct event_timer *push_timer;
static int notify_fd = -1;

static void chan_close(struct jchan *c)
{
	struct jchan **pp;

	for (pp = &chans; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	event_fd_del(jm.loop, c->conn.fd);
	ipc_conn_close(&c->conn);
	ipc_msg_free(&c->msg);
	free(c);
	postlogin_client_done();
}

static void chan_arm(struct jchan *c)
{
	event_fd_events(jm.loop, c->conn.fd, EV_READ | (c->conn.out.len ? EV_WRITE : 0));
}

/* One request: the answer's status, type, body (and disposition). */
static void serve(
    const struct jframe *q, struct jframe *a, struct buf *body, struct buf *ctype, struct buf *disp)
{
	int status = 404;

	if (strcmp(q->path, "/.well-known/jmap") == 0 && strcmp(q->method, "GET") == 0) {
		jmap_session_resource(body);
		status = 200;
		buf_puts(ctype, "application/json");
	} else if (strcmp(q->path, "/jmap/api") == 0 || strcmp(q->path, "/jmap/api/") == 0) {
		if (strcmp(q->method, "POST") != 0) {
			status = 405;
			buf_puts(body, "{\"error\": \"POST only\"}");
		} else {
			jmap_api(q->body, q->body_len, &status, body);
		}
		buf_puts(ctype, status == 200 ? "application/json" : "application/problem+json");
	} else if (strncmp(q->path, "/jmap/upload/", 13) == 0) {
		char *want = xasprintf("/jmap/upload/%s/", jm.account);

		if (strcmp(q->method, "POST") != 0) {
			status = 405;
		} else if (strcmp(q->path, want) != 0 &&
			   strncmp(q->path, want, strlen(want) - 1) != 0) {
			status = 404;
			buf_puts(body, "{\"error\": \"no such account\"}");
		} else {
			jmap_upload(q->ctype, q->body, q->body_len, &status, body);
		}
		free(want);
		buf_puts(ctype, "application/json");
	} else if (strncmp(q->path, "/jmap/download/", 15) == 0 && strcmp(q->method, "GET") == 0) {
		jmap_download(q->path + 15, q->query, &status, body, ctype, disp);
	} else {
		buf_puts(body, "{\"error\": \"not found\"}");
		buf_puts(ctype, "application/json");
	}
	a->status = status;
}

static void chan_request(struct jchan *c, const struct jframe *q)
{
	struct buf body = BUF_INIT, ctype = BUF_INIT, disp = BUF_INIT;
	struct jframe a;

	memset(&a, 0, sizeof(a));
	serve(q, &a, &body, &ctype, &disp);
	a.op = JFRAME_RESPONSE;
	a.id = q->id;
	a.ctype = buf_cstr(&ctype);
	a.disposition = buf_cstr(&disp);
	a.body = body.data;
	a.body_len = body.len;
	jframe_encode(&c->conn.out, &a);
	buf_free(&body);
	buf_free(&ctype);
	buf_free(&disp);
}

static void chan_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct jchan *c = ctx;
	const char *why = NULL;
	struct jframe f;
	enum ipc_result r;
	ssize_t n;

	(void)loop;
	(void)fd;
	if ((events & EV_WRITE) && ipc_conn_flush(&c->conn) < 0) {
		chan_close(c);
		return;
	}
	if (events & (EV_READ | EV_ERROR)) {
		while ((n = ipc_conn_fill(&c->conn)) > 0) {
			while ((r = ipc_conn_next(&c->conn, &c->msg, &why)) == IPC_OK) {
				if (jframe_decode(&c->msg, &f, &why) < 0 ||
				    f.op != JFRAME_REQUEST) {
					log_warn("jmap(%s): bad frame from http: %s", jm.user,
					    why ? why : "not a request");
					chan_close(c);
					return;
				}
				chan_request(c, &f);
			}
			if (r == IPC_ERROR) {
				log_warn("jmap(%s): bad frame from http: %s", jm.user, why);
				chan_close(c);
				return;
			}
			if (ipc_conn_flush(&c->conn) < 0) {
				chan_close(c);
				return;
			}
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			chan_close(c);
			return;
		}
	}
	chan_arm(c);
}

/* ---------------------------------------------------------------- push */

/* Every folder gets a view kept open (folders.c), which watches it. */
static void watch_folders(void)
{
	struct jfolders f;

	if (notify_fd < 0)
		return;
	jmap_folders_load(&f);
	for (size_t i = 0; i < f.n; i++) {
		struct mstore_view *v = jmap_view(f.v[i].name);

		if (v)
			mstore_notify_add(v);
	}
	jmap_folders_free(&f);
}

static void push_now(struct event_loop *loop, void *ctx)
{
	struct jfolders f;
	char *state;
	json_t *o;
	char *text;

	(void)loop;
	(void)ctx;
	push_timer = NULL;
	jmap_folders_load(&f);
	state = jmap_state(&f);
	jmap_folders_free(&f);
	watch_folders(); /* a new folder is watched from now on */
	if (jm.last_state && strcmp(jm.last_state, state) == 0) {
		free(state);
		return;
	}
	free(jm.last_state);
	jm.last_state = state;
	o = json_pack("{s:s, s:{s:{s:s, s:s, s:s, s:s}}}", "@type", "StateChange", "changed",
	    jm.account, "Mailbox", state, "Email", state, "Thread", state, "EmailDelivery", state);
	text = json_dumps(o, JSON_COMPACT);
	for (struct jchan *c = chans; c; c = c->next) {
		struct jframe e = {.op = JFRAME_EVENT, .body = text, .body_len = strlen(text)};

		jframe_encode(&c->conn.out, &e);
		chan_arm(c);
	}
	free(text);
	json_decref(o);
}

static void changed(void *ctx, struct mstore_view *v)
{
	(void)ctx;
	(void)v;
}

static void notify_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	(void)fd;
	(void)events;
	(void)ctx;
	mstore_notify_read(jm.store, changed, NULL);
	if (push_timer == NULL)
		push_timer = event_timer_add(loop, PUSH_DELAY_MS, push_now, NULL);
}

/* ----------------------------------------------------------- sessions */

static void account_id(const char *user)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)user, strlen(user), md);
	jm.account[0] = 'a';
	hex_encode(md, 8, jm.account + 1);
}

/*
 * A web client needs somewhere to put drafts, sent mail, deleted and
 * junk mail: the special-use folders missing from the account are made
 * (as Dovecot's auto = create does), with their RFC 6154 roles.
 */
static void special_folders(void)
{
	static const struct {
		unsigned su;
		const char *name;
	} want[] = {{MSTORE_SU_DRAFTS, "Drafts"}, {MSTORE_SU_SENT, "Sent"},
	    {MSTORE_SU_TRASH, "Trash"}, {MSTORE_SU_JUNK, "Junk"}, {MSTORE_SU_ARCHIVE, "Archive"}};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *have = mstore_special_folder(jm.store, want[i].su);

		if (have == NULL && mstore_folder_create(jm.store, want[i].name, want[i].su) == 0)
			mstore_subscribe(jm.store, want[i].name, true);
		free(have);
	}
}

static bool store_open(const struct postlogin_info *info)
{
	struct mstore_opts o;
	struct buf err = BUF_INIT;

	if (jm.store)
		return true;
	if (*info->maildir == 0) {
		log_error("jmap(%s): the account has no Maildir", info->user);
		return false;
	}
	mstore_opts_from_config(&o);
	/* the account's quota, as local enforces it at delivery (Quota/get) */
	mstore_opts_quota_rule(&o, info->quota_rule);
	if ((jm.store = mstore_open(info->maildir, &o, &err)) == NULL) {
		log_error(
		    "jmap(%s): cannot open %s: %s", info->user, info->maildir, buf_cstr(&err));
		buf_free(&err);
		return false;
	}
	buf_free(&err);
	jm.user = xstrdup(info->user);
	jm.maildir = xstrdup(info->maildir);
	jm.home = xstrdup(info->home);
	account_id(info->user);
	special_folders();
	notify_fd = mstore_notify_fd(jm.store);
	if (notify_fd >= 0) {
		event_fd_set(jm.loop, notify_fd, EV_READ, notify_event, NULL);
		watch_folders();
	}
	return true;
}

static void session(struct event_loop *loop, int fd, const struct postlogin_info *info,
    const char *pending, size_t len, void *ctx)
{
	struct jchan *c;

	(void)ctx;
	(void)pending;
	(void)len;
	if (!store_open(info)) {
		close(fd);
		postlogin_client_done();
		return;
	}
	c = xcalloc(1, sizeof(*c));
	ipc_conn_init(&c->conn, fd);
	c->conn.max_record = JFRAME_MAX_RECORD;
	ipc_msg_init(&c->msg);
	sock_nonblock(fd, true);
	c->next = chans;
	chans = c;
	log_info("jmap(%s): channel from http (%s)", info->user, info->client_addr);
	event_fd_set(loop, fd, EV_READ, chan_event, c);
}

int main(int argc, char **argv)
{
	struct daemon d;

	daemon_init(&d, argc, argv, "jmap", DAEMON_NO_LISTEN | DAEMON_KEEP_ROOT);
	if (!postlogin_started())
		log_fatal("run by postlogin only");
	jm.loop = event_loop_new();
	jm.max_get = config_int("jmap_max_objects_in_get");
	jm.max_set = config_int("jmap_max_objects_in_set");
	jm.max_calls = config_int("jmap_max_calls_in_request");
	if (config_int("jmap_remembered_expunges") > 0)
		jmap_ids_gone_max = (size_t)config_int("jmap_remembered_expunges");
	return postlogin_run(jm.loop, session, NULL);
}
