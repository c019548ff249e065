/*
 * fuzz_jmap_request.c - libFuzzer harness for the JMAP request decoder
 * and the argument validation (lib/jmap/request.c), which jmap runs on
 * every POST /jmap/api body a client sends.  Each call that decodes has
 * its result references resolved against the calls before it (their
 * arguments standing in for responses), its arguments checked against
 * the tables of a /get and a /set, and its id used as a JSON pointer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jmap/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct jmap_arg get_spec[] = {{"accountId", JA_ID, true},
    {"ids", JA_IDS_OR_NULL, false}, {"properties", JA_ARRAY_OR_NULL, false},
    {"maxBodyValueBytes", JA_UINT, false}, {"fetchTextBodyValues", JA_BOOL, false}, {NULL, 0, 0}};
static const struct jmap_arg set_spec[] = {{"accountId", JA_ID, true},
    {"ifInState", JA_STRING_OR_NULL, false}, {"create", JA_OBJECT_OR_NULL, false},
    {"update", JA_OBJECT_OR_NULL, false}, {"destroy", JA_IDS_OR_NULL, false},
    {"position", JA_INT, false}, {"limit", JA_UINT_OR_NULL, false}, {NULL, 0, 0}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jmap_request req;
	const char *type, *detail, *why, *bad;
	json_t *responses;

	if (jmap_request_parse((const char *)data, size, 64, &req, &type, &detail) < 0) {
		if (type == NULL || detail == NULL || req.root != NULL)
			abort();
		return 0;
	}
	if (req.ncalls > 64 || !json_is_array(req.using))
		abort();
	responses = json_array();
	for (size_t i = 0; i < req.ncalls; i++) {
		struct jmap_call *c = &req.calls[i];
		json_t *v;

		if (c->name == NULL || c->id == NULL || !json_is_object(c->args))
			abort();
		if (jmap_resolve_refs(c->args, responses, &why) < 0) {
			if (why == NULL)
				abort();
		} else if (json_object_iter_key(json_object_iter(c->args)) &&
			   ((const char *)json_object_iter_key(json_object_iter(c->args)))[0] ==
			       '#' &&
			   json_object_size(c->args) == 1) {
			abort(); /* a lone reference left unresolved */
		}
		if (!jmap_args_check(c->args, get_spec, &bad) && bad == NULL)
			abort();
		if (!jmap_args_check(c->args, set_spec, &bad) && bad == NULL)
			abort();
		v = jmap_pointer(c->args, c->id);
		json_decref(v);
		(void)jmap_id_valid(c->id);
		json_array_append_new(responses, json_pack("[s, O, s]", c->name, c->args, c->id));
	}
	json_decref(responses);
	jmap_request_free(&req);
	return 0;
}
