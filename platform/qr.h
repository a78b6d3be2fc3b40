// A QR code of a short text (the start-up banner's URL) for a phone to scan,
// drawn by libqrencode with error correction level M in 8-bit mode, with a
// 2-module light quiet zone around the symbol.
//
// Polarity: a module that must look light is drawn as ink. The Pi console
// and most terminals put light text on a dark background, so ink is the
// light colour there, and the symbol shows dark-on-light, as scanners read
// it; the terminal's dark background around the quiet zone is harmless. On
// a light terminal the symbol shows inverted, which not every scanner
// accepts: the URL is printed above it anyway.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace roost {

// No QR symbol holds more bytes than this (version 40, level L); at level M
// the limit is lower (2,331), which libqrencode reports.
inline constexpr std::size_t kQrMaxBytes = 2953;

// The symbol as terminal text: one line per two module rows, each character
// one module wide, using U+2580 '▀' (upper light), U+2584 '▄' (lower light),
// U+2588 '█' (both light) and ' ' (both dark), each line ending in '\n'.
// The symbol plus quiet zone has an odd number of rows, so the last line's
// lower half is left to the terminal's background. Empty when the text is
// empty, does not fit in a symbol, or libqrencode fails.
std::string qr_terminal(std::string_view text);

// The same symbol and quiet zone as a binary PBM image (P4, 4 pixels per
// module, dark modules black, normal polarity), for a scanner in the tests.
// False (and `pbm_out` empty) in the cases where qr_terminal is empty.
bool qr_pbm(std::string_view text, std::string& pbm_out);

} // namespace roost
