// Tests for broker/timers.cpp: TimerHeap driven by FakeClock against a
// std::multimap reference over long random runs, plus full-table refusal,
// stale ids, ties in due time and a count of heap allocations.
#include "broker/clock.h"
#include "broker/timers.h"

#include <cstdlib>
#include <map>
#include <new>
#include <vector>

#include "tests/support/alloc_counter.h"

#include "tests/support/unit.h"


namespace {

using roost::Timer;
using roost::TimerHeap;

// The reference: a multimap keeps equal keys in insertion order, which is
// the heap's tie rule.
struct Model {
    std::multimap<std::uint64_t, Timer> byDue;

    bool cancel(std::uint32_t id) {
        for (auto it = byDue.begin(); it != byDue.end(); ++it) {
            if (it->second.id == id) {
                byDue.erase(it);
                return true;
            }
        }
        return false;
    }
};

std::uint32_t below(roost::SplitMix& rng, std::uint64_t n) { return static_cast<std::uint32_t>(rng.next() % n); }

void expect_same(const Timer& got, const Timer& want) {
    assert_int_equal(got.id, want.id);
    assert_int_equal(got.due_ms, want.due_ms);
    assert_int_equal(got.kind, want.kind);
    assert_int_equal(got.arg, want.arg);
}

// Pops everything due at the clock's time from both and compares them.
void fire_due(TimerHeap& h, Model& m, roost::FakeClock& clock) {
    const std::uint64_t now = clock.now_ms();
    Timer t;
    while (!m.byDue.empty() && m.byDue.begin()->first <= now) {
        if (!h.pop_due(now, t)) fail_msg("a timer due at %llu did not fire", static_cast<unsigned long long>(now));
        expect_same(t, m.byDue.begin()->second);
        m.byDue.erase(m.byDue.begin());
    }
    assert_false(h.pop_due(now, t));
}

void run_random(std::uint32_t capacity, std::uint32_t ops, std::uint64_t seed) {
    roost::SplitMix rng(seed);
    roost::FakeClock clock;
    TimerHeap h(capacity);
    Model m;
    std::vector<std::uint32_t> issued; // live, fired and cancelled ids alike
    for (std::uint32_t i = 0; i < ops; ++i) {
        const std::uint32_t op = below(rng, 10);
        if (op < 5) {
            // Due times on a coarse grid make many ties.
            const std::uint64_t due = clock.now_ms() + (below(rng, 2) == 0 ? 10 * below(rng, 20) : below(rng, 5000));
            const std::uint32_t kind = below(rng, 4);
            const std::uint64_t arg = rng.next();
            const std::uint32_t id = h.add(due, kind, arg);
            if (m.byDue.size() == capacity) {
                assert_int_equal(id, 0);
                continue;
            }
            assert_true(id != 0);
            m.byDue.emplace(due, Timer{due, kind, arg, id});
            issued.push_back(id);
            if (issued.size() > 4096) issued.erase(issued.begin(), issued.begin() + 2048);
        } else if (op < 8) {
            const std::uint32_t id = issued.empty() || below(rng, 8) == 0 ? static_cast<std::uint32_t>(rng.next())
                                                                         : issued[below(rng, issued.size())];
            assert_int_equal(h.cancel(id), m.cancel(id));
        } else {
            clock.advance(below(rng, 3) == 0 ? 0 : below(rng, 400));
            fire_due(h, m, clock);
        }
        assert_int_equal(h.size(), m.byDue.size());
        assert_int_equal(h.next_due(), m.byDue.empty() ? UINT64_MAX : m.byDue.begin()->first);
    }
    clock.advance(1000000);
    fire_due(h, m, clock);
    assert_int_equal(h.size(), 0);
}

void random_runs_match_the_model(void**) {
    run_random(1, 20000, 1);
    run_random(2, 20000, 2);
    run_random(7, 50000, 3);
    run_random(64, 100000, 4);
    run_random(256, 100000, 5);
}

void full_table_refuses(void**) {
    TimerHeap h(3);
    assert_int_equal(h.capacity(), 3);
    assert_true(h.add(30, 0, 0) != 0);
    assert_true(h.add(10, 0, 1) != 0);
    assert_true(h.add(20, 0, 2) != 0);
    assert_int_equal(h.add(5, 0, 3), 0);
    assert_int_equal(h.size(), 3);
    Timer t;
    assert_false(h.pop_due(9, t));
    assert_true(h.pop_due(10, t));
    assert_int_equal(t.arg, 1);
    assert_true(h.add(5, 0, 4) != 0);
    assert_int_equal(h.next_due(), 5);

    TimerHeap none(0);
    assert_int_equal(none.add(1, 0, 0), 0);
    assert_int_equal(none.next_due(), UINT64_MAX);
    assert_false(none.cancel(1));
}

void stale_id_never_cancels_a_newer_timer(void**) {
    TimerHeap h(1);
    const std::uint32_t a = h.add(100, 1, 1);
    assert_true(a != 0);
    assert_true(h.cancel(a));
    assert_false(h.cancel(a));
    const std::uint32_t b = h.add(200, 1, 2); // the same slot, a new generation
    assert_true(b != 0 && b != a);
    assert_false(h.cancel(a));
    assert_int_equal(h.size(), 1);
    Timer t;
    assert_true(h.pop_due(200, t));
    assert_int_equal(t.id, b);
    assert_false(h.cancel(b)); // fired
    const std::uint32_t c = h.add(300, 1, 3);
    assert_false(h.cancel(b));
    assert_false(h.cancel(0));
    assert_false(h.cancel(0xffffffffu));
    assert_true(h.cancel(c));
    assert_int_equal(h.size(), 0);
}

void equal_due_times_fire_in_insertion_order(void**) {
    roost::FakeClock clock(1000);
    TimerHeap h(16);
    assert_true(h.add(1500, 0, 100) != 0);
    std::uint32_t ids[8];
    for (std::uint64_t i = 0; i < 8; ++i) ids[i] = h.add(1200, 0, i);
    assert_true(h.add(1100, 0, 99) != 0);
    assert_true(h.cancel(ids[3]));
    clock.advance(300);
    Timer t;
    assert_true(h.pop_due(clock.now_ms(), t));
    assert_int_equal(t.arg, 99);
    for (std::uint64_t i = 0; i < 8; ++i) {
        if (i == 3) continue;
        assert_true(h.pop_due(clock.now_ms(), t));
        assert_int_equal(t.arg, i);
        assert_int_equal(t.id, ids[i]);
    }
    assert_false(h.pop_due(clock.now_ms(), t));
    assert_int_equal(h.next_due(), 1500);
}

void no_allocation_after_construction(void**) {
    roost::SplitMix rng(9);
    roost::FakeClock clock;
    const std::uint64_t at_start = roost_test::alloc_count();
    TimerHeap h(256);
    assert_int_equal(roost_test::alloc_count(), at_start + 1); // one allocation: the counter counts
    const std::uint64_t before = roost_test::alloc_count();
    std::uint32_t last = 0;
    Timer t;
    for (int i = 0; i < 100000; ++i) {
        const std::uint32_t id = h.add(clock.now_ms() + below(rng, 1000), 0, 0);
        if (below(rng, 3) == 0) h.cancel(last);
        last = id;
        clock.advance(below(rng, 10));
        while (h.pop_due(clock.now_ms(), t)) {
        }
    }
    assert_int_equal(roost_test::alloc_count(), before);
    assert_true(TimerHeap::reserved_bytes(256) >= 256 * sizeof(Timer));
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_runs_match_the_model),
        cmocka_unit_test(full_table_refuses),
        cmocka_unit_test(stale_id_never_cancels_a_newer_timer),
        cmocka_unit_test(equal_due_times_fire_in_insertion_order),
        cmocka_unit_test(no_allocation_after_construction),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
