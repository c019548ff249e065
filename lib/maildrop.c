/*
 * maildrop.c - checks the records of a local submission (maildrop.h).
 *
 * Both sides of the trust boundary use the same rules: postdrop refuses a
 * stream that pickup would refuse, so a file that pickup moves to corrupt/
 * can only come from someone bypassing postdrop.  Only syntax is checked
 * here; what the values mean (addresses, the uid) is for pickup and
 * cleanup.
 */
#include "maildrop.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto.h"
#include "smtp/esmtp.h"

/* Printable text (8-bit allowed for SMTPUTF8), no control characters. */
static bool md_text_ok(const struct ipc_attr *a, size_t max)
{
	if (a->len > max)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		unsigned char ch = (unsigned char)a->value[i];

		if (ch < 32 || ch == 127)
			return false;
	}
	return true;
}

static bool md_digits_ok(const struct ipc_attr *a)
{
	if (a->len == 0 || a->len > 20)
		return false;
	for (size_t i = 0; i < a->len; i++)
		if (a->value[i] < '0' || a->value[i] > '9')
			return false;
	return true;
}

/* RFC 3461 NOTIFY, as smtpd and sendmail check it (smtp/esmtp.h). */
static bool md_notify_ok(const struct ipc_attr *a)
{
	char *notify;

	if (a->len > 64 || !md_text_ok(a, 64))
		return false;
	notify = esmtp_notify_parse(a->value, a->len);
	free(notify);
	return notify != NULL;
}

/* One begin attribute; *seen counts the single-valued ones by bit. */
static const char *md_begin_attr(
    const struct md_check *c, const struct ipc_attr *a, unsigned *seen, size_t *nrcpt)
{
	static const char *const once[] = {
	    A_OP, A_SENDER, A_FULLNAME, A_RET, A_ENVID, A_REWRITE, A_UID, A_TIME};
	size_t i;

	if (strcmp(a->name, A_RCPT) == 0) {
		if (++*nrcpt > MD_MAX_RCPT)
			return "too many recipients";
		return a->len > 0 && md_text_ok(a, MD_MAX_ADDR) ? NULL : "bad recipient";
	}
	if (strcmp(a->name, A_ORCPT) == 0 || strcmp(a->name, A_NOTIFY) == 0) {
		if (*nrcpt == 0)
			return "orcpt/notify before any recipient";
		if (a->name[0] == 'n')
			return md_notify_ok(a) ? NULL : "bad notify";
		return md_text_ok(a, MD_MAX_ADDR) ? NULL : "bad orcpt";
	}
	for (i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (strcmp(a->name, once[i]) == 0)
			break;
	if (i == sizeof(once) / sizeof(once[0]))
		return "unknown attribute";
	if (*seen & (1u << i))
		return "repeated attribute";
	*seen |= 1u << i;
	if ((strcmp(a->name, A_UID) == 0 || strcmp(a->name, A_TIME) == 0) &&
	    (c->origin == MD_FROM_CLIENT || !md_digits_ok(a)))
		return "bad uid/time";
	if (strcmp(a->name, A_RET) == 0)
		return (a->len == 4 && (strncasecmp(a->value, "FULL", 4) == 0 ||
					   strncasecmp(a->value, "HDRS", 4) == 0))
			   ? NULL
			   : "bad ret";
	if (strcmp(a->name, A_REWRITE) == 0)
		return a->len == 3 && memcmp(a->value, "yes", 3) == 0 ? NULL : "bad rewrite";
	if (strcmp(a->name, A_ENVID) == 0)
		return a->len > 0 && md_text_ok(a, MD_MAX_ENVID) ? NULL : "bad envid";
	if (strcmp(a->name, A_FULLNAME) == 0)
		return md_text_ok(a, MD_MAX_FULLNAME) ? NULL : "bad fullname";
	if (strcmp(a->name, A_SENDER) == 0)
		return md_text_ok(a, MD_MAX_ADDR) ? NULL : "bad sender";
	return NULL; /* op: checked by the caller */
}

static const char *md_check_begin(const struct md_check *c, const struct ipc_msg *m)
{
	unsigned seen = 0;
	size_t nrcpt = 0;

	for (size_t i = 0; i < m->count; i++) {
		const char *err = md_begin_attr(c, &m->attrs[i], &seen, &nrcpt);

		if (err)
			return err;
	}
	if (ipc_get(m, A_SENDER) == NULL)
		return "no sender";
	if (nrcpt == 0)
		return "no recipients";
	if (c->origin == MD_FROM_FILE && (ipc_get(m, A_UID) == NULL || ipc_get(m, A_TIME) == NULL))
		return "no uid/time";
	return NULL;
}

void md_check_init(struct md_check *c, enum md_origin origin)
{
	memset(c, 0, sizeof(*c));
	c->origin = origin;
}

const char *md_check(struct md_check *c, const struct ipc_msg *m)
{
	const struct ipc_attr *op = m->count > 0 ? &m->attrs[0] : NULL;
	const char *err;

	if (op == NULL || strcmp(op->name, A_OP) != 0)
		return "record without op first";
	if (c->state == MD_DONE)
		return "data after the end record";
	if (c->state == MD_WANT_BEGIN) {
		if (strcmp(op->value, OP_BEGIN) != 0 || op->len != strlen(OP_BEGIN))
			return "expected op=begin";
		if ((err = md_check_begin(c, m)) != NULL)
			return err;
		c->state = MD_WANT_DATA;
		return NULL;
	}
	if (strcmp(op->value, OP_END) == 0 && op->len == strlen(OP_END)) {
		if (m->count != 1)
			return "extra attributes in op=end";
		c->state = MD_DONE;
		return NULL;
	}
	if (strcmp(op->value, OP_DATA) != 0 || op->len != strlen(OP_DATA))
		return "expected op=data or op=end";
	if (m->count != 2 || strcmp(m->attrs[1].name, A_DATA) != 0)
		return "malformed op=data";
	if (m->attrs[1].len > CLEANUP_DATA_CHUNK)
		return "data record too large";
	c->size += (long long)m->attrs[1].len;
	return NULL;
}

bool md_complete(const struct md_check *c)
{
	return c->state == MD_DONE;
}
