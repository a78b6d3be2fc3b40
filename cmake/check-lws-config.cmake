# cmake -DBINARY_DIR=<lws build dir> -P check-lws-config.cmake
# libwebsockets' configure "succeeds" even when its mbedTLS feature probes
# fail (for instance when mbedTLS was found through LWS_MBEDTLS_* variables
# instead of CMAKE_PREFIX_PATH); the library then misbehaves at run time.
# Refuse to build unless all twelve probes passed.
set(wanted md_setup net_init rsa_complete internal_aes_encrypt
    ssl_conf_alpn_protocols ssl_get_alpn_protocol ssl_conf_sni
    ssl_set_hs_ca_chain ssl_set_hs_own_cert ssl_set_hs_authmode
    ssl_set_verify x509_crt_parse_file)
file(GLOB_RECURSE cfg "${BINARY_DIR}/lws_config.h")
if(NOT cfg)
  message(FATAL_ERROR "lws_config.h not found under ${BINARY_DIR}")
endif()
list(GET cfg 0 cfg)
file(READ "${cfg}" text)
set(missing "")
foreach(f IN LISTS wanted)
  if(NOT text MATCHES "#define LWS_HAVE_mbedtls_${f}[\r\n]")
    list(APPEND missing ${f})
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "libwebsockets did not detect these mbedTLS functions: ${missing}\n"
          "(${cfg}); is mbedTLS's prefix in CMAKE_PREFIX_PATH?")
endif()
list(LENGTH wanted n)
message(STATUS "libwebsockets: all ${n} LWS_HAVE_mbedtls_* probes passed")
