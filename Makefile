# tern - top-level Makefile.  No autotools: GNU make, a C11 compiler, pkg-config.
#
#   make            build everything into build/ (commands in build/bin,
#                   daemons in build/libexec)
#   make check      unit tests, unit tests under ASan+UBSan, end-to-end tests
#   make run        build, create ./run with `tern init` if missing, start it
#                   in the foreground on 127.0.0.1:2525
#   make fuzz       run every libFuzzer harness for FUZZ_SECONDS each (make
#                   check runs them for FUZZ_CHECK_SECONDS each)
#   make bench      tern against Postfix side by side (BENCH_SCALE=0.05: quick)
#
# Every program's sources are the .c files of its folder; its main() lives in
# <folder>/main.c so that unit tests can link the rest of the folder.

CC       ?= cc
BUILD    ?= build
OPT      ?= -O2
SAN      ?=
CFLAGS   ?= $(OPT) -g
CPPFLAGS += -Ilib -D_GNU_SOURCE
WARN     := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# The run-time libraries of ../shared/DESIGN.md; --as-needed keeps a program
# from loading the ones it does not use.
LDLIBS   := -Wl,--as-needed -lssl -lcrypto -lbsd -lcares -lpcre2-8 -lcrypt -llmdb -ljansson \
            -lmicrohttpd -lpam -lz -lcurl -lpthread
PREFIX   ?= /usr/local

# Debian packages needed to build and to test.
DEPS_BUILD := gcc make pkg-config libssl-dev libbsd-dev libc-ares-dev libpcre2-dev libcrypt-dev libcmocka-dev \
              liblmdb-dev libjansson-dev libmicrohttpd-dev libpam0g-dev zlib1g-dev libcurl4-openssl-dev
DEPS_TEST  := clang clang-format python3 swaks openssl procps
DEPS_SMTPD :=
DEPS_QMGR  :=
DEPS_LOCAL := bsd-mailx dovecot-imapd
DEPS_SENDMAIL := bsd-mailx mutt
DEPS_SMTP  := dnsmasq-base postfix
# pipe and lmtp transports: Dovecot's LMTP server as the far end.
DEPS_TRANSPORTS := dovecot-lmtpd pflogsumm
# master.cf/main.cf compatibility tests: Debian's postfix generates its
# configuration in a throw-away root (unshare, ip).
DEPS_MASTER := postfix iproute2 util-linux
# One line per area, so that parallel work adds its packages without conflicts.
DEPS_AUTH  := dovecot-core whois fail2ban
DEPS_MSTORE := dovecot-imapd
DEPS_IMAP  := dovecot-imapd isync mutt tmux
DEPS_POP3  := dovecot-pop3d fetchmail curl
DEPS_SIEVE := dovecot-sieve dovecot-managesieved sieve-connect
DEPS_MSGAUTH := python3-spf python3-yaml python3-dkim opendkim-tools opendkim publicsuffix libxml2-utils
DEPS_ANTISPAM := python3-milter rspamd redis-server clamav-daemon clamav-milter postgrey
DEPS_HTTP  :=
# The webmail's browser tests drive Debian's chromium (no browser download).
DEPS_WEBMAIL := chromium
DEPS_TLSSEC := unbound ldnsutils pebble
# Only for make bench (not part of DEPS, so not installed by make check).
DEPS_BENCH := python3 postfix strace procps dovecot-core
DEPS       := $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_SMTPD) $(DEPS_QMGR) $(DEPS_LOCAL) \
              $(DEPS_SENDMAIL) $(DEPS_SMTP) $(DEPS_MASTER) $(DEPS_AUTH) $(DEPS_MSTORE) $(DEPS_IMAP) \
              $(DEPS_POP3) $(DEPS_SIEVE) $(DEPS_MSGAUTH) $(DEPS_ANTISPAM) $(DEPS_HTTP) $(DEPS_WEBMAIL) $(DEPS_TLSSEC) \
              $(DEPS_TRANSPORTS)

ALLCFLAGS = $(WARN) $(CFLAGS) $(SAN) $(CPPFLAGS)

# lib/ is one library; themes that outgrew a few files have a folder each.
LIB_SRCS  := $(sort $(wildcard lib/*.c lib/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIBTERN   := $(BUILD)/libtern.a

# A daemon is a top-level folder with a main.c; a command other than tern
# is a folder cli/<name>/ with a main.c (installed as build/bin/<name>).
DAEMONS   := $(sort $(patsubst %/main.c,%,$(filter-out cli/main.c tests/% web/%,$(wildcard */main.c))))
CLI_SUBS  := $(patsubst %/main.c,%,$(wildcard cli/*/main.c))
# A second program of a daemon's folder lives in a sub-folder with a main.c:
# imap/login/main.c is installed as libexec/imap-login.
SUB_DAEMONS := $(sort $(patsubst %/main.c,%,$(filter-out cli/% tests/% web/% lib/%,$(wildcard */*/main.c))))

prog_srcs = $(sort $(wildcard $(1)/*.c))
prog_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(call prog_srcs,$(1)))
# Objects of a folder without its main.o, for unit tests.
prog_lib_objs = $(filter-out $(BUILD)/obj/$(1)/main.o,$(call prog_objs,$(1)))

# sieve/ is ManageSieve: its programs are managesieve and managesieve-login.
DAEMONS     := $(filter-out sieve,$(DAEMONS))
SUB_DAEMONS := $(filter-out sieve/login,$(SUB_DAEMONS))
DAEMON_BINS  := $(DAEMONS:%=$(BUILD)/libexec/%) $(foreach d,$(SUB_DAEMONS),$(BUILD)/libexec/$(subst /,-,$(d))) \
                $(BUILD)/libexec/managesieve $(BUILD)/libexec/managesieve-login
COMMAND_BINS := $(BUILD)/bin/tern $(patsubst cli/%,$(BUILD)/bin/%,$(CLI_SUBS))

UNIT_SRCS := $(sort $(wildcard tests/*/test_*.c tests/*/*/test_*.c))
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
# Helper programs of the end-to-end tests (tests/<folder>/tool_*.c), linked
# like unit tests; tests/imap/ has no main.c of its own to test against.
TOOL_SRCS := $(sort $(wildcard tests/*/tool_*.c))
TOOL_BINS := $(TOOL_SRCS:%.c=$(BUILD)/%)

FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 20

.PHONY: all check unit unit-asan e2e e2e-asan run fuzz fuzz-build fuzz-run fuzz-check clean deps \
        install uninstall bench format format-check param-check
.DELETE_ON_ERROR:
# Objects that only a test or tool needs are kept, not removed as
# intermediate files (which rebuilt them on every make).
.SECONDARY:

all: $(DAEMON_BINS) $(COMMAND_BINS) $(TOOL_BINS) $(BUILD)/web/index.html

# ---------------------------------------------------------------- webmail
# web/ is built with node and npm packages pinned in web/package-lock.json:
# `npm ci` runs again only when the lock (or package.json) changes (stamp in
# $(BUILD)); web/build.mjs writes index.html and hashed assets to $(BUILD)/web.
WEB_SRCS  := web/index.html web/build.mjs web/favicon.svg $(shell find web/src -type f 2>/dev/null)
WEB_STAMP := $(BUILD)/web-npm.stamp
$(WEB_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "the webmail needs node (>= 18) and npm"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(@D) && touch $@

$(BUILD)/web/index.html: $(WEB_STAMP) $(WEB_SRCS)
	node web/build.mjs $(BUILD)/web

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -MMD -MP -c -o $@ $<

$(LIBTERN): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

define daemon_rule
$(BUILD)/libexec/$(1): $(call prog_objs,$(1)) $(LIBTERN)
	@mkdir -p $$(@D)
	$$(CC) $$(SAN) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rule,$(d))))

define sub_daemon_rule
$(BUILD)/libexec/$(subst /,-,$(1)): $(call prog_objs,$(1)) $(LIBTERN)
	@mkdir -p $$(@D)
	$$(CC) $$(SAN) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(SUB_DAEMONS),$(eval $(call sub_daemon_rule,$(d))))

# http/jmap is also libexec/jmap: postlogin starts daemon_directory/<service>
# for a user's process, and the web's service is "jmap".
all: $(BUILD)/libexec/jmap
$(BUILD)/libexec/jmap: $(BUILD)/libexec/http-jmap
	ln -f $< $@
$(BUILD)/libexec/managesieve: $(call prog_objs,sieve) $(LIBTERN)
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)
$(BUILD)/libexec/managesieve-login: $(call prog_objs,sieve/login) $(LIBTERN)
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/tern: $(call prog_objs,cli) $(LIBTERN)
	@mkdir -p $(@D)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

define command_rule
$(BUILD)/bin/$(notdir $(1)): $(call prog_objs,$(1)) $(LIBTERN)
	@mkdir -p $$(@D)
	$$(CC) $$(SAN) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach c,$(CLI_SUBS),$(eval $(call command_rule,$(c))))

# A unit test links libtern and, for tests/<prog>/, that program's objects.
test_prog = $(firstword $(subst /, ,$(1)))
.SECONDEXPANSION:
$(BUILD)/tests/%: tests/%.c $(LIBTERN) $$(call prog_lib_objs,$$(call test_prog,$$*))
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -o $@ $< $(call prog_lib_objs,$(call test_prog,$*)) $(LIBTERN) -lcmocka $(LDLIBS)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- deps
# Installs missing Debian packages when run as root, else prints the line.
deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; \
	    flock /tmp/tern-apt.lock sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null" || exit 1; \
	  else \
	    echo "missing Debian packages; as root run:"; \
	    echo "  apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# ---------------------------------------------------------------- format
# Every C file as the repository's .clang-format has it; make check refuses
# a tree that clang-format would change.
C_FILES = $(shell find . -path ./$(BUILD) -prune -o -path ./web -prune -o -path ./run -prune \
            -o \( -name '*.c' -o -name '*.h' \) -print | sort)
format:
	clang-format -i $(C_FILES)

format-check:
	@bad=""; for f in $(C_FILES); do \
	  clang-format --dry-run -Werror $$f >/dev/null 2>&1 || bad="$$bad $$f"; \
	done; \
	if [ -n "$$bad" ]; then echo "not clang-formatted (make format fixes it):$$bad"; exit 1; fi

# Every parameter the code names is in lib/params.c, and every one there is
# documented in man/main.cf.5.
param-check:
	python3 tests/lint/check_params.py

# ---------------------------------------------------------------- tests
unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do \
	  echo "== $$t"; $$t || fail=1; \
	done; exit $$fail

unit-asan:
	$(MAKE) BUILD=$(BUILD)/asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" unit

e2e: all
	python3 tests/e2e/run.py

# The end-to-end tests again, against daemons built with ASan+UBSan.  The
# daemons run detached (and partly as the unprivileged user), so their
# reports go to files in a world-writable folder; any report fails the run.
SAN_REPORTS := $(abspath $(BUILD))/asan/sanitizer-reports
e2e-asan:
	$(MAKE) BUILD=$(BUILD)/asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" all
	rm -rf $(SAN_REPORTS) && mkdir -p $(SAN_REPORTS) && chmod 1777 $(SAN_REPORTS)
	ASAN_OPTIONS=log_path=$(SAN_REPORTS)/asan:detect_leaks=0 \
	UBSAN_OPTIONS=log_path=$(SAN_REPORTS)/ubsan:print_stacktrace=1 \
	TERN_BUILD=$(abspath $(BUILD))/asan python3 tests/e2e/run.py
	@if [ -n "$$(ls -A $(SAN_REPORTS))" ]; then \
	  echo "sanitizer reports from the daemons:"; cat $(SAN_REPORTS)/*; exit 1; fi

check: deps
	$(MAKE) format-check
	$(MAKE) param-check
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) unit-asan
	$(MAKE) fuzz-check
	$(MAKE) e2e
	$(MAKE) e2e-asan

run: deps
	$(MAKE) all
	@[ -d run ] || $(BUILD)/bin/tern init run --imap --imaps --pop3 --pop3s --managesieve --http
	exec $(BUILD)/bin/tern -c run/etc start -f

# libFuzzer harnesses, built with clang against a libtern compiled with
# the same sanitizers; -fno-sanitize-recover=all makes any UBSan finding
# abort, so that it fails the run like an ASan one.  Every harness needs a
# seed corpus (tests/fuzz/corpus/<name>/, committed); new inputs go to
# $(BUILD)/fuzz/corpus-<name>.  `make fuzz` runs each for FUZZ_SECONDS;
# `make check` runs the short pass, FUZZ_CHECK_SECONDS each.
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_CHECK_SECONDS ?= 4
# The program sources a harness names in its "FUZZ_LINK:" comment.
fuzz_link = $(shell sed -n 's/^.*FUZZ_LINK:\([^*]*\).*$$/\1/p' tests/fuzz/$(1).c)

$(BUILD)/harness/%: tests/fuzz/%.c $(LIBTERN) $$(call fuzz_link,$$*)
	@mkdir -p $(@D)
	$(CC) $(WARN) -g $(OPT) $(CPPFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< \
	  $(call fuzz_link,$*) $(LIBTERN) $(LDLIBS)

fuzz-build:
	$(MAKE) BUILD=$(BUILD)/fuzz CC=clang OPT=-O1 SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
	  $(FUZZ_NAMES:%=$(BUILD)/fuzz/harness/%)

fuzz-run:
	@for n in $(FUZZ_NAMES); do \
	  seeds=tests/fuzz/corpus/$$n; \
	  if [ -z "$$(ls -A $$seeds 2>/dev/null)" ]; then echo "$$n: no seed corpus in $$seeds"; exit 1; fi; \
	  mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  if ! $(BUILD)/fuzz/harness/$$n -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$$n- \
	    $(BUILD)/fuzz/corpus-$$n $$seeds > $(BUILD)/fuzz/$$n.log 2>&1; then \
	    tail -n 40 $(BUILD)/fuzz/$$n.log; echo "$$n: FAILED (log: $(BUILD)/fuzz/$$n.log)"; exit 1; \
	  fi; \
	  grep -E '^(Done|stat::number_of_executed_units)' $(BUILD)/fuzz/$$n.log; \
	done

fuzz: deps
	$(MAKE) fuzz-build
	$(MAKE) fuzz-run

fuzz-check:
	$(MAKE) fuzz-build
	$(MAKE) fuzz-run FUZZ_SECONDS=$(FUZZ_CHECK_SECONDS)

# ---------------------------------------------------------------- bench
# tern against Debian's Postfix on this machine (see tests/bench/bench.py and
# BENCH.md); BENCH_SCALE=0.05 for a quick run.  Timed, so never in check.
bench:
	$(MAKE) deps DEPS="$(DEPS_BUILD) $(DEPS_BENCH)"
	$(MAKE) all
	python3 tests/bench/bench.py

# ---------------------------------------------------------------- install
# make install [DESTDIR=/stage] [PREFIX=/usr/local] [sysconfdir=/etc/tern]
#              [FORCE=1: move another MTA's /usr/sbin/sendmail aside]
# make uninstall [PURGE=1: also remove sysconfdir and the queue]
# See INSTALL; the work is done by scripts/install.sh.
DESTDIR    ?=
sysconfdir ?= /etc/tern
queuedir   ?= /var/spool/tern
sbindir    ?= $(PREFIX)/sbin
libexecdir ?= $(PREFIX)/libexec/tern
mandir     ?= $(PREFIX)/share/man
webdir     ?= $(PREFIX)/share/tern/web
unitdir    ?= $(PREFIX)/lib/systemd/system
INSTALL_ENV = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" sysconfdir="$(sysconfdir)" \
              queuedir="$(queuedir)" sbindir="$(sbindir)" libexecdir="$(libexecdir)" \
              mandir="$(mandir)" unitdir="$(unitdir)" BUILD="$(BUILD)" \
              DAEMONS="$(DAEMONS) $(subst /,-,$(SUB_DAEMONS)) jmap managesieve managesieve-login" FORCE="$(FORCE)" PURGE="$(PURGE)"

# The webmail's built files go to webdir.
INSTALL_ENV += webdir="$(webdir)"

install: all
	$(INSTALL_ENV) sh scripts/install.sh install

uninstall:
	$(INSTALL_ENV) sh scripts/install.sh uninstall

clean:
	rm -rf $(BUILD)
