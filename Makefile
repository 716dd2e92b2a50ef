# cand: CAN bus broker daemon, client library and CLI.
#
#   make            build everything into build/
#   make run        start the daemon (in a VM with vcan when the host has no CAN)
#   make check      unit tests on the host, then integration tests in a VM
#   make bench      throughput/latency against a direct CAN_RAW reader, in the VM
#   make asan       build with ASan/UBSan into build-asan/
#   make install    DESTDIR=... PREFIX=...

PREFIX ?= /usr/local
DESTDIR ?=
# cand reads SYSCONFDIR/cand.conf by default; systemd looks for units there.
SYSCONFDIR ?= /etc
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

DAEMON_SRC := $(wildcard daemon/*.c)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o)
# Everything but main(), so unit tests can link daemon modules.
DAEMON_LIB_OBJ := $(filter-out $(BUILD)/daemon/main.o,$(DAEMON_OBJ))

LIB_SRC := client/libcand.c client/frametext.c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB_PIC := $(LIB_SRC:%.c=$(BUILD)/pic/%.o) $(BUILD)/pic/proto/cand.pb-c.o
CANCTL_SRC := client/canctl.c
SOVERSION := 1

UNIT_SRC := $(wildcard tests/unit/*.c)
INTEG_SRC := $(wildcard tests/integ/*.c)
BENCH_SRC := $(wildcard bench/*.c)

BINS := $(BUILD)/cand $(BUILD)/canctl $(BUILD)/libcand.so $(BUILD)/libcand.a $(BUILD)/libcand.pc

.PHONY: all deps run check check-unit check-vm bench asan check-asan valgrind \
	install uninstall clean format format-check
all: $(BINS) $(BUILD)/test_unit $(BUILD)/test_integ $(BUILD)/bench_can

# Installs the Debian 12 packages the build and the VM tests need, once.
deps:
	@tests/vm/deps.sh

$(PROTO_C) $(PROTO_H): proto/cand.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --proto_path=proto --c_out=$(BUILD)/proto proto/cand.proto

$(BUILD)/%.o: %.c $(PROTO_H) $(wildcard daemon/*.h client/*.h proto/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -c -o $@ $<

$(PROTO_O): $(PROTO_C)
	$(CC) $(CFLAGS) -std=gnu11 -I$(BUILD)/proto $(DEP_CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(PROTO_H) $(wildcard client/*.h proto/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(DEP_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/pic/proto/cand.pb-c.o: $(PROTO_C)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=gnu11 -I$(BUILD)/proto -fPIC -fvisibility=hidden -c -o $@ $<

$(BUILD)/cand: $(DAEMON_OBJ) $(PROTO_O)
	$(CC) $(CFLAGS) -o $@ $^ $(DEP_LIBS) $(LDFLAGS)

$(BUILD)/libcand.a: $(LIB_OBJ) $(PROTO_O)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libcand.so: $(LIB_PIC)
	$(CC) $(CFLAGS) -shared -Wl,-soname,libcand.so.$(SOVERSION) -o $@ $^ $(PROTOBUF_LIBS)

$(BUILD)/libcand.pc: client/libcand.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|g' $< > $@

$(BUILD)/canctl: $(BUILD)/client/canctl.o $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(PROTOBUF_LIBS) $(LDFLAGS)

$(BUILD)/test_unit: $(UNIT_SRC:%.c=$(BUILD)/%.o) $(DAEMON_LIB_OBJ) $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(DEP_LIBS) $(CHECK_LIBS)

$(BUILD)/test_integ: $(INTEG_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(PROTOBUF_LIBS) $(CHECK_LIBS)

$(BUILD)/bench_can: $(BENCH_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(PROTOBUF_LIBS) -lm

# Unit tests need no CAN; integration tests run in a throwaway VM (or
# natively as root when the host kernel has CAN).
check: deps
	$(MAKE) all
	$(MAKE) check-unit
	$(MAKE) check-vm

check-unit: $(BUILD)/test_unit
	CK_FORK=yes $(BUILD)/test_unit

check-vm: all
	tests/vm/run-tests.sh $(BUILD)

# The same integration run with the daemon under ASan/UBSan.
asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" all

check-asan: deps asan
	tests/vm/run-tests.sh build-asan

valgrind: all
	CAND_DAEMON_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
		tests/vm/run-tests.sh $(BUILD)

bench: deps
	$(MAKE) all
	tests/vm/run-bench.sh $(BUILD)

run: deps
	$(MAKE) all
	tests/vm/run-daemon.sh $(BUILD)

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include
	install -m 755 $(BUILD)/cand $(DESTDIR)$(PREFIX)/sbin/cand
	install -m 755 $(BUILD)/canctl $(DESTDIR)$(PREFIX)/bin/canctl
	install -m 644 $(BUILD)/libcand.a $(DESTDIR)$(PREFIX)/lib/libcand.a
	install -m 755 $(BUILD)/libcand.so $(DESTDIR)$(PREFIX)/lib/libcand.so.$(SOVERSION)
	ln -sf libcand.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libcand.so
	install -m 644 client/cand.h $(DESTDIR)$(PREFIX)/include/cand.h
	install -m 644 $(BUILD)/libcand.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/libcand.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/cand $(DESTDIR)$(PREFIX)/bin/canctl \
		$(DESTDIR)$(PREFIX)/lib/libcand.a $(DESTDIR)$(PREFIX)/lib/libcand.so \
		$(DESTDIR)$(PREFIX)/lib/libcand.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/include/cand.h \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/libcand.pc

format:
	clang-format -i $(DAEMON_SRC) $(wildcard daemon/*.h) client/*.c client/*.h proto/*.h \
		$(UNIT_SRC) $(INTEG_SRC) $(BENCH_SRC)

format-check:
	clang-format --dry-run -Werror $(DAEMON_SRC) $(wildcard daemon/*.h) client/*.c client/*.h \
		proto/*.h $(UNIT_SRC) $(INTEG_SRC) $(BENCH_SRC)

clean:
	rm -rf build build-asan
