// TLS memory: see tls_memory.h.
#include "platform/tls_memory.h"

#include "platform/page_slots.h"

#include <mbedtls/platform.h>
#include <mbedtls/ssl.h>

#include <cstdint>
#include <cstdlib>

#if !defined(MBEDTLS_PLATFORM_MEMORY)
#error "Roost's mbedTLS configuration must define MBEDTLS_PLATFORM_MEMORY (cmake/mbedtls_config.h)"
#endif

namespace roost {
namespace {

constexpr std::size_t kSmall = 4096; // at most this: the C heap
PageSlots g_slots;
bool g_installed = false;

void* tls_calloc(std::size_t n, std::size_t size) {
    if (size != 0 && n > SIZE_MAX / size) return nullptr;
    const std::size_t total = n * size;
    if (total > kSmall && total <= g_slots.slot_bytes()) {
        if (void* slot = g_slots.take()) {
            return slot; // zero pages
        }
    }
    return std::calloc(n, size);
}

void tls_free(void* p) {
    if (p != nullptr && g_slots.owns(p)) {
        g_slots.give_back(p);
    } else {
        std::free(p);
    }
}

} // namespace

void install_tls_memory(std::size_t slots) {
    if (g_installed) return;
    g_installed = true;
    // A record buffer is its content length plus header, IV and tag
    // (mbedTLS's private MBEDTLS_SSL_IN_BUFFER_LEN): 1 KiB covers them. A
    // larger request simply goes to the heap.
    const std::size_t content =
        MBEDTLS_SSL_IN_CONTENT_LEN > MBEDTLS_SSL_OUT_CONTENT_LEN ? MBEDTLS_SSL_IN_CONTENT_LEN : MBEDTLS_SSL_OUT_CONTENT_LEN;
    g_slots.reserve(slots, content + 1024);
    mbedtls_platform_set_calloc_free(tls_calloc, tls_free);
}

std::size_t tls_memory_in_use() { return g_slots.in_use(); }

} // namespace roost
