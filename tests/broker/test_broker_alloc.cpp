// The core's memory promise: in steady state, zero heap allocations
// per message — 100,000 messages in (decoded, validated, encoded, stored),
// fanned out to 50 sessions (frames built and "written").
#include "broker/broker.h"

#include "tests/support/alloc_counter.h"

#include <string>

#include "tests/support/unit.h"

namespace {

struct NullTransport final : roost::Transport {
    void wake(roost::SessionId) override {}
};

void zero_allocations_per_message(void**) {
    roost::CoreLimits limits;
    limits.msg_rate = 1000000000;
    limits.msg_burst = 1000000000;
    roost::FakeClock clock;
    roost::SplitMix random(1);
    NullTransport transport;
    roost::Broker broker(limits, clock, random, transport);
    const std::uint8_t addr[16] = {};
    std::vector<roost::SessionId> members;
    const std::string join = "{\"type\":\"join\",\"room\":\"lab\"}";
    for (int i = 0; i < 50; ++i) {
        const roost::SessionId s = broker.open_session(addr);
        const std::string hello = "{\"type\":\"hello\",\"nick\":\"n" + std::to_string(i) + "\"}";
        broker.on_frame(s, hello.data(), hello.size());
        broker.on_frame(s, join.data(), join.size());
        members.push_back(s);
    }
    // Frames are prepared before counting; the loop below only replays them.
    char frames[4][200];
    std::size_t lens[4];
    for (int k = 0; k < 4; ++k) {
        const std::string f = "{\"type\":\"say\",\"room\":\"lab\",\"cid\":\"c" + std::to_string(k) +
                              "xx\",\"text\":\"reading " + std::to_string(k) + " is fine and ~100 bytes long, " +
                              "with an \\u00e9 escape\",\"data\":{\"t\":21.5,\"ok\":true}}";
        std::memcpy(frames[k], f.data(), f.size());
        lens[k] = f.size();
    }
    std::uint64_t delivered = 0;
    auto run = [&](int n) {
        for (int i = 0; i < n; ++i) {
            // A new cid each time (the retry check must not match): patch
            // two letters of "c<k>xx" (bytes 36 and 37): 2,704 distinct cids.
            frames[i % 4][36] = static_cast<char>('a' + (i / 4) % 26);
            frames[i % 4][37] = static_cast<char>('a' + (i / 104) % 26);
            broker.on_frame(members[static_cast<std::size_t>(i) % members.size()], frames[i % 4], lens[i % 4]);
            clock.advance(1);
            if (i % 8 == 7) {
                for (roost::SessionId s : members) {
                    roost::Frame f;
                    while (broker.next_frame(s, f)) ++delivered;
                }
            }
        }
    };
    run(1000); // warm-up
    const std::uint64_t before = roost_test::alloc_count();
    run(100000);
    const std::uint64_t after = roost_test::alloc_count();
    if (after != before) {
        fail_msg("%llu heap allocations during 100,000 messages", static_cast<unsigned long long>(after - before));
    }
    assert_true(delivered > 100000); // frames actually went out (batched)
    assert_int_equal(broker.stats().culled_slow, 0);
}

} // namespace

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(zero_allocations_per_message)};
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
