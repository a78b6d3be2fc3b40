// What the journal's files share (platform/journal.cpp and
// platform/journal_devices.cpp): the file header's place and magic, and
// little-endian field access. Internal to the journal.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <unistd.h>

namespace roost::journal_file {

inline constexpr std::uint64_t kFileHeader = 4096; // two copies of the file header: at 0 and at 2048
inline constexpr std::size_t kHeaderCopy = 2048;
inline constexpr char kFileMagic[8] = {'R', 'O', 'O', 'S', 'T', 'J', 'N', 'L'};

inline void put32(char* p, std::uint32_t v) { std::memcpy(p, &v, 4); }
inline void put64(char* p, std::uint64_t v) { std::memcpy(p, &v, 8); }
inline std::uint32_t get32(const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}
inline std::uint64_t get64(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}

inline std::string errno_text(int e) { return std::strerror(e); }

// Reads `len` bytes at `off`; what lies past the end of the file reads as zeros.
inline bool read_at(int fd, char* out, std::size_t len, std::uint64_t off) {
    std::size_t got = 0;
    while (got < len) {
        const ssize_t n = pread(fd, out + got, len - got, static_cast<off_t>(off + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    std::memset(out + got, 0, len - got);
    return true;
}

} // namespace roost::journal_file
