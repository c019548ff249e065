/*
 * smtpd.h - the SMTP server's shared state: one struct per client session.
 *
 * One smtpd process serves many sessions from one event loop.  A session
 * moves bytes (session.c), runs one command at a time (commands.c), asks
 * the relay policy about recipients (policy.c), and streams a message to
 * cleanup during DATA (message.c over cleanup_client.c).  Nothing here
 * blocks except look-ups in in-memory tables.
 *
 * Lifetime: a session is freed only by session_run(), the last call of
 * every event callback; everything else only sets `closing` or `dead`, so
 * no function ever returns into a freed session.
 */
#ifndef TERN_SMTPD_H
#define TERN_SMTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "data.h"
#include "event.h"
#include "smtp/cmd.h"
#include "smtp/esmtp.h"
#include "tls_server.h"

enum smtpd_state {
	SMTPD_CMD,	 /* reading commands */
	SMTPD_DATA_OPEN, /* DATA: waiting for cleanup's ready before the 354 */
	SMTPD_DATA,	 /* reading message content after 354 */
	SMTPD_DATA_WAIT, /* end of data seen, waiting for cleanup */
	SMTPD_BDAT,	 /* reading the octets of a BDAT chunk */
};

enum smtpd_tls_phase {
	SMTPD_TLS_OFF,
	SMTPD_TLS_STARTING, /* 220 to STARTTLS queued, not yet sent */
	SMTPD_TLS_HANDSHAKE,
	SMTPD_TLS_ACTIVE,
};

/* Unsent output to cleanup above which we stop reading from the client. */
#define SMTPD_CLEANUP_HIGH (64 * 1024)

struct cleanup_client;
struct smtpd_milter;
struct smtpd_spf;

struct smtpd_session {
	struct event_loop *loop;
	int fd;
	struct buf in;	/* client bytes not yet processed */
	struct buf out; /* replies not yet written */
	enum smtpd_state state;
	bool discard_line; /* skipping the rest of an over-long line */
	bool closing;	   /* close once the replies are written */
	bool dead;	   /* connection broken: free at once */
	long long last_io; /* event_now() of the last progress */
	struct event_timer *timer;
	const char *last_cmd;		 /* for "lost connection after X" */
	struct event_timer *pause_timer; /* set: replies and input held back */

	/* TLS (lib/tls_server.c, session.c). */
	struct tls_conn *tls;
	enum smtpd_tls_phase tls_phase;
	int tls_want;		  /* the event the unfinished handshake waits for */
	int tls_rwant, tls_wwant; /* ... and the last SSL_read, SSL_write */
	long long tls_deadline;	  /* end of smtpd_starttls_timeout */
	struct tls_info tls_info;

	/* AUTH (auth.c). */
	char *sasl_user; /* set once authenticated */
	const char *sasl_method;
	struct sasl_exchange *sasl; /* an AUTH exchange in progress */
	bool auth_wait;		    /* waiting for the auth service's answer */

	unsigned errors;       /* 4xx/5xx replies, for the error limits */
	bool dns_wait;	       /* a command waits for a DNS answer */
	bool pipelined_ahead;  /* more input followed the current command */
	bool anvil;	       /* counted in the shared connection table */
	struct smtpd_spf *spf; /* SPF check or result of MAIL FROM (spf.c) */

	char addr[64]; /* client's numeric address */
	int port;
	/* The client's host name (peername.c): verified, and its PTR name;
	 * "unknown" or the string in *_mem; status 2 found, 4 DNS failed for
	 * now, 5 none (Postfix's name_status, reverse_name_status). */
	const char *name, *reverse_name;
	char *name_mem, *reverse_mem;
	int name_status, reverse_status;
	bool name_wait;	 /* the greeting waits for the name look-up */
	bool greet_wait; /* ... for the milters' connect answer */
	char *helo;	 /* HELO/EHLO argument, NULL before */
	bool esmtp;

	/* The mail transaction (RFC 5321 3.3). */
	char *sender; /* NULL before MAIL; "" for <> */
	char **rcpts;
	size_t nrcpt;
	long long size_decl;	     /* MAIL FROM SIZE=, -1 when not given */
	bool smtputf8;		     /* MAIL FROM ... SMTPUTF8 */
	bool requiretls;	     /* MAIL FROM ... REQUIRETLS (RFC 8689) */
	const char *dsn_ret;	     /* RET=FULL|HDRS or NULL */
	char *dsn_envid;	     /* ENVID=, decoded */
	struct esmtp_rcpt *rcpt_dsn; /* NOTIFY and ORCPT, parallel to rcpts */
	bool auth_offered;	     /* the last EHLO offered AUTH */

	/* DATA in progress (message.c). */
	struct data_decoder dec;
	struct buf chunk; /* decoded content of the latest read */
	struct cleanup_client *cleanup;
	long long msg_size;
	bool too_big;
	bool client_logged; /* the "QID: client=" line of this message is out */
	char *data_error;   /* reply already decided for the final dot */

	/* BDAT (bdat.c): a transaction's chunks share one cleanup conversation. */
	bool bdat_open;	     /* a BDAT transaction is under way */
	bool bdat_last;	     /* the current chunk is the LAST one */
	bool bdat_cr;	     /* a CR ended the previous piece (CRLF -> LF) */
	bool bdat_discard;   /* no transaction: the chunk is read and dropped */
	long long bdat_left; /* octets of the current chunk still to read */
	long long bdat_size; /* of the current chunk, for the reply */

	struct smtpd_milter *milter; /* smtpd_milters of this session (milter.c) */

	/* Screening before the greeting (screen.c). */
	struct smtpd_screen *screen; /* set while the greeting waits */
	char *screen_reject;	     /* a failed test's "enforce": every RCPT's reply */

	unsigned count_ok[SMTP_NVERBS]; /* per verb, for the disconnect line */
	unsigned count_all[SMTP_NVERBS];

	struct smtpd_session *prev, *next;
};

/* session.c */
void session_init(void (*on_empty)(struct event_loop *loop));
void session_new(struct event_loop *loop, int fd);
void session_greet(struct smtpd_session *s);
void session_greet_send(struct smtpd_session *s);
bool session_idle(void *ctx);
size_t session_count(void);
void session_run(struct smtpd_session *s);
void smtpd_reply(struct smtpd_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void smtpd_reject(struct smtpd_session *s, const char *verb, const char *from, const char *to,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void smtpd_log_reject(struct smtpd_session *s, const char *what, const char *verb, const char *from,
    const char *to, const char *text);
void session_reset_transaction(struct smtpd_session *s);
void session_client(const struct smtpd_session *s, struct buf *out);
void session_tls_begin(struct smtpd_session *s);
void session_pause(struct smtpd_session *s, long ms);
void session_dns_wake(void);
void session_shutdown(void);

/* commands.c */
bool smtpd_command(struct smtpd_session *s, const char *line, size_t len);
void smtpd_data_done(struct smtpd_session *s, bool ok, bool bdat);
void smtpd_auth_done(struct smtpd_session *s, bool ok);
void smtpd_log_counts(const struct smtpd_session *s, struct buf *out);
void smtpd_tls_ready(struct smtpd_session *s);
const char *smtpd_protocol(const struct smtpd_session *s);

/* policy.c */
enum policy_result {
	POLICY_OK,
	POLICY_REJECT, /* 5xx: reply holds the text */
	POLICY_DEFER,  /* 4xx: reply holds the text */
};
enum policy_result policy_check_rcpt(
    const struct smtpd_session *s, const char *rcpt, struct buf *reply);

/* message.c: the DATA phase. */
bool message_open(struct smtpd_session *s);
bool message_start(struct smtpd_session *s);
/* n decoded bytes that were octets bytes on the wire (RFC 1870 size). */
void message_content(struct smtpd_session *s, const char *p, size_t n, size_t octets);
void message_end(struct smtpd_session *s);
void message_finish(struct smtpd_session *s, const char *reply, const char *qid);
void message_input(struct smtpd_session *s);
bool message_paused(const struct smtpd_session *s);
bool message_timeout(struct smtpd_session *s);
void message_abort(struct smtpd_session *s);
void message_commit(struct smtpd_session *s, const char *p, size_t n, bool hold);

/* bdat.c: CHUNKING (RFC 3030). */
bool bdat_command(struct smtpd_session *s, const char *arg, size_t len);
void bdat_input(struct smtpd_session *s);

#endif
