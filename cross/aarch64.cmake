# Cross toolchain: Raspberry Pi 3/4/5 with a 64-bit OS.
# Debian packages: crossbuild-essential-arm64 qemu-user-static
set(ROOST_TRIPLE aarch64-linux-gnu)
set(ROOST_QEMU qemu-aarch64-static)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
