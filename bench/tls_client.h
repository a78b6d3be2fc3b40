// --tls: one mbedTLS client configuration shared by every connection (the
// broker's own library; the certificate is not verified: roost-bench
// measures, it does not authenticate).
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>

namespace roost_bench {

class TlsClient {
public:
    TlsClient();
    ~TlsClient();
    TlsClient(const TlsClient&) = delete;
    TlsClient& operator=(const TlsClient&) = delete;
    // Seeds the generator and sets TLS client defaults; false on failure.
    bool init();
    const mbedtls_ssl_config* conf() const { return &conf_; }

private:
    mbedtls_ssl_config conf_;
    mbedtls_entropy_context entropy_;
    mbedtls_ctr_drbg_context drbg_;
};

// Makes `ssl` read and write the non-blocking socket `fd` (EAGAIN becomes
// MBEDTLS_ERR_SSL_WANT_READ/WRITE).
void set_socket(mbedtls_ssl_context* ssl, int fd);

} // namespace roost_bench
