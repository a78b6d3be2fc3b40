# Cross toolchain: Raspberry Pi 2/3/4 with a 32-bit OS (ARMv7, hard float).
# Debian packages: crossbuild-essential-armhf qemu-user-static
set(ROOST_TRIPLE arm-linux-gnueabihf)
set(ROOST_QEMU qemu-arm-static)
set(CMAKE_SYSTEM_PROCESSOR arm)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
