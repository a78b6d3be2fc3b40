// Tests for broker/device_store.cpp: the archives' consolidation (min, sum,
// count, max per bucket), wrap-around, gaps, the tables' limits and their
// refusals (nothing changes), slot reuse, restore, the `data` parser and
// the archives setting's parser, the number fast path against strtod; and
// that a reading allocates nothing.
#include "broker/device_store.h"
#include "broker/tables.h"
#include "tests/support/alloc_counter.h"
#include "tests/support/unit.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using roost::Bucket;
using roost::DeviceStore;
using roost::Errc;
using roost::kNone;

constexpr std::uint64_t kMin = 60000, kHour = 3600000;
constexpr std::uint64_t kT0 = 1800000000000ull; // a whole hour

roost::CoreLimits limits() {
    roost::CoreLimits l;
    l.max_devices = 3;
    l.keys_per_device = 3;
    l.max_series = 4;
    l.max_data_string = 8;
    return l;
}

// The bucket of series `s` in archive `a` that holds `ts`, or nullptr when
// that slot holds another step (a gap).
const Bucket* bucket_at(const DeviceStore& st, std::uint32_t s, std::uint32_t a, std::uint64_t ts) {
    const Bucket& b = st.bucket(s, a, st.bucket_slot(a, ts));
    return b.id == ts / st.archives().a[a].step_ms ? &b : nullptr;
}

std::uint32_t series_of(const DeviceStore& st, std::uint32_t dev, const char* key) {
    const roost::Device& d = st.device(dev);
    for (std::uint32_t k = 0; k < d.nkeys; ++k) {
        const roost::DeviceKey& dk = st.key(dev, k);
        if (std::string(dk.name, dk.name_len) == key) return dk.series;
    }
    return kNone;
}

Errc take(DeviceStore& st, std::uint32_t room, const char* name, std::uint64_t ts, std::string_view data) {
    const char* why = nullptr;
    const Errc e = st.check(room, name, ts, data, why);
    if (e == Errc::ok) {
        DeviceStore::Taken t;
        st.take(room, name, ts, data, t);
    }
    return e;
}

void consolidates_min_avg_max(void**) {
    DeviceStore st(limits());
    assert_int_equal(take(st, 0, "kitchen", kT0 + 1000, R"({"temp":20.5})"), Errc::ok);
    assert_int_equal(take(st, 0, "kitchen", kT0 + 20000, R"({"temp":21.5})"), Errc::ok);
    assert_int_equal(take(st, 0, "kitchen", kT0 + 59999, R"({"temp":19})"), Errc::ok);
    assert_int_equal(take(st, 0, "kitchen", kT0 + kMin, R"({"temp":30})"), Errc::ok); // the next minute
    const std::uint32_t d = st.find(0, "KITCHEN"); // names compare case-insensitively
    assert_int_not_equal(d, kNone);
    const std::uint32_t s = series_of(st, d, "temp");
    assert_int_not_equal(s, kNone);
    const Bucket* m0 = bucket_at(st, s, 0, kT0);
    assert_non_null(m0);
    assert_true(m0->min == 19.0f && m0->max == 21.5f && m0->count == 3);
    assert_true(std::fabs(m0->sum / static_cast<float>(m0->count) - 61.0f / 3) < 1e-4);
    const Bucket* m1 = bucket_at(st, s, 0, kT0 + kMin);
    assert_true(m1 != nullptr && m1->min == 30.0f && m1->count == 1);
    // The 15-minute and 1-hour buckets hold all four.
    for (std::uint32_t a = 1; a < 3; ++a) {
        const Bucket* b = bucket_at(st, s, a, kT0);
        assert_true(b != nullptr && b->count == 4 && b->min == 19.0f && b->max == 30.0f);
    }
    // A minute without a reading is a gap, never a made-up value.
    assert_null(bucket_at(st, s, 0, kT0 + 2 * kMin));
    // Latest values of every type; interval from the posts' pace.
    assert_int_equal(take(st, 0, "kitchen", kT0 + 2 * kMin, R"({"temp":22,"door":"open","on":true})"), Errc::ok);
    const roost::Device& dev = st.device(d);
    assert_int_equal(dev.nkeys, 3);
    assert_int_equal(dev.last_ms, kT0 + 2 * kMin);
    assert_int_equal(dev.readings, 5);
    assert_true(dev.interval_ms > 0);
    assert_true(st.string_value(d, 1) == "open");
    assert_true(st.key(d, 2).type == roost::ValueType::boolean && st.key(d, 2).flag);
    assert_int_equal(series_of(st, d, "door"), roost::kNoSeries); // strings and booleans have no series
}

void wraps_around(void**) {
    DeviceStore st(limits());
    // 130 minutes of one reading a minute: archive 0 (120 buckets) wrapped.
    for (std::uint64_t m = 0; m < 130; ++m) {
        assert_int_equal(take(st, 1, "shed", kT0 + m * kMin, "{\"t\":" + std::to_string(m) + "}"), Errc::ok);
    }
    const std::uint32_t s = series_of(st, st.find(1, "shed"), "t");
    assert_null(bucket_at(st, s, 0, kT0 + 5 * kMin)); // overwritten by minute 125
    const Bucket* late = bucket_at(st, s, 0, kT0 + 125 * kMin);
    assert_true(late != nullptr && late->min == 125.0f);
    for (std::uint64_t m = 10; m < 130; ++m) assert_non_null(bucket_at(st, s, 0, kT0 + m * kMin));
    // The 15-minute archive still holds the first quarter hour whole.
    const Bucket* q = bucket_at(st, s, 1, kT0);
    assert_true(q != nullptr && q->count == 15 && q->min == 0.0f && q->max == 14.0f);
    // A reading after a long silence: the old slot reads as a gap, not as
    // the step a wrap ago.
    assert_int_equal(take(st, 1, "shed", kT0 + 250 * kMin, R"({"t":-1})"), Errc::ok);
    assert_null(bucket_at(st, s, 0, kT0 + 249 * kMin));
    assert_true(bucket_at(st, s, 0, kT0 + 250 * kMin)->count == 1);
    assert_int_equal(st.archive_for(2 * kHour), 0);
    assert_int_equal(st.archive_for(2 * kHour + 1), 1);
    assert_int_equal(st.archive_for(48 * kHour), 1);
    assert_int_equal(st.archive_for(30 * 24 * kHour), 2);
    assert_int_equal(st.archive_for(400 * 24 * kHour), 2); // the longest, for anything longer
}

// A snapshot of everything the store holds, to prove refusals change nothing.
std::string snapshot(const DeviceStore& st) {
    std::string out;
    for (std::uint32_t i = 0; i < st.capacity(); ++i) {
        const roost::Device& d = st.device(i);
        out.append(reinterpret_cast<const char*>(&d), sizeof d);
        for (std::uint32_t k = 0; k < d.nkeys; ++k) {
            const roost::DeviceKey& key = st.key(i, k);
            out.append(reinterpret_cast<const char*>(&key), sizeof key);
            out.append(st.string_value(i, k));
        }
    }
    for (std::uint32_t s = 0; s < st.series_capacity(); ++s) {
        out.append(reinterpret_cast<const char*>(&st.series(s)), sizeof(roost::Series));
        for (std::uint32_t a = 0; a < st.archives().n; ++a) {
            for (std::uint32_t slot = 0; slot < st.archives().a[a].count; ++slot) {
                out.append(reinterpret_cast<const char*>(&st.bucket(s, a, slot)), sizeof(Bucket));
            }
        }
    }
    return out;
}

void refusals_change_nothing(void**) {
    DeviceStore st(limits());
    assert_int_equal(take(st, 0, "a", kT0, R"({"x":1,"y":2})"), Errc::ok);
    assert_int_equal(take(st, 0, "b", kT0, R"({"x":1,"y":2})"), Errc::ok); // 4 series: all of them
    const std::string before = snapshot(st);
    const char* why = nullptr;
    // Keys: a third numeric key needs a fifth series.
    assert_int_equal(st.check(0, "a", kT0, R"({"z":3})", why), Errc::server_busy);
    assert_non_null(std::strstr(why, "max_series"));
    assert_true(snapshot(st) == before);
    // A fourth key per device (of three).
    assert_int_equal(take(st, 0, "a", kT0, R"({"s":"x"})"), Errc::ok); // strings need no series
    const std::string three = snapshot(st);
    assert_int_equal(st.check(0, "a", kT0, R"({"u":"v"})", why), Errc::server_busy);
    assert_non_null(std::strstr(why, "keys_per_device"));
    // A fourth device.
    assert_int_equal(take(st, 1, "c", kT0, R"({"s":"x"})"), Errc::ok);
    assert_int_equal(st.check(2, "d", kT0 + 1000, R"({"s":"x"})", why), Errc::server_busy);
    assert_non_null(std::strstr(why, "max_devices"));
    // Malformed data.
    for (const char* bad : {"", "{", "{}x", R"({"a":})", R"({"a":1,})", R"({"":1})", R"({"a":[1]})", R"({"a":{"b":1}})",
                            R"({"a":null})", R"({"a":1e999})", R"({"a":"\ud800"})", R"({"a":"\q"})", "[1]",
                            R"({"a":tru})", R"({"a":1 })", R"({"a":"123456789"})"}) {
        const std::string data(bad);
        if (data.empty()) continue; // no data: a device's text (check is not asked)
        if (st.check(0, "a", kT0, data, why) == Errc::ok) fail_msg("data %s was taken", bad);
    }
    assert_true(snapshot(st) != three); // the device "c" was taken after the third key
    const std::string now = snapshot(st);
    assert_int_equal(st.check(0, "a", kT0, R"({"u":"v"})", why), Errc::server_busy);
    assert_true(snapshot(st) == now); // check() never changes anything
}

void quiet_device_gives_its_slot_up(void**) {
    roost::CoreLimits l = limits();
    l.max_devices = 1;
    DeviceStore st(l);
    assert_int_equal(take(st, 0, "old", kT0, R"({"x":1})"), Errc::ok);
    const char* why = nullptr;
    const std::uint64_t span = st.archives().span_ms();
    assert_int_equal(st.check(0, "new", kT0 + span, R"({"x":1})", why), Errc::server_busy);
    // Quiet for longer than the longest archive: nothing of it is left to show.
    assert_int_equal(take(st, 0, "new", kT0 + span + 1, R"({"x":2})"), Errc::ok);
    assert_int_equal(st.find(0, "old"), kNone);
    const std::uint32_t d = st.find(0, "new");
    assert_int_equal(d, 0);
    const std::uint32_t s = series_of(st, d, "x");
    // Its series starts empty: nothing of the old device's buckets shows.
    assert_null(bucket_at(st, s, 2, kT0));
    assert_int_equal(st.device(d).readings, 1);
}

void stale_after_three_intervals(void**) {
    DeviceStore st(limits());
    for (int i = 0; i < 4; ++i) assert_int_equal(take(st, 0, "k", kT0 + static_cast<std::uint64_t>(i) * 10000, R"({"x":1})"), Errc::ok);
    const std::uint32_t d = st.find(0, "k");
    assert_int_equal(st.device(d).interval_ms, 10000);
    std::vector<std::uint32_t> stale;
    auto note = [&](std::uint32_t i) { stale.push_back(i); };
    st.sweep(kT0 + 30000 + 30000, 0, note);
    assert_true(stale.empty()); // exactly 3 intervals: not yet
    st.sweep(kT0 + 30000 + 30001, 0, note);
    assert_int_equal(stale.size(), 1);
    st.sweep(kT0 + 30000 + 90000, 0, note);
    assert_int_equal(stale.size(), 1); // once
    DeviceStore::Taken t;
    st.take(0, "k", kT0 + 200000, R"({"x":1})", t);
    assert_true(t.was_stale);
    assert_false(st.device(d).stale);
    // A configured time overrides the interval.
    stale.clear();
    st.sweep(kT0 + 200000 + 5001, 5000, note);
    assert_int_equal(stale.size(), 1);
    // One reading: no interval yet, never stale without a configured time.
    assert_int_equal(take(st, 1, "once", kT0, R"({"x":1})"), Errc::ok);
    assert_int_equal(DeviceStore::quiet_after(st.device(st.find(1, "once")), 0), 0);
}

void forget_room_and_restore(void**) {
    DeviceStore st(limits());
    assert_int_equal(take(st, 0, "a", kT0, R"({"x":1.5,"s":"hi"})"), Errc::ok);
    assert_int_equal(take(st, 1, "b", kT0, R"({"y":2})"), Errc::ok);
    // A copy through the restore_* calls, as the journal does at start.
    DeviceStore back(limits());
    for (std::uint32_t i = 0; i < st.capacity(); ++i) {
        const roost::Device& d = st.device(i);
        if (!d.used) continue;
        roost::DeviceKey keys[8];
        char strings[8 * 8] = {};
        for (std::uint32_t k = 0; k < d.nkeys; ++k) {
            keys[k] = st.key(i, k);
            const std::string_view v = st.string_value(i, k);
            std::memcpy(strings + k * 8, v.data(), v.size());
        }
        assert_true(back.restore_device(i, d, keys, strings));
    }
    for (std::uint32_t s = 0; s < st.series_capacity(); ++s) {
        if (!st.series(s).used) continue;
        assert_true(back.restore_series(s, st.series(s)));
        for (std::uint32_t a = 0; a < st.archives().n; ++a) {
            for (std::uint32_t slot = 0; slot < st.archives().a[a].count; ++slot) {
                // Empty buckets are not written, so not restored (refused).
                const Bucket& b = st.bucket(s, a, slot);
                if (b.id != 0) assert_true(back.restore_bucket(s, a, slot, b));
            }
        }
    }
    assert_true(snapshot(back) == snapshot(st));
    // Out of range or inconsistent records are refused.
    roost::Device bad = st.device(0);
    assert_false(back.restore_device(99, bad, nullptr, nullptr));
    bad.nkeys = 99;
    assert_false(back.restore_device(0, bad, nullptr, nullptr));
    // A key that a post could not have named (a quote: it would need
    // escaping wherever it is written).
    {
        roost::DeviceKey quoted[1] = {st.key(0, 0)};
        quoted[0].name[0] = '"';
        char strings[8] = {};
        roost::Device one = st.device(0);
        one.nkeys = 1;
        assert_false(back.restore_device(2, one, quoted, strings));
        quoted[0] = st.key(0, 0);
        assert_true(back.restore_device(2, one, quoted, strings)); // the same key, as written
    }
    assert_false(back.restore_series(99, st.series(0)));
    Bucket b = st.bucket(0, 0, st.bucket_slot(0, kT0));
    assert_false(back.restore_bucket(0, 0, 999, b));
    Bucket nan = b;
    nan.min = std::nanf("");
    assert_false(back.restore_bucket(0, 0, st.bucket_slot(0, kT0), nan));
    Bucket inverted = b;
    inverted.min = inverted.max + 1;
    assert_false(back.restore_bucket(0, 0, st.bucket_slot(0, kT0), inverted));
    Bucket elsewhere = b;
    assert_false(back.restore_bucket(0, 0, (st.bucket_slot(0, kT0) + 1) % 120, elsewhere)); // not its slot
    // A room's new history forgets its devices and frees their series.
    st.forget_room(0);
    assert_int_equal(st.find(0, "a"), kNone);
    assert_int_not_equal(st.find(1, "b"), kNone);
    assert_int_equal(take(st, 2, "c", kT0, R"({"p":1,"q":2,"r":3})"), Errc::ok); // 3 more series fit again
}

void extreme_numbers_stay_finite(void**) {
    DeviceStore st(limits());
    assert_int_equal(take(st, 0, "a", kT0, R"({"x":1e300})"), Errc::ok);
    assert_int_equal(take(st, 0, "a", kT0 + 1, R"({"x":1e300})"), Errc::ok);
    assert_int_equal(take(st, 0, "a", kT0 + 2, R"({"x":-1e300})"), Errc::ok);
    const Bucket* b = bucket_at(st, series_of(st, 0, "x"), 0, kT0);
    assert_true(b != nullptr && std::isfinite(b->min) && std::isfinite(b->max) && std::isfinite(b->sum));
    assert_true(b->min < 0 && b->max > 3e38f);
}

struct Seen {
    std::vector<std::string> keys, values;
};

void parses_data(void**) {
    char scratch[16];
    Seen seen;
    auto fn = [](void* ctx, std::string_view k, roost::ValueType t, double n, bool f, std::string_view s) {
        Seen& x = *static_cast<Seen*>(ctx);
        x.keys.emplace_back(k);
        x.values.push_back(t == roost::ValueType::number ? std::to_string(n)
                           : t == roost::ValueType::boolean ? (f ? "true" : "false")
                                                            : "'" + std::string(s) + "'");
    };
    assert_true(roost::parse_data(R"({"t":-2.5e3,"on":false,"s":"a\"\u00e9\n"})", scratch, sizeof scratch, fn, &seen));
    assert_int_equal(seen.keys.size(), 3);
    assert_true(seen.values[0] == std::to_string(-2500.0) && seen.values[1] == "false" &&
                seen.values[2] == "'a\"\xc3\xa9\n'");
    assert_true(roost::parse_data("{}", scratch, sizeof scratch, fn, &seen));
    // A string one byte past the scratch is refused, at the scratch it is taken.
    assert_true(roost::parse_data(R"({"s":"0123456789abcdef"})", scratch, 16, fn, &seen));
    assert_false(roost::parse_data(R"({"s":"0123456789abcdefg"})", scratch, 16, fn, &seen));
    // Keys: empty and longer than a nick are refused.
    assert_false(roost::parse_data(R"({"":1})", scratch, sizeof scratch, fn, &seen));
    assert_true(roost::parse_data(R"({"abcdefghijklmnopqrstuvwx":1})", scratch, sizeof scratch, fn, &seen));
    assert_false(roost::parse_data(R"({"abcdefghijklmnopqrstuvwxy":1})", scratch, sizeof scratch, fn, &seen));
}

void parses_archives(void**) {
    roost::ArchiveSet a;
    const char* why = nullptr;
    assert_true(roost::parse_archives("1m:2h,15m:48h,1h:30d", a, why));
    assert_int_equal(a.n, 3);
    assert_int_equal(a.a[0].step_ms, 60000);
    assert_int_equal(a.a[0].count, 120);
    assert_int_equal(a.a[1].count, 192);
    assert_int_equal(a.a[2].count, 720);
    assert_int_equal(a.buckets(), 1032);
    assert_true(roost::parse_archives("1s:1s", a, why)); // the smallest
    assert_int_equal(a.buckets(), 1);
    assert_true(roost::parse_archives("1s:100000s", a, why)); // the most buckets of one archive
    assert_false(roost::parse_archives("1s:100001s", a, why));
    for (const char* bad : {"", ",", "1m", "1m:", ":2h", "1m:2h,", "0s:1m", "999ms:1s", "1m:90s", "2m:1h,3m:1h",
                            "1m:1h,30s:1h", "1x:1h", "1m:1h,2m:2h,4m:4h,8m:8h,16m:16h", "-1m:1h", "1m:2h 15m:48h"}) {
        roost::ArchiveSet out;
        assert_false(roost::parse_archives(bad, out, why));
        assert_non_null(why);
    }
}

void a_reading_allocates_nothing(void**) {
    DeviceStore st(limits());
    assert_int_equal(take(st, 0, "k", kT0, R"({"a":1,"b":2,"s":"x"})"), Errc::ok);
    const std::uint64_t before = roost_test::alloc_count();
    for (std::uint64_t i = 1; i < 1000; ++i) {
        assert_int_equal(take(st, 0, "k", kT0 + i * 1000, R"({"a":1.5,"b":-2,"s":"yes"})"), Errc::ok);
        std::uint32_t n = 0;
        st.sweep(kT0 + i * 1000, 0, [&](std::uint32_t) { ++n; });
    }
    assert_int_equal(roost_test::alloc_count(), before);
}

// The `data` parser's number fast path, against strtod.
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(consolidates_min_avg_max),
        cmocka_unit_test(wraps_around),
        cmocka_unit_test(refusals_change_nothing),
        cmocka_unit_test(quiet_device_gives_its_slot_up),
        cmocka_unit_test(stale_after_three_intervals),
        cmocka_unit_test(forget_room_and_restore),
        cmocka_unit_test(extreme_numbers_stay_finite),
        cmocka_unit_test(parses_data),
        cmocka_unit_test(parses_archives),
        cmocka_unit_test(a_reading_allocates_nothing),
        cmocka_unit_test(numbers_equal_strtod_bit_for_bit),
        cmocka_unit_test(what_is_not_a_number_is_refused),
        cmocka_unit_test(restore_bucket_refuses_what_does_not_hold_together),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
