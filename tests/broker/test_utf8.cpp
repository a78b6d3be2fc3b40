// Tests for broker/utf8.cpp: table-driven over the edges of every sequence
// length, and an exhaustive cross-check of all 1- to 3-byte inputs against
// a straightforward decoder.
#include "broker/utf8.h"

#include "tests/support/unit.h"

#include <string>
#include <vector>

namespace {

struct Case {
    std::string bytes;
    bool valid;
    const char* what;
};

void table(void**) {
    const std::vector<Case> cases = {
        {"", true, "empty"},
        {"hello", true, "ASCII"},
        {std::string("a\0b", 3), true, "NUL is a code point"},
        {"0123456789abcdefghijklmnop", true, "ASCII longer than one word"},
        {"\x7F", true, "DEL"},
        {"\xC2\x80", true, "U+0080"},
        {"\xDF\xBF", true, "U+07FF"},
        {"\xE0\xA0\x80", true, "U+0800"},
        {"\xED\x9F\xBF", true, "U+D7FF"},
        {"\xEE\x80\x80", true, "U+E000"},
        {"\xEF\xBF\xBF", true, "U+FFFF"},
        {"\xF0\x90\x80\x80", true, "U+10000"},
        {"\xF4\x8F\xBF\xBF", true, "U+10FFFF"},
        {"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x90\xA6", true, "mixed"},
        {"\xC0\xAF", false, "overlong '/' (C0 AF)"},
        {"\xC1\xBF", false, "overlong (C1)"},
        {"\xE0\x80\xAF", false, "3-byte overlong"},
        {"\xE0\x9F\xBF", false, "3-byte overlong U+07FF"},
        {"\xF0\x80\x80\xAF", false, "4-byte overlong"},
        {"\xF0\x8F\xBF\xBF", false, "4-byte overlong U+FFFF"},
        {"\xED\xA0\x80", false, "surrogate U+D800"},
        {"\xED\xBF\xBF", false, "surrogate U+DFFF"},
        {"\xED\xA0\xBD\xED\xB2\xA9", false, "CESU-8 pair"},
        {"\xF4\x90\x80\x80", false, "U+110000"},
        {"\xF5\x80\x80\x80", false, "F5"},
        {"\xF8\x88\x80\x80\x80", false, "5-byte sequence"},
        {"\xFC\x84\x80\x80\x80\x80", false, "6-byte sequence"},
        {"\xFE", false, "FE"},
        {"\xFF", false, "FF"},
        {"\x80", false, "lone continuation"},
        {"a\xBF", false, "stray continuation"},
        {"\xC2", false, "truncated 2-byte"},
        {"\xE2\x82", false, "truncated 3-byte"},
        {"\xF0\x9F\x90", false, "truncated 4-byte"},
        {"\xC2\x41", false, "2-byte with ASCII second"},
        {"\xE2\x28\xA1", false, "3-byte bad second"},
        {"\xE2\x82\x28", false, "3-byte bad third"},
        {"\xF0\x9F\x28\xA6", false, "4-byte bad third"},
        {"\xF0\x9F\x90\x28", false, "4-byte bad fourth"},
        {"abcdefg\xC3", false, "truncated after a word of ASCII"},
        {"abcdefgh\xC3\xA9", true, "multibyte after a word of ASCII"},
    };
    for (const Case& c : cases) {
        if (roost::utf8_valid(c.bytes.data(), c.bytes.size()) != c.valid) {
            fail_msg("%s: expected %s", c.what, c.valid ? "valid" : "invalid");
        }
    }
}

// The reference: decode one code point the long way and range-check it.
bool reference_valid(const unsigned char* s, size_t n) {
    size_t i = 0;
    while (i < n) {
        const unsigned b = s[i];
        size_t len;
        unsigned cp;
        if (b < 0x80) {
            len = 1;
            cp = b;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2;
            cp = b & 0x1F;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3;
            cp = b & 0x0F;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4;
            cp = b & 0x07;
        } else {
            return false;
        }
        if (n - i < len) return false;
        for (size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        static const unsigned min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

void exhaustive_up_to_three_bytes(void**) {
    unsigned char buf[3];
    for (unsigned a = 0; a < 256; ++a) {
        buf[0] = static_cast<unsigned char>(a);
        assert_int_equal(roost::utf8_valid(reinterpret_cast<char*>(buf), 1), reference_valid(buf, 1));
        for (unsigned b = 0; b < 256; ++b) {
            buf[1] = static_cast<unsigned char>(b);
            assert_int_equal(roost::utf8_valid(reinterpret_cast<char*>(buf), 2), reference_valid(buf, 2));
            if (a < 0xC0) continue; // a third byte only matters after a lead byte
            for (unsigned c = 0; c < 256; ++c) {
                buf[2] = static_cast<unsigned char>(c);
                if (roost::utf8_valid(reinterpret_cast<char*>(buf), 3) != reference_valid(buf, 3)) {
                    fail_msg("%02x %02x %02x", a, b, c);
                }
            }
        }
    }
}

void every_four_byte_lead_edge(void**) {
    // Second-byte edges of every 4-byte lead, with valid continuations.
    for (unsigned a = 0xF0; a <= 0xFF; ++a) {
        for (unsigned b = 0x70; b <= 0xC0; ++b) {
            const unsigned char s[4] = {static_cast<unsigned char>(a), static_cast<unsigned char>(b), 0x80, 0xBF};
            if (roost::utf8_valid(reinterpret_cast<const char*>(s), 4) != reference_valid(s, 4)) {
                fail_msg("%02x %02x 80 bf", a, b);
            }
        }
    }
}

void string_view_overload(void**) {
    assert_true(roost::utf8_valid(std::string_view("\xE2\x82\xAC")));
    assert_false(roost::utf8_valid(std::string_view("\xE2\x82")));
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(exhaustive_up_to_three_bytes),
        cmocka_unit_test(every_four_byte_lead_edge),
        cmocka_unit_test(string_view_overload),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
