/*
 * proto.h - the conversations between tern's processes, over ipc.h records.
 *
 * Attribute names and operation values are defined here once; both sides
 * use these macros, never string literals.
 *
 * smtpd -> cleanup   (socket private/cleanup, one connection per message)
 *   1. {op=begin, sender, rcpt*, client_name, client_addr, client_port,
 *       helo_name, protocol, [size], [uid]}
 *      "rcpt" repeats, one per recipient, in order; each may be followed by
 *      its own "orcpt" / "notify" attributes (applying to the rcpt before).
 *   2. {op=data, data=<bytes>}*   message content, LF line ends, dot-
 *      unstuffed, in pieces of at most CLEANUP_DATA_CHUNK bytes
 *      with ready=yes (smtpd's DATA), cleanup answers {status=ready} as
 *      soon as the queue file exists and the envelope is written, or its
 *      error reply; the sender sends no data before that, so that "354"
 *      is never said when the message could not be stored.
 *   3. {op=end}                   the whole message was sent
 *      or the client closes the connection to abandon the message.
 *   reply, once, after op=end (or earlier, on an error):
 *      {status=ok, queue_id=ID}  the file is complete and fsync'ed
 *      {status=defer|reject, reason="4.3.0 text"}  reason starts with an
 *      enhanced status code; smtpd prefixes the basic code (451/554).
 *
 * cleanup -> qmgr    (socket private/qmgr, connect, send, close)
 *   {op=new, queue_id=ID}     a complete file waits in incoming/
 *
 * qmgr -> local, smtp, relay, error, discard  (socket private/<transport>;
 *                     one request per connection: the agents' processes
 *                     share a listening socket, and an idle connection
 *                     would keep one of them from the requests waiting)
 *   {op=deliver, queue_id, sender, arrival, header_off, header_len,
 *    body_off, body_len, (rcpt, index, class, [orcpt])*}
 *   with the queue file's descriptor attached (SCM_RIGHTS), opened
 *   read-only by qmgr.  "class" is "virtual" or "local" (resolve.h).
 *   replies, one per recipient as soon as its result is known:
 *     {op=status, index, result=sent|deferred|bounced, dsn="2.0.0",
 *      reason="delivered to maildir"}
 *   then {op=done}.  A recipient without a status when the connection
 *   breaks is deferred by qmgr.
 */
#ifndef TERN_PROTO_H
#define TERN_PROTO_H

#define CLEANUP_DATA_CHUNK 65536

/*
 * Service names: the first column of master.cf for tern's own services,
 * and so the socket names under queue_directory/private/ (public/ for
 * pickup).  The transports (smtp, relay, error, discard, local) are also
 * what resolve.c and transport_maps route to.
 */
#define SERVICE_CLEANUP "cleanup"
#define SERVICE_QMGR "qmgr"
#define SERVICE_PICKUP "pickup"
#define SERVICE_LOCAL "local"
#define SERVICE_SMTP "smtp"
#define SERVICE_RELAY "relay"
#define SERVICE_ERROR "error"
#define SERVICE_DISCARD "discard"
#define SERVICE_LMTP "lmtp"
#define SERVICE_VIRTUAL "virtual"
#define SERVICE_AUTH "auth"
#define SERVICE_SHOWQ "showq" /* public/showq: the queue listing for every user */

/* Routing: qmgr -> delivery agents. */
#define A_NEXTHOP "nexthop"	/* next hop of the request */
#define A_ACTIVATED "activated" /* usec qmgr took the message (delays=a/b) */

/* The client's TLS and SASL: smtpd -> cleanup, for Received: and logs. */
#define A_TLS_PROTO "tls_proto"	      /* "TLSv1.3" when the client used TLS */
#define A_TLS_CIPHER "tls_cipher"     /* "TLS_AES_256_GCM_SHA384" */
#define A_TLS_BITS "tls_bits"	      /* 256 */
#define A_TLS_CCERT_FP "tls_ccert_fp" /* client certificate SHA-256, when one was sent */
#define A_SASL_METHOD "sasl_method"   /* AUTH mechanism used */
#define A_SASL_USER "sasl_username"   /* and the login name */

/* DSN (RFC 3461) and SMTPUTF8 (RFC 6531): smtpd and pickup -> cleanup,
 * which stores ret and envid as 'A' records; qmgr -> the smtp agent. */
#define A_RET "ret"	      /* "FULL" or "HDRS" (MAIL FROM RET=, sendmail -R) */
#define A_ENVID "envid"	      /* MAIL FROM ENVID= xtext-decoded, or sendmail -V */
#define A_SMTPUTF8 "smtputf8" /* "yes" when MAIL said SMTPUTF8 */
/* RFC 8689: smtpd -> cleanup, stored as an 'A' record; qmgr -> smtp,
 * which then delivers only over verified TLS to a REQUIRETLS server. */
#define A_REQUIRETLS "requiretls" /* "yes" when MAIL said REQUIRETLS */
/* RFC 8689 section 5: cleanup stores "no" as an 'A' record when the
 * message's header says "TLS-Required: No" (never taken from a client's
 * begin record); qmgr -> smtp, which then lets opportunistic TLS do
 * without reading the message before it connects. */
#define A_TLS_REQUIRED "tls_required"

/*
 * Local submission (sendmail, postdrop, pickup).  postdrop -> pickup
 * (socket public/pickup): {op=wakeup}, best effort; any connection is a
 * wake-up.  sendmail -> postdrop and the maildrop file: lib/maildrop.h.
 * pickup -> cleanup: the smtpd -> cleanup conversation with, in the begin
 * record, uid (the file owner), protocol=local, rewrite=yes and no
 * client_* attributes, plus optional fullname, ret, envid.
 */
/* The longest client attribute (helo_name, client_name, ...) cleanup takes:
 * smtpd refuses a longer HELO name at once rather than every message later. */
#define PROTO_MAX_ATTR 1024
/* cleanup writes it as an 'A' record when a non_smtpd_milter or a header or
 * body check rejected a local submission: qmgr bounces every recipient with this reason
 * ("5.7.1 text"), as Postfix's cleanup bounces such mail. */
#define A_REJECT "milter_reject"
#define A_HOLD "hold"	    /* -> cleanup: "yes": into hold/, not incoming/ (milter quarantine) */
#define A_READY "ready"	    /* -> cleanup, op=begin: "yes": answer status=ready (+queue_id) first */
#define A_REWRITE "rewrite" /* -> cleanup: "yes": add missing Date, Message-ID (and From) */
#define A_FULLNAME "fullname" /* sendmail -F: full name for an added From: */
#define A_TRUSTED "trusted"   /* -> cleanup: "yes": mynetworks or authenticated client */
#define A_SPF "spf"	      /* -> cleanup: smtpd's SPF result ("pass", "fail", ...) */
#define A_SPF_PROP "spf_prop" /* -> cleanup: what was checked: "smtp.mailfrom=a@b.example" */
#define A_SPF_HELO "spf_helo" /* -> cleanup: the HELO identity's SPF result */
#define A_SPF_HELO_PROP "spf_helo_prop" /* -> cleanup: "smtp.helo=mail.b.example" */
#define A_TIME "time"			/* maildrop: submission time, microseconds */
#define OP_WAKEUP "wakeup"		/* postdrop -> public/pickup: new maildrop file */
/* Process status: daemon -> master, over the service's status pipe
 * (lib/proc_status.h): {pid, state=avail|busy}, one record per change. */
#define A_PID "pid"
#define A_STATE "state"
#define STATE_AVAIL "avail"
#define STATE_BUSY "busy"

/* Queue operations: tern queue -> private/qmgr: {op=flush, [queue_id]}. */
#define OP_FLUSH "flush" /* retry now */

/* Common to the conversations above. */
#define A_OP "op"
#define A_SENDER "sender"
#define A_RCPT "rcpt"
#define A_ORCPT "orcpt"
#define A_NOTIFY "notify"
#define A_INDEX "index"
#define A_CLASS "class"
#define A_CLIENT_NAME "client_name"
#define A_CLIENT_ADDR "client_addr"
#define A_CLIENT_PORT "client_port"
#define A_HELO "helo_name"
#define A_PROTOCOL "protocol"
#define A_SIZE "size"
#define A_DATA "data"
#define A_STATUS "status"
#define A_REASON "reason"
#define A_ACTION "action" /* a status's DSN action: "relayed" (else delivered) */
/* A status's "yes": the next hop took NOTIFY, no success notice here. */
#define A_NOTIFIED "notified"
#define A_QUEUE_ID "queue_id"
#define A_ARRIVAL "arrival"
#define A_HEADER_OFF "header_off"
#define A_HEADER_LEN "header_len"
#define A_BODY_OFF "body_off"
#define A_BODY_LEN "body_len"
#define A_RESULT "result"
#define A_DSN "dsn"
#define A_UID "uid"

#define OP_BEGIN "begin"
#define OP_DATA "data"
#define OP_END "end"
#define OP_NEW "new"
#define OP_DELIVER "deliver"
#define OP_DONE "done"
#define OP_STATUS "status"

#define ST_OK "ok"
#define ST_READY "ready" /* cleanup -> smtpd: the queue file exists; send the data */
#define ST_DEFER "defer"
#define ST_REJECT "reject"

#define RES_SENT "sent"
#define RES_DEFERRED "deferred"
#define RES_BOUNCED "bounced"

#endif
