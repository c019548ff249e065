/*
 * session.c - one ManageSieve session in the managesieve process: from
 * the hand-off by postlogin (login/postlogin.h) to LOGOUT, a time-out or
 * the client's going away.  Commands are read whole (a script is at most
 * sieve_max_script_size); a larger literal is skipped as it arrives,
 * never buffered, and answered NO (QUOTA/MAXSIZE).
 *
 * UNAUTHENTICATE gives the client back to managesieve-login, which
 * relays every session for this (login.h, keep_connection): after the OK
 * one byte with a descriptor attached, then, once managesieve-login has
 * shut the pair for writing, the bytes the client sent after the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "managesieve.h"
#include "sieve/sieve.h"
#include "sock.h"
#include "util.h"

/* Output past which no further command is read (back-pressure). */
#define MSV_OUT_HIGH (4u << 20)

static void session_event(struct event_loop *loop, int fd, int events, void *ctx);

static void session_free(struct msv_session *s)
{
	log_info("managesieve(%s): Disconnected: %s bytes=%llu/%llu, session=<%s>", s->user,
	    s->giving_back ? "Unauthenticated"
	    : s->closing   ? "Logged out"
			   : "Connection closed",
	    (unsigned long long)s->in_bytes, (unsigned long long)s->out_bytes, s->session);
	if (s->timer)
		event_timer_cancel(s->loop, s->timer);
	event_fd_del(s->loop, s->fd);
	close(s->fd);
	sieve_storage_free(&s->st);
	buf_free(&s->in);
	buf_free(&s->out);
	free(s->user);
	free(s->session);
	free(s);
	postlogin_client_done();
}

static void session_timeout(struct event_loop *loop, void *ctx)
{
	struct msv_session *s = ctx;

	(void)loop;
	s->timer = NULL;
	if (s->closing || s->giving_back) {
		session_free(s);
		return;
	}
	buf_puts(&s->out, "BYE \"Disconnected for inactivity.\"\r\n");
	msv_session_quit(s);
	event_fd_events(s->loop, s->fd, EV_WRITE);
}

static void session_timer(struct msv_session *s, long ms)
{
	if (s->timer)
		event_timer_cancel(s->loop, s->timer);
	s->timer = event_timer_add(s->loop, ms, session_timeout, s);
}

void msv_session_quit(struct msv_session *s)
{
	s->closing = true;
	session_timer(s, 5000); /* to get the last reply out */
}

void msv_session_give_back(struct msv_session *s)
{
	s->giving_back = true;
	session_timer(s, config_time("managesieve_idle_timeout") * 1000);
}

/* After the OK to UNAUTHENTICATE: the marker; -1 on failure. */
static int session_marker(struct msv_session *s)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (null < 0)
		return -1;
	n = sock_send_fd(s->fd, "", 1, null, 0);
	close(null);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	s->marker_sent = true;
	return 0;
}

void msv_session_start(struct event_loop *loop, int fd, const struct postlogin_info *info,
    const char *pending, size_t len, void *ctx)
{
	struct msv_session *s = xcalloc(1, sizeof(*s));

	(void)ctx;
	s->loop = loop;
	s->fd = fd;
	s->user = xstrdup(info->user);
	s->session = xstrdup(info->session);
	/* "~" as local has it: the home, or a virtual mailbox's directory */
	sieve_storage_init(&s->st, *info->home ? info->home : info->maildir);
	s->max_literal = (size_t)s->st.max_size;
	if (s->st.max_size <= 0 || s->max_literal > SIEVE_MAX_SCRIPT)
		s->max_literal = SIEVE_MAX_SCRIPT;
	buf_append(&s->in, pending, len);
	event_fd_set(loop, fd, 0, session_event, s);
	if (*info->home == 0 && *info->maildir == 0) {
		buf_puts(&s->out, "BYE \"The account has no home directory.\"\r\n");
		log_info("managesieve(%s): no home directory, session=<%s>", s->user, s->session);
		msv_session_quit(s);
	} else {
		buf_puts(&s->out, "OK \"Logged in.\"\r\n");
		session_timer(s, config_time("managesieve_idle_timeout") * 1000);
	}
	session_event(loop, fd, EV_WRITE, s);
}

static int session_flush(struct msv_session *s)
{
	return sock_write_some(s->fd, &s->out, 0, &s->out_bytes);
}

static size_t session_in_max(const struct msv_session *s)
{
	return MSV_MAX_ARGS * s->max_literal + MSV_MAX_LINE + 64;
}

static int session_read(struct msv_session *s)
{
	ssize_t n = sock_read_some(s->fd, &s->in, 16384, 64, session_in_max(s), &s->in_bytes);

	if (n > 0)
		session_timer(s, config_time("managesieve_idle_timeout") * 1000);
	return n < 0 ? -1 : 0;
}

/* Discards a too large literal and its line; true when that is done. */
static bool session_skip(struct msv_session *s)
{
	if (s->skip > 0) {
		size_t n = s->in.len < s->skip ? s->in.len : (size_t)s->skip;

		buf_consume(&s->in, n);
		s->skip -= n;
		if (s->skip > 0)
			return false;
	}
	if (s->skip_line) {
		size_t n = msv_skip_line(s->in.data, s->in.len);

		if (n == 0) {
			buf_reset(&s->in); /* the rest of the line is of no use */
			return false;
		}
		buf_consume(&s->in, n);
		s->skip_line = false;
		msv_command_too_big(s, s->skip_id);
	}
	return true;
}

static void session_commands(struct msv_session *s)
{
	while (!s->closing && !s->giving_back && (s->in.len > 0 || s->skip_line) &&
	       s->out.len < MSV_OUT_HIGH) {
		struct msv_cmd cmd;
		size_t used = 0;
		enum msv_parse r;

		if ((s->skip > 0 || s->skip_line) && !session_skip(s))
			break;
		if (s->in.len == 0)
			break;
		r = msv_cmd_parse(s->in.data, s->in.len, s->max_literal, &cmd, &used);
		if (r == MSV_PARSE_MORE)
			break;
		if (r == MSV_PARSE_TOO_LONG) {
			buf_puts(&s->out, "BYE \"Command line too long.\"\r\n");
			msv_session_quit(s);
			break;
		}
		buf_consume(&s->in, used);
		if (r == MSV_PARSE_TOO_BIG) {
			s->skip = cmd.skip;
			s->skip_line = true;
			s->skip_id = cmd.id;
			msv_cmd_free(&cmd);
			continue;
		}
		msv_command(s, &cmd);
		msv_cmd_free(&cmd);
	}
}

static void session_event(struct event_loop *loop, int fd, int events, void *ctx)
{
	struct msv_session *s = ctx;
	int ev;

	(void)loop;
	(void)fd;
	if (session_flush(s) < 0 || (s->closing && s->out.len == 0)) {
		session_free(s);
		return;
	}
	if (s->giving_back && !s->marker_sent && s->out.len == 0 && session_marker(s) < 0) {
		session_free(s);
		return;
	}
	if (!s->closing && (events & (EV_READ | EV_ERROR)) && session_read(s) < 0) {
		if (!s->marker_sent) {
			session_free(s);
			return;
		}
		/* managesieve-login has all else: the unused input goes back */
		buf_append(&s->out, s->in.data, s->in.len);
		buf_reset(&s->in);
		s->closing = true;
	}
	session_commands(s);
	if (session_flush(s) < 0 || (s->closing && s->out.len == 0)) {
		session_free(s);
		return;
	}
	ev = s->closing ? 0 : EV_READ;
	if (s->out.len > 0 || (s->giving_back && !s->marker_sent))
		ev |= EV_WRITE;
	event_fd_events(s->loop, s->fd, ev);
}
