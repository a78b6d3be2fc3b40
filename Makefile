# Roost's Makefile is a thin door onto CMake. Every target first installs the
# Debian packages it needs (cmake/install-packages.sh), fetches the pinned
# sources (cmake/fetch-sources.sh) and builds the dependencies for its
# target once (cmake/deps/, into build/deps/<target>); later runs reuse them.
#
#   make                          release binary at build/host/roost
#   make run [ARGS="--flags"]     build and run the broker (data in roost-data/)
#   make test                     ASan+UBSan build, every test through ctest
#   make cross TARGET=aarch64     build/aarch64/roost (also armhf, riscv64)
#   make cross-test TARGET=...    that build's unit tests under qemu-user
#   make bench                    benchmarks (release build), results in build/bench/
#   make fuzz [FUZZ_SECONDS=60]   libFuzzer run of the protocol decoder (clang)
#   make clean / distclean        remove Roost's builds / everything under build/

TARGET ?= aarch64
CROSS_TARGETS := aarch64 armhf riscv64
BUILD := build
ARGS ?=
ROOT := $(abspath .)
CMAKE_GEN := -G Ninja

ALL_TARGETS := host $(CROSS_TARGETS)
.PHONY: all run test cross cross-test clean distclean check-target bench fuzz \
        $(addprefix deps-,$(ALL_TARGETS)) $(addprefix packages-,$(ALL_TARGETS))
.DEFAULT_GOAL := all

toolchain = $(if $(filter host,$(1)),,-DCMAKE_TOOLCHAIN_FILE=$(ROOT)/cross/$(1).cmake -DROOST_DEPS_PREFIX=$(ROOT)/$(BUILD)/deps/$(1))

$(addprefix packages-,$(ALL_TARGETS)): packages-%:
	@cmake/install-packages.sh host $(if $(filter host,$*),,$*)

# deps-<target>: the pinned dependencies, built once per target.
$(addprefix deps-,$(ALL_TARGETS)): deps-%: packages-%
	@cmake/fetch-sources.sh $(BUILD)/sources
	@cmake -S cmake/deps -B $(BUILD)/deps-build/$* $(CMAKE_GEN) \
	    -DROOST_SOURCES_DIR=$(ROOT)/$(BUILD)/sources \
	    -DCMAKE_INSTALL_PREFIX=$(ROOT)/$(BUILD)/deps/$* $(call toolchain,$*) >/dev/null
	@cmake --build $(BUILD)/deps-build/$*

# roost_build(build dir, deps target, extra cmake args)
define roost_build
	@cmake -S . -B $(BUILD)/$(1) $(CMAKE_GEN) \
	    -DCMAKE_PREFIX_PATH=$(ROOT)/$(BUILD)/deps/$(2) $(call toolchain,$(2)) $(3) >/dev/null
	@cmake --build $(BUILD)/$(1)
endef

all: deps-host
	$(call roost_build,host,host,-DCMAKE_BUILD_TYPE=Release -DROOST_BUILD_TESTS=OFF)
	@echo "built $(BUILD)/host/roost"

run: all
	@mkdir -p roost-data
	$(BUILD)/host/roost --data roost-data $(ARGS)

test: deps-host
	@cmake/install-packages.sh test
	$(call roost_build,asan,host,-DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOST_SANITIZE=ON -DROOST_BUILD_TESTS=ON)
	cd $(BUILD)/asan && ctest --output-on-failure

check-target:
	@case " $(CROSS_TARGETS) " in *" $(TARGET) "*) ;; \
	  *) echo "TARGET must be one of: $(CROSS_TARGETS)" >&2; exit 2 ;; esac

cross: check-target
	@$(MAKE) --no-print-directory deps-$(TARGET)
	$(call roost_build,$(TARGET),$(TARGET),-DCMAKE_BUILD_TYPE=Release -DROOST_BUILD_TESTS=ON)
	@echo "built $(BUILD)/$(TARGET)/roost"

cross-test: cross
	cd $(BUILD)/$(TARGET) && ctest --output-on-failure -L unit

bench: deps-host
	$(call roost_build,bench-host,host,-DCMAKE_BUILD_TYPE=Release -DROOST_BUILD_TESTS=OFF -DROOST_BUILD_BENCH=ON)
	@mkdir -p $(BUILD)/bench
	$(BUILD)/bench-host/bench/roost-core-bench $(BUILD)/bench/core.json

FUZZ_SECONDS ?= 60

# A clang + libFuzzer + ASan/UBSan build of the decoder, run from the seed
# corpus; new inputs it finds are kept in build/fuzz/corpus.
fuzz: deps-host
	@cmake/install-packages.sh fuzz
	@CC=clang CXX=clang++ cmake -S . -B $(BUILD)/fuzz $(CMAKE_GEN) \
	    -DCMAKE_PREFIX_PATH=$(ROOT)/$(BUILD)/deps/host -DCMAKE_BUILD_TYPE=RelWithDebInfo -DROOST_BUILD_TESTS=ON >/dev/null
	@cmake --build $(BUILD)/fuzz --target fuzz_decode
	@mkdir -p $(BUILD)/fuzz/corpus/decode
	$(BUILD)/fuzz/tests/fuzz/fuzz_decode -max_total_time=$(FUZZ_SECONDS) -max_len=20000 \
	    $(BUILD)/fuzz/corpus/decode tests/fuzz/corpus/decode

clean:
	rm -rf $(BUILD)/host $(BUILD)/asan $(BUILD)/bench-host $(BUILD)/fuzz $(addprefix $(BUILD)/,$(CROSS_TARGETS))

distclean:
	rm -rf $(BUILD)
