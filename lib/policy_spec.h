/*
 * policy_spec.h - the argument of check_policy_service: an endpoint
 * ("inet:host:port", "unix:/path") or Postfix 3.x's per-service form
 * "{ inet:host:port, timeout=10s, default_action=DUNNO, ... }".
 *
 * smtpd uses it to talk to the server, tern check to refuse a form it
 * does not understand.  Settings not given come from main.cf's
 * smtpd_policy_service_* parameters.
 */
#ifndef TERN_POLICY_SPEC_H
#define TERN_POLICY_SPEC_H

#include <stdbool.h>

struct policy_spec {
	char *endpoint;
	long timeout, max_idle; /* seconds */
	long request_limit;	/* 0: none */
	long try_limit;		/* attempts before default_action */
	char *default_action;
	char *policy_context;
};

/* False (*why: a new string) on a malformed form or an unknown name
 * (known: timeout, max_idle, request_limit, try_limit, default_action,
 * policy_context); *out is filled either way, free it. */
bool policy_spec_parse(const char *arg, struct policy_spec *out, char **why);
void policy_spec_free(struct policy_spec *spec);

#endif
