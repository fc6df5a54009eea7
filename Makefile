# msgcmd: the command side of a CQRS + event-sourced messaging service.
# `make run` and `make test` are the two commands a newcomer needs; both
# install what is missing first (target deps).
#
# make test = build, lint, static, unit + integration, test-asan,
# test-valgrind, fuzz-regress, fuzz-smoke and e2e; `make fuzz` fuzzes longer.

PKGS      := fcgi json-c libjwt libcrypto sqlite3 rdkafka libcurl
CC        ?= cc
CFLAGS    ?= -O2 -g
WARN      := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
             -Wmissing-prototypes -Wstrict-prototypes
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)
B         := build

LIB_SRC   := $(wildcard lib/*.c)
LIB_OBJ   := $(LIB_SRC:lib/%.c=$(B)/lib/%.o)
PROGS     := $(patsubst cgi/%.c,$(B)/%,$(wildcard cgi/*.c))
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

# Fuzzing: clang's libFuzzer with ASan and UBSan; lib/ is built again
# with the same sanitizers and coverage instrumentation into build/fuzz/.
FUZZ_CC   ?= clang
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
FB        := $(B)/fuzz
FUZZ_NAMES := body route auth dotenv
FUZZ_BIN  := $(FUZZ_NAMES:%=$(FB)/fuzz_%)
FUZZ_OBJ  := $(LIB_SRC:lib/%.c=$(FB)/lib/%.o)
FUZZ_SECONDS       ?= 150
FUZZ_SMOKE_SECONDS ?= 30

# test-asan: lib/, cgi/ and the unit tests again, with gcc's ASan and
# UBSan, into their own directory.  UBSan without recovery: the first
# report ends the process (and gcc's -Wnonnull no longer sees the null
# path a recoverable check would leave behind).  test_body leaves out
# its malloc fault injection there (ASan owns malloc), not its other
# checks.
ASAN_B      := build-asan
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ASAN_UNIT   := $(UNIT_SRC:tests/unit/%.c=$(ASAN_B)/tests/%)

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: e2e bench profile all deps run test unit lint static clean kafka chaos test-asan \
        test-valgrind fuzz fuzz-build fuzz-smoke fuzz-regress
all: $(PROGS) $(UNIT_BIN)

deps:
	$(Q)scripts/deps.sh

$(B)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libmsgcmd.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/%: cgi/%.c $(B)/libmsgcmd.a
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LINK    $@"
	$(Q)$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Ilib -o $@ $< $(B)/libmsgcmd.a $(PKG_LIBS)

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(B)/libmsgcmd.a
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LINK    $@"
	$(Q)$(CC) $(WARN) $(CFLAGS) $(PKG_CFLAGS) $(CHECK_CFLAGS) -Ilib -o $@ $< \
		$(B)/libmsgcmd.a $(PKG_LIBS) $(CHECK_LIBS)

# Header discipline (STYLE.md habit 4): I/O headers stay in their files.
lint:
	$(Q)scripts/lint.sh

# clang-tidy (.clang-tidy) and cppcheck over lib/ and cgi/; any finding
# fails.  Suppressions live in tests/static/.
static:
	$(Q)tests/static/static.sh

unit: all
	$(Q)tests/run-unit.sh $(UNIT_BIN)

kafka:
	$(Q)scripts/kafka.sh fetch

run: deps all
	$(Q)scripts/run.sh

# One step after the other, also under make -j: each keeps to its budget.
# Every stage runs; tests/all.sh closes with "N passed, N failed".
test: deps
	$(Q)$(MAKE) --no-print-directory all lint static
	$(Q)tests/all.sh

# Unit tests, then the integration suite with the ASan build: responders,
# relays, rebuilds and CGI runs; tests/run.sh fails on any sanitizer
# report of theirs.
test-asan:
	$(Q)$(MAKE) --no-print-directory B=$(ASAN_B) CFLAGS="$(ASAN_CFLAGS)" all
	$(Q)echo "test-asan: unit and integration tests, ASan + UBSan build"
	$(Q)ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		MSGCMD_BUILD=$(ASAN_B) UNIT_TESTS="$(ASAN_UNIT)" tests/run.sh

# Every endpoint, good and bad inputs, as CGI and FastCGI under memcheck.
test-valgrind: all
	$(Q)tests/sanitize/valgrind.sh

$(FB)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
		$(PKG_CFLAGS) -MMD -MP -c -o $@ $<

$(FB)/libmsgcmd.a: $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FB)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FB)/libmsgcmd.a
	@[ "$(V)" = 1 ] || echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer \
		$(PKG_CFLAGS) -Ilib -o $@ $< $(FB)/libmsgcmd.a $(PKG_LIBS)

fuzz-build: $(FUZZ_BIN)

# Each harness for FUZZ_SECONDS from its seed corpus, one after the
# other; a crash fails and keeps the input in build/fuzz/crashes/.
fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

# The same for FUZZ_SMOKE_SECONDS, one harness per core.
fuzz-smoke: fuzz-build
	$(Q)FUZZ_JOBS=$$(nproc) tests/fuzz/run.sh fuzz $(FUZZ_SMOKE_SECONDS) \
		$(FUZZ_NAMES)

# Replays the seed corpora and tests/fuzz/regress/ without fuzzing.
fuzz-regress: fuzz-build
	$(Q)tests/fuzz/run.sh regress 0 $(FUZZ_NAMES)

# Real Keycloak tokens end to end (docs/KEYCLOAK.md); also the last stage of `make test`.
e2e: deps all
	$(Q)tests/e2e/run.sh

# One table: our loads beside the path's ceilings, measured in the same run.
bench: deps all
	$(Q)tests/bench/bench.sh

# Instructions per request by part, with callgrind (docs/PERFORMANCE.md).
profile: deps all
	$(Q)tests/bench/profile.sh

# At least 20000 commands, 50 SIGKILLs, 3 broker restarts; prints figures.
chaos: deps all
	$(Q)tests/chaos/chaos.sh

clean:
	rm -rf $(B) $(ASAN_B)

-include $(LIB_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
