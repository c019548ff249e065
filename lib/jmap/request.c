/*
 * jmap/request.c - the JMAP request object, result references and the
 * validation of method arguments (request.h).
 */
#include <stdlib.h>
#include <string.h>

#include "jmap/request.h"

bool jmap_id_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
			(s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_'))
			return false;
	return n >= 1 && n <= 255;
}

/* Depth of nesting (jansson decodes it recursively; bounded before use). */
static bool depth_ok(const char *p, size_t len)
{
	int depth = 0;
	bool str = false;

	for (size_t i = 0; i < len; i++) {
		char c = p[i];

		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = false;
		} else if (c == '"') {
			str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > JMAP_MAX_DEPTH)
				return false;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return true;
}

int jmap_request_parse(const char *body, size_t len, size_t max_calls, struct jmap_request *req,
    const char **type, const char **detail)
{
	json_error_t err;
	json_t *calls, *v;
	size_t i;

	memset(req, 0, sizeof(*req));
	*type = JMAP_PROBLEM_NOT_JSON;
	*detail = "the request is not JSON";
	if (len > JMAP_MAX_REQUEST) {
		*type = JMAP_PROBLEM_LIMIT;
		*detail = "maxSizeRequest";
		return -1;
	}
	if (!depth_ok(body, len))
		return -1;
	req->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (req->root == NULL)
		return -1;
	*type = JMAP_PROBLEM_NOT_REQUEST;
	*detail = "not a JMAP Request object";
	if (!json_is_object(req->root))
		goto bad;
	req->using = json_object_get(req->root, "using");
	calls = json_object_get(req->root, "methodCalls");
	req->created = json_object_get(req->root, "createdIds");
	if (!json_is_array(req->using) || !json_is_array(calls) ||
	    (req->created && !json_is_object(req->created)))
		goto bad;
	json_array_foreach(req->using, i, v) if (!json_is_string(v)) goto bad;
	if (json_array_size(calls) > max_calls) {
		*type = JMAP_PROBLEM_LIMIT;
		*detail = "maxCallsInRequest";
		goto bad;
	}
	req->calls = calloc(json_array_size(calls) + 1, sizeof(*req->calls));
	if (req->calls == NULL)
		goto bad;
	json_array_foreach(calls, i, v)
	{
		json_t *n = json_array_get(v, 0), *a = json_array_get(v, 1),
		       *id = json_array_get(v, 2);

		if (!json_is_array(v) || json_array_size(v) != 3 || !json_is_string(n) ||
		    !json_is_object(a) || !json_is_string(id)) {
			*detail = "a method call is not [name, arguments, id]";
			goto bad;
		}
		req->calls[i].name = json_string_value(n);
		req->calls[i].args = a;
		req->calls[i].id = json_string_value(id);
	}
	req->ncalls = json_array_size(calls);
	*type = *detail = NULL;
	return 0;
bad:
	jmap_request_free(req);
	return -1;
}

void jmap_request_free(struct jmap_request *req)
{
	free(req->calls);
	json_decref(req->root);
	memset(req, 0, sizeof(*req));
}

/* One reference token of a pointer: "~1" is "/", "~0" is "~". */
static char *token(const char *p, size_t n)
{
	char *t = malloc(n + 1), *o = t;

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
			*o++ = p[i + 1] == '0' ? '~' : '/';
			i++;
		} else {
			*o++ = p[i];
		}
	}
	*o = 0;
	return t;
}

static json_t *pointer_at(json_t *v, const char *path, int depth)
{
	const char *end;
	char *tok;
	json_t *r = NULL;

	if (depth > JMAP_MAX_DEPTH)
		return NULL;
	if (*path == 0)
		return json_incref(v);
	if (*path != '/')
		return NULL;
	path++;
	end = strchr(path, '/');
	if (end == NULL)
		end = path + strlen(path);
	if ((tok = token(path, (size_t)(end - path))) == NULL)
		return NULL;
	if (json_is_array(v) && strcmp(tok, "*") == 0) {
		/* each element; arrays that come out are flattened */
		size_t i;
		json_t *e;

		r = json_array();
		json_array_foreach(v, i, e)
		{
			json_t *x = pointer_at(e, end, depth + 1);

			if (x == NULL) {
				json_decref(r);
				r = NULL;
				break;
			}
			if (json_is_array(x))
				json_array_extend(r, x);
			else
				json_array_append(r, x);
			json_decref(x);
		}
	} else if (json_is_array(v)) {
		char *e;
		unsigned long idx = strtoul(tok, &e, 10);

		if (*tok && *e == 0 && (tok[0] != '0' || tok[1] == 0) && idx < json_array_size(v))
			r = pointer_at(json_array_get(v, idx), end, depth + 1);
	} else if (json_is_object(v) && json_object_get(v, tok)) {
		r = pointer_at(json_object_get(v, tok), end, depth + 1);
	}
	free(tok);
	return r;
}

json_t *jmap_pointer(json_t *v, const char *path)
{
	return pointer_at(v, path, 0);
}

int jmap_resolve_refs(json_t *args, json_t *responses, const char **why)
{
	const char *key;
	json_t *ref;
	void *tmp;

	json_object_foreach_safe(args, tmp, key, ref)
	{
		const char *rid, *rname, *path;
		json_t *resp, *val = NULL;
		size_t i;

		if (key[0] != '#')
			continue;
		*why = "bad ResultReference";
		if (json_unpack(ref, "{s:s, s:s, s:s}", "resultOf", &rid, "name", &rname, "path",
			&path) < 0)
			return -1;
		if (json_object_get(args, key + 1)) {
			*why = "argument given both with and without #";
			return -1;
		}
		*why = "no earlier response with that id and name";
		json_array_foreach(responses, i, resp)
		{
			if (strcmp(json_string_value(json_array_get(resp, 2)), rid) != 0)
				continue;
			if (strcmp(json_string_value(json_array_get(resp, 0)), rname) != 0)
				continue;
			val = jmap_pointer(json_array_get(resp, 1), path);
			*why = "the path selects nothing";
			break;
		}
		if (val == NULL)
			return -1;
		json_object_set_new(args, key + 1, val);
		json_object_del(args, key);
	}
	*why = NULL;
	return 0;
}

static bool type_ok(json_t *v, enum jmap_arg_type t)
{
	size_t i;
	json_t *e;

	switch (t) {
	case JA_ANY: return true;
	case JA_STRING: return json_is_string(v);
	case JA_STRING_OR_NULL: return json_is_null(v) || json_is_string(v);
	case JA_ID: return json_is_string(v) && jmap_id_valid(json_string_value(v));
	case JA_ID_OR_NULL: return json_is_null(v) || type_ok(v, JA_ID);
	case JA_IDS_OR_NULL:
		if (json_is_null(v))
			return true;
		/* fall through */
	case JA_IDS:
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, e) if (!type_ok(e, JA_ID)) return false;
		return true;
	case JA_UINT_OR_NULL:
		if (json_is_null(v))
			return true;
		/* fall through */
	case JA_UINT:
		return json_is_integer(v) && json_integer_value(v) >= 0 &&
		       json_integer_value(v) <= 9007199254740991LL;
	case JA_INT:
		return json_is_integer(v) && json_integer_value(v) >= -9007199254740991LL &&
		       json_integer_value(v) <= 9007199254740991LL;
	case JA_BOOL: return json_is_boolean(v);
	case JA_OBJECT: return json_is_object(v);
	case JA_OBJECT_OR_NULL: return json_is_null(v) || json_is_object(v);
	case JA_ARRAY: return json_is_array(v);
	case JA_ARRAY_OR_NULL: return json_is_null(v) || json_is_array(v);
	}
	return false;
}

bool jmap_args_check(json_t *args, const struct jmap_arg *spec, const char **bad)
{
	const char *key;
	json_t *v;

	json_object_foreach(args, key, v)
	{
		const struct jmap_arg *a = spec;

		while (a->name && strcmp(a->name, key) != 0)
			a++;
		if (a->name == NULL || !type_ok(v, a->type)) {
			*bad = key;
			return false;
		}
	}
	for (const struct jmap_arg *a = spec; a->name; a++)
		if (a->required && json_object_get(args, a->name) == NULL) {
			*bad = a->name;
			return false;
		}
	*bad = NULL;
	return true;
}
