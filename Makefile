# SPDX-License-Identifier: MIT
# Thin wrapper around Meson/Ninja: every target first makes sure the Debian
# packages it needs are there (installing them when run as root).

MESON ?= meson
BUILD ?= build
ASAN ?= build-asan
FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all build asan fuzz-build check demo demo-store bench fuzz lab lab-selftest clean deps-build

all: build

deps-build:
	@scripts/deps.sh build

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) >/dev/null

$(ASAN)/build.ninja:
	$(MESON) setup $(ASAN) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug >/dev/null

$(FUZZ)/build.ninja:
	CC=clang $(MESON) setup $(FUZZ) -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debug >/dev/null

build: deps-build $(BUILD)/build.ninja
	ninja -C $(BUILD)

asan: deps-build $(ASAN)/build.ninja
	ninja -C $(ASAN)

fuzz-build: deps-build $(FUZZ)/build.ninja
	ninja -C $(FUZZ)

# All tests: the normal build, the same suites under ASan+UBSan, and the
# libFuzzer target for a bounded time.  scripts/check.sh prints the summary.
check:
	@scripts/deps.sh check
	@$(MAKE) --no-print-directory build asan fuzz-build
	@scripts/check.sh $(BUILD) $(ASAN) $(FUZZ) $(FUZZ_SECONDS)

# The main job: a modelled host, a PV guest with passthrough, xpt driving it.
demo:
	@scripts/deps.sh demo
	@$(MAKE) --no-print-directory build >/dev/null
	@scripts/demo-xpt.sh $(BUILD)

# The store alone, driven by Debian's xenstore-* tools.
demo-store:
	@scripts/deps.sh demo
	@$(MAKE) --no-print-directory build >/dev/null
	@scripts/demo-store.sh $(BUILD)/src/xenstored/xpt-xenstored

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory build >/dev/null
	@bench/run.sh $(BUILD)

# The real-Xen lab (QEMU, software emulation): every scenario, or one.
# STORE=xpt runs xpt-xenstored as dom0's store instead of C xenstored.
lab: $(if $(filter xpt,$(STORE)),build)
	@LAB_STORE=$(or $(STORE),c) lab/lab.sh run $(SCENARIO)

lab-selftest:
	@lab/selftest-broken.sh && lab/selftest-procs.sh

fuzz: fuzz-build
	@$(FUZZ)/tests/fuzz/fuzz-wire -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
