/*
 * inet_listen.c - inet_interfaces and inet_protocols applied to an inet
 * service (inet_listen.h).
 *
 * The only configuration policy here is Postfix's; binding is sock.c's.
 * IPv6 "all"/"loopback-only" addresses are left out when the kernel
 * cannot make an IPv6 socket at all (Postfix warns and carries on too).
 */
#include "inet_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "sock.h"
#include "util.h"

#define IL_SEPS " \t\r\n,"

bool inet_protocols_parse(const char *value, bool *v4, bool *v6, struct buf *err)
{
	char **w = strv_split(value, IL_SEPS);
	bool ok = true;

	*v4 = *v6 = false;
	for (char **p = w; *p && ok; p++) {
		if (str_case_eq(*p, "all"))
			*v4 = *v6 = true;
		else if (str_case_eq(*p, "ipv4"))
			*v4 = true;
		else if (str_case_eq(*p, "ipv6"))
			*v6 = true;
		else {
			buf_printf(err,
			    "inet_protocols: unknown protocol \"%s\" (use all, ipv4, ipv6)", *p);
			ok = false;
		}
	}
	if (ok && !*v4 && !*v6) {
		buf_puts(err, "inet_protocols is empty (use all, ipv4, ipv6)");
		ok = false;
	}
	strv_free(w);
	return ok;
}

static bool il_kernel_has_ipv6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

struct il_list {
	struct inet_listen_addr *v;
	int n;
};

static void il_add(struct il_list *l, const char *host, bool v6, const char *port, bool optional)
{
	char *spec = v6 ? xasprintf("[%s]:%s", host, port) : xasprintf("%s:%s", host, port);

	for (int i = 0; i < l->n; i++)
		if (strcmp(l->v[i].spec, spec) == 0) {
			free(spec);
			return;
		}
	l->v = xreallocarray(l->v, (size_t)l->n + 1, sizeof(*l->v));
	l->v[l->n].spec = spec;
	l->v[l->n++].optional = optional;
}

/* One inet_interfaces entry that is not a keyword: an address or a name. */
static int il_entry(
    struct il_list *l, const char *entry, bool v4, bool v6, const char *port, struct buf *err)
{
	struct addrinfo hints, *res, *ai;
	unsigned char ip[16];
	char host[256];
	size_t len = strlen(entry);
	int e, found = 0;

	/* "[::1]" and "::1" both name an IPv6 address. */
	if (entry[0] == '[' && len > 2 && entry[len - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)(len - 2), entry + 1);
	else
		snprintf(host, sizeof(host), "%s", entry);
	if (inet_pton(AF_INET6, host, ip) == 1 || inet_pton(AF_INET, host, ip) == 1) {
		bool is6 = strchr(host, ':') != NULL;

		if ((is6 && !v6) || (!is6 && !v4)) {
			buf_printf(
			    err, "inet_interfaces: %s is not an address of inet_protocols", entry);
			return -1;
		}
		il_add(l, host, is6, port, false);
		return 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = v4 && v6 ? AF_UNSPEC : v4 ? AF_INET : AF_INET6;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		buf_printf(err, "inet_interfaces: %s: %s", entry, gai_strerror(e));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		char addr[64];
		int p;

		sock_ntop(ai->ai_addr, addr, sizeof(addr), &p);
		il_add(l, addr, ai->ai_family == AF_INET6, port, false);
		found++;
	}
	freeaddrinfo(res);
	if (found == 0) {
		buf_printf(err, "inet_interfaces: %s has no address", entry);
		return -1;
	}
	return 0;
}

static int il_interfaces(struct il_list *l, const char *port, struct buf *err)
{
	char **w = config_list("inet_interfaces");
	bool v4, v6, kernel6 = il_kernel_has_ipv6();
	int rc = 0;

	if (!inet_protocols_parse(config_str("inet_protocols"), &v4, &v6, err)) {
		strv_free(w);
		return -1;
	}
	if (w[0] == NULL) {
		buf_puts(err, "inet_interfaces is empty (use all, loopback-only or addresses)");
		rc = -1;
	}
	for (char **p = w; *p && rc == 0; p++) {
		bool all = str_case_eq(*p, "all"), loop = str_case_eq(*p, "loopback-only");

		if ((all || loop) && strv_len(w) > 1) {
			buf_printf(err, "inet_interfaces: \"%s\" must stand alone", *p);
			rc = -1;
		} else if (all || loop) {
			if (v4)
				il_add(l, all ? "0.0.0.0" : "127.0.0.1", false, port, false);
			if (v6 && kernel6)
				il_add(l, all ? "::" : "::1", true, port, v4);
		} else {
			rc = il_entry(l, *p, v4, v6, port, err);
		}
	}
	strv_free(w);
	if (rc == 0 && l->n == 0) {
		buf_puts(err, "inet_interfaces: no address to listen on (IPv6 only, and the "
			      "kernel has no IPv6)");
		rc = -1;
	}
	return rc;
}

int inet_listen_addrs(const char *service, struct inet_listen_addr **out, struct buf *err)
{
	struct il_list l = {NULL, 0};
	char *host, *port;

	*out = NULL;
	if (sock_split_hostport(service, &host, &port, err) < 0)
		return -1;
	buf_reset(err);
	if (host) {
		/* Its own host: exactly what it says. */
		l.v = xcalloc(1, sizeof(*l.v));
		l.v[0].spec = xstrdup(service);
		l.n = 1;
	} else if (il_interfaces(&l, port, err) < 0) {
		inet_listen_free(l.v, l.n);
		l.v = NULL;
		l.n = -1;
	}
	free(host);
	free(port);
	*out = l.v;
	return l.n;
}

void inet_listen_free(struct inet_listen_addr *addrs, int n)
{
	for (int i = 0; i < n; i++)
		free(addrs[i].spec);
	free(addrs);
}
