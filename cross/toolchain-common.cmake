# Shared part of the cross toolchain files. The includer sets ROOST_TRIPLE
# (e.g. aarch64-linux-gnu), ROOST_QEMU (e.g. qemu-aarch64-static, with any
# flags it needs) and CMAKE_SYSTEM_PROCESSOR. With ROOST_SYSROOT set (the
# Makefile sets it for aarch64, armhf and riscv64), the binaries are built
# for glibc 2.31 and later (cross/glibc-floor.cmake) and tested on it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${ROOST_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${ROOST_TRIPLE}-g++)

# Look for libraries and headers only in the target's sysroot and in the
# per-target dependency prefix (ROOST_DEPS_PREFIX), never on the build host.
set(CMAKE_FIND_ROOT_PATH /usr/${ROOST_TRIPLE})
if(ROOST_DEPS_PREFIX)
  list(APPEND CMAKE_FIND_ROOT_PATH "${ROOST_DEPS_PREFIX}")
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ROOST_DEPS_PREFIX ROOST_TRIPLE ROOST_QEMU ROOST_SYSROOT)

# Tests run under qemu-user, called explicitly (binfmt_misc may be absent),
# on the sysroot's glibc when there is one.
if(ROOST_SYSROOT)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${ROOST_QEMU} -L ${ROOST_SYSROOT}/usr/${ROOST_TRIPLE})
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR ${ROOST_QEMU} -L /usr/${ROOST_TRIPLE})
endif()

# 64-bit file offsets and inode numbers on 32-bit targets (armhf): without
# them readdir() and stat() fail with EOVERFLOW on filesystems with large
# inode numbers (seen under qemu-arm on an x86_64 host). Used by Roost and
# every dependency built with this toolchain; a no-op on 64-bit targets.
set(CMAKE_C_FLAGS_INIT "-D_FILE_OFFSET_BITS=64")
set(CMAKE_CXX_FLAGS_INIT "-D_FILE_OFFSET_BITS=64")

include(${CMAKE_CURRENT_LIST_DIR}/glibc-floor.cmake)
