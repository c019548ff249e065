/*
 * smtp.h - the outbound SMTP and LMTP (RFC 2033) delivery agent's parts.
 *
 *   reply.c    pure parsers: SMTP replies (multi-line, enhanced status
 *              codes) and the EHLO extension list
 *   io.c       one connection's bytes: plain or TLS, every read and write
 *              bounded by a stage time-out
 *   route.c    next hop -> MX hosts -> addresses -> a connected session
 *              (greeting, EHLO/HELO, STARTTLS, AUTH), trying the next
 *              address on failure
 *   session.c  the session cache (reuse across messages) and QUIT
 *   sasl.c     AUTH PLAIN and LOGIN to a smarthost
 *   dane.c     DANE (RFC 7672): the TLS a host's TLSA records ask for
 *   sts.c      MTA-STS (RFC 8461): a domain's policy (cache, TXT
 *              record, HTTPS fetch) and what it asks of each MX host
 *   tlsrpt.c   TLS-RPT (RFC 8460): each TLS session's outcome under its
 *              policy, a line of smtp_tls_report_log
 *   xfer.c     one message over a session: MAIL, RCPT, DATA or BDAT,
 *              pipelined when offered, per-recipient results (for LMTP
 *              also after the content)
 *   request.c  the conversation with qmgr (proto.h), grouping recipients by
 *              next hop, log lines; the "error" and "discard" agents
 *
 * The agent is blocking, one request at a time per process (as local): DNS
 * and TLS then need no state machines, and master runs maxproc processes
 * for parallelism.  Every network wait has a deadline.
 */
#ifndef TERN_SMTP_H
#define TERN_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "dane.h"
#include "mtasts.h"
#include "tls_client.h"

/* ------------------------------------------------------------ reply.c */

#define SMTP_REPLY_MAX 65536 /* bytes in one (multi-line) reply */
#define SMTP_LINE_MAX 4096   /* bytes in one reply line */

struct smtp_reply {
	int code;	 /* 250 */
	char dsn[16];	 /* enhanced status code, "2.0.0" when absent */
	struct buf text; /* the lines without CRLF, joined by '\n' */
};

/*
 * Parses one reply from data[0..len).  1: complete, *used bytes consumed;
 * 0: incomplete; -1: malformed (bad code, codes that differ between lines,
 * a line or reply over the limits).  Lines end in CRLF or a bare LF.
 */
int smtp_reply_parse(const char *data, size_t len, struct smtp_reply *r, size_t *used);
void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_free(struct smtp_reply *r);
/* The reply on one line ("550 5.1.1 text more"), for reasons and logs. */
void smtp_reply_line(const struct smtp_reply *r, struct buf *out);

struct smtp_ext {
	bool esmtp; /* EHLO worked */
	bool pipelining, eightbit, smtputf8, dsn, chunking, starttls;
	bool auth_plain, auth_login;
	bool requiretls; /* RFC 8689 */
	long long size;	 /* SIZE limit, 0 when none announced */
};

/* Reads the EHLO reply's extension lines (all but the first). */
void smtp_ext_parse(const struct smtp_reply *r, struct smtp_ext *ext);

/* ------------------------------------------------------------ io.c */

struct smtp_io {
	int fd;
	SSL *ssl;
	struct buf in;
	struct buf out;
	bool broken;   /* a read or write failed: do not reuse */
	char err[256]; /* why, for the reason text */
};

void smtp_io_init(struct smtp_io *io, int fd);
void smtp_io_close(struct smtp_io *io);
/* Sends io->out.  0, or -1 with io->err set. */
int smtp_io_flush(struct smtp_io *io, long timeout_s);
/* Reads one reply.  0, or -1 with io->err ("lost connection", "timeout"). */
int smtp_io_reply(struct smtp_io *io, struct smtp_reply *r, long timeout_s);
/* TLS handshake on the connection; 0 or -1 with io->err. */
int smtp_io_starttls(struct smtp_io *io, SSL *ssl, long timeout_s);
/* True when the peer closed or sent unsolicited bytes (stale cache). */
bool smtp_io_dead(struct smtp_io *io);

/* ------------------------------------------------------------ sessions */

/*
 * What a message asks of the TLS policy (RFC 8689):
 *   SMTP_TLS_POLICY    the configured level (smtp_tls_security_level,
 *                      smtp_tls_policy_maps)
 *   SMTP_TLS_REQUIRE   MAIL FROM ... REQUIRETLS: at least verify, and the
 *                      server must offer REQUIRETLS; a TLS failure bounces
 *   SMTP_TLS_OPTIONAL  the header "TLS-Required: No": at most may
 */
enum smtp_tls_want { SMTP_TLS_POLICY, SMTP_TLS_REQUIRE, SMTP_TLS_OPTIONAL };

struct smtp_session {
	struct smtp_io io;
	char dest[300]; /* cache key: the next hop */
	char host[256]; /* peer's host name (MX name or nexthop) */
	char addr[128]; /* numeric address, or an LMTP socket path */
	int port;
	struct smtp_ext ext;
	bool tls;
	bool verified;		 /* the certificate was verified */
	enum smtp_tls_want want; /* made for such messages: reused only for them */
	int reused;		 /* messages already sent */
	bool lmtp;		 /* RFC 2033: LHLO, one reply per recipient after the content */
	long long idle_since;	 /* mono_msec() when cached */
};

/* "host[addr]:port" for logs and reasons. */
void smtp_session_relay(const struct smtp_session *s, char *out, size_t size);

/* Outcome of finding a session: a session, or a status for everyone. */
struct smtp_fail {
	bool permanent;
	char dsn[16];
	char reason[512];
	const char *tlsrpt; /* a policy failure's RFC 8460 result type, or NULL */
};

/* route.c: connects to a next hop ("domain", "[host]", "host:port"),
 * trying MX hosts and addresses in order, with TLS as the policy and
 * want say.  For LMTP (lmtp.c) the next hop is "unix:/path",
 * "inet:host[:port]" or "host[:port]", without MX look-ups or TLS.  NULL
 * with f filled. */
struct smtp_session *smtp_route_connect(
    const char *nexthop, bool lmtp, enum smtp_tls_want want, struct smtp_fail *f);

/* dane.c: what the levels dane and dane-only come to for one host. */
struct smtp_dane {
	enum tls_level level;	   /* may, encrypt or verify (with tlsa) */
	struct dane_tlsa_set tlsa; /* usable records: free with dane_tlsa_free */
};

/* smtp_dns_support_level = dnssec (else a warning, once). */
bool smtp_dane_enabled(void);
/* Whether domain's MX answer (or its denial) was DNSSEC-validated. */
bool smtp_dane_mx_secure(const char *domain);
/* host:port under policy lvl (dane or dane-only); name_secure: the host
 * name itself is trusted (validated MX, or configured).  0 with d filled,
 * -1 with f filled (defer this host). */
int smtp_dane_host(const char *host, int port, bool name_secure, enum tls_level lvl,
    struct smtp_dane *d, struct smtp_fail *f);

/* sts.c: the MTA-STS policy of one next-hop domain. */
struct smtp_sts {
	bool on;	  /* a policy in mode testing or enforce holds */
	char domain[256]; /* the policy domain, lower case */
	struct mtasts_policy policy;
	const char *fail;      /* no policy because it could not be had: the
				  RFC 8460 result type, or NULL */
	char fail_reason[300]; /* why */
};

/* Finds domain's policy (cache, TXT record, fetch); sts->on when one
 * holds.  Free with smtp_sts_free. */
void smtp_sts_find(const char *domain, struct smtp_sts *sts);
void smtp_sts_free(struct smtp_sts *sts);
/* What the policy asks of MX host: 0 (enforce: *lvl raised to verify),
 * -1 when enforce refuses the host (f filled: defer it). */
int smtp_sts_host(
    const struct smtp_sts *sts, const char *host, enum tls_level *lvl, struct smtp_fail *f);
const char *smtp_sts_mode_name(enum mtasts_mode m);

/* tlsrpt.c: the policy a TLS session is reported under. */
struct smtp_tlsrpt {
	char domain[256];  /* the policy domain */
	const char *type;  /* "sts", "tlsa", "no-policy-found" */
	struct buf policy; /* policy-string items, '\n'-separated */
	struct buf mx;	   /* the MTA-STS policy's mx patterns, '\n'-separated */
};

void smtp_tlsrpt_none(struct smtp_tlsrpt *t, const char *domain);
void smtp_tlsrpt_sts(struct smtp_tlsrpt *t, const struct smtp_sts *sts);
/* DANE: the policy domain is the TLSA base domain (host without one). */
void smtp_tlsrpt_tlsa(struct smtp_tlsrpt *t, const char *host, const struct dane_tlsa_set *set);
void smtp_tlsrpt_free(struct smtp_tlsrpt *t);
/* The result type of a failed handshake on ssl (reason: OpenSSL's text). */
const char *smtp_tlsrpt_handshake(SSL *ssl, const char **reason);
/* Appends one session's outcome: result ("success" or a result type), the
 * connection (fd for the sending address, or -1), the MX host, its
 * address and the reason (NULL for none). */
void smtp_tlsrpt_log(struct smtp_tlsrpt *t, const char *result, int fd, const char *mx,
    const char *addr, const char *reason);

/* session.c: the per-process cache of idle sessions. */
struct smtp_session *smtp_cache_get(const char *dest);
void smtp_cache_put(struct smtp_session *s);
/* Closes sessions idle for longer than the limit; returns ms until the
 * next one expires, or -1 when none is cached. */
long smtp_cache_expire(void);
void smtp_cache_flush(void);
/* Sends QUIT (best effort) and frees. */
void smtp_session_quit(struct smtp_session *s);
void smtp_session_free(struct smtp_session *s);
/* RSET on a cached session; false when it did not answer 250. */
bool smtp_session_rset(struct smtp_session *s);

/* sasl.c: AUTH when smtp_sasl_auth_enable and a password is listed for
 * the next hop.  0, or -1 with f filled. */
int smtp_sasl_auth(struct smtp_session *s, const char *nexthop, struct smtp_fail *f);
/* Base64 of data (no newlines), appended to out. */
void smtp_base64(const void *data, size_t len, struct buf *out);

/* ------------------------------------------------------------ xfer.c */

struct smtp_rcpt {
	const char *addr;
	const char *orcpt;  /* may be NULL */
	const char *notify; /* may be NULL */
	long long index;
	const char *nexthop; /* resolved next hop */
	/* result */
	bool done, reported;
	const char *result; /* RES_* */
	bool relayed;	    /* sent: DSN action "relayed", not "delivered" */
	bool notified;	    /* sent with NOTIFY to a DSN server: no success notice here */
	char dsn[16];
	char reason[600];
};

struct smtp_msg {
	int fd; /* queue file, read with pread */
	const char *qid;
	const char *sender;
	const char *ret;   /* DSN RET, may be NULL */
	const char *envid; /* DSN ENVID, may be NULL */
	bool requiretls;   /* RFC 8689 REQUIRETLS */
	bool tls_optional; /* "TLS-Required: No" (cleanup records it) */
	off_t header_off, header_len, body_off, body_len;
	long long arrival;
	/* filled lazily by xfer.c */
	struct buf content; /* header + "\n" + body, LF line ends */
	bool loaded, eightbit;
};

/* Reads header + "\n" + body into msg->content, once; 0 or -1. */
int smtp_msg_load(struct smtp_msg *msg);
/* The TLS the message asks for: REQUIRETLS, "TLS-Required: No" in its
 * header (ignored with REQUIRETLS, RFC 8689 section 5), or the policy.
 * From the request alone: the message is not read before connecting. */
enum smtp_tls_want smtp_msg_tls_want(const struct smtp_msg *msg);
/* Sends msg to the recipients rcpts[0..n) over s, filling each one's
 * result.  False when the session must not be reused. */
bool smtp_xfer(struct smtp_session *s, struct smtp_msg *msg, struct smtp_rcpt **rcpts, size_t n);
/* Content conversion (pure, tested): LF -> CRLF, and with dot_stuff a '.'
 * doubled at the start of each line, then "." CRLF when terminate. */
void smtp_content_encode(const char *p, size_t len, bool dot_stuff, struct buf *out);
/* Sets one recipient's result. */
void smtp_rcpt_set(struct smtp_rcpt *r, const char *result, const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* request.c: daemon_serve_fn for smtp, error and discard modes. */
enum smtp_mode { SMTP_MODE_SMTP, SMTP_MODE_LMTP, SMTP_MODE_ERROR, SMTP_MODE_DISCARD };

/* session.c: the parameter family, as Postfix's smtp(8) and lmtp(8):
 * smtp_params_lmtp(true) (the lmtp transport, once at start) makes
 * smtp_pname("sasl_auth_enable") "lmtp_sasl_auth_enable" (else
 * "smtp_..."), and the TLS client read lmtp_tls_* (tls_client_prefix).
 * smtp_pname's result lives until its fourth next call. */
void smtp_params_lmtp(bool lmtp);
const char *smtp_pname(const char *suffix);
/* The time limit of one protocol step in seconds, "helo", "mail",
 * "rcpt", "data_init", ...: smtp_<step>_timeout, or lmtp_<step>_timeout
 * ("helo" is then "lhlo"). */
long smtp_step_timeout(const char *step);
void smtp_serve(int fd, void *ctx);

#endif
