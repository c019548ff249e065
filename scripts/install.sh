#!/bin/sh
# install.sh - "make install" and "make uninstall" for tern.
#
#   scripts/install.sh install|uninstall
#
# Everything comes from the environment, set by the Makefile: DESTDIR,
# PREFIX, sysconfdir, queuedir, sbindir, libexecdir, mandir, unitdir, BUILD,
# FORCE, PURGE.  Run as root it also creates the accounts (tern, ternrop, ternlogin)
# and gives files and queue folders their owners; run as anyone else (a
# package build), it lays down the files and says what it skipped.
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
DAEMONS="master smtpd cleanup qmgr local smtp pickup auth"
COMPAT="/usr/sbin/sendmail /usr/bin/mailq /usr/bin/newaliases"
MAN1="tern.1 sendmail.1 postdrop.1"
MAN5="main.cf.5 master.cf.5 users.5"
MAN8="master.8 smtpd.8 cleanup.8 qmgr.8 local.8 pickup.8 smtp.8 auth.8"

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
	    -e "s|@SBINDIR@|$sbindir|g" -e "s|@SYSCONFDIR@|$sysconfdir|g" "$1"
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
		install -m 0644 conf/master.cf "$D$sysconfdir/master.cf"
	fi
}

queue() {
	install -d -m 0755 "$D$queuedir"
	for q in incoming active deferred hold corrupt private; do
		install -d "$D$queuedir/$q"; own tern tern 0700 "$D$queuedir/$q"
	done
	install -d "$D$queuedir/public"; own tern tern 0711 "$D$queuedir/public"
	install -d "$D$queuedir/pid"; own root root 0755 "$D$queuedir/pid"
	install -d "$D$queuedir/maildrop"; own tern ternrop 1730 "$D$queuedir/maildrop"
}

manpages() {
	for s in 1 5 8; do install -d -m 0755 "$D$mandir/man$s"; done
	for m in $MAN1; do [ -f "man/$m" ] && install -m 0644 "man/$m" "$D$mandir/man1/$m"; done
	for m in $MAN5; do [ -f "man/$m" ] && install -m 0644 "man/$m" "$D$mandir/man5/$m"; done
	for m in $MAN8; do [ -f "man/$m" ] && install -m 0644 "man/$m" "$D$mandir/man8/$m"; done
	return 0
}

unit() {
	install -d -m 0755 "$D$unitdir"
	subst conf/tern.service.in > "$D$unitdir/tern.service"
	chmod 0644 "$D$unitdir/tern.service"
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
	      "$D$sbindir/mailq" "$D$sbindir/newaliases" "$D$unitdir/tern.service"
	for d in $DAEMONS; do rm -f "$D$libexecdir/$d"; done
	rmdir "$D$libexecdir" 2>/dev/null || true
	for m in $MAN1; do rm -f "$D$mandir/man1/$m"; done
	for m in $MAN5; do rm -f "$D$mandir/man5/$m"; done
	for m in $MAN8; do rm -f "$D$mandir/man8/$m"; done
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
