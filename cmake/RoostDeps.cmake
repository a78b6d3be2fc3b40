# Finds Roost's five dependencies as imported targets:
#   roost::mbedtls  (MbedTLS::mbedtls, mbedx509, mbedcrypto)
#   roost::lws      (libwebsockets, static, with its own link interface)
#   roost::cjson    (cJSON)
#   roost::qrencode (libqrencode, found by header and library: no package file)
#   roost::cmocka   (CMocka, only when tests are built)
#   roost::uv       (libuv, only with ROOST_WITH_LIBUV; lws must be built
#                    with LWS_WITH_LIBUV)
# By default they come from the superbuild prefix the Makefile puts on
# CMAKE_PREFIX_PATH; with ROOST_SYSTEM_DEPS=ON from the system (Buildroot,
# Yocto, OpenWrt, Debian packages), located the same way through their
# CMake package files.
find_package(MbedTLS 3.6 REQUIRED CONFIG)
find_package(libwebsockets REQUIRED CONFIG)
find_package(cJSON REQUIRED CONFIG)
if(ROOST_BUILD_TESTS)
  find_package(cmocka REQUIRED CONFIG)
endif()

add_library(roost::mbedtls INTERFACE IMPORTED)
target_link_libraries(roost::mbedtls INTERFACE MbedTLS::mbedtls MbedTLS::mbedx509 MbedTLS::mbedcrypto)

add_library(roost::lws INTERFACE IMPORTED)
if(TARGET websockets)
  target_link_libraries(roost::lws INTERFACE websockets ${LIBWEBSOCKETS_DEP_LIBS} roost::mbedtls)
else()
  target_link_libraries(roost::lws INTERFACE websockets_shared ${LIBWEBSOCKETS_DEP_LIBS} roost::mbedtls)
endif()

# libuv: the pinned static libuv.a (with its pthread/dl/rt) from the prefix's
# CMake package, never a system one; a system libuv through its package or by
# header and library.
if(ROOST_WITH_LIBUV)
  if(ROOST_SYSTEM_DEPS)
    find_package(libuv CONFIG QUIET)
  else()
    find_package(libuv CONFIG QUIET NO_CMAKE_SYSTEM_PATH NO_SYSTEM_ENVIRONMENT_PATH)
  endif()
  add_library(roost::uv INTERFACE IMPORTED)
  if(NOT ROOST_SYSTEM_DEPS AND TARGET libuv::uv_a)
    target_link_libraries(roost::uv INTERFACE libuv::uv_a)
  elseif(ROOST_SYSTEM_DEPS AND TARGET libuv::uv)
    target_link_libraries(roost::uv INTERFACE libuv::uv)
  elseif(ROOST_SYSTEM_DEPS)
    find_path(ROOST_UV_INCLUDE_DIR uv.h)
    find_library(ROOST_UV_LIBRARY NAMES uv)
    if(NOT ROOST_UV_INCLUDE_DIR OR NOT ROOST_UV_LIBRARY)
      message(FATAL_ERROR "ROOST_WITH_LIBUV: libuv not found; install libuv1-dev")
    endif()
    target_include_directories(roost::uv INTERFACE ${ROOST_UV_INCLUDE_DIR})
    target_link_libraries(roost::uv INTERFACE ${ROOST_UV_LIBRARY})
  else()
    message(FATAL_ERROR "ROOST_WITH_LIBUV: no libuv in the dependency prefix; build it "
            "with the option too (the Makefile builds it into build/deps/<target> by default)")
  endif()
  # (platform/server.cpp refuses to compile against an lws built without it.)
  target_link_libraries(roost::lws INTERFACE roost::uv)
endif()

add_library(roost::cjson INTERFACE IMPORTED)
target_link_libraries(roost::cjson INTERFACE cjson)
if(NOT ROOST_SYSTEM_DEPS)
  target_include_directories(roost::cjson INTERFACE ${CJSON_INCLUDE_DIRS})
endif()

# libqrencode installs only a pkg-config file, so it is found by its header
# and library. The pinned build takes the static library from the prefix and
# nothing else: a system libqrencode-dev must not slip in instead.
if(ROOST_SYSTEM_DEPS)
  find_path(ROOST_QRENCODE_INCLUDE_DIR qrencode.h)
  find_library(ROOST_QRENCODE_LIBRARY NAMES qrencode)
else()
  find_path(ROOST_QRENCODE_INCLUDE_DIR qrencode.h
            NO_CMAKE_SYSTEM_PATH NO_SYSTEM_ENVIRONMENT_PATH)
  find_library(ROOST_QRENCODE_LIBRARY NAMES libqrencode.a
               NO_CMAKE_SYSTEM_PATH NO_SYSTEM_ENVIRONMENT_PATH)
endif()
if(NOT ROOST_QRENCODE_INCLUDE_DIR OR NOT ROOST_QRENCODE_LIBRARY)
  message(FATAL_ERROR "libqrencode not found (qrencode.h: ${ROOST_QRENCODE_INCLUDE_DIR}, "
          "library: ${ROOST_QRENCODE_LIBRARY}); rebuild the dependencies or install libqrencode-dev")
endif()
# The static library guards its Reed-Solomon tables with a pthread mutex.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
add_library(roost::qrencode INTERFACE IMPORTED)
target_include_directories(roost::qrencode INTERFACE ${ROOST_QRENCODE_INCLUDE_DIR})
target_link_libraries(roost::qrencode INTERFACE ${ROOST_QRENCODE_LIBRARY} Threads::Threads)

if(ROOST_BUILD_TESTS)
  add_library(roost::cmocka INTERFACE IMPORTED)
  if(TARGET cmocka::cmocka)
    target_link_libraries(roost::cmocka INTERFACE cmocka::cmocka)
  else()
    target_link_libraries(roost::cmocka INTERFACE ${CMOCKA_LIBRARIES})
    target_include_directories(roost::cmocka INTERFACE ${CMOCKA_INCLUDE_DIR})
  endif()
endif()

# The pinned build must see the project's own mbedTLS configuration, the
# same one mbedTLS and libwebsockets were compiled with.
if(NOT ROOST_SYSTEM_DEPS)
  get_target_property(defs MbedTLS::mbedcrypto INTERFACE_COMPILE_DEFINITIONS)
  if(NOT defs MATCHES "roost_mbedtls_config\\.h")
    message(FATAL_ERROR "mbedTLS in the prefix was not built with Roost's "
            "MBEDTLS_CONFIG_FILE (got: ${defs}); rebuild the dependencies")
  endif()
endif()
