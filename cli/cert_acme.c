/*
 * cert_acme.c - "tern cert acme" and "tern cert renew": the instance's
 * certificate from an ACME CA (lib/acme.h), installed and renewed.
 *
 *   tern [-c DIR] cert acme --domain D [--domain D2 ...] [--email E]
 *        [--server URL] [--ca-file PEM] [--challenge http-01|tls-alpn-01]
 *   tern [-c DIR] cert renew [--force]
 *
 * State under config_directory/acme/ (0700): account.key (the ACME
 * account's EC P-256 key, 0600), NAME.json per certificate (NAME its
 * first domain: the domains, email, server, CA file and where the
 * certificate was installed), challenges/ (0755: http reads the key
 * authorizations there while an order is validated).
 *
 * Installing: the chain and key go where smtpd_tls_cert_file and
 * smtpd_tls_key_file point, and where login_tls_* and http_tls_* point
 * when they name other files; each file is replaced atomically
 * (lib/file_replace: a reader sees the old file or the new one), keys
 * with mode 0600.  When smtpd_tls_cert_file is empty, acme/NAME.crt and
 * acme/NAME.key are used and set in main.cf.  Then a running system is
 * reloaded as by "tern reload": every service's processes finish their
 * sessions with the old certificate and new ones load the new one; no
 * session is dropped.  On any failure nothing is installed.
 *
 * renew: each NAME.json whose installed certificate expires within
 * acme_renew_days (or cannot be read; every one with --force) is issued
 * again with the same domains, email and server.  Run it daily (cron or
 * a systemd timer), as "tern dmarc report".
 *
 * Exit: 0; EX_USAGE; EX_CONFIG; EX_UNAVAILABLE (the CA refused or cannot
 * be reached: its problem "type: detail" is printed); EX_PROTOCOL;
 * EX_TEMPFAIL; EX_CANTCREAT.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "acme.h"
#include "acme_msg.h"
#include "config.h"
#include "conf_edit.h"
#include "file_replace.h"
#include "tern.h"
#include "util.h"

#define ACME_POLL_MS (180 * 1000)

struct cert_order {
	char **domains;
	const char *email, *server, *ca_file;
	const char *challenge; /* http-01 or tls-alpn-01 */
};

static int acme_usage(void)
{
	fprintf(stderr, "usage: tern cert acme --domain D [--domain D2 ...] [--email E] "
			"[--server URL] [--ca-file PEM]\n"
			"       [--challenge http-01|tls-alpn-01]\n"
			"       tern cert renew [--force]\n");
	return EX_USAGE;
}

static char *acme_path(const char *name)
{
	return xasprintf("%s/acme%s%s", config_dir(), name ? "/" : "", name ? name : "");
}

static int write_file(const char *path, const struct buf *b, mode_t mode)
{
	struct buf err = BUF_INIT;
	int r = file_replace(path, b->data, b->len, mode, &err);

	if (r < 0)
		fprintf(stderr, "tern: %s\n", buf_cstr(&err));
	buf_free(&err);
	return r;
}

/* Writes chain and key to one (cert, key) pair of parameters' files. */
static int install_pair(const char *cert, const char *key, const struct acme_cert *c)
{
	if (strcmp(cert, key) == 0) {
		struct buf both = BUF_INIT;
		int r;

		buf_append(&both, c->key.data, c->key.len);
		buf_append(&both, c->chain.data, c->chain.len);
		r = write_file(cert, &both, 0600);
		buf_free(&both);
		return r;
	}
	if (write_file(key, &c->key, 0600) < 0 || write_file(cert, &c->chain, 0644) < 0)
		return -1;
	chmod(key, 0600);
	return 0;
}

/* The certificate's file (set in main.cf when it was empty) into *cert. */
static int install(const char *name, const struct acme_cert *c, char **cert_out)
{
	static const char *const pairs[][2] = {
	    {"smtpd_tls_cert_file", "smtpd_tls_key_file"},
	    {"login_tls_cert_file", "login_tls_key_file"},
	    {"http_tls_cert_file", "http_tls_key_file"},
	};
	char *done[3] = {NULL, NULL, NULL};
	int r = 0;

	if (*config_str("smtpd_tls_cert_file") == '\0') {
		char *crt = xasprintf("%s/acme/%s.crt", config_dir(), name);
		char *key = xasprintf("%s/acme/%s.key", config_dir(), name);
		struct conf_change ch[2] = {
		    {.name = "smtpd_tls_cert_file", .value = crt},
		    {.name = "smtpd_tls_key_file", .value = key},
		};
		struct buf err = BUF_INIT;

		if ((r = install_pair(crt, key, c)) == 0 &&
		    (r = conf_edit_file(config_file_path(), ch, 2, &err)) < 0)
			fprintf(stderr, "tern: %s\n", buf_cstr(&err));
		if (r == 0)
			printf("tern: smtpd_tls_cert_file = %s, smtpd_tls_key_file = %s set in "
			       "main.cf\n",
			    crt, key);
		*cert_out = crt;
		free(key);
		buf_free(&err);
		return r;
	}
	for (size_t i = 0; i < 3 && r == 0; i++) {
		const char *crt = config_str(pairs[i][0]), *key = config_str(pairs[i][1]);
		bool dup = false;

		for (size_t j = 0; j < i; j++)
			dup |= done[j] && strcmp(done[j], crt) == 0;
		if (*crt == '\0' || *key == '\0' || dup)
			continue;
		if ((r = install_pair(crt, key, c)) == 0)
			printf("tern: installed %s and %s\n", crt, key);
		done[i] = xstrdup(crt);
	}
	*cert_out = xstrdup(config_str("smtpd_tls_cert_file"));
	for (size_t i = 0; i < 3; i++)
		free(done[i]);
	return r;
}

static int save_state(const char *name, const struct cert_order *o, const char *cert)
{
	json_t *j = json_object(), *d = json_array();
	char *path = xasprintf("%s/acme/%s.json", config_dir(), name);
	struct buf b = BUF_INIT;
	char *text;
	int r;

	for (size_t i = 0; o->domains[i]; i++)
		json_array_append_new(d, json_string(o->domains[i]));
	json_object_set_new(j, "domains", d);
	json_object_set_new(j, "email", json_string(o->email ? o->email : ""));
	json_object_set_new(j, "server", json_string(o->server));
	json_object_set_new(j, "ca_file", json_string(o->ca_file ? o->ca_file : ""));
	json_object_set_new(j, "cert_file", json_string(cert));
	json_object_set_new(j, "challenge", json_string(o->challenge));
	text = json_dumps(j, JSON_INDENT(2));
	buf_puts(&b, text);
	buf_putc(&b, '\n');
	r = write_file(path, &b, 0600);
	free(text);
	free(path);
	buf_free(&b);
	json_decref(j);
	return r;
}

/* One order: issue, install, remember, reload. */
static int issue(const struct cert_order *o)
{
	char *dir = acme_path(NULL), *chal = acme_path("challenges");
	char *keyfile = acme_path("account.key"), *cert = NULL;
	char name[256];
	struct acme_cert c = {.chain = BUF_INIT, .key = BUF_INIT};
	struct acme_params p = {
	    .server = o->server,
	    .ca_file = o->ca_file && *o->ca_file ? o->ca_file : NULL,
	    .email = o->email,
	    .domains = o->domains,
	    .account_key = keyfile,
	    .challenge_dir = chal,
	    .challenge = o->challenge,
	    .poll_ms = ACME_POLL_MS,
	};
	struct buf why = BUF_INIT;
	int r;

	strlcpy(name, o->domains[0], sizeof(name));
	str_lower(name);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "tern: %s: %s\n", dir, strerror(errno));
		r = EX_CANTCREAT;
	} else if ((r = acme_issue(&p, &c, &why)) != 0) {
		fprintf(stderr, "tern: cert acme %s: %s (the installed certificate is unchanged)\n",
		    name, buf_cstr(&why));
	} else if (install(name, &c, &cert) < 0 || save_state(name, o, cert) < 0) {
		r = EX_CANTCREAT;
	} else {
		int rl = cli_reload_running();

		printf("tern: certificate for %s issued by %s\n", name, o->server);
		if (rl == 0)
			printf("tern: the mail system reloaded: new sessions get the new "
			       "certificate\n");
		else if (rl < 0)
			fprintf(
			    stderr, "tern: the reload did not finish in time; run tern reload\n");
	}
	if (c.key.data)
		OPENSSL_cleanse(c.key.data, c.key.len);
	buf_free(&c.key);
	buf_free(&c.chain);
	buf_free(&why);
	free(dir);
	free(chal);
	free(keyfile);
	free(cert);
	return r;
}

static int cert_acme(int argc, char **argv)
{
	struct cert_order o = {.domains = NULL, .challenge = "http-01"};
	int r;

	o.domains = xcalloc(1, sizeof(char *));
	for (int i = 2; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			goto usage;
		if (strcmp(argv[i], "--domain") == 0) {
			if (!acme_name_ok(v)) {
				fprintf(stderr, "tern: --domain %s: not a host name\n", v);
				strv_free(o.domains);
				return EX_USAGE;
			}
			strv_add(&o.domains, v);
		} else if (strcmp(argv[i], "--email") == 0)
			o.email = v;
		else if (strcmp(argv[i], "--server") == 0)
			o.server = v;
		else if (strcmp(argv[i], "--ca-file") == 0)
			o.ca_file = v;
		else if (strcmp(argv[i], "--challenge") == 0 &&
			 (strcmp(v, "http-01") == 0 || strcmp(v, "tls-alpn-01") == 0))
			o.challenge = v;
		else
			goto usage;
		i++;
	}
	if (o.domains[0] == NULL)
		goto usage;
	if (o.email && (strchr(o.email, '@') == NULL || strpbrk(o.email, " \t\r\n,<>"))) {
		fprintf(stderr, "tern: --email %s: not a mail address\n", o.email);
		strv_free(o.domains);
		return EX_USAGE;
	}
	if (o.server == NULL)
		o.server = config_str("acme_server");
	r = issue(&o);
	strv_free(o.domains);
	return r;
usage:
	strv_free(o.domains);
	return acme_usage();
}

/* True when the certificate in path expires within days (or is unreadable). */
static bool due(const char *path, long days)
{
	FILE *f = fopen(path, "re");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	time_t t = time(NULL) + (time_t)days * 86400;
	bool soon = x == NULL || X509_cmp_time(X509_get0_notAfter(x), &t) <= 0;

	if (f)
		fclose(f);
	X509_free(x);
	return soon;
}

static int renew_one(const char *file, bool force, long days)
{
	json_error_t e;
	json_t *j = json_load_file(file, 0, &e), *d, *v;
	struct cert_order o = {.domains = NULL};
	const char *cert;
	size_t i;
	int r = 0;

	d = json_object_get(j, "domains");
	cert = json_string_value(json_object_get(j, "cert_file"));
	o.server = json_string_value(json_object_get(j, "server"));
	o.email = json_string_value(json_object_get(j, "email"));
	o.ca_file = json_string_value(json_object_get(j, "ca_file"));
	o.challenge = json_string_value(json_object_get(j, "challenge"));
	if (o.challenge == NULL || strcmp(o.challenge, "tls-alpn-01") != 0)
		o.challenge = "http-01";
	if (!json_is_array(d) || json_array_size(d) == 0 || cert == NULL || o.server == NULL) {
		fprintf(stderr, "tern: %s: not an ACME certificate's state\n", file);
		json_decref(j);
		return EX_DATAERR;
	}
	o.domains = xcalloc(1, sizeof(char *));
	json_array_foreach(d, i, v) if (json_is_string(v) && acme_name_ok(json_string_value(v)))
	    strv_add(&o.domains, json_string_value(v));
	if (!force && !due(cert, days))
		printf("tern: %s: not due (expires in more than %ld days)\n", cert, days);
	else if (o.domains[0])
		r = issue(&o);
	strv_free(o.domains);
	json_decref(j);
	return r;
}

static int cert_renew(int argc, char **argv)
{
	bool force = false;
	char *dir = acme_path(NULL);
	struct dirent **ents = NULL;
	int n, r = 0;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--force") != 0) {
			free(dir);
			return acme_usage();
		}
		force = true;
	}
	if ((n = scandir(dir, &ents, NULL, alphasort)) < 0) {
		printf("tern: %s: %s: no ACME certificates\n", dir, strerror(errno));
		free(dir);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name);

		if (len > 5 && strcmp(ents[i]->d_name + len - 5, ".json") == 0) {
			char *file = xasprintf("%s/%s", dir, ents[i]->d_name);
			int one = renew_one(file, force, config_int("acme_renew_days"));

			if (one != 0)
				r = one;
			free(file);
		}
		free(ents[i]);
	}
	free(ents);
	free(dir);
	return r;
}

int cmd_cert(const char *confdir, int argc, char **argv)
{
	if (argc < 2)
		return acme_usage();
	if (strcmp(argv[1], "acme") != 0 && strcmp(argv[1], "renew") != 0)
		return acme_usage();
	cli_load_config(confdir);
	return strcmp(argv[1], "acme") == 0 ? cert_acme(argc, argv) : cert_renew(argc, argv);
}
