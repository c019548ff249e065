/*
 * params.c - the one table of every main.cf parameter tern knows.
 *
 * Each entry gives the name, type, default (which may refer to other
 * parameters with $name), the default unit of a time value, and a one-line
 * description.  Nothing else in tern hard-codes a parameter's name or
 * default: programs ask config.c, which panics on names missing here.
 *
 * Two defaults cannot be written as text: myhostname and mydomain depend on
 * the machine's host name.  Their def is NULL and config.c computes them.
 * This file holds data only; it does not parse or expand anything.
 */
#include <stddef.h>

#include "config.h"

#define STR(n, d, text)                                                                            \
	{                                                                                          \
		n, PARAM_STR, d, 0, text                                                           \
	}
#define INT(n, d, text)                                                                            \
	{                                                                                          \
		n, PARAM_INT, d, 0, text                                                           \
	}
#define BOOL(n, d, text)                                                                           \
	{                                                                                          \
		n, PARAM_BOOL, d, 0, text                                                          \
	}
#define SIZE(n, d, text)                                                                           \
	{                                                                                          \
		n, PARAM_SIZE, d, 0, text                                                          \
	}
#define TIME(n, d, u, text)                                                                        \
	{                                                                                          \
		n, PARAM_TIME, d, u, text                                                          \
	}

const struct param_def param_table[] = {
    /* Where things live and who owns them. */
    STR("config_directory", "/etc/tern", "directory holding main.cf and master.cf"),
    STR("queue_directory", "/var/spool/tern", "root of the mail queue"),
    STR("daemon_directory", "/usr/local/libexec/tern",
	"directory of the daemon programs master starts"),
    STR("command_directory", "/usr/local/sbin", "directory of the operator commands"),
    STR("mail_owner", "tern", "unprivileged user that owns the queue and runs the daemons"),
    STR("setgid_group", "ternrop", "group that postdrop runs as to write into maildrop"),
    STR("default_privs", "nobody", "user for deliveries to commands and files of aliases"),

    /* Names and logging. */
    STR("mail_name", "tern", "mail system name shown in the SMTP greeting"),
    STR("syslog_name", "tern", "prefix of every log line's program name"),
    STR("maillog_file", "", "log to this file instead of syslog when not empty"),
    STR("myhostname", NULL, "fully qualified host name of this machine"),
    STR("mydomain", NULL, "domain this machine belongs to"),
    STR("myorigin", "$myhostname", "domain appended to locally posted unqualified addresses"),
    STR("mydestination", "$myhostname, localhost.$mydomain, localhost",
	"domains delivered to local UNIX accounts"),
    STR("mynetworks", "127.0.0.0/8 [::1]/128", "trusted client networks allowed to relay"),
    STR("relay_domains", "", "remote domains this machine accepts mail for"),
    STR("inet_interfaces", "all", "local addresses the SMTP server listens on"),
    STR("inet_protocols", "all", "IP versions to use: ipv4, ipv6 or all"),

    /* SMTP server. */
    STR("smtpd_banner", "$myhostname ESMTP $mail_name", "text after 220 in the SMTP greeting"),
    SIZE("message_size_limit", "10240000", "largest message accepted, in bytes; 0 means no limit"),
    SIZE("header_size_limit", "102400", "largest message header kept, in bytes"),
    INT("line_length_limit", "2048", "longest line kept before it is split"),
    TIME("smtpd_timeout", "300", 's', "time to wait for an SMTP client to send"),
    INT("smtpd_recipient_limit", "1000", "most recipients accepted per message"),
    INT("smtpd_client_session_limit", "10000", "most concurrent sessions per smtpd process"),
    STR("smtpd_tls_cert_file", "", "PEM certificate chain offered by the SMTP server"),
    STR("smtpd_tls_key_file", "", "PEM private key of the SMTP server certificate"),
    BOOL("strict_rfc821_envelopes", "no", "reject MAIL FROM and RCPT TO without <brackets>"),
    BOOL("smtputf8_enable", "yes", "offer and accept SMTPUTF8 (RFC 6531)"),

    /* Local and virtual delivery. */
    STR("virtual_mailbox_domains", "", "domains whose users have virtual mailboxes"),
    STR("virtual_mailbox_maps", "", "tables mapping virtual addresses to mailbox paths"),
    STR("virtual_mailbox_base", "", "directory prefixed to every virtual mailbox path"),
    STR("virtual_uid_maps", "", "tables giving the uid for virtual mailbox delivery"),
    STR("virtual_gid_maps", "", "tables giving the gid for virtual mailbox delivery"),
    INT("virtual_minimum_uid", "100", "smallest uid allowed for virtual mailbox delivery"),
    STR("alias_maps", "hash:/etc/aliases", "alias tables for local delivery"),
    STR("home_mailbox", "", "mailbox path relative to home; a trailing / means Maildir"),
    STR("mail_spool_directory", "/var/mail", "directory of mbox files when home_mailbox is empty"),
    STR("recipient_delimiter", "", "characters separating a user name from its extension"),

    /* Queue manager and retries. */
    TIME("queue_run_delay", "300", 's', "how often deferred mail is looked at"),
    TIME("minimal_backoff_time", "300", 's', "shortest wait before retrying deferred mail"),
    TIME("maximal_backoff_time", "4000", 's', "longest wait before retrying deferred mail"),
    TIME("maximal_queue_lifetime", "5", 'd', "age at which undeliverable mail is bounced"),
    TIME("bounce_queue_lifetime", "5", 'd', "age at which an undeliverable bounce is dropped"),
    TIME("delay_warning_time", "0", 'h',
	"age at which the sender is warned of delay; 0 means never"),
    /* Transports per address class, "transport[:nexthop]" (resolve.c). */
    STR("local_transport", "local:$myhostname", "transport for domains in mydestination"),
    STR("virtual_transport", "local",
	"transport for virtual_mailbox_domains (tern's local delivers both)"),
    STR("relay_transport", "relay", "transport for relay_domains"),
    STR("default_transport", "smtp", "transport for every other domain"),
    STR("relayhost", "", "next hop for mail to remote domains, when not empty"),

    INT("default_destination_concurrency_limit", "20",
	"most parallel deliveries to one destination"),
    INT("default_destination_recipient_limit", "50", "most recipients per delivery request"),
    INT("qmgr_message_active_limit", "20000", "most messages in the active queue"),
    INT("qmgr_message_recipient_limit", "20000", "most recipients held in memory by qmgr"),
    BOOL("soft_bounce", "no", "defer instead of bouncing, for testing a configuration"),

    /* Process management. */
    INT("default_process_limit", "100", "default maxproc of a master.cf service"),
    INT("max_use", "1000", "clients a daemon serves before it exits"),
    TIME("max_idle", "100", 's', "idle time after which a daemon exits"),
    TIME("ipc_timeout", "3600", 's', "time limit for one exchange between tern processes"),
    TIME("daemon_timeout", "18000", 's', "time limit for a daemon to handle one request"),
    TIME(
	"service_throttle_time", "60", 's', "pause before restarting a service that fails at once"),

    /* smtpd at full strength: TLS, AUTH, restrictions, limits (issue 3). */
    STR("smtpd_tls_security_level", "may",
	"SMTP server TLS: none, may (offer STARTTLS) or encrypt (require it)"),
    BOOL("smtpd_tls_wrappermode", "no",
	"TLS from the first byte (smtps, port 465) instead of STARTTLS"),
    STR("smtpd_tls_protocols", ">=TLSv1.2", "TLS versions offered when TLS is optional"),
    STR("smtpd_tls_mandatory_protocols", ">=TLSv1.2", "TLS versions offered when TLS is required"),
    BOOL("smtpd_tls_ask_ccert", "no", "ask clients for a certificate, to log its fingerprint"),
    TIME("smtpd_starttls_timeout", "300", 's', "time limit for the TLS handshake"),
    BOOL("smtpd_tls_auth_only", "yes", "offer AUTH only over TLS"),
    BOOL("smtpd_sasl_auth_enable", "no", "offer SMTP AUTH (RFC 4954) with PLAIN and LOGIN"),
    STR("smtpd_sasl_password_maps", "texthash:$config_directory/sasl_passwd",
	"tables of user names and crypt(3) password hashes for AUTH"),
    STR("smtpd_sender_login_maps", "",
	"tables of envelope senders and the login names that may use them"),
    TIME("smtpd_error_sleep_time", "1", 's',
	"delay before a reply after errors (tarpit) and failed AUTH"),
    INT("smtpd_soft_error_limit", "10", "errors after which every reply is delayed"),
    INT("smtpd_hard_error_limit", "20", "errors after which the client is disconnected"),
    BOOL("smtpd_delay_reject", "yes", "apply client, HELO and sender restrictions at RCPT TO"),
    STR("smtpd_client_restrictions", "", "restrictions on the client at connect time"),
    STR("smtpd_helo_restrictions", "", "restrictions on the HELO/EHLO name"),
    BOOL("smtpd_helo_required", "no", "require HELO or EHLO before MAIL FROM"),
    STR("smtpd_sender_restrictions", "", "restrictions on the MAIL FROM address"),
    STR("smtpd_relay_restrictions",
	"permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
	"relay control, evaluated before smtpd_recipient_restrictions"),
    STR("smtpd_recipient_restrictions", "", "restrictions on each RCPT TO address"),
    STR("smtpd_data_restrictions", "", "restrictions applied at DATA or BDAT"),
    INT("unknown_address_reject_code", "450",
	"reply code when a sender or recipient domain does not exist"),
    INT("unverified_recipient_reject_code", "450", "unused; Postfix compatibility"),
    INT("access_map_reject_code", "554", "reply code of REJECT in an access table"),
    INT("access_map_defer_code", "450", "reply code of DEFER in an access table"),
    INT("relay_domains_reject_code", "554", "reply code of reject_unauth_destination"),
    INT("unknown_address_tempfail_action_code", "450",
	"reply code when a DNS look-up fails temporarily"),
    STR("smtpd_dns_servers", "",
	"DNS servers (host:port, commas) for the restrictions' look-ups; empty: resolv.conf"),
    TIME("smtpd_dns_timeout", "10", 's', "time limit of one DNS look-up for the restrictions"),
    INT("smtpd_client_connection_count_limit", "50",
	"most simultaneous connections from one client; 0 means no limit"),
    INT("smtpd_client_connection_rate_limit", "0",
	"most connections per client per anvil_rate_time_unit; 0 means no limit"),
    TIME("anvil_rate_time_unit", "60", 's', "time unit of smtpd_client_connection_rate_limit"),
    STR("smtpd_client_event_limit_exceptions", "$mynetworks",
	"clients exempt from the connection limits"),
    BOOL("smtpd_chunking_enable", "yes", "offer CHUNKING and BDAT (RFC 3030)"),
    BOOL("smtpd_dsn_enable", "yes", "offer DSN (RFC 3461)"),

    /* Scheduling, bounces and queue tools (issue 4). */
    INT("initial_destination_concurrency", "5",
	"parallel deliveries to a destination before its first success"),
    INT("smtp_destination_concurrency_limit", "$default_destination_concurrency_limit",
	"most parallel smtp deliveries to one destination"),
    INT("local_destination_concurrency_limit", "$default_destination_concurrency_limit",
	"most parallel local deliveries to one recipient domain"),
    INT("relay_destination_concurrency_limit", "$default_destination_concurrency_limit",
	"most parallel relay deliveries to one destination"),
    INT("smtp_destination_recipient_limit", "$default_destination_recipient_limit",
	"most recipients per smtp delivery request"),
    INT("local_destination_recipient_limit", "$default_destination_recipient_limit",
	"most recipients per local delivery request"),
    INT("relay_destination_recipient_limit", "$default_destination_recipient_limit",
	"most recipients per relay delivery request"),
    SIZE("bounce_size_limit", "50000",
	"largest original returned whole in a bounce; bigger ones send headers only"),
    STR("double_bounce_sender", "double-bounce",
	"sender of postmaster notices; mail from it that fails is dropped"),
    STR("bounce_notice_recipient", "postmaster",
	"who gets the notice when a bounce cannot be delivered"),
    TIME("dead_destination_time", "$minimal_backoff_time", 's',
	"how long a destination that failed at the connection level is skipped"),

    /* Local delivery: users, aliases, .forward, mbox, commands (issue 5). */
    STR("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps",
	"tables of known local recipients; empty means accept every local address"),
    STR("alias_database", "hash:/etc/aliases", "alias files that newaliases checks"),
    STR("forward_path", "$home/.forward${recipient_delimiter}${extension}, $home/.forward",
	"per-user .forward files, the first that exists is used"),
    STR("mailbox_command", "", "command that delivers to the mailbox, as the user (e.g. procmail)"),
    SIZE("mailbox_size_limit", "51200000",
	"largest mbox file or file delivery, in bytes; 0 means no limit"),
    STR("mailbox_delivery_lock", "fcntl, dotlock",
	"how mbox files are locked: fcntl, dotlock or both"),
    INT("deliver_lock_attempts", "20", "tries to take a mailbox lock before deferring"),
    TIME("deliver_lock_delay", "1", 's', "pause between two tries to take a mailbox lock"),
    TIME("stale_lock_time", "500", 's', "age after which a .lock file is removed as stale"),
    TIME("command_time_limit", "1000", 's', "time limit for a delivery to a command"),
    STR("allow_mail_to_commands", "alias, forward",
	"where |command targets are allowed: alias, forward, include"),
    STR("allow_mail_to_files", "alias, forward",
	"where /file targets are allowed: alias, forward, include"),
    STR("command_expansion_filter",
	"1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"characters allowed in command environment values; others become _"),
    INT("local_alias_depth_limit", "20", "deepest nesting of aliases, :include: and .forward"),

    /* sendmail, postdrop, pickup, installation (issue 6). */

    /* Outbound SMTP, DNS, client TLS (issue 7). */
    STR("transport_maps", "", "tables mapping addresses and domains to transport:nexthop"),
    INT("smtp_tcp_port", "25", "TCP port of next hops given without a port (tern's own)"),
    STR("smtp_host_lookup", "dns",
	"how smtp finds host addresses: dns, native (getaddrinfo) or both"),
    STR("smtp_dns_resolver", "",
	"DNS servers (host:port, comma separated) instead of /etc/resolv.conf"),
    TIME("smtp_dns_timeout", "5", 's', "time to wait for one DNS answer before trying again"),
    TIME("smtp_connect_timeout", "30", 's', "time to wait for a TCP connection to complete"),
    TIME("smtp_helo_timeout", "300", 's', "time to wait for the greeting and the EHLO/HELO reply"),
    TIME("smtp_mail_timeout", "300", 's', "time to wait for the MAIL FROM reply"),
    TIME("smtp_rcpt_timeout", "300", 's', "time to wait for each RCPT TO reply"),
    TIME("smtp_data_init_timeout", "120", 's', "time to wait for the DATA reply"),
    TIME("smtp_data_xfer_timeout", "180", 's', "time allowed for each write of message content"),
    TIME("smtp_data_done_timeout", "600", 's',
	"time to wait for the reply to the final dot or BDAT"),
    TIME("smtp_quit_timeout", "300", 's', "time to wait for the QUIT reply"),
    TIME("smtp_rset_timeout", "20", 's',
	"time to wait for the RSET reply before reusing a connection"),
    TIME("smtp_starttls_timeout", "300", 's',
	"time allowed for the STARTTLS reply and the TLS handshake"),
    STR("smtp_helo_name", "$myhostname", "host name sent in EHLO and HELO"),
    BOOL("smtp_connection_cache_on_demand", "yes",
	"keep idle connections to reuse for the next message"),
    TIME(
	"smtp_connection_cache_time_limit", "2", 's', "how long an idle cached connection is kept"),
    INT("smtp_connection_reuse_count_limit", "0",
	"messages sent over one connection; 0 means no limit"),
    INT("smtp_mx_address_limit", "5", "most addresses tried for one delivery"),
    STR("smtp_tls_security_level", "may", "client TLS: none, may, encrypt, verify, secure"),
    STR("smtp_tls_policy_maps", "", "tables giving a TLS security level per next hop"),
    STR("smtp_tls_CAfile", "",
	"PEM file of CAs trusted by verify/secure, besides the system store"),
    STR("smtp_tls_CApath", "",
	"directory of CAs trusted by verify/secure, besides the system store"),
    STR("smtp_tls_secure_cert_match", "nexthop, dot-nexthop", "names the secure level accepts"),
    STR("smtp_tls_verify_cert_match", "hostname", "names the verify level accepts"),
    BOOL(
	"smtp_sasl_auth_enable", "no", "authenticate to servers listed in smtp_sasl_password_maps"),
    STR("smtp_sasl_password_maps", "", "tables of [host]:port or domain -> user:password"),
    STR("smtp_sasl_security_options", "noplaintext, noanonymous",
	"SASL restrictions without TLS (noplaintext: no PLAIN/LOGIN in the clear)"),
    STR("smtp_sasl_tls_security_options", "noanonymous", "SASL restrictions over TLS"),
    STR("smtp_sasl_mechanism_filter", "", "mechanisms allowed, when not empty (plain, login)"),

    /* The mailbox store (lib/mstore, issue 15). */
    BOOL("mailbox_autocreate", "yes",
	"create the special-use folders of mailbox_special_use when a mailbox is opened"),
    BOOL("mailbox_autosubscribe", "yes", "subscribe the folders mailbox_autocreate creates"),
    STR("mailbox_special_use", "drafts=Drafts, sent=Sent, trash=Trash, junk=Junk, archive=Archive",
	"special-use role=folder pairs (drafts, sent, trash, junk, archive, all, flagged)"),
    SIZE("mailbox_quota_storage", "0",
	"Maildir++ quota in bytes per mailbox; 0: the limits in maildirsize, if any"),
    INT("mailbox_quota_messages", "0",
	"Maildir++ quota in messages per mailbox; 0: the limits in maildirsize, if any"),

    {NULL, PARAM_STR, NULL, 0, NULL},
};
