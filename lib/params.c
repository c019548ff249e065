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
 *
 * The last part declares Postfix parameters tern does not implement, in
 * the three groups of config.h's enum param_compat, so that a Postfix
 * main.cf is read knowingly: harmless ones pass in silence, the rest are
 * reported by config_check.c with what tern does instead.  A lane that
 * implements one moves it up into the table proper.
 */
#include <stddef.h>

#include "config.h"

#define STR(n, d, text)                                                                            \
	{                                                                                          \
		n, PARAM_STR, d, 0, text, PARAM_TERN, NULL                                         \
	}
#define INT(n, d, text)                                                                            \
	{                                                                                          \
		n, PARAM_INT, d, 0, text, PARAM_TERN, NULL                                         \
	}
#define BOOL(n, d, text)                                                                           \
	{                                                                                          \
		n, PARAM_BOOL, d, 0, text, PARAM_TERN, NULL                                        \
	}
#define SIZE(n, d, text)                                                                           \
	{                                                                                          \
		n, PARAM_SIZE, d, 0, text, PARAM_TERN, NULL                                        \
	}
#define TIME(n, d, u, text)                                                                        \
	{                                                                                          \
		n, PARAM_TIME, d, u, text, PARAM_TERN, NULL                                        \
	}
/* Postfix's "/file/name" forms (config.h). */
#define LIST(n, d, text)                                                                           \
	{                                                                                          \
		n, PARAM_LIST, d, 0, text, PARAM_TERN, NULL                                        \
	}
#define NAME(n, d, text)                                                                           \
	{                                                                                          \
		n, PARAM_NAME, d, 0, text, PARAM_TERN, NULL                                        \
	}
/* Postfix parameters tern does not implement (enum param_compat). */
#define IGNORED(n, d, text)                                                                        \
	{                                                                                          \
		n, PARAM_STR, d, 0, text, PARAM_IGNORED, NULL                                      \
	}
#define DIFFERENT(n, d, text, note)                                                                \
	{                                                                                          \
		n, PARAM_STR, d, 0, text, PARAM_DIFFERENT, note                                    \
	}
#define UNSUPPORTED(n, type, d, text, note)                                                        \
	{                                                                                          \
		n, type, d, 0, text, PARAM_UNSUPPORTED, note                                       \
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
    NAME("myorigin", "$myhostname",
	"domain appended to locally posted unqualified addresses (or /file/name: its first line)"),
    LIST("mydestination", "$myhostname, localhost.$mydomain, localhost",
	"domains delivered to local UNIX accounts"),
    LIST("mynetworks", "127.0.0.0/8 [::1]/128", "trusted client networks allowed to relay"),
    STR("virtual_alias_maps", "",
	"tables that rewrite recipients (virtual(5)), applied by cleanup"),
    LIST("virtual_alias_domains", "$virtual_alias_maps",
	"domains whose every address is an alias (default: the domains that are keys of "
	"virtual_alias_maps)"),
    INT("virtual_alias_recursion_limit", "1000", "deepest nesting of virtual alias expansion"),
    INT("virtual_alias_expansion_limit", "1000",
	"most addresses one recipient may become through virtual aliases"),
    SIZE("queue_minfree", "0",
	"free bytes the queue file system needs to take mail (at least 1.5 times "
	"message_size_limit is always required)"),
    INT("duplicate_filter_limit", "1000",
	"recipients of a message remembered to drop duplicates; 0 means no limit"),
    LIST("relay_domains", "", "remote domains this machine accepts mail for"),
    LIST("inet_interfaces", "all",
	"addresses inet services without a host listen on: all, loopback-only or a list"),
    LIST("inet_protocols", "all", "IP versions to use: all, ipv4, ipv6 or \"ipv4, ipv6\""),
    STR("service_name", "", "the master.cf service a daemon runs for (set by the daemon)"),

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
    LIST("virtual_mailbox_domains", "", "domains whose users have virtual mailboxes"),
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

    /* smtpd at full strength: TLS, AUTH, restrictions, limits. */
    STR("smtpd_tls_security_level", "may",
	"SMTP server TLS: none, may (offer STARTTLS) or encrypt (require it)"),
    BOOL("smtpd_tls_wrappermode", "no",
	"TLS from the first byte (smtps, port 465) instead of STARTTLS"),
    STR("smtpd_tls_protocols", ">=TLSv1.2", "TLS versions offered when TLS is optional"),
    STR("smtpd_tls_mandatory_protocols", ">=TLSv1.2", "TLS versions offered when TLS is required"),
    BOOL("smtpd_tls_ask_ccert", "no", "ask clients for a certificate, to log its fingerprint"),
    TIME("smtpd_starttls_timeout", "300", 's', "time limit for the TLS handshake"),
    BOOL("smtpd_tls_auth_only", "yes", "offer AUTH only over TLS"),
    BOOL("smtpd_sasl_auth_enable", "no", "offer SMTP AUTH (RFC 4954) through the auth service"),
    STR("smtpd_sasl_password_maps", "texthash:$config_directory/sasl_passwd",
	"legacy tables of user names and crypt(3) hashes, still read by auth for SMTP"),
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
    INT("relay_domains_reject_code", "554",
	"reply code of reject_unauth_destination (less 100 for defer_unauth_destination)"),
    INT("reject_code", "554", "reply code of the reject restriction"),
    INT("defer_code", "450", "reply code of the defer restriction"),
    INT("unknown_hostname_reject_code", "450",
	"reply code of reject_unknown_helo_hostname when the name does not exist"),
    INT("multi_recipient_bounce_reject_code", "550", "reply code of reject_multi_recipient_bounce"),
    INT("plaintext_reject_code", "450", "reply code of reject_plaintext_session"),
    INT("unknown_address_tempfail_action_code", "450",
	"reply code when a DNS look-up fails temporarily"),
    STR("smtpd_dns_servers", "", "deprecated: the old name of dns_servers (smtpd's)"),
    TIME("smtpd_dns_timeout", "10", 's', "time limit of one DNS look-up for the restrictions"),
    STR("smtpd_spf_policy", "none",
	"SPF at MAIL FROM: none, mark (Received-SPF header) or reject (also 550 on fail)"),
    BOOL("smtpd_spf_temperror_defer", "no", "answer an SPF temperror at MAIL FROM with 451"),
    STR("smtpd_spf_helo_policy", "$smtpd_spf_policy",
	"SPF of the HELO name (RFC 7208 2.3): none, mark or reject"),
    LIST("smtpd_spf_reject_results", "fail",
	"MAIL FROM SPF results smtpd_spf_policy = reject refuses"),
    LIST("smtpd_spf_helo_reject_results", "fail",
	"HELO SPF results smtpd_spf_helo_policy = reject refuses"),
    LIST("smtpd_spf_exempt_networks", "", "clients not SPF-checked besides mynetworks"),
    BOOL("smtpd_spf_received_header", "no",
	"also add a Received-SPF header (the result goes into Authentication-Results)"),
    BOOL("dkim_verify", "yes",
	"cleanup verifies DKIM of mail from untrusted clients and adds Authentication-Results"),
    BOOL("dkim_signing", "yes",
	"cleanup DKIM-signs local and trusted clients' mail for From: domains with keys"),
    STR("dkim_key_directory", "",
	"folder of DOMAIN.SELECTOR.key files; empty: the configuration directory's dkim/"),
    LIST("dkim_signing_domains", "", "domains cleanup signs for; empty: every domain with a key"),
    BOOL("dmarc_verify", "yes",
	"cleanup evaluates DMARC (with dkim_verify) into Authentication-Results"),
    BOOL("dmarc_policy_enforce", "yes",
	"a DMARC reject policy refuses the message (550 5.7.1), quarantine marks it as spam"),
    STR("authserv_id", "", "authserv-id of Authentication-Results headers; empty: $myhostname"),
    TIME("cleanup_dns_timeout", "5", 's', "time limit of one DNS look-up by cleanup (DKIM keys)"),
    INT("smtpd_client_connection_count_limit", "50",
	"most simultaneous connections from one client; 0 means no limit"),
    INT("smtpd_client_connection_rate_limit", "0",
	"most connections per client per anvil_rate_time_unit; 0 means no limit"),
    TIME("anvil_rate_time_unit", "60", 's', "time unit of smtpd_client_connection_rate_limit"),
    LIST("smtpd_client_event_limit_exceptions", "$mynetworks",
	"clients exempt from the connection limits"),
    BOOL("smtpd_chunking_enable", "yes", "offer CHUNKING and BDAT (RFC 3030)"),
    BOOL("smtpd_dsn_enable", "yes", "offer DSN (RFC 3461)"),

    INT("maps_rbl_reject_code", "554", "reply code when reject_rbl_client finds the client listed"),

    /* Junk filing at delivery: local/junk.c. */
    STR("junk_mail_headers", "X-Spam-Flag: YES, X-Spam: Yes",
	"header fields (Name: value, comma-separated) that mark a message as spam"),
    STR("junk_mail_folder", "Junk", "folder local files marked messages into, without Sieve"),

    /* Built-in greylisting (check_greylist): smtpd/greylist.c. */
    STR("smtpd_greylist_database", "$data_directory/greylist.lmdb",
	"LMDB file of greylisting triplets, shared by all smtpd processes"),
    TIME("smtpd_greylist_delay", "300", 's', "how long a new triplet is refused with 450"),
    TIME("smtpd_greylist_retry_window", "172800", 's',
	"how long after the delay a first retry is still counted"),
    TIME("smtpd_greylist_allowlist_ttl", "3024000", 's',
	"how long a passed triplet or allowlisted client is remembered after its last use"),
    INT("smtpd_greylist_auto_allowlist", "5",
	"triplets a client network must pass before it is not greylisted; 0 means never"),
    INT("smtpd_greylist_ipv4_prefix", "24", "bits of an IPv4 client address that name its network"),
    INT("smtpd_greylist_ipv6_prefix", "64", "bits of an IPv6 client address that name its network"),

    /* Policy delegation (check_policy_service): smtpd/policy_service.c. */
    TIME("smtpd_policy_service_timeout", "100", 's', "time limit for a policy server's reply"),
    TIME("smtpd_policy_service_max_idle", "300", 's',
	"time an unused policy server connection is kept open"),
    INT("smtpd_policy_service_request_limit", "0",
	"requests per policy server connection before it is closed; 0 means no limit"),
    STR("smtpd_policy_service_default_action", "451 4.3.5 Server configuration problem",
	"the action when a policy server cannot be reached, times out or answers garbage"),
    STR("smtpd_policy_service_policy_context", "",
	"the policy_context attribute sent to policy servers"),

    /* Header and body checks in cleanup (cleanup/checks.c, header_checks(5)). */
    STR("header_checks", "", "tables that inspect the message's own header lines"),
    STR("mime_header_checks", "$header_checks",
	"tables that inspect MIME headers and the headers of multipart parts"),
    STR("nested_header_checks", "$header_checks",
	"tables that inspect the headers of attached messages"),
    STR("body_checks", "", "tables that inspect body lines"),
    SIZE("body_checks_size_limit", "51200", "bytes of each body part that body_checks inspect"),

    /* Milters (Sendmail milter protocol 6): smtpd/milter.c, lib/milter/. */
    STR("smtpd_milters", "",
	"milters the SMTP server asks: unix:/path or inet:host:port, or { address, name=value ... "
	"}"),
    INT("milter_protocol", "6", "milter protocol version offered to filters (2 to 6)"),
    STR("milter_default_action", "tempfail",
	"what a milter that fails or times out means: accept, reject, tempfail or quarantine"),
    TIME("milter_connect_timeout", "30", 's',
	"time limit for connecting to a milter and negotiating"),
    TIME("milter_command_timeout", "30", 's', "time limit for a milter's reply to a command"),
    TIME(
	"milter_content_timeout", "300", 's', "time limit for a milter's reply to message content"),
    STR("milter_connect_macros", "j {daemon_name} {daemon_addr} v _",
	"macros sent to milters with the connect event"),
    STR("milter_helo_macros", "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
	"macros sent to milters with HELO/EHLO"),
    STR("milter_mail_macros",
	"i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
	"macros sent to milters with MAIL FROM"),
    STR("milter_rcpt_macros", "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
	"macros sent to milters with RCPT TO"),
    STR("milter_data_macros", "i", "macros sent to milters with DATA"),
    STR("milter_end_of_header_macros", "i", "macros sent to milters at the end of the header"),
    STR("milter_end_of_data_macros", "i", "macros sent to milters at the end of the message"),
    STR("milter_macro_daemon_name", "$myhostname", "value of the {daemon_name} macro"),
    STR("milter_macro_v", "$mail_name", "value of the v macro"),

    /* Scheduling, bounces and queue tools. */
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

    /* Local delivery: users, aliases, .forward, mbox, commands. */
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
    TIME("transport_time_limit", "18000", 's',
	"time limit of a pipe delivery; <service>_time_limit overrides it per service"),
    STR("allow_mail_to_commands", "alias, forward",
	"where |command targets are allowed: alias, forward, include"),
    STR("allow_mail_to_files", "alias, forward",
	"where /file targets are allowed: alias, forward, include"),
    STR("command_expansion_filter",
	"1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"characters allowed in command environment values; others become _"),
    INT("local_alias_depth_limit", "20", "deepest nesting of aliases, :include: and .forward"),

    /* sendmail, postdrop, pickup, installation. */

    /* Outbound SMTP, DNS, client TLS. */
    STR("transport_maps", "", "tables mapping addresses and domains to transport:nexthop"),
    INT("smtp_tcp_port", "25", "TCP port of next hops given without a port (tern's own)"),
    INT("lmtp_tcp_port", "24", "TCP port of LMTP next hops given without a port"),
    STR("lmtp_lhlo_name", "$myhostname", "host name sent in LHLO"),
    /* The lmtp transport's time limits (Postfix's names and defaults). */
    TIME("lmtp_connect_timeout", "0", 's',
	"time to wait for an LMTP connection to complete (0: the system's limit)"),
    TIME("lmtp_lhlo_timeout", "300", 's', "time to wait for the greeting and the LHLO reply"),
    TIME("lmtp_mail_timeout", "300", 's', "time to wait for the LMTP MAIL FROM reply"),
    TIME("lmtp_rcpt_timeout", "300", 's', "time to wait for each LMTP RCPT TO reply"),
    TIME("lmtp_data_init_timeout", "120", 's', "time to wait for the LMTP DATA reply"),
    TIME("lmtp_data_xfer_timeout", "180", 's',
	"time allowed for each write of message content to an LMTP server"),
    TIME("lmtp_data_done_timeout", "600", 's',
	"time to wait for the per-recipient replies to the final dot"),
    TIME("lmtp_quit_timeout", "300", 's', "time to wait for the LMTP QUIT reply"),
    TIME("lmtp_rset_timeout", "20", 's',
	"time to wait for the LMTP RSET reply before reusing a connection"),
    STR("smtp_host_lookup", "dns",
	"how smtp finds host addresses: dns, native (getaddrinfo) or both"),
    STR("dns_servers", "",
	"DNS servers (host:port, comma separated) instead of /etc/resolv.conf's, for every "
	"program"),
    STR("smtp_dns_resolver", "", "deprecated: the old name of dns_servers (smtp's)"),
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
    STR("smtp_tls_security_level", "may",
	"client TLS: none, may, encrypt, dane, dane-only, verify, secure"),
    STR("smtp_dns_support_level", "",
	"DNS features of the smtp client: disabled, enabled, dnssec (trust the resolver's AD bit, "
	"for DANE)"),
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
    BOOL("quota_full_tempfail", "yes",
	"a delivery over quota is deferred (4.2.2); no: bounced (5.2.2), as Dovecot's setting"),

    /* The imap server (imap/, issue 15); Dovecot's names. */
    SIZE("imap_max_line_length", "65536",
	"longest IMAP command line, in-memory literals included (BYE beyond)"),
    SIZE("imap_append_limit", "104857600",
	"largest message APPEND accepts (APPENDLIMIT; 0: no limit of its own)"),
    TIME("imap_idle_timeout", "1800", 's', "IMAP session closed after this long without a command"),
    TIME("imap_idle_notify_interval", "120", 's',
	"during IDLE, how often the folder is checked anyway and \"* OK Still here\" sent"),
    INT("imap_client_limit", "100",
	"IMAP sessions of one user one imap process serves (another login starts another)"),
    INT("imap_max_user_connections", "10",
	"IMAP sessions of one user from one client address (0: no limit), Dovecot's "
	"mail_max_userip_connections"),
    /* Sieve filtering at delivery (lib/sieve, local/sieve.c, issue 16);
     * Pigeonhole's names. */
    STR("sieve_script", "~/.dovecot.sieve",
	"the user's active Sieve script (~: the home, or a virtual mailbox's directory); empty: "
	"none"),
    STR("sieve_dir", "~/sieve", "directory of the user's personal Sieve scripts (include)"),
    STR("sieve_before", "", "Sieve script run before the user's (e.g. spam to Junk)"),
    STR("sieve_after", "", "Sieve script run after the user's"),
    STR("sieve_global_dir", "", "directory of the scripts include :global reads"),
    BOOL("sieve_mailbox_autocreate", "no",
	"fileinto creates a missing folder (else the message goes to INBOX)"),
    STR("sieve_spamtest_status_type", "score",
	"spamtest: how the status header gives the result: score, strlen or text (Pigeonhole)"),
    STR("sieve_spamtest_status_header", "",
	"spamtest: \"Header[: REGEX]\" holding the result (first group); empty: not configured"),
    STR("sieve_spamtest_max_value", "", "spamtest: the highest score (status_type score/strlen)"),
    STR("sieve_spamtest_max_header", "",
	"spamtest: \"Header[: REGEX]\" holding the highest score, instead of max_value"),
    STR("sieve_spamtest_text_values", "",
	"spamtest, status_type text: \"N=TEXT, ...\" (N 0..10), Pigeonhole's _text_valueN"),
    STR("sieve_virustest_status_type", "score",
	"virustest: how the status header gives the result: score, strlen or text (Pigeonhole)"),
    STR("sieve_virustest_status_header", "",
	"virustest: \"Header[: REGEX]\" holding the result (first group); empty: not configured"),
    STR("sieve_virustest_max_value", "", "virustest: the highest score (status_type score/strlen)"),
    STR("sieve_virustest_max_header", "",
	"virustest: \"Header[: REGEX]\" holding the highest score, instead of max_value"),
    STR("sieve_virustest_text_values", "",
	"virustest, status_type text: \"N=TEXT, ...\" (N 0..5), Pigeonhole's _text_valueN"),
    /* ManageSieve (sieve/, issue 16); Pigeonhole's names. */
    SIZE("sieve_max_script_size", "1048576",
	"largest Sieve script ManageSieve stores (at most 1 MiB, what lib/sieve compiles)"),
    INT("sieve_quota_max_scripts", "0", "most Sieve scripts a user may store; 0: no limit"),
    SIZE("sieve_quota_max_storage", "0", "bytes of Sieve scripts a user may store; 0: no limit"),
    STR("managesieve_implementation_string", "tern",
	"the IMPLEMENTATION capability ManageSieve announces"),
    TIME("managesieve_idle_timeout", "1800", 's',
	"ManageSieve session closed after this long without a command"),

    /* Accounts and authentication: the auth daemon (issue 14). */
    STR("data_directory", "/var/lib/tern",
	"directory of persistent state owned by mail_owner (auth failure counters)"),
    STR("default_login_user", "ternlogin",
	"unprivileged user of the login processes; may reach only login/auth"),
    STR("auth_users_file", "$config_directory/users",
	"accounts in Dovecot's passwd-file format (users(5))"),
    STR("auth_app_password_file", "$config_directory/app_passwords",
	"app passwords: user:label:services:hash:created lines"),
    STR("auth_mechanisms", "PLAIN LOGIN",
	"SASL mechanisms offered, in order: PLAIN, LOGIN, SCRAM-SHA-256"),
    STR("auth_password_scheme", "CRYPT",
	"scheme of new passwords: CRYPT (yescrypt), BLF-CRYPT, SHA512-CRYPT, SCRAM-SHA-256"),
    INT("auth_worker_count", "0", "threads that hash passwords; 0 means one per CPU"),
    TIME("auth_cache_ttl", "60", 's',
	"how long a successful verification is remembered; 0 disables the cache"),
    TIME("auth_failure_delay", "1", 's',
	"delay of a failed login's reply, doubled for each further recent failure"),
    TIME("auth_failure_delay_max", "15", 's', "longest delay of a failed login's reply"),
    INT("auth_failure_limit", "20",
	"failures within auth_failure_window after which a client address is refused"),
    TIME("auth_failure_window", "10", 'm',
	"time after the last failure at which the failure counters start again"),
    STR("auth_failure_exceptions", "",
	"client networks exempt from failure delays and refusals (e.g. $mynetworks)"),
    TIME("auth_token_ttl", "60", 's', "lifetime of a one-time login token"),
    BOOL("auth_system_users", "no", "also accept the machine's accounts, checked through PAM"),
    STR("auth_pam_service", "tern", "PAM service name for system users"),
    TIME("auth_request_timeout", "60", 's', "how long a daemon waits for one answer from auth"),
    STR("smtpd_sasl_path", "private/auth",
	"socket of the auth service smtpd asks, relative to queue_directory"),

    /* ---- The login processes (imap-login, pop3-login) and postlogin. */
    STR("login_greeting", "tern ready.", "text of the IMAP and POP3 greetings"),
    STR("login_tls_security_level", "may",
	"TLS of the login processes: none, may (STARTTLS offered) or encrypt (required)"),
    BOOL("login_tls_wrappermode", "no", "implicit TLS (imaps, pop3s): set per service with -o"),
    STR("login_tls_cert_file", "$smtpd_tls_cert_file", "PEM certificate chain of IMAP and POP3"),
    STR("login_tls_key_file", "$smtpd_tls_key_file", "PEM private key of IMAP and POP3"),
    STR("login_tls_protocols", "$smtpd_tls_protocols",
	"TLS versions of IMAP and POP3 when TLS is optional"),
    STR("login_tls_mandatory_protocols", "$smtpd_tls_mandatory_protocols",
	"TLS versions of IMAP and POP3 when TLS is required"),
    BOOL("login_tls_ask_ccert", "no", "ask IMAP and POP3 clients for a certificate, to log it"),
    BOOL("login_disable_plaintext_auth", "yes",
	"refuse passwords over connections that are neither TLS nor from login_secured_networks"),
    STR("login_secured_networks", "127.0.0.0/8 [::1]/128",
	"client networks whose plaintext connections count as secure"),
    INT("login_client_limit", "1000", "clients one login process serves at a time"),
    TIME("login_idle_timeout", "180", 's', "how long a client may stay silent before logging in"),
    INT("login_auth_failure_limit", "3", "failed logins after which a client is disconnected"),
    INT("postlogin_client_limit", "100", "sessions of one user one imap or pop3 process serves"),
    TIME("pop3_idle_timeout", "600", 's',
	"how long a logged-in POP3 client may stay silent (RFC 1939: 10 minutes at least)"),
    STR("pop3_expire", "", "EXPIRE value announced in CAPA (RFC 2449; empty: not announced)"),
    STR("pop3_login_delay", "",
	"LOGIN-DELAY value announced in CAPA (RFC 2449; empty: not announced)"),

    /* ---- The web: http (HTTPS, webmail, JMAP front) and jmap. */
    STR("http_tls_security_level", "encrypt",
	"encrypt (HTTPS) or none (plain HTTP, served to loopback clients only)"),
    STR("http_tls_cert_file", "$smtpd_tls_cert_file", "PEM certificate chain of HTTPS"),
    STR("http_tls_key_file", "$smtpd_tls_key_file", "PEM private key of HTTPS"),
    STR("http_tls_protocols", "$smtpd_tls_mandatory_protocols", "TLS versions of HTTPS"),
    STR("http_static_directory", "/usr/local/share/tern/web",
	"folder of the webmail's built static files"),
    SIZE("http_max_request_size", "26214400",
	"largest HTTP request body (JMAP call or upload), in bytes"),
    SIZE("http_max_header_size", "32768",
	"memory for one HTTP connection's request line and headers, in bytes"),
    INT("http_client_limit", "1000", "HTTP connections one http process serves at a time"),
    TIME("http_idle_timeout", "60", 's', "how long an HTTP connection may stay silent"),
    TIME("http_session_timeout", "28800", 's', "how long an unused webmail session lives"),
    STR("http_metrics_networks", "127.0.0.0/8 [::1]/128",
	"client networks allowed to read /metrics"),
    STR("http_autoconfig_imap", "$myhostname:993",
	"IMAP server (HOST:PORT) that autoconfig and autodiscover announce"),
    STR("http_autoconfig_submission", "$myhostname:465",
	"submission server (HOST:PORT) that autoconfig and autodiscover announce"),
    INT("jmap_max_objects_in_get", "1000", "most objects one JMAP /get may ask for"),
    INT("jmap_max_objects_in_set", "1000", "most objects one JMAP /set may change"),
    INT("jmap_max_calls_in_request", "64", "most method calls in one JMAP request"),

    /* ---- Postfix parameters that need nothing in tern: accepted silently. */
    IGNORED("compatibility_level", "0", "Postfix's backwards-compatibility level"),
    IGNORED("biff", "yes", "Postfix's comsat notification of local deliveries"),
    IGNORED("readme_directory", "no", "where Postfix's README files are"),
    IGNORED("html_directory", "no", "where Postfix's HTML documentation is"),
    IGNORED("manpage_directory", "/usr/share/man", "where Postfix's manual pages are"),
    IGNORED("sample_directory", "/etc/postfix", "where Postfix's sample files are"),
    IGNORED("sendmail_path", "/usr/sbin/sendmail", "where Postfix's sendmail command is"),
    IGNORED("newaliases_path", "/usr/bin/newaliases", "where Postfix's newaliases command is"),
    IGNORED("mailq_path", "/usr/bin/mailq", "where Postfix's mailq command is"),
    IGNORED("shlib_directory", "no", "where Postfix's shared libraries are"),
    IGNORED("meta_directory", "/etc/postfix", "where Postfix's meta files are"),
    IGNORED(
	"smtp_tls_session_cache_database", "", "Postfix's TLS session cache of the SMTP client"),
    IGNORED("smtpd_tls_session_cache_database", "",
	"Postfix's TLS session cache of the SMTP server (tern uses session tickets)"),
    IGNORED("smtpd_tls_session_cache_timeout", "3600s", "Postfix's TLS session cache lifetime"),
    IGNORED("tls_random_source", "dev:/dev/urandom", "Postfix's PRNG seed source"),
    IGNORED("smtpd_tls_loglevel", "0", "Postfix's TLS log detail of the SMTP server"),
    IGNORED("smtp_tls_loglevel", "0", "Postfix's TLS log detail of the SMTP client"),
    IGNORED("smtp_tls_note_starttls_offer", "no", "log hosts that offer STARTTLS"),
    IGNORED("debug_peer_level", "2", "Postfix's extra logging for debug_peer_list"),
    IGNORED("debug_peer_list", "", "clients and servers Postfix logs in detail"),
    IGNORED("debugger_command", "", "Postfix's command to attach a debugger"),
    IGNORED("smtp_fallback_relay", "", "Postfix's fallback relay (the empty default only)"),

    /* ---- Postfix parameters whose job tern does another way: one info line. */
    DIFFERENT("default_database_type", "hash", "Postfix's table type for newaliases and postmap",
	"hash: and btree: tables are read from their source text files"),
    DIFFERENT("disable_vrfy_command", "no", "Postfix's switch for the VRFY command",
	"VRFY always answers 252 and confirms no address"),
    DIFFERENT("smtpd_tls_received_header", "no", "TLS details in Received: headers",
	"cleanup always records the TLS protocol and cipher in Received:"),

    /* ---- Postfix parameters with an effect tern does not have: any value
     * but the default is reported, as a warning at start and by tern check. */
    UNSUPPORTED("append_dot_mydomain", PARAM_BOOL, "no", "append .$mydomain to user@host",
	"addresses are never completed with .$mydomain"),
    UNSUPPORTED(
	"canonical_maps", PARAM_STR, "", "address rewriting tables", "addresses are not rewritten"),
    UNSUPPORTED("sender_canonical_maps", PARAM_STR, "", "sender address rewriting tables",
	"addresses are not rewritten"),
    UNSUPPORTED("recipient_canonical_maps", PARAM_STR, "", "recipient address rewriting tables",
	"addresses are not rewritten"),
    UNSUPPORTED("masquerade_domains", PARAM_STR, "", "domains that hide their subdomains",
	"addresses are not masqueraded"),
    UNSUPPORTED("smtp_generic_maps", PARAM_STR, "", "outbound address rewriting tables",
	"addresses are not rewritten"),
    UNSUPPORTED(
	"relocated_maps", PARAM_STR, "", "tables of moved users", "no \"user has moved\" bounces"),
    UNSUPPORTED(
	"non_smtpd_milters", PARAM_STR, "", "milters of local submissions", "no milter is called"),
    UNSUPPORTED("content_filter", PARAM_STR, "", "after-queue content filter",
	"mail is not passed through a content filter"),
    UNSUPPORTED("smtpd_proxy_filter", PARAM_STR, "", "before-queue content filter",
	"mail is not passed through a content filter"),
    UNSUPPORTED("receive_override_options", PARAM_STR, "", "cleanup feature switches",
	"cleanup's processing cannot be switched off"),
    UNSUPPORTED(
	"always_bcc", PARAM_STR, "", "address that gets a copy of all mail", "no copies are made"),
    UNSUPPORTED("sender_bcc_maps", PARAM_STR, "", "copies by sender", "no copies are made"),
    UNSUPPORTED("recipient_bcc_maps", PARAM_STR, "", "copies by recipient", "no copies are made"),
    UNSUPPORTED("relay_recipient_maps", PARAM_STR, "", "valid recipients of relay_domains",
	"every recipient in relay_domains is accepted"),
    UNSUPPORTED("mailbox_transport", PARAM_STR, "", "transport for local mailbox delivery",
	"local delivers to the mailbox itself"),
    UNSUPPORTED("mailbox_transport_maps", PARAM_STR, "", "per-user mailbox transports",
	"local delivers to the mailbox itself"),
    UNSUPPORTED("fallback_transport", PARAM_STR, "", "transport for unknown local users",
	"unknown local users are rejected"),
    UNSUPPORTED("fallback_transport_maps", PARAM_STR, "", "per-user fallback transports",
	"unknown local users are rejected"),
    UNSUPPORTED("luser_relay", PARAM_STR, "", "destination for unknown local users",
	"unknown local users are rejected"),
    UNSUPPORTED("mailbox_command_maps", PARAM_STR, "", "per-user mailbox commands",
	"mailbox_command applies to every user"),
    UNSUPPORTED("sender_dependent_relayhost_maps", PARAM_STR, "", "relayhost by sender",
	"relayhost applies to every sender"),
    UNSUPPORTED("sender_dependent_default_transport_maps", PARAM_STR, "",
	"default_transport by sender", "default_transport applies to every sender"),
    UNSUPPORTED("smtpd_restriction_classes", PARAM_STR, "", "named restriction lists",
	"restriction class names are unknown restrictions"),
    UNSUPPORTED("smtpd_reject_unlisted_sender", PARAM_BOOL, "no",
	"reject unknown senders in local domains", "senders are not checked"),
    UNSUPPORTED("smtp_bind_address", PARAM_STR, "", "source IPv4 address of the SMTP client",
	"the system chooses the source address"),
    UNSUPPORTED("smtp_bind_address6", PARAM_STR, "", "source IPv6 address of the SMTP client",
	"the system chooses the source address"),
    UNSUPPORTED("disable_dns_lookups", PARAM_BOOL, "no", "obsolete: no DNS for the SMTP client",
	"use smtp_host_lookup = native"),
    UNSUPPORTED("smtpd_use_tls", PARAM_BOOL, "no", "obsolete: offer STARTTLS",
	"use smtpd_tls_security_level"),
    UNSUPPORTED("smtpd_enforce_tls", PARAM_BOOL, "no", "obsolete: require STARTTLS",
	"use smtpd_tls_security_level"),
    UNSUPPORTED("smtp_use_tls", PARAM_BOOL, "no", "obsolete: use STARTTLS when offered",
	"use smtp_tls_security_level"),
    UNSUPPORTED("smtp_enforce_tls", PARAM_BOOL, "no", "obsolete: require STARTTLS",
	"use smtp_tls_security_level"),

    {NULL, PARAM_STR, NULL, 0, NULL, PARAM_TERN, NULL},
};
