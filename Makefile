# qemu-ioasid convenience targets.  See README.md.
#
#   make            build build/qemu-system-x86_64 and build/qemu-system-aarch64
#   make check      every test tier (unit, qtest, guest); ends "N passed, N failed"
#   make run        boot the default x86_64 test guest (ARCH=, IOMMU=, KERNEL=)
#   make bench      core benchmarks (table + build/bench.json)
#   make guest-kernel  IOMMUFD guest kernel (ARCH=x86_64|aarch64; cached)
#
# Each works as the first command on a fresh machine: it installs the host
# dependencies and runs ./configure as needed.

SHELL := /bin/bash
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(TOP)/build
RESULTS := $(BUILD)/results
CORE_BUILD := $(BUILD)/core
CORE_SAN_BUILD := $(BUILD)/core-san
JOBS ?= $(shell nproc)

-include $(BUILD)/config.mk

.PHONY: all deps qemu guest-kernel check check-unit check-unit-san check-qtest check-guest \
        run bench fuzz core clean distclean help check-summary

all: qemu

help:
	@sed -n '2,11p' $(TOP)/Makefile

# Re-run configure when it or the integration patches change.
$(BUILD)/config.mk: $(TOP)/configure $(wildcard $(TOP)/integration/*.patch) \
                    $(TOP)/scripts/install-deps.sh
	@mkdir -p $(BUILD)
	flock $(BUILD)/.build.lock $(TOP)/configure

qemu: $(BUILD)/config.mk
	@# One build at a time in the shared build dir (several engineers, CI).
	@flock $(BUILD)/.build.lock sh -c '$(TOP)/scripts/overlay.sh $(TOP) $(MERGED) && \
	    ninja -C $(QBUILD) -j$(JOBS) qemu-system-x86_64 qemu-system-aarch64'
	@ln -sf qemu-build/qemu-system-x86_64 $(BUILD)/qemu-system-x86_64
	@ln -sf qemu-build/qemu-system-aarch64 $(BUILD)/qemu-system-aarch64

# Host packages (idempotent; needs root or sudo when something is missing).
deps:
	@$(TOP)/scripts/install-deps.sh --check >/dev/null 2>&1 || $(TOP)/scripts/install-deps.sh

# ---- tier 1: the standalone core (no QEMU needed) ----
$(CORE_BUILD)/build.ninja: | deps
	meson setup $(CORE_BUILD) $(TOP) >/dev/null

$(CORE_SAN_BUILD)/build.ninja: | deps
	meson setup $(CORE_SAN_BUILD) $(TOP) -Dsanitize=true >/dev/null

core: $(CORE_BUILD)/build.ninja
	ninja -C $(CORE_BUILD)

check-unit: $(CORE_BUILD)/build.ninja
	@mkdir -p $(RESULTS)
	@$(TOP)/scripts/meson-test.sh unit $(CORE_BUILD) $(RESULTS)/unit.res

check-unit-san: $(CORE_SAN_BUILD)/build.ninja
	@mkdir -p $(RESULTS)
	@$(TOP)/scripts/meson-test.sh unit-asan-ubsan $(CORE_SAN_BUILD) $(RESULTS)/unit-san.res

# ---- tier 2: qtests of our devices (needs the QEMU build) ----
# Only our qtests (ioasid-*) are built and run: QEMU's own are not ours to run.
check-qtest: qemu
	@mkdir -p $(RESULTS)
	@tests=$$(cd $(QBUILD) && meson test --no-rebuild --list 2>/dev/null | \
	          grep -oE 'qtest-[a-z0-9_]+/ioasid-[A-Za-z0-9_-]+$$' || true); \
	exes=$$(for t in $$tests; do echo tests/qtest/$${t#*/}; done | sort -u); \
	if [ -n "$$exes" ]; then \
	    flock $(BUILD)/.build.lock ninja -C $(QBUILD) -j$(JOBS) $$exes || exit 1; \
	fi; \
	$(TOP)/scripts/meson-test.sh qtest $(QBUILD) $(RESULTS)/qtest.res $$tests

# ---- tier 3: real Linux guests under TCG ----
check-guest: qemu
	@mkdir -p $(RESULTS)
	@$(TOP)/tests/guest/check.sh $(RESULTS)/guest.res

check:
	@rm -f $(RESULTS)/*.res
	@rc=0; \
	$(MAKE) --no-print-directory check-unit || rc=1; \
	$(MAKE) --no-print-directory check-unit-san || rc=1; \
	$(MAKE) --no-print-directory check-qtest || rc=1; \
	$(MAKE) --no-print-directory check-guest || rc=1; \
	$(TOP)/scripts/check-summary.sh $(RESULTS) || rc=1; \
	exit $$rc

check-summary:
	@$(TOP)/scripts/check-summary.sh $(RESULTS)

run: qemu
	$(TOP)/tests/guest/run.sh

bench: $(CORE_BUILD)/build.ninja
	ninja -C $(CORE_BUILD) tests/bench/ioasid-bench
	$(CORE_BUILD)/tests/bench/ioasid-bench --json $(BUILD)/bench.json

# IOMMUFD guest kernel from Debian's linux-source-7.x (not in make check:
# 9-12 min per arch, cached).  Boot it: make run KERNEL=iommufd [ARCH=aarch64]
guest-kernel:
	$(TOP)/tests/guest/kernel/build-kernel.sh $(or $(ARCH),x86_64)

fuzz:
	$(TOP)/tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(QBUILD) $(CORE_BUILD) $(CORE_SAN_BUILD) $(RESULTS)

distclean:
	rm -rf $(BUILD)
