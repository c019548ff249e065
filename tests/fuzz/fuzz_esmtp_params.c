/*
 * fuzz_esmtp_params.c - libFuzzer harness for lib/smtp/esmtp.c.
 *
 * The first byte of an input chooses the extensions offered and whether
 * it is MAIL or RCPT; the rest is the parameter text after the address.
 * Whatever is accepted must keep the module's promises: the split stays
 * inside the input, a SIZE within the limit, an ENVID of printable ASCII,
 * nothing of an extension not offered, a NOTIFY that parses back to
 * itself, an ORCPT "type;address" that splits back into its atom and a
 * non-empty address without control bytes.  NOTIFY values and stored
 * ORCPTs are also fed in directly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/esmtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_split(const char *s, size_t len)
{
	struct esmtp_param p[ESMTP_PARAMS_MAX];
	const char *err = NULL;
	size_t n = 0;

	if (esmtp_params_split(s, len, p, ESMTP_PARAMS_MAX, &n, &err) < 0) {
		if (err == NULL)
			abort();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i].key < s || p[i].key + p[i].key_len > s + len || p[i].key_len == 0)
			abort();
		if (p[i].value &&
		    (p[i].value < s || p[i].value + p[i].value_len > s + len ||
			p[i].value_len == 0 || memchr(p[i].value, '=', p[i].value_len)))
			abort();
	}
}

static void check_mail(const char *s, size_t len, unsigned offered)
{
	struct esmtp_mail m;
	char *reply = esmtp_mail_parse(s, len, offered, 1000, &m);

	if (reply == NULL) {
		if (m.size > 1000 || (m.envid && strlen(m.envid) > ESMTP_ENVID_MAX))
			abort();
		for (const char *p = m.envid; p && *p; p++)
			if (*p < 32 || *p > 126)
				abort();
		if ((m.ret && !(offered & ESMTP_OFFER_DSN)) ||
		    (m.smtputf8 && !(offered & ESMTP_OFFER_SMTPUTF8)) ||
		    (m.auth && !(offered & ESMTP_OFFER_AUTH)))
			abort();
	} else if (strlen(reply) < 4 || (reply[0] != '5' && reply[0] != '4')) {
		abort();
	}
	free(reply);
	esmtp_mail_free(&m);
}

static void check_rcpt(const char *s, size_t len, unsigned offered)
{
	struct esmtp_rcpt r;
	char *reply = esmtp_rcpt_parse(s, len, offered, &r);

	if (reply == NULL && r.orcpt) {
		const char *type, *addr;
		size_t type_len;

		addr = esmtp_orcpt_split(r.orcpt, &type, &type_len);
		if (type != r.orcpt || addr != r.orcpt + type_len + 1 || *addr == 0)
			abort();
		for (; *addr; addr++)
			if ((unsigned char)*addr < 32 || *addr == 127)
				abort();
	}
	if (reply == NULL && r.notify) {
		char *again = esmtp_notify_parse(r.notify, strlen(r.notify));

		if (again == NULL || strcmp(again, r.notify) != 0)
			abort();
		free(again);
	}
	free(reply);
	esmtp_rcpt_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	char *copy, *notify;

	if (size == 0)
		return 0;
	size--;
	check_split(s, size);
	if (data[0] & 0x80)
		check_rcpt(s, size, data[0] & 0x1f);
	else
		check_mail(s, size, data[0] & 0x1f);
	notify = esmtp_notify_parse(s, size);
	if (notify && strspn(notify, "NEVRSUCFAILDY,") != strlen(notify))
		abort();
	free(notify);
	copy = strndup(s, size);
	if (copy) {
		const char *type;
		size_t type_len;
		const char *addr = esmtp_orcpt_split(copy, &type, &type_len);

		if (addr < copy || addr > copy + strlen(copy) || type_len == 0)
			abort();
		free(copy);
	}
	return 0;
}
