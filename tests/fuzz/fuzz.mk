# tests/fuzz: a libFuzzer target per parser, built with clang and ASan and
# UBSan into $(FUZZ_BUILD); tests/fuzz/README.md says what each one checks.
#
#   make fuzz         each target for FUZZ_SECONDS (60) from its corpus;
#                     FUZZ_TARGETS="conn text" picks some, FUZZ_RUNS=N
#                     stops each after N inputs instead
#   make check-fuzz   each corpus replayed once, no fuzzing (make check)
#   make fuzz-merge   adds what make fuzz found that adds coverage to
#                     the corpus in the repository
#   make fuzz-seeds   rewrites the binary seeds (tests/fuzz/seeds.c)

FUZZ_BUILD ?= build-fuzz
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_ALL := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
# No recovery: any UBSan report is a crash libFuzzer keeps the input of.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OPT := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -fsanitize=fuzzer-no-link

FUZZ_CORPUS := tests/fuzz/corpus

.PHONY: fuzz fuzz-build fuzz-bins check-fuzz fuzz-merge fuzz-seeds

# Inside the sub-make, BUILD is $(FUZZ_BUILD) and CC clang.
fuzz-bins: $(FUZZ_ALL:%=$(BUILD)/fuzz_%) $(BUILD)/fuzz-seeds

$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/fuzz.o \
		$(DAEMON_LIB_OBJ) $(BUILD)/libcand.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(DEP_LIBS)

$(BUILD)/fuzz-seeds: $(BUILD)/tests/fuzz/seeds.o $(BUILD)/tests/fuzz/seeds_server.o \
		$(BUILD)/libcand.a
	$(CC) $(CFLAGS) -o $@ $^ $(PROTOBUF_LIBS)

fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null || { \
		echo "fuzz: no $(FUZZ_CC) (make deps installs it)" >&2; exit 1; }
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
		OPT="$(FUZZ_OPT)" fuzz-bins

fuzz: deps fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) \
		tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

check-fuzz: fuzz-build $(BUILD)/cand
	tests/fuzz/replay.sh $(FUZZ_BUILD) $(BUILD)/cand $(FUZZ_ALL)

fuzz-merge: fuzz-build
	for t in $(FUZZ_TARGETS); do \
		w=$(FUZZ_BUILD)/fuzz-work/$$t/corpus; \
		[ -d $$w ] || continue; \
		$(FUZZ_BUILD)/fuzz_$$t -merge=1 $(FUZZ_CORPUS)/$$t $$w \
			>$(FUZZ_BUILD)/fuzz-work/$$t/merge.log 2>&1 || exit 1; \
		echo "fuzz-merge: $$t: $$(ls $(FUZZ_CORPUS)/$$t | wc -l) inputs"; \
	done

fuzz-seeds: fuzz-build
	mkdir -p $(FUZZ_CORPUS)/conn $(FUZZ_CORPUS)/frames $(FUZZ_CORPUS)/reader
	$(FUZZ_BUILD)/fuzz-seeds $(FUZZ_CORPUS)

# The check of socketcand's command parser both its targets make.
$(BUILD)/fuzz_sc $(BUILD)/fuzz_scparse: $(BUILD)/tests/fuzz/sccheck.o
# The daemon's context of the targets that run its connections.
$(BUILD)/fuzz_conn $(BUILD)/fuzz_sc: $(BUILD)/tests/fuzz/fuzzctx.o
