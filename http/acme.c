/*
 * acme.c - ACME's http-01 challenges (RFC 8555 8.3):
 *
 *   /.well-known/acme-challenge/TOKEN
 *       the key authorization "tern cert acme" wrote to
 *       config_directory/acme/challenges/TOKEN while its order is
 *       validated; 404 for any other or a malformed TOKEN (base64url
 *       only: no '/', no "..").
 *
 * The folder is opened at start, before the process confines itself
 * (made when missing, as root: 0755, so that the ACME client, run later,
 * finds it); files are read with openat() below it, without following
 * symbolic links.  The CA asks on port 80 over plain HTTP from anywhere:
 * this is the only path the plain listener answers to clients other than
 * loopback ones (route.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acme_msg.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define ACME_PATH "/.well-known/acme-challenge/"
#define ACME_KEYAUTH_MAX 1024

int http_acme_open(void)
{
	char *acme = xasprintf("%s/acme", config_dir());
	char *dir = xasprintf("%s/challenges", acme);
	int fd;

	if (mkdir(acme, 0700) < 0 && errno != EEXIST)
		log_warn("%s: %s", acme, strerror(errno));
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		log_warn("%s: %s", dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		log_warn("%s: %s (ACME http-01 challenges are not answered)", dir, strerror(errno));
	free(acme);
	free(dir);
	return fd;
}

bool http_acme_path(const char *url)
{
	return strncmp(url, ACME_PATH, strlen(ACME_PATH)) == 0;
}

enum MHD_Result http_acme(struct hreq *q, const char *url)
{
	const char *token = url + strlen(ACME_PATH);
	char data[ACME_KEYAUTH_MAX];
	ssize_t n = -1;
	int fd = -1;

	if (http.acme_fd >= 0 && acme_token_ok(token) &&
	    (fd = openat(http.acme_fd, token, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
		n = read(fd, data, sizeof(data));
	if (fd >= 0)
		close(fd);
	if (n <= 0 || (size_t)n == sizeof(data))
		return http_queue(
		    q, 404, http_text("text/plain; charset=utf-8", "Not found\n", 10));
	log_info("acme: http-01 challenge %s answered", token);
	return http_queue(q, 200, http_text("application/octet-stream", data, (size_t)n));
}
