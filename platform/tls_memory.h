// TLS memory: mbedTLS allocates a 16 KiB input record buffer and a 4 KiB
// output buffer for every TLS connection (calloc), but an idle connection
// writes only the first few hundred bytes of them. Large mbedTLS
// allocations go to PageSlots (page_slots.h), so they cost RSS only where
// records were written, and give it back at close.
#pragma once

#include <cstddef>

namespace roost {

// Installs mbedTLS's calloc/free (MBEDTLS_PLATFORM_MEMORY) with `slots`
// slots for allocations above 4 KiB, up to one record buffer. Call once,
// before anything else uses mbedTLS; later calls do nothing.
void install_tls_memory(std::size_t slots);

// Slots lent out now (for /metrics and tests).
std::size_t tls_memory_in_use();

} // namespace roost
