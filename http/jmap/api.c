/*
 * api.c - POST /jmap/api (RFC 8620 section 3): the request object
 * (lib/jmap/request.h), each method call in order with its result
 * references resolved against the responses so far, the method table,
 * Core/echo, and the session resource (section 2).
 *
 * A request-level problem (notJSON, notRequest, limit) is answered 400
 * with an RFC 7807 problem-details body; a method-level one is an
 * "error" response in methodResponses: unknownMethod, invalidArguments,
 * invalidResultReference, accountNotFound, unknownCapability (a call of
 * a capability the request's "using" lacks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jmap.h"
#include "log.h"
#include "util.h"

static void core_echo(struct jcall *c)
{
	jmap_reply(c, "Core/echo", json_deep_copy(c->args));
}

static const struct {
	const char *name, *cap;
	jmap_method_fn *fn;
} methods[] = {
    {"Core/echo", JMAP_CAP_CORE, core_echo},
    {"Mailbox/get", JMAP_CAP_MAIL, jmap_mailbox_get},
    {"Mailbox/changes", JMAP_CAP_MAIL, jmap_mailbox_changes},
    {"Mailbox/query", JMAP_CAP_MAIL, jmap_mailbox_query},
    {"Mailbox/set", JMAP_CAP_MAIL, jmap_mailbox_set},
    {"Email/get", JMAP_CAP_MAIL, jmap_email_get},
    {"Email/query", JMAP_CAP_MAIL, jmap_email_query},
    {"Email/queryChanges", JMAP_CAP_MAIL, jmap_email_query_changes},
    {"Email/changes", JMAP_CAP_MAIL, jmap_email_changes},
    {"Email/set", JMAP_CAP_MAIL, jmap_email_set},
    {"Email/import", JMAP_CAP_MAIL, jmap_email_import},
    {"Email/parse", JMAP_CAP_MAIL, jmap_email_parse},
    {"Thread/get", JMAP_CAP_MAIL, jmap_thread_get},
    {"Thread/changes", JMAP_CAP_MAIL, jmap_thread_changes},
    {"SearchSnippet/get", JMAP_CAP_MAIL, jmap_snippet_get},
    {"Identity/get", JMAP_CAP_SUBMISSION, jmap_identity_get},
    {"EmailSubmission/set", JMAP_CAP_SUBMISSION, jmap_submission_set},
    {"VacationResponse/get", JMAP_CAP_VACATION, jmap_vacation_get},
    {"VacationResponse/set", JMAP_CAP_VACATION, jmap_vacation_set},
    {"Quota/get", JMAP_CAP_QUOTA, jmap_quota_get},
    {"Quota/changes", JMAP_CAP_QUOTA, jmap_quota_changes},
    {"Quota/query", JMAP_CAP_QUOTA, jmap_quota_query},
};

void jmap_reply(struct jcall *c, const char *name, json_t *args)
{
	json_array_append_new(c->responses, json_pack("[s, o, s]", name, args, c->id));
}

void jmap_reply_get(struct jcall *c, const char *name, const char *state, json_t *list, json_t *nf)
{
	char *own = state ? NULL : jmap_state(c->folders);

	jmap_reply(c, name,
	    json_pack("{s:s, s:s, s:o, s:o}", "accountId", jm.account, "state", state ? state : own,
		"list", list, "notFound", nf));
	free(own);
}

void jmap_reply_set(struct jcall *c, const char *name, const char *old, const char *state,
    json_t *created, json_t *updated, json_t *destroyed, json_t *nc, json_t *nu, json_t *nd)
{
	char *own = state ? NULL : jmap_state(c->folders);

	jmap_reply(c, name,
	    json_pack("{s:s, s:s?, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "accountId", jm.account,
		"oldState", old, "newState", state ? state : own, "created",
		created ? created : json_object(), "updated", updated ? updated : json_object(),
		"destroyed", destroyed ? destroyed : json_array(), "notCreated",
		nc ? nc : json_object(), "notUpdated", nu ? nu : json_object(), "notDestroyed",
		nd ? nd : json_object()));
	free(own);
}

bool jmap_set_limit(struct jcall *c, size_t n)
{
	if (n <= (size_t)jm.max_set)
		return true;
	jmap_error(c, "requestTooLarge", "more objects than maxObjectsInSet");
	return false;
}

size_t jmap_set_objects(const json_t *args)
{
	return json_object_size(json_object_get(args, "create")) +
	       json_object_size(json_object_get(args, "update")) +
	       json_array_size(json_object_get(args, "destroy"));
}

bool jmap_set_begin(struct jcall *c, const struct jmap_arg *spec, struct jmap_set *s)
{
	*s = (struct jmap_set){0};
	if (!jmap_args(c, spec) || !jmap_set_limit(c, jmap_set_objects(c->args)) ||
	    (s->old = jmap_state_if(c)) == NULL)
		return false;
	s->create = json_object_get(c->args, "create");
	s->update = json_object_get(c->args, "update");
	s->destroy = json_object_get(c->args, "destroy");
	s->created = json_object();
	s->updated = json_object();
	s->destroyed = json_array();
	s->nc = json_object();
	s->nu = json_object();
	s->nd = json_object();
	return true;
}

void jmap_set_reply(struct jcall *c, const char *name, struct jmap_set *s)
{
	jmap_reply_set(
	    c, name, s->old, NULL, s->created, s->updated, s->destroyed, s->nc, s->nu, s->nd);
	free(s->old);
	*s = (struct jmap_set){0};
}

void jmap_error(struct jcall *c, const char *type, const char *desc)
{
	json_t *a = json_pack("{s:s}", "type", type);

	if (desc)
		json_object_set_new(a, "description", json_string(desc));
	jmap_reply(c, "error", a);
}

json_t *jmap_set_error(const char *type, const char *desc)
{
	return desc ? json_pack("{s:s, s:s}", "type", type, "description", desc)
		    : json_pack("{s:s}", "type", type);
}

const char *jmap_store_error_text(const char *what)
{
	static char text[128];
	char when[32];
	time_t now = time(NULL);

	if (!mstore_error_internal(jm.store))
		return mstore_strerror(jm.store);
	log_error("jmap(%s): %s failed: %s", jm.user, what, mstore_strerror(jm.store));
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&now));
	snprintf(text, sizeof(text),
	    "Internal error occurred. Refer to server log for more information. [%s]", when);
	return text;
}

bool jmap_args(struct jcall *c, const struct jmap_arg *spec)
{
	const char *bad;
	json_t *acc = json_object_get(c->args, "accountId");

	if (!jmap_args_check(c->args, spec, &bad)) {
		char *d = xasprintf("bad argument: %s", bad);

		jmap_error(c, "invalidArguments", d);
		free(d);
		return false;
	}
	if (acc && json_is_string(acc) && strcmp(json_string_value(acc), jm.account) != 0) {
		jmap_error(c, "accountNotFound", NULL);
		return false;
	}
	return true;
}

const char *jmap_created_id(struct jcall *c, const char *id)
{
	json_t *v;

	if (id[0] != '#')
		return id;
	v = json_object_get(c->created, id + 1);
	return json_is_string(v) ? json_string_value(v) : id;
}

static bool using_has(json_t *using, const char *cap)
{
	size_t i;
	json_t *v;

	json_array_foreach(using, i, v) if (strcmp(json_string_value(v), cap) == 0) return true;
	return false;
}

static void problem(int *status, struct buf *out, const char *type, const char *detail)
{
	json_t *o = json_pack("{s:s, s:i, s:s}", "type", type, "status", 400, "detail", detail);
	char *t = json_dumps(o, JSON_COMPACT);

	*status = 400;
	buf_puts(out, t);
	free(t);
	json_decref(o);
}

void jmap_api(const char *body, size_t len, int *status, struct buf *out)
{
	struct jmap_request req;
	const char *type, *detail;
	struct jfolders folders;
	json_t *responses, *created, *res;
	char *state, *text;
	size_t i;
	json_t *v;

	if (jmap_request_parse(body ? body : "", len, (size_t)jm.max_calls, &req, &type, &detail) <
	    0) {
		problem(status, out, type, detail);
		return;
	}
	json_array_foreach(req.using, i, v)
	{
		const char *cap = json_string_value(v);

		if (strcmp(cap, JMAP_CAP_CORE) != 0 && strcmp(cap, JMAP_CAP_MAIL) != 0 &&
		    strcmp(cap, JMAP_CAP_SUBMISSION) != 0 && strcmp(cap, JMAP_CAP_VACATION) != 0 &&
		    strcmp(cap, JMAP_CAP_QUOTA) != 0) {
			problem(status, out, JMAP_PROBLEM_UNKNOWN_CAP, cap);
			jmap_request_free(&req);
			return;
		}
	}
	responses = json_array();
	created = req.created ? json_deep_copy(req.created) : json_object();
	jmap_folders_load(&folders);
	jmap_request_seq++;
	jmap_ids_sync(&folders, false); /* expunges since the last request */
	for (i = 0; i < req.ncalls; i++) {
		struct jcall c = {.name = req.calls[i].name,
		    .id = req.calls[i].id,
		    .args = req.calls[i].args,
		    .responses = responses,
		    .created = created,
		    .using = req.using,
		    .folders = &folders};
		const char *why;
		size_t m;

		if (jmap_resolve_refs(c.args, responses, &why) < 0) {
			jmap_error(&c, "invalidResultReference", why);
			continue;
		}
		for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
			if (strcmp(methods[m].name, c.name) == 0)
				break;
		if (m == sizeof(methods) / sizeof(methods[0])) {
			jmap_error(&c, "unknownMethod", c.name);
			continue;
		}
		if (!using_has(req.using, methods[m].cap)) {
			jmap_error(&c, "unknownMethod", "capability not in \"using\"");
			continue;
		}
		methods[m].fn(&c);
		if (strstr(c.name, "/set") || strstr(c.name, "/import")) {
			/* the next call sees the change */
			jmap_folders_free(&folders);
			jmap_folders_load(&folders);
			jmap_ids_dirty();
		}
	}
	state = jmap_state(&folders);
	jmap_folders_free(&folders);
	res = json_pack("{s:o, s:s}", "methodResponses", responses, "sessionState", "0");
	if (req.created)
		json_object_set_new(res, "createdIds", created);
	else
		json_decref(created);
	free(state);
	text = json_dumps(res, JSON_COMPACT);
	buf_puts(out, text);
	free(text);
	json_decref(res);
	jmap_request_free(&req);
	*status = 200;
}

void jmap_session_resource(struct buf *out)
{
	json_t *caps, *acaps, *o;
	char *text;

	caps = json_pack("{s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:[s]}, s:{}, s:{}, s:{}, s:{}}",
	    JMAP_CAP_CORE, "maxSizeUpload", JMAP_MAX_UPLOAD, "maxConcurrentUpload", 4,
	    "maxSizeRequest", JMAP_MAX_REQUEST, "maxConcurrentRequests", 4, "maxCallsInRequest",
	    (int)jm.max_calls, "maxObjectsInGet", (int)jm.max_get, "maxObjectsInSet",
	    (int)jm.max_set, "collationAlgorithms", "i;ascii-casemap", JMAP_CAP_MAIL,
	    JMAP_CAP_SUBMISSION, JMAP_CAP_VACATION, JMAP_CAP_QUOTA);
	acaps = json_pack("{s:{s:n, s:i, s:i, s:i, s:[s,s,s], s:b}, s:{s:i, s:{}}, s:{}, s:{}}",
	    JMAP_CAP_MAIL, "maxMailboxesPerEmail", "maxMailboxDepth", 10, "maxSizeMailboxName", 255,
	    "maxSizeAttachmentsPerEmail", JMAP_MAX_UPLOAD, "emailQuerySortOptions", "receivedAt",
	    "size", "sentAt", "mayCreateTopLevelMailbox", 1, JMAP_CAP_SUBMISSION, "maxDelayedSend",
	    0, "submissionExtensions", JMAP_CAP_VACATION, JMAP_CAP_QUOTA);
	o = json_pack(
	    "{s:o, s:{s:{s:s, s:b, s:b, s:o}}, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:s, "
	    "s:s, s:s}",
	    "capabilities", caps, "accounts", jm.account, "name", jm.user, "isPersonal", 1,
	    "isReadOnly", 0, "accountCapabilities", acaps, "primaryAccounts", JMAP_CAP_MAIL,
	    jm.account, JMAP_CAP_SUBMISSION, jm.account, JMAP_CAP_VACATION, jm.account,
	    JMAP_CAP_QUOTA, jm.account, "username", jm.user, "apiUrl", "/jmap/api", "downloadUrl",
	    "/jmap/download/{accountId}/{blobId}/{name}?type={type}", "uploadUrl",
	    "/jmap/upload/{accountId}/", "eventSourceUrl",
	    "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}", "state", "0");
	text = json_dumps(o, JSON_COMPACT);
	buf_puts(out, text);
	free(text);
	json_decref(o);
}
