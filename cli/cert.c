/*
 * cert.c - a self-signed certificate for a new instance, with OpenSSL.
 *
 * An EC P-256 key and an X.509 v3 certificate valid for ten years, with
 * the given names as subjectAltName.  Good enough to make STARTTLS work on
 * a test or development instance; production systems install a real one.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "tern.h"

#define CERT_DAYS 3650

static int cert_error(char *errbuf, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();

	snprintf(errbuf, errlen, "%s: %s", what, e ? ERR_reason_error_string(e) : "failed");
	return -1;
}

static int cert_add_san(X509 *x, char **names)
{
	struct buf san = BUF_INIT;
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	int ok;

	for (size_t i = 0; names[i]; i++)
		buf_printf(&san, "%sDNS:%s", i ? "," : "", names[i]);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san.data);
	buf_free(&san);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static X509 *cert_build(EVP_PKEY *key, const char *cn, char **names)
{
	X509 *x = X509_new();
	X509_NAME *subject;

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400);
	X509_set_pubkey(x, key);
	subject = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(
	    subject, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, subject);
	if (cert_add_san(x, names) < 0 || X509_sign(x, key, EVP_sha256()) == 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int cert_write(const char *path, mode_t mode, EVP_PKEY *key, X509 *x)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, x);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	fclose(f);
	return ok ? 0 : -1;
}

int cert_make_self_signed(const char *cert_path, const char *key_path, const char *cn,
    char **dns_names, char *errbuf, size_t errlen)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x;
	int r = 0;

	if (key == NULL)
		return cert_error(errbuf, errlen, "key generation");
	if ((x = cert_build(key, cn, dns_names)) == NULL) {
		EVP_PKEY_free(key);
		return cert_error(errbuf, errlen, "certificate");
	}
	if (cert_write(key_path, 0600, key, NULL) < 0 || cert_write(cert_path, 0644, NULL, x) < 0)
		r = cert_error(errbuf, errlen, "writing certificate or key");
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}
