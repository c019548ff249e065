/*
 * test_sock.c - unit tests for lib/sock.c: host:port splitting, inet and
 * UNIX listeners (connect to them, check flags and peer printing), and
 * network-list matching (v4, v6, mapped v4, prefixes, bad entries).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "sock.h"
#include "util.h"

static void check_split(const char *spec, const char *want_host, const char *want_port)
{
	struct buf err = BUF_INIT;
	char *host = (char *)1, *port = (char *)1;

	if (sock_split_hostport(spec, &host, &port, &err) != 0)
		fail_msg("\"%s\": %s", spec, buf_cstr(&err));
	if (want_host == NULL)
		assert_null(host);
	else
		assert_string_equal(host, want_host);
	assert_string_equal(port, want_port);
	free(host);
	free(port);
	buf_free(&err);
}

static void test_split_forms(void **state)
{
	(void)state;
	check_split("127.0.0.1:25", "127.0.0.1", "25");
	check_split("mail.example.org:smtp", "mail.example.org", "smtp");
	check_split("[::1]:2525", "::1", "2525");
	check_split("[2001:db8::1]:submission", "2001:db8::1", "submission");
	check_split(":587", NULL, "587");
	check_split("25", NULL, "25");
	check_split("smtp", NULL, "smtp");
	check_split("*:25", NULL, "25");
	check_split("all:25", NULL, "25");
	check_split("[::]:0", "::", "0");
	check_split("127.0.0.1:65535", "127.0.0.1", "65535");
}

static void test_split_errors(void **state)
{
	static const char *bad[] = {
	    "[::1]",
	    "[::1]25",
	    "[::1:25",
	    "[]:25",
	    "::1:25",
	    "2001:db8::1",
	    "host:",
	    "",
	    ":",
	    "host:65536",
	    "host:-1",
	    "host:+25",
	    "host:2 5",
	    "[::1]:",
	    "host:sm/tp",
	};
	struct buf err = BUF_INIT;
	char *host, *port;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sock_split_hostport(bad[i], &host, &port, &err) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_null(host);
		assert_null(port);
		assert_true(err.len > 0);
	}
	sock_split_hostport("::1:25", &host, &port, &err);
	assert_non_null(strstr(buf_cstr(&err), "bracket"));
	buf_free(&err);
}

static int listen_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[64];
	int port = -1;

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	sock_ntop((struct sockaddr *)&ss, addr, sizeof(addr), &port);
	return port;
}

static void check_listener_flags(int fd)
{
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* Connects to the listener and checks both ends print the same address. */
static void connect_and_check(int lfd, int family, const char *want_addr)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char addr[64];
	int cfd, afd, port = -1, peer_port = -1;

	assert_int_equal(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
	cfd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cfd >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&ss, len), 0);
	sock_peer(cfd, addr, sizeof(addr), &port);
	assert_string_equal(addr, want_addr);
	assert_int_equal(port, listen_port(lfd));
	assert_int_equal(sock_nonblock(lfd, false), 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	sock_peer(afd, addr, sizeof(addr), &peer_port);
	assert_string_equal(addr, want_addr);
	assert_true(peer_port > 0);
	close(afd);
	close(cfd);
}

static void test_inet_listen_v4(void **state)
{
	struct buf err = BUF_INIT;
	int fd;

	(void)state;
	fd = sock_inet_listen("127.0.0.1:0", 16, &err);
	if (fd < 0)
		fail_msg("%s", buf_cstr(&err));
	check_listener_flags(fd);
	assert_true(listen_port(fd) > 0);
	connect_and_check(fd, AF_INET, "127.0.0.1");
	close(fd);
	buf_free(&err);
}

static bool have_ipv6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void test_inet_listen_v6(void **state)
{
	struct buf err = BUF_INIT;
	int fd, on = 0;
	socklen_t len = sizeof(on);

	(void)state;
	if (!have_ipv6())
		skip();
	fd = sock_inet_listen("[::1]:0", 16, &err);
	if (fd < 0)
		fail_msg("%s", buf_cstr(&err));
	check_listener_flags(fd);
	assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len), 0);
	assert_int_equal(on, 1);
	connect_and_check(fd, AF_INET6, "::1");
	close(fd);
	buf_free(&err);
}

static void test_inet_listen_errors(void **state)
{
	struct buf err = BUF_INIT;
	int fd, fd2;
	char spec[64];

	(void)state;
	assert_int_equal(sock_inet_listen("::1:25", 16, &err), -1);
	assert_int_equal(sock_inet_listen("127.0.0.1:nosuchservice-x", 16, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), "127.0.0.1:nosuchservice-x"));
	/* Address in use: a second listener on the same port fails. */
	fd = sock_inet_listen("127.0.0.1:0", 16, &err);
	assert_true(fd >= 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", listen_port(fd));
	fd2 = sock_inet_listen(spec, 16, &err);
	assert_int_equal(fd2, -1);
	assert_non_null(strstr(buf_cstr(&err), spec));
	assert_non_null(strstr(buf_cstr(&err), strerror(EADDRINUSE)));
	close(fd);
	buf_free(&err);
}

static void test_inet_listen_any(void **state)
{
	struct buf err = BUF_INIT;
	int fd;

	(void)state;
	fd = sock_inet_listen(":0", 16, &err);
	if (fd < 0)
		fail_msg("%s", buf_cstr(&err));
	connect_and_check(fd, AF_INET, "127.0.0.1");
	close(fd);
	buf_free(&err);
}

static void test_unix(void **state)
{
	char dir[] = "/tmp/test_sock.XXXXXX";
	char path[128];
	struct buf err = BUF_INIT;
	struct stat st;
	int lfd, cfd, afd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	/* A stale socket left by an earlier run is replaced. */
	lfd = sock_unix_listen(path, 0600, 8, &err);
	assert_true(lfd >= 0);
	close(lfd);
	lfd = sock_unix_listen(path, 0620, 8, &err);
	if (lfd < 0)
		fail_msg("%s", buf_cstr(&err));
	check_listener_flags(lfd);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0620);
	cfd = sock_unix_connect(path, true);
	assert_true(cfd >= 0);
	assert_true(fcntl(cfd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(write(cfd, "x", 1), 1);
	char c = 0;
	assert_int_equal(read(afd, &c, 1), 1);
	assert_int_equal(c, 'x');
	close(afd);
	close(cfd);
	cfd = sock_unix_connect(path, false);
	assert_true(cfd >= 0);
	assert_false(fcntl(cfd, F_GETFL) & O_NONBLOCK);
	close(cfd);
	close(lfd);
	unlink(path);
	errno = 0;
	assert_int_equal(sock_unix_connect(path, false), -1);
	assert_int_equal(errno, ENOENT);
	rmdir(dir);
	buf_free(&err);
}

static void test_unix_errors(void **state)
{
	char dir[] = "/tmp/test_sock.XXXXXX";
	char path[128], longpath[200];
	struct buf err = BUF_INIT;
	int fd;

	(void)state;
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	errno = 0;
	assert_int_equal(sock_unix_connect(longpath, false), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(sock_unix_listen(longpath, 0600, 8, &err), -1);
	assert_true(err.len > 0);
	/* A regular file at the path is not removed. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(sock_unix_listen(path, 0600, 8, &err), -1);
	assert_non_null(strstr(buf_cstr(&err), path));
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	rmdir(dir);
	buf_free(&err);
}

static void test_ntop(void **state)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	struct sockaddr_un sun;
	char addr[64];
	int port = -1;

	(void)state;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(2525);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr), 1);
	sock_ntop((struct sockaddr *)&sin6, addr, sizeof(addr), &port);
	assert_string_equal(addr, "192.0.2.7");
	assert_int_equal(port, 2525);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr), 1);
	sock_ntop((struct sockaddr *)&sin6, addr, sizeof(addr), &port);
	assert_string_equal(addr, "2001:db8::5");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	sock_ntop((struct sockaddr *)&sin, addr, sizeof(addr), &port);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, 25);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	sock_ntop((struct sockaddr *)&sun, addr, sizeof(addr), &port);
	assert_string_equal(addr, "unknown");
	assert_int_equal(port, 0);
	port = -1;
	sock_peer(-1, addr, sizeof(addr), &port);
	assert_string_equal(addr, "unknown");
	assert_int_equal(port, 0);
}

static void test_networks(void **state)
{
	const char *list = "127.0.0.0/8, 192.0.2.1 [2001:db8::]/32\t[::1] 10.1.0.0/16";

	(void)state;
	assert_true(sock_addr_in_networks("127.0.0.1", list));
	assert_true(sock_addr_in_networks("127.255.255.255", list));
	assert_false(sock_addr_in_networks("128.0.0.1", list));
	assert_true(sock_addr_in_networks("192.0.2.1", list));
	assert_false(sock_addr_in_networks("192.0.2.2", list));
	assert_true(sock_addr_in_networks("10.1.200.3", list));
	assert_false(sock_addr_in_networks("10.2.0.1", list));
	assert_true(sock_addr_in_networks("2001:db8:ffff::1", list));
	assert_false(sock_addr_in_networks("2001:db9::1", list));
	assert_true(sock_addr_in_networks("::1", list));
	assert_false(sock_addr_in_networks("::2", list));
	/* A v4 client on a v6 socket still matches the v4 networks. */
	assert_true(sock_addr_in_networks("::ffff:127.0.0.1", list));
	assert_true(sock_addr_in_networks("::ffff:10.1.2.3", list));
	assert_false(sock_addr_in_networks("::ffff:10.2.2.3", list));
	/* Families never cross otherwise. */
	assert_false(sock_addr_in_networks("::7f00:1", list));
	assert_false(sock_addr_in_networks("garbage", list));
	assert_false(sock_addr_in_networks("127.0.0.1", ""));
}

static void test_network_prefixes(void **state)
{
	(void)state;
	assert_true(sock_addr_in_networks("203.0.113.9", "0.0.0.0/0"));
	assert_false(sock_addr_in_networks("2001:db8::1", "0.0.0.0/0"));
	assert_true(sock_addr_in_networks("2001:db8::1", "::/0"));
	assert_true(sock_addr_in_networks("203.0.113.9", "203.0.113.9/32"));
	assert_false(sock_addr_in_networks("203.0.113.8", "203.0.113.9/32"));
	assert_true(sock_addr_in_networks("203.0.113.9", "203.0.113.0/25"));
	assert_false(sock_addr_in_networks("203.0.113.200", "203.0.113.0/25"));
	assert_true(sock_addr_in_networks("203.0.113.200", "203.0.113.128/31"
							   " 203.0.113.200/31"));
	assert_true(sock_addr_in_networks("2001:db8::1", "[2001:db8::1]/128"));
	assert_false(sock_addr_in_networks("2001:db8::2", "[2001:db8::1]/128"));
	assert_true(sock_addr_in_networks("2001:db8::1", "2001:db8::/127"));
	assert_false(sock_addr_in_networks("2001:db8::2", "2001:db8::/127"));
	assert_true(sock_addr_in_networks("2001:db8::3", "2001:db8::2/127"));
	assert_false(sock_addr_in_networks("2001:db8::2", "2001:db8::/127 2001:db8::3"));
	/* A mapped network written in v6 form covers the v4 addresses. */
	assert_true(sock_addr_in_networks("198.51.100.7", "[::ffff:198.51.100.0]/120"));
	assert_false(sock_addr_in_networks("198.51.101.7", "[::ffff:198.51.100.0]/120"));
	assert_true(sock_addr_in_networks("[::1]", "::1"));
}

static void test_network_bad_entries(void **state)
{
	static const char *bad[] = {
	    "127.0.0.1/33",
	    "127.0.0.1/",
	    "127.0.0.1/-1",
	    "127.0.0.1/+8",
	    "127.0.0.1/8x",
	    "::1/129",
	    "[::1",
	    "::1]",
	    "[::1]/",
	    "1.2.3",
	    "example.org",
	    "!127.0.0.1",
	    "hash:/etc/tern/networks",
	    "[]",
	    "127.0.0.1/0x8",
	    "[::ffff:127.0.0.1]/95",
	    "/8",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sock_addr_in_networks("127.0.0.1", bad[i]))
			fail_msg("bad entry \"%s\" matched", bad[i]);
		if (sock_addr_in_networks("::1", bad[i]))
			fail_msg("bad entry \"%s\" matched ::1", bad[i]);
	}
	/* A bad entry is skipped; later entries still count. */
	assert_true(sock_addr_in_networks("127.0.0.1", "127.0.0.1/99 127.0.0.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_forms),
	    cmocka_unit_test(test_split_errors),
	    cmocka_unit_test(test_inet_listen_v4),
	    cmocka_unit_test(test_inet_listen_v6),
	    cmocka_unit_test(test_inet_listen_errors),
	    cmocka_unit_test(test_inet_listen_any),
	    cmocka_unit_test(test_unix),
	    cmocka_unit_test(test_unix_errors),
	    cmocka_unit_test(test_ntop),
	    cmocka_unit_test(test_networks),
	    cmocka_unit_test(test_network_prefixes),
	    cmocka_unit_test(test_network_bad_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
