/*
 * misc.c - the small documents http serves itself:
 *
 *   /mail/config-v1.1.xml, /.well-known/autoconfig/mail/config-v1.1.xml
 *       Thunderbird's autoconfiguration: IMAP and submission servers from
 *       http_autoconfig_imap and http_autoconfig_submission (HOST:PORT;
 *       ports 993 and 465 mean implicit TLS, others STARTTLS).
 *   /autodiscover/autodiscover.xml (POST, also GET)
 *       Microsoft's POX autodiscover (Outlook, many phones): the same
 *       servers; the address the client names is echoed as login name.
 *   /.well-known/mta-sts.txt
 *       The domains' MTA-STS policy (RFC 8461 3.2) from mta_sts_mode,
 *       mta_sts_mx and mta_sts_max_age (mtasts_publish.h), to requests
 *       whose Host is "mta-sts." followed by a domain tern takes mail for
 *       (resolve.h: local, virtual or alias class); 404 otherwise and
 *       when mta_sts_mode is off.  Senders fetch it only over HTTPS with a
 *       certificate valid for that host name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "mtasts_publish.h"
#include "resolve.h"
#include "sock.h"
#include "util.h"

static void server_of(const char *param, char **host, long *port)
{
	char *h = NULL, *p = NULL;
	struct buf err = BUF_INIT;

	*port = 0;
	if (sock_split_hostport(config_str(param), &h, &p, &err) < 0 || p == NULL ||
	    !parse_long(p, 1, 65535, port)) {
		free(h);
		h = xstrdup(config_str("myhostname"));
	}
	*host = h;
	free(p);
	buf_free(&err);
}

static void xml_text(struct buf *b, const char *s)
{
	buf_put_html(b, s, strlen(s));
}

static enum MHD_Result autoconfig(struct hreq *q)
{
	struct buf b = BUF_INIT;
	char *ih, *sh;
	long ip, sp;
	enum MHD_Result rc;

	server_of("http_autoconfig_imap", &ih, &ip);
	server_of("http_autoconfig_submission", &sh, &sp);
	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<clientConfig version=\"1.1\">\n  <emailProvider id=\"");
	xml_text(&b, config_str("mydomain"));
	buf_puts(&b, "\">\n    <domain>");
	xml_text(&b, config_str("mydomain"));
	buf_puts(&b, "</domain>\n    <displayName>");
	xml_text(&b, config_str("mydomain"));
	buf_puts(&b, "</displayName>\n    <incomingServer type=\"imap\">\n      <hostname>");
	xml_text(&b, ih);
	buf_printf(&b,
	    "</hostname>\n      <port>%ld</port>\n      <socketType>%s</socketType>\n"
	    "      <authentication>password-cleartext</authentication>\n"
	    "      <username>%%EMAILADDRESS%%</username>\n    </incomingServer>\n"
	    "    <outgoingServer type=\"smtp\">\n      <hostname>",
	    ip, ip == 993 ? "SSL" : "STARTTLS");
	xml_text(&b, sh);
	buf_printf(&b,
	    "</hostname>\n      <port>%ld</port>\n      <socketType>%s</socketType>\n"
	    "      <authentication>password-cleartext</authentication>\n"
	    "      <username>%%EMAILADDRESS%%</username>\n    </outgoingServer>\n"
	    "  </emailProvider>\n</clientConfig>\n",
	    sp, sp == 465 ? "SSL" : "STARTTLS");
	rc = http_queue(q, 200, http_text("application/xml; charset=utf-8", b.data, b.len));
	buf_free(&b);
	free(ih);
	free(sh);
	return rc;
}

/* The <EMailAddress> of the request, or "". */
static char *pox_address(const struct buf *body)
{
	const char *s = body->data ? memmem(body->data, body->len, "<EMailAddress>", 14) : NULL;
	const char *e;

	if (s == NULL)
		return xstrdup("");
	s += 14;
	e = memmem(s, body->len - (size_t)(s - body->data), "</EMailAddress>", 15);
	if (e == NULL || e - s > 320)
		return xstrdup("");
	return xstrndup(s, (size_t)(e - s));
}

static enum MHD_Result autodiscover(struct hreq *q)
{
	struct buf b = BUF_INIT;
	char *addr = pox_address(&q->body);
	enum MHD_Result rc;
	char *h;
	long p;

	buf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		     "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
		     "responseschema/2006\">\n  <Response xmlns=\"http://schemas.microsoft.com/"
		     "exchange/autodiscover/outlook/responseschema/2006a\">\n    <Account>\n"
		     "      <AccountType>email</AccountType>\n      <Action>settings</Action>\n");
	for (int i = 0; i < 2; i++) {
		const char *param = i ? "http_autoconfig_submission" : "http_autoconfig_imap";

		server_of(param, &h, &p);
		buf_printf(&b, "      <Protocol>\n        <Type>%s</Type>\n        <Server>",
		    i ? "SMTP" : "IMAP");
		xml_text(&b, h);
		buf_printf(&b, "</Server>\n        <Port>%ld</Port>\n        <LoginName>", p);
		xml_text(&b, addr);
		buf_printf(&b,
		    "</LoginName>\n        <SPA>off</SPA>\n        <SSL>on</SSL>\n"
		    "        <Encryption>%s</Encryption>\n        <AuthRequired>on</AuthRequired>\n"
		    "      </Protocol>\n",
		    (p == 993 || p == 465) ? "SSL" : "TLS");
		free(h);
	}
	buf_puts(&b, "    </Account>\n  </Response>\n</Autodiscover>\n");
	rc = http_queue(q, 200, http_text("application/xml; charset=utf-8", b.data, b.len));
	buf_free(&b);
	free(addr);
	return rc;
}

/* "mta-sts.DOMAIN[:port]" where DOMAIN is one tern takes mail for (local,
 * virtual or alias class): no policy for names it does not serve.  A domain
 * table http cannot read from its confinement (a hash: file outside it)
 * serves the policy as before, with a warning: it is no secret, and a
 * sender without it would lose the protection. */
static bool mta_sts_host_ours(const char *host)
{
	static bool warned;
	char *domain, *addr;
	struct resolved r;
	bool ours = false;

	if (host == NULL || !str_prefix_case(host, "mta-sts."))
		return false;
	domain = xstrdup(host + 8);
	domain[strcspn(domain, ":")] = '\0';
	str_lower(domain);
	addr = xasprintf("postmaster@%s", domain);
	if (*domain && strcspn(domain, "@/ \t") == strlen(domain)) {
		if (resolve_addr(addr, &r)) {
			ours =
			    r.cls == CLASS_LOCAL || r.cls == CLASS_VIRTUAL || r.cls == CLASS_ALIAS;
		} else {
			if (!warned)
				log_warn("MTA-STS policy: cannot tell whether %s is a domain of "
					 "this server (a domain table cannot be read): served",
				    domain);
			warned = true;
			ours = true;
		}
	}
	free(addr);
	free(domain);
	return ours;
}

static enum MHD_Result mta_sts(struct hreq *q)
{
	const char *host = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Host");
	struct buf b = BUF_INIT;
	char id[MTASTS_PUBLISH_ID_LEN + 1];
	enum MHD_Result rc;

	if (!mta_sts_host_ours(host) || !mtasts_published(&b, id)) {
		buf_free(&b);
		return http_queue(
		    q, 404, http_text("text/plain; charset=utf-8", "Not found\n", 10));
	}
	rc = http_queue(q, 200, http_text("text/plain; charset=utf-8", b.data, b.len));
	buf_free(&b);
	return rc;
}

enum MHD_Result http_misc(struct hreq *q, const char *url, bool *handled)
{
	*handled = true;
	if (strcmp(url, "/mail/config-v1.1.xml") == 0 ||
	    strcmp(url, "/.well-known/autoconfig/mail/config-v1.1.xml") == 0)
		return autoconfig(q);
	if (strcasecmp(url, "/autodiscover/autodiscover.xml") == 0)
		return autodiscover(q);
	if (strcmp(url, "/metrics") == 0)
		return http_metrics(q);
	if (strcmp(url, "/.well-known/mta-sts.txt") == 0)
		return mta_sts(q);
	if (http_acme_path(url) &&
	    (strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0))
		return http_acme(q, url);
	*handled = false;
	return MHD_NO;
}
