// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
// every journal record: crc32c("123456789") == 0xE3069283. Table-driven,
// one byte at a time (the journal checksums a record once when it writes it
// and once at start-up, never on a read path).
#pragma once

#include <cstddef>
#include <cstdint>

namespace roost {

// Continues `crc` (0 to start) over `len` bytes at `data`.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t len);

} // namespace roost
