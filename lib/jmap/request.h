/*
 * jmap/request.h - the JMAP request object (RFC 8620 section 3.3) and
 * the validation of method arguments: pure functions over untrusted
 * JSON, fuzzed (tests/fuzz/fuzz_jmap_request.c).
 *
 *   jmap_request_parse()  the body of POST /jmap/api: JSON (else
 *                         notJSON), an object with "using" (array of
 *                         strings) and "methodCalls" (array of
 *                         [name, arguments object, call id]) and an
 *                         optional "createdIds" object (else notRequest),
 *                         at most max_calls calls (else limit).
 *   jmap_resolve_refs()   replaces every "#name": {resultOf, name, path}
 *                         argument by the value the JSON pointer path
 *                         (with JMAP's "*" for arrays) selects in the
 *                         earlier response of that call id and method
 *                         name (section 3.7).
 *   jmap_args_check()     checks arguments against a method's table:
 *                         each known argument of its type, required ones
 *                         present, unknown ones refused.
 */
#ifndef TERN_JMAP_REQUEST_H
#define TERN_JMAP_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JMAP_MAX_REQUEST (10 * 1024 * 1024)
#define JMAP_MAX_DEPTH 64

struct jmap_call {
	const char *name; /* points into the request's JSON */
	json_t *args;	  /* borrowed */
	const char *id;
};

struct jmap_request {
	json_t *root;
	json_t *using;	 /* array of strings */
	json_t *created; /* createdIds or NULL */
	struct jmap_call *calls;
	size_t ncalls;
};

/* Problem types of RFC 8620 section 3.6.1. */
#define JMAP_PROBLEM_NOT_JSON "urn:ietf:params:jmap:error:notJSON"
#define JMAP_PROBLEM_NOT_REQUEST "urn:ietf:params:jmap:error:notRequest"
#define JMAP_PROBLEM_LIMIT "urn:ietf:params:jmap:error:limit"
#define JMAP_PROBLEM_UNKNOWN_CAP "urn:ietf:params:jmap:error:unknownCapability"

/* 0, or -1 with *type (one of the above) and *detail (static). */
int jmap_request_parse(const char *body, size_t len, size_t max_calls, struct jmap_request *req,
    const char **type, const char **detail);
void jmap_request_free(struct jmap_request *req);

/*
 * Resolves the result references of args (changed in place) against
 * responses, the array of [name, arguments, id] answered so far.  0, or
 * -1: the call fails with invalidResultReference (*why: static text).
 */
int jmap_resolve_refs(json_t *args, json_t *responses, const char **why);

/* The value a JMAP JSON pointer selects (new reference), or NULL. */
json_t *jmap_pointer(json_t *v, const char *path);

enum jmap_arg_type {
	JA_ANY,
	JA_STRING,
	JA_ID, /* a string of 1..255 characters of [A-Za-z0-9_-] */
	JA_ID_OR_NULL,
	JA_IDS, /* array of JA_ID */
	JA_IDS_OR_NULL,
	JA_STRING_OR_NULL,
	JA_UINT, /* UnsignedInt (0 .. 2^53-1) */
	JA_UINT_OR_NULL,
	JA_INT,
	JA_BOOL,
	JA_OBJECT,
	JA_OBJECT_OR_NULL,
	JA_ARRAY,
	JA_ARRAY_OR_NULL,
};

struct jmap_arg {
	const char *name;
	enum jmap_arg_type type;
	bool required;
};

/* true, or false with *bad naming the wrong argument (points into spec
 * or args). */
bool jmap_args_check(json_t *args, const struct jmap_arg *spec, const char **bad);
bool jmap_id_valid(const char *s);

#endif
