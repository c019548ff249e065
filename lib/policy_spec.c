/*
 * policy_spec.c - check_policy_service's argument (policy_spec.h).
 */
#include "policy_spec.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

static bool spec_number(const char *v, long *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == 0 || *end != 0 || n < 0)
		return false;
	*out = n;
	return true;
}

/* One "name=value" of the braces form. */
static bool spec_setting(struct policy_spec *p, const char *name, const char *value, char **why)
{
	bool ok = true;

	if (strcmp(name, "timeout") == 0)
		ok = config_parse_time(value, 's', &p->timeout);
	else if (strcmp(name, "max_idle") == 0)
		ok = config_parse_time(value, 's', &p->max_idle);
	else if (strcmp(name, "request_limit") == 0)
		ok = spec_number(value, &p->request_limit);
	else if (strcmp(name, "try_limit") == 0)
		ok = spec_number(value, &p->try_limit) && p->try_limit > 0;
	else if (strcmp(name, "default_action") == 0) {
		free(p->default_action);
		p->default_action = xstrdup(value);
	} else if (strcmp(name, "policy_context") == 0) {
		free(p->policy_context);
		p->policy_context = xstrdup(value);
	} else {
		*why = xasprintf("check_policy_service: unknown setting \"%s\"", name);
		return false;
	}
	if (!ok)
		*why = xasprintf("check_policy_service: bad value \"%s\" for %s", value, name);
	return ok;
}

bool policy_spec_parse(const char *arg, struct policy_spec *out, char **why)
{
	char *inner, **v;
	bool ok = true, unbalanced;

	*out = (struct policy_spec){
	    .timeout = config_time("smtpd_policy_service_timeout"),
	    .max_idle = config_time("smtpd_policy_service_max_idle"),
	    .request_limit = config_int("smtpd_policy_service_request_limit"),
	    .try_limit = config_int("smtpd_policy_service_try_limit"),
	    .default_action = xstrdup(config_str("smtpd_policy_service_default_action")),
	    .policy_context = xstrdup(config_str("smtpd_policy_service_policy_context")),
	};
	if (out->try_limit < 1)
		out->try_limit = 1;
	if (arg[0] != '{') {
		out->endpoint = xstrdup(arg);
		return true;
	}
	inner = str_unbrace(arg, &unbalanced);
	if (inner == NULL) {
		*why = xasprintf("check_policy_service: unbalanced braces in \"%s\"", arg);
		out->endpoint = xstrdup("");
		return false;
	}
	v = strv_split_list(inner);
	free(inner);
	out->endpoint = xstrdup(v[0] ? v[0] : "");
	if (v[0] == NULL) {
		*why = xasprintf("check_policy_service: no server in \"%s\"", arg);
		ok = false;
	}
	for (size_t i = 1; ok && v[i]; i++) {
		char *name, *value;

		if (!str_nameval(v[i], &name, &value)) {
			*why = xasprintf("check_policy_service: \"%s\" is not name=value", v[i]);
			ok = false;
			break;
		}
		ok = spec_setting(out, name, value, why);
	}
	strv_free(v);
	return ok;
}

void policy_spec_free(struct policy_spec *spec)
{
	free(spec->endpoint);
	free(spec->default_action);
	free(spec->policy_context);
	spec->endpoint = spec->default_action = spec->policy_context = NULL;
}
