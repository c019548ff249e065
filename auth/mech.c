/*
 * mech.c - the SASL mechanisms auth offers (auth_mechanisms).
 *
 *   PLAIN          RFC 4616: one message "authzid NUL authcid NUL password"
 *   LOGIN          draft-murchison-sasl-login: "Username:", "Password:"
 *   SCRAM-SHA-256  RFC 7677, without channel binding (auth/scram.h)
 *
 * The exchanges themselves are driven by request.c; this file knows the
 * names, which ones the configuration offers, and in what order.  An
 * unknown name in auth_mechanisms stops auth at start: a configuration
 * tern does not understand is an error, not a silent omission.
 */
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "config.h"
#include "log.h"
#include "util.h"

static const struct {
	const char *name;
	enum mech_kind kind;
} mech_known[] = {
    {"PLAIN", MECH_PLAIN},
    {"LOGIN", MECH_LOGIN},
    {"SCRAM-SHA-256", MECH_SCRAM},
};

#define MECH_NKNOWN (sizeof(mech_known) / sizeof(mech_known[0]))

static struct {
	enum mech_kind kinds[MECH_NKNOWN];
	size_t n;
} offered;

const char *mech_name(enum mech_kind kind)
{
	for (size_t i = 0; i < MECH_NKNOWN; i++)
		if (mech_known[i].kind == kind)
			return mech_known[i].name;
	return "FORM";
}

static int mech_find(const char *name)
{
	for (size_t i = 0; i < MECH_NKNOWN; i++)
		if (strcasecmp(name, mech_known[i].name) == 0)
			return (int)i;
	return -1;
}

void mech_init(void)
{
	char **list = config_list("auth_mechanisms");

	offered.n = 0;
	for (size_t i = 0; list[i]; i++) {
		int k = mech_find(list[i]);
		bool dup = false;

		if (k < 0)
			log_fatal("auth_mechanisms: unknown mechanism %s (known: PLAIN LOGIN "
				  "SCRAM-SHA-256)",
			    list[i]);
		for (size_t j = 0; j < offered.n; j++)
			dup |= offered.kinds[j] == mech_known[k].kind;
		if (!dup)
			offered.kinds[offered.n++] = mech_known[k].kind;
	}
	if (offered.n == 0)
		log_warn("auth_mechanisms is empty: no SASL login can succeed");
	strv_free(list);
}

bool mech_lookup(const char *name, enum mech_kind *kind)
{
	int k = mech_find(name);

	if (k < 0)
		return false;
	for (size_t i = 0; i < offered.n; i++)
		if (offered.kinds[i] == mech_known[k].kind) {
			*kind = mech_known[k].kind;
			return true;
		}
	return false;
}

size_t mech_list(const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < offered.n && n < max; i++)
		out[n++] = mech_name(offered.kinds[i]);
	return n;
}
