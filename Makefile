# greffier - passive SIP call recorder.  One GNU Makefile, pkg-config for every library.
#
#   make            build/greffier (release flags)
#   make check      install missing packages, build with ASan+UBSan, run every test
#   make demo       install missing packages, build, import generated calls, serve the UI
#   make bench      benchmarks (tests/bench), not tests
#   make fuzz       run the libFuzzer targets for longer (clang)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
# systemd reads units, sysusers.d and tmpfiles.d from both /usr/lib and /usr/local/lib.
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
BUILD ?= build
SAN ?= 0

PKGS := libpcap sofia-sip-ua sqlite3 openssl opus ogg sndfile libsrtp2 spandsp libbcg729 \
	libmicrohttpd zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(SAN),1)
OPTFLAGS ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SANLDFLAGS := -fsanitize=address,undefined
else
OPTFLAGS ?= -O2 -g
SANLDFLAGS :=
endif

CFLAGS ?=
override CFLAGS += -std=c11 -D_GNU_SOURCE $(OPTFLAGS) -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -Wstrict-prototypes -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	-Iinclude $(PKG_CFLAGS) -MMD -MP
override LDFLAGS += $(SANLDFLAGS)
LDLIBS += $(PKG_LIBS) -lm

MAIN_SRC := src/cli/main.c
LIB_SRC := $(filter-out $(MAIN_SRC),$(sort $(wildcard src/*/*.c)))
# The web interface's files, compiled into the binary (src/http/ui/embed.sh).
UI_FILES := $(sort $(wildcard src/http/ui/*.html src/http/ui/*.js src/http/ui/*.css))
UI_OBJ := $(BUILD)/gen/ui_assets.o
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(UI_OBJ)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

.PHONY: all tests check demo bench fuzz deps install clean lint

all: $(BUILD)/greffier

$(BUILD)/greffier: $(MAIN_OBJ) $(BUILD)/libgreffier.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libgreffier.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/ui_assets.c: $(UI_FILES) src/http/ui/embed.sh
	@mkdir -p $(dir $@)
	sh src/http/ui/embed.sh $(UI_FILES) >$@.tmp && mv $@.tmp $@

$(UI_OBJ): $(BUILD)/gen/ui_assets.c
	$(CC) $(CFLAGS) -Isrc/http -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libgreffier.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libgreffier.a $(LDLIBS)

# Fuzz targets: under gcc a plain main() replays the corpus (tests/fuzz/replay_main.c);
# `make fuzz` links the same targets with libFuzzer under clang.
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(BUILD)/libgreffier.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay_main.c $(BUILD)/libgreffier.a $(LDLIBS)

# Linked with libgreffier for the benchmarks that measure its stages (bench_vault); the
# self-contained ones use none of it.
$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libgreffier.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libgreffier.a $(LDLIBS)

tests: $(BUILD)/greffier $(UNIT_BIN) $(FUZZ_BIN) $(BENCH_BIN)

# Debian packages needed to build and to test; installed when missing (as root),
# otherwise the exact command is printed and make stops.
BUILD_DEBS := build-essential pkg-config libpcap-dev libsofia-sip-ua-dev libsqlite3-dev \
	libssl-dev libopus-dev libogg-dev libsndfile1-dev libsrtp2-dev libspandsp-dev libbcg729-dev \
	libmicrohttpd-dev zlib1g-dev clang
TEST_DEBS := sip-tester baresip-core tshark tcpdump tcpreplay iproute2 python3 sox opus-tools systemd cppcheck groff chromium nodejs
deps:
	@missing=""; for p in $(BUILD_DEBS) $(TEST_DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "missing Debian packages; run as root:"; \
	    echo "  apt-get install -y --no-install-recommends$$missing"; exit 1; \
	  fi; \
	fi

check: deps
	$(MAKE) all
	$(MAKE) lint
	$(MAKE) BUILD=build/asan SAN=1 tests
	tests/run-all.sh build/asan

fuzz: deps
	tests/fuzz/run-libfuzzer.sh $(or $(SECONDS_PER_TARGET),60)

bench: deps
	$(MAKE) all $(BENCH_BIN)
	tests/bench/run.sh $(BUILD)

demo: deps all $(BENCH_BIN)
	tests/bench/demo.sh $(BUILD)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --std=c11 -Iinclude src
	tests/check-banned.sh

# The units name the installed binary and configuration; an existing configuration file
# is never overwritten (the new sample goes next to it as greffier.conf.dist).
install: $(BUILD)/greffier
	install -D -m 0755 $(BUILD)/greffier $(DESTDIR)$(BINDIR)/greffier
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	for u in greffier-capture.service greffier-web.service; do \
	  sed -e 's#/usr/bin/greffier#$(BINDIR)/greffier#g' \
	      -e 's#/etc/greffier#$(SYSCONFDIR)/greffier#g' systemd/$$u \
	      >$(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -D -m 0644 systemd/greffier.sysusers $(DESTDIR)$(SYSUSERSDIR)/greffier.conf
	install -d -m 0755 $(DESTDIR)$(TMPFILESDIR)
	sed -e 's#/etc/greffier#$(SYSCONFDIR)/greffier#g' systemd/greffier.tmpfiles \
	  >$(DESTDIR)$(TMPFILESDIR)/greffier.conf
	chmod 0644 $(DESTDIR)$(TMPFILESDIR)/greffier.conf
	install -D -m 0644 docs/greffier.8 $(DESTDIR)$(MANDIR)/man8/greffier.8
	install -D -m 0644 docs/greffier.conf.5 $(DESTDIR)$(MANDIR)/man5/greffier.conf.5
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/greffier
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/greffier/private
	if [ -e $(DESTDIR)$(SYSCONFDIR)/greffier/greffier.conf ]; then \
	  install -m 0644 conf/greffier.conf $(DESTDIR)$(SYSCONFDIR)/greffier/greffier.conf.dist; \
	  echo "kept $(DESTDIR)$(SYSCONFDIR)/greffier/greffier.conf (new sample: greffier.conf.dist)"; \
	else \
	  install -m 0644 conf/greffier.conf $(DESTDIR)$(SYSCONFDIR)/greffier/greffier.conf; \
	fi

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
