# vmcluster - top-level Makefile.
#
#   make            build everything into bin/
#   make check      build with ASan/UBSan and run every test (unit + system)
#   make check-unit / check-system / check-valgrind / check-xen
#   make bench      run the benchmarks in tests/bench/
#   make demo       a private broker and four sim hosts (see README)
#   make check-cluster  the agents on a private 3-node RabbitMQ cluster (installs it)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Sources are found by directory: lib/*.c make libvmc.a; each program's
# directory holds main.c plus its modules; tests/unit/test_*.c are cmocka
# programs; tests/system/*.t are TAP scripts run by prove.

PREFIX ?= /usr/local
DESTDIR ?=
SAN ?= 0

ifeq ($(SAN),1)
BUILD ?= build/san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT = -O1 -g
else
BUILD ?= build/rel
SANFLAGS =
OPT = -O2 -g
endif
BIN ?= $(if $(filter 1,$(SAN)),$(BUILD)/bin,bin)

PKGS = libmosquitto libcjson libcurl ncursesw libcrypto libssl xenlight xenstat xlutil xentoollog
DEPS_STAMP = build/.deps-ok

CC ?= cc
CFLAGS ?= $(OPT)
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wformat=2 -MMD -MP $(SANFLAGS) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override LDFLAGS += $(SANFLAGS)
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TEST_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBVMC = $(BUILD)/libvmc.a

# program name : source directory
PROGS = vmc-hostd:agents/hostd vmc-guestd:agents/guestd vmc-confd:agents/confd \
	vmc:console/vmc vmtop-cluster:console/vmtop
prog_name = $(word 1,$(subst :, ,$1))
prog_dir = $(word 2,$(subst :, ,$1))
# programs whose directory has a main.c
BUILT_PROGS = $(foreach p,$(PROGS),$(if $(wildcard $(call prog_dir,$p)/main.c),$p))
PROG_BINS = $(foreach p,$(BUILT_PROGS),$(BIN)/$(call prog_name,$p))
# each program's modules other than main.c, as an archive the unit tests can link
prog_mods = $(filter-out $(call prog_dir,$1)/main.c,$(wildcard $(call prog_dir,$1)/*.c))
prog_archive = $(BUILD)/$(call prog_dir,$1)/libprog.a
PROG_ARCHIVES = $(foreach p,$(BUILT_PROGS),$(call prog_archive,$p))

UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC = $(wildcard tests/bench/*.c)
BENCH_BINS = $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps check check-unit check-system check-valgrind check-xen bench demo install \
	clean format
all: $(DEPS_STAMP) $(PROG_BINS)

# Installs missing Debian packages (scripts/install-deps decides what is missing).
$(DEPS_STAMP): scripts/install-deps
	@scripts/install-deps
	@mkdir -p $(dir $@) && touch $@
deps:
	@scripts/install-deps

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIBVMC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define prog_rules
$(call prog_archive,$1): $(patsubst %.c,$(BUILD)/%.o,$(call prog_mods,$1))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^ $$(if $$^,,$(BUILD)/empty.o)
$(BIN)/$(call prog_name,$1): $(BUILD)/$(call prog_dir,$1)/main.o $(call prog_archive,$1) $(LIBVMC)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LIBS)
endef
$(foreach p,$(BUILT_PROGS),$(eval $(call prog_rules,$p)))

$(BUILD)/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int vmc_empty_unit;' | $(CC) -x c -c -o $@ -

$(BUILD)/tests/%: tests/unit/%.c $(PROG_ARCHIVES) $(LIBVMC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PROG_ARCHIVES) $(LIBVMC) $(TEST_LIBS) $(LIBS)

$(BUILD)/bench/%: tests/bench/%.c $(PROG_ARCHIVES) $(LIBVMC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PROG_ARCHIVES) $(LIBVMC) $(LIBS)

# --- tests ---------------------------------------------------------------
check: $(DEPS_STAMP)
	$(MAKE) SAN=1 all unit-bins
	$(MAKE) SAN=1 check-unit check-system

unit-bins: $(UNIT_BINS)

check-unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

check-system: all
	VMC_BIN=$(abspath $(BIN)) prove -f --timer tests/system/*.t

check-valgrind:
	$(MAKE) all $(UNIT_BINS)
	@tests/run-unit --valgrind $(UNIT_BINS)

# RabbitMQ is installed only here, so that make and make check stay light.
.PHONY: check-cluster
check-cluster: all
	@scripts/install-deps --cluster
	VMC_BIN=$(abspath $(BIN)) prove -v --timer tests/cluster/*.t

check-xen: all
	VMC_BIN=$(abspath $(BIN)) tests/xen/check-xen

bench: all $(BENCH_BINS)
	@VMC_BIN=$(abspath $(BIN)) BENCH_BIN=$(abspath $(BUILD)/bench) tests/bench/run

demo: all
	@VMC_BIN=$(abspath $(BIN)) scripts/demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/vmcluster/broker-conf
	for b in $(PROG_BINS); do case $$b in \
		*/vmc-*) install -m 755 $$b $(DESTDIR)$(PREFIX)/sbin/ ;; \
		*) install -m 755 $$b $(DESTDIR)$(PREFIX)/bin/ ;; esac; done
	install -m 755 scripts/vmc-broker-setup $(DESTDIR)$(PREFIX)/sbin/
	for m in man/*.[1-8]; do \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/; done
	install -m 644 broker-conf/* $(DESTDIR)$(PREFIX)/share/vmcluster/broker-conf/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
