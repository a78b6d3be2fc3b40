// Strict UTF-8 validation (RFC 3629, Unicode table 3-7).
//
// utf8_valid() returns true when the n bytes at p are well-formed UTF-8 and
// false otherwise: overlong forms (C0 AF, E0 80 AF, ...), the bytes C0, C1 and
// F5..FF, UTF-16 surrogates (U+D800..U+DFFF, ED A0..BF xx), code points above
// U+10FFFF, stray continuation bytes and sequences cut short by the end of the
// input are all refused. Nothing is repaired. NUL (0x00) is a valid code
// point; callers that refuse it check for it themselves. Pure: no allocation,
// no state; n == 0 is valid.
#pragma once

#include <cstddef>
#include <string_view>

namespace roost {

bool utf8_valid(const char* p, std::size_t n);

inline bool utf8_valid(std::string_view s) { return utf8_valid(s.data(), s.size()); }

} // namespace roost
