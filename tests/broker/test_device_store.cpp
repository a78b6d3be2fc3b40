// Tests for broker/device_store.cpp's reading of numbers in a reading's
// `data`: the fast path gives exactly what strtod gives, bit for bit, and
// what is not a JSON number is refused as before; restore_bucket refuses
// buckets that do not hold together.
#include "broker/device_store.h"
#include "tests/support/unit.h"

#include <cmath>
#include <cstdlib>

namespace {

struct Got {
    double number = 0;
    int calls = 0;
};

void on_value(void* ctx, std::string_view, roost::ValueType, double number, bool, std::string_view) {
    auto& g = *static_cast<Got*>(ctx);
    g.number = number;
    ++g.calls;
}

// parse_data's number for {"k":text}, or false when refused.
bool number_of(const std::string& text, double& out) {
    const std::string json = "{\"k\":" + text + "}";
    char scratch[64];
    Got g;
    if (!roost::parse_data(json, scratch, sizeof scratch, on_value, &g) || g.calls != 1) return false;
    out = g.number;
    return true;
}

void numbers_equal_strtod_bit_for_bit(void**) {
    const char* const texts[] = {
        "0", "-0", "1", "-1", "21.5", "0.1", "0.2", "0.3", "1013.25", "3.31", "-40.125", "123456789012345",
        "1234567890123456", "12345678901234567", "0.000001", "1e22", "1e23", "1e-22", "1e-23", "9007199254740993",
        "4.35", "1.7976931348623157e308", "2.2250738585072014e-308", "5e-324", "1E5", "1e+5", "-2.5e3",
        "0.30000000000000004", "100000000000000000000000", "3.4028234663852886e38", "123.456e-7", "7e22", "8e-22"};
    for (const char* t : texts) {
        double got = 0;
        assert_true(number_of(t, got));
        const double want = std::strtod(t, nullptr);
        if (std::memcmp(&got, &want, sizeof got) != 0) fail_msg("%s: %.17g, strtod %.17g", t, got, want);
    }
    // Pseudo-random decimals of up to 15 digits and every exponent near the
    // fast path's edges.
    std::uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char t[64];
        const int digits = static_cast<int>(x % 15) + 1;
        const int exp = static_cast<int>((x >> 8) % 60) - 30;
        std::snprintf(t, sizeof t, "%s%.*se%d", (x >> 20) & 1 ? "-" : "", digits,
                      std::to_string((x >> 24) % 1000000000000000ull + 1).c_str(), exp);
        double got = 0;
        assert_true(number_of(t, got));
        const double want = std::strtod(t, nullptr);
        if (std::memcmp(&got, &want, sizeof got) != 0) fail_msg("%s: %.17g, strtod %.17g", t, got, want);
    }
}

void what_is_not_a_number_is_refused(void**) {
    double v = 0;
    for (const char* t : {"", "-", ".5", "1.", "1e", "1e+", "--1", "1e400", "-1e400", "0x10", "nan", "inf", "1.2.3"}) {
        if (number_of(t, v)) fail_msg("%s was taken as %.17g", t, v);
    }
}

void restore_bucket_refuses_what_does_not_hold_together(void**) {
    roost::CoreLimits l;
    l.max_devices = 1;
    l.max_series = 1;
    roost::DeviceStore st(l);
    const std::uint32_t slot = 7, id = 120 * 1000 + slot; // archive 0: 120 buckets
    assert_true(st.restore_bucket(0, 0, slot, roost::Bucket{id, 1, 3, 4, 2}));
    assert_false(st.restore_bucket(0, 0, slot, roost::Bucket{id, 3, 1, 4, 2}));     // min > max
    assert_false(st.restore_bucket(0, 0, slot, roost::Bucket{id, 1, 3, 40, 2}));    // average above max
    assert_false(st.restore_bucket(0, 0, slot, roost::Bucket{id + 1, 1, 3, 4, 2})); // another slot's step
    assert_false(st.restore_bucket(0, 0, slot, roost::Bucket{id, 1, 3, 4, 0}));     // no readings
    assert_false(st.restore_bucket(0, 0, slot, roost::Bucket{id, NAN, 3, 4, 2}));
    assert_false(st.restore_bucket(0, 3, slot, roost::Bucket{id, 1, 3, 4, 2}));     // no such archive
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_equal_strtod_bit_for_bit),
        cmocka_unit_test(what_is_not_a_number_is_refused),
        cmocka_unit_test(restore_bucket_refuses_what_does_not_hold_together),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
