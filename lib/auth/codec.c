/*
 * auth/codec.c - auth requests and replies to and from ipc.h records.
 *
 * The decoders never trust the peer: every string is checked for NULs
 * and length, every number for range, and each op or status must carry
 * the attributes codec.h lists for it.  Both directions are decoded by
 * both sides' peers, so an unexpected attribute is ignored, not an error
 * (a newer peer may add some).
 */
#include "auth/codec.h"

#include <string.h>

#include "proto.h"

static const char *const op_names[] = {
    [AUTH_OP_MECHS] = "mechs",
    [AUTH_OP_AUTH] = "auth",
    [AUTH_OP_CONT] = "cont",
    [AUTH_OP_CANCEL] = "cancel",
    [AUTH_OP_VERIFY] = "verify",
    [AUTH_OP_LOOKUP] = "lookup",
    [AUTH_OP_REDEEM] = "redeem",
};

static const char *const status_names[] = {
    [AUTH_CONTINUE] = "continue",
    [AUTH_OK] = "ok",
    [AUTH_FAIL] = "fail",
};

static const char *const code_names[] = {
    [AUTH_CODE_NONE] = "none",
    [AUTH_CODE_CREDENTIALS] = "credentials",
    [AUTH_CODE_MALFORMED] = "malformed",
    [AUTH_CODE_MECHANISM] = "mechanism",
    [AUTH_CODE_DISABLED] = "disabled",
    [AUTH_CODE_REFUSED] = "refused",
    [AUTH_CODE_TEMPFAIL] = "tempfail",
    [AUTH_CODE_NOUSER] = "nouser",
    [AUTH_CODE_DENIED] = "denied",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *auth_op_name(enum auth_op op)
{
	return (size_t)op < NELEM(op_names) ? op_names[op] : "?";
}

const char *auth_code_name(enum auth_code code)
{
	return (size_t)code < NELEM(code_names) ? code_names[code] : "?";
}

bool auth_code_temporary(enum auth_code code)
{
	return code == AUTH_CODE_REFUSED || code == AUTH_CODE_TEMPFAIL;
}

/* Index of name in names[0..n), or -1. */
static int name_index(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

/* ------------------------------------------------------------ encoding */

static void put_opt(struct buf *out, const char *name, const char *value)
{
	if (value)
		ipc_put_str(out, name, value);
}

static void put_port(struct buf *out, const char *name, int port)
{
	if (port > 0)
		ipc_put_int(out, name, port);
}

void auth_request_encode(struct buf *out, const struct auth_request *r)
{
	ipc_put_str(out, A_OP, auth_op_name(r->op));
	ipc_put_int(out, A_AUTH_ID, (long long)r->id);
	put_opt(out, A_AUTH_SERVICE, r->service);
	put_opt(out, A_AUTH_MECH, r->mech);
	put_opt(out, A_AUTH_RESP, r->resp);
	put_opt(out, A_AUTH_USER, r->user);
	put_opt(out, A_AUTH_SECRET, r->secret);
	put_opt(out, A_AUTH_TOKEN, r->token);
	put_opt(out, A_CLIENT_ADDR, r->client_addr);
	put_port(out, A_CLIENT_PORT, r->client_port);
	put_opt(out, A_AUTH_LOCAL_ADDR, r->local_addr);
	put_port(out, A_AUTH_LOCAL_PORT, r->local_port);
	if (r->tls)
		ipc_put_str(out, A_AUTH_TLS, "yes");
	put_opt(out, A_AUTH_SESSION, r->session);
	ipc_end(out);
}

static void account_encode(struct buf *out, const struct auth_account *a)
{
	ipc_put_int(out, A_UID, a->uid);
	ipc_put_int(out, A_AUTH_GID, a->gid);
	ipc_put_str(out, A_AUTH_HOME, a->home ? a->home : "");
	ipc_put_str(out, A_AUTH_MAILDIR, a->maildir ? a->maildir : "");
	put_opt(out, A_AUTH_QUOTA_RULE, a->quota_rule);
	for (size_t i = 0; i < a->nextra && i < AUTH_MAX_EXTRA; i++)
		ipc_put_str(out, A_AUTH_EXTRA, a->extra[i]);
}

void auth_reply_encode(struct buf *out, const struct auth_reply *r)
{
	ipc_put_int(out, A_AUTH_ID, (long long)r->id);
	ipc_put_str(out, A_STATUS, status_names[r->status]);
	switch (r->status) {
	case AUTH_CONTINUE:
		ipc_put_str(out, A_AUTH_CHALLENGE, r->challenge ? r->challenge : "");
		break;
	case AUTH_FAIL:
		ipc_put_str(out, A_AUTH_CODE, auth_code_name(r->code));
		put_opt(out, A_REASON, r->reason);
		break;
	case AUTH_OK:
		put_opt(out, A_AUTH_USER, r->user);
		put_opt(out, A_AUTH_TOKEN, r->token);
		if (r->has_account)
			account_encode(out, &r->account);
		for (size_t i = 0; i < r->nmechs && i < AUTH_MAX_MECHS; i++)
			ipc_put_str(out, A_AUTH_MECH, r->mechs[i]);
		break;
	}
	ipc_end(out);
}

/* ------------------------------------------------------------ decoding */

/*
 * A string attribute: 1 present and fine, 0 absent, -1 malformed (a NUL
 * inside, or longer than max).
 */
static int get_str(const struct ipc_msg *m, const char *name, size_t max, const char **out)
{
	const struct ipc_attr *a = ipc_get(m, name);

	*out = NULL;
	if (a == NULL)
		return 0;
	if (a->len > max || memchr(a->value, 0, a->len) != NULL)
		return -1;
	*out = a->value;
	return 1;
}

/* A number in [min, max]: 1 present, 0 absent, -1 malformed. */
static int get_num(
    const struct ipc_msg *m, const char *name, long long min, long long max, long long *out)
{
	if (ipc_get(m, name) == NULL)
		return 0;
	if (!ipc_get_int(m, name, out) || *out < min || *out > max)
		return -1;
	return 1;
}

static int get_port(const struct ipc_msg *m, const char *name, int *port)
{
	long long v = 0;
	int r = get_num(m, name, 0, 65535, &v);

	*port = (int)v;
	return r;
}

static int get_id(const struct ipc_msg *m, unsigned long *id)
{
	long long v = 0;
	int r = get_num(m, A_AUTH_ID, 0, (long long)AUTH_MAX_ID, &v);

	*id = (unsigned long)v;
	return r;
}

/* The attributes each op needs, beyond op and id. */
static const char *request_check(const struct auth_request *r)
{
	switch (r->op) {
	case AUTH_OP_MECHS: return r->service ? NULL : "mechs without service";
	case AUTH_OP_AUTH: return r->service && r->mech ? NULL : "auth without service or mech";
	case AUTH_OP_CONT: return r->resp ? NULL : "cont without resp";
	case AUTH_OP_CANCEL: return NULL;
	case AUTH_OP_VERIFY:
		return r->service && r->user && r->secret
			   ? NULL
			   : "verify without service, user or secret";
	case AUTH_OP_LOOKUP: return r->user ? NULL : "lookup without user";
	case AUTH_OP_REDEEM:
		return r->token && r->service ? NULL : "redeem without token or service";
	}
	return "unknown op";
}

int auth_request_decode(const struct ipc_msg *m, struct auth_request *r, const char **why)
{
	const char *op = NULL, *tls = NULL;
	int idx, bad = 0;

	memset(r, 0, sizeof(*r));
	*why = NULL;
	if (get_str(m, A_OP, 32, &op) <= 0 ||
	    (idx = name_index(op_names, NELEM(op_names), op)) < 0) {
		*why = "missing or unknown op";
		return -1;
	}
	r->op = (enum auth_op)idx;
	if (get_id(m, &r->id) <= 0) {
		*why = "missing or bad id";
		return -1;
	}
	bad |= get_str(m, A_AUTH_SERVICE, 32, &r->service) < 0;
	bad |= get_str(m, A_AUTH_MECH, 64, &r->mech) < 0;
	bad |= get_str(m, A_AUTH_RESP, AUTH_MAX_RESP, &r->resp) < 0;
	bad |= get_str(m, A_AUTH_USER, AUTH_MAX_FIELD, &r->user) < 0;
	bad |= get_str(m, A_AUTH_SECRET, AUTH_MAX_FIELD, &r->secret) < 0;
	bad |= get_str(m, A_AUTH_TOKEN, 128, &r->token) < 0;
	bad |= get_str(m, A_CLIENT_ADDR, 64, &r->client_addr) < 0;
	bad |= get_port(m, A_CLIENT_PORT, &r->client_port) < 0;
	bad |= get_str(m, A_AUTH_LOCAL_ADDR, 64, &r->local_addr) < 0;
	bad |= get_port(m, A_AUTH_LOCAL_PORT, &r->local_port) < 0;
	bad |= get_str(m, A_AUTH_TLS, 8, &tls) < 0;
	bad |= get_str(m, A_AUTH_SESSION, 128, &r->session) < 0;
	if (bad) {
		*why = "malformed or oversized attribute";
		return -1;
	}
	r->tls = tls && strcmp(tls, "yes") == 0;
	*why = request_check(r);
	return *why ? -1 : 0;
}

static int account_decode(const struct ipc_msg *m, struct auth_account *a)
{
	long long uid = -1, gid = -1;
	int bad = 0;

	bad |= get_num(m, A_UID, -1, 0xffffffffLL, &uid) <= 0;
	bad |= get_num(m, A_AUTH_GID, -1, 0xffffffffLL, &gid) <= 0;
	bad |= get_str(m, A_AUTH_HOME, AUTH_MAX_FIELD, &a->home) <= 0;
	bad |= get_str(m, A_AUTH_MAILDIR, AUTH_MAX_FIELD, &a->maildir) <= 0;
	bad |= get_str(m, A_AUTH_QUOTA_RULE, AUTH_MAX_FIELD, &a->quota_rule) < 0;
	a->uid = (long)uid;
	a->gid = (long)gid;
	for (size_t i = 0; i < m->count && !bad; i++) {
		const struct ipc_attr *x = &m->attrs[i];

		if (strcmp(x->name, A_AUTH_EXTRA) != 0)
			continue;
		if (a->nextra == AUTH_MAX_EXTRA || x->len > AUTH_MAX_FIELD ||
		    memchr(x->value, 0, x->len) || strchr(x->value, '=') == NULL)
			return -1;
		a->extra[a->nextra++] = x->value;
	}
	return bad ? -1 : 0;
}

static int mechs_decode(const struct ipc_msg *m, struct auth_reply *r)
{
	for (size_t i = 0; i < m->count; i++) {
		const struct ipc_attr *x = &m->attrs[i];

		if (strcmp(x->name, A_AUTH_MECH) != 0)
			continue;
		if (r->nmechs == AUTH_MAX_MECHS || x->len == 0 || x->len > 64 ||
		    memchr(x->value, 0, x->len))
			return -1;
		r->mechs[r->nmechs++] = x->value;
	}
	return 0;
}

static int reply_ok_decode(const struct ipc_msg *m, struct auth_reply *r)
{
	if (get_str(m, A_AUTH_USER, AUTH_MAX_FIELD, &r->user) < 0 ||
	    get_str(m, A_AUTH_TOKEN, 128, &r->token) < 0 || mechs_decode(m, r) < 0)
		return -1;
	if (ipc_get(m, A_UID) != NULL) {
		if (r->user == NULL || account_decode(m, &r->account) < 0)
			return -1;
		r->has_account = true;
		r->account.user = r->user;
	}
	return 0;
}

int auth_reply_decode(const struct ipc_msg *m, struct auth_reply *r, const char **why)
{
	const char *status = NULL, *code = NULL;
	int idx;

	memset(r, 0, sizeof(*r));
	*why = NULL;
	if (get_id(m, &r->id) <= 0) {
		*why = "missing or bad id";
		return -1;
	}
	if (get_str(m, A_STATUS, 16, &status) <= 0 ||
	    (idx = name_index(status_names, NELEM(status_names), status)) < 0) {
		*why = "missing or unknown status";
		return -1;
	}
	r->status = (enum auth_status)idx;
	switch (r->status) {
	case AUTH_CONTINUE:
		if (get_str(m, A_AUTH_CHALLENGE, AUTH_MAX_RESP, &r->challenge) <= 0)
			*why = "continue without a challenge";
		break;
	case AUTH_FAIL:
		if (get_str(m, A_AUTH_CODE, 32, &code) <= 0 ||
		    (idx = name_index(code_names, NELEM(code_names), code)) <= 0)
			*why = "fail without a known code";
		else if (get_str(m, A_REASON, AUTH_MAX_FIELD, &r->reason) < 0)
			*why = "malformed reason";
		else
			r->code = (enum auth_code)idx;
		break;
	case AUTH_OK:
		if (reply_ok_decode(m, r) < 0)
			*why = "malformed ok reply";
		break;
	}
	return *why ? -1 : 0;
}
