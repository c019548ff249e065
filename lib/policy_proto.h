/*
 * policy_proto.h - Postfix's SMTPD access policy delegation protocol
 * (SMTPD_POLICY_README), the bytes only: smtpd writes "name=value" lines
 * ended by an empty line, the server answers the same way with at least
 * "action=...".  Pure functions, no I/O; fuzzed (fuzz_policy_reply).
 * Both sides: smtpd's client (smtpd/policy_service.c) and local's
 * quota-status server (local/quota_status.c).
 */
#ifndef TERN_POLICY_PROTO_H
#define TERN_POLICY_PROTO_H

#include <stddef.h>

#include "buf.h"

/* Longest reply accepted, in bytes; a longer one is an error. */
#define POLICY_REPLY_MAX 4096

/*
 * Appends "name=value\n"; a CR or LF in value (client-supplied HELO
 * names, addresses) becomes a space, so no attribute can be forged.
 */
void policy_attr(struct buf *out, const char *name, const char *value);

/* Longest request a server takes (Postfix's are about 1 KiB). */
#define POLICY_REQUEST_MAX 16384

/*
 * Parses one block of "name=value" lines ended by an empty line (LF or
 * CRLF) at data[0..len): 1 when complete (values[i] is a new string, the
 * value of the last attribute called names[i], or NULL when there was
 * none; *used the bytes it took), 0 when more bytes are needed, -1 when
 * malformed (no '=' in a line, NUL bytes, longer than max).  names ends
 * with NULL; values has room for each.
 */
int policy_parse(const char *data, size_t len, size_t max, const char *const *names, char **values,
    size_t *used);

/*
 * Parses a reply at data[0..len): 1 when complete (*action is the value
 * of the last "action" attribute, a new string; *used the bytes it took),
 * 0 when more bytes are needed, -1 when malformed (no '=' in a line, no
 * action, NUL bytes, longer than POLICY_REPLY_MAX).
 */
int policy_reply_parse(const char *data, size_t len, char **action, size_t *used);

#endif
