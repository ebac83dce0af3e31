# SPDX-License-Identifier: MIT
# Thin wrapper around Meson/Ninja: every target first makes sure the Debian
# packages it needs are there (scripts/deps.sh: installs them when run as
# root, prints the exact apt-get line otherwise).

MESON ?= meson
BUILD ?= build
ASAN ?= build-asan
TSAN ?= build-tsan
FUZZ ?= build-fuzz
# make fuzz-long's build: the same sanitizers, optimised (-O2: 1.5 to 3
# times the executions per second of the -O0 build make check uses)
FUZZ_LONG ?= build-fuzz-long
FUZZ_SECONDS ?= 60
# make fuzz-long: executions per target, where the corpora are kept, which
# targets (tests/fuzz/fuzz-NAME)
FUZZ_RUNS ?= 10000000
FUZZ_CORPUS_DIR ?= .cache/fuzz
FUZZ_TARGETS ?= wire spec hv qmp stubdom query dmfront pciop domcfg \
	qmpclient pbctl xenbus nodes doctor tracelog gstatus
# Warnings are errors in CI (.ci/run passes WERROR=true), not for a user
# whose compiler is newer than ours.
WERROR ?= false
, := ,

.PHONY: all build asan tsan fuzz-build check demo demo-store bench bench-scale fuzz fuzz-long lab \
	lab-selftest clean deps-build deps-demo deps-demo-store deps-bench \
	deps-fuzz deps-lab deps-check

all: build

deps-build deps-demo deps-demo-store deps-bench deps-fuzz deps-lab deps-check:
	@scripts/deps.sh $(@:deps-%=%)

# setup DIR,ENV,OPTIONS: `meson setup`, showing its output only when it
# fails.  A directory is set up again when Debian's package set changed
# since (deps.sh installed cmocka after `make demo`, say: meson must look
# again) and when WERROR changed (the stamp DIR/.werror-VALUE).
setup = @if [ -f $(1)/build.ninja ]; then re=--reconfigure; else re=; fi; \
	echo "meson setup $${re:+$$re }$(1)"; \
	out=$$($(2) $(MESON) setup $$re $(1) -Dwerror=$(WERROR) $(3) 2>&1) || { \
		printf '%s\n' "$$out" >&2; \
		echo "make: meson setup $(1) failed: the reason is above;" \
			"the whole log is $(1)/meson-logs/meson-log.txt" >&2; \
		exit 1; }; \
	touch $(1)/build.ninja
dpkg_status = $(wildcard /var/lib/dpkg/status)
%/.werror-$(WERROR):
	@mkdir -p $* && rm -f $*/.werror-* && touch $@

# quietly CMD: for targets whose own output is the point (demo, bench):
# the build's output only when it fails.
quietly = out=$$($(1) 2>&1) || { printf '%s\n' "$$out" >&2; exit 1; }

$(BUILD)/build.ninja: $(dpkg_status) $(BUILD)/.werror-$(WERROR) | deps-build
	$(call setup,$(BUILD),,)

$(ASAN)/build.ninja: $(dpkg_status) $(ASAN)/.werror-$(WERROR) | deps-build
	$(call setup,$(ASAN),,-Db_sanitize=address$(,)undefined -Db_lundef=false -Dbuildtype=debug)

# ThreadSanitizer (gcc's, Debian 12's libtsan2): only the threaded tests
# (meson suite 'tsan') are built and run there.
$(TSAN)/build.ninja: $(dpkg_status) $(TSAN)/.werror-$(WERROR) | deps-build
	$(call setup,$(TSAN),,-Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug)

$(FUZZ)/build.ninja: $(dpkg_status) $(FUZZ)/.werror-$(WERROR) | deps-fuzz
	$(call setup,$(FUZZ),CC=clang,-Dfuzz=true -Db_sanitize=address$(,)undefined -Db_lundef=false -Dbuildtype=debug)

$(FUZZ_LONG)/build.ninja: $(dpkg_status) $(FUZZ_LONG)/.werror-$(WERROR) | deps-fuzz
	$(call setup,$(FUZZ_LONG),CC=clang,-Dfuzz=true -Db_sanitize=address$(,)undefined -Db_lundef=false -Dbuildtype=debugoptimized)

build: deps-build $(BUILD)/build.ninja
	ninja -C $(BUILD)

asan: deps-build $(ASAN)/build.ninja
	ninja -C $(ASAN)

TSAN_TESTS = tests/unit/test-hv-vpci tests/unit/test-hv-vpci-race
tsan: deps-build $(TSAN)/build.ninja
	ninja -C $(TSAN) $(TSAN_TESTS)

fuzz-build: deps-fuzz $(FUZZ)/build.ninja
	ninja -C $(FUZZ)

# All tests: the normal build, the same suites under ASan+UBSan, the
# threaded ones under ThreadSanitizer, the libFuzzer targets for a bounded
# time and the lab's quick scenario.  scripts/check.sh prints the summary,
# skipped suites included.
check: deps-check
	@$(MAKE) --no-print-directory build asan tsan fuzz-build
	@scripts/check.sh $(BUILD) $(ASAN) $(FUZZ) $(FUZZ_SECONDS) $(TSAN)

# The main job: a modelled host, a PV guest with passthrough, xpt driving it.
demo: deps-demo
	@echo "make: building in $(BUILD)/ (the output shows only if it fails)"
	@$(call quietly,$(MAKE) --no-print-directory build)
	@scripts/demo-xpt.sh $(BUILD)

# The store alone, driven by Debian's xenstore-* tools.
demo-store: deps-demo-store
	@echo "make: building in $(BUILD)/ (the output shows only if it fails)"
	@$(call quietly,$(MAKE) --no-print-directory build)
	@scripts/demo-store.sh $(BUILD)/src/xenstored/xpt-xenstored

bench: deps-bench
	@echo "make: building in $(BUILD)/ (the output shows only if it fails)"
	@$(call quietly,$(MAKE) --no-print-directory build)
	@bench/run.sh $(BUILD)

# Issue 14's scale figures on the modelled host (bench/scale.sh, several
# minutes with the default 10,000 attach/detach cycles; SCALE_CYCLES=2000
# for a shorter run): not part of `make bench`.
bench-scale: deps-bench
	@echo "make: building in $(BUILD)/ (the output shows only if it fails)"
	@$(call quietly,$(MAKE) --no-print-directory build)
	@bench/scale.sh $(BUILD)

# The real-Xen lab (QEMU, software emulation): every scenario, or one.
# STORE=xpt runs xpt-xenstored as dom0's store instead of C xenstored;
# TOOLSTACK=xpt|both drives the scenarios with xpt (or xl and xpt, side by
# side); XEN=4.20|both boots Debian 13's Xen 4.20 + Linux 6.12 (or both).
# lab/lab.sh installs QEMU itself (as root) or names the apt-get line.
LAB_NEEDS_XPT = $(filter xpt both,$(STORE) $(TOOLSTACK))
lab:
	@scripts/deps.sh lab $(if $(LAB_NEEDS_XPT),build)
	@$(if $(LAB_NEEDS_XPT),$(MAKE) --no-print-directory build)
	@LAB_STORE=$(or $(STORE),c) LAB_TOOLSTACK=$(or $(TOOLSTACK),xl) \
		LAB_XEN=$(or $(XEN),4.17) lab/lab.sh run $(SCENARIO)

lab-selftest: deps-lab
	@lab/selftest-broken.sh && lab/selftest-procs.sh

fuzz: fuzz-build
	@$(FUZZ)/tests/fuzz/fuzz-wire -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus

# Every fuzz target for FUZZ_RUNS executions, one after the other (hours;
# not part of check), on corpora kept in FUZZ_CORPUS_DIR/NAME and seeded
# from tests/fuzz/corpus-NAME; prints each one's executions, time and
# coverage.  FUZZ_MERGE=1 merges what added coverage into the seeds;
# FUZZ_ARGS adds libFuzzer options (FUZZ_ARGS=-max_len=4096).
fuzz-long: deps-fuzz $(FUZZ_LONG)/build.ninja
	ninja -C $(FUZZ_LONG) $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%)
	@scripts/fuzz-long.sh $(FUZZ_LONG) $(FUZZ_CORPUS_DIR) $(FUZZ_RUNS) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD) $(ASAN) $(TSAN) $(FUZZ) $(FUZZ_LONG)
