/*
 * sock.c - sockets: listening, connecting, printing and matching addresses.
 *
 * Every descriptor made here is close-on-exec, so a daemon's listener never
 * leaks into a child it runs (pipe deliveries, for one), and listeners are
 * non-blocking, since several processes may share one and race in accept().
 * Address text is always numeric: nothing here does reverse DNS.
 *
 * Not here: accepting, reading and writing (the event loop and ipc.c), DNS
 * look-ups for outbound mail (dns.c), inet_protocols policy.
 */
#include "sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* host:port                                                            */

static bool sock_is_number(const char *s)
{
	return *s != 0 && strspn(s, "0123456789") == strlen(s);
}

#define SOCK_LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* A port is a number up to 65535 or a service name such as "smtp". */
static bool sock_port_ok(const char *port)
{
	long v;

	if (sock_is_number(port))
		return parse_long(port, 0, 65535, &v);
	return *port != 0 && strchr(SOCK_LETTERS, *port) != NULL &&
	       strspn(port, SOCK_LETTERS "0123456789-_.") == strlen(port);
}

/* Splits "[v6]:port"; the brackets are required to carry a port. */
static int sock_split_bracket(const char *spec, char **host, char **port, struct buf *err)
{
	const char *rb = strchr(spec, ']');

	if (rb == NULL || rb == spec + 1) {
		buf_printf(err, "%s: bad bracketed address", spec);
		return -1;
	}
	if (rb[1] != ':') {
		buf_printf(err, "%s: missing port after address", spec);
		return -1;
	}
	*host = xstrndup(spec + 1, (size_t)(rb - spec - 1));
	*port = xstrdup(rb + 2);
	return 0;
}

int sock_split_hostport(const char *spec, char **host, char **port, struct buf *err)
{
	const char *colon = strrchr(spec, ':');

	*host = *port = NULL;
	buf_reset(err);
	if (spec[0] == '[') {
		if (sock_split_bracket(spec, host, port, err) < 0)
			return -1;
	} else if (colon == NULL) {
		*port = xstrdup(spec);
	} else if (strchr(spec, ':') != colon) {
		/* "::1:25" could be two things; refuse to guess. */
		buf_printf(err, "%s: bracket IPv6 addresses, as in [::1]:25", spec);
		return -1;
	} else {
		*host = xstrndup(spec, (size_t)(colon - spec));
		*port = xstrdup(colon + 1);
	}
	if (!sock_port_ok(*port)) {
		buf_printf(err, "%s: bad or missing port", spec);
		goto fail;
	}
	if (*host && (**host == 0 || strcmp(*host, "*") == 0 || strcmp(*host, "all") == 0)) {
		free(*host);
		*host = NULL;
	}
	return 0;
fail:
	free(*host);
	free(*port);
	*host = *port = NULL;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Listening and connecting                                             */

ssize_t sock_send_fd(int sock, const void *p, size_t n, int fd, int flags)
{
	union {
		char space[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {(void *)p, n};
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t r;

	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.space;
	msg.msg_controllen = sizeof(ctl.space);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	do
		r = sendmsg(sock, &msg, flags | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

ssize_t sock_recv_fd(int sock, void *p, size_t n, int *fd, bool *extra)
{
	union {
		char space[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {p, n};
	struct msghdr msg;
	ssize_t r;

	*fd = -1;
	*extra = false;
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.space;
	msg.msg_controllen = sizeof(ctl.space);
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return r;
	*extra = (msg.msg_flags & MSG_CTRUNC) != 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		for (size_t i = 0; i < k; i++) {
			int d;

			memcpy(&d, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*fd == -1)
				*fd = d;
			else {
				close(d);
				*extra = true;
			}
		}
	}
	return r;
}

int sock_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

int sock_cloexec(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, fl);
}

/* One candidate address; returns the listening fd or -1 with *what set. */
static int sock_listen_ai(const struct addrinfo *ai, int backlog, const char **what)
{
	int fd, saved, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0) {
		*what = "socket";
		return -1;
	}
	*what = "setsockopt";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	/* A v6 socket must not grab the v4 port too: the v4 spec gets its own. */
	if (ai->ai_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail;
	*what = "bind";
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto fail;
	*what = "listen";
	if (listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Binds the first address the spec resolves to.  "Any" means 0.0.0.0
 * only: tern does not yet take inet_protocols, and a wildcard v6 socket
 * would need V6ONLY off, which behaves differently across sysctls.
 */
int sock_inet_listen(const char *spec, int backlog, struct buf *err)
{
	struct addrinfo hints, *res, *ai;
	char *host, *port;
	const char *what = "bind";
	int fd = -1, e, saved = 0;

	if (sock_split_hostport(spec, &host, &port, err) < 0)
		return -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = host ? AF_UNSPEC : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | (sock_is_number(port) ? AI_NUMERICSERV : 0);
	e = getaddrinfo(host, port, &hints, &res);
	free(host);
	free(port);
	if (e != 0) {
		buf_printf(err, "%s: %s", spec, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next)
		if ((fd = sock_listen_ai(ai, backlog, &what)) < 0)
			saved = errno;
	freeaddrinfo(res);
	if (fd < 0)
		buf_printf(err, "%s: %s: %s", spec, what, strerror(saved));
	return fd;
}

static int sock_unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Binds under a umask that already yields mode, so the socket is never,
 * even for an instant, reachable with looser permissions than asked.
 */
static int sock_unix_bind(int fd, const struct sockaddr_un *sun, int mode)
{
	mode_t old = umask((mode_t)(~mode & 0777));
	int r = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	int saved = errno;

	umask(old);
	errno = saved;
	return r;
}

int sock_unix_listen(const char *path, int mode, int backlog, struct buf *err)
{
	struct sockaddr_un sun;
	struct stat st;
	const char *what = "socket";
	int fd, saved;

	buf_reset(err);
	if (sock_unix_addr(path, &sun) < 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* A stale socket from an earlier run; anything else is left alone. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	what = "bind";
	if (sock_unix_bind(fd, &sun, mode) < 0)
		goto fail;
	what = "chmod";
	if (chmod(path, (mode_t)mode) < 0)
		goto fail;
	what = "listen";
	if (listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	buf_printf(err, "%s: %s: %s", path, what, strerror(saved));
	return -1;
}

int sock_unix_connect(const char *path, bool nonblock)
{
	struct sockaddr_un sun;
	int fd, saved;

	if (sock_unix_addr(path, &sun) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int sock_inet_connect_start(const char *host, const char *port, struct buf *err)
{
	struct addrinfo hints, *res = NULL;
	int fd, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		buf_printf(err, "%s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
		buf_printf(err, "connect to %s:%s: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	} else if (fd < 0) {
		buf_printf(err, "socket: %s", strerror(errno));
	}
	freeaddrinfo(res);
	return fd;
}

/* ------------------------------------------------------------------ */
/* Printing addresses                                                   */

static void sock_unknown(char *addr, size_t addrlen, int *port)
{
	if (addrlen > 0)
		strlcpy(addr, "unknown", addrlen);
	if (port)
		*port = 0;
}

/* ::ffff:a.b.c.d is how a v4 client looks on a v6 socket: show a.b.c.d. */
static void sock_unmap(const struct sockaddr_in6 *sin6, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = sin6->sin6_port;
	memcpy(&sin->sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
}

void sock_ntop(const struct sockaddr *sa, char *addr, size_t addrlen, int *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	socklen_t salen;
	char serv[NI_MAXSERV];

	if (sa == NULL || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
		sock_unknown(addr, addrlen, port);
		return;
	}
	salen = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	memcpy(&ss, sa, salen);
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&ss)->sin6_addr)) {
		sock_unmap((struct sockaddr_in6 *)&ss, &sin);
		memcpy(&ss, &sin, sizeof(sin));
		salen = sizeof(sin);
	}
	if (getnameinfo((struct sockaddr *)&ss, salen, addr, (socklen_t)addrlen, serv, sizeof(serv),
		NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		sock_unknown(addr, addrlen, port);
		return;
	}
	if (port)
		*port = atoi(serv);
}

void sock_peer(int fd, char *addr, size_t addrlen, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		sock_unknown(addr, addrlen, port);
		return;
	}
	sock_ntop((struct sockaddr *)&ss, addr, addrlen, port);
}

/* ------------------------------------------------------------------ */
/* Network lists (mynetworks)                                           */

struct sock_net {
	int family;
	unsigned char bytes[16];
	int prefix; /* bits */
};

/* Parses a numeric address, bracketed or not; v4-mapped v6 becomes v4. */
static bool sock_parse_addr(const char *s, size_t len, struct sock_net *n)
{
	char tmp[INET6_ADDRSTRLEN + 2];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		s++, len -= 2;
	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	if (inet_pton(AF_INET, tmp, n->bytes) == 1) {
		n->family = AF_INET;
		n->prefix = 32;
	} else if (inet_pton(AF_INET6, tmp, n->bytes) == 1) {
		n->family = AF_INET6;
		n->prefix = 128;
	} else {
		return false;
	}
	if (n->family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)n->bytes)) {
		memmove(n->bytes, n->bytes + 12, 4);
		n->family = AF_INET;
		n->prefix = 32;
	}
	return true;
}

/* "addr", "addr/len", "[v6]", "[v6]/len". */
static bool sock_parse_net(const char *entry, struct sock_net *n)
{
	const char *slash = strchr(entry, '/');
	size_t alen = slash ? (size_t)(slash - entry) : strlen(entry);
	int max;
	long bits;

	if (!sock_parse_addr(entry, alen, n))
		return false;
	if (slash == NULL)
		return true;
	/* The address-family change for mapped networks shifts the prefix. */
	max = n->prefix;
	if (!sock_is_number(slash + 1) || !parse_long(slash + 1, 0, 128, &bits))
		return false;
	if (max == 32 && strchr(entry, ':') != NULL) {
		if (bits < 96)
			return false;
		bits -= 96;
	}
	if (bits > max)
		return false;
	n->prefix = (int)bits;
	return true;
}

static bool sock_net_match(const struct sock_net *net, const struct sock_net *a)
{
	int full = net->prefix / 8, rest = net->prefix % 8;

	if (net->family != a->family)
		return false;
	if (memcmp(net->bytes, a->bytes, (size_t)full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (net->bytes[full] & mask) == (a->bytes[full] & mask);
}

bool sock_addr_in_networks(const char *addr, const char *list)
{
	struct sock_net a, net;
	char **v;
	bool found = false;

	if (addr == NULL || list == NULL || !sock_parse_addr(addr, strlen(addr), &a))
		return false;
	v = strv_split(list, " \t\r\n,");
	for (char **p = v; *p && !found; p++) {
		if (!sock_parse_net(*p, &net)) {
			log_warn("network list: ignoring malformed entry \"%s\"", *p);
			continue;
		}
		found = sock_net_match(&net, &a);
	}
	strv_free(v);
	return found;
}

bool sock_network_valid(const char *entry)
{
	struct sock_net net;

	return sock_parse_net(entry, &net);
}

int sock_write_some(int fd, struct buf *out, int flags, uint64_t *count)
{
	while (out->len > 0) {
		ssize_t n = send(fd, out->data, out->len, flags | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (n == 0)
				errno = EPIPE;
			return -1;
		}
		buf_consume(out, (size_t)n);
		if (count)
			*count += (uint64_t)n;
	}
	return 0;
}

ssize_t sock_read_some(
    int fd, struct buf *in, size_t chunk, int rounds, size_t max, uint64_t *count)
{
	ssize_t total = 0;

	for (int i = 0; i < rounds && in->len < max; i++) {
		ssize_t n;

		buf_reserve(in, chunk);
		n = recv(fd, buf_tail(in), chunk, 0);
		if (n > 0) {
			buf_commit(in, (size_t)n);
			*count += (uint64_t)n;
			total += n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		return -1;
	}
	return total;
}
