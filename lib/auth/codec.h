/*
 * auth/codec.h - the conversation with the auth daemon: requests and
 * replies over ipc.h records, one encoder and one decoder each way, used
 * by the daemon and by every client (auth/client.h), fuzzed
 * (tests/fuzz/fuzz_auth_codec.c).
 *
 * Sockets, relative to queue_directory (every daemon's working directory):
 *   private/auth  trusted: smtpd (runs as mail_owner), the per-user process
 *                 dispatcher (root), local, the tern command.  Every op.
 *   login/auth    the login processes of imap, pop3, managesieve and http,
 *                 which run as the unprivileged "ternlogin" and cannot reach
 *                 private/.  Only mechs, auth, cont, cancel and verify;
 *                 anything else is answered fail/denied.
 *
 * A client connection carries any number of requests at once, each named
 * by an id the client chooses (unique among its open requests on that
 * connection); replies come in any order and carry the id back.
 *
 * Requests {op, id, ...}:
 *   mechs   {service, [tls], [client_addr]}
 *           -> {status=ok, mech*}  the SASL mechanisms offered to that
 *           client, in order of preference (auth_mechanisms)
 *   auth    {service, mech, [resp], client_addr, [client_port],
 *            [local_addr], [local_port], [tls], [session]}
 *           starts a SASL exchange.  resp is the initial response, base64
 *           exactly as the client sent it on the wire (SASL-IR's "=" for an
 *           empty response is sent as an empty resp; no resp: none given).
 *           -> {status=continue, challenge}  base64, to relay as it is
 *              (SMTP "334 <challenge>", IMAP "+ <challenge>")
 *           -> {status=ok, user, [token] | [account]}
 *           -> {status=fail, code, reason}
 *   cont    {resp}           the client's next response (base64 as sent)
 *   cancel  {}               the client gave up ("*"): no reply
 *   verify  {service, user, secret, client_addr, ...as auth}
 *           a user name and password from a form (the web login); the
 *           same checks, penalties and log lines as a SASL PLAIN login
 *   lookup  {user}           the account (userdb), no password check
 *           -> {status=ok, user, account} or {status=fail, code=nouser}
 *   redeem  {token, service, [client_addr]}   trusted socket only
 *           -> {status=ok, user, account} or {status=fail, code=denied}
 *
 * A success on the login socket carries a token instead of the account:
 * random (144 bits), good for one redeem within auth_token_ttl, bound to
 * the user, the service and the client address of the login.  The login
 * process hands it to the trusted dispatcher, which redeems it on
 * private/auth to learn whom to run the session as, without trusting the
 * login process.  On the trusted socket a success carries the account.
 *
 * An account is {user, uid, gid, home, maildir, quota_rule, extra*}: uid
 * and gid are decimal ("-1" when the back-end has none), maildir the
 * absolute path of the Maildir root ("" when the mail is not in a
 * Maildir), extra repeats "name=value" fields of the users file that tern
 * does not interpret itself.
 *
 * fail codes (auth_code): credentials (wrong user or password), malformed
 * (a response that is not valid base64 or not what the mechanism
 * expects), mechanism (unknown or not offered), disabled (password right,
 * account not allowed to log in: nologin, allow_nets), refused (too many
 * failures from this client: try later), tempfail (a back-end could not
 * answer), nouser (lookup), denied (op or token not allowed).  refused
 * and tempfail are temporary: SMTP 454 4.7.0, IMAP NO [UNAVAILABLE].
 * reason is a short text fit to show to the client.
 *
 * The daemon delays a failure's reply by itself (penalties), so a client
 * waits for the reply and adds no delay of its own.
 */
#ifndef TERN_AUTH_CODEC_H
#define TERN_AUTH_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "ipc.h"

#define AUTH_SOCKET_TRUSTED "private/auth"
#define AUTH_SOCKET_LOGIN "login/auth"
#define AUTH_LOGIN_DIR "login"

/* Attribute names (A_OP, A_STATUS, A_REASON, A_CLIENT_ADDR, A_CLIENT_PORT
 * and A_UID are lib/proto.h's). */
#define A_AUTH_ID "id"
#define A_AUTH_SERVICE "service"
#define A_AUTH_MECH "mech"
#define A_AUTH_RESP "resp"
#define A_AUTH_USER "user"
#define A_AUTH_SECRET "secret"
#define A_AUTH_TOKEN "token"
#define A_AUTH_LOCAL_ADDR "local_addr"
#define A_AUTH_LOCAL_PORT "local_port"
#define A_AUTH_TLS "tls"
#define A_AUTH_SESSION "session"
#define A_AUTH_CHALLENGE "challenge"
#define A_AUTH_CODE "code"
#define A_AUTH_GID "gid"
#define A_AUTH_HOME "home"
#define A_AUTH_MAILDIR "maildir"
#define A_AUTH_QUOTA_RULE "quota_rule"
#define A_AUTH_EXTRA "extra"

/* Limits the decoders enforce. */
#define AUTH_MAX_RESP 16384 /* base64 bytes of one response or challenge */
#define AUTH_MAX_FIELD 1024 /* any other value */
#define AUTH_MAX_MECHS 16
#define AUTH_MAX_EXTRA 32
#define AUTH_MAX_ID 0xffffffffUL

enum auth_op {
	AUTH_OP_MECHS,
	AUTH_OP_AUTH,
	AUTH_OP_CONT,
	AUTH_OP_CANCEL,
	AUTH_OP_VERIFY,
	AUTH_OP_LOOKUP,
	AUTH_OP_REDEEM,
};

enum auth_status {
	AUTH_CONTINUE,
	AUTH_OK,
	AUTH_FAIL,
};

enum auth_code {
	AUTH_CODE_NONE, /* not a failure */
	AUTH_CODE_CREDENTIALS,
	AUTH_CODE_MALFORMED,
	AUTH_CODE_MECHANISM,
	AUTH_CODE_DISABLED,
	AUTH_CODE_REFUSED,
	AUTH_CODE_TEMPFAIL,
	AUTH_CODE_NOUSER,
	AUTH_CODE_DENIED,
};

/*
 * One request.  Strings are NUL-terminated and contain no NUL; NULL means
 * absent.  Decoded, they point into the ipc_msg, which must outlive them.
 */
struct auth_request {
	enum auth_op op;
	unsigned long id;
	const char *service;
	const char *mech;
	const char *resp; /* base64 text; NULL: no (initial) response */
	const char *user;
	const char *secret;
	const char *token;
	const char *client_addr;
	int client_port; /* 0: unknown */
	const char *local_addr;
	int local_port;
	bool tls;
	const char *session; /* the client's id of the session, for logs */
};

struct auth_account {
	const char *user;
	long uid, gid; /* -1: none */
	const char *home;
	const char *maildir;
	const char *quota_rule;
	const char *extra[AUTH_MAX_EXTRA]; /* "name=value" */
	size_t nextra;
};

struct auth_reply {
	unsigned long id;
	enum auth_status status;
	const char *challenge; /* AUTH_CONTINUE */
	enum auth_code code;   /* AUTH_FAIL */
	const char *reason;    /* AUTH_FAIL, may be NULL */
	const char *user;      /* AUTH_OK of auth, verify, lookup, redeem */
	const char *token;     /* AUTH_OK on the login socket */
	bool has_account;      /* account below is filled */
	struct auth_account account;
	const char *mechs[AUTH_MAX_MECHS]; /* AUTH_OK of mechs */
	size_t nmechs;
};

/* Appends one complete record (ipc_end included). */
void auth_request_encode(struct buf *out, const struct auth_request *r);
void auth_reply_encode(struct buf *out, const struct auth_reply *r);

/*
 * Fills r from a decoded record; 0, or -1 with *why (static text) when
 * the record is not a well-formed request or reply: unknown op or status,
 * a missing or oversized attribute, a NUL inside a string, a bad number.
 */
int auth_request_decode(const struct ipc_msg *m, struct auth_request *r, const char **why);
int auth_reply_decode(const struct ipc_msg *m, struct auth_reply *r, const char **why);

const char *auth_op_name(enum auth_op op);
const char *auth_code_name(enum auth_code code);
/* refused and tempfail: the client should say "try later" (4xx). */
bool auth_code_temporary(enum auth_code code);

#endif
