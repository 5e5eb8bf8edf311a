# vmcluster - top-level Makefile.
#
#   make            build everything into bin/
#   make check      build with ASan/UBSan and run every test (unit + system), then the
#                   short reliability suite
#   make check-unit / check-system / check-valgrind / check-xen
#   make check-chaos  the reliability suite (CHAOS_FORM=short|full, default full);
#   make check-fuzz   its libFuzzer targets alone (FUZZ_RUNS=N inputs each)
#   make check-repeat N=10   the whole suite N times, with per-file pass counts
#   make bench      run the benchmarks in tests/bench/
#   make demo       a private broker and four sim hosts (see README)
#   make check-cluster  the agents on a private 3-node RabbitMQ cluster (installs it)
#   make install    PREFIX=/usr/local DESTDIR= (SYSCONFDIR, UNITDIR: see below)
#   make deb        Debian packages into build/deb/ (see debian/)
#   make check-deb  the packages installed into a Debian 12 chroot and checked
#
# VMC_NO_DEPS=1 skips scripts/install-deps (package builds: no apt from inside them).
#
# Sources are found by directory: lib/*/*.c make libvmc.a; each program's
# directory holds main.c plus its modules, in sub-folders too (vmc-hostd's drivers,
# migration, balancer, HA); tests/lib/*.c is code only tests use; tests/unit/test_*.c are cmocka
# programs; tests/system/*.t are TAP scripts run by prove; tests/fuzz/fuzz_*.c are
# libFuzzer targets (built by clang with FUZZ=1 into build/fuzz).

PREFIX ?= /usr/local
DESTDIR ?=
# configuration and systemd units: /etc and /lib/systemd/system for PREFIX=/usr
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
# vmc-hostd's xen driver module and webhook helper (compiled into vmc-hostd: build with
# the PREFIX you install with)
LIBDIR ?= $(PREFIX)/lib/vmcluster
SAN ?= 0
FUZZ ?= 0

ifeq ($(FUZZ),1)
# libFuzzer targets (tests/fuzz/): everything built by clang with the fuzzer's coverage
# hooks and ASan/UBSan; only the fuzz programs link the fuzzer's main.
override CC = clang
BUILD ?= build/fuzz
SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
OPT = -O1 -g
# clang's -Wformat=2 also flags the va_list printf wrappers gcc accepts
WARN_EXTRA = -Wno-format-nonliteral
else ifeq ($(SAN),1)
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
DEPS_STAMP = $(if $(filter 1,$(VMC_NO_DEPS)),,build/.deps-ok)

CC ?= cc
CFLAGS ?= $(OPT)
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wformat=2 $(WARN_EXTRA) -MMD -MP $(SANFLAGS) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# each program maps only the libraries it calls (vmc-hostd neither libcurl nor libxen)
override LDFLAGS += $(SANFLAGS) -Wl,--as-needed
LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TEST_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

LIB_SRC = $(wildcard lib/*/*.c)
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBVMC = $(BUILD)/libvmc.a

# program name : source directory
PROGS = vmc-hostd:agents/hostd vmc-guestd:agents/guestd vmc-confd:agents/confd \
	vmc:console/vmc vmtop-cluster:console/vmtop vmc-webhook:agents/webhook
prog_name = $(word 1,$(subst :, ,$1))
prog_dir = $(word 2,$(subst :, ,$1))
# programs whose directory has a main.c
BUILT_PROGS = $(foreach p,$(PROGS),$(if $(wildcard $(call prog_dir,$p)/main.c),$p))
PROG_BINS = $(foreach p,$(BUILT_PROGS),$(BIN)/$(call prog_name,$p))
# each program's modules other than main.c, as an archive the unit tests can link
prog_mods = $(filter-out $(call prog_dir,$1)/main.c $(XEN_SRC),\
	$(sort $(shell find $(call prog_dir,$1) -name '*.c')))
# extra link flags of one program: the module vmc-hostd loads uses its functions
LDFLAGS_vmc-hostd = -rdynamic
# The xen driver (agents/hostd/drivers/xen/) is a module vmc-hostd loads for --driver xen
# only (agents/hostd/drivers/hv.c, libpath.h): built position-independent into build/pic, linked
# with the Xen libraries into $(BIN)/vmc-hostd-xen.so, and archived for the unit tests.
XEN_SRC = $(wildcard agents/hostd/drivers/xen/*.c)
XEN_OBJ = $(XEN_SRC:%.c=$(BUILD)/pic/%.o)
XEN_MOD = $(BIN)/vmc-hostd-xen.so
XEN_ARCHIVE = $(BUILD)/agents/hostd/libxen.a
XEN_LIBS = $(shell pkg-config --libs xenlight xenstat xlutil xentoollog 2>/dev/null)
prog_archive = $(BUILD)/$(call prog_dir,$1)/libprog.a
PROG_ARCHIVES = $(foreach p,$(BUILT_PROGS),$(call prog_archive,$p))

# code only the unit tests and benchmarks use (a whole simulated cluster of balancers; the
# cluster model fed bus messages, with cmocka: for unit tests only)
TESTLIB_SRC = tests/lib/balance_sim.c tests/lib/model_feed.c
TESTLIB = $(BUILD)/libvmctest.a
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC = $(wildcard tests/bench/*.c)
BENCH_BINS = $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
# executions per fuzzer: the short form in check, the long one in check-chaos
FUZZ_RUNS_SHORT ?= 100000
FUZZ_RUNS ?= 2000000
CHAOS_FORM ?= full

.PHONY: all deps check check-unit check-system check-valgrind check-xen check-repeat bench demo install \
	clean format fuzz-bins check-fuzz check-chaos check-chaos-short
.PHONY: deb check-deb
all: $(DEPS_STAMP) $(PROG_BINS) $(XEN_MOD)

# Installs missing Debian packages (scripts/install-deps decides what is missing).
ifneq ($(DEPS_STAMP),)
$(DEPS_STAMP): scripts/install-deps
	@scripts/install-deps
	@mkdir -p $(dir $@) && touch $@
endif
deps:
	@scripts/install-deps

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -c -o $@ $<

$(XEN_MOD): $(XEN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -o $@ $^ $(XEN_LIBS) -lpthread

$(XEN_ARCHIVE): $(XEN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/agents/hostd/drivers/libpath.o: override CPPFLAGS += -DVMC_LIBDIR='"$(LIBDIR)"'

$(LIBVMC): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(TESTLIB): $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

define prog_rules
$(call prog_archive,$1): $(patsubst %.c,$(BUILD)/%.o,$(call prog_mods,$1)) \
		$(if $(call prog_mods,$1),,$(BUILD)/empty.o)
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^
$(BIN)/$(call prog_name,$1): $(BUILD)/$(call prog_dir,$1)/main.o $(call prog_archive,$1) $(LIBVMC)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$(LDFLAGS_$(call prog_name,$1)) -o $$@ $$^ $$(LIBS)
endef
$(foreach p,$(BUILT_PROGS),$(eval $(call prog_rules,$p)))

$(BUILD)/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int vmc_empty_unit;' | $(CC) -x c -c -o $@ -

$(BUILD)/tests/%: tests/unit/%.c $(XEN_ARCHIVE) $(PROG_ARCHIVES) $(TESTLIB) $(LIBVMC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(XEN_ARCHIVE) $(PROG_ARCHIVES) $(TESTLIB) $(LIBVMC) \
		$(TEST_LIBS) $(LIBS)

$(BUILD)/bench/%: tests/bench/%.c $(PROG_ARCHIVES) $(TESTLIB) $(LIBVMC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PROG_ARCHIVES) $(TESTLIB) $(LIBVMC) $(LIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(BUILD)/agents/confd/libprog.a $(LIBVMC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/agents/confd/libprog.a \
		$(LIBVMC) $(LIBS)

# --- tests ---------------------------------------------------------------
check: $(DEPS_STAMP)
	$(MAKE) SAN=1 all unit-bins
	$(MAKE) SAN=1 check-unit check-system
	$(MAKE) check-chaos-short

fuzz-bins: $(FUZZ_BINS)

# The reliability suite (tests/chaos/run): fuzzers for a fixed number of runs, then the
# fault scenarios (broker restarts, kill -9 during migrations, full and read-only disks)
# on the sanitizer build; prints the counts at the end. check-chaos-short is check's part.
check-fuzz: $(DEPS_STAMP)
	$(MAKE) FUZZ=1 fuzz-bins
	@tests/fuzz/run --bin $(abspath build/fuzz/fuzz) --runs $(FUZZ_RUNS)

check-chaos: $(DEPS_STAMP)
	$(MAKE) FUZZ=1 fuzz-bins
	$(MAKE) SAN=1 all
	@VMC_BIN=$(abspath build/san/bin) tests/chaos/run --form $(CHAOS_FORM) \
		--fuzz-bin $(abspath build/fuzz/fuzz) \
		--fuzz-runs $(if $(filter short,$(CHAOS_FORM)),$(FUZZ_RUNS_SHORT),$(FUZZ_RUNS))

check-chaos-short:
	$(MAKE) CHAOS_FORM=short check-chaos

unit-bins: $(UNIT_BINS)

check-unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

# The system tests spend most of their time waiting for simulated clocks, not on a CPU
# (19 minutes one after another for 3 minutes of CPU), so they run CHECK_JOBS at a time,
# the longest first so that they do not end the run alone. Each test has its own broker
# port and directory, so they do not see each other.
CHECK_JOBS ?= 6
SYSTEM_SLOW := $(addprefix tests/system/,83-ha-kill-restarter.t 46-night-consolidate.t \
	23-kill-destination.t 22-kill-source.t 80-ha-restart.t 85-ha-self-fence.t)
SYSTEM_TESTS := $(SYSTEM_SLOW) $(filter-out $(SYSTEM_SLOW),$(sort $(wildcard tests/system/*.t)))
check-system: all
	VMC_BIN=$(abspath $(BIN)) prove -f --timer -j$(CHECK_JOBS) $(SYSTEM_TESTS)

# check-repeat N=10 [TESTS="tests/system/50-vmtop.t ..."]: the suite N times, per-file pass counts
N ?= 10
TESTS ?=
check-repeat: $(DEPS_STAMP)
	$(MAKE) SAN=1 all unit-bins
	VMC_BIN=$(abspath build/san/bin) UNIT_DIR=$(abspath build/san/tests) JOBS=$(CHECK_JOBS) \
		tests/check-repeat $(N) $(if $(TESTS),$(TESTS),--whole $(SYSTEM_TESTS))

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
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/vmcluster/broker-conf
	for b in $(PROG_BINS); do case $$b in \
		*/vmc-webhook) install -m 755 $$b $(DESTDIR)$(LIBDIR)/ ;; \
		*/vmc-*) install -m 755 $$b $(DESTDIR)$(PREFIX)/sbin/ ;; \
		*) install -m 755 $$b $(DESTDIR)$(PREFIX)/bin/ ;; esac; done
	install -m 755 scripts/vmc-broker-setup $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 $(XEN_MOD) $(DESTDIR)$(LIBDIR)/
	for m in man/*.[1-8]; do \
		install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$${m##*.}/; done
	install -m 644 broker-conf/* $(DESTDIR)$(PREFIX)/share/vmcluster/broker-conf/
	install -d $(DESTDIR)$(SYSCONFDIR)/vmcluster/templates $(DESTDIR)$(UNITDIR)
	install -m 644 etc/*.conf etc/*.rules etc/*.json $(DESTDIR)$(SYSCONFDIR)/vmcluster/
	install -m 644 etc/templates/*.tmpl $(DESTDIR)$(SYSCONFDIR)/vmcluster/templates/
	install -m 644 broker-conf/mosquitto-prod.conf $(DESTDIR)$(SYSCONFDIR)/vmcluster/mosquitto.conf
	for u in systemd/*.service; do \
		sed -e 's|/usr/sbin/vmc|$(PREFIX)/sbin/vmc|' -e 's|/etc/vmcluster/|$(SYSCONFDIR)/vmcluster/|' \
			$$u >$(DESTDIR)$(UNITDIR)/$${u##*/} && chmod 644 $(DESTDIR)$(UNITDIR)/$${u##*/}; done

# Debian packages, built from a copy of the tree (git's files) in build/deb/src:
# the .debs land in build/deb/ and the tree stays as it was.
deb:
	@scripts/install-deps --deb
	scripts/make-deb build/deb

check-deb: deb
	tests/deb/check-deb build/deb

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
