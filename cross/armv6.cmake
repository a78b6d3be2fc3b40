# Cross toolchain: Raspberry Pi Zero, Zero W and Pi 1 (ARM1176JZF-S: ARMv6
# with VFPv2) under 32-bit Raspberry Pi OS, which also runs on every later Pi.
# Debian's armhf is ARMv7 with Thumb-2 (SIGILL on an ARM1176), so this is
# Debian's armel toolchain (libraries for ARMv5TE, soft-float calls) with
# Roost and its dependencies compiled for the ARM1176 in ARM mode, VFP
# instructions inside functions (-mfloat-abi=softfp keeps armel's calling
# convention). Linked statically: Raspberry Pi OS's libc is hard-float, which
# an armel program cannot load; a static one needs none (the price, and why
# the other targets are not static: docs/building.md).
# Debian packages: crossbuild-essential-armel qemu-user-static
set(ROOST_TRIPLE arm-linux-gnueabi)
# qemu's default ARM CPU accepts ARMv7 instructions and would hide them.
set(ROOST_QEMU qemu-arm-static -cpu arm1176)
set(CMAKE_SYSTEM_PROCESSOR arm)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
# -Wno-psabi: gcc notes that argument passing changed in gcc 7.1, which
# matters only when linking with code built by gcc 6 or older (none here).
set(roost_armv6 "-mcpu=arm1176jzf-s -mfpu=vfp -mfloat-abi=softfp -marm -Wno-psabi")
string(APPEND CMAKE_C_FLAGS_INIT " ${roost_armv6}")
string(APPEND CMAKE_CXX_FLAGS_INIT " ${roost_armv6}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(ROOST_STATIC_LIBC ON) # tests/CMakeLists.txt: malloc counting by --wrap
