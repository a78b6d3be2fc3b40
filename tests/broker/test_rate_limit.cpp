// Tests for broker/rate_limit.cpp with FakeClock: token bucket arithmetic
// (burst, exact refill, cap, clock steps), the address table (independence,
// LRU replacement, a random run against a std::map + LRU list reference)
// and the error counter's window.
#include "broker/clock.h"
#include "broker/rate_limit.h"

#include <array>
#include <list>
#include <map>
#include <vector>

#include "tests/support/unit.h"

namespace {

using roost::AddressLimiter;
using roost::ErrorCounter;
using roost::TokenBucket;
using Addr = std::array<std::uint8_t, 16>;

// ::ffff:a.b.c.d
Addr v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return Addr{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

std::uint32_t below(roost::SplitMix& rng, std::uint64_t n) { return static_cast<std::uint32_t>(rng.next() % n); }

// How many of `tries` takes at the clock's current time succeed.
int take_n(TokenBucket& b, roost::FakeClock& clock, int tries, std::uint32_t rate, std::uint32_t burst) {
    int ok = 0;
    for (int i = 0; i < tries; ++i) ok += b.take(clock.now_ms(), rate, burst) ? 1 : 0;
    return ok;
}

void burst_then_refusal(void**) {
    roost::FakeClock clock;
    TokenBucket b;
    assert_int_equal(take_n(b, clock, 25, 10, 20), 20); // starts full
    assert_false(b.take(clock.now_ms(), 10, 20));
    assert_int_equal(b.ms_until_token(10), 100);

    TokenBucket none;
    assert_false(none.take(clock.now_ms(), 10, 0)); // burst 0 refuses everything
}

void refill_is_exact(void**) {
    // After draining the bucket, the next token arrives exactly after
    // ceil(1000 / rate) ms: 3 a second is 999 milli-tokens at 333 ms, 1002 at 334.
    struct Case {
        std::uint32_t rate, burst;
        std::uint64_t ms;
    };
    const Case cases[] = {{10, 5, 100}, {3, 2, 334}, {1, 1, 1000}, {7, 3, 143}, {1000, 4, 1}, {999, 1, 2}};
    roost::FakeClock clock;
    for (const Case& c : cases) {
        TokenBucket b;
        assert_int_equal(take_n(b, clock, 10, c.rate, c.burst), c.burst);
        assert_int_equal(b.ms_until_token(c.rate), c.ms);
        clock.advance(c.ms - 1);
        assert_false(b.take(clock.now_ms(), c.rate, c.burst));
        clock.advance(1);
        assert_true(b.take(clock.now_ms(), c.rate, c.burst));
        assert_false(b.take(clock.now_ms(), c.rate, c.burst));
    }
    // The remainder carries over: 1002 - 1000 = 2 milli-tokens left, so the
    // next token takes 998 / 3 -> 333 ms, not 334.
    TokenBucket c;
    assert_int_equal(take_n(c, clock, 2, 3, 2), 2);
    clock.advance(334);
    assert_true(c.take(clock.now_ms(), 3, 2));
    assert_int_equal(c.ms_until_token(3), 333);

    // No drift: polled every ms for 1,000 s at 7 a second, exactly
    // burst + 7,000 tokens are granted.
    TokenBucket d;
    int granted = 0;
    for (int ms = 0; ms < 1000000; ++ms) {
        granted += d.take(clock.now_ms(), 7, 3) ? 1 : 0;
        clock.advance(1);
    }
    assert_int_equal(granted, 3 + 7000 - 1); // the last ms's token is not yet earned
}

void long_idle_caps_at_burst(void**) {
    roost::FakeClock clock;
    TokenBucket b;
    assert_int_equal(take_n(b, clock, 10, 1000, 4), 4);
    clock.advance(3600 * 1000);
    assert_int_equal(take_n(b, clock, 10, 1000, 4), 4);
    clock.advance(1ULL << 62); // no overflow in elapsed x rate
    assert_int_equal(take_n(b, clock, 10, 0xffffffffu, 4), 4);
    clock.advance(1000);
    assert_int_equal(take_n(b, clock, 10, 0, 4), 0); // rate 0 never refills
    assert_int_equal(b.ms_until_token(0), UINT64_MAX);
}

void clock_stepping_back_refills_nothing(void**) {
    roost::FakeClock clock(1000000);
    TokenBucket b;
    assert_int_equal(take_n(b, clock, 3, 10, 3), 3);
    clock.set(500000);
    assert_false(b.take(clock.now_ms(), 10, 3));
    clock.advance(100); // measured from the new, earlier time
    assert_true(b.take(clock.now_ms(), 10, 3));
}

void smaller_burst_caps_the_bucket(void**) {
    roost::FakeClock clock;
    TokenBucket b;
    assert_true(b.take(clock.now_ms(), 10, 40)); // 39 left
    assert_int_equal(take_n(b, clock, 10, 10, 5), 5);
}

void addresses_are_independent(void**) {
    roost::FakeClock clock;
    AddressLimiter lim(8);
    const Addr a = v4(192, 168, 1, 10), b = v4(192, 168, 1, 11);
    for (int i = 0; i < 3; ++i) assert_true(lim.take(a.data(), clock.now_ms(), 1, 3));
    std::uint64_t retry = 0;
    assert_false(lim.take(a.data(), clock.now_ms(), 1, 3, &retry));
    assert_int_equal(retry, 1000);
    for (int i = 0; i < 3; ++i) assert_true(lim.take(b.data(), clock.now_ms(), 1, 3));
    assert_int_equal(lim.size(), 2);
    clock.advance(1000);
    assert_true(lim.take(a.data(), clock.now_ms(), 1, 3));
    assert_false(lim.take(a.data(), clock.now_ms(), 1, 3));
}

void full_table_replaces_least_recently_used(void**) {
    roost::FakeClock clock;
    AddressLimiter lim(3);
    const Addr a = v4(10, 0, 0, 1), b = v4(10, 0, 0, 2), c = v4(10, 0, 0, 3), d = v4(10, 0, 0, 4);
    assert_true(lim.take(a.data(), clock.now_ms(), 1, 1));
    assert_true(lim.take(b.data(), clock.now_ms(), 1, 1));
    assert_true(lim.take(c.data(), clock.now_ms(), 1, 1));
    assert_false(lim.take(a.data(), clock.now_ms(), 1, 1)); // a is now the most recent
    assert_true(lim.take(d.data(), clock.now_ms(), 1, 1));  // replaces b
    assert_int_equal(lim.size(), 3);
    assert_int_equal(lim.capacity(), 3);
    assert_false(lim.tracks(b.data()));
    assert_true(lim.tracks(a.data()) && lim.tracks(c.data()) && lim.tracks(d.data()));
    assert_true(lim.take(b.data(), clock.now_ms(), 1, 1)); // forgotten: full again; replaces c
    assert_false(lim.tracks(c.data()));
    assert_false(lim.take(a.data(), clock.now_ms(), 1, 1)); // a kept its empty bucket
}

// The reference: a map of buckets and a list in recency order.
void random_run_matches_the_model(std::uint32_t capacity, std::uint32_t pool, std::uint64_t seed) {
    roost::SplitMix rng(seed);
    roost::FakeClock clock;
    AddressLimiter lim(capacity);
    std::map<Addr, TokenBucket> buckets;
    std::list<Addr> recency; // most recent first
    std::vector<Addr> addrs;
    for (std::uint32_t i = 0; i < pool; ++i) {
        Addr x{};
        for (std::uint8_t& byte : x) byte = static_cast<std::uint8_t>(below(rng, 4)); // many near-equal addresses
        x[15] = static_cast<std::uint8_t>(i);
        x[14] = static_cast<std::uint8_t>(i >> 8);
        addrs.push_back(x);
    }
    for (int op = 0; op < 60000; ++op) {
        clock.advance(below(rng, 50));
        const Addr& x = addrs[below(rng, pool)];
        auto it = buckets.find(x);
        if (it != buckets.end()) {
            recency.remove(x);
        } else {
            if (buckets.size() == capacity) {
                buckets.erase(recency.back());
                recency.pop_back();
            }
            it = buckets.emplace(x, TokenBucket{}).first;
        }
        recency.push_front(x);
        const bool want = it->second.take(clock.now_ms(), 5, 3);
        assert_int_equal(lim.take(x.data(), clock.now_ms(), 5, 3), want);
        assert_int_equal(lim.size(), buckets.size());
        const Addr& probe = addrs[below(rng, pool)];
        assert_int_equal(lim.tracks(probe.data()), buckets.count(probe));
    }
}

void random_runs_match_the_model(void**) {
    random_run_matches_the_model(1, 3, 1);
    random_run_matches_the_model(2, 5, 2);
    random_run_matches_the_model(5, 9, 3);
    random_run_matches_the_model(16, 40, 4);
    random_run_matches_the_model(256, 400, 5);
}

void error_counter_window(void**) {
    roost::FakeClock clock;
    ErrorCounter e;
    for (int i = 0; i < 3; ++i) {
        assert_false(e.note_error(clock.now_ms(), 3));
        clock.advance(10000);
    }
    clock.set(clock.now_ms() + 29999); // 59,999 ms after the first error
    assert_true(e.note_error(clock.now_ms(), 3));
    assert_true(e.note_error(clock.now_ms(), 3)); // stays over until the window ends
    clock.advance(1); // 60,000 ms: a new window
    assert_false(e.note_error(clock.now_ms(), 3));
    assert_int_equal(e.count, 1);

    ErrorCounter strict;
    assert_true(strict.note_error(clock.now_ms(), 0));
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_refusal),
        cmocka_unit_test(refill_is_exact),
        cmocka_unit_test(long_idle_caps_at_burst),
        cmocka_unit_test(clock_stepping_back_refills_nothing),
        cmocka_unit_test(smaller_burst_caps_the_bucket),
        cmocka_unit_test(addresses_are_independent),
        cmocka_unit_test(full_table_replaces_least_recently_used),
        cmocka_unit_test(random_runs_match_the_model),
        cmocka_unit_test(error_counter_window),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
