/*
 * login/handoff.c - the hand-off records to and from ipc.h records.
 *
 * Nothing here trusts the peer: the dispatcher runs as root and reads what
 * an unprivileged (and possibly compromised) login process sends, so every
 * string is length-checked and NUL-free, every number in range; the token
 * is the only thing that says who logged in, and auth checks it.
 */
#include "login/handoff.h"

#include <limits.h>
#include <string.h>

#include "proto.h"

#define A_HO_TOKEN "token"
#define A_HO_SERVICE "service"
#define A_HO_MECH "mech"
#define A_HO_LOCAL_ADDR "local_addr"
#define A_HO_LOCAL_PORT "local_port"
#define A_HO_TLS "tls"
#define A_HO_SECURED "secured"
#define A_HO_SESSION "session"
#define A_HO_TAG "tag"
#define A_HO_UTF8 "utf8"
#define A_HO_PENDING "pending"
#define A_HO_USER "user"
#define A_HO_GID "gid"
#define A_HO_HOME "home"
#define A_HO_MAILDIR "maildir"
#define A_HO_QUOTA "quota_rule"
#define A_HO_CODE "code"

static const char *const handoff_ops[] = {
    [HANDOFF_LOGIN] = "login",
    [HANDOFF_CLIENT] = "client",
    [HANDOFF_DONE] = "done",
};

static void put_opt(struct buf *out, const char *name, const char *v)
{
	if (v != NULL)
		ipc_put_str(out, name, v);
}

void handoff_encode(struct buf *out, const struct handoff *h)
{
	const struct postlogin_info *i = &h->info;

	ipc_put_str(out, A_OP, handoff_ops[h->op]);
	if (h->op == HANDOFF_DONE) {
		ipc_end(out);
		return;
	}
	if (h->op == HANDOFF_LOGIN)
		ipc_put_str(out, A_HO_TOKEN, h->token);
	else {
		ipc_put_str(out, A_HO_USER, i->user);
		ipc_put_int(out, A_UID, i->uid);
		ipc_put_int(out, A_HO_GID, i->gid);
		ipc_put_str(out, A_HO_HOME, i->home);
		ipc_put_str(out, A_HO_MAILDIR, i->maildir);
		ipc_put_str(out, A_HO_QUOTA, i->quota_rule);
	}
	ipc_put_str(out, A_HO_SERVICE, i->service);
	ipc_put_str(out, A_HO_MECH, i->mech);
	ipc_put_str(out, A_CLIENT_ADDR, i->client_addr);
	ipc_put_int(out, A_CLIENT_PORT, i->client_port);
	ipc_put_str(out, A_HO_LOCAL_ADDR, i->local_addr);
	ipc_put_int(out, A_HO_LOCAL_PORT, i->local_port);
	ipc_put_int(out, A_HO_TLS, i->tls);
	ipc_put_int(out, A_HO_SECURED, i->secured);
	ipc_put_str(out, A_HO_SESSION, i->session);
	put_opt(out, A_HO_TAG, i->tag);
	if (i->utf8)
		ipc_put_int(out, A_HO_UTF8, 1);
	if (h->pending_len > 0)
		ipc_put(out, A_HO_PENDING, h->pending, h->pending_len);
	ipc_end(out);
}

/* A required string: present, NUL-free, not too long. */
static bool get_str(const struct ipc_msg *m, const char *name, const char **out)
{
	const char *v = ipc_get_str(m, name);

	if (v == NULL || strlen(v) > HANDOFF_MAX_FIELD)
		return false;
	*out = v;
	return true;
}

static bool get_num(
    const struct ipc_msg *m, const char *name, long long min, long long max, long long *out)
{
	return ipc_get_int(m, name, out) && *out >= min && *out <= max;
}

static bool get_flag(const struct ipc_msg *m, const char *name, bool required, bool *out)
{
	long long v = 0;

	if (ipc_get(m, name) == NULL && !required) {
		*out = false;
		return true;
	}
	if (!get_num(m, name, 0, 1, &v))
		return false;
	*out = v == 1;
	return true;
}

static int handoff_op_decode(const struct ipc_msg *m, enum handoff_op *op)
{
	const char *v = ipc_get_str(m, A_OP);

	for (size_t i = 0; v && i < sizeof(handoff_ops) / sizeof(handoff_ops[0]); i++)
		if (strcmp(v, handoff_ops[i]) == 0) {
			*op = (enum handoff_op)i;
			return 0;
		}
	return -1;
}

static int handoff_account_decode(const struct ipc_msg *m, struct handoff *h)
{
	struct postlogin_info *i = &h->info;
	long long uid, gid;

	if (!get_str(m, A_HO_USER, &i->user) || !get_num(m, A_UID, -1, INT_MAX, &uid) ||
	    !get_num(m, A_HO_GID, -1, INT_MAX, &gid) || !get_str(m, A_HO_HOME, &i->home) ||
	    !get_str(m, A_HO_MAILDIR, &i->maildir) || !get_str(m, A_HO_QUOTA, &i->quota_rule))
		return -1;
	i->uid = (long)uid;
	i->gid = (long)gid;
	return 0;
}

int handoff_decode(const struct ipc_msg *m, struct handoff *h, const char **why)
{
	struct postlogin_info *i = &h->info;
	const struct ipc_attr *pend;
	long long cport, lport;

	memset(h, 0, sizeof(*h));
	i->user = i->home = i->maildir = i->quota_rule = "";
	i->uid = i->gid = -1;
	*why = "bad or missing op";
	if (handoff_op_decode(m, &h->op) < 0)
		return -1;
	if (h->op == HANDOFF_DONE)
		return 0;
	*why = h->op == HANDOFF_LOGIN ? "bad or missing token" : "bad or missing account";
	if (h->op == HANDOFF_LOGIN ? !get_str(m, A_HO_TOKEN, &h->token)
				   : handoff_account_decode(m, h) < 0)
		return -1;
	*why = "bad or missing session attribute";
	if (!get_str(m, A_HO_SERVICE, &i->service) || !get_str(m, A_HO_MECH, &i->mech) ||
	    !get_str(m, A_CLIENT_ADDR, &i->client_addr) ||
	    !get_num(m, A_CLIENT_PORT, 0, 65535, &cport) ||
	    !get_str(m, A_HO_LOCAL_ADDR, &i->local_addr) ||
	    !get_num(m, A_HO_LOCAL_PORT, 0, 65535, &lport) ||
	    !get_flag(m, A_HO_TLS, true, &i->tls) ||
	    !get_flag(m, A_HO_SECURED, true, &i->secured) ||
	    !get_str(m, A_HO_SESSION, &i->session) || !get_flag(m, A_HO_UTF8, false, &i->utf8))
		return -1;
	i->client_port = (int)cport;
	i->local_port = (int)lport;
	if (ipc_get(m, A_HO_TAG) != NULL && !get_str(m, A_HO_TAG, &i->tag))
		return -1;
	if ((pend = ipc_get(m, A_HO_PENDING)) != NULL) {
		*why = "pending data too long";
		if (pend->len > HANDOFF_MAX_PENDING)
			return -1;
		h->pending = pend->value;
		h->pending_len = pend->len;
	}
	return 0;
}

void handoff_reply_encode(struct buf *out, const struct handoff_reply *r)
{
	ipc_put_str(out, A_STATUS, r->ok ? "ok" : "fail");
	if (r->ok)
		ipc_put_int(out, A_PID, r->pid);
	else {
		ipc_put_str(out, A_HO_CODE, r->temporary ? "tempfail" : "denied");
		ipc_put_str(out, A_REASON, r->reason ? r->reason : "");
	}
	ipc_end(out);
}

int handoff_reply_decode(const struct ipc_msg *m, struct handoff_reply *r, const char **why)
{
	const char *st = ipc_get_str(m, A_STATUS), *code;
	long long pid;

	memset(r, 0, sizeof(*r));
	r->reason = "";
	*why = "bad reply";
	if (st == NULL)
		return -1;
	if (strcmp(st, "ok") == 0) {
		if (!get_num(m, A_PID, 1, INT_MAX, &pid))
			return -1;
		r->ok = true;
		r->pid = (long)pid;
		return 0;
	}
	if (strcmp(st, "fail") != 0 || (code = ipc_get_str(m, A_HO_CODE)) == NULL ||
	    !get_str(m, A_REASON, &r->reason))
		return -1;
	r->temporary = strcmp(code, "tempfail") == 0;
	return 0;
}
