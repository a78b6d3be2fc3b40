# Cross toolchain: RISC-V boards (VisionFive 2, Milk-V, ...).
# Debian packages: gcc-riscv64-linux-gnu g++-riscv64-linux-gnu libc6-dev-riscv64-cross qemu-user-static
set(ROOST_TRIPLE riscv64-linux-gnu)
set(ROOST_QEMU qemu-riscv64-static)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
