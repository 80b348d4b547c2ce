# shoal — one Makefile for everything. `make` builds build/shoald, build/shoal, build/netctl.
# Dependencies come from pkg-config only.  SANITIZE=1 adds ASan+UBSan.

PREFIX   ?= /usr/local
DESTDIR  ?=
CNI_DIRS ?= /usr/lib/cni /opt/cni/bin
B        ?= build

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-unused-parameter -Wno-format-truncation
ifeq ($(CI),true)
WARN     += -Werror
endif
ifeq ($(WERROR),1)
WARN     += -Werror
endif
ifeq ($(SANITIZE),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif
CPPFLAGS += -I. -D_GNU_SOURCE
# `make` alone builds everything, whatever rule comes first below.
.DEFAULT_GOAL := all

PKG_PLUGIN := jansson
PKG_DAEMON := jansson libuv libmnl libnftnl libssl libmicrohttpd
# What shoald links: libssl is compiled against but loaded at run time, and only for etcds://
# (store/tls.h: OpenSSL costs ~2 MiB of RSS on every node otherwise); so is libmicrohttpd, only
# when "metrics" is configured (netd/http.c: GnuTLS and co., ~2.6 MiB).
PKG_DAEMON_LINK := $(filter-out libssl libmicrohttpd,$(PKG_DAEMON))
# Libraries without a pkg-config file (Debian's libhttp-parser-dev has none): linked by name,
# found by their header.  http_parser frames the etcd client's responses (store/http_response.c).
NOPC_DAEMON := http_parser
NOPC_LIBS   := $(addprefix -l,$(NOPC_DAEMON))
PKG_NETCTL := jansson
PKG_TEST   := cmocka

# Plain `make` on a machine without the libraries: name the Debian packages instead of letting
# pkg-config and the compiler fail one header at a time.  Targets that install them first (deps,
# check, demo, bench) and clean are exempt.
DEB_jansson  := libjansson-dev
DEB_libuv    := libuv1-dev
DEB_libmnl   := libmnl-dev
DEB_libnftnl := libnftnl-dev
DEB_cmocka   := libcmocka-dev
DEB_libssl   := libssl-dev
DEB_http_parser := libhttp-parser-dev
DEB_libmicrohttpd := libmicrohttpd-dev
# --- cgroup bandwidth (tc/cgbpf.h): the BPF object tc/bpf/cgroup.bpf.c, compiled by clang with
# BTF (libbpf reads the maps from it) and without DWARF, embedded into tc/cgbpf.o (.incbin).
# shoald compiles against libbpf but dlopen()s it at the first cgroup quota (~270 KiB of RSS on
# every node otherwise), so libbpf is in PKG_DAEMON and not in PKG_DAEMON_LINK (set above).  The
# BPF compile takes neither CFLAGS nor SANITIZE's flags.
PKG_DAEMON   += libbpf
DEB_libbpf   := libbpf-dev
BPF_CLANG    ?= clang
BPF_STRIP    ?= llvm-strip
BPF_CFLAGS   := -O2 -g -target bpf -Wall -Wextra -I/usr/include/$(shell $(BPF_CLANG) -print-multiarch 2>/dev/null)
CGBPF_OBJECT := $(B)/bpf/cgroup.bpf.o
CGBPF_TOOL   := $(B)/tests/cgbpf_tool
$(CGBPF_OBJECT): tc/bpf/cgroup.bpf.c tc/bpf/cgroup.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(BPF_STRIP) -g $@.tmp
	mv -f $@.tmp $@
$(B)/obj/tc/cgbpf.o: $(CGBPF_OBJECT)
$(B)/obj/tc/cgbpf.o: CPPFLAGS += -DCGBPF_OBJECT='"$(abspath $(CGBPF_OBJECT))"'
# Helper for tests/integration/t_cgroup_bpf.sh.
$(CGBPF_TOOL): tests/integration/cgbpf_tool.c $(B)/obj/tc/cgbpf.o $(B)/obj/tc/classify.o $(B)/obj/tc/tcmsg.o \
               $(B)/obj/overlay/nlsock.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(call pc_libs,libmnl) -lpthread -ldl
# --- end of cgroup bandwidth
ifeq ($(filter deps check demo bench clean fuzz check-fuzz man,$(MAKECMDGOALS)),)
MISSING_PC := $(shell for p in $(sort $(PKG_DAEMON) $(PKG_PLUGIN) $(PKG_NETCTL) $(PKG_TEST)); do \
                pkg-config --exists $$p 2>/dev/null || echo $$p; done; \
                for h in $(NOPC_DAEMON); do $(CC) -E -include $$h.h -x c /dev/null >/dev/null 2>&1 || echo $$h; done)
ifneq ($(MISSING_PC),)
$(error missing libraries: $(MISSING_PC) (Debian packages: $(foreach p,$(MISSING_PC),$(or $(DEB_$(p)),$(p)))); run `make deps` as root to install everything shoal needs)
endif
endif

pc_cflags = $(shell pkg-config --cflags $(1))
pc_libs   = $(shell pkg-config --libs $(1))

# Objects.  lib/ holds helpers that need only libc + jansson (the plugin links them).
LIB_SRC    := $(wildcard lib/*.c)
DAEMON_SRC := $(filter-out netd/main.c,$(wildcard netd/*.c)) $(wildcard ipam/*.c store/*.c overlay/*.c tc/*.c fw/*.c)
PLUGIN_SRC := $(filter-out cni-plugin/main.c,$(wildcard cni-plugin/*.c))
NETCTL_SRC := $(filter-out netctl/main.c,$(wildcard netctl/*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJ    := $(call obj,$(LIB_SRC))
DAEMON_OBJ := $(call obj,$(DAEMON_SRC))
PLUGIN_OBJ := $(call obj,$(PLUGIN_SRC))
NETCTL_OBJ := $(call obj,$(NETCTL_SRC))

ALL_CFLAGS = $(WARN) $(CFLAGS) $(CPPFLAGS) $(call pc_cflags,$(PKG_DAEMON) $(PKG_TEST))

BINS := $(B)/shoald $(B)/shoal $(B)/netctl
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BINS:= $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRC))

.PHONY: all deps check check-unit check-integration check-fuzz fuzz bench demo install clean
all: $(BINS) $(BENCH_BINS)

# Objects depend on the flags they were built with: switching SANITIZE=1 on or off rebuilds.
FLAGS_STAMP := $(B)/.flags
$(shell mkdir -p $(B) && echo '$(ALL_CFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS_STAMP) || echo '$(ALL_CFLAGS) $(LDFLAGS)' >$(FLAGS_STAMP))

$(B)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(B)/shoald: $(B)/obj/netd/main.o $(DAEMON_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(PKG_DAEMON_LINK)) $(NOPC_LIBS) -lpthread -ldl

# The plugin is exec'd for every container: jansson + libc only (no libuv, no HTTP).  tc/quota.o
# (libc only) parses the rates of CNI_ARGS with tc's units.
$(B)/shoal: $(B)/obj/cni-plugin/main.o $(PLUGIN_OBJ) $(LIB_OBJ) $(B)/obj/tc/quota.o
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(PKG_PLUGIN))

$(B)/netctl: $(B)/obj/netctl/main.o $(NETCTL_OBJ) $(LIB_OBJ) $(B)/obj/tc/quota.o
	$(CC) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(PKG_NETCTL))

# Unit tests link every non-main object; they need no root.
$(B)/tests/%: tests/unit/%.c $(DAEMON_OBJ) $(PLUGIN_OBJ) $(NETCTL_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(call pc_libs,$(PKG_DAEMON_LINK) $(PKG_TEST)) $(NOPC_LIBS) -lpthread -ldl

$(B)/bench/%: bench/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(call pc_libs,jansson) -lm

# Helper for tests/integration/t_fw.sh.
$(B)/tests/fw_tool: tests/integration/fw_tool.c $(B)/obj/fw/fw.o $(B)/obj/fw/batch.o $(B)/obj/fw/describe.o \
                  $(B)/obj/fw/check.o $(B)/obj/fw/forward.o $(B)/obj/lib/cidr.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(call pc_libs,libnftnl libmnl)

TEST_HELPERS := $(B)/tests/fw_tool $(CGBPF_TOOL)

# Man pages: docs/man/NAME.SECTION.scd -> $(B)/man/NAME.SECTION, by scdoc (Debian package scdoc),
# with @VERSION@ replaced by lib/version.h's.  scdoc is only needed for `make man` and install.
SCDOC        ?= scdoc
SHOAL_VERSION := $(shell sed -n 's/^\#define SHOAL_VERSION "\(.*\)"$$/\1/p' lib/version.h)
MAN_SRC      := $(wildcard docs/man/*.scd)
MAN_PAGES    := $(patsubst docs/man/%.scd,$(B)/man/%,$(MAN_SRC))
# The pages carry the date of the last commit, not of the build: reproducible output.
MAN_DATE     := $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),0)

.PHONY: man
man: $(MAN_PAGES)

$(B)/man/%: docs/man/%.scd lib/version.h
	@command -v $(SCDOC) >/dev/null 2>&1 || { echo "make man: $(SCDOC) not found: the man pages are built with scdoc (Debian package scdoc; make deps installs it)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(SHOAL_VERSION)/g' $< >$@.scd.tmp
	SOURCE_DATE_EPOCH=$(MAN_DATE) $(SCDOC) <$@.scd.tmp >$@.tmp
	rm -f $@.scd.tmp && mv -f $@.tmp $@

deps:
	@scripts/install-deps.sh

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(TEST_HELPERS)
	@B=$(B) tests/run.sh

check-unit: all $(UNIT_BINS)
	@B=$(B) tests/run.sh unit

check-integration: all $(TEST_HELPERS)
	@B=$(B) tests/run.sh integration

check-fuzz:
	@B=$(B) tests/run.sh fuzz

# Longer fuzz runs by hand: make fuzz FUZZ_SECONDS=600
fuzz:
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tests/fuzz/run.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) scripts/demo.sh

# Installed paths.  The unit gets them substituted (sed), so PREFIX=/usr works as well as
# /usr/local; DESTDIR is only a staging root and never appears inside installed files.
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
DOCDIR     ?= $(PREFIX)/share/doc/shoal
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
INSTALL_DOCS := README.md LICENSE $(wildcard docs/*.md)
INSTALL_EXAMPLES := conf/shoald.json conf/10-shoal.conflist conf/10-shoal-chained.conflist
MANDIR     ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
# Every directory install may create, deepest first (uninstall removes the ones left empty).
INSTALL_DIRS = $(DOCDIR)/examples $(DOCDIR) $(MANDIR)/man8 $(MANDIR)/man5 $(BASHCOMPDIR) $(ZSHCOMPDIR) \
               $(SYSCONFDIR)/shoal $(SYSTEMDUNITDIR) $(CNI_DIRS) $(SBINDIR) $(BINDIR)

install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR)
	install -m 0755 $(B)/shoald $(DESTDIR)$(SBINDIR)/shoald
	install -m 0755 $(B)/netctl $(DESTDIR)$(BINDIR)/netctl
	for d in $(CNI_DIRS); do install -d $(DESTDIR)$$d && install -m 0755 $(B)/shoal $(DESTDIR)$$d/shoal; done
	install -d $(DESTDIR)$(SYSCONFDIR)/shoal
	install -m 0644 conf/shoald.json $(DESTDIR)$(SYSCONFDIR)/shoal/shoald.json.example
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' conf/shoald.service >$(DESTDIR)$(SYSTEMDUNITDIR)/shoald.service.tmp
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/shoald.service.tmp
	mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/shoald.service.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/shoald.service
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(INSTALL_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 0644 conf/completion/netctl.bash $(DESTDIR)$(BASHCOMPDIR)/netctl
	install -m 0644 conf/completion/_netctl $(DESTDIR)$(ZSHCOMPDIR)/_netctl
	@echo "installed; a real install (no DESTDIR) is started with: systemctl daemon-reload && systemctl enable --now shoald"

# Removes exactly what install put there, never the configuration an administrator wrote
# (/etc/shoal/shoald.json) nor the state (/var/lib/shoal).  Stop the service first
# (systemctl disable --now shoald).  Directories go only when left empty: shoal's own always, the
# shared ones (bin, sbin, CNI and unit directories) only inside a DESTDIR staging root.
.PHONY: uninstall
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/shoald $(DESTDIR)$(BINDIR)/netctl
	for d in $(CNI_DIRS); do rm -f $(DESTDIR)$$d/shoal; done
	rm -f $(DESTDIR)$(SYSCONFDIR)/shoal/shoald.json.example
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/shoald.service
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INSTALL_DOCS)))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(INSTALL_EXAMPLES)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MAN_PAGES))))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/netctl $(DESTDIR)$(ZSHCOMPDIR)/_netctl
	for d in $(DOCDIR)/examples $(DOCDIR) $(SYSCONFDIR)/shoal; do rmdir $(DESTDIR)$$d 2>/dev/null || true; done
	@root='$(DESTDIR)'; root=$${root%/}; [ -n "$$root" ] || exit 0; \
	for d in $(INSTALL_DIRS); do \
		d=$$root$$d; while [ "$$d" != "$$root" ] && [ -n "$$d" ]; do \
			if [ -d "$$d" ]; then rmdir "$$d" 2>/dev/null || break; fi; d=$${d%/*}; \
		done; \
	done

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
