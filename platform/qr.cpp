#include "platform/qr.h"

#include <qrencode.h>

#include <memory>

namespace roost {
namespace {

constexpr int kQuietZone = 2; // modules on each side
constexpr int kPbmScale = 4;  // pixels per module

struct QrFree {
    void operator()(QRcode* c) const { QRcode_free(c); }
};
using QrPtr = std::unique_ptr<QRcode, QrFree>;

// QRcode_encodeData takes the bytes as they are (no NUL needed, no mode
// guessing), so what the phone reads is exactly `text`.
QrPtr encode(std::string_view text) {
    if (text.empty() || text.size() > kQrMaxBytes) {
        return nullptr;
    }
    return QrPtr(QRcode_encodeData(static_cast<int>(text.size()),
                                   reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
}

// Modules across the symbol plus its quiet zone.
int side(const QRcode& c) { return c.width + 2 * kQuietZone; }

// Module (x, y) of the symbol plus quiet zone is dark (bit 0 of libqrencode's
// module byte); the quiet zone is light.
bool dark(const QRcode& c, int x, int y) {
    x -= kQuietZone;
    y -= kQuietZone;
    if (x < 0 || y < 0 || x >= c.width || y >= c.width) {
        return false;
    }
    return (c.data[y * c.width + x] & 1) != 0;
}

} // namespace

std::string qr_terminal(std::string_view text) {
    const QrPtr code = encode(text);
    if (!code) {
        return {};
    }
    const QRcode& c = *code;
    const int n = side(c);
    std::string out;
    out.reserve(static_cast<std::size_t>((n + 1) / 2 * (n * 3 + 1)));
    for (int y = 0; y < n; y += 2) {
        for (int x = 0; x < n; ++x) {
            const bool top = !dark(c, x, y);
            const bool bottom = y + 1 < n && !dark(c, x, y + 1);
            out += top ? (bottom ? "\u2588" : "\u2580") : (bottom ? "\u2584" : " ");
        }
        out += '\n';
    }
    return out;
}

bool qr_pbm(std::string_view text, std::string& pbm_out) {
    pbm_out.clear();
    const QrPtr code = encode(text);
    if (!code) {
        return false;
    }
    const QRcode& c = *code;
    const int px = side(c) * kPbmScale;
    const std::size_t row_bytes = static_cast<std::size_t>((px + 7) / 8);
    pbm_out = "P4\n" + std::to_string(px) + " " + std::to_string(px) + "\n";
    const std::size_t header = pbm_out.size();
    pbm_out.resize(header + row_bytes * static_cast<std::size_t>(px), '\0');
    for (int y = 0; y < px; ++y) {
        for (int x = 0; x < px; ++x) {
            if (dark(c, x / kPbmScale, y / kPbmScale)) {
                const std::size_t at = header + static_cast<std::size_t>(y) * row_bytes + static_cast<std::size_t>(x / 8);
                pbm_out[at] = static_cast<char>(pbm_out[at] | (0x80 >> (x % 8)));
            }
        }
    }
    return true;
}

} // namespace roost
