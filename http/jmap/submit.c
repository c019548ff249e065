/*
 * submit.c - Identity/get, EmailSubmission/set (RFC 8621 sections 6, 7)
 * (VacationResponse is vacation.c).
 *
 * The account has one identity, its own address (the login name when it
 * is an address, else login@myhostname).  A submission sends an Email
 * of the account through the ordinary local submission path: the
 * message (without its Bcc header) goes to sendmail(1) (command_directory,
 * -C the configuration), which hands it to postdrop, pickup and cleanup,
 * like any local mail.  Its From must be the identity's address, as must
 * the envelope's MAIL FROM when the client gives an envelope; the
 * recipients are the envelope's, else To, Cc and Bcc.  The submission is
 * done (undoStatus "final") when sendmail has queued the message;
 * onSuccessUpdateEmail and onSuccessDestroyEmail then apply as an
 * Email/set would.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "jmap_int.h"
#include "log.h"
#include "mime/header.h"
#include "mstore/msg_mime.h"
#include "util.h"

extern char **environ;

json_t *jmap_email_update(struct jcall *c, const char *id, json_t *patch);
json_t *jmap_email_destroy(struct jcall *c, const char *id);

static char *identity_email(void)
{
	if (strchr(jm.user, '@'))
		return xstrdup(jm.user);
	return xasprintf("%s@%s", jm.user, config_str("myhostname"));
}

void jmap_identity_get(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ids", JA_IDS_OR_NULL, false}, {"properties", JA_ARRAY_OR_NULL, false}, {NULL, 0, 0}};
	json_t *ids, *list, *nf, *id;
	char *email;
	size_t i;

	if (!jmap_args(c, spec))
		return;
	email = identity_email();
	ids = json_object_get(c->args, "ids");
	list = json_array();
	nf = json_array();
	{
		bool found = ids == NULL || json_is_null(ids);

		json_array_foreach(json_is_array(ids) ? ids : NULL, i, id)
		{
			if (json_is_string(id) && strcmp(json_string_value(id), "i0") == 0)
				found = true;
			else
				json_array_append(nf, id);
		}
		if (found)
			json_array_append_new(
			    list, json_pack("{s:s, s:s, s:s, s:n, s:n, s:s, s:s, s:b}", "id", "i0",
				      "name", "", "email", email, "replyTo", "bcc", "textSignature",
				      "", "htmlSignature", "", "mayDelete", 0));
	}
	jmap_reply(c, "Identity/get",
	    json_pack("{s:s, s:s, s:o, s:o}", "accountId", jm.account, "state", "0", "list", list,
		"notFound", nf));
	free(email);
}

static void add_rcpts(json_t *rcpts, const struct mime_addr *a)
{
	for (; a; a = a->next)
		if (a->mailbox && a->host)
			json_array_append_new(rcpts, json_sprintf("%s@%s", a->mailbox, a->host));
}

/* The message without its Bcc field(s). */
static void strip_bcc(const char *msg, size_t len, struct buf *out)
{
	size_t i = 0;
	bool skipping = false;

	while (i < len) {
		const char *nl = memchr(msg + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (msg + i)) + 1 : len - i;

		if (n == 1 || (n == 2 && msg[i] == '\r')) { /* the end of the header */
			buf_append(out, msg + i, len - i);
			return;
		}
		if (msg[i] == ' ' || msg[i] == '\t') {
			if (!skipping)
				buf_append(out, msg + i, n);
		} else {
			skipping = n >= 4 && strncasecmp(msg + i, "bcc:", 4) == 0;
			if (!skipping)
				buf_append(out, msg + i, n);
		}
		i += n;
	}
}

/* Runs sendmail; 0 when it queued the message. */
static int send_message(const char *sender, json_t *rcpts, const char *msg, size_t len)
{
	char *path = xasprintf("%s/sendmail", config_str("command_directory"));
	size_t n = json_array_size(rcpts), k = 0, off = 0;
	char **argv = xcalloc(n + 10, sizeof(char *));
	posix_spawn_file_actions_t fa;
	int p[2], status = -1, r;
	pid_t pid;
	json_t *v;
	size_t i;

	argv[k++] = path;
	argv[k++] = "-C";
	argv[k++] = (char *)config_dir();
	argv[k++] = "-i";
	argv[k++] = "-f";
	argv[k++] = (char *)sender;
	argv[k++] = "--";
	json_array_foreach(rcpts, i, v) argv[k++] = (char *)json_string_value(v);
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(argv);
		free(path);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	r = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (r == 0) {
		signal(SIGPIPE, SIG_IGN);
		while (off < len) {
			ssize_t w = write(p[1], msg + off, len - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	close(p[1]);
	if (r == 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	else
		log_warn("jmap(%s): cannot run %s: %s", jm.user, path, strerror(r));
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		log_warn("jmap(%s): %s failed (status %d)", jm.user, path,
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	free(argv);
	free(path);
	return r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* One creation; the created object, or NULL with *err. */
static json_t *submit_one(struct jcall *c, json_t *sub, json_t **err)
{
	const char *eid = json_string_value(json_object_get(sub, "emailId"));
	const char *iid = json_string_value(json_object_get(sub, "identityId"));
	json_t *env = json_object_get(sub, "envelope"), *rcpts, *res = NULL;
	struct buf raw = BUF_INIT, type = BUF_INIT, out = BUF_INIT;
	char *email = identity_email(), blob[40];
	struct mime_part *root = NULL;
	struct jmsg j;
	const char *from;

	if (eid == NULL || iid == NULL) {
		*err = jmap_set_error("invalidProperties", "emailId and identityId are required");
		goto done;
	}
	if (strcmp(iid, "i0") != 0) {
		*err = jmap_set_error("invalidProperties", "no such identity");
		goto done;
	}
	if (!jmap_locate(c, jmap_created_id(c, eid), &j)) {
		*err = jmap_set_error("invalidProperties", "no such email");
		goto done;
	}
	snprintf(blob, sizeof(blob), "M%.24s", j.id + 1);
	root = mstore_msg_mime(j.v, j.uid);
	if (root == NULL || root->envelope == NULL || !jmap_blob_read(blob, &raw, &type)) {
		*err = jmap_set_error("serverFail", "cannot read the email");
		goto done;
	}
	/* the identity is enforced: From is the account's address, alone */
	{
		const struct mime_addr *f = root->envelope->from;
		char *addr =
		    f && f->mailbox && f->host ? xasprintf("%s@%s", f->mailbox, f->host) : NULL;
		bool ok = addr && f->next == NULL && strcasecmp(addr, email) == 0;

		free(addr);
		if (!ok) {
			*err =
			    jmap_set_error("forbiddenFrom", "From must be the identity's address");
			goto done;
		}
	}
	from = email;
	if (json_is_object(env)) {
		const char *mf =
		    json_string_value(json_object_get(json_object_get(env, "mailFrom"), "email"));
		json_t *rt = json_object_get(env, "rcptTo"), *r;
		size_t i;

		if (mf == NULL || strcasecmp(mf, email) != 0) {
			*err = jmap_set_error(
			    "forbiddenMailFrom", "MAIL FROM must be the identity's address");
			goto done;
		}
		rcpts = json_array();
		json_array_foreach(rt, i, r)
		{
			const char *a = json_string_value(json_object_get(r, "email"));

			if (a && *a && *a != '-' && !strpbrk(a, " \r\n"))
				json_array_append_new(rcpts, json_string(a));
		}
	} else {
		rcpts = json_array();
		add_rcpts(rcpts, root->envelope->to);
		add_rcpts(rcpts, root->envelope->cc);
		add_rcpts(rcpts, root->envelope->bcc);
		for (size_t i = 0; i < json_array_size(rcpts); i++)
			if (json_string_value(json_array_get(rcpts, i))[0] == '-')
				json_array_remove(rcpts, i--);
	}
	if (json_array_size(rcpts) == 0) {
		json_decref(rcpts);
		*err = jmap_set_error("noRecipients", "no recipients");
		goto done;
	}
	strip_bcc(raw.data, raw.len, &out);
	if (send_message(from, rcpts, out.data, out.len) < 0) {
		json_decref(rcpts);
		*err = jmap_set_error("serverFail", "the message could not be queued");
		goto done;
	}
	log_info(
	    "jmap(%s): submitted %s to %zu recipient(s)", jm.user, j.id, json_array_size(rcpts));
	json_decref(rcpts);
	res = json_pack("{s:s, s:s, s:s, s:s}", "id", j.id, "emailId", j.id, "threadId", "",
	    "undoStatus", "final");
	json_object_set_new(res, "sendAt", jmap_utc_date(time(NULL)));
done:
	mime_part_free(root);
	buf_free(&raw);
	buf_free(&type);
	buf_free(&out);
	free(email);
	return res;
}

void jmap_submission_set(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ifInState", JA_STRING_OR_NULL, false}, {"create", JA_OBJECT_OR_NULL, false},
	    {"update", JA_OBJECT_OR_NULL, false}, {"destroy", JA_IDS_OR_NULL, false},
	    {"onSuccessUpdateEmail", JA_OBJECT_OR_NULL, false},
	    {"onSuccessDestroyEmail", JA_ARRAY_OR_NULL, false}, {NULL, 0, 0}};
	json_t *create, *created, *nc, *nu, *nd, *v, *onupd, *ondel, *emails_upd, *emails_del;
	json_t *upd_ok, *upd_bad, *del_ok, *del_bad;
	const char *key;
	size_t i;

	if (!jmap_args(c, spec) || !jmap_set_limit(c, jmap_set_objects(c->args)))
		return;
	create = json_object_get(c->args, "create");
	created = json_object();
	nc = json_object();
	nu = json_object();
	nd = json_object();
	json_object_foreach(json_object_get(c->args, "update"), key, v)
	    json_object_set_new(nu, key, jmap_set_error("cannotUnsend", "submissions are final"));
	json_array_foreach(json_object_get(c->args, "destroy"), i, v) json_object_set_new(
	    nd, json_string_value(v), jmap_set_error("notFound", "submissions are not kept"));
	json_object_foreach(json_is_object(create) ? create : NULL, key, v)
	{
		json_t *err = NULL,
		       *res =
			   json_is_object(v)
			       ? submit_one(c, v, &err)
			       : (err = jmap_set_error("invalidProperties", "not an object"), NULL);

		if (res) {
			json_object_set_new(c->created, key,
			    json_string(json_string_value(json_object_get(res, "id"))));
			json_object_set_new(created, key, res);
		} else {
			json_object_set_new(nc, key, err);
		}
	}
	jmap_reply_set(c, "EmailSubmission/set", "0", "0", created, NULL, NULL, nc, nu, nd);
	/* the implicit Email/set (RFC 8621 section 7.5) */
	onupd = json_object_get(c->args, "onSuccessUpdateEmail");
	ondel = json_object_get(c->args, "onSuccessDestroyEmail");
	if (json_object_size(onupd) == 0 && json_array_size(ondel) == 0)
		return;
	emails_upd = json_object();
	emails_del = json_array();
	upd_ok = json_object();
	upd_bad = json_object();
	del_ok = json_array();
	del_bad = json_object();
	json_object_foreach(onupd, key, v)
	{
		json_t *sub, *err;
		const char *eid;

		if (key[0] != '#' || (sub = json_object_get(created, key + 1)) == NULL)
			continue;
		eid = json_string_value(json_object_get(sub, "emailId"));
		if ((err = jmap_email_update(c, eid, v)) != NULL)
			json_object_set_new(upd_bad, eid, err);
		else
			json_object_set_new(upd_ok, eid, json_null());
	}
	json_array_foreach(ondel, i, v)
	{
		const char *k = json_string_value(v);
		json_t *sub, *err;
		const char *eid;

		if (k == NULL || k[0] != '#' || (sub = json_object_get(created, k + 1)) == NULL)
			continue;
		eid = json_string_value(json_object_get(sub, "emailId"));
		if ((err = jmap_email_destroy(c, eid)) != NULL)
			json_object_set_new(del_bad, eid, err);
		else
			json_array_append_new(del_ok, json_string(eid));
	}
	json_decref(emails_upd);
	json_decref(emails_del);
	jmap_folders_free(c->folders);
	jmap_folders_load(c->folders);
	jmap_reply_set(c, "Email/set", NULL, NULL, NULL, upd_ok, del_ok, NULL, upd_bad, del_bad);
}
