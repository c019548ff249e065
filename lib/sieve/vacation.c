/*
 * sieve/vacation.c - the vacation action (RFC 5230) and the rules of
 * RFC 3834 for automatic replies.
 *
 * The action is listed whenever the script asks for it; whether a reply
 * may really go is decided here and recorded in action->suppressed:
 *   - never to the null sender or to MAILER-DAEMON, owner-*, *-request
 *     (RFC 5230 4.6);
 *   - never to a message that is Auto-Submitted (anything but "no"),
 *     from a list (List-Id and the other RFC 2369 fields) or of
 *     Precedence bulk, list or junk (RFC 3834 2);
 *   - only when one of the user's addresses (the recipient, the original
 *     recipient, env->user and :addresses) is in To, Cc, Bcc, Resent-To
 *     or Resent-Cc (RFC 5230 4.5);
 *   - once per period per sender and handle: the tracking id is a hash
 *     of both; env->track_check says whether it is still recorded.  The
 *     caller records it when it has sent the reply.
 * The default period is 7 days, at least 1 day (Pigeonhole's default
 * sieve_vacation_min_period), at most 10 years.
 */
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "mime/address.h"
#include "mime/header.h"
#include "sieve/sieve_int.h"
#include "util.h"

char *sv_track_id(const char *kind, const char *a, const char *b)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *hex;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, kind, strlen(kind) + 1);
	EVP_DigestUpdate(ctx, a, strlen(a) + 1);
	EVP_DigestUpdate(ctx, b, strlen(b) + 1);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	hex = xmalloc(mdlen * 2 + 1);
	hex_encode(md, mdlen, hex);
	return hex;
}

static bool sv_field_present(
    const char *msg, size_t len, const char *name, const char **value, size_t *vlen)
{
	struct mime_hdr_iter it;
	struct mime_hdr_field f;

	mime_hdr_iter_init(&it, msg, len);
	while (mime_hdr_iter_next(&it, &f)) {
		if (mime_hdr_name_is(&f, name)) {
			if (value) {
				*value = f.value;
				*vlen = f.value_len;
			}
			return true;
		}
	}
	return false;
}

/* The words of a header value without white space or comments. */
static bool sv_value_is(const char *v, size_t len, const char *word)
{
	struct buf b = BUF_INIT;
	bool eq;

	mime_hdr_unfold(v, len, &b);
	eq = strcasecmp(buf_cstr(&b), word) == 0;
	buf_free(&b);
	return eq;
}

static const char *sv_suppress_reason(const char *msg, size_t len, const char *from)
{
	static const char *const lists[] = {"list-id", "list-help", "list-subscribe",
	    "list-unsubscribe", "list-post", "list-owner", "list-archive", NULL};
	const char *v, *at;
	size_t vlen;

	if (from == NULL || *from == 0)
		return "null envelope sender";
	at = strrchr(from, '@');
	if ((at && (size_t)(at - from) == 13 && strncasecmp(from, "MAILER-DAEMON", 13) == 0) ||
	    strncasecmp(from, "owner-", 6) == 0 ||
	    (at && at - from >= 8 && strncasecmp(at - 8, "-request", 8) == 0))
		return "sender is a system address";
	if (sv_auto_submitted(msg, len))
		return "message is auto-submitted";
	for (size_t i = 0; lists[i]; i++)
		if (sv_field_present(msg, len, lists[i], NULL, NULL))
			return "message is from a mailing list";
	if (sv_field_present(msg, len, "precedence", &v, &vlen) &&
	    (sv_value_is(v, vlen, "bulk") || sv_value_is(v, vlen, "list") ||
		sv_value_is(v, vlen, "junk")))
		return "message has bulk precedence";
	return NULL;
}

bool sv_auto_submitted(const char *msg, size_t len)
{
	const char *v;
	size_t vlen;

	return sv_field_present(msg, len, "auto-submitted", &v, &vlen) &&
	       !sv_value_is(v, vlen, "no");
}

bool sieve_vacation_suppressed(const char *msg, size_t len, const char *envelope_from)
{
	return sv_suppress_reason(msg, len, envelope_from) != NULL;
}

/* addr ("a@b" or "<a@b>") equals local@host, the domain without case. */
static bool sv_addr_eq(const char *addr, const char *local, const char *host)
{
	const char *at;
	size_t n, llen = strlen(local);

	if (*addr == '<')
		addr++;
	n = strcspn(addr, ">");
	at = memrchr(addr, '@', n);
	if (at == NULL)
		return false;
	return (size_t)(at - addr) == llen && strncasecmp(addr, local, llen) == 0 &&
	       strlen(host) == n - (size_t)(at - addr) - 1 &&
	       strncasecmp(at + 1, host, strlen(host)) == 0;
}

static bool sv_is_mine(const char *local, const char *host, const struct sieve_env *env,
    const struct sv_vacation_req *v)
{
	const char *own[] = {env->envelope_to, env->orig_to, env->user};

	for (size_t i = 0; i < 3; i++)
		if (own[i] && sv_addr_eq(own[i], local, host))
			return true;
	for (size_t i = 0; i < v->naddresses; i++)
		if (sv_addr_eq(v->addresses[i], local, host))
			return true;
	return false;
}

/* RFC 5230 4.5: one of the user's addresses is a visible recipient. */
static bool sv_addressed_to_me(
    const struct sieve_env *env, const struct sv_msg *m, const struct sv_vacation_req *v)
{
	static const char *const fields[] = {"to", "cc", "bcc", "resent-to", "resent-cc", NULL};
	bool found = false;

	for (size_t i = 0; fields[i] && !found; i++) {
		char **vals;
		size_t n = sv_msg_header_raw(m, fields[i], &vals);

		for (size_t j = 0; j < n; j++) {
			struct mime_addr *list = mime_addr_parse(vals[j], strlen(vals[j]), 0, 1000);

			for (struct mime_addr *a = list; a && !found; a = a->next)
				if (a->mailbox && a->host &&
				    sv_is_mine(a->mailbox, a->host, env, v))
					found = true;
			mime_addr_free(list);
			free(vals[j]);
		}
		free(vals);
	}
	return found;
}

void sv_vacation(const struct sieve_env *env, const struct sv_msg *m,
    const struct sv_vacation_req *v, struct sieve_result *res)
{
	struct sv_action_req req = {
	    .type = SIEVE_ACT_VACATION, .target = v->reason, .line = v->line};
	struct buf handle = BUF_INIT;
	const char *from = env->envelope_from ? env->envelope_from : "";
	struct sieve_action *a;

	if (!sv_result_add(res, &req))
		return;
	a = &res->actions[res->nactions - 1];
	if (v->handle) {
		buf_puts(&handle, v->handle);
	} else {
		buf_printf(&handle, "%s%s%s%s", v->reason,
		    v->subject ? v->subject : "<default-subject>",
		    v->from ? v->from : "<default-from>", v->mime ? "<MIME>" : "<NO-MIME>");
	}
	a->to = xstrdup(from);
	a->subject = v->subject ? xstrdup(v->subject) : NULL;
	a->from = v->from ? xstrdup(v->from) : NULL;
	a->handle = xstrdup(buf_cstr(&handle));
	a->mime = v->mime;
	a->seconds = v->seconds;
	a->track_id = sv_track_id("vacation", from, buf_cstr(&handle));
	a->track_seconds = v->seconds;
	a->suppressed = sv_suppress_reason(m->data, m->hdr_len, from);
	if (a->suppressed == NULL && !sv_addressed_to_me(env, m, v))
		a->suppressed = "message is not addressed to the recipient";
	if (a->suppressed == NULL && env->track_check && env->track_check(env->ctx, a->track_id))
		a->suppressed = "already replied to this sender in the period";
	buf_free(&handle);
}
