# cand: CAN bus broker daemon, client library and CLI.
#
#   make            build everything into build/
#   make run        start the daemon (in a VM with vcan when the host has no CAN)
#   make check      unit tests on the host, then integration tests in a VM
#   make bench      throughput/latency against a direct CAN_RAW reader, in the VM
#   make soak       SOAK_MINUTES (10) of load and churn on one daemon, in the VM
#   make asan       build with ASan/UBSan into build-asan/
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (tests/fuzz/)
#   make deb        Debian packages (debian/) into build/deb/, lintian-clean
#   make install    DESTDIR=... PREFIX=... (binaries, library, units, config, man pages,
#                   the python-can interface into PYTHONDIR)
#   make uninstall  the same DESTDIR and PREFIX

PREFIX ?= /usr/local
DESTDIR ?=
# cand reads SYSCONFDIR/cand.conf by default (compiled in).
SYSCONFDIR ?= /etc
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
# systemd searches /usr/local/lib/... as well as /usr/lib/...
UNITDIR ?= $(PREFIX)/lib/systemd/system
# cand-netns, which the units run as root.
LIBEXECDIR ?= $(PREFIX)/libexec
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
# Where bash-completion loads a command's completion from, on demand.
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
BUILD ?= build
CC ?= cc

PKGS := libevent libprotobuf-c libsocketcan libsystemd inih
WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes
ifeq ($(CI),true)
WARN += -Werror
endif
OPT ?= -O2 -g
CFLAGS ?= $(OPT)
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -I$(BUILD)/proto -Iproto -Iclient -Idaemon \
	-DCAND_SYSCONFDIR='"$(SYSCONFDIR)"'
DEP_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DEP_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PROTOBUF_LIBS = $(shell pkg-config --libs libprotobuf-c 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

PROTO_C := $(BUILD)/proto/cand.pb-c.c
PROTO_H := $(BUILD)/proto/cand.pb-c.h
PROTO_O := $(BUILD)/proto/cand.pb-c.o

DAEMON_SRC := $(wildcard daemon/*.c daemon/*/*.c)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
# Everything but main(), so unit tests can link daemon modules.
DAEMON_LIB_OBJ := $(filter-out $(BUILD)/daemon/main.o,$(DAEMON_OBJ))

LIB_SRC := $(wildcard client/libcand*.c) client/frametext.c client/timetext.c \
	client/filtertext.c client/framelen.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_PIC := $(LIB_SRC:%.c=$(BUILD)/pic/%.o) $(BUILD)/pic/proto/cand.pb-c.o
CANCTL_SRC := $(wildcard client/canctl*.c)
SOVERSION := 1

UNIT_SRC := $(wildcard tests/unit/*.c)
INTEG_SRC := $(wildcard tests/integ/*.c)
BENCH_SRC := $(wildcard bench/*.c)
SOAK_SRC := $(wildcard tests/soak/*.c)

BINS := $(BUILD)/cand $(BUILD)/canctl $(BUILD)/libcand.so $(BUILD)/libcand.a $(BUILD)/libcand.pc

.PHONY: all deps run check check-unit check-layers check-install check-units check-options check-vm bench soak asan \
	check-asan valgrind install uninstall clean format format-check deb check-deb
all: $(BINS) $(BUILD)/test_unit $(BUILD)/test_integ $(if $(BENCH_SRC),$(BUILD)/bench_can) \
	$(BUILD)/soak_can python

# python-can's interface "cand": BUILD/python, install-python, uninstall-python.
include client/python/python.mk

# Installs the Debian 12 packages the build and the VM tests need, once.
deps:
	@tests/vm/deps.sh

$(PROTO_C) $(PROTO_H): proto/cand.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --proto_path=proto --c_out=$(BUILD)/proto proto/cand.proto

# -MMD: each object also depends on the headers it really includes.
$(BUILD)/%.o: %.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -MMD -MP -c -o $@ $<

$(PROTO_O): $(PROTO_C)
	$(CC) $(CFLAGS) -std=gnu11 -I$(BUILD)/proto $(DEP_CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -MMD -MP -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/pic/proto/cand.pb-c.o: $(PROTO_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=gnu11 -I$(BUILD)/proto -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/cand: $(DAEMON_OBJ) $(PROTO_O)
	$(CC) $(CFLAGS) -o $@ $^ $(DEP_LIBS) $(LDFLAGS)

$(BUILD)/libcand.a: $(LIB_OBJ) $(PROTO_O)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libcand.so: $(LIB_PIC)
	$(CC) $(CFLAGS) -shared -Wl,-soname,libcand.so.$(SOVERSION) -o $@ $^ $(PROTOBUF_LIBS) $(LDFLAGS)

$(BUILD)/libcand.pc: client/libcand.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|g' $< > $@

$(BUILD)/canctl: $(CANCTL_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(PROTOBUF_LIBS) $(LDFLAGS)

$(BUILD)/test_unit: $(UNIT_SRC:%.c=$(BUILD)/%.o) $(DAEMON_LIB_OBJ) $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(DEP_LIBS) $(CHECK_LIBS)

$(BUILD)/test_integ: $(INTEG_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(PROTOBUF_LIBS) $(CHECK_LIBS)

$(BUILD)/bench_can: $(BENCH_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(PROTOBUF_LIBS) -lm

$(BUILD)/soak_can: $(SOAK_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(PROTOBUF_LIBS)

# Unit tests need no CAN; integration tests run in a throwaway VM (or
# natively as root when the host kernel has CAN).
check: deps
	$(MAKE) all
	$(MAKE) check-unit
	$(MAKE) check-fuzz
	$(MAKE) deb
	CAND_VM_DEB=$(BUILD)/deb $(MAKE) check-vm

check-unit: $(BUILD)/test_unit
	CK_FORK=yes $(BUILD)/test_unit
	$(MAKE) --no-print-directory check-layers check-units check-install check-options

# The daemon's layers call only downward, and no file is over 600 lines.
check-layers: $(DAEMON_OBJ) $(PROTO_O)
	tests/unit/layers.sh $(BUILD)

# The units as systemd reads them, and their exposure to the system.
check-units: $(BUILD)/cand
	tests/unit/units.sh $(BUILD)

# canctl's --help, canctl(1) and bash completion have every option it takes.
check-options: $(BUILD)/canctl
	tests/unit/options.sh $(BUILD)

# make install into a scratch DESTDIR, then make uninstall leaves it empty.
check-install: $(BINS) python
	tests/unit/install.sh $(BUILD)

check-vm: all
	tests/vm/run-tests.sh $(BUILD)

# The same integration run with the daemon under ASan/UBSan.
asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" all

# Sanitizers and valgrind are for the daemon's code: the sandboxed systemd
# run (no ptrace for LeakSanitizer, no time for valgrind) is check-vm's.
check-asan: deps asan
	CAND_VM_SYSTEMD=0 CAND_VM_SOAK=0 tests/vm/run-tests.sh build-asan

valgrind: all
	CAND_VM_SYSTEMD=0 CAND_VM_SOAK=0 CAND_DAEMON_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
		tests/vm/run-tests.sh $(BUILD)

# dpkg-buildpackage on a copy of the tree; the .debs, .buildinfo and
# .changes land in $(BUILD)/deb.
deb: deps
	debian/make-deb.sh $(BUILD)/deb

# The packages installed, used, upgraded, removed and purged in a VM.
check-deb: deb
	tests/deb/run.sh $(BUILD)/deb

bench: deps
	$(MAKE) all
	tests/vm/run-bench.sh $(BUILD)

# make check runs a minute of it (tests/vm/run-tests.sh).
soak: deps
	$(MAKE) all
	tests/vm/run-soak.sh $(BUILD) $${SOAK_MINUTES:-10}

run: deps
	$(MAKE) all
	tests/vm/run-daemon.sh $(BUILD)

# The units, tmpfiles and man pages name installed paths; install writes
# them with this PREFIX's.
INSTALL_SED = sed -e 's|/usr/sbin/cand|$(SBINDIR)/cand|g' \
	-e 's|/usr/libexec/cand/|$(LIBEXECDIR)/cand/|g' \
	-e 's|/etc/cand.conf|$(SYSCONFDIR)/cand.conf|g' \
	-e 's|/usr/share/cand/|$(DATADIR)/cand/|g'
MANPAGES := docs/man/cand.8 docs/man/canctl.1 docs/man/cand.conf.5

install: $(BINS) install-python
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DATADIR)/cand $(DESTDIR)$(SYSCONFDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(LIBEXECDIR)/cand $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BUILD)/cand $(DESTDIR)$(SBINDIR)/cand
	install -m 755 $(BUILD)/canctl $(DESTDIR)$(BINDIR)/canctl
	install -m 644 client/canctl.bash $(DESTDIR)$(BASHCOMPDIR)/canctl
	install -m 644 $(BUILD)/libcand.a $(DESTDIR)$(LIBDIR)/libcand.a
	install -m 755 $(BUILD)/libcand.so $(DESTDIR)$(LIBDIR)/libcand.so.$(SOVERSION)
	ln -sf libcand.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libcand.so
	install -m 644 client/cand.h $(DESTDIR)$(INCLUDEDIR)/cand.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|^libdir=.*|libdir=$(LIBDIR)|' client/libcand.pc.in \
		>$(DESTDIR)$(LIBDIR)/pkgconfig/libcand.pc
	$(INSTALL_SED) systemd/cand.service >$(DESTDIR)$(UNITDIR)/cand.service
	$(INSTALL_SED) systemd/cand.socket >$(DESTDIR)$(UNITDIR)/cand.socket
	$(INSTALL_SED) systemd/cand-socketcand.socket >$(DESTDIR)$(UNITDIR)/cand-socketcand.socket
	$(INSTALL_SED) systemd/cand-netns.service >$(DESTDIR)$(UNITDIR)/cand-netns.service
	$(INSTALL_SED) systemd/cand-netns-add@.service >$(DESTDIR)$(UNITDIR)/cand-netns-add@.service
	$(INSTALL_SED) systemd/cand-netns >$(DESTDIR)$(LIBEXECDIR)/cand/cand-netns
	$(INSTALL_SED) systemd/cand.rules >$(DESTDIR)$(UDEVRULESDIR)/60-cand.rules
	chmod 755 $(DESTDIR)$(LIBEXECDIR)/cand/cand-netns
	$(INSTALL_SED) systemd/cand.tmpfiles >$(DESTDIR)$(TMPFILESDIR)/cand.conf
	install -m 644 systemd/cand.sysusers $(DESTDIR)$(SYSUSERSDIR)/cand.conf
	chmod 644 $(DESTDIR)$(UNITDIR)/cand.service $(DESTDIR)$(UNITDIR)/cand.socket \
		$(DESTDIR)$(UNITDIR)/cand-socketcand.socket \
		$(DESTDIR)$(UNITDIR)/cand-netns.service $(DESTDIR)$(UNITDIR)/cand-netns-add@.service \
		$(DESTDIR)$(UDEVRULESDIR)/60-cand.rules $(DESTDIR)$(TMPFILESDIR)/cand.conf $(DESTDIR)$(LIBDIR)/pkgconfig/libcand.pc
	install -m 644 etc/cand.conf $(DESTDIR)$(DATADIR)/cand/cand.conf
	@# Never over an administrator's file: it is theirs once there.
	if [ -e $(DESTDIR)$(SYSCONFDIR)/cand.conf ]; then \
		echo "install: keeping the existing $(DESTDIR)$(SYSCONFDIR)/cand.conf"; \
	else \
		install -m 644 etc/cand.conf $(DESTDIR)$(SYSCONFDIR)/cand.conf; \
	fi
	for m in $(MANPAGES); do \
		$(INSTALL_SED) $$m >$(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} && \
		chmod 644 $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} || exit 1; \
	done

uninstall: uninstall-python
	rm -f $(DESTDIR)$(SBINDIR)/cand $(DESTDIR)$(BINDIR)/canctl $(DESTDIR)$(BASHCOMPDIR)/canctl \
		$(DESTDIR)$(LIBDIR)/libcand.a $(DESTDIR)$(LIBDIR)/libcand.so \
		$(DESTDIR)$(LIBDIR)/libcand.so.$(SOVERSION) $(DESTDIR)$(INCLUDEDIR)/cand.h \
		$(DESTDIR)$(LIBDIR)/pkgconfig/libcand.pc \
		$(DESTDIR)$(UNITDIR)/cand.service $(DESTDIR)$(UNITDIR)/cand.socket \
		$(DESTDIR)$(UNITDIR)/cand-socketcand.socket \
		$(DESTDIR)$(UNITDIR)/cand-netns.service $(DESTDIR)$(UNITDIR)/cand-netns-add@.service \
		$(DESTDIR)$(LIBEXECDIR)/cand/cand-netns $(DESTDIR)$(UDEVRULESDIR)/60-cand.rules \
		$(DESTDIR)$(SYSUSERSDIR)/cand.conf $(DESTDIR)$(TMPFILESDIR)/cand.conf \
		$(DESTDIR)$(MANDIR)/man8/cand.8 $(DESTDIR)$(MANDIR)/man1/canctl.1 \
		$(DESTDIR)$(MANDIR)/man5/cand.conf.5
	@# The config only if it is still the one we installed.
	if cmp -s etc/cand.conf $(DESTDIR)$(SYSCONFDIR)/cand.conf; then \
		rm -f $(DESTDIR)$(SYSCONFDIR)/cand.conf; \
	elif [ -e $(DESTDIR)$(SYSCONFDIR)/cand.conf ]; then \
		echo "uninstall: keeping the changed $(DESTDIR)$(SYSCONFDIR)/cand.conf"; \
	fi
	rm -f $(DESTDIR)$(DATADIR)/cand/cand.conf
	-rmdir $(DESTDIR)$(DATADIR)/cand $(DESTDIR)$(LIBEXECDIR)/cand 2>/dev/null

# Every C file we write; the generated protobuf code is not ours to style.
FORMAT_FILES := $(DAEMON_SRC) $(UNIT_SRC) $(INTEG_SRC) $(BENCH_SRC) $(SOAK_SRC) \
	$(wildcard client/*.c daemon/*.h daemon/*/*.h client/*.h proto/*.h bench/*.h \
		tests/unit/*.h tests/integ/*.h tests/fuzz/*.c tests/fuzz/*.h tests/soak/*.h)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf build build-asan build-fuzz

include tests/fuzz/fuzz.mk

# (Not the packages' build tree under $(BUILD)/deb: its own objects.)
-include $(shell find $(BUILD) -path $(BUILD)/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
