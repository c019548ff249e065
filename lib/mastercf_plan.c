/*
 * mastercf_plan.c - what tern does with each entry of a Postfix master.cf.
 *
 * A stock Postfix (or Debian) master.cf names some twenty daemons.  tern
 * has its own programs for the mail path (smtpd, cleanup, qmgr, pickup,
 * local, smtp, pipe), does the work of Postfix's helper daemons inside those
 * programs (address rewriting, bounces, connection counting, ...), and
 * lacks a few transports.  The table below says, per Postfix command,
 * which of the three applies, so that master, "tern check" and "tern
 * conf -M" tell the operator the same thing.
 *
 * The sockets other tern daemons connect to (cleanup, qmgr and the
 * delivery agents) are always made in private/: tern's cleanup, for
 * instance, believes what its client says about the sender's uid, so a
 * world-reachable cleanup socket (Postfix's "cleanup unix n") would let
 * any local user forge mail.  The master.cf column is overridden, with a
 * note.
 *
 * This file only classifies; it opens nothing and logs nothing.
 */
#include <string.h>

#include "mastercf.h"

enum plan_flags {
	PLAN_PRIVATE = 0x1,   /* socket forced into private/ */
	PLAN_FIFO_OK = 0x2,   /* an old "fifo" entry is served as a unix socket */
	PLAN_ON_DEMAND = 0x4, /* started by the first client only */
};

struct plan_rule {
	const char *command;
	enum service_action action;
	const char *program; /* SERVICE_RUN */
	const char *mode;
	int flags;
	const char *note;
};

static const struct plan_rule plan_rules[] = {
    {"smtpd", SERVICE_RUN, "smtpd", NULL, 0, NULL},
    {"cleanup", SERVICE_RUN, "cleanup", NULL, PLAN_PRIVATE, NULL},
    {"qmgr", SERVICE_RUN, "qmgr", NULL, PLAN_PRIVATE | PLAN_FIFO_OK, NULL},
    {"oqmgr", SERVICE_RUN, "qmgr", NULL, PLAN_PRIVATE | PLAN_FIFO_OK,
	"tern's qmgr serves Postfix's oqmgr entry"},
    {"pickup", SERVICE_RUN, "pickup", NULL, PLAN_FIFO_OK, NULL},
    /* The delivery agents start with their first client, as Postfix's
     * do: a service mail is never routed to costs no process (local's
     * quota-status, relay, error and discard on most hosts). */
    {"smtp", SERVICE_RUN, "smtp", NULL, PLAN_PRIVATE | PLAN_ON_DEMAND, NULL},
    {"local", SERVICE_RUN, "local", NULL, PLAN_PRIVATE | PLAN_ON_DEMAND, NULL},
    {"error", SERVICE_RUN, "smtp", "error", PLAN_PRIVATE | PLAN_ON_DEMAND, NULL},
    {"discard", SERVICE_RUN, "smtp", "discard", PLAN_PRIVATE | PLAN_ON_DEMAND, NULL},
    /* Postfix's virtual(8): local delivering every recipient as a
     * virtual mailbox. */
    {"virtual", SERVICE_RUN, "local", "virtual", PLAN_PRIVATE | PLAN_ON_DEMAND, NULL},
    {"lmtp", SERVICE_RUN, "smtp", "lmtp", PLAN_PRIVATE | PLAN_ON_DEMAND, NULL},
    /* Debian's master.cf names six pipe services for software that is
     * mostly not installed: none runs before mail is routed to it. */
    {"pipe", SERVICE_RUN, "pipe", NULL, PLAN_PRIVATE | PLAN_ON_DEMAND, NULL},
    /* mailq for users who may not read the queue (public/showq). */
    {"showq", SERVICE_RUN, "showq", NULL, PLAN_ON_DEMAND, NULL},

    /* Postfix's helpers: tern does their work elsewhere, or needs none. */
    {"tlsmgr", SERVICE_SKIP, NULL, NULL, 0, "Postfix's TLS session cache manager; tern needs none"},
    {"trivial-rewrite", SERVICE_SKIP, NULL, NULL, 0,
	"address rewriting and resolving are done inside cleanup, qmgr and smtpd"},
    {"bounce", SERVICE_SKIP, NULL, NULL, 0, "bounce, delay and success notices are made by qmgr"},
    {"verify", SERVICE_SKIP, NULL, NULL, 0,
	"Postfix's address verification service; tern has no reject_unverified_* restrictions"},
    {"flush", SERVICE_SKIP, NULL, NULL, 0, "fast flush; \"tern queue flush\" asks qmgr directly"},
    {"proxymap", SERVICE_SKIP, NULL, NULL, 0, "each tern daemon reads its tables itself"},
    {"anvil", SERVICE_SKIP, NULL, NULL, 0,
	"connection counts and rates are kept by smtpd (shared between its processes)"},
    {"scache", SERVICE_SKIP, NULL, NULL, 0, "each smtp process keeps its own connection cache"},
    {"postlogd", SERVICE_SKIP, NULL, NULL, 0, "every tern daemon writes maillog_file itself"},
    {"tlsproxy", SERVICE_SKIP, NULL, NULL, 0, "smtpd and smtp do TLS themselves"},
    {"dnsblog", SERVICE_SKIP, NULL, NULL, 0,
	"a helper of postscreen; smtpd screens clients itself"},

    /* Postfix programs tern does not have. */
    {"postscreen", SERVICE_UNSERVED, NULL, NULL, 0,
	"smtpd screens clients itself: let smtpd serve the port with -o smtpd_screening=yes"},
    {"spawn", SERVICE_UNSERVED, NULL, NULL, 0,
	"spawn (policy servers and the like) is not implemented"},
    {"qmqpd", SERVICE_UNSERVED, NULL, NULL, 0, "QMQP is not implemented"},
};

static const struct plan_rule *plan_rule_find(const char *command)
{
	const char *slash = strrchr(command, '/');

	/* "/usr/lib/postfix/sbin/smtpd" names Postfix's smtpd: not ours. */
	if (slash)
		return NULL;
	for (size_t i = 0; i < sizeof(plan_rules) / sizeof(plan_rules[0]); i++)
		if (strcmp(plan_rules[i].command, command) == 0)
			return &plan_rules[i];
	return NULL;
}

static void plan_unserved(struct service_plan *out, const char *note)
{
	out->action = SERVICE_UNSERVED;
	out->program = NULL;
	out->mode = NULL;
	out->note = note;
}

/* Socket folder and type for a service that runs. */
static void plan_socket(
    const struct master_service *svc, const struct plan_rule *r, struct service_plan *out)
{
	int flags = r ? r->flags : 0;

	out->private_ = svc->private_;
	if (svc->type == SERVICE_FIFO) {
		if (!(flags & PLAN_FIFO_OK)) {
			plan_unserved(out, "fifo services are not supported");
			return;
		}
		out->type = SERVICE_UNIX;
		out->note = "served as a UNIX-domain socket (tern has no fifo services)";
	}
	if ((flags & PLAN_PRIVATE) && out->type == SERVICE_UNIX && !svc->private_) {
		out->private_ = true;
		out->note = "socket made in private/ all the same: other tern daemons trust "
			    "its clients";
	}
}

void mastercf_plan(const struct master_service *svc, struct service_plan *out)
{
	const struct plan_rule *r = plan_rule_find(svc->argv[0]);

	memset(out, 0, sizeof(*out));
	out->type = svc->type;
	out->private_ = svc->private_;
	/* retry: Postfix's error agent in "defer" mode.  Without it, mail a
	 * table routes to retry: cannot be delivered and stays deferred,
	 * which is what retry would have done. */
	if (r && strcmp(r->command, "error") == 0 && strcmp(svc->name, "retry") == 0) {
		out->action = SERVICE_SKIP;
		out->note = "tern has no retry transport; mail routed to retry: stays deferred";
		return;
	}
	if (r && r->action != SERVICE_RUN) {
		out->action = r->action;
		out->note = r->note;
		return;
	}
	if (svc->type == SERVICE_UNIX_DGRAM || svc->type == SERVICE_PASS) {
		plan_unserved(out, svc->type == SERVICE_PASS
				       ? "pass services (postscreen's hand-off) are not supported"
				       : "unix-dgram services are not supported");
		return;
	}
	out->action = SERVICE_RUN;
	out->program = r ? r->program : NULL;
	out->mode = r ? r->mode : NULL;
	out->note = r ? r->note : NULL;
	out->on_demand = r && (r->flags & PLAN_ON_DEMAND);
	plan_socket(svc, r, out);
}
