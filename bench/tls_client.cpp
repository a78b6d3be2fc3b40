// The TLS client configuration and its socket callbacks (tls_client.h).
#include "tls_client.h"

#include <sys/socket.h>

#include <mbedtls/net_sockets.h>

#include <cerrno>
#include <cstdint>

namespace roost_bench {

TlsClient::TlsClient() {
    mbedtls_ssl_config_init(&conf_);
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
}

TlsClient::~TlsClient() {
    mbedtls_ssl_config_free(&conf_);
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
}

bool TlsClient::init() {
    if (mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, nullptr, 0) != 0) return false;
    if (mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        return false;
    }
    mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, &drbg_);
    return true;
}

namespace {

// The socket rides in the context pointer itself: Conn objects move when
// the connection table grows.
int fd_of(void* ctx) { return static_cast<int>(reinterpret_cast<std::intptr_t>(ctx)); }

int bio_send(void* ctx, const unsigned char* p, std::size_t n) {
    const ssize_t w = ::send(fd_of(ctx), p, n, MSG_NOSIGNAL);
    if (w >= 0) return static_cast<int>(w);
    return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
}

int bio_recv(void* ctx, unsigned char* p, std::size_t n) {
    const ssize_t r = ::recv(fd_of(ctx), p, n, 0);
    if (r >= 0) return static_cast<int>(r);
    return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
}

} // namespace

void set_socket(mbedtls_ssl_context* ssl, int fd) {
    mbedtls_ssl_set_bio(ssl, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd)), bio_send, bio_recv, nullptr);
}

} // namespace roost_bench
