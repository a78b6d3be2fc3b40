// Tests for broker/ring.cpp: RoomRing against a reference model over long
// random runs, targeted edge cases, headroom scribbling, and a count of heap
// allocations after construction.
#include "broker/clock.h"
#include "broker/ring.h"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/alloc_counter.h"

#include "tests/support/unit.h"


namespace {

using roost::EntryMeta;
using roost::RoomRing;

// The reference: entries in a deque, each with the arena offset the rule
// gives it. The rule, stated independently of the ring's code: an entry goes
// right after the newest one, or at 0 when it would run past the arena's
// end; the oldest entries go while any of them overlaps it; and the oldest
// goes first when every slot is taken.
struct ModelEntry {
    std::uint64_t seq;
    std::string bytes;
    EntryMeta meta;
    std::uint32_t off;
};

struct Model {
    std::uint32_t slots, arena, headroom;
    std::deque<ModelEntry> q;
    std::uint64_t head = 0;

    std::uint32_t size_of(const ModelEntry& e) const { return headroom + static_cast<std::uint32_t>(e.bytes.size()); }

    bool overlaps(std::uint32_t pos, std::uint32_t n) const {
        for (const ModelEntry& e : q) {
            if (pos < e.off + size_of(e) && e.off < pos + n) return true;
        }
        return false;
    }

    std::uint64_t append(const std::string& data, const EntryMeta& meta) {
        const std::uint64_t n = std::uint64_t{headroom} + data.size();
        if (data.empty() || n > arena) return 0;
        if (q.size() == slots) q.pop_front();
        std::uint32_t pos = q.empty() ? 0 : q.back().off + size_of(q.back());
        if (pos + n > arena) pos = 0;
        while (overlaps(pos, static_cast<std::uint32_t>(n))) q.pop_front();
        q.push_back({++head, data, meta, pos});
        return head;
    }

    std::uint64_t oldest() const { return q.empty() ? head + 1 : q.front().seq; }

    std::uint32_t bytes_used() const {
        std::uint32_t sum = 0;
        for (const ModelEntry& e : q) sum += size_of(e);
        return sum;
    }

    const ModelEntry* find(std::uint64_t seq) const {
        if (q.empty() || seq < q.front().seq || seq > head) return nullptr;
        return &q[static_cast<std::size_t>(seq - q.front().seq)];
    }

    std::uint64_t find_cid(std::uint64_t key) const {
        for (auto it = q.rbegin(); it != q.rend(); ++it) {
            if (key != 0 && it->meta.cid_key == key) return it->seq;
        }
        return 0;
    }
};

std::string random_bytes(roost::SplitMix& rng, std::uint32_t len) {
    std::string s(len, '\0');
    for (char& c : s) c = static_cast<char>(rng.next());
    return s;
}

std::uint32_t below(roost::SplitMix& rng, std::uint64_t n) { return static_cast<std::uint32_t>(rng.next() % n); }

void check_counters(const RoomRing& r, const Model& m) {
    assert_int_equal(r.head(), m.head);
    assert_int_equal(r.oldest(), m.oldest());
    assert_int_equal(r.count(), m.q.size());
    assert_int_equal(r.bytes_used(), m.bytes_used());
    assert_true(r.count() <= r.slots());
    assert_true(r.bytes_used() <= r.capacity_bytes());
}

// Every held entry byte for byte, its meta, and its place in the arena: the
// distances between entries are the model's, nothing leaves the arena, and
// no entry's headroom + data overlaps another's.
void check_all(RoomRing& r, const Model& m) {
    check_counters(r, m);
    if (m.q.empty()) return;
    const char* first = nullptr;
    std::uint32_t len = 0;
    assert_true(r.get(m.q.front().seq, first, len));
    const char* base = first - r.headroom() - m.q.front().off;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> spans;
    for (const ModelEntry& e : m.q) {
        const char* data = nullptr;
        if (!r.get(e.seq, data, len)) fail_msg("seq %llu not held", static_cast<unsigned long long>(e.seq));
        assert_int_equal(len, e.bytes.size());
        assert_memory_equal(data, e.bytes.data(), len);
        assert_true(data - base == static_cast<std::ptrdiff_t>(e.off + r.headroom()));
        const EntryMeta* meta = r.meta(e.seq);
        assert_non_null(meta);
        assert_int_equal(meta->ts, e.meta.ts);
        assert_int_equal(meta->cid_key, e.meta.cid_key);
        spans.emplace_back(e.off, e.off + m.size_of(e));
    }
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 0; i < spans.size(); ++i) {
        assert_true(spans[i].second <= r.capacity_bytes());
        if (i > 0) assert_true(spans[i - 1].second <= spans[i].first);
    }
}

// Writes 0xAA over the headroom of every held entry, as lws_write may.
void scribble_headroom(RoomRing& r) {
    for (std::uint64_t seq = r.oldest(); seq <= r.head(); ++seq) {
        char* data = nullptr;
        std::uint32_t len = 0;
        assert_true(r.get(seq, data, len));
        std::memset(data - r.headroom(), 0xAA, r.headroom());
    }
}

struct Geometry {
    std::uint32_t slots, bytes, headroom, max_len, appends;
};

void run_random(const Geometry& g, std::uint64_t seed) {
    roost::SplitMix rng(seed);
    RoomRing r(g.slots, g.bytes, g.headroom);
    Model m{g.slots, g.bytes, g.headroom, {}, 0};
    std::uint64_t keys[8];
    for (std::uint64_t& k : keys) k = roost::hash_cid("ann", std::to_string(rng.next()));
    for (std::uint32_t i = 0; i < g.appends; ++i) {
        const std::string data = random_bytes(rng, 1 + below(rng, g.max_len));
        const EntryMeta meta{rng.next(), below(rng, 3) == 0 ? 0 : keys[below(rng, 8)]};
        const std::uint64_t expect = m.append(data, meta);
        assert_int_equal(r.append(data.data(), static_cast<std::uint32_t>(data.size()), meta), expect);
        check_counters(r, m);
        for (int k = 0; k < 4; ++k) {
            const std::uint64_t back = below(rng, m.q.size() + 6); // from head + 3 to below oldest
            const std::uint64_t seq = m.head + 3 >= back ? m.head + 3 - back : 0;
            const ModelEntry* e = m.find(seq);
            const char* data_out = nullptr;
            std::uint32_t len = 0;
            assert_int_equal(r.get(seq, data_out, len), e != nullptr);
            assert_int_equal(r.meta(seq) != nullptr, e != nullptr);
            if (e != nullptr) {
                assert_int_equal(len, e->bytes.size());
                assert_memory_equal(data_out, e->bytes.data(), len);
            }
            const std::uint64_t key = below(rng, 4) == 0 ? rng.next() : keys[below(rng, 8)];
            assert_int_equal(r.find_cid(key), m.find_cid(key));
        }
        if (i % 64 == 0 || g.bytes < 1000) {
            scribble_headroom(r);
            check_all(r, m);
        }
    }
    scribble_headroom(r);
    check_all(r, m);
}

void random_runs_match_the_model(void**) {
    // 10 geometries, 250,000 appends in all; tiny ones included.
    const Geometry geometries[] = {
        {256, 64 * 1024, 16, 3000, 40000}, // the default room
        {16, 8192, 16, 3000, 30000},
        {4, 4096, 16, 3000, 30000},
        {1000, 30000, 16, 3000, 20000},    // bytes fill first
        {1, 5000, 16, 3000, 20000},        // one slot
        {2, 3016, 16, 3000, 20000},        // the largest entry is the whole arena
        {7, 3100, 0, 3000, 30000},         // no headroom
        {64, 20000, 4, 700, 30000},
        {3, 50, 16, 60, 20000},            // tiny: many refused
        {2, 1, 0, 2, 10000},               // one byte of arena
    };
    std::uint64_t seed = 1;
    for (const Geometry& g : geometries) run_random(g, seed++);
}

void empty_ring(void**) {
    RoomRing r(8, 256, 16);
    assert_int_equal(r.head(), 0);
    assert_int_equal(r.oldest(), 1);
    assert_int_equal(r.count(), 0);
    assert_int_equal(r.bytes_used(), 0);
    assert_int_equal(r.slots(), 8);
    assert_int_equal(r.capacity_bytes(), 256);
    const char* data = nullptr;
    std::uint32_t len = 0;
    assert_false(r.get(0, data, len));
    assert_false(r.get(1, data, len));
    assert_null(r.meta(1));
    assert_int_equal(r.find_cid(0), 0);
    assert_int_equal(r.find_cid(42), 0);
}

std::uint64_t put(RoomRing& r, std::uint32_t len, std::uint64_t cid_key = 0) {
    const std::string s(len, static_cast<char>('a' + r.head() % 26));
    return r.append(s.data(), len, EntryMeta{r.head(), cid_key});
}

void full_by_slots(void**) {
    RoomRing r(4, 1000, 16);
    for (std::uint64_t i = 1; i <= 4; ++i) assert_int_equal(put(r, 10), i);
    assert_int_equal(r.count(), 4);
    assert_int_equal(r.oldest(), 1);
    assert_int_equal(r.bytes_used(), 4 * 26);
    assert_int_equal(put(r, 10), 5);
    assert_int_equal(r.count(), 4);
    assert_int_equal(r.oldest(), 2);
    assert_int_equal(r.head(), 5);
}

void full_by_bytes(void**) {
    RoomRing r(100, 104, 16);
    for (std::uint64_t i = 1; i <= 4; ++i) assert_int_equal(put(r, 10), i);
    assert_int_equal(r.bytes_used(), 104);
    assert_int_equal(r.count(), 4);
    assert_int_equal(put(r, 10), 5); // wraps to 0 and drops only seq 1
    assert_int_equal(r.count(), 4);
    assert_int_equal(r.oldest(), 2);
    assert_int_equal(r.bytes_used(), 104);
}

const char* at(const RoomRing& r, std::uint64_t seq) {
    const char* data = nullptr;
    std::uint32_t len = 0;
    return r.get(seq, data, len) ? data : nullptr;
}

void wrap_around(void**) {
    RoomRing r(16, 100, 0);
    assert_int_equal(put(r, 40), 1); // [0,40)
    assert_int_equal(put(r, 40), 2); // [40,80)
    const char* base = at(r, 1);
    assert_int_equal(put(r, 30), 3); // 20 left at the end: wraps to [0,30), drops 1
    assert_int_equal(r.oldest(), 2);
    assert_true(at(r, 3) == base);
    assert_int_equal(r.bytes_used(), 70);
    assert_int_equal(put(r, 10), 4); // exactly the gap [30,40)
    assert_int_equal(r.count(), 3);
    assert_true(at(r, 4) == base + 30);
    assert_int_equal(put(r, 1), 5); // no gap: drops 2, and the tail is free again
    assert_int_equal(r.oldest(), 3);
    assert_true(at(r, 5) == base + 40);
    assert_int_equal(r.bytes_used(), 41);
    for (std::uint64_t seq = 3; seq <= 5; ++seq) assert_int_equal(at(r, seq)[0], 'a' + (seq - 1) % 26);
}

void larger_than_arena_is_refused(void**) {
    RoomRing r(8, 100, 16);
    assert_int_equal(put(r, 10), 1);
    assert_int_equal(put(r, 85), 0);
    assert_int_equal(put(r, 0), 0);
    assert_int_equal(r.head(), 1);
    assert_int_equal(r.count(), 1);
    assert_int_equal(put(r, 84), 2); // exactly the arena: everything else goes
    assert_int_equal(r.count(), 1);
    assert_int_equal(r.oldest(), 2);
    assert_int_equal(r.bytes_used(), 100);
}

void headroom_is_scratch(void**) {
    roost::SplitMix rng(7);
    RoomRing r(32, 2000, 16);
    Model m{32, 2000, 16, {}, 0};
    for (int i = 0; i < 500; ++i) {
        const std::string data = random_bytes(rng, 1 + below(rng, 120));
        const EntryMeta meta{static_cast<std::uint64_t>(i), 0};
        assert_int_equal(r.append(data.data(), static_cast<std::uint32_t>(data.size()), meta), m.append(data, meta));
        scribble_headroom(r);
        check_all(r, m);
    }
}

void reset_to_starts_a_new_run(void**) {
    RoomRing r(4, 200, 16);
    for (int i = 0; i < 5; ++i) assert_true(put(r, 10, 9) != 0);
    assert_int_equal(r.find_cid(9), 5);
    r.reset_to(100);
    assert_int_equal(r.head(), 100);
    assert_int_equal(r.oldest(), 101);
    assert_int_equal(r.count(), 0);
    assert_int_equal(r.bytes_used(), 0);
    assert_null(at(r, 5));
    assert_int_equal(r.find_cid(9), 0);
    assert_int_equal(put(r, 10), 101);
    assert_int_equal(r.oldest(), 101);
    r.reset_to(0);
    assert_int_equal(r.oldest(), 1);
    assert_int_equal(put(r, 10), 1);
}

void find_cid_finds_the_newest(void**) {
    RoomRing r(3, 1000, 16);
    const std::uint64_t a = roost::hash_cid("ann", "x1");
    const std::uint64_t b = roost::hash_cid("bob", "x1");
    assert_int_equal(put(r, 5, a), 1);
    assert_int_equal(put(r, 5, b), 2);
    assert_int_equal(put(r, 5, a), 3);
    assert_int_equal(r.find_cid(a), 3);
    assert_int_equal(r.find_cid(b), 2);
    assert_int_equal(put(r, 5), 4);
    assert_int_equal(put(r, 5), 5); // 2 dropped
    assert_int_equal(r.find_cid(b), 0);
    assert_int_equal(r.find_cid(a), 3);
}

void hash_cid_is_stable_and_never_zero(void**) {
    assert_int_equal(roost::hash_cid("ann", "c1"), roost::hash_cid("ann", "c1"));
    assert_true(roost::hash_cid("ab", "c") != roost::hash_cid("a", "bc"));
    assert_true(roost::hash_cid("ann", "c1") != roost::hash_cid("ann", "c2"));
    assert_true(roost::hash_cid("", "") != 0);
    std::vector<std::uint64_t> seen;
    for (int i = 0; i < 20000; ++i) seen.push_back(roost::hash_cid("dev", std::to_string(i)));
    std::sort(seen.begin(), seen.end());
    assert_true(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
    assert_true(seen.front() != 0);
}

void no_allocation_after_construction(void**) {
    roost::SplitMix rng(99);
    static char data[3000];
    for (char& c : data) c = static_cast<char>(rng.next());
    const std::uint64_t at_start = roost_test::alloc_count();
    RoomRing r(256, 64 * 1024, 16);
    assert_int_equal(roost_test::alloc_count(), at_start + 2); // the arena and the slot table: the counter counts
    const std::uint64_t before = roost_test::alloc_count();
    std::uint64_t sum = 0;
    for (int i = 0; i < 100000; ++i) {
        const std::uint64_t seq = r.append(data, 1 + below(rng, 3000), EntryMeta{1, rng.next() | 1});
        assert_true(seq != 0);
        const char* p = nullptr;
        std::uint32_t len = 0;
        if (r.get(seq - below(rng, 8), p, len)) sum += len;
        sum += r.find_cid(rng.next());
    }
    r.reset_to(7);
    assert_int_equal(roost_test::alloc_count(), before);
    assert_true(sum > 0);
    assert_true(RoomRing::reserved_bytes(256, 64 * 1024, 16) >= 64 * 1024 + 256 * sizeof(EntryMeta));
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_runs_match_the_model),
        cmocka_unit_test(empty_ring),
        cmocka_unit_test(full_by_slots),
        cmocka_unit_test(full_by_bytes),
        cmocka_unit_test(wrap_around),
        cmocka_unit_test(larger_than_arena_is_refused),
        cmocka_unit_test(headroom_is_scratch),
        cmocka_unit_test(reset_to_starts_a_new_run),
        cmocka_unit_test(find_cid_finds_the_newest),
        cmocka_unit_test(hash_cid_is_stable_and_never_zero),
        cmocka_unit_test(no_allocation_after_construction),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
