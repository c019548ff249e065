/*
 * tlsrpt.h - the TLS-RPT policy record (RFC 8460 section 3), the TXT
 * record at _smtp._tls.DOMAIN that says where senders report their TLS
 * failures: a pure parser over the record's text (it comes from DNS, so
 * it is unit tested and fuzzed).
 *
 *   tlsrpt_record_parse  "v=TLSRPTv1; rua=mailto:a@b.example" -> the URIs
 *
 * Not here: sending reports (the smtp client's), the DNS look-up.
 */
#ifndef TERN_TLSRPT_H
#define TERN_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define TLSRPT_RUA_MAX 16 /* URIs kept from one record */

struct tlsrpt_record {
	char **rua; /* the URIs as written, mailto: and https: ones only */
	size_t nrua;
};

/*
 * RFC 8460 3: "v=TLSRPTv1" first, then ';'-separated fields with optional
 * white space and an optional final ';': exactly one rua= (a ','-separated
 * list of URIs), extensions (name=value) ignored.  URIs of other schemes
 * than mailto: and https: are skipped; a record with none left is invalid.
 * False with why filled when the record is not a valid TLS-RPT record;
 * else r is filled (free it with tlsrpt_record_free).
 */
bool tlsrpt_record_parse(const char *txt, struct tlsrpt_record *r, struct buf *why);
void tlsrpt_record_free(struct tlsrpt_record *r);

#endif
