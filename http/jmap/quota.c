/*
 * quota.c - Quota/get, Quota/changes and Quota/query (RFC 9425) from the
 * mailbox store's quota: the account's quota_rule (users file) or the
 * mailbox_quota_* defaults, the numbers local enforces at delivery and
 * imap's GETQUOTA reports.
 *
 * Up to two Quota objects, "storage" (resourceType octets) and "count"
 * (resourceType count), each only when it has a limit; scope "account",
 * types ["Email"].  The state string holds every object's used and limit
 * values, so Quota/changes is exact: an object whose numbers differ from
 * the ones in sinceState is updated (created or destroyed when its limit
 * came or went).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jmap_int.h"
#include "mstore/mstore.h"

struct qobj {
	const char *id, *type;
	unsigned long long used, limit;
};

static const char *const qids[2] = {"storage", "count"};
static const char *const qtypes[2] = {"octets", "count"};

/* Used and limit of storage [0] and count [1]; used is 0 without a limit. */
static void quota_numbers(unsigned long long used[2], unsigned long long limit[2])
{
	struct mstore_quota mq;

	memset(&mq, 0, sizeof(mq));
	if (mstore_quota_get(jm.store, &mq) < 0)
		memset(&mq, 0, sizeof(mq));
	limit[0] = mq.limit_bytes;
	used[0] = mq.limit_bytes ? mq.bytes : 0;
	limit[1] = mq.limit_messages;
	used[1] = mq.limit_messages ? mq.messages : 0;
}

/* The account's quota objects (n of them) and its state. */
static size_t quota_load(struct qobj q[2], char *state, size_t len)
{
	unsigned long long used[2], limit[2];
	size_t n = 0;

	quota_numbers(used, limit);
	for (int i = 0; i < 2; i++)
		if (limit[i])
			q[n++] = (struct qobj){
			    .id = qids[i], .type = qtypes[i], .used = used[i], .limit = limit[i]};
	snprintf(state, len, "s%llu.%llu-c%llu.%llu", used[0], limit[0], used[1], limit[1]);
	return n;
}

static json_t *quota_json(const struct qobj *q, json_t *props)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:[s], s:n, s:n, s:n}", "id", q->id,
	    "resourceType", q->type, "used", (json_int_t)q->used, "hardLimit", (json_int_t)q->limit,
	    "scope", "account", "name",
	    strcmp(q->id, "storage") == 0 ? "Mail storage" : "Number of messages", "types", "Email",
	    "warnLimit", "softLimit", "description");

	if (json_is_array(props)) {
		json_t *r = json_object(), *p;
		size_t i;

		json_object_set(r, "id", json_object_get(o, "id"));
		json_array_foreach(
		    props, i, p) if (json_is_string(p) && json_object_get(o, json_string_value(p)))
		    json_object_set(
			r, json_string_value(p), json_object_get(o, json_string_value(p)));
		json_decref(o);
		return r;
	}
	return o;
}

void jmap_quota_get(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"ids", JA_IDS_OR_NULL, false}, {"properties", JA_ARRAY_OR_NULL, false}, {NULL, 0, 0}};
	struct qobj q[2];
	char state[128];
	size_t n, i, k;
	json_t *ids, *id, *list = json_array(), *nf = json_array();
	json_t *props;

	if (!jmap_args(c, spec)) {
		json_decref(list);
		json_decref(nf);
		return;
	}
	n = quota_load(q, state, sizeof(state));
	ids = json_object_get(c->args, "ids");
	props = json_object_get(c->args, "properties");
	if (json_is_array(ids)) {
		json_array_foreach(ids, i, id)
		{
			for (k = 0; k < n && strcmp(q[k].id, json_string_value(id)) != 0; k++)
				;
			if (k < n)
				json_array_append_new(list, quota_json(&q[k], props));
			else
				json_array_append(nf, id);
		}
	} else {
		for (k = 0; k < n; k++)
			json_array_append_new(list, quota_json(&q[k], props));
	}
	jmap_reply_get(c, "Quota/get", state, list, nf);
}

void jmap_quota_changes(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"sinceState", JA_STRING, true}, {"maxChanges", JA_UINT_OR_NULL, false}, {NULL, 0, 0}};
	unsigned long long used[2], limit[2], now_used[2], now_limit[2];
	struct qobj q[2];
	char state[128];
	json_t *cr = json_array(), *up = json_array(), *de = json_array();

	if (!jmap_args(c, spec)) {
		json_decref(cr);
		json_decref(up);
		json_decref(de);
		return;
	}
	quota_load(q, state, sizeof(state));
	if (sscanf(json_string_value(json_object_get(c->args, "sinceState")),
		"s%llu.%llu-c%llu.%llu", &used[0], &limit[0], &used[1], &limit[1]) != 4) {
		json_decref(cr);
		json_decref(up);
		json_decref(de);
		jmap_error(c, "cannotCalculateChanges", "not a Quota state");
		return;
	}
	quota_numbers(now_used, now_limit);
	for (int i = 0; i < 2; i++) {
		if (limit[i] == 0 && now_limit[i] != 0)
			json_array_append_new(cr, json_string(qids[i]));
		else if (limit[i] != 0 && now_limit[i] == 0)
			json_array_append_new(de, json_string(qids[i]));
		else if (limit[i] != now_limit[i] || used[i] != now_used[i])
			json_array_append_new(up, json_string(qids[i]));
	}
	jmap_reply(c, "Quota/changes",
	    json_pack("{s:s, s:o, s:s, s:b, s:o, s:o, s:o, s:n}", "accountId", jm.account,
		"oldState", json_object_get(c->args, "sinceState"), "newState", state,
		"hasMoreChanges", 0, "created", cr, "updated", up, "destroyed", de,
		"updatedProperties"));
}

/* Every quota (there are at most two); a filter or sort is not
 * supported beyond an empty one. */
void jmap_quota_query(struct jcall *c)
{
	static const struct jmap_arg spec[] = {{"accountId", JA_ID, true},
	    {"filter", JA_OBJECT_OR_NULL, false}, {"sort", JA_ARRAY_OR_NULL, false},
	    {"position", JA_INT, false}, {"limit", JA_UINT_OR_NULL, false},
	    {"calculateTotal", JA_BOOL, false}, {NULL, 0, 0}};
	struct qobj q[2];
	char state[128];
	size_t n;
	json_t *ids = json_array(), *f;

	if (!jmap_args(c, spec)) {
		json_decref(ids);
		return;
	}
	f = json_object_get(c->args, "filter");
	if ((json_is_object(f) && json_object_size(f)) ||
	    json_array_size(json_object_get(c->args, "sort"))) {
		json_decref(ids);
		jmap_error(c, "unsupportedFilter", "Quota/query takes no filter or sort");
		return;
	}
	n = quota_load(q, state, sizeof(state));
	for (size_t k = 0; k < n; k++)
		json_array_append_new(ids, json_string(q[k].id));
	jmap_reply(c, "Quota/query",
	    json_pack("{s:s, s:s, s:b, s:i, s:o, s:I}", "accountId", jm.account, "queryState",
		state, "canCalculateChanges", 0, "position", 0, "ids", ids, "total",
		(json_int_t)n));
}
