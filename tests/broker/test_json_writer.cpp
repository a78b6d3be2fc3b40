// Tests for broker/json_writer.cpp: output of every value kind, escaping,
// automatic commas, number round trips, misuse, and overflow at every
// capacity (nothing is ever written past it).
#include "broker/json_writer.h"

#include "tests/support/unit.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

namespace {

std::string text(const roost::JsonWriter& w) { return std::string(w.view()); }

// The same document, used for the overflow sweep.
void write_sample(roost::JsonWriter& w) {
    w.begin_object();
    w.key("type");
    w.string("msg");
    w.key("seq");
    w.uint(18446744073709551615ULL);
    w.key("neg");
    w.integer(-42);
    w.key("ok");
    w.boolean(true);
    w.key("t");
    w.number(21.5);
    w.key("list");
    w.begin_array();
    w.uint(1);
    w.string("a\"b\\c\n");
    w.null();
    w.begin_object();
    w.end_object();
    w.begin_array();
    w.end_array();
    w.end_array();
    w.key("data");
    w.raw("{\"x\":1}");
    w.end_object();
}

const char kSample[] = "{\"type\":\"msg\",\"seq\":18446744073709551615,\"neg\":-42,\"ok\":true,\"t\":21.5,"
                       "\"list\":[1,\"a\\\"b\\\\c\\n\",null,{},[]],\"data\":{\"x\":1}}";

void writes_every_kind_with_commas(void**) {
    char buf[256];
    roost::JsonWriter w(buf, sizeof buf);
    write_sample(w);
    assert_true(w.ok());
    assert_false(w.overflow());
    assert_string_equal(text(w).c_str(), kSample);
    assert_int_equal(w.size(), sizeof kSample - 1);
}

void escapes(void**) {
    struct Case {
        std::string in;
        const char* out;
    };
    const std::vector<Case> cases = {
        {"plain", "\"plain\""},
        {"\"", "\"\\\"\""},
        {"\\", "\"\\\\\""},
        {"/", "\"/\""},
        {"\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\""},
        {std::string("\0", 1), "\"\\u0000\""},
        {"\x01\x1f", "\"\\u0001\\u001f\""},
        {"\x7f", "\"\x7f\""},
        {"caf\xC3\xA9 \xF0\x9F\x90\xA6", "\"caf\xC3\xA9 \xF0\x9F\x90\xA6\""},
        {"", "\"\""},
    };
    for (const Case& c : cases) {
        char buf[64];
        roost::JsonWriter w(buf, sizeof buf);
        w.string(c.in);
        assert_true(w.ok());
        assert_string_equal(text(w).c_str(), c.out);
    }
    char buf[64];
    roost::JsonWriter w(buf, sizeof buf);
    w.begin_object();
    w.key("k\"\n");
    w.uint(0);
    w.end_object();
    assert_string_equal(text(w).c_str(), "{\"k\\\"\\n\":0}");
}

void integers(void**) {
    struct Case {
        std::int64_t v;
        const char* out;
    };
    const std::vector<Case> cases = {
        {0, "0"},
        {-1, "-1"},
        {9007199254740993LL, "9007199254740993"},
        {std::numeric_limits<std::int64_t>::max(), "9223372036854775807"},
        {std::numeric_limits<std::int64_t>::min(), "-9223372036854775808"},
    };
    for (const Case& c : cases) {
        char buf[32];
        roost::JsonWriter w(buf, sizeof buf);
        w.integer(c.v);
        assert_string_equal(text(w).c_str(), c.out);
    }
    char buf[32];
    roost::JsonWriter w(buf, sizeof buf);
    w.uint(0);
    assert_string_equal(text(w).c_str(), "0");
}

void doubles_are_shortest_round_trip(void**) {
    struct Case {
        double v;
        const char* out; // nullptr: only check the round trip
    };
    const std::vector<Case> cases = {
        {0.0, "0"},          {-0.0, "-0"},       {1.0, "1"},         {21.5, "21.5"},    {-3.25, "-3.25"},
        {0.1, "0.1"},        {1e21, "1e+21"},    {1e-7, "1e-07"},    {123456789012345.0, "123456789012345"},
        {0.1 + 0.2, "0.30000000000000004"},      {5e-324, nullptr},  {1.7976931348623157e308, nullptr},
        {2.0 / 3.0, nullptr},
    };
    for (const Case& c : cases) {
        char buf[64];
        roost::JsonWriter w(buf, sizeof buf);
        w.number(c.v);
        assert_true(w.ok());
        const std::string s = text(w);
        if (c.out != nullptr && s != c.out) fail_msg("%.17g printed as %s, want %s", c.v, s.c_str(), c.out);
        const double back = std::strtod(s.c_str(), nullptr);
        if (back != c.v || std::signbit(back) != std::signbit(c.v)) fail_msg("%s does not read back", s.c_str());
        assert_true(s.size() <= 24);
    }
}

void nan_and_infinity_are_refused(void**) {
    for (double v : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
        char buf[64];
        roost::JsonWriter w(buf, sizeof buf);
        w.begin_array();
        w.number(v);
        assert_false(w.ok());
        assert_false(w.overflow());
        assert_string_equal(text(w).c_str(), "[");
    }
}

void misuse_is_not_ok(void**) {
    char buf[64];
    roost::JsonWriter w(buf, sizeof buf);
    w.begin_object();
    w.uint(1); // a member without a key
    assert_false(w.ok());

    w.reset();
    w.key("x"); // a key outside an object
    assert_false(w.ok());

    w.reset();
    w.begin_array();
    w.end_object(); // mismatched
    assert_false(w.ok());

    w.reset();
    w.end_array(); // nothing open
    assert_false(w.ok());

    w.reset();
    w.begin_object();
    w.key("a");
    w.end_object(); // key without value
    assert_false(w.ok());

    w.reset();
    w.uint(1);
    w.uint(2); // two top-level values
    assert_false(w.ok());

    w.reset();
    for (int i = 0; i <= roost::JsonWriter::kMaxDepth; ++i) w.begin_array();
    assert_false(w.ok());

    w.reset();
    for (int i = 0; i < roost::JsonWriter::kMaxDepth; ++i) w.begin_array();
    for (int i = 0; i < roost::JsonWriter::kMaxDepth; ++i) w.end_array();
    assert_true(w.ok());
    assert_int_equal(w.size(), 2 * roost::JsonWriter::kMaxDepth);
}

// At every capacity below the sample's size the writer overflows and leaves
// the bytes after the capacity untouched; at its size it fits exactly.
void overflow_never_writes_past_capacity(void**) {
    const size_t full = sizeof kSample - 1;
    for (size_t cap = 0; cap <= full; ++cap) {
        std::vector<char> buf(full + 16, '#');
        roost::JsonWriter w(buf.data(), cap);
        write_sample(w);
        for (size_t i = cap; i < buf.size(); ++i) {
            if (buf[i] != '#') fail_msg("capacity %zu: byte %zu written", cap, i);
        }
        assert_true(w.size() <= cap);
        assert_int_equal(w.overflow(), cap < full);
        assert_int_equal(w.ok(), cap == full);
        assert_int_equal(w.capacity(), cap);
    }
}

// An empty std::string_view has a null data pointer: writing it must not
// hand that pointer to memcpy (UBSan caught it on a data-only message).
void empty_views_are_fine(void**) {
    char buf[64];
    roost::JsonWriter w(buf, sizeof buf);
    w.begin_object();
    w.key("text");
    w.string(std::string_view());
    w.key("x");
    w.raw(std::string_view());
    w.uint(1);
    w.end_object();
    assert_true(w.size() > 0);
    assert_memory_equal(buf, "{\"text\":\"\"", 10);
}

void reset_reuses_the_buffer(void**) {
    char buf[4];
    roost::JsonWriter w(buf, sizeof buf);
    w.string("toolong");
    assert_true(w.overflow());
    w.reset();
    assert_false(w.overflow());
    w.boolean(false);
    assert_true(w.overflow());
    w.reset();
    w.boolean(true);
    assert_true(w.ok());
    assert_string_equal(text(w).c_str(), "true");
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_every_kind_with_commas),
        cmocka_unit_test(escapes),
        cmocka_unit_test(integers),
        cmocka_unit_test(doubles_are_shortest_round_trip),
        cmocka_unit_test(nan_and_infinity_are_refused),
        cmocka_unit_test(misuse_is_not_ok),
        cmocka_unit_test(overflow_never_writes_past_capacity),
        cmocka_unit_test(reset_reuses_the_buffer),
        cmocka_unit_test(empty_views_are_fine),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
