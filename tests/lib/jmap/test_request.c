/*
 * test_request.c - unit tests for lib/jmap/request.c and
 * lib/http/jframe.c: request objects and their problems, JSON pointers
 * with "*", result references, argument tables, frames both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/jframe.h"
#include "ipc.h"
#include "jmap/request.h"

static int parse(const char *s, struct jmap_request *r, const char **type)
{
	const char *detail;

	return jmap_request_parse(s, strlen(s), 4, r, type, &detail);
}

static void test_request_problems(void **state)
{
	struct jmap_request r;
	const char *type;

	(void)state;
	assert_int_equal(parse("{", &r, &type), -1);
	assert_string_equal(type, JMAP_PROBLEM_NOT_JSON);
	assert_int_equal(parse("[]", &r, &type), -1);
	assert_string_equal(type, JMAP_PROBLEM_NOT_REQUEST);
	assert_int_equal(parse("{\"using\":[1],\"methodCalls\":[]}", &r, &type), -1);
	assert_string_equal(type, JMAP_PROBLEM_NOT_REQUEST);
	assert_int_equal(parse("{\"using\":[],\"methodCalls\":[[\"a\",[],\"c\"]]}", &r, &type), -1);
	assert_string_equal(type, JMAP_PROBLEM_NOT_REQUEST);
	assert_int_equal(parse("{\"using\":[],\"methodCalls\":[[\"a\",{},\"1\"],[\"a\",{},\"2\"],"
			       "[\"a\",{},\"3\"],[\"a\",{},\"4\"],[\"a\",{},\"5\"]]}",
			     &r, &type),
	    -1);
	assert_string_equal(type, JMAP_PROBLEM_LIMIT);
	assert_int_equal(parse("{\"using\":[],\"methodCalls\":[],\"using\":[]}", &r, &type), -1);
	assert_int_equal(
	    parse("{\"using\":[\"x\"],\"methodCalls\":[[\"A/b\",{\"k\":1},\"c0\"]]}", &r, &type),
	    0);
	assert_int_equal(r.ncalls, 1);
	assert_string_equal(r.calls[0].name, "A/b");
	assert_string_equal(r.calls[0].id, "c0");
	jmap_request_free(&r);
}

static void test_pointer_and_refs(void **state)
{
	json_t *resp = json_loads("[[\"Email/query\",{\"ids\":[\"e1\",\"e2\"]},\"q\"],"
				  "[\"Email/get\",{\"list\":[{\"threadId\":\"t1\",\"a/b\":[1]},"
				  "{\"threadId\":\"t2\",\"a/b\":[2,3]}]},\"g\"]]",
	    0, NULL);
	json_t *args, *v;
	const char *why;

	(void)state;
	v = jmap_pointer(json_array_get(json_array_get(resp, 1), 1), "/list/*/threadId");
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_array_get(v, 1)), "t2");
	json_decref(v);
	v = jmap_pointer(json_array_get(json_array_get(resp, 1), 1), "/list/*/a~1b");
	assert_int_equal(json_array_size(v), 3); /* arrays flattened */
	json_decref(v);
	assert_null(jmap_pointer(json_array_get(json_array_get(resp, 1), 1), "/list/01"));
	assert_null(jmap_pointer(json_array_get(json_array_get(resp, 1), 1), "list"));

	args = json_loads(
	    "{\"#ids\":{\"resultOf\":\"q\",\"name\":\"Email/query\",\"path\":\"/ids\"}}", 0, NULL);
	assert_int_equal(jmap_resolve_refs(args, resp, &why), 0);
	assert_null(json_object_get(args, "#ids"));
	assert_int_equal(json_array_size(json_object_get(args, "ids")), 2);
	json_decref(args);
	/* wrong name, unknown id, path to nothing, both forms */
	args = json_loads(
	    "{\"#ids\":{\"resultOf\":\"q\",\"name\":\"Email/get\",\"path\":\"/ids\"}}", 0, NULL);
	assert_int_equal(jmap_resolve_refs(args, resp, &why), -1);
	json_decref(args);
	args = json_loads(
	    "{\"#ids\":{\"resultOf\":\"zz\",\"name\":\"Email/query\",\"path\":\"/ids\"}}", 0, NULL);
	assert_int_equal(jmap_resolve_refs(args, resp, &why), -1);
	json_decref(args);
	args = json_loads(
	    "{\"#ids\":{\"resultOf\":\"q\",\"name\":\"Email/query\",\"path\":\"/x\"}}", 0, NULL);
	assert_int_equal(jmap_resolve_refs(args, resp, &why), -1);
	json_decref(args);
	args = json_loads("{\"ids\":[],\"#ids\":{\"resultOf\":\"q\",\"name\":\"Email/query\","
			  "\"path\":\"/ids\"}}",
	    0, NULL);
	assert_int_equal(jmap_resolve_refs(args, resp, &why), -1);
	json_decref(args);
	json_decref(resp);
}

static void test_args(void **state)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ids", JA_IDS_OR_NULL, false}, {"limit", JA_UINT, false}, {NULL, 0, 0}};
	json_t *a;
	const char *bad;

	(void)state;
	a = json_loads("{\"accountId\":\"a1\",\"ids\":null,\"limit\":5}", 0, NULL);
	assert_true(jmap_args_check(a, spec, &bad));
	json_decref(a);
	a = json_loads("{\"ids\":[\"x\"]}", 0, NULL);
	assert_false(jmap_args_check(a, spec, &bad));
	assert_string_equal(bad, "accountId");
	json_decref(a);
	a = json_loads("{\"accountId\":\"a1\",\"limit\":-1}", 0, NULL);
	assert_false(jmap_args_check(a, spec, &bad));
	assert_string_equal(bad, "limit");
	json_decref(a);
	a = json_loads("{\"accountId\":\"a 1\"}", 0, NULL);
	assert_false(jmap_args_check(a, spec, &bad));
	json_decref(a);
	a = json_loads("{\"accountId\":\"a1\",\"extra\":1}", 0, NULL);
	assert_false(jmap_args_check(a, spec, &bad));
	assert_string_equal(bad, "extra");
	json_decref(a);
	assert_true(jmap_id_valid("e5f-1a_Z"));
	assert_false(jmap_id_valid(""));
	assert_false(jmap_id_valid("a.b"));
}

static void test_frames(void **state)
{
	struct jframe f = {.op = JFRAME_REQUEST,
	    .id = 7,
	    .method = "POST",
	    .path = "/jmap/api",
	    .query = "a=b",
	    .ctype = "application/json",
	    .body = "{\0}",
	    .body_len = 3};
	struct jframe g;
	struct buf b = BUF_INIT;
	struct ipc_msg m;
	const char *why;
	size_t used;

	(void)state;
	ipc_msg_init(&m);
	jframe_encode(&b, &f);
	assert_int_equal(ipc_parse(b.data, b.len, JFRAME_MAX_RECORD, &m, &used, &why), IPC_OK);
	assert_int_equal(jframe_decode(&m, &g, &why), 0);
	assert_int_equal(g.op, JFRAME_REQUEST);
	assert_int_equal(g.id, 7);
	assert_string_equal(g.path, "/jmap/api");
	assert_string_equal(g.query, "a=b");
	assert_int_equal(g.body_len, 3);
	assert_memory_equal(g.body, "{\0}", 3);
	/* a response with a status out of range, a request without a path */
	buf_reset(&b);
	ipc_put_str(&b, "op", "response");
	ipc_put_int(&b, "id", 1);
	ipc_put_int(&b, "status", 42);
	ipc_put(&b, "body", "", 0);
	ipc_end(&b);
	assert_int_equal(ipc_parse(b.data, b.len, JFRAME_MAX_RECORD, &m, &used, &why), IPC_OK);
	assert_int_equal(jframe_decode(&m, &g, &why), -1);
	buf_reset(&b);
	ipc_put_str(&b, "op", "request");
	ipc_put_int(&b, "id", 1);
	ipc_put_str(&b, "method", "GET");
	ipc_put_str(&b, "path", "relative");
	ipc_put(&b, "body", "", 0);
	ipc_end(&b);
	assert_int_equal(ipc_parse(b.data, b.len, JFRAME_MAX_RECORD, &m, &used, &why), IPC_OK);
	assert_int_equal(jframe_decode(&m, &g, &why), -1);
	ipc_msg_free(&m);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_problems),
	    cmocka_unit_test(test_pointer_and_refs),
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
