// Tests for the banner's QR code. No decoder is linked here, so the terminal
// text is read back into modules and checked against libqrencode's own
// symbol for the same input (tests/e2e/test_qr_decodes.sh scans it for real).
#include "platform/qr.h"

#include <qrencode.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/unit.h"

namespace {

constexpr int kQuiet = 2;

// One terminal character read back: whether its upper and lower module show
// ink (ink is a light module, see platform/qr.h).
struct Cell {
    bool top;
    bool bottom;
};
using Grid = std::vector<std::vector<Cell>>; // [line][column]

Grid read_terminal(const std::string& text) {
    Grid grid(1);
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '\n') {
            grid.emplace_back();
            ++i;
        } else if (text[i] == ' ') {
            grid.back().push_back({false, false});
            ++i;
        } else {
            const std::string ch = text.substr(i, 3);
            if (ch == "\u2588") {
                grid.back().push_back({true, true});
            } else if (ch == "\u2580") {
                grid.back().push_back({true, false});
            } else if (ch == "\u2584") {
                grid.back().push_back({false, true});
            } else {
                fail_msg("unexpected byte 0x%02x at %zu", static_cast<unsigned>(text[i] & 0xff), i);
            }
            i += 3;
        }
    }
    assert_true(grid.back().empty()); // the text ends with '\n'
    grid.pop_back();
    return grid;
}

// libqrencode's symbol for `text`, encoded as qr_terminal does: 8-bit mode
// (QRcode_encodeString8bit is QRcode_encodeData on the string's bytes), M.
struct Symbol {
    QRcode* code;
    explicit Symbol(const std::string& text) : code(QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_M)) {
        assert_non_null(code);
    }
    ~Symbol() { QRcode_free(code); }
    Symbol(const Symbol&) = delete;
    Symbol& operator=(const Symbol&) = delete;
    int width() const { return code->width; }
    bool dark(int x, int y) const { return (code->data[y * code->width + x] & 1) != 0; }
};

// The line's characters from column `from` on, `count` of them, as text.
std::string chars(const Grid& g, std::size_t line, std::size_t from, std::size_t count) {
    std::string out;
    for (std::size_t x = from; x < from + count; ++x) {
        const Cell c = g.at(line).at(x);
        out += c.top ? (c.bottom ? "\u2588" : "\u2580") : (c.bottom ? "\u2584" : " ");
    }
    return out;
}

const char* const kUrls[] = {
    "http://192.168.1.23:8080/",
    "http://[fd00:1234:5678:9abc:def0:1234:5678:9abc]:8080/",
    "http://raspberrypi.local:8080/?room=kitchen-sensors&nick=a-rather-long-nickname-for-a-phone",
};

void size_follows_the_version_libqrencode_picks(void**) {
    for (const char* url : kUrls) {
        const Symbol sym(url);
        const Grid g = read_terminal(roost::qr_terminal(url));
        const std::size_t side = static_cast<std::size_t>(sym.width() + 2 * kQuiet);
        assert_int_equal(g.size(), (side + 1) / 2);
        for (const auto& line : g) {
            assert_int_equal(line.size(), side);
        }
    }
    // The first URL is short enough for version 2 (25 modules): 15 lines.
    assert_int_equal(Symbol(kUrls[0]).code->version, 2);
}

void every_module_is_libqrencodes_with_light_as_ink(void**) {
    for (const char* url : kUrls) {
        const Symbol sym(url);
        const Grid g = read_terminal(roost::qr_terminal(url));
        const int side = sym.width() + 2 * kQuiet;
        for (int y = 0; y < side; ++y) {
            for (int x = 0; x < side; ++x) {
                const int sx = x - kQuiet;
                const int sy = y - kQuiet;
                const bool in_symbol = sx >= 0 && sy >= 0 && sx < sym.width() && sy < sym.width();
                const bool ink = !(in_symbol && sym.dark(sx, sy));
                const Cell c = g[static_cast<std::size_t>(y / 2)][static_cast<std::size_t>(x)];
                if ((y % 2 == 0 ? c.top : c.bottom) != ink) {
                    fail_msg("%s: module (%d, %d) differs", url, x, y);
                }
            }
        }
        // The side is odd: the last line's lower half is the terminal's own.
        for (const Cell& c : g.back()) {
            assert_false(c.bottom);
        }
    }
}

// The finder patterns with their light separators, as the terminal shows
// them (two module rows per line; light is ink).
void finder_patterns_are_at_three_corners(void**) {
    const Symbol sym(kUrls[1]);
    const Grid g = read_terminal(roost::qr_terminal(kUrls[1]));
    const std::size_t w = static_cast<std::size_t>(sym.width());
    const char* const left[] = {
        " \u2584\u2584\u2584\u2584\u2584 \u2588",
        " \u2588   \u2588 \u2588",
        " \u2588\u2584\u2584\u2584\u2588 \u2588",
        "\u2584\u2584\u2584\u2584\u2584\u2584\u2584\u2588",
    };
    const char* const right[] = {
        "\u2588 \u2584\u2584\u2584\u2584\u2584 ",
        "\u2588 \u2588   \u2588 ",
        "\u2588 \u2588\u2584\u2584\u2584\u2588 ",
        "\u2588\u2584\u2584\u2584\u2584\u2584\u2584\u2584",
    };
    // Top: module rows 2..9 are lines 1..4. Bottom-left: the symbol's rows
    // w-7..w-1 are module rows w-5..w+1, lines (w-5)/2 on (w is odd).
    for (std::size_t i = 0; i < 4; ++i) {
        assert_string_equal(chars(g, 1 + i, 2, 8).c_str(), left[i]);
        assert_string_equal(chars(g, 1 + i, w - 6, 8).c_str(), right[i]);
        assert_string_equal(chars(g, (w - 5) / 2 + i, 2, 8).c_str(), left[i]);
    }
}

void quiet_zone_is_two_light_modules(void**) {
    for (const char* url : kUrls) {
        const Grid g = read_terminal(roost::qr_terminal(url));
        const std::size_t side = g[0].size();
        for (std::size_t x = 0; x < side; ++x) {
            assert_true(g.front()[x].top && g.front()[x].bottom); // rows 0 and 1
            assert_true(g.back()[x].top);                         // the last row
        }
        for (std::size_t line = 0; line < g.size(); ++line) {
            const std::size_t edges[] = {0, 1, side - 2, side - 1};
            for (std::size_t x : edges) {
                assert_true(g[line][x].top);
                assert_true(g[line][x].bottom || line + 1 == g.size());
            }
        }
    }
}

// Version 40 at level M holds 2,331 bytes in 8-bit mode; no symbol at all
// holds more than 2,953.
void empty_or_too_long_gives_nothing(void**) {
    const struct {
        std::size_t bytes;
        bool fits;
    } cases[] = {{0, false}, {1, true}, {2331, true}, {2332, false}, {2953, false}, {2954, false}, {100000, false}};
    for (const auto& c : cases) {
        const std::string text(c.bytes, 'a');
        const std::string out = roost::qr_terminal(text);
        std::string pbm = "stale";
        const bool pbm_ok = roost::qr_pbm(text, pbm);
        if (out.empty() == c.fits || pbm_ok != c.fits || pbm.empty() == c.fits) {
            fail_msg("%zu bytes: expected %s", c.bytes, c.fits ? "a symbol" : "nothing");
        }
    }
    // The largest symbol: 177 modules + quiet zone = 181 columns, 91 lines.
    const Grid g = read_terminal(roost::qr_terminal(std::string(2331, 'a')));
    assert_int_equal(g.size(), 91);
    assert_int_equal(g[0].size(), 181);
}

// Bytes pass through as they are: a NUL inside the text is encoded, not an end.
void text_is_taken_byte_for_byte(void**) {
    using namespace std::string_view_literals;
    assert_string_not_equal(roost::qr_terminal("ab\0c"sv).c_str(), roost::qr_terminal("ab"sv).c_str());
}

void pbm_is_the_same_symbol_at_four_pixels_per_module(void**) {
    const Symbol sym(kUrls[0]);
    std::string pbm;
    assert_true(roost::qr_pbm(kUrls[0], pbm));
    const int px = (sym.width() + 2 * kQuiet) * 4; // 116: 15 bytes per row
    const std::string header = "P4\n" + std::to_string(px) + " " + std::to_string(px) + "\n";
    const std::size_t row_bytes = static_cast<std::size_t>((px + 7) / 8);
    assert_int_equal(pbm.size(), header.size() + row_bytes * static_cast<std::size_t>(px));
    assert_memory_equal(pbm.data(), header.data(), header.size());
    for (int y = 0; y < px; ++y) {
        for (int x = 0; x < px; ++x) {
            const unsigned char byte = static_cast<unsigned char>(
                pbm[header.size() + static_cast<std::size_t>(y) * row_bytes + static_cast<std::size_t>(x / 8)]);
            const bool black = (byte >> (7 - x % 8) & 1) != 0;
            const int sx = x / 4 - kQuiet;
            const int sy = y / 4 - kQuiet;
            const bool dark = sx >= 0 && sy >= 0 && sx < sym.width() && sy < sym.width() && sym.dark(sx, sy);
            if (black != dark) {
                fail_msg("pixel (%d, %d) differs", x, y);
            }
        }
    }
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(size_follows_the_version_libqrencode_picks),
        cmocka_unit_test(every_module_is_libqrencodes_with_light_as_ink),
        cmocka_unit_test(finder_patterns_are_at_three_corners),
        cmocka_unit_test(quiet_zone_is_two_light_modules),
        cmocka_unit_test(empty_or_too_long_gives_nothing),
        cmocka_unit_test(text_is_taken_byte_for_byte),
        cmocka_unit_test(pbm_is_the_same_symbol_at_four_pixels_per_module),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
