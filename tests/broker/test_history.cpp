// Tests for broker/history.cpp (and the sparse seqs of broker/ring.cpp):
// people's messages and readings in two rings of one seq space, checked
// against a reference model (two std::deques) over random interleavings.
#include "broker/history.h"
#include "tests/support/unit.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>

namespace {

using roost::EntryMeta;
using roost::HistoryClass;
using roost::RoomHistory;
using roost::RoomRing;

struct Model {
    struct E {
        std::uint64_t seq;
        std::string text;
        std::uint64_t cid;
    };
    std::deque<E> people, devices;
    std::size_t people_cap, devices_cap;
    std::uint64_t head = 0, people_dropped = 0;

    void append(HistoryClass cls, const std::string& text, std::uint64_t cid) {
        auto& q = cls == HistoryClass::people ? people : devices;
        const std::size_t cap = cls == HistoryClass::people ? people_cap : devices_cap;
        if (q.size() == cap) {
            if (cls == HistoryClass::people) people_dropped = q.front().seq;
            q.pop_front();
        }
        q.push_back({++head, text, cid});
    }
    const E* find(std::uint64_t seq) const {
        for (const auto* q : {&people, &devices}) {
            for (const E& e : *q) {
                if (e.seq == seq) return &e;
            }
        }
        return nullptr;
    }
    std::vector<std::uint64_t> held() const {
        std::vector<std::uint64_t> all;
        for (const E& e : people) all.push_back(e.seq);
        for (const E& e : devices) all.push_back(e.seq);
        std::sort(all.begin(), all.end());
        return all;
    }
};

// Random interleavings, capacities by count (the arenas are large enough):
// every query agrees with the model.
void matches_the_model(void**) {
    std::mt19937_64 rng(4711);
    for (int round = 0; round < 40; ++round) {
        const std::uint32_t pcap = 1 + static_cast<std::uint32_t>(rng() % 20);
        const std::uint32_t dcap = 1 + static_cast<std::uint32_t>(rng() % 20);
        RoomRing people(pcap, 1 << 16, 16), devices(dcap, 1 << 16, 16);
        RoomHistory h(people, devices);
        Model m{{}, {}, pcap, dcap};
        const int device_share = static_cast<int>(rng() % 101); // percent of readings in this round
        for (int i = 0; i < 300; ++i) {
            const HistoryClass cls =
                static_cast<int>(rng() % 100) < device_share ? HistoryClass::devices : HistoryClass::people;
            const std::string text = (cls == HistoryClass::people ? "p" : "d") + std::to_string(i);
            const std::uint64_t cid = rng() % 4 == 0 ? 1000 + static_cast<std::uint64_t>(i) : 0;
            m.append(cls, text, cid);
            assert_int_equal(h.append(cls, text.data(), static_cast<std::uint32_t>(text.size()), EntryMeta{1, cid}),
                             m.head);
            assert_int_equal(h.head(), m.head);
            assert_int_equal(h.oldest(), m.people_dropped + 1);
            const std::vector<std::uint64_t> held = m.held();
            assert_int_equal(h.count(), held.size());
            // get, next and count_from at every seq from 0 to head + 1.
            for (std::uint64_t s = 0; s <= m.head + 1; ++s) {
                const char* d = nullptr;
                std::uint32_t n = 0;
                const Model::E* e = m.find(s);
                assert_int_equal(h.get(s, d, n), e != nullptr);
                if (e != nullptr) assert_true(std::string(d, n) == e->text);
                const auto it = std::lower_bound(held.begin(), held.end(), s);
                assert_int_equal(h.next(s), it == held.end() ? m.head + 1 : *it);
                assert_int_equal(h.count_from(s, 1000), static_cast<std::uint64_t>(held.end() - it));
            }
            for (std::uint64_t k = 0; k <= held.size() + 1; ++k) {
                const std::uint64_t want = k == 0 || held.empty() ? m.head + 1
                                           : k >= held.size()  ? held.front()
                                                               : held[held.size() - k];
                assert_int_equal(h.nth_newest(k), want);
            }
            if (cid != 0) assert_int_equal(h.find_cid(cid), m.head);
        }
    }
}

// A reading that left its ring is skipped, not missed: oldest() moves only
// when a message of people goes, so a reader's cursor stays valid while
// sensors flood the room.
void readings_do_not_push_people_out(void**) {
    RoomRing people(4, 1 << 16, 16), devices(8, 1 << 16, 16);
    RoomHistory h(people, devices);
    for (int i = 0; i < 4; ++i) assert_true(h.append(HistoryClass::people, "hi", 2, EntryMeta{}) != 0);
    for (int i = 0; i < 2000; ++i) assert_true(h.append(HistoryClass::devices, "21.5", 4, EntryMeta{}) != 0);
    assert_int_equal(h.oldest(), 1);  // every message of people is still held
    assert_int_equal(h.count(), 12);   // 4 people, 8 readings
    assert_int_equal(h.next(1), 1);
    assert_int_equal(h.next(5), 2004 - 8 + 1); // the oldest reading still held
    // One more message of people pushes the oldest of people out.
    assert_true(h.append(HistoryClass::people, "new", 3, EntryMeta{}) != 0);
    assert_int_equal(h.oldest(), 2);
}

// The arena limit, not the count, drops entries too; reset_to() starts over.
void bytes_limit_and_reset(void**) {
    RoomRing people(100, 64, 16), devices(100, 64, 16); // 64 bytes: two 16 + 8 byte entries at most
    RoomHistory h(people, devices);
    for (int i = 0; i < 10; ++i) {
        assert_true(h.append(HistoryClass::people, "abcdefgh", 8, EntryMeta{}) != 0);
        assert_true(h.append(HistoryClass::devices, "12345678", 8, EntryMeta{}) != 0);
    }
    assert_true(people.count() <= 2 && devices.count() <= 2);
    assert_int_equal(h.head(), 20);
    assert_true(h.oldest() > 1 && h.oldest() <= 19); // some of people went, the newest stays
    h.reset_to(40);
    assert_int_equal(h.count(), 0);
    assert_int_equal(h.oldest(), 41);
    assert_int_equal(h.next(0), 41);
    assert_int_equal(h.append(HistoryClass::devices, "x", 1, EntryMeta{}), 41);
    assert_false(h.restore(HistoryClass::people, 41, "y", 1, EntryMeta{})); // seqs ascend
    assert_true(h.restore(HistoryClass::people, 45, "y", 1, EntryMeta{}));
    assert_int_equal(h.head(), 45);
    assert_int_equal(h.next(42), 45);
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_the_model),
        cmocka_unit_test(readings_do_not_push_people_out),
        cmocka_unit_test(bytes_limit_and_reset),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
