# iotrace: make, make check, make install, make bench
VERSION = 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
CFLAGS ?= -O2 -g
WARNINGS = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -Iinclude -DIOTRACE_VERSION='"$(VERSION)"' $(CFLAGS)

LIB_SRC = src/strbuf.c src/options.c src/filter.c src/decode.c src/mounts.c src/source.c \
          src/proc.c src/procevents.c src/users.c src/clients.c src/paths.c src/format.c src/template.c src/summary.c src/output.c src/tracer.c
LIB_OBJ = $(LIB_SRC:src/%.c=build/%.o)
HEADERS = $(wildcard include/iotrace/*.h)

UNIT_TESTS = $(patsubst tests/unit/%.c,build/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all check deps unit integration install clean bench bench-attribution

all: iotrace

build/%.o: src/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

iotrace: $(LIB_OBJ) build/main.o
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS)

build/tests/%: tests/unit/%.c $(LIB_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFIXTURES='"$(CURDIR)/tests/fixtures"' -o $@ $< $(LIB_OBJ) $(LDFLAGS) -lcmocka

INTEGRATION_TESTS = $(patsubst tests/integration/%.c,build/itests/%,$(filter-out tests/integration/harness.c,$(wildcard tests/integration/*.c)))

build/itests/test_%: tests/integration/test_%.c tests/integration/harness.c tests/integration/harness.h $(LIB_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DIOTRACE_BIN='"$(CURDIR)/iotrace"' -DATTR_HELPER='"$(CURDIR)/build/itests/attr-helper"' \
		-o $@ $< tests/integration/harness.c \
		$(LIB_OBJ) $(LDFLAGS) -lcmocka

deps:
	@tests/deps

unit: deps $(UNIT_TESTS)
	@tests/run-unit $(UNIT_TESTS)

# the attribution tests' helper, run by build/itests/test_attribution
build/itests/attr-helper: tests/integration/helpers/attr_helper.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

build/itests/test_attribution: build/itests/attr-helper

integration: deps iotrace $(INTEGRATION_TESTS)
	@tests/run-unit $(INTEGRATION_TESTS)

# Unit tests run as anyone; the integration tests need root (they skip without it).
check: deps iotrace unit integration

build/bench/attribution-workers: bench/attribution/workers.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

# Share of events named with the right command and user, beside fatrace's (as root).
bench-attribution: iotrace build/bench/attribution-workers
	bench/attribution/run

install: iotrace
	install -D -m 0755 iotrace $(DESTDIR)$(SBINDIR)/iotrace
	install -D -m 0644 man/iotrace.8 $(DESTDIR)$(MANDIR)/man8/iotrace.8

clean:
	rm -rf build iotrace
