/*
 * commands.c - the authenticated state of ManageSieve (RFC 5804 2.3-2.12)
 * in Pigeonhole's words: HAVESPACE, PUTSCRIPT (checked with lib/sieve
 * first: a script that does not compile is never stored), LISTSCRIPTS,
 * SETACTIVE (checked too), GETSCRIPT, DELETESCRIPT, RENAMESCRIPT,
 * CHECKSCRIPT, CAPABILITY, NOOP, LOGOUT, UNAUTHENTICATE (2.14.1: the
 * client goes back to managesieve-login, session.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "managesieve.h"
#include "sieve/sieve.h"
#include "util.h"

#define MSV_NONEXISTENT "NO (NONEXISTENT) \"There is no script by that name.\"\r\n"
#define MSV_BAD_NAME "NO \"Invalid script name.\"\r\n"

static void msv_reply(struct msv_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void msv_reply(struct msv_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&s->out, fmt, ap);
	va_end(ap);
}

/* A storage failure other than the expected ones: logged, NO to the client. */
static void msv_failed(struct msv_session *s, const char *what, const char *name)
{
	int e = errno;

	if (e == ENOENT) {
		msv_reply(s, MSV_NONEXISTENT);
		return;
	}
	log_warn("managesieve(%s): %s \"%s\": %s", s->user, what, name, strerror(e));
	msv_reply(s, "NO (TRYLATER) \"Internal error: %s failed.\"\r\n", what);
}

static bool msv_name(struct msv_session *s, const struct msv_arg *a)
{
	if (sieve_script_name_ok(a->s, a->len))
		return true;
	msv_reply(s, MSV_BAD_NAME);
	return false;
}

/*
 * Compiles text; false with the NO reply written when it does not: the
 * error lines without the script name, as Pigeonhole shows them.
 */
static bool msv_check(struct msv_session *s, const char *text, size_t len)
{
	struct buf errors = BUF_INIT, out = BUF_INIT;
	struct sieve_script *sc = sieve_compile(text, len, "script", &errors);
	const char *p;

	if (sc) {
		sieve_script_free(sc);
		buf_free(&errors);
		return true;
	}
	for (p = buf_cstr(&errors); *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (n > 8 && strncmp(p, "script: ", 8) == 0) {
			p += 8;
			n -= 8;
		}
		if (out.len)
			buf_puts(&out, "\r\n");
		buf_append(&out, p, n);
		p += n + (nl != NULL);
	}
	if (out.len == 0)
		buf_puts(&out, "error: the script does not compile.");
	buf_puts(&s->out, "NO ");
	msv_put_string(&s->out, out.data, out.len);
	buf_puts(&s->out, "\r\n");
	buf_free(&out);
	buf_free(&errors);
	return false;
}

static bool msv_space(struct msv_session *s, const char *name, unsigned long long size)
{
	const char *code, *why;

	if (sieve_storage_space(&s->st, name, size, &code, &why) == 0)
		return true;
	msv_reply(s, "NO (%s) \"%s\"\r\n", code, why);
	return false;
}

static void msv_putscript(struct msv_session *s, const struct msv_cmd *cmd)
{
	const struct msv_arg *name = &cmd->argv[0], *text = &cmd->argv[1];

	if (!msv_name(s, name) || !msv_space(s, name->s, text->len) ||
	    !msv_check(s, text->s, text->len))
		return;
	if (sieve_storage_put(&s->st, name->s, text->s, text->len) < 0) {
		msv_failed(s, "PUTSCRIPT", name->s);
		return;
	}
	log_info("managesieve(%s): stored script \"%s\" (%zu bytes)", s->user, name->s, text->len);
	msv_reply(s, "OK \"PUTSCRIPT completed.\"\r\n");
}

static void msv_listscripts(struct msv_session *s)
{
	char *active = NULL, **names = sieve_storage_list(&s->st, &active);

	for (size_t i = 0; names[i]; i++) {
		msv_put_string(&s->out, names[i], strlen(names[i]));
		buf_puts(&s->out, active && strcmp(active, names[i]) == 0 ? " ACTIVE\r\n" : "\r\n");
	}
	msv_reply(s, "OK \"Listscripts completed.\"\r\n");
	strv_free(names);
	free(active);
}

static void msv_setactive(struct msv_session *s, const struct msv_cmd *cmd)
{
	const struct msv_arg *name = &cmd->argv[0];
	struct buf text = BUF_INIT;

	if (name->len > 0) {
		if (!msv_name(s, name))
			return;
		if (sieve_storage_get(&s->st, name->s, &text) < 0) {
			msv_failed(s, "SETACTIVE", name->s);
			buf_free(&text);
			return;
		}
		if (!msv_check(s, text.data ? text.data : "", text.len)) {
			buf_free(&text);
			return;
		}
		buf_free(&text);
	}
	if (sieve_storage_activate(&s->st, name->s) < 0) {
		msv_failed(s, "SETACTIVE", name->s);
		return;
	}
	log_info("managesieve(%s): %s%s%s", s->user, name->len ? "activated script \"" : "",
	    name->len ? name->s : "deactivated the active script", name->len ? "\"" : "");
	msv_reply(s, name->len ? "OK \"Setactive completed.\"\r\n"
			       : "OK \"Active script is now deactivated.\"\r\n");
}

static void msv_getscript(struct msv_session *s, const struct msv_cmd *cmd)
{
	struct buf text = BUF_INIT;

	if (!msv_name(s, &cmd->argv[0]))
		return;
	if (sieve_storage_get(&s->st, cmd->argv[0].s, &text) < 0) {
		msv_failed(s, "GETSCRIPT", cmd->argv[0].s);
		buf_free(&text);
		return;
	}
	msv_reply(s, "{%zu}\r\n", text.len);
	buf_append(&s->out, text.data ? text.data : "", text.len);
	msv_reply(s, "\r\nOK \"Getscript completed.\"\r\n");
	buf_free(&text);
}

static void msv_deletescript(struct msv_session *s, const struct msv_cmd *cmd)
{
	if (!msv_name(s, &cmd->argv[0]))
		return;
	if (sieve_storage_delete(&s->st, cmd->argv[0].s) < 0) {
		if (errno == EBUSY)
			msv_reply(s, "NO (ACTIVE) \"You may not delete an active script.\"\r\n");
		else
			msv_failed(s, "DELETESCRIPT", cmd->argv[0].s);
		return;
	}
	log_info("managesieve(%s): deleted script \"%s\"", s->user, cmd->argv[0].s);
	msv_reply(s, "OK \"Deletescript completed.\"\r\n");
}

static void msv_renamescript(struct msv_session *s, const struct msv_cmd *cmd)
{
	if (!msv_name(s, &cmd->argv[0]) || !msv_name(s, &cmd->argv[1]))
		return;
	if (sieve_storage_rename(&s->st, cmd->argv[0].s, cmd->argv[1].s) < 0) {
		if (errno == EEXIST)
			msv_reply(s, "NO (ALREADYEXISTS) \"A script with that name already "
				     "exists.\"\r\n");
		else
			msv_failed(s, "RENAMESCRIPT", cmd->argv[0].s);
		return;
	}
	log_info("managesieve(%s): renamed script \"%s\" to \"%s\"", s->user, cmd->argv[0].s,
	    cmd->argv[1].s);
	msv_reply(s, "OK \"Renamescript completed.\"\r\n");
}

void msv_command_too_big(struct msv_session *s, enum msv_cmd_id id)
{
	if (id == MSV_CMD_PUTSCRIPT || id == MSV_CMD_CHECKSCRIPT)
		msv_reply(s, "NO (QUOTA/MAXSIZE) \"Script is too large.\"\r\n");
	else
		msv_reply(s, "NO \"Error in MANAGESIEVE command: Literal too large.\"\r\n");
}

void msv_command(struct msv_session *s, const struct msv_cmd *cmd)
{
	switch (cmd->id) {
	case MSV_CMD_CAPABILITY:
		msv_capability(&s->out, "", false);
		msv_reply(s, "OK \"Capability completed.\"\r\n");
		return;
	case MSV_CMD_HAVESPACE:
		if (msv_name(s, &cmd->argv[0]) && msv_space(s, cmd->argv[0].s, cmd->argv[1].value))
			msv_reply(s, "OK \"Putscript would succeed.\"\r\n");
		return;
	case MSV_CMD_PUTSCRIPT: msv_putscript(s, cmd); return;
	case MSV_CMD_LISTSCRIPTS: msv_listscripts(s); return;
	case MSV_CMD_SETACTIVE: msv_setactive(s, cmd); return;
	case MSV_CMD_GETSCRIPT: msv_getscript(s, cmd); return;
	case MSV_CMD_DELETESCRIPT: msv_deletescript(s, cmd); return;
	case MSV_CMD_RENAMESCRIPT: msv_renamescript(s, cmd); return;
	case MSV_CMD_CHECKSCRIPT:
		if (msv_check(s, cmd->argv[0].s, cmd->argv[0].len))
			msv_reply(s, "OK \"Script is valid.\"\r\n");
		return;
	case MSV_CMD_NOOP:
		if (cmd->argc) {
			buf_puts(&s->out, "OK (TAG ");
			msv_put_string(&s->out, cmd->argv[0].s, cmd->argv[0].len);
			buf_puts(&s->out, ") \"Done\"\r\n");
		} else
			msv_reply(s, "OK \"NOOP Completed\"\r\n");
		return;
	case MSV_CMD_LOGOUT:
		msv_reply(s, "OK \"Logout completed.\"\r\n");
		msv_session_quit(s);
		return;
	case MSV_CMD_AUTHENTICATE:
	case MSV_CMD_STARTTLS: msv_reply(s, "NO \"Already authenticated.\"\r\n"); return;
	case MSV_CMD_UNAUTHENTICATE:
		msv_reply(s, "OK \"Unauthenticate completed.\"\r\n");
		msv_session_give_back(s);
		return;
	case MSV_CMD_BAD:
		msv_reply(s, "NO \"Error in MANAGESIEVE command: %s.\"\r\n", cmd->error);
		return;
	case MSV_CMD_UNKNOWN:
	default: msv_reply(s, "NO \"Unknown command.\"\r\n");
	}
}
