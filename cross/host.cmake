# Toolchain of the host's release build (make, make deb TARGET=host): the
# machine's own gcc, built for glibc 2.31 and later against the sysroot in
# ROOST_SYSROOT (cross/glibc-floor.cmake). Not a cross build: the end-to-end
# tests run the binary directly. The Makefile uses it on amd64 and arm64
# hosts (Debian has bullseye sysroots for both); elsewhere `make` builds
# against the machine's own glibc.
execute_process(COMMAND gcc -print-multiarch OUTPUT_VARIABLE ROOST_TRIPLE OUTPUT_STRIP_TRAILING_WHITESPACE)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_CXX_COMPILER g++)
set(CMAKE_C_FLAGS_INIT "") # glibc-floor.cmake appends (CMake reads this file more than once)
set(CMAKE_CXX_FLAGS_INIT "")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ROOST_SYSROOT)
include(${CMAKE_CURRENT_LIST_DIR}/glibc-floor.cmake)
