/*
 * commands.c - POP3 in the TRANSACTION state (RFC 1939 5, RFC 2449) and
 * QUIT's UPDATE state, with Dovecot's replies where RFC 1939 leaves the
 * text free.
 *
 * Message numbers are those of the session's start (session.c); a
 * message marked deleted is not listed and cannot be retrieved until
 * RSET.  UIDLs are the store's (mstore_view_pop3_uidl: Dovecot's default
 * "%08Xu%08Xv", or the value a migration left in dovecot-uidlist), so a
 * client that came from Dovecot downloads nothing twice.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pop3.h"
#include "pop3/cmd.h"
#include "util.h"

/* The message for a number argument, or NULL after an error reply. */
static struct pop3_msg *cmd_msg(struct pop3_session *s, const char *arg, uint32_t *num)
{
	if (!pop3_number(arg, num)) {
		pop3_reply(s, "-ERR Invalid message number: %s", arg ? arg : "");
		return NULL;
	}
	if (*num > s->count) {
		pop3_reply(s, "-ERR There's no message %" PRIu32 ".", *num);
		return NULL;
	}
	if (s->msgs[*num - 1].deleted) {
		pop3_reply(s, "-ERR Message is deleted.");
		return NULL;
	}
	return &s->msgs[*num - 1];
}

static void cmd_stat(struct pop3_session *s)
{
	uint32_t n = 0;
	uint64_t size = 0;

	for (uint32_t i = 0; i < s->count; i++)
		if (!s->msgs[i].deleted) {
			n++;
			size += s->msgs[i].vsize;
		}
	pop3_reply(s, "+OK %" PRIu32 " %" PRIu64, n, size);
}

static void cmd_uidl_one(struct pop3_session *s, uint32_t num, struct buf *uidl)
{
	buf_reset(uidl);
	mstore_view_pop3_uidl(s->view, s->msgs[num - 1].uid, uidl);
}

/* LIST and UIDL: one message, or every one not deleted. */
static void cmd_list(struct pop3_session *s, const struct pop3_cmd *cmd, bool uidl)
{
	struct buf u = BUF_INIT;
	uint32_t num;

	if (cmd->argc > 0) {
		if (cmd_msg(s, cmd->argv[0], &num) == NULL)
			return;
		if (uidl) {
			cmd_uidl_one(s, num, &u);
			pop3_reply(s, "+OK %" PRIu32 " %s", num, buf_cstr(&u));
		} else
			pop3_reply(s, "+OK %" PRIu32 " %" PRIu64, num, s->msgs[num - 1].vsize);
		buf_free(&u);
		return;
	}
	pop3_reply(s, uidl ? "+OK" : "+OK %" PRIu32 " messages:", s->count);
	for (num = 1; num <= s->count; num++) {
		if (s->msgs[num - 1].deleted)
			continue;
		if (uidl) {
			cmd_uidl_one(s, num, &u);
			pop3_reply(s, "%" PRIu32 " %s", num, buf_cstr(&u));
		} else
			pop3_reply(s, "%" PRIu32 " %" PRIu64, num, s->msgs[num - 1].vsize);
	}
	pop3_reply(s, ".");
	buf_free(&u);
}

static void cmd_retr(struct pop3_session *s, const struct pop3_cmd *cmd, bool top)
{
	struct pop3_msg *m;
	uint32_t num, lines = 0;
	int fd;

	if ((m = cmd_msg(s, cmd->argv[0], &num)) == NULL)
		return;
	if (top && (cmd->argc < 2 || !pop3_count(cmd->argv[1], &lines))) {
		pop3_reply(
		    s, "-ERR Invalid number of lines: %s", cmd->argc < 2 ? "" : cmd->argv[1]);
		return;
	}
	if ((fd = mstore_view_open_msg(s->view, m->uid)) < 0) {
		if (mstore_error(s->store) != MSTORE_EEXPUNGED)
			log_error("pop3(%s): RETR %" PRIu32 ": %s", s->user, num,
			    mstore_strerror(s->store));
		pop3_reply(s,
		    mstore_error(s->store) == MSTORE_EEXPUNGED
			? "-ERR Message %" PRIu32 " expunged."
			: "-ERR [SYS/TEMP] Cannot read message %" PRIu32 ".",
		    num);
		return;
	}
	if (top) {
		s->top_count++;
		s->top_bytes += m->vsize;
		pop3_reply(s, "+OK");
	} else {
		s->retr_count++;
		s->retr_bytes += m->vsize;
		pop3_reply(s, "+OK %" PRIu64 " octets", m->vsize);
	}
	pop3_retr_start(s, fd, top, lines);
	pop3_retr_more(s);
}

static void cmd_dele(struct pop3_session *s, const struct pop3_cmd *cmd)
{
	struct pop3_msg *m;
	uint32_t num;

	if ((m = cmd_msg(s, cmd->argv[0], &num)) == NULL)
		return;
	m->deleted = true;
	pop3_reply(s, "+OK Marked to be deleted.");
}

static void cmd_rset(struct pop3_session *s)
{
	for (uint32_t i = 0; i < s->count; i++)
		s->msgs[i].deleted = false;
	pop3_reply(s, "+OK");
}

/* UPDATE (RFC 1939 6): the marked messages go, durably, before +OK. */
static void cmd_quit(struct pop3_session *s)
{
	uint32_t *uids = xcalloc(s->count ? s->count : 1, sizeof(*uids));
	size_t n = 0;

	for (uint32_t i = 0; i < s->count; i++)
		if (s->msgs[i].deleted)
			uids[n++] = s->msgs[i].uid;
	if (n > 0 && mstore_view_expunge(s->view, uids, n) < 0) {
		log_warn("pop3(%s): expunge: %s", s->user, mstore_strerror(s->store));
		pop3_reply(s, "-ERR [SYS/TEMP] Some deleted messages were not removed.");
	} else {
		s->del_count = (unsigned)n;
		pop3_reply(s, "+OK Logging out%s", n ? ", messages deleted." : ".");
	}
	free(uids);
	pop3_session_quit(s);
}

static void cmd_capa(struct pop3_session *s)
{
	pop3_reply(s, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE");
	if (*config_str("pop3_expire"))
		pop3_reply(s, "EXPIRE %s", config_str("pop3_expire"));
	if (*config_str("pop3_login_delay"))
		pop3_reply(s, "LOGIN-DELAY %s", config_str("pop3_login_delay"));
	pop3_reply(s, ".");
}

/* Commands and the number of arguments they need (min, max). */
static bool cmd_args_ok(const struct pop3_cmd *cmd)
{
	size_t min = 0, max = 0;

	switch (cmd->id) {
	case POP3_CMD_LIST:
	case POP3_CMD_UIDL: max = 1; break;
	case POP3_CMD_RETR:
	case POP3_CMD_DELE: min = max = 1; break;
	case POP3_CMD_TOP: min = max = 2; break;
	default: break;
	}
	return !cmd->extra_args && cmd->argc >= min && cmd->argc <= max;
}

size_t pop3_command(struct pop3_session *s, const char *data, size_t len)
{
	struct pop3_cmd cmd;
	size_t used = 0;

	if (pop3_cmd_parse(data, len, &cmd, &used) != POP3_PARSE_OK)
		return 0;
	if (cmd.id != POP3_CMD_UNKNOWN && cmd.id != POP3_CMD_BAD && !cmd_args_ok(&cmd)) {
		pop3_reply(s, "-ERR Invalid arguments.");
		return used;
	}
	switch (cmd.id) {
	case POP3_CMD_STAT: cmd_stat(s); break;
	case POP3_CMD_LIST: cmd_list(s, &cmd, false); break;
	case POP3_CMD_UIDL: cmd_list(s, &cmd, true); break;
	case POP3_CMD_RETR: cmd_retr(s, &cmd, false); break;
	case POP3_CMD_TOP: cmd_retr(s, &cmd, true); break;
	case POP3_CMD_DELE: cmd_dele(s, &cmd); break;
	case POP3_CMD_RSET: cmd_rset(s); break;
	case POP3_CMD_NOOP: pop3_reply(s, "+OK"); break;
	case POP3_CMD_QUIT: cmd_quit(s); break;
	case POP3_CMD_CAPA: cmd_capa(s); break;
	case POP3_CMD_USER:
	case POP3_CMD_PASS:
	case POP3_CMD_AUTH:
	case POP3_CMD_APOP:
	case POP3_CMD_STLS:
	case POP3_CMD_UTF8: pop3_reply(s, "-ERR Already logged in."); break;
	default: pop3_reply(s, "-ERR Unknown command: %s", cmd.name[0] ? cmd.name : "?");
	}
	return used;
}
