#!/bin/sh
# install.sh - "make install" and "make uninstall" for tern.
#
#   scripts/install.sh install|uninstall
#
# Everything comes from the environment, set by the Makefile: DESTDIR,
# PREFIX, sysconfdir, queuedir, sbindir, libexecdir, mandir, unitdir, webdir
# (the webmail's built files, http_static_directory's default), BUILD,
# DAEMONS (the Makefile's list: every top-level folder with a main.c, and
# imap-login for imap/login/main.c),
# FORCE, PURGE.  Run as root it also creates the accounts (tern, ternrop,
# ternlogin)
# and gives files and queue folders their owners; run as anyone else (a
# package build), it lays down the files and says what it skipped.
#
# What tern itself defines comes from the tern just built, not from a
# second copy here: the queue folders with their owners and modes
# ("tern init --print-queue-layout") and the default master.cf ("tern init
# --print-master-cf", the one every "tern init" instance gets, with the
# SMTP listener on loopback and no submission service).
#
# The system paths /usr/sbin/sendmail, /usr/bin/mailq, /usr/bin/newaliases
# become symbolic links to tern's sendmail.  A file there that is not
# already tern's belongs to another MTA: it is left alone unless FORCE=1,
# and then it is moved aside (dpkg-divert on Debian, so package upgrades
# respect it; else renamed to NAME.tern-orig).  uninstall puts it back.
set -eu

: "${DESTDIR:=}" "${FORCE:=0}" "${PURGE:=0}"
D="$DESTDIR"
ROOT=0; [ "$(id -u)" = 0 ] && ROOT=1
: "${DAEMONS:?the Makefile passes the daemon list}"
TERN="$BUILD/bin/tern"
COMPAT="/usr/sbin/sendmail /usr/bin/mailq /usr/bin/newaliases"
MANSECTIONS="1 5 7 8"

say() { echo "install: $*"; }

# own USER GROUP MODE PATH: owner and mode, as far as we may.
own() {
	if [ "$ROOT" = 1 ]; then chown "$1:$2" "$4"; fi
	chmod "$3" "$4"
}

accounts() {
	if [ "$ROOT" != 1 ]; then
		say "not root: accounts tern/ternrop not created, files keep your ownership"
		return
	fi
	getent group ternrop >/dev/null || groupadd --system ternrop
	getent passwd tern >/dev/null || useradd --system --user-group --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin --comment "tern mail system" tern
	# The login processes' user (default_login_user): reaches login/auth only.
	getent passwd ternlogin >/dev/null || useradd --system --user-group --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin --comment "tern login processes" ternlogin
}

programs() {
	install -d -m 0755 "$D$sbindir" "$D$libexecdir"
	install -m 0755 "$BUILD/bin/tern" "$D$sbindir/tern"
	install -m 0755 "$BUILD/bin/sendmail" "$D$sbindir/sendmail"
	install -m 0755 "$BUILD/bin/postdrop" "$D$sbindir/postdrop"
	# chown clears the set-id bits: own() sets the mode afterwards.
	own root ternrop 2755 "$D$sbindir/postdrop"
	ln -sf sendmail "$D$sbindir/mailq"
	ln -sf sendmail "$D$sbindir/newaliases"
	for d in $DAEMONS; do
		[ -x "$BUILD/libexec/$d" ] && install -m 0755 "$BUILD/libexec/$d" "$D$libexecdir/$d"
	done
	return 0
}

subst() {
	sed -e "s|@QUEUEDIR@|$queuedir|g" -e "s|@LIBEXECDIR@|$libexecdir|g" \
	    -e "s|@SBINDIR@|$sbindir|g" -e "s|@SYSCONFDIR@|$sysconfdir|g" \
	    -e "s|@WEBDIR@|$webdir|g" "$1"
}

config() {
	install -d -m 0755 "$D$sysconfdir"
	if [ -e "$D$sysconfdir/main.cf" ]; then
		say "$D$sysconfdir/main.cf exists: kept"
	else
		subst conf/main.cf.in > "$D$sysconfdir/main.cf"
		chmod 0644 "$D$sysconfdir/main.cf"
	fi
	if [ -e "$D$sysconfdir/master.cf" ]; then
		say "$D$sysconfdir/master.cf exists: kept"
	else
		{
			echo "# Installed by \"make install\".  The SMTP server listens on loopback"
			echo "# only: local programs use sendmail, and the machine does not receive"
			echo "# mail from the network until you change the first column (e.g. to"
			echo "# \"smtp\" for every address)."
			"$TERN" init --print-master-cf --smtp 127.0.0.1:smtp --submission none
		} > "$D$sysconfdir/master.cf"
		chmod 0644 "$D$sysconfdir/master.cf"
	fi
}

# The account a layout owner names (mail_owner, setgid_group, root).
account() {
	case "$1" in
	mail_owner) echo tern ;;
	setgid_group) echo ternrop ;;
	*) echo "$1" ;;
	esac
}

queue() {
	"$TERN" init --print-queue-layout > "$BUILD/queue-layout"
	while read -r name user group mode; do
		install -d "$D$queuedir/$name"
		own "$(account "$user")" "$(account "$group")" "$mode" "$D$queuedir/$name"
	done < "$BUILD/queue-layout"
	rm -f "$BUILD/queue-layout"
}

# The webmail, as make all built it into $BUILD/web: replaced whole, so no
# file of an older build stays behind.
webfiles() {
	rm -rf "$D$webdir"
	install -d -m 0755 "$D$webdir"
	(cd "$BUILD/web" && find . -type d) | while read -r d; do install -d -m 0755 "$D$webdir/$d"; done
	(cd "$BUILD/web" && find . -type f) | while read -r f; do install -m 0644 "$BUILD/web/$f" "$D$webdir/$f"; done
}

# Every man page of man/, in its section.
manpages() {
	for s in $MANSECTIONS; do
		for m in man/*."$s"; do
			[ -f "$m" ] || continue
			install -d -m 0755 "$D$mandir/man$s"
			install -m 0644 "$m" "$D$mandir/man$s/$(basename "$m")"
		done
	done
	return 0
}

unit() {
	install -d -m 0755 "$D$unitdir"
	for u in tern.service tern-daily.service tern-daily.timer; do
		subst "conf/$u.in" > "$D$unitdir/$u"
		chmod 0644 "$D$unitdir/$u"
	done
}

# ours PATH: a link to tern's sendmail.
ours() {
	[ -L "$1" ] && [ "$(readlink "$1")" = "$sbindir/sendmail" ]
}

compat_check() {
	for p in $COMPAT; do
		if [ -e "$D$p" ] || [ -L "$D$p" ]; then
			ours "$D$p" && continue
			if [ "$FORCE" != 1 ]; then
				echo "install: $D$p belongs to another mail system; not replacing it." >&2
				echo "install: run \"make install FORCE=1\" to move it aside (make uninstall restores it)." >&2
				exit 1
			fi
		fi
	done
}

compat() {
	for p in $COMPAT; do
		install -d -m 0755 "$D$(dirname "$p")"
		if ours "$D$p"; then continue; fi
		if [ -e "$D$p" ] || [ -L "$D$p" ]; then
			if command -v dpkg-divert >/dev/null 2>&1 && [ -z "$D" ]; then
				dpkg-divert --quiet --local --rename --divert "$p.tern-orig" --add "$p"
			else
				mv "$D$p" "$D$p.tern-orig"
			fi
			say "moved the other mail system's $p to $p.tern-orig"
		fi
		ln -s "$sbindir/sendmail" "$D$p"
	done
}

uncompat() {
	for p in $COMPAT; do
		if ours "$D$p"; then rm -f "$D$p"; fi
		if command -v dpkg-divert >/dev/null 2>&1 && [ -z "$D" ] &&
		    dpkg-divert --list "$p" | grep -q "$p.tern-orig"; then
			dpkg-divert --quiet --local --rename --remove "$p"
			say "restored $p"
		elif [ -e "$D$p.tern-orig" ] || [ -L "$D$p.tern-orig" ]; then
			mv "$D$p.tern-orig" "$D$p"
			say "restored $p"
		fi
	done
}

uninstall() {
	if [ -z "$D" ] && [ -x "$sbindir/tern" ] && "$sbindir/tern" -c "$sysconfdir" status >/dev/null 2>&1; then
		"$sbindir/tern" -c "$sysconfdir" stop || true
	fi
	uncompat
	rm -f "$D$sbindir/tern" "$D$sbindir/sendmail" "$D$sbindir/postdrop" \
	      "$D$sbindir/mailq" "$D$sbindir/newaliases" "$D$unitdir/tern.service" \
	      "$D$unitdir/tern-daily.service" "$D$unitdir/tern-daily.timer"
	for d in $DAEMONS; do rm -f "$D$libexecdir/$d"; done
	rm -rf "$D$webdir"
	rmdir "$(dirname "$D$webdir")" 2>/dev/null || true
	rmdir "$D$libexecdir" 2>/dev/null || true
	for s in $MANSECTIONS; do
		for m in man/*."$s"; do
			[ -f "$m" ] && rm -f "$D$mandir/man$s/$(basename "$m")"
		done
	done
	if [ "$PURGE" = 1 ]; then
		rm -rf "$D$sysconfdir" "$D$queuedir"
		say "removed $D$sysconfdir and $D$queuedir"
	else
		say "kept $D$sysconfdir and $D$queuedir (make uninstall PURGE=1 removes them)"
	fi
	say "the accounts tern, ternlogin and ternrop are kept (userdel tern; userdel ternlogin; groupdel ternrop)"
}

case "${1:-}" in
install)
	compat_check
	accounts
	programs
	webfiles
	config
	queue
	manpages
	unit
	compat
	if [ -z "$D" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl daemon-reload || true
	fi
	say "done; start with \"systemctl enable --now tern\" or \"$sbindir/tern start\""
	;;
uninstall)
	uninstall
	;;
*)
	echo "usage: install.sh install|uninstall" >&2
	exit 64
	;;
esac
