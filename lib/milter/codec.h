/*
 * milter/codec.h - the Sendmail milter protocol (version 6): packets only.
 *
 * A packet is a 4-byte length in network order, then that many bytes: a
 * command letter and its data.  The MTA sends commands (SMFIC_*), the
 * filter answers with replies (SMFIR_*).  This module builds the MTA's
 * packets into a buffer and takes the filter's packets apart; it does no
 * I/O, keeps no state, and trusts nothing it decodes: every length is
 * checked, every string must be NUL-terminated inside its packet, and a
 * packet longer than MILTER_MAX_PACKET is an error (a filter may replace
 * a body in pieces, never in one giant packet).
 *
 * The constants are the protocol's own (libmilter's mfdef.h names them
 * the same way); the meaning of each is in client.c, which drives the
 * conversation.
 */
#ifndef TERN_MILTER_CODEC_H
#define TERN_MILTER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define MILTER_VERSION 6
#define MILTER_CHUNK_SIZE 65535			     /* most body bytes in one packet */
#define MILTER_MAX_PACKET (MILTER_CHUNK_SIZE + 1024) /* what we accept from a filter */

/* Commands, MTA to filter. */
#define SMFIC_ABORT 'A'
#define SMFIC_BODY 'B'
#define SMFIC_CONNECT 'C'
#define SMFIC_MACRO 'D'
#define SMFIC_BODYEOB 'E'
#define SMFIC_HELO 'H'
#define SMFIC_QUIT_NC 'K'
#define SMFIC_HEADER 'L'
#define SMFIC_MAIL 'M'
#define SMFIC_EOH 'N'
#define SMFIC_OPTNEG 'O'
#define SMFIC_QUIT 'Q'
#define SMFIC_RCPT 'R'
#define SMFIC_DATA 'T'
#define SMFIC_UNKNOWN 'U'

/* Replies, filter to MTA. */
#define SMFIR_ADDRCPT '+'
#define SMFIR_DELRCPT '-'
#define SMFIR_ADDRCPT_PAR '2'
#define SMFIR_SHUTDOWN '4'
#define SMFIR_ACCEPT 'a'
#define SMFIR_REPLBODY 'b'
#define SMFIR_CONTINUE 'c'
#define SMFIR_DISCARD 'd'
#define SMFIR_CHGFROM 'e'
#define SMFIR_CONN_FAIL 'f'
#define SMFIR_ADDHEADER 'h'
#define SMFIR_INSHEADER 'i'
#define SMFIR_SETSYMLIST 'l'
#define SMFIR_CHGHEADER 'm'
#define SMFIR_PROGRESS 'p'
#define SMFIR_QUARANTINE 'q'
#define SMFIR_REJECT 'r'
#define SMFIR_SKIP 's'
#define SMFIR_TEMPFAIL 't'
#define SMFIR_REPLYCODE 'y'

/* Actions a filter may take (negotiated). */
#define SMFIF_ADDHDRS 0x01
#define SMFIF_CHGBODY 0x02
#define SMFIF_ADDRCPT 0x04
#define SMFIF_DELRCPT 0x08
#define SMFIF_CHGHDRS 0x10
#define SMFIF_QUARANTINE 0x20
#define SMFIF_CHGFROM 0x40
#define SMFIF_ADDRCPT_PAR 0x80
#define SMFIF_SETSYMLIST 0x100
#define SMFIF_ALL 0x1ff

/* Protocol steps a filter does not want, or answers without a reply. */
#define SMFIP_NOCONNECT 0x01
#define SMFIP_NOHELO 0x02
#define SMFIP_NOMAIL 0x04
#define SMFIP_NORCPT 0x08
#define SMFIP_NOBODY 0x10
#define SMFIP_NOHDRS 0x20
#define SMFIP_NOEOH 0x40
#define SMFIP_NR_HDR 0x80
#define SMFIP_NOUNKNOWN 0x100
#define SMFIP_NODATA 0x200
#define SMFIP_SKIP 0x400
#define SMFIP_RCPT_REJ 0x800
#define SMFIP_NR_CONN 0x1000
#define SMFIP_NR_HELO 0x2000
#define SMFIP_NR_MAIL 0x4000
#define SMFIP_NR_RCPT 0x8000
#define SMFIP_NR_DATA 0x10000
#define SMFIP_NR_UNKN 0x20000
#define SMFIP_NR_EOH 0x40000
#define SMFIP_NR_BODY 0x80000
#define SMFIP_HDR_LEADSPC 0x100000
#define SMFIP_ALL 0x1fffff /* every step flag protocol 6 defines */

/* Macro stages of SETSYMLIST, in protocol order. */
enum milter_stage {
	MILTER_STAGE_CONNECT,
	MILTER_STAGE_HELO,
	MILTER_STAGE_MAIL,
	MILTER_STAGE_RCPT,
	MILTER_STAGE_DATA,
	MILTER_STAGE_EOM,
	MILTER_STAGE_EOH,
	MILTER_NSTAGES
};

/* One decoded packet: points into the caller's input. */
struct milter_packet {
	char cmd;
	const char *data;
	size_t len;
};

enum milter_parse_result {
	MILTER_PARSE_OK,
	MILTER_PARSE_MORE, /* not a whole packet yet */
	MILTER_PARSE_ERROR,
};

/* Builders: each appends one whole packet to out. */
void milter_put(struct buf *out, char cmd, const void *data, size_t len);
void milter_put_optneg(struct buf *out, uint32_t version, uint32_t actions, uint32_t protocol);
/* Macros for the command `stage_cmd`: names[i] = values[i], n pairs. */
void milter_put_macros(
    struct buf *out, char stage_cmd, const char *const *names, const char *const *values, size_t n);
/* family '4', '6', 'L' (unix) or 'U' (unknown: no port, no address). */
void milter_put_connect(struct buf *out, const char *host, char family, int port, const char *addr);
void milter_put_string(struct buf *out, char cmd, const char *s);
/* MAIL and RCPT: the address in <> then ESMTP parameters, each NUL-ended. */
void milter_put_args(struct buf *out, char cmd, const char *const *args, size_t n);
void milter_put_header(struct buf *out, const char *name, const char *value);

/* Splits the first packet off in[0..len); *used is its size when OK. */
enum milter_parse_result milter_parse(
    const char *in, size_t len, size_t max, struct milter_packet *p, size_t *used);

/* The filter's OPTNEG reply: three numbers, perhaps a symbol list after. */
bool milter_parse_optneg(const struct milter_packet *p, uint32_t *version, uint32_t *actions,
    uint32_t *protocol, const char **symlist, size_t *symlen);
/* One entry of a SETSYMLIST tail; advances p and n.  False at the end or on
 * malformed input (*bad set). */
bool milter_next_symlist(const char **p, size_t *n, uint32_t *stage, const char **list, bool *bad);

/* Replies carrying NUL-terminated strings: up to max strings into out[];
 * returns how many, or -1 when the data is not exactly that many strings
 * (fewer than min, or bytes after the last NUL). */
int milter_parse_strings(const struct milter_packet *p, const char **out, int min, int max);
/* CHGHEADER and INSHEADER: a 32-bit index, a name and a value. */
bool milter_parse_indexed_header(
    const struct milter_packet *p, uint32_t *index, const char **name, const char **value);
/* REPLYCODE: "4xx text" or "5xx text", the codes matching, no CR/LF inside
 * a line (a multi-line reply uses "xyz-"); false for anything else. */
bool milter_reply_valid(const char *text);

#endif
