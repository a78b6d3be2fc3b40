# cmake -DTARBALL=x.debian.tar.xz -P apply-debian-patches.cmake
# Applies debian/patches/series of TARBALL, in order, to the current
# directory (an unpacked upstream tarball). Any patch that does not apply
# stops the build: a silently skipped CVE fix is worse than a failed build.
if(NOT TARBALL)
  message(FATAL_ERROR "TARBALL not set")
endif()
set(tmp "${CMAKE_CURRENT_BINARY_DIR}/.debian-patches")
file(REMOVE_RECURSE "${tmp}")
file(ARCHIVE_EXTRACT INPUT "${TARBALL}" DESTINATION "${tmp}")
file(STRINGS "${tmp}/debian/patches/series" series)
foreach(p IN LISTS series)
  string(REGEX REPLACE "#.*" "" p "${p}")
  string(STRIP "${p}" p)
  if(p STREQUAL "")
    continue()
  endif()
  execute_process(COMMAND patch -p1 --batch --forward --no-backup-if-mismatch
                          -i "${tmp}/debian/patches/${p}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "Debian patch ${p} does not apply:\n${out}")
  endif()
  message(STATUS "applied Debian patch ${p}")
endforeach()
file(REMOVE_RECURSE "${tmp}")
