/*
 * main.c - "tern", the operator's command.
 *
 *   tern [-c DIR] init|start|stop|status|reload|queue|check|conf|domain|user ...
 *
 * -c names the configuration directory (or an instance directory made by
 * "tern init", whose etc/ is then used); TERN_CONFIG works too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "tern.h"

static void usage(void)
{
	fprintf(stderr,
	    "usage: tern [-c config_dir] command [args]\n"
	    "commands:\n"
	    "  init DIR [--smtp HOST:PORT] [--submission HOST:PORT] [--smtps "
	    "HOST:PORT] [--domain NAME]...\n"
	    "  start [-f]      start the mail system (-f: stay in the foreground)\n"
	    "  stop            stop it\n"
	    "  status          tell whether it runs\n"
	    "  reload          re-read main.cf and master.cf\n"
	    "  queue list      list the queued messages (also: show, flush, delete,\n"
	    "                  hold, release, requeue, summary; see tern(1))\n"
	    "  check           report configuration problems; verify and repair queue\n"
	    "                  ownership and modes\n"
	    "  conf [-n|-d|-e|-X|-M] ...  show or edit main.cf, show master.cf (postconf)\n"
	    "  domain list|add NAME|del NAME  the virtual mailbox domains\n"
	    "  newaliases [-v] check the alias files (alias_database)\n"
	    "  user add|del|passwd|list|show|quota|app-password ...\n"
	    "                  manage accounts (the users file; see tern(1))\n"
	    "  passwd [--stdin] [-d] USER   set or remove a legacy SMTP AUTH password\n"
	    "  mailbox list|status|rebuild|append|fetch|flags|expunge|... MAILBOX\n"
	    "                  look at and change mailboxes (see tern(1))\n"
	    "  sieve check SCRIPT... | sieve test [-f S] [-r R] SCRIPT MESSAGE\n"
	    "                  check a Sieve script, or run it on a message (sieve(7))\n"
	    "  spf [--async] IP SENDER HELO   evaluate SPF (RFC 7208) for a client\n"
	    "  dkim verify [FILE] | keygen DOMAIN | sign -d D -s S -k KEY [FILE]\n"
	    "                  check DKIM signatures, make a key, sign a message\n"
	    "  doctor [--json] [DOMAIN...]  the DNS records to publish (MX, SPF, DKIM, DMARC,\n"
	    "                  PTR, MTA-STS, TLS-RPT), checked\n"
	    "  dmarc report [--output DIR]  send the DMARC aggregate reports (run daily)\n"
	    "  tlsrpt report [--output DIR] [--range BEGIN END]\n"
	    "                               send the TLS-RPT reports (run daily)\n"
	    "  cert acme --domain D [--domain D2]... [--email E] [--server URL] [--ca-file PEM]\n"
	    "            [--challenge http-01|tls-alpn-01]\n"
	    "                  get the certificate from an ACME CA, install it, reload\n"
	    "  cert renew [--force]  renew ACME certificates near expiry (run daily)\n");
	exit(EX_USAGE);
}

int main(int argc, char **argv)
{
	const char *confdir = NULL;
	const char *cmd;
	int c;

	log_open("tern", LOG_DEST_STDERR, NULL);
	while ((c = getopt(argc, argv, "+c:vh")) != -1) {
		switch (c) {
		case 'c': confdir = optarg; break;
		case 'v': log_set_verbose(log_verbose() + 1); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc, argv);
	if (strcmp(cmd, "start") == 0)
		return cmd_start(confdir, argc, argv);
	if (strcmp(cmd, "stop") == 0)
		return cmd_stop(confdir, argc, argv);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(confdir, argc, argv);
	if (strcmp(cmd, "reload") == 0)
		return cmd_reload(confdir, argc, argv);
	if (strcmp(cmd, "queue") == 0)
		return cmd_queue(confdir, argc, argv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(confdir, argc, argv);
	if (strcmp(cmd, "newaliases") == 0)
		return cmd_newaliases(confdir, argc, argv);
	if (strcmp(cmd, "passwd") == 0)
		return cmd_passwd(confdir, argc, argv);
	if (strcmp(cmd, "conf") == 0)
		return cmd_conf(confdir, argc, argv);
	if (strcmp(cmd, "domain") == 0)
		return cmd_domain(confdir, argc, argv);
	if (strcmp(cmd, "user") == 0)
		return cmd_user(confdir, argc, argv);
	if (strcmp(cmd, "mailbox") == 0)
		return cmd_mailbox(confdir, argc, argv);
	if (strcmp(cmd, "sieve") == 0)
		return cmd_sieve(confdir, argc, argv);
	if (strcmp(cmd, "spf") == 0)
		return cmd_spf(confdir, argc, argv);
	if (strcmp(cmd, "dkim") == 0)
		return cmd_dkim(confdir, argc, argv);
	if (strcmp(cmd, "doctor") == 0)
		return cmd_doctor(confdir, argc, argv);
	if (strcmp(cmd, "dmarc") == 0)
		return cmd_dmarc(confdir, argc, argv);
	if (strcmp(cmd, "tlsrpt") == 0)
		return cmd_tlsrpt(confdir, argc, argv);
	if (strcmp(cmd, "cert") == 0)
		return cmd_cert(confdir, argc, argv);
	fprintf(stderr, "tern: unknown command: %s\n", cmd);
	usage();
}
