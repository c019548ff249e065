/*
 * auth/client.h - talking to the auth daemon: an asynchronous client for
 * event-driven daemons (smtpd, the login processes, http) and a small
 * blocking one for commands and one-request-at-a-time programs.
 *
 * Asynchronous (lib/event.h):
 *
 *     c = auth_client_new(loop, AUTH_SOCKET_TRUSTED, "smtp", timeout_ms);
 *     call = auth_client_call(c, &req, on_reply, session);
 *         ...on_reply(call, reply, session):
 *             AUTH_CONTINUE: relay reply->challenge to the client, and
 *                            later auth_call_continue(call, response)
 *             AUTH_OK / AUTH_FAIL: the call is over (freed after on_reply)
 *     auth_call_abort(call);   the client left: no further callback
 *
 * One connection per process carries every call (each gets its own id).
 * Callbacks always run from the event loop, never from inside
 * auth_client_call() or auth_call_continue(), so a caller may start a
 * call while it holds state it is about to change.  Each step of a call
 * waits at most timeout_ms (the daemon may hold a failure's reply for
 * auth_failure_delay_max: make it longer than that); a time-out or a
 * connection that breaks under a call end it with AUTH_FAIL /
 * AUTH_CODE_TEMPFAIL.  A call made while the daemon cannot be reached
 * waits for it (the client retries the connection every 100 ms) within
 * the same time-out, so a restarted or busy auth daemon is picked up
 * without the caller doing anything.  On connecting, the
 * client asks for the mechanisms of its service;
 * auth_client_mechanisms() then returns them (for EHLO or CAPABILITY).
 *
 * Blocking: auth_sync_open() + auth_sync_call(), one request and reply
 * at a time, with a time-out (continue steps are another auth_sync_call
 * with op cont and the same id).
 */
#ifndef TERN_AUTH_CLIENT_H
#define TERN_AUTH_CLIENT_H

#include <stdbool.h>

#include "auth/codec.h"
#include "event.h"
#include "ipc.h"

struct auth_client;
struct auth_call;

typedef void auth_reply_fn(struct auth_call *call, const struct auth_reply *r, void *ctx);

/* path: relative to the working directory (queue_directory) or absolute. */
struct auth_client *auth_client_new(
    struct event_loop *loop, const char *path, const char *service, long timeout_ms);
/* Closes the connection; calls still open get no callback. */
void auth_client_free(struct auth_client *c);

/*
 * Starts a request: r->op and its attributes (codec.h); r->id is
 * ignored (the client numbers its calls).  Strings are copied.
 */
struct auth_call *auth_client_call(
    struct auth_client *c, const struct auth_request *r, auth_reply_fn *fn, void *ctx);
/* The client's next SASL response (base64 as sent), after AUTH_CONTINUE. */
void auth_call_continue(struct auth_call *call, const char *resp);
/* Ends a call early (sends cancel when an exchange is open). */
void auth_call_abort(struct auth_call *call);

/* "PLAIN LOGIN ..." as the daemon announced them, or NULL before then. */
const char *auth_client_mechanisms(const struct auth_client *c);
/* Calls open on this client (for tests and idle checks). */
unsigned auth_client_pending(const struct auth_client *c);

/* ------------------------------------------------------------ blocking */

/* Connects; NULL with errno on failure. */
struct ipc_conn *auth_sync_open(const char *path);
void auth_sync_close(struct ipc_conn *conn);
/*
 * Sends r and waits for its reply, decoded into *reply (pointing into
 * *msg, which the caller initialised and frees).  0, or -1 with errno
 * (ETIMEDOUT, EPIPE, EPROTO for a malformed reply).
 */
int auth_sync_call(struct ipc_conn *conn, const struct auth_request *r, struct ipc_msg *msg,
    struct auth_reply *reply, int timeout_ms);

#endif
