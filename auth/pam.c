/*
 * pam.c - system users' passwords through PAM, in a small process that
 * stays root (pam_unix must read /etc/shadow) while the rest of auth runs
 * as mail_owner.
 *
 * Started by main.c as root before privileges are dropped, only when
 * auth_system_users = yes.  It gets one SOCK_SEQPACKET channel per worker
 * thread, so each request and reply is one datagram and a worker waits
 * on its own channel only.  The helper parses nothing but these
 * datagrams (ipc.h records from its own parent), forks a child for each
 * request so one slow or crashing PAM module holds up nobody else, and
 * exits when the parent goes away.
 *
 * Request {user, secret, client_addr}; reply {status=ok|fail|error,
 * reason}.  The PAM service is auth_pam_service (default "tern", which
 * falls back to /etc/pam.d/other when it has no file).  PAM's own failure
 * delay is switched off: penalty.c delays failures for every protocol.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "auth.h"
#include "config.h"
#include "ipc.h"
#include "log.h"
#include "proto.h"
#include "util.h"

#define PAM_MAX_DGRAM 8192

static struct {
	int *fds; /* the workers' ends */
	int n;
	pid_t pid;
} helper = {NULL, 0, -1};

bool pam_helper_running(void)
{
	return helper.pid > 0;
}

struct pam_creds {
	const char *user;
	const char *password;
};

static int pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *ap)
{
	const struct pam_creds *c = ap;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF: r[i].resp = strdup(c->password); break;
		case PAM_PROMPT_ECHO_ON: r[i].resp = strdup(c->user); break;
		default: r[i].resp = NULL; break; /* PAM_TEXT_INFO, PAM_ERROR_MSG */
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static void pam_no_delay(int retval, unsigned usec, void *ap)
{
	(void)retval;
	(void)usec;
	(void)ap;
}

/* In the forked child: one PAM conversation. */
static void pam_child(
    int fd, const char *service, const char *user, const char *password, const char *rhost)
{
	struct pam_creds creds = {user, password};
	struct pam_conv conv = {pam_conv_fn, &creds};
	pam_handle_t *h = NULL;
	struct buf out = BUF_INIT;
	int e;

	e = pam_start(service, user, &conv, &h);
	if (e == PAM_SUCCESS) {
		pam_set_item(h, PAM_FAIL_DELAY, (const void *)pam_no_delay);
		if (rhost && *rhost)
			pam_set_item(h, PAM_RHOST, rhost);
		pam_set_item(h, PAM_TTY, "tern");
		e = pam_authenticate(h, PAM_DISALLOW_NULL_AUTHTOK);
		if (e == PAM_SUCCESS)
			e = pam_acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK);
	}
	ipc_put_str(&out, A_STATUS,
	    e == PAM_SUCCESS ? "ok"
	    : (e == PAM_AUTH_ERR || e == PAM_USER_UNKNOWN || e == PAM_ACCT_EXPIRED ||
		  e == PAM_PERM_DENIED || e == PAM_NEW_AUTHTOK_REQD || e == PAM_MAXTRIES)
		? "fail"
		: "error");
	ipc_put_str(&out, A_REASON, pam_strerror(h, e));
	ipc_end(&out);
	if (h)
		pam_end(h, e);
	if (send(fd, out.data, out.len, MSG_NOSIGNAL) < 0)
		_exit(1);
	_exit(0);
}

static void helper_request(int fd)
{
	char dgram[PAM_MAX_DGRAM];
	struct ipc_msg m;
	size_t used;
	const char *why;
	ssize_t n = recv(fd, dgram, sizeof(dgram), 0);
	pid_t pid;

	if (n <= 0)
		exit(0); /* the parent has gone */
	ipc_msg_init(&m);
	if (ipc_parse(dgram, (size_t)n, sizeof(dgram), &m, &used, &why) != IPC_OK ||
	    ipc_get_str(&m, "user") == NULL || ipc_get_str(&m, "secret") == NULL) {
		ipc_msg_free(&m);
		exit(1);
	}
	pid = fork();
	if (pid == 0)
		pam_child(fd, config_str("auth_pam_service"), ipc_get_str(&m, "user"),
		    ipc_get_str(&m, "secret"), ipc_get_str(&m, A_CLIENT_ADDR));
	if (pid < 0) {
		struct buf out = BUF_INIT;

		ipc_put_str(&out, A_STATUS, "error");
		ipc_put_str(&out, A_REASON, "cannot fork");
		ipc_end(&out);
		if (send(fd, out.data, out.len, MSG_NOSIGNAL) < 0)
			exit(1);
		buf_free(&out);
	}
	explicit_bzero(dgram, sizeof(dgram));
	ipc_msg_free(&m);
}

static void helper_main(int *fds, int n)
{
	struct pollfd *p = xcalloc((size_t)n, sizeof(*p));

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
	for (;;) {
		for (int i = 0; i < n; i++) {
			p[i].fd = fds[i];
			p[i].events = POLLIN;
		}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			exit(1);
		}
		for (int i = 0; i < n; i++) {
			if (p[i].revents & (POLLHUP | POLLERR) && !(p[i].revents & POLLIN))
				exit(0);
			if (p[i].revents & POLLIN)
				helper_request(fds[i]);
		}
	}
}

void pam_helper_start(int nworkers)
{
	int *theirs = xcalloc((size_t)nworkers, sizeof(int));
	sigset_t none;

	helper.fds = xcalloc((size_t)nworkers, sizeof(int));
	helper.n = nworkers;
	for (int i = 0; i < nworkers; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			log_fatal("socketpair: %s", strerror(errno));
		helper.fds[i] = sv[0];
		theirs[i] = sv[1];
	}
	helper.pid = fork();
	if (helper.pid < 0)
		log_fatal("fork: %s", strerror(errno));
	if (helper.pid == 0) {
		for (int i = 0; i < nworkers; i++)
			close(helper.fds[i]);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		helper_main(theirs, nworkers);
	}
	for (int i = 0; i < nworkers; i++)
		close(theirs[i]);
	free(theirs);
	log_info("PAM helper started (pid %ld, service %s)", (long)helper.pid,
	    config_str("auth_pam_service"));
}

int pam_helper_verify(
    int w, const char *user, const char *password, const char *rhost, char *why, size_t whylen)
{
	struct buf out = BUF_INIT;
	char dgram[PAM_MAX_DGRAM];
	struct ipc_msg m;
	size_t used;
	const char *err, *status;
	ssize_t n;
	int r = -1;

	snprintf(why, whylen, "PAM helper unavailable");
	if (w < 0 || w >= helper.n)
		return -1;
	ipc_put_str(&out, "user", user);
	ipc_put_str(&out, "secret", password);
	if (rhost)
		ipc_put_str(&out, A_CLIENT_ADDR, rhost);
	ipc_end(&out);
	n = out.len < PAM_MAX_DGRAM ? send(helper.fds[w], out.data, out.len, MSG_NOSIGNAL) : -1;
	explicit_bzero(out.data, out.len);
	buf_free(&out);
	if (n < 0)
		return -1;
	do
		n = recv(helper.fds[w], dgram, sizeof(dgram), 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	ipc_msg_init(&m);
	if (ipc_parse(dgram, (size_t)n, sizeof(dgram), &m, &used, &err) == IPC_OK &&
	    (status = ipc_get_str(&m, A_STATUS)) != NULL) {
		r = strcmp(status, "ok") == 0 ? 1 : strcmp(status, "fail") == 0 ? 0 : -1;
		snprintf(why, whylen, "%s",
		    ipc_get_str(&m, A_REASON) ? ipc_get_str(&m, A_REASON) : status);
	}
	ipc_msg_free(&m);
	return r;
}
