/*
 * dkim_keydir.c - the DKIM signing keys: DOMAIN.SELECTOR.key files in
 * dkim_key_directory.  cleanup signs with them (and seals ARC sets with
 * an RSA one); `tern dkim check` and `tern doctor` compare them with what
 * DNS publishes; `tern check` and cleanup's start check arc_sealing's key.
 */
#include <dirent.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "msgauth/dkim.h"
#include "util.h"

char *dkim_key_dir(void)
{
	const char *d = config_str("dkim_key_directory");

	return *d ? xstrdup(d) : xasprintf("%s/dkim", config_dir());
}

/* One file: appended to *k when it is DOMAIN.SELECTOR.key and a key. */
static void dkim_keyfile_load(const char *dir, const char *name, struct dkim_keyfile **k, size_t *n)
{
	size_t len = strlen(name);
	const char *dot;
	char *path, *base;
	FILE *f;
	EVP_PKEY *pk;

	if (len < 5 || strcmp(name + len - 4, ".key") != 0)
		return;
	base = xstrndup(name, len - 4);
	if ((dot = strrchr(base, '.')) == NULL || dot == base || dot[1] == 0) {
		free(base);
		return;
	}
	path = xasprintf("%s/%s", dir, name);
	if ((f = fopen(path, "r")) == NULL) {
		log_warn("dkim: cannot read key %s: %m", path);
	} else if ((pk = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		log_warn("dkim: %s is not a PEM private key", path);
	} else {
		*k = xreallocarray(*k, *n + 1, sizeof(**k));
		(*k)[(*n)++] = (struct dkim_keyfile){
		    .domain = xstrndup(base, (size_t)(dot - base)),
		    .selector = xstrdup(dot + 1),
		    .pkey = pk,
		};
	}
	if (f)
		fclose(f);
	free(path);
	free(base);
}

static int dkim_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t dkim_keyfiles_load(const char *dir, struct dkim_keyfile **out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, nk = 0;

	*out = NULL;
	if (d == NULL) {
		log_debug("dkim: no key directory %s", dir);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), dkim_name_cmp);
	for (size_t i = 0; i < n; i++) {
		dkim_keyfile_load(dir, names[i], out, &nk);
		free(names[i]);
	}
	free(names);
	return nk;
}

void dkim_keyfiles_free(struct dkim_keyfile *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(k[i].domain);
		free(k[i].selector);
		EVP_PKEY_free(k[i].pkey);
	}
	free(k);
}

const struct dkim_keyfile *dkim_keyfile_rsa(
    const struct dkim_keyfile *k, size_t n, const char *domain, const char *selector)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(k[i].domain, domain) == 0 &&
		    (selector == NULL || *selector == 0 || strcmp(k[i].selector, selector) == 0) &&
		    EVP_PKEY_get_base_id(k[i].pkey) == EVP_PKEY_RSA)
			return &k[i];
	return NULL;
}

bool arc_sealing_check(struct buf *why)
{
	const char *d = config_str("arc_seal_domain"), *sel = config_str("arc_seal_selector");
	struct dkim_keyfile *k = NULL;
	size_t n;
	char *dir;
	bool ok;

	if (!config_bool("arc_sealing"))
		return true;
	if (!config_bool("dkim_verify") || !config_bool("arc_verify")) {
		buf_puts(why, "arc_sealing needs dkim_verify and arc_verify");
		return false;
	}
	if (*d == 0) {
		buf_puts(why, "arc_sealing needs arc_seal_domain");
		return false;
	}
	dir = dkim_key_dir();
	n = dkim_keyfiles_load(dir, &k);
	ok = dkim_keyfile_rsa(k, n, d, sel) != NULL;
	if (!ok)
		buf_printf(
		    why, "arc_sealing: no RSA key %s.%s.key in %s", d, *sel ? sel : "*", dir);
	dkim_keyfiles_free(k, n);
	free(dir);
	return ok;
}
