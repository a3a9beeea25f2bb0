# iotrace: make, make check, make install, make bench
VERSION = 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -Iinclude -DIOTRACE_VERSION='"$(VERSION)"' $(CFLAGS)

# Where objects and test programs go, and the binary the integration tests run: the
# sanitizer build (check-sanitize) is the same rules with other values.
BUILD ?= build
BIN ?= iotrace

LIB_SRC = src/strbuf.c src/options.c src/filter.c src/decode.c src/mounts.c src/source.c \
          src/proc.c src/procevents.c src/users.c src/clients.c src/paths.c src/format.c src/template.c src/summary.c src/output.c src/tracer.c src/loop.c \
          src/privileges.c src/pidns.c
LIB_OBJ = $(LIB_SRC:src/%.c=$(BUILD)/%.o)
HEADERS = $(wildcard include/iotrace/*.h)

UNIT_TESTS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/test_*.c))

# Every tests/integration/test_*.c is a cmocka program; valgrind and soak have their own
# targets (slow, or timed by SOAK_SECONDS). harness.c, lines.c and unescape.c serve them all.
TEST_SUPPORT = tests/integration/harness.c tests/integration/lines.c tests/support/unescape.c
TEST_SUPPORT_H = tests/integration/harness.h tests/integration/lines.h tests/support/unescape.h
OWN_TARGET_TESTS = tests/integration/test_valgrind.c tests/integration/test_soak.c
INTEGRATION_TESTS = $(patsubst tests/integration/%.c,$(BUILD)/itests/%,\
                    $(filter-out $(OWN_TARGET_TESTS),$(wildcard tests/integration/test_*.c)))
BENCH_PROGRAMS = build/bench/loadgen build/bench/floor build/bench/pairs build/bench/latency build/bench/storm

# Bounded runs for CI; shorter by default so that make check stays quick to use.
# longer under CI (which sets CI=true), so that CI runs the same `make check` as README
FUZZ_SECONDS ?= $(if $(CI),15,5)
SOAK_SECONDS ?= $(if $(CI),90,15)
FUZZ_TARGETS = decode proc_status mountinfo escape netlink
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all check check-fast deps unit integration valgrind soak fuzz check-sanitize \
        install clean bench bench-soak bench-attribution bench-programs

all: $(BIN)

$(BUILD)/%.o: src/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BIN): $(LIB_OBJ) $(BUILD)/main.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFIXTURES='"$(CURDIR)/tests/fixtures"' -o $@ $< $(LIB_OBJ) $(LDFLAGS) -lcmocka

$(BUILD)/itests/test_%: tests/integration/test_%.c $(TEST_SUPPORT) $(TEST_SUPPORT_H) $(LIB_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/support -DIOTRACE_BIN='"$(CURDIR)/$(BIN)"' \
		-DATTR_HELPER='"$(CURDIR)/$(BUILD)/itests/attr-helper"' \
		-o $@ $< $(TEST_SUPPORT) $(LIB_OBJ) $(LDFLAGS) -lcmocka

deps:
	@tests/deps

unit: deps $(UNIT_TESTS)
	@tests/run-unit $(UNIT_TESTS)

# the attribution tests' helper, run by build/itests/test_attribution
$(BUILD)/itests/attr-helper: tests/integration/helpers/attr_helper.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

$(BUILD)/itests/test_attribution: $(BUILD)/itests/attr-helper

integration: deps $(BIN) $(INTEGRATION_TESTS)
	@tests/run-unit $(INTEGRATION_TESTS)

# Unit tests run as anyone; the integration tests need root (they skip without it).
# The benchmark's programs are built (not run: that is make bench) so they cannot rot.
check-fast: deps $(BIN) bench-programs unit integration

# Everything again with AddressSanitizer and UBSan, in its own build directory.
check-sanitize: deps
	$(MAKE) BUILD=build/sanitize BIN=build/sanitize/iotrace CFLAGS="-O1 -g $(SANITIZE)" \
		LDFLAGS="$(SANITIZE)" unit integration

# One scenario with iotrace under valgrind: no leak, no invalid access, no fd left open.
valgrind: deps $(BIN) $(BUILD)/itests/test_valgrind
	@$(BUILD)/itests/test_valgrind

# Storms from many short-lived processes for SOAK_SECONDS: fds and memory stay flat.
soak: deps $(BIN) $(BUILD)/itests/test_soak
	@SOAK_SECONDS=$(SOAK_SECONDS) $(BUILD)/itests/test_soak

# libFuzzer targets (clang), each for FUZZ_SECONDS from the seed corpus in tests/fuzz.
# (clang warns about a GNU extension the netlink request structs use on purpose)
FUZZ_SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
           -Wno-gnu-variable-sized-type-not-at-end
fuzz: deps
	$(MAKE) CC=clang BUILD=build/fuzz CFLAGS="-O1 -g $(FUZZ_SAN)" \
		$(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/support/unescape.c tests/support/unescape.h $(LIB_OBJ) $(HEADERS)
	$(CC) $(ALL_CFLAGS) -Itests/support -fsanitize=fuzzer -o $@ $< tests/support/unescape.c $(LIB_OBJ)

check: check-fast check-sanitize valgrind fuzz soak

build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WARNINGS) $(CFLAGS) -o $@ $< $(LDFLAGS)

bench-programs: $(BENCH_PROGRAMS)

# Root; slow (minutes). QUICK=1 for small loads, EXT4=1 for an ext4 loop image,
# WRITE=1 for writes too; see bench/run for the rest.
bench: iotrace $(BENCH_PROGRAMS)
	bench/run

# Root; MINUTES=10 by default: iotrace's memory under a storm of short-lived processes,
# users and files (bench/soak).
bench-soak: iotrace build/bench/storm
	bench/soak

build/bench/attribution-workers: bench/attribution/workers.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

# Share of events named with the right command and user, beside fatrace's (as root).
bench-attribution: iotrace build/bench/attribution-workers
	bench/attribution/run

install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/iotrace
	install -D -m 0644 man/iotrace.8 $(DESTDIR)$(MANDIR)/man8/iotrace.8

clean:
	rm -rf build iotrace
