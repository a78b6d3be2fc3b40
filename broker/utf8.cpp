#include "broker/utf8.h"

#include <cstdint>
#include <cstring>

namespace roost {

namespace {

// True when every one of the 8 bytes at p is ASCII: the common case of chat
// text and JSON punctuation, checked a word at a time.
bool ascii8(const unsigned char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return (w & 0x8080808080808080ULL) == 0;
}

bool cont(unsigned char b) { return (b & 0xC0) == 0x80; }

} // namespace

bool utf8_valid(const char* p, std::size_t n) {
    const auto* s = reinterpret_cast<const unsigned char*>(p);
    std::size_t i = 0;
    while (i < n) {
        if (n - i >= 8 && ascii8(s + i)) {
            i += 8;
            continue;
        }
        const unsigned char b = s[i];
        if (b < 0x80) {
            ++i;
            continue;
        }
        const std::size_t left = n - i;
        if (b >= 0xC2 && b <= 0xDF) { // U+0080..U+07FF (C0, C1 would be overlong)
            if (left < 2 || !cont(s[i + 1])) return false;
            i += 2;
        } else if (b >= 0xE0 && b <= 0xEF) { // U+0800..U+FFFF without surrogates
            if (left < 3) return false;
            const unsigned char b1 = s[i + 1];
            const unsigned char lo = b == 0xE0 ? 0xA0 : 0x80; // E0 80..9F: overlong
            const unsigned char hi = b == 0xED ? 0x9F : 0xBF; // ED A0..BF: surrogates
            if (b1 < lo || b1 > hi || !cont(s[i + 2])) return false;
            i += 3;
        } else if (b >= 0xF0 && b <= 0xF4) { // U+10000..U+10FFFF
            if (left < 4) return false;
            const unsigned char b1 = s[i + 1];
            const unsigned char lo = b == 0xF0 ? 0x90 : 0x80; // F0 80..8F: overlong
            const unsigned char hi = b == 0xF4 ? 0x8F : 0xBF; // F4 90..: above U+10FFFF
            if (b1 < lo || b1 > hi || !cont(s[i + 2]) || !cont(s[i + 3])) return false;
            i += 4;
        } else { // 80..BF stray continuation, C0/C1, F5..FF
            return false;
        }
    }
    return true;
}

} // namespace roost
