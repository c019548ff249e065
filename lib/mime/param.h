/*
 * mime/param.h - Content-Type and Content-Disposition values: a token (or
 * type/subtype) and its parameters (RFC 2045 5.1, RFC 2183), with RFC 2231
 * continuations merged and extended values decodable to UTF-8.
 *
 * mime_params_parse() gives the parameters as BODYSTRUCTURE shows them
 * (as Dovecot 2.3 does): names and values as written, quotes removed, continuations
 * "n*0, n*1" joined into one "n", and an extended parameter (RFC 2231
 * section 4, "n*=utf-8''a%20b" or "n*0*=...") kept encoded under the name
 * "n*" (plain parameters are listed first, then the RFC 2231 ones).
 * mime_param_utf8() turns either form into UTF-8 for a reader
 * (JMAP's name, Sieve): "n*" is percent-decoded in its charset, a plain
 * value has its RFC 2047 words decoded (mailers put those in filenames).
 *
 * At most MIME_PARAMS_MAX parameters are kept; each list is owned by its
 * struct and freed with mime_params_free().  Pure.
 */
#ifndef TERN_MIME_PARAM_H
#define TERN_MIME_PARAM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define MIME_PARAMS_MAX 64

struct mime_param {
	char *name;
	char *value;
};

struct mime_params {
	struct mime_param *v;
	size_t n;
};

/*
 * "type/subtype; a=b": *type and *subtype are new lowercase strings, both
 * NULL if the value does not start with a valid type/subtype (the caller
 * then uses its default); the parameters are parsed either way.
 */
void mime_content_type_parse(
    const char *value, size_t len, char **type, char **subtype, struct mime_params *params);
/* "inline; filename=x": *token lowercase, NULL if missing. */
void mime_token_params_parse(
    const char *value, size_t len, char **token, struct mime_params *params);
/* The parameters after a ';' at value[0..len). */
void mime_params_parse(const char *value, size_t len, struct mime_params *params);
void mime_params_free(struct mime_params *params);
/* The value of a parameter (name in any case), NULL if absent. */
const char *mime_params_get(const struct mime_params *params, const char *name);
/* A parameter's value for a reader, in UTF-8 (see above); false if absent.
 * Looks for "name*" first, then "name". */
bool mime_param_utf8(const struct mime_params *params, const char *name, struct buf *out);

#endif
