/*
 * policy_service.h - check_policy_service: asks an external policy server
 * (Postfix's SMTPD access policy delegation; postgrey, policyd-spf, ...)
 * without blocking the event loop.
 *
 * A restriction calls policy_service_query() each time its command runs:
 * the first call sends the request and answers "pending" (the command
 * waits with dns_wait, as for DNS); when the server's answer arrives the
 * waiting sessions run their command again (session_dns_wake) and the
 * same request now finds its answer, which is kept for a short while.
 * One connection per server, reused for later requests (one request in
 * flight at a time, others queued); closed after
 * smtpd_policy_service_max_idle, after smtpd_policy_service_request_limit
 * requests, or on any error.  A server that cannot be reached, times out
 * (smtpd_policy_service_timeout) or answers garbage gives
 * smtpd_policy_service_default_action for every request it had.
 */
#ifndef TERN_SMTPD_POLICY_SERVICE_H
#define TERN_SMTPD_POLICY_SERVICE_H

#include "buf.h"
#include "event.h"

struct smtpd_session;

/*
 * The request of a session at protocol_state state ("RCPT", "DATA", ...)
 * for rcpt (NULL outside RCPT), every attribute Postfix sends, ended by
 * the empty line.
 */
void policy_request_build(const struct smtpd_session *s, const char *state, const char *rcpt,
    const char *context, struct buf *out);

/*
 * The action for request at endpoint ("inet:host:port", "unix:path", or
 * Postfix 3.x's "{ endpoint, timeout=..., try_limit=..., ... }": see
 * policy_spec.h): 1 with *action (a new string), or 0 when it is on its
 * way.  A failed attempt is tried again on a new connection until
 * try_limit attempts failed; then default_action.
 */
int policy_service_query(
    struct event_loop *loop, const char *endpoint, const char *request, char **action);

#endif
