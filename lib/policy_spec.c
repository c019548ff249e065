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
	size_t len = strlen(arg);
	char *inner, **v;
	bool ok = true;

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
	if (len < 2 || arg[len - 1] != '}') {
		*why = xasprintf("check_policy_service: unbalanced braces in \"%s\"", arg);
		out->endpoint = xstrdup("");
		return false;
	}
	inner = xmemdup(arg + 1, len - 2);
	v = strv_split_list(inner);
	free(inner);
	out->endpoint = xstrdup(v[0] ? v[0] : "");
	if (v[0] == NULL) {
		*why = xasprintf("check_policy_service: no server in \"%s\"", arg);
		ok = false;
	}
	for (size_t i = 1; ok && v[i]; i++) {
		char *w = v[i], *eq, *name, *value;
		size_t wl = strlen(w);

		/* "{ name = value with spaces }" */
		if (w[0] == '{' && wl > 1 && w[wl - 1] == '}') {
			w[wl - 1] = 0;
			w++;
		}
		eq = strchr(w, '=');
		if (eq == NULL) {
			*why = xasprintf("check_policy_service: \"%s\" is not name=value", v[i]);
			ok = false;
			break;
		}
		*eq = 0;
		name = str_trim(w);
		value = str_trim(eq + 1);
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
