/*
 * login/login_dir.h - queue_directory/login/, the one folder the login
 * processes (default_login_user, chrooted into it) can reach: auth's
 * login socket (login/auth) and the dispatcher's (login/postlogin).
 */
#ifndef TERN_LOGIN_DIR_H
#define TERN_LOGIN_DIR_H

#include <stdbool.h>

#define LOGIN_DIR "login"

/*
 * Makes login/ (relative to the working directory, queue_directory) if
 * missing and sets its owner and mode: root with default_login_user's
 * group, 0750, so that the login processes may pass through and nobody
 * else (not even mail_owner) may; run as another user, that user's,
 * 0700.  Fatal on failure.  Run by the root services that bind sockets
 * in it (auth, postlogin), and by the login processes before they chroot.
 */
void login_dir_make(void);

/*
 * Waits (at most max_ms, polling) until the socket path exists: a login
 * process or postlogin that master started before auth had bound its
 * socket would otherwise fail its first logins (the auth client retries
 * a failed connection only after a second).  False on time-out.
 */
bool login_socket_wait(const char *path, long max_ms);

/*
 * Into login/ (chrooted when root), then default_login_user for good:
 * what a login process (imap-login, pop3-login, http) does once its
 * TLS key and anything else outside login/ are open.
 */
void login_dir_confine(void);

#endif
