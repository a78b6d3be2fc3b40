# Finds Roost's four dependencies as imported targets:
#   roost::mbedtls  (MbedTLS::mbedtls, mbedx509, mbedcrypto)
#   roost::lws      (libwebsockets, static, with its own link interface)
#   roost::cjson    (cJSON)
#   roost::cmocka   (CMocka, only when tests are built)
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

add_library(roost::cjson INTERFACE IMPORTED)
target_link_libraries(roost::cjson INTERFACE cjson)
if(NOT ROOST_SYSTEM_DEPS)
  target_include_directories(roost::cjson INTERFACE ${CJSON_INCLUDE_DIRS})
endif()

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
