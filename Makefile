# Roost's Makefile is a thin door onto CMake. Every target first installs the
# Debian packages it needs (cmake/install-packages.sh), fetches the pinned
# sources (cmake/fetch-sources.sh) and builds the dependencies for its
# target once (cmake/deps/, into build/deps/<target>); later runs reuse them.
#
#   make                          release binary at build/host/roost
#   make run [ARGS="--flags"]     build and run the broker (data in roost-data/)
#   make test                     ASan+UBSan build, every test through ctest
#   make cross TARGET=aarch64     build/aarch64/roost (also armhf, riscv64, armv6)
#   make cross-test TARGET=...    that build's unit tests under qemu-user
#   make deb TARGET=...           build/<target>/roost_<version>_<arch>.deb (TARGET also host)
#   make package-test             every .deb built and checked: lintian, a real install,
#                                 the ARMv6 and aarch64 binaries under qemu (docs/packaging.md)
#   make bench                    benchmarks: core costs, Roost vs Node ws/Socket.IO/mosquitto, fsync policies (build/bench/)
#   make bench-full               the long comparison (rooms of 10/100/1,000, 10,000 idle connections)
#   make bench-loop               poll() vs libuv event loop at 0-9,000 idle connections
#   make fuzz [FUZZ_S=300]        every libFuzzer target for FUZZ_S seconds each (clang; docs/edges.md)
#   make soak [SOAK_S=600]        the chaos soak against the ASan build (docs/edges.md)
#   make tls-scan                 testssl.sh's full scan of the HTTPS port (docs/tls.md)
#   make clean / distclean        remove Roost's builds / everything under build/
#
# lws runs on libuv's epoll loop by default (ROOST_WITH_LIBUV=ON; the numbers
# behind that choice are in docs/benchmarks.md). ROOST_WITH_LIBUV=OFF (any target)
# builds lws's own poll() loop instead: a variant with its own dependency
# prefix (build/deps/<target>-poll) and build directories (build/host-poll,
# build/asan-poll, build/aarch64-poll, ...).

TARGET ?= aarch64
CROSS_TARGETS := aarch64 armhf riscv64 armv6
BUILD := build
ARGS ?=
ROOT := $(abspath .)
CMAKE_GEN := -G Ninja
ROOST_WITH_LIBUV ?= ON
ifeq ($(filter ON OFF,$(ROOST_WITH_LIBUV)),)
$(error ROOST_WITH_LIBUV must be ON or OFF)
endif
# V: the variant's suffix for dependency prefixes and build directories.
V := $(if $(filter ON,$(ROOST_WITH_LIBUV)),,-poll)

# Release binaries run on glibc 2.31 and later: built against Debian
# bullseye's glibc (a sysroot per Debian architecture, cmake/sysroot.lock,
# fetched into build/sysroots/), libstdc++ linked in (cross/glibc-floor.cmake).
# armv6 is static instead (cross/armv6.cmake). The host's release build gets
# the floor on amd64 and arm64 hosts; ROOST_GLIBC_FLOOR=OFF builds every
# target against the machine's own glibc (not for release). Why: docs/building.md.
ROOST_GLIBC_FLOOR ?= ON
ifeq ($(filter ON OFF,$(ROOST_GLIBC_FLOOR)),)
$(error ROOST_GLIBC_FLOOR must be ON or OFF)
endif
HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo unknown)
floor = $(if $(filter ON,$(ROOST_GLIBC_FLOOR)),$(1))
sysroot_host := $(call floor,$(filter amd64 arm64,$(HOST_ARCH)))
sysroot_aarch64 := $(call floor,arm64)
sysroot_armhf := $(call floor,armhf)
sysroot_riscv64 := $(call floor,riscv64)
sysroot_armv6 :=
# The Debian architecture of each target's package: armv6 is Raspberry Pi OS's armhf.
debarch_host := $(HOST_ARCH)
debarch_aarch64 := arm64
debarch_armhf := armhf
debarch_riscv64 := riscv64
debarch_armv6 := armhf

ALL_TARGETS := host $(CROSS_TARGETS)
.PHONY: all run test cross cross-test deb package-test clean distclean check-target check-deb-target \
        bench bench-loop fuzz fuzz-build fuzz-merge soak tls-scan $(addprefix deps-,$(ALL_TARGETS)) \
        $(addprefix packages-,$(ALL_TARGETS)) $(addprefix sysroot-,$(ALL_TARGETS))
.DEFAULT_GOAL := all

sysroot_args = $(if $(sysroot_$(1)),-DROOST_SYSROOT=$(ROOT)/$(BUILD)/sysroots/$(sysroot_$(1)))
# toolchain(target): the CMake arguments of the target's release build and dependencies.
toolchain = $(if $(filter host,$(1)),$(if $(sysroot_host),-DCMAKE_TOOLCHAIN_FILE=$(ROOT)/cross/host.cmake $(call sysroot_args,host)),-DCMAKE_TOOLCHAIN_FILE=$(ROOT)/cross/$(1).cmake -DROOST_DEPS_PREFIX=$(ROOT)/$(BUILD)/deps/$(1)$(V) $(call sysroot_args,$(1)))
# build_toolchain(build dir, target): only build/host among the host's builds
# gets the floor; ASan, benchmark and fuzz builds use the machine's glibc.
build_toolchain = $(if $(filter host,$(2)),$(if $(filter host,$(1)),$(call toolchain,host)),$(call toolchain,$(2)))

# fresh_if_changed(dir, target, toolchain args, more dirs): CMake keeps a
# build tree's first toolchain and flags whatever it is told later, so a tree
# configured with other toolchain arguments or toolchain files (e.g. from
# before the glibc floor) is removed, with the dirs it built (a dependency
# prefix), and made again.
toolchain_sum = $(shell cat cross/$(1).cmake cross/toolchain-common.cmake cross/glibc-floor.cmake 2>/dev/null | cksum)
stamp = $(if $(strip $(2)),$(strip $(2)) $(call toolchain_sum,$(1)))
define fresh_if_changed
	@if [ -f $(1)/CMakeCache.txt ] && [ "$$(cat $(1)/.roost-toolchain 2>/dev/null)" != "$(call stamp,$(2),$(3))" ]; then \
	    echo "$(1): toolchain changed: configuring it afresh"; rm -rf $(1) $(4); fi
	@mkdir -p $(1) && echo "$(call stamp,$(2),$(3))" >$(1)/.roost-toolchain
endef

$(addprefix packages-,$(ALL_TARGETS)): packages-%:
	@cmake/install-packages.sh host $(if $(filter host,$*),,$*)

$(addprefix sysroot-,$(ALL_TARGETS)): sysroot-%: packages-%
	@$(if $(sysroot_$*),cmake/fetch-sysroot.sh $(sysroot_$*) $(BUILD)/sources $(BUILD)/sysroots/$(sysroot_$*),:)

# deps-<target>: the pinned dependencies, built once per target (and variant).
$(addprefix deps-,$(ALL_TARGETS)): deps-%: sysroot-%
	@cmake/fetch-sources.sh $(BUILD)/sources $(if $(V),,libuv)
	$(call fresh_if_changed,$(BUILD)/deps-build/$*$(V),$*,$(call toolchain,$*),$(BUILD)/deps/$*$(V))
	@cmake -S cmake/deps -B $(BUILD)/deps-build/$*$(V) $(CMAKE_GEN) \
	    -DROOST_SOURCES_DIR=$(ROOT)/$(BUILD)/sources -DROOST_WITH_LIBUV=$(ROOST_WITH_LIBUV) \
	    -DCMAKE_INSTALL_PREFIX=$(ROOT)/$(BUILD)/deps/$*$(V) $(call toolchain,$*) >/dev/null
	@cmake --build $(BUILD)/deps-build/$*$(V)

# roost_build(build dir, deps target, extra cmake args[, build target]); both
# dirs get the variant's suffix.
define roost_build
	$(call fresh_if_changed,$(BUILD)/$(1)$(V),$(2),$(call build_toolchain,$(1),$(2)))
	@cmake -S . -B $(BUILD)/$(1)$(V) $(CMAKE_GEN) \
	    -DCMAKE_PREFIX_PATH=$(ROOT)/$(BUILD)/deps/$(2)$(V) $(call build_toolchain,$(1),$(2)) \
	    -DROOST_WITH_LIBUV=$(ROOST_WITH_LIBUV) $(3) >/dev/null
	@cmake --build $(BUILD)/$(1)$(V) $(if $(4),--target $(4))
endef

all: deps-host
	$(call roost_build,host,host,-DCMAKE_BUILD_TYPE=Release -DROOST_BUILD_TESTS=OFF)
	@echo "built $(BUILD)/host$(V)/roost"

run: all
	@mkdir -p roost-data
	$(BUILD)/host$(V)/roost --data roost-data $(ARGS)

test: deps-host
	@cmake/install-packages.sh test
	@$(MAKE) --no-print-directory fuzz-build || echo "make test: COULD NOT build the fuzz targets: fuzz_short fails (or skips where clang cannot be installed)" >&2
	@command -v npm >/dev/null 2>&1 || cmake/install-packages.sh node
	@cmake/install-packages.sh browser || echo "make test: COULD NOT INSTALL chromium: the browser test (e2e_browser) will fail" >&2
	@cd tests/browser && npm ci --silent --no-audit --no-fund
	$(call roost_build,asan,host,-DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOST_SANITIZE=ON -DROOST_BUILD_TESTS=ON -DROOST_FUZZ_DIR=$(ROOT)/$(BUILD)/fuzz$(V))
	cd $(BUILD)/asan$(V) && ctest --output-on-failure

check-target:
	@case " $(CROSS_TARGETS) " in *" $(TARGET) "*) ;; \
	  *) echo "TARGET must be one of: $(CROSS_TARGETS)" >&2; exit 2 ;; esac

cross: check-target
	@$(MAKE) --no-print-directory deps-$(TARGET)
	$(call roost_build,$(TARGET),$(TARGET),-DCMAKE_BUILD_TYPE=Release -DROOST_BUILD_TESTS=ON)
	@echo "built $(BUILD)/$(TARGET)$(V)/roost"

cross-test: cross
	cd $(BUILD)/$(TARGET)$(V) && ctest --output-on-failure -L unit

# make deb TARGET=<host|aarch64|armhf|riscv64|armv6>: the target's release
# binary as build/<target>/roost_<version>_<debarch>.deb (packaging/).
VERSION := $(shell sed -n 's/^\#define ROOST_VERSION "\(.*\)"/\1/p' broker/version.h)
check-deb-target:
	@case " $(ALL_TARGETS) " in *" $(TARGET) "*) ;; \
	  *) echo "TARGET must be one of: $(ALL_TARGETS)" >&2; exit 2 ;; esac

deb: check-deb-target
	@cmake/install-packages.sh deb
	@$(MAKE) --no-print-directory deps-$(TARGET)
	$(call roost_build,$(TARGET),$(TARGET),-DCMAKE_BUILD_TYPE=Release -DROOST_BUILD_TESTS=$(if $(filter host,$(TARGET)),OFF,ON),roost)
	@packaging/build-deb.sh $(BUILD)/$(TARGET)$(V)/roost $(debarch_$(TARGET)) $(VERSION) $(BUILD)/$(TARGET)$(V)

# make package-test: every target's .deb, then tests/package/run.sh (lintian,
# the unit's sandbox score, a real install, upgrade and purge on this machine
# as root, the glibc ceiling, the armv6 and aarch64 packages' binaries under
# qemu with their unit tests). Several minutes; .ci/run runs it.
package-test:
	@cmake/install-packages.sh package-test test
	@for t in $(ALL_TARGETS); do $(MAKE) --no-print-directory deb TARGET=$$t || exit 1; done
	@$(MAKE) --no-print-directory cross-test TARGET=armv6
	@$(MAKE) --no-print-directory cross-test TARGET=aarch64
	tests/package/run.sh $(BUILD) $(VERSION) $(foreach t,$(ALL_TARGETS),$(t)=$(BUILD)/$(t)$(V)/roost_$(VERSION)_$(debarch_$(t)).deb)

# make bench: the core's costs, then Roost side by side with Node ws,
# Socket.IO and mosquitto under roost-bench (a few minutes; bench-full: the
# long version). Installs mosquitto and the peers' npm packages first.
bench: bench-build
	$(BUILD)/bench-host$(V)/bench/roost-core-bench $(BUILD)/bench/core.json
	/usr/bin/python3 bench/compare.py $(BUILD)/bench-host$(V)
	/usr/bin/python3 bench/persist_bench.py $(BUILD)/bench-host$(V) --out $(BUILD)/bench/persist.json
	/usr/bin/python3 bench/mqtt_bench.py $(BUILD)/bench-host$(V) --out $(BUILD)/bench/mqtt.json

bench-full: bench-build
	$(BUILD)/bench-host$(V)/bench/roost-core-bench $(BUILD)/bench/core.json
	/usr/bin/python3 bench/compare.py $(BUILD)/bench-host$(V) --full
	/usr/bin/python3 bench/persist_bench.py $(BUILD)/bench-host$(V) --seconds 10 --out $(BUILD)/bench/persist.json
	/usr/bin/python3 bench/mqtt_bench.py $(BUILD)/bench-host$(V) --count 20000 --out $(BUILD)/bench/mqtt.json

.PHONY: bench-build bench-full
bench-build: deps-host
	@cmake/install-packages.sh bench
	@command -v npm >/dev/null 2>&1 || cmake/install-packages.sh node
	@cd bench/peers && npm ci --silent --no-audit --no-fund
	$(call roost_build,bench-host,host,-DCMAKE_BUILD_TYPE=Release -DROOST_BUILD_TESTS=OFF -DROOST_BUILD_BENCH=ON)
	@mkdir -p $(BUILD)/bench

# Both event loops, release builds, against 0 to 9,000 idle WebSockets: ping
# round trips (p50/p99), server CPU per round trip, RSS. build/bench/loop.json.
# A few minutes; BENCH_LOOP_ARGS="--counts 0,1000 --pings 500" for a quick run.
BENCH_LOOP_ARGS ?=
bench-loop:
	@$(MAKE) --no-print-directory deps-host ROOST_WITH_LIBUV=OFF
	@$(MAKE) --no-print-directory deps-host ROOST_WITH_LIBUV=ON
	@$(MAKE) --no-print-directory bench-loop-build ROOST_WITH_LIBUV=OFF
	@$(MAKE) --no-print-directory bench-loop-build ROOST_WITH_LIBUV=ON
	@mkdir -p $(BUILD)/bench
	/usr/bin/python3 bench/loop_bench.py --out $(BUILD)/bench/loop.json $(BENCH_LOOP_ARGS) \
	    poll=$(BUILD)/bench-loop-poll/roost libuv=$(BUILD)/bench-loop/roost

.PHONY: bench-loop-build
bench-loop-build:
	$(call roost_build,bench-loop,host,-DCMAKE_BUILD_TYPE=Release -DROOST_BUILD_TESTS=OFF)

# make fuzz: every libFuzzer target (tests/fuzz/) for FUZZ_S seconds each
# (FUZZ_SECONDS is the older name), as many at once as there are cores,
# from the committed seeds; new inputs go to build/fuzz/corpus, failing ones
# to build/fuzz/crashes with the command that replays them. FUZZ_TARGETS
# picks some (decode http settings journal mqtt). make fuzz-merge adds to the
# committed seeds what the runs found that reaches new code (minimized).
# `make test` runs each for about 20 s (ctest fuzz_short).
FUZZ_S ?= $(if $(FUZZ_SECONDS),$(FUZZ_SECONDS),300)
FUZZ_TARGETS ?=
fuzz-build: deps-host
	@cmake/install-packages.sh fuzz
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD)/fuzz$(V) $(CMAKE_GEN) \
	    -DCMAKE_PREFIX_PATH=$(ROOT)/$(BUILD)/deps/host$(V) -DROOST_WITH_LIBUV=$(ROOST_WITH_LIBUV) \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOST_FUZZ=ON -DROOST_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD)/fuzz$(V) --target fuzz_targets

fuzz: fuzz-build
	tests/fuzz/run_fuzz.sh $(BUILD)/fuzz$(V) $(FUZZ_S) $(FUZZ_TARGETS)

fuzz-merge:
	tests/fuzz/run_fuzz.sh --merge $(BUILD)/fuzz$(V) $(FUZZ_TARGETS)

# make soak: the chaos soak (tests/e2e/test_soak.py) against the ASan build
# with a data directory, for SOAK_S seconds: random clients, a kill -9 and a
# restart every 2 minutes, SIGTERM at the end, invariants checked all along;
# SOAK_SEED=N replays the choices of a failed run. `make test` runs 60 s of
# it (ctest e2e_soak).
SOAK_S ?= 600
SOAK_SEED ?=
soak: deps-host
	@cmake/install-packages.sh test
	$(call roost_build,asan,host,-DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOST_SANITIZE=ON -DROOST_BUILD_TESTS=ON -DROOST_FUZZ_DIR=$(ROOT)/$(BUILD)/fuzz$(V))
	/usr/bin/python3 tests/e2e/test_soak.py $(BUILD)/asan$(V)/roost --seconds $(SOAK_S) $(if $(SOAK_SEED),--seed $(SOAK_SEED))

# The full testssl.sh scan (every check, each cipher alone, GREASE) of the
# release binary's HTTPS port on 127.0.0.1, offline; a couple of minutes.
# `make test` runs the short form (e2e_tls_scan). Policy: docs/tls.md.
tls-scan: all
	@cmake/install-packages.sh test
	/usr/bin/python3 tests/e2e/test_tls_scan.py $(BUILD)/host$(V)/roost --full

clean:
	rm -rf $(foreach d,host asan bench-host bench-loop fuzz $(CROSS_TARGETS),$(BUILD)/$(d) $(BUILD)/$(d)-poll)

distclean:
	rm -rf $(BUILD)
