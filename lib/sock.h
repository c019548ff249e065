/*
 * sock.h - sockets: listening, connecting, addresses.
 */
#ifndef TERN_SOCK_H
#define TERN_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "buf.h"

/*
 * Splits "host:port", "[v6]:port", ":port" or "port" into host (NULL for
 * any address: "", "*" or "all") and port (a number 0-65535 or a service
 * name).  Both are allocated; the caller frees them.  An IPv6 address must
 * be bracketed ("::1:25" is refused).  Returns -1 with host and port NULL
 * and err (replaced, not appended to) filled on bad syntax.
 */
int sock_split_hostport(const char *spec, char **host, char **port, struct buf *err);

/* Binds and listens on an inet spec as above (SO_REUSEADDR, IPV6_V6ONLY for
 * v6 literals, close-on-exec, non-blocking).  The "any" host binds 0.0.0.0
 * (IPv4 only); use "[::]:port" for IPv6.  Returns fd or -1 with err. */
int sock_inet_listen(const char *spec, int backlog, struct buf *err);

/* Binds a UNIX stream socket at path (removing a stale one) with mode, and
 * listens.  Returns fd or -1 with err. */
int sock_unix_listen(const char *path, int mode, int backlog, struct buf *err);

/* Connects to a UNIX stream socket; non-blocking if nonblock.  Returns fd or
 * -1 (errno; ENAMETOOLONG when path does not fit in sun_path). */
int sock_unix_connect(const char *path, bool nonblock);

/* Starts a non-blocking TCP connect to host (a numeric address or a name
 * from the hosts file; no DNS is waited for) and port.  Returns the fd,
 * connected or with the connect in progress (wait for writability, then
 * read SO_ERROR), or -1 with err. */
int sock_inet_connect_start(const char *host, const char *port, struct buf *err);

/*
 * One sendmsg() of p[0..n) (n > 0) with descriptor fd attached
 * (SCM_RIGHTS on its first byte), flags as send(2)'s.  As send(2): bytes
 * sent or -1 (errno).
 */
ssize_t sock_send_fd(int sock, const void *p, size_t n, int fd, int flags);
/*
 * One recvmsg() into p[0..n): as recv(2); *fd is a descriptor that came
 * with these bytes (close-on-exec) or -1.  A peer cannot make us hoard
 * descriptors: any but the first is closed at once, and *extra is then
 * true (also when the kernel had to drop some, MSG_CTRUNC).
 */
ssize_t sock_recv_fd(int sock, void *p, size_t n, int *fd, bool *extra);

int sock_nonblock(int fd, bool on);
int sock_cloexec(int fd, bool on);

/* Numeric address and port of a connected peer, e.g. "127.0.0.1", "::1";
 * IPv4-mapped IPv6 shows as IPv4.  "unknown" and port 0 on failure (or for
 * a UNIX socket). */
void sock_peer(int fd, char *addr, size_t addrlen, int *port);
/* Same for a sockaddr. */
void sock_ntop(const struct sockaddr *sa, char *addr, size_t addrlen, int *port);

/*
 * True when the numeric address addr is in one of the networks of list
 * ("127.0.0.0/8 [::1]/128 192.0.2.1 ::1/128", white space or commas); bad
 * entries are warned about and skipped, never matched.  IPv4-mapped IPv6
 * addresses match IPv4 networks.
 */
bool sock_addr_in_networks(const char *addr, const char *list);

/* True when entry is one network as the lists above take it. */
bool sock_network_valid(const char *entry);

/*
 * The read step of a non-blocking session (ManageSieve, POP3): appends
 * what fd has to in, chunk bytes at a time, for at most rounds reads and
 * while in holds fewer than max bytes, so one busy client cannot keep the
 * event loop.  Adds the bytes to *count.  Returns the bytes read (0: none
 * waiting now), or -1 when the client closed or the read failed.
 */
ssize_t sock_read_some(
    int fd, struct buf *in, size_t chunk, int rounds, size_t max, uint64_t *count);

/*
 * The write step: sends out from its front until it is empty or the socket
 * takes no more now (EAGAIN), retrying EINTR; flags go to send(2) with
 * MSG_NOSIGNAL.  Adds the bytes sent to *count unless count is NULL.
 * Returns 0, or -1 when the peer has gone or the write failed (errno).
 */
int sock_write_some(int fd, struct buf *out, int flags, uint64_t *count);

#endif
