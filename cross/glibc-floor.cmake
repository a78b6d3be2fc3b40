# The glibc floor: binaries built on Debian 12 (glibc 2.36, gcc 12) that run
# on glibc 2.31 and later (Debian and Raspberry Pi OS bullseye, Ubuntu 20.04).
# Included by a toolchain file after it sets CMAKE_C_COMPILER,
# CMAKE_CXX_COMPILER and ROOST_TRIPLE, when ROOST_SYSROOT names a sysroot made
# by cmake/fetch-sysroot.sh (bullseye's glibc 2.31 under usr/<triple>).
#
# - C library headers, crt files and libraries come from the sysroot only.
#   -nostdinc drops the compiler's built-in list, because a cross gcc always
#   searches its own /usr/<triple>/include (glibc 2.36) before any sysroot;
#   the list is rebuilt in gcc's order: its C++ headers, its own headers,
#   then the sysroot's. -B and -L put the sysroot's crt files and libraries
#   before the compiler's.
# - libstdc++ is linked statically: bullseye's libstdc++.so.6 (gcc 10) lacks
#   the GLIBCXX_3.4.29+ symbols that gcc 12's headers use. gcc 12's
#   libstdc++.a wants two glibc symbols newer than 2.31, which
#   platform/glibc_floor.cpp supplies (ROOST_GLIBC_FLOOR tells CMakeLists.txt).
# - libgcc_s.so.1 stays shared (bullseye's is linked, so nothing newer than
#   gcc 10's is used): the unwinder then is the system's, matched to its glibc.
# The ceiling is checked on the result (tests/package/check_binary.sh:
# objdump -T shows no GLIBC_ version above 2.31, no GLIBCXX_).
if(NOT ROOST_SYSROOT)
  return()
endif()
set(ROOST_GLIBC_FLOOR ON)
set(floor_root "${ROOST_SYSROOT}/usr/${ROOST_TRIPLE}")
if(NOT EXISTS "${floor_root}/include/stdio.h")
  message(FATAL_ERROR "ROOST_SYSROOT=${ROOST_SYSROOT}: no ${floor_root}/include/stdio.h "
          "(make it with cmake/fetch-sysroot.sh)")
endif()

# The compiler's own include directories, in its order: the C++ ones (from
# `g++ -v`) and gcc's private one (stddef.h, arm_neon.h, ...).
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE floor_gcc_include OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${CMAKE_CXX_COMPILER} -xc++ -E -v /dev/null
                OUTPUT_QUIET ERROR_VARIABLE floor_cxx_v)
string(REGEX REPLACE ".*#include <...> search starts here:\n(.*)\nEnd of search list.*" "\\1"
       floor_cxx_v "${floor_cxx_v}")
string(REPLACE "\n" ";" floor_cxx_v "${floor_cxx_v}")
set(floor_cxx_include "")
foreach(dir IN LISTS floor_cxx_v)
  string(STRIP "${dir}" dir)
  if(dir MATCHES "/c\\+\\+/")
    get_filename_component(dir "${dir}" REALPATH)
    string(APPEND floor_cxx_include " -isystem ${dir}")
  endif()
endforeach()
if(NOT IS_DIRECTORY "${floor_gcc_include}" OR floor_cxx_include STREQUAL "")
  message(FATAL_ERROR "glibc-floor: cannot find ${CMAKE_CXX_COMPILER}'s include directories")
endif()

set(floor_c_include "-nostdinc -isystem ${floor_gcc_include} -isystem ${floor_root}/include")
string(APPEND CMAKE_C_FLAGS_INIT " ${floor_c_include}")
string(APPEND CMAKE_CXX_FLAGS_INIT " -nostdinc ${floor_cxx_include} -isystem ${floor_gcc_include} -isystem ${floor_root}/include")
# -pthread: glibc 2.31 keeps pthread_once, which libstdc++.a calls, in
# libpthread (2.34 moved it into libc).
set(floor_link "--sysroot=${ROOST_SYSROOT} -B${floor_root}/lib/ -L${floor_root}/lib -Wl,-rpath-link=${floor_root}/lib -static-libstdc++ -pthread")
foreach(kind EXE SHARED MODULE)
  set(CMAKE_${kind}_LINKER_FLAGS_INIT "${floor_link}")
endforeach()
list(PREPEND CMAKE_FIND_ROOT_PATH "${floor_root}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ROOST_SYSROOT)
