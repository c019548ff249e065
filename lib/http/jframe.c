/*
 * http/jframe.c - encoding and decoding of the http <-> jmap frames
 * (jframe.h).
 */
#include <stdbool.h>
#include <string.h>

#include "http/jframe.h"

static const char *const jframe_ops[] = {
    [JFRAME_REQUEST] = "request",
    [JFRAME_RESPONSE] = "response",
    [JFRAME_EVENT] = "event",
};

void jframe_encode(struct buf *out, const struct jframe *f)
{
	ipc_put_str(out, "op", jframe_ops[f->op]);
	if (f->op != JFRAME_EVENT)
		ipc_put_int(out, "id", (long long)f->id);
	if (f->op == JFRAME_REQUEST) {
		ipc_put_str(out, "method", f->method);
		ipc_put_str(out, "path", f->path);
		ipc_put_str(out, "query", f->query ? f->query : "");
	}
	if (f->op == JFRAME_RESPONSE) {
		ipc_put_int(out, "status", f->status);
		if (f->disposition && *f->disposition)
			ipc_put_str(out, "disposition", f->disposition);
	}
	if (f->op != JFRAME_EVENT)
		ipc_put_str(out, "ctype", f->ctype ? f->ctype : "");
	ipc_put(out, "body", f->body ? f->body : "", f->body ? f->body_len : 0);
	ipc_end(out);
}

/* A string attribute: present, NUL-free, short enough. */
static const char *field(const struct ipc_msg *m, const char *name, bool need, const char **why)
{
	const struct ipc_attr *a = ipc_get(m, name);

	if (a == NULL) {
		if (need)
			*why = "missing attribute";
		return need ? NULL : "";
	}
	if (a->len > JFRAME_MAX_FIELD || memchr(a->value, 0, a->len) != NULL) {
		*why = "bad attribute";
		return NULL;
	}
	return a->value;
}

int jframe_decode(const struct ipc_msg *m, struct jframe *f, const char **why)
{
	const char *op = ipc_get_str(m, "op");
	const struct ipc_attr *body;
	long long n;

	memset(f, 0, sizeof(*f));
	*why = "unknown op";
	if (op == NULL)
		return -1;
	if (strcmp(op, "request") == 0)
		f->op = JFRAME_REQUEST;
	else if (strcmp(op, "response") == 0)
		f->op = JFRAME_RESPONSE;
	else if (strcmp(op, "event") == 0)
		f->op = JFRAME_EVENT;
	else
		return -1;
	if (f->op != JFRAME_EVENT) {
		*why = "bad id";
		if (!ipc_get_int(m, "id", &n) || n < 0)
			return -1;
		f->id = (unsigned long long)n;
		if ((f->ctype = field(m, "ctype", false, why)) == NULL)
			return -1;
	}
	if (f->op == JFRAME_REQUEST) {
		if ((f->method = field(m, "method", true, why)) == NULL ||
		    (f->path = field(m, "path", true, why)) == NULL ||
		    (f->query = field(m, "query", false, why)) == NULL)
			return -1;
		if (*f->method == 0 || f->path[0] != '/') {
			*why = "bad request line";
			return -1;
		}
	}
	if (f->op == JFRAME_RESPONSE) {
		*why = "bad status";
		if (!ipc_get_int(m, "status", &n) || n < 100 || n > 599)
			return -1;
		f->status = (int)n;
		if ((f->disposition = field(m, "disposition", false, why)) == NULL)
			return -1;
	}
	body = ipc_get(m, "body");
	*why = "bad body";
	if (body == NULL || body->len > JFRAME_MAX_BODY)
		return -1;
	f->body = body->value;
	f->body_len = body->len;
	*why = NULL;
	return 0;
}
