/*
 * mime/decode.h - streaming Content-Transfer-Encoding decoders (RFC 2045
 * section 6.7 quoted-printable, 6.8 base64), for FETCH BINARY, for
 * SEARCH BODY/TEXT, and for Sieve's body test and JMAP's bodyValues.
 *
 * Each decoder is fed the encoded bytes in chunks of any size and appends
 * what it decodes to a struct buf; its state is a few bytes (quoted-
 * printable also holds a run of trailing white space, at most
 * MIME_QP_MAX_PENDING bytes), so memory does not grow with the input.
 * mime_*_finish() flushes the end.
 *
 * Both are lenient (as mail readers must be) and remember whether the
 * input was valid: base64 skips characters outside its alphabet but marks
 * them, quoted-printable keeps a bad "=XY" as written and marks it.  FETCH
 * BINARY answers [UNKNOWN-CTE] on a marked input, as Dovecot does.
 * Decoded quoted-printable keeps the input's line ends (LF or CRLF).
 */
#ifndef TERN_MIME_DECODE_H
#define TERN_MIME_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct mime_b64 {
	unsigned acc; /* bits collected */
	int nbits;    /* valid bits in acc */
	int pad;      /* '=' seen */
	bool bad;     /* a character outside the alphabet, or data after '=' */
};

void mime_b64_init(struct mime_b64 *d);
void mime_b64_feed(struct mime_b64 *d, const char *in, size_t len, struct buf *out);
/* False when the input was not valid base64 (output is still usable). */
bool mime_b64_finish(struct mime_b64 *d, struct buf *out);

#define MIME_QP_MAX_PENDING 256

struct mime_qp {
	int state;
	char hex1;
	char ws[MIME_QP_MAX_PENDING]; /* white space not yet known to be trailing */
	size_t nws;
	bool bad;
};

void mime_qp_init(struct mime_qp *d);
void mime_qp_feed(struct mime_qp *d, const char *in, size_t len, struct buf *out);
bool mime_qp_finish(struct mime_qp *d, struct buf *out);

/* The transfer encodings tern knows. */
enum mime_cte {
	MIME_CTE_7BIT,
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
	MIME_CTE_UNKNOWN,
};
/* From a Content-Transfer-Encoding value (any case; NULL: 7bit). */
enum mime_cte mime_cte_from_name(const char *name);

/* Any of the above in one object: identity for 7bit/8bit/binary. */
struct mime_decoder {
	enum mime_cte cte;
	struct mime_b64 b64;
	struct mime_qp qp;
};
void mime_decoder_init(struct mime_decoder *d, enum mime_cte cte);
void mime_decoder_feed(struct mime_decoder *d, const char *in, size_t len, struct buf *out);
bool mime_decoder_finish(struct mime_decoder *d, struct buf *out);

/* base64 encoding (no line breaks), for SASL and tests. */
void mime_b64_encode(const void *in, size_t len, struct buf *out);

#endif
