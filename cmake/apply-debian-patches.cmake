# cmake -DTARBALL=x.debian.tar.xz [-DEXTRA=dir] -P apply-debian-patches.cmake
# Applies debian/patches/series of TARBALL (when given), in order, to the
# current directory (an unpacked upstream tarball), then Roost's own patches
# for it (EXTRA/*.patch, in name order: fixes we need that the pinned release
# lacks, each saying where it comes from). Any patch that does not apply
# stops the build: a silently skipped CVE fix is worse than a failed build.
if(NOT TARBALL AND NOT EXTRA)
  message(FATAL_ERROR "TARBALL or EXTRA must be set")
endif()
# Idempotent: a tree patched before (the marker lists what) is left alone;
# new patches re-extract the tree first (cmake/deps: the download step
# depends on them).
set(marker "${CMAKE_CURRENT_SOURCE_DIR}/.roost-patched")
if(EXISTS "${marker}")
  message(STATUS "already patched: ${CMAKE_CURRENT_SOURCE_DIR}")
  return()
endif()
if(NOT TARBALL)
  set(series "")
else()
set(tmp "${CMAKE_CURRENT_BINARY_DIR}/.debian-patches")
file(REMOVE_RECURSE "${tmp}")
file(ARCHIVE_EXTRACT INPUT "${TARBALL}" DESTINATION "${tmp}")
file(STRINGS "${tmp}/debian/patches/series" series)
endif()
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
if(EXTRA)
  file(GLOB extra_patches "${EXTRA}/*.patch")
  list(SORT extra_patches)
  foreach(p IN LISTS extra_patches)
    execute_process(COMMAND patch -p1 --batch --forward --no-backup-if-mismatch -i "${p}"
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "Roost patch ${p} does not apply:\n${out}")
    endif()
    get_filename_component(n "${p}" NAME)
    message(STATUS "applied Roost patch ${n}")
  endforeach()
endif()
file(WRITE "${marker}" "patched by cmake/apply-debian-patches.cmake\n")
