// Writes the banner's QR code of TEXT as two images for a real scanner
// (tests/e2e/test_qr_decodes.sh runs zbarimg on them):
//   SYMBOL_PBM    qr_pbm's picture, normal polarity;
//   TERMINAL_PBM  qr_terminal's text as a light-on-dark terminal shows it:
//                 ink white, blanks and the screen around it black.
// usage: qr_pbm_main TEXT SYMBOL_PBM TERMINAL_PBM; exit 0, or 1 on failure.
#include "platform/qr.h"

#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr int kScale = 4;  // pixels per module, as qr_pbm
constexpr int kScreen = 4; // modules of dark screen around the text

bool write_file(const char* path, const std::string& bytes) {
    std::FILE* f = std::fopen(path, "wb");
    if (f == nullptr) {
        return false;
    }
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    return std::fclose(f) == 0 && ok;
}

// The terminal text as rows of modules, true where the screen shows ink:
// each character is its upper and lower module.
std::vector<std::vector<bool>> ink_of(const std::string& text) {
    std::vector<std::vector<bool>> rows(2);
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '\n') {
            rows.resize(rows.size() + 2);
            ++i;
            continue;
        }
        bool top = false;
        bool bottom = false;
        if (text[i] == ' ') {
            ++i;
        } else {
            const std::string ch = text.substr(i, 3);
            top = ch == "\u2588" || ch == "\u2580";
            bottom = ch == "\u2588" || ch == "\u2584";
            i += 3;
        }
        rows[rows.size() - 2].push_back(top);
        rows[rows.size() - 1].push_back(bottom);
    }
    rows.resize(rows.size() - 2);
    return rows;
}

std::string terminal_pbm(const std::string& text) {
    const std::vector<std::vector<bool>> ink = ink_of(text);
    const int modules = static_cast<int>(ink.at(0).size()) + 2 * kScreen;
    const int w = modules * kScale;
    const int h = (static_cast<int>(ink.size()) + 2 * kScreen) * kScale;
    const std::size_t row_bytes = static_cast<std::size_t>((w + 7) / 8);
    std::string out = "P4\n" + std::to_string(w) + " " + std::to_string(h) + "\n";
    const std::size_t header = out.size();
    out.resize(header + row_bytes * static_cast<std::size_t>(h), '\0');
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const int mx = x / kScale - kScreen;
            const int my = y / kScale - kScreen;
            const bool white = my >= 0 && mx >= 0 && my < static_cast<int>(ink.size()) &&
                               mx < static_cast<int>(ink[static_cast<std::size_t>(my)].size()) &&
                               ink[static_cast<std::size_t>(my)][static_cast<std::size_t>(mx)];
            if (!white) {
                const std::size_t at = header + static_cast<std::size_t>(y) * row_bytes + static_cast<std::size_t>(x / 8);
                out[at] = static_cast<char>(out[at] | (0x80 >> (x % 8)));
            }
        }
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: qr_pbm_main TEXT SYMBOL_PBM TERMINAL_PBM\n");
        return 1;
    }
    std::string symbol;
    const std::string text = roost::qr_terminal(argv[1]);
    if (!roost::qr_pbm(argv[1], symbol) || text.empty()) {
        std::fprintf(stderr, "qr_pbm_main: no QR code for that text\n");
        return 1;
    }
    if (!write_file(argv[2], symbol) || !write_file(argv[3], terminal_pbm(text))) {
        std::perror("qr_pbm_main");
        return 1;
    }
    return 0;
}
